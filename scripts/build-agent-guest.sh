#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# build-agent-guest.sh [DIR]
#
# The agent test guest of tests/device's agent-guest test (docs/testing.md):
# Debian 12's own kernel (linux-image-6.1, unpacked, not built) and an
# initramfs holding busybox, the project's tests/guest/agent-init, Debian's
# qemu-guest-agent with the libraries it links, and the kernel modules the
# init loads (virtio_console for the agent's port; device_dax, dax_hmem
# and kmem for the guest's modes).  DIR (default
# ~/.cache/virt-spm/agent-guest) survives between runs:
#
#   DIR/vmlinuz  DIR/initrd.gz  DIR/stamp
#
# The test takes DIR from $SPM_AGENT_GUEST_DIR.  A DIR built from the same
# script and init is left alone (a second run is a no-op).  Needs apt (for
# `apt-get download`) and busybox-static; about 10 s.
set -euo pipefail

[ $# -le 1 ] || { echo "usage: $0 [DIR]" >&2; exit 2; }
dir=${1:-$HOME/.cache/virt-spm/agent-guest}
src=$(cd "$(dirname "$0")/.." && pwd)
init=$src/tests/guest/agent-init
sum=$(cat "$0" "$init" | sha256sum | cut -d' ' -f1)

log() { echo "build-agent-guest: $*"; }

if [ -s "$dir/vmlinuz" ] && [ -s "$dir/initrd.gz" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$sum" ]; then
    log "up to date in $dir"
    exit 0
fi
[ -x /bin/busybox ] || { echo "$0: no /bin/busybox (busybox-static)" >&2; exit 1; }

mkdir -p "$dir"
work=$(mktemp -d "$dir/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# Debian 12's kernel, the agent, and the libraries of the agent that a
# minimal Debian 12 may lack (the rest, libc and its kin, come from the
# host, which is Debian 12 too).
kpkg=$(apt-cache depends linux-image-amd64 | awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1/ { print $2; exit }')
[ -n "$kpkg" ] || { echo "$0: apt knows no linux-image-6.1 (is this Debian 12?)" >&2; exit 1; }
log "downloading $kpkg and qemu-guest-agent"
apt-get download "$kpkg" qemu-guest-agent libglib2.0-0 libnuma1 libudev1 liburing2 >/dev/null 2>&1 ||
    { echo "$0: apt-get download failed" >&2; exit 1; }
for deb in *.deb; do dpkg-deb -x "$deb" pkgs; done
kver=$(ls pkgs/lib/modules)
root=initrd
mkdir -p $root/bin $root/sbin $root/proc $root/sys $root/dev $root/run $root/tmp $root/usr/sbin
cp /bin/busybox $root/bin/
install -m 0755 "$init" $root/init
cp pkgs/usr/sbin/qemu-ga $root/usr/sbin/

# The agent's libraries, where the host's loader finds them (the packages
# just unpacked first), at the path the guest's loader looks in.
libs=$(LD_LIBRARY_PATH=$work/pkgs/usr/lib/x86_64-linux-gnu:$work/pkgs/lib/x86_64-linux-gnu \
       ldd pkgs/usr/sbin/qemu-ga)
if grep -q 'not found' <<<"$libs"; then
    echo "$0: qemu-ga needs libraries this host lacks:" >&2
    grep 'not found' <<<"$libs" >&2
    exit 1
fi
while read -r name _ path _; do
    case $name in
        /*) path=$name ;;                        # the loader itself
        *) [ -n "${path:-}" ] || continue ;;     # linux-vdso
    esac
    to=${path#$work/pkgs}
    mkdir -p "$root$(dirname "$to")"
    cp -L "$path" "$root$to"
done <<<"$libs"

# The modules, with what they depend on, and their index.
mods=pkgs/lib/modules/$kver/kernel
mkdir -p $root/lib/modules/$kver/kernel/drivers/char $root/lib/modules/$kver/kernel/drivers/dax/hmem
cp -r $mods/drivers/virtio $root/lib/modules/$kver/kernel/drivers/
cp $mods/drivers/char/virtio_console.ko $root/lib/modules/$kver/kernel/drivers/char/
cp $mods/drivers/dax/device_dax.ko $mods/drivers/dax/kmem.ko $root/lib/modules/$kver/kernel/drivers/dax/
cp $mods/drivers/dax/hmem/dax_hmem.ko $root/lib/modules/$kver/kernel/drivers/dax/hmem/
cp pkgs/lib/modules/$kver/modules.builtin* $root/lib/modules/$kver/ 2>/dev/null || true
/bin/busybox depmod -b "$work/$root" "$kver"

(cd $root && find . | cpio -o -H newc 2>/dev/null | gzip -6) > initrd.gz
cp pkgs/boot/vmlinuz-"$kver" vmlinuz
mv vmlinuz initrd.gz "$dir"/
echo "$sum" > "$dir/stamp"
log "ready: SPM_AGENT_GUEST_DIR=$dir (kernel $kver, initrd $(du -h "$dir/initrd.gz" | cut -f1))"
