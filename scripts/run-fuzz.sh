#!/bin/bash
# Fuzz every target of tests/fuzz for a fixed budget (docs/fuzzing.md).
# A separate build, build-fuzz: clang, libFuzzer, ASan + UBSan.  Each run is
# a meson test of the suite 'fuzz', so scripts/run-tests.sh counts them.
# Usage: scripts/run-fuzz.sh [SECONDS_PER_TARGET]   (default 25)
# Exits 77 (skipped) when clang or its libFuzzer runtime is missing.
set -uo pipefail
cd "$(dirname "$0")/.."
export SPM_FUZZ_SECONDS=${1:-${SPM_FUZZ_SECONDS:-25}}

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
meson test -C build-fuzz --suite fuzz --num-processes 2 --print-errorlogs --verbose |
    grep -E '^fuzz |crash input|fuzz check failed|ERROR: |SUMMARY|^ *[0-9]+/[0-9]+ ' 
exit "${PIPESTATUS[0]}"
