/* spm-plan.c: placeholder, implemented in its own change */
#include <string.h>
#include "spm-error.h"
#include "spm-plan.h"
void spm_plan_policy_init(SpmPlanPolicy *policy) { memset(policy, 0, sizeof(*policy)); }
void spm_plan_policy_clear(SpmPlanPolicy *policy) { }
const char *spm_backend_kind_qom_type(SpmBackendKind kind) { return "?"; }
const char *spm_numa_kind_to_string(SpmNumaKind kind) { return "?"; }
SpmPlan *spm_plan_build(const SpmDomainDef *def, const SpmPlanPolicy *policy, GError **error)
{ g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "not implemented"); return NULL; }
void spm_plan_free(SpmPlan *plan) { }
const SpmPlannedDevice *spm_plan_find_device(const SpmPlan *plan, const char *id) { return NULL; }
