/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-plan.h: from a domain definition to an exact placement plan.
 *
 * The planner decides: the guest NUMA nodes of SPM devices, an explicit
 * guest-physical address for every SPM device (with a guard gap so that
 * the guest never merges two of them, docs/guest-view.md), the backend of
 * each device, the maxMemory and slots the domain needs, and the warnings
 * about what would silently go wrong in the guest.  It then runs the QEMU
 * model (spm-qemu-layout.h) over the whole command line, libvirt's own
 * memory devices included, in QEMU's realize order, and reports what QEMU
 * will do.  Pure code: host facts come in through SpmPlanPolicy.
 */
#pragma once

#include <glib.h>
#include "spm-domain.h"
#include "spm-qemu-layout.h"

G_BEGIN_DECLS

/*
 * libvirt_version from which libvirt skips memory device kinds it does not
 * know in query-memory-devices instead of failing the start (9.0 fails
 * with "%s memory device info is not handled yet"; 12.8 logs "Unknown
 * memory model: sp-mem" and starts, docs/libvirt.md).
 * First release that skips them: 9.1.0, by commit d427102f "qemu: Don't
 * error out on 'unknown' memory model in qemuMonitorJSONGetMemoryDeviceInfo()"
 * (2023-02-27, tagged v9.1.0-rc2); later qemu_monitor_json.c has
 * VIR_WARN("Unknown memory model: %s") and continues.
 */
#define SPM_LIBVIRT_SKIPS_UNKNOWN_MEMDEV 9001000

/* libvirt's memory_backing_dir when qemu.conf does not set it */
#define SPM_LIBVIRT_MEMORY_BACKING_DIR "/var/lib/libvirt/qemu/ram"

/* One hugetlbfs mount libvirt would use (qemu.conf hugetlbfs_mount, or /proc/mounts). */
typedef struct {
    guint64 page_size;          /* bytes */
    char *path;                 /* mount point */
} SpmHugetlbfs;

/* Facts about the host and the tools, gathered by the caller (I/O). */
typedef struct {
    gboolean host_cpu_amd;      /* host vendor, for KVM guests and host CPU models */
    guint host_phys_bits;       /* host address bits; 0 = unknown (assume 46) */
    guint64 host_page_size;     /* 0 = 4 KiB */
    guint libvirt_version;      /* major * 1000000 + minor * 1000 + micro; 0 = unknown */
    char *firmware_version;     /* e.g. "edk2-2022.11", "seabios-1.16.2"; NULL = unknown */
    /* libvirt's qemu.conf memory_backing_dir; NULL = SPM_LIBVIRT_MEMORY_BACKING_DIR */
    char *memory_backing_dir;
    SpmHugetlbfs *hugetlbfs;    /* in libvirt's order; the first of a page size wins */
    guint n_hugetlbfs;
} SpmHostFacts;

/* Deep copy of @src into @dst (whose old contents are not freed). */
void spm_host_facts_copy(SpmHostFacts *dst, const SpmHostFacts *src);
/* Free what @facts owns and zero it. */
void spm_host_facts_clear(SpmHostFacts *facts);
/* Replace the hugetlbfs mounts of @facts by a copy of @mounts. */
void spm_host_facts_set_hugetlbfs(SpmHostFacts *facts, const SpmHugetlbfs *mounts, guint n);

/*
 * The directory virt-spm creates before a start and removes after the stop
 * for the file-backed SPM devices of domain @name, inside @base (libvirt's
 * memory_backing_dir, or the "libvirt/qemu" directory libvirt keeps in each
 * hugetlbfs mount): "BASE/virt-spm-NAME".  libvirt's own per-domain
 * directories there are "ID-NAME" and always start with a digit, so the
 * two never meet.  NULL when @name cannot be a directory name.
 */
char *spm_plan_domain_dir(const char *base, const char *name);
#define SPM_PLAN_DOMAIN_DIR_PREFIX "virt-spm-"
/* libvirt's directory inside a hugetlbfs mount: MOUNT/libvirt/qemu */
char *spm_plan_hugetlbfs_base(const char *mount);

/* What the administrator chose (configuration file, command line). */
typedef struct {
    guint64 spm_align;          /* alignment of planned SPM addresses; default 1 GiB */
    guint64 guard_gap;          /* free space left after each SPM device; default 1 GiB */
    gboolean strict;            /* one SPM device per node and no RAM on it; default TRUE */
    gboolean fixed_max_memory;  /* never raise <maxMemory>/slots: error instead; default FALSE */
    /* the SPM device of the QEMU that will run the domain; default sp-mem */
    SpmDeviceRev device;
    /*
     * Tests on a QEMU without an SPM device: generate this driver ("pc-dimm")
     * instead.  A key=value pc-dimm takes a slot, so SPM stand-ins get the
     * highest slots and the plan raises slots to leave libvirt's DIMMs theirs.
     * NULL in production.  Recorded in the metadata by convert.
     */
    char *stand_in_driver;
    SpmHostFacts host;
} SpmPlanPolicy;

