#!/usr/bin/env bash
# Runs every test program of a build folder, the browser tests and the fuzz
# corpus replays,
# then prints one summary line: "N passed, N failed" (CI reads it).
# A program that crashes or times out counts as one more failure.
set -u
build=${1:?usage: scripts/run-tests.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
export TALLY_BIN="$root/$build/tally"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Browser tests' screenshots, kept for a person to look at (not committed).
export TALLY_ARTIFACTS="$root/$build/artifacts"

passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() { # name, command...
    local name=$1
    shift
    timeout 600 "$@" >"$log" 2>&1
    local rc=$?
    local ok bad
    ok=$(grep -c '^ok ' "$log")
    bad=$(grep -c '^not ok ' "$log")
    passed=$((passed + ok))
    failed=$((failed + bad))
    if [ "$bad" -gt 0 ] || [ "$rc" -ne 0 ]; then
        # Show what failed, and the end of the output for crashes.
        grep -E '^(not ok|#)' "$log" | head -60
        if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
            tail -30 "$log"
            echo "not ok - $name exited with status $rc"
            failed=$((failed + 1))
        fi
    fi
    printf '%-40s %4d passed %4d failed\n' "$name" "$ok" "$bad"
}

for t in "$root/$build"/tests/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.o) continue ;; esac
    run "$(basename "$t")" "$t"
done
# Browser tests (tests/browser/lib.mjs): Debian's chromium driven by
# playwright-core, both installed by make test.
for t in "$root"/tests/browser/test_*.mjs; do
    [ -f "$t" ] || continue
    run "browser/$(basename "$t")" node "$t"
done
for r in "$root/$build"/fuzz/*-replay; do
    [ -x "$r" ] || continue
    name=$(basename "$r" -replay)
    run "$name (corpus replay)" "$r" "$root/fuzz/corpus/$name"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
