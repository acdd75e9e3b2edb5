/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-argv.c: the QEMU arguments of a plan's SPM devices and SPM nodes.
 *
 * Output, one argv word per element (golden files depend on this order):
 *
 *   for every plan node of kind SPM_NUMA_SPM, by id:
 *     "-numa"    "node,nodeid=N"
 *   for every planned device with generated == TRUE, by device->order
 *   (QEMU's realize order):
 *     "-object"  "<qom-type>,id=<backend id>,size=<bytes>
 *                 [,mem-path=<path>]          memory-backend-file only
 *                 [,share=on|off]             when has_share
 *                 [,prealloc=on]              when prealloc
 *                 [,discard-data=on|off]      when has_discard_data (file only)
 *                 [,host-nodes=A[-B]]...,policy=bind   when host_nodes
 *                 [,hugetlb=on]               memfd only
 *                 [,hugetlbsize=<bytes>]      memfd only
 *                 [,align=<bytes>]"           file only
 *     "-device"  "<driver>,id=<id>,memdev=<backend id>,node=<N>
 *                 [,addr=0x<hex>]             when explicit_addr
 *                 [,slot=<N>]"                stand-in driver only, slot >= 0
 *
 * Sizes are plain decimal bytes, addresses 0x-hex.  <driver> is the plan's
 * device revision's ("sp-mem" of QEMU 11.1, "spm-memory" of the legacy v8
 * patch series: spm-device-rev.h), or the stand-in driver of the tests
 * ("pc-dimm"); only the stand-in gets a slot, because neither SPM device
 * has such a property.
 *
 * Quoting: QEMU's key=value parser ends a value at a single comma and reads
 * ",," as one comma in the value.  Every free-form value (the paths) goes
 * through spm_qemu_opt_quote(); ids are additionally held to QEMU's own
 * identifier rule, because QEMU rejects anything else at realize time and
 * an early, precise error is better.  The nodemask is parsed and written
 * back from numbers, so nothing of its text reaches QEMU verbatim.
 *
 * host-nodes: QEMU's -object parser accepts a range "2-3" as one value and
 * builds a list from a repeated key (observed with QEMU 7.2:
 * "host-nodes=0,host-nodes=3" reads back as [0, 3] with qom-get), so the
 * libvirt nodemask "0,2-3" becomes "host-nodes=0,host-nodes=2-3".
 */
#include <string.h>
#include "spm-error.h"
#include "spm-argv.h"

/* QEMU's MAX_NODES for host-nodes (QEMU 7.2: "Invalid host-nodes value: 128") */
#define SPM_QEMU_MAX_HOST_NODES 128

char *
spm_qemu_opt_quote(const char *value)
{
    GString *out;

    g_return_val_if_fail(value != NULL, NULL);

    out = g_string_sized_new(strlen(value) + 8);
    for (const char *p = value; *p; p++) {
        if (*p == ',')
            g_string_append_c(out, ',');
        g_string_append_c(out, *p);
    }
    return g_string_free(out, FALSE);
}

/* QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
static gboolean
spm_argv_id_valid(const char *id)
{
    if (!id || !g_ascii_isalpha(id[0]))
        return FALSE;
    for (const char *p = id + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.' && *p != '_')
            return FALSE;
    }
    return TRUE;
}

static gboolean
spm_argv_check_id(const char *what, const char *id, GError **error)
{
    if (!spm_argv_id_valid(id)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s '%s' is not a valid QEMU identifier", what,
                    id ? id : "(null)");
        return FALSE;
    }
    return TRUE;
}

static gboolean
spm_argv_parse_node(const char *nodemask, const char *text, guint *node,
                    GError **error)
{
    guint64 v;

    /* digits only: g_ascii_string_to_unsigned alone would accept nothing
     * worse, but say exactly what is wrong */
    if (!*text || strspn(text, "0123456789") != strlen(text) ||
        !g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT, &v, NULL)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "nodemask '%s': '%s' is not a host NUMA node number",
                    nodemask, text);
        return FALSE;
    }
    if (v >= SPM_QEMU_MAX_HOST_NODES) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "nodemask '%s': host NUMA node %" G_GUINT64_FORMAT
                    " is above QEMU's limit of %u", nodemask, v,
                    SPM_QEMU_MAX_HOST_NODES - 1);
        return FALSE;
    }
    *node = (guint)v;
    return TRUE;
}

