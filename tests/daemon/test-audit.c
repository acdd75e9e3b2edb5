/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-audit.c: the audit comparison on hand-built plans against the real
 * query-memory-devices replies of the fixtures.
 */
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "spm-audit.h"
#include "spm-audit-nova.h"
#include "spm-error.h"

#define GiB (G_GUINT64_CONSTANT(1) << 30)
#define MiB (G_GUINT64_CONSTANT(1) << 20)

static GPtrArray *
fixture_devices(const char *name)
{
    g_autofree char *file = g_strconcat(name, ".json", NULL);
    g_autofree char *path = g_build_filename(g_getenv("SPM_FIXTURES_DIR"), file, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    GPtrArray *list;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    list = spm_memdev_info_parse_text(text, strlen(text), &error);
    g_assert_no_error(error);
    return list;
}

static SpmAuditPlan *
two_gap_plan(void)
{
    SpmAuditPlan *plan = spm_audit_plan_new(NULL);

    spm_audit_plan_add(plan, "dev0", "spm", 4 * GiB, GiB, 1, "spm0");
    spm_audit_plan_add(plan, "dev1", "spm", 6 * GiB, GiB, 2, "spm1");
    return plan;
}

static void
assert_finding(const SpmVerdict *v, guint i, const char *device, const char *field,
               const char *expected, const char *actual)
{
    const SpmFinding *f;

    g_assert_cmpuint(i, <, v->findings->len);
    f = g_ptr_array_index(v->findings, i);
    g_assert_cmpstr(f->device, ==, device);
    g_assert_cmpstr(f->field, ==, field);
    if (expected)
        g_assert_cmpstr(f->expected, ==, expected);
    if (actual)
        g_assert_cmpstr(f->actual, ==, actual);
}

static void
test_match(void)
{
    g_autoptr(GPtrArray) actual = fixture_devices("two-gap");
    g_autoptr(SpmAuditPlan) plan = two_gap_plan();
    g_autoptr(SpmVerdict) v = spm_audit_compare(plan, actual, "g", "u");

    g_assert_cmpint(v->kind, ==, SPM_VERDICT_MATCH);
    g_assert_cmpuint(v->findings->len, ==, 0);
    g_assert_cmpuint(v->devices, ==, 2);
    g_assert_cmpstr(v->domain, ==, "g");
}

static void
test_moved(void)
{
    g_autoptr(GPtrArray) actual = fixture_devices("two-tight");   /* dev1 at 5 GiB */
    g_autoptr(SpmAuditPlan) plan = spm_audit_plan_new(NULL);
    g_autoptr(SpmVerdict) v = NULL;
    g_autofree char *line = NULL;

    spm_audit_plan_add(plan, "dev0", "spm", 4 * GiB, GiB, 1, "spm0");
    spm_audit_plan_add(plan, "dev1", "spm", 6 * GiB, 2 * GiB, 2, "spm1");
    v = spm_audit_compare(plan, actual, "g", "u");
    g_assert_cmpint(v->kind, ==, SPM_VERDICT_MISMATCH);
    g_assert_cmpuint(v->findings->len, ==, 1);
    assert_finding(v, 0, "dev1", "addr", "0x180000000", "0x140000000");
    line = spm_finding_to_string(g_ptr_array_index(v->findings, 0));
    g_assert_cmpstr(line, ==, "device 'dev1': addr expected 0x180000000, actual 0x140000000");
}

static void
test_wrong_size_node_backend(void)
{
    g_autoptr(GPtrArray) actual = fixture_devices("two-gap");
    g_autoptr(SpmAuditPlan) plan = spm_audit_plan_new(NULL);
    g_autoptr(SpmVerdict) v = NULL;

    spm_audit_plan_add(plan, "dev0", "spm", 4 * GiB, 2 * GiB, 1, "spm0");   /* size */
    spm_audit_plan_add(plan, "dev1", "spm", 6 * GiB, GiB, 3, "spmX");      /* node, backend */
    v = spm_audit_compare(plan, actual, "g", "u");
    g_assert_cmpint(v->kind, ==, SPM_VERDICT_MISMATCH);
    g_assert_cmpuint(v->findings->len, ==, 3);
    assert_finding(v, 0, "dev0", "size", "0x80000000", "0x40000000");
    assert_finding(v, 1, "dev1", "node", "3", "2");
    assert_finding(v, 2, "dev1", "backend", "spmX", "/objects/spm1");
}

static void
test_unplanned(void)
{
    g_autoptr(GPtrArray) actual = fixture_devices("spm-plus-dimm");
    g_autoptr(SpmAuditPlan) plan = spm_audit_plan_new(NULL);
    g_autoptr(SpmVerdict) v = NULL;
    g_autofree char *line = NULL;

    spm_audit_plan_add(plan, "dev0", "spm", 4 * GiB, GiB, 1, "spm0");
    v = spm_audit_compare(plan, actual, "g", "u");
    g_assert_cmpint(v->kind, ==, SPM_VERDICT_MISMATCH);
    g_assert_cmpuint(v->findings->len, ==, 1);
    assert_finding(v, 0, "dimm1", "planned", "none", NULL);
    line = spm_finding_to_string(g_ptr_array_index(v->findings, 0));
    g_assert_cmpstr(line, ==, "unplanned memory device 'dimm1': dimm at 0x140000000 size 0x20000000 backend mem1");

    /* planned as libvirt's DIMM: a match */
    spm_audit_plan_add(plan, "dimm1", "dimm", 5 * GiB, 512 * MiB, 2, "mem1");
    g_clear_pointer(&v, spm_verdict_free);
    v = spm_audit_compare(plan, actual, "g", "u");
    g_assert_cmpint(v->kind, ==, SPM_VERDICT_MATCH);
}

static void
test_missing(void)
{
    g_autoptr(GPtrArray) actual = fixture_devices("single-natural");
    g_autoptr(SpmAuditPlan) plan = two_gap_plan();
    g_autoptr(SpmVerdict) v = spm_audit_compare(plan, actual, "g", "u");

    g_assert_cmpint(v->kind, ==, SPM_VERDICT_MISMATCH);
    g_assert_cmpuint(v->findings->len, ==, 1);
    assert_finding(v, 0, "dev1", "present", "0x180000000", "absent");
}

static void
test_empty_reply_is_mismatch(void)
{
    g_autoptr(GPtrArray) actual = g_ptr_array_new();
    g_autoptr(SpmAuditPlan) plan = two_gap_plan();
    g_autoptr(SpmVerdict) v = spm_audit_compare(plan, actual, "g", "u");

    g_assert_cmpint(v->kind, ==, SPM_VERDICT_MISMATCH);
    g_assert_cmpuint(v->findings->len, ==, 2);
}

/* pc-dimm standing in: type "dimm" is accepted for an SPM device only when
 * the plan says a stand-in is in use. */
static void
test_stand_in(void)
{
    const char *reply = "[{\"type\":\"dimm\",\"data\":{\"memdev\":\"/objects/spm0\",\"hotplugged\":false,"
                        "\"addr\":4294967296,\"hotpluggable\":true,\"size\":1073741824,\"slot\":3,\"node\":1,\"id\":\"dev0\"}}]";
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) actual = spm_memdev_info_parse_text(reply, strlen(reply), &error);
    g_autoptr(SpmAuditPlan) strict = spm_audit_plan_new(NULL);
    g_autoptr(SpmAuditPlan) stand_in = spm_audit_plan_new("pc-dimm");
    g_autoptr(SpmVerdict) v1 = NULL;
    g_autoptr(SpmVerdict) v2 = NULL;

    g_assert_no_error(error);
    strict->device = SPM_DEVICE_SPM_MEMORY;
    strict->device_known = TRUE;
    spm_audit_plan_add(strict, "dev0", "spm", 4 * GiB, GiB, 1, "spm0");
    spm_audit_plan_add(stand_in, "dev0", "spm", 4 * GiB, GiB, 1, "spm0");
    v1 = spm_audit_compare(strict, actual, "g", "u");
    g_assert_cmpint(v1->kind, ==, SPM_VERDICT_MISMATCH);
    assert_finding(v1, 0, "dev0", "type", "spm-memory", "dimm");
    v2 = spm_audit_compare(stand_in, actual, "g", "u");
    g_assert_cmpint(v2->kind, ==, SPM_VERDICT_MATCH);
}

