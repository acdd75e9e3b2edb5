/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-hook-migrate.c: the destination of an incoming migration re-binds
 * the guest's HBM to its own nodes and reserves them (spm-hook-migrate.h)
 */
#include "spm-hook-migrate.h"
#include "spm-hook-ledger.h"
#include "spm-convert.h"
#include "spm-domain-parse.h"
#include "spm-error.h"
#include "spm-host-inventory.h"
#include "spm-ledger-domain.h"
#include "spm-xml.h"
#include "spm-xml-node.h"

#include <string.h>

void
spm_migrate_rebind_clear(SpmMigrateRebind *rebind)
{
    g_clear_pointer(&rebind->xml, g_free);
    g_clear_pointer(&rebind->holding, spm_ledger_holding_free);
}

/* @holding's requests as the array spm_ledger_reserve() takes (borrowed strings). */
static SpmLedgerRequest *
spm_migrate_requests(const SpmLedgerHolding *holding)
{
    SpmLedgerRequest *reqs = g_new0(SpmLedgerRequest, holding->requests->len + 1);

    for (guint i = 0; i < holding->requests->len; i++)
        reqs[i] = *(SpmLedgerRequest *)holding->requests->pdata[i];
    return reqs;
}

static gboolean
spm_migrate_reserve(SpmLedger *ledger, const SpmHostInventory *inv,
                    const SpmLedgerHolding *holding, SpmLedgerRefusal *refusal, GError **error)
{
    g_autofree SpmLedgerRequest *reqs = spm_migrate_requests(holding);

    return spm_ledger_reserve(ledger, inv, holding->uuid, holding->domain, reqs,
                              holding->requests->len, refusal, error);
}

/*
 * What the guest sees of its memory devices must not move with the host:
 * the same devices (libvirt's own included) at the same addresses, of the
 * same sizes, on the same guest nodes, and the same NUMA nodes.
 */
static gboolean
spm_migrate_same_guest_view(const SpmPlan *src, const SpmPlan *dst, GError **error)
{
    if (src->devices->len != dst->devices->len || src->nodes->len != dst->nodes->len) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                    "the guest would see %u memory devices on %u NUMA nodes here, %u on %u "
                    "on the source", dst->devices->len, dst->nodes->len, src->devices->len,
                    src->nodes->len);
        return FALSE;
    }
    for (guint i = 0; i < src->devices->len; i++) {
        const SpmPlannedDevice *a = src->devices->pdata[i];
        const SpmPlannedDevice *b = dst->devices->pdata[i];

        if (g_strcmp0(a->id, b->id) != 0 || a->addr != b->addr || a->size != b->size ||
            a->node != b->node) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                        "memory '%s' would be at 0x%" G_GINT64_MODIFIER "x (%" G_GUINT64_FORMAT
                        " bytes, guest node %u) here but is '%s' at 0x%" G_GINT64_MODIFIER
                        "x (%" G_GUINT64_FORMAT " bytes, guest node %u) on the source",
                        b->id, b->addr, b->size, b->node, a->id, a->addr, a->size, a->node);
            return FALSE;
        }
    }
    for (guint i = 0; i < src->nodes->len; i++) {
        const SpmPlannedNode *a = &g_array_index(src->nodes, SpmPlannedNode, i);
        const SpmPlannedNode *b = &g_array_index(dst->nodes, SpmPlannedNode, i);

        if (a->id != b->id || a->kind != b->kind || a->memory != b->memory) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                        "guest NUMA node %u would differ from the source's", a->id);
            return FALSE;
        }
    }
    return TRUE;
}

/*
 * @arg without its host binding: the items "host-nodes=..." and
 * "policy=..." of a key=value argument dropped (a comma inside a value is
 * doubled, spm-argv.c, so only a single comma ends an item).
 */
static char *
spm_migrate_unbound_arg(const char *arg)
{
    GString *out = g_string_new(NULL);
    const char *item = arg;

    for (const char *p = arg;; p++) {
        if (*p == ',' && p[1] == ',') {
            p++;
            continue;
        }
        if (*p != ',' && *p != '\0')
            continue;
        if (!g_str_has_prefix(item, "host-nodes=") && !g_str_has_prefix(item, "policy=")) {
            if (out->len)
                g_string_append_c(out, ',');
            g_string_append_len(out, item, p - item);
        }
        if (*p == '\0')
            break;
        item = p + 1;
    }
    return g_string_free(out, FALSE);
}

