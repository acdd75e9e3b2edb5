/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-layout-fixtures: every fixture in $SPM_FIXTURES_DIR, through the
 * QEMU model.
 *
 * Each NAME.cmd holds the arguments a real QEMU was started with (QEMU
 * 10.2 with the v8 spm-memory patch in tests/fixtures/qemu-spm, Debian's
 * QEMU 11.1.3 with its sp-mem in tests/fixtures/qemu-spmem: the driver on
 * the command line says which); NAME.json holds what it answered (query-memory-devices
 * and the device-memory lines of `info mtree`, or its exact error).  The
 * test parses the arguments the way QEMU would, runs the model, and
 * demands the same addresses, sizes, nodes, slots and region, or an error
 * that ends with QEMU's message.
 */
#include <stdio.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "spm-error.h"
#include "spm-qemu-layout.h"
#include "fx-cmdline.h"

/* What QEMU answered: a message, or devices and the region. */
typedef struct {
    char *error_msg;            /* QEMU's message, prefixes stripped */
    JsonArray *devices;
    guint64 region_base;
    guint64 region_size;
    gboolean has_region;
} FxExpect;

static void
fx_expect_parse(JsonParser *p, FxExpect *e)
{
    JsonObject *root = json_node_get_object(json_parser_get_root(p));

    memset(e, 0, sizeof(*e));
    if (json_object_has_member(root, "error")) {
        const char *full = json_object_get_string_member(root, "error");
        const char *prefix = "qemu-system-x86_64: ";

        g_assert_true(g_str_has_prefix(full, prefix));
        full += strlen(prefix);
        if (g_str_has_prefix(full, "-device ")) {
            const char *sep = strstr(full, ": ");

            g_assert_nonnull(sep);
            full = sep + 2;
        }
        e->error_msg = g_strdup(full);
        return;
    }
    e->devices = json_object_get_array_member(root, "query-memory-devices");
    {
        JsonArray *lines = json_object_get_array_member(root, "device-memory");

        for (guint i = 0; i < json_array_get_length(lines); i++) {
            const char *l = json_array_get_string_element(lines, i);
            guint64 lo, hi;

            if (!g_str_has_suffix(l, "): device-memory"))
                continue;
            g_assert_cmpint(sscanf(l, "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x", &lo, &hi), ==, 2);
            e->region_base = lo;
            e->region_size = hi - lo + 1;
            e->has_region = TRUE;
        }
    }
}

static void
test_fixture(gconstpointer data)
{
    const char *cmd_path = data;
    g_autofree char *json_path = NULL;
    g_autofree char *text = NULL;
    g_autoptr(FxCmdline) c = NULL;
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) err = NULL;
    SpmMachineLayout layout;
    FxExpect e;
    gboolean ok;

    g_autofree char *stem = g_strndup(cmd_path, strlen(cmd_path) - 4);

    json_path = g_strconcat(stem, ".json", NULL);
    g_assert_true(g_file_get_contents(cmd_path, &text, NULL, &err));
    g_assert_no_error(err);
    g_assert_true(json_parser_load_from_file(p, json_path, &err));
    g_assert_no_error(err);
    fx_expect_parse(p, &e);

    c = fx_parse(text);
    ok = fx_run(c, &layout, &err);

    if (e.error_msg) {
        g_assert_false(ok);
        g_assert_nonnull(err);
        g_test_message("model: %s", err->message);
        if (!g_str_has_suffix(err->message, e.error_msg))
            g_error("%s: model said '%s', QEMU said '%s'", cmd_path, err->message, e.error_msg);
        if (c->devs->len && strstr(err->message, "-device "))
            g_assert_true(g_str_has_prefix(err->message, "-device "));
        g_free(e.error_msg);
        return;
    }

    if (!ok)
        g_error("%s: model failed: %s", cmd_path, err->message);
    g_assert_true(e.has_region);
    g_assert_true(layout.has_device_memory);
    g_assert_cmphex(layout.devmem_base, ==, e.region_base);
    g_assert_cmphex(layout.devmem_size, ==, e.region_size);
    g_assert_cmpuint(json_array_get_length(e.devices), ==, c->devs->len);

    for (guint i = 0; i < json_array_get_length(e.devices); i++) {
        JsonObject *o = json_array_get_object_element(e.devices, i);
        const char *type = json_object_get_string_member(o, "type");
        JsonObject *dat = json_object_get_object_member(o, "data");
        const char *id = json_object_get_string_member(dat, "id");
        const SpmQemuMemDev *d = fx_find_dev(c, id);
        guint64 addr;
        SpmDeviceRev rev;

        g_assert_nonnull(d);
        if (spm_device_rev_from_qmp_type(type, &rev)) {
            g_assert_cmpint(d->kind, ==, SPM_QEMU_DEV_SPM);
            g_assert_cmpint(rev, ==, c->cfg.spm_device);
            addr = (guint64)json_object_get_int_member(dat, spm_device_rev_info(rev)->qmp_addr_key);
            /* the other revision's key is not there */
            g_assert_false(json_object_has_member(dat, g_str_equal(spm_device_rev_info(rev)->qmp_addr_key, "addr")
                                                       ? "memaddr" : "addr"));
        } else {
            g_assert_cmpstr(type, ==, "dimm");
            addr = (guint64)json_object_get_int_member(dat, "addr");
            g_assert_cmpint(d->placed_slot, ==, json_object_get_int_member(dat, "slot"));
        }
        g_test_message("%s %s at 0x%" G_GINT64_MODIFIER "x", type, id, addr);
        g_assert_cmphex(d->placed_addr, ==, addr);
        g_assert_cmphex(spm_qemu_dev_region_size(d), ==,
                        (guint64)json_object_get_int_member(dat, "size"));
        g_assert_cmpuint(d->node, ==, json_object_get_int_member(dat, "node"));
    }
}

static int
fx_cmp_names(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
    const char *dir = g_getenv("SPM_FIXTURES_DIR");
    guint min_fixtures = 19;
    g_autoptr(GDir) d = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    const char *name;

    g_test_init(&argc, &argv, NULL);
    /* [DIR MIN]: another fixture directory (tests/fixtures/qemu-spmem) and its count */
    if (argc == 3) {
        dir = argv[1];
        min_fixtures = (guint)g_ascii_strtoull(argv[2], NULL, 10);
    }
    if (!dir)
        g_error("SPM_FIXTURES_DIR is not set");
    /* a fresh clone, or a package build, has no ../shared beside it */
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        printf("1..0 # SKIP no fixtures directory %s\n", dir);   /* TAP's skip */
        return 0;
    }
    d = g_dir_open(dir, 0, &err);
    g_assert_no_error(err);
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".cmd"))
            g_ptr_array_add(names, g_strdup(name));
    }
    /* tests/fixtures/qemu-spm holds 19 configurations, qemu-spmem 20: losing some is a failure */
    if (names->len < min_fixtures)
        g_error("only %u fixtures in %s", names->len, dir);
    g_ptr_array_sort(names, fx_cmp_names);

    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        g_autofree char *base = g_strndup(n, strlen(n) - 4);
        g_autofree char *tpath = g_strdup_printf("/layout/fixture/%s", base);

        g_test_add_data_func_full(tpath, g_build_filename(dir, n, NULL), test_fixture, g_free);
    }
    return g_test_run();
}
