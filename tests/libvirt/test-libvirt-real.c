/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-libvirt-real.c: virt-spm define/dumpxml/edit and the qemu hook
 * against a real libvirtd and a real QEMU (docs/libvirt.md, docs/testing.md).
 *
 * The hook is installed for the duration of the run (libvirtd-harness.sh)
 * as a small wrapper that points the built front end at the built helper
 * and at this run's cache, configuration and control socket, and removed
 * afterwards.  QEMU 7.2 has no spm-memory: domains that must start are
 * converted with the pc-dimm stand-in; with $SPM_TEST_EMULATOR (a QEMU with
 * the device) the real device is started too, without it its refusal is
 * checked instead.  With $SPM_TEST_PREFIX the installed programs are
 * tested instead of the build tree's (spm-test-programs.h).  Needs root:
 * exit 77 otherwise.
 *
 * `test-libvirt-real sid` runs the same cases against the libvirt 12.8 of
 * the Debian sid root ($SPM_SID_ROOT; exit 77 without it), whose QEMU 11.1
 * has sp-mem: the hook is the one built inside the root, the programs run
 * by hand are the host's on the root's socket (docs/testing.md, "The
 * libvirt tier on libvirt 12.8").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libxml/tree.h>

#include "hugepage-pools.h"
#include "spm-domain-parse.h"
#include "spm-error.h"
#include "spm-test-programs.h"
#include "spm-xml.h"
#include "spm-test-libvirt.h"
#include "spm-test-sid-root.h"

/*
 * The libvirtd under test: the host's (qemu:///system), or with the
 * argument "sid" the one in the Debian sid root ($SPM_SID_ROOT, libvirt
 * 12.8, QEMU 11.1), through the harness variables (docs/testing.md).
 */
#define URI (spm_test_libvirt_uri())

/*
 * The root that libvirtd runs in ("" for the host's): it and the hook see
 * every path under it.  Paths the test reads that libvirtd or the hook
 * write are daemon_path()s; paths the test hands them are in_root()s.
 */
static char *root;

static char *tmpdir;
static char *hook_name;
static char *wrapper;
static char *harness_path;
static char *virt_spm;
static char *hook_front;       /* the host's build: run by hand */
static char *hook_helper;
static char *installed_front;  /* the one libvirtd runs: built inside the root, if any */
static char *installed_helper;
static char *cache_dir;
static char *control_socket;
static char *config_file;
static guint name_counter;
static HpSetup hugepages;       /* the run's pools and mounts (hugepage-pools.h) */

/* 2 MiB pages the run reserves: guest RAM of the huge page cases, and spare */
#define HP_RAM_MIB 256
#define HP_PAGES_2M (HP_RAM_MIB / 2 + 64)

/* ---- running programs ---- */

typedef struct {
    int status;                 /* exit status, or -1 when killed */
    char *out;
    char *err;
} Run;

static void
run_clear(Run *r)
{
    g_free(r->out);
    g_free(r->err);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Run, run_clear)

/* Run @argv with @input on stdin and extra environment @env (NAME=VALUE, NULL-terminated). */
static void
run_full(Run *r, const char *const *argv, const char *input, const char *const *env)
{
    g_autoptr(GSubprocessLauncher) l =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                  G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GSubprocess) p = NULL;
    g_autoptr(GError) error = NULL;

    memset(r, 0, sizeof(*r));
    for (const char *const *e = env; e && *e; e++) {
        g_auto(GStrv) kv = g_strsplit(*e, "=", 2);

        g_subprocess_launcher_setenv(l, kv[0], kv[1] ? kv[1] : "", TRUE);
    }
    p = g_subprocess_launcher_spawnv(l, argv, &error);
    g_assert_no_error(error);
    g_subprocess_communicate_utf8(p, input, NULL, &r->out, &r->err, &error);
    g_assert_no_error(error);
    r->status = g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : -1;
}

static void
run(Run *r, const char *const *argv)
{
    run_full(r, argv, NULL, NULL);
}

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void
virsh(Run *r, const char *const *args)
{
    g_autoptr(GPtrArray) a = g_ptr_array_new();

    g_ptr_array_add(a, (char *)"virsh");
    g_ptr_array_add(a, (char *)"-q");
    g_ptr_array_add(a, (char *)"-c");
    g_ptr_array_add(a, (char *)URI);
    for (const char *const *p = args; *p; p++)
        g_ptr_array_add(a, (char *)*p);
    g_ptr_array_add(a, NULL);
    run(r, (const char *const *)a->pdata);
}

static char *lost_marker(void);

/*
 * Whether the cases that start guests convert for the pc-dimm stand-in:
 * on the host (QEMU 7.2 has no SPM device), not in the sid root, whose
 * QEMU 11.1 runs the real sp-mem.
 */
#define STAND_IN (!*root)
/* The device QEMU's command line must show for a started SPM domain. */
#define STARTED_DEVICE (STAND_IN ? "-device pc-dimm," : "-device sp-mem,")

/* @path, written by libvirtd or the hook, as the test sees it. */
static char *
daemon_path(const char *path)
{
    return g_strconcat(root, path, NULL);
}

/* @path, a host path of the run, as libvirtd and the hook see it. */
static char *
in_root(const char *path)
{
    return spm_test_sid_in_root(root, path);
}

/* Mark a failure that is a lost libvirtd (see run_case). */
static void
note_lost_libvirtd(const Run *r)
{
    static const char *const signs[] = {
        "Failed to connect socket", "Disconnected from", "End of file while reading data",
        "Cannot recv data", "Cannot write data", "client socket is closed",
    };
    g_autofree char *marker = lost_marker();

    for (gsize i = 0; i < G_N_ELEMENTS(signs); i++) {
        if (strstr(r->err, signs[i])) {
            g_file_set_contents(marker, r->err, -1, NULL);
            return;
        }
    }
}

static void
assert_ok(const Run *r, const char *what)
{
    if (r->status != 0)
        note_lost_libvirtd(r);
    if (r->status != 0)
        g_error("%s: exit %d\nstdout: %s\nstderr: %s", what, r->status, r->out, r->err);
}

static void
assert_fails_with(const Run *r, const char *needle, const char *what)
{
    if (r->status == 0 || !strstr(r->err, needle))
        note_lost_libvirtd(r);
    if (r->status == 0 || !strstr(r->err, needle))
        g_error("%s: expected a failure with '%s'; exit %d\nstdout: %s\nstderr: %s",
                what, needle, r->status, r->out, r->err);
}

/* ---- domains ---- */

/* spmtest-RUN-N-WHAT: RUN is the parent's pid, so the tear-down finds leftovers */
static char *
unique_name(const char *what)
{
    return g_strdup_printf("spmtest-%s-%d-%u-%s", g_getenv("SPM_LIBVIRT_TEST_RUN"),
                           (int)getpid(), ++name_counter, what);
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

/* data/@template with its name replaced and its uuid and id dropped, in a file. */
static char *
domain_file(const char *template, const char *name, const char *emulator)
{
    g_autofree char *text = read_data(template);
    g_autoptr(GString) s = g_string_new(NULL);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autofree char *path = g_strdup_printf("%s/%s.xml", tmpdir, name);

    for (char **l = lines; *l; l++) {
        if (strstr(*l, "<uuid>"))
            continue;
        if (strstr(*l, "<name>")) {
            g_string_append_printf(s, "  <name>%s</name>\n", name);
        } else if (strstr(*l, "<emulator>") && emulator) {
            g_string_append_printf(s, "    <emulator>%s</emulator>\n", emulator);
        } else {
            g_string_append(s, *l);
            if (l[1])
                g_string_append_c(s, '\n');
        }
    }
    g_string_replace(s, " id='7'", "", 0);
    g_assert_true(g_file_set_contents(path, s->str, -1, NULL));
    return g_steal_pointer(&path);
}

static void
virt_spm_define(Run *r, const char *file, gboolean stand_in)
{
    /* the run's configuration: in the root, where the hugetlbfs mounts are (write_config) */
    if (stand_in)
        run(r, ARGV(virt_spm, "--config", config_file, "-c", URI, "define", file,
                    "--stand-in-driver=pc-dimm"));
    else
        run(r, ARGV(virt_spm, "--config", config_file, "-c", URI, "define", file));
}

static void
cleanup_domain(const char *name)
{
    g_auto(Run) a = { 0 };
    g_auto(Run) b = { 0 };

    virsh(&a, ARGV("destroy", name));
    virsh(&b, ARGV("undefine", name));
}

/* The SPM devices of a user-form XML, parsed by virt-spm's own reader. */
static SpmDomainDef *
parse_def(const char *xml)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_memory(xml, strlen(xml), "test", &error);
    SpmDomainDef *def;

    g_assert_no_error(error);
    def = spm_domain_def_parse(doc, &error);
    g_assert_no_error(error);
    return def;
}

