/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-argv.h: the QEMU arguments virt-spm adds to a domain.
 *
 * For a plan, the -object, -numa and -device arguments of every SPM device
 * and SPM node, in key=value form, in the order QEMU
 * must see them.  libvirt appends them at the end of its own command line
 * (<qemu:commandline>), so QEMU realizes these devices before libvirt's own
 * JSON-form memory devices: the planner accounts for that.  Pure code.
 */
#pragma once

#include <glib.h>
#include "spm-domain.h"
#include "spm-plan.h"

G_BEGIN_DECLS

/*
 * The arguments, as separate argv words: "-object", "memory-backend-ram,...",
 * "-numa", "node,nodeid=2", "-device", "sp-mem,...".  The driver is the
 * one of @plan's device revision (plan->device: "sp-mem", or the legacy
 * "spm-memory").  Every value is quoted for QEMU's option syntax, so a
 * comma in a path or id can never add a property.  @stand_in_driver, when
 * not NULL, replaces it (the tests use "pc-dimm" on a QEMU without an SPM
 * device).  Fails with
 * SPM_ERROR_INVALID on a plan QEMU would reject or misread (an id that is
 * not a QEMU identifier, a malformed nodemask, a property the backend type
 * does not have).  An empty plan gives an empty vector, not NULL.
 */
GStrv spm_argv_build(const SpmPlan *plan,
                     const char *stand_in_driver,
                     GError **error);

/* One range of host NUMA nodes in a nodemask. */
typedef struct {
    guint first;
    guint last;
} SpmNodeRange;

/*
 * Parse a libvirt nodemask made of numbers and ranges, strictly ascending
 * and disjoint ("0,2-3") into SpmNodeRange values appended to @ranges.
 * libvirt's exclusions ("^2") and anything else are refused, naming the
 * part that is wrong.
 */
gboolean spm_nodemask_parse(const char *nodemask, GArray *ranges, GError **error);

/* Double every comma, QEMU's escape inside a key=value option value. */
char *spm_qemu_opt_quote(const char *value);

G_END_DECLS
