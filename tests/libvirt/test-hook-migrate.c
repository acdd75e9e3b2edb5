/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-hook-migrate.c: the destination's migrate begin of an sp-mem
 * domain (spm-hook-migrate.h) on fixture XML, against ledgers of given
 * contents, compared with golden files as tests/golden does.
 *
 * For each case the user's domain tests/libvirt/data/migrate/DOMAIN.xml is
 * converted as on the source host, then re-bound on a destination with the
 * case's inventory and holdings.  CASE.out holds what was reserved and the
 * XML libvirt is given ("xml: unchanged" when the source's nodes are kept),
 * or "error: MESSAGE".  Every admitted output must also be what the start
 * hook (prepare begin) accepts, reserving the same, with the guest view
 * unchanged; every refusal must leave the ledger as it was.
 * VIRT_SPM_TEST_REGENERATE=1 writes the .out files instead of comparing
 * (review the diff before committing it).
 */
#include <string.h>
#include <glib/gstdio.h>
#include <libxml/tree.h>

#include "spm-config.h"
#include "spm-convert.h"
#include "spm-error.h"
#include "spm-hook-decide.h"
#include "spm-hook-migrate.h"
#include "spm-host-inventory.h"
#include "spm-ledger.h"
#include "spm-test-golden.h"
#include "spm-xml.h"

#define QEMU_SPMEM "/opt/qemu-11.1/bin/qemu-system-x86_64"

typedef struct {
    const char *name;           /* CASE: CASE.out */
    const char *domain;         /* DOMAIN.xml, the user's form */
    const char *inventory;      /* the destination's [host] spm_nodes */
    const char *holdings;       /* "DOMAIN DEVICE NODESET BYTES;..." held there already */
    /* edit of the converted XML before it arrives (a stale or tampered source) */
    const char *from, *to;
} MigrateCase;

static const MigrateCase cases[] = {
    /* the source's nodes 2 and 3 are free here too: the XML stays as it is */
    { "keep-nodes", "two-hbm", "2:1GiB,3:1GiB", NULL },
    /* here 2 and 3 are taken by another guest: first fit on 4 */
    { "nodes-taken", "two-hbm", "2:1GiB,3:1GiB,4:1GiB,5:1GiB",
      "other ua-hbm0 2 1073741824;other ua-hbm1 3 1073741824" },
    /* this host has no node 2 or 3 at all */
    { "nodes-absent", "two-hbm", "0:256MiB,1:512MiB", NULL },
    /* one device each: 4 has room for the first only */
    { "nodes-split", "two-hbm", "4:200MiB,5:300MiB", NULL },
    /* too little HBM here: refused, nothing reserved */
    { "too-small", "two-hbm", "4:128MiB,5:128MiB", NULL },
    { "too-small-taken", "two-hbm", "2:1GiB,3:1GiB",
      "other ua-hbm0 2 1000MiB;other ua-hbm1 3 1000MiB" },
    /* a guest address that is not this host's plan of the definition */
    { "addr-edited", "two-hbm", "4:1GiB", NULL,
      "node=2,addr=0x180000000", "node=2,addr=0x1c0000000" },
};

static const char *data_dir;
static SpmConfig *config;

static gboolean
fake_probe(const char *emulator, const char *driver, gboolean *has_device,
           gpointer opaque, GError **error)
{
    *has_device = g_str_equal(emulator, QEMU_SPMEM) && g_str_equal(driver, "sp-mem");
    return TRUE;
}

static void
compare(const char *name, const char *actual)
{
    g_autofree char *path = g_strdup_printf("%s/%s.out", data_dir, name);

    spm_test_golden_compare(path, actual);
}

/* The source host's conversion of DOMAIN.xml, edited as the case says. */
static xmlDocPtr
source_xml(const MigrateCase *c)
{
    g_autofree char *path = g_strdup_printf("%s/%s.xml", data_dir, c->domain);
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_file(path, &error);
    g_autofree char *text = NULL;

    g_assert_no_error(error);
    g_assert_true(spm_convert_forward(doc, &config->policy, NULL, NULL, &error));
    g_assert_no_error(error);
    if (!c->from)
        return g_steal_pointer(&doc);
    text = spm_xml_format(doc);
    g_assert_nonnull(strstr(text, c->from));
    {
        g_auto(GStrv) parts = g_strsplit(text, c->from, -1);
        g_autofree char *edited = g_strjoinv(c->to, parts);

        return spm_xml_read_memory(edited, strlen(edited), c->name, &error);
    }
}

static char *
holding_text(const SpmLedgerHolding *h)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; h && i < h->requests->len; i++) {
        const SpmLedgerRequest *r = h->requests->pdata[i];

        g_string_append_printf(s, "reserved: %s on host nodes %s, %" G_GUINT64_FORMAT " bytes\n",
                               r->device, r->nodeset, r->bytes);
    }
    return g_string_free(s, FALSE);
}

