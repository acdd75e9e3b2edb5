/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-convert.c: a user's domain XML to the form libvirt accepts, and back.
 *
 * The converted document differs from the user's in exactly these ways,
 * each recorded in <spm:original> so that reverse can undo it:
 *   - every <memory model='spm'> left <devices> for <metadata><spm:spm>
 *     (its position among the children of <devices> is kept);
 *   - <qemu:commandline> got the generated arguments (also listed in
 *     <spm:argv>, so that the hook can tell when they went stale);
 *   - <maxMemory> was set or raised, <memory> was set to what libvirt will
 *     compute (RAM plus libvirt's own memory devices), and a domain without
 *     NUMA got cell 0.
 * Everything else is left alone, byte for byte as libxml2 round-trips it.
 */
#include "spm-convert.h"

#include <string.h>

#include "spm-argv.h"
#include "spm-domain-parse.h"
#include "spm-error.h"
#include "spm-units.h"
#include "spm-xml.h"
#include "spm-xml-node.h"

#define SPM_META_VERSION "1"

/* ---- small tree helpers ------------------------------------------------ */

/* Elements of virt-spm's, QEMU's and libvirt's namespaces: exact URIs. */
static gboolean
spm_node_is(xmlNodePtr node, const char *name, const char *ns_href)
{
    return spm_xml_element_in(node, name, ns_href, SPM_XML_NS_EXACT);
}

static xmlNodePtr
spm_child(xmlNodePtr parent, const char *name, const char *ns_href)
{
    return spm_xml_child_in(parent, name, ns_href, SPM_XML_NS_EXACT);
}

/* At most one child element @name of @parent (@where names it in the error). */
static gboolean
spm_check_single(xmlNodePtr parent, const char *name, const char *where, GError **error)
{
    xmlNodePtr first = spm_child(parent, name, NULL);

    for (xmlNodePtr c = first ? first->next : NULL; c; c = c->next) {
        if (spm_node_is(c, name, NULL)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "line %ld: %s: a second <%s> element; libvirt allows one",
                        xmlGetLineNo(c), where, name);
            return FALSE;
        }
    }
    return TRUE;
}

/*
 * The elements convert rewrites, which libvirt's schema allows once: with
 * a second one, libvirt would read the first and convert could rewrite
 * either, so reverse would not give the document back.
 */
static gboolean
spm_check_single_elements(xmlNodePtr root, GError **error)
{
    static const char *const once[] = {
        "metadata", "maxMemory", "memory", "currentMemory", "cpu", "devices",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(once); i++) {
        if (!spm_check_single(root, once[i], "domain", error))
            return FALSE;
    }
    return spm_check_single(spm_child(root, "cpu", NULL), "numa", "cpu", error);
}

static char *
spm_content(xmlNodePtr node)
{
    xmlChar *v = xmlNodeGetContent(node);
    char *ret = g_strdup(v ? (const char *)v : "");

    xmlFree(v);
    return ret;
}

/* Set or clear (value NULL) an attribute. */
static void
spm_set_prop(xmlNodePtr node, const char *name, const char *value)
{
    if (value)
        xmlSetProp(node, BAD_CAST name, BAD_CAST value);
    else
        xmlUnsetProp(node, BAD_CAST name);
}

static void
spm_set_prop_u64(xmlNodePtr node, const char *name, guint64 value)
{
    g_autofree char *s = g_strdup_printf("%" G_GUINT64_FORMAT, value);

    spm_set_prop(node, name, s);
}

static void
spm_unlink_free(xmlNodePtr node)
{
    xmlUnlinkNode(node);
    xmlFreeNode(node);
}

/*
 * Move @node and every element below it from namespace @from (NULL: none,
 * else matched by URI) to @to.  An element in any other namespace (another
 * application's extension) keeps its namespace and so does everything
 * inside it, which is that application's vocabulary, so that reverse
 * (which descends the same way) gives them back.
 */
static void
spm_move_ns_recursive(xmlNodePtr node, const char *from, xmlNsPtr to)
{
    for (xmlNodePtr c = node; c; c = c->next) {
        gboolean match;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        match = from ? c->ns && xmlStrEqual(c->ns->href, BAD_CAST from) : c->ns == NULL;
        if (!match)
            continue;
        xmlSetNs(c, to);
        spm_move_ns_recursive(c->children, from, to);
    }
}

/* Whether any element or attribute of the tree at @node uses @ns. */
static gboolean
spm_ns_in_use(xmlNodePtr node, xmlNsPtr ns)
{
    for (xmlNodePtr c = node; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (c->ns == ns)
            return TRUE;
        for (xmlAttrPtr a = c->properties; a; a = a->next) {
            if (a->ns == ns)
                return TRUE;
        }
        if (spm_ns_in_use(c->children, ns))
            return TRUE;
    }
    return FALSE;
}

/*
 * Drop the namespace declarations on @node that nothing in its tree uses
 * any more: libxml2 puts the SPM namespace there when copying a device out
 * of <spm:spm>.  One still used (a prefixed attribute, another
 * application's element) stays, or its users would point at freed memory.
 */
static void
spm_drop_unused_ns_defs(xmlNodePtr node)
{
    xmlNsPtr *prev = &node->nsDef;

    while (*prev) {
        xmlNsPtr ns = *prev;

        if (spm_ns_in_use(node, ns)) {
            prev = &ns->next;
            continue;
        }
        *prev = ns->next;
        ns->next = NULL;
        xmlFreeNs(ns);
    }
}

/* Point every element and attribute at or below @node that uses @from at @to. */
static void
spm_retarget_ns(xmlNodePtr node, xmlNsPtr from, xmlNsPtr to)
{
    if (node->type != XML_ELEMENT_NODE)
        return;
    if (node->ns == from)
        node->ns = to;
    for (xmlAttrPtr a = node->properties; a; a = a->next) {
        if (a->ns == from)
            a->ns = to;
    }
    for (xmlNodePtr c = node->children; c; c = c->next)
        spm_retarget_ns(c, from, to);
}

