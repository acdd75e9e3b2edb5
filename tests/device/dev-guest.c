/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dev-guest.c: what the test guest printed, against what was planned.
 */
#include "dev-guest.h"

#include <string.h>

#include "spm-error.h"

#define DEV_BEGIN "=== IOMEM"
#define DEV_END "=== END"

static void
dev_expect_free(gpointer p)
{
    DevExpect *e = p;

    g_free(e->id);
    g_free(e);
}

GPtrArray *
dev_expect_from_plan(const SpmPlan *plan)
{
    GPtrArray *list = g_ptr_array_new_with_free_func(dev_expect_free);

    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(plan->devices, i);
        DevExpect *e;

        if (pd->model != SPM_MEM_MODEL_SPM)
            continue;
        e = g_new0(DevExpect, 1);
        e->id = g_strdup(pd->id);
        e->addr = pd->addr;
        e->size = pd->size;
        e->node = pd->node;
        g_ptr_array_add(list, e);
    }
    return list;
}

void
dev_guest_view_free(DevGuestView *view)
{
    if (!view)
        return;
    g_clear_pointer(&view->soft_reserved, g_array_unref);
    g_clear_pointer(&view->srat, g_array_unref);
    g_free(view->section);
    g_free(view);
}

/* The section, or NULL: the console may hold firmware output before it. */
static const char *
dev_guest_section(const char *console, const char **end)
{
    const char *begin = strstr(console, DEV_BEGIN);

    if (!begin || !(*end = strstr(begin, DEV_END)))
        return NULL;
    return begin;
}

gboolean
dev_guest_view_complete(const char *console)
{
    const char *end;

    return console && dev_guest_section(console, &end) != NULL;
}

DevGuestView *
dev_guest_view_parse(const char *console, GError **error)
{
    g_autoptr(DevGuestView) view = g_new0(DevGuestView, 1);
    g_autoptr(GRegex) iomem = NULL;
    g_autoptr(GRegex) srat = NULL;
    g_auto(GStrv) lines = NULL;
    const char *begin, *end = NULL;

    if (!(begin = dev_guest_section(console, &end))) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "guest console: no complete '" DEV_BEGIN "' .. '" DEV_END "' section");
        return NULL;
    }
    view->section = g_strndup(begin, end - begin + strlen(DEV_END));
    view->soft_reserved = g_array_new(FALSE, FALSE, sizeof(DevRange));
    view->srat = g_array_new(FALSE, FALSE, sizeof(DevSrat));
    /* "  100000000-13fffffff : Soft Reserved" (nested under hmem.N or not) */
    iomem = g_regex_new("^\\s*([0-9a-f]+)-([0-9a-f]+) : Soft Reserved\\s*$", 0, 0, NULL);
    /* "[    0.077008] ACPI: SRAT: Node 1 PXM 1 [mem 0x100000000-0x13fffffff] hotplug" */
    srat = g_regex_new("ACPI: SRAT: Node (\\d+) PXM (\\d+) \\[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\\]"
                       "( hotplug)?", 0, 0, NULL);
    lines = g_strsplit(view->section, "\n", -1);
    for (char **l = lines; *l; l++) {
        g_autoptr(GMatchInfo) m = NULL;

        g_strchomp(*l);   /* the serial console ends lines with \r\n */
        if (g_regex_match(iomem, *l, 0, &m)) {
            g_autofree char *a = g_match_info_fetch(m, 1);
            g_autofree char *b = g_match_info_fetch(m, 2);
            DevRange r = { g_ascii_strtoull(a, NULL, 16), g_ascii_strtoull(b, NULL, 16) };

            g_array_append_val(view->soft_reserved, r);
            continue;
        }
        g_clear_pointer(&m, g_match_info_unref);
        if (g_regex_match(srat, *l, 0, &m)) {
            g_autofree char *node = g_match_info_fetch(m, 1);
            g_autofree char *pxm = g_match_info_fetch(m, 2);
            g_autofree char *a = g_match_info_fetch(m, 3);
            g_autofree char *b = g_match_info_fetch(m, 4);
            g_autofree char *hp = g_match_info_fetch(m, 5);
            DevSrat s = {
                .node = (guint)g_ascii_strtoull(node, NULL, 10),
                .pxm = (guint)g_ascii_strtoull(pxm, NULL, 10),
                .range = { g_ascii_strtoull(a, NULL, 16), g_ascii_strtoull(b, NULL, 16) },
                .hotplug = hp && *hp,
            };

            g_array_append_val(view->srat, s);
        }
    }
    return g_steal_pointer(&view);
}

