/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-ledger.c: the host HBM ledger (spm-ledger.h says what and why)
 */
#include "spm-ledger.h"
#include "spm-checked.h"
#include "spm-env.h"
#include "spm-error.h"
#include "spm-json-guard.h"
#include "spm-safe-dir.h"
#include "spm-units.h"
#include "spm-build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPM_LEDGER_FILE "ledger.json"
#define SPM_LEDGER_LOCK "ledger.lock"
#define SPM_LEDGER_VERSION 1
/* A ledger larger than this is not one virt-spm wrote. */
#define SPM_LEDGER_MAX_BYTES (16 * 1024 * 1024)

struct _SpmLedger {
    char *dir;
    char *path;
    int lock_fd;                /* -1: no lock (READ of a ledger that does not exist) */
    SpmLedgerMode mode;
    GPtrArray *holdings;        /* SpmLedgerHolding * */
};

/* ---- small types ------------------------------------------------------- */

void
spm_ledger_request_clear(SpmLedgerRequest *req)
{
    g_clear_pointer(&req->device, g_free);
    g_clear_pointer(&req->nodeset, g_free);
    req->bytes = 0;
}

static void
spm_ledger_request_free(SpmLedgerRequest *req)
{
    spm_ledger_request_clear(req);
    g_free(req);
}

SpmLedgerHolding *
spm_ledger_holding_new(const char *uuid, const char *domain)
{
    SpmLedgerHolding *h = g_new0(SpmLedgerHolding, 1);

    h->uuid = g_strdup(uuid);
    h->domain = g_strdup(domain);
    h->requests = g_ptr_array_new_with_free_func((GDestroyNotify)spm_ledger_request_free);
    return h;
}

void
spm_ledger_holding_free(SpmLedgerHolding *holding)
{
    if (!holding)
        return;
    g_free(holding->uuid);
    g_free(holding->domain);
    g_ptr_array_unref(holding->requests);
    g_free(holding);
}

void
spm_ledger_holding_add(SpmLedgerHolding *holding, const char *device,
                       const char *nodeset, guint64 bytes)
{
    SpmLedgerRequest *req = g_new0(SpmLedgerRequest, 1);

    req->device = g_strdup(device);
    req->nodeset = g_strdup(nodeset);
    req->bytes = bytes;
    g_ptr_array_add(holding->requests, req);
}

static SpmLedgerHolding *
spm_ledger_holding_copy(const SpmLedgerHolding *h)
{
    SpmLedgerHolding *copy = spm_ledger_holding_new(h->uuid, h->domain);

    copy->reserved_at = h->reserved_at;

    for (guint i = 0; i < h->requests->len; i++) {
        const SpmLedgerRequest *r = h->requests->pdata[i];

        spm_ledger_holding_add(copy, r->device, r->nodeset, r->bytes);
    }
    return copy;
}

void
spm_ledger_refusal_clear(SpmLedgerRefusal *refusal)
{
    g_clear_pointer(&refusal->domain, g_free);
    g_clear_pointer(&refusal->device, g_free);
    g_clear_pointer(&refusal->nodeset, g_free);
    g_clear_pointer(&refusal->holders, g_free);
    refusal->asked = refusal->free = 0;
}

char **
spm_ledger_refusal_fields(const SpmLedgerRefusal *refusal, const char *message)
{
    GPtrArray *f = g_ptr_array_new();

    g_ptr_array_add(f, g_strdup_printf("MESSAGE=%s", message));
    g_ptr_array_add(f, g_strdup("PRIORITY=4")); /* LOG_WARNING */
    g_ptr_array_add(f, g_strdup("SYSLOG_IDENTIFIER=virt-spm"));
    g_ptr_array_add(f, g_strdup_printf("DOMAIN_NAME=%s", refusal->domain ? refusal->domain : ""));
    g_ptr_array_add(f, g_strdup_printf("SPM_DEVICE=%s", refusal->device ? refusal->device : ""));
    g_ptr_array_add(f, g_strdup_printf("SPM_HOST_NODE=%s", refusal->nodeset ? refusal->nodeset : ""));
    g_ptr_array_add(f, g_strdup_printf("SPM_ASKED=%" G_GUINT64_FORMAT, refusal->asked));
    g_ptr_array_add(f, g_strdup_printf("SPM_FREE=%" G_GUINT64_FORMAT, refusal->free));
    g_ptr_array_add(f, g_strdup_printf("SPM_HOLDERS=%s", refusal->holders ? refusal->holders : ""));
    g_ptr_array_add(f, NULL);
    return (char **)g_ptr_array_free(f, FALSE);
}

