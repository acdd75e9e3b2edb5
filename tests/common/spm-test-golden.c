/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-test-golden.c: compare with, or regenerate, an expected-output file.
 */
#include "spm-test-golden.h"

gboolean
spm_test_golden_regenerating(void)
{
    return g_strcmp0(g_getenv("VIRT_SPM_TEST_REGENERATE"), "1") == 0;
}

void
spm_test_golden_compare(const char *path, const char *actual)
{
    g_autofree char *expected = NULL;
    g_autoptr(GError) error = NULL;

    if (spm_test_golden_regenerating()) {
        if (!g_file_set_contents(path, actual, -1, &error))
            g_error("%s: %s", path, error->message);
        return;
    }
    if (!g_file_get_contents(path, &expected, NULL, &error))
        g_error("%s: %s (run with VIRT_SPM_TEST_REGENERATE=1 to create it)", path, error->message);
    if (!g_str_equal(expected, actual)) {
        g_printerr("--- expected %s\n%s\n+++ actual\n%s\n", path, expected, actual);
        g_test_fail_printf("%s differs from the output", path);
    }
}
