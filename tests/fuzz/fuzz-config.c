/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-config.c: virt-spm.conf through GKeyFile and virt-spm's reading of
 * its [plan], [host], [test] and [daemon] groups.
 */
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(SpmConfig) config = spm_config_new();
    g_autoptr(GError) error = NULL;

    if (!g_key_file_load_from_data(kf, (const char *)data, size, G_KEY_FILE_NONE, NULL))
        return 0;
    if (!spm_config_apply_keyfile(config, kf, &error))
        SPM_FUZZ_CLEAN_ERROR(error);
    return 0;
}
