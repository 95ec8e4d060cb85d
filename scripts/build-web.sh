#!/usr/bin/env bash
# Builds what the binary serves to browsers and embeds it: the dashboard
# (web/app.js bundled with Preact, htm and uPlot; web/index.html) and the
# JavaScript tracker (tracker/tally.js), minified by esbuild from npm, each
# also gzipped, then written as one C file of byte arrays (src/web/web.c
# serves them).
#
# usage: scripts/build-web.sh OUT_DIR GENERATED_C
set -euo pipefail
out=${1:?usage: scripts/build-web.sh OUT_DIR GENERATED_C}
generated=${2:?}
root=$(cd "$(dirname "$0")/.." && pwd)
esbuild="$root/node_modules/.bin/esbuild"
[ -x "$esbuild" ] || {
    echo "esbuild is missing: run scripts/assets.sh (make run and make test do)" >&2
    exit 1
}
rm -rf "$out"
mkdir -p "$out/assets" "$(dirname "$generated")"

"$esbuild" "$root/web/app.js" --bundle --minify --format=esm --target=es2020 \
    --outfile="$out/assets/app.js" --log-level=warning
cp "$root/web/index.html" "$out/index.html"
cp "$root/web/favicon.svg" "$out/assets/favicon.svg"
"$esbuild" "$root/tracker/tally.js" --minify --format=iife --target=es2017 \
    --outfile="$out/tally.js" --log-level=warning

for f in $(cd "$out" && find . -type f | sort); do
    gzip -9 -n -k "$out/$f"
done
echo "tracker: $(stat -c %s "$out/tally.js") bytes minified, $(stat -c %s "$out/tally.js.gz") gzipped" >&2
perl "$root/scripts/embed.pl" "$out" >"$generated.tmp"
mv "$generated.tmp" "$generated"
