/*
 * cmd-nova.c: virt-spm nova SUBCOMMAND -- the OpenStack Nova family.
 *
 * Each sub-command lives in a file of its own (cmd-nova-*.c); this table
 * only dispatches on the word after "nova".
 */
#include <stdio.h>

#include "spm-error.h"
#include "virt-spm-commands.h"

static const SpmCommand spm_nova_commands[] = {
    { "provider-config", spm_cmd_nova_provider_config, "[--output FILE] [--reserved GIB]",
      "Placement provider file for this host's HBM" },
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
            printf("  %-16s %-34s %s\n", spm_nova_commands[i].name, spm_nova_commands[i].args,
                   spm_nova_commands[i].summary);
        return TRUE;
    }
    g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE, "nova: %s sub-command '%s' (try 'virt-spm nova --help')",
                argc >= 2 ? "unknown" : "missing", argc >= 2 ? argv[1] : "");
    return FALSE;
}
