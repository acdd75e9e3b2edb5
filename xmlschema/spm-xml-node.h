/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-xml-node.h: small namespace-aware accessors for parsed XML
 * (internal to xmlschema/).
 *
 * "Child" lookups only return elements in the namespace of their parent,
 * so the same code reads <memory> in <devices> (no namespace) and
 * <spm:memory> in virt-spm's metadata.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "spm-xml.h"   /* spm_xml_prop, spm_xml_metadata_element */

G_BEGIN_DECLS

/* Line of @node in its document; 0 when unknown. */
long spm_xml_node_line(xmlNodePtr node);

gboolean spm_xml_same_ns(xmlNodePtr a, xmlNodePtr b);

/* @node is an element with local name @name (any namespace). */
gboolean spm_xml_is_element(xmlNodePtr node, const char *name);

/* First child element called @name in the namespace of @parent; NULL-safe. */
xmlNodePtr spm_xml_child(xmlNodePtr parent, const char *name);

/* Next sibling of @node with the same name and namespace. */
xmlNodePtr spm_xml_next_same(xmlNodePtr node);


/* @node is a text node of white space only (indentation); NULL-safe. */
gboolean spm_xml_is_blank_text(xmlNodePtr node);

/* Text content with surrounding whitespace removed; never NULL. */
char *spm_xml_text(xmlNodePtr node);

/* Text content, or NULL when the element is absent or empty. */
char *spm_xml_text_or_null(xmlNodePtr node);


/*
 * libxml2 reports some errors (encoding conversion, I/O) without a parser
 * context, through per-thread handlers that print to stderr by default.
 * Between push and pop, the calling thread's handlers are @handler (NULL:
 * drop them), so nothing is ever printed.
 */
typedef struct {
    xmlStructuredErrorFunc old_structured;
    void *old_structured_data;
    xmlGenericErrorFunc old_generic;
    void *old_generic_data;
} SpmXmlErrorGuard;

void spm_xml_error_guard_push(SpmXmlErrorGuard *guard,
                              xmlStructuredErrorFunc handler,
                              void *data);
void spm_xml_error_guard_pop(SpmXmlErrorGuard *guard);

G_END_DECLS
