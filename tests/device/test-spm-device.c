/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-spm-device.c: the real-device tier, on either revision of the SPM
 * device (docs/testing.md):
 *
 *   test-spm-device MODE [spm-memory]   the v8 spm-memory patch: a QEMU
 *       10.2.2 with it, OVMF edk2-2026.08 and a Linux 6.1 test guest, all
 *       built by scripts/build-spm-qemu.sh into $SPM_QEMU_DIR; the host's
 *       libvirt 9.0 (qemu:///system); fixtures tests/fixtures/qemu-spm
 *       ($SPM_FIXTURES_DIR).
 *   test-spm-device MODE sp-mem         QEMU 11.1.3's sp-mem: the Debian
 *       sid root of scripts/setup-sid-root.sh ($SPM_SID_ROOT): its QEMU
 *       (run on the host by ROOT/bin/qemu-system-x86_64-sid), its OVMF
 *       2026.08 and its libvirt 12.8 (scripts/sid-libvirtd.sh); the test
 *       guest of $SPM_QEMU_DIR/guest; fixtures tests/fixtures/qemu-spmem.
 *
 * The cases are the same for both; only what they run on differs.
 *
 *   test-spm-device qemu      (needs only the QEMU)
 *     /spm-device/fixture/NAME   every fixture of the revision's directory,
 *         run again: the same query-memory-devices reply and device-memory
 *         lines of `info mtree`, or the same error, so no fixture drifts
 *         from the device;
 *     /spm-device/self/no-guard-gap   a wrong plan (the second SPM device
 *         moved to where the first ends) booted: the guest merges the two
 *         and the guest-view check says so.
 *
 *   test-spm-device libvirt   (needs root and libvirt as well)
 *     virt-spm's hook is installed in the revision's libvirtd and
 *     virt-spmd runs for the whole program;
 *     /spm-device/libvirt/NAME   generated domains converted, defined and
 *         started on the device's QEMU (the hook's positive path):
 *         query-memory-devices and `info mtree` equal the plan;
 *     /spm-device/guest/NAME     generated domains booted (OVMF or SeaBIOS,
 *         kernel + initrd, serial console to a file): the guest's
 *         /proc/iomem and SRAT against the plan;
 *     /spm-device/audit          virt-spm audit through virt-spmd: match on
 *         a correct guest, a mismatch naming the device moved behind
 *         virt-spm's back.
 *
 * Exit 77 (skipped) with a one-line reason when what a mode needs is not
 * there.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <libvirt/libvirt-qemu.h>

#include "spm-convert.h"
#include "spm-device-rev.h"
#include "spm-domain-parse.h"
#include "spm-error.h"
#include "spm-plan.h"
#include "spm-xml.h"
#include "spm-test-libvirt.h"
#include "spm-test-qemu.h"
#include "spm-test-sid-root.h"
#include "rq-args.h"
#include "rq-compare.h"
#include "rq-domain.h"
#include "dev-guest.h"

#define MiB RQ_MiB
#define GiB RQ_GiB

/* The firmware scripts/build-spm-qemu.sh fetches (docs/guest-view.md). */
#define DEV_OVMF_VERSION "edk2-2026.08"
#define DEV_GUEST_CMDLINE "console=ttyS0 panic=-1"
/* A TCG boot takes 7-10 s alone; the machine is shared. */
#define DEV_BOOT_TIMEOUT_S 300

#define SPM(sz, nd, ...) { .kind = RQ_DEV_SPM, .size = (sz), .node = (nd), __VA_ARGS__ }

/*
 * Started paused through libvirt 9.0: no DIMMs of libvirt's own (9.0 fails
 * a start that mixes them with spm-memory, and the planner refuses that).
 * Nothing is allocated while paused, so RAM may be large.
 */
static const RqDomain dev_paused[] = {
    { .name = "q35-512m-two", .cells = { 512 * MiB },
      .devs = { SPM(128 * MiB, 1, .alias = "ua-hbm0"), SPM(256 * MiB, 2) } },
    /* 0xB0000000 of RAM: q35 keeps 2 GiB below 4G, the rest above */
    { .name = "q35-2816m-fixed", .cells = { 2816 * MiB },
      .devs = { SPM(GiB, 1, .base = 0x200000000, .alias = "ua-fixed"), SPM(512 * MiB, 2) } },
    { .name = "q35-4g-cells-memfd", .cells = { 2 * GiB, 2 * GiB }, .memfd = TRUE,
      .max_memory = 16 * GiB, .slots = 2,
      .devs = { SPM(GiB, 2), SPM(256 * MiB, 3, .alias = "ua-b"), SPM(512 * MiB, 4) } },
    { .name = "q35-1g-no-numa-file", .memory = GiB,
      .devs = { SPM(256 * MiB, 1, .file = TRUE), SPM(128 * MiB, 2) } },
    { .name = "pc-512m-file", .i440fx = TRUE, .cells = { 512 * MiB },
      .devs = { SPM(128 * MiB, 1, .file = TRUE, .alias = "ua-file") } },
    /* i440fx: 3 GiB below 4G, 512 MiB above */
    { .name = "pc-3584m-fixed", .i440fx = TRUE, .cells = { 3584 * MiB },
      .devs = { SPM(512 * MiB, 1), SPM(GiB, 2, .base = 0x300000000, .alias = "ua-fixed") } },
};

/* Booted: small, since the guest touches its RAM. */
typedef struct {
    RqDomain d;
    gboolean seabios;           /* no <loader>: SeaBIOS drops Soft Reserved */
} DevGuest;

static const DevGuest dev_guests[] = {
    { { .name = "q35-ovmf-memfd", .cells = { 512 * MiB }, .memfd = TRUE,
        .devs = { SPM(64 * MiB, 1, .alias = "ua-hbm0"),
                  SPM(128 * MiB, 2, .base = 0x180000000, .alias = "ua-hbm1") } } },
    { { .name = "pc-ovmf-file", .i440fx = TRUE, .cells = { 256 * MiB, 256 * MiB },
        .devs = { SPM(64 * MiB, 2, .file = TRUE, .alias = "ua-file"), SPM(32 * MiB, 3) } } },
    { { .name = "q35-seabios", .cells = { 256 * MiB },
        .devs = { SPM(64 * MiB, 1, .alias = "ua-hbm0") } }, TRUE },
};

