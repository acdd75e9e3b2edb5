/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-xml.c: hardened reading of untrusted XML, and libvirt-like output
 *
 * Domain XML reaches virt-spm from users, from libvirt hooks (stdin) and
 * from Nova, so the reader assumes hostile input:
 *  - no network access (XML_PARSE_NONET) and no external subset loading;
 *  - no entity substitution and no DTD: a DOCTYPE with an external
 *    identifier, any declaration in an internal subset (entity, element,
 *    attribute list, notation) and any entity reference (other than the
 *    five predefined ones and character references) stop the parse with
 *    an error; a bare <!DOCTYPE domain> is harmless and accepted.  This is done in SAX callbacks so an entity bomb is refused
 *    at its first declaration, before libxml2 builds anything from it;
 *  - the input is at most SPM_XML_MAX_BYTES, checked before parsing and
 *    while reading, so an endless stdin cannot exhaust memory;
 *  - elements nest at most SPM_XML_MAX_DEPTH deep, checked as each start
 *    tag is seen;
 *  - libxml2 never prints: errors go through a structured handler on the
 *    parser context and the first one becomes a one-line
 *    "NAME:LINE: MESSAGE" GError.
 */
#include "spm-xml.h"
#include "spm-xml-node.h"
#include "spm-error.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlsave.h>

#define SPM_XML_PARSE_OPTIONS \
    (XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA | \
     XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES)

/* State of one parse, reached from the SAX callbacks via ctxt->_private. */
typedef struct {
    const char *name;
    guint depth;
    /* our own refusal (entity, DOCTYPE, depth): wins over libxml2's errors */
    char *refusal;
    /* the first error libxml2 reported */
    char *first_error;
} SpmXmlParseState;

/* Make a libxml2 message fit on one line and drop its trailing newline. */
static char *
spm_xml_one_line(const char *msg)
{
    char *s = g_strdup(msg ? msg : "unknown XML error");

    for (char *p = s; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    }
    return g_strstrip(s);
}

static char *
spm_xml_located(const char *name, long line, const char *msg)
{
    g_autofree char *one = spm_xml_one_line(msg);

    if (line > 0)
        return g_strdup_printf("%s:%ld: %s", name, line, one);
    return g_strdup_printf("%s: %s", name, one);
}

static SpmXmlParseState *
spm_xml_state(void *ctx)
{
    xmlParserCtxtPtr ctxt = ctx;

    return ctxt->_private;
}

/* Refuse the document: remember why and stop libxml2 right here. */
static void G_GNUC_PRINTF(2, 3)
spm_xml_refuse(void *ctx, const char *fmt, ...)
{
    xmlParserCtxtPtr ctxt = ctx;
    SpmXmlParseState *st = spm_xml_state(ctx);
    g_autofree char *msg = NULL;
    va_list ap;

    if (!st->refusal) {
        va_start(ap, fmt);
        msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        st->refusal = spm_xml_located(st->name, xmlSAX2GetLineNumber(ctx), msg);
    }
    xmlStopParser(ctxt);
}

/* Errors raised with the parser context, and (through the thread's
 * handler, see spm_xml_error_guard_push) those raised without one, such as
 * encoding conversion failures: those carry no line, take the parser's. */
static void
spm_xml_structured_error(void *ctx, xmlErrorPtr err)
{
    xmlParserCtxtPtr ctxt = ctx;
    SpmXmlParseState *st = spm_xml_state(ctx);
    long line;

    if (!err || err->level < XML_ERR_ERROR || st->first_error)
        return;
    line = err->line;
    if (line <= 0 && ctxt->input)
        line = ctxt->input->line;
    st->first_error = spm_xml_located(st->name, line, err->message);
}

static void
spm_xml_internal_subset(void *ctx,
                        const xmlChar *name,
                        const xmlChar *external_id,
                        const xmlChar *system_id)
{
    if (external_id || system_id) {
        spm_xml_refuse(ctx, "DOCTYPE '%s' refers to external DTD '%s': external DTDs are not allowed",
                       name ? (const char *)name : "",
                       system_id ? (const char *)system_id : (const char *)external_id);
        return;
    }
    xmlSAX2InternalSubset(ctx, name, external_id, system_id);
}

