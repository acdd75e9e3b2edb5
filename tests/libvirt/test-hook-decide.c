/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-hook-decide.c: the hook's decision on recorded inputs
 * (tests/libvirt/data/), and the emulator probe on real and fake binaries.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <libxml/tree.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>

#include "spm-convert.h"
#include "spm-emulator-probe.h"
#include "spm-error.h"
#include "spm-hook-decide.h"
#include "spm-test-programs.h"
#include "spm-xml.h"

#define QEMU_SPM "/opt/qemu-spm/bin/qemu-system-x86_64"        /* the legacy v8 spm-memory */
#define QEMU_SPMEM "/opt/qemu-11.1/bin/qemu-system-x86_64"    /* QEMU 11.1's sp-mem */
#define QEMU_DEB "/usr/bin/qemu-system-x86_64"

/* What the test emulators know: Debian's QEMU 7.2 and a QEMU with the device. */
static gboolean
fake_probe(const char *emulator, const char *driver, gboolean *has_device,
           gpointer opaque, GError **error)
{
    guint *calls = opaque;

    if (calls)
        (*calls)++;
    if (g_str_equal(emulator, "/broken/qemu")) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_TIMEOUT, "probe timed out");
        return FALSE;
    }
    if (g_str_equal(emulator, QEMU_DEB)) {
        *has_device = g_str_equal(driver, "pc-dimm");
        return TRUE;
    }
    if (g_str_equal(emulator, QEMU_SPMEM)) {
        *has_device = g_str_equal(driver, "pc-dimm") || g_str_equal(driver, "sp-mem");
        return TRUE;
    }
    *has_device = g_str_equal(driver, "pc-dimm") || g_str_equal(driver, "spm-memory");
    return TRUE;
}

static SpmPlanPolicy test_policy;

static SpmHookFacts
test_facts(guint libvirt_version, guint *calls)
{
    SpmHookFacts facts = {
        .libvirt_version = libvirt_version,
        .policy = &test_policy,
        .probe = fake_probe,
        .probe_opaque = calls,
    };
    return facts;
}