/* The real device on a plan that expects a libvirt DIMM is a mismatch */
static void
test_type_swap(void)
{
    g_autoptr(GPtrArray) actual = fixture_devices("single-natural");
    g_autoptr(SpmAuditPlan) plan = spm_audit_plan_new("pc-dimm");
    g_autoptr(SpmVerdict) v = NULL;

    spm_audit_plan_add(plan, "dev0", "dimm", 4 * GiB, GiB, 1, "spm0");
    v = spm_audit_compare(plan, actual, "g", "u");
    g_assert_cmpint(v->kind, ==, SPM_VERDICT_MISMATCH);
    assert_finding(v, 0, "dev0", "type", "dimm", "spm-memory");
}

/*
 * QEMU 11.1's sp-mem (its reply as measured) against plans for each
 * revision: the plan's device decides the type an SPM device must show.
 */
static void
test_revisions(void)
{
    const char *sp_mem = "[{\"type\":\"sp-mem\",\"data\":{\"memdev\":\"/objects/s0\","
                         "\"addr\":4294967296,\"size\":1073741824,\"node\":1,\"id\":\"hbm0\"}}]";
#define PLAN_FOR(device) "{\"devices\": [{\"id\": \"hbm0\", \"model\": \"spm\", \"addr\": 4294967296," \
                         " \"size\": 1073741824, \"node\": 1, \"backend\": \"s0\"}], \"device\": \"" device "\"}"
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) actual = spm_memdev_info_parse_text(sp_mem, strlen(sp_mem), &error);
    g_autoptr(GPtrArray) v8_actual = fixture_devices("single-natural");
    const char *for_sp_mem = PLAN_FOR("sp-mem");
    const char *for_v8 = PLAN_FOR("spm-memory");
    const char *for_other = PLAN_FOR("pc-dimm");
    g_autoptr(SpmAuditPlan) p1 = spm_audit_plan_from_json(for_sp_mem, strlen(for_sp_mem), &error);
    g_autoptr(SpmAuditPlan) p2 = NULL;
    g_autoptr(SpmAuditPlan) p3 = NULL;
    g_autoptr(SpmVerdict) v1 = NULL;
    g_autoptr(SpmVerdict) v2 = NULL;
    g_autoptr(SpmVerdict) v3 = NULL;

    g_assert_no_error(error);
    g_assert_true(p1->device_known);
    g_assert_cmpint(p1->device, ==, SPM_DEVICE_SP_MEM);
    v1 = spm_audit_compare(p1, actual, "g", "u");
    g_assert_cmpint(v1->kind, ==, SPM_VERDICT_MATCH);

    /* the same numbers from the v8 device are the wrong device */
    p2 = spm_audit_plan_from_json(for_v8, strlen(for_v8), &error);
    g_assert_no_error(error);
    v2 = spm_audit_compare(p2, actual, "g", "u");
    g_assert_cmpint(v2->kind, ==, SPM_VERDICT_MISMATCH);
    assert_finding(v2, 0, "hbm0", "type", "spm-memory", "sp-mem");
    v3 = spm_audit_compare(p1, v8_actual, "g", "u");
    g_assert_cmpint(v3->kind, ==, SPM_VERDICT_MISMATCH);

    /* a plan JSON's device must be one of the revisions */
    p3 = spm_audit_plan_from_json(for_other, strlen(for_other), &error);
    g_assert_null(p3);
    g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, "plan: 'device' is not 'sp-mem' (QEMU 11.1 and later) or "
                    "'spm-memory' (the v8 patch series, legacy)");
}

