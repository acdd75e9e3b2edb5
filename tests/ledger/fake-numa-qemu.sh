#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The emulator of test-migrate-libvirt.py (copied to /mnt/shim/qemu): this
# machine has one NUMA node, so the fake HBM nodes of the two hosts'
# [host] spm_nodes are all host node 0 to QEMU.  Every host-nodes=N of the
# arguments libvirt passes (and logs) becomes host-nodes=0; nothing else
# changes.
for a; do
    shift
    set -- "$@" "$(printf '%s' "$a" | sed 's/host-nodes=[0-9][0-9-]*/host-nodes=0/g')"
done
exec /usr/bin/qemu-system-x86_64 "$@"