/* A ledger in @dir holding @holdings. */
static void
fill_ledger(const char *dir, const SpmHostInventory *inv, const char *holdings)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmLedger) ledger = spm_ledger_open(dir, SPM_LEDGER_WRITE, &error);
    g_auto(GStrv) items = g_strsplit(holdings ? holdings : "", ";", -1);

    g_assert_no_error(error);
    for (guint i = 0; items[i] && *items[i]; i++) {
        g_auto(GStrv) f = g_strsplit(items[i], " ", 4);
        g_autofree char *uuid = g_strdup_printf("00000000-0000-0000-0000-%012u", i);
        guint64 bytes = 0;
        SpmLedgerRequest req = { f[1], f[2], 0 };

        g_assert_true(spm_config_parse_size("bytes", f[3], &bytes, &error));
        req.bytes = bytes;
        g_assert_true(spm_ledger_reserve(ledger, inv, uuid, f[0], &req, 1, NULL, &error));
        g_assert_no_error(error);
    }
    g_assert_true(spm_ledger_commit(ledger, &error));
}

static char *
ledger_text(SpmLedger *ledger, const SpmHostInventory *inv)
{
    g_autoptr(JsonNode) node = spm_ledger_to_json(ledger, inv);

    return json_to_string(node, FALSE);
}

/* What the guest sees, one line per memory device, from a converted @doc. */
static char *
guest_view(xmlDocPtr doc)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmPlan) plan = NULL;
    g_autoptr(SpmDomainDef) def = NULL;
    GString *s = g_string_new(NULL);
    gboolean has_spm = FALSE;

    g_assert_true(spm_convert_check_current(doc, &config->policy, &has_spm, &plan, &def, &error));
    g_assert_no_error(error);
    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmPlannedDevice *d = plan->devices->pdata[i];

        g_string_append_printf(s, "%s 0x%" G_GINT64_MODIFIER "x %" G_GUINT64_FORMAT " %u\n",
                               d->id, d->addr, d->size, d->node);
    }
    return g_string_free(s, FALSE);
}

/* The start hook on the destination takes @xml as current and reserves @held. */
static void
check_prepare(const char *xml, const SpmLedgerHolding *held)
{
    SpmHookFacts facts = {
        .libvirt_version = config->policy.host.libvirt_version,
        .policy = &config->policy,
        .probe = fake_probe,
    };
    g_auto(SpmHookDecision) d = { 0 };
    g_autofree char *want = holding_text(held);
    g_autofree char *got = NULL;

    spm_hook_decide("prepare", "begin", xml, strlen(xml), &facts, &d);
    if (d.message)
        g_error("prepare begin refuses the re-bound XML: %s", d.message);
    g_assert_cmpint(d.action, ==, SPM_HOOK_ALLOW);
    got = holding_text(d.holding);
    g_assert_cmpstr(got, ==, want);
}