/* The <memory model='spm'> devices of @def, in document order. */
static GPtrArray *
spm_devices(const SpmDomainDef *def)
{
    GPtrArray *out = g_ptr_array_new();

    for (guint i = 0; i < def->mems->len; i++) {
        SpmMemDevice *dev = def->mems->pdata[i];

        if (dev->model == SPM_MEM_MODEL_SPM)
            g_ptr_array_add(out, dev);
    }
    return out;
}

static void
assert_same_spm_devices(const char *expected_xml, const char *actual_xml)
{
    g_autoptr(SpmDomainDef) a = parse_def(expected_xml);
    g_autoptr(SpmDomainDef) b = parse_def(actual_xml);
    g_autoptr(GPtrArray) da = spm_devices(a);
    g_autoptr(GPtrArray) db = spm_devices(b);

    g_assert_cmpuint(da->len, >, 0);
    g_assert_cmpuint(da->len, ==, db->len);
    for (guint i = 0; i < da->len && i < db->len; i++) {
        const SpmMemDevice *x = da->pdata[i];
        const SpmMemDevice *y = db->pdata[i];

        g_assert_cmpuint(x->size, ==, y->size);
        g_assert_cmpuint(x->node, ==, y->node);
        g_assert_cmpstr(x->alias, ==, y->alias);
        g_assert_cmpint(x->has_base, ==, y->has_base);
        g_assert_cmpuint(x->base, ==, y->base);
        g_assert_cmpint(x->access, ==, y->access);
        g_assert_cmpint(x->discard, ==, y->discard);
        g_assert_cmpstr(x->source.nodemask, ==, y->source.nodemask);
        g_assert_cmpuint(x->source.pagesize, ==, y->source.pagesize);
        g_assert_cmpstr(x->source.path, ==, y->source.path);
        g_assert_cmpuint(x->source.alignsize, ==, y->source.alignsize);
    }
}

/* ---- the control socket: a stand-in virt-spmd records events in a file ---- */

static char *events_file;
/* Cancelled at tear-down, so the thread leaves accept() before the listener closes. */
static GCancellable *listener_cancel;

static gpointer
control_listener(gpointer data)
{
    GSocketListener *listener = data;

    for (;;) {
        g_autoptr(GSocketConnection) conn = g_socket_listener_accept(listener, NULL,
                                                                     listener_cancel, NULL);
        g_autoptr(GDataInputStream) in = NULL;
        g_autofree char *line = NULL;

        if (!conn)
            return NULL;
        in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
        line = g_data_input_stream_read_line_utf8(in, NULL, NULL, NULL);
        if (line) {
            FILE *f = fopen(events_file, "a");

            if (f) {
                fprintf(f, "%s\n", line);
                fclose(f);
            }
            g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)),
                                      "{\"ok\": true}\n", 13, NULL, NULL, NULL);
        }
    }
}

static gboolean
events_mention(const char *event, const char *name)
{
    g_autofree char *e = g_strdup_printf("\"%s\"", event);
    g_autofree char *n = g_strdup_printf("\"%s\"", name);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    gboolean found = FALSE;

    if (!g_file_get_contents(events_file, &text, NULL, NULL))
        return FALSE;
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l && !found; l++)
        found = strstr(*l, e) && strstr(*l, n);
    return found;
}

/* ---- the cases ---- */

static void
test_define_dumpxml_roundtrip(void)
{
    g_autofree char *name = unique_name("roundtrip");
    g_autofree char *file = domain_file("user-spm.xml", name, NULL);
    g_autofree char *user = NULL;
    g_autofree char *expect = NULL;
    g_auto(Run) def = { 0 };
    g_auto(Run) dump = { 0 };
    g_auto(Run) dump_env = { 0 };
    g_autofree char *uri_env = NULL;
    g_auto(Run) dump_id = { 0 };
    g_auto(Run) raw = { 0 };

    g_assert_true(g_file_get_contents(file, &user, NULL, NULL));
    virt_spm_define(&def, file, TRUE);
    assert_ok(&def, "virt-spm define");
    expect = g_strdup_printf("Domain '%s' defined from %s\n", name, file);
    g_assert_cmpstr(def.out, ==, expect);

    /* libvirt holds the converted form: no model='spm' in its devices */
    virsh(&raw, ARGV("dumpxml", "--inactive", name));
    assert_ok(&raw, "virsh dumpxml");
    g_assert_null(strstr(raw.out, "model='spm'"));
    g_assert_nonnull(strstr(raw.out, "http://virt-spm.org/xmlns/domain/1.0"));
    g_assert_nonnull(strstr(raw.out, "<qemu:commandline>"));

    run(&dump, ARGV(virt_spm, "-c", URI, "dumpxml", name));
    assert_ok(&dump, "virt-spm dumpxml");
    g_assert_nonnull(strstr(dump.out, "model='spm'") ? dump.out : strstr(dump.out, "model=\"spm\""));
    g_assert_null(strstr(dump.out, "qemu:commandline"));
    assert_same_spm_devices(user, dump.out);

    /* LIBVIRT_DEFAULT_URI instead of -c, as virsh */
    uri_env = g_strconcat("LIBVIRT_DEFAULT_URI=", URI, NULL);
    run_full(&dump_env, ARGV(virt_spm, "dumpxml", "--inactive", name), NULL,
             ARGV(uri_env));
    assert_ok(&dump_env, "virt-spm dumpxml with LIBVIRT_DEFAULT_URI");
    assert_same_spm_devices(user, dump_env.out);

    /* a domain is found by UUID too */
    {
        g_auto(Run) uuid = { 0 };

        virsh(&uuid, ARGV("domuuid", name));
        assert_ok(&uuid, "virsh domuuid");
        g_strstrip(uuid.out);
        run(&dump_id, ARGV(virt_spm, "-c", URI, "dumpxml", uuid.out));
        assert_ok(&dump_id, "virt-spm dumpxml UUID");
        assert_same_spm_devices(user, dump_id.out);
    }
    cleanup_domain(name);
}

static void
test_failed_define_keeps_old(void)
{
    g_autofree char *name = unique_name("keep");
    g_autofree char *file = domain_file("user-spm.xml", name, NULL);
    g_autofree char *bad_file = g_strdup_printf("%s/%s-bad.xml", tmpdir, name);
    g_autofree char *text = NULL;
    g_autoptr(GString) bad = NULL;
    g_autofree char *expect = NULL;
    g_auto(Run) def = { 0 };
    g_auto(Run) before = { 0 };
    g_auto(Run) redefine = { 0 };
    g_auto(Run) after = { 0 };

    virt_spm_define(&def, file, TRUE);
    assert_ok(&def, "virt-spm define");
    virsh(&before, ARGV("dumpxml", "--inactive", name));
    assert_ok(&before, "virsh dumpxml");

    /* a change virt-spm accepts and libvirt's validation rejects */
    g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
    bad = g_string_new(text);
    g_string_replace(bad, "<size unit='MiB'>128</size>", "<size unit='MiB'>64</size>", 1);
    g_string_replace(bad, "</devices>", "</devices>\n  <on_crash>explode</on_crash>", 1);
    g_assert_true(g_file_set_contents(bad_file, bad->str, -1, NULL));
    virt_spm_define(&redefine, bad_file, TRUE);
    expect = g_strdup_printf("error: failed to define domain from %s: ", bad_file);
    assert_fails_with(&redefine, expect, "define of an invalid domain");
    g_assert_cmpint(redefine.status, ==, 1);
    g_assert_cmpstr(redefine.out, ==, "");

    virsh(&after, ARGV("dumpxml", "--inactive", name));
    assert_ok(&after, "virsh dumpxml");
    g_assert_cmpstr(before.out, ==, after.out);
    cleanup_domain(name);
}

