/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-test-golden.h: expected-output files, as libvirt's tests keep them.
 *
 * VIRT_SPM_TEST_REGENERATE=1 writes the files instead of comparing with
 * them (docs/testing.md, "Golden files").
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when the run writes the expected files (VIRT_SPM_TEST_REGENERATE=1). */
gboolean spm_test_golden_regenerating(void);

/*
 * Compare @actual with the file @path, or write it when regenerating.  A
 * difference fails the current GTest case and prints both; a missing file
 * is fatal.
 */
void spm_test_golden_compare(const char *path, const char *actual);

G_END_DECLS
