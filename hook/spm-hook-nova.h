/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-hook-nova.h: the qemu hook's work for Nova guests (docs/nova.md).
 *
 * Nova's domains carry no virt-spm metadata: what they get comes from
 * their flavor (spm-nova-config.h).  At prepare begin the hook plans such a
 * guest -- each device on the host node Placement allocated it from
 * (spm-hook-placement.h), or the ledger choosing free host nodes for
 * devices without spm:N.host_nodes, under the ledger's lock -- reserves
 * its HBM, and stores
 * the plan for its UUID, which the emulator wrapper applies to QEMU's
 * arguments (virt-spm-qemu.c).  At stopped/release end it drops the plan
 * and the reservation.  A Nova domain whose flavor asks for nothing is left
 * alone (its stale plan, if any, removed so the wrapper passes it through).
 */
#pragma once

#include <glib.h>
#include "spm-hook-decide.h"

G_BEGIN_DECLS

/*
 * Can @xml be a Nova domain?  A cheap look for Nova's namespace before
 * parsing; what the domain is, the parsed metadata decides.
 */
gboolean spm_hook_nova_mentions(const char *xml, gsize len);

/*
 * Decide, and do the work of, one hook call for the Nova domain in @xml.
 * @kf is virt-spm.conf ([nova], [host] spm_nodes, [test]); @facts as for
 * spm_hook_decide().  *handled is FALSE when @xml is not a Nova domain
 * (the caller goes on with spm_hook_decide()).
 */
void spm_hook_nova_decide(const char *op,
                          const char *subop,
                          const char *xml,
                          gsize xml_len,
                          const SpmHookFacts *facts,
                          GKeyFile *kf,
                          gboolean *handled,
                          SpmHookDecision *decision);

G_END_DECLS
