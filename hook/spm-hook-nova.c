/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-hook-nova.c: the qemu hook's work for Nova guests
 */
#define _GNU_SOURCE /* memmem */
#include "spm-hook-nova.h"
#include "spm-hook-ops.h"
#include "spm-domain-parse.h"
#include "spm-error.h"
#include "spm-hook-ledger.h"
#include "spm-hook-placement.h"
#include "spm-host-inventory.h"
#include "spm-ledger-domain.h"
#include "spm-ledger.h"
#include "spm-nova-argv.h"
#include "spm-nova-config.h"
#include "spm-nova.h"
#include "spm-plan-format.h"
#include "spm-safe-dir.h"
#include "spm-xml.h"
#include "spm-xml-node.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

gboolean
spm_hook_nova_mentions(const char *xml, gsize len)
{
    return memmem(xml, len, SPM_NOVA_XMLNS_BASE, strlen(SPM_NOVA_XMLNS_BASE)) != NULL;
}

/*
 * Does <metadata> hold an element of virt-spm's own namespace?  Such a
 * domain is spm_hook_decide()'s, Nova's or not.  Only the parsed elements
 * count: a tenant's <nova:name> may hold any text, virt-spm's URI included.
 */
static gboolean
spm_hook_nova_has_own_metadata(xmlNodePtr root)
{
    xmlNodePtr metadata = spm_xml_child(root, "metadata");

    for (xmlNodePtr n = metadata ? metadata->children : NULL; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
            xmlStrEqual(n->ns->href, (const xmlChar *)SPM_XMLNS))
            return TRUE;
    }
    return FALSE;
}

/* Remove both plan files of @uuid; TRUE when there was a plan. */
static gboolean
spm_hook_nova_drop_plan(const char *uuid)
{
    g_autofree char *plan = g_strdup_printf("%s.plan", uuid);
    g_autofree char *json = g_strdup_printf("%s.json", uuid);
    gboolean had;
    int fd;

    /* inside the directory as opened, never through a link in its place */
    if ((fd = spm_safe_dir_open(spm_nova_plan_dir(), 0, 0, NULL, NULL)) < 0)
        return FALSE;
    had = unlinkat(fd, plan, 0) == 0;
    unlinkat(fd, json, 0);
    close(fd);
    return had;
}

