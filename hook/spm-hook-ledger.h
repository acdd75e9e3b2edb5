/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-hook-ledger.h: the hook's side of the host HBM ledger -- reserve at
 * prepare begin, release at stopped/release end, journal every refusal.
 */
#pragma once

#include <glib.h>
#include "spm-config.h"
#include "spm-ledger.h"

G_BEGIN_DECLS

/*
 * Reserve @holding (from the hook's decision) in the ledger, with the
 * inventory of @config ([host] spm_nodes).  Nothing to do without an
 * inventory.  FALSE with a one-line @error when the start must be refused:
 * overcommit (journaled with DOMAIN_NAME, SPM_HOST_NODE, SPM_ASKED,
 * SPM_FREE), a bad inventory, or a ledger that cannot be read or written.
 */
gboolean spm_hook_ledger_reserve(const SpmConfig *config,
                                 const SpmLedgerHolding *holding,
                                 GError **error);

/* Free what @uuid holds; problems go to stderr (a stop cannot be refused). */
void spm_hook_ledger_release(const char *uuid, const char *domain);

/* Journal a refusal with its structured fields (spm_ledger_refusal_fields()). */
void spm_ledger_journal_refusal(const SpmLedgerRefusal *refusal, const char *message);

/*
 * Journal @line at warning priority: libvirt keeps a hook's output only
 * when the hook fails, so a warning of a start that goes on would be lost.
 */
void spm_hook_journal_warning(const char *line);

G_END_DECLS
