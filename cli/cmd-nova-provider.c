/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-nova-provider.c: virt-spm nova provider-config -- a Placement
 * provider file (docs/nova.md) for this host's HBM inventory.
 *
 * nova-compute reads *.yaml files from [compute] provider_config_location
 * (/etc/nova/provider_config/) when it starts and adds their custom
 * inventories and traits to its compute node's resource provider.  The
 * file says:
 *   CUSTOM_SPM_HBM_GIB  total = sum of the capacities in GiB, max_unit =
 *                       total as well: Placement refuses any one
 *                       allocation above max_unit, and a flavor's
 *                       devices together are one allocation, so the
 *                       largest node would refuse every flavor whose HBM
 *                       spans two nodes.  One pooled inventory cannot see
 *                       fragmentation (docs/nova.md); min_unit 1, step_size 1,
 *                       allocation_ratio 1.0 (HBM is never overcommitted),
 *                       reserved = --reserved or [nova] hbm_reserved
 *   CUSTOM_SPM_MEMORY   the trait flavors require
 * and, on the side, how much MEMORY_MB to keep out of Nova's RAM inventory:
 * libvirt counts onlined HBM nodes as host RAM.
 *
 * The YAML is a fixed shape of integers and constant names, written here;
 * the test feeds it to Nova's own loader.
 */
#include <stdio.h>
#include <string.h>

#include "spm-config.h"
#include "spm-error.h"
#include "spm-host-inventory.h"
#include "spm-units.h"
#include "virt-spm-commands.h"

#define GiB (G_GUINT64_CONSTANT(1) << 30)
#define MiB (G_GUINT64_CONSTANT(1) << 20)

/* MemTotal of a node in sysfs (what libvirt's node info counts); 0 = not online */
static guint64
spm_nova_node_ram(const SpmHostInventory *inv, guint id)
{
    g_autofree char *path = g_strdup_printf("%s/devices/system/node/node%u/meminfo",
                                            inv->sysfs_root, id);
    g_autofree char *text = NULL;
    const char *p;
    guint64 kib = 0;

    if (!g_file_get_contents(path, &text, NULL, NULL) || !(p = strstr(text, "MemTotal:")) ||
        sscanf(p, "MemTotal: %" G_GUINT64_FORMAT, &kib) != 1)
        return 0;
    return kib * 1024;
}

static gboolean
spm_nova_node_is_memory_only(const SpmHostInventory *inv, guint id)
{
    for (guint i = 0; i < inv->candidates->len; i++) {
        if (g_array_index(inv->candidates, guint, i) == id)
            return TRUE;
    }
    return FALSE;
}

