/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-audit.c: virt-spm audit and virt-spm status.
 *
 * audit DOMAIN asks virt-spmd when its control socket exists (the daemon
 * keeps the verdict and logs it), else audits directly through libvirt.
 * audit --qmp PATH --plan FILE audits a QEMU that runs without libvirt.
 * Exit status: 0 match, 1 mismatch or failure, 2 usage.
 */
#include <stdio.h>
#include <string.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "spm-audit-domain.h"
#include "spm-config.h"
#include "spm-control.h"
#include "spm-error.h"
#include "spm-units.h"
#include "spm-json-guard.h"
#include "spm-libvirt-conn.h"
#include "virt-spm-commands.h"

#define SPM_AUDIT_DEFAULT_TIMEOUT_MS 60000

static void
spm_print_verdict(const SpmVerdict *v, gboolean json)
{
    if (json) {
        g_autofree char *text = spm_verdict_to_json_string(v, TRUE);

        printf("%s\n", text);
        return;
    }
    if (v->kind == SPM_VERDICT_ERROR) {
        printf("%s: error: %s\n", v->domain, v->error);
        return;
    }
    printf("%s: %s (%u devices checked)\n", v->domain && *v->domain ? v->domain : "qemu",
           spm_verdict_kind_to_string(v->kind), v->devices);
    for (guint i = 0; i < v->findings->len; i++) {
        g_autofree char *line = spm_finding_to_string(g_ptr_array_index(v->findings, i));

        printf("  %s\n", line);
    }
}

/* Exit status of a printed verdict; FALSE + error for ERROR verdicts. */
static gboolean
spm_verdict_status(const SpmVerdict *v, int *st, GError **error)
{
    if (v->kind == SPM_VERDICT_ERROR) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "audit of '%s' failed: %s",
                    v->domain, v->error);
        return FALSE;
    }
    *st = v->kind == SPM_VERDICT_MATCH ? 0 : 1;
    return TRUE;
}

static guint
spm_audit_timeout(SpmConfig *config)
{
    gint64 t = config ? g_key_file_get_int64(config->keyfile, "audit", "timeout_ms", NULL) : 0;

    return t > 0 && t < G_MAXUINT ? (guint) t : SPM_AUDIT_DEFAULT_TIMEOUT_MS;
}

static SpmVerdict *
spm_audit_via_daemon(const char *domain, guint timeout_ms, GError **error)
{
    g_autoptr(JsonNode) root = spm_control_call("audit", domain, timeout_ms, error);

    if (!root)
        return NULL;
    return spm_verdict_from_json(json_object_get_member(json_node_get_object(root), "verdict"), error);
}

static SpmVerdict *
spm_audit_via_libvirt(const char *domain, const char *uri, SpmConfig *config, GError **error)
{
    g_autoptr(virConnect) conn = NULL;
    g_autoptr(virDomain) dom = NULL;
    SpmVerdict *v = NULL;
    gboolean is_spm = FALSE;

    /* the connection and lookup of every libvirt command (id, UUID, name) */
    if (!(conn = spm_libvirt_open(uri, error)) ||
        !(dom = spm_libvirt_lookup(conn, domain, error)))
        return NULL;
    if (virDomainIsActive(dom) != 1) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "domain '%s' is not running", domain);
    } else if (!(v = spm_audit_domain(dom, &config->policy, &is_spm)) && !is_spm) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "domain '%s' has no virt-spm metadata: nothing to audit", domain);
    }
    return v;
}

