/*
 * spm-hook-decide.c: what the libvirt qemu hook does with one call
 */
#define _GNU_SOURCE /* memmem */
#include "spm-hook-decide.h"
#include "spm-convert.h"
#include "spm-memdir.h"
#include "spm-error.h"
#include "spm-json-guard.h"
#include "spm-ledger-domain.h"
#include "spm-xml.h"
#include "spm-xml-node.h"

#include <string.h>
#include <json-glib/json-glib.h>

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
    decision->event = NULL;
    decision->action = SPM_HOOK_ALLOW;
}

gboolean
spm_hook_xml_mentions_spm(const char *xml, gsize len)
{
    return memmem(xml, len, SPM_XMLNS, strlen(SPM_XMLNS)) != NULL;
}

/* The most of a -device value a refusal quotes: it comes from domain XML. */
#define SPM_HOOK_SHOWN_VALUE 64

/* QEMU's device type names: "pc-dimm", "sp-mem", "ICH9-LPC", "vmbus-bridge" */
static gboolean
spm_hook_is_device_name(const char *name)
{
    gsize len = strlen(name);

    if (len == 0 || len > 64)
        return FALSE;
    for (const char *p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-_.", *p))
            return FALSE;
    }
    return TRUE;
}

/*
 * The driver of one -device value: "pc-dimm,id=x", "driver=pc-dimm,..." or
 * {"driver":"pc-dimm",...}.  A value that names no device is an error that
 * quotes it bounded and escaped; it is never passed on as a driver name.
 */
static char *
spm_hook_device_driver(const char *value, GError **error)
{
    g_autofree char *shown = spm_error_printable(value, SPM_HOOK_SHOWN_VALUE);
    g_autofree char *driver = NULL;

    if (value[0] == '{') {
        g_autoptr(GError) local = NULL;
        /* the guard first: json-glib recurses once per level */
        g_autoptr(JsonNode) root = spm_json_guard_parse(value, strlen(value), SPM_JSON_MAX_DEPTH,
                                                        &local);
        JsonNode *dn;

        if (!root) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "-device value '%s' in <qemu:commandline> is not JSON virt-spm reads: %s",
                        shown, local->message);
            return NULL;
        }
        if (!JSON_NODE_HOLDS_OBJECT(root) ||
            !(dn = json_object_get_member(json_node_get_object(root), "driver")) ||
            !JSON_NODE_HOLDS_VALUE(dn) || json_node_get_value_type(dn) != G_TYPE_STRING) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "-device value '%s' in <qemu:commandline> has no \"driver\" string",
                        shown);
            return NULL;
        }
        driver = g_strdup(json_node_get_string(dn));
    } else {
        driver = g_strndup(value, strcspn(value, ","));
        if (g_str_has_prefix(driver, "driver="))
            memmove(driver, driver + strlen("driver="), strlen(driver) - strlen("driver=") + 1);
    }
    if (!spm_hook_is_device_name(driver)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "-device value '%s' in <qemu:commandline> does not start with a device name",
                    shown);
        return NULL;
    }
    return g_steal_pointer(&driver);
}

static gboolean
spm_hook_is_qemu_element(xmlNodePtr node, const char *name)
{
    return spm_xml_is_element(node, name) && node->ns &&
           xmlStrEqual(node->ns->href, BAD_CAST QEMU_XMLNS);
}