/* Is @emulator (the domain's, as libvirt filled it in) our wrapper? */
static gboolean
spm_hook_nova_is_wrapper(const char *emulator, const char *wrapper)
{
    GStatBuf a, b;

    return emulator && g_stat(emulator, &a) == 0 && g_stat(wrapper, &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The plan as virt-spmd's audit reads it: docs/xml.md plus the stand-in. */
static char *
spm_hook_nova_plan_json(const SpmPlan *plan, GError **error)
{
    g_autofree char *text = spm_plan_to_json(plan, FALSE);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    JsonNode *root;

    if (!json_parser_load_from_data(parser, text, -1, error))
        return NULL;
    root = json_parser_get_root(parser);
    /* the audit compares the backend's object id (spm_audit_plan_from_json) */
    {
        JsonArray *devices = json_object_get_array_member(json_node_get_object(root), "devices");

        for (guint i = 0; devices && i < json_array_get_length(devices); i++) {
            JsonObject *dev = json_array_get_object_element(devices, i);
            JsonObject *backend = json_object_get_object_member(dev, "backend");
            g_autofree char *id = backend ? g_strdup(json_object_get_string_member(backend, "id")) : NULL;

            if (id)
                json_object_set_string_member(dev, "backend", id);
        }
    }
    if (plan->stand_in_driver)
        json_object_set_string_member(json_node_get_object(root), "stand_in_driver",
                                      plan->stand_in_driver);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

static gboolean
spm_hook_nova_write(const char *uuid, const char *ext, const char *text, GError **error)
{
    g_autofree char *path = spm_nova_plan_path(uuid, ext);
    int fd;

    /*
     * The wrapper applies a plan only from a directory of root's that no
     * one else can write (wrapper/virt-spm-qemu.c): an existing one is
     * made so, or refused when it is another user's.  Once that holds, no
     * one else can change the path either, and it is written by name.
     */
    if ((fd = spm_safe_dir_open(spm_nova_plan_dir(), SPM_SAFE_DIR_CREATE | SPM_SAFE_DIR_TRUSTED |
                                SPM_SAFE_DIR_FIX_MODE, 0755, NULL, error)) < 0)
        return FALSE;
    close(fd);
    /* 0644: the wrapper runs as libvirt's QEMU user; plans hold nothing secret */
    return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

/* Reserve @plan's HBM under the ledger lock the caller holds. */
static gboolean
spm_hook_nova_reserve(SpmLedger *ledger, const SpmHostInventory *inv, const SpmPlan *plan,
                      const char *uuid, const char *name, GError **error)
{
    g_autoptr(SpmLedgerHolding) holding = spm_ledger_holding_from_plan(plan, uuid, name);
    g_autoptr(GArray) reqs = g_array_new(FALSE, FALSE, sizeof(SpmLedgerRequest));
    g_auto(SpmLedgerRefusal) refusal = { 0 };

    for (guint i = 0; i < holding->requests->len; i++)
        g_array_append_val(reqs, *(SpmLedgerRequest *)holding->requests->pdata[i]);
    if (spm_ledger_reserve(ledger, inv, uuid, name, (SpmLedgerRequest *)reqs->data,
                           reqs->len, &refusal, error))
        return TRUE;
    if (refusal.domain)
        spm_ledger_journal_refusal(&refusal, (*error)->message);
    return FALSE;
}

static gboolean spm_hook_nova_release(GKeyFile *kf, const char *uuid, gboolean always);

/* prepare begin: plan, reserve, store. */
static void
spm_hook_nova_start(xmlDocPtr doc, const SpmNovaInstance *inst, const SpmHookFacts *facts,
                    GKeyFile *kf, const char *name, const char *uuid,
                    SpmHookDecision *decision)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmNovaConfig) cfg = NULL;
    g_autoptr(SpmNovaRequest) req = NULL;
    g_autoptr(SpmDomainDef) def = NULL;
    g_autoptr(SpmPlan) plan = NULL;
    g_autoptr(SpmHostInventory) inv = NULL;
    g_autoptr(SpmLedger) ledger = NULL;
    g_autofree char *source = NULL;
    g_autofree char *edits = NULL;
    g_autofree char *json = NULL;
    g_autofree char *emulator = NULL;
    SpmPlanPolicy policy = *facts->policy;
    guint64 ram;

    /* A plan or a holding from an earlier run never applies to this one. */
    spm_hook_nova_release(kf, uuid, TRUE);

    if (!(cfg = spm_nova_config_load(kf, &error)) ||
        !(req = spm_nova_request_resolve(cfg, inst, &source, &error))) {
        spm_hook_refuse(decision, "refusing to start domain '%s': %s", name, error->message);
        return;
    }
    if (req->devices->len == 0) {
        /* the flavor asks for nothing: never touched */
        decision->warning = spm_nova_request_unused_mapping(cfg, inst);
        return;
    }

    if (!(def = spm_domain_def_parse(doc, &error))) {
        spm_hook_refuse(decision, "refusing to start domain '%s': %s", name, error->message);
        return;
    }
    if (!spm_hook_nova_is_wrapper(def->emulator, cfg->wrapper)) {
        spm_hook_refuse(decision,
                        "refusing to start domain '%s': %s asks for SPM memory, but its "
                        "emulator '%s' is not the virt-spm wrapper '%s' (install the "
                        "libvirtd/virtqemud drop-in and restart the daemon, docs/nova.md)",
                        name, source, def->emulator ? def->emulator : "(none)", cfg->wrapper);
        return;
    }
    /*
     * The real QEMU behind the wrapper decides the device the plan is for
     * (sp-mem of QEMU 11.1, or the legacy v8 spm-memory); asked before the
     * ledger's lock is taken.
     */
    emulator = spm_nova_real_qemu(cfg);
    if (!spm_hook_emulator_device(facts, emulator, policy.stand_in_driver, &policy.device,
                                  &error)) {
        spm_hook_refuse(decision, "refusing to start domain '%s': %s asks for SPM memory, but %s",
                        name, source, error->message);
        return;
    }
    ram = def->memory;
    if (!spm_nova_request_apply(req, def, &error)) {
        spm_hook_refuse(decision, "refusing to start domain '%s': %s: %s",
                        name, source, error->message);
        return;
    }

    /*
     * Placement chose a host node for each device when it scheduled the
     * guest: the host binds them there (asked before the ledger's lock is
     * taken; a bounded wait).  Unreachable, the ledger chooses and a
     * warning says so.
     */
    if (spm_hook_placement_bind(kf, def, uuid, &decision->warning, &error) ==
        SPM_HOOK_PLACEMENT_REFUSED) {
        spm_hook_refuse(decision, "refusing to start domain '%s': %s: %s",
                        name, source, error->message);
        return;
    }

    /*
     * From the node choice to the commit under the ledger's lock: two
     * starts can never choose, or reserve, the same free bytes.
     */
    if (!(inv = spm_host_inventory_load(kf, NULL, &error)) ||
        (!spm_host_inventory_is_empty(inv) &&
         !(ledger = spm_ledger_open(NULL, SPM_LEDGER_WRITE, &error)))) {
        spm_hook_refuse(decision, "refusing to start domain '%s': %s", name, error->message);
        return;
    }
    if (ledger && !spm_ledger_assign_def(ledger, inv, def, NULL, &error)) {
        spm_hook_refuse(decision, "refusing to start domain '%s': %s: spm:devices=%u: %s",
                        name, source, req->devices->len, error->message);
        return;
    }

    policy.host.libvirt_version = facts->libvirt_version;
    if (!(plan = spm_plan_build(def, &policy, &error)) ||
        !(edits = spm_nova_argv_edits(def, plan, ram, &error)) ||
        !(json = spm_hook_nova_plan_json(plan, &error))) {
        spm_hook_refuse(decision, "refusing to start domain '%s': %s: %s",
                        name, source, error->message);
        return;
    }

    /* the huge pages the plan takes, before QEMU fails with "Cannot allocate memory" */
    if (facts->check_pages && !facts->check_pages(plan, def, facts->check_pages_opaque, &error)) {
        spm_hook_refuse(decision, "refusing to start domain '%s': %s: %s",
                        name, source, error->message);
        return;
    }

    if (ledger && !spm_hook_nova_reserve(ledger, inv, plan, uuid, name, &error)) {
        spm_hook_refuse(decision, "refusing to start domain '%s': %s: %s",
                        name, source, error->message);
        return;
    }
    if (!spm_hook_nova_write(uuid, "json", json, &error) ||
        !spm_hook_nova_write(uuid, "plan", edits, &error) ||
        (ledger && !spm_ledger_commit(ledger, &error))) {
        spm_hook_nova_drop_plan(uuid);
        spm_hook_refuse(decision, "refusing to start domain '%s': %s", name, error->message);
        return;
    }
}

/*
 * stopped/release end: the plan and the reservation go; TRUE when there was
 * a plan.  @always: release a holding even without a plan (prepare begin:
 * the domain does not run, so whatever it holds is left from a run whose
 * stop the hook never saw).
 */
static gboolean
spm_hook_nova_release(GKeyFile *kf, const char *uuid, gboolean always)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmLedger) ledger = NULL;
    g_autoptr(SpmHostInventory) inv = NULL;
    gboolean had_plan = spm_hook_nova_drop_plan(uuid);
    gboolean had = FALSE;

    if (!had_plan && !always)
        return FALSE;
    /* no inventory, no ledger: nothing was reserved */
    if (!(inv = spm_host_inventory_load(kf, NULL, NULL)) || spm_host_inventory_is_empty(inv))
        return had_plan;
    /* a stop cannot be refused: problems are reported, virt-spmd reconciles */
    if (!(ledger = spm_ledger_open(NULL, SPM_LEDGER_WRITE, &error))) {
        g_printerr("virt-spm: releasing the HBM of domain %s: %s\n", uuid, error->message);
        return had_plan;
    }
    spm_ledger_release(ledger, uuid, &had);
    if (had && !spm_ledger_commit(ledger, &error))
        g_printerr("virt-spm: releasing the HBM of domain %s: %s\n", uuid, error->message);
    return had_plan;
}

