/* spm-domain-parse.c: placeholder, implemented in its own change */
#include "spm-error.h"
#include "spm-domain-parse.h"
SpmDomainDef *spm_domain_def_parse(xmlDocPtr doc, GError **error)
{ g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "not implemented"); return NULL; }
SpmMemDevice *spm_mem_device_parse(xmlNodePtr node, GError **error)
{ g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "not implemented"); return NULL; }
gboolean spm_domain_validate_schema(xmlDocPtr doc, const char *schema_path, GError **error)
{ g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "not implemented"); return FALSE; }
