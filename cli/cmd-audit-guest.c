/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-audit-guest.c: virt-spm audit --guest: what the guest made of each
 * SPM device, from its qemu-guest-agent (docs/guest-view.md).
 *
 * audit --guest DOMAIN asks virt-spmd when its control socket exists (the
 * daemon keeps the verdict and journals mismatches), else asks the agent
 * through libvirt.  audit --guest --agent PATH --plan FILE asks the agent
 * socket of a QEMU run without libvirt.  File reads in the guest
 * (/proc/iomem, dax target_node) only with [guest-audit] file_reads.
 * Exit status: 0 match, 1 mismatch or failure, 2 usage, 3 undetermined
 * (no agent, or facts that do not decide).
 */
#include <stdio.h>
#include <string.h>
#include <libvirt/libvirt.h>

#include "spm-audit-domain.h"
#include "spm-config.h"
#include "spm-control.h"
#include "spm-error.h"
#include "spm-guest-agent-socket.h"
#include "spm-guest-audit-domain.h"
#include "spm-json-guard.h"
#include "spm-libvirt-conn.h"
#include "virt-spm-commands.h"

#define SPM_AUDIT_GUEST_EXIT_UNDETERMINED 3

/* The audit as JSON, with the domain it is of. */
static JsonNode *
spm_guest_report(const SpmGuestAudit *a, const char *domain, const char *uuid)
{
    JsonNode *node = spm_guest_audit_to_json(a);
    JsonObject *o = json_node_get_object(node);

    json_object_set_string_member(o, "domain", domain ? domain : "");
    json_object_set_string_member(o, "uuid", uuid ? uuid : "");
    return node;
}

/* One line per device; the same from a daemon's reply as from a local audit. */
static void
spm_guest_print(JsonObject *o)
{
    JsonArray *devs = json_object_get_array_member(o, "devices");
    const char *domain = json_object_get_string_member_with_default(o, "domain", "");

    printf("%s: guest %s (%u devices)\n", *domain ? domain : "guest",
           json_object_get_string_member_with_default(o, "judgement", "?"),
           devs ? json_array_get_length(devs) : 0);
    if (json_object_has_member(o, "error"))
        printf("  agent: %s\n", json_object_get_string_member_with_default(o, "error", ""));
    for (guint i = 0; devs && i < json_array_get_length(devs); i++) {
        JsonObject *d = json_array_get_object_element(devs, i);
        JsonNode *node = d ? json_object_get_member(d, "guest_node") : NULL;
        g_autofree char *where = node && JSON_NODE_HOLDS_VALUE(node)
            ? g_strdup_printf(", guest node %" G_GINT64_FORMAT, json_node_get_int(node)) : g_strdup("");

        if (!d)
            continue;
        printf("  device '%s': %s (expected %s, %s%s): %s\n",
               json_object_get_string_member_with_default(d, "device", ""),
               json_object_get_string_member_with_default(d, "state", ""),
               json_object_get_string_member_with_default(d, "expected", ""),
               json_object_get_string_member_with_default(d, "judgement", ""), where,
               json_object_get_string_member_with_default(d, "reason", ""));
    }
}

static int
spm_guest_exit_status(JsonObject *o)
{
    int j = spm_guest_judgement_from_string(json_object_get_string_member_with_default(o, "judgement", ""));

    return j == SPM_GUEST_JUDGED_MATCH ? 0 : j == SPM_GUEST_JUDGED_MISMATCH ? 1
                                                                             : SPM_AUDIT_GUEST_EXIT_UNDETERMINED;
}

static JsonNode *
spm_guest_via_agent_socket(const char *agent_path, const char *plan_path,
                           const SpmGuestAgentOptions *opts, GError **error)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;
    g_autoptr(SpmAuditPlan) plan = NULL;
    g_autoptr(SpmGuestAgentSocket) sock = NULL;
    g_autoptr(SpmGuestAudit) a = NULL;

    if (!g_file_get_contents(plan_path, &text, &len, &local)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "--plan '%s': %s", plan_path, local->message);
        return NULL;
    }
    if (!(plan = spm_audit_plan_from_json(text, len, error)))
        return NULL;
    sock = spm_guest_agent_socket_open(agent_path, opts->timeout_ms, &local);
    if (sock) {
        a = spm_guest_agent_audit(plan, spm_guest_agent_socket_send, sock, opts);
    } else {
        /* no agent is a verdict (unknown), not a failure of virt-spm */
        g_autoptr(SpmGuestFacts) facts = spm_guest_facts_new();

        facts->agent_error = g_strdup_printf("qemu-guest-agent: %s", local->message);
        a = spm_guest_audit_judge(plan, facts);
    }
    return spm_guest_report(a, "", "");
}

