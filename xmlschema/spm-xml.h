/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-xml.h: hardened reading of untrusted XML, and the names virt-spm uses.
 *
 * No network, no external entities, no entity expansion, no DTD loading,
 * bounded input size and element depth.  Every other file reads XML
 * through these functions.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

/* virt-spm's metadata namespace and the one of libvirt's QEMU extensions. */
#define SPM_XMLNS        "http://virt-spm.org/xmlns/domain/1.0"
#define SPM_XMLNS_PREFIX "spm"
#define QEMU_XMLNS       "http://libvirt.org/schemas/domain/qemu/1.0"
#define QEMU_XMLNS_PREFIX "qemu"

#define SPM_XML_MAX_BYTES (16 * 1024 * 1024)
#define SPM_XML_MAX_DEPTH 64

/* Read @path ("-" = standard input). */
xmlDocPtr spm_xml_read_file(const char *path, GError **error);

/* Parse @len bytes of @buf; @name is used in messages. */
xmlDocPtr spm_xml_read_memory(const char *buf, gsize len, const char *name, GError **error);

/* <metadata><spm:spm> (namespace SPM_XMLNS, any prefix) of <domain> @root; NULL if none. */
xmlNodePtr spm_xml_metadata_element(xmlNodePtr root);

/*
 * FALSE (SPM_ERROR_INVALID, one line naming it) when <metadata> holds a
 * second element in virt-spm's namespace.  libvirt reads and replaces only
 * the first element of a namespace and keeps the others as they are, so a
 * second one would be stale the moment virt-spm rewrites the first.
 */
gboolean spm_xml_metadata_check_single(xmlNodePtr root, GError **error);

/* Attribute without namespace, g_malloc'ed; NULL if absent. */
char *spm_xml_prop(xmlNodePtr node, const char *name);

/* Serialize the whole document, formatted as libvirt does (2 spaces). */
char *spm_xml_format(xmlDocPtr doc);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

/*
 * Which namespaces an element may be in: exactly @ns_href (NULL: in no
 * namespace), or any whose URI starts with @ns_href (Nova versions its
 * namespace: .../nova/1.0, 1.1, ...).
 */
typedef enum {
    SPM_XML_NS_EXACT,
    SPM_XML_NS_PREFIX,
} SpmXmlNsRule;

/* @node is an element @name in the namespace @ns_href, by @rule; NULL-safe. */
gboolean spm_xml_element_in(xmlNodePtr node, const char *name, const char *ns_href,
                            SpmXmlNsRule rule);

/* The first child element of @parent that spm_xml_element_in() accepts; NULL-safe. */
xmlNodePtr spm_xml_child_in(xmlNodePtr parent, const char *name, const char *ns_href,
                            SpmXmlNsRule rule);

G_END_DECLS
