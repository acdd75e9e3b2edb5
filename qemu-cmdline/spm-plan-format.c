/* spm-plan-format.c: placeholder, implemented in its own change */
#include "spm-error.h"
#include "spm-plan-format.h"
char *spm_plan_to_json(const SpmPlan *plan, gboolean pretty) { return NULL; }
char *spm_plan_to_table(const SpmPlan *plan) { return NULL; }
