/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-test-sid-root.h: the tests' libvirtd in the Debian sid root of
 * scripts/setup-sid-root.sh (libvirt 12.8, QEMU 11.1; docs/testing.md).
 *
 * That libvirtd runs chrooted in the root: every path it and its hooks
 * read is the root's, and the hook it runs must be built inside the root
 * (scripts/build-in-sid-root.sh), against the root's libraries.  The
 * programs a test runs by hand (virt-spm, virsh) are the host's, talking
 * to the root's socket.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The variable naming the root; a test that needs it skips without it. */
#define SPM_TEST_SID_ROOT_ENV "SPM_SID_ROOT"

/*
 * $SPM_SID_ROOT made canonical, or NULL with *skip set to the one line
 * saying why the root's tests cannot run (unset, or no libvirtd in it).
 */
char *spm_test_sid_root(char **skip);

/* @path, a host path under @root ("" for the host), as the root sees it. */
char *spm_test_sid_in_root(const char *root, const char *path);

/*
 * The build of virt-spm inside the root from the source tree @src, as the
 * root sees it: one per source tree, so that two checkouts never share one
 * and the plain and sanitizer builds of one checkout do.
 */
char *spm_test_sid_hook_build(const char *src);

/*
 * Bring up the root's libvirtd (scripts/sid-libvirtd.sh ROOT up, which is
 * idempotent), build virt-spm inside the root from @src (into
 * spm_test_sid_hook_build()), and point the harness at that daemon: its
 * URI, hook directory, pid file and the command that starts it
 * (SPM_TEST_LIBVIRT_URI, SPM_TEST_HOOK_DIR, SPM_TEST_LIBVIRTD_PIDFILE,
 * SPM_TEST_LIBVIRTD_START).  Progress lines go to stdout with a "# ".
 * Returns NULL when ready; else a skip reason (*failed FALSE: no libvirtd
 * or no build tools in the root) or an error (*failed TRUE).
 */
char *spm_test_sid_root_setup(const char *src, const char *root, gboolean *failed);

G_END_DECLS
