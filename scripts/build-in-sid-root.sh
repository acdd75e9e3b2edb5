#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# build-in-sid-root.sh ROOT [SRC [BUILDDIR]]
#
# Builds virt-spm inside the sid root ROOT (scripts/setup-sid-root.sh), with
# the root's compiler and libraries, so that the hook and the front end run
# there: a libvirtd started in ROOT (scripts/sid-libvirtd.sh) runs its hooks
# inside ROOT, where Debian 12's libraries are not.
#
#   SRC       the source tree (default: this checkout); its files (tracked
#             and untracked, not ignored: git ls-files) are copied to the
#             same absolute path inside ROOT, so the paths meson records are
#             the same inside and out
#   BUILDDIR  the build directory, a path inside ROOT (default
#             /var/build/virt-spm); on the host it is ROOT/BUILDDIR
#
# Prints the build directory as the host sees it.  A second run copies only
# what changed and lets ninja rebuild what it must.  Needs root; exit 77
# when ROOT lacks the build tools.
set -euo pipefail

usage() { echo "usage: $0 ROOT [SRC [BUILDDIR]]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 3 ] || usage
root=$(realpath -m "$1")
src=$(realpath "${2:-$(dirname "$0")/..}")
build=${3:-/var/build/virt-spm}
case $build in /*) ;; *) echo "$0: BUILDDIR '$build' must be an absolute path inside the root" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "build-in-sid-root: needs root (chroot)" >&2; exit 77; }
[ -x "$root/usr/bin/meson" ] && [ -x "$root/usr/bin/ninja" ] ||
    { echo "build-in-sid-root: no meson/ninja in $root (run scripts/setup-sid-root.sh)" >&2; exit 77; }
[ -f "$src/meson.build" ] || { echo "$0: no meson.build in $src" >&2; exit 1; }

# one build per root at a time
exec 9>"$root.build.lock"
flock 9

# The copy: exactly the files git knows of (no build directories, no .git),
# the ones that vanished from SRC removed from the copy as well.
dest=$root$src
mkdir -p "$dest"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$src" ls-files -z --cached --others --exclude-standard >"$list"
else
    (cd "$src" && find . -path ./.git -prune -o -path './build*' -prune -o -type f -print0) >"$list"
fi
(cd "$src" && tar --null -T "$list" -cf - 2>/dev/null) | tar -C "$dest" -xf -
(cd "$dest" && find . -type f -print0) | while IFS= read -r -d '' f; do
    [ -e "$src/$f" ] || rm -f "$dest/$f"
done

in_root() {
    chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}
# The root's compiler (GCC 16) and libxml2 (2.15) are newer than Debian
# 12's: libxml2 2.12 made the structured error handler take a const
# xmlError (an incompatible pointer, an error by default since GCC 14;
# harmless, the handlers only read it) and 2.15 marks deprecated the parser
# context fields virt-spm sets.  Warnings of Debian 12's toolchain stay
# errors in the project's own build; here they are reported, not fatal.
ROOT_MESON_ARGS=(-Dwerror=false "-Dc_args=-Wno-error=incompatible-pointer-types")
if [ ! -f "$root$build/build.ninja" ]; then
    in_root meson setup "${ROOT_MESON_ARGS[@]}" "$build" "$src" >/dev/null
fi
in_root ninja -C "$build" >"$root$build.log" 2>&1 ||
    { tail -20 "$root$build.log" >&2; echo "$0: the build in $root failed ($root$build.log)" >&2; exit 1; }
echo "$root$build"