static char *
read_data(const char *name)
{
    g_autofree char *path = g_build_filename(g_getenv("SPM_SOURCE_ROOT"), "tests", "libvirt",
                                             "data", name, NULL);
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static void
decide_text(const char *op, const char *subop, const char *xml, guint version,
            guint *calls, SpmHookDecision *decision)
{
    SpmHookFacts facts = test_facts(version, calls);

    spm_hook_decide(op, subop, xml, strlen(xml), &facts, decision);
}

static void
assert_refused(const SpmHookDecision *d, const char *needle)
{
    g_assert_cmpint(d->action, ==, SPM_HOOK_REFUSE);
    g_assert_nonnull(d->message);
    g_assert_true(g_str_has_prefix(d->message, "virt-spm: "));
    g_assert_null(strchr(d->message, '\n'));
    if (!strstr(d->message, needle))
        g_error("message '%s' lacks '%s'", d->message, needle);
}

/* A domain without SPM: every call passes, nothing is parsed or probed. */
static void
test_nospm(void)
{
    static const char *const calls[][2] = {
        { "prepare", "begin" }, { "start", "begin" }, { "started", "begin" },
        { "stopped", "end" }, { "release", "end" }, { "migrate", "begin" },
        { "restore", "begin" }, { "reconnect", "begin" }, { "attach", "begin" },
    };
    g_autofree char *xml = read_data("nospm.xml");
    g_autofree char *described = read_data("description-only.xml");
    guint probes = 0;

    g_assert_false(spm_hook_xml_mentions_spm(xml, strlen(xml)));
    g_assert_true(spm_hook_xml_mentions_spm(described, strlen(described)));
    for (gsize i = 0; i < G_N_ELEMENTS(calls); i++) {
        g_auto(SpmHookDecision) d = { 0 };
        g_auto(SpmHookDecision) d2 = { 0 };

        decide_text(calls[i][0], calls[i][1], xml, 9000000, &probes, &d);
        g_assert_cmpint(d.action, ==, SPM_HOOK_ALLOW);
        g_assert_null(d.message);
        /* the namespace in a description is no SPM metadata */
        decide_text(calls[i][0], calls[i][1], described, 9000000, &probes, &d2);
        g_assert_cmpint(d2.action, ==, SPM_HOOK_ALLOW);
    }
    g_assert_cmpuint(probes, ==, 0);
}

/*
 * What libvirt 9.0 really wrote on the hook's stdin (data/recorded-*: a
 * domain without SPM and one defined by virt-spm define with the pc-dimm
 * stand-in, started and destroyed with a recording hook installed).
 */
static void
test_recorded(void)
{
    static const char *const ops[][2] = {
        { "prepare", "begin" }, { "start", "begin" }, { "started", "begin" },
        { "stopped", "end" }, { "release", "end" },
    };
    guint probes = 0;

    for (gsize i = 0; i < G_N_ELEMENTS(ops); i++) {
        g_autofree char *file = g_strdup_printf("recorded-plain.%s.%s.xml", ops[i][0], ops[i][1]);
        g_autofree char *spmfile = g_strdup_printf("recorded-standin.%s.%s.xml", ops[i][0],
                                                   ops[i][1]);
        g_autofree char *plain = read_data(file);
        g_autofree char *spm = read_data(spmfile);
        g_auto(SpmHookDecision) a = { 0 };
        g_auto(SpmHookDecision) b = { 0 };
        g_auto(SpmHookDecision) m = { 0 };

        guint plain_probes = 0;

        decide_text(ops[i][0], ops[i][1], plain, 9000000, &plain_probes, &a);
        g_assert_cmpint(a.action, ==, SPM_HOOK_ALLOW);
        g_assert_cmpuint(plain_probes, ==, 0);

        /*
         * prepare: today's planner must still give the recorded arguments.
         * If this fails after a planner change, domains defined by the
         * previous version are refused as stale until redefined: say so
         * in the release notes, then record again.
         */
        decide_text(ops[i][0], ops[i][1], spm, 9000000, &probes, &b);
        if (g_str_equal(ops[i][0], "started") || g_str_equal(ops[i][0], "stopped")) {
            g_assert_cmpint(b.action, ==, SPM_HOOK_NOTIFY);
            g_assert_cmpstr(b.event, ==, ops[i][0]);
            g_assert_cmpstr(b.domain, ==, "recorded-spm");
            g_assert_nonnull(b.uuid);
        } else {
            if (b.message)
                g_test_message("%s", b.message);
            g_assert_cmpint(b.action, ==, SPM_HOOK_ALLOW);
        }

        /* recorded before the revisions: the v8 device, which cannot migrate */
        decide_text("migrate", "begin", spm, 9000000, NULL, &m);
        assert_refused(&m, "refusing to migrate domain 'recorded-spm': the 'spm-memory' device");
    }
    g_assert_cmpuint(probes, ==, 1); /* prepare only: pc-dimm */
}

static char *converted(const char *name, const char *stand_in, const char *emulator);

static void
test_migrate_restore(void)
{
    g_autofree char *xml = read_data("spm-converted.xml");
    g_auto(SpmHookDecision) migrate = { 0 };
    g_auto(SpmHookDecision) restore = { 0 };
    g_auto(SpmHookDecision) migrate_end = { 0 };

    g_autofree char *spmem = converted("user-spm.xml", NULL, QEMU_SPMEM);
    g_auto(SpmHookDecision) migrate_spmem = { 0 };
    g_auto(SpmHookDecision) restore_spmem = { 0 };

    /* recorded before the revisions: the v8 device, which cannot migrate */
    decide_text("migrate", "begin", xml, 11003000, NULL, &migrate);
    assert_refused(&migrate, "refusing to migrate domain 'spm-hand': the 'spm-memory' device "
                   "(the v8 patch series, legacy) is not migratable");
    decide_text("restore", "begin", xml, 11003000, NULL, &restore);
    assert_refused(&restore, "refusing to restore domain 'spm-hand': the 'spm-memory' device "
                   "(the v8 patch series, legacy) is not migratable");
    /* QEMU 11.1.3's sp-mem migrates without its memory's contents: refused */
    decide_text("migrate", "begin", spmem, 11003000, NULL, &migrate_spmem);
    assert_refused(&migrate_spmem, "refusing to migrate domain 'spm-user': QEMU's 'sp-mem' device "
                   "migrates, but not the contents of its memory");
    g_assert_false(migrate_spmem.incoming);
    /* a QEMU that carries it ([qemu] migrate_memory): the destination re-binds its HBM */
    {
        SpmHookFacts facts = test_facts(11003000, NULL);
        g_auto(SpmHookDecision) carried = { 0 };
        g_auto(GStrv) parts = g_strsplit(spmem, "<emulator>" QEMU_SPMEM "</emulator>", 2);
        g_autofree char *on_v8 = NULL;
        g_auto(SpmHookDecision) migrate_v8 = { 0 };

        facts.migrates_memory = TRUE;
        spm_hook_decide("migrate", "begin", spmem, strlen(spmem), &facts, &carried);
        g_assert_null(carried.message);
        g_assert_cmpint(carried.action, ==, SPM_HOOK_ALLOW);
        g_assert_true(carried.incoming);
        g_assert_cmpstr(carried.domain, ==, "spm-user");
        g_assert_cmpstr(carried.uuid, ==, "0b6c9a0e-3c1f-4a53-9d0e-2a4f0d1c0003");
        /* a destination whose QEMU is a v8 build: refused before any page moves */
        g_assert_nonnull(parts[1]);
        on_v8 = g_strjoin("<emulator>" QEMU_SPM "</emulator>", parts[0], parts[1], NULL);
        spm_hook_decide("migrate", "begin", on_v8, strlen(on_v8), &facts, &migrate_v8);
        assert_refused(&migrate_v8, "refusing to migrate domain 'spm-user' to this host: it runs "
                       "the 'sp-mem' device (QEMU 11.1 and later), but emulator '" QEMU_SPM
                       "' here has 'spm-memory' (the v8 patch series, legacy)");
        g_assert_false(migrate_v8.incoming);
    }
    decide_text("restore", "begin", spmem, 11003000, NULL, &restore_spmem);
    assert_refused(&restore_spmem, "refusing to restore domain 'spm-user': virt-spm does not "
                   "yet carry the HBM reservations");
    /* only the begin of those operations carries the decision */
    decide_text("migrate", "end", xml, 11003000, NULL, &migrate_end);
    g_assert_cmpint(migrate_end.action, ==, SPM_HOOK_ALLOW);
}

static void
test_notify(void)
{
    g_autofree char *xml = read_data("spm-converted.xml");
    g_autofree char *recorded = read_data("recorded-standin.started.begin.xml");
    g_auto(SpmHookDecision) started = { 0 };
    g_auto(SpmHookDecision) recorded_started = { 0 };
    g_auto(SpmHookDecision) stopped = { 0 };
    g_auto(SpmHookDecision) start = { 0 };
    g_auto(SpmHookDecision) release = { 0 };

    decide_text("started", "begin", xml, 9000000, NULL, &started);
    g_assert_cmpint(started.action, ==, SPM_HOOK_NOTIFY);
    g_assert_cmpstr(started.event, ==, "started");
    g_assert_cmpstr(started.domain, ==, "spm-hand");
    g_assert_cmpstr(started.uuid, ==, "0b6c9a0e-3c1f-4a53-9d0e-2a4f0d1c0002");
    g_assert_cmpint(started.run_id, ==, -1);     /* an inactive XML names no run */
    decide_text("started", "begin", recorded, 9000000, NULL, &recorded_started);
    g_assert_cmpint(recorded_started.action, ==, SPM_HOOK_NOTIFY);
    g_assert_cmpint(recorded_started.run_id, ==, 259);  /* <domain id='259'> as libvirt passed it */
    decide_text("stopped", "end", xml, 9000000, NULL, &stopped);
    g_assert_cmpint(stopped.action, ==, SPM_HOOK_NOTIFY);
    g_assert_cmpstr(stopped.event, ==, "stopped");
    decide_text("start", "begin", xml, 9000000, NULL, &start);
    g_assert_cmpint(start.action, ==, SPM_HOOK_ALLOW);
    g_assert_null(start.make_dirs);
    decide_text("release", "end", xml, 9000000, NULL, &release);
    g_assert_cmpint(release.action, ==, SPM_HOOK_ALLOW);
    /* after the stop: whatever directory virt-spm may have made for the domain */
    g_assert_nonnull(release.remove_dirs);
    g_assert_nonnull(stopped.remove_dirs);
    g_assert_true(g_str_has_suffix(g_ptr_array_index(release.remove_dirs, 0), "/virt-spm-spm-hand"));
    g_assert_null(started.remove_dirs);
}

static void
test_malformed(void)
{
    g_autofree char *xml = read_data("malformed.xml");
    g_auto(SpmHookDecision) prepare = { 0 };
    g_auto(SpmHookDecision) started = { 0 };

    decide_text("prepare", "begin", xml, 9000000, NULL, &prepare);
    assert_refused(&prepare, "refusing to prepare the domain: ");
    /* an event is never a reason to fail libvirt */
    decide_text("started", "begin", xml, 9000000, NULL, &started);
    g_assert_cmpint(started.action, ==, SPM_HOOK_ALLOW);
}

/* The user's form of @name converted as virt-spm define does it. */
static char *
converted(const char *name, const char *stand_in, const char *emulator)
{
    g_autofree char *text = read_data(name);
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    SpmPlanPolicy policy = test_policy;
    gboolean found = FALSE;
    SpmDeviceRev rev;

    policy.stand_in_driver = (char *)stand_in;
    /* as virt-spm define does: the device of the domain's emulator, else sp-mem */
    if (spm_emulator_find_device(emulator ? emulator : QEMU_DEB, fake_probe, NULL,
                                 &found, &rev, NULL) && found)
        policy.device = rev;
    if (emulator) {
        g_autofree char *tmp = g_strdup_printf("<emulator>%s</emulator>", emulator);
        g_autofree char *replaced = NULL;
        g_auto(GStrv) parts = g_strsplit(text, "<emulator>" QEMU_DEB "</emulator>", 2);

        g_assert_nonnull(parts[1]);
        replaced = g_strjoin(tmp, parts[0], parts[1], NULL);
        g_free(text);
        text = g_steal_pointer(&replaced);
    }
    doc = spm_xml_read_memory(text, strlen(text), name, &error);
    g_assert_no_error(error);
    g_assert_true(spm_convert_forward(doc, &policy, NULL, NULL, &error));
    g_assert_no_error(error);
    return spm_xml_format(doc);
}

/*
 * start begin of a domain with file-backed SPM memory: its directory, for
 * the user and with the SELinux label libvirt chose for the domain's files.
 */
static void
test_start_dirs(void)
{
    g_autofree char *conv = converted("user-spm-file.xml", "pc-dimm", NULL);
    g_autoptr(GString) live = g_string_new(conv);
    g_auto(SpmHookDecision) start = { 0 };
    g_auto(SpmHookDecision) norelabel = { 0 };

    /* what libvirt adds to the live XML before start begin */
    g_string_replace(live, "</domain>",
                     "<seclabel type='dynamic' model='selinux' relabel='yes'>"
                     "<label>system_u:system_r:svirt_t:s0:c1,c2</label>"
                     "<imagelabel>system_u:object_r:svirt_image_t:s0:c1,c2</imagelabel></seclabel>"
                     "<seclabel type='dynamic' model='dac' relabel='yes'>"
                     "<label>+107:+108</label><imagelabel>+107:+108</imagelabel></seclabel>"
                     "</domain>", 1);
    decide_text("start", "begin", live->str, 9000000, NULL, &start);
    g_assert_cmpint(start.action, ==, SPM_HOOK_ALLOW);
    g_assert_nonnull(start.make_dirs);
    g_assert_cmpuint(start.make_dirs->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(start.make_dirs, 0), ==,
                    "/var/lib/libvirt/qemu/ram/virt-spm-spm-file");
    g_assert_cmpstr(start.dac_label, ==, "+107:+108");
    g_assert_cmpstr(start.selinux_label, ==, "system_u:object_r:svirt_image_t:s0:c1,c2");

    g_string_replace(live, "model='selinux' relabel='yes'", "model='selinux' relabel='no'", 1);
    decide_text("start", "begin", live->str, 9000000, NULL, &norelabel);
    g_assert_nonnull(norelabel.make_dirs);
    g_assert_null(norelabel.selinux_label);
}

static gboolean
pools_short(const SpmPlan *plan, const SpmDomainDef *def, gpointer opaque, GError **error)
{
    guint *calls = opaque;

    (*calls)++;
    g_assert_nonnull(spm_plan_find_device(plan, "ua-hbm0"));
    g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                "memory 'ua-hbm0' needs 2 huge pages of 1 GiB on host node 0 (...)");
    return FALSE;
}