/* ---- what the tier runs on --------------------------------------------- */

/* One revision of the SPM device and the stack its tier runs on. */
typedef struct {
    SpmDeviceRev device;        /* what the plans are made for */
    const char *fixtures;       /* tests/fixtures/NAME, recorded on that QEMU */
    guint libvirt_version;      /* of the libvirtd the libvirt mode uses */
    /* Why the tier cannot run here, or NULL; fills in the paths below. */
    char *(*find)(void);
} DevRev;

static const DevRev *dev_rev;
static char *dev_qemu;          /* the binary the qemu mode runs (host paths) */
static char *dev_ovmf;          /* host paths of the firmware and the test guest */
static char *dev_kernel;
static char *dev_initrd;
static char *dev_tmpdir;        /* host path; inside dev_root when there is one */
/*
 * The root the libvirtd of the libvirt mode runs in ("" for the host's):
 * it resolves every path of a domain and of its hooks there.
 */
static char *dev_root;
static char *dev_emulator;      /* <emulator>, as that libvirtd sees it */
static char *dev_ovmf_domain;   /* <loader>, likewise */
static char *dev_uri;           /* that libvirtd's URI, once the libvirt mode set it up */

/* @path (under dev_root) as the libvirtd of the libvirt mode sees it. */
static char *
dev_in_root(const char *path)
{
    return spm_test_sid_in_root(dev_root, path);
}

static gboolean
dev_guest_there(const char *guest_dir)
{
    dev_kernel = g_build_filename(guest_dir, "vmlinuz", NULL);
    dev_initrd = g_build_filename(guest_dir, "initrd.gz", NULL);
    return g_file_test(dev_kernel, G_FILE_TEST_IS_REGULAR) &&
           g_file_test(dev_initrd, G_FILE_TEST_IS_REGULAR);
}

/* v8: everything in $SPM_QEMU_DIR, run by the host's libvirt 9.0. */
static char *
dev_find_spm_memory(void)
{
    const char *dir = g_getenv("SPM_QEMU_DIR");
    g_autofree char *guest = NULL;

    if (!dir || !*dir)
        return g_strdup("SPM_QEMU_DIR is not set (scripts/build-spm-qemu.sh builds it)");
    dev_qemu = g_build_filename(dir, "qemu-10.2.2", "build", "qemu-system-x86_64", NULL);
    dev_ovmf = g_build_filename(dir, "fw", "usr", "share", "ovmf", "OVMF.fd", NULL);
    guest = g_build_filename(dir, "guest", NULL);
    if (!g_file_test(dev_qemu, G_FILE_TEST_IS_EXECUTABLE) ||
        !g_file_test(dev_ovmf, G_FILE_TEST_IS_REGULAR) || !dev_guest_there(guest))
        return g_strdup_printf("no complete spm-memory QEMU build in %s "
                               "(scripts/build-spm-qemu.sh builds it)", dir);
    dev_root = g_strdup("");
    dev_emulator = g_strdup(dev_qemu);
    dev_ovmf_domain = g_strdup(dev_ovmf);
    return NULL;
}

/*
 * 11.1: the sid root's QEMU, OVMF and libvirtd; only the test guest comes
 * from the v8 kit ($SPM_QEMU_DIR/guest: a Debian kernel and a busybox
 * initrd, nothing of the patch).
 */
static char *
dev_find_sp_mem(void)
{
    const char *root = g_getenv("SPM_SID_ROOT");
    const char *dir = g_getenv("SPM_QEMU_DIR");
    g_autofree char *guest = NULL;

    if (!root || !*root)
        return g_strdup("SPM_SID_ROOT is not set (scripts/setup-sid-root.sh makes the root)");
    dev_root = g_canonicalize_filename(root, NULL);
    dev_qemu = g_build_filename(dev_root, "bin", "qemu-system-x86_64-sid", NULL);
    dev_ovmf = g_build_filename(dev_root, "usr", "share", "ovmf", "OVMF.fd", NULL);
    if (!g_file_test(dev_qemu, G_FILE_TEST_IS_EXECUTABLE) ||
        !g_file_test(dev_ovmf, G_FILE_TEST_IS_REGULAR))
        return g_strdup_printf("no QEMU 11.1 and OVMF in the sid root %s "
                               "(scripts/setup-sid-root.sh)", dev_root);
    if (!dir || !*dir)
        return g_strdup("SPM_QEMU_DIR is not set: no test guest "
                        "(scripts/build-spm-qemu.sh makes SPM_QEMU_DIR/guest)");
    guest = g_build_filename(dir, "guest", NULL);
    if (!dev_guest_there(guest))
        return g_strdup_printf("no test guest in %s (scripts/build-spm-qemu.sh makes it)", guest);
    dev_emulator = g_strdup("/usr/bin/qemu-system-x86_64");
    dev_ovmf_domain = g_strdup("/usr/share/ovmf/OVMF.fd");
    return NULL;
}

static const DevRev dev_revs[] = {
    { SPM_DEVICE_SPM_MEMORY, "qemu-spm", 9000000, dev_find_spm_memory },
    { SPM_DEVICE_SP_MEM, "qemu-spmem", 12008000, dev_find_sp_mem },
};

/* Why the tier cannot run (no QEMU with the device), or NULL. */
static char *
dev_find_qemu(void)
{
    char *why = dev_rev->find();

    if (!why)
        spm_test_qemu_set_binary(dev_qemu);
    return why;
}

/* The revision's fixture directory: $SPM_FIXTURES_DIR for the v8 one, as before. */
static const char *
dev_fixtures_dir(void)
{
    static char *dir;

    if (!dir) {
        const char *env = g_getenv("SPM_FIXTURES_DIR");

        dir = dev_rev->device == SPM_DEVICE_SPM_MEMORY && env ? g_strdup(env)
            : g_build_filename(g_getenv("SPM_SOURCE_ROOT"), "tests", "fixtures",
                               dev_rev->fixtures, NULL);
    }
    return dir;
}

