/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-plan-format.c: the plan as JSON (parsed back with json-glib, every
 * key and value checked, key order included) and as a table.
 */
#include <string.h>
#include <json-glib/json-glib.h>
#include "spm-plan-format.h"
#include "argv-test-plan.h"

#define GiB (G_GUINT64_CONSTANT(1) << 30)
#define MiB (G_GUINT64_CONSTANT(1) << 20)

/* q35, 1 GiB RAM, maxmem 16 GiB / 4 slots; two SPM devices, one libvirt DIMM. */
static ArgvTestPlan *
make_plan(void)
{
    ArgvTestPlan *plan = argv_test_plan_new();
    SpmPlannedDevice *dev;

    plan->layout.below_4g = GiB;
    plan->layout.above_4g = 0;
    plan->layout.above_4g_start = 4 * GiB;
    plan->layout.has_device_memory = TRUE;
    plan->layout.devmem_base = 0x100000000;
    plan->layout.devmem_size = 19 * GiB;
    plan->layout.phys_bits = 40;
    plan->layout.max_used_gpa = 0xdbfffffff;
    plan->max_memory = 16 * GiB;
    plan->max_memory_slots = 4;

    argv_test_plan_add_node(plan, 0, SPM_NUMA_SYNTHESIZED, GiB);
    argv_test_plan_add_node(plan, 1, SPM_NUMA_SPM, 0);
    argv_test_plan_add_node(plan, 2, SPM_NUMA_SPM, 0);

    /* added out of address order: the output sorts by addr */
    dev = argv_test_plan_add_device(plan, "dimm0", SPM_MEM_MODEL_DIMM,
                                    0x240000000, 512 * MiB, 0, 2, FALSE);
    dev->slot = 0;
    dev->backend.id = (g_free(dev->backend.id), g_strdup("memdimm0"));

    argv_test_plan_add_device(plan, "ua-hbm0", SPM_MEM_MODEL_SPM,
                              0x100000000, GiB, 1, 0, TRUE);

    dev = argv_test_plan_add_device(plan, "ua-hbm1", SPM_MEM_MODEL_SPM,
                                    0x180000000, 2 * GiB, 2, 1, TRUE);
    dev->align = GiB;
    dev->backend.kind = SPM_BACKEND_FILE;
    dev->backend.mem_path = g_strdup("/dev/hugepages1G/libvirt/qemu/virt-spm-vm");
    dev->backend.page_size = GiB;
    dev->backend.hugetlbfs = TRUE;
    dev->backend.domain_dir = TRUE;
    dev->backend.align = GiB;
    dev->backend.region_align = GiB;

    argv_test_plan_add_warning(plan, "firmware seabios-1.16.2 drops SOFT_RESERVED");
    argv_test_plan_add_warning(plan, "maxMemory raised to 16 GiB");
    return plan;
}

static JsonNode *
parse_json(const char *text)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;

    json_parser_load_from_data(parser, text, -1, &err);
    g_assert_no_error(err);
    return json_node_copy(json_parser_get_root(parser));
}