/* prepare begin asks the host's pools, and refuses in one line when they are short. */
static void
test_start_pools(void)
{
    g_autofree char *standin = converted("user-spm.xml", "pc-dimm", NULL);
    g_auto(SpmHookDecision) d = { 0 };
    g_auto(SpmHookDecision) other = { 0 };
    SpmHookFacts facts = test_facts(11003000, NULL);
    guint calls = 0;

    facts.check_pages = pools_short;
    facts.check_pages_opaque = &calls;
    spm_hook_decide("prepare", "begin", standin, strlen(standin), &facts, &d);
    g_assert_cmpuint(calls, ==, 1);
    assert_refused(&d, "virt-spm: refusing to start domain 'spm-user': memory 'ua-hbm0' needs 2 "
                       "huge pages of 1 GiB on host node 0 (...)");
    /* only prepare begin asks */
    spm_hook_decide("start", "begin", standin, strlen(standin), &facts, &other);
    g_assert_cmpuint(calls, ==, 1);
    g_assert_cmpint(other.action, ==, SPM_HOOK_ALLOW);
}

static void
test_start_current(void)
{
    g_autofree char *standin = converted("user-spm.xml", "pc-dimm", NULL);
    g_autofree char *real_deb = converted("user-spm.xml", NULL, NULL);
    g_autofree char *real_spm = converted("user-spm.xml", NULL, QEMU_SPM);
    g_autofree char *real_spmem = converted("user-spm.xml", NULL, QEMU_SPMEM);
    g_autofree char *broken = NULL;
    g_autofree char *v8_on_spmem = NULL;
    g_autofree char *spmem_on_v8 = NULL;
    g_auto(SpmHookDecision) e = { 0 };
    g_auto(SpmHookDecision) f = { 0 };
    g_auto(SpmHookDecision) h = { 0 };
    g_auto(SpmHookDecision) a = { 0 };
    g_auto(SpmHookDecision) b = { 0 };
    g_auto(SpmHookDecision) c = { 0 };
    g_auto(SpmHookDecision) d = { 0 };
    guint probes = 0;

    /* the stand-in on Debian's QEMU: what the real tests start */
    decide_text("prepare", "begin", standin, 9000000, &probes, &a);
    g_assert_cmpint(a.action, ==, SPM_HOOK_ALLOW);
    g_assert_cmpuint(probes, ==, 1);
    /* QEMU 7.2 has no SPM device: one line naming the binary and both devices */
    decide_text("prepare", "begin", real_deb, 9000000, NULL, &b);
    assert_refused(&b, "refusing to start domain 'spm-user': emulator '" QEMU_DEB
                   "' has neither 'sp-mem' (QEMU 11.1 and later) nor 'spm-memory' (the v8 "
                   "patch series, legacy)");
    /* a QEMU with the device and no libvirt memory device: any libvirt */
    decide_text("prepare", "begin", real_spm, 9000000, NULL, &c);
    g_assert_cmpint(c.action, ==, SPM_HOOK_ALLOW);
    decide_text("prepare", "begin", real_spmem, 9000000, NULL, &e);
    g_assert_cmpint(e.action, ==, SPM_HOOK_ALLOW);
    g_assert_nonnull(strstr(real_spmem, "sp-mem,id=ua-hbm0,"));
    g_assert_nonnull(strstr(real_spm, "spm-memory,id=ua-hbm0,"));

    /* converted for one device, started on a QEMU with the other */
    {
        g_auto(GStrv) parts = g_strsplit(real_spm, QEMU_SPM, -1);
        g_auto(GStrv) parts2 = g_strsplit(real_spmem, QEMU_SPMEM, -1);

        v8_on_spmem = g_strjoinv(QEMU_SPMEM, parts);
        spmem_on_v8 = g_strjoinv(QEMU_SPM, parts2);
    }
    decide_text("prepare", "begin", v8_on_spmem, 9000000, NULL, &f);
    assert_refused(&f, "refusing to start domain 'spm-user': it was converted for the "
                   "'spm-memory' device (the v8 patch series, legacy), but emulator '" QEMU_SPMEM
                   "' has 'sp-mem' (QEMU 11.1 and later); define it again with 'virt-spm define'");
    decide_text("prepare", "begin", spmem_on_v8, 9000000, NULL, &h);
    assert_refused(&h, "it was converted for the 'sp-mem' device (QEMU 11.1 and later), but "
                   "emulator '" QEMU_SPM "' has 'spm-memory'");

    broken = converted("user-spm.xml", NULL, "/broken/qemu");
    decide_text("prepare", "begin", broken, 9000000, NULL, &d);
    assert_refused(&d, "cannot tell which SPM device emulator '/broken/qemu' has: probe "
                   "timed out");
}

