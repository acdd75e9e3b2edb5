/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-host.c: virt-spm host -- the host's HBM nodes and who holds what.
 *
 * Offline (no libvirt): it reads the inventory and the ledger file under a
 * shared lock, so it answers in a few milliseconds however many guests run.
 * With --placement it also asks Placement (virt-spm-placement-allocation
 * --view, [placement] of virt-spm.conf) for its inventory and usage of each
 * HBM node's child provider and shows them beside the ledger's, marking
 * every node where the two differ.
 */
#include <stdio.h>

#include "spm-config.h"
#include "spm-error.h"
#include "spm-hook-placement.h"
#include "spm-run.h"
#include "spm-ledger.h"
#include "spm-units.h"
#include "virt-spm-commands.h"

#define SPM_GIB (G_GUINT64_CONSTANT(1) << 30)

/* "used+reserved/total GiB" of node @id in Placement's view, and whether it matches the ledger. */
static char *
spm_host_placement_cell(JsonObject *view, gint64 id, JsonObject *node, gboolean *differs)
{
    g_autofree char *key = g_strdup_printf("%" G_GINT64_FORMAT, id);
    JsonObject *nodes = json_object_get_object_member(view, "nodes");
    JsonObject *p = nodes && json_object_has_member(nodes, key) ?
                    json_object_get_object_member(nodes, key) : NULL;
    guint64 cap = json_object_get_int_member(node, "capacity") / SPM_GIB;
    guint64 held = json_object_get_int_member(node, "reserved");
    gint64 total, used, reserved;

    /* Placement counts whole GiB: a started GiB held is a whole one, a started GiB of capacity none */
    held = held / SPM_GIB + (held % SPM_GIB ? 1 : 0);
    if (!p) {
        *differs = cap > 0;
        return g_strdup("(none)");
    }
    total = json_object_get_int_member(p, "total");
    used = json_object_get_int_member(p, "used");
    reserved = json_object_get_int_member(p, "reserved");
    *differs = (guint64)total != cap || (guint64)(used + reserved) != held;
    if (reserved)
        return g_strdup_printf("%" G_GINT64_FORMAT "+%" G_GINT64_FORMAT "r/%" G_GINT64_FORMAT " GiB",
                               used, reserved, total);
    return g_strdup_printf("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " GiB", used, total);
}

static void
spm_host_print_table(JsonObject *o, JsonObject *view)
{
    JsonArray *nodes = json_object_get_array_member(o, "nodes");
    JsonArray *cands = json_object_get_array_member(o, "candidates");
    guint n = json_array_get_length(nodes);

    if (n == 0) {
        printf("No HBM nodes configured ([host] spm_nodes in virt-spm.conf): nothing is reserved.\n");
    } else {
        guint drift = 0;

        if (view)
            printf("%-5s %12s %12s %12s %-18s  %s\n", "NODE", "CAPACITY", "RESERVED", "FREE",
                   "PLACEMENT", "HOLDERS");
        else
            printf("%-5s %12s %12s %12s  %s\n", "NODE", "CAPACITY", "RESERVED", "FREE", "HOLDERS");
        for (guint i = 0; i < n; i++) {
            JsonObject *node = json_array_get_object_element(nodes, i);
            JsonArray *holders = json_object_get_array_member(node, "holders");
            g_autofree char *cap = spm_units_format(json_object_get_int_member(node, "capacity"));
            g_autofree char *res = spm_units_format(json_object_get_int_member(node, "reserved"));
            g_autofree char *fr = spm_units_format(json_object_get_int_member(node, "free"));
            g_autoptr(GString) who = g_string_new(NULL);

            for (guint h = 0; h < json_array_get_length(holders); h++) {
                JsonObject *ho = json_array_get_object_element(holders, h);
                g_autofree char *size = spm_units_format(json_object_get_int_member(ho, "bytes"));
                const char *set = json_object_get_string_member(ho, "nodeset");
                /* the ledger is a file: its names reach the terminal escaped */
                g_autofree char *domain = spm_error_printable(json_object_get_string_member(ho, "domain"), 0);
                g_autofree char *device = spm_error_printable(json_object_get_string_member(ho, "device"), 0);
                g_autofree char *shown_set = spm_error_printable(set, 0);

                g_string_append_printf(who, "%s%s/%s %s", who->len ? ", " : "",
                                       domain, device, size);
                if (strpbrk(set, ",-"))
                    g_string_append_printf(who, " (shared by nodes %s)", shown_set);
            }
            if (view) {
                gboolean differs = FALSE;
                g_autofree char *cell = spm_host_placement_cell(view, json_object_get_int_member(node, "id"),
                                                                node, &differs);
                g_autofree char *shown = g_strdup_printf("%s%s", cell, differs ? " !" : "");

                drift += differs;
                printf("%-5" G_GINT64_FORMAT " %12s %12s %12s %-18s  %s\n",
                       json_object_get_int_member(node, "id"), cap, res, fr, shown,
                       who->len ? who->str : "-");
            } else {
                printf("%-5" G_GINT64_FORMAT " %12s %12s %12s  %s\n",
                       json_object_get_int_member(node, "id"), cap, res, fr,
                       who->len ? who->str : "-");
            }
        }
        if (view) {
            g_autofree char *host = spm_error_printable(json_object_get_string_member(view, "host"), 0);

            if (drift)
                printf("Placement (compute node '%s', used+reserved/total): %u node%s differ%s from "
                       "the ledger (!); `virt-spm nova placement-sync` repairs inventory and "
                       "reserved\n", host, drift, drift == 1 ? "" : "s", drift == 1 ? "s" : "");
            else
                printf("Placement (compute node '%s', used+reserved/total): agrees with the ledger\n",
                       host);
        }
        for (guint i = 0; i < n; i++) {
            JsonObject *node = json_array_get_object_element(nodes, i);

            if (!json_object_get_boolean_member_with_default(node, "online", TRUE))
                printf("warning: host node %" G_GINT64_FORMAT " has no memory online (the kernel's "
                       "has_memory does not list it): Placement is not offered it\n",
                       json_object_get_int_member(node, "id"));
        }
        if (!json_object_get_boolean_member(o, "consistent"))
            printf("warning: the running domains hold more than the capacity of some nodes\n");
    }
    if (json_array_get_length(cands)) {
        g_autoptr(GString) ids = g_string_new(NULL);

        for (guint i = 0; i < json_array_get_length(cands); i++)
            g_string_append_printf(ids, "%s%" G_GINT64_FORMAT, i ? "," : "",
                                   json_array_get_int_element(cands, i));
        printf("Memory-only nodes (candidates for [host] spm_nodes): %s\n", ids->str);
    }
}

/* Placement's view of this host's HBM nodes (virt-spm-placement-allocation --view). */
static JsonNode *
spm_host_placement_view(GKeyFile *kf, GError **error)
{
    g_autoptr(GPtrArray) argv = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    guint timeout_s = 0;
    int status = -1;

    if (!(argv = spm_hook_placement_argv(kf, NULL, &timeout_s, error)))
        return NULL;
    if (!spm_run_capture_status((const char *const *)argv->pdata, timeout_s * 1000, &out, &err,
                                &status, error))
        return NULL;
    if (status != 0) {
        g_autofree char *why = spm_hook_placement_last_line(err);

        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "host --placement: %s",
                    why ? why : "virt-spm-placement-allocation failed without a message");
        return NULL;
    }
    if (!json_parser_load_from_data(parser, out, -1, NULL) || !json_parser_get_root(parser) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "host --placement: Placement's answer is "
                    "not a JSON object");
        return NULL;
    }
    return json_node_copy(json_parser_get_root(parser));
}