gboolean
spm_cmd_audit(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    g_autofree char *qmp_path = NULL;
    g_autofree char *plan_path = NULL;
    g_autofree char *stand_in = NULL;
    gboolean json = FALSE;
    gboolean direct = FALSE;
    gboolean guest = FALSE;     /* never set: --guest is handed over before parsing */
    gint timeout_s = 0;
    GOptionEntry entries[] = {
        { "qmp", 0, 0, G_OPTION_ARG_FILENAME, &qmp_path, "audit the QEMU whose QMP socket is PATH (no libvirt)", "PATH" },
        { "plan", 0, 0, G_OPTION_ARG_FILENAME, &plan_path, "the plan, as 'virt-spm plan --json' printed it (with --qmp)", "FILE" },
        { "stand-in", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &stand_in, "testing: SPM devices run as DRIVER (with --qmp)", "DRIVER" },
        { "direct", 0, 0, G_OPTION_ARG_NONE, &direct, "audit through libvirt even when virt-spmd runs", NULL },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "give up after SECONDS", "SECONDS" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print the verdict as JSON", NULL },
        { "guest", 0, 0, G_OPTION_ARG_NONE, &guest, "audit what the guest made of its SPM devices instead "
          "(qemu-guest-agent; 'audit --guest --help')", NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("DOMAIN | --qmp PATH --plan FILE | --guest ...");
    g_autoptr(GError) local = NULL;
    g_autoptr(SpmConfig) config = NULL;
    g_autoptr(SpmVerdict) v = NULL;
    guint timeout_ms;

    /* the guest audit has its own options (cmd-audit-guest.c) */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--guest") == 0)
            return spm_cmd_audit_guest(argc, argv, g, st, error);
    }
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_summary(ctx, "Compare a running guest's memory devices with its plan.\n"
                                 "Exit status: 0 match, 1 mismatch or failure, 2 usage error.");
    if (!g_option_context_parse(ctx, &argc, &argv, &local)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE, "audit: %s", local->message);
        return FALSE;
    }
    if (!(config = spm_config_load(g->config_path, error)))
        return FALSE;
    timeout_ms = timeout_s > 0 ? (guint) timeout_s * 1000 : spm_audit_timeout(config);

    if (qmp_path || plan_path) {
        g_autofree char *text = NULL;
        gsize len = 0;
        g_autoptr(SpmAuditPlan) plan = NULL;

        if (!qmp_path || !plan_path || argc != 1) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE,
                        "audit: --qmp PATH and --plan FILE go together, without DOMAIN");
            return FALSE;
        }
        if (!g_file_get_contents(plan_path, &text, &len, &local)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "--plan '%s': %s", plan_path, local->message);
            return FALSE;
        }
        if (!(plan = spm_audit_plan_from_json(text, len, error)))
            return FALSE;
        if (stand_in) {
            g_free(plan->stand_in_driver);
            plan->stand_in_driver = g_strdup(stand_in);
        }
        if (!(v = spm_audit_qmp_socket(qmp_path, plan, qmp_path, timeout_ms, error)))
            return FALSE;
    } else {
        const char *socket_path = spm_control_socket_path();

        if (argc != 2) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE, "audit: expected one DOMAIN (name or UUID)");
            return FALSE;
        }
        if (!direct && g_file_test(socket_path, G_FILE_TEST_EXISTS)) {
            v = spm_audit_via_daemon(argv[1], timeout_ms, &local);
            /* a stale socket of a daemon that is gone: audit directly */
            if (!v && g_str_has_prefix(local->message, "cannot connect to virt-spmd")) {
                g_clear_error(&local);
                v = spm_audit_via_libvirt(argv[1], g->connect_uri ? g->connect_uri : config->uri,
                                          config, error);
            } else if (!v) {
                g_propagate_error(error, g_steal_pointer(&local));
            }
        } else
            v = spm_audit_via_libvirt(argv[1], g->connect_uri ? g->connect_uri : config->uri,
                                      config, error);
        if (!v)
            return FALSE;
    }
    spm_print_verdict(v, json);
    return spm_verdict_status(v, st, error);
}

/* One line per HBM node of the daemon's ledger (`virt-spm host` has the details). */
static void
spm_status_print_ledger(JsonObject *ledger)
{
    JsonArray *nodes;

    if (!ledger)
        return;
    if (json_object_has_member(ledger, "error")) {
        printf("HBM ledger: %s\n", json_object_get_string_member(ledger, "error"));
        return;
    }
    nodes = json_object_get_array_member(ledger, "nodes");
    for (guint i = 0; nodes && i < json_array_get_length(nodes); i++) {
        JsonObject *n = json_array_get_object_element(nodes, i);
        g_autofree char *cap = spm_units_format(json_object_get_int_member(n, "capacity"));
        g_autofree char *fr = spm_units_format(json_object_get_int_member(n, "free"));

        printf("HBM node %" G_GINT64_FORMAT ": %s free of %s, %u holders\n",
               json_object_get_int_member(n, "id"), fr, cap,
               json_array_get_length(json_object_get_array_member(n, "holders")));
    }
    if (json_object_has_member(ledger, "reconcile_error"))
        printf("HBM ledger: last reconciliation failed: %s\n",
               json_object_get_string_member(ledger, "reconcile_error"));
}

