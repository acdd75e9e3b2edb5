/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-cli.h: what virt-spm and its libvirt half share: global options,
 * usage, dispatch.
 *
 * virt-spm itself links no libvirt: libvirt's dependencies (gnutls, curl,
 * krb5, ...) cost ~8 ms of start-up, more than planning and converting a
 * domain.  The commands that talk to libvirt or the daemon live in
 * $libexecdir/virt-spm-libvirt, which virt-spm executes with the same
 * arguments.
 */
#pragma once

#include <glib.h>
#include "spm-cli-commands.h"
#include "virt-spm-commands.h"

G_BEGIN_DECLS

/*
 * Parse the global options, find the command in @table (built with
 * SPM_CLI_TABLE(), spm-cli-commands.h) and run it; a command of the other
 * half (no function in @table) is run by @external, when given.  Returns
 * the exit status.
 */
int spm_cli_main(int argc, char **argv,
                 const SpmCommand *table, gsize ntable,
                 int (*external)(int argc, char **argv));

G_END_DECLS
