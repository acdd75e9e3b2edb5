/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-harness.c: the shared test harness itself, so that a broken
 * harness cannot make the real-QEMU tests pass: QEMU failing to start is
 * reported with its own message, QMP errors come back as errors, and the
 * `info mtree` reader finds, and cross-checks, the ranges.
 */
#include <string.h>
#include <glib/gstdio.h>
#include "spm-error.h"
#include "spm-test-libvirt.h"
#include "spm-test-qemu.h"

static void
test_start_failure(void)
{
    const char *args[] = { "-machine", "q35,accel=tcg", "-m", "1G", "-nodefaults",
                           "-display", "none", "-S", "-no-such-option", NULL };
    g_autoptr(GError) err = NULL;
    g_autoptr(SpmTestQemu) qemu = NULL;

    if (!spm_test_qemu_available()) {
        g_test_skip(SPM_TEST_QEMU_BINARY " not installed");
        return;
    }
    qemu = spm_test_qemu_start(args, &err);
    g_assert_null(qemu);
    g_assert_error(err, SPM_ERROR, SPM_ERROR_SYSTEM);
    g_assert_nonnull(strstr(err->message, "invalid option"));
    g_assert_nonnull(strstr(err->message, "exit status 1"));
}

static void
test_qmp_error_and_hmp(void)
{
    const char *args[] = { "-machine", "q35,accel=tcg", "-m", "size=1G,slots=1,maxmem=3G",
                           "-nodefaults", "-display", "none", "-S", NULL };
    g_autoptr(GError) err = NULL;
    g_autoptr(SpmTestQemu) qemu = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autofree char *mtree = NULL;
    guint64 start = 0, end = 0;

    if (!spm_test_qemu_available()) {
        g_test_skip(SPM_TEST_QEMU_BINARY " not installed");
        return;
    }
    qemu = spm_test_qemu_start(args, &err);
    g_assert_no_error(err);

    ret = spm_test_qemu_execute(qemu, "no-such-command", NULL, &err);
    g_assert_null(ret);
    g_assert_error(err, SPM_ERROR, SPM_ERROR_QMP);
    g_assert_nonnull(strstr(err->message, "CommandNotFound"));
    g_clear_error(&err);

    /* the connection is still usable after an error reply */
    ret = spm_test_qemu_execute(qemu, "query-memory-devices", NULL, &err);
    g_assert_no_error(err);
    g_assert_true(JSON_NODE_HOLDS_ARRAY(ret));
    g_assert_cmpuint(json_array_get_length(json_node_get_array(ret)), ==, 0);

    /* 1 GiB of RAM, all below 4G; region 4G + (3G - 1G) + 1 slot x 1G */
    mtree = spm_test_qemu_hmp(qemu, "info mtree", &err);
    g_assert_no_error(err);
    g_assert_true(spm_test_mtree_device_memory(mtree, &start, &end, &err));
    g_assert_cmphex(start, ==, G_GUINT64_CONSTANT(0x100000000));
    g_assert_cmphex(end, ==, G_GUINT64_CONSTANT(0x1bfffffff));
    g_assert_true(spm_test_mtree_alias(mtree, "ram-below-4g", &start, &end, &err));
    g_assert_cmphex(start, ==, 0);
    g_assert_cmphex(end, ==, G_GUINT64_CONSTANT(0x3fffffff));
    g_assert_false(spm_test_mtree_alias(mtree, "ram-above-4g", &start, &end, &err));
    g_assert_no_error(err);
}

static void
test_run_to_exit(void)
{
    const char *args[] = { "-machine", "q35,accel=tcg", "-m", "1G", "-nodefaults",
                           "-display", "none", "-S", "-device", "pc-dimm,id=d0", NULL };
    g_autoptr(GError) err = NULL;
    g_autofree char *output = NULL;
    int status = 0;

    if (!spm_test_qemu_available()) {
        g_test_skip(SPM_TEST_QEMU_BINARY " not installed");
        return;
    }
    g_assert_true(spm_test_qemu_run_to_exit(args, &status, &output, &err));
    g_assert_no_error(err);
    g_assert_cmpint(status, ==, 1);
    g_assert_nonnull(strstr(output, "please specify the 'slots' option"));
}

