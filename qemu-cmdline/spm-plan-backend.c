/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-plan-backend.c: device ids and memory backends, as libvirt does them.
 *
 * SPM devices get the same treatment libvirt gives its own memory devices
 * (ids, "mem" + id backends, <source> over <memoryBacking>), so a domain
 * mixing both behaves the same for both, and so the planner can predict
 * libvirt's own devices exactly.
 */
#include <string.h>

#include "spm-error.h"
#include "spm-units.h"
#include "spm-plan-private.h"
#include "spm-checked.h"

#define SPM_ANON_RAM_ALIGN     (2 * SPM_MiB)   /* QEMU_VMALLOC_ALIGN on x86_64 Linux */
#define SPM_DEFAULT_HUGEPAGE   (2 * SPM_MiB)   /* x86_64 default huge page size */
#define SPM_LIBVIRT_DIMM_ALIGN (2 * SPM_MiB)   /* libvirt rounds DIMM sizes to this */

static const char *
spm_libvirt_id_prefix(SpmMemModel model)
{
    switch (model) {
    case SPM_MEM_MODEL_SPM:
        return "spm";
    case SPM_MEM_MODEL_DIMM:
        return "dimm";
    case SPM_MEM_MODEL_NVDIMM:
        return "nvdimm";
    case SPM_MEM_MODEL_VIRTIO_MEM:
        return "virtiomem";
    case SPM_MEM_MODEL_VIRTIO_PMEM:
        return "virtiopmem";
    case SPM_MEM_MODEL_LAST:
        break;
    }
    return "mem";
}

/*
 * libvirt's slots for its DIMMs and NVDIMMs, as libvirt 9.0 assigns them
 * (and always passes "slot" to QEMU): the slots written in the XML first,
 * then the lowest free slot for each of the others, in document order.
 * libvirt refuses a base without a slot.
 */
gboolean
spm_plan_assign_libvirt_slots(GPtrArray *devices, GError **error)
{
    g_autoptr(GHashTable) used = g_hash_table_new(g_direct_hash, g_direct_equal);
    guint next = 0;

    for (guint i = 0; i < devices->len; i++) {
        SpmPlannedDevice *pd = g_ptr_array_index(devices, i);
        const SpmMemDevice *m = pd->def;

        if (m->model != SPM_MEM_MODEL_DIMM && m->model != SPM_MEM_MODEL_NVDIMM)
            continue;
        if (m->has_base && m->slot < 0) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "memory model='%s' (line %u): address base=0x%" G_GINT64_MODIFIER "x "
                        "needs slot= as well (libvirt refuses a base without a slot)",
                        spm_mem_model_to_string(m->model), m->line, m->base);
            return FALSE;
        }
        if (m->slot < 0)
            continue;
        if (g_hash_table_contains(used, GINT_TO_POINTER(m->slot))) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "memory model='%s' (line %u): address slot='%d' is already used",
                        spm_mem_model_to_string(m->model), m->line, m->slot);
            return FALSE;
        }
        g_hash_table_add(used, GINT_TO_POINTER(m->slot));
        pd->slot = m->slot;
    }
    for (guint i = 0; i < devices->len; i++) {
        SpmPlannedDevice *pd = g_ptr_array_index(devices, i);
        const SpmMemDevice *m = pd->def;

        if ((m->model != SPM_MEM_MODEL_DIMM && m->model != SPM_MEM_MODEL_NVDIMM) || m->slot >= 0)
            continue;
        while (g_hash_table_contains(used, GUINT_TO_POINTER(next)))
            next++;
        pd->slot = next;
        g_hash_table_add(used, GUINT_TO_POINTER(next));
    }
    return TRUE;
}

gboolean
spm_plan_assign_ids(GPtrArray *devices, GError **error)
{
    guint counters[SPM_MEM_MODEL_LAST + 1] = { 0 };
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < devices->len; i++) {
        SpmPlannedDevice *pd = g_ptr_array_index(devices, i);
        const SpmMemDevice *m = pd->def;
        guint model = (guint)m->model <= SPM_MEM_MODEL_LAST ? (guint)m->model : SPM_MEM_MODEL_LAST;
        guint index = counters[model]++;
        const SpmPlannedDevice *other;

        if (m->alias) {
            /*
             * Our ids must follow libvirt's user alias rule; libvirt's own
             * devices may carry the aliases libvirt gave them (live XML).
             */
            if (m->model == SPM_MEM_MODEL_SPM && !spm_mem_alias_is_user(m->alias)) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "memory alias name='%s' (line %u): a user alias must start with "
                            "'ua-' followed by letters, digits, '_' or '-'",
                            m->alias, m->line);
                return FALSE;
            }
            pd->id = g_strdup(m->alias);
        } else if ((m->model == SPM_MEM_MODEL_DIMM || m->model == SPM_MEM_MODEL_NVDIMM) &&
                   pd->slot >= 0) {
            /* libvirt 9.0 names DIMMs and NVDIMMs after their slot */
            pd->id = g_strdup_printf("%s%d", spm_libvirt_id_prefix(m->model), pd->slot);
        } else {
            pd->id = g_strdup_printf("%s%u", spm_libvirt_id_prefix(m->model), index);
        }

        if ((other = g_hash_table_lookup(seen, pd->id))) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "memory id '%s' (line %u) is already the id of the memory at line %u",
                        pd->id, m->line, other->def->line);
            return FALSE;
        }
        g_hash_table_insert(seen, pd->id, pd);
        pd->backend.id = g_strconcat("mem", pd->id, NULL);
    }
    return TRUE;
}

