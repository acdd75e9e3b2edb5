#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Nova's api-paste.ini for the test on Nova's functional framework
# (tests/placement/test-nova-functional.py).  Debian ships it in nova-common
# (usr/share/nova-common/api-paste.ini), not in python3-nova whose nova/tests
# the test runs; installing nova-common would write /etc/nova/nova.conf and
# set up a database, so only the one file is taken out of the package of the
# installed python3-nova's version and kept in a cache.  Nova's files are
# never committed to this repository.
#
# Usage: fetch-nova-api-paste.sh [CACHE_DIR]
#   (default ${XDG_CACHE_HOME:-~/.cache}/virt-spm/nova-api-paste)
# Prints the path of CACHE_DIR/NOVA_VERSION/api-paste.ini on success.
set -euo pipefail
CACHE=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/virt-spm/nova-api-paste}

VERSION=$(dpkg-query -W -f '${Version}' python3-nova 2>/dev/null || true)
if [ -z "$VERSION" ]; then
    echo "fetch-nova-api-paste: python3-nova is not installed" >&2
    exit 1
fi
# the upstream version, as the test reads it from Nova's own metadata
UPSTREAM=${VERSION#*:}
UPSTREAM=${UPSTREAM%-*}
DEST=$CACHE/$UPSTREAM/api-paste.ini
if [ -s "$DEST" ]; then
    echo "$DEST"
    exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nova-api-paste.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# as root apt warns that it downloads unsandboxed: that is expected here
(cd "$WORK" && apt-get download "nova-common=$VERSION" >/dev/null 2>"$WORK/err") ||
    { cat "$WORK/err" >&2; exit 1; }
dpkg-deb -x "$WORK"/nova-common_*.deb "$WORK/x"
mkdir -p "$CACHE/$UPSTREAM"
cp "$WORK/x/usr/share/nova-common/api-paste.ini" "$DEST.tmp"
mv "$DEST.tmp" "$DEST"
echo "$DEST"
