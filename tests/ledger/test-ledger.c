/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-ledger.c: the host inventory and the HBM ledger, without libvirt:
 * [host] spm_nodes parsing, a fake sysfs tree with several nodes, the
 * exact accounting of node sets, refusals, node choice, the file (atomic,
 * corrupt, unreadable) and the lock between processes.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "spm-error.h"
#include "spm-ledger.h"
#include "spm-ledger-domain.h"
#include "spm-xml.h"

#define GiB (G_GUINT64_CONSTANT(1) << 30)

/* A sysfs tree: nodes 0-1 with CPUs, 2-3 memory-only with 64 GiB each. */
static char *
make_sysfs(void)
{
    g_autoptr(GError) err = NULL;
    char *root = g_dir_make_tmp("spm-sysfs-XXXXXX", &err);
    g_autofree char *base = NULL;

    g_assert_no_error(err);
    base = g_build_filename(root, "devices/system/node", NULL);
    for (guint id = 0; id < 4; id++) {
        g_autofree char *dir = g_strdup_printf("%s/node%u", base, id);
        g_autofree char *file = g_build_filename(dir, "meminfo", NULL);
        g_autofree char *text = g_strdup_printf("Node %u MemTotal:       %" G_GUINT64_FORMAT " kB\n"
                                                "Node %u MemFree:        1024 kB\n",
                                                id, (guint64)(id < 2 ? 16 : 64) * 1024 * 1024, id);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(file, text, -1, NULL));
    }
    {
        g_autofree char *m = g_build_filename(base, "has_memory", NULL);
        g_autofree char *c = g_build_filename(base, "has_cpu", NULL);

        g_assert_true(g_file_set_contents(m, "0-3\n", -1, NULL));
        g_assert_true(g_file_set_contents(c, "0-1\n", -1, NULL));
    }
    return root;
}

static void
rm_rf(const char *path)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", path);

    g_assert_cmpint(system(cmd), ==, 0);
}

static void
test_inventory_parse(void)
{
    g_autofree char *sysfs = make_sysfs();
    g_autoptr(GError) err = NULL;
    g_autoptr(SpmHostInventory) inv = spm_host_inventory_parse(" 3:32GiB,2 ", sysfs, &err);
    g_autofree char *set = NULL;
    SpmNodeBits bits = 0;

    g_assert_no_error(err);
    g_assert_cmpuint(inv->nodes->len, ==, 2);
    /* sorted by id; node 2 from meminfo */
    g_assert_cmpuint(g_array_index(inv->nodes, SpmHostNode, 0).id, ==, 2);
    g_assert_cmpuint(g_array_index(inv->nodes, SpmHostNode, 0).capacity, ==, 64 * GiB);
    g_assert_true(g_array_index(inv->nodes, SpmHostNode, 0).from_sysfs);
    g_assert_cmpuint(g_array_index(inv->nodes, SpmHostNode, 1).capacity, ==, 32 * GiB);
    /* memory-only candidates */
    g_assert_cmpuint(inv->candidates->len, ==, 2);
    g_assert_cmpuint(g_array_index(inv->candidates, guint, 0), ==, 2);
    g_assert_cmpuint(g_array_index(inv->candidates, guint, 1), ==, 3);

    g_assert_true(spm_host_nodeset_parse(inv, "nodemask", "2-3", &bits, &err));
    g_assert_cmpuint(bits, ==, 3);
    set = spm_host_nodeset_format(inv, bits);
    g_assert_cmpstr(set, ==, "2-3");
    g_assert_true(spm_host_nodeset_parse(inv, "nodemask", "0-7,^2", &bits, &err) == FALSE);
    g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
    g_assert_cmpstr(err->message, ==,
                    "nodemask '0-7,^2': host node 0 is not in [host] spm_nodes (2-3)");
    g_clear_error(&err);
    g_assert_true(spm_host_nodeset_parse(inv, "nodemask", "2-3,^2", &bits, &err));
    g_assert_cmpuint(bits, ==, 2);
    rm_rf(sysfs);
}

