/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-domain-parse.h: libvirt domain XML to SpmDomainDef.
 *
 * Reads both forms: the user's (<memory model='spm'> in <devices>) and
 * the converted one (the same elements kept in virt-spm's <metadata>).
 * Every error names the element, the value and the line.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include "spm-domain.h"

G_BEGIN_DECLS

SpmDomainDef *spm_domain_def_parse(xmlDocPtr doc, GError **error);

/* Parse one <memory> element (any model), from <devices> or metadata. */
SpmMemDevice *spm_mem_device_parse(xmlNodePtr node, GError **error);

/*
 * Validate each <memory model='spm'> element of @doc against the RelaxNG
 * schema in xmlschema/spm.rng (@schema_path; NULL = the installed one).
 */
gboolean spm_domain_validate_schema(xmlDocPtr doc, const char *schema_path, GError **error);

G_END_DECLS
