#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# sid-libvirtd.sh ROOT up|down|uri
#
# libvirt 12.8's libvirtd inside the sid root made by scripts/setup-sid-root.sh
# (docs/testing.md, "The sid root").  Debian 12's libvirt 9.0 cannot drive
# QEMU 11.1 (its capability probe fails), so the sp-mem tier talks to this
# daemon instead.  It runs chrooted in ROOT: the emulator, firmware, kernel
# and serial-file paths of a domain, and the hooks in ROOT/etc/libvirt/hooks,
# are the root's, and run with the root's libraries.
#
#   up     configure ROOT/etc/libvirt/qemu.conf, mount /proc, /sys and /dev
#          into ROOT, start libvirtd there if it is not running, wait (with a
#          deadline) until it answers, print its URI
#   down   destroy the domains it runs, stop it, unmount what up mounted
#   uri    print its URI: qemu+unix:///system?socket=ROOT/run/libvirt/libvirt-sock
#
# The daemon's PATH is /usr/sbin:/usr/bin:/sbin:/bin unless
# SPM_SID_LIBVIRTD_PATH gives another (as seen inside ROOT): the Nova test
# puts the emulator wrapper's directory first, as SPM_TEST_LIBVIRTD_PATH
# does for the host's daemon.  With it set, up restarts a running daemon
# whose PATH differs (its domains keep running); without it, up leaves a
# running daemon's PATH as it is, so a test that does not care never undoes
# another's.  Restoring is an up with the old PATH in the variable.
#
# The host's own libvirtd (qemu:///system, /run/libvirt) is never touched:
# this daemon's sockets, pid file and state are all under ROOT.  Needs root;
# exit 77 (skip) when ROOT has no libvirtd.
set -euo pipefail

usage() { echo "usage: $0 ROOT up|down|uri" >&2; exit 2; }
[ $# = 2 ] || usage
root=$(realpath -m "$1")
cmd=$2
uri="qemu+unix:///system?socket=$root/run/libvirt/libvirt-sock"
pidfile=$root/run/libvirtd.pid
daemon=/usr/local/sbin/sid-libvirtd
DEADLINE_S=${SPM_LIBVIRTD_DEADLINE:-60}
DEFAULT_PATH=/usr/sbin:/usr/bin:/sbin:/bin
want_path=${SPM_SID_LIBVIRTD_PATH:-}

die() { echo "sid-libvirtd: $*" >&2; exit 1; }

case $cmd in
    uri) echo "$uri"; exit 0 ;;
    up|down) ;;
    *) usage ;;
esac
[ "$(id -u)" = 0 ] || { echo "sid-libvirtd: needs root" >&2; exit 77; }
[ -x "$root/usr/sbin/libvirtd" ] ||
    { echo "sid-libvirtd: no libvirtd in $root (run scripts/setup-sid-root.sh)" >&2; exit 77; }

# up and down, one at a time per root
exec 9>"$root.libvirtd.lock"
flock 9

# Host virsh (libvirt 9.0 speaks to 12.8 fine); the root's when the host has none.
virsh_sid() {
    if command -v virsh >/dev/null; then
        virsh -q -c "$uri" "$@"
    else
        chroot "$root" virsh -q -c qemu:///system "$@"
    fi
}
answers() { virsh_sid uri >/dev/null 2>&1; }
daemon_pid() { [ -s "$pidfile" ] && cat "$pidfile"; }
# the PATH in the environment of process $1
path_of() { tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | sed -n 's/^PATH=//p'; }
# gone, or a zombie its parent has not reaped yet
pid_gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
# a live daemon running in ROOT
ours() { ! pid_gone "$1" && [ "$(readlink "/proc/$1/root")" = "$root" ]; }
# poll CMD... until it succeeds or the deadline passes
wait_for() {
    local what=$1; shift
    local end=$((SECONDS + DEADLINE_S))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $end ] || die "timed out after ${DEADLINE_S}s waiting for $what"
        sleep 0.05
    done
}

# What libvirtd needs to run in a chroot on a machine without systemd: no
# security driver, no virtlogd, no cgroups, no private mount namespace per
# domain (inside a chroot that fails: "Failed disable mount propagation out
# of the root filesystem: Invalid argument"), QEMU as root.
configure() {
    local conf=$root/etc/libvirt/qemu.conf line
    for line in 'security_driver = "none"' 'stdio_handler = "file"' \
                'cgroup_controllers = [ ]' 'user = "root"' 'group = "root"' \
                'namespaces = [ ]'; do
        grep -qxF "$line" "$conf" || echo "$line" >>"$conf"
    done
}

# Mounts are made slaves of the host's, so that unmounting them (or
# anything under them) never propagates back to the host's /dev or /sys.
mount_one() {
    local what=$1 where=$root/$1
    mountpoint -q "$where" && return 0
    mkdir -p "$where"
    case $what in
        proc) mount -t proc proc "$where" ;;
        *) mount --bind "/$what" "$where" ;;
    esac
    mount --make-rslave "$where"
}
# what up mounts, and anything mounted under those since
mounts_under_root() {
    awk -v r="$root" '
        index($2, r "/proc") == 1 || index($2, r "/sys") == 1 || index($2, r "/dev") == 1 { print $2 }' /proc/self/mounts
}
unmount_all() {
    local m
    # deepest first
    for m in $(mounts_under_root | awk '{ print length($0), $0 }' | sort -rn | cut -d' ' -f2-); do
        umount "$m" || die "cannot unmount $m"
    done
}

up() {
    configure
    local m
    for m in proc sys dev dev/pts dev/shm; do
        mount_one "$m"
    done
    local pid
    # asked for another PATH than the running daemon's: stop it first
    if [ -n "$want_path" ] && pid=$(daemon_pid) && ours "$pid" && [ "$(path_of "$pid")" != "$want_path" ]; then
        kill -TERM "$pid"
        wait_for "libvirtd ($pid) in $root to exit" pid_gone "$pid"
    fi
    if ! answers; then
        if pid=$(daemon_pid) && ours "$pid"; then
            : # starting up: wait for it below
        else
            rm -f "$pidfile"
            # Started under another name, so that whatever stops the host's
            # daemon by name (pgrep -x libvirtd, pidof libvirtd) leaves it be.
            ln -sfn /usr/sbin/libvirtd "$root$daemon"
            chroot "$root" env -i PATH="${want_path:-$DEFAULT_PATH}" HOME=/root LANG=C.UTF-8 \
                "$daemon" -d 9>&-   # the daemon must not inherit the lock
        fi
        wait_for "libvirtd in $root to answer on $uri" answers
    fi
    echo "$uri"
}

down() {
    local pid d
    if answers; then
        for d in $(virsh_sid list --name); do
            virsh_sid destroy "$d" >/dev/null
        done
    fi
    if pid=$(daemon_pid) && ! pid_gone "$pid" && [ "$(readlink "/proc/$pid/root")" = "$root" ]; then
        kill -TERM "$pid"
        wait_for "libvirtd ($pid) in $root to exit" pid_gone "$pid"
    fi
    rm -f "$pidfile"
    unmount_all
}

"$cmd"
