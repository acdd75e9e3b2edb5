/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-hugepages.c: huge page and memory directory facts, the pool check
 */
#include "spm-hugepages.h"
#include "spm-argv.h"
#include "spm-config.h"
#include "spm-error.h"
#include "spm-units.h"

#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

/* ---- libvirt's qemu.conf ---- */

/*
 * libvirt's configuration syntax (virConf): "key = value" lines, '#'
 * comments, values are numbers, "strings" or 'strings', or [ lists ] of
 * them that may span lines.  Only what virt-spm needs is kept.
 */
typedef struct {
    const char *p;
    const char *end;
} SpmConfScanner;

static void
spm_conf_skip_blanks(SpmConfScanner *s, gboolean newlines)
{
    while (s->p < s->end) {
        if (*s->p == '#') {
            while (s->p < s->end && *s->p != '\n')
                s->p++;
        } else if (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' ||
                   (newlines && *s->p == '\n')) {
            s->p++;
        } else {
            break;
        }
    }
}

/* A quoted string at s->p, or NULL (and s->p unchanged) if there is none. */
static char *
spm_conf_string(SpmConfScanner *s)
{
    char quote;
    const char *start;

    if (s->p >= s->end || (*s->p != '"' && *s->p != '\''))
        return NULL;
    quote = *s->p++;
    start = s->p;
    while (s->p < s->end && *s->p != quote && *s->p != '\n')
        s->p++;
    if (s->p >= s->end || *s->p != quote)
        return NULL;
    return g_strndup(start, s->p++ - start);
}

/* Skip the rest of a value we do not want, lists included. */
static void
spm_conf_skip_value(SpmConfScanner *s)
{
    int depth = 0;

    while (s->p < s->end) {
        if (*s->p == '[') {
            depth++;
        } else if (*s->p == ']') {
            depth--;
        } else if (*s->p == '"' || *s->p == '\'') {
            g_free(spm_conf_string(s));
            continue;
        } else if (*s->p == '\n' && depth <= 0) {
            return;
        }
        s->p++;
    }
}

/* A string or a list of strings; NULL if the value is neither. */
static GStrv
spm_conf_strings(SpmConfScanner *s)
{
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
    g_autofree char *first = NULL;

    if ((first = spm_conf_string(s))) {
        g_strv_builder_add(builder, first);
        return g_strv_builder_end(builder);
    }
    if (s->p >= s->end || *s->p != '[')
        return NULL;
    s->p++;
    for (;;) {
        spm_conf_skip_blanks(s, TRUE);
        if (s->p < s->end && *s->p == ']') {
            s->p++;
            return g_strv_builder_end(builder);
        }
        g_autofree char *one = spm_conf_string(s);

        if (!one)
            return NULL;
        g_strv_builder_add(builder, one);
        spm_conf_skip_blanks(s, TRUE);
        if (s->p < s->end && *s->p == ',')
            s->p++;
    }
}

gboolean
spm_qemu_conf_read(const char *path,
                   char **memory_backing_dir,
                   GStrv *hugetlbfs_mounts,
                   GError **error)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    SpmConfScanner s;

    *memory_backing_dir = NULL;
    *hugetlbfs_mounts = NULL;
    /* root's file (0600): others plan with libvirt's defaults */
    if (!g_file_get_contents(path, &text, &len, NULL))
        return TRUE;

    s.p = text;
    s.end = text + len;
    while (s.p < s.end) {
        const char *key;
        g_autofree char *name = NULL;

        spm_conf_skip_blanks(&s, TRUE);
        key = s.p;
        while (s.p < s.end && (g_ascii_isalnum(*s.p) || *s.p == '_' || *s.p == '.'))
            s.p++;
        name = g_strndup(key, s.p - key);
        spm_conf_skip_blanks(&s, FALSE);
        if (!*name || s.p >= s.end || *s.p != '=') {
            spm_conf_skip_value(&s);
            continue;
        }
        s.p++;
        spm_conf_skip_blanks(&s, FALSE);

        if (g_str_equal(name, "memory_backing_dir")) {
            g_autofree char *value = spm_conf_string(&s);

            if (!value) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "%s: memory_backing_dir must be a string", path);
                return FALSE;
            }
            g_free(*memory_backing_dir);
            *memory_backing_dir = g_steal_pointer(&value);
        } else if (g_str_equal(name, "hugetlbfs_mount")) {
            GStrv value = spm_conf_strings(&s);

            if (!value) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "%s: hugetlbfs_mount must be a string or a list of strings", path);
                g_clear_pointer(memory_backing_dir, g_free);
                g_clear_pointer(hugetlbfs_mounts, g_strfreev);
                return FALSE;
            }
            g_strfreev(*hugetlbfs_mounts);
            *hugetlbfs_mounts = value;
        }
        spm_conf_skip_value(&s);
    }
    return TRUE;
}