static void
test_cli_errors(void)
{
    g_autofree char *missing = g_strdup_printf("%s/none.xml", tmpdir);
    g_autofree char *file = domain_file("user-spm.xml", "spmtest-unused", NULL);
    g_auto(Run) usage = { 0 };
    g_auto(Run) nofile = { 0 };
    g_auto(Run) noconn = { 0 };
    g_auto(Run) nodom = { 0 };
    g_auto(Run) dumpusage = { 0 };
    g_auto(Run) editusage = { 0 };

    run(&usage, ARGV(virt_spm, "-c", URI, "define"));
    g_assert_cmpint(usage.status, ==, 2);
    g_assert_nonnull(strstr(usage.err, "error: usage: virt-spm define FILE"));
    run(&dumpusage, ARGV(virt_spm, "-c", URI, "dumpxml"));
    g_assert_cmpint(dumpusage.status, ==, 2);
    g_assert_nonnull(strstr(dumpusage.err, "error: usage: virt-spm dumpxml DOMAIN"));
    run(&editusage, ARGV(virt_spm, "-c", URI, "edit", "a", "b"));
    g_assert_cmpint(editusage.status, ==, 2);
    g_assert_nonnull(strstr(editusage.err, "error: usage: virt-spm edit DOMAIN"));

    run(&nofile, ARGV(virt_spm, "-c", URI, "define", missing));
    g_assert_cmpint(nofile.status, ==, 1);
    g_assert_nonnull(strstr(nofile.err, missing));

    run(&noconn, ARGV(virt_spm, "-c", "qemu+unix:///system?socket=/nonexistent/sock",
                      "define", file));
    assert_fails_with(&noconn, "error: cannot connect to 'qemu+unix:///system?socket=/nonexistent/sock': ",
                      "define without a daemon");
    /* one line, as every message */
    g_assert_true(strchr(noconn.err, '\n') == noconn.err + strlen(noconn.err) - 1);

    run(&nodom, ARGV(virt_spm, "-c", URI, "dumpxml", "spmtest-no-such-domain"));
    assert_fails_with(&nodom, "error: failed to get domain 'spmtest-no-such-domain': ",
                      "dumpxml of an unknown domain");
}

static void
test_edit(void)
{
    g_autofree char *name = unique_name("edit");
    g_autofree char *file = domain_file("user-spm.xml", name, NULL);
    g_autofree char *grow = g_strdup_printf("%s/grow.sh", tmpdir);
    g_autofree char *breakit = g_strdup_printf("%s/break.sh", tmpdir);
    g_autofree char *expect = NULL;
    g_auto(Run) def = { 0 };
    g_auto(Run) same = { 0 };
    g_auto(Run) edit = { 0 };
    g_auto(Run) dump = { 0 };
    g_auto(Run) broken = { 0 };
    g_auto(Run) after = { 0 };
    g_auto(Run) failing = { 0 };
    g_autoptr(SpmDomainDef) d = NULL;

    virt_spm_define(&def, file, TRUE);
    assert_ok(&def, "virt-spm define");

    run_full(&same, ARGV(virt_spm, "-c", URI, "edit", name), "", ARGV("EDITOR=true", "VISUAL="));
    assert_ok(&same, "virt-spm edit without change");
    expect = g_strdup_printf("Domain '%s' XML configuration not changed.\n", name);
    g_assert_cmpstr(same.out, ==, expect);
    g_clear_pointer(&expect, g_free);

    /* the SPM device shrinks to 64 MiB, in whichever quoting dumpxml chose */
    g_assert_true(g_file_set_contents(grow,
        "#!/bin/sh\n"
        "sed -i -e \"s|<size unit='MiB'>128</size>|<size unit='MiB'>64</size>|\" "
        "-e 's|<size unit=\"MiB\">128</size>|<size unit=\"MiB\">64</size>|' \"$1\"\n", -1, NULL));
    g_chmod(grow, 0755);
    {
        g_autofree char *env = g_strdup_printf("EDITOR=%s", grow);

        run_full(&edit, ARGV(virt_spm, "-c", URI, "edit", name), "", ARGV("VISUAL=", env));
    }
    assert_ok(&edit, "virt-spm edit");
    expect = g_strdup_printf("Domain '%s' XML configuration edited.\n", name);
    g_assert_cmpstr(edit.out, ==, expect);
    g_clear_pointer(&expect, g_free);
    run(&dump, ARGV(virt_spm, "-c", URI, "dumpxml", "--inactive", name));
    assert_ok(&dump, "virt-spm dumpxml");
    d = parse_def(dump.out);
    {
        g_autoptr(GPtrArray) spm = spm_devices(d);

        g_assert_cmpuint(spm->len, ==, 1);
        g_assert_cmpuint(((SpmMemDevice *)spm->pdata[0])->size, ==, 64 * 1024 * 1024);
    }
    /* the edited domain keeps the stand-in it was defined with, and starts */
    {
        g_auto(Run) raw = { 0 };
        g_auto(Run) start = { 0 };
        g_auto(Run) destroy = { 0 };

        virsh(&raw, ARGV("dumpxml", "--inactive", name));
        assert_ok(&raw, "virsh dumpxml");
        g_assert_nonnull(strstr(raw.out, "standIn=\"pc-dimm\""));
        g_assert_nonnull(strstr(raw.out, "<qemu:arg value='pc-dimm,"));
        virsh(&start, ARGV("start", name));
        assert_ok(&start, "virsh start after virt-spm edit");
        virsh(&destroy, ARGV("destroy", name));
        assert_ok(&destroy, "virsh destroy");
    }

    /* an edit libvirt rejects, without a terminal: fails, keeps the edit and the domain */
    g_assert_true(g_file_set_contents(breakit,
        "#!/bin/sh\nsed -i 's|</devices>|</devices><on_crash>explode</on_crash>|' \"$1\"\n",
        -1, NULL));
    g_chmod(breakit, 0755);
    {
        g_autofree char *env = g_strdup_printf("EDITOR=%s", breakit);

        run_full(&broken, ARGV(virt_spm, "-c", URI, "edit", name), "", ARGV("VISUAL=", env));
    }
    expect = g_strdup_printf("(domain '%s' unchanged; your edit is kept in ", name);
    assert_fails_with(&broken, expect, "edit that libvirt rejects");
    {
        const char *kept = strstr(broken.err, "kept in ") + strlen("kept in ");
        g_autofree char *path = g_strndup(kept, strcspn(kept, ")"));
        g_autofree char *content = NULL;

        g_assert_true(g_file_get_contents(path, &content, NULL, NULL));
        g_assert_nonnull(strstr(content, "explode"));
        g_unlink(path);
    }
    run(&after, ARGV(virt_spm, "-c", URI, "dumpxml", "--inactive", name));
    assert_ok(&after, "virt-spm dumpxml");
    g_assert_cmpstr(after.out, ==, dump.out);

    run_full(&failing, ARGV(virt_spm, "-c", URI, "edit", name), "", ARGV("VISUAL=false"));
    assert_fails_with(&failing, "error: editor 'false' failed on ", "a failing editor");

    /* on a terminal: the rejected edit is offered again, and the second one is defined */
    if (g_file_test("/usr/bin/script", G_FILE_TEST_IS_EXECUTABLE)) {
        g_autofree char *twice = g_strdup_printf("%s/twice.sh", tmpdir);
        g_autofree char *mark = g_strdup_printf("%s/twice.mark", tmpdir);
        g_autofree char *script = g_strdup_printf(
            "#!/bin/sh\n"
            "if [ -e '%s' ]; then\n"
            "  sed -i -e 's|<on_crash>explode</on_crash>||' "
            "-e 's|<size unit=\"MiB\">64</size>|<size unit=\"MiB\">32</size>|' "
            "-e \"s|<size unit='MiB'>64</size>|<size unit='MiB'>32</size>|\" \"$1\"\n"
            "else\n"
            "  touch '%s'; sed -i 's|</devices>|</devices><on_crash>explode</on_crash>|' \"$1\"\n"
            "fi\n", mark, mark);
        g_autofree char *cmd = g_strdup_printf("EDITOR=%s VISUAL= %s -c %s edit %s",
                                               twice, virt_spm, URI, name);
        g_auto(Run) tty = { 0 };
        g_auto(Run) last = { 0 };
        g_autoptr(SpmDomainDef) d2 = NULL;

        g_assert_true(g_file_set_contents(twice, script, -1, NULL));
        g_chmod(twice, 0755);
        run_full(&tty, ARGV("script", "-qec", cmd, "/dev/null"), "y\n", NULL);
        assert_ok(&tty, "virt-spm edit on a terminal");
        g_assert_nonnull(strstr(tty.out, "Failed. Try again? [y,n]:"));
        g_assert_nonnull(strstr(tty.out, "XML configuration edited."));
        run(&last, ARGV(virt_spm, "-c", URI, "dumpxml", "--inactive", name));
        assert_ok(&last, "virt-spm dumpxml");
        d2 = parse_def(last.out);
        {
            g_autoptr(GPtrArray) spm = spm_devices(d2);

            g_assert_cmpuint(spm->len, ==, 1);
            g_assert_cmpuint(((SpmMemDevice *)spm->pdata[0])->size, ==, 32 * 1024 * 1024);
        }
    }
    cleanup_domain(name);
}

