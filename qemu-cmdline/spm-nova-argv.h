/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-nova-argv.h: the argument edits the emulator wrapper makes for a Nova
 * guest with SPM memory (docs/nova.md).
 *
 * Nova defines and starts a guest at once, with no <maxMemory>, no
 * <qemu:commandline> and, without hw:numa_nodes, no NUMA.  The hook plans
 * the guest at prepare begin and stores this "edit list" for its UUID; the
 * wrapper (wrapper/virt-spm-qemu.c, C library only) applies it to the
 * arguments libvirt gives QEMU.  The list says what libvirt's arguments
 * must be (so a plan that does not belong to them is refused) and what to
 * change; spm-nova-plan-format.h is its format.
 *
 * Pure code.
 */
#pragma once

#include <glib.h>
#include "spm-domain.h"
#include "spm-plan.h"
#include "spm-nova-plan-format.h"

G_BEGIN_DECLS


/*
 * The edit list for @def (Nova's domain with the flavor's devices added,
 * spm-nova.h), planned as @plan.  @ram is Nova's <memory> in bytes (the
 * guest's RAM, before the devices were counted in).  Fails with
 * SPM_ERROR_INVALID when an argument cannot be written on one line.
 */
char *spm_nova_argv_edits(const SpmDomainDef *def,
                          const SpmPlan *plan,
                          guint64 ram,
                          GError **error);

G_END_DECLS