/*
 * Drop the declarations on @node (already in its place) that its parent
 * already has in scope with the same prefix and URI: libxml2 declares on
 * a copied device the namespaces it uses from outside it (another
 * application's element, declared on <domain>), which the user's device
 * did not carry.
 */
static void
spm_drop_redundant_ns_defs(xmlNodePtr node)
{
    xmlNsPtr *prev = &node->nsDef;

    while (*prev) {
        xmlNsPtr ns = *prev;
        xmlNsPtr outer = xmlSearchNs(node->doc, node->parent, ns->prefix);

        if (!outer || !xmlStrEqual(outer->href, ns->href)) {
            prev = &ns->next;
            continue;
        }
        spm_retarget_ns(node, ns, outer);
        *prev = ns->next;
        ns->next = NULL;
        xmlFreeNs(ns);
    }
}

/* Whether @node is one reverse counts to put a device back: a comment, a
 * processing instruction or a text that is not only white space. */
static gboolean
spm_is_counted(xmlNodePtr node)
{
    return node->type == XML_COMMENT_NODE || node->type == XML_PI_NODE ||
           (node->type == XML_TEXT_NODE && !spm_xml_is_blank_text(node));
}

/* Counted nodes between @node and the element before it. */
static guint
spm_count_nodes_before(xmlNodePtr node)
{
    guint n = 0;

    for (xmlNodePtr c = node->prev; c && c->type != XML_ELEMENT_NODE; c = c->prev) {
        if (spm_is_counted(c))
            n++;
    }
    return n;
}

/*
 * Insert @node as the @index-th element child of @parent (or last), after
 * @skip counted nodes (spm_is_counted) that follow the element before it:
 * those were between that element and @node.
 */
static void
spm_insert_at_element_index(xmlNodePtr parent, xmlNodePtr node, guint index, guint skip)
{
    xmlNodePtr prev = NULL;     /* the (index-1)-th element, or none */
    xmlNodePtr at;
    guint i = 0;

    if (index > 0) {
        for (xmlNodePtr c = parent->children; c; c = c->next) {
            if (c->type == XML_ELEMENT_NODE && ++i == index) {
                prev = c;
                break;
            }
        }
        if (!prev) {
            xmlAddChild(parent, node);
            return;
        }
    }
    at = prev ? prev->next : parent->children;
    for (; at && at->type != XML_ELEMENT_NODE; at = at->next) {
        if (!spm_is_counted(at))
            continue;
        if (skip == 0)
            break;
        skip--;
    }
    if (at)
        xmlAddPrevSibling(at, node);
    else
        xmlAddChild(parent, node);
}

/*
 * Insert @node into <domain> after the last of the elements libvirt writes
 * before it (@after, in libvirt's order), or first when none is there.
 */
static void
spm_insert_in_libvirt_order(xmlNodePtr root, xmlNodePtr node, const char *const *after)
{
    xmlNodePtr last = NULL;

    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || c->ns)
            continue;
        for (const char *const *a = after; *a; a++) {
            if (xmlStrEqual(c->name, BAD_CAST *a))
                last = c;
        }
    }
    if (last)
        xmlAddNextSibling(last, node);
    else if (root->children)
        xmlAddPrevSibling(root->children, node);
    else
        xmlAddChild(root, node);
}

static const char *const spm_before_metadata[] = {
    "name", "uuid", "genid", "title", "description", NULL
};
static const char *const spm_before_max_memory[] = {
    "name", "uuid", "genid", "title", "description", "metadata", NULL
};
static const char *const spm_before_current_memory[] = {
    "name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory", NULL
};

/* ---- locating virt-spm's own elements ---------------------------------- */

static xmlNodePtr
spm_find_commandline(xmlNodePtr root)
{
    return spm_child(root, "commandline", QEMU_XMLNS);
}

/* The <qemu:arg value=> values of @cmdline, in order; elements in @nodes. */
static GPtrArray *
spm_commandline_args(xmlNodePtr cmdline, GPtrArray *nodes)
{
    GPtrArray *args = g_ptr_array_new_with_free_func(g_free);

    if (!cmdline)
        return args;
    for (xmlNodePtr c = cmdline->children; c; c = c->next) {
        if (!spm_node_is(c, "arg", QEMU_XMLNS))
            continue;
        g_ptr_array_add(args, spm_xml_prop(c, "value"));
        if (nodes)
            g_ptr_array_add(nodes, c);
    }
    return args;
}

/* The <spm:argv> of the metadata. */
static GPtrArray *
spm_meta_args(xmlNodePtr meta)
{
    GPtrArray *args = g_ptr_array_new_with_free_func(g_free);
    xmlNodePtr argv = spm_child(meta, "argv", SPM_XMLNS);

    if (!argv)
        return args;
    for (xmlNodePtr c = argv->children; c; c = c->next) {
        if (spm_node_is(c, "arg", SPM_XMLNS))
            g_ptr_array_add(args, spm_xml_prop(c, "value"));
    }
    return args;
}

/*
 * Index where @needle starts as a contiguous run in @hay, or -1.  The last
 * such run: virt-spm appends its arguments after the user's, who may well
 * have written the same ones themselves.
 */
static int
spm_find_run(GPtrArray *hay, GPtrArray *needle)
{
    if (needle->len == 0 || needle->len > hay->len)
        return -1;
    for (int i = (int)(hay->len - needle->len); i >= 0; i--) {
        guint j;

        for (j = 0; j < needle->len; j++) {
            if (g_strcmp0(g_ptr_array_index(hay, i + j), g_ptr_array_index(needle, j)) != 0)
                break;
        }
        if (j == needle->len)
            return i;
    }
    return -1;
}

/* ---- reverse ------------------------------------------------------------ */

