/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-argv-qemu.c: the arguments of a hand-built plan, run by real QEMU.
 *
 * QEMU 7.2 has no spm-memory, so the plan is built with the "pc-dimm"
 * stand-in (same placement code, docs/testing.md).  QEMU is started
 * paused (-S) with a QMP socket; the test then asks QEMU where it put each
 * device (query-memory-devices) and reads back the backend properties
 * (qom-get), among them a mem-path with commas that must arrive intact.
 *
 * QEMU and QMP go through the shared test harness (tests/common).
 */
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "spm-argv.h"
#include "spm-test-qemu.h"
#include "argv-test-plan.h"

#define GiB (G_GUINT64_CONSTANT(1) << 30)
#define MiB (G_GUINT64_CONSTANT(1) << 20)

typedef struct {
    char *tmpdir;
    char *comma_dir;
    char *file_path;
    SpmTestQemu *qemu;
} Fixture;

static JsonNode *
qom_get(Fixture *fx, const char *path, const char *property)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) args = NULL;
    g_autoptr(GError) err = NULL;
    JsonNode *ret;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, path);
    json_builder_set_member_name(b, "property");
    json_builder_add_string_value(b, property);
    json_builder_end_object(b);
    args = json_builder_get_root(b);
    ret = spm_test_qemu_execute(fx->qemu, "qom-get", args, &err);
    g_assert_no_error(err);
    return ret;
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;

    fx->tmpdir = g_dir_make_tmp("spm-argv-XXXXXX", &err);
    g_assert_no_error(err);
    /* the backing file's directory and name both carry commas */
    fx->comma_dir = g_build_filename(fx->tmpdir, "back,ing", NULL);
    fx->file_path = g_build_filename(fx->comma_dir, "mem,share=off,file", NULL);
    g_assert_cmpint(g_mkdir(fx->comma_dir, 0700), ==, 0);
    g_file_set_contents(fx->file_path, "", 0, &err);
    g_assert_no_error(err);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
    g_clear_pointer(&fx->qemu, spm_test_qemu_free);
    g_unlink(fx->file_path);
    g_rmdir(fx->comma_dir);
    g_rmdir(fx->tmpdir);
    g_free(fx->file_path);
    g_free(fx->comma_dir);
    g_free(fx->tmpdir);
}

typedef struct {
    const char *id;
    guint64 addr;
    guint64 size;
    guint node;
} Expect;

static const Expect expected[] = {
    { "ua-spm0", 0x100000000, GiB, 1 },
    { "ua-spm1", 0x180000000, GiB, 2 },
    { "ua-memfd", 0x200000000, 64 * MiB, 3 },
    { "ua-file", 0x240000000, 128 * MiB, 4 },
};

