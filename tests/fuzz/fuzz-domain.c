/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-domain.c: hostile domain XML through the reader, the domain parser,
 * the planner, the argument builder and the plan's two printed forms.
 * Every failure must be a clean one-line error.
 */
#include "fuzz-common.h"

#include "spm-argv.h"
#include "spm-domain-parse.h"
#include "spm-plan-format.h"
#include "spm-xml.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const SpmPlanPolicy *policy = spm_fuzz_policy();
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_memory((const char *)data, size, "fuzz", &error);
    g_autoptr(SpmPlan) plan = NULL;     /* freed before the def it borrows */
    g_autoptr(SpmDomainDef) def = NULL;
    g_auto(GStrv) argv = NULL;
    g_autofree char *json = NULL;
    g_autofree char *table = NULL;

    if (!doc) {
        SPM_FUZZ_CLEAN_ERROR(error);
        return 0;
    }
    if (!(def = spm_domain_def_parse(doc, &error)) ||
        !(plan = spm_plan_build(def, policy, &error)) ||
        !(argv = spm_argv_build(plan, policy->stand_in_driver, &error))) {
        SPM_FUZZ_CLEAN_ERROR(error);
        return 0;
    }
    json = spm_plan_to_json(plan, TRUE);
    table = spm_plan_to_table(plan);
    SPM_FUZZ_CHECK(json && table, "a plan that does not print");
    return 0;
}