/* The member names of @obj, in order, joined by ',' */
static char *
member_names(JsonObject *obj)
{
    g_autoptr(GString) out = g_string_new(NULL);
    GList *names = json_object_get_members(obj);

    for (GList *l = names; l; l = l->next)
        g_string_append_printf(out, "%s%s", l == names ? "" : ",", (const char *)l->data);
    g_list_free(names);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
assert_int(JsonObject *obj, const char *key, gint64 want)
{
    JsonNode *node = json_object_get_member(obj, key);

    g_assert_nonnull(node);
    g_assert_cmpint(json_node_get_value_type(node), ==, G_TYPE_INT64);
    g_assert_cmpint(json_node_get_int(node), ==, want);
}

static void
assert_device(JsonObject *dev, const char *id, const char *model,
              gint64 addr, gint64 size, gint64 node, gint64 align, gint64 slot,
              const char *btype, const char *bid, gint64 balign,
              gboolean explicit_addr, gboolean generated)
{
    JsonObject *backend;
    g_autofree char *keys = member_names(dev);

    g_assert_cmpstr(keys, ==, slot >= 0
                    ? "id,model,addr,size,node,align,slot,backend,explicit_addr,generated"
                    : "id,model,addr,size,node,align,backend,explicit_addr,generated");
    g_assert_cmpstr(json_object_get_string_member(dev, "id"), ==, id);
    g_assert_cmpstr(json_object_get_string_member(dev, "model"), ==, model);
    assert_int(dev, "addr", addr);
    assert_int(dev, "size", size);
    assert_int(dev, "node", node);
    assert_int(dev, "align", align);
    if (slot >= 0)
        assert_int(dev, "slot", slot);

    backend = json_object_get_object_member(dev, "backend");
    g_assert_nonnull(backend);
    {
        g_autofree char *bkeys = member_names(backend);

        g_assert_cmpstr(bkeys, ==, g_str_equal(btype, "memory-backend-file")
                                   ? "type,id,size,align,page_size,mem_path"
                                   : "type,id,size,align,page_size");
    }
    g_assert_cmpstr(json_object_get_string_member(backend, "type"), ==, btype);
    g_assert_cmpstr(json_object_get_string_member(backend, "id"), ==, bid);
    assert_int(backend, "size", size);
    assert_int(backend, "align", balign);

    g_assert_cmpint(json_object_get_boolean_member(dev, "explicit_addr"), ==, explicit_addr);
    g_assert_cmpint(json_object_get_boolean_member(dev, "generated"), ==, generated);
}

static void
check_plan_json(const char *text)
{
    g_autoptr(JsonNode) root = parse_json(text);
    JsonObject *top;
    JsonObject *obj;
    JsonArray *arr;
    g_autofree char *keys = NULL;

    g_assert_true(g_str_has_suffix(text, "}\n"));
    g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
    top = json_node_get_object(root);
    keys = member_names(top);
    g_assert_cmpstr(keys, ==, "machine,device_memory,devices,numa_nodes,warnings,"
                    "ram,max_memory,max_memory_slots,phys_bits,max_used_gpa,device");

    g_assert_cmpstr(json_object_get_string_member(top, "machine"), ==, "q35");

    obj = json_object_get_object_member(top, "device_memory");
    g_clear_pointer(&keys, g_free);
    keys = member_names(obj);
    g_assert_cmpstr(keys, ==, "base,size");
    assert_int(obj, "base", 4294967296);
    assert_int(obj, "size", 20401094656);

    arr = json_object_get_array_member(top, "devices");
    g_assert_cmpuint(json_array_get_length(arr), ==, 3);
    assert_device(json_array_get_object_element(arr, 0), "ua-hbm0", "spm",
                  0x100000000, GiB, 1, 2 * MiB, -1,
                  "memory-backend-ram", "mem-ua-hbm0", 0, TRUE, TRUE);
    assert_device(json_array_get_object_element(arr, 1), "ua-hbm1", "spm",
                  0x180000000, 2 * GiB, 2, GiB, -1,
                  "memory-backend-file", "mem-ua-hbm1", GiB, TRUE, TRUE);
    assert_device(json_array_get_object_element(arr, 2), "dimm0", "dimm",
                  0x240000000, 512 * MiB, 0, 2 * MiB, 0,
                  "memory-backend-ram", "memdimm0", 0, FALSE, FALSE);

    arr = json_object_get_array_member(top, "numa_nodes");
    g_assert_cmpuint(json_array_get_length(arr), ==, 3);
    for (guint i = 0; i < 3; i++) {
        JsonObject *n = json_array_get_object_element(arr, i);
        g_autofree char *nkeys = member_names(n);

        g_assert_cmpstr(nkeys, ==, "id,kind");
        assert_int(n, "id", i);
        /* the synthesized cell 0 is a cell to the guest */
        g_assert_cmpstr(json_object_get_string_member(n, "kind"), ==, i == 0 ? "cell" : "spm");
    }

    arr = json_object_get_array_member(top, "warnings");
    g_assert_cmpuint(json_array_get_length(arr), ==, 2);
    g_assert_cmpstr(json_array_get_string_element(arr, 0), ==,
                    "firmware seabios-1.16.2 drops SOFT_RESERVED");
    g_assert_cmpstr(json_array_get_string_element(arr, 1), ==, "maxMemory raised to 16 GiB");

    obj = json_object_get_object_member(top, "ram");
    g_clear_pointer(&keys, g_free);
    keys = member_names(obj);
    g_assert_cmpstr(keys, ==, "below_4g,above_4g,above_4g_start");
    assert_int(obj, "below_4g", GiB);
    assert_int(obj, "above_4g", 0);
    assert_int(obj, "above_4g_start", 4 * GiB);

    assert_int(top, "max_memory", 16 * GiB);
    assert_int(top, "max_memory_slots", 4);
    assert_int(top, "phys_bits", 40);
    assert_int(top, "max_used_gpa", 0xdbfffffff);
    /* the device planned for: the default, then the legacy one, then a stand-in */
    g_assert_cmpstr(json_object_get_string_member(top, "device"), ==, "sp-mem");
}

static void
test_json_device(void)
{
    g_autoptr(ArgvTestPlan) plan = make_plan();
    g_autofree char *text = NULL;
    g_autofree char *table = NULL;

    plan->device = SPM_DEVICE_SPM_MEMORY;
    text = spm_plan_to_json(plan, FALSE);
    g_assert_true(g_str_has_suffix(text, ",\"device\":\"spm-memory\"}\n"));
    table = spm_plan_to_table(plan);
    g_assert_nonnull(strstr(table, "\nSPM device: spm-memory (the v8 patch series, legacy)\n"));
    g_clear_pointer(&text, g_free);
    g_clear_pointer(&table, g_free);
    plan->stand_in_driver = g_strdup("pc-dimm");
    text = spm_plan_to_json(plan, FALSE);
    g_assert_true(g_str_has_suffix(text, ",\"device\":\"pc-dimm\"}\n"));
    table = spm_plan_to_table(plan);
    g_assert_nonnull(strstr(table, "\nSPM device: pc-dimm (a stand-in, for tests)\n"));
}

static void
test_json(void)
{
    g_autoptr(ArgvTestPlan) plan = make_plan();
    g_autofree char *compact = spm_plan_to_json(plan, FALSE);
    g_autofree char *pretty = spm_plan_to_json(plan, TRUE);

    g_test_message("%s", pretty);
    /* compact: one line */
    g_assert_nonnull(compact);
    g_assert_true(strchr(compact, '\n') == compact + strlen(compact) - 1);
    g_assert_true(g_str_has_prefix(compact,
        "{\"machine\":\"q35\",\"device_memory\":{\"base\":4294967296,\"size\":20401094656},"
        "\"devices\":[{\"id\":\"ua-hbm0\",\"model\":\"spm\",\"addr\":4294967296,"
        "\"size\":1073741824,\"node\":1,\"align\":2097152,\"backend\":"));
    check_plan_json(compact);

    g_assert_nonnull(pretty);
    g_assert_true(g_str_has_prefix(pretty, "{\n  \"machine\" : \"q35\",\n"));
    check_plan_json(pretty);
}

static void
test_json_escaping(void)
{
    static const char *const ids[] = {
        "a\"b", "back\\slash", "\"}],\"x\":{\"", "tab\there", "nl\nline", "ünï",
    };
    g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
    g_autofree char *text = NULL;
    g_autoptr(JsonNode) root = NULL;
    JsonObject *top;
    JsonArray *devs;
    JsonArray *warnings;

    for (guint i = 0; i < G_N_ELEMENTS(ids); i++)
        argv_test_plan_add_device(plan, ids[i], SPM_MEM_MODEL_SPM,
                                  0x100000000 + i * GiB, GiB, 1 + i, i, TRUE);
    argv_test_plan_add_warning(plan, "device \"a\\\"b\" says \"hi\"");

    text = spm_plan_to_json(plan, FALSE);
    g_test_message("%s", text);
    root = parse_json(text);
    top = json_node_get_object(root);
    /* nothing injected: still exactly the fixed keys */
    g_assert_cmpuint(json_object_get_size(top), ==, 11);
    devs = json_object_get_array_member(top, "devices");
    g_assert_cmpuint(json_array_get_length(devs), ==, G_N_ELEMENTS(ids));
    for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
        JsonObject *dev = json_array_get_object_element(devs, i);
        g_autofree char *bid = g_strdup_printf("mem-%s", ids[i]);

        g_assert_cmpuint(json_object_get_size(dev), ==, 9);
        g_assert_cmpstr(json_object_get_string_member(dev, "id"), ==, ids[i]);
        g_assert_cmpstr(json_object_get_string_member(
                            json_object_get_object_member(dev, "backend"), "id"), ==, bid);
    }
    warnings = json_object_get_array_member(top, "warnings");
    g_assert_cmpstr(json_array_get_string_element(warnings, 0), ==,
                    "device \"a\\\"b\" says \"hi\"");
}