gboolean
spm_nodemask_parse(const char *nodemask, GArray *ranges, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(nodemask, ",", -1);
    gint64 prev_end = -1;

    if (!parts[0]) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "nodemask '%s' is empty", nodemask);
        return FALSE;
    }
    for (guint i = 0; parts[i]; i++) {
        const char *part = parts[i];
        const char *dash = strchr(part, '-');
        SpmNodeRange range;

        if (dash) {
            g_autofree char *first = g_strndup(part, dash - part);

            if (!spm_argv_parse_node(nodemask, first, &range.first, error) ||
                !spm_argv_parse_node(nodemask, dash + 1, &range.last, error))
                return FALSE;
            if (range.last < range.first) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "nodemask '%s': range '%s' runs backwards",
                            nodemask, part);
                return FALSE;
            }
        } else {
            if (!spm_argv_parse_node(nodemask, part, &range.first, error))
                return FALSE;
            range.last = range.first;
        }
        if ((gint64)range.first <= prev_end) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "nodemask '%s': '%s' is not in ascending order",
                        nodemask, part);
            return FALSE;
        }
        prev_end = range.last;
        g_array_append_val(ranges, range);
    }
    return TRUE;
}

/* Append ",host-nodes=...,policy=bind" for a libvirt nodemask. */
static gboolean
spm_argv_append_host_nodes(GString *buf, const char *nodemask, GError **error)
{
    g_autoptr(GArray) ranges = g_array_new(FALSE, FALSE, sizeof(SpmNodeRange));

    if (!spm_nodemask_parse(nodemask, ranges, error))
        return FALSE;
    for (guint i = 0; i < ranges->len; i++) {
        const SpmNodeRange *r = &g_array_index(ranges, SpmNodeRange, i);

        if (r->first == r->last)
            g_string_append_printf(buf, ",host-nodes=%u", r->first);
        else
            g_string_append_printf(buf, ",host-nodes=%u-%u", r->first, r->last);
    }
    g_string_append(buf, ",policy=bind");
    return TRUE;
}

static gboolean
spm_argv_only_for(const SpmBackend *backend, SpmBackendKind kind,
                  const char *property, GError **error)
{
    if (backend->kind == kind)
        return TRUE;
    g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                "backend '%s': property %s is not available on %s, only on %s",
                backend->id, property, spm_backend_kind_qom_type(backend->kind),
                spm_backend_kind_qom_type(kind));
    return FALSE;
}

static char *
spm_argv_object(const SpmBackend *backend, GError **error)
{
    g_autoptr(GString) buf = g_string_new(NULL);
    const char *type = spm_backend_kind_qom_type(backend->kind);

    if (!type) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "backend '%s': unknown backend kind %d",
                    backend->id ? backend->id : "(null)", (int)backend->kind);
        return NULL;
    }
    if (!spm_argv_check_id("backend id", backend->id, error))
        return NULL;
    if (backend->size == 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "backend '%s': size 0", backend->id);
        return NULL;
    }

    g_string_append_printf(buf, "%s,id=%s,size=%" G_GUINT64_FORMAT,
                           type, backend->id, backend->size);

    if (backend->kind == SPM_BACKEND_FILE &&
        (!backend->mem_path || !*backend->mem_path)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "backend '%s': memory-backend-file without mem-path",
                    backend->id);
        return NULL;
    }
    if (backend->mem_path) {
        g_autofree char *quoted = NULL;

        if (!spm_argv_only_for(backend, SPM_BACKEND_FILE, "mem-path", error))
            return NULL;
        quoted = spm_qemu_opt_quote(backend->mem_path);
        g_string_append_printf(buf, ",mem-path=%s", quoted);
    }
    if (backend->has_share)
        g_string_append_printf(buf, ",share=%s", backend->share ? "on" : "off");
    if (backend->prealloc)
        g_string_append(buf, ",prealloc=on");
    if (backend->has_discard_data) {
        if (!spm_argv_only_for(backend, SPM_BACKEND_FILE, "discard-data", error))
            return NULL;
        g_string_append_printf(buf, ",discard-data=%s",
                               backend->discard_data ? "on" : "off");
    }
    if (backend->host_nodes &&
        !spm_argv_append_host_nodes(buf, backend->host_nodes, error))
        return NULL;
    if (backend->hugetlb) {
        if (!spm_argv_only_for(backend, SPM_BACKEND_MEMFD, "hugetlb", error))
            return NULL;
        g_string_append(buf, ",hugetlb=on");
    }
    if (backend->hugetlbsize) {
        if (!spm_argv_only_for(backend, SPM_BACKEND_MEMFD, "hugetlbsize", error))
            return NULL;
        g_string_append_printf(buf, ",hugetlbsize=%" G_GUINT64_FORMAT,
                               backend->hugetlbsize);
    }
    if (backend->align) {
        if (!spm_argv_only_for(backend, SPM_BACKEND_FILE, "align", error))
            return NULL;
        g_string_append_printf(buf, ",align=%" G_GUINT64_FORMAT, backend->align);
    }
    return g_string_free(g_steal_pointer(&buf), FALSE);
}