/* Defaults as documented in virt-spm(1). */
void spm_plan_policy_init(SpmPlanPolicy *policy);
void spm_plan_policy_clear(SpmPlanPolicy *policy);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpmPlanPolicy, spm_plan_policy_clear)

typedef enum {
    SPM_BACKEND_RAM,            /* memory-backend-ram */
    SPM_BACKEND_MEMFD,          /* memory-backend-memfd */
    SPM_BACKEND_FILE,           /* memory-backend-file */
} SpmBackendKind;

/* "memory-backend-ram", ...; NULL for a value outside the enum. */
const char *spm_backend_kind_qom_type(SpmBackendKind kind);

/* The -object of one memory device. */
typedef struct {
    SpmBackendKind kind;
    char *id;                   /* object id: "mem" + device id, e.g. "memua-hbm0", "memdimm0" */
    guint64 size;
    char *mem_path;             /* file: path or hugetlbfs dir; NULL otherwise */
    char *host_nodes;           /* libvirt nodemask "2-3"; NULL = none (policy=bind when set) */
    gboolean share;
    gboolean has_share;
    gboolean prealloc;
    gboolean discard_data;
    gboolean has_discard_data;
    gboolean hugetlb;           /* memfd hugetlb=on */
    guint64 hugetlbsize;        /* memfd hugetlbsize; 0 = unset */
    guint64 align;              /* align= property; 0 = unset */
    guint64 region_align;       /* the alignment QEMU will use for placement */
    /*
     * Size of the pages behind the memory: the huge page size for
     * hugetlb memfd and hugetlbfs files, the host page size otherwise;
     * for a <source><path> of the user's, the <pagesize> the user gave.
     */
    guint64 page_size;
    gboolean hugetlbfs;         /* mem_path is in a hugetlbfs mount of page_size */
    /*
     * mem_path is a per-domain directory (spm_plan_domain_dir()) that the
     * libvirt hook creates before QEMU starts and removes after it stops.
     */
    gboolean domain_dir;
} SpmBackend;

/* One memory device in the device-memory region. */
typedef struct {
    char *id;                   /* QEMU device id (alias, or generated) */
    SpmMemModel model;
    guint64 addr;               /* where QEMU will put it */
    guint64 size;               /* region size */
    guint64 align;              /* placement alignment QEMU uses */
    guint node;
    int slot;                   /* pc-dimm/nvdimm slot; -1 otherwise */
    gboolean explicit_addr;     /* addr= is on the command line */
    gboolean generated;         /* argument built by virt-spm (SPM), not by libvirt */
    guint order;                /* QEMU realize position */
    SpmBackend backend;
    const SpmMemDevice *def;    /* borrowed from the SpmDomainDef */
} SpmPlannedDevice;

typedef enum {
    SPM_NUMA_CELL,              /* a <cell> of the domain (RAM, CPUs) */
    SPM_NUMA_SPM,               /* a node holding one SPM device */
    SPM_NUMA_SYNTHESIZED,       /* cell 0 virt-spm adds to a domain without NUMA */
} SpmNumaKind;

/* "cell", "spm", "cell" (synthesized cells are cells to the guest) */
const char *spm_numa_kind_to_string(SpmNumaKind kind);

typedef struct {
    guint id;
    SpmNumaKind kind;
    guint64 memory;             /* RAM of a cell; 0 for SPM nodes */
} SpmPlannedNode;

typedef struct {
    SpmMachineConfig machine;   /* what QEMU will be told */
    SpmMachineLayout layout;    /* what QEMU computes from it */
    const char *machine_name;   /* "q35" or "pc" */

    guint64 max_memory;         /* final <maxMemory> */
    guint max_memory_slots;     /* final slots */
    gboolean max_memory_raised; /* the domain's values were raised */
    gboolean cell_synthesized;  /* the domain had no <numa>: cell 0 added */

    GPtrArray *devices;         /* SpmPlannedDevice *, sorted by addr */
    GArray *nodes;              /* SpmPlannedNode, by id */
    GPtrArray *warnings;        /* char *, one line each */
    char *stand_in_driver;      /* from the policy: SPM devices realized as this driver */
    SpmDeviceRev device;        /* from the policy: the SPM device planned for */
} SpmPlan;

/*
 * Plan @def.  Fails with SPM_ERROR_INVALID (one line naming the element
 * and the value) for anything QEMU, libvirt, the firmware or the guest
 * would get wrong, and SPM_ERROR_UNSUPPORTED for what this libvirt cannot
 * run.  The plan borrows @def: keep it alive while the plan lives.
 */
SpmPlan *spm_plan_build(const SpmDomainDef *def,
                        const SpmPlanPolicy *policy,
                        GError **error);
void spm_plan_free(SpmPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmPlan, spm_plan_free)

/* Planned device by QEMU id, or NULL. */
const SpmPlannedDevice *spm_plan_find_device(const SpmPlan *plan, const char *id);

G_END_DECLS
