/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-hook-decide.c: what the libvirt qemu hook does with one call
 */
#define _GNU_SOURCE /* memmem */
#include "spm-hook-decide.h"
#include "spm-hook-ops.h"
#include "spm-convert.h"
#include "spm-memdir.h"
#include "spm-error.h"
#include "spm-json-guard.h"
#include "spm-ledger-domain.h"
#include "spm-xml.h"
#include "spm-xml-node.h"

#include <string.h>

void
spm_hook_decision_clear(SpmHookDecision *decision)
{
    g_clear_pointer(&decision->message, g_free);
    g_clear_pointer(&decision->domain, g_free);
    g_clear_pointer(&decision->uuid, g_free);
    g_clear_pointer(&decision->holding, spm_ledger_holding_free);
    decision->release = FALSE;
    g_clear_pointer(&decision->make_dirs, g_ptr_array_unref);
    g_clear_pointer(&decision->dac_label, g_free);
    g_clear_pointer(&decision->selinux_label, g_free);
    g_clear_pointer(&decision->remove_dirs, g_ptr_array_unref);
    g_clear_pointer(&decision->warning, g_free);
    decision->incoming = FALSE;
    decision->event = NULL;
    decision->action = SPM_HOOK_ALLOW;
}

gboolean
spm_hook_xml_mentions_spm(const char *xml, gsize len)
{
    return memmem(xml, len, SPM_XMLNS, strlen(SPM_XMLNS)) != NULL;
}

void
spm_hook_refuse(SpmHookDecision *decision, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *text = NULL;

    va_start(ap, fmt);
    text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* libvirt shows stderr as is: keep it one line whatever the causes said */
    g_strdelimit(text, "\r\n", ' ');
    decision->action = SPM_HOOK_REFUSE;
    decision->message = g_strdup_printf("virt-spm: %s", text);
}

/*
 * The imagelabel libvirt chose for the files of a live domain (start
 * begin) in security model @model ("dac", "selinux"), or NULL: none, or
 * relabel='no' (the administrator labels the files).
 */
static char *
spm_hook_image_label(xmlNodePtr root, const char *model)
{
    for (xmlNodePtr n = root->children; n; n = n->next) {
        g_autofree char *m = NULL;
        g_autofree char *relabel = NULL;

        if (!spm_xml_is_element(n, "seclabel") || !(m = spm_xml_prop(n, "model")) ||
            !g_str_equal(m, model))
            continue;
        relabel = spm_xml_prop(n, "relabel");
        if (g_strcmp0(relabel, "no") == 0)
            return NULL;
        return spm_xml_text_or_null(spm_xml_child(n, "imagelabel"));
    }
    return NULL;
}

/* start begin: the per-domain directories QEMU is about to use */
static void
spm_hook_decide_dirs(xmlDocPtr doc,
                     const SpmHookFacts *facts,
                     SpmHookDecision *decision)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmPlan) plan = NULL;
    g_autoptr(SpmDomainDef) def = NULL;
    SpmPlanPolicy policy = *facts->policy;
    gboolean has_spm = FALSE;

    /*
     * prepare begin refused what cannot be planned; a plan that fails only
     * now has no directories to make, and QEMU will say what is missing.
     */
    policy.host.libvirt_version = facts->libvirt_version;
    if (!spm_convert_check_current(doc, &policy, &has_spm, &plan, &def, &error) || !has_spm)
        return;
    decision->make_dirs = spm_memdir_planned(plan);
    if (decision->make_dirs->len == 0)
        g_clear_pointer(&decision->make_dirs, g_ptr_array_unref);
    else {
        decision->dac_label = spm_hook_image_label(xmlDocGetRootElement(doc), "dac");
        decision->selinux_label = spm_hook_image_label(xmlDocGetRootElement(doc), "selinux");
    }
}

/* Does @plan generate any -device argument (an SPM device)? */
static gboolean
spm_hook_plan_generates(const SpmPlan *plan)
{
    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(plan->devices, i);

        if (pd->generated)
            return TRUE;
    }
    return FALSE;
}