/* Above G_MAXINT64: an exact decimal string, never a negative number. */
static void
test_json_huge(void)
{
    g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
    g_autofree char *text = NULL;
    g_autoptr(JsonNode) root = NULL;
    JsonObject *top;
    JsonObject *dev;

    plan->layout.max_used_gpa = G_MAXUINT64;
    plan->max_memory = (guint64)G_MAXINT64;
    argv_test_plan_add_device(plan, "big", SPM_MEM_MODEL_SPM,
                              G_GUINT64_CONSTANT(0x8000000000000000), GiB, 1, 0, TRUE);
    text = spm_plan_to_json(plan, FALSE);
    root = parse_json(text);
    top = json_node_get_object(root);
    g_assert_cmpstr(json_object_get_string_member(top, "max_used_gpa"), ==, "18446744073709551615");
    assert_int(top, "max_memory", G_MAXINT64);
    dev = json_array_get_object_element(json_object_get_array_member(top, "devices"), 0);
    g_assert_cmpstr(json_object_get_string_member(dev, "addr"), ==, "9223372036854775808");
    assert_int(dev, "size", GiB);
}

static void
test_json_empty(void)
{
    g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
    g_autofree char *text = spm_plan_to_json(plan, FALSE);

    g_assert_cmpstr(text, ==,
                    "{\"machine\":\"q35\",\"device_memory\":{\"base\":0,\"size\":0},"
                    "\"devices\":[],\"numa_nodes\":[],\"warnings\":[],"
                    "\"ram\":{\"below_4g\":0,\"above_4g\":0,\"above_4g_start\":0},"
                    "\"max_memory\":0,\"max_memory_slots\":0,\"phys_bits\":0,"
                    "\"max_used_gpa\":0,\"device\":\"sp-mem\"}\n");

    /* i440fx without a machine name; a region that is not there reads 0 */
    plan->machine_name = NULL;
    plan->machine.kind = SPM_MACHINE_I440FX;
    plan->layout.devmem_base = 0x100000000;
    plan->layout.devmem_size = GiB;
    g_clear_pointer(&text, g_free);
    text = spm_plan_to_json(plan, FALSE);
    g_assert_true(g_str_has_prefix(text, "{\"machine\":\"pc\",\"device_memory\":{\"base\":0,\"size\":0},"));
}