/* Files of ours that name @name or @uuid anywhere they could be. */
static void
assert_nothing_left(const char *name, const char *uuid)
{
    g_autofree char *lib = daemon_path("/var/lib/virt-spm");
    g_autofree char *run_dir = daemon_path("/run/virt-spm");
    g_autofree char *cache = daemon_path("/var/cache/virt-spm");
    const char *dirs[] = { cache_dir, lib, run_dir, cache };
    g_autofree char *conf_there = g_strdup_printf("/etc/libvirt/qemu/%s.xml", name);
    g_autofree char *conf = daemon_path(conf_there);

    g_assert_false(g_file_test(conf, G_FILE_TEST_EXISTS));
    for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++) {
        g_auto(Run) grep = { 0 };

        if (!g_file_test(dirs[i], G_FILE_TEST_IS_DIR))
            continue;
        run(&grep, ARGV("grep", "-rlF", "-e", name, "-e", uuid, dirs[i]));
        if (grep.status != 1)
            g_error("left behind in %s after undefine: %s", dirs[i], grep.out);
    }
}

/* The command line of the running domain @name's QEMU, blanks for NULs. */
static char *
qemu_cmdline(const char *name)
{
    g_autofree char *pidfile_there = g_strdup_printf("/run/libvirt/qemu/%s.pid", name);
    g_autofree char *pidfile = daemon_path(pidfile_there);
    g_autofree char *pid = NULL;
    g_autofree char *procfile = NULL;
    char *cmdline = NULL;
    gsize cmdlen = 0;

    g_assert_true(g_file_get_contents(pidfile, &pid, NULL, NULL));
    /* (a chrooted libvirtd shares the host's pid namespace) */
    procfile = g_strdup_printf("/proc/%s/cmdline", g_strstrip(pid));
    g_assert_true(g_file_get_contents(procfile, &cmdline, &cmdlen, NULL));
    for (gsize i = 0; i + 1 < cmdlen; i++)
        if (cmdline[i] == '\0')
            cmdline[i] = ' ';
    return cmdline;
}

static void
test_start_stop_undefine_standin(void)
{
    g_autofree char *name = unique_name("standin");
    g_autofree char *file = domain_file("user-spm.xml", name, NULL);
    g_autofree char *cmdline = NULL;
    g_auto(Run) def = { 0 };
    g_auto(Run) start = { 0 };
    g_auto(Run) state = { 0 };
    g_auto(Run) uuid = { 0 };
    g_auto(Run) destroy = { 0 };
    g_auto(Run) undefine = { 0 };
    gint64 deadline;

    virt_spm_define(&def, file, STAND_IN);
    assert_ok(&def, "virt-spm define");
    virsh(&uuid, ARGV("domuuid", name));
    assert_ok(&uuid, "virsh domuuid");
    g_strstrip(uuid.out);

    virsh(&start, ARGV("start", name));
    assert_ok(&start, "virsh start of an SPM domain");
    virsh(&state, ARGV("domstate", name));
    g_assert_nonnull(strstr(state.out, "running"));

    /* QEMU got the generated device (the stand-in on the host) */
    cmdline = qemu_cmdline(name);
    g_assert_nonnull(strstr(cmdline, STARTED_DEVICE));
    g_assert_nonnull(strstr(cmdline, "ua-hbm0"));

    /* the live XML by id, as virsh: the user's form of the running domain */
    {
        g_auto(Run) id = { 0 };
        g_auto(Run) live = { 0 };
        g_autofree char *user = NULL;

        virsh(&id, ARGV("domid", name));
        assert_ok(&id, "virsh domid");
        g_strstrip(id.out);
        run(&live, ARGV(virt_spm, "-c", URI, "dumpxml", id.out));
        assert_ok(&live, "virt-spm dumpxml ID");
        g_assert_nonnull(strstr(live.out, name));
        g_assert_null(strstr(live.out, "qemu:commandline"));
        g_assert_true(g_file_get_contents(file, &user, NULL, NULL));
        assert_same_spm_devices(user, live.out);
    }

    virsh(&destroy, ARGV("destroy", name));
    assert_ok(&destroy, "virsh destroy");

    /* the hook handed started and stopped to the daemon's socket */
    deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!(events_mention("started", name) && events_mention("stopped", name)) &&
           g_get_monotonic_time() < deadline)
        g_usleep(10000);
    g_assert_true(events_mention("started", name));
    g_assert_true(events_mention("stopped", name));

    virsh(&undefine, ARGV("undefine", name));
    assert_ok(&undefine, "virsh undefine");
    assert_nothing_left(name, uuid.out);
}

static void
test_stale_refused(void)
{
    g_autofree char *name = unique_name("stale");
    g_autofree char *file = domain_file("user-spm.xml", name, NULL);
    g_autofree char *edited = g_strdup_printf("%s/%s-edited.xml", tmpdir, name);
    g_autofree char *expect = NULL;
    g_auto(Run) def = { 0 };
    g_auto(Run) dump = { 0 };
    g_auto(Run) redefine = { 0 };
    g_auto(Run) start = { 0 };
    g_autoptr(GString) s = NULL;

    virt_spm_define(&def, file, STAND_IN);
    assert_ok(&def, "virt-spm define");
    /* as plain virsh edit would do: change the last generated argument */
    virsh(&dump, ARGV("dumpxml", "--inactive", name));
    assert_ok(&dump, "virsh dumpxml");
    {
        const char *end = strstr(dump.out, "</qemu:commandline>");
        const char *value = NULL;

        g_assert_nonnull(end);
        for (const char *p = dump.out; (p = strstr(p, "<qemu:arg value=")) && p < end; p++)
            value = p + strlen("<qemu:arg value=") + 1;
        g_assert_nonnull(value);
        s = g_string_new_len(dump.out, value - dump.out);
        g_string_append_printf(s, "edited-%s", value);
    }
    g_assert_true(g_file_set_contents(edited, s->str, -1, NULL));
    virsh(&redefine, ARGV("define", edited));
    assert_ok(&redefine, "virsh define of the edited XML");

    virsh(&start, ARGV("start", name));
    expect = g_strdup_printf("virt-spm: refusing to start domain '%s': qemu:commandline: ", name);
    assert_fails_with(&start, expect, "start of a stale domain");
    cleanup_domain(name);
}

