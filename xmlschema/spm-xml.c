/* spm-xml.c: placeholder, implemented in its own change */
#include "spm-error.h"
#include "spm-xml.h"
xmlDocPtr spm_xml_read_file(const char *path, GError **error)
{ g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "not implemented"); return NULL; }
xmlDocPtr spm_xml_read_memory(const char *buf, gsize len, const char *name, GError **error)
{ g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "not implemented"); return NULL; }
char *spm_xml_format(xmlDocPtr doc) { return NULL; }