/* Put back an element recorded as attributes NAME, NAME"Unit" of @orig. */
static void
spm_restore_scaled(xmlNodePtr root, xmlNodePtr orig, const char *elem,
                   const char *value_attr, const char *unit_attr,
                   const char *const *order)
{
    g_autofree char *value = spm_xml_prop(orig, value_attr);
    g_autofree char *unit = spm_xml_prop(orig, unit_attr);
    xmlNodePtr node = spm_child(root, elem, NULL);

    if (!value) {
        if (node)
            spm_unlink_free(node);
        return;
    }
    if (!node) {
        node = xmlNewDocNode(root->doc, NULL, BAD_CAST elem, NULL);
        spm_insert_in_libvirt_order(root, node, order);
    }
    xmlNodeSetContent(node, BAD_CAST value);
    spm_set_prop(node, "unit", unit);
}

/*
 * libvirt writes <currentMemory> on define when the user did not: then it
 * is libvirt's, and goes; otherwise the user's value comes back.
 */
static void
spm_reverse_current_memory(xmlNodePtr root, xmlNodePtr orig)
{
    g_autofree char *had = spm_xml_prop(orig, "hadCurrentMemory");
    xmlNodePtr cur = spm_child(root, "currentMemory", NULL);

    if (g_strcmp0(had, "no") == 0) {
        if (cur)
            spm_unlink_free(cur);
    } else if (g_strcmp0(had, "yes") == 0) {
        spm_restore_scaled(root, orig, "currentMemory", "currentMemory", "currentMemoryUnit",
                           spm_before_current_memory);
    }
}

static void
spm_reverse_numa(xmlNodePtr root, xmlNodePtr orig)
{
    g_autofree char *cell = spm_xml_prop(orig, "synthesizedCell");
    g_autofree char *cpu_made = spm_xml_prop(orig, "synthesizedCpu");
    g_autofree char *had_numa = spm_xml_prop(orig, "hadNuma");
    xmlNodePtr cpu = spm_child(root, "cpu", NULL);
    xmlNodePtr numa = spm_child(cpu, "numa", NULL);

    if (g_strcmp0(cell, "yes") != 0 || !numa)
        return;
    for (xmlNodePtr c = numa->children; c; c = c->next) {
        g_autofree char *id = NULL;

        if (!spm_node_is(c, "cell", NULL))
            continue;
        id = spm_xml_prop(c, "id");
        if (g_strcmp0(id, "0") == 0) {
            spm_unlink_free(c);
            break;
        }
    }
    if (!spm_child(numa, "cell", NULL) && g_strcmp0(had_numa, "yes") != 0)
        spm_unlink_free(numa);
    if (g_strcmp0(cpu_made, "yes") == 0 && cpu->children == NULL && cpu->properties == NULL)
        spm_unlink_free(cpu);
}

static void
spm_reverse_commandline(xmlNodePtr root, xmlNodePtr meta, xmlNodePtr orig)
{
    xmlNodePtr cmdline = spm_find_commandline(root);
    g_autoptr(GPtrArray) nodes = g_ptr_array_new();
    g_autoptr(GPtrArray) have = spm_commandline_args(cmdline, nodes);
    g_autoptr(GPtrArray) ours = spm_meta_args(meta);
    g_autofree char *created = spm_xml_prop(orig, "createdCommandline");
    g_autofree char *added_ns = spm_xml_prop(orig, "addedQemuNamespace");
    int start;

    if (!cmdline)
        return;
    start = spm_find_run(have, ours);
    if (start >= 0) {
        for (guint i = 0; i < ours->len; i++)
            spm_unlink_free(g_ptr_array_index(nodes, start + i));
    } else {
        /*
         * Edited by hand (stale): take out every flag/value pair that is
         * still ours, leave whatever the user added.
         */
        for (guint i = 0; i + 1 < ours->len; i += 2) {
            for (guint k = have->len; k >= 2; k--) {
                guint j = k - 2;

                if (g_ptr_array_index(nodes, j) && g_ptr_array_index(nodes, j + 1) &&
                    g_strcmp0(g_ptr_array_index(have, j), g_ptr_array_index(ours, i)) == 0 &&
                    g_strcmp0(g_ptr_array_index(have, j + 1), g_ptr_array_index(ours, i + 1)) == 0) {
                    spm_unlink_free(g_ptr_array_index(nodes, j));
                    spm_unlink_free(g_ptr_array_index(nodes, j + 1));
                    nodes->pdata[j] = nodes->pdata[j + 1] = NULL;
                    break;
                }
            }
        }
    }

    if (g_strcmp0(created, "yes") == 0) {
        gboolean empty = TRUE;

        for (xmlNodePtr c = cmdline->children; c; c = c->next) {
            if (c->type == XML_ELEMENT_NODE)
                empty = FALSE;
        }
        if (empty)
            spm_unlink_free(cmdline);
    }
    if (g_strcmp0(added_ns, "yes") == 0) {
        /* Drop the declaration of the QEMU namespace we added, if nothing uses it. */
        xmlNsPtr *prev = &root->nsDef;

        for (xmlNsPtr ns = root->nsDef; ns; prev = &ns->next, ns = ns->next) {
            if (xmlStrEqual(ns->href, BAD_CAST QEMU_XMLNS) && !spm_ns_in_use(root, ns)) {
                *prev = ns->next;
                ns->next = NULL;
                xmlFreeNs(ns);
                break;
            }
        }
    }
}