static void
spm_xml_external_subset(void *ctx,
                        const xmlChar *name,
                        const xmlChar *external_id,
                        const xmlChar *system_id)
{
    /* never load anything; spm_xml_internal_subset already refused */
}

static void
spm_xml_entity_decl(void *ctx,
                    const xmlChar *name,
                    int type,
                    const xmlChar *public_id,
                    const xmlChar *system_id,
                    xmlChar *content)
{
    spm_xml_refuse(ctx, "DOCTYPE declares entity '%s': entity declarations are not allowed",
                   name ? (const char *)name : "");
}

static void
spm_xml_unparsed_entity_decl(void *ctx,
                             const xmlChar *name,
                             const xmlChar *public_id,
                             const xmlChar *system_id,
                             const xmlChar *notation)
{
    spm_xml_refuse(ctx, "DOCTYPE declares entity '%s': entity declarations are not allowed",
                   name ? (const char *)name : "");
}

/*
 * Attribute lists can default attributes and, worse, namespace
 * declarations (libxml2 applies those even without DTD attribute
 * defaulting), so no declaration at all is accepted in a DOCTYPE.
 */
static void
spm_xml_attribute_decl(void *ctx,
                       const xmlChar *elem,
                       const xmlChar *fullname,
                       int type,
                       int def,
                       const xmlChar *default_value,
                       xmlEnumerationPtr tree)
{
    xmlFreeEnumeration(tree);   /* ours to free, as in xmlSAX2AttributeDecl */
    spm_xml_refuse(ctx, "DOCTYPE declares attribute '%s' of '%s': DTD declarations are not allowed",
                   fullname ? (const char *)fullname : "", elem ? (const char *)elem : "");
}

static void
spm_xml_element_decl(void *ctx, const xmlChar *name, int type, xmlElementContentPtr content)
{
    spm_xml_refuse(ctx, "DOCTYPE declares element '%s': DTD declarations are not allowed",
                   name ? (const char *)name : "");
}

static void
spm_xml_notation_decl(void *ctx, const xmlChar *name,
                      const xmlChar *public_id, const xmlChar *system_id)
{
    spm_xml_refuse(ctx, "DOCTYPE declares notation '%s': DTD declarations are not allowed",
                   name ? (const char *)name : "");
}

static xmlEntityPtr
spm_xml_get_entity(void *ctx, const xmlChar *name)
{
    spm_xml_refuse(ctx, "entity reference '&%s;' is not allowed",
                   name ? (const char *)name : "");
    return NULL;
}

static xmlEntityPtr
spm_xml_get_parameter_entity(void *ctx, const xmlChar *name)
{
    spm_xml_refuse(ctx, "parameter entity reference '%%%s;' is not allowed",
                   name ? (const char *)name : "");
    return NULL;
}

static void
spm_xml_start_element(void *ctx,
                      const xmlChar *localname,
                      const xmlChar *prefix,
                      const xmlChar *uri,
                      int nb_namespaces,
                      const xmlChar **namespaces,
                      int nb_attributes,
                      int nb_defaulted,
                      const xmlChar **attributes)
{
    SpmXmlParseState *st = spm_xml_state(ctx);

    if (st->depth >= SPM_XML_MAX_DEPTH) {
        spm_xml_refuse(ctx, "element <%s> nests deeper than %d levels",
                       (const char *)localname, SPM_XML_MAX_DEPTH);
        return;
    }
    st->depth++;
    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces,
                          nb_attributes, nb_defaulted, attributes);
}

