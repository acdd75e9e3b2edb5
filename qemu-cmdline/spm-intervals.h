/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-intervals.h: a set of disjoint address ranges, ordered, with
 * O(log n) insertion and "first range not entirely below X" lookups.
 * Private to the QEMU model and the planner (both place thousands of
 * devices and must not rescan or memmove arrays: O(n log n) overall).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    guint64 start;
    guint64 last;               /* inclusive: a range may end at 2^64 - 1 */
    gconstpointer owner;
} SpmInterval;

typedef struct _SpmIntervals SpmIntervals;

SpmIntervals *spm_intervals_new(void);
void spm_intervals_free(SpmIntervals *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmIntervals, spm_intervals_free)

/* Add [start, last]; the caller guarantees it overlaps no range of @set. */
void spm_intervals_add(SpmIntervals *set, guint64 start, guint64 last, gconstpointer owner);

/* The first range (lowest address) whose last byte is >= @addr, or NULL. */
const SpmInterval *spm_intervals_first_reaching(SpmIntervals *set, guint64 addr);

/* The range after @iv (returned by this set), or NULL. */
const SpmInterval *spm_intervals_next(SpmIntervals *set, const SpmInterval *iv);

guint spm_intervals_count(SpmIntervals *set);

G_END_DECLS