static void
test_no_spm_memory(void)
{
    g_autofree char *name = unique_name("nodevice");
    const char *emulator = g_getenv("SPM_TEST_EMULATOR");
    g_autofree char *file = domain_file("user-spm.xml", name, NULL);
    g_autofree char *expect = NULL;
    g_auto(Run) def = { 0 };
    g_auto(Run) start = { 0 };

    if (*root) {
        /* the root's QEMU 11.1 has sp-mem: the real device starts through the hook */
        g_autofree char *cmdline = NULL;
        g_auto(Run) state = { 0 };

        virt_spm_define(&def, file, FALSE);
        assert_ok(&def, "virt-spm define");
        virsh(&start, ARGV("start", name));
        assert_ok(&start, "virsh start of an SPM domain on the root's QEMU 11.1 (sp-mem)");
        virsh(&state, ARGV("domstate", name));
        g_assert_nonnull(strstr(state.out, "running"));
        cmdline = qemu_cmdline(name);
        g_assert_nonnull(strstr(cmdline, STARTED_DEVICE));
        g_assert_nonnull(strstr(cmdline, "ua-hbm0"));
        cleanup_domain(name);
        return;
    }

    /* the real device on Debian's QEMU 7.2 */
    virt_spm_define(&def, file, FALSE);
    assert_ok(&def, "virt-spm define");
    virsh(&start, ARGV("start", name));
    expect = g_strdup_printf("virt-spm: refusing to start domain '%s': emulator "
                             "'/usr/bin/qemu-system-x86_64' has neither 'sp-mem' (QEMU 11.1 and "
                             "later) nor 'spm-memory' (the v8 patch series, legacy)", name);
    assert_fails_with(&start, expect, "start on a QEMU without an SPM device");
    cleanup_domain(name);

    if (emulator) {
        g_autofree char *name2 = unique_name("spmqemu");
        g_autofree char *file2 = domain_file("user-spm.xml", name2, emulator);
        g_auto(Run) def2 = { 0 };
        g_auto(Run) start2 = { 0 };

        virt_spm_define(&def2, file2, FALSE);
        assert_ok(&def2, "virt-spm define for $SPM_TEST_EMULATOR");
        virsh(&start2, ARGV("start", name2));
        assert_ok(&start2, "virsh start on $SPM_TEST_EMULATOR");
        cleanup_domain(name2);
    }
}

static void
test_migrate_refused(void)
{
    g_autofree char *name = unique_name("migrate");
    g_autofree char *file = domain_file("user-spm.xml", name, NULL);
    g_autofree char *expect = NULL;
    g_autofree char *helper_env = g_strdup_printf("VIRT_SPM_HOOK_HELPER=%s", hook_helper);
    g_autofree char *config_env = g_strdup_printf("VIRT_SPM_HOOK_CONFIG=%s", config_file);
    g_auto(Run) def = { 0 };
    g_auto(Run) dump = { 0 };
    g_auto(Run) hook = { 0 };
    g_auto(Run) hook_end = { 0 };
    g_auto(Run) badconf = { 0 };

    virt_spm_define(&def, file, TRUE);
    assert_ok(&def, "virt-spm define");
    virsh(&dump, ARGV("dumpxml", "--inactive", name));
    assert_ok(&dump, "virsh dumpxml");

    /* a real migration needs two hosts: the hook as libvirt calls it on the target */
    run_full(&hook, ARGV(hook_front, name, "migrate", "begin", "-"), dump.out,
             ARGV(helper_env, config_env));
    g_assert_cmpint(hook.status, ==, 1);
    /* converted for sp-mem (the default), which migrates without its memory (QEMU 11.1.3) */
    expect = g_strdup_printf("virt-spm: refusing to migrate domain '%s': QEMU's 'sp-mem' device "
                             "migrates, but not the contents of its memory (QEMU 11.1.3 registers "
                             "no RAM of it for migration: the guest would find zeros where its HBM "
                             "was); shut it down and start it on the other host, or set [qemu] "
                             "migrate_memory = true for a QEMU that carries it\n", name);
    g_assert_cmpstr(hook.err, ==, expect);
    run_full(&hook_end, ARGV(hook_front, name, "migrate", "end", "-"), dump.out,
             ARGV(helper_env, config_env));
    g_assert_cmpint(hook_end.status, ==, 0);

    /* without its configuration the hook refuses rather than guess */
    run_full(&badconf, ARGV(hook_front, name, "prepare", "begin", "-"), dump.out,
             ARGV(helper_env, "VIRT_SPM_HOOK_CONFIG=/nonexistent/virt-spm.conf"));
    g_assert_cmpint(badconf.status, ==, 1);
    g_free(expect);
    expect = g_strdup_printf("virt-spm: refusing to prepare domain '%s': configuration file "
                             "'/nonexistent/virt-spm.conf': ", name);
    g_assert_true(g_str_has_prefix(badconf.err, expect));
    cleanup_domain(name);
}

static void
test_restore_refused(void)
{
    g_autofree char *name = unique_name("restore");
    g_autofree char *file = domain_file("user-spm.xml", name, NULL);
    g_autofree char *saved = g_strdup_printf("%s/%s.save", tmpdir, name);
    g_autofree char *saved_there = in_root(saved);
    g_autofree char *expect = NULL;
    g_auto(Run) def = { 0 };
    g_auto(Run) start = { 0 };
    g_auto(Run) save = { 0 };
    g_auto(Run) restore = { 0 };
    g_auto(Run) state = { 0 };

    virt_spm_define(&def, file, STAND_IN);
    assert_ok(&def, "virt-spm define");
    virsh(&start, ARGV("start", name));
    assert_ok(&start, "virsh start");
    /* pc-dimm and QEMU 11.1's sp-mem can be saved (the legacy spm-memory
     * could not even be saved) */
    virsh(&save, ARGV("save", name, saved_there));
    assert_ok(&save, "virsh save");
    virsh(&restore, ARGV("restore", saved_there));
    expect = g_strdup_printf("virt-spm: refusing to restore domain '%s': virt-spm does not yet "
                             "carry the HBM reservations", name);
    assert_fails_with(&restore, expect, "restore of an SPM domain");
    virsh(&state, ARGV("domstate", name));
    g_assert_nonnull(strstr(state.out, "shut off"));
    g_unlink(saved);
    cleanup_domain(name);
}

static void
test_nospm_starts(void)
{
    g_autofree char *name = unique_name("plain");
    g_autofree char *file = domain_file("nospm.xml", name, NULL);
    g_auto(Run) def = { 0 };
    g_auto(Run) start = { 0 };
    g_auto(Run) state = { 0 };

    virsh(&def, ARGV("define", file));
    assert_ok(&def, "virsh define");
    virsh(&start, ARGV("start", name));
    assert_ok(&start, "virsh start of a domain without SPM with the hook installed");
    virsh(&state, ARGV("domstate", name));
    g_assert_nonnull(strstr(state.out, "running"));
    g_assert_false(events_mention("started", name));
    cleanup_domain(name);
}

/* ---- huge pages and file backends (issue 13) ---- */

/*
 * A guest whose RAM takes 2 MiB pages and whose SPM device (pc-dimm stand-in
 * on QEMU 7.2) asks for @dev_mib of @page_kib pages, optionally bound to host
 * node 0, with files (<source type='file'/>) and prealloc as asked.
 */
static char *
hp_domain_file(const char *name, guint64 page_kib, guint dev_mib, gboolean file_backed,
               gboolean prealloc, gboolean bind_node0, const char *emulator)
{
    g_autofree char *path = g_strdup_printf("%s/%s.xml", tmpdir, name);
    g_autofree char *hp = page_kib ? g_strdup("<hugepages><page size='2' unit='MiB'/></hugepages>")
                                   : g_strdup("");
    g_autofree char *pagesize = page_kib ? g_strdup_printf("<pagesize unit='KiB'>%" G_GUINT64_FORMAT
                                                           "</pagesize>", page_kib)
                                         : g_strdup("");
    g_autofree char *text = g_strdup_printf(
        "<domain type='qemu'>\n"
        "  <name>%s</name>\n"
        "  <memory unit='MiB'>%u</memory>\n"
        "  <memoryBacking>%s%s%s</memoryBacking>\n"
        "  <vcpu>1</vcpu>\n"
        "  <os><type arch='x86_64' machine='q35'>hvm</type></os>\n"
        "  <features><acpi/></features>\n"
        "  <devices>\n"
        "    <emulator>%s</emulator>\n"
        "    <memory model='spm'>\n"
        "      <source>%s%s</source>\n"
        "      <target><size unit='MiB'>%u</size><node>1</node></target>\n"
        "      <alias name='ua-hbm0'/>\n"
        "    </memory>\n"
        "    <memballoon model='none'/>\n"
        "  </devices>\n"
        "</domain>\n",
        name, HP_RAM_MIB + dev_mib, hp, file_backed ? "<source type='file'/>" : "",
        prealloc ? "<allocation mode='immediate'/>" : "",
        emulator ? emulator : "/usr/bin/qemu-system-x86_64",
        bind_node0 ? "<nodemask>0</nodemask>" : "", pagesize, dev_mib);

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return g_steal_pointer(&path);
}