/* ---- hugetlbfs mounts ---- */

void
spm_hugetlbfs_array_free(GArray *mounts)
{
    if (!mounts)
        return;
    for (guint i = 0; i < mounts->len; i++)
        g_free(g_array_index(mounts, SpmHugetlbfs, i).path);
    g_array_free(mounts, TRUE);
}

/* "2M", "1024M", "1G", "64K": the kernel's pagesize= option. */
static gboolean
spm_hugetlbfs_option_size(const char *text, guint64 *bytes)
{
    char *end = NULL;
    guint64 v = g_ascii_strtoull(text, &end, 10);
    guint64 mult;

    if (end == text)
        return FALSE;
    switch (g_ascii_toupper(*end)) {
    case 'K': mult = SPM_KiB; break;
    case 'M': mult = SPM_MiB; break;
    case 'G': mult = SPM_GiB; break;
    case '\0': mult = 1; break;
    default: return FALSE;
    }
    if (*end && end[1])
        return FALSE;
    *bytes = v * mult;
    return v != 0 && *bytes / mult == v;
}

/* /proc/mounts escapes blanks and backslashes as \ooo */
static char *
spm_mounts_unescape(const char *field)
{
    GString *out = g_string_new(NULL);

    for (const char *p = field; *p; p++) {
        if (p[0] == '\\' && g_ascii_isdigit(p[1]) && g_ascii_isdigit(p[2]) &&
            g_ascii_isdigit(p[3])) {
            g_string_append_c(out, (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0')));
            p += 3;
        } else {
            g_string_append_c(out, *p);
        }
    }
    return g_string_free(out, FALSE);
}

GArray *
spm_hugetlbfs_parse_mounts(const char *mounts_text)
{
    GArray *mounts = g_array_new(FALSE, TRUE, sizeof(SpmHugetlbfs));
    g_auto(GStrv) lines = g_strsplit(mounts_text, "\n", -1);

    for (char **l = lines; *l; l++) {
        g_auto(GStrv) fields = g_strsplit_set(*l, " \t", -1);
        g_auto(GStrv) options = NULL;
        SpmHugetlbfs m = { 0 };

        if (g_strv_length(fields) < 4 || !g_str_equal(fields[2], "hugetlbfs"))
            continue;
        options = g_strsplit(fields[3], ",", -1);
        for (char **o = options; *o; o++) {
            if (g_str_has_prefix(*o, "pagesize=") &&
                !spm_hugetlbfs_option_size(*o + strlen("pagesize="), &m.page_size))
                m.page_size = 0;
        }
        if (!m.page_size)
            continue; /* not one the kernel wrote: libvirt would statfs it */
        m.path = spm_mounts_unescape(fields[1]);
        g_array_append_val(mounts, m);
    }
    return mounts;
}

void
spm_hugepages_detect(SpmHostFacts *facts, const char *qemu_conf, const char *proc_mounts)
{
    g_autofree char *backing_dir = NULL;
    g_auto(GStrv) conf_mounts = NULL;
    GArray *mounts = NULL;

    /* a qemu.conf libvirt cannot parse stops libvirt too: plan with defaults */
    if (!spm_qemu_conf_read(qemu_conf, &backing_dir, &conf_mounts, NULL))
        g_clear_pointer(&backing_dir, g_free);

    g_free(facts->memory_backing_dir);
    facts->memory_backing_dir = g_steal_pointer(&backing_dir);

    if (conf_mounts && conf_mounts[0]) {
        mounts = g_array_new(FALSE, TRUE, sizeof(SpmHugetlbfs));
        for (char **c = conf_mounts; *c; c++) {
            struct statfs st;
            SpmHugetlbfs m = { 0 };

            if (statfs(*c, &st) < 0 || st.f_type != HUGETLBFS_MAGIC)
                continue; /* libvirt refuses to start then; nothing to plan for */
            m.page_size = st.f_bsize;
            m.path = g_strdup(*c);
            g_array_append_val(mounts, m);
        }
    } else {
        g_autofree char *text = NULL;

        if (g_file_get_contents(proc_mounts, &text, NULL, NULL))
            mounts = spm_hugetlbfs_parse_mounts(text);
    }
    if (mounts)
        spm_host_facts_set_hugetlbfs(facts, (SpmHugetlbfs *)(void *)mounts->data, mounts->len);
    else
        spm_host_facts_set_hugetlbfs(facts, NULL, 0);
    spm_hugetlbfs_array_free(mounts);
}

gboolean
spm_hugepages_parse_setting(const char *value, SpmHostFacts *facts, GError **error)
{
    g_auto(GStrv) items = g_strsplit(value, ";", -1);
    GArray *mounts = g_array_new(FALSE, TRUE, sizeof(SpmHugetlbfs));
    gboolean ok = TRUE;

    for (char **i = items; ok && *i; i++) {
        g_autofree char *item = g_strstrip(g_strdup(*i));
        const char *colon = strchr(item, ':');
        g_autofree char *size = NULL;
        SpmHugetlbfs m = { 0 };

        if (!*item)
            continue;
        if (!colon || colon[1] != '/') {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "[host] hugetlbfs_mount: '%s' is not PAGESIZE:/MOUNT/POINT", item);
            ok = FALSE;
            break;
        }
        size = g_strndup(item, colon - item);
        if (!spm_config_parse_size("[host] hugetlbfs_mount", size, &m.page_size, error)) {
            ok = FALSE;
            break;
        }
        m.path = g_strdup(colon + 1);
        g_array_append_val(mounts, m);
    }
    if (ok)
        spm_host_facts_set_hugetlbfs(facts, (SpmHugetlbfs *)(void *)mounts->data, mounts->len);
    spm_hugetlbfs_array_free(mounts);
    return ok;
}

/* ---- the pools ---- */

/* One user of huge pages of one size: a device, or the guest RAM. */
typedef struct {
    char *who;                  /* "memory 'ua-hbm0'", "guest RAM" */
    guint64 page_size;
    guint64 bytes;
    const char *nodemask;       /* host nodes it binds; NULL = any */
} SpmHugepageUser;

static guint64
spm_pages(guint64 bytes, guint64 page)
{
    return bytes / page + (bytes % page != 0);
}

static char *
spm_pool_dir(const char *sysfs_root, gint node, guint64 page)
{
    g_autofree char *leaf = g_strdup_printf("hugepages-%" G_GUINT64_FORMAT "kB", page / SPM_KiB);
    g_autofree char *nodedir = NULL;

    if (node < 0)
        return g_build_filename(sysfs_root, "kernel", "mm", "hugepages", leaf, NULL);
    nodedir = g_strdup_printf("node%d", node);
    return g_build_filename(sysfs_root, "devices", "system", "node", nodedir, "hugepages", leaf, NULL);
}

static gboolean
spm_pool_read(const char *dir, const char *file, guint64 *value, GError **error)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;

    if (!g_file_get_contents(path, &text, NULL, &local) ||
        !g_ascii_string_to_unsigned(g_strstrip(text), 10, 0, G_MAXUINT64, value, NULL)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "cannot read '%s': %s", path,
                    local ? local->message : "not a number");
        return FALSE;
    }
    return TRUE;
}