/* The SRAT entry (not hotplug) of @e: its exact range at its PXM. */
static void
dev_guest_check_srat(const DevGuestView *view, const DevExpect *e, GString *bad)
{
    guint64 last = e->addr + e->size - 1;

    for (guint i = 0; i < view->srat->len; i++) {
        const DevSrat *s = &g_array_index(view->srat, DevSrat, i);

        if (s->hotplug || s->range.start != e->addr)
            continue;
        if (s->range.end != last)
            g_string_append_printf(bad, "; '%s': SRAT entry 0x%" G_GINT64_MODIFIER "x-0x%"
                                   G_GINT64_MODIFIER "x, planned end 0x%" G_GINT64_MODIFIER "x",
                                   e->id, s->range.start, s->range.end, last);
        if (s->pxm != e->node)
            g_string_append_printf(bad, "; '%s': SRAT PXM %u, planned node %u",
                                   e->id, s->pxm, e->node);
        return;
    }
    g_string_append_printf(bad, "; '%s': no SRAT entry at 0x%" G_GINT64_MODIFIER "x (node %u)",
                           e->id, e->addr, e->node);
}

static gboolean
dev_guest_finish(GString *bad, GError **error)
{
    if (!bad->len)
        return TRUE;
    g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH, "guest: %s", bad->str + 2);
    return FALSE;
}

gboolean
dev_guest_check(const DevGuestView *view, GPtrArray *expect, GError **error)
{
    g_autoptr(GString) bad = g_string_new(NULL);
    GArray *soft = view->soft_reserved;

    for (guint i = 0; i < expect->len; i++) {
        const DevExpect *e = g_ptr_array_index(expect, i);
        guint64 last = e->addr + e->size - 1;
        guint found = 0;

        for (guint j = 0; j < soft->len; j++) {
            const DevRange *r = &g_array_index(soft, DevRange, j);

            if (r->start == e->addr && r->end == last) {
                found++;
            } else if (r->start <= last && e->addr <= r->end) {
                /* a range that covers the device but is not it: merged or moved */
                g_string_append_printf(bad, "; '%s' (0x%" G_GINT64_MODIFIER "x-0x%"
                                       G_GINT64_MODIFIER "x) is inside Soft Reserved 0x%"
                                       G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x%s",
                                       e->id, e->addr, last, r->start, r->end,
                                       r->end - r->start + 1 > e->size
                                       ? " (merged with a neighbour)" : "");
            }
        }
        if (found != 1)
            g_string_append_printf(bad, "; '%s': %u Soft Reserved ranges at 0x%"
                                   G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x, expected 1",
                                   e->id, found, e->addr, last);
        dev_guest_check_srat(view, e, bad);
    }
    if (soft->len != expect->len)
        g_string_append_printf(bad, "; %u Soft Reserved ranges for %u SPM devices",
                               soft->len, expect->len);
    return dev_guest_finish(bad, error);
}

gboolean
dev_guest_check_no_soft_reserved(const DevGuestView *view, GPtrArray *expect, GError **error)
{
    g_autoptr(GString) bad = g_string_new(NULL);

    for (guint j = 0; j < view->soft_reserved->len; j++) {
        const DevRange *r = &g_array_index(view->soft_reserved, DevRange, j);

        g_string_append_printf(bad, "; Soft Reserved 0x%" G_GINT64_MODIFIER "x-0x%"
                               G_GINT64_MODIFIER "x although the firmware drops them",
                               r->start, r->end);
    }
    for (guint i = 0; i < expect->len; i++)
        dev_guest_check_srat(view, g_ptr_array_index(expect, i), bad);
    return dev_guest_finish(bad, error);
}
