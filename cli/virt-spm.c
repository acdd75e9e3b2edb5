/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-spm.c: the command-line tool.  The offline commands run here; the
 * ones that need libvirt or the daemon run in virt-spm-libvirt (spm-cli.h
 * says why).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "spm-build-config.h"
#include "spm-env.h"
#include "spm-cli.h"

static const SpmCommand spm_offline_commands[] = SPM_CLI_TABLE(offline);

/*
 * $VIRT_SPM_LIBVIRT_HELPER, else the one next to this binary (a build
 * tree), else the installed one.
 */
static char *
spm_libvirt_helper_path(void)
{
    const char *env = spm_env(SPM_ENV_LIBVIRT_HELPER);
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);

    if (env && *env)
        return g_strdup(env);
    if (self) {
        g_autofree char *dir = g_path_get_dirname(self);
        g_autofree char *beside = g_build_filename(dir, "virt-spm-libvirt", NULL);

        if (g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE))
            return g_steal_pointer(&beside);
    }
    return g_strdup(VIRT_SPM_LIBEXECDIR "/virt-spm-libvirt");
}

static int
spm_run_libvirt_half(int argc, char **argv)
{
    g_autofree char *helper = spm_libvirt_helper_path();

    execv(helper, argv);
    fprintf(stderr, "error: cannot run '%s': %s\n", helper, g_strerror(errno));
    return 1;
}

int
main(int argc, char **argv)
{
    return spm_cli_main(argc, argv, spm_offline_commands,
                        G_N_ELEMENTS(spm_offline_commands), spm_run_libvirt_half);
}
