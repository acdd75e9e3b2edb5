/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-ledger-domain.h: from a domain (its plan, its XML) to ledger
 * requests, and the automatic choice of host nodes written into a
 * definition.  Shared by the hook, virt-spmd, `virt-spm define/edit` and
 * the Nova start path.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include "spm-ledger.h"
#include "spm-plan.h"

G_BEGIN_DECLS

/*
 * What @plan's SPM devices reserve: one request per SPM device whose
 * backend binds host nodes (backend.host_nodes), named by its QEMU id,
 * for its backend size.  Devices without host nodes reserve nothing.
 */
SpmLedgerHolding *spm_ledger_holding_from_plan(const SpmPlan *plan,
                                               const char *uuid,
                                               const char *domain);

/*
 * Give every SPM device of @def that has no source nodemask one chosen by
 * spm_ledger_choose() (first fit, fewest nodes); *@assigned (nullable)
 * counts them.  @def is changed in place.  Nothing to do (TRUE) when @inv
 * is empty.
 */
gboolean spm_ledger_assign_def(SpmLedger *ledger,
                               const SpmHostInventory *inv,
                               SpmDomainDef *def,
                               guint *assigned,
                               GError **error);

/*
 * The same on a user's-form domain XML document (<memory model='spm'> in
 * <devices>): adds <source><nodemask>N</nodemask></source> to each SPM
 * device without one, so the choice is stable across restarts.
 */
gboolean spm_ledger_assign_doc(SpmLedger *ledger,
                               const SpmHostInventory *inv,
                               xmlDocPtr doc,
                               guint *assigned,
                               GError **error);

/*
 * For `virt-spm define/edit`: spm_ledger_assign_doc() with the inventory
 * of @kf ([host] spm_nodes) and the current ledger (read-only), printing
 * "note: ..." lines on stderr for each choice unless @quiet.  TRUE and
 * nothing changed without an inventory.
 */
gboolean spm_ledger_assign_config(GKeyFile *kf, xmlDocPtr doc, gboolean quiet, GError **error);

G_END_DECLS
