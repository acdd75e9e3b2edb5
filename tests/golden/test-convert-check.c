/* SPDX-License-Identifier: LGPL-2.1-or-later */
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

#define DOMAIN_HEAD \
    "<domain type='kvm'><name>t</name><memory unit='GiB'>1</memory>" \
    "<os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features>"
#define SPM_DEVICE \
    "<memory model='spm'><target><size unit='GiB'>1</size><node>1</node></target></memory>"
#define SPM_DEVICES "<devices>" SPM_DEVICE "</devices>"
#define ONE_CELL "<cpu><numa><cell id='0' cpus='0' memory='1' unit='GiB'/></numa></cpu>"
#define SPM_META "<spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0'/>"

/*
 * Convert refuses @xml with the one line @message and leaves it as it was;
 * so does reverse when @reverse_too.
 */
static void
assert_refused(const char *xml, const char *message, gboolean reverse_too)
{
    SpmPlanPolicy policy;
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_memory(xml, strlen(xml), "test", &error);
    g_autofree char *before = spm_xml_format(doc);
    g_autofree char *after = NULL;

    g_assert_no_error(error);
    policy_default(&policy);
    g_assert_false(spm_convert_forward(doc, &policy, NULL, NULL, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, message);
    g_clear_error(&error);
    if (reverse_too) {
        g_assert_false(spm_convert_reverse(doc, &error));
        g_assert_cmpstr(error->message, ==, message);
    }
    after = spm_xml_format(doc);
    g_assert_cmpstr(after, ==, before);
    spm_plan_policy_clear(&policy);
}

/* Convert @xml, read the result back, reverse it: the document as it was. */
static void
assert_round_trip(const char *xml)
{
    SpmPlanPolicy policy;
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_memory(xml, strlen(xml), "test", &error);
    g_autoptr(xmlDoc) back = NULL;
    g_autofree char *original = spm_xml_format(doc);
    g_autofree char *conv = NULL;
    g_autofree char *reversed = NULL;

    g_assert_no_error(error);
    policy_default(&policy);
    g_assert_true(spm_convert_forward(doc, &policy, NULL, NULL, &error));
    conv = spm_xml_format(doc);
    back = spm_xml_read_memory(conv, strlen(conv), "converted", &error);
    g_assert_no_error(error);
    g_assert_true(spm_convert_reverse(back, &error));
    reversed = spm_xml_format(back);
    g_assert_cmpstr(reversed, ==, original);
    spm_plan_policy_clear(&policy);
}

/*
 * Text on both sides of an SPM device would merge when it moves: convert
 * refuses, with one line, and leaves the document alone; text on one side
 * only goes back where it was.
 */
static void
test_text_around_device(void)
{
    assert_refused(DOMAIN_HEAD ONE_CELL "<devices>before" SPM_DEVICE "after<console type='pty'/>"
                   "</devices></domain>",
                   "line 1: devices: text on both sides of memory model 'spm' would merge "
                   "when convert moves the device; libvirt allows no text among the devices",
                   FALSE);
    assert_round_trip(DOMAIN_HEAD ONE_CELL "<devices>before" SPM_DEVICE "<console type='pty'/>"
                      "</devices></domain>");
}

/*
 * Inside an SPM device, an element in virt-spm's own metadata namespace
 * would lose its namespace on reverse (the stored device is in it): refuse.
 */
static void
test_own_namespace_in_device(void)
{
    assert_refused(DOMAIN_HEAD ONE_CELL
                   "<devices><memory model='spm'><target><size unit='GiB'>1</size><node>1</node>\n"
                   "<x:note xmlns:x='http://virt-spm.org/xmlns/domain/1.0'/></target></memory>"
                   "</devices></domain>",
                   "line 2: memory model 'spm': element 'note' is in virt-spm's metadata "
                   "namespace http://virt-spm.org/xmlns/domain/1.0, which only virt-spm may use",
                   FALSE);
}

/*
 * Elements convert rewrites, twice: libvirt reads the first, convert could
 * rewrite either, and reverse would not give the document back (found by
 * fuzz-convert).  Both directions refuse with one line and change nothing.
 */
static void
test_duplicates(void)
{
    assert_refused(DOMAIN_HEAD "<metadata>" SPM_META SPM_META "</metadata>" ONE_CELL SPM_DEVICES
                   "</domain>",
                   "line 1: metadata: a second element 'spm' in virt-spm's namespace "
                   "http://virt-spm.org/xmlns/domain/1.0; keep one", TRUE);
    assert_refused(DOMAIN_HEAD "<metadata>" SPM_META "</metadata><metadata/>" ONE_CELL SPM_DEVICES
                   "</domain>",
                   "line 1: domain: a second <metadata> element; libvirt allows one", TRUE);
    assert_refused(DOMAIN_HEAD ONE_CELL "<cpu/>" SPM_DEVICES "</domain>",
                   "line 1: domain: a second <cpu> element; libvirt allows one", FALSE);
    assert_refused(DOMAIN_HEAD "<cpu><numa/><numa/></cpu>" SPM_DEVICES "</domain>",
                   "line 1: cpu: a second <numa> element; libvirt allows one", FALSE);
}

/*
 * White space is all an element-only container holds: convert adds to it,
 * reverse takes that out again, and the document comes back as it was
 * (<cpu> </cpu> is <cpu/> on both sides; found by fuzz-convert).  No cells:
 * <memory> counts the SPM device, and convert makes the cell.
 */
static void
test_blank_containers(void)
{
    assert_round_trip("<domain type='kvm'><name>t</name><metadata>\n  </metadata>"
                      "<memory unit='GiB'>2</memory>"
                      "<os><type arch='x86_64' machine='q35'>hvm</type></os>"
                      "<features><acpi/></features><cpu> </cpu>" SPM_DEVICES "</domain>");
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
    g_test_add_func("/convert/text-around-device", test_text_around_device);
    g_test_add_func("/convert/own-namespace-in-device", test_own_namespace_in_device);
    g_test_add_func("/convert/duplicates", test_duplicates);
    g_test_add_func("/convert/blank-containers", test_blank_containers);
    g_test_add_func("/convert/check/current", test_current);
    g_test_add_func("/convert/check/no-spm", test_no_spm);
    g_test_add_func("/convert/check/edited", test_edited);
    g_test_add_func("/convert/check/recorded-policy", test_recorded_policy);
    return g_test_run();
}
