/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fx-qemu.c: the real QEMU as an oracle (tests only).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <gio/gio.h>

#include "fx-qemu.h"

void
fx_qemu_result_clear(FxQemuResult *r)
{
    g_free(r->error);
    g_free(r->output);
    if (r->devs)
        g_ptr_array_unref(r->devs);
    memset(r, 0, sizeof(*r));
}

static gboolean
mtree_range(const char *line, guint64 *lo, guint64 *hi)
{
    return sscanf(line, " %" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x", lo, hi) == 2;
}

static void
parse_output(const char *out, FxQemuResult *r)
{
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    GHashTable *cur = NULL;
    gboolean seen_below = FALSE, seen_above = FALSE, seen_devmem = FALSE;

    r->devs = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
    for (guint i = 0; lines[i]; i++) {
        char *l = g_strchomp(lines[i]);
        const char *p;
        guint64 lo, hi;

        /* "(qemu) qemu-system-x86_64: msg" or "qemu-system-x86_64: msg" */
        if ((p = strstr(l, "qemu-system-x86_64: ")) && !strstr(l, ": warning: ")) {
            p += strlen("qemu-system-x86_64: ");
            if (g_str_has_prefix(p, "-device ")) {
                const char *sep = strstr(p, ": ");

                if (sep)
                    p = sep + 2;
            }
            if (!r->error)
                r->error = g_strdup(p);
            continue;
        }
        if (strstr(l, ": alias ram-below-4g @") && !seen_below && mtree_range(l, &lo, &hi)) {
            r->below = hi - lo + 1;
            seen_below = TRUE;
        } else if (strstr(l, ": alias ram-above-4g @") && !seen_above && mtree_range(l, &lo, &hi)) {
            r->above_start = lo;
            r->above = hi - lo + 1;
            seen_above = TRUE;
        } else if (g_str_has_suffix(l, "): device-memory") && !seen_devmem &&
                   mtree_range(l, &lo, &hi)) {
            r->devmem_base = lo;
            r->devmem_size = hi - lo + 1;
            r->has_devmem = seen_devmem = TRUE;
        } else if (g_str_has_prefix(l, "Memory device [")) {
            const char *q = strchr(l, '"');

            cur = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
            g_hash_table_insert(cur, g_strdup("id"), q ? g_strndup(q + 1, strlen(q + 1) - 1)
                                                        : g_strdup(""));
            g_ptr_array_add(r->devs, cur);
        } else if (cur && g_str_has_prefix(l, "  ") && (p = strstr(l, ": "))) {
            g_hash_table_insert(cur, g_strstrip(g_strndup(l, p - l)), g_strdup(p + 2));
        }
    }
}

guint64
fx_qemu_dev_u64(GHashTable *kv, const char *key)
{
    const char *v = g_hash_table_lookup(kv, key);

    if (!v)
        g_error("info memory-devices: no '%s'", key);
    return g_ascii_strtoull(v, NULL, 0);
}

char *
fx_qemu_find(void)
{
    const char *qemu = g_getenv("SPM_TEST_QEMU");

    return g_find_program_in_path(qemu ? qemu : "qemu-system-x86_64");
}

void
fx_qemu_run(const char *qemu, const char *const *args, FxQemuResult *r)
{
    static const char *const tail[] = {
        "-accel", "tcg", "-S", "-display", "none", "-nodefaults", "-monitor", "stdio",
    };
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL;

    memset(r, 0, sizeof(*r));
    /* a QEMU that exits early closes its stdin: do not die of SIGPIPE */
    signal(SIGPIPE, SIG_IGN);
    g_ptr_array_add(argv, (char *)qemu);
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    for (guint i = 0; i < G_N_ELEMENTS(tail); i++)
        g_ptr_array_add(argv, (char *)tail[i]);
    g_ptr_array_add(argv, NULL);

    proc = g_subprocess_newv((const char *const *)argv->pdata,
                             G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                             G_SUBPROCESS_FLAGS_STDERR_MERGE, &err);
    g_assert_no_error(err);
    /* QEMU may exit before reading: a broken pipe on stdin is expected then */
    if (!g_subprocess_communicate_utf8(proc, "info mtree\ninfo memory-devices\nquit\n",
                                       NULL, &out, NULL, &err)) {
        g_assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE));
        g_clear_error(&err);
        g_subprocess_wait(proc, NULL, &err);
        g_assert_no_error(err);
    }
    r->exit_status = g_subprocess_get_exit_status(proc);
    parse_output(out ? out : "", r);
    r->output = g_steal_pointer(&out);
}
