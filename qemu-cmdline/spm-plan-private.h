/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-plan-private.h: pieces of the planner shared between its files.
 * Not an interface: only spm-plan*.c include it.
 */
#pragma once

#include <glib.h>
#include "spm-plan.h"

G_BEGIN_DECLS

/*
 * Give every device its QEMU id (alias, "spm%u" for SPM devices, libvirt's
 * "dimm%u"-style names for libvirt's) and reject duplicates.
 */
gboolean spm_plan_assign_libvirt_slots(GPtrArray *devices, GError **error);
gboolean spm_plan_assign_ids(GPtrArray *devices, GError **error);

/*
 * Decide the backend of @pd (its def set) from the device's <source> and
 * the domain's <memoryBacking>, apply libvirt's size rounding to libvirt's
 * own devices, and fill pd->size, pd->align and pd->backend.  Fails on a
 * zero size or a size that is not a multiple of the backend alignment.
 */
gboolean spm_plan_backend_fill(const SpmDomainDef *def,
                               const SpmPlanPolicy *policy,
                               SpmPlannedDevice *pd,
                               GError **error);

void spm_plan_backend_clear(SpmBackend *backend);

/* "memory 'ID'" for messages. */
#define SPM_PLAN_DEV_FMT "memory '%s'"

/*
 * The smallest memory block of an x86_64 Linux guest (memory_block_size_bytes():
 * 128 MiB below 64 GiB of boot memory, up to 2 GiB above): memory hotplug,
 * which adds DIMMs cold- or hot-plugged alike, takes whole blocks only.
 */
#define SPM_GUEST_MEMORY_BLOCK (128 * SPM_MiB)

G_END_DECLS
