/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-memdev-info.c: the query-memory-devices reader on the real fixture
 * replies (exact values) and on malformed and hostile replies.
 */
#include <string.h>

#include "spm-error.h"
#include "spm-memdev-info.h"

typedef struct {
    const char *type, *id;
    guint64 addr, size;
    guint node;
    const char *memdev;
} Expect;

typedef struct {
    const char *fixture;
    guint n;
    Expect dev[2];
} FixtureCase;

#define GiB (G_GUINT64_CONSTANT(1) << 30)
#define MiB (G_GUINT64_CONSTANT(1) << 20)

static const FixtureCase fixture_cases[] = {
    { "single-natural", 1, { { "spm-memory", "dev0", 4 * GiB, GiB, 1, "/objects/spm0" } } },
    { "single-explicit-addr", 1, { { "spm-memory", "dev0", 8 * GiB, GiB, 1, "/objects/spm0" } } },
    { "big-ram-above-4g", 1, { { "spm-memory", "dev0", 8 * GiB, 8 * GiB, 1, "/objects/spm0" } } },
    { "spm-plus-dimm", 2, { { "spm-memory", "dev0", 4 * GiB, GiB, 1, "/objects/spm0" },
                            { "dimm", "dimm1", 5 * GiB, 512 * MiB, 2, "/objects/mem1" } } },
    { "dimm-first-json-order", 2, { { "spm-memory", "dev0", 4 * GiB, GiB, 1, "/objects/spm0" },
                                    { "dimm", "dimm1", 5 * GiB, 512 * MiB, 2, "/objects/mem1" } } },
    { "two-gap", 2, { { "spm-memory", "dev0", 4 * GiB, GiB, 1, "/objects/spm0" },
                      { "spm-memory", "dev1", 6 * GiB, GiB, 2, "/objects/spm1" } } },
    { "two-tight", 2, { { "spm-memory", "dev0", 4 * GiB, GiB, 1, "/objects/spm0" },
                        { "spm-memory", "dev1", 5 * GiB, 2 * GiB, 2, "/objects/spm1" } } },
};

/* The same cases on QEMU 11.1.3's sp-mem ("addr", where v8 said "memaddr"), and its new acceptances. */
static const FixtureCase spmem_cases[] = {
    { "single-natural", 1, { { "sp-mem", "dev0", 4 * GiB, GiB, 1, "/objects/spm0" } } },
    { "single-explicit-addr", 1, { { "sp-mem", "dev0", 8 * GiB, GiB, 1, "/objects/spm0" } } },
    { "big-ram-above-4g", 1, { { "sp-mem", "dev0", 8 * GiB, 8 * GiB, 1, "/objects/spm0" } } },
    { "spm-plus-dimm", 2, { { "sp-mem", "dev0", 4 * GiB, GiB, 1, "/objects/spm0" },
                            { "dimm", "dimm1", 5 * GiB, 512 * MiB, 2, "/objects/mem1" } } },
    { "dimm-first-json-order", 2, { { "sp-mem", "dev0", 4 * GiB, GiB, 1, "/objects/spm0" },
                                    { "dimm", "dimm1", 5 * GiB, 512 * MiB, 2, "/objects/mem1" } } },
    { "two-gap", 2, { { "sp-mem", "dev0", 4 * GiB, GiB, 1, "/objects/spm0" },
                      { "sp-mem", "dev1", 6 * GiB, GiB, 2, "/objects/spm1" } } },
    { "two-tight", 2, { { "sp-mem", "dev0", 4 * GiB, GiB, 1, "/objects/spm0" },
                        { "sp-mem", "dev1", 5 * GiB, 2 * GiB, 2, "/objects/spm1" } } },
    { "two-on-one-node", 2, { { "sp-mem", "dev0", 4 * GiB, GiB, 1, "/objects/spm0" },
                              { "sp-mem", "dev1", 5 * GiB, GiB, 1, "/objects/spm1" } } },
    { "node-has-ram", 1, { { "sp-mem", "dev0", 4 * GiB, GiB, 0, "/objects/spm0" } } },
    { "dimm-and-spm-one-node", 2, { { "sp-mem", "dev0", 4 * GiB, GiB, 1, "/objects/spm0" },
                                    { "dimm", "dimm1", 5 * GiB, 512 * MiB, 1, "/objects/mem1" } } },
};

