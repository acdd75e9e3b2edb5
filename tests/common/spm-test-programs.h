/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-test-programs.h: where the tests find virt-spm's programs.
 *
 * By default in the build tree ($SPM_BUILD_ROOT).  With $SPM_TEST_PREFIX
 * set (e.g. to /usr, as debian/tests/libvirt does) the installed ones under
 * that prefix: the same tests then check an installed package, not the
 * build tree.
 */
#pragma once

#include <glib.h>

/* @build_subdir/@name in the build tree, or $SPM_TEST_PREFIX/@installed_subdir/@name. */
static inline char *
spm_test_program(const char *build_subdir, const char *installed_subdir, const char *name)
{
    const char *prefix = g_getenv("SPM_TEST_PREFIX");

    if (prefix && *prefix)
        return g_build_filename(prefix, installed_subdir, name, NULL);
    return g_build_filename(g_getenv("SPM_BUILD_ROOT"), build_subdir, name, NULL);
}
