/*
 * test-convert-check.c: spm_convert_check_current(), the hook's staleness
 * test, on converted documents: current, edited, missing arguments, no SPM,
 * and a domain converted under another policy than the host's default.
 */
#include <string.h>

#include "spm-config.h"
#include "spm-convert.h"
#include "spm-error.h"
#include "spm-xml.h"

static char *
converted(const char *name, const SpmPlanPolicy *policy)
{
    g_autofree char *path = g_build_filename(g_getenv("SPM_SOURCE_ROOT"), "tests", "data", name, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_file(path, &error);

    g_assert_no_error(error);
    g_assert_true(spm_convert_forward(doc, policy, NULL, NULL, &error));
    g_assert_no_error(error);
    return spm_xml_format(doc);
}

static gboolean
check(const char *xml, const SpmPlanPolicy *policy, gboolean *has_spm, GError **error)
{
    g_autoptr(xmlDoc) doc = spm_xml_read_memory(xml, strlen(xml), "test", error);

    g_assert_nonnull(doc);
    return spm_convert_check_current(doc, policy, has_spm, NULL, NULL, error);
}

static void
policy_default(SpmPlanPolicy *policy)
{
    spm_plan_policy_init(policy);
    policy->host.libvirt_version = 11003000;
}

static void
test_current(void)
{
    SpmPlanPolicy policy;
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    gboolean has_spm = FALSE;

    policy_default(&policy);
    xml = converted("spm-two-natural.xml", &policy);
    g_assert_true(check(xml, &policy, &has_spm, &error));
    g_assert_no_error(error);
    g_assert_true(has_spm);
    spm_plan_policy_clear(&policy);
}

static void
test_no_spm(void)
{
    SpmPlanPolicy policy;
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    gboolean has_spm = TRUE;

    policy_default(&policy);
    xml = converted("no-spm.xml", &policy);
    g_assert_true(check(xml, &policy, &has_spm, &error));
    g_assert_false(has_spm);
    spm_plan_policy_clear(&policy);
}

/* virsh edit changed one generated address: stale */
static void
test_edited(void)
{
    SpmPlanPolicy policy;
    g_autofree char *xml = NULL;
    g_autoptr(GString) edited = NULL;
    g_autoptr(GError) error = NULL;
    gboolean has_spm;

    policy_default(&policy);
    xml = converted("spm-single.xml", &policy);
    edited = g_string_new(xml);
    /* only the qemu:arg copy, the last occurrence */
    g_assert_nonnull(strstr(xml, "addr=0x100000000\"/>\n  </qemu:commandline>"));
    g_string_replace(edited, "addr=0x100000000\"/>\n  </qemu:commandline>",
                     "addr=0x180000000\"/>\n  </qemu:commandline>", 1);
    g_assert_false(check(edited->str, &policy, &has_spm, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_MISMATCH);
    g_assert_cmpstr(error->message, ==,
                    "qemu:commandline: the arguments virt-spm generated are missing or were edited; "
                    "run 'virt-spm edit' or 'virt-spm define' again");
    spm_plan_policy_clear(&policy);
}

/* converted with 2 MiB alignment and gap; the host default is 1 GiB: still current */
static void
test_recorded_policy(void)
{
    SpmPlanPolicy tight;
    SpmPlanPolicy host;
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    gboolean has_spm;

    policy_default(&tight);
    tight.spm_align = tight.guard_gap = 2 * 1024 * 1024;
    policy_default(&host);
    xml = converted("spm-two-natural.xml", &tight);
    g_assert_nonnull(strstr(xml, "spmAlign=\"2097152\""));
    g_assert_true(check(xml, &host, &has_spm, &error));
    g_assert_no_error(error);

    /* and the recorded numbers are what decides: change them, it goes stale */
    {
        g_autoptr(GString) other = g_string_new(xml);

        g_string_replace(other, "spmAlign=\"2097152\"", "spmAlign=\"1073741824\"", 1);
        g_string_replace(other, "guardGap=\"2097152\"", "guardGap=\"1073741824\"", 1);
        g_assert_false(check(other->str, &host, &has_spm, &error));
        g_assert_error(error, SPM_ERROR, SPM_ERROR_MISMATCH);
        g_assert_nonnull(strstr(error->message, "the plan now gives"));
    }
    spm_plan_policy_clear(&tight);
    spm_plan_policy_clear(&host);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/convert/check/current", test_current);
    g_test_add_func("/convert/check/no-spm", test_no_spm);
    g_test_add_func("/convert/check/edited", test_edited);
    g_test_add_func("/convert/check/recorded-policy", test_recorded_policy);
    return g_test_run();
}