static void
spm_xml_end_element(void *ctx,
                    const xmlChar *localname,
                    const xmlChar *prefix,
                    const xmlChar *uri)
{
    SpmXmlParseState *st = spm_xml_state(ctx);

    if (st->depth > 0)
        st->depth--;
    xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

static gsize spm_xml_initialized;

xmlDocPtr
spm_xml_read_memory(const char *buf, gsize len, const char *name, GError **error)
{
    SpmXmlParseState st = { .name = name ? name : "(memory)" };
    SpmXmlErrorGuard guard;
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    g_autofree char *err_msg = NULL;

    if (len > SPM_XML_MAX_BYTES) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s: document is %" G_GSIZE_FORMAT " bytes, more than the limit of %d bytes",
                    st.name, len, SPM_XML_MAX_BYTES);
        return NULL;
    }
    if (!buf || len == 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s:1: document is empty", st.name);
        return NULL;
    }

    /* libxml2 wants its global init done once, before threads use it */
    if (g_once_init_enter(&spm_xml_initialized)) {
        xmlInitParser();
        g_once_init_leave(&spm_xml_initialized, 1);
    }
    ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
    if (!ctxt) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "%s: cannot create an XML parser", st.name);
        return NULL;
    }
    /* Also clears the unstructured error/warning channels. */
    xmlCtxtUseOptions(ctxt, SPM_XML_PARSE_OPTIONS);
    ctxt->_private = &st;
    ctxt->sax->initialized = XML_SAX2_MAGIC;
    ctxt->sax->serror = spm_xml_structured_error;
    ctxt->sax->internalSubset = spm_xml_internal_subset;
    ctxt->sax->externalSubset = spm_xml_external_subset;
    ctxt->sax->entityDecl = spm_xml_entity_decl;
    ctxt->sax->unparsedEntityDecl = spm_xml_unparsed_entity_decl;
    ctxt->sax->attributeDecl = spm_xml_attribute_decl;
    ctxt->sax->elementDecl = spm_xml_element_decl;
    ctxt->sax->notationDecl = spm_xml_notation_decl;
    ctxt->sax->getEntity = spm_xml_get_entity;
    ctxt->sax->getParameterEntity = spm_xml_get_parameter_entity;
    ctxt->sax->startElementNs = spm_xml_start_element;
    ctxt->sax->endElementNs = spm_xml_end_element;
    ctxt->sax->reference = NULL;
    /* Belt and braces: none of these may be on. */
    ctxt->replaceEntities = 0;
    ctxt->loadsubset = 0;
    ctxt->validate = 0;
    ctxt->linenumbers = 1;

    spm_xml_error_guard_push(&guard, spm_xml_structured_error, ctxt);
    xmlParseDocument(ctxt);
    spm_xml_error_guard_pop(&guard);

    if (st.refusal) {
        err_msg = g_steal_pointer(&st.refusal);
    } else if (st.first_error) {
        err_msg = g_steal_pointer(&st.first_error);
    } else if (!ctxt->wellFormed || !ctxt->nsWellFormed) {
        err_msg = spm_xml_located(st.name, 0, "document is not well-formed");
    } else if (!ctxt->myDoc || !xmlDocGetRootElement(ctxt->myDoc)) {
        err_msg = spm_xml_located(st.name, 1, "document has no root element");
    }

    doc = ctxt->myDoc;
    ctxt->myDoc = NULL;
    ctxt->_private = NULL;
    xmlFreeParserCtxt(ctxt);
    g_free(st.refusal);
    g_free(st.first_error);

    if (err_msg) {
        xmlFreeDoc(doc);
        g_set_error_literal(error, SPM_ERROR, SPM_ERROR_INVALID, err_msg);
        return NULL;
    }
    return doc;
}

/* Read all of @fd, failing as soon as more than SPM_XML_MAX_BYTES arrive. */
static GBytes *
spm_xml_read_fd(int fd, const char *name, GError **error)
{
    g_autoptr(GByteArray) data = g_byte_array_new();
    guint8 chunk[65536];

    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0) {
            int saved = errno;

            if (saved == EINTR)
                continue;
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                        "%s: cannot read: %s", name, g_strerror(saved));
            return NULL;
        }
        if (n == 0)
            break;
        if (data->len + (gsize)n > SPM_XML_MAX_BYTES) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "%s: document is more than the limit of %d bytes",
                        name, SPM_XML_MAX_BYTES);
            return NULL;
        }
        g_byte_array_append(data, chunk, (guint)n);
    }
    return g_byte_array_free_to_bytes(g_steal_pointer(&data));
}