static gint
spm_pool_cmp_u64(gconstpointer a, gconstpointer b)
{
    guint64 x = *(const guint64 *)a;
    guint64 y = *(const guint64 *)b;

    return (x > y) - (x < y);
}

/* "2 MiB, 1 GiB": the page sizes of the host, for messages. */
static char *
spm_pool_sizes(const char *sysfs_root)
{
    g_autofree char *dir = g_build_filename(sysfs_root, "kernel", "mm", "hugepages", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(guint64));
    g_autoptr(GString) out = g_string_new(NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        guint64 kb;

        if (sscanf(name, "hugepages-%" G_GUINT64_FORMAT "kB", &kb) == 1) {
            kb *= SPM_KiB;
            g_array_append_val(sizes, kb);
        }
    }
    g_array_sort(sizes, spm_pool_cmp_u64);
    for (guint i = 0; i < sizes->len; i++) {
        g_autofree char *s = spm_units_format(g_array_index(sizes, guint64, i));

        g_string_append_printf(out, "%s%s", i ? ", " : "", s);
    }
    return g_strdup(out->len ? out->str : "none");
}

static void
spm_hugepage_user_clear(gpointer data)
{
    g_free(((SpmHugepageUser *)data)->who);
}

static GArray *
spm_hugepage_users(const SpmPlan *plan, const SpmDomainDef *def, guint64 host_page)
{
    GArray *users = g_array_new(FALSE, TRUE, sizeof(SpmHugepageUser));
    guint64 ram = 0;

    g_array_set_clear_func(users, spm_hugepage_user_clear);
    /* libvirt backs all guest RAM with <memoryBacking><hugepages> pages */
    if (def->hugepages) {
        SpmHugepageUser u = { NULL, def->hugepage_size ? def->hugepage_size : 2 * SPM_MiB };

        for (guint i = 0; plan->nodes && i < plan->nodes->len; i++)
            ram += g_array_index(plan->nodes, SpmPlannedNode, i).memory;
        u.bytes = ram;
        if (u.page_size != host_page && ram) {
            u.who = g_strdup("guest RAM");
            g_array_append_val(users, u);
        }
    }
    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(plan->devices, i);
        SpmHugepageUser u = { 0 };

        /* a <path> of the user's is whatever file it is: not a pool we know */
        if (!pd->backend.hugetlb && !pd->backend.hugetlbfs)
            continue;
        u.who = g_strdup_printf("memory '%s'", pd->id);
        u.page_size = pd->backend.page_size;
        u.bytes = pd->backend.size;
        u.nodemask = pd->def->source.nodemask;
        g_array_append_val(users, u);
    }
    return users;
}