/* Pages of a pool nobody has taken or promised: free - reserved. */
static guint64
hp_available(const HpPool *p)
{
    return p->free_pages - p->resv;
}

static void
hp_assert_pool_equal(const HpPool *a, const HpPool *b, const char *what)
{
    if (a->nr != b->nr || a->free_pages != b->free_pages || a->resv != b->resv)
        g_error("%s: pool changed: nr %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
                ", free %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT ", resv %" G_GUINT64_FORMAT
                " -> %" G_GUINT64_FORMAT, what, a->nr, b->nr, a->free_pages, b->free_pages,
                a->resv, b->resv);
}

/* In the child of a huge page case: the parent's set-up. */
static gboolean
hp_ready(void)
{
    hp_import(&hugepages);
    g_assert_true(hugepages.ready);
    return TRUE;
}

/* The per-domain directories virt-spm may make for @name, on this run's host. */
static GPtrArray *
hp_domain_dirs(const char *name)
{
    GPtrArray *dirs = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *leaf = g_strconcat("virt-spm-", name, NULL);

    g_ptr_array_add(dirs, g_build_filename(root, "/var/lib/libvirt/qemu/ram", leaf, NULL));
    g_ptr_array_add(dirs, g_build_filename(hugepages.mount_2m, "libvirt", "qemu", leaf, NULL));
    if (hugepages.mount_1g)
        g_ptr_array_add(dirs, g_build_filename(hugepages.mount_1g, "libvirt", "qemu", leaf, NULL));
    return dirs;
}

static void
hp_assert_no_domain_files(const char *name)
{
    g_autoptr(GPtrArray) dirs = hp_domain_dirs(name);

    for (guint i = 0; i < dirs->len; i++) {
        if (g_file_test(dirs->pdata[i], G_FILE_TEST_EXISTS))
            g_error("left behind after the stop: %s", (char *)dirs->pdata[i]);
    }
}

/*
 * The guest of issue 13: RAM on 2 MiB pages, the device on one 1 GiB page
 * (2 MiB pages when the host cannot give a 1 GiB one).  While it runs,
 * exactly the device's pages and the RAM's are gone from their pools (with
 * prealloc they are taken, without it they are reserved); after the stop
 * every pool is as before and no file of the domain remains.
 */
static void
hp_start_stop(gboolean file_backed, gboolean prealloc, const char *emulator)
{
    g_autofree char *name = unique_name(emulator ? "hp-spm-memory"
                                                 : file_backed ? "hp-file" : "hp-memfd");
    gboolean one_g = hugepages.mount_1g != NULL;
    guint64 dev_kib = one_g ? 1048576 : 2048;
    guint dev_mib = one_g ? 1024 : 256;
    g_autofree char *file = hp_domain_file(name, dev_kib, dev_mib, file_backed, prealloc, FALSE,
                                           emulator);
    g_autofree char *dev_dir = NULL;
    HpPool p2_before, p1_before = { 0 }, p2_run, p1_run = { 0 }, p2_after, p1_after = { 0 };
    guint64 ram_pages = HP_RAM_MIB / 2;
    g_auto(Run) def = { 0 };
    g_auto(Run) start = { 0 };
    g_auto(Run) destroy = { 0 };

    if (!one_g)
        g_test_message("1 GiB part skipped: %s", hugepages.skip_1g);
    {
        g_autofree char *leaf = g_strconcat("virt-spm-", name, NULL);

        dev_dir = g_build_filename(one_g ? hugepages.mount_1g : hugepages.mount_2m,
                                   "libvirt", "qemu", leaf, NULL);
    }

    g_assert_true(hp_pool_read(2048, &p2_before));
    if (one_g)
        g_assert_true(hp_pool_read(1048576, &p1_before));

    /* the v8 emulator has its device; the default QEMU has one in the root */
    virt_spm_define(&def, file, emulator ? FALSE : STAND_IN);
    assert_ok(&def, "virt-spm define of a huge page guest");
    virsh(&start, ARGV("start", name));
    assert_ok(&start, "virsh start of a huge page guest");
    {
        /* the device itself: sp-mem in the root, the stand-in on the host */
        g_autofree char *cmdline = qemu_cmdline(name);

        g_assert_nonnull(strstr(cmdline, emulator ? "-device spm-memory," : STARTED_DEVICE));
    }

    g_assert_true(hp_pool_read(2048, &p2_run));
    if (one_g) {
        g_assert_true(hp_pool_read(1048576, &p1_run));
        /* the device's one page, from the 1 GiB pool and from no other */
        g_assert_cmpuint(hp_available(&p1_before) - hp_available(&p1_run), ==, 1);
        if (prealloc)
            g_assert_cmpuint(p1_before.free_pages - p1_run.free_pages, ==, 1);
        g_assert_cmpuint(hp_available(&p2_before) - hp_available(&p2_run), ==, ram_pages);
    } else {
        g_assert_cmpuint(hp_available(&p2_before) - hp_available(&p2_run), ==,
                         ram_pages + dev_mib / 2);
    }
    /* libvirt preallocates the RAM's huge pages: those are taken, not only reserved */
    g_assert_cmpuint(p2_before.free_pages - p2_run.free_pages, >=, ram_pages);

    if (file_backed) {
        GStatBuf st;

        /* made by the hook before QEMU started, for the user QEMU runs as */
        g_assert_cmpint(g_lstat(dev_dir, &st), ==, 0);
        g_assert_true(S_ISDIR(st.st_mode));
        g_assert_cmpuint(st.st_mode & 0777, ==, 0700);
    } else {
        g_assert_false(g_file_test(dev_dir, G_FILE_TEST_EXISTS));
    }

    virsh(&destroy, ARGV("destroy", name));
    assert_ok(&destroy, "virsh destroy");

    g_assert_true(hp_pool_read(2048, &p2_after));
    hp_assert_pool_equal(&p2_before, &p2_after, "2 MiB pool after the stop");
    if (one_g) {
        g_assert_true(hp_pool_read(1048576, &p1_after));
        hp_assert_pool_equal(&p1_before, &p1_after, "1 GiB pool after the stop");
    }
    hp_assert_no_domain_files(name);
    cleanup_domain(name);
}

static void
test_hugepages_memfd(void)
{
    if (hp_ready())
        hp_start_stop(FALSE, FALSE, NULL);
}

static void
test_hugepages_memfd_prealloc(void)
{
    if (hp_ready())
        hp_start_stop(FALSE, TRUE, NULL);
}

static void
test_hugepages_file(void)
{
    if (hp_ready())
        hp_start_stop(TRUE, FALSE, NULL);
}

static void
test_hugepages_file_prealloc(void)
{
    if (hp_ready())
        hp_start_stop(TRUE, TRUE, NULL);
}

/*
 * A QEMU with the spm-memory device: $SPM_TEST_EMULATOR, else the one
 * scripts/build-spm-qemu.sh leaves in $SPM_QEMU_DIR (default
 * ~/.cache/spm-qemu) when it is complete (firmware linked); NULL if none.
 */
static char *
spm_memory_qemu(void)
{
    const char *env = g_getenv("SPM_TEST_EMULATOR");
    const char *qemu_dir = g_getenv("SPM_QEMU_DIR");
    g_autofree char *base = qemu_dir && *qemu_dir
        ? g_strdup(qemu_dir) : g_build_filename(g_get_home_dir(), ".cache", "spm-qemu", NULL);
    g_autofree char *cached = g_build_filename(base, "qemu-10.2.2", "build",
                                               "qemu-system-x86_64", NULL);

    g_autofree char *dir = g_path_get_dirname(cached);
    /* build.sh links SeaBIOS there last: without it the tree is being rebuilt */
    g_autofree char *bios = g_build_filename(dir, "qemu-bundle", "usr", "local", "share", "qemu",
                                             "bios-256k.bin", NULL);

    if (env && *env)
        return g_strdup(env);
    if (g_file_test(cached, G_FILE_TEST_IS_EXECUTABLE) && g_file_test(bios, G_FILE_TEST_EXISTS))
        return g_steal_pointer(&cached);
    return NULL;
}