static char *
read_fixture_in(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static void
check_fixtures(const char *dir, const FixtureCase *cases, gsize ncases)
{
    for (gsize c = 0; c < ncases; c++) {
        const FixtureCase *fc = &cases[c];
        g_autofree char *file = g_strconcat(fc->fixture, ".json", NULL);
        g_autofree char *text = read_fixture_in(dir, file);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = spm_memdev_info_parse_text(text, strlen(text), &error);

        g_test_message("fixture %s", fc->fixture);
        g_assert_no_error(error);
        g_assert_cmpuint(list->len, ==, fc->n);
        for (guint i = 0; i < fc->n; i++) {
            const SpmMemdevInfo *d = g_ptr_array_index(list, i);

            g_assert_cmpstr(d->type, ==, fc->dev[i].type);
            g_assert_cmpstr(d->id, ==, fc->dev[i].id);
            g_assert_cmpuint(d->addr, ==, fc->dev[i].addr);
            g_assert_cmpuint(d->size, ==, fc->dev[i].size);
            g_assert_true(d->has_node);
            g_assert_cmpuint(d->node, ==, fc->dev[i].node);
            g_assert_cmpstr(d->memdev, ==, fc->dev[i].memdev);
            g_assert_cmpint(d->slot, ==, g_str_equal(d->type, "dimm") ? 0 : -1);
        }
    }
}

static void
test_fixtures(void)
{
    check_fixtures(g_getenv("SPM_FIXTURES_DIR"), fixture_cases, G_N_ELEMENTS(fixture_cases));
}

static void
test_fixtures_spmem(void)
{
    check_fixtures(g_getenv("SPM_FIXTURES_SPMEM_DIR"), spmem_cases, G_N_ELEMENTS(spmem_cases));
}

/* Every err-* fixture is QEMU's error, not a device list. */
static void
check_error_fixtures(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;
    guint n = 0;

    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *text = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = NULL;

        if (!g_str_has_prefix(name, "err-") || !g_str_has_suffix(name, ".json"))
            continue;
        text = read_fixture_in(path, name);
        list = spm_memdev_info_parse_text(text, strlen(text), &error);
        g_assert_null(list);
        g_assert_error(error, SPM_ERROR, SPM_ERROR_QMP);
        n++;
    }
    g_assert_cmpuint(n, >=, 10);
}

static void
test_error_fixtures(void)
{
    check_error_fixtures(g_getenv("SPM_FIXTURES_DIR"));
    check_error_fixtures(g_getenv("SPM_FIXTURES_SPMEM_DIR"));
}

#define GOOD_SP_MEM "{\"type\":\"sp-mem\",\"data\":{\"memdev\":\"/objects/s0\",\"addr\":4294967296,\"size\":1073741824,\"node\":1,\"id\":\"hbm0\"}}"
#define GOOD "{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":4294967296,\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}"

static void
test_good_variants(void)
{
    const char *texts[] = {
        "[" GOOD "]",
        "{\"return\":[" GOOD "],\"id\":\"x\"}",
        "{\"query-memory-devices\":[" GOOD "]}",
        "[" GOOD_SP_MEM "]",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = spm_memdev_info_parse_text(texts[i], strlen(texts[i]), &error);

        g_assert_no_error(error);
        g_assert_cmpuint(list->len, ==, 1);
        g_assert_cmpuint(((SpmMemdevInfo *) list->pdata[0])->addr, ==, 4 * GiB);
    }
    /* an empty region is a valid, empty list */
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = spm_memdev_info_parse_text("{\"return\": []}", 14, &error);

        g_assert_no_error(error);
        g_assert_cmpuint(list->len, ==, 0);
    }
    /* id is optional; virtio-pmem has no node */
    {
        const char *t = "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/s\",\"memaddr\":4294967296,\"size\":2097152,\"node\":0}},"
                        "{\"type\":\"virtio-pmem\",\"data\":{\"memdev\":\"/objects/p\",\"memaddr\":8589934592,\"size\":2097152,\"id\":\"p\"}}]";
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = spm_memdev_info_parse_text(t, strlen(t), &error);

        g_assert_no_error(error);
        g_assert_cmpuint(list->len, ==, 2);
        g_assert_null(((SpmMemdevInfo *) list->pdata[0])->id);
        g_assert_false(((SpmMemdevInfo *) list->pdata[1])->has_node);
    }
}

