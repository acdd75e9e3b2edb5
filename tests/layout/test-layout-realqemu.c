/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-layout-realqemu: the QEMU model against the real QEMU of this
 * machine (Debian 12: 7.2, TCG).  QEMU 7.2 has no spm-memory, but pc-dimm,
 * nvdimm and virtio-mem go through the same machine layout and memory
 * device code, so the RAM split, the device-memory region, the AMD 1 TiB
 * relocation, phys-bits, slots, alignment, realize order and the error
 * texts can all be checked against the real thing.
 *
 * Each case is started with -S and asked `info mtree` and
 * `info memory-devices` over the HMP monitor on stdio, then quits; errors
 * are QEMU's exit message.  Skipped when qemu-system-x86_64 is missing.
 */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "spm-error.h"
#include "spm-qemu-layout.h"
#include "fx-cmdline.h"
#include "fx-qemu.h"

static const char *const cases[] = {
    /* RAM splits, q35 */
    "-machine q35 -m 1G,slots=4,maxmem=16G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=d0,memdev=m0",
    "-machine q35 -m 2816M,slots=2,maxmem=16G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=d0,memdev=m0",
    "-machine q35 -m 2814M,slots=2,maxmem=16G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=d0,memdev=m0",
    "-machine q35 -m 3584M,slots=2,maxmem=16G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=d0,memdev=m0",
    "-machine q35 -m 6G,slots=2,maxmem=16G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=d0,memdev=m0",
    "-machine q35,max-ram-below-4g=1G -m 3584M,slots=1,maxmem=8G",
    /* RAM splits, pc */
    "-machine pc -m 1G,slots=2,maxmem=16G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=d0,memdev=m0",
    "-machine pc -m 2816M,slots=2,maxmem=16G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=d0,memdev=m0",
    "-machine pc -m 3584M,slots=2,maxmem=8G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=d0,memdev=m0",
    "-machine pc -m 6G,slots=2,maxmem=16G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=d0,memdev=m0",
    "-machine pc,max-ram-below-4g=2G -m 3G,slots=1,maxmem=8G",
    "-machine pc -m 3G",
    /* AMD 1 TiB relocation and phys-bits */
    "-machine q35 -cpu EPYC,phys-bits=48 -m 2G,slots=4,maxmem=1100G",
    "-machine q35 -cpu EPYC -m 2G,slots=4,maxmem=1100G",
    "-machine pc-q35-7.0 -cpu EPYC,phys-bits=48 -m 2G,slots=4,maxmem=1100G",
    "-machine q35 -cpu Skylake-Server,phys-bits=48 -m 2G,slots=4,maxmem=1100G",
    "-machine q35 -m 2G,slots=4,maxmem=974G",
    "-machine q35 -m 2G,slots=4,maxmem=975G",
    /* -m errors */
    "-machine q35 -m 1G,slots=257,maxmem=4G",
    "-machine q35 -m 1G,slots=2,maxmem=4294967297",
    "-machine q35 -m 1G,slots=2,maxmem=512M",
    /* placement and realize order */
    "-machine q35 -m 1G,slots=4,maxmem=16G -object memory-backend-ram,id=m0,size=512M -device {\"driver\":\"pc-dimm\",\"id\":\"lv0\",\"memdev\":\"m0\",\"slot\":0} -object memory-backend-ram,id=m1,size=1G -device pc-dimm,id=cl0,memdev=m1",
    "-machine q35 -m 1G,slots=4,maxmem=16G -object memory-backend-ram,id=m0,size=512M -device {\"driver\":\"pc-dimm\",\"id\":\"lv0\",\"memdev\":\"m0\"} -object memory-backend-ram,id=m1,size=1G -device pc-dimm,id=cl0,memdev=m1,addr=0x140000000",
    "-machine q35 -m 1G,slots=4,maxmem=16G -object memory-backend-ram,id=m0,size=1G -device pc-dimm,id=d0,memdev=m0,addr=0x200000000 -object memory-backend-ram,id=m1,size=512M -device pc-dimm,id=d1,memdev=m1 -object memory-backend-ram,id=m2,size=4G -device pc-dimm,id=d2,memdev=m2",
    "-machine q35 -m 1G,slots=4,maxmem=16G -object memory-backend-memfd,id=f0,size=12K -device pc-dimm,id=a,memdev=f0 -object memory-backend-ram,id=m1,size=1G -device virtio-mem-pci,id=vm,memdev=m1,block-size=128M,requested-size=0",
    "-machine q35,nvdimm=on -m 1G,slots=2,maxmem=8G -object memory-backend-file,id=n0,size=258M,mem-path=@TMPFILE@,share=on -device nvdimm,id=nv,memdev=n0,label-size=128K",
    /* placement errors */
    "-machine q35 -m 1G,slots=4,maxmem=16G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=d0,memdev=m0,slot=4",
    "-machine q35 -m 1G,slots=4,maxmem=16G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=d0,memdev=m0,addr=0x100001000",
    "-machine q35 -m 1G,slots=4,maxmem=16G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=d0,memdev=m0,addr=0x80000000",
    "-machine q35 -m 1G,slots=4,maxmem=16G -object memory-backend-ram,id=m0,size=1025M -device pc-dimm,id=d0,memdev=m0",
    "-machine q35 -m 1G,slots=1,maxmem=2G -object memory-backend-ram,id=m0,size=2G -device pc-dimm,id=d0,memdev=m0",
    "-machine q35 -m 1G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=d0,memdev=m0",
    "-machine q35,acpi=off -m 1G,slots=2,maxmem=4G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=d0,memdev=m0",
    "-machine q35 -m 1G,slots=2,maxmem=4G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=a,memdev=m0 -device pc-dimm,id=b,memdev=m0",
    "-machine q35 -m 1G,slots=2,maxmem=8G -object memory-backend-ram,id=m0,size=1G -device pc-dimm,id=a,memdev=m0 -object memory-backend-ram,id=m1,size=1G -device pc-dimm,id=b,memdev=m1,addr=0x120000000",
    "-machine q35 -m 1G,slots=2,maxmem=8G -object memory-backend-ram,id=m0,size=1G -device pc-dimm,memdev=m0 -object memory-backend-ram,id=m1,size=1G -device pc-dimm,id=b,memdev=m1,addr=0x120000000",
    "-machine q35 -numa node,nodeid=0 -numa node,nodeid=2 -m 1G",
    "-machine q35 -m 1G,slots=2,maxmem=8G -object memory-backend-ram,id=m0,size=1G -device pc-dimm,id=a,memdev=m0 -device virtio-mem-pci,id=vm,memdev=m0,requested-size=0",
    "-machine q35 -m 1G,slots=2,maxmem=8G -object memory-backend-file,id=m0,size=1G,mem-path=@TMPFILE@ -device pc-dimm,id=a,memdev=m0 -device virtio-pmem-pci,id=vp,memdev=m0",
    "-machine q35 -m 1G,slots=2,maxmem=8G -device pc-dimm,id=d",
    "-machine q35 -m 1G,slots=2,maxmem=8G -object memory-backend-ram,id=m0,size=512M -device pc-dimm,id=a,memdev=m0,node=1",
};