static void
test_case(gconstpointer data)
{
    const MigrateCase *c = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("spm-migrate-XXXXXX", &error);
    g_autoptr(SpmHostInventory) inv = spm_host_inventory_parse(c->inventory, NULL, &error);
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(SpmLedger) ledger = NULL;
    g_auto(SpmMigrateRebind) out = { 0 };
    g_auto(SpmLedgerRefusal) refusal = { 0 };
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    g_autofree char *text = NULL;
    gboolean ok;

    g_assert_no_error(error);
    fill_ledger(dir, inv, c->holdings);
    doc = source_xml(c);
    g_assert_nonnull(doc);
    ledger = spm_ledger_open(dir, SPM_LEDGER_WRITE, &error);
    g_assert_no_error(error);
    before = ledger_text(ledger, inv);

    ok = spm_migrate_rebind(doc, &config->policy, ledger, inv,
                            "0b6c9a0e-3c1f-4a53-9d0e-2a4f0d1c0021", "spm-migrate",
                            &out, &refusal, &error);
    after = ledger_text(ledger, inv);
    if (!ok) {
        g_assert_nonnull(error);
        g_assert_null(strchr(error->message, '\n'));
        g_assert_null(out.xml);
        g_assert_null(out.holding);
        /* refused: the destination's ledger is as it was */
        g_assert_cmpstr(after, ==, before);
        text = g_strdup_printf("error: %s\n", error->message);
    } else {
        g_autofree char *held = holding_text(out.holding);
        g_autofree char *xml = out.xml ? g_strdup(out.xml) : spm_xml_format(doc);
        g_autoptr(xmlDoc) rebound = spm_xml_read_memory(xml, strlen(xml), "re-bound", &error);
        g_autofree char *view_src = guest_view(doc);
        g_autofree char *view_dst = NULL;

        g_assert_no_error(error);
        g_assert_nonnull(out.holding);
        g_assert_cmpstr(after, !=, before);
        view_dst = guest_view(rebound);
        g_assert_cmpstr(view_dst, ==, view_src);
        check_prepare(xml, out.holding);
        text = g_strdup_printf("%s%s", held, out.xml ? out.xml : "xml: unchanged\n");
    }
    compare(c->name, text);
    spm_ledger_close(g_steal_pointer(&ledger));
    {
        g_autofree char *json = g_build_filename(dir, "ledger.json", NULL);
        g_autofree char *lock = g_build_filename(dir, "ledger.lock", NULL);

        g_unlink(json);
        g_unlink(lock);
        g_rmdir(dir);
    }
}

/* Without an inventory nothing is re-bound or reserved, as at a start. */
static void
test_no_inventory(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmHostInventory) inv = spm_host_inventory_parse("", NULL, &error);
    g_autoptr(xmlDoc) doc = source_xml(&cases[0]);
    g_auto(SpmMigrateRebind) out = { 0 };

    g_assert_no_error(error);
    g_assert_true(spm_host_inventory_is_empty(inv));
    g_assert_true(spm_migrate_rebind(doc, &config->policy, NULL, inv, NULL, "spm-migrate", &out,
                                     NULL, &error));
    g_assert_no_error(error);
    g_assert_null(out.xml);
    g_assert_null(out.holding);
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *conf = NULL;

    g_test_init(&argc, &argv, NULL);
    data_dir = g_build_filename(g_getenv("SPM_SOURCE_ROOT"), "tests", "libvirt", "data",
                                "migrate", NULL);
    /* the golden tests' host facts: the output does not depend on this machine */
    conf = g_build_filename(g_getenv("SPM_SOURCE_ROOT"), "tests", "data", "golden.conf", NULL);
    config = spm_config_load(conf, &error);
    g_assert_no_error(error);
    config->policy.device = SPM_DEVICE_SP_MEM;

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/migrate/%s", cases[i].name);

        g_test_add_data_func(path, &cases[i], test_case);
    }
    g_test_add_func("/migrate/no-inventory", test_no_inventory);
    return g_test_run();
}