void
spm_plan_backend_clear(SpmBackend *backend)
{
    g_free(backend->id);
    g_free(backend->mem_path);
    g_free(backend->host_nodes);
    memset(backend, 0, sizeof(*backend));
}

/* The first hugetlbfs mount of @page, as libvirt picks it; NULL if none. */
static const char *
spm_plan_hugetlbfs_mount(const SpmPlanPolicy *policy, guint64 page)
{
    for (guint i = 0; i < policy->host.n_hugetlbfs; i++) {
        if (policy->host.hugetlbfs[i].page_size == page)
            return policy->host.hugetlbfs[i].path;
    }
    return NULL;
}

/*
 * A per-domain directory in @base for an SPM device, or an error naming
 * the domain name that cannot be one.
 */
static gboolean
spm_plan_backend_domain_dir(const SpmDomainDef *def, const SpmPlannedDevice *pd,
                            const char *base, SpmBackend *b, GError **error)
{
    b->mem_path = spm_plan_domain_dir(base, def->name);
    if (!b->mem_path) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    SPM_PLAN_DEV_FMT " (line %u) needs a directory named after the domain, "
                    "but name '%s' cannot be one (empty, '/', or over 200 bytes)",
                    pd->id, pd->def->line, def->name ? def->name : "");
        return FALSE;
    }
    b->domain_dir = TRUE;
    return TRUE;
}

/*
 * Huge pages of exactly @page bytes for an SPM device (docs/xml.md, "Huge
 * pages").  memory-backend-memfd with hugetlb=on,hugetlbsize= is the
 * default: the kernel takes the pages from the pool of that size
 * (MFD_HUGE_*), no mount is needed and nothing stays on disk.  A domain that
 * asks for files (<memoryBacking><source type='file'/>) or for discard-data,
 * which only memory-backend-file has, gets a per-domain directory in the
 * hugetlbfs mount of that page size, found as libvirt finds it: never a
 * mount of another size, whose pool the kernel would drain instead.
 */
static gboolean
spm_plan_backend_spm_hugepages(const SpmDomainDef *def, SpmPlannedDevice *pd,
                               const SpmPlanPolicy *policy, guint64 page,
                               gboolean wants_file, GError **error)
{
    SpmBackend *b = &pd->backend;
    const char *mount;
    g_autofree char *base = NULL;

    if (!wants_file) {
        b->kind = SPM_BACKEND_MEMFD;
        b->hugetlb = TRUE;
        b->hugetlbsize = page;
        return TRUE;
    }
    if (!(mount = spm_plan_hugetlbfs_mount(policy, page))) {
        g_autofree char *p = spm_units_format(page);

        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    SPM_PLAN_DEV_FMT " (line %u) wants a file of %s huge pages, but no hugetlbfs "
                    "mount has that page size (qemu.conf hugetlbfs_mount, /proc/mounts, or "
                    "[host] hugetlbfs_mount in virt-spm.conf); mount one, or drop <source "
                    "type='file'/> and <discard/> to get memory-backend-memfd",
                    pd->id, pd->def->line, p);
        return FALSE;
    }
    b->kind = SPM_BACKEND_FILE;
    b->hugetlbfs = TRUE;
    base = spm_plan_hugetlbfs_base(mount);
    return spm_plan_backend_domain_dir(def, pd, base, b, error);
}