static gboolean
spm_reverse_devices(xmlNodePtr root, xmlNodePtr meta, GError **error)
{
    xmlNodePtr stored = spm_child(meta, "devices", SPM_XMLNS);
    xmlNodePtr devices = spm_child(root, "devices", NULL);

    if (!stored)
        return TRUE;
    if (!devices) {
        devices = xmlNewDocNode(root->doc, NULL, BAD_CAST "devices", NULL);
        xmlAddChild(root, devices);
    }
    /* Stored in document order with ascending positions: insert in order. */
    for (xmlNodePtr c = stored->children; c; c = c->next) {
        g_autofree char *pos = NULL;
        g_autofree char *before = NULL;
        xmlNodePtr copy;
        guint64 index = G_MAXUINT;
        guint64 skip = 0;

        if (!spm_node_is(c, "memory", SPM_XMLNS))
            continue;
        pos = spm_xml_prop(c, "position");
        if (pos && !g_ascii_string_to_unsigned(pos, 10, 0, G_MAXUINT, &index, NULL)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "line %ld: metadata spm:memory position '%s' is not a number",
                        xmlGetLineNo(c), pos);
            return FALSE;
        }
        before = spm_xml_prop(c, "nodesBefore");
        if (before && !g_ascii_string_to_unsigned(before, 10, 0, G_MAXUINT, &skip, NULL)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "line %ld: metadata spm:memory nodesBefore '%s' is not a number",
                        xmlGetLineNo(c), before);
            return FALSE;
        }
        copy = xmlDocCopyNode(c, root->doc, 1);
        spm_move_ns_recursive(copy, SPM_XMLNS, NULL);
        spm_drop_unused_ns_defs(copy);
        xmlUnsetProp(copy, BAD_CAST "position");
        xmlUnsetProp(copy, BAD_CAST "nodesBefore");
        spm_insert_at_element_index(devices, copy, index, skip);
        spm_drop_redundant_ns_defs(copy);
    }
    return TRUE;
}

/* Reverse @root in place; the caller guarantees @meta is its spm:spm. */
static gboolean
spm_reverse_root(xmlNodePtr root, xmlNodePtr meta, GError **error)
{
    xmlNodePtr orig = spm_child(meta, "original", SPM_XMLNS);
    xmlNodePtr metadata = meta->parent;
    g_autofree char *created_meta = NULL;

    if (!spm_reverse_devices(root, meta, error))
        return FALSE;

    if (orig) {
        g_autofree char *had_max = spm_xml_prop(orig, "hadMaxMemory");

        spm_reverse_commandline(root, meta, orig);
        spm_reverse_numa(root, orig);
        if (g_strcmp0(had_max, "yes") == 0 || g_strcmp0(had_max, "no") == 0) {
            g_autofree char *slots = spm_xml_prop(orig, "maxMemorySlots");

            spm_restore_scaled(root, orig, "maxMemory", "maxMemory", "maxMemoryUnit",
                               spm_before_max_memory);
            if (spm_child(root, "maxMemory", NULL))
                spm_set_prop(spm_child(root, "maxMemory", NULL), "slots", slots);
        }
        if (xmlHasProp(orig, BAD_CAST "memory") || xmlHasProp(orig, BAD_CAST "hadMemory"))
            spm_restore_scaled(root, orig, "memory", "memory", "memoryUnit",
                               spm_before_max_memory);
        spm_reverse_current_memory(root, orig);
        created_meta = spm_xml_prop(orig, "createdMetadata");
    } else {
        spm_reverse_commandline(root, meta, meta);
    }

    spm_unlink_free(meta);
    if (g_strcmp0(created_meta, "yes") == 0 && !xmlFirstElementChild(metadata))
        spm_unlink_free(metadata);
    return TRUE;
}

gboolean
spm_convert_reverse(xmlDocPtr doc, GError **error)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr meta = root ? spm_xml_metadata_element(root) : NULL;
    g_autoptr(xmlDoc) work = NULL;
    xmlNodePtr wroot;

    if (!meta)
        return TRUE;
    if (!spm_check_single_elements(root, error) || !spm_xml_metadata_check_single(root, error))
        return FALSE;

    /* Work on a copy so that a failure leaves @doc as it was. */
    work = xmlCopyDoc(doc, 1);
    wroot = xmlDocGetRootElement(work);
    if (!spm_reverse_root(wroot, spm_xml_metadata_element(wroot), error))
        return FALSE;
    xmlUnlinkNode(wroot);
    xmlFreeNode(xmlDocSetRootElement(doc, wroot));
    return TRUE;
}

/* ---- forward ------------------------------------------------------------ */

static void
spm_forward_numa(xmlNodePtr root, xmlNodePtr orig, const SpmDomainDef *def, const SpmPlan *plan)
{
    xmlNodePtr cpu = spm_child(root, "cpu", NULL);
    xmlNodePtr numa;
    xmlNodePtr cell;
    g_autofree char *cpus = NULL;

    if (!plan->cell_synthesized)
        return;
    if (!cpu) {
        static const char *const before_cpu[] = {
            "name", "uuid", "genid", "title", "description", "metadata",
            "maxMemory", "memory", "currentMemory", "blkiotune", "memtune",
            "memoryBacking", "vcpu", "vcpus", "iothreads", "iothreadids",
            "cputune", "resource", "sysinfo", "bootloader", "bootloader_args",
            "os", "idmap", "features", NULL
        };

        cpu = xmlNewDocNode(root->doc, NULL, BAD_CAST "cpu", NULL);
        spm_insert_in_libvirt_order(root, cpu, before_cpu);
        spm_set_prop(orig, "synthesizedCpu", "yes");
    }
    numa = spm_child(cpu, "numa", NULL);
    if (!numa)
        numa = xmlNewChild(cpu, NULL, BAD_CAST "numa", NULL);
    else
        spm_set_prop(orig, "hadNuma", "yes");   /* a <numa> without cells: it stays */
    cell = xmlNewChild(numa, NULL, BAD_CAST "cell", NULL);
    spm_set_prop(cell, "id", "0");
    cpus = def->vcpus > 1 ? g_strdup_printf("0-%u", def->vcpus - 1) : g_strdup("0");
    spm_set_prop(cell, "cpus", cpus);
    for (guint i = 0; i < plan->nodes->len; i++) {
        const SpmPlannedNode *n = &g_array_index(plan->nodes, SpmPlannedNode, i);

        if (n->kind == SPM_NUMA_SYNTHESIZED)
            spm_set_prop_u64(cell, "memory", n->memory / 1024);
    }
    spm_set_prop(cell, "unit", "KiB");
    spm_set_prop(orig, "synthesizedCell", "yes");
}