const char *
spm_ledger_default_dir(void)
{
    const char *env = spm_env(SPM_ENV_LEDGER_DIR);

    return env && *env ? env : VIRT_SPM_RUNDIR;
}

/* ---- the file ---------------------------------------------------------- */

static gboolean
spm_ledger_corrupt(GError **error, const char *path, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean
spm_ledger_corrupt(GError **error, const char *path, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *why = NULL;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                "HBM ledger '%s' is corrupt (%s); restart virt-spmd to rebuild it from "
                "the running domains", path, why);
    return FALSE;
}

static const char *
spm_ledger_member_string(JsonObject *obj, const char *name)
{
    JsonNode *n = json_object_get_member(obj, name);

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

static gboolean
spm_ledger_parse(SpmLedger *ledger, const char *text, gsize len, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(JsonNode) root = NULL;
    JsonObject *obj;
    JsonNode *hn;
    JsonArray *holdings;
    guint64 total = 0;          /* every sum of reservations fits in gint64 */

    /* Anyone who can write the ledger directory can write this file: the
     * guard keeps json-glib from recursing a million levels (a crash at
     * every start of virt-spmd, whose repair is to read it again). */
    if (!(root = spm_json_guard_parse(text, len, SPM_JSON_MAX_DEPTH, &local)))
        return spm_ledger_corrupt(error, ledger->path, "%s", local->message);
    if (!JSON_NODE_HOLDS_OBJECT(root))
        return spm_ledger_corrupt(error, ledger->path, "not a JSON object");
    obj = json_node_get_object(root);
    if (!json_object_has_member(obj, "version") ||
        json_node_get_value_type(json_object_get_member(obj, "version")) != G_TYPE_INT64 ||
        json_object_get_int_member(obj, "version") != SPM_LEDGER_VERSION)
        return spm_ledger_corrupt(error, ledger->path, "version is not %d", SPM_LEDGER_VERSION);
    hn = json_object_get_member(obj, "holdings");
    if (!hn || !JSON_NODE_HOLDS_ARRAY(hn))
        return spm_ledger_corrupt(error, ledger->path, "no 'holdings' array");
    holdings = json_node_get_array(hn);

    for (guint i = 0; i < json_array_get_length(holdings); i++) {
        JsonNode *en = json_array_get_element(holdings, i);
        g_autoptr(SpmLedgerHolding) h = NULL;
        JsonObject *ho;
        JsonNode *dn;
        JsonArray *devices;
        const char *uuid, *domain;
        g_autofree char *shown = NULL;

        if (!JSON_NODE_HOLDS_OBJECT(en))
            return spm_ledger_corrupt(error, ledger->path, "holding %u is not an object", i);
        ho = json_node_get_object(en);
        uuid = spm_ledger_member_string(ho, "uuid");
        domain = spm_ledger_member_string(ho, "domain");
        dn = json_object_get_member(ho, "devices");
        if (!uuid || !*uuid || !domain || !dn || !JSON_NODE_HOLDS_ARRAY(dn))
            return spm_ledger_corrupt(error, ledger->path,
                                      "holding %u lacks uuid, domain or devices", i);
        /* the name goes into one-line errors: escaped, bounded */
        shown = spm_error_printable(domain, 64);
        h = spm_ledger_holding_new(uuid, domain);
        if (json_object_has_member(ho, "reserved_at")) {
            JsonNode *tn = json_object_get_member(ho, "reserved_at");

            if (!JSON_NODE_HOLDS_VALUE(tn) || json_node_get_value_type(tn) != G_TYPE_INT64)
                return spm_ledger_corrupt(error, ledger->path,
                                          "reserved_at of holding %u is not a number", i);
            h->reserved_at = json_node_get_int(tn);
        }
        devices = json_node_get_array(dn);
        for (guint j = 0; j < json_array_get_length(devices); j++) {
            JsonNode *rn = json_array_get_element(devices, j);
            JsonObject *ro;
            JsonNode *bn;
            const char *device, *nodeset;

            if (!JSON_NODE_HOLDS_OBJECT(rn))
                return spm_ledger_corrupt(error, ledger->path,
                                          "device %u of '%s' is not an object", j, shown);
            ro = json_node_get_object(rn);
            device = spm_ledger_member_string(ro, "device");
            nodeset = spm_ledger_member_string(ro, "nodeset");
            bn = json_object_get_member(ro, "bytes");
            if (!device || !nodeset || !bn || !JSON_NODE_HOLDS_VALUE(bn) ||
                json_node_get_value_type(bn) != G_TYPE_INT64 || json_node_get_int(bn) < 0)
                return spm_ledger_corrupt(error, ledger->path,
                                          "device %u of '%s' lacks device, nodeset or bytes",
                                          j, shown);
            if (!spm_checked_add(total, (guint64)json_node_get_int(bn), &total) ||
                total > G_MAXINT64)
                return spm_ledger_corrupt(error, ledger->path,
                                          "the reservations add up to more than %" G_GINT64_FORMAT
                                          " bytes at device %u of '%s'", G_MAXINT64, j, shown);
            spm_ledger_holding_add(h, device, nodeset, (guint64)json_node_get_int(bn));
        }
        g_ptr_array_add(ledger->holdings, g_steal_pointer(&h));
    }
    return TRUE;
}

static gboolean
spm_ledger_read(SpmLedger *ledger, GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;
    gsize len = 0;
    struct stat st;

    if (stat(ledger->path, &st) < 0) {
        if (errno == ENOENT)
            return TRUE; /* nothing reserved yet */
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "HBM ledger '%s': %s",
                    ledger->path, g_strerror(errno));
        return FALSE;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > SPM_LEDGER_MAX_BYTES)
        return spm_ledger_corrupt(error, ledger->path, "not a regular file of at most %d bytes",
                                  SPM_LEDGER_MAX_BYTES);
    if (!g_file_get_contents(ledger->path, &text, &len, &local)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "HBM ledger '%s' cannot be read: %s",
                    ledger->path, local->message);
        return FALSE;
    }
    return spm_ledger_parse(ledger, text, len, error);
}