static void
test_start_libvirt_version(void)
{
    g_autofree char *mixed = converted("user-spm-dimm.xml", NULL, QEMU_SPM);
    g_autofree char *mixed_standin = converted("user-spm-dimm.xml", "pc-dimm", NULL);
    g_autofree char *need = g_strdup_printf("%u.%u.%u", SPM_LIBVIRT_SKIPS_UNKNOWN_MEMDEV / 1000000,
                                            SPM_LIBVIRT_SKIPS_UNKNOWN_MEMDEV / 1000 % 1000,
                                            SPM_LIBVIRT_SKIPS_UNKNOWN_MEMDEV % 1000);
    g_auto(SpmHookDecision) old = { 0 };
    g_auto(SpmHookDecision) first = { 0 };
    g_auto(SpmHookDecision) newer = { 0 };
    g_auto(SpmHookDecision) standin = { 0 };
    guint probes = 0;

    /* defined where the version was unknown, started by libvirt 9.0 */
    decide_text("prepare", "begin", mixed, 9000000, &probes, &old);
    assert_refused(&old, "refusing to start domain 'spm-user-dimm': ");
    g_test_message("%s", old.message);
    g_assert_nonnull(strstr(old.message, "libvirt 9.0.0"));
    g_assert_nonnull(strstr(old.message, need));
    g_assert_cmpuint(probes, ==, 0);
    decide_text("prepare", "begin", mixed, SPM_LIBVIRT_SKIPS_UNKNOWN_MEMDEV, NULL, &first);
    g_assert_cmpint(first.action, ==, SPM_HOOK_ALLOW);
    decide_text("prepare", "begin", mixed, 11003000, NULL, &newer);
    g_assert_cmpint(newer.action, ==, SPM_HOOK_ALLOW);
    /*
     * A pc-dimm stand-in is a memory device libvirt 9.0 knows: the start
     * works (docs/testing.md tests run exactly that), so it is not refused.
     */
    decide_text("prepare", "begin", mixed_standin, 9000000, NULL, &standin);
    g_assert_cmpint(standin.action, ==, SPM_HOOK_ALLOW);
}

