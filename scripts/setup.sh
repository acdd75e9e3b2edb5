#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Quick start, step 1: install what virt-spm needs, build it, and run it on
# the example domain (plan, then the libvirt-ready XML).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[ -d build ] || meson setup build
ninja -C build
echo "== virt-spm plan examples/hbm-guest.xml"
build/cli/virt-spm --config conf/virt-spm.conf plan examples/hbm-guest.xml
echo "== virt-spm convert examples/hbm-guest.xml"
build/cli/virt-spm --config conf/virt-spm.conf convert examples/hbm-guest.xml