gboolean
spm_plan_backend_fill(const SpmDomainDef *def,
                      const SpmPlanPolicy *policy,
                      SpmPlannedDevice *pd,
                      GError **error)
{
    const SpmMemDevice *m = pd->def;
    SpmBackend *b = &pd->backend;
    guint64 host_page = policy->host.host_page_size ? policy->host.host_page_size : 4 * SPM_KiB;
    const char *backing_dir = policy->host.memory_backing_dir ?
                              policy->host.memory_backing_dir : SPM_LIBVIRT_MEMORY_BACKING_DIR;
    guint64 page = 0;
    guint64 size = m->size;
    guint64 region;
    SpmAccess access;
    SpmTristate discard;

    /* huge pages: the device's own page size wins over <memoryBacking> */
    if (m->source.pagesize)
        page = m->source.pagesize;
    else if (def->hugepages)
        page = def->hugepage_size ? def->hugepage_size : SPM_DEFAULT_HUGEPAGE;
    if (page == host_page)
        page = 0;                /* libvirt: the normal page size is no huge page */
    discard = m->discard != SPM_TRISTATE_ABSENT ? m->discard : def->discard;

    b->page_size = page ? page : host_page;
    if (m->source.path) {
        b->kind = SPM_BACKEND_FILE;
        b->mem_path = g_strdup(m->source.path);
        b->align = m->source.alignsize;
        b->region_align = m->source.alignsize ? m->source.alignsize : (page ? page : host_page);
    } else if (page && m->model == SPM_MEM_MODEL_SPM) {
        gboolean wants_file = def->backing == SPM_BACKING_FILE ||
                              (def->backing != SPM_BACKING_MEMFD && discard != SPM_TRISTATE_ABSENT);

        if (!spm_plan_backend_spm_hugepages(def, pd, policy, page, wants_file, error))
            return FALSE;
        b->region_align = page;
    } else if (page) {
        /* libvirt's own devices, as libvirt 9.0 backs them */
        if (def->backing == SPM_BACKING_MEMFD) {
            b->kind = SPM_BACKEND_MEMFD;
            b->hugetlb = TRUE;
            b->hugetlbsize = page;
        } else {
            const char *mount = spm_plan_hugetlbfs_mount(policy, page);

            b->kind = SPM_BACKEND_FILE;
            b->hugetlbfs = TRUE;
            /* libvirt adds "/ID-NAME" below, ID known only at start */
            b->mem_path = mount ? spm_plan_hugetlbfs_base(mount) : NULL;
        }
        b->region_align = page;
    } else if (def->backing == SPM_BACKING_MEMFD) {
        b->kind = SPM_BACKEND_MEMFD;
        b->region_align = host_page;
    } else if (def->backing == SPM_BACKING_FILE) {
        b->kind = SPM_BACKEND_FILE;
        if (m->model == SPM_MEM_MODEL_SPM) {
            if (!spm_plan_backend_domain_dir(def, pd, backing_dir, b, error))
                return FALSE;
        } else {
            b->mem_path = g_strdup(backing_dir); /* libvirt: DIR/ID-NAME/ALIAS */
        }
        b->region_align = host_page;
    } else {
        b->kind = SPM_BACKEND_RAM;
        b->region_align = SPM_ANON_RAM_ALIGN;
    }

    access = m->access != SPM_ACCESS_DEFAULT ? m->access : def->access;
    if (access != SPM_ACCESS_DEFAULT) {
        b->has_share = TRUE;
        b->share = access == SPM_ACCESS_SHARED;
    }
    if (discard != SPM_TRISTATE_ABSENT) {
        b->has_discard_data = TRUE;
        b->discard_data = discard == SPM_TRISTATE_YES;
    }
    b->prealloc = def->prealloc;
    b->host_nodes = g_strdup(m->source.nodemask);

    /* libvirt's own size rounding of its devices (post-parse) */
    if (m->model == SPM_MEM_MODEL_DIMM &&
        !spm_checked_align_up(size, SPM_LIBVIRT_DIMM_ALIGN, &size))
        goto overflow;
    if (m->model == SPM_MEM_MODEL_VIRTIO_MEM && m->block_size &&
        !spm_checked_align_up(size, m->block_size, &size))
        goto overflow;

    b->size = size;
    pd->align = b->region_align;
    if (m->model == SPM_MEM_MODEL_VIRTIO_MEM && m->block_size > pd->align)
        pd->align = m->block_size;

    if (size == 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    SPM_PLAN_DEV_FMT " (line %u) target/size is 0", pd->id, m->line);
        return FALSE;
    }

    if (m->model == SPM_MEM_MODEL_NVDIMM) {
        /* QEMU takes the label off the end and aligns the rest down */
        region = size > m->label_size ? size - m->label_size : 0;
        region -= region % b->region_align;
        if (region == 0) {
            g_autofree char *s = spm_units_format(size);
            g_autofree char *l = spm_units_format(m->label_size);

            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        SPM_PLAN_DEV_FMT " target/size %s leaves no memory after the "
                        "label of %s", pd->id, s, l);
            return FALSE;
        }
    } else {
        region = size;
        if (size % pd->align) {
            g_autofree char *s = spm_units_format(size);
            g_autofree char *a = spm_units_format(pd->align);

            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        SPM_PLAN_DEV_FMT " target/size %s is not a multiple of the backend "
                        "alignment %s", pd->id, s, a);
            return FALSE;
        }
    }
    pd->size = region;
    return TRUE;

 overflow:
    g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                SPM_PLAN_DEV_FMT " target/size %" G_GUINT64_FORMAT " overflows when rounded",
                pd->id, m->size);
    return FALSE;
}