/* Record element @elem of @root as attributes of @orig, then set it. */
static void
spm_forward_scaled(xmlNodePtr root, xmlNodePtr orig, const char *elem,
                   const char *value_attr, const char *unit_attr,
                   guint64 bytes, const char *const *order)
{
    xmlNodePtr node = spm_child(root, elem, NULL);

    if (node) {
        g_autofree char *value = spm_content(node);
        g_autofree char *unit = spm_xml_prop(node, "unit");

        spm_set_prop(orig, value_attr, value);
        spm_set_prop(orig, unit_attr, unit);
    } else {
        node = xmlNewDocNode(root->doc, NULL, BAD_CAST elem, NULL);
        spm_insert_in_libvirt_order(root, node, order);
    }
    {
        g_autofree char *kib = g_strdup_printf("%" G_GUINT64_FORMAT, bytes / 1024);

        xmlNodeSetContent(node, BAD_CAST kib);
    }
    spm_set_prop(node, "unit", "KiB");
}

/*
 * The balloon target counts SPM memory in the user's form; libvirt would
 * clamp it to the new <memory> anyway: do it here, and remember the value.
 */
static void
spm_forward_current_memory(xmlNodePtr root, xmlNodePtr orig, guint64 memory)
{
    xmlNodePtr cur = spm_child(root, "currentMemory", NULL);
    g_autofree char *value = NULL;
    g_autofree char *unit = NULL;
    guint64 bytes;

    spm_set_prop(orig, "hadCurrentMemory", cur ? "yes" : "no");
    if (!cur)
        return;
    value = spm_content(cur);
    unit = spm_xml_prop(cur, "unit");
    spm_set_prop(orig, "currentMemory", value);
    spm_set_prop(orig, "currentMemoryUnit", unit);
    if (spm_units_parse("currentMemory", value, unit, 1024, &bytes, NULL) && bytes > memory) {
        g_autofree char *kib = g_strdup_printf("%" G_GUINT64_FORMAT, memory / 1024);

        xmlNodeSetContent(cur, BAD_CAST kib);
        spm_set_prop(cur, "unit", "KiB");
    }
}

static void
spm_forward_memory(xmlNodePtr root, xmlNodePtr orig, const SpmPlan *plan)
{
    xmlNodePtr max = spm_child(root, "maxMemory", NULL);
    guint64 libvirt_total = 0;

    spm_set_prop(orig, "hadMaxMemory", max ? "yes" : "no");
    if (max) {
        g_autofree char *slots = spm_xml_prop(max, "slots");

        spm_set_prop(orig, "maxMemorySlots", slots);
    }
    spm_forward_scaled(root, orig, "maxMemory", "maxMemory", "maxMemoryUnit",
                       plan->max_memory, spm_before_max_memory);
    spm_set_prop_u64(spm_child(root, "maxMemory", NULL), "slots", plan->max_memory_slots);

    /*
     * libvirt's <memory> is RAM plus its own memory devices; SPM devices are
     * invisible to libvirt, so they leave the total.
     */
    for (guint i = 0; i < plan->nodes->len; i++)
        libvirt_total += g_array_index(plan->nodes, SpmPlannedNode, i).memory;
    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmPlannedDevice *d = g_ptr_array_index(plan->devices, i);

        if (!d->generated)
            libvirt_total += d->def ? d->def->size : d->size;
    }
    /* libvirt accepts a domain whose NUMA cells alone give its memory */
    if (!spm_child(root, "memory", NULL))
        spm_set_prop(orig, "hadMemory", "no");
    spm_forward_scaled(root, orig, "memory", "memory", "memoryUnit",
                       libvirt_total, spm_before_max_memory);
    spm_forward_current_memory(root, orig, libvirt_total);
}

/*
 * The QEMU namespace as declared on <domain>, or a new declaration there
 * under "qemu" (or "qemu1", ... when the document binds "qemu" to
 * something else).
 */
static xmlNsPtr
spm_root_qemu_ns(xmlNodePtr root, xmlNodePtr orig)
{
    xmlNsPtr qns = xmlSearchNsByHref(root->doc, root, BAD_CAST QEMU_XMLNS);

    for (guint i = 0; !qns; i++) {
        g_autofree char *prefix = i ? g_strdup_printf("%s%u", QEMU_XMLNS_PREFIX, i)
                                    : g_strdup(QEMU_XMLNS_PREFIX);

        if (xmlSearchNs(root->doc, root, BAD_CAST prefix))
            continue;
        qns = xmlNewNs(root, BAD_CAST QEMU_XMLNS, BAD_CAST prefix);
        spm_set_prop(orig, "addedQemuNamespace", "yes");
    }
    return qns;
}

static void
spm_forward_commandline(xmlNodePtr root, xmlNodePtr orig, xmlNodePtr meta, GStrv argv)
{
    xmlNodePtr cmdline = spm_find_commandline(root);
    xmlNodePtr margv = xmlNewChild(meta, meta->ns, BAD_CAST "argv", NULL);
    xmlNsPtr qns;

    /*
     * The user's <commandline> may carry the QEMU namespace under any
     * prefix or as its default namespace: our arguments use the very
     * declaration it uses, found by URI, and declare nothing.
     */
    if (cmdline) {
        qns = cmdline->ns;
    } else {
        qns = spm_root_qemu_ns(root, orig);
        cmdline = xmlNewDocNode(root->doc, qns, BAD_CAST "commandline", NULL);
        xmlAddChild(root, cmdline);
        spm_set_prop(orig, "createdCommandline", "yes");
    }
    for (char **a = argv; a && *a; a++) {
        xmlNodePtr arg = xmlNewChild(cmdline, qns, BAD_CAST "arg", NULL);
        xmlNodePtr marg = xmlNewChild(margv, meta->ns, BAD_CAST "arg", NULL);

        spm_set_prop(arg, "value", *a);
        spm_set_prop(marg, "value", *a);
    }
}

