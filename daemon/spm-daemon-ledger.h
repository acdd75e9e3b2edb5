/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-daemon-ledger.h: virt-spmd's side of the host HBM ledger
 * (spm-daemon-ledger.c says why and when).
 */
#pragma once

#include <json-glib/json-glib.h>
#include "spm-daemon.h"

G_BEGIN_DECLS

/* Reconcile the ledger with the running domains, in the background. */
void spm_daemon_ledger_reconcile(SpmDaemon *d);
/* The same now and once more a moment later: after a domain stopped. */
void spm_daemon_ledger_reconcile_settled(SpmDaemon *d);

/* The ledger for `virt-spm status --json` ("ledger" member). */
JsonNode *spm_daemon_ledger_status(SpmDaemon *d);

G_END_DECLS