SpmLedger *
spm_ledger_open(const char *dir, SpmLedgerMode mode, GError **error)
{
    g_autoptr(SpmLedger) ledger = g_new0(SpmLedger, 1);
    g_autofree char *lock_path = NULL;

    ledger->lock_fd = -1;
    ledger->mode = mode;
    ledger->dir = g_strdup(dir ? dir : spm_ledger_default_dir());
    ledger->path = g_build_filename(ledger->dir, SPM_LEDGER_FILE, NULL);
    ledger->holdings = g_ptr_array_new_with_free_func((GDestroyNotify)spm_ledger_holding_free);
    lock_path = g_build_filename(ledger->dir, SPM_LEDGER_LOCK, NULL);

    if (mode == SPM_LEDGER_WRITE) {
        g_autoptr(GError) local = NULL;

        /* root writes here: a directory others could change or write in is refused */
        if (!spm_safe_dir_ensure(ledger->dir, SPM_SAFE_DIR_CREATE | SPM_SAFE_DIR_TRUSTED, 0755,
                                 &local)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "HBM ledger: %s", local->message);
            return NULL;
        }
        ledger->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    } else {
        ledger->lock_fd = open(lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (ledger->lock_fd < 0 && errno == ENOENT) {
            /* No lock file: nobody writes now (a writer creates it first),
             * but a ledger.json may still be there (the lock removed by
             * hand, a copied directory): read it unlocked, never show an
             * empty ledger in its place. */
            if (!spm_ledger_read(ledger, error))
                return NULL;
            return g_steal_pointer(&ledger);
        }
    }
    if (ledger->lock_fd < 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "HBM ledger lock '%s': %s",
                    lock_path, g_strerror(errno));
        return NULL;
    }
    while (flock(ledger->lock_fd, mode == SPM_LEDGER_WRITE ? LOCK_EX : LOCK_SH) < 0) {
        if (errno != EINTR) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "HBM ledger lock '%s': %s",
                        lock_path, g_strerror(errno));
            return NULL;
        }
    }
    if (!spm_ledger_read(ledger, error))
        return NULL;
    return g_steal_pointer(&ledger);
}