/*
 * Text on both sides of a device would become one text once the device
 * moves out, and reverse could not tell where to split it again.  libvirt's
 * schema allows no text among the devices: refuse rather than lose it.
 */
static gboolean
spm_check_movable(xmlNodePtr dev, GError **error)
{
    xmlNodePtr prev = dev->prev;
    xmlNodePtr next = dev->next;

    if (prev && next && prev->type == XML_TEXT_NODE && next->type == XML_TEXT_NODE &&
        !(spm_xml_is_blank_text(prev) && spm_xml_is_blank_text(next))) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "line %ld: devices: text on both sides of memory model 'spm' would merge "
                    "when convert moves the device; libvirt allows no text among the devices",
                    xmlGetLineNo(dev));
        return FALSE;
    }
    return TRUE;
}

/* The first element at or below @node (not its siblings) in namespace @href. */
static xmlNodePtr
spm_find_element_in_ns(xmlNodePtr node, const char *href)
{
    if (node->ns && xmlStrEqual(node->ns->href, BAD_CAST href))
        return node;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        xmlNodePtr found;

        if (c->type == XML_ELEMENT_NODE && (found = spm_find_element_in_ns(c, href)))
            return found;
    }
    return NULL;
}

/* Whether @node is a <memory model='spm'> of the user's <devices>. */
static gboolean
spm_is_spm_device(xmlNodePtr node)
{
    g_autofree char *model = NULL;

    return spm_node_is(node, "memory", NULL) &&
           g_strcmp0((model = spm_xml_prop(node, "model")), "spm") == 0;
}

/* Where an SPM device was among the user's devices (spm_insert_at_element_index). */
typedef struct {
    xmlNodePtr device;
    guint position;             /* index among the element children of <devices> */
    guint before;               /* counted nodes between it and the element before it */
} SpmDeviceMove;

/* Move every <devices><memory model='spm'> into @meta's spm:devices. */
static gboolean
spm_forward_devices(xmlNodePtr root, xmlNodePtr meta, GError **error)
{
    xmlNodePtr devices = spm_child(root, "devices", NULL);
    xmlNodePtr stored = xmlNewChild(meta, meta->ns, BAD_CAST "devices", NULL);
    g_autoptr(GArray) moves = g_array_new(FALSE, FALSE, sizeof(SpmDeviceMove));
    guint index = 0;            /* of c among the elements of the user's <devices> */

    if (!devices)
        return TRUE;
    /*
     * Count first, move after: reverse puts the devices back one by one, so
     * the nodes before a device are counted back to the element before it
     * in the user's document, which may be an SPM device moved just before.
     */
    for (xmlNodePtr c = devices->children; c; c = c->next) {
        SpmDeviceMove move;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (spm_is_spm_device(c)) {
            xmlNodePtr own = spm_find_element_in_ns(c, SPM_XMLNS);

            /* Stored devices live in that namespace: reverse could not tell them apart. */
            if (own) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "line %ld: memory model 'spm': element '%s' is in virt-spm's "
                            "metadata namespace %s, which only virt-spm may use",
                            xmlGetLineNo(own), (const char *)own->name, SPM_XMLNS);
                return FALSE;
            }
            move = (SpmDeviceMove) { c, index, spm_count_nodes_before(c) };
            g_array_append_val(moves, move);
        }
        index++;
    }
    for (guint i = 0; i < moves->len; i++) {
        const SpmDeviceMove *move = &g_array_index(moves, SpmDeviceMove, i);
        xmlNodePtr c = move->device;

        if (!spm_check_movable(c, error))
            return FALSE;
        xmlUnlinkNode(c);
        spm_move_ns_recursive(c, NULL, meta->ns);
        spm_set_prop_u64(c, "position", move->position);
        if (move->before)
            spm_set_prop_u64(c, "nodesBefore", move->before);
        xmlAddChild(stored, c);
    }
    return TRUE;
}

/* Whether an element at or below @node declares namespace prefix @prefix. */
static gboolean
spm_tree_declares_prefix(xmlNodePtr node, const char *prefix)
{
    if (node->type != XML_ELEMENT_NODE)
        return FALSE;
    for (xmlNsPtr ns = node->nsDef; ns; ns = ns->next) {
        if (ns->prefix && xmlStrEqual(ns->prefix, BAD_CAST prefix))
            return TRUE;
    }
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (spm_tree_declares_prefix(c, prefix))
            return TRUE;
    }
    return FALSE;
}

/*
 * The prefix of virt-spm's namespace: "spm", or "spm1", ... when an SPM
 * device binds "spm" to another URI (xmlns:spm='...' on one of its
 * elements).  Its elements move under <spm:spm>, and inside that
 * declaration our prefix would name the other namespace.
 */
static char *
spm_meta_prefix(xmlNodePtr root)
{
    xmlNodePtr devices = spm_child(root, "devices", NULL);

    for (guint i = 0;; i++) {
        g_autofree char *prefix = i ? g_strdup_printf("%s%u", SPM_XMLNS_PREFIX, i)
                                    : g_strdup(SPM_XMLNS_PREFIX);
        gboolean taken = FALSE;

        for (xmlNodePtr c = devices ? devices->children : NULL; c && !taken; c = c->next)
            taken = spm_is_spm_device(c) && spm_tree_declares_prefix(c, prefix);
        if (!taken)
            return g_steal_pointer(&prefix);
    }
}