static void
dev_policy_init(SpmPlanPolicy *policy, const RqDomain *d)
{
    spm_plan_policy_init(policy);
    policy->device = dev_rev->device;
    policy->host.libvirt_version = dev_rev->libvirt_version;
    policy->host.firmware_version = g_strdup(DEV_OVMF_VERSION);
    if (d && d->spm_align)
        policy->spm_align = d->spm_align;
    if (d && d->guard_gap)
        policy->guard_gap = d->guard_gap;
}

static SpmPlan *
dev_plan(const RqDomain *d, const char *xml, SpmDomainDef **def_out, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(SpmDomainDef) def = NULL;
    g_auto(SpmPlanPolicy) policy = { 0 };
    SpmPlan *plan;

    if (!(doc = spm_xml_read_memory(xml, strlen(xml), "domain", error)) ||
        !(def = spm_domain_def_parse(doc, error)))
        return NULL;
    dev_policy_init(&policy, d);
    if ((plan = spm_plan_build(def, &policy, error)))
        *def_out = g_steal_pointer(&def);
    return plan;
}

static char *
dev_read(const char *path)
{
    char *text = NULL;

    return g_file_get_contents(path, &text, NULL, NULL) ? text : NULL;
}

/* ---- /spm-device/fixture ----------------------------------------------- */

static char *
dev_fixture_path(const char *name, const char *ext)
{
    g_autofree char *file = g_strconcat(name, ext, NULL);

    return g_build_filename(dev_fixtures_dir(), file, NULL);
}

static void
test_fixture(gconstpointer data)
{
    const char *name = data;
    g_autofree char *cmd_path = dev_fixture_path(name, ".cmd");
    g_autofree char *json_path = dev_fixture_path(name, ".json");
    g_autofree char *cmd = dev_read(cmd_path);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) words = NULL;
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_auto(GStrv) args = NULL;
    JsonObject *want;

    g_assert_nonnull(cmd);
    g_assert_true(json_parser_load_from_file(parser, json_path, &err));
    want = json_node_get_object(json_parser_get_root(parser));
    /* one argument per word, JSON without spaces: no shell quoting */
    words = g_strsplit_set(g_strstrip(cmd), " \t\n", -1);
    for (char **w = words; *w; w++) {
        if (**w)
            g_strv_builder_add(b, *w);
    }
    /* paused, no window, no default NIC (whose option ROM Debian may lack):
     * nothing that touches memory placement */
    g_strv_builder_add_many(b, "-S", "-display", "none", "-nodefaults", NULL);
    args = g_strv_builder_end(b);

    if (json_object_has_member(want, "error")) {
        const char *expected = json_object_get_string_member(want, "error");
        g_autofree char *output = NULL;
        int status = 0;

        g_assert_true(spm_test_qemu_run_to_exit((const char *const *)args, &status, &output, &err));
        g_assert_no_error(err);
        g_strstrip(output);
        g_test_message("QEMU exit %d: %s", status, output);
        g_assert_cmpint(status, !=, 0);
        /* QEMU prefixes its binary name; the fixture was recorded as qemu-system-x86_64 */
        g_assert_cmpstr(output, ==, expected);
    } else {
        g_autoptr(SpmTestQemu) qemu = spm_test_qemu_start((const char *const *)args, &err);
        g_autoptr(JsonNode) ret = NULL;
        g_autofree char *mtree = NULL;
        JsonNode *want_devs = json_object_get_member(want, "query-memory-devices");
        JsonArray *lines = json_object_get_array_member(want, "device-memory");

        g_assert_no_error(err);
        ret = spm_test_qemu_execute(qemu, "query-memory-devices", NULL, &err);
        g_assert_no_error(err);
        if (!json_node_equal(ret, want_devs)) {
            g_autofree char *got = json_to_string(ret, FALSE);
            g_autofree char *exp = json_to_string(want_devs, FALSE);

            g_test_fail_printf("query-memory-devices drifted:\nQEMU    %s\nfixture %s", got, exp);
        }
        mtree = spm_test_qemu_hmp(qemu, "info mtree", &err);
        g_assert_no_error(err);
        for (guint i = 0; i < json_array_get_length(lines); i++) {
            const char *line = json_array_get_string_element(lines, i);

            if (!strstr(mtree, line))
                g_test_fail_printf("info mtree lacks the fixture's line '%s'", line);
        }
    }
}

/* ---- booting a guest ---------------------------------------------------- */

/* Wait (polling with a deadline) until the console file holds the section. */
static char *
dev_wait_console(const char *path, guint timeout_s, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

    for (;;) {
        g_autofree char *text = dev_read(path);

        if (text && dev_guest_view_complete(text))
            return g_steal_pointer(&text);
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_TIMEOUT,
                        "the guest printed no complete view within %u s (%s): %s",
                        timeout_s, path, text ? text + MAX(0, (gssize)strlen(text) - 300) : "");
            return NULL;
        }
        g_usleep(200 * 1000);
    }
}

/*
 * /spm-device/self/no-guard-gap: plan two SPM devices, then move the
 * second one to where the first ends (a plan without a guard gap) and
 * boot it.  QEMU places them as told; the guest merges them into one Soft
 * Reserved range; the check must fail, and so must rq_check_spm_apart.
 */
