/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-audit-domain-xml.c: the plan of a running libvirt domain, from its
 * live XML (what libvirt added at start removed) - no libvirt needed.
 */
#include <string.h>

#include "spm-audit-domain.h"
#include "spm-convert.h"
#include "spm-error.h"
#include "spm-xml.h"

/* The converted form of tests/daemon/data/@name, as `virt-spm define` stores it. */
static char *
converted(const char *name)
{
    g_autofree char *path = g_build_filename(g_getenv("SPM_SOURCE_ROOT"), "tests", "daemon",
                                             "data", name, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_file(path, &error);
    SpmPlanPolicy policy;
    char *out;

    g_assert_no_error(error);
    spm_plan_policy_init(&policy);
    policy.stand_in_driver = g_strdup("pc-dimm");
    g_assert_true(spm_convert_forward(doc, &policy, NULL, NULL, &error));
    g_assert_no_error(error);
    spm_plan_policy_clear(&policy);
    out = spm_xml_format(doc);
    return out;
}

static char *
replace(const char *text, const char *from, const char *to)
{
    g_auto(GStrv) parts = g_strsplit(text, from, 2);

    g_assert_nonnull(parts[1]);
    return g_strconcat(parts[0], to, parts[1], NULL);
}

static const SpmAuditDevice *
find(const SpmAuditPlan *plan, const char *id)
{
    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmAuditDevice *d = plan->devices->pdata[i];

        if (g_str_equal(d->id, id))
            return d;
    }
    return NULL;
}

static void
test_live_mixed(void)
{
    g_autofree char *inactive0 = converted("spm-guest-dimm.xml");
    /* libvirt keeps the slot it assigned in the definition ... */
    g_autofree char *inactive = replace(inactive0, "</target>\n    </memory>",
                                        "</target>\n      <address type=\"dimm\" slot=\"0\"/>\n    </memory>");
    /* ... and adds its alias and QEMU's base to the live XML, here a base
     * that differs from the plan (libvirt moved its DIMM) */
    g_autofree char *live = replace(inactive, "<address type=\"dimm\" slot=\"0\"/>",
                                    "<alias name=\"dimm0\"/>\n      <address type=\"dimm\" slot=\"0\" base=\"0x200000000\"/>");
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmAuditPlan) plan = NULL;
    g_autoptr(SpmAuditPlan) raw = NULL;
    SpmPlanPolicy policy;
    gboolean is_spm = FALSE;
    const SpmAuditDevice *spm, *dimm;

    spm_plan_policy_init(&policy);
    plan = spm_audit_plan_from_domain_xmls(live, inactive, &policy, &is_spm, &error);
    g_assert_no_error(error);
    g_assert_true(is_spm);
    g_assert_cmpstr(plan->stand_in_driver, ==, "pc-dimm");
    spm = find(plan, "ua-hbm0");
    dimm = find(plan, "dimm0");
    g_assert_nonnull(spm);
    g_assert_nonnull(dimm);
    /* the plan of the definition: SPM first at the region base, the DIMM after it */
    g_assert_cmpstr(spm->model, ==, "spm");
    g_assert_cmpuint(spm->addr, ==, G_GUINT64_CONSTANT(0x100000000));
    g_assert_cmpuint(spm->size, ==, 128 << 20);
    g_assert_cmpuint(spm->node, ==, 1);
    g_assert_cmpstr(spm->backend, ==, "memua-hbm0");
    g_assert_cmpstr(dimm->model, ==, "dimm");
    g_assert_cmpuint(dimm->addr, ==, G_GUINT64_CONSTANT(0x108000000));
    g_assert_cmpuint(dimm->size, ==, 256 << 20);

    /* the live XML alone would plan around libvirt's base: that is what
     * the stripping prevents (a moved DIMM must show as a mismatch) */
    raw = spm_audit_plan_from_domain_xmls(live, NULL, &policy, &is_spm, &error);
    g_assert_no_error(error);
    dimm = find(raw, "dimm0");
    g_assert_nonnull(dimm);
    if (!dimm)
        return;
    g_assert_cmpuint(dimm->addr, ==, G_GUINT64_CONSTANT(0x200000000));
    spm_plan_policy_clear(&policy);
}

static void
test_not_spm(void)
{
    const char *xml = "<domain type='qemu'><name>x</name><memory unit='MiB'>128</memory>"
                      "<os><type arch='x86_64' machine='q35'>hvm</type></os></domain>";
    g_autoptr(GError) error = NULL;
    SpmPlanPolicy policy;
    gboolean is_spm = TRUE;
    g_autoptr(SpmAuditPlan) plan = NULL;

    spm_plan_policy_init(&policy);
    plan = spm_audit_plan_from_domain_xmls(xml, NULL, &policy, &is_spm, &error);
    g_assert_null(plan);
    g_assert_no_error(error);
    g_assert_false(is_spm);
    spm_plan_policy_clear(&policy);
}

/*
 * A domain converted with a 2 MiB alignment and guard gap, audited by a
 * daemon whose configuration has the 1 GiB defaults: the plan is the one
 * the arguments were made with, not a fresh one (no false mismatch).
 */
static void
test_recorded_policy(void)
{
    g_autofree char *path = g_build_filename(g_getenv("SPM_SOURCE_ROOT"), "tests", "data",
                                             "spm-two-natural.xml", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_file(path, &error);
    g_autoptr(SpmAuditPlan) plan = NULL;
    g_autofree char *xml = NULL;
    SpmPlanPolicy tight;
    SpmPlanPolicy host;
    gboolean is_spm = FALSE;
    const SpmAuditDevice *a, *b;

    g_assert_no_error(error);
    spm_plan_policy_init(&tight);
    tight.spm_align = tight.guard_gap = 2 * 1024 * 1024;
    tight.host.libvirt_version = 11003000;
    g_assert_true(spm_convert_forward(doc, &tight, NULL, NULL, &error));
    xml = spm_xml_format(doc);

    spm_plan_policy_init(&host);
    host.host.libvirt_version = 11003000;
    plan = spm_audit_plan_from_domain_xmls(xml, NULL, &host, &is_spm, &error);
    g_assert_no_error(error);
    g_assert_true(is_spm);
    /* ua-hbm0 1 GiB at the base; ua-hbm1 after a 2 MiB gap, not a 1 GiB one */
    a = find(plan, "ua-hbm0");
    b = find(plan, "ua-hbm1");
    g_assert_nonnull(a);
    g_assert_nonnull(b);
    g_assert_cmpuint(a->addr, ==, G_GUINT64_CONSTANT(0x100000000));
    g_assert_cmpuint(b->addr, ==, G_GUINT64_CONSTANT(0x140200000));
    spm_plan_policy_clear(&tight);
    spm_plan_policy_clear(&host);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/daemon/domain-xml/live-mixed", test_live_mixed);
    g_test_add_func("/daemon/domain-xml/not-spm", test_not_spm);
    g_test_add_func("/daemon/domain-xml/recorded-policy", test_recorded_policy);
    return g_test_run();
}
