#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Rerun what docs/reliability.md reports and print its figures: the libvirt
# corpus, the fuzzers, valgrind, the faults (hook, QMP peers, daemon), the
# control-socket load and a burst of guests.  Needs root and libvirtd for
# the daemon parts, and the corpus (scripts/fetch-libvirt-corpus.sh) and
# clang for theirs.
# Usage: scripts/reliability-report.sh [BUILD_DIR]   (default build)
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
[ -d "$B" ] || meson setup "$B" >/dev/null
ninja -C "$B" >/dev/null || exit 1
section() { printf '\n== %s\n' "$1"; }
verbose() { meson test -C "$B" "$@" --verbose 2>&1; }

section "libvirt corpus (tests/corpus)"
verbose libvirt-corpus | grep -E '^(corpus|files|with|converted|libvirt schema|failures|SKIP|FAIL)|^ +[0-9]+ '
section "fuzzing (scripts/run-fuzz.sh: seed 1, fixed executions per target)"
scripts/run-fuzz.sh | grep -E '^fuzz |skipped|crash'
section "valgrind memcheck (the suite 'memcheck')"
meson test -C "$B" --setup valgrind --suite memcheck 2>&1 | grep -E '^(Ok|Fail|Timeout):|FAIL|ERROR'
section "hook with virt-spmd down, hung or slow"
verbose hook-faults | grep -E '^(ok|not ok|[0-9]+ failures)'
section "hostile QMP peers"
verbose test-qmp-client | grep -E '^(ok|not ok)|# mode'
section "virt-spmd faults with libvirtd and QEMU"
verbose test-daemon-faults | grep -E '^(ok|not ok|\||# SKIP)'
section "control-socket load"
meson test -C "$B" --benchmark bench-control-load --verbose 2>&1 | grep -E 'control socket|anonymous|alive|skipped'
section "a burst of 200 guests, twice (SPM_BENCH_DOMAINS)"
meson test -C "$B" --benchmark bench-virt-spmd --verbose 2>&1 | grep -E '^(idle|STARTED|burst|daemon anonymous)|skipped'