static void
test_no_guard_gap(void)
{
    static const RqDomain d = { .name = "q35-no-gap", .cells = { 256 * MiB },
                                .spm_align = 2 * MiB,
                                .devs = { SPM(64 * MiB, 1, .alias = "ua-a"),
                                          SPM(64 * MiB, 2, .alias = "ua-b") } };
    g_autofree char *xml = rq_domain_xml(&d, d.name);
    g_autoptr(SpmDomainDef) def = NULL;
    g_autoptr(SpmPlan) plan = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_auto(GStrv) planned = NULL;
    g_auto(GStrv) args = NULL;
    g_autoptr(GPtrArray) expect = NULL;
    g_autoptr(DevGuestView) view = NULL;
    g_autofree char *serial = g_build_filename(dev_tmpdir, "no-gap.console", NULL);
    g_autofree char *serial_arg = g_strconcat("file:", serial, NULL);
    g_autofree char *output = NULL;
    g_autofree char *console = NULL;
    SpmPlannedDevice *a, *bdev;
    int status = 0;

    plan = dev_plan(&d, xml, &def, &err);
    g_assert_no_error(err);
    g_assert_true(rq_check_spm_apart(plan, &err));
    a = g_ptr_array_index(plan->devices, 0);
    bdev = g_ptr_array_index(plan->devices, 1);
    g_assert_cmpuint(a->addr + a->size, <, bdev->addr);   /* the planner leaves a gap */
    bdev->addr = a->addr + a->size;                        /* the wrong plan */
    g_assert_false(rq_check_spm_apart(plan, &err));
    g_assert_nonnull(strstr(err->message, "the guest merges them"));
    g_clear_error(&err);

    planned = rq_plan_args(&d, def, plan, &err);
    g_assert_no_error(err);
    for (char **w = planned; *w; w++) {
        if (!g_str_equal(*w, "-S"))
            g_strv_builder_add(b, *w);
    }
    g_strv_builder_add_many(b, "-bios", dev_ovmf, "-kernel", dev_kernel, "-initrd", dev_initrd,
                            "-append", DEV_GUEST_CMDLINE, "-serial", serial_arg,
                            "-no-reboot", NULL);
    args = g_strv_builder_end(b);
    g_assert_true(spm_test_qemu_run_to_exit_within((const char *const *)args, DEV_BOOT_TIMEOUT_S,
                                                   &status, &output, &err));
    g_assert_no_error(err);
    console = dev_read(serial);
    g_assert_nonnull(console);
    view = dev_guest_view_parse(console, &err);
    g_assert_no_error(err);
    g_test_message("%s", view->section);

    expect = dev_expect_from_plan(plan);
    g_assert_false(dev_guest_check(view, expect, &err));
    g_test_message("%s", err->message);
    g_assert_nonnull(strstr(err->message, "merged with a neighbour"));
    g_assert_nonnull(strstr(err->message, "1 Soft Reserved ranges for 2 SPM devices"));
}

/* ---- libvirt: hook, virt-spmd ------------------------------------------ */

static char *dev_src;           /* $SPM_SOURCE_ROOT */
static char *dev_build;         /* $SPM_BUILD_ROOT */
static char *dev_hook_name;
static char *dev_hook_log;      /* one line per hook call: NAME OP SUBOP */
static char *dev_config;
static char *dev_socket;
static char *dev_virt_spm;
static GSubprocess *dev_daemon;
static virConnectPtr dev_conn;

static int
dev_harness(const char *what, const char *name, const char *file)
{
    g_autofree char *script = g_build_filename(dev_src, "tests", "libvirt", "libvirtd-harness.sh",
                                               NULL);
    const char *argv[] = { script, what, name, file, NULL };
    g_autofree char *err_text = NULL;
    g_autoptr(GError) err = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err_text,
                      &status, &err)) {
        fprintf(stderr, "# %s: %s\n", script, err->message);
        return 1;
    }
    if (err_text && *err_text)
        fprintf(stderr, "# %s", err_text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/*
 * The build whose hook the libvirtd runs: this one for the host's daemon;
 * for a daemon in a root, the build made inside that root from the same
 * source (scripts/build-in-sid-root.sh), one per source tree, so that two
 * checkouts never share one and the plain and sanitizer builds of one
 * checkout do.  As the daemon sees it.
 */
static char *
dev_hook_build(void)
{
    return *dev_root ? spm_test_sid_hook_build(dev_src) : g_strdup(dev_build);
}

/* The hook as libvirt runs it, with this run's configuration and socket. */
static gboolean
dev_install_hook(void)
{
    g_autofree char *wrapper = g_build_filename(dev_tmpdir, "hook", NULL);
    g_autofree char *build = dev_hook_build();
    g_autofree char *front = g_build_filename(build, "hook", "virt-spm-qemu-hook", NULL);
    g_autofree char *helper = g_build_filename(build, "hook", "virt-spm-hook-helper", NULL);
    g_autofree char *cache = g_build_filename(dev_tmpdir, "cache", NULL);
    /* the paths the hook reads, as the daemon (and so the hook) sees them */
    g_autofree char *log_there = dev_in_root(dev_hook_log);
    g_autofree char *cache_there = dev_in_root(cache);
    g_autofree char *config_there = dev_in_root(dev_config);
    g_autofree char *socket_there = dev_in_root(dev_socket);
    g_autofree char *text = g_strdup_printf(
        "#!/bin/sh\n"
        "# virt-spm hook of test run %d (test-spm-device); removed by the test\n"
        "echo \"$1 $2 $3 $(date +%%s.%%N)\" >> '%s'\n"
        "VIRT_SPM_HOOK_HELPER='%s' VIRT_SPM_HOOK_CACHE_DIR='%s' VIRT_SPM_HOOK_CONFIG='%s' "
        "VIRT_SPM_CONTROL_SOCKET='%s' exec '%s' \"$@\"\n",
        (int)getpid(), log_there, helper, cache_there, config_there, socket_there, front);

    g_assert_true(g_file_set_contents(wrapper, text, -1, NULL));
    dev_hook_name = g_strdup_printf("virt-spm-test-dev-%d", (int)getpid());
    return dev_harness("install", dev_hook_name, wrapper) == 0;
}

/*
 * A libvirtd in a root (the sid root's libvirt 12.8): up (idempotent), the
 * hook built inside the root, the harness pointed at that daemon (its URI,
 * hook directory, pid file and how it starts: docs/testing.md), the test
 * guest copied where the daemon sees it.  Returns a skip reason, an error
 * (*failed), or NULL when ready.
 */
static char *
dev_root_setup(gboolean *failed)
{
    const char *guest[] = { dev_kernel, dev_initrd };
    char *why = spm_test_sid_root_setup(dev_src, dev_root, failed);

    if (why)
        return why;
    for (guint i = 0; i < G_N_ELEMENTS(guest); i++) {
        g_autofree char *base = g_path_get_basename(guest[i]);
        g_autofree char *copy = g_build_filename(dev_tmpdir, base, NULL);
        g_autoptr(GFile) from = g_file_new_for_path(guest[i]);
        g_autoptr(GFile) to = g_file_new_for_path(copy);
        g_autoptr(GError) err = NULL;

        if (!g_file_copy(from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &err)) {
            *failed = TRUE;
            return g_strdup_printf("%s: %s", copy, err->message);
        }
    }
    return NULL;
}

/* The test guest's kernel or initrd as the libvirtd sees it (a copy in the run's directory). */
static char *
dev_guest_file(const char *host_path)
{
    g_autofree char *base = NULL;
    g_autofree char *copy = NULL;

    if (!*dev_root)
        return g_strdup(host_path);
    base = g_path_get_basename(host_path);
    copy = g_build_filename(dev_tmpdir, base, NULL);
    return dev_in_root(copy);
}

static gboolean
dev_start_daemon(GError **error)
{
    g_autofree char *spmd = g_build_filename(dev_build, "daemon", "virt-spmd", NULL);
    g_autofree char *state = g_build_filename(dev_tmpdir, "state", NULL);
    g_autofree char *log = g_build_filename(dev_tmpdir, "virt-spmd.log", NULL);
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

    g_subprocess_launcher_set_stdout_file_path(l, log);
    dev_daemon = g_subprocess_launcher_spawn(l, error, spmd, "--config", dev_config, "--connect",
                                             dev_uri, "--state-dir", state,
                                             "--socket", dev_socket, NULL);
    if (!dev_daemon)
        return FALSE;
    while (!g_file_test(dev_socket, G_FILE_TEST_EXISTS)) {
        /* (a daemon that exits early leaves no socket either: its log says why) */
        if (g_get_monotonic_time() > deadline) {
            g_autofree char *text = dev_read(log);

            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "virt-spmd did not start: %s",
                        text ? text : "");
            return FALSE;
        }
        g_usleep(20 * 1000);
    }
    return TRUE;
}

