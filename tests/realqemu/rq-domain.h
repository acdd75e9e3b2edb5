/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rq-domain.h: generated domains for the real-QEMU tests.
 *
 * A domain is described by a few parameters (machine, RAM per NUMA cell,
 * <maxMemory>, and the memory devices in document order) and written out
 * as libvirt domain XML with <memory model='spm'> devices, the user's
 * form that virt-spm reads.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RQ_MiB (G_GUINT64_CONSTANT(1) << 20)
#define RQ_GiB (G_GUINT64_CONSTANT(1) << 30)

#define RQ_MAX_CELLS 4
#define RQ_MAX_DEVS 6

typedef enum {
    RQ_DEV_NONE = 0,            /* end of the list */
    RQ_DEV_SPM,                 /* <memory model='spm'> */
    RQ_DEV_DIMM,                /* <memory model='dimm'>, libvirt's own */
} RqDevKind;

typedef struct {
    RqDevKind kind;
    guint64 size;               /* bytes */
    guint node;
    guint64 base;               /* 0 = natural (no address@base) */
    gboolean file;              /* SPM: <source><path> (memory-backend-file), see RqHost */
    gboolean has_slot;          /* dimm address@slot given */
    guint slot;
    const char *alias;          /* NULL = no <alias> */
} RqDev;

typedef struct {
    const char *name;           /* test name, and the domain's (the libvirt half prefixes it) */
    gboolean i440fx;            /* pc-i440fx-7.2, else pc-q35-7.2 */
    guint64 cells[RQ_MAX_CELLS];/* RAM of NUMA cells 0..; cells[0] == 0: no <numa> */
    guint64 memory;             /* <memory> when there are no cells */
    guint64 max_memory;         /* <maxMemory>; 0 = none */
    guint slots;
    guint phys_bits;            /* <cpu><maxphysaddr mode='emulate' bits=>; 0 = none */
    gboolean memfd;             /* <memoryBacking><source type='memfd'/> */
    RqDev devs[RQ_MAX_DEVS];    /* document order, ends at RQ_DEV_NONE */

    /* planner policy (virt-spm's configuration, not the XML); 0 = default */
    guint64 spm_align;
    guint64 guard_gap;
    gboolean not_strict;        /* strict = FALSE */

    /* for domains the plan must reject */
    const char *plan_error;     /* a piece of the planner's message; NULL = must plan */
    const char *qemu_error;     /* a piece of QEMU's message for the raw arguments */

    /*
     * A bug found by this test and not fixed yet: when the case fails it
     * is reported as TODO (expected failure) with this text, so the suite
     * stays usable; when it passes, the test says the bug did not show.
     */
    const char *known_bug;          /* both halves */
    const char *known_bug_libvirt;  /* the libvirt half only */
} RqDomain;

/* Where the domain runs and what it boots; every member may be NULL. */
typedef struct {
    const char *emulator;       /* <emulator>; NULL = /usr/bin/qemu-system-x86_64 */
    const char *loader;         /* <loader type='rom'> (OVMF.fd); NULL = SeaBIOS */
    const char *kernel;         /* <kernel>, <initrd>, <cmdline> (direct boot) */
    const char *initrd;
    const char *cmdline;
    const char *serial;         /* <serial type='file'>: the guest's console */
    const char *file_dir;       /* directory of the files of RqDev.file devices */
} RqHost;

/* The domain's XML, named @name. */
char *rq_domain_xml(const RqDomain *d, const char *name);

/* The same, run by @host (NULL = as rq_domain_xml). */
char *rq_domain_xml_on(const RqDomain *d, const char *name, const RqHost *host);

/* Number of cells (0 without <numa>) and of vCPUs (one per cell, at least 1). */
guint rq_domain_ncells(const RqDomain *d);
guint rq_domain_vcpus(const RqDomain *d);

G_END_DECLS
