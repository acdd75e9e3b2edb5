/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-guest-verdict.c: the guest verdict from the guest facts measured on
 * QEMU 11.1.3's sp-mem (OVMF 2026.08, dax_hmem, daxctl system-ram,
 * efi=nosoftreserve, SeaBIOS), from memory blocks alone, and without an agent.
 */
#include <string.h>

#include "spm-guest-verdict.h"

/* one 1 GiB SPM device at 4 GiB on node 1 */
static SpmAuditPlan *
plan_new(SpmGuestMode mode)
{
    SpmAuditPlan *p = spm_audit_plan_new(NULL);

    spm_audit_plan_add(p, "ua-hbm0", "spm", 0x100000000, 0x40000000, 1, "memua-hbm0");
    ((SpmAuditDevice *) p->devices->pdata[0])->guest_mode = mode;
    spm_audit_plan_add(p, "dimm0", "dimm", 0x180000000, 0x40000000, 0, "memdimm0");
    return p;
}

static SpmGuestFacts *
facts_iomem(const char *text)
{
    SpmGuestFacts *f = spm_guest_facts_new();

    f->iomem = spm_iomem_parse(text, strlen(text), NULL);
    g_assert_nonnull(f->iomem);
    return f;
}

/* Facts of the agent's memory blocks alone (no file reads), 128 MiB each */
static SpmGuestFacts *
facts_blocks(const SpmGuestBlock *blocks, guint n)
{
    SpmGuestFacts *f = spm_guest_facts_new();

    f->block_size = 128 << 20;
    f->blocks = g_array_new(FALSE, FALSE, sizeof(SpmGuestBlock));
    g_array_append_vals(f->blocks, blocks, n);
    return f;
}

static void
check(SpmGuestMode mode, SpmGuestFacts *f, SpmGuestState state, gint64 node,
      SpmGuestJudgement judgement)
{
    g_autoptr(SpmAuditPlan) p = plan_new(mode);
    g_autoptr(SpmGuestFacts) facts = f;
    g_autoptr(SpmGuestAudit) a = spm_guest_audit_judge(p, facts);
    const SpmGuestDeviceVerdict *v;
    g_autofree char *line = NULL;

    g_assert_cmpuint(a->devices->len, ==, 1);   /* the DIMM is not judged */
    v = a->devices->pdata[0];
    line = spm_guest_device_verdict_to_string(v);
    g_test_message("%s", line);
    g_assert_cmpstr(spm_guest_state_to_string(v->state), ==, spm_guest_state_to_string(state));
    g_assert_cmpint(v->guest_node, ==, node);
    g_assert_cmpstr(spm_guest_judgement_to_string(v->judgement), ==,
                    spm_guest_judgement_to_string(judgement));
    g_assert_cmpint(a->judgement, ==, judgement);
}

/* as Linux 6.1 nests them (docs/guest-view.md): hmem.0 outside Soft Reserved */
#define SOFT "100000000-13fffffff : hmem.0\n  100000000-13fffffff : Soft Reserved\n"

static void
test_ovmf_reserved(void)
{
    check(SPM_GUEST_MODE_RESERVED, facts_iomem(SOFT), SPM_GUEST_RESERVED, -1, SPM_GUEST_JUDGED_MATCH);
    check(SPM_GUEST_MODE_SYSTEM_RAM, facts_iomem(SOFT), SPM_GUEST_RESERVED, -1,
          SPM_GUEST_JUDGED_MISMATCH);
}

static void
test_devdax(void)
{
    SpmGuestFacts *f = facts_iomem(SOFT "    100000000-13fffffff : dax0.0\n");

    spm_guest_facts_add_dax(f, "dax0.0", 1);
    check(SPM_GUEST_MODE_DEVDAX, f, SPM_GUEST_DEVDAX, 1, SPM_GUEST_JUDGED_MATCH);
    f = facts_iomem(SOFT "    100000000-13fffffff : dax0.0\n");
    spm_guest_facts_add_dax(f, "dax0.0", 2);
    check(SPM_GUEST_MODE_DEVDAX, f, SPM_GUEST_DEVDAX, 2, SPM_GUEST_JUDGED_MISMATCH);
}

static void
test_kmem(void)
{
    SpmGuestFacts *f = facts_iomem(SOFT "    100000000-13fffffff : dax0.0\n"
                                   "      100000000-13fffffff : System RAM (kmem)\n");

    spm_guest_facts_add_dax(f, "dax0.0", 1);
    check(SPM_GUEST_MODE_SYSTEM_RAM, f, SPM_GUEST_SYSTEM_RAM, 1, SPM_GUEST_JUDGED_MATCH);
}

static void
test_leaked_and_missing(void)
{
    /* efi=nosoftreserve: plain System RAM, a mismatch whatever was asked */
    check(SPM_GUEST_MODE_SYSTEM_RAM, facts_iomem("100000000-13fffffff : System RAM\n"),
          SPM_GUEST_LEAKED, -1, SPM_GUEST_JUDGED_MISMATCH);
    /* SeaBIOS: nothing at the range */
    check(SPM_GUEST_MODE_RESERVED, facts_iomem("00000000-00000fff : Reserved\n"),
          SPM_GUEST_MISSING, -1, SPM_GUEST_JUDGED_MISMATCH);
}

static void
test_blocks_only(void)
{
    SpmGuestBlock b[] = { { 0, TRUE }, { 32, TRUE }, { 33, FALSE } };   /* 32 * 128 MiB = 4 GiB */

    check(SPM_GUEST_MODE_RESERVED, facts_blocks(b, 3), SPM_GUEST_SYSTEM_RAM, -1, SPM_GUEST_JUDGED_MISMATCH);
    /* not RAM: enough for reserved, not for devdax; RAM: not enough for system-ram */
    check(SPM_GUEST_MODE_RESERVED, facts_blocks(b, 1), SPM_GUEST_RESERVED, -1, SPM_GUEST_JUDGED_MATCH);
    check(SPM_GUEST_MODE_DEVDAX, facts_blocks(b, 1), SPM_GUEST_RESERVED, -1,
          SPM_GUEST_JUDGED_UNDETERMINED);
    check(SPM_GUEST_MODE_SYSTEM_RAM, facts_blocks(b, 2), SPM_GUEST_SYSTEM_RAM, -1,
          SPM_GUEST_JUDGED_UNDETERMINED);
}

static void
test_no_agent(void)
{
    SpmGuestFacts *f = spm_guest_facts_new();

    f->agent_error = g_strdup("QEMU guest agent is not connected");
    check(SPM_GUEST_MODE_RESERVED, f, SPM_GUEST_UNKNOWN, -1, SPM_GUEST_JUDGED_UNDETERMINED);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/guest-verdict/ovmf-reserved", test_ovmf_reserved);
    g_test_add_func("/guest-verdict/devdax", test_devdax);
    g_test_add_func("/guest-verdict/kmem", test_kmem);
    g_test_add_func("/guest-verdict/leaked-and-missing", test_leaked_and_missing);
    g_test_add_func("/guest-verdict/blocks-only", test_blocks_only);
    g_test_add_func("/guest-verdict/no-agent", test_no_agent);
    return g_test_run();
}