static JsonNode *
spm_guest_via_libvirt(const char *domain, const char *uri, SpmConfig *config,
                      const SpmGuestAgentOptions *opts, GError **error)
{
    g_autoptr(virConnect) conn = NULL;
    g_autoptr(virDomain) dom = NULL;
    g_autoptr(SpmGuestAudit) a = NULL;
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    gboolean is_spm = FALSE;

    if (!(conn = spm_libvirt_open(uri, error)) ||
        !(dom = spm_libvirt_lookup(conn, domain, error)))
        return NULL;
    if (virDomainIsActive(dom) != 1) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "domain '%s' is not running", domain);
        return NULL;
    }
    if (!(a = spm_guest_audit_domain(dom, &config->policy, opts, &is_spm, error))) {
        if (!is_spm)
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "domain '%s' has no virt-spm metadata: nothing to audit", domain);
        return NULL;
    }
    virDomainGetUUIDString(dom, uuid);
    return spm_guest_report(a, virDomainGetName(dom), uuid);
}

/* The daemon's "guest-audit" answer: its "guest" member; NULL + error
 * "cannot connect to virt-spmd ..." when no daemon listens. */
static JsonNode *
spm_guest_via_daemon(const char *domain, guint timeout_ms, GError **error)
{
    g_autoptr(JsonNode) root = spm_control_call("guest-audit", domain, timeout_ms, error);
    JsonNode *guest;

    if (!root)
        return NULL;
    guest = json_object_get_member(json_node_get_object(root), "guest");
    if (!guest || !JSON_NODE_HOLDS_OBJECT(guest)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "virt-spmd sent no guest audit");
        return NULL;
    }
    return json_node_copy(guest);
}

gboolean
spm_cmd_audit_guest(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    g_autofree char *agent_path = NULL;
    g_autofree char *plan_path = NULL;
    gboolean guest = FALSE, json = FALSE, direct = FALSE;
    gint timeout_s = 0;
    GOptionEntry entries[] = {
        { "guest", 0, 0, G_OPTION_ARG_NONE, &guest, "audit what the guest made of its SPM devices (qemu-guest-agent)", NULL },
        { "agent", 0, 0, G_OPTION_ARG_FILENAME, &agent_path, "the agent socket of a QEMU run without libvirt (with --plan)", "PATH" },
        { "plan", 0, 0, G_OPTION_ARG_FILENAME, &plan_path, "the plan, as 'virt-spm plan --json' printed it", "FILE" },
        { "direct", 0, 0, G_OPTION_ARG_NONE, &direct, "ask through libvirt even when virt-spmd runs", NULL },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "per agent command: give up after SECONDS", "SECONDS" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print the verdict as JSON", NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("--guest DOMAIN | --guest --agent PATH --plan FILE");
    g_autoptr(GError) local = NULL;
    g_autoptr(SpmConfig) config = NULL;
    g_autoptr(JsonNode) report = NULL;
    SpmGuestAgentOptions opts;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_summary(ctx, "What the guest made of its SPM devices, from its qemu-guest-agent.\n"
                                 "Exit status: 0 match, 1 mismatch or failure, 2 usage error, 3 undetermined.");
    if (!g_option_context_parse(ctx, &argc, &argv, &local)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE, "audit: %s", local->message);
        return FALSE;
    }
    if (!(config = spm_config_load(g->config_path, error)) ||
        !spm_guest_agent_options_load(config->keyfile, &opts, error))
        return FALSE;
    if (timeout_s > 0)
        opts.timeout_ms = (guint) MIN(timeout_s, 600) * 1000;

    if (agent_path || plan_path) {
        if (!agent_path || !plan_path || argc != 1) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE,
                        "audit --guest: --agent PATH and --plan FILE go together, without DOMAIN");
            return FALSE;
        }
        report = spm_guest_via_agent_socket(agent_path, plan_path, &opts, error);
    } else {
        const char *uri = g->connect_uri ? g->connect_uri : config->uri;

        if (argc != 2) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE, "audit --guest: expected one DOMAIN (name or UUID)");
            return FALSE;
        }
        /* the daemon's own connection is what it was started with: an
         * explicit -c asks libvirt directly */
        if (!direct && !g->connect_uri && g_file_test(spm_control_socket_path(), G_FILE_TEST_EXISTS)) {
            report = spm_guest_via_daemon(argv[1], opts.timeout_ms * 4 + 10000, &local);
            if (!report && g_str_has_prefix(local->message, "cannot connect to virt-spmd"))
                g_clear_error(&local);
            else if (!report) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
            }
        }
        if (!report)
            report = spm_guest_via_libvirt(argv[1], uri, config, &opts, error);
    }
    if (!report)
        return FALSE;
    if (json) {
        g_autofree char *text = json_to_string(report, TRUE);

        printf("%s\n", text);
    } else {
        spm_guest_print(json_node_get_object(report));
    }
    *st = spm_guest_exit_status(json_node_get_object(report));
    return TRUE;
}
