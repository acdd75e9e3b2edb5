#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The corpus of real libvirt domain XMLs for tests/corpus: the test data of
# Debian's libvirt source package (the version installed here, so that
# virt-xml-validate's schema matches), unpacked once into a cache.  libvirt's
# files are never committed to this repository.
#
# Usage: fetch-libvirt-corpus.sh [CACHE_DIR]
#   (default ${XDG_CACHE_HOME:-~/.cache}/virt-spm/libvirt-corpus)
# Prints the directory holding the domain XMLs on success.  Needs a deb-src
# entry for Debian; as root, adds one from the mirror apt already uses.
set -euo pipefail
CACHE=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/virt-spm/libvirt-corpus}

# The source version of the installed libvirt, else Debian 12's.
VERSION=$(dpkg-query -W -f '${source:Version}' libvirt-clients 2>/dev/null || true)
[ -n "$VERSION" ] || VERSION=9.0.0-4+deb12u2
UPSTREAM=${VERSION%-*}
UPSTREAM=${UPSTREAM#*:}
DEST=$CACHE/libvirt-$UPSTREAM
if [ -f "$DEST/.complete" ]; then
    echo "$DEST"
    exit 0
fi

if ! apt-cache showsrc libvirt 2>/dev/null | grep -qxF "Version: $VERSION"; then
    if [ "$(id -u)" != 0 ]; then
        echo "fetch-libvirt-corpus: no deb-src entry for libvirt $VERSION, and adding one needs root" >&2
        exit 1
    fi
    # The Debian mirror this machine's apt already uses (no host is named here).
    MIRROR=$(sed -n 's/^URIs: *\(.*\/debian\)\/\{0,1\}$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
    [ -n "$MIRROR" ] || MIRROR=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
    [ -n "$MIRROR" ] || { echo "fetch-libvirt-corpus: cannot tell which Debian mirror apt uses" >&2; exit 1; }
    cat > /etc/apt/sources.list.d/virt-spm-src.sources <<S
Types: deb-src
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
S
    apt-get -o DPkg::Lock::Timeout=900 update -qq
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/libvirt-corpus.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# the installed version, else Debian 12's current one
(cd "$WORK" && { apt-get source --download-only "libvirt=$VERSION" >/dev/null 2>&1 ||
                 apt-get source --download-only libvirt/bookworm >/dev/null; })
ORIG=$(ls "$WORK"/libvirt_*.orig.tar.* | head -1)
UPSTREAM=$(basename "$ORIG"); UPSTREAM=${UPSTREAM#libvirt_}; UPSTREAM=${UPSTREAM%.orig.tar.*}
DEST=$CACHE/libvirt-$UPSTREAM
# Only the directories of domain XMLs.
mkdir -p "$WORK/x"
tar -C "$WORK/x" -xf "$ORIG" --wildcards --no-anchored \
    '*/tests/qemuxml2argvdata/*.xml' '*/tests/qemuxml2xmloutdata/*.xml' \
    '*/tests/genericxml2xmlindata/*.xml' '*/tests/domainschemadata/*.xml'
rm -rf "$DEST"
mkdir -p "$CACHE"
mv "$WORK"/x/libvirt-*/tests "$DEST"
touch "$DEST/.complete"
echo "$DEST"