/*
 * Issue 22, D7: the user's own -device arguments in <qemu:commandline> are
 * QEMU's business, not probed as SPM devices; only the generated device is.
 */
static void
test_start_user_device(void)
{
    g_autofree char *conv = converted("user-spm.xml", NULL, QEMU_SPMEM);
    g_autoptr(GString) xml = g_string_new(conv);
    g_autoptr(GString) json = NULL;
    g_auto(SpmHookDecision) d = { 0 };
    g_auto(SpmHookDecision) j = { 0 };
    guint probes = 0;

    g_assert_cmpuint(g_string_replace(xml, "<qemu:commandline>",
                                      "<qemu:commandline><qemu:arg value=\"-device\"/>"
                                      "<qemu:arg value=\"virtio-rng-pci\"/>", 1), ==, 1);
    json = g_string_new(xml->str);
    decide_text("prepare", "begin", xml->str, 11003000, &probes, &d);
    if (d.message)
        g_test_message("%s", d.message);
    g_assert_cmpint(d.action, ==, SPM_HOOK_ALLOW);
    g_assert_cmpuint(probes, ==, 1);        /* sp-mem, found at once */

    /* a JSON one too */
    g_string_replace(json, "virtio-rng-pci", "{&quot;driver&quot;:&quot;virtio-rng-pci&quot;}", 1);
    decide_text("prepare", "begin", json->str, 11003000, NULL, &j);
    g_assert_cmpint(j.action, ==, SPM_HOOK_ALLOW);
}

/* As a plain virsh edit could do: the last generated argument changed. */
static char *
edit_last_arg(const char *xml)
{
    const char *end = strstr(xml, "</qemu:commandline>");
    const char *value = NULL;

    g_assert_nonnull(end);
    for (const char *p = xml; (p = strstr(p, "<qemu:arg value=")) && p < end; p++)
        value = p + strlen("<qemu:arg value=") + 1;
    g_assert_nonnull(value);
    return g_strdup_printf("%.*sedited-%s", (int)(value - xml), xml, value);
}

static void
test_start_stale(void)
{
    g_autofree char *ok = converted("user-spm.xml", "pc-dimm", NULL);
    g_autofree char *stale = edit_last_arg(ok);
    g_autofree char *missing = NULL;
    g_auto(SpmHookDecision) a = { 0 };
    g_auto(SpmHookDecision) b = { 0 };
    const char *start, *end;

    decide_text("prepare", "begin", stale, 9000000, NULL, &a);
    assert_refused(&a, "refusing to start domain 'spm-user': qemu:commandline: ");

    /* as after deleting <qemu:commandline> */
    g_assert_nonnull((start = strstr(ok, "<qemu:commandline>")));
    g_assert_nonnull((end = strstr(ok, "</qemu:commandline>")));
    missing = g_strdup_printf("%.*s%s", (int)(start - ok), ok, end + strlen("</qemu:commandline>"));
    decide_text("prepare", "begin", missing, 9000000, NULL, &b);
    assert_refused(&b, "refusing to start domain 'spm-user': qemu:commandline: the arguments "
                   "virt-spm generated are missing or were edited");
}

/* @xml with "-device @value" added at the end of <qemu:commandline> */
static char *
add_device_arg(const char *xml, const char *value)
{
    const char *end = strstr(xml, "</qemu:commandline>");

    g_assert_nonnull(end);
    return g_strdup_printf("%.*s<qemu:arg value='-device'/><qemu:arg value='%s'/>%s",
                           (int)(end - xml), xml, value, end);
}

/*
 * -device values come from domain XML: a JSON one goes through the guard
 * (300k levels crashed the root hook helper in json-glib), and one that
 * does not start with a device name is refused with the value bounded and
 * quoted, never used as a driver name.
 */
