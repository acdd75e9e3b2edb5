/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-spm-libvirt.c: the half of virt-spm(1) that links libvirt: define,
 * dumpxml, edit, audit, status.  virt-spm executes it with its own
 * arguments; it is not meant to be run by hand.
 */
#include "spm-cli.h"

static const SpmCommand spm_libvirt_commands[] = SPM_CLI_TABLE(libvirt);

int
main(int argc, char **argv)
{
    return spm_cli_main(argc, argv, spm_libvirt_commands,
                        G_N_ELEMENTS(spm_libvirt_commands), NULL);
}
