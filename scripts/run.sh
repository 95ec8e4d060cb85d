#!/usr/bin/env bash
# make run: seed a demo site when the data folder has no site yet, then serve.
set -euo pipefail
tally=${1:?usage: scripts/run.sh TALLY DATA_DIR LISTEN}
data=${2:?}
listen=${3:?}

if [ ! -s "$data/sites.json" ]; then
    echo "No site in $data yet: creating a demo site with 30 days of traffic."
    "$tally" site add --data "$data" --name "Leaf & Cup (demo)" --url https://shop.example.com \
        --timezone Europe/Berlin --currency EUR
    "$tally" demo --data "$data" --site 1 --visits 6000 --days 30
fi
echo "Tally on http://$listen  (tracking endpoint: http://$listen/matomo.php; Ctrl-C stops)"
echo "Reports: make a token with '$tally token create --data $data --site 1', then e.g."
echo "  curl 'http://$listen/index.php?module=API&method=VisitsSummary.get&idSite=1&period=day&date=last7&token_auth=TOKEN'"
echo "(every method: docs/api.md)"
exec "$tally" serve --data "$data" --listen "$listen"
