/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-hook-ledger.c: what the hook's decision hands to the ledger -- the
 * holding of prepare begin (from the plan), the release of stopped/release
 * end -- on a domain converted here, with a fake emulator probe.
 */
#include <string.h>

#include "spm-convert.h"
#include "spm-error.h"
#include "spm-hook-decide.h"
#include "spm-xml.h"

static gboolean
fake_probe(const char *emulator, const char *driver, gboolean *has_device,
           gpointer opaque, GError **error)
{
    *has_device = TRUE;
    return TRUE;
}

/* tests/ledger/data/hbm-guest.xml, converted with the pc-dimm stand-in, with a UUID */
static char *
converted(const SpmPlanPolicy *policy, const char *nodemask_xml)
{
    g_autofree char *path = g_build_filename(g_getenv("SPM_SOURCE_ROOT"), "tests", "ledger", "data",
                                             "hbm-guest.xml", NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(GString) s = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    s = g_string_new(text);
    g_string_replace(s, "<name>spm-ledger-test</name>",
                     "<name>hl</name><uuid>0b6f6d2c-54b1-4f5e-9d0c-3d1c3b2a1a00</uuid>", 1);
    g_string_replace(s, "<nodemask>0</nodemask>", nodemask_xml, 1);
    doc = spm_xml_read_memory(s->str, s->len, "test", &err);
    g_assert_no_error(err);
    g_assert_true(spm_convert_forward(doc, policy, NULL, NULL, &err));
    g_assert_no_error(err);
    return spm_xml_format(doc);
}

static void
test_prepare_holding(void)
{
    g_auto(SpmPlanPolicy) policy = { 0 };
    g_auto(SpmHookDecision) d = { 0 };
    g_autofree char *xml = NULL;
    SpmHookFacts facts = { .libvirt_version = 9000000, .probe = fake_probe };
    const SpmLedgerRequest *r;

    spm_plan_policy_init(&policy);
    policy.stand_in_driver = g_strdup("pc-dimm");
    facts.policy = &policy;
    xml = converted(&policy, "<nodemask>2-3</nodemask>");

    spm_hook_decide("prepare", "begin", xml, strlen(xml), &facts, &d);
    g_assert_cmpint(d.action, ==, SPM_HOOK_ALLOW);
    g_assert_nonnull(d.holding);
    g_assert_cmpstr(d.holding->uuid, ==, "0b6f6d2c-54b1-4f5e-9d0c-3d1c3b2a1a00");
    g_assert_cmpstr(d.holding->domain, ==, "hl");
    g_assert_cmpuint(d.holding->requests->len, ==, 1);
    r = d.holding->requests->pdata[0];
    g_assert_cmpstr(r->device, ==, "ua-hbm0");
    g_assert_cmpstr(r->nodeset, ==, "2-3");
    g_assert_cmpuint(r->bytes, ==, 512 << 20);
    g_assert_false(d.release);
    spm_hook_decision_clear(&d);

    /* stopped end: notify the daemon and free; release end: free only */
    spm_hook_decide("stopped", "end", xml, strlen(xml), &facts, &d);
    g_assert_cmpint(d.action, ==, SPM_HOOK_NOTIFY);
    g_assert_true(d.release);
    g_assert_cmpstr(d.uuid, ==, "0b6f6d2c-54b1-4f5e-9d0c-3d1c3b2a1a00");
    g_assert_null(d.holding);
    spm_hook_decision_clear(&d);
    spm_hook_decide("release", "end", xml, strlen(xml), &facts, &d);
    g_assert_cmpint(d.action, ==, SPM_HOOK_ALLOW);
    g_assert_true(d.release);
    g_assert_cmpstr(d.uuid, ==, "0b6f6d2c-54b1-4f5e-9d0c-3d1c3b2a1a00");
    spm_hook_decision_clear(&d);

    /* started begin frees nothing */
    spm_hook_decide("started", "begin", xml, strlen(xml), &facts, &d);
    g_assert_cmpint(d.action, ==, SPM_HOOK_NOTIFY);
    g_assert_false(d.release);
}

/* A device without host nodes reserves nothing. */
static void
test_prepare_unbound(void)
{
    g_auto(SpmPlanPolicy) policy = { 0 };
    g_auto(SpmHookDecision) d = { 0 };
    g_autofree char *xml = NULL;
    SpmHookFacts facts = { .libvirt_version = 9000000, .probe = fake_probe };

    spm_plan_policy_init(&policy);
    policy.stand_in_driver = g_strdup("pc-dimm");
    facts.policy = &policy;
    xml = converted(&policy, "");
    g_assert_null(strstr(xml, "host-nodes"));
    spm_hook_decide("prepare", "begin", xml, strlen(xml), &facts, &d);
    g_assert_cmpint(d.action, ==, SPM_HOOK_ALLOW);
    g_assert_null(d.holding);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hook-ledger/prepare-holding", test_prepare_holding);
    g_test_add_func("/hook-ledger/prepare-unbound", test_prepare_unbound);
    return g_test_run();
}
