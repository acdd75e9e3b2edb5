/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-ledger.h: the host HBM ledger -- which running domain holds how many
 * bytes of which host NUMA nodes (spm-host-inventory.h).
 *
 * One JSON file, DIR/ledger.json, guarded by flock() on DIR/ledger.lock.
 * DIR is $VIRT_SPM_LEDGER_DIR or /run/virt-spm: reservations die with the
 * host, and virt-spmd rebuilds them from the running domains when it or
 * libvirtd restarts.  Writers (the hook's prepare/release, virt-spmd's
 * reconciliation) hold the lock exclusively from reading to writing, so two
 * concurrent starts can never both pass the check; readers (`virt-spm
 * host`, status) take it shared.  The file is replaced atomically (temporary
 * file, fsync, rename, fsync of DIR), so a crash leaves the old or the new
 * ledger, never half of one.  A file that cannot be read or parsed is an
 * error, never an empty ledger: a start is then refused, not admitted on a
 * guess (repair: restart virt-spmd, which sets the file aside and rebuilds
 * it from the running domains, or remove it while no SPM domain runs).
 *
 * Accounting.  Each reservation is (device id, host node set, bytes).  A
 * device bound to several nodes ("2-3") may take its bytes from any of
 * them, so the ledger admits a set of reservations when for every set T of
 * nodes the bytes of the reservations confined to T fit in T's capacity
 * (Hall's condition: exactly when the kernel's bind policy can satisfy them
 * all).  "Free" for a node set S is the most a new reservation on S could
 * get: the smallest slack over the node sets that contain S.
 *
 * Everything here is plain code over the file; no libvirt call (the hook
 * uses it while libvirt holds the domain).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "spm-host-inventory.h"

G_BEGIN_DECLS

typedef struct _SpmLedger SpmLedger;

/* One device's claim. */
typedef struct {
    char *device;               /* device id: the SPM alias, e.g. "ua-hbm0" */
    char *nodeset;              /* host nodes as written, libvirt syntax: "2-3" */
    guint64 bytes;
} SpmLedgerRequest;

/* All claims of one domain. */
typedef struct {
    char *uuid;                 /* the key: one holding per domain */
    char *domain;               /* name, for messages */
    GPtrArray *requests;        /* SpmLedgerRequest * */
    gint64 reserved_at;         /* g_get_real_time() of the reservation; 0 = unknown */
} SpmLedgerHolding;

/* Why a reservation was refused, for the journal's structured fields. */
typedef struct {
    char *domain;
    char *device;
    char *nodeset;              /* the host node set that is short: SPM_HOST_NODE */
    guint64 asked;              /* SPM_ASKED, bytes */
    guint64 free;               /* SPM_FREE, bytes */
    char *holders;              /* "vm1/ua-hbm0 2 GiB, vm2/ua-hbm0 1 GiB" or "nobody" */
} SpmLedgerRefusal;

typedef enum {
    SPM_LEDGER_READ = 0,        /* shared lock; the ledger cannot be committed */
    SPM_LEDGER_WRITE = 1,       /* exclusive lock, held until spm_ledger_close() */
} SpmLedgerMode;

/* $VIRT_SPM_LEDGER_DIR or VIRT_SPM_RUNDIR ("/run/virt-spm"). */
const char *spm_ledger_default_dir(void);

/*
 * Lock and read the ledger in @dir (NULL = spm_ledger_default_dir(); it is
 * created 0755 when missing in WRITE mode).  A missing ledger file is an
 * empty ledger; an unreadable or corrupt one is SPM_ERROR_SYSTEM /
 * SPM_ERROR_INVALID naming the file.  Blocks until the lock is free.
 */
SpmLedger *spm_ledger_open(const char *dir, SpmLedgerMode mode, GError **error);

/* Release the lock without writing (what was not committed is dropped). */
void spm_ledger_close(SpmLedger *ledger);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmLedger, spm_ledger_close)

/*
 * Reserve @requests (@n of them) for the domain @uuid/@domain against
 * @inv, replacing what @uuid held before (a restart of the same domain is
 * not a double booking).  All or nothing.  On overcommit: FALSE with
 * SPM_ERROR_INVALID and the one-line message
 *   "device 'ua-hbm0' asks 2 GiB of host node 0 but 1 GiB is free
 *    (capacity 3 GiB; held by vm1/ua-hbm0 2 GiB)"
 * and, when @refusal is not NULL, its fields.  A node set that names a node
 * outside @inv, or an unparsable one, is an error too (never admitted).
 * The change is in memory until spm_ledger_commit().
 */
