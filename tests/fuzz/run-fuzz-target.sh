#!/bin/bash
# One time-boxed libFuzzer run (meson test --suite fuzz, scripts/run-fuzz.sh).
# Usage: run-fuzz-target.sh BINARY NAME SEED_DIR...
# $SPM_FUZZ_SECONDS (default 25) is the budget.  New inputs go to a working
# corpus in the build directory, never into the source tree; a crash leaves
# its input there and fails the test (add it to tests/fuzz/corpus/NAME/).
set -uo pipefail
bin=$1 name=$2; shift 2
work=$(dirname "$bin")/fuzz-work/$name
mkdir -p "$work/corpus" "$work/artifacts"
seeds=()
for d in "$@"; do [ -d "$d" ] && seeds+=("$d"); done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export G_DEBUG=fatal-criticals
"$bin" -max_total_time="${SPM_FUZZ_SECONDS:-25}" -timeout=10 -error_exitcode=1 -timeout_exitcode=1 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "${seeds[@]}" >"$work/log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$work/log" | tail -1)
units=$(ls "$work/corpus" | wc -l)
echo "fuzz $name: ${runs:-?} executions in ${SPM_FUZZ_SECONDS:-25} s, peak RSS ${rss:-?} MB, working corpus $units inputs, exit $rc"
if [ $rc -ne 0 ]; then
    tail -60 "$work/log"
    echo "crash input(s): $(ls "$work/artifacts")  (in $work/artifacts; add to tests/fuzz/corpus/$name/)"
fi
exit $rc
