/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-xml-node.c: reading elements, attributes and text of a parsed
 * document, namespace-aware, for the domain parser and the schema check.
 */
#include "spm-error.h"
#include "spm-xml-node.h"
#include "spm-xml.h"

long
spm_xml_node_line(xmlNodePtr node)
{
    long line = node ? xmlGetLineNo(node) : -1;

    return line > 0 ? line : 0;
}

gboolean
spm_xml_same_ns(xmlNodePtr a, xmlNodePtr b)
{
    const xmlChar *ha = a->ns ? a->ns->href : NULL;
    const xmlChar *hb = b->ns ? b->ns->href : NULL;

    if (!ha || !hb)
        return ha == hb;
    return xmlStrEqual(ha, hb);
}

gboolean
spm_xml_is_element(xmlNodePtr node, const char *name)
{
    return node && node->type == XML_ELEMENT_NODE &&
           xmlStrEqual(node->name, (const xmlChar *)name);
}

gboolean
spm_xml_element_in(xmlNodePtr node, const char *name, const char *ns_href, SpmXmlNsRule rule)
{
    const char *href;

    if (!spm_xml_is_element(node, name))
        return FALSE;
    href = node->ns ? (const char *)node->ns->href : NULL;
    if (!ns_href || !href)
        return href == ns_href;
    switch (rule) {
    case SPM_XML_NS_EXACT:
        return g_str_equal(href, ns_href);
    case SPM_XML_NS_PREFIX:
        return g_str_has_prefix(href, ns_href);
    }
    return FALSE;
}

xmlNodePtr
spm_xml_child_in(xmlNodePtr parent, const char *name, const char *ns_href, SpmXmlNsRule rule)
{
    for (xmlNodePtr cur = parent ? parent->children : NULL; cur; cur = cur->next) {
        if (spm_xml_element_in(cur, name, ns_href, rule))
            return cur;
    }
    return NULL;
}

/* First child element called @name in the namespace of @parent. */
xmlNodePtr
spm_xml_child(xmlNodePtr parent, const char *name)
{
    if (!parent)
        return NULL;
    return spm_xml_child_in(parent, name, parent->ns ? (const char *)parent->ns->href : NULL,
                            SPM_XML_NS_EXACT);
}

/* Next sibling of @node with the same name and namespace. */
xmlNodePtr
spm_xml_next_same(xmlNodePtr node)
{
    for (xmlNodePtr cur = node->next; cur; cur = cur->next) {
        if (spm_xml_is_element(cur, (const char *)node->name) && spm_xml_same_ns(cur, node))
            return cur;
    }
    return NULL;
}

/* Attribute without namespace, as a g_malloc'ed string; NULL if absent. */
char *
spm_xml_prop(xmlNodePtr node, const char *name)
{
    xmlChar *v = node ? xmlGetNoNsProp(node, (const xmlChar *)name) : NULL;
    char *ret = v ? g_strdup((const char *)v) : NULL;

    xmlFree(v);
    return ret;
}

/* Text content with surrounding whitespace removed; never NULL. */
char *
spm_xml_text(xmlNodePtr node)
{
    xmlChar *v = node ? xmlNodeGetContent(node) : NULL;
    char *ret = g_strdup(v ? (const char *)v : "");

    xmlFree(v);
    return g_strstrip(ret);
}

/* Text content, or NULL when the element is absent or empty. */
char *
spm_xml_text_or_null(xmlNodePtr node)
{
    char *t;

    if (!node)
        return NULL;
    t = spm_xml_text(node);
    if (!*t) {
        g_free(t);
        return NULL;
    }
    return t;
}

/* <metadata><spm:spm><spm:devices><spm:memory model='spm'>... */
xmlNodePtr
spm_xml_metadata_element(xmlNodePtr root)
{
    xmlNodePtr metadata = spm_xml_child(root, "metadata");

    if (!metadata)
        return NULL;
    for (xmlNodePtr cur = metadata->children; cur; cur = cur->next) {
        if (spm_xml_is_element(cur, "spm") && cur->ns &&
            xmlStrEqual(cur->ns->href, (const xmlChar *)SPM_XMLNS))
            return cur;
    }
    return NULL;
}

gboolean
spm_xml_metadata_check_single(xmlNodePtr root, GError **error)
{
    xmlNodePtr meta = root ? spm_xml_metadata_element(root) : NULL;

    for (xmlNodePtr n = meta ? meta->next : NULL; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && n->ns &&
            xmlStrEqual(n->ns->href, (const xmlChar *)SPM_XMLNS)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "line %ld: metadata: a second element '%s' in virt-spm's namespace %s; "
                        "keep one", spm_xml_node_line(n), (const char *)n->name, SPM_XMLNS);
            return FALSE;
        }
    }
    return TRUE;
}

static void
spm_xml_silent_structured(void *data, xmlErrorPtr err)
{
}

static void G_GNUC_PRINTF(2, 3)
spm_xml_silent_generic(void *data, const char *msg, ...)
{
}

void
spm_xml_error_guard_push(SpmXmlErrorGuard *guard,
                         xmlStructuredErrorFunc handler,
                         void *data)
{
    guard->old_structured = xmlStructuredError;
    guard->old_structured_data = xmlStructuredErrorContext;
    guard->old_generic = xmlGenericError;
    guard->old_generic_data = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(data, handler ? handler : spm_xml_silent_structured);
    xmlSetGenericErrorFunc(NULL, spm_xml_silent_generic);
}

void
spm_xml_error_guard_pop(SpmXmlErrorGuard *guard)
{
    xmlSetStructuredErrorFunc(guard->old_structured_data, guard->old_structured);
    xmlSetGenericErrorFunc(guard->old_generic_data, guard->old_generic);
}

gboolean
spm_xml_is_blank_text(xmlNodePtr node)
{
    if (!node || node->type != XML_TEXT_NODE)
        return FALSE;
    for (const xmlChar *p = node->content; p && *p; p++) {
        if (!g_ascii_isspace(*p))
            return FALSE;
    }
    return TRUE;
}