static void
test_start_hostile_device(void)
{
    g_autofree char *ok = converted("user-spm.xml", "pc-dimm", NULL);
    GString *deep = g_string_new("{\"driver\": \"pc-dimm\", \"x\": ");
    GString *long_name = g_string_new(NULL);
    g_autofree char *nested = NULL;
    g_autofree char *hidden = NULL;
    g_autofree char *named = NULL;
    g_autofree char *garbage = NULL;
    g_auto(SpmHookDecision) a = { 0 };
    g_auto(SpmHookDecision) b = { 0 };
    g_auto(SpmHookDecision) c = { 0 };
    g_auto(SpmHookDecision) d = { 0 };
    SpmHookDecision *all[] = { &a, &b, &c, &d };
    guint probes = 0;

    /*
     * The user's own -device values are QEMU's to judge: the hook reads
     * none of them (300k levels of nesting crashed it when it parsed each
     * as JSON), probes only the device virt-spm generated, and decides in
     * a message of bounded size whatever they hold.
     */
    for (guint i = 0; i < 300000; i++)
        g_string_append_c(deep, '[');
    for (guint i = 0; i < 300000; i++)
        g_string_append_c(deep, ']');
    g_string_append_c(deep, '}');
    nested = add_device_arg(ok, deep->str);
    decide_text("prepare", "begin", nested, 9000000, &probes, &a);
    g_assert_cmpuint(probes, <=, 1);

    /* nesting behind '"' (json-glib's single-quoted string) */
    hidden = add_device_arg(ok, "{&quot;driver&quot;: &quot;pc-dimm&quot;, &quot;a&quot;: &apos;&quot;&apos;, "
                                "&quot;b&quot;: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], "
                                "&quot;c&quot;: &apos;&quot;&apos;}");
    decide_text("prepare", "begin", hidden, 9000000, NULL, &b);

    /* not JSON, not a device name */
    for (guint i = 0; i < 100000; i++)
        g_string_append(long_name, "x&#10;");
    named = add_device_arg(ok, long_name->str);
    probes = 0;
    decide_text("prepare", "begin", named, 9000000, &probes, &c);
    g_assert_cmpuint(probes, <=, 1);

    garbage = add_device_arg(ok, "{not json");
    decide_text("prepare", "begin", garbage, 9000000, NULL, &d);
    for (gsize i = 0; i < G_N_ELEMENTS(all); i++) {
        if (all[i]->message) {
            g_test_message("%s", all[i]->message);
            g_assert_cmpuint(strlen(all[i]->message), <, 400);
            g_assert_null(strchr(all[i]->message, '\n'));
        }
    }
    g_string_free(deep, TRUE);
    g_string_free(long_name, TRUE);
}

/* ---- the probe on real QEMU and on fake binaries ---- */

static char *
fake_emulator(const char *dir, const char *body)
{
    g_autofree char *script = g_strdup_printf("#!/bin/sh\necho run >> '%s/calls'\n%s\n", dir, body);
    char *path = g_build_filename(dir, "qemu-fake", NULL);

    g_assert_true(g_file_set_contents(path, script, -1, NULL));
    g_assert_cmpint(g_chmod(path, 0755), ==, 0);
    return path;
}

static guint
count_calls(const char *dir)
{
    g_autofree char *file = g_build_filename(dir, "calls", NULL);
    g_autofree char *text = NULL;
    guint n = 0;

    if (!g_file_get_contents(file, &text, NULL, NULL))
        return 0;
    for (const char *p = text; (p = strchr(p, '\n')); p++)
        n++;
    return n;
}