void
spm_hook_nova_decide(const char *op,
                     const char *subop,
                     const char *xml,
                     gsize xml_len,
                     const SpmHookFacts *facts,
                     GKeyFile *kf,
                     gboolean *handled,
                     SpmHookDecision *decision)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(SpmNovaInstance) inst = NULL;
    g_autofree char *name = NULL;
    g_autofree char *uuid = NULL;
    g_autofree char *plan = NULL;
    xmlNodePtr root;
    SpmHookOp hop = spm_hook_op_parse(op, subop);

    memset(decision, 0, sizeof(*decision));
    decision->action = SPM_HOOK_ALLOW;
    decision->run_id = -1;
    *handled = FALSE;
    if (!spm_hook_nova_mentions(xml, xml_len))
        return;
    if (!(doc = spm_xml_read_memory(xml, xml_len, "domain XML on standard input", &error)))
        return;     /* spm_hook_decide() reports it, if it concerns virt-spm at all */
    root = xmlDocGetRootElement(doc);
    if (spm_hook_nova_has_own_metadata(root) || !(inst = spm_nova_instance_read(root)))
        return;
    *handled = TRUE;
    name = spm_xml_text_or_null(spm_xml_child(root, "name"));
    uuid = spm_xml_text_or_null(spm_xml_child(root, "uuid"));
    if (!name || !uuid || !g_uuid_string_is_valid(uuid)) {
        if (hop == SPM_HOOK_PREPARE_BEGIN)
            spm_hook_refuse(decision, "refusing to start Nova domain '%s': it has no valid "
                            "<uuid>", name ? name : "?");
        return;
    }
    plan = spm_nova_plan_path(uuid, "plan");

    switch (hop) {
    case SPM_HOOK_PREPARE_BEGIN:
        spm_hook_nova_start(doc, inst, facts, kf, name, uuid, decision);
        break;
    case SPM_HOOK_MIGRATE_BEGIN:
    case SPM_HOOK_RESTORE_BEGIN: {
        g_autoptr(SpmNovaConfig) cfg = spm_nova_config_load(kf, NULL);
        g_autoptr(SpmNovaRequest) req = cfg ? spm_nova_request_resolve(cfg, inst, NULL, NULL) : NULL;

        /*
         * What the flavor asks for does not move yet: the stored plan and
         * Placement's allocation stay with the source, and QEMU 11.1.3's
         * sp-mem migrates without its memory's contents (docs/libvirt.md,
         * "Live migration"; the legacy v8 spm-memory never migrates).
         * Refuse whenever it asks, or when that cannot be told.
         */
        if (!req || req->devices->len > 0)
            spm_hook_refuse(decision, "refusing to %s domain '%s': its flavor '%s' asks for "
                            "SPM memory, and virt-spm does not yet move the HBM reservations "
                            "of a guest's SPM devices with it (cold-migrate or resize to a host "
                            "with the same HBM inventory instead)",
                            op, name, inst->flavor ? inst->flavor : "?");
        break;
    }
    case SPM_HOOK_STARTED_BEGIN:
        if (g_file_test(plan, G_FILE_TEST_EXISTS)) {
            decision->action = SPM_HOOK_NOTIFY;
            decision->event = "started";
            decision->domain = g_steal_pointer(&name);
            decision->uuid = g_steal_pointer(&uuid);
            decision->run_id = spm_hook_run_id(root);
        }
        break;
    case SPM_HOOK_STOPPED_END:
    case SPM_HOOK_RELEASE_END:
        if (spm_hook_nova_release(kf, uuid, FALSE) && hop == SPM_HOOK_STOPPED_END) {
            decision->action = SPM_HOOK_NOTIFY;
            decision->event = "stopped";
            decision->domain = g_steal_pointer(&name);
            decision->uuid = g_steal_pointer(&uuid);
            decision->run_id = spm_hook_run_id(root);
        }
        break;
    case SPM_HOOK_START_BEGIN:      /* a Nova guest's backends need no directory of virt-spm's */
    case SPM_HOOK_OP_LAST:
        break;
    }
}
