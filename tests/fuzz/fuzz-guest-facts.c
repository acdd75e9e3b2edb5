/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-guest-facts.c: what a guest hands us (spm-guest-facts.h): the first
 * byte picks the reader -- memory blocks, block size, guest-file-read,
 * /proc/iomem (then judged by the guest verdict), a sysfs integer.
 */
#include "fuzz-common.h"

#include "spm-guest-verdict.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    const char *text = (const char *)data + 1;
    gsize len;

    if (size < 1)
        return 0;
    len = size - 1;
    switch (data[0] % 5) {
    case 0: {
        g_autoptr(GArray) b = spm_guest_blocks_parse(text, len, &error);

        if (!b)
            SPM_FUZZ_CLEAN_ERROR(error);
        break;
    }
    case 1: {
        guint64 s;

        if (!spm_guest_block_size_parse(text, len, &s, &error))
            SPM_FUZZ_CLEAN_ERROR(error);
        else
            SPM_FUZZ_CHECK(s && !(s & (s - 1)), "a block size that is not a power of two");
        break;
    }
    case 2: {
        gboolean eof;
        g_autoptr(GBytes) b = spm_guest_file_read_parse(text, len, 4096, &eof, &error);

        if (!b)
            SPM_FUZZ_CLEAN_ERROR(error);
        else
            SPM_FUZZ_CHECK(g_bytes_get_size(b) <= 4096, "more bytes than asked for");
        break;
    }
    case 3: {
        g_autoptr(SpmGuestFacts) f = spm_guest_facts_new();
        g_autoptr(SpmAuditPlan) p = spm_audit_plan_new(NULL);
        g_autoptr(SpmGuestAudit) a = NULL;

        f->iomem = spm_iomem_parse(text, len, &error);
        if (!f->iomem) {
            SPM_FUZZ_CLEAN_ERROR(error);
            break;
        }
        spm_audit_plan_add(p, "ua-hbm0", "spm", 0x100000000, 0x40000000, 1, NULL);
        spm_audit_plan_add(p, "ua-hbm1", "spm", G_GUINT64_CONSTANT(0xffffffffc0000000),
                           0x40000000, 2, NULL);
        a = spm_guest_audit_judge(p, f);
        SPM_FUZZ_CHECK(a->devices->len == 2, "a device not judged");
        break;
    }
    default: {
        gint64 v;

        if (!spm_guest_sysfs_int_parse(text, len, -1, 4095, &v, &error))
            SPM_FUZZ_CLEAN_ERROR(error);
        else
            SPM_FUZZ_CHECK(v >= -1 && v <= 4095, "a value out of range");
        break;
    }
    }
    return 0;
}