/* The guest of issue 13 on the real spm-memory device, when there is one. */
static void
test_hugepages_spm_memory(void)
{
    g_autofree char *emulator = spm_memory_qemu();

    if (!hp_ready())
        return;
    if (!emulator) {
        /* as for the other real-device parts: the stand-in cases cover the rest */
        g_test_message("no usable QEMU with spm-memory ($SPM_TEST_EMULATOR, or a complete "
                       "~/.cache/spm-qemu): only the pc-dimm stand-in was started");
        return;
    }
    hp_start_stop(FALSE, FALSE, emulator);
}

/*
 * A device asking more pages than its node has: the hook refuses with one
 * line naming the device, the page size, the node and the numbers, and
 * nothing is taken.
 */
static void
test_hugepages_refused(void)
{
    g_autofree char *name = unique_name("hp-refused");
    gboolean one_g = FALSE;
    guint64 page_kib;
    guint dev_mib;
    HpPool before, after;
    g_autofree char *file = NULL;
    g_autofree char *expected = NULL;
    g_auto(Run) def = { 0 };
    g_auto(Run) start = { 0 };

    if (!hp_ready())
        return;
    one_g = hugepages.mount_1g != NULL;
    page_kib = one_g ? 1048576 : 2048;
    g_assert_true(hp_pool_read(page_kib, &before));
    /* one page more than the host has free */
    dev_mib = (guint)((hp_available(&before) + 1) * (page_kib / 1024));
    file = hp_domain_file(name, page_kib, dev_mib, FALSE, FALSE, TRUE, NULL);
    expected = g_strdup_printf("memory 'ua-hbm0' needs %" G_GUINT64_FORMAT " huge pages of %s "
                               "on host node 0", hp_available(&before) + 1,
                               one_g ? "1 GiB" : "2 MiB");

    virt_spm_define(&def, file, STAND_IN);
    assert_ok(&def, "virt-spm define");
    virsh(&start, ARGV("start", name));
    assert_fails_with(&start, expected, "virsh start of a guest asking too many huge pages");
    /* the reason is the hook's one line, as libvirt shows it */
    {
        const char *line = strstr(start.err, "virt-spm: refusing to start domain");

        g_assert_nonnull(line);
        g_assert_nonnull(strstr(line, expected));
        g_assert_true(strchr(line, '\n') == NULL || strchr(line, '\n') > strstr(line, expected));
    }
    g_assert_true(hp_pool_read(page_kib, &after));
    hp_assert_pool_equal(&before, &after, "pool after the refused start");
    hp_assert_no_domain_files(name);
    cleanup_domain(name);
}

/* <memoryBacking><source type='file'/> without huge pages: libvirt's memory_backing_dir. */
static void
test_file_backed_dir(void)
{
    g_autofree char *name = unique_name("file");
    g_autofree char *file = hp_domain_file(name, 0, 128, TRUE, FALSE, FALSE, NULL);
    g_autofree char *leaf = g_strconcat("virt-spm-", name, NULL);
    g_autofree char *dir = g_build_filename(root, "/var/lib/libvirt/qemu/ram", leaf, NULL);
    g_auto(Run) def = { 0 };
    g_auto(Run) start = { 0 };
    g_auto(Run) destroy = { 0 };

    virt_spm_define(&def, file, STAND_IN);
    assert_ok(&def, "virt-spm define of a file-backed guest");
    virsh(&start, ARGV("start", name));
    assert_ok(&start, "virsh start of a file-backed guest");
    g_assert_true(g_file_test(dir, G_FILE_TEST_IS_DIR));
    virsh(&destroy, ARGV("destroy", name));
    assert_ok(&destroy, "virsh destroy");
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    cleanup_domain(name);
}

/* ---- set-up and tear-down ---- */

/*
 * The configuration the hook reads, and virt-spm define in the root's run.
 * The chrooted daemon and hook see the run's hugetlbfs mounts at their
 * paths inside the root, while the host's /proc/mounts, which virt-spm
 * define reads, shows ROOT/run/...: define would plan file paths the
 * root's QEMU cannot open, and the hook rightly refuses them.  An operator
 * whose virt-spm sees other mounts than libvirtd sets [host]
 * hugetlbfs_mount, and so does this run.
 */
static void
write_config(void)
{
    g_autoptr(GString) text = g_string_new("[plan]\n");

    if (*root && hugepages.ready) {
        g_autofree char *m2 = in_root(hugepages.mount_2m);
        g_autofree char *m1 = hugepages.mount_1g ? in_root(hugepages.mount_1g) : NULL;

        g_string_append_printf(text, "[host]\nhugetlbfs_mount = 2MiB:%s", m2);
        if (m1)
            g_string_append_printf(text, "; 1GiB:%s", m1);
        g_string_append_c(text, '\n');
    }
    g_assert_true(g_file_set_contents(config_file, text->str, -1, NULL));
}

static void
write_wrapper(void)
{
    /* the paths the hook reads, as libvirtd (and so the hook) sees them */
    g_autofree char *cache_there = in_root(cache_dir);
    g_autofree char *config_there = in_root(config_file);
    g_autofree char *socket_there = in_root(control_socket);
    g_autofree char *text = g_strdup_printf(
        "#!/bin/sh\n"
        "# virt-spm hook of test run %d (test-libvirt-real); removed by the test\n"
        "# libvirtd gives hooks a clean environment: in a sanitizer build\n"
        "# LeakSanitizer still runs (a leak fails the hook), and must see\n"
        "# what GLib's slice allocator would hide (tests/meson.build)\n"
        "G_SLICE=always-malloc "
        "VIRT_SPM_HOOK_HELPER='%s' VIRT_SPM_HOOK_CACHE_DIR='%s' VIRT_SPM_HOOK_CONFIG='%s' "
        "VIRT_SPM_CONTROL_SOCKET='%s' exec '%s' \"$@\"\n",
        (int)getpid(), installed_helper, cache_there, config_there, socket_there, installed_front);

    g_assert_true(g_file_set_contents(wrapper, text, -1, NULL));
}

static int
harness(const char *const *args)
{
    g_autoptr(GPtrArray) a = g_ptr_array_new();
    g_auto(Run) r = { 0 };

    g_ptr_array_add(a, harness_path);
    for (const char *const *p = args; *p; p++)
        g_ptr_array_add(a, (char *)*p);
    g_ptr_array_add(a, NULL);
    run(&r, (const char *const *)a->pdata);
    if (r.status != 0)
        fprintf(stderr, "# %s", r.err);
    return r.status;
}

static char *
lost_marker(void)
{
    return g_build_filename(tmpdir, "lost-libvirtd", NULL);
}

/*
 * Each case runs in a child process: a failing one cannot skip the
 * tear-down.  Other test programs on this host restart libvirtd too (the
 * daemon's tests): a case whose failure was a lost libvirtd (the child
 * leaves a marker) runs once more, after the daemon answers again; any
 * other failure stands.
 */
