#!/usr/bin/env bash
# Builds what the binary serves to browsers and embeds it: the dashboard
# (web/app.js bundled with Preact, htm and uPlot; web/index.html) and the
# JavaScript tracker (tracker/tally.js, its extension tally-ext.js and the
# opt-out page optout.html + optout.js), minified by esbuild from npm, each
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

# --splitting: what only one page needs (the world map's outlines) is a chunk
# of its own, loaded by import() when that page opens; /assets/app.js stays the
# one entry. Every chunk lands in assets/ and is embedded like any other file.
"$esbuild" "$root/web/app.js" --bundle --minify --format=esm --target=es2020 \
    --splitting --outdir="$out/assets" --chunk-names='[name]-[hash]' --log-level=warning
cp "$root/web/index.html" "$out/index.html"
cp "$root/web/favicon.svg" "$out/assets/favicon.svg"
for js in tally tally-ext optout; do
    "$esbuild" "$root/tracker/$js.js" --minify --format=iife --target=es2017 \
        --outfile="$out/$js.js" --log-level=warning
done
cp "$root/tracker/optout.html" "$out/optout.html"

for f in $(cd "$out" && find . -type f | sort); do
    gzip -9 -n -k "$out/$f"
done
for js in tally tally-ext; do
    echo "tracker: $js.js $(stat -c %s "$out/$js.js") bytes minified, $(stat -c %s "$out/$js.js.gz") gzipped" >&2
done
# The promise of docs/tracker.md: the core a page always loads stays small.
core_gz=$(stat -c %s "$out/tally.js.gz")
[ "$core_gz" -le 2048 ] || { echo "tracker: tally.js is $core_gz bytes gzipped, over 2048" >&2; exit 1; }
perl "$root/scripts/embed.pl" "$out" >"$generated.tmp"
mv "$generated.tmp" "$generated"