gboolean
spm_hook_emulator_device(const SpmHookFacts *facts,
                         const char *emulator,
                         const char *stand_in,
                         SpmDeviceRev *rev,
                         GError **error)
{
    g_autoptr(GError) local = NULL;
    gboolean found = FALSE;

    if (stand_in) {
        if (!facts->probe(emulator, stand_in, &found, facts->probe_opaque, &local)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                        "cannot tell whether emulator '%s' has the '%s' device: %s",
                        emulator, stand_in, local->message);
            return FALSE;
        }
        if (!found) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED,
                        "emulator '%s' has no '%s' device", emulator, stand_in);
            return FALSE;
        }
        return TRUE;
    }
    if (!spm_emulator_find_device(emulator, facts->probe, facts->probe_opaque, &found, rev,
                                  &local)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "cannot tell which SPM device emulator '%s' has: %s",
                    emulator, local->message);
        return FALSE;
    }
    if (!found) {
        g_autofree char *text = spm_emulator_no_device_text(emulator);

        g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "%s", text);
        return FALSE;
    }
    return TRUE;
}

/* prepare begin of an SPM domain: may libvirt start it? */
static void
spm_hook_decide_start(xmlDocPtr doc,
                      const char *name,
                      const char *uuid,
                      const SpmHookFacts *facts,
                      SpmHookDecision *decision)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *emulator = NULL;
    SpmDeviceRev emulator_rev;
    g_autoptr(SpmPlan) plan = NULL;
    g_autoptr(SpmDomainDef) def = NULL;
    SpmPlanPolicy policy = *facts->policy;
    gboolean has_spm = FALSE;

    /*
     * Re-plan as libvirt will run it: the planner refuses what this libvirt
     * cannot start (SPM mixed with libvirt's memory devices before
     * SPM_LIBVIRT_SKIPS_UNKNOWN_MEMDEV), and convert compares the arguments.
     * Its messages name the argument or device and say how to repair it.
     */
    policy.host.libvirt_version = facts->libvirt_version;
    if (!spm_convert_check_current(doc, &policy, &has_spm, &plan, &def, &error)) {
        spm_hook_refuse(decision, "refusing to start domain '%s': %s", name, error->message);
        return;
    }
    if (!has_spm)
        return;

    /* the pages the plan takes, before QEMU fails with "Cannot allocate memory" */
    if (facts->check_pages &&
        !facts->check_pages(plan, def, facts->check_pages_opaque, &error)) {
        spm_hook_refuse(decision, "refusing to start domain '%s': %s", name, error->message);
        return;
    }

    /*
     * Only the device virt-spm generated needs the emulator's support: the
     * other -device arguments of <qemu:commandline> are the user's and
     * QEMU judges them (probing each as an SPM device refused an SPM
     * domain with, say, -device virtio-rng-pci at every start).
     */
    if (!spm_hook_plan_generates(plan)) {
        spm_hook_refuse(decision,
                        "refusing to start domain '%s': its SPM metadata has no generated "
                        "-device argument in <qemu:commandline>; define it again with "
                        "'virt-spm define'", name);
        return;
    }

    /* the parsed definition has it: the XML is not read twice */
    emulator = g_strdup(def->emulator ? def->emulator : SPM_HOOK_DEFAULT_EMULATOR);

    emulator_rev = plan->device;
    if (!spm_hook_emulator_device(facts, emulator, plan->stand_in_driver, &emulator_rev, &error)) {
        spm_hook_refuse(decision, "refusing to start domain '%s': %s", name, error->message);
        return;
    }
    if (emulator_rev != plan->device) {
        const SpmDeviceRevInfo *want = spm_device_rev_info(plan->device);
        const SpmDeviceRevInfo *have = spm_device_rev_info(emulator_rev);

        spm_hook_refuse(decision,
                        "refusing to start domain '%s': it was converted for the '%s' device "
                        "(%s), but emulator '%s' has '%s' (%s); define it again with "
                        "'virt-spm define'",
                        name, want->driver, want->summary, emulator, have->driver,
                        have->summary);
        return;
    }

    /* what the start takes from the host HBM ledger (the caller reserves) */
    decision->holding = spm_ledger_holding_from_plan(plan, uuid ? uuid : name, name);
    if (decision->holding->requests->len == 0)
        g_clear_pointer(&decision->holding, spm_ledger_holding_free);
}

