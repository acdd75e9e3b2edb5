/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-domain.h: the parts of a libvirt domain definition that virt-spm
 * needs, as plain data.
 *
 * This is virt-spm's equivalent of libvirt's virDomainDef: filled by the
 * XML reader (spm-domain-parse.c), read by the planner and the argument
 * builder (qemu-cmdline/), never touched by I/O.  All sizes and addresses
 * are in bytes.  Strings are owned by the struct.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    SPM_MEM_MODEL_SPM,          /* <memory model='spm'>: our device */
    SPM_MEM_MODEL_DIMM,         /* libvirt's own, realized by libvirt */
    SPM_MEM_MODEL_NVDIMM,
    SPM_MEM_MODEL_VIRTIO_MEM,
    SPM_MEM_MODEL_VIRTIO_PMEM,
    SPM_MEM_MODEL_LAST
} SpmMemModel;

/* "spm", "dimm", "nvdimm", "virtio-mem", "virtio-pmem" */
const char *spm_mem_model_to_string(SpmMemModel model);
int spm_mem_model_from_string(const char *str); /* -1 if unknown */

typedef enum {
    SPM_TRISTATE_ABSENT = 0,
    SPM_TRISTATE_YES,
    SPM_TRISTATE_NO,
} SpmTristate;

/*
 * memory[model='spm']/target/guest@mode: what the guest should make of the
 * device (docs/guest-view.md); the guest audit judges what it did against
 * it.  RESERVED, the default, asks only that the guest not use it as RAM.
 */
typedef enum {
    SPM_GUEST_MODE_RESERVED = 0,
    SPM_GUEST_MODE_DEVDAX,
    SPM_GUEST_MODE_SYSTEM_RAM,
    SPM_GUEST_MODE_LAST
} SpmGuestMode;

/* "reserved", "devdax", "system-ram" */
const char *spm_guest_mode_to_string(SpmGuestMode mode);
int spm_guest_mode_from_string(const char *str); /* -1 if unknown */

/* memoryBacking/access@mode, memory@access */
typedef enum {
    SPM_ACCESS_DEFAULT = 0,
    SPM_ACCESS_SHARED,
    SPM_ACCESS_PRIVATE,
} SpmAccess;

/* memoryBacking/source@type */
typedef enum {
    SPM_BACKING_DEFAULT = 0,    /* libvirt's default: anonymous */
    SPM_BACKING_ANONYMOUS,
    SPM_BACKING_MEMFD,
    SPM_BACKING_FILE,
} SpmBackingType;

typedef enum {
    SPM_MACHINE_Q35,            /* q35, pc-q35-* */
    SPM_MACHINE_I440FX,         /* pc, pc-i440fx-* */
} SpmMachineKind;

/* <memory><source> of one memory device */
typedef struct {
    char *nodemask;             /* host NUMA nodes, libvirt syntax "2-3,5"; NULL = none */
    guint64 pagesize;           /* huge page size in bytes; 0 = none */
    char *path;                 /* file or /dev/daxN.M; NULL = none */
    guint64 alignsize;          /* backend align in bytes; 0 = unset */
    SpmTristate pmem;           /* nvdimm/virtio-pmem <pmem/> */
} SpmMemSource;

/* One <memory model='...'> element of <devices> */
typedef struct {
    SpmMemModel model;
    char *alias;                /* <alias name=>; NULL = none (an id is generated) */
    SpmAccess access;           /* memory@access */
    SpmTristate discard;        /* memory@discard */
    SpmMemSource source;
    guint64 size;               /* target/size */
    guint node;                 /* target/node */
    gboolean has_node;
    guint64 base;               /* address@base: fixed guest-physical address */
    gboolean has_base;
    int slot;                   /* address@slot (dimm, nvdimm); -1 = unset */
    guint64 label_size;         /* nvdimm target/label/size; 0 = none */
    guint64 block_size;         /* virtio-mem target/block */
    guint64 requested_size;     /* virtio-mem target/requested */
    SpmGuestMode guest_mode;    /* SPM target/guest@mode */
    guint line;                 /* line in the source document, for messages */
} SpmMemDevice;