/* The distinct drivers of the -device arguments in <qemu:commandline>. */
static GPtrArray *
spm_hook_generated_drivers(xmlNodePtr root, GError **error)
{
    g_autoptr(GPtrArray) drivers = g_ptr_array_new_with_free_func(g_free);
    gboolean next_is_device = FALSE;

    for (xmlNodePtr cl = root->children; cl; cl = cl->next) {
        if (!spm_hook_is_qemu_element(cl, "commandline"))
            continue;
        for (xmlNodePtr arg = cl->children; arg; arg = arg->next) {
            g_autofree char *value = NULL;
            g_autofree char *driver = NULL;

            if (!spm_hook_is_qemu_element(arg, "arg") || !(value = spm_xml_prop(arg, "value")))
                continue;
            if (next_is_device && !(driver = spm_hook_device_driver(value, error)))
                return NULL;
            if (driver && !g_ptr_array_find_with_equal_func(drivers, driver, g_str_equal, NULL))
                g_ptr_array_add(drivers, g_steal_pointer(&driver));
            next_is_device = g_str_equal(value, "-device");
        }
    }
    return g_steal_pointer(&drivers);
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

/* prepare begin of an SPM domain: may libvirt start it? */
static void
spm_hook_decide_start(xmlDocPtr doc,
                      const char *name,
                      const char *uuid,
                      const SpmHookFacts *facts,
                      SpmHookDecision *decision)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) drivers = NULL;
    g_autofree char *emulator = NULL;
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

    if (!(drivers = spm_hook_generated_drivers(xmlDocGetRootElement(doc), &error))) {
        spm_hook_refuse(decision, "refusing to start domain '%s': %s", name, error->message);
        return;
    }
    if (drivers->len == 0) {
        spm_hook_refuse(decision,
                        "refusing to start domain '%s': its SPM metadata has no generated "
                        "-device argument in <qemu:commandline>; define it again with "
                        "'virt-spm define'", name);
        return;
    }

    emulator = spm_xml_text_or_null(spm_xml_child(spm_xml_child(xmlDocGetRootElement(doc),
                                                                 "devices"), "emulator"));
    if (!emulator)
        emulator = g_strdup(SPM_HOOK_DEFAULT_EMULATOR);

    for (guint i = 0; i < drivers->len; i++) {
        const char *driver = drivers->pdata[i];
        gboolean has_device = FALSE;

        if (!facts->probe(emulator, driver, &has_device, facts->probe_opaque, &error)) {
            spm_hook_refuse(decision,
                            "refusing to start domain '%s': cannot tell whether emulator '%s' "
                            "has the '%s' device: %s",
                            name, emulator, driver, error->message);
            return;
        }
        if (!has_device) {
            spm_hook_refuse(decision,
                            "refusing to start domain '%s': emulator '%s' has no '%s' device "
                            "(SPM memory needs a QEMU with the spm-memory device)",
                            name, emulator, driver);
            return;
        }
    }

    /* what the start takes from the host HBM ledger (the caller reserves) */
    decision->holding = spm_ledger_holding_from_plan(plan, uuid ? uuid : name, name);
    if (decision->holding->requests->len == 0)
        g_clear_pointer(&decision->holding, spm_ledger_holding_free);
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
    gboolean start = g_str_equal(op, "prepare") && g_str_equal(subop, "begin");
    gboolean migrate = g_str_equal(op, "migrate") && g_str_equal(subop, "begin");
    gboolean restore = g_str_equal(op, "restore") && g_str_equal(subop, "begin");
    gboolean launch = g_str_equal(op, "start") && g_str_equal(subop, "begin");
    gboolean release = g_str_equal(op, "release") && g_str_equal(subop, "end");
    const char *event = NULL;

    memset(decision, 0, sizeof(*decision));
    decision->action = SPM_HOOK_ALLOW;
    decision->run_id = -1;

    if (g_str_equal(op, "started") && g_str_equal(subop, "begin"))
        event = "started";
    else if (g_str_equal(op, "stopped") && g_str_equal(subop, "end"))
        event = "stopped";
    else if (!start && !migrate && !restore && !launch && !release)
        return;

    /* Domains without SPM: nothing to parse, nothing to do. */
    if (!spm_hook_xml_mentions_spm(xml, xml_len))
        return;

    if (!(doc = spm_xml_read_memory(xml, xml_len, "domain XML on standard input", &error))) {
        if (!event && !release)
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

    /*
     * After a stop: every directory virt-spm may have made for the domain,
     * from the host's facts rather than a plan, so that a domain whose plan
     * no longer works still leaves nothing behind.
     */
    if (release || g_strcmp0(event, "stopped") == 0)
        decision->remove_dirs = spm_memdir_candidates(&facts->policy->host, name);

    if (release) {
        /* the domain is gone: its HBM goes back to the ledger */
        decision->release = TRUE;
        decision->domain = g_steal_pointer(&name);
        decision->uuid = g_steal_pointer(&uuid);
    } else if (launch) {
        spm_hook_decide_dirs(doc, facts, decision);
    } else if (event) {
        decision->action = SPM_HOOK_NOTIFY;
        decision->event = event;
        decision->release = g_str_equal(event, "stopped");
        decision->domain = g_steal_pointer(&name);
        decision->uuid = g_steal_pointer(&uuid);
        decision->run_id = spm_hook_run_id(root);
    } else if (migrate) {
        spm_hook_refuse(decision,
                        "refusing to migrate domain '%s': spm-memory is not migratable "
                        "(its contents cannot move to another host)", name);
    } else if (restore) {
        spm_hook_refuse(decision,
                        "refusing to restore domain '%s': spm-memory is not migratable, so a "
                        "saved state of it cannot be restored; start the domain afresh", name);
    } else {
        spm_hook_decide_start(doc, name, uuid, facts, decision);
    }
}