static void
test_plan_json(void)
{
    const char *json =
        "{\"machine\": \"q35\", \"device_memory\": {\"base\": 4294967296, \"size\": 20401094656},"
        " \"devices\": [{\"id\": \"dev0\", \"model\": \"spm\", \"addr\": 4294967296,"
        "               \"size\": 1073741824, \"node\": 1, \"align\": 2097152},"
        "              {\"id\": \"dimm1\", \"model\": \"dimm\", \"addr\": 5368709120,"
        "               \"size\": 536870912, \"node\": 2, \"align\": 2097152, \"backend\": \"mem1\"}],"
        " \"numa_nodes\": [{\"id\": 0, \"kind\": \"cell\"}, {\"id\": 1, \"kind\": \"spm\"}],"
        " \"warnings\": []}";
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmAuditPlan) plan = spm_audit_plan_from_json(json, strlen(json), &error);
    g_autoptr(GPtrArray) actual = fixture_devices("spm-plus-dimm");
    g_autoptr(SpmVerdict) v = NULL;
    SpmAuditDevice *d;

    g_assert_no_error(error);
    g_assert_null(plan->stand_in_driver);
    g_assert_cmpuint(plan->devices->len, ==, 2);
    d = plan->devices->pdata[0];
    g_assert_null(d->backend);
    d = plan->devices->pdata[1];
    g_assert_cmpstr(d->backend, ==, "mem1");
    v = spm_audit_compare(plan, actual, "", "");
    g_assert_cmpint(v->kind, ==, SPM_VERDICT_MATCH);

    g_assert_null(spm_audit_plan_from_json("{\"devices\": [{\"id\": \"x\"}]}", 27, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_null(spm_audit_plan_from_json("[]", 2, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
    g_clear_error(&error);
    {
        const char *neg = "{\"devices\": [{\"id\": \"x\", \"model\": \"spm\", \"addr\": -4, \"size\": 1}]}";

        g_assert_null(spm_audit_plan_from_json(neg, strlen(neg), &error));
        g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
    }
}

static void
test_verdict_json(void)
{
    g_autoptr(GPtrArray) actual = fixture_devices("two-tight");
    g_autoptr(SpmAuditPlan) plan = two_gap_plan();
    g_autoptr(SpmVerdict) v = spm_audit_compare(plan, actual, "guest", "1234");
    g_autofree char *text = NULL;
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(SpmVerdict) back = NULL;
    g_autoptr(GError) error = NULL;

    v->domain_id = 7;
    v->audit_count = 3;
    text = spm_verdict_to_json_string(v, FALSE);
    g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
    back = spm_verdict_from_json(json_parser_get_root(p), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(back->domain, ==, "guest");
    g_assert_cmpstr(back->uuid, ==, "1234");
    g_assert_cmpint(back->kind, ==, SPM_VERDICT_MISMATCH);
    g_assert_cmpint(back->domain_id, ==, 7);
    g_assert_cmpuint(back->audit_count, ==, 3);
    g_assert_cmpuint(back->findings->len, ==, v->findings->len);
    g_assert_cmpstr(((SpmFinding *) back->findings->pdata[0])->device, ==, "dev1");
    g_assert_nonnull(strstr(text, "\"verdict\":\"mismatch\""));
}

/* The stored plan of a Nova guest counts only when root wrote it where only root writes. */
static void
test_nova_plan_trust(void)
{
    static const char uuid[] = "6a1c9d1e-2f3b-4c5d-8e9f-0a1b2c3d4e5f";
    static const char json[] =
        "{\"machine\": \"q35\", \"device_memory\": {\"base\": 4294967296, \"size\": 2147483648},"
        " \"devices\": [{\"id\": \"dev0\", \"model\": \"spm\", \"addr\": 4294967296,"
        " \"size\": 1073741824, \"node\": 1, \"align\": 2097152}],"
        " \"numa_nodes\": [{\"id\": 0, \"kind\": \"cell\"}, {\"id\": 1, \"kind\": \"spm\"}],"
        " \"warnings\": []}";
    g_autofree char *top = g_dir_make_tmp("spm-audit-nova-XXXXXX", NULL);
    g_autofree char *dir = g_build_filename(top, "nova", NULL);
    g_autofree char *name = g_strdup_printf("%s.json", uuid);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autoptr(GError) error = NULL;
    SpmAuditPlan *plan;

    g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
    g_setenv("VIRT_SPM_NOVA_PLAN_DIR", dir, TRUE);
    /* none stored: none, and no error */
    g_assert_null(spm_audit_nova_plan(uuid, &error));
    g_assert_no_error(error);

    g_assert_true(g_file_set_contents(path, json, -1, NULL));
    g_assert_cmpint(g_chmod(path, 0644), ==, 0);
    plan = spm_audit_nova_plan(uuid, &error);
    g_assert_no_error(error);
    g_assert_nonnull(plan);
    spm_audit_plan_free(plan);

    /* a plan others could have written */
    g_assert_cmpint(g_chmod(path, 0666), ==, 0);
    g_assert_null(spm_audit_nova_plan(uuid, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "not trusted"));
    g_clear_error(&error);
    g_assert_cmpint(g_chmod(path, 0644), ==, 0);

    /* in a directory others could write in */
    g_assert_cmpint(g_chmod(dir, 0777), ==, 0);
    g_assert_null(spm_audit_nova_plan(uuid, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "others could have written in it"));
    g_clear_error(&error);
    g_assert_cmpint(g_chmod(dir, 0755), ==, 0);

    /* a FIFO in its place: refused, not waited on */
    g_assert_cmpint(g_unlink(path), ==, 0);
    g_assert_cmpint(mkfifo(path, 0644), ==, 0);
    g_assert_null(spm_audit_nova_plan(uuid, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "not a regular file"));
    g_clear_error(&error);

    g_assert_cmpint(g_unlink(path), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
    g_assert_cmpint(g_rmdir(top), ==, 0);
    g_unsetenv("VIRT_SPM_NOVA_PLAN_DIR");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/daemon/audit/match", test_match);
    g_test_add_func("/daemon/audit/moved", test_moved);
    g_test_add_func("/daemon/audit/size-node-backend", test_wrong_size_node_backend);
    g_test_add_func("/daemon/audit/unplanned", test_unplanned);
    g_test_add_func("/daemon/audit/missing", test_missing);
    g_test_add_func("/daemon/audit/empty-reply", test_empty_reply_is_mismatch);
    g_test_add_func("/daemon/audit/stand-in", test_stand_in);
    g_test_add_func("/daemon/audit/type-swap", test_type_swap);
    g_test_add_func("/daemon/audit/plan-json", test_plan_json);
    g_test_add_func("/daemon/audit/revisions", test_revisions);
    g_test_add_func("/daemon/audit/verdict-json", test_verdict_json);
    g_test_add_func("/daemon/audit/nova-plan-trust", test_nova_plan_trust);
    return g_test_run();
}
