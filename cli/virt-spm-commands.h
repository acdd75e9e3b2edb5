/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-spm-commands.h: the sub-commands of virt-spm(1).
 *
 * Each command lives in the cmd-*.c file of its area, parses its own
 * options with GOption, prints its result on stdout and returns FALSE with
 * @error set on failure; main() prints "error: MESSAGE" and picks the exit
 * status from the error code (spm_error_exit_status()).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Options every command shares, as virsh has them. */
typedef struct {
    const char *connect_uri;    /* -c/--connect; NULL = LIBVIRT_DEFAULT_URI or qemu:///system */
    const char *config_path;    /* --config; NULL = the installed virt-spm.conf */
    gboolean quiet;
} SpmGlobalOptions;

/* @argv[0] is the command name; the command owns option parsing. */
typedef gboolean (*SpmCommandFunc)(int argc, char **argv,
                                   const SpmGlobalOptions *global,
                                   int *exit_status, /* set when not 0/1/2 by error code */
                                   GError **error);

typedef struct {
    const char *name;
    SpmCommandFunc func;
    const char *args;           /* "FILE [--json]" */
    const char *summary;
} SpmCommand;

/* cmd-offline.c: no libvirt connection needed */
gboolean spm_cmd_validate(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error);
gboolean spm_cmd_plan(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error);
gboolean spm_cmd_convert(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error);
gboolean spm_cmd_argv(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error);

/* cmd-host.c: the HBM inventory and ledger (offline) */
gboolean spm_cmd_host(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error);

/* cmd-nova.c dispatches `virt-spm nova SUBCOMMAND`; cmd-nova-flavor.c, cmd-nova-provider.c */
gboolean spm_cmd_nova(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error);
gboolean spm_cmd_nova_flavor(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error);
gboolean spm_cmd_nova_provider_config(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error);
/* cmd-nova-placement.c: executes the Placement agent (placement/) */
gboolean spm_cmd_nova_placement_sync(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error);

/* cmd-libvirt.c */
gboolean spm_cmd_define(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error);
gboolean spm_cmd_dumpxml(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error);
gboolean spm_cmd_edit(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error);

/* cmd-audit.c */
gboolean spm_cmd_audit(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error);
/* cmd-audit-guest.c: audit --guest (spm_cmd_audit hands it over) */
gboolean spm_cmd_audit_guest(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error);
gboolean spm_cmd_status(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error);

G_END_DECLS