/*
 * migrate begin on the destination of an sp-mem domain: what a start here
 * would check, before any page moves -- arguments current for this host's
 * plan, generated by virt-spm, and this host's emulator has the device the
 * domain was converted for (a v8 build here refuses).  Then the helper
 * re-binds and reserves its HBM (spm-hook-migrate.h).
 */
static void
spm_hook_decide_incoming(xmlDocPtr doc, const char *name, const SpmHookFacts *facts,
                         SpmHookDecision *decision)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmPlan) plan = NULL;
    g_autoptr(SpmDomainDef) def = NULL;
    SpmPlanPolicy policy = *facts->policy;
    SpmDeviceRev emulator_rev;
    gboolean has_spm = FALSE;
    const char *emulator;

    policy.host.libvirt_version = facts->libvirt_version;
    if (!spm_convert_check_current(doc, &policy, &has_spm, &plan, &def, &error)) {
        spm_hook_refuse(decision, "refusing to migrate domain '%s' to this host: %s", name,
                        error->message);
        return;
    }
    if (!has_spm)
        return;
    if (!spm_hook_plan_generates(plan)) {
        spm_hook_refuse(decision,
                        "refusing to migrate domain '%s' to this host: its SPM metadata has no "
                        "generated -device argument in <qemu:commandline>", name);
        return;
    }
    emulator = def->emulator ? def->emulator : SPM_HOOK_DEFAULT_EMULATOR;
    emulator_rev = plan->device;
    if (!spm_hook_emulator_device(facts, emulator, plan->stand_in_driver, &emulator_rev, &error)) {
        spm_hook_refuse(decision, "refusing to migrate domain '%s' to this host: %s", name,
                        error->message);
        return;
    }
    if (emulator_rev != plan->device) {
        const SpmDeviceRevInfo *want = spm_device_rev_info(plan->device);
        const SpmDeviceRevInfo *have = spm_device_rev_info(emulator_rev);

        spm_hook_refuse(decision,
                        "refusing to migrate domain '%s' to this host: it runs the '%s' device "
                        "(%s), but emulator '%s' here has '%s' (%s)",
                        name, want->driver, want->summary, emulator, have->driver, have->summary);
        return;
    }
    decision->incoming = TRUE;
}

/*
 * migrate begin, restore begin.  Why depends on the device the domain was
 * converted for: QEMU 11.1's sp-mem migrates, and the destination re-binds
 * its HBM (spm_hook_decide_incoming); virt-spm does not yet carry the HBM
 * reservations of a guest over a saved state; the legacy v8 spm-memory
 * cannot migrate at all.
 */
static void
spm_hook_decide_move(xmlDocPtr doc, const char *name, gboolean migrate,
                     const SpmHookFacts *facts, SpmHookDecision *decision)
{
    xmlNodePtr meta = spm_xml_metadata_element(xmlDocGetRootElement(doc));
    g_autofree char *recorded = meta ? spm_xml_prop(meta, "device") : NULL;
    SpmDeviceRev rev = SPM_DEVICE_SPM_MEMORY;   /* metadata before the revisions: v8 */
    const SpmDeviceRevInfo *info;

    if (recorded && !spm_device_rev_from_string(recorded, &rev))
        rev = SPM_DEVICE_SP_MEM;
    info = spm_device_rev_info(rev);
    if (info->migratable && migrate && !info->migrates_memory && !facts->migrates_memory) {
        /* a migration that completes with the guest's HBM zeroed is worse than none */
        spm_hook_refuse(decision,
                        "refusing to migrate domain '%s': QEMU's '%s' device migrates, but not "
                        "the contents of its memory (QEMU 11.1.3 registers no RAM of it for "
                        "migration: the guest would find zeros where its HBM was); shut it down "
                        "and start it on the other host, or set [qemu] migrate_memory = true "
                        "for a QEMU that carries it", name, info->driver);
        return;
    }
    if (info->migratable && migrate) {
        spm_hook_decide_incoming(doc, name, facts, decision);
        return;
    }
    if (info->migratable) {
        spm_hook_refuse(decision,
                        "refusing to restore domain '%s': virt-spm does not yet carry the HBM "
                        "reservations of a guest's SPM devices over a saved state (QEMU's '%s' "
                        "device itself could be restored); start the domain afresh",
                        name, info->driver);
        return;
    }
    spm_hook_refuse(decision,
                    migrate ? "refusing to migrate domain '%s': the '%s' device (%s) is not "
                              "migratable (its contents cannot move to another host)"
                            : "refusing to restore domain '%s': the '%s' device (%s) is not "
                              "migratable, so a saved state of it cannot be restored; start the "
                              "domain afresh",
                    name, info->driver, info->summary);
}