static void
test_case(gconstpointer data)
{
    g_autofree char *qemu = fx_qemu_find();
    g_autofree char *tmpfile = NULL;
    g_autofree char *args = NULL;
    g_autofree char *model_args = NULL;
    g_auto(GStrv) words = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(FxCmdline) c = NULL;
    FxQemuResult r;
    SpmMachineLayout layout;
    gboolean ok;
    int fd;

    if (!qemu) {
        g_test_skip("qemu-system-x86_64 not found");
        return;
    }
    fd = g_file_open_tmp("spm-layout-XXXXXX", &tmpfile, &err);
    g_assert_no_error(err);
    close(fd);
    {
        g_auto(GStrv) parts = g_strsplit(data, "@TMPFILE@", -1);

        args = g_strjoinv(tmpfile, parts);
    }
    words = g_strsplit(args, " ", -1);
    g_test_message("QEMU: %s", args);
    fx_qemu_run(qemu, (const char *const *)words, &r);
    g_unlink(tmpfile);

    model_args = g_strdup(args);
    c = fx_parse(model_args);
    ok = fx_run(c, &layout, &err);

    if (r.error) {
        g_test_message("QEMU said: %s", r.error);
        g_assert_cmpint(r.exit_status, !=, 0);
        if (ok)
            g_error("QEMU failed with '%s', the model accepted", r.error);
        g_test_message("model said: %s", err->message);
        if (!g_str_has_suffix(err->message, r.error))
            g_error("model said '%s', QEMU said '%s'", err->message, r.error);
        fx_qemu_result_clear(&r);
        return;
    }
    if (!ok)
        g_error("QEMU accepted, the model said '%s' (QEMU output: %s)", err->message, r.output);

    g_assert_cmphex(layout.below_4g, ==, r.below);
    g_assert_cmphex(layout.above_4g, ==, r.above);
    if (r.above)
        g_assert_cmphex(layout.above_4g_start, ==, r.above_start);
    g_assert_cmpint(layout.has_device_memory, ==, r.has_devmem);
    if (r.has_devmem) {
        g_assert_cmphex(layout.devmem_base, ==, r.devmem_base);
        g_assert_cmphex(layout.devmem_size, ==, r.devmem_size);
    }
    g_assert_cmpuint(r.devs->len, ==, c->devs->len);
    for (guint i = 0; i < r.devs->len; i++) {
        GHashTable *kv = g_ptr_array_index(r.devs, i);
        const SpmQemuMemDev *d = fx_find_dev(c, g_hash_table_lookup(kv, "id"));

        g_assert_nonnull(d);
        if (g_hash_table_contains(kv, "memaddr")) {
            g_assert_cmphex(d->placed_addr, ==, fx_qemu_dev_u64(kv, "memaddr"));
            g_assert_cmphex(spm_qemu_dev_region_size(d), ==, fx_qemu_dev_u64(kv, "max-size"));
        } else {
            g_assert_cmphex(d->placed_addr, ==, fx_qemu_dev_u64(kv, "addr"));
            g_assert_cmphex(spm_qemu_dev_region_size(d), ==, fx_qemu_dev_u64(kv, "size"));
            g_assert_cmpint(d->placed_slot, ==, (int)fx_qemu_dev_u64(kv, "slot"));
        }
    }
    fx_qemu_result_clear(&r);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/layout/realqemu/%02u", i);

        g_test_add_data_func(path, cases[i], test_case);
    }
    return g_test_run();
}