xmlDocPtr
spm_xml_read_file(const char *path, GError **error)
{
    g_autoptr(GBytes) bytes = NULL;
    const char *name;
    gsize len = 0;
    const char *data;

    if (!path || !*path) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE, "no XML file given");
        return NULL;
    }
    if (g_str_equal(path, "-")) {
        name = "stdin";
        bytes = spm_xml_read_fd(STDIN_FILENO, name, error);
    } else {
        int fd;

        name = path;
        do {
            fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        } while (fd < 0 && errno == EINTR);
        if (fd < 0) {
            int saved = errno;

            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                        "%s: cannot open: %s", path, g_strerror(saved));
            return NULL;
        }
        bytes = spm_xml_read_fd(fd, name, error);
        close(fd);
    }
    if (!bytes)
        return NULL;
    data = g_bytes_get_data(bytes, &len);
    return spm_xml_read_memory(data, len, name, error);
}

/*
 * Whether @node is one of the containers convert adds elements to and takes
 * them out of again.  libvirt's schema gives them element content only, so
 * white space in them means nothing even when it is all they hold:
 * <cpu> </cpu> is <cpu/>, before convert and after reverse alike.
 */
static gboolean
spm_xml_is_element_container(xmlNodePtr node)
{
    static const char *const plain[] = { "domain", "metadata", "cpu", "numa", "devices" };

    if (node->type != XML_ELEMENT_NODE)
        return FALSE;
    if (node->ns)
        return xmlStrEqual(node->ns->href, BAD_CAST QEMU_XMLNS) &&
               xmlStrEqual(node->name, BAD_CAST "commandline");
    for (gsize i = 0; i < G_N_ELEMENTS(plain); i++) {
        if (xmlStrEqual(node->name, BAD_CAST plain[i]))
            return TRUE;
    }
    return FALSE;
}

/*
 * Drop whitespace-only text between elements, so documents built or edited
 * in memory (where someone inserted "\n  ") format exactly like freshly
 * parsed ones.  Text in elements without child elements is left alone,
 * except in the element-only containers above.
 */
static void
spm_xml_strip_blanks(xmlNodePtr parent)
{
    gboolean has_element = spm_xml_is_element_container(parent);
    xmlNodePtr cur;
    xmlNodePtr next;

    for (cur = parent->children; cur && !has_element; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE) {
            has_element = TRUE;
            break;
        }
    }
    for (cur = parent->children; cur; cur = next) {
        next = cur->next;
        if (has_element && spm_xml_is_blank_text(cur)) {
            xmlUnlinkNode(cur);
            xmlFreeNode(cur);
        } else if (cur->type == XML_ELEMENT_NODE) {
            spm_xml_strip_blanks(cur);
        }
    }
}

char *
spm_xml_format(xmlDocPtr doc)
{
    g_autoptr(xmlDoc) copy = NULL;
    xmlBufferPtr buf;
    xmlSaveCtxtPtr save;
    GString *out;

    if (!doc)
        return NULL;
    copy = xmlCopyDoc(doc, 1);
    if (!copy)
        return NULL;
    spm_xml_strip_blanks((xmlNodePtr)copy);

    buf = xmlBufferCreate();
    if (!buf)
        return NULL;
    save = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
    if (!save) {
        xmlBufferFree(buf);
        return NULL;
    }
    xmlSaveDoc(save, copy);
    xmlSaveClose(save);

    out = g_string_new((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    if (out->len == 0 || out->str[out->len - 1] != '\n')
        g_string_append_c(out, '\n');
    return g_string_free(out, FALSE);
}
