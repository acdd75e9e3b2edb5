/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-hook-ops.h: the libvirt qemu hook calls virt-spm acts on, once.
 *
 * libvirt runs the hook as "NAME OP SUBOP EXTRA" (docs/libvirt.md); these
 * are the (OP, SUBOP) pairs that concern an SPM domain, named after them,
 * and whether a non-zero exit there stops what libvirt is doing (the
 * hook's stderr then reaches the user).  The front end (C library only),
 * the helper and the decision all read this one table.
 */
#pragma once

#include <string.h>

typedef enum {
    SPM_HOOK_PREPARE_BEGIN,     /* before anything is set up: plan, check, reserve HBM */
    SPM_HOOK_START_BEGIN,       /* resources set up, QEMU not yet run: make directories */
    SPM_HOOK_STARTED_BEGIN,     /* QEMU runs: virt-spmd audits it */
    SPM_HOOK_STOPPED_END,       /* QEMU is gone: remove directories, virt-spmd forgets */
    SPM_HOOK_RELEASE_END,       /* everything released: HBM back to the ledger */
    SPM_HOOK_MIGRATE_BEGIN,     /* an incoming migration, on the destination */
    SPM_HOOK_RESTORE_BEGIN,     /* a restore from a saved image */

    SPM_HOOK_OP_LAST            /* any other call: virt-spm has nothing to do with it */
} SpmHookOp;

typedef struct {
    const char *op;
    const char *subop;
    int may_refuse;             /* a non-zero exit stops libvirt's operation */
} SpmHookOpInfo;

static inline const SpmHookOpInfo *
spm_hook_op_info(SpmHookOp hop)
{
    static const SpmHookOpInfo table[SPM_HOOK_OP_LAST] = {
        [SPM_HOOK_PREPARE_BEGIN] = { "prepare", "begin", 1 },
        [SPM_HOOK_START_BEGIN] = { "start", "begin", 1 },
        [SPM_HOOK_STARTED_BEGIN] = { "started", "begin", 0 },
        [SPM_HOOK_STOPPED_END] = { "stopped", "end", 0 },
        [SPM_HOOK_RELEASE_END] = { "release", "end", 0 },
        [SPM_HOOK_MIGRATE_BEGIN] = { "migrate", "begin", 1 },
        [SPM_HOOK_RESTORE_BEGIN] = { "restore", "begin", 1 },
    };

    return hop < SPM_HOOK_OP_LAST ? &table[hop] : NULL;
}

/* The call libvirt made, or SPM_HOOK_OP_LAST for one virt-spm ignores. */
static inline SpmHookOp
spm_hook_op_parse(const char *op, const char *subop)
{
    for (int i = 0; i < SPM_HOOK_OP_LAST; i++) {
        const SpmHookOpInfo *info = spm_hook_op_info((SpmHookOp)i);

        if (op && subop && strcmp(op, info->op) == 0 && strcmp(subop, info->subop) == 0)
            return (SpmHookOp)i;
    }
    return SPM_HOOK_OP_LAST;
}

static inline int
spm_hook_op_may_refuse(SpmHookOp hop)
{
    return hop < SPM_HOOK_OP_LAST && spm_hook_op_info(hop)->may_refuse;
}