static void
run_case(gconstpointer data)
{
    g_autofree char *marker = lost_marker();

    if (g_test_subprocess()) {
        ((GTestFunc)data)();
        return;
    }
    for (int attempt = 1; attempt <= 2; attempt++) {
        g_unlink(marker);
        g_test_trap_subprocess(NULL, 300 * G_USEC_PER_SEC,
                               G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
        if (g_test_trap_has_passed() || !g_file_test(marker, G_FILE_TEST_EXISTS))
            break;
        g_test_message("libvirtd was restarted by someone else during the case: once more");
        if (harness(ARGV("up")) != 0)
            break;
    }
    g_test_trap_assert_passed();
}

/* A huge page case: skipped, in the parent, when the host could not be set up. */
static void
run_hp_case(gconstpointer data)
{
    if (!g_test_subprocess() && !hugepages.ready) {
        g_test_skip(hugepages.skip ? hugepages.skip : "huge pages were not set up");
        return;
    }
    run_case(data);
}

int
main(int argc, char **argv)
{
    const char *src = g_getenv("SPM_SOURCE_ROOT");
    g_autoptr(GSocketListener) listener = NULL;
    GThread *listener_thread = NULL;
    g_autoptr(GSocketAddress) addr = NULL;
    g_autoptr(GError) error = NULL;
    static const struct {
        const char *path;
        GTestFunc func;
    } cases[] = {
        { "/libvirt/cli-errors", test_cli_errors },
        { "/libvirt/define-dumpxml-roundtrip", test_define_dumpxml_roundtrip },
        { "/libvirt/failed-define-keeps-old", test_failed_define_keeps_old },
        { "/libvirt/edit", test_edit },
        { "/libvirt/start-stop-undefine-standin", test_start_stop_undefine_standin },
        { "/libvirt/stale-refused", test_stale_refused },
        { "/libvirt/no-spm-memory", test_no_spm_memory },
        { "/libvirt/migrate-refused", test_migrate_refused },
        { "/libvirt/restore-refused", test_restore_refused },
        { "/libvirt/nospm-starts", test_nospm_starts },
        { "/libvirt/file-backed-dir", test_file_backed_dir },
        { "/libvirt/hugepages/memfd", test_hugepages_memfd },
        { "/libvirt/hugepages/memfd-prealloc", test_hugepages_memfd_prealloc },
        { "/libvirt/hugepages/file", test_hugepages_file },
        { "/libvirt/hugepages/file-prealloc", test_hugepages_file_prealloc },
        { "/libvirt/hugepages/refused", test_hugepages_refused },
        { "/libvirt/hugepages/spm-memory", test_hugepages_spm_memory },
    };
    int status, rc;
    int run_lock;
    g_autofree char *libvirtd = NULL;
    g_autofree char *qemu = NULL;

    /* "sid": the sid root's libvirtd; the children are told by the environment */
    if (argc > 1 && g_str_equal(argv[1], "sid")) {
        g_setenv("SPM_LIBVIRT_TEST_SID", "1", TRUE);
        memmove(&argv[1], &argv[2], (argc - 1) * sizeof(*argv));
        argc--;
    }
    g_test_init(&argc, &argv, NULL);
    if (geteuid() != 0) {
        fprintf(stderr, "needs root (libvirtd, /etc/libvirt/hooks)\n");
        return 77;
    }
    if (g_getenv("SPM_LIBVIRT_TEST_SID")) {
        g_autofree char *skip = NULL;

        if (!(root = spm_test_sid_root(&skip))) {
            fprintf(stderr, "%s\n", skip);
            return 77;
        }
    } else {
        root = g_strdup("");
    }
    libvirtd = daemon_path("/usr/sbin/libvirtd");
    qemu = daemon_path("/usr/bin/qemu-system-x86_64");
    if (!g_file_test("/usr/bin/virsh", G_FILE_TEST_IS_EXECUTABLE) ||
        !g_file_test(libvirtd, G_FILE_TEST_IS_EXECUTABLE) ||
        !g_file_test(qemu, G_FILE_TEST_IS_EXECUTABLE)) {
        fprintf(stderr, "libvirt or QEMU is not installed\n");
        return 77;
    }

    /* the children find the parent's run directory in the environment */
    if (g_test_subprocess()) {
        tmpdir = g_strdup(g_getenv("SPM_LIBVIRT_TEST_DIR"));
    } else {
        if (*root) {
            /* where the root's libvirtd and hook see it too */
            tmpdir = g_build_filename(root, "tmp", "spm-libvirt-XXXXXX", NULL);
            g_assert_nonnull(g_mkdtemp_full(tmpdir, 0755));
        } else {
            tmpdir = g_dir_make_tmp("spm-libvirt-XXXXXX", &error);
            g_assert_no_error(error);
        }
        g_chmod(tmpdir, 0755);
        g_setenv("SPM_LIBVIRT_TEST_DIR", tmpdir, TRUE);
        {
            g_autofree char *run_id = g_strdup_printf("%d", (int)getpid());

            g_setenv("SPM_LIBVIRT_TEST_RUN", run_id, TRUE);
        }
    }
    harness_path = g_build_filename(src, "tests", "libvirt", "libvirtd-harness.sh", NULL);
    virt_spm = spm_test_program("cli", "bin", "virt-spm");
    hook_front = spm_test_program("hook", "sbin", "virt-spm-qemu-hook");
    hook_helper = spm_test_program("hook", "libexec", "virt-spm-hook-helper");
    if (*root) {
        /* the root's libvirtd runs its hooks inside the root, with its libraries */
        g_autofree char *build = spm_test_sid_hook_build(src);

        installed_front = g_build_filename(build, "hook", "virt-spm-qemu-hook", NULL);
        installed_helper = g_build_filename(build, "hook", "virt-spm-hook-helper", NULL);
    } else {
        installed_front = g_strdup(hook_front);
        installed_helper = g_strdup(hook_helper);
    }
    cache_dir = g_build_filename(tmpdir, "cache", NULL);
    control_socket = g_build_filename(tmpdir, "control.sock", NULL);
    config_file = g_build_filename(tmpdir, "virt-spm.conf", NULL);
    events_file = g_build_filename(tmpdir, "events.log", NULL);
    wrapper = g_build_filename(tmpdir, "hook", NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        /* the root's daemon runs the root's QEMU 11.1 (sp-mem); the v8
         * build of that case is the host's, and runs on the host tier */
        if (*root && cases[i].func == test_hugepages_spm_memory)
            continue;
        g_test_add_data_func(cases[i].path, cases[i].func,
                             g_str_has_prefix(cases[i].path, "/libvirt/hugepages/") ? run_hp_case
                                                                                    : run_case);
    }
    if (g_test_subprocess())
        return g_test_run();

    if (*root) {
        gboolean failed = FALSE;
        g_autofree char *why = spm_test_sid_root_setup(src, root, &failed);

        if (why) {
            fprintf(stderr, "%s\n", why);
            g_rmdir(tmpdir);
            return failed ? 1 : 77;
        }
    }
    /* one run at a time on this host: each run restarts libvirtd twice */
    if ((run_lock = spm_test_libvirt_run_lock(&error)) < 0)
        g_error("%s", error->message);
    hook_name = g_strdup_printf("virt-spm-test-%d", (int)getpid());
    write_wrapper();

    listener = g_socket_listener_new();
    addr = g_unix_socket_address_new(control_socket);
    g_socket_listener_add_address(listener, addr, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                  NULL, NULL, &error);
    g_assert_no_error(error);
    listener_cancel = g_cancellable_new();
    listener_thread = g_thread_new("control", control_listener, listener);

    /* before libvirtd restarts with the hook: it reads the mounts when it starts */
    {
        /* where the daemon looks: the root's libvirtd and hook are chrooted
         * and see only the mounts inside the root */
        g_autofree char *run_dir = g_build_filename(*root ? root : "/", "run", NULL);

        hp_setup(&hugepages, HP_PAGES_2M, run_dir);
    }
    hp_export(&hugepages);
    write_config();
    if (hugepages.skip)
        g_test_message("huge page cases will skip: %s", hugepages.skip);
    else if (hugepages.skip_1g)
        g_test_message("1 GiB huge page parts will skip: %s", hugepages.skip_1g);
    if ((status = harness(ARGV("install", hook_name, wrapper))) != 0) {
        hp_unmount(&hugepages);
        harness(ARGV("remove", hook_name));
        hp_restore_pools(&hugepages);
        return status == 77 ? 77 : 1;
    }

    /* a failed case is reported, and the tear-down below still runs */
    g_test_set_nonfatal_assertions();
    rc = g_test_run();

    /* domains a failed case left behind */
    {
        g_auto(Run) list = { 0 };
        g_autofree char *prefix = g_strdup_printf("spmtest-%d-", (int)getpid());
        g_auto(GStrv) names = NULL;

        virsh(&list, ARGV("list", "--all", "--name"));
        names = g_strsplit(list.out ? list.out : "", "\n", -1);
        for (char **n = names; *n; n++) {
            if (g_str_has_prefix(g_strstrip(*n), prefix))
                cleanup_domain(*n);
        }
    }
    /* the mounts go before libvirtd's last restart, so that it forgets them */
    hp_unmount(&hugepages);
    /* the hook goes, libvirtd restarts without it */
    if (harness(ARGV("remove", hook_name)) != 0)
        rc = 1;
    if (!hp_restore_pools(&hugepages)) {
        fprintf(stderr, "# huge page pools not back to their starting sizes\n");
        rc = 1;
    }
    g_cancellable_cancel(listener_cancel);
    g_thread_join(listener_thread);
    g_socket_listener_close(listener);
    g_clear_object(&listener_cancel);
    {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);

        if (system(cmd) != 0)
            rc = 1;
    }
    if (run_lock >= 0)
        close(run_lock);
    return rc;
}