/* <domain id='N'>: the run the event is about (the daemon audits each
 * run once, however many notifications announce it). */
gint64
spm_hook_run_id(xmlNodePtr root)
{
    g_autofree char *id = spm_xml_prop(root, "id");
    guint64 v;

    if (!id || !g_ascii_string_to_unsigned(id, 10, 0, G_MAXINT32, &v, NULL))
        return -1;
    return (gint64) v;
}

void
spm_hook_decide(const char *op,
                const char *subop,
                const char *xml,
                gsize xml_len,
                const SpmHookFacts *facts,
                SpmHookDecision *decision)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    g_autofree char *name = NULL;
    g_autofree char *uuid = NULL;
    xmlNodePtr root;
    SpmHookOp hop = spm_hook_op_parse(op, subop);

    memset(decision, 0, sizeof(*decision));
    decision->action = SPM_HOOK_ALLOW;
    decision->run_id = -1;

    if (hop == SPM_HOOK_OP_LAST)
        return;

    /* Domains without SPM: nothing to parse, nothing to do. */
    if (!spm_hook_xml_mentions_spm(xml, xml_len))
        return;

    if (!(doc = spm_xml_read_memory(xml, xml_len, "domain XML on standard input", &error))) {
        if (spm_hook_op_may_refuse(hop))
            spm_hook_refuse(decision, "refusing to %s the domain: %s", op, error->message);
        return;
    }
    root = xmlDocGetRootElement(doc);
    /* The namespace may only appear in a description: the metadata decides. */
    if (!spm_xml_metadata_element(root))
        return;
    name = spm_xml_text_or_null(spm_xml_child(root, "name"));
    if (!name)
        name = g_strdup("?");

    uuid = spm_xml_text_or_null(spm_xml_child(root, "uuid"));

    switch (hop) {
    case SPM_HOOK_PREPARE_BEGIN:
        spm_hook_decide_start(doc, name, uuid, facts, decision);
        break;
    case SPM_HOOK_START_BEGIN:
        spm_hook_decide_dirs(doc, facts, decision);
        break;
    case SPM_HOOK_MIGRATE_BEGIN:
    case SPM_HOOK_RESTORE_BEGIN:
        spm_hook_decide_move(doc, name, hop == SPM_HOOK_MIGRATE_BEGIN, facts, decision);
        if (decision->incoming) {
            decision->domain = g_steal_pointer(&name);
            decision->uuid = g_steal_pointer(&uuid);
        }
        break;
    case SPM_HOOK_STARTED_BEGIN:
    case SPM_HOOK_STOPPED_END:
        decision->action = SPM_HOOK_NOTIFY;
        decision->event = hop == SPM_HOOK_STARTED_BEGIN ? "started" : "stopped";
        decision->domain = g_steal_pointer(&name);
        decision->uuid = g_steal_pointer(&uuid);
        decision->run_id = spm_hook_run_id(root);
        if (hop == SPM_HOOK_STOPPED_END) {
            decision->release = TRUE;
            /*
             * After a stop: every directory virt-spm may have made for the
             * domain, from the host's facts rather than a plan, so that a
             * domain whose plan no longer works still leaves nothing behind.
             */
            decision->remove_dirs = spm_memdir_candidates(&facts->policy->host, decision->domain);
        }
        break;
    case SPM_HOOK_RELEASE_END:
        /* the domain is gone: its HBM goes back to the ledger, its directories go */
        decision->remove_dirs = spm_memdir_candidates(&facts->policy->host, name);
        decision->release = TRUE;
        decision->domain = g_steal_pointer(&name);
        decision->uuid = g_steal_pointer(&uuid);
        break;
    case SPM_HOOK_OP_LAST:
        break;
    }
}
