/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dev-guest.h: what the test guest printed, against what was planned.
 *
 * The guest's init (the shared test guest, see scripts/build-spm-qemu.sh)
 * prints /proc/iomem, the kernel's SRAT/NUMA lines, the NUMA nodes and the
 * dax devices between "=== IOMEM" and "=== END" on its serial console,
 * then powers off.  docs/guest-view.md: with a firmware that passes E820
 * Soft Reserved, every SPM device is exactly one "Soft Reserved" range,
 * and the SRAT gives it its node.
 */
#pragma once

#include <glib.h>
#include "spm-plan.h"

G_BEGIN_DECLS

/* One SPM device the guest should see. */
typedef struct {
    char *id;
    guint64 addr;
    guint64 size;
    guint node;
} DevExpect;

/* The SPM devices of @plan (DevExpect *, owned). */
GPtrArray *dev_expect_from_plan(const SpmPlan *plan);

/* An inclusive range of guest-physical memory. */
typedef struct {
    guint64 start;
    guint64 end;
} DevRange;

/* An SRAT memory affinity line: "ACPI: SRAT: Node N PXM P [mem A-B] [hotplug]". */
typedef struct {
    guint node;
    guint pxm;
    DevRange range;
    gboolean hotplug;
} DevSrat;

typedef struct {
    GArray *soft_reserved;      /* DevRange: every "Soft Reserved" line of /proc/iomem */
    GArray *srat;               /* DevSrat, in the kernel's order */
    char *section;              /* the text from "=== IOMEM" to "=== END" */
} DevGuestView;

void dev_guest_view_free(DevGuestView *view);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DevGuestView, dev_guest_view_free)

/*
 * Parse what the guest printed (a whole console log: firmware noise
 * before the section is ignored).  NULL with SPM_ERROR_INVALID when the
 * section is missing or unterminated.
 */
DevGuestView *dev_guest_view_parse(const char *console, GError **error);

/* TRUE when @console holds the whole section (the guest is done). */
gboolean dev_guest_view_complete(const char *console);

/*
 * The guest's view against @expect: exactly one Soft Reserved range per
 * device, at its address and size (no more ranges than devices, so two
 * devices merged into one range fail), and an SRAT entry (not hotplug)
 * with the device's range and PXM.  All differences in one
 * SPM_ERROR_MISMATCH message naming the devices.
 */
gboolean dev_guest_check(const DevGuestView *view, GPtrArray *expect, GError **error);

/*
 * A firmware that drops Soft Reserved (SeaBIOS): no Soft Reserved range at
 * all, while the SRAT still has every device's entry.
 */
gboolean dev_guest_check_no_soft_reserved(const DevGuestView *view, GPtrArray *expect,
                                          GError **error);

G_END_DECLS