static char *
spm_argv_device(const SpmPlannedDevice *dev, const char *driver,
                gboolean stand_in, GError **error)
{
    g_autoptr(GString) buf = g_string_new(NULL);

    if (!spm_argv_check_id("device id", dev->id, error))
        return NULL;

    g_string_append_printf(buf, "%s,id=%s,memdev=%s,node=%u",
                           driver, dev->id, dev->backend.id, dev->node);
    if (dev->explicit_addr)
        g_string_append_printf(buf, ",addr=0x%" G_GINT64_MODIFIER "x", dev->addr);
    if (stand_in && dev->slot >= 0)
        g_string_append_printf(buf, ",slot=%d", dev->slot);
    return g_string_free(g_steal_pointer(&buf), FALSE);
}

static gint
spm_argv_cmp_order(gconstpointer a, gconstpointer b)
{
    const SpmPlannedDevice *da = *(const SpmPlannedDevice *const *)a;
    const SpmPlannedDevice *db = *(const SpmPlannedDevice *const *)b;

    return (da->order > db->order) - (da->order < db->order);
}

static gint
spm_argv_cmp_uint(gconstpointer a, gconstpointer b)
{
    guint ua = *(const guint *)a;
    guint ub = *(const guint *)b;

    return (ua > ub) - (ua < ub);
}

GStrv
spm_argv_build(const SpmPlan *plan,
               const char *stand_in_driver,
               GError **error)
{
    g_autoptr(GStrvBuilder) argv = g_strv_builder_new();
    g_autoptr(GArray) spm_nodes = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GPtrArray) devices = g_ptr_array_new();
    const char *driver;

    g_return_val_if_fail(plan != NULL, NULL);

    driver = stand_in_driver ? stand_in_driver : spm_device_rev_to_string(plan->device);
    if (!driver) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "plan: SPM device revision %d is not one virt-spm knows", (int)plan->device);
        return NULL;
    }

    if (!spm_argv_check_id("stand-in driver", driver, error))
        return NULL;

    for (guint i = 0; plan->nodes && i < plan->nodes->len; i++) {
        const SpmPlannedNode *node = &g_array_index(plan->nodes, SpmPlannedNode, i);

        if (node->kind == SPM_NUMA_SPM)
            g_array_append_val(spm_nodes, node->id);
    }
    g_array_sort(spm_nodes, spm_argv_cmp_uint);
    for (guint i = 0; i < spm_nodes->len; i++) {
        g_autofree char *numa = g_strdup_printf("node,nodeid=%u",
                                                g_array_index(spm_nodes, guint, i));

        g_strv_builder_add(argv, "-numa");
        g_strv_builder_add(argv, numa);
    }

    for (guint i = 0; plan->devices && i < plan->devices->len; i++) {
        SpmPlannedDevice *dev = g_ptr_array_index(plan->devices, i);

        if (dev->generated)
            g_ptr_array_add(devices, dev);
    }
    g_ptr_array_sort(devices, spm_argv_cmp_order);
    for (guint i = 0; i < devices->len; i++) {
        const SpmPlannedDevice *dev = g_ptr_array_index(devices, i);
        g_autofree char *object = NULL;
        g_autofree char *device = NULL;

        if (!(object = spm_argv_object(&dev->backend, error)))
            return NULL;
        if (!(device = spm_argv_device(dev, driver, stand_in_driver != NULL, error)))
            return NULL;
        g_strv_builder_add(argv, "-object");
        g_strv_builder_add(argv, object);
        g_strv_builder_add(argv, "-device");
        g_strv_builder_add(argv, device);
    }
    return g_strv_builder_end(argv);
}
