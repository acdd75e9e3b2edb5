#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# One libFuzzer run of one target (meson test --suite fuzz, scripts/run-fuzz.sh).
# Usage: run-fuzz-target.sh BINARY NAME RUNS SEED_DIR...
#
# $SPM_FUZZ_MODE picks the kind of run:
#   replay (default, the test suite and CI): seed $SPM_FUZZ_SEED (default 1),
#       exactly RUNS executions, from the committed seeds only (its working
#       corpus starts empty each time), without address randomization and
#       without rereading the corpus once a second.  Runs of one build
#       explore the same inputs almost always (libFuzzer's scheduler keeps
#       a small timing effect: 3 runs of convert ended with 347, 361 and 347
#       inputs), and what one finds is saved as an input that reproduces.
#       Finding new bugs is the job of exploring runs, not of CI.
#   explore: a random seed for $SPM_FUZZ_SECONDS (default 25) seconds, keeping
#       what it learns in a working corpus that persists between runs.
# New inputs go to the build directory, never into the source tree; a crash
# leaves its input there and fails the test (add it to tests/fuzz/corpus/NAME/).
set -uo pipefail
bin=$1 name=$2 runs=$3; shift 3
mode=${SPM_FUZZ_MODE:-replay}
work=$(dirname "$bin")/fuzz-work/$mode/$name
seconds=${SPM_FUZZ_SECONDS:-25}
seed=${SPM_FUZZ_SEED:-1}
case $mode in
    replay) rm -rf "$work/corpus" "$work/artifacts"
            budget=(-seed="$seed" -runs="$runs" -reload=0)
            # the same addresses each run: GLib hashes some pointers, whose
            # order would change which paths an input reaches
            norandom=()
            if setarch "$(uname -m)" -R true 2>/dev/null; then
                norandom=(setarch "$(uname -m)" -R)
            fi
            what="seed $seed" ;;
    explore) budget=(-max_total_time="$seconds")
             what="random seed" ;;
    *) echo "run-fuzz-target: SPM_FUZZ_MODE '$mode' is neither 'replay' nor 'explore'" >&2
       exit 1 ;;
esac
mkdir -p "$work/corpus" "$work/artifacts"
seeds=()
for d in "$@"; do [ -d "$d" ] && seeds+=("$d"); done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export G_DEBUG=fatal-criticals
start=$EPOCHREALTIME
${norandom[@]+"${norandom[@]}"} "$bin" "${budget[@]}" -timeout=10 -error_exitcode=1 -timeout_exitcode=1 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "${seeds[@]}" >"$work/log" 2>&1
rc=$?
elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$work/log" | tail -1)
units=$(ls "$work/corpus" | wc -l)
printf 'fuzz %s: %s executions (%s) in %.1f s, peak RSS %s MB, working corpus %s inputs, exit %s\n' \
    "$name" "${executed:-?}" "$what" "$elapsed" "${rss:-?}" "$units" "$rc"
if [ $rc -ne 0 ]; then
    # The target's own verdict first: its message may be longer than the tail.
    grep -m1 -A3 '^fuzz check failed' "$work/log" | cut -c1-400
    tail -40 "$work/log"
    echo "crash input(s): $(ls "$work/artifacts")  (in $work/artifacts; add to tests/fuzz/corpus/$name/)"
fi
exit $rc