static gboolean
spm_forward_root(xmlNodePtr root, const SpmDomainDef *def, const SpmPlan *plan,
                 GStrv argv, const SpmPlanPolicy *policy, GError **error)
{
    xmlNodePtr metadata = spm_child(root, "metadata", NULL);
    g_autofree char *prefix = spm_meta_prefix(root);
    xmlNodePtr meta;
    xmlNodePtr orig;
    xmlNsPtr ns;
    gboolean created_meta = FALSE;

    if (!metadata) {
        metadata = xmlNewDocNode(root->doc, NULL, BAD_CAST "metadata", NULL);
        spm_insert_in_libvirt_order(root, metadata, spm_before_metadata);
        created_meta = TRUE;
    }
    meta = xmlNewChild(metadata, NULL, BAD_CAST "spm", NULL);
    ns = xmlNewNs(meta, BAD_CAST SPM_XMLNS, BAD_CAST prefix);
    xmlSetNs(meta, ns);
    spm_set_prop(meta, "version", SPM_META_VERSION);
    spm_set_prop(meta, "standIn", policy->stand_in_driver);
    /* the SPM device revision the arguments are for ("sp-mem", "spm-memory") */
    spm_set_prop(meta, "device", spm_device_rev_to_string(policy->device));
    /*
     * The policy the arguments were planned with: the hook re-plans with it,
     * so a host default changed later does not make this domain stale.
     */
    spm_set_prop_u64(meta, "spmAlign", policy->spm_align);
    spm_set_prop_u64(meta, "guardGap", policy->guard_gap);
    spm_set_prop(meta, "strict", policy->strict ? "yes" : "no");

    if (!spm_forward_devices(root, meta, error))
        return FALSE;
    orig = xmlNewChild(meta, ns, BAD_CAST "original", NULL);
    if (created_meta)
        spm_set_prop(orig, "createdMetadata", "yes");
    spm_forward_memory(root, orig, plan);
    spm_forward_numa(root, orig, def, plan);
    spm_forward_commandline(root, orig, meta, argv);
    return TRUE;
}

gboolean
spm_convert_forward(xmlDocPtr doc,
                    const SpmPlanPolicy *policy,
                    SpmPlan **plan_out,
                    SpmDomainDef **def_out,
                    GError **error)
{
    g_autoptr(xmlDoc) work = NULL;
    g_autoptr(SpmPlan) plan = NULL;     /* freed before the def it borrows */
    g_autoptr(SpmDomainDef) def = NULL;
    g_auto(GStrv) argv = NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr wroot;

    /* The plan borrows the definition: whoever keeps one keeps both. */
    g_return_val_if_fail(plan_out == NULL || def_out != NULL, FALSE);

    if (!root || !spm_node_is(root, "domain", NULL)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "the document is not a libvirt <domain>");
        return FALSE;
    }

    if (!spm_check_single_elements(root, error) || !spm_xml_metadata_check_single(root, error))
        return FALSE;
    work = xmlCopyDoc(doc, 1);
    wroot = xmlDocGetRootElement(work);
    if (spm_xml_metadata_element(wroot) &&
        !spm_reverse_root(wroot, spm_xml_metadata_element(wroot), error))
        return FALSE;

    if (!(def = spm_domain_def_parse(work, error)))
        return FALSE;
    if (!(plan = spm_plan_build(def, policy, error)))
        return FALSE;
    if (!(argv = spm_argv_build(plan, policy->stand_in_driver, error)))
        return FALSE;

    if (spm_domain_def_count_model(def, SPM_MEM_MODEL_SPM) > 0 &&
        !spm_forward_root(wroot, def, plan, argv, policy, error))
        return FALSE;

    xmlUnlinkNode(wroot);
    xmlFreeNode(xmlDocSetRootElement(doc, wroot));
    if (plan_out)
        *plan_out = g_steal_pointer(&plan);
    if (def_out)
        *def_out = g_steal_pointer(&def);
    return TRUE;
}

/* ---- staleness ---------------------------------------------------------- */

/* The policy recorded by forward (absent in older metadata: keep @policy's). */
static gboolean
spm_meta_policy(xmlNodePtr meta, SpmPlanPolicy *policy, GError **error)
{
    static const char *const sizes[] = { "spmAlign", "guardGap" };
    guint64 *fields[] = { &policy->spm_align, &policy->guard_gap };
    g_autofree char *strict = spm_xml_prop(meta, "strict");
    g_autofree char *device = spm_xml_prop(meta, "device");

    for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_autofree char *v = spm_xml_prop(meta, sizes[i]);

        if (v && !g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT64, fields[i], NULL)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "metadata spm:spm@%s: '%s' is not a number of bytes", sizes[i], v);
            return FALSE;
        }
    }
    if (strict)
        policy->strict = g_str_equal(strict, "yes");
    /* metadata older than the revisions was made for the v8 spm-memory */
    if (!device) {
        policy->device = SPM_DEVICE_SPM_MEMORY;
    } else if (!spm_device_rev_from_string(device, &policy->device)) {
        g_autofree char *names = spm_device_rev_all_names("or");

        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "metadata spm:spm@device: '%s' is not an SPM device virt-spm knows (%s)",
                    device, names);
        return FALSE;
    }
    return TRUE;
}

gboolean
spm_convert_recorded_policy(xmlDocPtr doc,
                            const SpmPlanPolicy *policy,
                            SpmPlanPolicy *effective,
                            GError **error)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr meta = root ? spm_xml_metadata_element(root) : NULL;

    *effective = *policy;
    spm_host_facts_copy(&effective->host, &policy->host);
    effective->stand_in_driver = g_strdup(policy->stand_in_driver);
    if (!meta)
        return TRUE;
    /* the stand-in the domain was made with, or none */
    g_free(effective->stand_in_driver);
    effective->stand_in_driver = spm_xml_prop(meta, "standIn");
    if (!spm_meta_policy(meta, effective, error)) {
        spm_plan_policy_clear(effective);
        return FALSE;
    }
    return TRUE;
}

