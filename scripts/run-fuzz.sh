#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fuzz every target of tests/fuzz (docs/fuzzing.md).
# A separate build, build-fuzz: clang, libFuzzer, ASan + UBSan.  Each run is
# a meson test of the suite 'fuzz', so scripts/run-tests.sh counts them.
#
# Usage: scripts/run-fuzz.sh                       the test-suite run: seed 1 and
#                                                  a fixed number of executions per
#                                                  target, the same on every machine
#        scripts/run-fuzz.sh --explore [SECONDS [TARGET...]]
#                                                  random seeds, SECONDS per target
#                                                  (default 300), a working corpus
#                                                  kept between runs; with TARGETs
#                                                  (e.g. json-guard) only those, one
#                                                  at a time
# Exits 77 (skipped) when clang or its libFuzzer runtime is missing.
set -uo pipefail
cd "$(dirname "$0")/.."
export SPM_FUZZ_MODE=replay
tests=()
jobs=2
if [ "${1:-}" = --explore ]; then
    export SPM_FUZZ_MODE=explore SPM_FUZZ_SECONDS=${2:-300}
    shift $(( $# < 2 ? $# : 2 ))
    for t in "$@"; do tests+=("fuzz-$t"); done
    [ ${#tests[@]} -gt 0 ] && jobs=1
elif [ $# -gt 0 ]; then
    echo "usage: scripts/run-fuzz.sh [--explore [SECONDS [TARGET...]]]" >&2
    exit 2
fi

if ! command -v clang >/dev/null ||
   ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
     clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
    echo "run-fuzz: skipped: clang with libFuzzer (clang, libclang-rt-14-dev) is not installed"
    exit 77
fi
if [ ! -d build-fuzz ]; then
    CC=clang meson setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined \
        -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null || exit 1
fi
ninja -C build-fuzz || exit 1
# Exploring runs may take longer than meson's per-test timeout of 300 s.
meson test -C build-fuzz --suite fuzz --num-processes "$jobs" --timeout-multiplier 0 \
    --print-errorlogs --verbose ${tests[@]+"${tests[@]}"} |
    grep -E '^fuzz |crash input|fuzz check failed|ERROR: |SUMMARY|^ *[0-9]+/[0-9]+ '
exit "${PIPESTATUS[0]}"
