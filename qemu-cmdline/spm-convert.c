/* spm-convert.c: placeholder, implemented in its own change */
#include "spm-error.h"
#include "spm-convert.h"
gboolean spm_convert_forward(xmlDocPtr doc, const SpmPlanPolicy *policy, SpmPlan **plan_out, SpmDomainDef **def_out, GError **error)
{ g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "not implemented"); return FALSE; }
gboolean spm_convert_reverse(xmlDocPtr doc, GError **error)
{ g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "not implemented"); return FALSE; }
gboolean spm_convert_check_current(xmlDocPtr doc, const SpmPlanPolicy *policy, gboolean *has_spm, GError **error)
{ g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "not implemented"); return FALSE; }
