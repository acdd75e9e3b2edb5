/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-error.c: the one error convention of virt-spm
 */
#include "spm-error.h"

G_DEFINE_QUARK(virt-spm-error-quark, spm_error)

int
spm_error_exit_status(const GError *error)
{
    if (!error)
        return 0;
    if (error->domain == SPM_ERROR && error->code == SPM_ERROR_USAGE)
        return 2;
    if (error->domain == G_OPTION_ERROR)
        return 2;
    return 1;
}

char *
spm_error_printable(const char *text, gsize max)
{
    GString *out = g_string_new(NULL);

    for (const char *p = text ? text : ""; *p; p++) {
        guchar c = (guchar)*p;

        if (max && out->len >= max) {
            /* never cut a UTF-8 sequence in two */
            while (out->len && ((guchar)out->str[out->len - 1] & 0xc0) == 0x80)
                g_string_truncate(out, out->len - 1);
            if (out->len && (guchar)out->str[out->len - 1] >= 0xc0)
                g_string_truncate(out, out->len - 1);
            g_string_append(out, "...");
            break;
        }
        if (c == '\n')
            g_string_append(out, "\\n");
        else if (c == '\r')
            g_string_append(out, "\\r");
        else if (c == '\t')
            g_string_append(out, "\\t");
        else if (c < 0x20 || c == 0x7f)
            g_string_append_printf(out, "\\x%02x", c);
        else if (c == 0xc2 && (guchar)p[1] >= 0x80 && (guchar)p[1] <= 0x9f)
            /* U+0080..U+009F: C1 controls (CSI is U+009B) that terminals obey */
            g_string_append_printf(out, "\\u%04x", (guchar)*++p);
        else
            g_string_append_c(out, (char)c);
    }
    return g_string_free(out, FALSE);
}
