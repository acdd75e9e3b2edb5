/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-schema.c: RelaxNG validation of the SPM parts of a domain
 *
 * Each <devices><memory model='spm'> and virt-spm's <metadata><spm:spm>
 * is copied alone into its own document and validated against
 * xmlschema/spm.rng, so libvirt's own elements never meet our schema.
 * Errors are one line: "line N: PATH: does not match the schema: REASON".
 */
#include "spm-domain-parse.h"
#include "spm-error.h"
#include "spm-xml.h"
#include "spm-xml-node.h"
#include "spm-build-config.h"

#include <string.h>
#include <libxml/relaxng.h>

typedef struct {
    char *first;        /* first error, one line */
    xmlNodePtr root;    /* root of the copy being validated, for paths */
    const char *prefix; /* path of the copied element's parent, "" or ".../" */
} SpmSchemaErrors;

/* Path of @node inside the copied element, e.g. "memory[model='spm']/target". */
static char *
spm_schema_path_of(xmlNodePtr node)
{
    g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
    GString *path = g_string_new(NULL);

    for (xmlNodePtr cur = node; cur && cur->type == XML_ELEMENT_NODE; cur = cur->parent) {
        g_autofree char *model = NULL;
        char *part;

        if (cur->ns && cur->ns->prefix)
            part = g_strdup_printf("%s:%s", cur->ns->prefix, cur->name);
        else
            part = g_strdup((const char *)cur->name);
        if (xmlStrEqual(cur->name, (const xmlChar *)"memory") &&
            (model = spm_xml_prop(cur, "model"))) {
            char *with = g_strdup_printf("%s[model='%s']", part, model);

            g_free(part);
            part = with;
        }
        g_ptr_array_insert(parts, 0, part);
    }
    for (guint i = 0; i < parts->len; i++) {
        if (i)
            g_string_append_c(path, '/');
        g_string_append(path, g_ptr_array_index(parts, i));
    }
    return g_string_free(path, FALSE);
}

static void
spm_schema_error(void *data, xmlErrorPtr err)
{
    SpmSchemaErrors *errs = data;
    g_autofree char *msg = NULL;
    g_autofree char *path = NULL;
    xmlNodePtr node;
    long line;

    if (!err || errs->first)
        return;
    msg = g_strstrip(g_strdup(err->message ? err->message : "invalid"));
    for (char *p = msg; *p; p++) {
        if (*p == '\n')
            *p = ' ';
    }
    node = err->node;
    if (node && node->type == XML_ELEMENT_NODE) {
        path = spm_schema_path_of(node);
        line = spm_xml_node_line(node);
    } else {
        path = errs->root ? spm_schema_path_of(errs->root) : g_strdup("schema");
        line = err->line > 0 ? err->line : spm_xml_node_line(errs->root);
    }
    if (line > 0)
        errs->first = g_strdup_printf("line %ld: %s%s: does not match the schema: %s",
                                      line, errs->prefix, path, msg);
    else
        errs->first = g_strdup_printf("%s%s: does not match the schema: %s",
                                      errs->prefix, path, msg);
}

/* Validate a copy of @node, alone in its own document. */
static gboolean
spm_schema_validate_node(xmlRelaxNGPtr schema, xmlNodePtr node, const char *prefix,
                         GError **error)
{
    g_autoptr(xmlDoc) doc = xmlNewDoc((const xmlChar *)"1.0");
    SpmSchemaErrors errs = { .prefix = prefix };
    SpmXmlErrorGuard guard;
    xmlRelaxNGValidCtxtPtr vctxt;
    xmlNodePtr copy;
    int rc;

    copy = xmlDocCopyNode(node, doc, 1);
    if (!copy) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "cannot copy element '%s'",
                    (const char *)node->name);
        return FALSE;
    }
    xmlDocSetRootElement(doc, copy);
    errs.root = copy;

    vctxt = xmlRelaxNGNewValidCtxt(schema);
    if (!vctxt) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "cannot create a RelaxNG validator");
        return FALSE;
    }
    xmlRelaxNGSetValidStructuredErrors(vctxt, spm_schema_error, &errs);
    spm_xml_error_guard_push(&guard, NULL, NULL);
    rc = xmlRelaxNGValidateDoc(vctxt, doc);
    spm_xml_error_guard_pop(&guard);
    xmlRelaxNGFreeValidCtxt(vctxt);

    if (rc != 0) {
        if (!errs.first) {
            g_autofree char *path = spm_schema_path_of(node);

            errs.first = g_strdup_printf("line %ld: %s%s: does not match the schema",
                                         spm_xml_node_line(node), prefix, path);
        }
        g_set_error_literal(error, SPM_ERROR, SPM_ERROR_INVALID, errs.first);
        g_free(errs.first);
        return FALSE;
    }
    g_free(errs.first);
    return TRUE;
}