void
spm_ledger_close(SpmLedger *ledger)
{
    if (!ledger)
        return;
    if (ledger->lock_fd >= 0)
        close(ledger->lock_fd); /* releases the flock */
    g_free(ledger->dir);
    g_free(ledger->path);
    g_ptr_array_unref(ledger->holdings);
    g_free(ledger);
}

static gint
spm_ledger_holding_cmp(gconstpointer a, gconstpointer b)
{
    const SpmLedgerHolding *x = *(SpmLedgerHolding *const *)a;
    const SpmLedgerHolding *y = *(SpmLedgerHolding *const *)b;
    int c = g_strcmp0(x->domain, y->domain);

    return c ? c : g_strcmp0(x->uuid, y->uuid);
}

GPtrArray *
spm_ledger_holdings(SpmLedger *ledger)
{
    g_ptr_array_sort(ledger->holdings, spm_ledger_holding_cmp);
    return ledger->holdings;
}

/* {"domain", "uuid" (with @h), "device", "nodeset", "bytes"} */
static void
spm_ledger_build_request(JsonBuilder *b, const SpmLedgerHolding *h, const SpmLedgerRequest *r)
{
    json_builder_begin_object(b);
    if (h) {
        json_builder_set_member_name(b, "domain");
        json_builder_add_string_value(b, h->domain);
        json_builder_set_member_name(b, "uuid");
        json_builder_add_string_value(b, h->uuid);
    }
    json_builder_set_member_name(b, "device");
    json_builder_add_string_value(b, r->device);
    json_builder_set_member_name(b, "nodeset");
    json_builder_add_string_value(b, r->nodeset);
    json_builder_set_member_name(b, "bytes");
    json_builder_add_int_value(b, (gint64)r->bytes);
    json_builder_end_object(b);
}

static JsonNode *
spm_ledger_holdings_to_json(GPtrArray *holdings)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_array(b);
    for (guint i = 0; i < holdings->len; i++) {
        const SpmLedgerHolding *h = holdings->pdata[i];

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "uuid");
        json_builder_add_string_value(b, h->uuid);
        json_builder_set_member_name(b, "domain");
        json_builder_add_string_value(b, h->domain);
        json_builder_set_member_name(b, "reserved_at");
        json_builder_add_int_value(b, h->reserved_at);
        json_builder_set_member_name(b, "devices");
        json_builder_begin_array(b);
        for (guint j = 0; j < h->requests->len; j++) {
            const SpmLedgerRequest *r = h->requests->pdata[j];

            spm_ledger_build_request(b, NULL, r);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    return json_builder_get_root(b);
}

gboolean
spm_ledger_commit(SpmLedger *ledger, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;

    if (ledger->mode != SPM_LEDGER_WRITE) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "HBM ledger '%s' was opened read-only", ledger->path);
        return FALSE;
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "version");
    json_builder_add_int_value(b, SPM_LEDGER_VERSION);
    json_builder_set_member_name(b, "holdings");
    json_builder_add_value(b, spm_ledger_holdings_to_json(spm_ledger_holdings(ledger)));
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    text = json_to_string(root, TRUE);

    /*
     * glib writes a temporary file, fsyncs it, renames it over the old one
     * and (DURABLE) fsyncs the directory: a crash leaves one whole ledger
     */
    if (!g_file_set_contents_full(ledger->path, text, -1,
                                  G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                  0644, &local)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "HBM ledger '%s' cannot be written: %s",
                    ledger->path, local->message);
        return FALSE;
    }
    return TRUE;
}

/* ---- accounting -------------------------------------------------------- */

/*
 * For every node set T (a bitmask over the inventory): the bytes of the
 * reservations confined to T, and T's capacity.  slack(T) = cap - demand.
 */
typedef struct {
    guint n;                    /* inventory nodes */
    gint64 *slack;              /* 2^n entries */
} SpmLedgerSlack;