/* Each of these must be an error: never a list. */
static const char *const bad_replies[] = {
    "",
    "garbage\x01\x02",
    "\xff\xfe[]",
    "[",
    "[" GOOD,
    "{\"return\":",
    "null",
    "42",
    "{\"error\":{\"class\":\"GenericError\",\"desc\":\"boom\"}}",
    "{\"return\":{}}",
    "{\"return\":\"dimm\"}",
    "[42]",
    "[{\"type\":\"spm-memory\"}]",
    "[{\"data\":{}}]",
    "[{\"type\":7,\"data\":{}}]",
    "[{\"type\":\"spm-memory\",\"data\":[]}]",
    /* missing fields */
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":4294967296,\"node\":1,\"id\":\"dev0\"}}]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":4294967296,\"size\":1073741824,\"id\":\"dev0\"}}]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memaddr\":4294967296,\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}]",
    /* sp-mem reports addr, the v8 spm-memory memaddr: each needs its own */
    "[{\"type\":\"sp-mem\",\"data\":{\"memdev\":\"/objects/s0\",\"memaddr\":4294967296,\"size\":1073741824,\"node\":1,\"id\":\"hbm0\"}}]",
    "[{\"type\":\"sp-mem\",\"data\":{\"memdev\":\"/objects/s0\",\"addr\":4294967296,\"size\":1073741824,\"id\":\"hbm0\"}}]",
    "[{\"type\":\"sp-mem\",\"data\":{\"addr\":4294967296,\"size\":1073741824,\"node\":1,\"id\":\"hbm0\"}}]",
    "[{\"type\":\"sp-mem\",\"data\":{\"memdev\":\"/objects/s0\",\"addr\":-1,\"size\":1073741824,\"node\":1,\"id\":\"hbm0\"}}]",
    "[" GOOD_SP_MEM "," GOOD_SP_MEM "]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"addr\":4294967296,\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}]",
    /* dimm without slot */
    "[{\"type\":\"dimm\",\"data\":{\"memdev\":\"/objects/m\",\"addr\":4294967296,\"size\":1073741824,\"node\":1,\"id\":\"d\"}}]",
    /* wrong types */
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":\"4294967296\",\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":true,\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":null,\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":[4294967296],\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":5,\"memaddr\":4294967296,\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":4294967296,\"size\":1073741824,\"node\":1,\"id\":0}}]",
    /* numbers: negative, float, exponent, 2^64, 2^64 + 4 GiB (json-glib would wrap it to 4 GiB) */
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":-1,\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":4294967296.0,\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":4.294967296e9,\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":18446744073709551616,\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":18446744078004518912,\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":9223372036854775807,\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":4294967296,\"size\":1073741824,\"node\":4294967296,\"id\":\"dev0\"}}]",
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":4294967296,\"size\":1073741824,\"node\":-1,\"id\":\"dev0\"}}]",
    /* range wraps */
    "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":144115188075855872,\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}]",
    /* the same id twice */
    "[" GOOD "," GOOD "]",
    /* an unknown kind without an address */
    "[{\"type\":\"hv-balloon\",\"data\":{\"size\":1}}]",
    /* a good device after a bad one: still all-or-nothing */
    "[{\"type\":\"spm-memory\",\"data\":{}}," GOOD "]",
};

static void
test_bad_replies(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(bad_replies); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) list = spm_memdev_info_parse_text(bad_replies[i], strlen(bad_replies[i]), &error);

        g_autofree char *shown = g_strescape(bad_replies[i], NULL);

        g_test_message("bad reply %" G_GSIZE_FORMAT ": %s", i, shown);
        g_assert_null(list);
        g_assert_error(error, SPM_ERROR, SPM_ERROR_QMP);
    }
}

static void
test_nesting_bomb(void)
{
    gsize depth = 1000000;
    GString *s = g_string_sized_new(depth * 2 + 8);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = NULL;

    for (gsize i = 0; i < depth; i++)
        g_string_append_c(s, '[');
    for (gsize i = 0; i < depth; i++)
        g_string_append_c(s, ']');
    list = spm_memdev_info_parse_text(s->str, s->len, &error);
    g_assert_null(list);
    g_assert_error(error, SPM_ERROR, SPM_ERROR_QMP);
    g_assert_nonnull(strstr(error->message, "nested"));
    g_string_free(s, TRUE);

    /* deep nesting hidden inside a string is just a string */
    {
        const char *t = "[{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\",\"memaddr\":4294967296,\"size\":1073741824,\"node\":1,\"id\":\"d\\\"[[\"}}]";
        g_autoptr(GError) e2 = NULL;
        g_autoptr(GPtrArray) l2 = spm_memdev_info_parse_text(t, strlen(t), &e2);

        g_assert_no_error(e2);
        g_assert_cmpstr(((SpmMemdevInfo *) l2->pdata[0])->id, ==, "d\"[[");
    }
}

static void
test_backend_id(void)
{
    SpmMemdevInfo info = { .memdev = (char *) "/objects/spm0" };

    g_assert_cmpstr(spm_memdev_info_backend_id(&info), ==, "spm0");
    info.memdev = (char *) "/machine/spm0";
    g_assert_null(spm_memdev_info_backend_id(&info));
    info.memdev = (char *) "/objects/";
    g_assert_null(spm_memdev_info_backend_id(&info));
    info.memdev = NULL;
    g_assert_null(spm_memdev_info_backend_id(&info));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp/memdev-info/fixtures", test_fixtures);
    g_test_add_func("/qmp/memdev-info/fixtures-spmem", test_fixtures_spmem);
    g_test_add_func("/qmp/memdev-info/error-fixtures", test_error_fixtures);
    g_test_add_func("/qmp/memdev-info/good-variants", test_good_variants);
    g_test_add_func("/qmp/memdev-info/bad-replies", test_bad_replies);
    g_test_add_func("/qmp/memdev-info/nesting-bomb", test_nesting_bomb);
    g_test_add_func("/qmp/memdev-info/backend-id", test_backend_id);
    return g_test_run();
}