static void
test_table(void)
{
    g_autoptr(ArgvTestPlan) plan = make_plan();
    g_autofree char *table = spm_plan_to_table(plan);
    static const char *const want =
        "Machine: q35   RAM: 1 GiB below 4G, 0 above   phys-bits: 40\n"
        "SPM device: sp-mem (QEMU 11.1 and later)\n"
        "Device memory: 0x100000000-0x5bfffffff (19 GiB)   maxMemory: 16 GiB, 4 slots\n"
        "\n"
        "ID       MODEL  NODE  ADDRESS             SIZE     END                 ALIGN  BACKEND  PAGE   PATH\n"
        "ua-hbm0  spm    1     0x0000000100000000  1 GiB    0x000000013fffffff  2 MiB  ram      -      -\n"
        "ua-hbm1  spm    2     0x0000000180000000  2 GiB    0x00000001ffffffff  1 GiB  file     1 GiB  /dev/hugepages1G/libvirt/qemu/virt-spm-vm\n"
        "dimm0    dimm   0     0x0000000240000000  512 MiB  0x000000025fffffff  2 MiB  ram      -      -\n"
        "\n"
        "NUMA: 0 cell, 1 spm, 2 spm\n"
        "warning: firmware seabios-1.16.2 drops SOFT_RESERVED\n"
        "warning: maxMemory raised to 16 GiB\n";

    g_test_message("\n%s", table);
    g_assert_cmpstr(table, ==, want);
}