/* Are the pages on the nodes of @user's nodemask enough for all users bound likewise? */
static gboolean
spm_hugepages_check_nodes(const char *sysfs_root, GArray *users, guint index, GError **error)
{
    const SpmHugepageUser *user = &g_array_index(users, SpmHugepageUser, index);
    g_autoptr(GArray) ranges = g_array_new(FALSE, FALSE, sizeof(SpmNodeRange));
    g_autofree char *page = spm_units_format(user->page_size);
    guint64 need = 0;
    guint64 free_pages = 0;
    guint nodes = 0;
    guint first_node = 0;

    if (!spm_nodemask_parse(user->nodemask, ranges, error))
        return FALSE;
    /* everyone bound to the same nodes takes from the same pages */
    for (guint i = 0; i < users->len; i++) {
        const SpmHugepageUser *u = &g_array_index(users, SpmHugepageUser, i);

        if (u->page_size == user->page_size && g_strcmp0(u->nodemask, user->nodemask) == 0)
            need += spm_pages(u->bytes, u->page_size);
    }
    for (guint r = 0; r < ranges->len; r++) {
        const SpmNodeRange *range = &g_array_index(ranges, SpmNodeRange, r);

        for (guint n = range->first; n <= range->last; n++) {
            g_autofree char *dir = spm_pool_dir(sysfs_root, n, user->page_size);
            g_autofree char *nodedir = g_strdup_printf("%s/devices/system/node/node%u",
                                                       sysfs_root, n);
            guint64 value = 0;

            if (!g_file_test(nodedir, G_FILE_TEST_IS_DIR)) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "%s: host NUMA node %u of nodemask '%s' does not exist "
                            "(no %s)", user->who, n, user->nodemask, nodedir);
                return FALSE;
            }
            if (!spm_pool_read(dir, "free_hugepages", &value, error))
                return FALSE;
            if (nodes++ == 0)
                first_node = n;
            free_pages += value;
        }
    }
    if (free_pages < need) {
        guint64 mine = spm_pages(user->bytes, user->page_size);
        g_autofree char *where = nodes == 1 ? g_strdup_printf("node %u", first_node)
                                            : g_strdup_printf("nodes %s", user->nodemask);

        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s needs %" G_GUINT64_FORMAT " huge page%s of %s on host %s "
                    "(%" G_GUINT64_FORMAT " with the domain's other users bound there), but "
                    "host %s has %" G_GUINT64_FORMAT " free",
                    user->who, mine, mine == 1 ? "" : "s", page, where, need, where, free_pages);
        return FALSE;
    }
    return TRUE;
}

