/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-guest-facts.c: the readers of what a guest reports refuse anything
 * that is not exactly of the documented form.
 */
#include <string.h>

#include "spm-guest-facts.h"

#define S(x) x, strlen(x)

static void
test_blocks(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) b = spm_guest_blocks_parse(
        S("{\"return\":[{\"phys-index\":33,\"online\":true,\"can-offline\":true},"
          "{\"phys-index\":2,\"online\":false}]}"), &err);

    g_assert_no_error(err);
    g_assert_cmpuint(b->len, ==, 2);
    g_assert_cmpuint(g_array_index(b, SpmGuestBlock, 0).index, ==, 2);
    g_assert_false(g_array_index(b, SpmGuestBlock, 0).online);
    g_assert_true(g_array_index(b, SpmGuestBlock, 1).online);
}

static void
test_blocks_bad(void)
{
    static const char *const bad[] = {
        "{\"return\":[{\"phys-index\":1,\"online\":true},{\"phys-index\":1,\"online\":true}]}",
        "{\"return\":[{\"phys-index\":-1,\"online\":true}]}",
        "{\"return\":[{\"phys-index\":\"1\",\"online\":true}]}",
        "{\"return\":[{\"phys-index\":1,\"online\":1}]}",
        "{\"return\":{}}",
        "{\"error\":{\"class\":\"GenericError\",\"desc\":\"no\"}}",
        "{\"return\":[",
        "[]",
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(GArray) b = spm_guest_blocks_parse(S(bad[i]), &err);

        g_assert_null(b);
        g_assert_nonnull(err);
    }
}

static void
test_block_size(void)
{
    guint64 size = 0;
    g_autoptr(GError) err = NULL;

    g_assert_true(spm_guest_block_size_parse(S("{\"return\":{\"size\":134217728}}"), &size, &err));
    g_assert_cmpuint(size, ==, 134217728);
    g_assert_false(spm_guest_block_size_parse(S("{\"return\":{\"size\":134217729}}"), &size, &err));
}

static void
test_file_read(void)
{
    gboolean eof = FALSE;
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) b = spm_guest_file_read_parse(
        S("{\"return\":{\"count\":3,\"buf-b64\":\"YWJj\",\"eof\":true}}"), 16, &eof, &err);

    g_assert_no_error(err);
    g_assert_cmpuint(g_bytes_get_size(b), ==, 3);
    g_assert_true(eof);
    /* count that lies, more than asked for */
    g_assert_null(spm_guest_file_read_parse(
        S("{\"return\":{\"count\":4,\"buf-b64\":\"YWJj\",\"eof\":true}}"), 16, &eof, NULL));
    g_assert_null(spm_guest_file_read_parse(
        S("{\"return\":{\"count\":3,\"buf-b64\":\"YWJj\",\"eof\":true}}"), 2, &eof, NULL));
}

static void
test_iomem(void)
{
    static const char text[] =
        "00000000-00000fff : Reserved\n"
        "100000000-13fffffff : Soft Reserved\n"
        "  100000000-13fffffff : hmem.0\n"
        "    100000000-13fffffff : dax0.0\n"
        "      100000000-13fffffff : System RAM (kmem)\n";
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) e = spm_iomem_parse(S(text), &err);

    g_assert_no_error(err);
    g_assert_cmpuint(e->len, ==, 5);
    g_assert_cmpuint(((SpmIomemEntry *) e->pdata[4])->depth, ==, 3);
    g_assert_cmpstr(((SpmIomemEntry *) e->pdata[4])->name, ==, "System RAM (kmem)");
    g_assert_false(spm_iomem_addresses_hidden(e));
    g_assert_true(spm_guest_is_dax_name("dax0.0"));
    g_assert_false(spm_guest_is_dax_name("dax0"));
}

static void
test_iomem_bad(void)
{
    static const char *const bad[] = {
        "100-fff : x",                          /* no newline: cut short */
        "fff-100 : x\n",                        /* end before start */
        "100-fff : x\n    100-200 : y\n",       /* two levels deeper */
        "100-fff : x\n  100-1000 : y\n",        /* child outside parent */
        " 100-fff : x\n",                       /* odd indentation */
        "100-fff:x\n",
        "100-fff : \x01\n",
        "10000000000000000-10000000000000001 : x\n",
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(GPtrArray) e = spm_iomem_parse(S(bad[i]), &err);

        g_assert_null(e);
        g_assert_nonnull(err);
    }
}

static void
test_sysfs_int(void)
{
    gint64 v = 0;

    g_assert_true(spm_guest_sysfs_int_parse(S("1\n"), -1, 4095, &v, NULL));
    g_assert_cmpint(v, ==, 1);
    g_assert_true(spm_guest_sysfs_int_parse(S("-1\n"), -1, 4095, &v, NULL));
    g_assert_false(spm_guest_sysfs_int_parse(S("4096\n"), -1, 4095, &v, NULL));
    g_assert_false(spm_guest_sysfs_int_parse(S("1x\n"), -1, 4095, &v, NULL));
    g_assert_false(spm_guest_sysfs_int_parse(S(""), -1, 4095, &v, NULL));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/guest-facts/blocks", test_blocks);
    g_test_add_func("/guest-facts/blocks-bad", test_blocks_bad);
    g_test_add_func("/guest-facts/block-size", test_block_size);
    g_test_add_func("/guest-facts/file-read", test_file_read);
    g_test_add_func("/guest-facts/iomem", test_iomem);
    g_test_add_func("/guest-facts/iomem-bad", test_iomem_bad);
    g_test_add_func("/guest-facts/sysfs-int", test_sysfs_int);
    return g_test_run();
}