static void
spm_schema_parse_error(void *data, xmlErrorPtr err)
{
    char **first = data;

    if (err && !*first && err->level >= XML_ERR_ERROR)
        *first = g_strstrip(g_strdup(err->message ? err->message : "invalid schema"));
}

static xmlRelaxNGPtr
spm_schema_load(const char *path, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autofree char *first = NULL;
    xmlRelaxNGParserCtxtPtr pctxt;
    SpmXmlErrorGuard guard;
    xmlRelaxNGPtr schema;

    /* Read the schema with the hardened reader too: no network, no noise. */
    doc = spm_xml_read_file(path, error);
    if (!doc)
        return NULL;
    pctxt = xmlRelaxNGNewDocParserCtxt(doc);
    if (!pctxt) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "%s: cannot create a RelaxNG parser", path);
        return NULL;
    }
    xmlRelaxNGSetParserStructuredErrors(pctxt, spm_schema_parse_error, &first);
    spm_xml_error_guard_push(&guard, NULL, NULL);
    schema = xmlRelaxNGParse(pctxt);
    spm_xml_error_guard_pop(&guard);
    xmlRelaxNGFreeParserCtxt(pctxt);
    if (!schema) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "%s: not a usable RelaxNG schema: %s", path,
                    first ? first : "unknown error");
        return NULL;
    }
    return schema;
}

gboolean
spm_domain_validate_schema(xmlDocPtr doc, const char *schema_path, GError **error)
{
    const char *path = schema_path ? schema_path : VIRT_SPM_DATADIR "/schemas/spm.rng";
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlNodePtr devices = spm_xml_child(root, "devices");
    xmlNodePtr meta = spm_xml_metadata_element(root);
    xmlRelaxNGPtr schema;
    gboolean ok = TRUE;

    if (!root) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "document has no root element");
        return FALSE;
    }
    schema = spm_schema_load(path, error);
    if (!schema)
        return FALSE;

    for (xmlNodePtr n = spm_xml_child(devices, "memory"); ok && n; n = spm_xml_next_same(n)) {
        g_autofree char *model = spm_xml_prop(n, "model");

        if (model && g_str_equal(model, "spm"))
            ok = spm_schema_validate_node(schema, n, "", error);
    }
    /*
     * libxml2 reports a bad element inside an <interleave> only as "Extra
     * element devices in interleave" at the top.  Validating the metadata
     * as a whole costs one run; only when it fails, validate each device on
     * its own, so that the error points into the device.
     */
    if (ok && meta) {
        g_autoptr(GError) whole = NULL;
        xmlNodePtr mdevs = spm_xml_child(meta, "devices");
        g_autofree char *prefix = NULL;

        if (spm_schema_validate_node(schema, meta, "metadata/", &whole))
            goto out;
        if (mdevs) {
            g_autofree char *ppath = spm_schema_path_of(mdevs);
            const char *rel = ppath;

            /* paths are relative to <domain>, like the parser's */
            if (g_str_has_prefix(rel, "domain/"))
                rel += strlen("domain/");
            prefix = g_strdup_printf("%s/", rel);
        }
        for (xmlNodePtr n = spm_xml_child(mdevs, "memory"); ok && n; n = spm_xml_next_same(n))
            ok = spm_schema_validate_node(schema, n, prefix, error);
        if (ok) {
            g_propagate_error(error, g_steal_pointer(&whole));
            ok = FALSE;
        }
    }

 out:
    xmlRelaxNGFree(schema);
    return ok;
}
