/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-plan: microseconds per spm_plan_build() for an 8-device and a
 * 1,000-device domain (planning must stay O(n log n)).  Prints figures,
 * asserts nothing about time.
 */
#include <stdio.h>

#include "spm-error.h"
#include "plan-test-util.h"

static SpmDomainDef *
bench_domain(guint ndev, gboolean with_dimms)
{
    SpmDomainDef *def = pt_domain(SPM_MACHINE_Q35);

    def->firmware_efi = TRUE;
    def->maxphysaddr_mode = g_strdup("emulate");
    def->maxphysaddr_bits = 48;
    pt_cell(def, 4 * SPM_GiB);
    pt_cell(def, 4 * SPM_GiB);
    for (guint i = 0, nspm = 0; i < ndev; i++) {
        SpmMemDevice *m;

        if (with_dimms && i % 4 == 3) {
            pt_mem(def, SPM_MEM_MODEL_DIMM, 512 * SPM_MiB, i % 2, NULL);
            continue;
        }
        m = pt_spm(def, SPM_GiB, 2 + nspm++ % 100, NULL);
        if (i % 10 == 9) {
            m->has_base = TRUE;
            m->base = 0x40000000000 + (guint64)i * 3 * SPM_GiB;
        }
    }
    return def;
}

static void
bench(const char *what, const SpmDomainDef *def, const SpmPlanPolicy *policy, guint rounds)
{
    gint64 t0 = g_get_monotonic_time();
    guint n = 0;

    for (guint r = 0; r < rounds; r++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(SpmPlan) plan = spm_plan_build(def, policy, &err);

        if (!plan)
            g_error("%s: %s", what, err->message);
        n = plan->devices->len;
    }
    printf("%-34s %5u devices: %10.1f us per spm_plan_build\n", what, n,
           (double)(g_get_monotonic_time() - t0) / rounds);
}

int
main(void)
{
    SpmPlanPolicy policy;
    g_autoptr(SpmDomainDef) d8 = bench_domain(8, TRUE);
    g_autoptr(SpmDomainDef) d1000 = bench_domain(1000, FALSE);
    g_autoptr(SpmDomainDef) d4000 = bench_domain(4000, FALSE);

    spm_plan_policy_init(&policy);
    policy.host.libvirt_version = 11003000;
    policy.strict = FALSE;   /* >128 SPM devices share nodes */
    bench("8 devices (6 SPM + 2 DIMM)", d8, &policy, 2000);
    bench("1000 SPM devices", d1000, &policy, 50);
    bench("4000 SPM devices (scaling check)", d4000, &policy, 10);
    spm_plan_policy_clear(&policy);
    return 0;
}
