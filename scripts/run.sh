#!/usr/bin/env bash
# make run: seed a demo site and a dashboard login when the data folder has
# none yet, then serve.
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
# The demo login: a superuser named demo with a random password, kept (0600)
# beside the data so every `make run` can say it again.
password_file="$data/demo-password"
if [ ! -s "$data/users.json" ] && [ ! -e "$password_file" ]; then
    (umask 077 && head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$password_file")
    "$tally" user add --data "$data" demo --superuser <"$password_file"
fi
echo "Tally on http://$listen  (tracking endpoint: http://$listen/matomo.php; Ctrl-C stops)"
if [ -s "$password_file" ]; then
    echo "Dashboard: http://$listen/  log in as demo, password $(cat "$password_file")"
else
    echo "Dashboard: http://$listen/  log in as a user of 'tally user add --data $data NAME'"
fi
echo "Reports: make a token with '$tally token create --data $data --site 1', then e.g."
echo "  curl 'http://$listen/index.php?module=API&method=VisitsSummary.get&idSite=1&period=day&date=last7&token_auth=TOKEN'"
echo "(every method: docs/api.md)"
exec "$tally" serve --data "$data" --listen "$listen"
