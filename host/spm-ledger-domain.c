/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-ledger-domain.c: domains to ledger requests; automatic node choice
 */
#include <stdio.h>

#include "spm-ledger-domain.h"
#include "spm-domain-parse.h"
#include "spm-error.h"
#include "spm-xml.h"
#include "spm-xml-node.h"

SpmLedgerHolding *
spm_ledger_holding_from_plan(const SpmPlan *plan, const char *uuid, const char *domain)
{
    SpmLedgerHolding *h = spm_ledger_holding_new(uuid, domain);

    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmPlannedDevice *dev = plan->devices->pdata[i];

        if (dev->model != SPM_MEM_MODEL_SPM || !dev->backend.host_nodes)
            continue;
        spm_ledger_holding_add(h, dev->id, dev->backend.host_nodes, dev->backend.size);
    }
    return h;
}

/* The SPM devices without a nodemask, in document order, and their sizes. */
static gboolean
spm_ledger_choose_for(SpmLedger *ledger, const SpmHostInventory *inv,
                      GPtrArray *devs, char ***chosen, GError **error)
{
    g_autofree guint64 *sizes = g_new0(guint64, devs->len + 1);

    for (guint i = 0; i < devs->len; i++)
        sizes[i] = ((const SpmMemDevice *)devs->pdata[i])->size;
    return spm_ledger_choose(ledger, inv, sizes, devs->len, chosen, error);
}

gboolean
spm_ledger_assign_def(SpmLedger *ledger, const SpmHostInventory *inv, SpmDomainDef *def,
                      guint *assigned, GError **error)
{
    g_autoptr(GPtrArray) devs = g_ptr_array_new();
    g_auto(GStrv) chosen = NULL;

    if (assigned)
        *assigned = 0;
    if (spm_host_inventory_is_empty(inv))
        return TRUE;
    for (guint i = 0; i < def->mems->len; i++) {
        SpmMemDevice *dev = def->mems->pdata[i];

        if (dev->model == SPM_MEM_MODEL_SPM && !dev->source.nodemask && !dev->source.path)
            g_ptr_array_add(devs, dev);
    }
    if (devs->len == 0)
        return TRUE;
    if (!spm_ledger_choose_for(ledger, inv, devs, &chosen, error))
        return FALSE;
    for (guint i = 0; i < devs->len; i++) {
        SpmMemDevice *dev = devs->pdata[i];

        dev->source.nodemask = g_strdup(chosen[i]);
    }
    if (assigned)
        *assigned = devs->len;
    return TRUE;
}

gboolean
spm_ledger_assign_doc(SpmLedger *ledger, const SpmHostInventory *inv, xmlDocPtr doc,
                      guint *assigned, GError **error)
{
    xmlNodePtr devices = spm_xml_child(xmlDocGetRootElement(doc), "devices");
    g_autoptr(GPtrArray) nodes = g_ptr_array_new();
    g_autoptr(GPtrArray) devs = g_ptr_array_new_with_free_func((GDestroyNotify)spm_mem_device_free);
    g_auto(GStrv) chosen = NULL;

    if (assigned)
        *assigned = 0;
    if (spm_host_inventory_is_empty(inv) || !devices)
        return TRUE;
    for (xmlNodePtr n = devices->children; n; n = n->next) {
        g_autofree char *model = NULL;
        xmlNodePtr source;
        SpmMemDevice *dev;

        if (!spm_xml_is_element(n, "memory") || !(model = spm_xml_prop(n, "model")) ||
            !g_str_equal(model, "spm"))
            continue;
        source = spm_xml_child(n, "source");
        /* a file or device-dax backend is placed by its path, not by a bind */
        if (source && (spm_xml_child(source, "nodemask") || spm_xml_child(source, "path")))
            continue;
        if (!(dev = spm_mem_device_parse(n, error)))
            return FALSE;
        g_ptr_array_add(nodes, n);
        g_ptr_array_add(devs, dev);
    }
    if (devs->len == 0)
        return TRUE;
    if (!spm_ledger_choose_for(ledger, inv, devs, &chosen, error))
        return FALSE;
    for (guint i = 0; i < nodes->len; i++) {
        xmlNodePtr mem = nodes->pdata[i];
        xmlNodePtr source = spm_xml_child(mem, "source");

        if (!source) {
            /* <source> comes first in libvirt's memory device */
            source = xmlNewNode(mem->ns, BAD_CAST "source");
            if (mem->children)
                xmlAddPrevSibling(mem->children, source);
            else
                xmlAddChild(mem, source);
        }
        xmlNewTextChild(source, source->ns, BAD_CAST "nodemask", BAD_CAST chosen[i]);
    }
    if (assigned)
        *assigned = nodes->len;
    return TRUE;
}

/* The SPM <memory> elements of @doc whose source names neither nodes nor a path. */
static GPtrArray *
spm_ledger_unbound(xmlDocPtr doc)
{
    xmlNodePtr devices = spm_xml_child(xmlDocGetRootElement(doc), "devices");
    GPtrArray *out = g_ptr_array_new();

    for (xmlNodePtr n = devices ? devices->children : NULL; n; n = n->next) {
        g_autofree char *model = NULL;
        xmlNodePtr source;

        if (!spm_xml_is_element(n, "memory") || !(model = spm_xml_prop(n, "model")) ||
            !g_str_equal(model, "spm"))
            continue;
        source = spm_xml_child(n, "source");
        if (!source || (!spm_xml_child(source, "nodemask") && !spm_xml_child(source, "path")))
            g_ptr_array_add(out, n);
    }
    return out;
}

gboolean
spm_ledger_assign_config(GKeyFile *kf, xmlDocPtr doc, gboolean quiet, GError **error)
{
    g_autoptr(SpmHostInventory) inv = spm_host_inventory_load(kf, NULL, error);
    g_autoptr(SpmLedger) ledger = NULL;
    g_autoptr(GPtrArray) unbound = NULL;

    if (!inv)
        return FALSE;
    if (spm_host_inventory_is_empty(inv))
        return TRUE;
    unbound = spm_ledger_unbound(doc);
    if (unbound->len == 0)
        return TRUE;
    if (!(ledger = spm_ledger_open(NULL, SPM_LEDGER_READ, error)) ||
        !spm_ledger_assign_doc(ledger, inv, doc, NULL, error))
        return FALSE;
    for (guint i = 0; !quiet && i < unbound->len; i++) {
        xmlNodePtr n = unbound->pdata[i];
        xmlNodePtr alias = spm_xml_child(n, "alias");
        g_autofree char *name = alias ? spm_xml_prop(alias, "name") : NULL;
        g_autofree char *mask = spm_xml_text_or_null(spm_xml_child(spm_xml_child(n, "source"),
                                                                   "nodemask"));

        g_autofree char *which = name ? g_strdup_printf("'%s'", name)
                                      : g_strdup_printf("#%u without alias", i + 1);

        fprintf(stderr, "note: SPM memory %s: host nodes %s chosen from [host] spm_nodes "
                "(first fit); the definition keeps them\n", which, mask ? mask : "?");
    }
    return TRUE;
}