/* The most nodes the ledger accounts exactly, and node choice over all of them. */
static void
test_inventory_max(void)
{
    g_autoptr(GString) v = g_string_new(NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(SpmHostInventory) inv = NULL;
    g_autoptr(SpmHostInventory) too_many = NULL;
    g_autofree char *dir = g_dir_make_tmp("spm-ledger-XXXXXX", &err);
    g_autoptr(SpmLedger) l = NULL;
    g_auto(GStrv) sets = NULL;
    guint64 sizes[] = { 17 * GiB, 15 * GiB, 100 * GiB };

    for (guint i = 0; i < SPM_HOST_MAX_NODES; i++)
        g_string_append_printf(v, "%s%u:1GiB", i ? "," : "", 100 + 2 * i);
    inv = spm_host_inventory_parse(v->str, "/nonexistent", &err);
    g_assert_no_error(err);
    g_assert_cmpuint(inv->nodes->len, ==, SPM_HOST_MAX_NODES);
    l = spm_ledger_open(dir, SPM_LEDGER_READ, &err);
    g_assert_no_error(err);
    g_assert_false(spm_ledger_choose(l, inv, sizes, 3, &sets, &err));
    g_assert_nonnull(strstr(err->message, "SPM device 0 (17 GiB)"));
    g_clear_error(&err);
    g_assert_true(spm_ledger_choose(l, inv, sizes + 1, 1, &sets, &err));
    /* sparse ids: no ranges */
    g_assert_cmpstr(sets[0], ==, "100,102,104,106,108,110,112,114,116,118,120,122,124,126,128");

    g_string_append(v, ",999:1GiB");
    too_many = spm_host_inventory_parse(v->str, "/nonexistent", &err);
    g_assert_null(too_many);
    g_assert_cmpstr(err->message, ==, "[host] spm_nodes: more than 16 host nodes");
    rm_rf(dir);
}

static void
test_inventory_bad(void)
{
    g_autofree char *sysfs = make_sysfs();
    static const struct {
        const char *value;
        const char *message;
    } cases[] = {
        { "2:64GiB,,3", "[host] spm_nodes: empty entry in '2:64GiB,,3'" },
        { "two:64GiB", "[host] spm_nodes: 'two:64GiB' is not NODE or NODE:SIZE with a host node number from 0 to 1023 (e.g. '2:64GiB')" },
        { "2:64GiB, 2:1GiB", "[host] spm_nodes: host node 2 is listed twice" },
        { "2:", "[host] spm_nodes: host node 2: a size must follow ':'" },
        { "2:0", "[host] spm_nodes: host node 2 has a size of 0" },
        { "2:64XB", NULL },
        { "-1:1GiB", NULL },
        { "2:2048PiB", "[host] spm_nodes: host node 2: '2048PiB' is more than 1 PiB" },
        { "9", NULL },          /* no meminfo for node 9 */
        { "0-3", NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(SpmHostInventory) inv = spm_host_inventory_parse(cases[i].value, sysfs, &err);

        g_test_message("spm_nodes = %s", cases[i].value);
        g_assert_null(inv);
        g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
        g_assert_null(strchr(err->message, '\n'));
        g_assert_nonnull(strstr(err->message, "spm_nodes"));
        if (cases[i].message)
            g_assert_cmpstr(err->message, ==, cases[i].message);
    }
    rm_rf(sysfs);
}

typedef struct {
    char *sysfs;
    char *dir;
    SpmHostInventory *inv;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;

    f->sysfs = make_sysfs();
    f->dir = g_dir_make_tmp("spm-ledger-XXXXXX", &err);
    g_assert_no_error(err);
    f->inv = spm_host_inventory_parse(data ? data : "2:64GiB,3:64GiB", f->sysfs, &err);
    g_assert_no_error(err);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    spm_host_inventory_free(f->inv);
    rm_rf(f->sysfs);
    rm_rf(f->dir);
    g_free(f->sysfs);
    g_free(f->dir);
}

static gboolean
reserve1(Fixture *f, const char *uuid, const char *domain, const char *device,
         const char *nodeset, guint64 bytes, SpmLedgerRefusal *refusal, GError **error)
{
    g_autoptr(SpmLedger) l = spm_ledger_open(f->dir, SPM_LEDGER_WRITE, error);
    SpmLedgerRequest req = { (char *)device, (char *)nodeset, bytes };

    if (!l)
        return FALSE;
    if (!spm_ledger_reserve(l, f->inv, uuid, domain, &req, 1, refusal, error))
        return FALSE;
    return spm_ledger_commit(l, error);
}

static void
test_reserve_refuse(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_auto(SpmLedgerRefusal) refusal = { 0 };
    g_autoptr(SpmLedger) l = NULL;

    g_assert_true(reserve1(f, "u1", "vm1", "ua-hbm0", "2", 40 * GiB, NULL, &err));
    g_assert_no_error(err);
    g_assert_true(reserve1(f, "u2", "vm2", "ua-hbm0", "2", 24 * GiB, NULL, &err));
    g_assert_no_error(err);
    /* the same domain again replaces its own holding: no double booking */
    g_assert_true(reserve1(f, "u2", "vm2", "ua-hbm0", "2", 24 * GiB, NULL, &err));
    g_assert_no_error(err);

    g_assert_false(reserve1(f, "u3", "vm3", "ua-big", "2", 1 * GiB, &refusal, &err));
    g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
    g_assert_cmpstr(err->message, ==,
                    "device 'ua-big' asks 1 GiB of host node 2 but nothing is free there (capacity 64 GiB; "
                    "held by vm1/ua-hbm0 40 GiB, vm2/ua-hbm0 24 GiB)");
    g_assert_cmpstr(refusal.nodeset, ==, "2");
    g_assert_cmpuint(refusal.asked, ==, GiB);
    g_assert_cmpuint(refusal.free, ==, 0);
    {
        g_auto(GStrv) fields = spm_ledger_refusal_fields(&refusal, err->message);

        g_assert_true(g_strv_contains((const char *const *)fields, "DOMAIN_NAME=vm3"));
        g_assert_true(g_strv_contains((const char *const *)fields, "SPM_DEVICE=ua-big"));
        g_assert_true(g_strv_contains((const char *const *)fields, "SPM_HOST_NODE=2"));
        g_assert_true(g_strv_contains((const char *const *)fields, "SPM_ASKED=1073741824"));
        g_assert_true(g_strv_contains((const char *const *)fields, "SPM_FREE=0"));
        g_assert_true(g_str_has_prefix(fields[0], "MESSAGE=device 'ua-big' asks 1 GiB"));
    }
    g_clear_error(&err);

    /* above capacity */
    g_assert_false(reserve1(f, "u3", "vm3", "ua-big", "3", 65 * GiB, NULL, &err));
    g_assert_cmpstr(err->message, ==,
                    "device 'ua-big' asks 65 GiB of host node 3, more than its capacity of 64 GiB");
    g_clear_error(&err);
    /* unknown node */
    g_assert_false(reserve1(f, "u3", "vm3", "ua-big", "5", GiB, NULL, &err));
    g_assert_cmpstr(err->message, ==,
                    "device 'ua-big' nodemask '5': host node 5 is not in [host] spm_nodes (2-3)");
    g_clear_error(&err);

    /* a refused start left nothing behind */
    l = spm_ledger_open(f->dir, SPM_LEDGER_READ, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(spm_ledger_holdings(l)->len, ==, 2);
    g_assert_cmpuint(spm_ledger_available(l, f->inv, 2), ==, 64 * GiB);
    g_clear_pointer(&l, spm_ledger_close);

    /* release frees the share */
    l = spm_ledger_open(f->dir, SPM_LEDGER_WRITE, &err);
    {
        gboolean had = FALSE;

        spm_ledger_release(l, "u1", &had);
        g_assert_true(had);
        spm_ledger_release(l, "u1", &had);
        g_assert_false(had);
    }
    g_assert_true(spm_ledger_commit(l, &err));
    g_clear_pointer(&l, spm_ledger_close);
    g_assert_true(reserve1(f, "u3", "vm3", "ua-big", "2", 40 * GiB, NULL, &err));
    g_assert_no_error(err);
}

/* Hall's condition: multi-node devices count against their set as a whole. */
static void
test_node_sets(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(SpmLedger) l = NULL;

    /* 100 GiB over 2-3: fits the pair only */
    g_assert_true(reserve1(f, "u1", "vm1", "ua-a", "2-3", 100 * GiB, NULL, &err));
    g_assert_no_error(err);
    l = spm_ledger_open(f->dir, SPM_LEDGER_READ, &err);
    g_assert_cmpuint(spm_ledger_available(l, f->inv, 1), ==, 28 * GiB); /* node 2 */
    g_assert_cmpuint(spm_ledger_available(l, f->inv, 2), ==, 28 * GiB); /* node 3 */
    g_assert_cmpuint(spm_ledger_available(l, f->inv, 3), ==, 28 * GiB); /* 2-3 */
    g_clear_pointer(&l, spm_ledger_close);

    /* 20 GiB on node 2 fits; then 20 GiB on node 3 does not (8 left in all) */
    g_assert_true(reserve1(f, "u2", "vm2", "ua-b", "2", 20 * GiB, NULL, &err));
    g_assert_false(reserve1(f, "u3", "vm3", "ua-c", "3", 20 * GiB, NULL, &err));
    g_assert_cmpstr(err->message, ==,
                    "device 'ua-c' asks 20 GiB of host node 3 but 8 GiB is free there (capacity 64 GiB; "
                    "held by vm1/ua-a 100 GiB of nodes 2-3)");
    g_clear_error(&err);
    g_assert_true(reserve1(f, "u3", "vm3", "ua-c", "3", 8 * GiB, NULL, &err));
    g_assert_no_error(err);
}

static void
test_choose(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(SpmLedger) l = NULL;
    g_auto(GStrv) sets = NULL;
    guint64 sizes[] = { 32 * GiB, 32 * GiB, 48 * GiB, 50 * GiB };

    g_assert_true(reserve1(f, "u1", "vm1", "ua-a", "2", 10 * GiB, NULL, &err));
    l = spm_ledger_open(f->dir, SPM_LEDGER_WRITE, &err);
    g_assert_no_error(err);
    /* first fit: 32 on 2 (54 free), 32 on 2 no (22 left) -> 3, 48 -> 3? no (32 left):
     * fewest nodes: one node can't, so 2-3 (22+32=54), then 50 nowhere */
    g_assert_false(spm_ledger_choose(l, f->inv, sizes, 4, &sets, &err));
    g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
    g_assert_cmpstr(err->message, ==,
                    "SPM device 3 (50 GiB): no host node or set of nodes in [host] spm_nodes "
                    "has that much free (largest free: 6 GiB on host node 2)");
    g_clear_error(&err);
    g_assert_true(spm_ledger_choose(l, f->inv, sizes, 3, &sets, &err));
    g_assert_cmpstr(sets[0], ==, "2");
    g_assert_cmpstr(sets[1], ==, "3");
    g_assert_cmpstr(sets[2], ==, "2-3");
    g_assert_null(sets[3]);
    /* choosing reserves nothing */
    g_assert_cmpuint(spm_ledger_holdings(l)->len, ==, 1);
}

static void
test_assign_doc(Fixture *f, gconstpointer data)
{
    static const char xml[] =
        "<domain type='qemu'><name>d</name><devices>"
        "<memory model='spm'><target><size unit='GiB'>60</size><node>1</node></target></memory>"
        "<memory model='spm'><source><nodemask>3</nodemask></source>"
        "<target><size unit='GiB'>1</size><node>2</node></target></memory>"
        "<memory model='spm'><source><pagesize unit='KiB'>2048</pagesize></source>"
        "<target><size unit='GiB'>8</size><node>3</node></target></memory>"
        "</devices></domain>";
    g_autoptr(GError) err = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_memory(xml, strlen(xml), "test", &err);
    g_autoptr(SpmLedger) l = spm_ledger_open(f->dir, SPM_LEDGER_READ, &err);
    g_autofree char *out = NULL;
    guint n = 0;

    g_assert_no_error(err);
    g_assert_true(spm_ledger_assign_doc(l, f->inv, doc, &n, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(n, ==, 2);
    out = spm_xml_format(doc);
    /* compare without the formatter's indentation */
    {
        char *w = out;

        for (char *r = out; *r; r++) {
            if (*r != '\n' && !(*r == ' ' && (r[1] == ' ' || r[1] == '<' || r[-1] == '>')))
                *w++ = *r;
        }
        *w = '\0';
    }
    g_assert_nonnull(strstr(out, "<memory model=\"spm\"><source><nodemask>2</nodemask></source><target>"));
    g_assert_nonnull(strstr(out, "<source><pagesize unit=\"KiB\">2048</pagesize><nodemask>3</nodemask></source>"));
}

static void
test_corrupt(Fixture *f, gconstpointer data)
{
    static const char *const bad[] = {
        "", "{", "[]", "{\"version\":2,\"holdings\":[]}", "{\"version\":1}",
        "{\"version\":1,\"holdings\":[{\"uuid\":\"u\",\"domain\":\"d\"}]}",
        "{\"version\":1,\"holdings\":[{\"uuid\":\"u\",\"domain\":\"d\",\"devices\":"
        "[{\"device\":\"x\",\"nodeset\":\"2\",\"bytes\":-1}]}]}",
        "{\"version\":1,\"holdings\":[{\"uuid\":\"u\",\"domain\":\"d\",\"devices\":"
        "[{\"device\":\"x\",\"nodeset\":\"2\",\"bytes\":\"1\"}]}]}",
        /* each fits, the sum does not: "virt-spm host" wrapped */
        "{\"version\":1,\"holdings\":[{\"uuid\":\"u\",\"domain\":\"d\",\"devices\":"
        "[{\"device\":\"x\",\"nodeset\":\"2\",\"bytes\":9223372036854775807},"
        "{\"device\":\"y\",\"nodeset\":\"2\",\"bytes\":1}]}]}",
        /* a name with a newline stays on one line in the error */
        "{\"version\":1,\"holdings\":[{\"uuid\":\"u\",\"domain\":\"d\\nx\",\"devices\":[7]}]}",
    };
    g_autofree char *path = g_build_filename(f->dir, "ledger.json", NULL);

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;

        g_test_message("ledger: %s", bad[i]);
        g_assert_true(g_file_set_contents(path, bad[i], -1, NULL));
        /* never an empty ledger by guess: the start is refused */
        g_assert_false(reserve1(f, "u1", "vm1", "ua-a", "2", GiB, NULL, &err));
        g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
        g_assert_true(g_str_has_prefix(err->message, "HBM ledger '"));
        g_assert_nonnull(strstr(err->message, "is corrupt"));
        g_assert_null(strchr(err->message, '\n'));
    }
    /* a directory where the file should be */
    g_assert_cmpint(g_unlink(path), ==, 0);
    g_assert_cmpint(g_mkdir(path, 0755), ==, 0);
    {
        g_autoptr(GError) err = NULL;

        g_assert_false(reserve1(f, "u1", "vm1", "ua-a", "2", GiB, NULL, &err));
        g_assert_nonnull(err);
    }
    g_assert_cmpint(g_rmdir(path), ==, 0);
    /* unreadable (root reads anything: only as another user) */
    if (geteuid() != 0) {
        g_autoptr(GError) err = NULL;

        g_assert_true(g_file_set_contents(path, "{\"version\":1,\"holdings\":[]}", -1, NULL));
        g_assert_cmpint(g_chmod(path, 0), ==, 0);
        g_assert_false(reserve1(f, "u1", "vm1", "ua-a", "2", GiB, NULL, &err));
        g_assert_error(err, SPM_ERROR, SPM_ERROR_SYSTEM);
        g_assert_nonnull(strstr(err->message, "cannot be read"));
    }
}

/* A ledger nested a million levels deep (json-glib recursed into a stack
 * overflow), or hiding nesting behind '"', is refused in one line, by
 * writers and readers alike. */
static void
test_hostile(Fixture *f, gconstpointer data)
{
    g_autofree char *path = g_build_filename(f->dir, "ledger.json", NULL);
    GString *deep = g_string_new("{\"version\":1,\"holdings\":");
    GString *hidden = g_string_new("{\"version\":1,\"x\":'\"',\"holdings\":[],\"y\":");
    GString *texts[] = { deep, hidden };

    for (guint i = 0; i < 1000000; i++)
        g_string_append_c(deep, '[');
    for (guint i = 0; i < 1000000; i++)
        g_string_append_c(deep, ']');
    g_string_append_c(deep, '}');
    for (guint i = 0; i < 100000; i++)
        g_string_append_c(hidden, '[');
    for (guint i = 0; i < 100000; i++)
        g_string_append_c(hidden, ']');
    g_string_append(hidden, ",\"z\":'\"'}");

    for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(SpmLedger) l = NULL;

        g_assert_true(g_file_set_contents(path, texts[i]->str, texts[i]->len, NULL));
        g_assert_false(reserve1(f, "u1", "vm1", "ua-a", "2", GiB, NULL, &err));
        g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
        g_assert_nonnull(strstr(err->message, "is corrupt (JSON message nested deeper than"));
        g_assert_null(strchr(err->message, '\n'));
        g_clear_error(&err);
        l = spm_ledger_open(f->dir, SPM_LEDGER_READ, &err);
        g_assert_null(l);
        g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
        g_string_free(texts[i], TRUE);
    }
}

/* Read-only opens read ledger.json when ledger.lock is missing (removed by
 * hand, a copied directory): never an empty ledger in its place. */
static void
test_no_lock_file(Fixture *f, gconstpointer data)
{
    g_autofree char *lock = g_build_filename(f->dir, "ledger.lock", NULL);
    g_autofree char *path = g_build_filename(f->dir, "ledger.json", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(SpmLedger) l = NULL;

    g_assert_true(reserve1(f, "u1", "vm1", "ua-a", "2", GiB, NULL, &err));
    g_assert_no_error(err);
    g_assert_cmpint(g_unlink(lock), ==, 0);
    l = spm_ledger_open(f->dir, SPM_LEDGER_READ, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(spm_ledger_holdings(l)->len, ==, 1);
    g_clear_pointer(&l, spm_ledger_close);
    /* ... and a corrupt one is reported, not shown empty */
    g_assert_true(g_file_set_contents(path, "{", -1, NULL));
    l = spm_ledger_open(f->dir, SPM_LEDGER_READ, &err);
    g_assert_null(l);
    g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
    g_clear_error(&err);
    /* nothing at all is an empty ledger */
    g_assert_cmpint(g_unlink(path), ==, 0);
    l = spm_ledger_open(f->dir, SPM_LEDGER_READ, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(spm_ledger_holdings(l)->len, ==, 0);
}

/* The file is JSON that reads back as written, and the last commit wins. */
static void
test_roundtrip(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(SpmLedger) l = NULL;
    g_autoptr(JsonNode) json = NULL;
    g_autofree char *text = NULL;

    g_assert_true(reserve1(f, "u1", "vm \"1\"", "ua-a", "2-3", 3 * GiB, NULL, &err));
    g_assert_no_error(err);
    l = spm_ledger_open(f->dir, SPM_LEDGER_READ, &err);
    g_assert_no_error(err);
    g_assert_false(spm_ledger_commit(l, &err)); /* read-only */
    g_clear_error(&err);
    json = spm_ledger_to_json(l, f->inv);
    text = json_to_string(json, FALSE);
    g_assert_nonnull(strstr(text, "\"domain\":\"vm \\\"1\\\"\""));
    g_assert_nonnull(strstr(text, "\"consistent\":true"));
    g_assert_nonnull(strstr(text, "\"candidates\":[2,3]"));
}

/* Two processes cannot both pass check-and-reserve: the lock serialises them. */
static void
test_lock(Fixture *f, gconstpointer data)
{
    enum { N = 16 };
    pid_t pids[N];
    guint ok = 0;

    for (guint i = 0; i < N; i++) {
        pids[i] = fork();
        g_assert_cmpint(pids[i], >=, 0);
        if (pids[i] == 0) {
            gboolean reserved;

            {
                g_autofree char *uuid = g_strdup_printf("u%u", i);
                g_autoptr(GError) err = NULL;

                /* each asks 10 GiB of node 2 (64 GiB): six fit */
                reserved = reserve1(f, uuid, uuid, "ua-a", "2", 10 * GiB, NULL, &err);
            }
            /* freed before _exit: valgrind checks the children too */
            _exit(reserved ? 0 : 1);
        }
    }
    for (guint i = 0; i < N; i++) {
        int status;

        g_assert_cmpint(waitpid(pids[i], &status, 0), ==, pids[i]);
        g_assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 0)
            ok++;
    }
    g_assert_cmpuint(ok, ==, 6);
    {
        g_autoptr(GError) err = NULL;
        g_autoptr(SpmLedger) l = spm_ledger_open(f->dir, SPM_LEDGER_READ, &err);

        g_assert_cmpuint(spm_ledger_holdings(l)->len, ==, 6);
        g_assert_cmpuint(spm_ledger_available(l, f->inv, 1), ==, 4 * GiB);
    }
}

/*
 * virt-spmd's reconcile: a holding of a domain that does not run is kept
 * while it may be a start in progress, and the caller is told when the
 * oldest such holding was made, so that it looks again once it is stale.
 */
static void
test_reconcile_grace(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) running = g_ptr_array_new();
    g_autoptr(SpmLedger) l = NULL;
    gint64 before = g_get_real_time();
    gint64 kept_fresh = -1;
    guint dropped = 99;

    g_assert_true(reserve1(f, "u1", "dead-young", "d0", "2", GiB, NULL, &err));
    g_assert_no_error(err);
    l = spm_ledger_open(f->dir, SPM_LEDGER_WRITE, &err);
    g_assert_no_error(err);
    /* listed before the reservation: young, kept, and reported */
    spm_ledger_reconcile(l, running, NULL, before - 1, &dropped, &kept_fresh);
    g_assert_cmpuint(dropped, ==, 0);
    g_assert_cmpuint(spm_ledger_holdings(l)->len, ==, 1);
    g_assert_cmpint(kept_fresh, >=, before);
    g_assert_cmpint(kept_fresh, <=, g_get_real_time());
    /* once stale it is dropped, and nothing is left to look at again */
    spm_ledger_reconcile(l, running, NULL, g_get_real_time() + 1, &dropped, &kept_fresh);
    g_assert_cmpuint(dropped, ==, 1);
    g_assert_cmpuint(spm_ledger_holdings(l)->len, ==, 0);
    g_assert_cmpint(kept_fresh, ==, 0);
}

/* Root writes the ledger: never in a directory others can write in. */
static void
test_untrusted_dir(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(SpmLedger) l = NULL;

    g_assert_cmpint(g_chmod(f->dir, 0777), ==, 0);
    l = spm_ledger_open(f->dir, SPM_LEDGER_WRITE, &err);
    g_assert_null(l);
    g_assert_error(err, SPM_ERROR, SPM_ERROR_SYSTEM);
    g_assert_nonnull(strstr(err->message, "has mode 0777: others could have written in it"));
    g_assert_cmpint(g_chmod(f->dir, 0755), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/inventory/parse", test_inventory_parse);
    g_test_add_func("/inventory/bad", test_inventory_bad);
    g_test_add_func("/inventory/max", test_inventory_max);
    g_test_add("/ledger/reserve-refuse", Fixture, NULL, fixture_setup, test_reserve_refuse, fixture_teardown);
    g_test_add("/ledger/node-sets", Fixture, NULL, fixture_setup, test_node_sets, fixture_teardown);
    g_test_add("/ledger/choose", Fixture, NULL, fixture_setup, test_choose, fixture_teardown);
    g_test_add("/ledger/assign-doc", Fixture, NULL, fixture_setup, test_assign_doc, fixture_teardown);
    g_test_add("/ledger/corrupt", Fixture, NULL, fixture_setup, test_corrupt, fixture_teardown);
    g_test_add("/ledger/hostile", Fixture, NULL, fixture_setup, test_hostile, fixture_teardown);
    g_test_add("/ledger/no-lock-file", Fixture, NULL, fixture_setup, test_no_lock_file, fixture_teardown);
    g_test_add("/ledger/roundtrip", Fixture, NULL, fixture_setup, test_roundtrip, fixture_teardown);
    g_test_add("/ledger/lock", Fixture, NULL, fixture_setup, test_lock, fixture_teardown);
    g_test_add("/ledger/reconcile-grace", Fixture, NULL, fixture_setup, test_reconcile_grace,
               fixture_teardown);
    g_test_add("/ledger/untrusted-dir", Fixture, NULL, fixture_setup, test_untrusted_dir,
               fixture_teardown);
    return g_test_run();
}