/* The generated arguments of @a and @b differ only in their host binding. */
static gboolean
spm_migrate_only_binding_changes(xmlDocPtr a, xmlDocPtr b, GError **error)
{
    g_autoptr(GPtrArray) old = spm_convert_generated_args(a);
    g_autoptr(GPtrArray) new = spm_convert_generated_args(b);

    if (old->len != new->len) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                    "re-binding its HBM would give %u generated arguments instead of %u",
                    new->len, old->len);
        return FALSE;
    }
    for (guint i = 0; i < old->len; i++) {
        g_autofree char *x = spm_migrate_unbound_arg(old->pdata[i]);
        g_autofree char *y = spm_migrate_unbound_arg(new->pdata[i]);

        if (!g_str_equal(x, y)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                        "re-binding its HBM would change generated argument %u from '%s' to "
                        "'%s', not only its host nodes", i + 1, (char *)old->pdata[i],
                        (char *)new->pdata[i]);
            return FALSE;
        }
    }
    return TRUE;
}

/* The <memory model='spm'> elements of a user's-form @doc that bind host nodes. */
static GPtrArray *
spm_migrate_bound_devices(xmlDocPtr doc)
{
    xmlNodePtr devices = spm_xml_child(xmlDocGetRootElement(doc), "devices");
    GPtrArray *out = g_ptr_array_new();

    for (xmlNodePtr n = devices ? devices->children : NULL; n; n = n->next) {
        g_autofree char *model = NULL;

        if (!spm_xml_is_element(n, "memory") || !(model = spm_xml_prop(n, "model")) ||
            !g_str_equal(model, "spm"))
            continue;
        if (spm_xml_child(spm_xml_child(n, "source"), "nodemask"))
            g_ptr_array_add(out, n);
    }
    return out;
}

/*
 * The user's form of @doc with every bound SPM device on this host's
 * first-fit nodes, converted again: *@fresh, its plan and definition.
 */
static gboolean
spm_migrate_replan(xmlDocPtr doc, const SpmPlanPolicy *effective, SpmLedger *ledger,
                   const SpmHostInventory *inv, xmlDocPtr *fresh, SpmPlan **plan,
                   SpmDomainDef **def, GError **error)
{
    g_autoptr(xmlDoc) copy = xmlCopyDoc(doc, 1);
    g_autoptr(GPtrArray) bound = NULL;
    g_autofree guint64 *sizes = NULL;
    g_auto(GStrv) chosen = NULL;

    if (!spm_convert_reverse(copy, error))
        return FALSE;
    bound = spm_migrate_bound_devices(copy);
    sizes = g_new0(guint64, bound->len + 1);
    for (guint i = 0; i < bound->len; i++) {
        g_autoptr(SpmMemDevice) dev = spm_mem_device_parse(bound->pdata[i], error);

        if (!dev)
            return FALSE;
        sizes[i] = dev->size;
    }
    if (!spm_ledger_choose(ledger, inv, sizes, bound->len, &chosen, error))
        return FALSE;
    for (guint i = 0; i < bound->len; i++) {
        xmlNodePtr mask = spm_xml_child(spm_xml_child(bound->pdata[i], "source"), "nodemask");

        xmlNodeSetContent(mask, BAD_CAST chosen[i]);
    }
    if (!spm_convert_forward(copy, effective, plan, def, error))
        return FALSE;
    *fresh = g_steal_pointer(&copy);
    return TRUE;
}