gboolean spm_ledger_reserve(SpmLedger *ledger,
                            const SpmHostInventory *inv,
                            const char *uuid,
                            const char *domain,
                            const SpmLedgerRequest *requests,
                            guint n,
                            SpmLedgerRefusal *refusal,      /* nullable; clear it after */
                            GError **error);

/* Drop @uuid's holding; *had (nullable) says whether there was one. */
void spm_ledger_release(SpmLedger *ledger, const char *uuid, gboolean *had);

/*
 * Replace the whole ledger by @holdings (SpmLedgerHolding *), the domains
 * that really run (virt-spmd at start, after a reconnect, on events).
 * Holdings whose nodes left the inventory are kept as they are (the guest
 * does use that memory); overcommit among them is reported, not dropped.
 */
void spm_ledger_replace(SpmLedger *ledger, GPtrArray *holdings);

/*
 * Reconcile with what runs (virt-spmd): each holding of @running
 * (SpmLedgerHolding *, computed from the live XML of a running domain)
 * replaces that domain's; holdings of the UUIDs in @keep (running domains
 * whose holding could not be computed; nullable) stay as they are; every
 * other holding belongs to a domain that does not run and is dropped --
 * unless it was reserved at or after @stale_before (real time, µs): a
 * start whose prepare hook reserved after the caller listed the running
 * domains.  *@dropped (nullable) counts the holdings dropped;
 * *@kept_fresh (nullable) is the earliest reservation time of the holdings
 * kept only for being that recent, 0 when there is none: the caller
 * reconciles again once it is stale, or a guest that died in its first
 * moments would stay held until some other domain starts or stops.
 */
void spm_ledger_reconcile(SpmLedger *ledger,
                          GPtrArray *running,
                          GHashTable *keep,
                          gint64 stale_before,
                          guint *dropped,
                          gint64 *kept_fresh);

/* Write the ledger atomically and durably.  The lock stays held. */
gboolean spm_ledger_commit(SpmLedger *ledger, GError **error);

/* The current holdings (SpmLedgerHolding *, borrowed), sorted by domain. */
GPtrArray *spm_ledger_holdings(SpmLedger *ledger);

/* The most a new reservation on @bits could get (see Accounting above). */
guint64 spm_ledger_available(SpmLedger *ledger, const SpmHostInventory *inv, SpmNodeBits bits);

/*
 * Choose host nodes for @n devices of @sizes bytes that have no nodeset:
 * for each device in order, the first node set (by number of nodes, then
 * by lowest node ids) whose free bytes fit it, counting the devices chosen
 * before.  Fills @nodesets_out (a NULL-terminated GStrv of libvirt nodeset
 * strings).  Reserves nothing: the caller writes the choice into the
 * definition, and the start reserves it.  Fails (SPM_ERROR_INVALID, naming
 * the device index and size and the largest free node) when a device fits
 * nowhere, or when @inv is empty.
 */
gboolean spm_ledger_choose(SpmLedger *ledger,
                           const SpmHostInventory *inv,
                           const guint64 *sizes,
                           guint n,
                           char ***nodesets_out,
                           GError **error);

/*
 * The ledger as JSON for `virt-spm host --json` and `virt-spm status
 * --json`: {"nodes": [{"id", "capacity", "reserved", "free", "holders":
 * [{"domain", "uuid", "device", "nodeset", "bytes"}]}], "candidates": [ids],
 * "holdings": [...], "consistent": bool}.
 */
JsonNode *spm_ledger_to_json(SpmLedger *ledger, const SpmHostInventory *inv);

/*
 * The journal fields of a refusal ("MESSAGE=...", "PRIORITY=4",
 * "SYSLOG_IDENTIFIER=virt-spm", "DOMAIN_NAME=", "SPM_DEVICE=",
 * "SPM_HOST_NODE=" (the node set), "SPM_ASKED=" and "SPM_FREE=" (bytes),
 * "SPM_HOLDERS="), for sd_journal_sendv().
 */
char **spm_ledger_refusal_fields(const SpmLedgerRefusal *refusal, const char *message);

void spm_ledger_request_clear(SpmLedgerRequest *req);
void spm_ledger_holding_free(SpmLedgerHolding *holding);
SpmLedgerHolding *spm_ledger_holding_new(const char *uuid, const char *domain);
/* Append a request (copies the strings). */
void spm_ledger_holding_add(SpmLedgerHolding *holding, const char *device,
                            const char *nodeset, guint64 bytes);
void spm_ledger_refusal_clear(SpmLedgerRefusal *refusal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmLedgerHolding, spm_ledger_holding_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpmLedgerRefusal, spm_ledger_refusal_clear)

G_END_DECLS
