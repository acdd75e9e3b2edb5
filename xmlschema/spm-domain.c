/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-domain.c: life cycle of the domain model
 */
#include "spm-domain.h"

static const char *const spm_mem_model_names[SPM_MEM_MODEL_LAST] = {
    [SPM_MEM_MODEL_SPM] = "spm",
    [SPM_MEM_MODEL_DIMM] = "dimm",
    [SPM_MEM_MODEL_NVDIMM] = "nvdimm",
    [SPM_MEM_MODEL_VIRTIO_MEM] = "virtio-mem",
    [SPM_MEM_MODEL_VIRTIO_PMEM] = "virtio-pmem",
};

const char *
spm_mem_model_to_string(SpmMemModel model)
{
    if ((guint)model >= SPM_MEM_MODEL_LAST)
        return "unknown";
    return spm_mem_model_names[model];
}

int
spm_mem_model_from_string(const char *str)
{
    for (int i = 0; i < SPM_MEM_MODEL_LAST; i++) {
        if (g_strcmp0(str, spm_mem_model_names[i]) == 0)
            return i;
    }
    return -1;
}

static const char *const spm_guest_mode_names[SPM_GUEST_MODE_LAST] = {
    [SPM_GUEST_MODE_RESERVED] = "reserved",
    [SPM_GUEST_MODE_DEVDAX] = "devdax",
    [SPM_GUEST_MODE_SYSTEM_RAM] = "system-ram",
};

const char *
spm_guest_mode_to_string(SpmGuestMode mode)
{
    if ((guint)mode >= SPM_GUEST_MODE_LAST)
        return "unknown";
    return spm_guest_mode_names[mode];
}

int
spm_guest_mode_from_string(const char *str)
{
    for (int i = 0; i < SPM_GUEST_MODE_LAST; i++) {
        if (g_strcmp0(str, spm_guest_mode_names[i]) == 0)
            return i;
    }
    return -1;
}

SpmMemDevice *
spm_mem_device_new(SpmMemModel model)
{
    SpmMemDevice *dev = g_new0(SpmMemDevice, 1);

    dev->model = model;
    dev->slot = -1;
    return dev;
}

void
spm_mem_device_free(SpmMemDevice *dev)
{
    if (!dev)
        return;
    g_free(dev->alias);
    g_free(dev->source.nodemask);
    g_free(dev->source.path);
    g_free(dev);
}

SpmNumaCell *
spm_numa_cell_new(void)
{
    return g_new0(SpmNumaCell, 1);
}

void
spm_numa_cell_free(SpmNumaCell *cell)
{
    if (!cell)
        return;
    g_free(cell->cpus);
    g_free(cell);
}

SpmDomainDef *
spm_domain_def_new(void)
{
    SpmDomainDef *def = g_new0(SpmDomainDef, 1);

    def->vcpus = 1;
    def->cells = g_ptr_array_new_with_free_func((GDestroyNotify)spm_numa_cell_free);
    def->mems = g_ptr_array_new_with_free_func((GDestroyNotify)spm_mem_device_free);
    return def;
}

void
spm_domain_def_free(SpmDomainDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->uuid);
    g_free(def->virt_type);
    g_free(def->arch);
    g_free(def->machine);
    g_free(def->emulator);
    g_free(def->loader_path);
    g_free(def->cpu_mode);
    g_free(def->cpu_model);
    g_free(def->cpu_vendor);
    g_free(def->maxphysaddr_mode);
    g_ptr_array_unref(def->cells);
    g_ptr_array_unref(def->mems);
    g_free(def);
}

gboolean
spm_mem_alias_is_user(const char *alias)
{
    if (!alias || !g_str_has_prefix(alias, "ua-") || alias[3] == '\0')
        return FALSE;
    for (const char *p = alias + 3; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-')
            return FALSE;
    }
    return TRUE;
}

guint
spm_domain_def_count_model(const SpmDomainDef *def, SpmMemModel model)
{
    guint n = 0;

    for (guint i = 0; i < def->mems->len; i++) {
        const SpmMemDevice *dev = g_ptr_array_index(def->mems, i);

        if (dev->model == model)
            n++;
    }
    return n;
}

gboolean
spm_nodeset_is_valid(const char *s)
{
    if (!s || !*s)
        return FALSE;
    for (const char *p = s; *p; p++) {
        if (!g_ascii_isdigit(*p) && *p != '-' && *p != ',' && *p != '^')
            return FALSE;
    }
    return g_ascii_isdigit(s[0]) || s[0] == '^';
}
