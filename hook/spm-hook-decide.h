/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-hook-decide.h: what the libvirt qemu hook does with one call.
 *
 * A pure function of its inputs: the hook's OP and SUBOP, the domain XML
 * libvirt wrote on its standard input, and the facts the caller gathered
 * (the libvirt version, the planning policy, a way to ask whether an
 * emulator has a device, and one to ask whether the huge page pools hold
 * the domain).  No libvirt call, no socket: the caller acts on
 * the decision (exit status, one line on stderr, event to virt-spmd), so
 * tests run the decision on recorded inputs (tests/libvirt/data/).
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include "spm-plan.h"
#include "spm-ledger.h"
#include "spm-emulator-probe.h"

G_BEGIN_DECLS

/* QEMU binary libvirt uses when <devices><emulator> is absent (x86_64 host). */
#define SPM_HOOK_DEFAULT_EMULATOR "/usr/bin/qemu-system-x86_64"

typedef enum {
    SPM_HOOK_ALLOW,             /* exit 0, print nothing */
    SPM_HOOK_REFUSE,            /* exit 1, print decision.message on stderr */
    SPM_HOOK_NOTIFY,            /* hand decision.event to virt-spmd, then exit 0 */
} SpmHookAction;

/*
 * Does @emulator know the device @driver?  *has_device answers; FALSE with
 * @error when the question could not be answered (binary missing, probe
 * failed or timed out).
 */
typedef SpmEmulatorProbeFunc SpmHookProbeFunc;

/*
 * Can the host give @plan (of @def) the memory it takes?  FALSE with a
 * one-line @error naming the device and the numbers when it cannot
 * (spm_hugepages_check() on the real sysfs, in the helper).
 */
typedef gboolean (*SpmHookHostCheckFunc)(const SpmPlan *plan,
                                         const SpmDomainDef *def,
                                         gpointer opaque,
                                         GError **error);

typedef struct {
    guint libvirt_version;          /* of the daemon running the hook; 0 = unknown */
    const SpmPlanPolicy *policy;    /* for re-planning the domain */
    SpmHookProbeFunc probe;
    gpointer probe_opaque;
    SpmHookHostCheckFunc check_pages; /* at prepare begin; NULL = no check */
    gpointer check_pages_opaque;
    /*
     * [qemu] migrate_memory: the administrator says this host's QEMU
     * carries the SPM device's memory over a migration, which the device
     * table does not know of it (QEMU 11.1.3's sp-mem does not).
     */
    gboolean migrates_memory;
} SpmHookFacts;

typedef struct {
    SpmHookAction action;
    char *message;                  /* REFUSE: one line, no newline */
    const char *event;              /* NOTIFY: "started" or "stopped" */
    char *domain;                   /* NOTIFY: domain name */
    char *uuid;                     /* NOTIFY, release: domain UUID (may be NULL) */
    /* ALLOW of prepare begin: the host HBM this start reserves (the SPM
     * devices that bind host nodes); NULL when there is nothing to reserve */
    SpmLedgerHolding *holding;
    gboolean release;               /* stopped/release end: free uuid's HBM */
    gint64 run_id;                  /* NOTIFY: libvirt domain id of the run; -1 = none */
    /*
     * start begin, ALLOW: per-domain directories to create before QEMU
     * starts (spm-memdir.h), owned by dac_label (libvirt's <seclabel
     * model='dac'> imagelabel, "+0:+0"; NULL = root).  A failure refuses.
     */
    GPtrArray *make_dirs;
    char *dac_label;
    /* and labelled so (<seclabel model='selinux'> imagelabel), as libvirt
     * labels its own memory directories; NULL = leave the label alone */
    char *selinux_label;
    /* stopped end, release end: per-domain directories to remove (any action) */
    GPtrArray *remove_dirs;
    /* one line the helper prints and journals as a warning, whatever the action */
    char *warning;
    /*
     * migrate begin, ALLOW: an incoming sp-mem domain whose HBM the helper
     * re-binds to this host's nodes and reserves before libvirt goes on
     * (spm_hook_migrate_incoming()); it prints the XML libvirt must use.
     */
    gboolean incoming;
} SpmHookDecision;

void spm_hook_decision_clear(SpmHookDecision *decision);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpmHookDecision, spm_hook_decision_clear)

/* <domain id='N'> of a running domain's XML: the run an event is about; -1 = none. */
gint64 spm_hook_run_id(xmlNodePtr root);

/* Make @decision a refusal: "virt-spm: " and the message, on one line. */
void spm_hook_refuse(SpmHookDecision *decision, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/*
 * The cheap test the hook does before parsing anything: can @xml (not
 * NUL-terminated, @len bytes) hold virt-spm metadata at all?
 */
gboolean spm_hook_xml_mentions_spm(const char *xml, gsize len);

/*
 * The SPM device revision @emulator has (facts->probe, sp-mem first), or
 * with @stand_in (the tests' pc-dimm) whether it has that driver (*rev is
 * then left alone).  FALSE with one line naming the emulator when it has
 * none ("has neither 'sp-mem' (...) nor 'spm-memory' (...)") or the probe
 * cannot tell.
 */
gboolean spm_hook_emulator_device(const SpmHookFacts *facts,
                                  const char *emulator,
                                  const char *stand_in,
                                  SpmDeviceRev *rev,
                                  GError **error);

/* Fill @decision for one hook call.  Never fails: every problem is a refusal. */
void spm_hook_decide(const char *op,
                     const char *subop,
                     const char *xml,
                     gsize xml_len,
                     const SpmHookFacts *facts,
                     SpmHookDecision *decision);

G_END_DECLS