static void
test_probe_real_qemu(void)
{
    g_autofree char *dir = g_dir_make_tmp("spm-probe-XXXXXX", NULL);
    g_autoptr(GError) error = NULL;
    const char *spm_qemu = g_getenv("SPM_TEST_EMULATOR");
    const char *sid_root = g_getenv("SPM_SID_ROOT");
    gboolean has = TRUE;
    gboolean found = FALSE;
    SpmDeviceRev rev = SPM_DEVICE_LAST;

    if (!g_file_test(QEMU_DEB, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip(QEMU_DEB " is not installed");
        return;
    }
    g_assert_true(spm_emulator_probe(QEMU_DEB, "pc-dimm", dir, &has, &error));
    g_assert_no_error(error);
    g_assert_true(has);
    g_assert_true(spm_emulator_probe(QEMU_DEB, "spm-memory", dir, &has, &error));
    g_assert_no_error(error);
    g_assert_false(has); /* QEMU 7.2 */
    g_assert_true(spm_emulator_find_device(QEMU_DEB, spm_emulator_probe_cached, dir, &found, &rev,
                                           &error));
    g_assert_no_error(error);
    g_assert_false(found);
    /* QEMU 11.1.3 of the sid root (scripts/setup-sid-root.sh), when there is one */
    if (sid_root) {
        g_autofree char *sid_qemu = g_build_filename(sid_root, "bin", "qemu-system-x86_64-sid", NULL);

        if (g_file_test(sid_qemu, G_FILE_TEST_IS_EXECUTABLE)) {
            g_assert_true(spm_emulator_find_device(sid_qemu, spm_emulator_probe_cached, dir,
                                                   &found, &rev, &error));
            g_assert_no_error(error);
            g_assert_true(found);
            g_assert_cmpint(rev, ==, SPM_DEVICE_SP_MEM);
            g_test_message("%s has sp-mem", sid_qemu);
        }
    }
    if (spm_qemu) {
        g_assert_true(spm_emulator_probe(spm_qemu, "spm-memory", dir, &has, &error));
        g_assert_no_error(error);
        g_assert_true(has);
    }
    g_assert_false(spm_emulator_probe("/nonexistent/qemu", "pc-dimm", dir, &has, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_SYSTEM);
    g_assert_cmpstr(error->message, ==, "emulator '/nonexistent/qemu': No such file or directory");
}

/* Which revision: sp-mem asked first, the legacy spm-memory next, neither. */
static void
test_probe_find_device(void)
{
    g_autofree char *dir = g_dir_make_tmp("spm-probe-XXXXXX", NULL);
    g_autofree char *cache = g_build_filename(dir, "cache", NULL);
    g_autofree char *emu = fake_emulator(dir,
        "case \"$2\" in\n"
        "sp-mem,help) echo 'sp-mem options:'; echo '  addr=<uint64>          -  (default: 0)';"
        " echo '  memdev=<link<memory-backend>>'; echo '  node=<uint32>          -  (default: 0)';;\n"
        "*) echo \"qemu-system-x86_64: -device $2: Device '${2%,help}' not found\";;\n"
        "esac");
    g_autoptr(GError) error = NULL;
    g_autofree char *none = NULL;
    gboolean found = FALSE;
    SpmDeviceRev rev = SPM_DEVICE_LAST;

    g_assert_true(spm_emulator_find_device(emu, spm_emulator_probe_cached, cache, &found, &rev,
                                           &error));
    g_assert_no_error(error);
    g_assert_true(found);
    g_assert_cmpint(rev, ==, SPM_DEVICE_SP_MEM);
    g_assert_cmpuint(count_calls(dir), ==, 1);     /* sp-mem answered: v8 not asked */

    g_free(fake_emulator(dir,
        "case \"$2\" in\n"
        "spm-memory,help) echo 'spm-memory options:'; echo '  memdev=<link<memory-backend>>';;\n"
        "*) echo \"qemu-system-x86_64: -device $2: Device '${2%,help}' not found\";;\n"
        "esac"));
    g_assert_true(spm_emulator_find_device(emu, spm_emulator_probe_cached, cache, &found, &rev,
                                           &error));
    g_assert_true(found);
    g_assert_cmpint(rev, ==, SPM_DEVICE_SPM_MEMORY);

    g_free(fake_emulator(dir, "echo \"qemu-system-x86_64: -device $2: Device '${2%,help}' not found\""));
    g_assert_true(spm_emulator_find_device(emu, spm_emulator_probe_cached, cache, &found, &rev,
                                           &error));
    g_assert_false(found);
    none = spm_emulator_no_device_text(emu);
    g_assert_true(g_str_has_suffix(none, "' has neither 'sp-mem' (QEMU 11.1 and later) nor "
                                   "'spm-memory' (the v8 patch series, legacy)"));
}

static void
test_probe_cache(void)
{
    g_autofree char *dir = g_dir_make_tmp("spm-probe-XXXXXX", NULL);
    g_autofree char *cache = g_build_filename(dir, "cache", NULL);
    g_autofree char *emu = fake_emulator(dir,
        "case \"$2\" in\n"
        "spm-memory,help) echo 'spm-memory options:'; echo '  memdev=<link<memory-backend>>';;\n"
        "*) echo \"qemu-system-x86_64: -device $2: Device '${2%,help}' not found\";;\n"
        "esac");
    g_autoptr(GError) error = NULL;
    gboolean has = FALSE;

    g_assert_true(spm_emulator_probe(emu, "spm-memory", cache, &has, &error));
    g_assert_true(has);
    g_assert_cmpuint(count_calls(dir), ==, 1);
    /* the same binary again: answered from the cache */
    has = FALSE;
    g_assert_true(spm_emulator_probe(emu, "spm-memory", cache, &has, &error));
    g_assert_true(has);
    g_assert_cmpuint(count_calls(dir), ==, 1);
    /* another driver is another question */
    g_assert_true(spm_emulator_probe(emu, "pc-dimm", cache, &has, &error));
    g_assert_no_error(error);
    g_assert_false(has);
    g_assert_cmpuint(count_calls(dir), ==, 2);

    /* a cache others could write is no cache: probed again, and nothing is stored */
    g_assert_cmpint(g_chmod(cache, 0777), ==, 0);
    g_assert_true(spm_emulator_probe(emu, "spm-memory", cache, &has, &error));
    g_assert_true(has);
    g_assert_cmpuint(count_calls(dir), ==, 3);
    g_assert_true(spm_emulator_probe(emu, "spm-memory", cache, &has, &error));
    g_assert_cmpuint(count_calls(dir), ==, 4);
    g_assert_cmpint(g_chmod(cache, 0755), ==, 0);
    g_assert_true(spm_emulator_probe(emu, "spm-memory", cache, &has, &error));
    g_assert_cmpuint(count_calls(dir), ==, 4);

    /* an upgraded binary (other size and mtime) is probed again */
    g_free(fake_emulator(dir, "echo \"qemu-system-x86_64: -device $2: Device 'spm-memory' not found\""));
    g_assert_true(spm_emulator_probe(emu, "spm-memory", cache, &has, &error));
    g_assert_no_error(error);
    g_assert_false(has);
    g_assert_cmpuint(count_calls(dir), ==, 5);

    /* something that is no QEMU */
    g_free(fake_emulator(dir, "echo 'hello world'"));
    g_assert_false(spm_emulator_probe(emu, "spm-memory", NULL, &has, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_SYSTEM);
    g_assert_nonnull(strstr(error->message, "answered 'hello world', not QEMU's device help"));
    g_clear_error(&error);

    /* a binary that hangs: the probe gives up in bounded time */
    g_free(fake_emulator(dir, "exec sleep 60"));
    g_setenv("VIRT_SPM_HOOK_PROBE_TIMEOUT_MS", "300", TRUE);
    g_assert_false(spm_emulator_probe(emu, "spm-memory", cache, &has, &error));
    g_unsetenv("VIRT_SPM_HOOK_PROBE_TIMEOUT_MS");
    g_assert_error(error, SPM_ERROR, SPM_ERROR_TIMEOUT);
    g_assert_nonnull(strstr(error->message, "gave no answer within 300 ms"));
}

/* ---- the installed binaries: events never block libvirt ---- */

/* Run the built hook as libvirt does; return its exit status and wall time. */
static int
run_hook(const char *op, const char *subop, const char *xml, const char *socket_path,
         gint64 *elapsed_us, char **err)
{
    g_autofree char *front = spm_test_program("hook", "sbin", "virt-spm-qemu-hook");
    g_autofree char *helper = spm_test_program("hook", "libexec", "virt-spm-hook-helper");
    g_autoptr(GSubprocessLauncher) l =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GSubprocess) p = NULL;
    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time();

    g_subprocess_launcher_setenv(l, "VIRT_SPM_HOOK_HELPER", helper, TRUE);
    g_subprocess_launcher_setenv(l, "VIRT_SPM_CONTROL_SOCKET", socket_path, TRUE);
    g_subprocess_launcher_setenv(l, "VIRT_SPM_HOOK_CONFIG", g_getenv("SPM_TEST_HOOK_CONFIG"), TRUE);
    p = g_subprocess_launcher_spawn(l, &error, front, "spm-hand", op, subop, "-", NULL);
    g_assert_no_error(error);
    g_subprocess_communicate_utf8(p, xml, NULL, NULL, err, &error);
    g_assert_no_error(error);
    *elapsed_us = g_get_monotonic_time() - t0;
    g_assert_true(g_subprocess_get_if_exited(p));
    return g_subprocess_get_exit_status(p);
}

static void
test_binary_events_bounded(void)
{
    g_autofree char *xml = read_data("spm-converted.xml");
    g_autofree char *dir = g_dir_make_tmp("spm-hook-XXXXXX", NULL);
    g_autofree char *down = g_build_filename(dir, "down.sock", NULL);
    g_autofree char *hung = g_build_filename(dir, "hung.sock", NULL);
    g_autoptr(GSocket) listener = NULL;
    g_autoptr(GSocketAddress) addr = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *err1 = NULL;
    g_autofree char *err2 = NULL;
    g_autofree char *err3 = NULL;
    g_autofree char *conf = g_build_filename(dir, "virt-spm.conf", NULL);
    gint64 us = 0;

    g_assert_true(g_file_set_contents(conf, "[plan]\n", -1, NULL));
    g_setenv("SPM_TEST_HOOK_CONFIG", conf, TRUE);

    /* no daemon: exit 0, nothing said */
    g_assert_cmpint(run_hook("started", "begin", xml, down, &us, &err1), ==, 0);
    g_assert_cmpstr(err1, ==, "");

    /* a daemon that accepts and never answers: still exit 0, in bounded time */
    listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                            &error);
    g_assert_no_error(error);
    addr = g_unix_socket_address_new(hung);
    g_assert_true(g_socket_bind(listener, addr, TRUE, &error));
    g_assert_true(g_socket_listen(listener, &error));
    g_assert_cmpint(run_hook("stopped", "end", xml, hung, &us, &err2), ==, 0);
    g_assert_cmpstr(err2, ==, "");
    g_test_message("hook with a hung daemon: %.1f ms", us / 1000.0);
    g_assert_cmpint(us, <, 2 * G_USEC_PER_SEC);

    /* the front end hands SPM domains to the helper: a refusal comes back */
    g_assert_cmpint(run_hook("migrate", "begin", xml, down, &us, &err3), ==, 1);
    g_assert_cmpstr(err3, ==, "virt-spm: refusing to migrate domain 'spm-hand': the "
                    "'spm-memory' device (the v8 patch series, legacy) is not migratable (its "
                    "contents cannot move to another host)\n");

    g_unlink(hung);
    g_unlink(conf);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    spm_plan_policy_init(&test_policy);

    g_test_add_func("/hook/nospm", test_nospm);
    g_test_add_func("/hook/recorded", test_recorded);
    g_test_add_func("/hook/migrate-restore", test_migrate_restore);
    g_test_add_func("/hook/notify", test_notify);
    g_test_add_func("/hook/malformed", test_malformed);
    g_test_add_func("/hook/start-dirs", test_start_dirs);
    g_test_add_func("/hook/start-pools", test_start_pools);
    g_test_add_func("/hook/start/current", test_start_current);
    g_test_add_func("/hook/start/libvirt-version", test_start_libvirt_version);
    g_test_add_func("/hook/start/stale", test_start_stale);
    g_test_add_func("/hook/start/user-device", test_start_user_device);
    g_test_add_func("/hook/start/hostile-device", test_start_hostile_device);
    g_test_add_func("/hook/binary/events-bounded", test_binary_events_bounded);
    g_test_add_func("/probe/real-qemu", test_probe_real_qemu);
    g_test_add_func("/probe/cache", test_probe_cache);
    g_test_add_func("/probe/find-device", test_probe_find_device);
    return g_test_run();
}
