#!/usr/bin/env bash
# Installs from the npm registry, at the versions pinned in package.json, into
# node_modules/: the data Tally reads at run time (user-agent regexes, bot
# patterns, referrer lists, a geo database), the dashboard's libraries and
# esbuild, which bundles the dashboard and tracker into the binary. With
# `test`, also the browser-test driver (playwright-core). Skipped when done.
#
# usage: scripts/assets.sh [build|test]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-build}
case "$mode" in
    build) omit=(--omit=dev) ;;
    test) omit=() ;;
    *) echo "usage: scripts/assets.sh [build|test]" >&2; exit 2 ;;
esac
fresh() { [ -f "node_modules/.tally-assets-$1" ] && [ "node_modules/.tally-assets-$1" -nt package.json ]; }
# A test install holds everything a build needs (and --omit=dev would prune it).
if fresh test || { [ "$mode" = build ] && fresh build; }; then exit 0; fi
command -v npm >/dev/null || {
    echo "npm is missing: run scripts/deps.sh (it installs Debian's npm)" >&2
    exit 1
}
npm install --no-audit --no-fund "${omit[@]}" --loglevel=error
touch "node_modules/.tally-assets-$mode"
