#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# build-spm-qemu.sh PATCH [DIR [GUEST_INIT]]
#
# The real-device test tier's QEMU (docs/testing.md): QEMU 10.2.2 from
# Debian's source package with the spm-memory patch series PATCH applied,
# OVMF edk2-2026.08 from Debian's ovmf-generic (the first OVMF that passes
# E820 Soft Reserved to the guest) and a Linux 6.1 test guest (Debian's
# kernel and a busybox initrd whose init is GUEST_INIT, default: guest-init
# next to PATCH).  DIR (default ~/.cache/spm-qemu) survives between runs on
# one machine:
#
#   DIR/qemu-10.2.2/build/qemu-system-x86_64   x86_64 TCG only
#   DIR/fw/usr/share/ovmf/OVMF.fd
#   DIR/guest/vmlinuz  DIR/guest/initrd.gz
#
# The tests take DIR from $SPM_QEMU_DIR.  A complete DIR is left alone, so
# a second run is a no-op; a DIR built from another patch is rebuilt.
# Needs root (apt) and about 2 GiB; 5-10 minutes on 2 cores.
set -euo pipefail

usage() { echo "usage: $0 PATCH [DIR [GUEST_INIT]]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 3 ] || usage
patch=$(realpath "$1")
dir=${2:-$HOME/.cache/spm-qemu}
guest_init=$(realpath "${3:-$(dirname "$patch")/guest-init}")
[ -f "$patch" ] || { echo "$0: no patch '$1'" >&2; exit 1; }
[ -f "$guest_init" ] || { echo "$0: no guest init '$guest_init'" >&2; exit 1; }

QEMU_VERSION=10.2.2
QEMU_DEB=1:10.2.2+ds-1
QEMU_ORIG_SHA256=be05230fe47a6937cd29f28f562932c8125f9c93c2a82c625198f7a4aa601dfb
OVMF_DEB=ovmf-generic_2026.08+ds-2_all.deb
# QEMU 10.2 wants meson >= 1.5 and pycotap; Debian 12 has 1.0.1 and none.
MESON_DEB=meson_1.7.0-1_all.deb
PYCOTAP_DEB=python3-pycotap_1.3.1-3_all.deb

src=$dir/qemu-$QEMU_VERSION
qemu=$src/build/qemu-system-x86_64
ovmf=$dir/fw/usr/share/ovmf/OVMF.fd
stamp=$dir/patch.sha256
sum=$(sha256sum "$patch" | cut -d' ' -f1)

log() { echo "build-spm-qemu: $*"; }

has_spm_memory() { [ -x "$qemu" ] && "$qemu" -device spm-memory,help 2>/dev/null | grep -q memdev; }
# The tests run TCG guests, but libvirt probes a binary again on every use
# when the host has /dev/kvm and the binary has no KVM (it takes that for
# a stale capability cache): about 20 s per domain start.
has_kvm() { "$qemu" -accel help 2>/dev/null | grep -qx kvm; }
complete() {
    has_spm_memory && has_kvm && [ -s "$ovmf" ] && [ -s "$dir/guest/vmlinuz" ] &&
        [ -s "$dir/guest/initrd.gz" ]
}

# The uninstalled binary looks for SeaBIOS and option ROMs in its bundle:
# link Debian's there (again after a reconfigure emptied it).
link_firmware() {
    local datadir f
    datadir=$(dirname "$(find "$src/build/qemu-bundle" -name trace-events-all -print -quit)")
    for f in /usr/share/seabios/* /usr/share/qemu/*; do
        [ -e "$datadir/$(basename "$f")" ] || ln -sfn "$f" "$datadir/"
    done
}

# A build made before the stamp existed (the shared recipe builds the same
# layout): adopt it, trusting that it came from this patch.
if complete && [ ! -f "$stamp" ]; then
    echo "$sum" > "$stamp"
fi
if complete && [ "$(cat "$stamp")" = "$sum" ]; then
    link_firmware
    log "up to date in $dir"
    exit 0
fi

mkdir -p "$dir"
cd "$dir"

# The Debian mirror apt already uses on this machine.
mirror=$(sed -n 's|^URIs: *\(.*/debian\)/*$|\1|p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || { echo "$0: cannot tell which Debian mirror apt uses" >&2; exit 1; }

fetch_deb() {   # POOL_DIR FILE: a .deb from the mirror's pool, once
    [ -s "debs/$2" ] || curl -sSf --create-dirs -o "debs/$2" "$mirror/pool/main/$1/$2"
}

# Build dependencies (also in scripts/packages.txt, for CI).
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends \
    build-essential ninja-build pkg-config libglib2.0-dev libpixman-1-dev libfdt-dev \
    libnuma-dev flex bison python3-venv curl xz-utils cpio busybox-static seabios \
    qemu-system-x86 dpkg-dev >/dev/null

# QEMU's source, from trixie's qemu source package (deb-src for it only).
if [ -f "$stamp" ] && [ "$(cat "$stamp")" != "$sum" ]; then
    log "the patch changed: rebuilding QEMU"
    rm -rf "$src"
fi
if [ ! -d "$src" ]; then
    orig=qemu_${QEMU_VERSION}+ds.orig.tar.xz
    if [ ! -s "$orig" ]; then
        if ! apt-get source --print-uris "qemu=$QEMU_DEB" >/dev/null 2>&1; then
            list=/etc/apt/sources.list.d/virt-spm-qemu-src.sources
            printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: %s\n' \
                "$mirror" /usr/share/keyrings/debian-archive-keyring.gpg > "$list"
            apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null
        fi
        # Once trixie moved past 10.2.2 its source index no longer lists it,
        # but the pool still holds the upstream tarball: take that, checked
        # against the checksum Debian's 1:10.2.2+ds-1 .dsc carried.
        if ! apt-get source --download-only "qemu=$QEMU_DEB" >/dev/null 2>&1; then
            log "qemu $QEMU_DEB is not in the source index: the tarball from the pool"
            curl -sSf -o "$orig.part" "$mirror/pool/main/q/qemu/$orig"
            echo "$QEMU_ORIG_SHA256  $orig.part" | sha256sum -c --quiet -
            mv "$orig.part" "$orig"
        fi
    fi
    log "unpacking QEMU $QEMU_VERSION"
    tar xf "qemu_${QEMU_VERSION}+ds.orig.tar.xz"
    log "applying $(basename "$patch")"
    patch -d "$src" -p1 -s < "$patch"
    # Debian's +ds tarball has no firmware blobs and no bundled wheels:
    # do not unpack the edk2 images nor build the device trees it lacks.
    sed -i 's/^\( *unpack_edk2_blobs = \)bzip2.found()/\1false/' "$src/meson.build"
    sed -i "s/^subdir('dtb')/# no device trees in the +ds tarball: subdir('dtb')/" "$src/pc-bios/meson.build"
fi

# meson and pycotap for QEMU's configure, from Debian packages, unpacked
# (never installed: the host keeps Debian 12's meson).
fetch_deb m/meson "$MESON_DEB"
fetch_deb p/python-pycotap "$PYCOTAP_DEB"
pydeps=$dir/pydeps/usr/lib/python3/dist-packages
if [ ! -d "$pydeps/mesonbuild" ] || [ ! -d "$pydeps/pycotap" ]; then
    dpkg-deb -x "debs/$MESON_DEB" pydeps
    dpkg-deb -x "debs/$PYCOTAP_DEB" pydeps
fi
export PYTHONPATH=$pydeps

if ! has_spm_memory || ! has_kvm; then
    log "configuring and building QEMU (5-10 minutes)"
    (cd "$src" &&
     PATH=/usr/sbin:/usr/bin:/sbin:/bin ./configure --target-list=x86_64-softmmu \
        --without-default-features --enable-tcg --enable-kvm --enable-fdt=system --enable-numa \
        --disable-docs --disable-werror --disable-install-blobs \
        --python=/usr/bin/python3 >"$dir/configure.log" 2>&1 ||
     { tail -20 "$dir/configure.log" >&2; exit 1; })
    ninja -C "$src/build" qemu-system-x86_64 >"$dir/ninja.log" 2>&1 ||
        { tail -30 "$dir/ninja.log" >&2; exit 1; }
fi
link_firmware
has_spm_memory || { echo "$0: $qemu has no spm-memory device" >&2; exit 1; }

if [ ! -s "$ovmf" ]; then
    log "OVMF from $OVMF_DEB"
    fetch_deb e/edk2 "$OVMF_DEB"
    dpkg-deb -x "debs/$OVMF_DEB" fw
fi

if [ ! -s guest/vmlinuz ] || [ ! -s guest/initrd.gz ]; then
    log "test guest: Debian's Linux 6.1 and a busybox initrd"
    rm -rf guest && mkdir -p guest/kernel guest/initrd/bin guest/initrd/proc \
        guest/initrd/sys guest/initrd/dev
    kpkg=$(apt-cache depends linux-image-amd64 | awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1/ { print $2; exit }')
    (cd guest && apt-get download "$kpkg" >/dev/null)
    dpkg-deb -x guest/"$kpkg"_*.deb guest/kernel
    cp guest/kernel/boot/vmlinuz-* guest/vmlinuz
    cp /bin/busybox guest/initrd/bin/
    install -m 0755 "$guest_init" guest/initrd/init
    (cd guest/initrd && find . | cpio -o -H newc 2>/dev/null | gzip -9) > guest/initrd.gz
    rm -rf guest/kernel guest/initrd guest/*.deb
fi

complete || { echo "$0: incomplete build in $dir" >&2; exit 1; }
echo "$sum" > "$stamp"
log "ready: SPM_QEMU_DIR=$dir"
