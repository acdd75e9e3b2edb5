/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-env.c: the one reader of the environment (spm-env.h).  C library only.
 */
#define _GNU_SOURCE         /* secure_getenv() */
#include <stdlib.h>

#include "spm-env.h"

static const char *const spm_env_names[] = {
    [SPM_ENV_PATH] = "PATH",
    [SPM_ENV_VISUAL] = "VISUAL",
    [SPM_ENV_EDITOR] = "EDITOR",
    [SPM_ENV_LIBVIRT_DEFAULT_URI] = "LIBVIRT_DEFAULT_URI",
    [SPM_ENV_HOOK_CONFIG] = "VIRT_SPM_HOOK_CONFIG",
    [SPM_ENV_SCHEMA] = "VIRT_SPM_SCHEMA",
    [SPM_ENV_QEMU_CONF] = "VIRT_SPM_QEMU_CONF",
    [SPM_ENV_SYSFS_ROOT] = "VIRT_SPM_SYSFS_ROOT",
    [SPM_ENV_LEDGER_DIR] = "VIRT_SPM_LEDGER_DIR",
    [SPM_ENV_NOVA_PLAN_DIR] = "VIRT_SPM_NOVA_PLAN_DIR",
    [SPM_ENV_CONTROL_SOCKET] = "VIRT_SPM_CONTROL_SOCKET",
    [SPM_ENV_LIBVIRT_HELPER] = "VIRT_SPM_LIBVIRT_HELPER",
    [SPM_ENV_PLACEMENT_SYNC] = "VIRT_SPM_PLACEMENT_SYNC",
    [SPM_ENV_PLACEMENT_ALLOCATION] = "VIRT_SPM_PLACEMENT_ALLOCATION",
    [SPM_ENV_HOOK_HELPER] = "VIRT_SPM_HOOK_HELPER",
    [SPM_ENV_HOOK_CACHE_DIR] = "VIRT_SPM_HOOK_CACHE_DIR",
    [SPM_ENV_HOOK_PROBE_TIMEOUT_MS] = "VIRT_SPM_HOOK_PROBE_TIMEOUT_MS",
    [SPM_ENV_HOOK_LIBVIRT_VERSION] = "VIRT_SPM_HOOK_LIBVIRT_VERSION",
    [SPM_ENV_WRAPPER_EXECUTED] = "VIRT_SPM_WRAPPER_EXECUTED",
};

_Static_assert(sizeof(spm_env_names) / sizeof(spm_env_names[0]) == SPM_ENV_LAST,
               "every SpmEnv has a name");

const char *
spm_env_name(SpmEnv knob)
{
    return spm_env_names[knob];
}

const char *
spm_env(SpmEnv knob)
{
    const char *value = secure_getenv(spm_env_names[knob]);

    return value && *value ? value : NULL;
}