static const char mtree_text[] =
    "address-space: memory\n"
    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
    "    0000000000000000-000000007fffffff (prio 0, ram): alias ram-below-4g @pc.ram 0000000000000000-000000007fffffff\n"
    "    0000000100000000-000000013fffffff (prio 0, ram): alias ram-above-4g @pc.ram 0000000080000000-00000000bfffffff\n"
    "    0000000140000000-000000033fffffff (prio 0, i/o): device-memory\n"
    "address-space: cpu-memory-0\n"
    "    0000000140000000-000000033fffffff (prio 0, i/o): device-memory\n";

static void
test_mtree_parse(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *disagree = NULL;
    guint64 start = 0, end = 0;

    g_assert_true(spm_test_mtree_device_memory(mtree_text, &start, &end, &err));
    g_assert_cmphex(start, ==, G_GUINT64_CONSTANT(0x140000000));
    g_assert_cmphex(end, ==, G_GUINT64_CONSTANT(0x33fffffff));
    g_assert_true(spm_test_mtree_alias(mtree_text, "ram-above-4g", &start, &end, &err));
    g_assert_cmphex(start, ==, G_GUINT64_CONSTANT(0x100000000));
    g_assert_cmphex(end, ==, G_GUINT64_CONSTANT(0x13fffffff));

    /* "device-memory" must be the whole description, not a prefix */
    g_assert_false(spm_test_mtree_device_memory("  0-1 (prio 0, i/o): device-memory-x\n",
                                                &start, &end, &err));
    g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
    g_clear_error(&err);

    /* two address spaces that disagree */
    disagree = g_strconcat(mtree_text,
                           "    0000000140000000-000000023fffffff (prio 0, i/o): device-memory\n",
                           NULL);
    g_assert_false(spm_test_mtree_device_memory(disagree, &start, &end, &err));
    g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "0x23fffffff"));
}

static void
test_conf_append(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("spm-conf-XXXXXX", &err);
    g_autofree char *path = g_build_filename(dir, "qemu.conf", NULL);
    g_autofree char *text = NULL;
    gboolean appended = FALSE;

    g_assert_no_error(err);
    g_file_set_contents(path, "# user = \"qemu\"\nuser = \"root\"\nsecurity_driver=\"none\"", -1, &err);
    g_assert_no_error(err);
    g_assert_true(spm_test_libvirt_ensure_conf(path, &appended, &err));
    g_assert_true(appended);
    g_file_get_contents(path, &text, NULL, &err);
    g_assert_cmpstr(text, ==, "# user = \"qemu\"\nuser = \"root\"\nsecurity_driver=\"none\"\n"
                    "stdio_handler = \"file\"\ncgroup_controllers = [ ]\ngroup = \"root\"\n");

    /* complete now: nothing more */
    g_assert_true(spm_test_libvirt_ensure_conf(path, &appended, &err));
    g_assert_false(appended);

    /* someone else's value is not overwritten */
    g_file_set_contents(path, "group = \"kvm\"\n", -1, &err);
    g_assert_false(spm_test_libvirt_ensure_conf(path, &appended, &err));
    g_assert_error(err, SPM_ERROR, SPM_ERROR_SYSTEM);
    g_assert_nonnull(strstr(err->message, "group"));
    g_clear_error(&err);

    g_unlink(path);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/harness/qemu/start-failure", test_start_failure);
    g_test_add_func("/harness/qemu/qmp-error-and-hmp", test_qmp_error_and_hmp);
    g_test_add_func("/harness/qemu/run-to-exit", test_run_to_exit);
    g_test_add_func("/harness/mtree-parse", test_mtree_parse);
    g_test_add_func("/harness/libvirt/conf-append", test_conf_append);
    return g_test_run();
}