gboolean
spm_cmd_nova_provider_config(int argc, char **argv, const SpmGlobalOptions *g, int *st,
                             GError **error)
{
    g_autofree char *output = NULL;
    gint64 reserved_opt = -1;
    GOptionEntry entries[] = {
        { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
          "write the file here, atomically (default: standard output)", "FILE" },
        { "reserved", 0, 0, G_OPTION_ARG_INT64, &reserved_opt,
          "GiB of HBM kept from Placement (default: [nova] hbm_reserved, else 0)", "GIB" },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- Placement provider file for this host's HBM");
    g_autoptr(GError) local = NULL;
    g_autoptr(SpmConfig) config = NULL;
    g_autoptr(SpmHostInventory) inv = NULL;
    g_autoptr(GString) yaml = g_string_new(NULL);
    g_autoptr(GString) note = g_string_new(NULL);
    guint64 total = 0, max_unit = 0, reserved = 0, ram = 0;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Install the file in nova-compute's [compute] provider_config_location\n"
        "(/etc/nova/provider_config/) and restart nova-compute.  The MEMORY_MB to\n"
        "reserve (reserved_host_memory_mb) is printed on standard error, or on\n"
        "standard output with --output.");
    if (!g_option_context_parse(ctx, &argc, &argv, &local) || argc != 1) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE, "nova provider-config: %s",
                    local ? local->message : "no arguments expected");
        return FALSE;
    }
    if (!(config = spm_config_load(g->config_path, error)) ||
        !(inv = spm_host_inventory_load(config->keyfile, NULL, error)))
        return FALSE;
    if (spm_host_inventory_is_empty(inv)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "nova provider-config: [host] spm_nodes lists no HBM node; list them first "
                    "('virt-spm host' shows memory-only candidates)");
        return FALSE;
    }

    if (reserved_opt < -1) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE,
                    "nova provider-config: --reserved '%" G_GINT64_FORMAT "' is negative", reserved_opt);
        return FALSE;
    }
    if (reserved_opt >= 0) {
        reserved = reserved_opt;
    } else if (g_key_file_has_key(config->keyfile, "nova", "hbm_reserved", NULL)) {
        g_autofree char *v = g_key_file_get_string(config->keyfile, "nova", "hbm_reserved", NULL);
        guint64 bytes = 0;

        if (!spm_config_parse_size("[nova] hbm_reserved", v, &bytes, error))
            return FALSE;
        reserved = (bytes + GiB - 1) / GiB; /* a started GiB is kept whole */
    }

    g_string_append(note, "MEMORY_MB: libvirt counts this HBM as host RAM:");
    for (guint i = 0; i < inv->nodes->len; i++) {
        const SpmHostNode *n = &g_array_index(inv->nodes, SpmHostNode, i);
        guint64 gib = n->capacity / GiB;
        /*
         * A memory-only node is HBM through and through: all of it is out of
         * guest RAM.  On a node with CPUs only what virt-spm hands out is.
         */
        guint64 node_ram = spm_nova_node_is_memory_only(inv, n->id) ?
                           spm_nova_node_ram(inv, n->id) : n->capacity;

        total += gib;
        ram += node_ram;
        g_string_append_printf(note, " node %u %" G_GUINT64_FORMAT " MiB%s", n->id,
                               node_ram / MiB, i + 1 < inv->nodes->len ? "," : "");
    }
    max_unit = total;
    if (total == 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "nova provider-config: no node of [host] spm_nodes has 1 GiB, the unit of "
                    "CUSTOM_SPM_HBM_GIB");
        return FALSE;
    }
    if (reserved > total) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "nova provider-config: reserved %" G_GUINT64_FORMAT " GiB is more than the "
                    "total of %" G_GUINT64_FORMAT " GiB", reserved, total);
        return FALSE;
    }
    g_string_append_printf(note, "; add %" G_GUINT64_FORMAT " to reserved_host_memory_mb in "
                           "nova.conf [DEFAULT] so that Nova does not schedule guest RAM onto HBM",
                           (ram + MiB - 1) / MiB);

    g_string_append_printf(yaml,
        "# Placement provider file for this host's HBM, by virt-spm nova provider-config.\n"
        "# Install in [compute] provider_config_location (/etc/nova/provider_config/)\n"
        "# and restart nova-compute.  Flavors ask for it with\n"
        "#   resources:CUSTOM_SPM_HBM_GIB=N trait:CUSTOM_SPM_MEMORY=required\n"
        "# Keep the HBM out of MEMORY_MB: reserved_host_memory_mb += %" G_GUINT64_FORMAT "\n"
        "meta:\n"
        "  schema_version: '1.0'\n"
        "providers:\n"
        "  - identification:\n"
        "      uuid: $COMPUTE_NODE\n"
        "    inventories:\n"
        "      additional:\n"
        "        - CUSTOM_SPM_HBM_GIB:\n"
        "            total: %" G_GUINT64_FORMAT "\n"
        "            reserved: %" G_GUINT64_FORMAT "\n"
        "            min_unit: 1\n"
        "            max_unit: %" G_GUINT64_FORMAT "\n"
        "            step_size: 1\n"
        "            allocation_ratio: 1.0\n"
        "    traits:\n"
        "      additional:\n"
        "        - CUSTOM_SPM_MEMORY\n",
        (ram + MiB - 1) / MiB, total, reserved, max_unit);

    if (!output) {
        fputs(yaml->str, stdout);
        fprintf(stderr, "%s\n", note->str);
        return TRUE;
    }
    if (!g_file_set_contents_full(output, yaml->str, yaml->len,
                                  G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                  0644, &local)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "nova provider-config: %s", local->message);
        return FALSE;
    }
    printf("%s\n", note->str);
    return TRUE;
}
