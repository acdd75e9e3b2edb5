/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-convert.c: how fast plan and convert are, next to the tools a user
 * would compare them with.  Prints figures; asserts nothing about time.
 *
 * Two domains: a typical one (2 cells, 4 SPM devices, 4 DIMMs: 8 memory
 * devices) and a stress one (1,000 memory devices).  For each:
 *   - in process: parse+plan and parse+convert+format, microseconds each;
 *   - as processes, as a user runs them: `virt-spm convert FILE`,
 *     `xmllint --noout FILE`, and `virsh domxml-to-native qemu-argv` on the
 *     converted XML when a libvirt daemon answers.
 * Planning is O(n log n): the per-device time of the stress domain must not
 * grow with n; compare the two "per device" figures.
 */
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#include "spm-config.h"
#include "spm-convert.h"
#include "spm-domain-parse.h"
#include "spm-xml.h"

static char *
spm_bench_domain(guint nspm, guint ndimm, gboolean strict)
{
    GString *s = g_string_new(NULL);
    /* Stress: QEMU allows 128 NUMA nodes, so SPM devices share nodes. */
    guint spm_nodes = strict ? nspm : MIN(nspm, 100);

    g_string_append(s,
        "<domain type='qemu'>\n  <name>bench</name>\n"
        "  <memory unit='GiB'>4</memory>\n  <vcpu>2</vcpu>\n"
        "  <os firmware='efi'><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>\n"
        "  <features><acpi/></features>\n  <cpu><maxphysaddr mode='emulate' bits='48'/><numa>\n"
        "    <cell id='0' cpus='0' memory='2' unit='GiB'/>\n"
        "    <cell id='1' cpus='1' memory='2' unit='GiB'/>\n  </numa></cpu>\n  <devices>\n");
    for (guint i = 0; i < ndimm; i++)
        g_string_append_printf(s,
            "    <memory model='dimm'><target><size unit='MiB'>512</size><node>%u</node></target></memory>\n",
            i % 2);
    for (guint i = 0; i < nspm; i++)
        g_string_append_printf(s,
            "    <memory model='spm'><source><nodemask>0</nodemask></source>"
            "<target><size unit='GiB'>1</size><node>%u</node></target>"
            "<alias name='ua-hbm%u'/></memory>\n",
            2 + (i % spm_nodes), i);
    g_string_append(s, "  </devices>\n</domain>\n");
    return g_string_free(s, FALSE);
}

/* Mean wall time of @argv as a process, in milliseconds. */
static double
spm_bench_process(const char *const *argv, guint runs, gboolean *ok)
{
    gint64 start = g_get_monotonic_time();

    *ok = TRUE;
    for (guint i = 0; i < runs; i++) {
        int status = 0;

        if (!g_spawn_sync(NULL, (char **)argv, NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                          NULL, NULL, NULL, NULL, &status, NULL) ||
            !g_spawn_check_wait_status(status, NULL))
            *ok = FALSE;
    }
    return (g_get_monotonic_time() - start) / 1000.0 / runs;
}

