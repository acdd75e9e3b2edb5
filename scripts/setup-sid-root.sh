#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# setup-sid-root.sh [--nova] [DIR]
#
# The current stack for the sp-mem tier (docs/testing.md, "The sid root"):
# a minimal Debian sid root in DIR (default ~/.cache/virt-spm/sid) holding
# Debian's QEMU 11.1 (the first QEMU with the sp-mem device), OVMF 2026.08,
# libvirt 12.8 and the build dependencies of virt-spm, so that virt-spm can
# be built inside the root (scripts/build-in-sid-root.sh) and its hook runs
# with the root's libraries when the root's libvirtd starts a domain
# (scripts/sid-libvirtd.sh).  Nothing is built from source.
#
#   --nova   also installs Debian's python3-nova and python3-libvirt (Nova 34)
#
# The root's QEMU also runs on the host, without chroot, through the root's
# own dynamic loader: this script writes DIR/bin/qemu-system-x86_64-sid,
# which takes QEMU's usual arguments.
#
# Cached: a stamp per stage records the package list it installed, so a
# second run with the same list does nothing but print the versions (also
# written to DIR/versions).  Needs root.  Exit status 77 (skip) with one
# line when the Debian mirror cannot be reached.
set -euo pipefail

usage() { echo "usage: $0 [--nova] [DIR]" >&2; exit 2; }
nova=0
dir=
for a in "$@"; do
    case $a in
        --nova) nova=1 ;;
        -*) usage ;;
        *) [ -z "$dir" ] || usage; dir=$a ;;
    esac
done
dir=${dir:-$HOME/.cache/virt-spm/sid}
[ "$(id -u)" = 0 ] || { echo "$0: needs root (debootstrap, chroot)" >&2; exit 1; }
mkdir -p "$dir"
dir=$(realpath "$dir")

BASE_PKGS="qemu-system-x86 ovmf libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
meson ninja-build gcc pkg-config libglib2.0-dev libjson-glib-dev libxml2-dev libvirt-dev
libsystemd-dev python3"
NOVA_PKGS="python3-nova python3-libvirt"

# One set-up at a time per root: another helper's test may call this too.
exec 9>"$dir.lock"
flock 9

# The Debian mirror apt already uses on this host (no host is named here):
# the first non-security URI of debian.sources, else of sources.list.
mirror() {
    local f=/etc/apt/sources.list.d/debian.sources u=
    if [ -f "$f" ]; then
        u=$(awk '/^URIs:/ { uri = $2 } /^Suites:/ && uri != "" && $0 !~ /security/ { print uri; exit }' "$f")
    fi
    if [ -z "$u" ] && [ -f /etc/apt/sources.list ]; then
        u=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
    fi
    echo "${u%/}"
}

# Skip (77), in one line, when sid's Release file cannot be fetched.
require_mirror() {
    [ -n "$1" ] || { echo "$0: no Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list" >&2; exit 1; }
    local url=$1/dists/sid/InRelease
    if ! python3 - "$url" <<'EOF'
import sys, urllib.request
try:
    urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="HEAD"), timeout=20)
except Exception:
    sys.exit(1)
EOF
    then
        echo "setup-sid-root: skipped: Debian mirror unreachable ($url)" >&2
        exit 77
    fi
}

