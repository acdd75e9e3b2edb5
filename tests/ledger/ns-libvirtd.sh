#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ns-libvirtd.sh ROOT WORK SIDE HOSTNAME
#
# One private libvirt 12.8 "host" for the live-migration test
# (test-migrate-libvirt.py, docs/testing.md "Live migration between two
# libvirt 12.8 hosts"): run it as
#     unshare --mount --net --uts --propagation private ns-libvirtd.sh ...
# so that everything below happens in its own mount, network and UTS
# namespaces and none of it is seen by the host or by the sid root's own
# libvirtd (which other tests use):
#   - hostname HOSTNAME (libvirt refuses a migration to a host of its own name);
#   - loopback up, nothing else: the migration stream goes over a unix socket;
#   - over ROOT's /run, /var/lib/libvirt, /var/cache/libvirt,
#     /var/log/libvirt and /etc/libvirt: WORK/SIDE/{run,lib,cache,log,etc}
#     (the test wrote etc: host_uuid in libvirtd.conf, qemu.conf, the hook);
#   - WORK itself on ROOT/mnt, so both hosts, their hooks and their QEMUs
#     see the same /mnt (the other host's socket, the migration socket);
#   - /proc, /sys and /dev in ROOT when they are not there already.
# Then libvirtd runs chrooted in ROOT in the foreground (the test stops it
# with SIGTERM after destroying its domains); the namespaces go with it.
set -euo pipefail
[ $# = 4 ] || { echo "usage: $0 ROOT WORK SIDE HOSTNAME" >&2; exit 2; }
root=$1 work=$2 side=$3 name=$4

hostname "$name"
ip link set lo up
for d in run:run lib:var/lib/libvirt cache:var/cache/libvirt log:var/log/libvirt etc:etc/libvirt; do
    mount --bind "$work/$side/${d%%:*}" "$root/${d#*:}"
done
mount --bind "$work" "$root/mnt"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
mountpoint -q "$root/sys" || mount --rbind /sys "$root/sys"
mountpoint -q "$root/dev" || mount --rbind /dev "$root/dev"
# started under its own name: whatever looks for "libvirtd" by name leaves it be
exec chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    "/mnt/$side/spm-migrate-libvirtd"
