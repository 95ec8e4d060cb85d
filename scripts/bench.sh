#!/usr/bin/env bash
# make bench: prints the benchmark table. Ratios against a peer measured in
# the same run, because these machines are noisy.
#  1. hits/s accepted over keep-alive HTTP (wrk, loopback) vs nginx `return 204;`
#     with its access log on: target ratio >= 0.8
#  2. the pipeline without HTTP on one core: target >= 300,000 hits/s, with
#     hits appended 100 at a time (bulk requests, imports); one at a time
#     (single requests: one log write each) is printed beside it
#  3. reports over 10M pageviews against ClickHouse and SQLite: see
#     scripts/bench-reports.sh (BENCH_PAGEVIEWS sets the volume; BENCH_REPORTS=0
#     skips it)
set -euo pipefail
build=${1:?usage: scripts/bench.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
tally="$root/$build/tally"
work=$(mktemp -d /tmp/tally-bench.XXXXXX)
tally_port=18181
nginx_port=18182
duration=${BENCH_SECONDS:-5}
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# 2. Pipeline without HTTP.
mkdir -p "$work/pipeline"
pipeline=$("$root/$build/bench/pipeline" "$work/pipeline" 1000000)
single_rate=$(echo "$pipeline" | awk '/pipeline_single_hits_per_second/ {print $2}')
batched_rate=$(echo "$pipeline" | awk '/pipeline_batched_hits_per_second/ {print $2}')
enrich_warm=$(echo "$pipeline" | awk '/enrich_warm_ns/ {print $2}')
enrich_unique=$(echo "$pipeline" | awk '/enrich_unique_ns/ {print $2}')

# 1. HTTP: the same wrk script against both servers: pageviews from 20,000
# visitors (so visits have several hits, as on a real site) over 50 pages.
cat >"$work/hits.lua" <<'LUA'
math.randomseed(7)
request = function()
  local page = math.random(1, 50)
  local path = string.format("/matomo.php?idsite=1&rec=1&send_image=0&_id=%016x" ..
    "&url=https%%3A%%2F%%2Fshop.example.com%%2Fp%%2F%d&action_name=Page%%20%d&res=1920x1080",
    math.random(1, 20000) * 2654435761, page, page)
  return wrk.format("GET", path)
end
LUA
mkdir -p "$work/data" "$work/nginx"
"$tally" site add --data "$work/data" --name bench --url https://shop.example.com >/dev/null
"$tally" serve --data "$work/data" --listen "127.0.0.1:$tally_port" 2>"$work/tally.log" &
pids+=($!)
always_port=18183
"$tally" site add --data "$work/always" --name bench --url https://shop.example.com >/dev/null
"$tally" serve --data "$work/always" --listen "127.0.0.1:$always_port" --fsync always \
    2>"$work/always.log" &
pids+=($!)
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log $work/nginx/access.log;
    client_body_temp_path $work/nginx;
    proxy_temp_path $work/nginx;
    fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx;
    scgi_temp_path $work/nginx;
    server { listen 127.0.0.1:$nginx_port; location / { return 204; } }
}
NGINX
nginx -c "$work/nginx/nginx.conf"
for port in "$tally_port" "$always_port"; do
    for _ in $(seq 50); do
        curl -fs -o /dev/null "http://127.0.0.1:$port/" && break
        sleep 0.1
    done
done

rate() { # url -> requests/s
    wrk -t1 -c32 -d"${duration}s" -s "$work/hits.lua" "$1" | awk '/Requests\/sec/ {print $2}'
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# Interleaved rounds, medians: the load of a shared machine drifts.
nginx_rates=()
tally_rates=()
for _ in 1 2 3; do
    nginx_rates+=("$(rate "http://127.0.0.1:$nginx_port")")
    tally_rates+=("$(rate "http://127.0.0.1:$tally_port")")
done
always_rate=$(rate "http://127.0.0.1:$always_port")
nginx_rate=$(printf '%s\n' "${nginx_rates[@]}" | median)
tally_rate=$(printf '%s\n' "${tally_rates[@]}" | median)
stored=$("$tally" stats --data "$work/data" --site 1 --from "$(date -u +%F)" --to "$(date -u +%F)" --json |
    grep -o '"pageviews":[0-9]*' | head -1 | cut -d: -f2)

printf '\n%-46s %14s %14s %8s %8s\n' "benchmark" "tally" "peer" "ratio" "target"
printf '%-46s %14.0f %14.0f %8.2f %8s\n' "HTTP hits/s, keep-alive, wrk -c32 (peer: nginx)" \
    "$tally_rate" "$nginx_rate" "$(echo "$tally_rate / $nginx_rate" | bc -l)" ">= 0.80"
printf '%-46s %14.0f %14s %8s %8s\n' "HTTP hits/s, --fsync always (group commit)" \
    "$always_rate" "-" "-" "-"
printf '%-46s %14.0f %14s %8s %8s\n' "pipeline hits/s, one core, 100 hits a write" \
    "$batched_rate" "-" "-" ">= 300k"
printf '%-46s %14.0f %14s %8s %8s\n' "pipeline hits/s, one core, one hit a write" \
    "$single_rate" "-" "-" "-"
printf '%-46s %14s %14s %8s %8s\n' "enrichment ns/hit, warm user-agent cache" "$enrich_warm" "-" "-" "-"
printf '%-46s %14s %14s %8s %8s\n' "enrichment ns/hit, every user agent new" "$enrich_unique" "-" "-" "-"
echo "(medians of 3 interleaved ${duration}s rounds; rounds: tally ${tally_rates[*]}, nginx ${nginx_rates[*]};"
echo " pageviews stored by tally over its rounds: ${stored:-?}; fsync interval)"

# 3. Reports, with the servers above stopped so that nothing else holds
# memory or ports while gigabytes load.
cleanup
trap - EXIT
[ "${BENCH_REPORTS:-1}" = 0 ] || "$root/scripts/bench-reports.sh" "$build"
