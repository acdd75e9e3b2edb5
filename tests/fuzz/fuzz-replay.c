/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-replay.c: run files through a fuzz target without libFuzzer.
 *
 * Usage: fuzz-replay-TARGET FILE|DIR...  Every regular file (directories
 * one level deep) is one input; a target that aborts fails the test.  This
 * is how the seed corpora and every input a fuzzer once crashed on stay
 * in the normal suite (plain and ASan/UBSan builds).
 */
#include <stdio.h>
#include <glib.h>

#include "fuzz-common.h"

static guint
spm_replay_file(const char *path)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) error = NULL;

    if (!g_file_get_contents(path, &data, &len, &error)) {
        g_printerr("%s\n", error->message);
        exit(1);
    }
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    return 1;
}

int
main(int argc, char **argv)
{
    guint n = 0;

    for (int i = 1; i < argc; i++) {
        g_autoptr(GDir) dir = NULL;
        g_autoptr(GPtrArray) names = NULL;

        if (!g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
            if (g_file_test(argv[i], G_FILE_TEST_EXISTS))
                n += spm_replay_file(argv[i]);
            continue;   /* an optional seed directory that is not there */
        }
        dir = g_dir_open(argv[i], 0, NULL);
        names = g_ptr_array_new_with_free_func(g_free);
        for (const char *f; dir && (f = g_dir_read_name(dir));)
            g_ptr_array_add(names, g_build_filename(argv[i], f, NULL));
        for (guint j = 0; j < names->len; j++) {
            if (g_file_test(names->pdata[j], G_FILE_TEST_IS_REGULAR))
                n += spm_replay_file(names->pdata[j]);
        }
    }
    printf("%u inputs replayed\n", n);
    return n > 0 ? 0 : 1;
}
