/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-env.h: every environment variable virt-spm's programs read, once.
 *
 * Nothing else calls getenv(): a knob that is not in this table does not
 * exist.  The values are read with secure_getenv(), so a program that the
 * kernel marks as secure-execution (set-user-ID, capabilities) ignores
 * them all.  virt-spm's own knobs share one prefix, VIRT_SPM_; the others
 * are the variables every Unix program honours.  Most of virt-spm's own
 * exist for the tests (fake sysfs trees, private directories) and are
 * listed in docs/testing.md.
 *
 * C library only: the hook's front end and the emulator wrapper, which
 * link nothing else, use it too (spm-env.c is compiled into each).
 */
#pragma once

typedef enum {
    SPM_ENV_PATH,                   /* where the wrapper and the hook look for programs */
    SPM_ENV_VISUAL,                 /* virt-spm edit: the editor, as virsh edit */
    SPM_ENV_EDITOR,                 /* virt-spm edit: the editor without VISUAL */
    SPM_ENV_LIBVIRT_DEFAULT_URI,    /* libvirt's own default connection URI */
    SPM_ENV_HOOK_CONFIG,            /* the hook helper's configuration file */
    SPM_ENV_SCHEMA,                 /* the RelaxNG schema of the domain XML */
    SPM_ENV_QEMU_CONF,              /* libvirt's qemu.conf (memory_backing_dir, hugetlbfs) */
    SPM_ENV_SYSFS_ROOT,             /* the root of /sys (fake host NUMA nodes in tests) */
    SPM_ENV_LEDGER_DIR,             /* the HBM ledger's directory, /run/virt-spm */
    SPM_ENV_NOVA_PLAN_DIR,          /* the Nova plans, /run/virt-spm/nova */
    SPM_ENV_CONTROL_SOCKET,         /* virt-spmd's control socket */
    SPM_ENV_LIBVIRT_HELPER,         /* virt-spm's libvirt half */
    SPM_ENV_PLACEMENT_SYNC,         /* the Placement agent virt-spm nova placement-sync runs */
    SPM_ENV_PLACEMENT_ALLOCATION,   /* what the hook asks Placement with at a Nova start */
    SPM_ENV_HOOK_HELPER,            /* the hook's helper program */
    SPM_ENV_HOOK_CACHE_DIR,         /* the hook's emulator-probe cache */
    SPM_ENV_HOOK_PROBE_TIMEOUT_MS,  /* how long an emulator probe may take */
    SPM_ENV_HOOK_LIBVIRT_VERSION,   /* libvirt's version, when the daemon cannot be asked */
    SPM_ENV_WRAPPER_EXECUTED,       /* set by the wrapper for what it runs: never itself again */

    SPM_ENV_LAST
} SpmEnv;

/* The variable's name. */
const char *spm_env_name(SpmEnv knob);

/* Its value, or NULL when it is unset or empty (empty means "the default"). */
const char *spm_env(SpmEnv knob);