gboolean
spm_cmd_host(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    gboolean json = FALSE;
    gboolean placement = FALSE;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print the inventory and the ledger as JSON", NULL },
        { "placement", 0, 0, G_OPTION_ARG_NONE, &placement,
          "show Placement's inventory and usage of each HBM node beside the ledger's", NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- the host's HBM nodes and their holders");
    g_autoptr(GError) local = NULL;
    g_autoptr(SpmConfig) config = NULL;
    g_autoptr(SpmHostInventory) inv = NULL;
    g_autoptr(SpmLedger) ledger = NULL;
    g_autoptr(JsonNode) root = NULL;
    g_autoptr(JsonNode) view = NULL;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Capacity comes from [host] spm_nodes in virt-spm.conf (or the node's MemTotal);\n"
        "reservations from the HBM ledger in $VIRT_SPM_LEDGER_DIR or /run/virt-spm.\n"
        "--placement asks Placement with [placement] of virt-spm.conf (nova_conf, host, timeout).\n"
        "Exit status: 0 success, 1 failure (bad configuration, unreadable ledger, Placement\n"
        "not reachable with --placement), 2 usage.");
    if (!g_option_context_parse(ctx, &argc, &argv, &local) || argc != 1) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE, "host: %s",
                    local ? local->message : "no arguments expected");
        return FALSE;
    }
    if (!(config = spm_config_load(g->config_path, error)) ||
        !(inv = spm_host_inventory_load(config->keyfile, NULL, error)) ||
        !(ledger = spm_ledger_open(NULL, SPM_LEDGER_READ, error)))
        return FALSE;
    root = spm_ledger_to_json(ledger, inv);
    spm_ledger_close(g_steal_pointer(&ledger));   /* Placement may be slow: not under the lock */
    if (placement) {
        if (!(view = spm_host_placement_view(config->keyfile, error)))
            return FALSE;
        json_object_set_member(json_node_get_object(root), "placement", json_node_copy(view));
    }
    if (json) {
        g_autofree char *text = json_to_string(root, TRUE);

        printf("%s\n", text);
    } else {
        spm_host_print_table(json_node_get_object(root), view ? json_node_get_object(view) : NULL);
    }
    return TRUE;
}