/* Column widths follow the content; AMD relocation shows where RAM went. */
static void
test_table_wide(void)
{
    g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
    g_autofree char *table = NULL;
    g_auto(GStrv) lines = NULL;

    plan->layout.below_4g = 2 * GiB;
    plan->layout.above_4g = 6 * GiB;
    plan->layout.above_4g_start = G_GUINT64_CONSTANT(0x10000000000);
    plan->layout.has_device_memory = TRUE;
    plan->layout.devmem_base = G_GUINT64_CONSTANT(0x10180000000);
    plan->layout.devmem_size = 1100 * GiB;
    plan->layout.phys_bits = 48;
    plan->max_memory = 1100 * GiB;
    plan->max_memory_slots = 1;
    argv_test_plan_add_node(plan, 0, SPM_NUMA_CELL, 8 * GiB);
    argv_test_plan_add_node(plan, 1, SPM_NUMA_SPM, 0);
    argv_test_plan_add_device(plan, "ua-a-very-long-device-name", SPM_MEM_MODEL_SPM,
                              G_GUINT64_CONSTANT(0x10180000000), 1024 * GiB, 1, 0, TRUE);

    table = spm_plan_to_table(plan);
    g_test_message("\n%s", table);
    lines = g_strsplit(table, "\n", -1);
    g_assert_cmpstr(lines[0], ==,
                    "Machine: q35   RAM: 2 GiB below 4G, 6 GiB above at 0x10000000000   phys-bits: 48");
    g_assert_cmpstr(lines[1], ==, "SPM device: sp-mem (QEMU 11.1 and later)");
    g_assert_cmpstr(lines[2], ==,
                    "Device memory: 0x10180000000-0x2147fffffff (1100 GiB)   maxMemory: 1100 GiB, 1 slot");
    g_assert_cmpstr(lines[4], ==,
                    "ID                          MODEL  NODE  ADDRESS             SIZE   END                 ALIGN  BACKEND  PAGE  PATH");
    g_assert_cmpstr(lines[5], ==,
                    "ua-a-very-long-device-name  spm    1     0x0000010180000000  1 TiB  0x000002017fffffff  2 MiB  ram      -     -");
    g_assert_cmpstr(lines[7], ==, "NUMA: 0 cell, 1 spm");
    g_assert_cmpstr(lines[8], ==, "");
    g_assert_null(lines[9]);
}

/* "ünïcöde": 7 characters, 10 bytes */
#define UNICODE_ID "\xc3\xbc" "n" "\xc3\xaf" "c" "\xc3\xb6" "de"

/* Non-ASCII ids align by character; invalid UTF-8 is repaired, not copied. */
static void
test_utf8(void)
{
    g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
    g_autofree char *table = NULL;
    g_autofree char *text = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) lines = NULL;
    JsonArray *devs;

    argv_test_plan_add_device(plan, UNICODE_ID, SPM_MEM_MODEL_SPM,
                              0x100000000, GiB, 1, 0, TRUE);
    argv_test_plan_add_device(plan, "bad\xff", SPM_MEM_MODEL_SPM,
                              0x180000000, GiB, 2, 1, TRUE);
    argv_test_plan_add_warning(plan, "cut \xf0");

    table = spm_plan_to_table(plan);
    g_assert_true(g_utf8_validate(table, -1, NULL));
    lines = g_strsplit(table, "\n", -1);
    g_assert_cmpstr(lines[4], ==, "ID       MODEL  NODE  ADDRESS             SIZE   END                 ALIGN  BACKEND  PAGE  PATH");
    g_assert_cmpstr(lines[5], ==, UNICODE_ID "  spm    1     0x0000000100000000  1 GiB  0x000000013fffffff  2 MiB  ram      -     -");
    g_assert_cmpstr(lines[6], ==, "bad\xef\xbf\xbd     spm    2     0x0000000180000000  1 GiB  0x00000001bfffffff  2 MiB  ram      -     -");
    g_assert_cmpstr(lines[9], ==, "warning: cut \xef\xbf\xbd");

    text = spm_plan_to_json(plan, FALSE);
    g_assert_true(g_utf8_validate(text, -1, NULL));
    json_parser_load_from_data(parser, text, -1, &err);
    g_assert_no_error(err);
    devs = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)), "devices");
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(devs, 0), "id"),
                    ==, UNICODE_ID);
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(devs, 1), "id"),
                    ==, "bad\xef\xbf\xbd");
}

static void
test_table_empty(void)
{
    g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
    g_autofree char *table = spm_plan_to_table(plan);

    g_assert_cmpstr(table, ==,
                    "Machine: q35   RAM: 0 below 4G, 0 above   phys-bits: 0\n"
                    "SPM device: sp-mem (QEMU 11.1 and later)\n"
                    "Device memory: none   maxMemory: 0, 0 slots\n"
                    "\n"
                    "Memory devices: none\n"
                    "\n"
                    "NUMA: none\n");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/plan-format/json", test_json);
    g_test_add_func("/plan-format/json-device", test_json_device);
    g_test_add_func("/plan-format/json-escaping", test_json_escaping);
    g_test_add_func("/plan-format/json-huge", test_json_huge);
    g_test_add_func("/plan-format/json-empty", test_json_empty);
    g_test_add_func("/plan-format/table", test_table);
    g_test_add_func("/plan-format/table-wide", test_table_wide);
    g_test_add_func("/plan-format/table-empty", test_table_empty);
    g_test_add_func("/plan-format/utf8", test_utf8);
    return g_test_run();
}
