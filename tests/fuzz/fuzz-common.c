/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-common.c: the fixed policy of the fuzz targets. */
#include "fuzz-common.h"

static const char spm_fuzz_conf[] =
    "[plan]\n"
    "spm_align = 1GiB\n"
    "guard_gap = 1GiB\n"
    "strict = true\n"
    "fixed_max_memory = false\n"
    "[host]\n"
    "cpu_vendor = Intel\n"
    "phys_bits = 46\n"
    "libvirt_version = 11.3.0\n"
    "firmware_version = edk2-2026.08\n";

const SpmPlanPolicy *
spm_fuzz_policy(void)
{
    static SpmConfig *config;

    if (!config) {
        g_autoptr(GKeyFile) kf = g_key_file_new();

        config = spm_config_new();
        if (!g_key_file_load_from_data(kf, spm_fuzz_conf, -1, G_KEY_FILE_NONE, NULL) ||
            !spm_config_apply_keyfile(config, kf, NULL))
            g_error("fuzz: the built-in configuration does not load");
    }
    return &config->policy;
}