/* The shared connection, opened again when another test restarted libvirtd. */
static virConnectPtr
dev_libvirt(void)
{
    g_autoptr(GError) err = NULL;

    if (dev_conn && virConnectIsAlive(dev_conn) != 1)
        g_clear_pointer(&dev_conn, virConnectClose);
    if (!dev_conn && !(dev_conn = spm_test_libvirt_connect(&err)))
        g_error("libvirtd: %s", err->message);
    return dev_conn;
}

/* "dev-RUN-WHAT": RUN is the parent's pid, shared by its case processes. */
static char *
dev_domain_name(const char *what)
{
    return g_strdup_printf("dev-%s-%s", g_getenv("SPM_DEVICE_TEST_RUN"), what);
}

typedef struct {
    char *name;
} DevGuard;

static void
dev_guard_free(DevGuard *g)
{
    if (dev_conn)
        spm_test_libvirt_remove_domain(dev_conn, g->name);
    g_free(g->name);
    g_free(g);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DevGuard, dev_guard_free)

static DevGuard *
dev_guard_new(const char *what)
{
    DevGuard *g = g_new0(DevGuard, 1);

    g->name = dev_domain_name(what);
    spm_test_libvirt_remove_domain(dev_libvirt(), g->name);
    return g;
}

/* Convert the generated domain as `virt-spm define` does; the plan borrows *def. */
static char *
dev_convert(const RqDomain *d, const char *name, const RqHost *host, SpmPlan **plan,
            SpmDomainDef **def)
{
    g_autofree char *xml = rq_domain_xml_on(d, name, host);
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(GError) err = NULL;
    g_auto(SpmPlanPolicy) policy = { 0 };

    doc = spm_xml_read_memory(xml, strlen(xml), name, &err);
    g_assert_no_error(err);
    dev_policy_init(&policy, d);
    if (!spm_convert_forward(doc, &policy, plan, def, &err))
        g_error("convert %s: %s\n%s", name, err->message, xml);
    return spm_xml_format(doc);
}

/*
 * Define and start @xml.  A hook of another test (they refuse domains they
 * did not make) or a libvirtd restarted by another test: try again, with
 * a deadline.
 */
