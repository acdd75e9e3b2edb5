#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The emulator of test-migrate-libvirt.py (copied to /mnt/shim/qemu): this
# machine has one NUMA node, so the fake HBM nodes of the two hosts'
# [host] spm_nodes are all host node 0 to QEMU.  Every host-nodes=N of the
# arguments libvirt passes (and logs) becomes host-nodes=0; nothing else
# changes.  On a host (hostname H) for which /mnt/shim/v8-on-H exists it
# runs the legacy v8 build copied to /mnt/v8 instead: a destination whose
# QEMU has spm-memory, not sp-mem.
read -r host </proc/sys/kernel/hostname
qemu=/usr/bin/qemu-system-x86_64
[ -e "/mnt/shim/v8-on-$host" ] && qemu=/mnt/v8/qemu-system-x86_64
for a; do
    shift
    set -- "$@" "$(printf '%s' "$a" | sed 's/host-nodes=[0-9][0-9-]*/host-nodes=0/g')"
done
exec "$qemu" "$@"
