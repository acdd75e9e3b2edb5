/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-daemon-placement.h: virt-spmd keeps Placement's children of this host
 * equal to the ledger (docs/nova.md, "virt-spmd: continuous sync").
 *
 * With a [placement] group in virt-spm.conf, virt-spmd runs the agent's
 * sync (virt-spm-placement-sync, what `virt-spm nova placement-sync` runs)
 * at start and every [placement] sync_interval seconds (default 300):
 * inventories an operator changed, [host] spm_nodes changes and the
 * reserved GiB of guests outside Nova are put back; each repair is
 * journaled, as is a sync that fails.  One sync at a time, in a child
 * process, never blocking the main loop.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SpmDaemonPlacement SpmDaemonPlacement;

/*
 * Start the periodic sync for @kf (virt-spm.conf, loaded from
 * @config_path; NULL = the default file).  NULL without @error when @kf
 * has no [placement] group; NULL with @error for a bad sync_interval.
 */
SpmDaemonPlacement *spm_daemon_placement_start(GKeyFile *kf, const char *config_path,
                                               GError **error);

/* Stop the timer and any sync in flight. */
void spm_daemon_placement_stop(SpmDaemonPlacement *p);

G_END_DECLS
