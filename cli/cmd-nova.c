/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-nova.c: `virt-spm nova SUBCOMMAND`: the OpenStack Nova commands
 * (docs/nova.md).  Each sub-command lives in a file of its own
 * (cmd-nova-*.c); this only dispatches on the first word.
 */
#include <stdio.h>

#include "spm-error.h"
#include "virt-spm-commands.h"

static const SpmCommand spm_nova_commands[] = {
    { "flavor", spm_cmd_nova_flavor, "[--name FLAVOR] [--check] [--pooled] [--profile NAME | SPEC...]",
      "print the `openstack flavor set` line of SPM memory, or check a flavor's properties" },
    { "provider-config", spm_cmd_nova_provider_config, "[--output FILE] [--reserved GIB]",
      "print the Placement provider file of this host's HBM (CUSTOM_SPM_HBM_GIB, CUSTOM_SPM_MEMORY)" },
    { "placement-sync", spm_cmd_nova_placement_sync,
      "[--placement-url URL --token TOKEN] [--host NAME]",
      "register this host's HBM nodes in Placement, one child provider per node" },
};

gboolean
spm_cmd_nova(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    if (argc >= 2) {
        for (gsize i = 0; i < G_N_ELEMENTS(spm_nova_commands); i++) {
            if (g_str_equal(argv[1], spm_nova_commands[i].name))
                return spm_nova_commands[i].func(argc - 1, argv + 1, g, st, error);
        }
    }
    if (argc >= 2 && (g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h"))) {
        printf("Usage: virt-spm nova SUBCOMMAND [ARGS...]\n\nSub-commands:\n");
        for (gsize i = 0; i < G_N_ELEMENTS(spm_nova_commands); i++)
            printf("  %-16s %s\n      %s\n", spm_nova_commands[i].name,
                   spm_nova_commands[i].args, spm_nova_commands[i].summary);
        return TRUE;
    }
    if (argc < 2)
        g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE,
                    "nova: missing a sub-command (try 'virt-spm nova --help')");
    else
        g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE,
                    "nova: unknown sub-command '%s' (try 'virt-spm nova --help')", argv[1]);
    return FALSE;
}
