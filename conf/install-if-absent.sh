#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# install-if-absent.sh SOURCE DIR: install SOURCE into $DESTDIR/DIR, mode
# 0644, unless a file of its name is there already.  virt-spm.conf is the
# operator's once it exists: `meson install` from source must never replace
# it with the commented default (the .deb's conffile handling keeps it too).
set -eu
src=$1
dir=${DESTDIR:-}$2
dest=$dir/$(basename "$src")
if [ -e "$dest" ] || [ -L "$dest" ]; then
    echo "Keeping $dest (an existing configuration file is never replaced)"
    exit 0
fi
install -d -m 0755 "$dir"
install -m 0644 "$src" "$dest"
echo "Installing $src to $dest"