static void
spm_ledger_slack_clear(SpmLedgerSlack *s)
{
    g_clear_pointer(&s->slack, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpmLedgerSlack, spm_ledger_slack_clear)

/* Inventory bits of a stored nodeset; nodes outside the inventory drop out. */
static SpmNodeBits
spm_ledger_bits_lenient(const SpmHostInventory *inv, const char *nodeset)
{
    g_autoptr(GArray) ids = spm_host_list_parse(nodeset);
    SpmNodeBits bits = 0;

    for (guint i = 0; i < ids->len; i++) {
        int idx = spm_host_inventory_index(inv, g_array_index(ids, guint, i));

        if (idx >= 0)
            bits |= 1u << idx;
    }
    return bits;
}

/* Byte sums saturate here: a corrupt or absurd figure must not wrap around. */
#define SPM_LEDGER_SAT ((gint64)1 << 60)

static gint64
spm_ledger_sat_add(gint64 a, guint64 b)
{
    if (b >= (guint64)SPM_LEDGER_SAT || a >= SPM_LEDGER_SAT - (gint64)b)
        return SPM_LEDGER_SAT;
    return a + (gint64)b;
}

static void
spm_ledger_slack_add(SpmLedgerSlack *s, SpmNodeBits bits, guint64 bytes)
{
    /* every T that contains @bits loses @bytes */
    guint full = (1u << s->n) - 1;
    guint rest = full & ~bits;

    for (guint sub = rest;; sub = (sub - 1) & rest) {
        s->slack[bits | sub] -= (gint64)MIN(bytes, (guint64)SPM_LEDGER_SAT);
        if (!sub)
            break;
    }
}

static void
spm_ledger_slack_init(SpmLedgerSlack *s, SpmLedger *ledger, const SpmHostInventory *inv,
                      const char *skip_uuid)
{
    guint n = inv->nodes->len;
    g_autofree gint64 *demand = NULL;

    s->n = n;
    s->slack = g_new0(gint64, (gsize)1 << n);
    demand = g_new0(gint64, (gsize)1 << n);
    for (guint i = 0; i < ledger->holdings->len; i++) {
        const SpmLedgerHolding *h = ledger->holdings->pdata[i];

        if (skip_uuid && g_str_equal(h->uuid, skip_uuid))
            continue;
        for (guint j = 0; j < h->requests->len; j++) {
            const SpmLedgerRequest *r = h->requests->pdata[j];
            SpmNodeBits bits = spm_ledger_bits_lenient(inv, r->nodeset);

            if (bits)
                demand[bits] = spm_ledger_sat_add(demand[bits], r->bytes);
        }
    }
    /* sum over subsets: demand confined to T */
    for (guint b = 0; b < n; b++) {
        for (guint t = 0; t < (1u << n); t++) {
            if (t & (1u << b))
                demand[t] = spm_ledger_sat_add(demand[t], (guint64)demand[t ^ (1u << b)]);
        }
    }
    for (guint t = 0; t < (1u << n); t++)
        s->slack[t] = (gint64)spm_host_inventory_capacity(inv, t) - demand[t];
}

/* min slack over the sets that contain @bits, clamped at 0 */
static guint64
spm_ledger_slack_free(const SpmLedgerSlack *s, SpmNodeBits bits)
{
    guint full = (1u << s->n) - 1;
    guint rest = full & ~bits;
    gint64 best = G_MAXINT64;

    for (guint sub = rest;; sub = (sub - 1) & rest) {
        best = MIN(best, s->slack[bits | sub]);
        if (!sub)
            break;
    }
    return best > 0 ? (guint64)best : 0;
}

/*
 * spm_ledger_slack_free() for every node set at once, into @avail (2^n
 * entries): free(S) = min(slack(S), free(S + one more node)), largest sets
 * first.  O(n 2^n) instead of O(3^n) for asking set by set.
 */
static void
spm_ledger_slack_free_all(const SpmLedgerSlack *s, gint64 *avail)
{
    guint full = (1u << s->n) - 1;

    for (guint t = full + 1; t-- > 0;) {
        avail[t] = s->slack[t];
        for (guint b = 0; b < s->n; b++) {
            if (!(t & (1u << b)))
                avail[t] = MIN(avail[t], avail[t | (1u << b)]);
        }
    }
}

static gboolean
spm_ledger_slack_consistent(const SpmLedgerSlack *s)
{
    for (guint t = 0; t < (1u << s->n); t++) {
        if (s->slack[t] < 0)
            return FALSE;
    }
    return TRUE;
}

guint64
spm_ledger_available(SpmLedger *ledger, const SpmHostInventory *inv, SpmNodeBits bits)
{
    g_auto(SpmLedgerSlack) s = { 0 };

    if (spm_host_inventory_is_empty(inv) || !bits)
        return 0;
    spm_ledger_slack_init(&s, ledger, inv, NULL);
    return spm_ledger_slack_free(&s, bits);
}

/* "vm1/ua-hbm0 2 GiB, vm2/hbm 1 GiB": who holds memory on any node of @bits */
static char *
spm_ledger_holders_of(SpmLedger *ledger, const SpmHostInventory *inv, SpmNodeBits bits,
                      const char *skip_uuid)
{
    GString *out = g_string_new(NULL);
    GPtrArray *holdings = spm_ledger_holdings(ledger);

    for (guint i = 0; i < holdings->len; i++) {
        const SpmLedgerHolding *h = holdings->pdata[i];

        if (skip_uuid && g_str_equal(h->uuid, skip_uuid))
            continue;
        for (guint j = 0; j < h->requests->len; j++) {
            const SpmLedgerRequest *r = h->requests->pdata[j];
            g_autofree char *size = NULL;

            if (!(spm_ledger_bits_lenient(inv, r->nodeset) & bits))
                continue;
            size = spm_units_format(r->bytes);
            g_string_append_printf(out, "%s%s/%s %s", out->len ? ", " : "",
                                   h->domain, r->device, size);
            if (!g_str_equal(r->nodeset, "") && strpbrk(r->nodeset, ",-"))
                g_string_append_printf(out, " of nodes %s", r->nodeset);
        }
    }
    if (!out->len)
        g_string_append(out, "nobody");
    return g_string_free(out, FALSE);
}

static const char *
spm_ledger_node_word(const char *nodeset)
{
    return strpbrk(nodeset, ",-") ? "host nodes" : "host node";
}

gboolean
spm_ledger_reserve(SpmLedger *ledger,
                   const SpmHostInventory *inv,
                   const char *uuid,
                   const char *domain,
                   const SpmLedgerRequest *requests,
                   guint n,
                   SpmLedgerRefusal *refusal,
                   GError **error)
{
    g_auto(SpmLedgerSlack) s = { 0 };
    g_autoptr(SpmLedgerHolding) holding = spm_ledger_holding_new(uuid, domain);

    g_return_val_if_fail(uuid && *uuid, FALSE);

    if (spm_host_inventory_is_empty(inv)) {
        if (n == 0)
            return TRUE;
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "device '%s' binds host nodes '%s' but [host] spm_nodes lists no HBM node",
                    requests[0].device, requests[0].nodeset);
        return FALSE;
    }
    spm_ledger_slack_init(&s, ledger, inv, uuid);

    for (guint i = 0; i < n; i++) {
        const SpmLedgerRequest *r = &requests[i];
        g_autofree char *what = g_strdup_printf("device '%s' nodemask", r->device);
        g_autofree char *set = NULL;
        g_autofree char *asked = NULL;
        g_autofree char *freestr = NULL;
        g_autofree char *cap = NULL;
        SpmNodeBits bits;
        guint64 capacity, avail;

        if (!spm_host_nodeset_parse(inv, what, r->nodeset, &bits, error))
            return FALSE;
        set = spm_host_nodeset_format(inv, bits);
        capacity = spm_host_inventory_capacity(inv, bits);
        avail = spm_ledger_slack_free(&s, bits);
        if (r->bytes > avail) {
            g_autofree char *holders = spm_ledger_holders_of(ledger, inv, bits, uuid);

            asked = spm_units_format(r->bytes);
            freestr = avail ? spm_units_format(avail) : g_strdup("nothing");
            cap = spm_units_format(capacity);
            if (r->bytes > capacity)
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "device '%s' asks %s of %s %s, more than its capacity of %s",
                            r->device, asked, spm_ledger_node_word(set), set, cap);
            else
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "device '%s' asks %s of %s %s but %s is free there (capacity %s; "
                            "held by %s)", r->device, asked, spm_ledger_node_word(set), set,
                            freestr, cap, holders);
            if (refusal) {
                refusal->domain = g_strdup(domain);
                refusal->device = g_strdup(r->device);
                refusal->nodeset = g_steal_pointer(&set);
                refusal->asked = r->bytes;
                refusal->free = avail;
                refusal->holders = g_steal_pointer(&holders);
            }
            return FALSE;
        }
        spm_ledger_slack_add(&s, bits, r->bytes);
        spm_ledger_holding_add(holding, r->device, set, r->bytes);
    }

    spm_ledger_release(ledger, uuid, NULL);
    holding->reserved_at = g_get_real_time();
    if (holding->requests->len)
        g_ptr_array_add(ledger->holdings, g_steal_pointer(&holding));
    return TRUE;
}