static virDomainPtr
dev_define_start(const char *name, const char *xml, unsigned int flags)
{
    gint64 deadline = g_get_monotonic_time() + 180 * G_USEC_PER_SEC;

    for (;;) {
        virConnectPtr conn = dev_libvirt();
        g_autoptr(virDomain) dom = virDomainDefineXMLFlags(conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
        g_autofree char *why = NULL;

        if (dom && virDomainCreateWithFlags(dom, flags) == 0)
            return g_steal_pointer(&dom);
        why = g_strdup(spm_test_libvirt_last_error());
        if (virConnectIsAlive(conn) == 1 && !strstr(why, "/hooks/qemu.d/virt-spm-test-") &&
            !strstr(why, "Cannot recv data") && !strstr(why, "End of file"))
            g_error("%s %s: %s\n%s", dom ? "start" : "define", name, why, xml);
        if (g_get_monotonic_time() > deadline)
            g_error("libvirtd stayed disturbed by another test: %s", why);
        fprintf(stderr, "# shared libvirtd disturbed (%s): once more\n", why);
        spm_test_libvirt_remove_domain(conn, name);
        g_usleep(500 * 1000);
    }
}

/* The hook saw the start of @name (its positive path ran). */
static void
dev_assert_hook_ran(const char *name)
{
    g_autofree char *log = dev_read(dev_hook_log);
    g_autofree char *line = g_strdup_printf("%s prepare begin ", name);

    g_assert_nonnull(log);
    if (!strstr(log, line))
        g_test_fail_printf("the hook was not run for '%s': %s", name, log);
}

static JsonNode *
dev_qmp(virDomainPtr dom, const char *command)
{
    g_autofree char *reply = NULL;
    g_autoptr(GError) err = NULL;
    JsonNode *ret;

    if (virDomainQemuMonitorCommand(dom, command, &reply, 0) < 0)
        g_error("%s: %s", command, spm_test_libvirt_last_error());
    ret = rq_qmp_return(reply, &err);
    g_assert_no_error(err);
    return ret;
}

/* ---- /spm-device/libvirt ----------------------------------------------- */

static void
test_libvirt(gconstpointer data)
{
    const RqDomain *d = data;
    g_autoptr(DevGuard) g = dev_guard_new(d->name);
    g_autofree char *file_dir = dev_in_root(dev_tmpdir);
    RqHost host = { .emulator = dev_emulator, .file_dir = file_dir };
    g_autoptr(SpmPlan) plan = NULL;
    g_autoptr(SpmDomainDef) def = NULL;
    g_autofree char *xml = dev_convert(d, g->name, &host, &plan, &def);
    g_autofree char *described = rq_plan_describe(plan);
    g_autoptr(virDomain) dom = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autofree char *mtree = NULL;
    g_autoptr(GError) err = NULL;

    g_test_message("plan: %s", described);
    dom = dev_define_start(g->name, xml, VIR_DOMAIN_START_PAUSED);
    dev_assert_hook_ran(g->name);
    ret = dev_qmp(dom, "{\"execute\":\"query-memory-devices\"}");
    if (!rq_compare_devices(ret, plan, &err))
        g_test_fail_printf("%s\nplan: %s", err->message, described);
    g_clear_error(&err);
    if (!rq_check_spm_apart(plan, &err))
        g_test_fail_printf("%s", err->message);
    g_clear_error(&err);
    if (virDomainQemuMonitorCommand(dom, "info mtree", &mtree,
                                    VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP) < 0)
        g_error("info mtree: %s", spm_test_libvirt_last_error());
    if (!rq_compare_mtree(mtree, plan, &err))
        g_test_fail_printf("%s\nplan: %s", err->message, described);
    g_clear_error(&err);

    /* a wrong plan: an address moved by one alignment unit */
    {
        SpmPlannedDevice *pd = g_ptr_array_index(plan->devices, 0);

        pd->addr += 2 * MiB;
        g_assert_false(rq_compare_devices(ret, plan, &err));
        g_assert_nonnull(strstr(err->message, pd->id));
        g_assert_nonnull(strstr(err->message, "QEMU addr"));
        pd->addr -= 2 * MiB;
    }
}

/* ---- /spm-device/guest ------------------------------------------------- */

static void
test_guest(gconstpointer data)
{
    const DevGuest *t = data;
    g_autoptr(DevGuard) g = dev_guard_new(t->d.name);
    g_autofree char *serial = g_strdup_printf("%s/%s.console", dev_tmpdir, t->d.name);
    g_autofree char *serial_there = dev_in_root(serial);
    g_autofree char *file_dir = dev_in_root(dev_tmpdir);
    g_autofree char *kernel = dev_guest_file(dev_kernel);
    g_autofree char *initrd = dev_guest_file(dev_initrd);
    RqHost host = { .emulator = dev_emulator, .loader = t->seabios ? NULL : dev_ovmf_domain,
                    .kernel = kernel, .initrd = initrd, .cmdline = DEV_GUEST_CMDLINE,
                    .serial = serial_there, .file_dir = file_dir };
    g_autoptr(SpmPlan) plan = NULL;
    g_autoptr(SpmDomainDef) def = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(virDomain) dom = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *console = NULL;
    g_autoptr(DevGuestView) view = NULL;
    g_autoptr(GPtrArray) expect = NULL;
    gboolean warned = FALSE;
    gint64 t0;

    g_unlink(serial);
    xml = dev_convert(&t->d, g->name, &host, &plan, &def);
    for (guint i = 0; plan->warnings && i < plan->warnings->len; i++) {
        const char *w = g_ptr_array_index(plan->warnings, i);

        g_test_message("plan warning: %s", w);
        if (strstr(w, "SeaBIOS drops Soft Reserved"))
            warned = TRUE;
    }
    /* the plan warns exactly when the firmware drops Soft Reserved */
    g_assert_cmpint(warned, ==, t->seabios);

    t0 = g_get_monotonic_time();
    dom = dev_define_start(g->name, xml, 0);
    dev_assert_hook_ran(g->name);
    if (!(console = dev_wait_console(serial, DEV_BOOT_TIMEOUT_S, &err)))
        g_error("%s", err->message);
    fprintf(stderr, "# %s booted and reported in %.1f s\n", g->name,
            (g_get_monotonic_time() - t0) / 1e6);
    view = dev_guest_view_parse(console, &err);
    g_assert_no_error(err);
    g_test_message("%s", view->section);
    expect = dev_expect_from_plan(plan);
    g_assert_cmpuint(expect->len, >=, 1);

    if (t->seabios) {
        /* the warning comes true: SRAT entries, no Soft Reserved range */
        if (!dev_guest_check_no_soft_reserved(view, expect, &err))
            g_test_fail_printf("%s", err->message);
        return;
    }
    if (!dev_guest_check(view, expect, &err)) {
        g_autofree char *described = rq_plan_describe(plan);

        g_test_fail_printf("%s\nplan: %s", err->message, described);
        return;
    }
    /* a wrong plan (an address moved) fails on the same guest */
    {
        DevExpect *e = g_ptr_array_index(expect, expect->len - 1);

        e->addr += 2 * MiB;
        g_assert_false(dev_guest_check(view, expect, &err));
        g_assert_nonnull(strstr(err->message, e->id));
    }
}

/* ---- /spm-device/audit ------------------------------------------------- */

static int
dev_audit(const char *name, char **out)
{
    const char *argv[] = { dev_virt_spm, "audit", name, NULL };
    g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "VIRT_SPM_CONTROL_SOCKET", dev_socket,
                                         TRUE);
    g_autofree char *err_text = NULL;
    g_autoptr(GError) err = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_DEFAULT, NULL, NULL, out, &err_text,
                      &status, &err))
        g_error("%s: %s", dev_virt_spm, err->message);
    g_test_message("virt-spm audit %s: %s%s", name, *out, err_text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Move the SPM device @id behind virt-spm's back: "-set device.ID.addr="
 * appended to <qemu:commandline>, leaving the generated arguments as they
 * are (so the hook's staleness check lets it start), as an
 * administrator's stray edit would.
 */
static char *
dev_move_device(const char *xml, const char *id, guint64 addr)
{
    g_autofree char *extra = g_strdup_printf(
        "<qemu:arg value=\"-set\"/><qemu:arg value=\"device.%s.addr=0x%" G_GINT64_MODIFIER "x\"/>"
        "</qemu:commandline>", id, addr);
    const char *end = strstr(xml, "</qemu:commandline>");

    g_assert_nonnull(end);
    return g_strdup_printf("%.*s%s%s", (int)(end - xml), xml, extra,
                           end + strlen("</qemu:commandline>"));
}

static void
test_audit(void)
{
    const RqDomain *d = &dev_paused[0];
    g_autofree char *file_dir = dev_in_root(dev_tmpdir);
    RqHost host = { .emulator = dev_emulator, .file_dir = file_dir };
    g_autoptr(DevGuard) good = dev_guard_new("audit-good");
    g_autoptr(DevGuard) bad = dev_guard_new("audit-moved");
    g_autoptr(SpmPlan) plan = NULL;
    g_autoptr(SpmDomainDef) def = NULL;
    g_autoptr(SpmPlan) plan2 = NULL;
    g_autoptr(SpmDomainDef) def2 = NULL;
    g_autofree char *good_xml = dev_convert(d, good->name, &host, &plan, &def);
    g_autofree char *bad_xml = NULL;
    g_autofree char *converted = dev_convert(d, bad->name, &host, &plan2, &def2);
    g_autoptr(virDomain) dom_good = NULL;
    g_autoptr(virDomain) dom_bad = NULL;
    g_autofree char *out = NULL;
    g_autofree char *out2 = NULL;
    g_autofree char *want = NULL;
    const SpmPlannedDevice *pd = spm_plan_find_device(plan2, "ua-hbm0");
    guint64 moved;

    g_assert_nonnull(pd);
    /* still inside the planned guard gap: QEMU accepts it, the plan does not */
    moved = pd->addr + pd->size;
    bad_xml = dev_move_device(converted, "ua-hbm0", moved);
    dom_good = dev_define_start(good->name, good_xml, VIR_DOMAIN_START_PAUSED);
    dom_bad = dev_define_start(bad->name, bad_xml, VIR_DOMAIN_START_PAUSED);

    g_assert_cmpint(dev_audit(good->name, &out), ==, 0);
    g_assert_nonnull(strstr(out, "match"));
    g_assert_cmpint(dev_audit(bad->name, &out2), ==, 1);
    want = g_strdup_printf("device 'ua-hbm0': addr expected 0x%" G_GINT64_MODIFIER "x, actual 0x%"
                           G_GINT64_MODIFIER "x", pd->addr, moved);
    if (!strstr(out2, want))
        g_test_fail_printf("virt-spm audit said '%s', expected '%s'", out2, want);
}

/* ---- main -------------------------------------------------------------- */

/*
 * Each libvirt case runs in a child process: a case that fails or crashes
 * cannot skip the tear-down (the hook must not stay installed).  The
 * children find the run's directory in SPM_DEVICE_TEST_DIR.
 */
typedef struct {
    GTestDataFunc func;
    gconstpointer data;
} DevCase;

static void
dev_run_case(gconstpointer data)
{
    const DevCase *c = data;
    gint64 t0 = g_get_monotonic_time();

    if (g_test_subprocess()) {
        c->func(c->data);
        return;
    }
    g_test_trap_subprocess(NULL, (DEV_BOOT_TIMEOUT_S + 120) * G_USEC_PER_SEC,
                           G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
    /* the tier's cost, case by case (docs/testing.md) */
    printf("# %s: %.1f s\n", g_test_get_path(), (g_get_monotonic_time() - t0) / 1e6);
    g_test_trap_assert_passed();
}

/* Static, not allocated: a case process ends in exit() with the suite still alive. */
static DevCase dev_cases[G_N_ELEMENTS(dev_paused) + G_N_ELEMENTS(dev_guests) + 1];
static guint dev_ncases;

static void
dev_add_case(const char *path, GTestDataFunc func, gconstpointer data)
{
    DevCase *c = &dev_cases[dev_ncases++];

    g_assert_cmpuint(dev_ncases, <=, G_N_ELEMENTS(dev_cases));
    c->func = func;
    c->data = data;
    g_test_add_data_func(path, c, dev_run_case);
}

static void
test_audit_case(gconstpointer data)
{
    test_audit();
}

static int
dev_skip(const char *why)
{
    printf("1..0 # SKIP %s\n", why);
    return 77;
}

static int
dev_cmp_names(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static void
dev_add_fixtures(void)
{
    g_autoptr(GDir) dir = g_dir_open(dev_fixtures_dir(), 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *n;

    g_assert_nonnull(dir);
    while ((n = g_dir_read_name(dir))) {
        if (g_str_has_suffix(n, ".cmd"))
            g_ptr_array_add(names, g_strndup(n, strlen(n) - 4));
    }
    g_assert_cmpuint(names->len, >=, 19);
    g_ptr_array_sort(names, dev_cmp_names);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_strdup_printf("/spm-device/fixture/%s",
                                                (char *)names->pdata[i]);

        g_test_add_data_func_full(path, g_strdup(names->pdata[i]), test_fixture, g_free);
    }
}

static int
dev_run_libvirt(void)
{
    g_autofree char *skip = spm_test_libvirt_skip_reason();
    g_autoptr(GError) err = NULL;
    gint64 t0;
    int lock, rc;

    if (skip)
        return dev_skip(skip);
    dev_src = g_strdup(g_getenv("SPM_SOURCE_ROOT"));
    dev_build = g_strdup(g_getenv("SPM_BUILD_ROOT"));
    dev_virt_spm = g_build_filename(dev_build, "cli", "virt-spm", NULL);
    dev_hook_log = g_build_filename(dev_tmpdir, "hook.log", NULL);
    dev_config = g_build_filename(dev_tmpdir, "virt-spm.conf", NULL);
    dev_socket = g_build_filename(dev_tmpdir, "control.sock", NULL);
    if (*dev_root && !g_test_subprocess()) {
        gboolean failed;
        g_autofree char *why = dev_root_setup(&failed);

        if (why && failed) {
            fprintf(stderr, "%s\n", why);
            return 1;
        }
        if (why)
            return dev_skip(why);
    }
    dev_uri = g_strdup(spm_test_libvirt_uri());
    g_assert_true(g_file_set_contents(dev_config,
                                      "[host]\nfirmware_version = " DEV_OVMF_VERSION "\n"
                                      "[daemon]\naudit_retry_ms = 300\naudit_attempts = 20\n",
                                      -1, NULL));

    for (guint i = 0; i < G_N_ELEMENTS(dev_paused); i++) {
        g_autofree char *path = g_strdup_printf("/spm-device/libvirt/%s", dev_paused[i].name);

        dev_add_case(path, test_libvirt, &dev_paused[i]);
    }
    for (guint i = 0; i < G_N_ELEMENTS(dev_guests); i++) {
        g_autofree char *path = g_strdup_printf("/spm-device/guest/%s", dev_guests[i].d.name);

        dev_add_case(path, test_guest, &dev_guests[i]);
    }
    dev_add_case("/spm-device/audit", test_audit_case, NULL);
    if (g_test_subprocess())
        return g_test_run();

    /* one run at a time restarts the shared libvirtd (hook install/remove) */
    t0 = g_get_monotonic_time();
    if ((lock = spm_test_libvirt_run_lock(&err)) < 0)
        g_error("%s", err->message);
    {
        g_autofree char *lock_path = spm_test_libvirt_run_lock_path();

        printf("# waited %.1f s for %s\n", (g_get_monotonic_time() - t0) / 1e6, lock_path);
    }
    t0 = g_get_monotonic_time();
    if (!dev_install_hook()) {
        dev_harness("remove", dev_hook_name, NULL);
        close(lock);
        return 1;
    }
    if (dev_start_daemon(&err)) {
        printf("# hook installed, virt-spmd started in %.1f s\n",
               (g_get_monotonic_time() - t0) / 1e6);
        t0 = g_get_monotonic_time();
        g_test_set_nonfatal_assertions();
        rc = g_test_run();
        printf("# cases ran in %.1f s\n", (g_get_monotonic_time() - t0) / 1e6);
    } else {
        fprintf(stderr, "%s\n", err->message);
        rc = 1;
    }
    if (dev_daemon) {
        /* virt-spmd ends cleanly on SIGTERM (and, under ASan, without leaks) */
        g_subprocess_send_signal(dev_daemon, SIGTERM);
        g_subprocess_wait(dev_daemon, NULL, NULL);
        if (!g_subprocess_get_if_exited(dev_daemon) || g_subprocess_get_exit_status(dev_daemon)) {
            g_autofree char *log = g_build_filename(dev_tmpdir, "virt-spmd.log", NULL);
            g_autofree char *text = dev_read(log);

            fprintf(stderr, "virt-spmd did not exit cleanly on SIGTERM: %s\n", text ? text : "");
            rc = 1;
        }
        g_clear_object(&dev_daemon);
    }
    /* domains a crashed case left behind */
    {
        g_autofree char *prefix = dev_domain_name("");
        g_autoptr(GError) conn_err = NULL;
        virConnectPtr conn = dev_conn && virConnectIsAlive(dev_conn) == 1
            ? dev_conn : (dev_conn = spm_test_libvirt_connect(&conn_err));
        virDomainPtr *doms = NULL;
        int n = conn ? virConnectListAllDomains(conn, &doms, 0) : -1;

        if (!conn)
            fprintf(stderr, "# leftover domains not removed: %s\n", conn_err->message);

        for (int i = 0; i < n; i++) {
            if (g_str_has_prefix(virDomainGetName(doms[i]), prefix))
                spm_test_libvirt_remove_domain(conn, virDomainGetName(doms[i]));
            virDomainFree(doms[i]);
        }
        g_free(doms);
    }
    g_clear_pointer(&dev_conn, virConnectClose);
    if (dev_harness("remove", dev_hook_name, NULL) != 0)
        rc = 1;
    close(lock);
    return rc;
}

static void
dev_remove_tree(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *n;

    while (dir && (n = g_dir_read_name(dir))) {
        g_autofree char *child = g_build_filename(path, n, NULL);

        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            dev_remove_tree(child);
        else
            g_unlink(child);
    }
    g_rmdir(path);
}

int
main(int argc, char **argv)
{
    g_autofree char *skip = NULL;
    const char *mode;
    const char *device;
    int rc;

    g_test_init(&argc, &argv, NULL);
    /* a libvirtd restarted by another test must be an error, not a signal */
    signal(SIGPIPE, SIG_IGN);
    /* the case processes of the libvirt mode are started without the
     * arguments: the parent passes the revision in the environment */
    mode = g_test_subprocess() ? "libvirt" : argc > 1 ? argv[1] : "";
    device = g_test_subprocess() ? g_getenv("SPM_DEVICE_TEST_DEVICE")
           : argc > 2 ? argv[2] : spm_device_rev_to_string(dev_revs[0].device);
    for (guint i = 0; device && i < G_N_ELEMENTS(dev_revs); i++) {
        if (g_str_equal(device, spm_device_rev_to_string(dev_revs[i].device)))
            dev_rev = &dev_revs[i];
    }
    if ((!g_str_equal(mode, "qemu") && !g_str_equal(mode, "libvirt")) || !dev_rev) {
        fprintf(stderr, "usage: %s qemu|libvirt [spm-memory|sp-mem]\n", g_get_prgname());
        return 2;
    }
    if ((skip = dev_find_qemu()))
        return dev_skip(skip);
    if (g_test_subprocess()) {
        dev_tmpdir = g_strdup(g_getenv("SPM_DEVICE_TEST_DIR"));
        return dev_run_libvirt();
    }
    g_setenv("SPM_DEVICE_TEST_DEVICE", spm_device_rev_to_string(dev_rev->device), TRUE);
    /* inside the root whose libvirtd runs the domains: it resolves their
     * files (console, backends, hook) there */
    {
        g_autofree char *tmpl = g_build_filename(*dev_root ? dev_root : g_get_tmp_dir(),
                                                 *dev_root ? "tmp" : "", "spm-device-XXXXXX",
                                                 NULL);

        dev_tmpdir = g_mkdtemp(g_steal_pointer(&tmpl));
        g_assert_nonnull(dev_tmpdir);
    }
    g_chmod(dev_tmpdir, 0755);
    g_setenv("SPM_DEVICE_TEST_DIR", dev_tmpdir, TRUE);
    {
        g_autofree char *run = g_strdup_printf("%d", (int)getpid());

        g_setenv("SPM_DEVICE_TEST_RUN", run, TRUE);
    }

    if (g_str_equal(mode, "qemu")) {
        dev_add_fixtures();
        g_test_add_func("/spm-device/self/no-guard-gap", test_no_guard_gap);
        rc = g_test_run();
    } else {
        rc = dev_run_libvirt();
    }
    if (!g_getenv("SPM_DEVICE_KEEP"))
        dev_remove_tree(dev_tmpdir);
    return rc;
}
