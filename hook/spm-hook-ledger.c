/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-hook-ledger.c: reserve and release host HBM on the start path
 *
 * The hook helper journals refusals itself (sd_journal_sendv) rather than
 * leaving it to virt-spmd: the refusal happens here, synchronously, and
 * must be journaled even when the daemon is down or restarting.
 *
 * libsystemd is loaded only then, with dlopen(): linked, its dependencies
 * (gcrypt, lz4, zstd, lzma, libcap) cost every SPM start about 0.5 ms of
 * dynamic loading for a call that a refused start makes once.
 */
#include "spm-hook-ledger.h"
#include "spm-error.h"
#include "spm-host-inventory.h"

#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <dlfcn.h>

/* sd_journal_sendv() of sd-journal.h */
typedef int (*SpmJournalSendv)(const struct iovec *iov, int n);

void
spm_ledger_journal_refusal(const SpmLedgerRefusal *refusal, const char *message)
{
    g_auto(GStrv) fields = spm_ledger_refusal_fields(refusal, message);
    guint n = g_strv_length(fields);
    g_autofree struct iovec *iov = g_new0(struct iovec, n);
    SpmJournalSendv sendv;
    void *lib;

    for (guint i = 0; i < n; i++) {
        iov[i].iov_base = fields[i];
        iov[i].iov_len = strlen(fields[i]);
    }
    /* no libsystemd or no journald (a container, a CI machine): the refusal is on stderr anyway */
    if ((lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL))) {
        if ((sendv = (SpmJournalSendv)dlsym(lib, "sd_journal_sendv")))
            sendv(iov, n);
        dlclose(lib);
    }
}

void
spm_hook_journal_warning(const char *line)
{
    g_autofree char *message = g_strconcat("MESSAGE=", line, NULL);
    g_autofree char *priority = g_strdup_printf("PRIORITY=%d", LOG_WARNING);
    char ident[] = "SYSLOG_IDENTIFIER=virt-spm";
    struct iovec iov[] = {
        { .iov_base = message, .iov_len = strlen(message) },
        { .iov_base = priority, .iov_len = strlen(priority) },
        { .iov_base = ident, .iov_len = strlen(ident) },
    };
    SpmJournalSendv sendv;
    void *lib;

    if ((lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL))) {
        if ((sendv = (SpmJournalSendv)dlsym(lib, "sd_journal_sendv")))
            sendv(iov, G_N_ELEMENTS(iov));
        dlclose(lib);
    }
}

gboolean
spm_hook_ledger_reserve(const SpmConfig *config, const SpmLedgerHolding *holding,
                        GError **error)
{
    g_autoptr(SpmHostInventory) inv = NULL;
    g_autoptr(SpmLedger) ledger = NULL;
    g_autofree SpmLedgerRequest *reqs = NULL;
    g_auto(SpmLedgerRefusal) refusal = { 0 };

    if (!(inv = spm_host_inventory_load(config->keyfile, NULL, error)))
        return FALSE;
    if (spm_host_inventory_is_empty(inv) || !holding)
        return TRUE; /* no HBM inventory: virt-spm does not account */

    reqs = g_new0(SpmLedgerRequest, holding->requests->len + 1);
    for (guint i = 0; i < holding->requests->len; i++)
        reqs[i] = *(SpmLedgerRequest *)holding->requests->pdata[i];

    if (!(ledger = spm_ledger_open(NULL, SPM_LEDGER_WRITE, error)))
        return FALSE;
    if (!spm_ledger_reserve(ledger, inv, holding->uuid, holding->domain, reqs,
                            holding->requests->len, &refusal, error)) {
        if (refusal.device) {
            g_autofree char *line = g_strdup_printf("virt-spm: refusing to start domain '%s': %s",
                                                    holding->domain, (*error)->message);

            spm_ledger_journal_refusal(&refusal, line);
        }
        return FALSE;
    }
    return spm_ledger_commit(ledger, error);
}

void
spm_hook_ledger_release(const char *uuid, const char *domain)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmLedger) ledger = NULL;
    g_autofree char *path = g_build_filename(spm_ledger_default_dir(), "ledger.json", NULL);
    gboolean had = FALSE;

    if (!uuid || !g_file_test(path, G_FILE_TEST_EXISTS))
        return; /* nothing was ever reserved */
    if (!(ledger = spm_ledger_open(NULL, SPM_LEDGER_WRITE, &error)) ||
        (spm_ledger_release(ledger, uuid, &had), had && !spm_ledger_commit(ledger, &error))) {
        /* virt-spmd rebuilds the ledger from the running domains */
        fprintf(stderr, "virt-spm: releasing the HBM of domain '%s': %s\n",
                domain ? domain : uuid, error->message);
    }
}