/* Do the free, unreserved pages of the whole host cover every user of @user's size? */
static gboolean
spm_hugepages_check_host(const char *sysfs_root, GArray *users, guint index, GError **error)
{
    const SpmHugepageUser *user = &g_array_index(users, SpmHugepageUser, index);
    g_autofree char *dir = spm_pool_dir(sysfs_root, -1, user->page_size);
    g_autofree char *page = spm_units_format(user->page_size);
    guint64 need = 0;
    guint64 free_pages = 0;
    guint64 resv = 0;
    guint64 avail;

    for (guint i = 0; i < users->len; i++) {
        const SpmHugepageUser *u = &g_array_index(users, SpmHugepageUser, i);

        if (u->page_size == user->page_size)
            need += spm_pages(u->bytes, u->page_size);
    }
    if (!spm_pool_read(dir, "free_hugepages", &free_pages, error) ||
        !spm_pool_read(dir, "resv_hugepages", &resv, error))
        return FALSE;
    /* free pages that other processes have reserved (mapped, not yet touched) */
    avail = free_pages > resv ? free_pages - resv : 0;
    if (avail < need) {
        guint64 mine = spm_pages(user->bytes, user->page_size);

        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s needs %" G_GUINT64_FORMAT " huge page%s of %s (%" G_GUINT64_FORMAT
                    " with the domain's other users of that size), but the host has %"
                    G_GUINT64_FORMAT " free on all nodes (free_hugepages %" G_GUINT64_FORMAT
                    ", resv_hugepages %" G_GUINT64_FORMAT ")",
                    user->who, mine, mine == 1 ? "" : "s", page, need, avail, free_pages, resv);
        return FALSE;
    }
    return TRUE;
}

gboolean
spm_hugepages_check(const SpmPlan *plan,
                    const SpmDomainDef *def,
                    const char *sysfs_root,
                    GError **error)
{
    g_autoptr(GArray) users = NULL;
    g_autoptr(GHashTable) sizes_done = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                                             g_free, NULL);

    users = spm_hugepage_users(plan, def, 4 * SPM_KiB);
    for (guint i = 0; i < users->len; i++) {
        const SpmHugepageUser *u = &g_array_index(users, SpmHugepageUser, i);
        g_autofree char *dir = spm_pool_dir(sysfs_root, -1, u->page_size);

        if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
            g_autofree char *page = spm_units_format(u->page_size);
            g_autofree char *have = spm_pool_sizes(sysfs_root);

            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "%s: huge page size %s does not exist on this host (no %s; "
                        "huge page sizes here: %s)", u->who, page, dir, have);
            return FALSE;
        }
    }
    /* the tighter question first: the nodes a device is bound to */
    for (guint i = 0; i < users->len; i++) {
        const SpmHugepageUser *u = &g_array_index(users, SpmHugepageUser, i);

        if (u->nodemask && !spm_hugepages_check_nodes(sysfs_root, users, i, error))
            return FALSE;
    }
    for (guint i = 0; i < users->len; i++) {
        const SpmHugepageUser *u = &g_array_index(users, SpmHugepageUser, i);
        gint64 key = (gint64)u->page_size;

        if (g_hash_table_contains(sizes_done, &key))
            continue;
        g_hash_table_add(sizes_done, g_memdup2(&key, sizeof(key)));
        if (!spm_hugepages_check_host(sysfs_root, users, i, error))
            return FALSE;
    }
    return TRUE;
}