static void
test_real_qemu(Fixture *fx, gconstpointer data)
{
    g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) spm_argv = NULL;
    g_autoptr(GStrvBuilder) cmd = g_strv_builder_new();
    g_auto(GStrv) full = NULL;
    g_autoptr(JsonNode) ret = NULL;
    gboolean bind_host_node = g_file_test("/sys/devices/system/node/node0", G_FILE_TEST_IS_DIR);
    SpmPlannedDevice *dev;
    JsonArray *devs;

    if (!spm_test_qemu_available()) {
        g_test_skip(SPM_TEST_QEMU_BINARY " not installed");
        return;
    }

    argv_test_plan_add_node(plan, 0, SPM_NUMA_CELL, GiB);
    for (guint n = 1; n <= 4; n++)
        argv_test_plan_add_node(plan, n, SPM_NUMA_SPM, 0);

    dev = argv_test_plan_add_device(plan, expected[0].id, SPM_MEM_MODEL_SPM,
                                    expected[0].addr, expected[0].size, 1, 0, TRUE);
    if (bind_host_node)
        dev->backend.host_nodes = g_strdup("0");
    argv_test_plan_add_device(plan, expected[1].id, SPM_MEM_MODEL_SPM,
                              expected[1].addr, expected[1].size, 2, 1, TRUE);
    dev = argv_test_plan_add_device(plan, expected[2].id, SPM_MEM_MODEL_SPM,
                                    expected[2].addr, expected[2].size, 3, 2, TRUE);
    dev->backend.kind = SPM_BACKEND_MEMFD;
    dev->backend.has_share = TRUE;
    dev->backend.share = TRUE;
    dev->backend.prealloc = TRUE;
    dev = argv_test_plan_add_device(plan, expected[3].id, SPM_MEM_MODEL_SPM,
                                    expected[3].addr, expected[3].size, 4, 3, TRUE);
    dev->backend.kind = SPM_BACKEND_FILE;
    dev->backend.mem_path = g_strdup(fx->file_path);
    dev->backend.has_share = TRUE;
    dev->backend.share = TRUE;
    dev->backend.has_discard_data = TRUE;
    dev->backend.discard_data = TRUE;
    dev->backend.align = 2 * MiB;
    /* a libvirt device in the plan: not virt-spm's to write */
    argv_test_plan_add_device(plan, "dimm0", SPM_MEM_MODEL_DIMM,
                              0x300000000, GiB, 0, 4, FALSE);

    spm_argv = spm_argv_build(plan, "pc-dimm", &err);
    g_assert_no_error(err);
    g_assert_cmpuint(g_strv_length(spm_argv), ==, 4 * 2 + 4 * 4);

    {
        const char *base[] = {
            "-machine", "q35", "-accel", "tcg",
            "-m", "1G,slots=4,maxmem=16G",
            "-object", "memory-backend-ram,id=ram0,size=1G",
            "-numa", "node,nodeid=0,memdev=ram0",
            "-display", "none", "-nodefaults", "-S",
            NULL
        };

        g_strv_builder_addv(cmd, base);
    }
    g_strv_builder_addv(cmd, (const char **)spm_argv);
    full = g_strv_builder_end(cmd);
    fx->qemu = spm_test_qemu_start((const char *const *)full, &err);
    g_assert_no_error(err);
    g_test_message("%s", spm_test_qemu_command_line(fx->qemu));

    /* where QEMU put every device */
    ret = spm_test_qemu_execute(fx->qemu, "query-memory-devices", NULL, &err);
    g_assert_no_error(err);
    g_assert_true(JSON_NODE_HOLDS_ARRAY(ret));
    devs = json_node_get_array(ret);
    g_assert_cmpuint(json_array_get_length(devs), ==, G_N_ELEMENTS(expected));
    for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
        JsonObject *entry = json_array_get_object_element(devs, i);
        JsonObject *d = json_object_get_object_member(entry, "data");
        g_autofree char *memdev = g_strdup_printf("/objects/mem-%s", expected[i].id);

        /* QEMU lists the memory devices in address order, here also realize order */
        g_assert_cmpstr(json_object_get_string_member(entry, "type"), ==, "dimm");
        g_assert_cmpstr(json_object_get_string_member(d, "id"), ==, expected[i].id);
        g_assert_cmpuint(json_object_get_int_member(d, "addr"), ==, expected[i].addr);
        g_assert_cmpuint(json_object_get_int_member(d, "size"), ==, expected[i].size);
        g_assert_cmpuint(json_object_get_int_member(d, "node"), ==, expected[i].node);
        g_assert_cmpstr(json_object_get_string_member(d, "memdev"), ==, memdev);
    }
    g_clear_pointer(&ret, json_node_unref);

    /* the path with commas arrived intact, and no property leaked out of it */
    ret = qom_get(fx, "/objects/mem-ua-file", "mem-path");
    g_assert_cmpstr(json_node_get_string(ret), ==, fx->file_path);
    g_clear_pointer(&ret, json_node_unref);
    ret = qom_get(fx, "/objects/mem-ua-file", "share");
    g_assert_true(json_node_get_boolean(ret));
    g_clear_pointer(&ret, json_node_unref);
    ret = qom_get(fx, "/objects/mem-ua-file", "discard-data");
    g_assert_true(json_node_get_boolean(ret));
    g_clear_pointer(&ret, json_node_unref);
    ret = qom_get(fx, "/objects/mem-ua-file", "align");
    g_assert_cmpuint(json_node_get_int(ret), ==, 2 * MiB);
    g_clear_pointer(&ret, json_node_unref);
    ret = qom_get(fx, "/objects/mem-ua-file", "size");
    g_assert_cmpuint(json_node_get_int(ret), ==, 128 * MiB);
    g_clear_pointer(&ret, json_node_unref);

    ret = qom_get(fx, "/objects/mem-ua-memfd", "share");
    g_assert_true(json_node_get_boolean(ret));
    g_clear_pointer(&ret, json_node_unref);
    ret = qom_get(fx, "/objects/mem-ua-memfd", "prealloc");
    g_assert_true(json_node_get_boolean(ret));
    g_clear_pointer(&ret, json_node_unref);

    ret = qom_get(fx, "/objects/mem-ua-spm1", "policy");
    g_assert_cmpstr(json_node_get_string(ret), ==, "default");
    g_clear_pointer(&ret, json_node_unref);
    if (bind_host_node) {
        JsonArray *nodes;

        ret = qom_get(fx, "/objects/mem-ua-spm0", "policy");
        g_assert_cmpstr(json_node_get_string(ret), ==, "bind");
        g_clear_pointer(&ret, json_node_unref);
        ret = qom_get(fx, "/objects/mem-ua-spm0", "host-nodes");
        nodes = json_node_get_array(ret);
        g_assert_cmpuint(json_array_get_length(nodes), ==, 1);
        g_assert_cmpint(json_array_get_int_element(nodes, 0), ==, 0);
        g_clear_pointer(&ret, json_node_unref);
    } else {
        g_test_message("no host NUMA node 0: host-nodes not exercised");
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/argv/real-qemu", Fixture, NULL,
               fixture_setup, test_real_qemu, fixture_teardown);
    return g_test_run();
}