gboolean
spm_convert_check_current(xmlDocPtr doc,
                          const SpmPlanPolicy *policy,
                          gboolean *has_spm,
                          SpmPlan **plan_out,
                          SpmDomainDef **def_out,
                          GError **error)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr meta = root ? spm_xml_metadata_element(root) : NULL;
    g_autoptr(xmlDoc) fresh = NULL;
    g_autoptr(GPtrArray) have = NULL;
    g_autoptr(GPtrArray) recorded = NULL;
    g_autoptr(GPtrArray) expected = NULL;
    g_autoptr(SpmPlan) plan = NULL;
    g_autoptr(SpmDomainDef) def = NULL;
    g_auto(SpmPlanPolicy) effective = { 0 };
    int start;

    *has_spm = meta != NULL;
    if (!meta)
        return TRUE;

    if (!spm_convert_recorded_policy(doc, policy, &effective, error))
        return FALSE;
    fresh = xmlCopyDoc(doc, 1);
    if (!spm_convert_forward(fresh, &effective, &plan, &def, error))
        return FALSE;

    have = spm_commandline_args(spm_find_commandline(root), NULL);
    recorded = spm_meta_args(meta);
    expected = spm_meta_args(spm_xml_metadata_element(xmlDocGetRootElement(fresh)));

    if (spm_find_run(have, recorded) < 0 || recorded->len == 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                    "qemu:commandline: the arguments virt-spm generated are missing or were edited; "
                    "run 'virt-spm edit' or 'virt-spm define' again");
        return FALSE;
    }
    for (guint i = 0; i < MAX(recorded->len, expected->len); i++) {
        const char *r = i < recorded->len ? g_ptr_array_index(recorded, i) : "(none)";
        const char *e = i < expected->len ? g_ptr_array_index(expected, i) : "(none)";

        if (g_strcmp0(r, e) != 0) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                        "qemu:commandline: generated argument %u is '%s' but the plan now gives '%s'; "
                        "run 'virt-spm define' again", i + 1, r, e);
            return FALSE;
        }
    }
    start = spm_find_run(have, expected);
    g_assert(start >= 0);
    if (plan_out && def_out) {
        *plan_out = g_steal_pointer(&plan);
        *def_out = g_steal_pointer(&def);
    }
    return TRUE;
}

GPtrArray *
spm_convert_generated_args(xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr meta = root ? spm_xml_metadata_element(root) : NULL;

    return meta ? spm_meta_args(meta) : g_ptr_array_new_with_free_func(g_free);
}

gboolean
spm_convert_take_generated(xmlDocPtr doc, xmlDocPtr from, GError **error)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr meta = root ? spm_xml_metadata_element(root) : NULL;
    xmlNodePtr from_root = xmlDocGetRootElement(from);
    xmlNodePtr from_meta = from_root ? spm_xml_metadata_element(from_root) : NULL;
    g_autoptr(GPtrArray) nodes = g_ptr_array_new();
    g_autoptr(GPtrArray) have = NULL;
    g_autoptr(GPtrArray) ours = NULL;
    g_autoptr(GPtrArray) theirs = NULL;
    xmlNodePtr margv;
    xmlNodePtr devices;
    xmlNodePtr from_devices;
    int start;
    guint k = 0;
    guint index = 0;

    if (!meta || !from_meta) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "domain XML: no virt-spm metadata");
        return FALSE;
    }
    have = spm_commandline_args(spm_find_commandline(root), nodes);
    ours = spm_meta_args(meta);
    theirs = spm_meta_args(from_meta);
    start = spm_find_run(have, ours);
    if (start < 0 || ours->len != theirs->len) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                    "qemu:commandline: %s",
                    start < 0 ? "the arguments virt-spm generated are missing or were edited"
                              : "the new plan has another number of arguments");
        return FALSE;
    }
    devices = spm_child(meta, "devices", SPM_XMLNS);
    from_devices = spm_child(from_meta, "devices", SPM_XMLNS);
    if (!devices || !from_devices) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "metadata: no spm:devices element");
        return FALSE;
    }

    /* in place, value by value: nothing else of the document moves */
    for (guint i = 0; i < ours->len; i++)
        spm_set_prop(g_ptr_array_index(nodes, start + i), "value", g_ptr_array_index(theirs, i));
    margv = spm_child(meta, "argv", SPM_XMLNS);
    for (xmlNodePtr c = margv ? margv->children : NULL; c; c = c->next) {
        if (spm_node_is(c, "arg", SPM_XMLNS) && k < theirs->len)
            spm_set_prop(c, "value", g_ptr_array_index(theirs, k++));
    }
    /*
     * The devices as the user wrote them: the same elements in the same
     * order in both (one user document), so each nodemask is set in place.
     */
    for (xmlNodePtr a = devices->children, b = from_devices->children; a || b;
         a = a->next, b = b->next, index++) {
        xmlNodePtr ma, mb;

        while (a && a->type != XML_ELEMENT_NODE)
            a = a->next;
        while (b && b->type != XML_ELEMENT_NODE)
            b = b->next;
        if (!a || !b) {
            if (a || b) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                            "metadata: the new plan has another number of SPM devices");
                return FALSE;
            }
            break;
        }
        ma = spm_child(spm_child(a, "source", SPM_XMLNS), "nodemask", SPM_XMLNS);
        mb = spm_child(spm_child(b, "source", SPM_XMLNS), "nodemask", SPM_XMLNS);
        if (!ma != !mb) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                        "metadata: SPM device %u: only one of the plans binds host nodes",
                        index + 1);
            return FALSE;
        }
        if (ma) {
            g_autofree char *text = spm_content(mb);

            xmlNodeSetContent(ma, BAD_CAST text);
        }
    }
    return TRUE;
}
