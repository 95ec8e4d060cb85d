#!/usr/bin/env bash
# Installs the Debian packages Tally builds, tests and benchmarks with.
# Only what is missing is installed, so a second run costs a dpkg query.
set -euo pipefail

# tzdata: sites report in their own time zone (/usr/share/zoneinfo).
# iso-codes: country, region and language names in reports (/usr/share/iso-codes/json).
build_packages=(
    build-essential pkg-config tzdata iso-codes
    libmicrohttpd-dev libjansson-dev libsodium-dev
    libpcre2-dev libyaml-dev libmaxminddb-dev libzstd-dev
)
# Writes the small geo database the tests make (never a committed one);
# SQLite is the reference tests/test_differential.c checks reports against;
# chromium runs the browser tests (tests/browser/, driven by playwright-core).
test_packages=(libmaxmind-db-writer-perl libsqlite3-dev chromium)
# The reports benchmark compares against ClickHouse and SQLite on the same data.
# chromium times the dashboard's first view (scripts/bench-dashboard.mjs).
bench_packages=(wrk nginx-light bc curl jq clickhouse-server clickhouse-client sqlite3 chromium)
fuzz_packages=(clang)

wanted=("${build_packages[@]}")
# npm fetches the run-time data (scripts/assets.sh); a machine with its own
# Node.js keeps it.
command -v npm >/dev/null || wanted+=(npm)
case "${1:-build}" in
    build) ;;
    test) wanted+=("${test_packages[@]}") ;;
    bench) wanted+=("${bench_packages[@]}") ;;
    fuzz) wanted+=("${fuzz_packages[@]}") ;;
    *) echo "usage: scripts/deps.sh [build|test|bench|fuzz]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
