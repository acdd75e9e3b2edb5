#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libvirtd-harness.sh: a real libvirtd for tests (docs/libvirt.md).
#
#   libvirtd-harness.sh up                 configure qemu.conf, start libvirtd if needed
#   libvirtd-harness.sh install NAME FILE  install FILE as hook qemu.d/NAME, restart libvirtd
#   libvirtd-harness.sh remove NAME        remove hook qemu.d/NAME, restart libvirtd
#   libvirtd-harness.sh restart            restart libvirtd (it re-reads the hooks)
#   libvirtd-harness.sh reload             SIGHUP libvirtd: it re-reads the hooks
#                                          without restarting (as systemctl reload)
#
# libvirtd reads its hooks when it starts, so installing or removing one
# restarts it.  Other test programs may use the same libvirtd at the same
# time: restarts are serialized with a lock, domains keep running across a
# restart, and only the libvirtd whose pid is in its pid file is stopped.
# Every wait polls with a deadline.  Exit 77 (skip) when not root or when
# libvirt is not installed.
#
# Another libvirtd (the sid root's, scripts/sid-libvirtd.sh) is used
# through four variables (docs/testing.md), each defaulting to the host's:
#   SPM_TEST_LIBVIRT_URI       its URI (qemu:///system)
#   SPM_TEST_HOOK_DIR          its qemu hook directory (/etc/libvirt/hooks/qemu.d;
#                              SPM_HOOK_DIR, its older name, still works)
#   SPM_TEST_LIBVIRTD_PIDFILE  its pid file (/run/libvirtd.pid)
#   SPM_TEST_LIBVIRTD_START    the command, split on blanks, that starts it
#                              and returns once it answers (libvirtd -d)
# Such a daemon's qemu.conf is its owner's: configure leaves the host's alone.
set -euo pipefail

QEMU_CONF=${SPM_QEMU_CONF:-/etc/libvirt/qemu.conf}
HOOK_DIR=${SPM_TEST_HOOK_DIR:-${SPM_HOOK_DIR:-/etc/libvirt/hooks/qemu.d}}
PIDFILE=${SPM_TEST_LIBVIRTD_PIDFILE:-/run/libvirtd.pid}
LOCK=/run/lock/virt-spm-libvirtd.lock
URI=${SPM_TEST_LIBVIRT_URI:-qemu:///system}
read -ra START <<<"${SPM_TEST_LIBVIRTD_START:-}"
DEADLINE_S=${SPM_LIBVIRTD_DEADLINE:-60}
# libvirtd's PATH in every harness (SPM_TEST_LIBVIRTD_PATH in
# tests/common/spm-test-libvirt.h): the Nova test's emulator directory first.
LIBVIRTD_PATH=/run/virt-spm-test/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() { echo "libvirtd-harness: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || { echo "libvirtd-harness: needs root" >&2; exit 77; }
command -v libvirtd >/dev/null && command -v virsh >/dev/null ||
    { echo "libvirtd-harness: libvirt is not installed" >&2; exit 77; }

# poll CMD... until it succeeds or the deadline passes
wait_for() {
    local what=$1; shift
    local end=$((SECONDS + DEADLINE_S))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $end ] || die "timed out after ${DEADLINE_S}s waiting for $what"
        sleep 0.05
    done
}

daemon_answers() { virsh -c "$URI" uri; }
daemon_pid() { [ -s "$PIDFILE" ] && cat "$PIDFILE"; }
# gone, or a zombie its parent has not reaped yet
pid_gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# the host's own daemon, the one this script configures and starts itself
hosts_daemon() { [ "$URI" = qemu:///system ] && [ ${#START[@]} = 0 ]; }

# start libvirtd: the host's with its PATH, another with its own command
launch() {
    if [ ${#START[@]} != 0 ]; then
        "${START[@]}" >/dev/null 9>&-
    else
        PATH=$LIBVIRTD_PATH libvirtd -d 9>&-   # the daemon must not inherit the lock
    fi
}

configure() {
    local changed=1 line
    hosts_daemon || return 1
    mkdir -p "$(dirname "$QEMU_CONF")"
    touch "$QEMU_CONF"
    for line in 'security_driver = "none"' 'stdio_handler = "file"' \
                'cgroup_controllers = [ ]' 'user = "root"' 'group = "root"'; do
        if ! grep -qxF "$line" "$QEMU_CONF"; then
            echo "$line" >> "$QEMU_CONF"
            changed=0
        fi
    done
    return $changed   # 0 when something was added
}

start_daemon() {
    daemon_answers >/dev/null 2>&1 && return 0
    launch
    wait_for "libvirtd to answer on $URI" daemon_answers
}

restart_daemon() {
    local pid
    if pid=$(daemon_pid) && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        wait_for "libvirtd ($pid) to exit" pid_gone "$pid"
    fi
    # Another program may have started one since: it read the hook
    # directory as it is now, which is all a restart is for.
    launch 2>/dev/null ||
        echo "libvirtd-harness: another libvirtd started meanwhile; using it" >&2
    wait_for "libvirtd to answer on $URI" daemon_answers
}

cmd_reload() {
    local pid
    start_daemon
    pid=$(daemon_pid) && kill -0 "$pid" 2>/dev/null || die "no libvirtd pid in $PIDFILE"
    kill -HUP "$pid"
    wait_for "libvirtd to answer on $URI" daemon_answers
}

locked() {
    mkdir -p "$(dirname "$LOCK")"
    exec 9>"$LOCK"
    flock -w "$DEADLINE_S" 9 || die "cannot take $LOCK"
    "$@"
}

# A test killed before its cleanup leaves its hook behind, and that hook
# then refuses every start of every later test.  Test hooks are named
# virt-spm-test-...-PID: drop those whose test process is gone.  True when
# one was dropped (the daemon must re-read its hooks).
drop_stale_hooks() {
    local f pid dropped=1
    for f in "$HOOK_DIR"/virt-spm-test-*; do
        [ -e "$f" ] || continue
        pid=${f##*-}
        case $pid in ''|*[!0-9]*) continue ;; esac
        if pid_gone "$pid"; then
            echo "libvirtd-harness: removing $f: its test (pid $pid) is gone" >&2
            rm -f "$f"
            dropped=0
        fi
    done
    return $dropped
}

cmd_up() {
    local stale=1
    drop_stale_hooks && stale=0
    if configure || [ $stale = 0 ]; then
        restart_daemon
    else
        start_daemon
    fi
}

cmd_install() {
    local name=$1 file=$2
    [ -f "$file" ] || die "no hook file '$file'"
    mkdir -p "$HOOK_DIR"
    install -m 0755 "$file" "$HOOK_DIR/$name"
    drop_stale_hooks || true
    configure || true
    restart_daemon
}

cmd_remove() {
    local name=$1
    rm -f "$HOOK_DIR/$name"
    restart_daemon
}

case "${1:-}" in
    up) locked cmd_up ;;
    install) [ $# = 3 ] || die "usage: $0 install NAME FILE"; locked cmd_install "$2" "$3" ;;
    remove) [ $# = 2 ] || die "usage: $0 remove NAME"; locked cmd_remove "$2" ;;
    restart) locked restart_daemon ;;
    reload) locked cmd_reload ;;
    *) die "usage: $0 up | install NAME FILE | remove NAME | restart | reload" ;;
esac