static void
spm_bench_one(const char *label, const char *xml, SpmConfig *config, guint ndev,
              guint runs, const char *tmpdir)
{
    g_autofree char *path = g_build_filename(tmpdir, "domain.xml", NULL);
    g_autofree char *converted_path = g_build_filename(tmpdir, "converted.xml", NULL);
    g_autofree char *virt_spm = g_build_filename(g_getenv("SPM_BUILD_ROOT"), "cli", "virt-spm", NULL);
    g_autofree char *conf = g_build_filename(tmpdir, "bench.conf", NULL);
    g_autoptr(GError) error = NULL;
    gint64 t0;
    double plan_us, convert_us, xmllint_ms, convert_ms, native_ms;
    gboolean ok;

    g_file_set_contents(path, xml, -1, NULL);
    g_file_set_contents(conf, config->policy.strict
                        ? "[plan]\nstrict=true\n[host]\nlibvirt_version=11.3.0\n"
                        : "[plan]\nstrict=false\n[host]\nlibvirt_version=11.3.0\n", -1, NULL);

    t0 = g_get_monotonic_time();
    for (guint i = 0; i < runs; i++) {
        g_autoptr(xmlDoc) doc = spm_xml_read_memory(xml, strlen(xml), "bench", &error);
        g_autoptr(SpmDomainDef) def = doc ? spm_domain_def_parse(doc, &error) : NULL;
        g_autoptr(SpmPlan) plan = def ? spm_plan_build(def, &config->policy, &error) : NULL;

        if (!plan)
            g_error("%s: plan failed: %s", label, error->message);
    }
    plan_us = (double)(g_get_monotonic_time() - t0) / runs;

    t0 = g_get_monotonic_time();
    for (guint i = 0; i < runs; i++) {
        g_autoptr(xmlDoc) doc = spm_xml_read_memory(xml, strlen(xml), "bench", &error);
        g_autofree char *out = NULL;

        if (!doc || !spm_convert_forward(doc, &config->policy, NULL, NULL, &error))
            g_error("%s: convert failed: %s", label, error->message);
        out = spm_xml_format(doc);
        if (i == 0)
            g_file_set_contents(converted_path, out, -1, NULL);
    }
    convert_us = (double)(g_get_monotonic_time() - t0) / runs;

    printf("%s (%u memory devices, %zu bytes of XML)\n", label, ndev, strlen(xml));
    printf("  in process: parse+plan %.1f us (%.2f us/device), parse+convert+format %.1f us (%.2f us/device)\n",
           plan_us, plan_us / ndev, convert_us, convert_us / ndev);

    {
        const char *xmllint[] = { "xmllint", "--noout", path, NULL };
        const char *vs[] = { virt_spm, "-q", "--config", conf, "convert", path, NULL };

        xmllint_ms = spm_bench_process(xmllint, 20, &ok);
        printf("  process: xmllint --noout %.2f ms%s\n", xmllint_ms, ok ? "" : " (failed)");
        convert_ms = spm_bench_process(vs, 20, &ok);
        printf("  process: virt-spm convert %.2f ms%s  -> %.2fx xmllint (goal <= 3x)\n",
               convert_ms, ok ? "" : " (failed)", convert_ms / xmllint_ms);
    }
    if (g_file_test("/run/libvirt/libvirt-sock", G_FILE_TEST_EXISTS)) {
        const char *native[] = { "virsh", "-q", "-c", "qemu:///system", "domxml-to-native",
                                 "qemu-argv", "--xml", converted_path, NULL };

        native_ms = spm_bench_process(native, 5, &ok);
        if (ok) {
            printf("  process: virsh domxml-to-native qemu-argv %.2f ms  -> virt-spm convert process is %.1fx faster\n",
                   native_ms, native_ms / convert_ms);
            printf("  per domain: convert in process %.3f ms vs domxml-to-native %.2f ms -> %.0fx faster (goal >= 20x)\n",
                   convert_us / 1000.0, native_ms, native_ms * 1000.0 / convert_us);
        }
        else
            printf("  process: virsh domxml-to-native qemu-argv failed on the converted XML (%.2f ms)\n", native_ms);
    } else {
        printf("  virsh domxml-to-native: no libvirt daemon running, not measured\n");
    }
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmConfig) config = NULL;
    g_autofree char *tmpdir = g_dir_make_tmp("virt-spm-bench-XXXXXX", &error);
    g_autofree char *typical = spm_bench_domain(4, 4, TRUE);
    g_autofree char *stress = spm_bench_domain(1000, 0, FALSE);

    g_assert_nonnull(tmpdir);
    config = spm_config_load(NULL, &error);
    g_assert_nonnull(config);
    /* The typical domain mixes SPM with DIMMs: plan it for a libvirt that runs that. */
    config->policy.host.libvirt_version = 11003000;

    spm_bench_one("typical domain", typical, config, 8, 2000, tmpdir);
    config->policy.strict = FALSE;
    spm_bench_one("stress domain", stress, config, 1000, 50, tmpdir);

    {
        const char *files[] = { "domain.xml", "converted.xml", "bench.conf" };

        for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
            g_autofree char *f = g_build_filename(tmpdir, files[i], NULL);

            g_unlink(f);
        }
        g_rmdir(tmpdir);
    }
    return 0;
}
