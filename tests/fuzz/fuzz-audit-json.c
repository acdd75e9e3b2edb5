/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-audit-json.c: the JSON virt-spm reads from files and from virt-spmd:
 * an audit plan (`virt-spm audit --plan FILE`, `virt-spm plan --json`
 * output) and a verdict (a virt-spmd reply).  The first byte picks which.
 */
#include "fuzz-common.h"

#include "spm-audit.h"
#include "spm-json-guard.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;

    if (size < 1)
        return 0;
    if (data[0] & 1) {
        g_autoptr(SpmAuditPlan) plan = spm_audit_plan_from_json((const char *)data + 1, size - 1, &error);

        if (!plan)
            SPM_FUZZ_CLEAN_ERROR(error);
    } else {
        g_autoptr(JsonNode) node = spm_json_guard_parse((const char *)data + 1, size - 1,
                                                        SPM_JSON_MAX_DEPTH, &error);
        g_autoptr(SpmVerdict) v = NULL;
        g_autofree char *json = NULL;

        if (!node) {
            SPM_FUZZ_CLEAN_ERROR(error);
            return 0;
        }
        v = spm_verdict_from_json(node, &error);
        if (!v) {
            SPM_FUZZ_CLEAN_ERROR(error);
            return 0;
        }
        json = spm_verdict_to_json_string(v, FALSE);
        SPM_FUZZ_CHECK(json, "a verdict that does not print");
    }
    return 0;
}