void
spm_ledger_release(SpmLedger *ledger, const char *uuid, gboolean *had)
{
    if (had)
        *had = FALSE;
    for (guint i = ledger->holdings->len; i-- > 0;) {
        const SpmLedgerHolding *h = ledger->holdings->pdata[i];

        if (g_str_equal(h->uuid, uuid)) {
            g_ptr_array_remove_index(ledger->holdings, i);
            if (had)
                *had = TRUE;
        }
    }
}

void
spm_ledger_replace(SpmLedger *ledger, GPtrArray *holdings)
{
    g_ptr_array_set_size(ledger->holdings, 0);
    for (guint i = 0; i < holdings->len; i++) {
        const SpmLedgerHolding *h = holdings->pdata[i];

        if (h->requests->len)
            g_ptr_array_add(ledger->holdings, spm_ledger_holding_copy(h));
    }
}

void
spm_ledger_reconcile(SpmLedger *ledger, GPtrArray *running, GHashTable *keep,
                      gint64 stale_before, guint *dropped, gint64 *kept_fresh)
{
    g_autoptr(GHashTable) fresh = g_hash_table_new(g_str_hash, g_str_equal);
    guint n = 0;
    gint64 earliest = 0;

    for (guint i = 0; i < running->len; i++)
        g_hash_table_add(fresh, ((SpmLedgerHolding *)running->pdata[i])->uuid);

    for (guint i = ledger->holdings->len; i-- > 0;) {
        const SpmLedgerHolding *h = ledger->holdings->pdata[i];

        if (keep && g_hash_table_contains(keep, h->uuid))
            continue;
        if (g_hash_table_contains(fresh, h->uuid) || h->reserved_at < stale_before) {
            if (!g_hash_table_contains(fresh, h->uuid))
                n++;
            g_ptr_array_remove_index(ledger->holdings, i);
        } else if (!earliest || h->reserved_at < earliest) {
            earliest = h->reserved_at;
        }
    }
    for (guint i = 0; i < running->len; i++) {
        const SpmLedgerHolding *h = running->pdata[i];
        SpmLedgerHolding *copy;

        if (!h->requests->len)
            continue;
        copy = spm_ledger_holding_copy(h);
        if (!copy->reserved_at)
            copy->reserved_at = g_get_real_time();
        g_ptr_array_add(ledger->holdings, copy);
    }
    if (dropped)
        *dropped = n;
    if (kept_fresh)
        *kept_fresh = earliest;
}

