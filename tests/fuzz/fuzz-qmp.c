/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-qmp.c: a hostile QMP peer's reply to query-memory-devices through
 * the reply parser (size and depth guards), the device reader, the audit
 * comparison with a plan, and the verdict's JSON form and back.
 */
#include "fuzz-common.h"

#include "spm-audit.h"
#include "spm-memdev-info.h"
#include "spm-qmp.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = g_strndup((const char *)data, size);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(GPtrArray) devices = NULL;
    g_autoptr(SpmAuditPlan) plan = NULL;
    g_autoptr(SpmVerdict) verdict = NULL;
    g_autoptr(SpmVerdict) back = NULL;
    g_autoptr(JsonNode) node = NULL;

    ret = spm_qmp_reply_parse("query-memory-devices", text, 1024 * 1024, &error);
    if (!ret) {
        SPM_FUZZ_CLEAN_ERROR(error);
        return 0;
    }
    devices = spm_memdev_info_parse(ret, &error);
    if (!devices) {
        SPM_FUZZ_CLEAN_ERROR(error);
        return 0;
    }
    plan = spm_audit_plan_new(NULL);
    spm_audit_plan_add(plan, "dev0", "spm", 0x200000000ULL, 0x200000000ULL, 1, "spm0");
    spm_audit_plan_add(plan, "dimm0", "dimm", 0x100000000ULL, 0x40000000ULL, 0, NULL);
    verdict = spm_audit_compare(plan, devices, "fuzz", "c7a5fdbd-cdaf-9455-926a-d65c16db1809");
    SPM_FUZZ_CHECK(verdict, "no verdict");
    node = spm_verdict_to_json(verdict);
    back = spm_verdict_from_json(node, &error);
    SPM_FUZZ_CHECK(back, "a verdict's JSON does not read back: %s", error->message);
    SPM_FUZZ_CHECK(back->kind == verdict->kind, "a verdict's kind changes through JSON");
    return 0;
}
