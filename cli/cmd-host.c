/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-host.c: virt-spm host -- the host's HBM nodes and who holds what.
 *
 * Offline (no libvirt): it reads the inventory and the ledger file under a
 * shared lock, so it answers in a few milliseconds however many guests run.
 */
#include <stdio.h>

#include "spm-config.h"
#include "spm-error.h"
#include "spm-ledger.h"
#include "spm-units.h"
#include "virt-spm-commands.h"

static void
spm_host_print_table(JsonObject *o)
{
    JsonArray *nodes = json_object_get_array_member(o, "nodes");
    JsonArray *cands = json_object_get_array_member(o, "candidates");
    guint n = json_array_get_length(nodes);

    if (n == 0) {
        printf("No HBM nodes configured ([host] spm_nodes in virt-spm.conf): nothing is reserved.\n");
    } else {
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
            printf("%-5" G_GINT64_FORMAT " %12s %12s %12s  %s\n",
                   json_object_get_int_member(node, "id"), cap, res, fr,
                   who->len ? who->str : "-");
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

gboolean
spm_cmd_host(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print the inventory and the ledger as JSON", NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- the host's HBM nodes and their holders");
    g_autoptr(GError) local = NULL;
    g_autoptr(SpmConfig) config = NULL;
    g_autoptr(SpmHostInventory) inv = NULL;
    g_autoptr(SpmLedger) ledger = NULL;
    g_autoptr(JsonNode) root = NULL;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Capacity comes from [host] spm_nodes in virt-spm.conf (or the node's MemTotal);\n"
        "reservations from the HBM ledger in $VIRT_SPM_LEDGER_DIR or /run/virt-spm.\n"
        "Exit status: 0 success, 1 failure (bad configuration, unreadable ledger), 2 usage.");
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
    if (json) {
        g_autofree char *text = json_to_string(root, TRUE);

        printf("%s\n", text);
    } else {
        spm_host_print_table(json_node_get_object(root));
    }
    return TRUE;
}
