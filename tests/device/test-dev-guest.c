/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-dev-guest: the guest-view check of the real-device tier on what
 * real guests printed (the *.guest.txt files of tests/fixtures/qemu-spm), so it runs
 * everywhere and is shown to fail on a wrong plan: an address moved, a
 * guard gap missing (two devices merged), a firmware that drops Soft
 * Reserved.
 */
#include <string.h>

#include "spm-error.h"
#include "dev-guest.h"

#define GiB (G_GUINT64_CONSTANT(1) << 30)
#define MiB (G_GUINT64_CONSTANT(1) << 20)

static DevGuestView *
load(const char *name)
{
    g_autofree char *file = g_strconcat(name, ".guest.txt", NULL);
    g_autofree char *path = g_build_filename(g_getenv("SPM_FIXTURES_DIR"), file, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    DevGuestView *view;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_true(dev_guest_view_complete(text));
    view = dev_guest_view_parse(text, &err);
    g_assert_no_error(err);
    return view;
}

static GPtrArray *
expect(guint n, const DevExpect *devs)
{
    GPtrArray *list = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < n; i++)
        g_ptr_array_add(list, g_memdup2(&devs[i], sizeof(devs[i])));
    return list;
}

static void
assert_mismatch(const DevGuestView *view, GPtrArray *e, const char *needle)
{
    g_autoptr(GError) err = NULL;

    g_assert_false(dev_guest_check(view, e, &err));
    g_assert_error(err, SPM_ERROR, SPM_ERROR_MISMATCH);
    g_test_message("%s", err->message);
    g_assert_nonnull(strstr(err->message, needle));
}

static void
test_single(void)
{
    g_autoptr(DevGuestView) view = load("single-natural");
    const DevExpect devs[] = { { (char *)"dev0", 0x100000000, GiB, 1 } };
    g_autoptr(GPtrArray) e = expect(1, devs);
    g_autoptr(GError) err = NULL;

    g_assert_cmpuint(view->soft_reserved->len, ==, 1);
    g_assert_true(dev_guest_check(view, e, &err));
    g_assert_no_error(err);
}

/* the planned shape: a gap between the devices, one range each */
static void
test_gap(void)
{
    g_autoptr(DevGuestView) view = load("two-gap");
    DevExpect devs[] = { { (char *)"dev0", 0x100000000, GiB, 1 },
                         { (char *)"dev1", 0x180000000, GiB, 2 } };
    g_autoptr(GPtrArray) e = expect(2, devs);
    g_autoptr(GPtrArray) moved = NULL;
    g_autoptr(GPtrArray) wrong_node = NULL;
    g_autoptr(GError) err = NULL;

    g_assert_true(dev_guest_check(view, e, &err));
    g_assert_no_error(err);

    /* a plan with an altered address */
    devs[1].addr += 2 * MiB;
    moved = expect(2, devs);
    assert_mismatch(view, moved, "'dev1'");
    devs[1].addr -= 2 * MiB;

    /* a plan with another node */
    devs[0].node = 3;
    wrong_node = expect(2, devs);
    assert_mismatch(view, wrong_node, "'dev0': SRAT PXM 1, planned node 3");
}

/* no guard gap: QEMU packs the devices, the guest merges them */
static void
test_tight_merges(void)
{
    g_autoptr(DevGuestView) view = load("two-tight");
    const DevExpect devs[] = { { (char *)"dev0", 0x100000000, GiB, 1 },
                               { (char *)"dev1", 0x140000000, 2 * GiB, 2 } };
    g_autoptr(GPtrArray) e = expect(2, devs);

    assert_mismatch(view, e, "merged with a neighbour");
    assert_mismatch(view, e, "1 Soft Reserved ranges for 2 SPM devices");
}

/* SeaBIOS: the SRAT is there, the Soft Reserved ranges are not */
static void
test_seabios(void)
{
    g_autoptr(DevGuestView) view = load("two-tight.seabios");
    const DevExpect devs[] = { { (char *)"dev0", 0x100000000, GiB, 1 },
                               { (char *)"dev1", 0x140000000, 2 * GiB, 2 } };
    g_autoptr(GPtrArray) e = expect(2, devs);
    g_autoptr(DevGuestView) ovmf = load("two-gap");
    const DevExpect gap[] = { { (char *)"dev0", 0x100000000, GiB, 1 },
                              { (char *)"dev1", 0x180000000, GiB, 2 } };
    g_autoptr(GPtrArray) e_gap = expect(2, gap);
    g_autoptr(GError) err = NULL;

    g_assert_true(dev_guest_check_no_soft_reserved(view, e, &err));
    g_assert_no_error(err);
    assert_mismatch(view, e, "0 Soft Reserved ranges");
    /* and the SeaBIOS check fails on a guest that has them */
    g_assert_false(dev_guest_check_no_soft_reserved(ovmf, e_gap, &err));
    g_assert_nonnull(strstr(err->message, "although the firmware drops them"));
}

static void
test_incomplete(void)
{
    g_autoptr(GError) err = NULL;

    g_assert_false(dev_guest_view_complete("BdsDxe: loading\n=== IOMEM\n00000000-00000fff : Reserved\n"));
    g_assert_null(dev_guest_view_parse("=== IOMEM\n", &err));
    g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dev-guest/single", test_single);
    g_test_add_func("/dev-guest/gap", test_gap);
    g_test_add_func("/dev-guest/tight-merges", test_tight_merges);
    g_test_add_func("/dev-guest/seabios", test_seabios);
    g_test_add_func("/dev-guest/incomplete", test_incomplete);
    return g_test_run();
}