# apt inside the root, with /proc and /dev mounted for the maintainer
# scripts, and no daemon started by them (policy-rc.d).
mounted=()
cleanup() {
    local i pid
    # A libvirtd of scripts/sid-libvirtd.sh running in the root keeps them
    # (its "down" unmounts them).
    if pid=$(cat "$dir/run/libvirtd.pid" 2>/dev/null) && [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$dir" ]; then
        return 0
    fi
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || true
    done
}
trap cleanup EXIT
mount_root() {
    local m
    for m in proc dev dev/pts; do
        if ! mountpoint -q "$dir/$m"; then
            mkdir -p "$dir/$m"
            case $m in
                proc) mount -t proc proc "$dir/proc" ;;
                dev) mount --bind /dev "$dir/dev" ;;
                dev/pts) mount --bind /dev/pts "$dir/dev/pts" ;;
            esac
            mounted+=("$dir/$m")
        fi
    done
}
in_root() {
    chroot "$dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive "$@"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

install_stage() {
    local name=$1 pkgs stamp t
    pkgs=$(echo "$2" | tr -s ' \n' '\n' | sort | tr '\n' ' ')
    stamp=$dir/.virt-spm-stage-$name
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pkgs" ]; then
        return 0
    fi
    require_mirror "$MIRROR"
    mount_root
    # The mirror may be a dated snapshot whose Release has passed its
    # Valid-Until: its packages are still the ones wanted.
    echo 'Acquire::Check-Valid-Until "false";' >"$dir/etc/apt/apt.conf.d/99virt-spm"
    t=$(now)
    # shellcheck disable=SC2086
    in_root apt-get update -q >/dev/null
    # shellcheck disable=SC2086
    in_root apt-get install -y -q --no-install-recommends $pkgs >"$dir/.virt-spm-$name.log" 2>&1 ||
        { tail -5 "$dir/.virt-spm-$name.log" >&2; echo "$0: apt-get install in $dir failed ($dir/.virt-spm-$name.log)" >&2; exit 1; }
    in_root apt-get clean
    echo "$pkgs" >"$stamp"
    echo "setup-sid-root: installed $name stage in $(elapsed "$t") s"
}

MIRROR=$(mirror)

# Stage 0: the root itself.  A root without the stamp is a half-made one
# (interrupted debootstrap): start it again from nothing.
if [ ! -f "$dir/.virt-spm-debootstrap" ]; then
    require_mirror "$MIRROR"
    if ! command -v debootstrap >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null
    fi
    # Only a directory this script started may be emptied: an empty one,
    # or one next to our debootstrap log.
    if [ -n "$(ls -A "$dir")" ] && [ ! -f "$dir.debootstrap.log" ]; then
        echo "$0: $dir is not empty and is no sid root of this script; give an empty or new directory" >&2
        exit 1
    fi
    # Never remove through a mount (a bind mount of /dev would take the
    # host's with it).
    if awk -v d="$dir/" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
        echo "$0: $dir is half made but has mounts under it; run scripts/sid-libvirtd.sh $dir down first" >&2
        exit 1
    fi
    find "$dir" -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system {} +
    t=$(now)
    debootstrap --variant=minbase sid "$dir" "$MIRROR" >"$dir.debootstrap.log" 2>&1 ||
        { tail -5 "$dir.debootstrap.log" >&2; echo "$0: debootstrap failed ($dir.debootstrap.log)" >&2; exit 1; }
    # No maintainer script may start a daemon in the root.
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
    chmod 755 "$dir/usr/sbin/policy-rc.d"
    touch "$dir/.virt-spm-debootstrap"
    echo "setup-sid-root: debootstrap sid in $(elapsed "$t") s"
fi

install_stage base "$BASE_PKGS"
[ "$nova" = 0 ] || install_stage nova "$NOVA_PKGS"

# The runners: the root's programs on the host, through the root's loader
# and libraries; QEMU's firmware and modules from the root, not the host's.
mkdir -p "$dir/bin"
runner() {
    local out=$1 prog=$2 extra=$3
    cat >"$out.tmp" <<EOF
#!/bin/sh
# Written by virt-spm's scripts/setup-sid-root.sh: $prog of the sid root
# $dir, run on the host with that root's dynamic loader and libraries.
QEMU_MODULE_DIR=$dir/usr/lib/x86_64-linux-gnu/qemu
export QEMU_MODULE_DIR
exec $dir/usr/lib64/ld-linux-x86-64.so.2 --library-path $dir/usr/lib/x86_64-linux-gnu \\
    $dir/usr/bin/$prog$extra "\$@"
EOF
    chmod 755 "$out.tmp"
    mv "$out.tmp" "$out"
}
runner "$dir/bin/qemu-system-x86_64-sid" qemu-system-x86_64 " -L $dir/usr/share/qemu -L $dir/usr/share/seabios"

version() { chroot "$dir" dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo none; }
{
    echo "qemu $(version qemu-system-x86)"
    echo "ovmf $(version ovmf)"
    echo "libvirt $(version libvirt-daemon)"
    echo "nova $(version python3-nova)"
} >"$dir/versions.tmp"
mv "$dir/versions.tmp" "$dir/versions"
sed 's/^/setup-sid-root: /' "$dir/versions"
echo "$dir"