/* The domain's last guest audit: its judgement, and the devices that do not match. */
static void
spm_status_print_guest(JsonObject *guest)
{
    JsonArray *devs;

    if (!guest)
        return;
    printf("  guest: %s at %s%s%s\n", json_object_get_string_member_with_default(guest, "judgement", "?"),
           json_object_get_string_member_with_default(guest, "time", "?"),
           json_object_has_member(guest, "error") ? ": " : "",
           json_object_get_string_member_with_default(guest, "error", ""));
    if (json_object_has_member(guest, "unanswered")) {
        JsonObject *u = json_object_get_object_member(guest, "unanswered");

        printf("  guest agent: no answer at %s: %s (the audit above stands)\n",
               u ? json_object_get_string_member_with_default(u, "time", "?") : "?",
               u ? json_object_get_string_member_with_default(u, "error", "?") : "?");
    }
    devs = json_object_get_array_member(guest, "devices");
    for (guint i = 0; devs && i < json_array_get_length(devs); i++) {
        JsonObject *dev = json_array_get_object_element(devs, i);

        if (!dev || g_strcmp0(json_object_get_string_member_with_default(dev, "judgement", ""), "match") == 0)
            continue;
        printf("  guest device '%s': %s (expected %s, %s): %s\n",
               json_object_get_string_member_with_default(dev, "device", ""),
               json_object_get_string_member_with_default(dev, "state", ""),
               json_object_get_string_member_with_default(dev, "expected", ""),
               json_object_get_string_member_with_default(dev, "judgement", ""),
               json_object_get_string_member_with_default(dev, "reason", ""));
    }
}

gboolean
spm_cmd_status(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print the daemon's answer as JSON", NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("");
    g_autoptr(GError) local = NULL;
    g_autoptr(JsonNode) root = NULL;
    JsonObject *o;
    JsonArray *domains;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_summary(ctx, "Every SPM domain virt-spmd knows and its last audit verdict.");
    if (!g_option_context_parse(ctx, &argc, &argv, &local) || argc != 1) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE, "status: %s",
                    local ? local->message : "no arguments expected");
        return FALSE;
    }
    if (!(root = spm_control_call("status", NULL, 10000, error)))
        return FALSE;
    o = json_node_get_object(root);
    if (json) {
        json_object_remove_member(o, "ok");
        g_autofree char *text = json_to_string(root, TRUE);

        printf("%s\n", text);
        return TRUE;
    }
    printf("virt-spmd: %s %s\n",
           json_object_get_boolean_member_with_default(o, "connected", FALSE) ? "connected to" : "not connected to",
           json_object_get_string_member_with_default(o, "uri", "?"));
    domains = json_object_get_array_member(o, "domains");
    printf("%-24s %-36s %-8s %-9s %s\n", "DOMAIN", "UUID", "STATE", "VERDICT", "AUDITED");
    for (guint i = 0; domains && i < json_array_get_length(domains); i++) {
        JsonObject *d = json_array_get_object_element(domains, i);
        g_autoptr(GError) e = NULL;
        g_autoptr(SpmVerdict) v = spm_verdict_from_json(json_array_get_element(domains, i), &e);

        printf("%-24s %-36s %-8s %-9s %s\n",
               json_object_get_string_member_with_default(d, "domain", ""),
               json_object_get_string_member_with_default(d, "uuid", ""),
               json_object_get_boolean_member_with_default(d, "active", FALSE) ? "running" : "stopped",
               json_object_get_string_member_with_default(d, "verdict", ""),
               json_object_get_string_member_with_default(d, "time", ""));
        for (guint f = 0; v && f < v->findings->len; f++) {
            g_autofree char *line = spm_finding_to_string(g_ptr_array_index(v->findings, f));

            printf("  %s\n", line);
        }
        if (v && v->error)
            printf("  error: %s\n", v->error);
        spm_status_print_guest(json_object_get_object_member(d, "guest"));
    }
    spm_status_print_ledger(json_object_get_object_member(o, "ledger"));
    return TRUE;
}
