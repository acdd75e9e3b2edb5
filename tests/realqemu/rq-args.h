/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rq-args.h: QEMU command lines for the real-QEMU tests.
 *
 * The part libvirt 9.0 writes for a domain (machine, -m, -smp, NUMA cells
 * with their RAM backends, its own DIMMs in JSON form in document order),
 * followed by virt-spm's words as <qemu:commandline> puts them: at the end.
 * No -qmp and no binary: the harness (tests/common) adds those.
 */
#pragma once

#include <glib.h>
#include "spm-plan.h"
#include "rq-domain.h"

G_BEGIN_DECLS

/* The planned device of the domain's memory @m, or NULL. */
const SpmPlannedDevice *rq_plan_device_of(const SpmPlan *plan, const SpmMemDevice *m);

/*
 * The command line of a planned domain, the plan's own words (pc-dimm
 * stand-ins) at the end.  Fails when the plan does not cover the domain or
 * moved an address the XML fixes.
 */
GStrv rq_plan_args(const RqDomain *d, const SpmDomainDef *def, const SpmPlan *plan,
                   GError **error);

/*
 * What the user asked for without any planning: RAM and maxmem as given,
 * libvirt's DIMMs, the SPM devices as key=value pc-dimms on the highest
 * slots with their bases.  For domains the plan refuses.
 */
GStrv rq_raw_args(const RqDomain *d);

G_END_DECLS
