/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-units.c: libvirt's scaled integers
 */
#include "spm-units.h"
#include "spm-error.h"

#include <errno.h>
#include <stdlib.h>

static gboolean
spm_units_scale(const char *unit, guint64 default_scale, guint64 *scale)
{
    guint64 base;
    int power;

    if (!unit || !*unit) {
        *scale = default_scale;
        return TRUE;
    }
    if (g_ascii_strcasecmp(unit, "b") == 0 ||
        g_ascii_strcasecmp(unit, "byte") == 0 ||
        g_ascii_strcasecmp(unit, "bytes") == 0) {
        *scale = 1;
        return TRUE;
    }
    if (unit[1] == '\0' || g_ascii_strcasecmp(unit + 1, "iB") == 0)
        base = 1024;
    else if (g_ascii_strcasecmp(unit + 1, "B") == 0)
        base = 1000;
    else
        return FALSE;

    switch (g_ascii_tolower(unit[0])) {
    case 'k': power = 1; break;
    case 'm': power = 2; break;
    case 'g': power = 3; break;
    case 't': power = 4; break;
    case 'p': power = 5; break;
    case 'e': power = 6; break;
    default:
        return FALSE;
    }
    *scale = 1;
    while (power--)
        *scale *= base;
    return TRUE;
}

gboolean
spm_units_parse_uint64(const char *what,
                       const char *value,
                       guint64 *out,
                       GError **error)
{
    const char *p = value;
    guint base = 10;
    guint64 v = 0;
    g_autofree char *shown = NULL;  /* @value in a message */

    if (!value || !*value) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s: missing value", what);
        return FALSE;
    }
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    if (!*p) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s: '%s' is not a number", what, (shown = spm_error_printable(value, 64)));
        return FALSE;
    }
    for (; *p; p++) {
        int d = g_ascii_xdigit_value(*p);

        if (d < 0 || (guint)d >= base) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "%s: '%s' is not a number", what, (shown = spm_error_printable(value, 64)));
            return FALSE;
        }
        if (v > (G_MAXUINT64 - d) / base) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "%s: '%s' does not fit in 64 bits", what, (shown = spm_error_printable(value, 64)));
            return FALSE;
        }
        v = v * base + d;
    }
    *out = v;
    return TRUE;
}

gboolean
spm_units_parse(const char *what,
                const char *value,
                const char *unit,
                guint64 default_scale,
                guint64 *bytes,
                GError **error)
{
    guint64 scale;
    guint64 v;
    g_autofree char *trimmed = NULL;
    g_autofree char *shown = NULL;  /* a value in a message */

    if (!spm_units_scale(unit, default_scale, &scale)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s: unknown unit '%s'", what, (shown = spm_error_printable(unit, 64)));
        return FALSE;
    }
    trimmed = g_strstrip(g_strdup(value ? value : ""));
    if (!*trimmed) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s: missing value", what);
        return FALSE;
    }
    for (const char *p = trimmed; *p; p++) {
        if (!g_ascii_isdigit(*p)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "%s: '%s' is not a non-negative integer", what,
                        (shown = spm_error_printable(trimmed, 64)));
            return FALSE;
        }
    }
    if (!spm_units_parse_uint64(what, trimmed, &v, error))
        return FALSE;
    if (scale && v > G_MAXUINT64 / scale) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s: '%s %s' overflows 64 bits", what, (shown = spm_error_printable(trimmed, 64)),
                    unit && *unit ? unit : "KiB");
        return FALSE;
    }
    *bytes = v * scale;
    return TRUE;
}

const char *
spm_units_best(guint64 bytes, guint64 *value)
{
    static const char *const names[] = { "KiB", "MiB", "GiB", "TiB" };
    guint64 scale = 1024;
    const char *best = "bytes";
    guint64 best_value = bytes;

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++, scale *= 1024) {
        if (bytes == 0 || bytes % scale != 0)
            break;
        best = names[i];
        best_value = bytes / scale;
    }
    if (bytes == 0)
        best = "KiB";
    *value = best_value;
    return best;
}

char *
spm_units_format(guint64 bytes)
{
    guint64 v;
    const char *u = spm_units_best(bytes, &v);

    if (g_str_equal(u, "bytes"))
        return g_strdup_printf("%" G_GUINT64_FORMAT " B", bytes);
    return g_strdup_printf("%" G_GUINT64_FORMAT " %s", v, u);
}