/* One <cpu><numa><cell> */
typedef struct {
    guint id;
    char *cpus;                 /* "0-3"; NULL = no CPUs */
    guint64 memory;             /* bytes */
    SpmAccess access;           /* cell@memAccess */
    SpmTristate discard;        /* cell@discard */
    guint line;
} SpmNumaCell;

typedef struct {
    char *name;
    char *uuid;                 /* NULL when the XML has none */
    char *virt_type;            /* domain@type: "kvm", "qemu", ... */
    char *arch;                 /* os/type@arch; NULL = host arch */
    char *machine;              /* os/type@machine as written, e.g. "pc-q35-7.2" */
    SpmMachineKind machine_kind;
    guint machine_major;        /* from a versioned machine type; 0 = unversioned (latest) */
    guint machine_minor;
    char *emulator;             /* devices/emulator; NULL = libvirt's default */

    /* firmware: os@firmware='efi' or os/loader; loader_path may be NULL */
    gboolean firmware_efi;
    char *loader_path;

    gboolean acpi;              /* <features><acpi/> */

    guint vcpus;                /* <vcpu> */
    char *cpu_mode;             /* cpu@mode: "custom", "host-model", "host-passthrough", "maximum"; NULL = none */
    char *cpu_model;            /* cpu/model; NULL = hypervisor default (qemu64) */
    char *cpu_vendor;           /* cpu/vendor; NULL = unset */
    char *maxphysaddr_mode;     /* cpu/maxphysaddr@mode: "emulate", "passthrough"; NULL = unset */
    guint maxphysaddr_bits;     /* cpu/maxphysaddr@bits; 0 = unset */

    guint64 memory;             /* <memory>, bytes */
    guint64 max_memory;         /* <maxMemory>, bytes; 0 = absent */
    guint max_memory_slots;     /* <maxMemory slots=> */
    gboolean has_max_memory;

    /* <memoryBacking> */
    guint64 hugepage_size;      /* hugepages/page@size (first, nodeset-less); 0 = none */
    gboolean hugepages;         /* <hugepages/> present */
    SpmBackingType backing;     /* source@type */
    SpmAccess access;           /* access@mode */
    gboolean prealloc;          /* allocation@mode='immediate' */
    SpmTristate discard;        /* <discard/> */

    guint64 pcihole64;          /* controller pcie-root/pci-root <pcihole64>, bytes */
    gboolean has_pcihole64;

    GPtrArray *cells;           /* SpmNumaCell *, in document order */
    GPtrArray *mems;            /* SpmMemDevice *, in document order, SPM and libvirt's */
} SpmDomainDef;

SpmDomainDef *spm_domain_def_new(void);
void spm_domain_def_free(SpmDomainDef *def);
SpmMemDevice *spm_mem_device_new(SpmMemModel model);
void spm_mem_device_free(SpmMemDevice *dev);
SpmNumaCell *spm_numa_cell_new(void);
void spm_numa_cell_free(SpmNumaCell *cell);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmDomainDef, spm_domain_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmMemDevice, spm_mem_device_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmNumaCell, spm_numa_cell_free)

/*
 * libvirt's user alias rule: "ua-" then one or more of [A-Za-z0-9_-].  SPM
 * device ids must follow it (they never clash with libvirt's own aliases
 * and are valid QEMU ids); NULL is not an alias.
 */
gboolean spm_mem_alias_is_user(const char *alias);

/* libvirt's node set syntax ("0-3,^2,5"): the check <nodemask> gets. */
gboolean spm_nodeset_is_valid(const char *nodeset);

/* Number of devices of @model in @def. */
guint spm_domain_def_count_model(const SpmDomainDef *def, SpmMemModel model);

G_END_DECLS