gboolean
spm_ledger_choose(SpmLedger *ledger,
                  const SpmHostInventory *inv,
                  const guint64 *sizes,
                  guint n,
                  char ***nodesets_out,
                  GError **error)
{
    g_auto(SpmLedgerSlack) s = { 0 };
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    g_autofree gint64 *avail = NULL;
    guint nn;

    if (spm_host_inventory_is_empty(inv)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "no host node to choose from: [host] spm_nodes lists none");
        return FALSE;
    }
    nn = inv->nodes->len;
    spm_ledger_slack_init(&s, ledger, inv, NULL);
    avail = g_new0(gint64, (gsize)1 << nn);

    for (guint i = 0; i < n; i++) {
        SpmNodeBits chosen = 0;

        spm_ledger_slack_free_all(&s, avail);
        /* fewest nodes first; among as many, colexicographic (lowest ids) */
        for (guint k = 1; k <= nn && !chosen; k++) {
            for (guint t = 1; t < (1u << nn); t++) {
                if ((guint)__builtin_popcount(t) == k && avail[t] >= 0 &&
                    (guint64)avail[t] >= sizes[i]) {
                    chosen = t;
                    break;
                }
            }
        }
        if (!chosen) {
            guint64 best = 0;
            guint best_id = 0;
            g_autofree char *size = spm_units_format(sizes[i]);
            g_autofree char *bests = NULL;

            for (guint j = 0; j < nn; j++) {
                guint64 f = MAX(avail[1u << j], 0);

                if (f > best) {
                    best = f;
                    best_id = g_array_index(inv->nodes, SpmHostNode, j).id;
                }
            }
            bests = spm_units_format(best);
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "SPM device %u (%s): no host node or set of nodes in [host] spm_nodes "
                        "has that much free (largest free: %s on host node %u)",
                        i, size, bests, best_id);
            return FALSE;
        }
        spm_ledger_slack_add(&s, chosen, sizes[i]);
        g_ptr_array_add(out, spm_host_nodeset_format(inv, chosen));
    }
    g_ptr_array_add(out, NULL);
    *nodesets_out = (char **)g_ptr_array_steal(out, NULL);
    return TRUE;
}

