/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-checked.h: 64-bit arithmetic on sizes and addresses that come from
 * user input, with overflow reported instead of wrapped.
 */
#pragma once

#include <glib.h>

/* *out = a + b; FALSE when it does not fit in 64 bits. */
static inline gboolean
spm_checked_add(guint64 a, guint64 b, guint64 *out)
{
    if (a > G_MAXUINT64 - b)
        return FALSE;
    *out = a + b;
    return TRUE;
}

/* *out = v rounded up to a multiple of @align (0 = no alignment). */
static inline gboolean
spm_checked_align_up(guint64 v, guint64 align, guint64 *out)
{
    guint64 rem = align ? v % align : 0;

    if (rem == 0) {
        *out = v;
        return TRUE;
    }
    return spm_checked_add(v, align - rem, out);
}