gboolean
spm_migrate_rebind(xmlDocPtr doc, const SpmPlanPolicy *policy, SpmLedger *ledger,
                   const SpmHostInventory *inv, const char *uuid, const char *name,
                   SpmMigrateRebind *out, SpmLedgerRefusal *refusal, GError **error)
{
    g_autoptr(GError) kept_error = NULL;
    g_autoptr(SpmPlan) src_plan = NULL;     /* plans first: they borrow their definitions */
    g_autoptr(SpmPlan) new_plan = NULL;
    g_autoptr(SpmPlan) final_plan = NULL;
    g_autoptr(SpmDomainDef) src_def = NULL;
    g_autoptr(SpmDomainDef) new_def = NULL;
    g_autoptr(SpmDomainDef) final_def = NULL;
    g_autoptr(SpmLedgerHolding) src = NULL;
    g_autoptr(SpmLedgerHolding) final = NULL;
    g_autoptr(xmlDoc) fresh = NULL;
    g_autoptr(xmlDoc) rebound = NULL;
    g_auto(SpmPlanPolicy) effective = { 0 };
    gboolean has_spm = FALSE;

    memset(out, 0, sizeof(*out));
    /* what the source runs must be what this host plans for the same definition */
    if (!spm_convert_check_current(doc, policy, &has_spm, &src_plan, &src_def, error)) {
        g_prefix_error(error, "what it runs is not this host's plan of its definition: ");
        return FALSE;
    }
    if (!has_spm)
        return TRUE;
    src = spm_ledger_holding_from_plan(src_plan, uuid ? uuid : name, name);
    if (src->requests->len == 0 || spm_host_inventory_is_empty(inv))
        return TRUE; /* nothing bound, or this host does not account: as a start */

    /* the source's nodes when this host has them free: the XML stays as it is */
    if (spm_migrate_reserve(ledger, inv, src, refusal, &kept_error)) {
        out->holding = g_steal_pointer(&src);
        return TRUE;
    }

    if (!spm_convert_recorded_policy(doc, policy, &effective, error))
        return FALSE;
    if (!spm_migrate_replan(doc, &effective, ledger, inv, &fresh, &new_plan, &new_def, error)) {
        g_prefix_error(error, "this host cannot hold its HBM (on the source's nodes: %s): ",
                       kept_error->message);
        return FALSE;
    }
    /* there is room elsewhere: the refusal on the source's nodes is no refusal */
    if (refusal)
        spm_ledger_refusal_clear(refusal);
    if (!spm_migrate_same_guest_view(src_plan, new_plan, error) ||
        !spm_migrate_only_binding_changes(doc, fresh, error))
        return FALSE;

    rebound = xmlCopyDoc(doc, 1);
    if (!spm_convert_take_generated(rebound, fresh, error))
        return FALSE;
    /* the XML libvirt will start is one the start hook accepts as current */
    if (!spm_convert_check_current(rebound, policy, &has_spm, &final_plan, &final_def, error)) {
        g_prefix_error(error, "the re-bound domain XML is not current: ");
        return FALSE;
    }
    if (!spm_migrate_same_guest_view(src_plan, final_plan, error))
        return FALSE;
    final = spm_ledger_holding_from_plan(final_plan, uuid ? uuid : name, name);
    if (!spm_migrate_reserve(ledger, inv, final, refusal, error))
        return FALSE;
    out->xml = spm_xml_format(rebound);
    out->holding = g_steal_pointer(&final);
    return TRUE;
}

gboolean
spm_hook_migrate_incoming(const SpmConfig *config, const SpmHookFacts *facts,
                          const char *xml, gsize len, char **xml_out, GError **error)
{
    g_autoptr(SpmHostInventory) inv = NULL;
    g_autoptr(SpmLedger) ledger = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    g_auto(SpmMigrateRebind) rebind = { 0 };
    g_auto(SpmLedgerRefusal) refusal = { 0 };
    g_autofree char *name = NULL;
    g_autofree char *uuid = NULL;
    SpmPlanPolicy policy = *facts->policy;
    xmlNodePtr root;

    *xml_out = NULL;
    policy.host.libvirt_version = facts->libvirt_version;
    if (!(doc = spm_xml_read_memory(xml, len, "domain XML on standard input", error)))
        return FALSE;
    root = xmlDocGetRootElement(doc);
    name = spm_xml_text_or_null(spm_xml_child(root, "name"));
    uuid = spm_xml_text_or_null(spm_xml_child(root, "uuid"));
    if (!(inv = spm_host_inventory_load(config->keyfile, NULL, error)))
        return FALSE;
    if (spm_host_inventory_is_empty(inv)) {
        g_autoptr(SpmLedger) none = NULL;

        /* no HBM inventory: nothing to re-bind or reserve, but still check the plan */
        return spm_migrate_rebind(doc, &policy, none, inv, uuid, name ? name : "?", &rebind,
                                  NULL, error);
    }
    if (!(ledger = spm_ledger_open(NULL, SPM_LEDGER_WRITE, error)))
        return FALSE;
    if (!spm_migrate_rebind(doc, &policy, ledger, inv, uuid, name ? name : "?", &rebind,
                            &refusal, error)) {
        if (refusal.device) {
            g_autofree char *line =
                g_strdup_printf("virt-spm: refusing to migrate domain '%s' to this host: %s",
                                name ? name : "?", (*error)->message);

            spm_ledger_journal_refusal(&refusal, line);
        }
        return FALSE;   /* closing the ledger drops what was not committed */
    }
    if (rebind.holding && !spm_ledger_commit(ledger, error))
        return FALSE;
    *xml_out = g_steal_pointer(&rebind.xml);
    return TRUE;
}