JsonNode *
spm_ledger_to_json(SpmLedger *ledger, const SpmHostInventory *inv)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_auto(SpmLedgerSlack) s = { 0 };
    GPtrArray *holdings = spm_ledger_holdings(ledger);
    gboolean empty = spm_host_inventory_is_empty(inv);

    if (!empty)
        spm_ledger_slack_init(&s, ledger, inv, NULL);

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "nodes");
    json_builder_begin_array(b);
    for (guint i = 0; !empty && i < inv->nodes->len; i++) {
        const SpmHostNode *node = &g_array_index(inv->nodes, SpmHostNode, i);
        guint64 reserved = 0;

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "id");
        json_builder_add_int_value(b, node->id);
        json_builder_set_member_name(b, "capacity");
        json_builder_add_int_value(b, (gint64)node->capacity);
        json_builder_set_member_name(b, "capacity_from");
        json_builder_add_string_value(b, node->from_sysfs ? "meminfo" : "spm_nodes");
        json_builder_set_member_name(b, "online");
        json_builder_add_boolean_value(b, !node->offline);
        json_builder_set_member_name(b, "holders");
        json_builder_begin_array(b);
        for (guint h = 0; h < holdings->len; h++) {
            const SpmLedgerHolding *hd = holdings->pdata[h];

            for (guint j = 0; j < hd->requests->len; j++) {
                const SpmLedgerRequest *r = hd->requests->pdata[j];
                SpmNodeBits bits = spm_ledger_bits_lenient(inv, r->nodeset);

                if (!(bits & (1u << i)))
                    continue;
                /* ledgers are read with their total checked; saturate all
                 * the same (holdings added in this process) */
                if (bits == (1u << i) && !spm_checked_add(reserved, r->bytes, &reserved))
                    reserved = G_MAXUINT64;
                spm_ledger_build_request(b, hd, r);
            }
        }
        json_builder_end_array(b);
        /* reserved: confined to this node; shared ones show in holders */
        json_builder_set_member_name(b, "reserved");
        json_builder_add_int_value(b, (gint64)MIN(reserved, (guint64)G_MAXINT64));
        json_builder_set_member_name(b, "free");
        json_builder_add_int_value(b, (gint64)spm_ledger_slack_free(&s, 1u << i));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);

    json_builder_set_member_name(b, "candidates");
    json_builder_begin_array(b);
    for (guint i = 0; inv && i < inv->candidates->len; i++)
        json_builder_add_int_value(b, g_array_index(inv->candidates, guint, i));
    json_builder_end_array(b);

    json_builder_set_member_name(b, "holdings");
    json_builder_add_value(b, spm_ledger_holdings_to_json(holdings));
    json_builder_set_member_name(b, "consistent");
    json_builder_add_boolean_value(b, empty ? holdings->len == 0 : spm_ledger_slack_consistent(&s));
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
