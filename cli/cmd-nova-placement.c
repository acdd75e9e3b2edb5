/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-nova-placement.c: `virt-spm nova placement-sync`: register this
 * host's HBM nodes in Placement, one child resource provider per node
 * (docs/nova.md).  The work is done by a Python program on OpenStack's own
 * libraries (keystoneauth1 sessions and nova.conf's [placement] section
 * loaded as nova-compute loads it), which this executes; it reads the
 * host's nodes back through `virt-spm host --json`, so it is handed this
 * binary and the --config in force.
 */
#include <errno.h>
#include <unistd.h>

#include "spm-build-config.h"
#include "spm-env.h"
#include "spm-error.h"
#include "virt-spm-commands.h"

/* $VIRT_SPM_PLACEMENT_SYNC (a build tree's copy, in tests), else the installed one. */
static const char *
spm_placement_sync_path(void)
{
    const char *env = spm_env(SPM_ENV_PLACEMENT_SYNC);

    return env && *env ? env : VIRT_SPM_LIBEXECDIR "/virt-spm-placement-sync";
}

gboolean
spm_cmd_nova_placement_sync(int argc, char **argv, const SpmGlobalOptions *g, int *st,
                            GError **error)
{
    const char *prog = spm_placement_sync_path();
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autoptr(GPtrArray) args = g_ptr_array_new();

    g_ptr_array_add(args, (char *)prog);
    if (self) {
        g_ptr_array_add(args, (char *)"--virt-spm");
        g_ptr_array_add(args, self);
    }
    if (g->config_path) {
        g_ptr_array_add(args, (char *)"--config");
        g_ptr_array_add(args, (char *)g->config_path);
    }
    for (int i = 1; i < argc; i++)
        g_ptr_array_add(args, argv[i]);
    g_ptr_array_add(args, NULL);

    execv(prog, (char **)args->pdata);
    g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "nova placement-sync: cannot run '%s': %s",
                prog, g_strerror(errno));
    return FALSE;
}
