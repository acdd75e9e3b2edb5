/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-hook-migrate.h: an incoming live migration of an SPM domain, on the
 * destination host.
 *
 * libvirt runs the qemu hook as "NAME migrate begin -" on the destination
 * before it defines the incoming domain there, with the domain XML on
 * standard input; what the hook prints on standard output replaces that
 * XML (nothing = keep it).  QEMU 11.1's sp-mem migrates, but the host
 * nodes a guest's HBM comes from are the source host's: here they may be
 * absent or taken.  So the destination re-binds the guest to this host's
 * own free HBM nodes and reserves them in its own ledger before any page
 * moves.  Only the host binding changes (the nodemask of each bound SPM
 * device and its backend's host-nodes/policy); what the guest sees --
 * addresses, sizes, guest NUMA nodes -- is checked to stay exactly the
 * source's, or the migration is refused in one line.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include "spm-config.h"
#include "spm-hook-decide.h"
#include "spm-ledger.h"
#include "spm-plan.h"

G_BEGIN_DECLS

typedef struct {
    /* the domain XML libvirt must use; NULL = the incoming one as it is */
    char *xml;
    /* what this host reserved for the guest; NULL = nothing (no bound device, no inventory) */
    SpmLedgerHolding *holding;
} SpmMigrateRebind;

void spm_migrate_rebind_clear(SpmMigrateRebind *rebind);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpmMigrateRebind, spm_migrate_rebind_clear)

/*
 * Re-bind the converted domain @doc (the incoming XML, sp-mem) to the HBM
 * nodes of this host and reserve them in @ledger (opened for writing; the
 * caller commits) against @inv.  The source's node sets are kept when they
 * all fit here, else every bound device gets the first fit of
 * spm_ledger_choose().  @policy is this host's (the domain's recorded
 * alignment, guard gap and strictness are applied).  Nothing to do without
 * an inventory or without a bound device.  FALSE with a one-line @error,
 * and @ledger as it was, when this host cannot hold the guest (@refusal,
 * nullable, then names the short device when there is one), when the
 * guest's arguments are not what this host would plan for it, or when the
 * new binding would change anything the guest sees.
 */
gboolean spm_migrate_rebind(xmlDocPtr doc,
                            const SpmPlanPolicy *policy,
                            SpmLedger *ledger,
                            const SpmHostInventory *inv,
                            const char *uuid,
                            const char *name,
                            SpmMigrateRebind *out,
                            SpmLedgerRefusal *refusal,
                            GError **error);

/*
 * The helper's migrate begin of an sp-mem domain: the inventory of
 * @config, this host's ledger (locked from choice to commit), the rebind,
 * the commit.  *@xml_out (NULL = keep the incoming XML) is what to print.
 * FALSE with a one-line @error (a refusal, journaled when the ledger is
 * short) and nothing reserved.
 */
gboolean spm_hook_migrate_incoming(const SpmConfig *config,
                                   const SpmHookFacts *facts,
                                   const char *xml,
                                   gsize len,
                                   char **xml_out,
                                   GError **error);

G_END_DECLS
