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
#include "virt-spm-commands.h"

G_BEGIN_DECLS

/* Every command of virt-spm, for usage; func is NULL for the libvirt half's. */
extern const SpmCommand spm_cli_commands[];
extern const gsize spm_cli_ncommands;

/*
 * Parse the global options, find the command in @table (commands of
 * spm_cli_commands missing from @table are run by @external, when given)
 * and run it.  Returns the exit status.
 */
int spm_cli_main(int argc, char **argv,
                 const SpmCommand *table, gsize ntable,
                 int (*external)(int argc, char **argv));

G_END_DECLS
