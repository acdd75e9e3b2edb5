/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-guest-verdict.h: what a guest made of each SPM device, judged
 * against what the domain asks of it (target/guest@mode).
 *
 * Pure: the facts (spm-guest-facts.h) are gathered by spm-guest-agent.c
 * and handed in.  Two sources, and they do not tell the same:
 *
 *  - memory blocks alone (guest-get-memory-blocks, no file reads) tell
 *    only RAM from not-RAM: an online block inside the device's range
 *    means the page allocator has it; no online block means "not RAM",
 *    which is Soft Reserved, device-dax or nothing at all -- the state is
 *    then "reserved" with evidence "memory-blocks", and ONLINE blocks give
 *    "system-ram" with that evidence, since kmem and boot RAM look alike;
 *  - /proc/iomem (and /sys/bus/dax/devices/daxN.M/target_node) tell every
 *    state apart: "System RAM (kmem)" -> system-ram, plain "System RAM" ->
 *    leaked, "daxN.M" -> devdax, "Soft Reserved"/"hmem.N" -> reserved,
 *    nothing -> missing.
 *
 * Judgement: match, mismatch or undetermined.  unknown is undetermined,
 * never a match and never a mismatch; leaked and missing are always a
 * mismatch.  docs/guest-view.md has the table.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "spm-audit.h"
#include "spm-guest-facts.h"

G_BEGIN_DECLS

typedef enum {
    SPM_GUEST_RESERVED,     /* Soft Reserved, not RAM (or, from blocks alone: not RAM) */
    SPM_GUEST_DEVDAX,       /* claimed by device-dax */
    SPM_GUEST_SYSTEM_RAM,   /* RAM through kmem (or, from blocks alone: RAM) */
    SPM_GUEST_LEAKED,       /* ordinary System RAM: the page allocator owns it */
    SPM_GUEST_MISSING,      /* nothing of it at the planned address */
    SPM_GUEST_UNKNOWN,      /* no usable answer: see reason */
    SPM_GUEST_STATE_LAST
} SpmGuestState;

typedef enum {
    SPM_GUEST_JUDGED_MATCH,
    SPM_GUEST_JUDGED_MISMATCH,
    SPM_GUEST_JUDGED_UNDETERMINED,
} SpmGuestJudgement;

typedef enum {
    SPM_GUEST_EVIDENCE_NONE,
    SPM_GUEST_EVIDENCE_BLOCKS,  /* memory blocks only */
    SPM_GUEST_EVIDENCE_IOMEM,   /* /proc/iomem (and sysfs) */
} SpmGuestEvidence;

const char *spm_guest_state_to_string(SpmGuestState s);
int spm_guest_state_from_string(const char *str);
const char *spm_guest_judgement_to_string(SpmGuestJudgement j);
int spm_guest_judgement_from_string(const char *str);
const char *spm_guest_evidence_to_string(SpmGuestEvidence e);

/* /sys/bus/dax/devices/NAME/target_node as read */
typedef struct {
    char *name;             /* "dax0.0" */
    gint64 target_node;     /* -1: none or not readable */
} SpmGuestDax;

/* Everything the guest told; each source NULL with its error when absent. */
typedef struct {
    char *agent_error;      /* the agent did not answer at all; NULL = it did */
    GArray *blocks;         /* SpmGuestBlock; NULL = not known */
    guint64 block_size;
    char *blocks_error;
    GPtrArray *iomem;       /* SpmIomemEntry *; NULL = not read */
    char *iomem_error;      /* why not (not allowed, agent refused, bad text) */
    GPtrArray *dax;         /* SpmGuestDax * */
} SpmGuestFacts;

SpmGuestFacts *spm_guest_facts_new(void);
void spm_guest_facts_free(SpmGuestFacts *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmGuestFacts, spm_guest_facts_free)
void spm_guest_facts_add_dax(SpmGuestFacts *f, const char *name, gint64 target_node);

typedef struct {
    char *device;
    guint64 addr;
    guint64 size;
    guint planned_node;
    SpmGuestMode expected;
    SpmGuestState state;
    gint64 guest_node;      /* observed; -1 = not known */
    SpmGuestEvidence evidence;
    char *reason;           /* one line: what was seen */
    SpmGuestJudgement judgement;
} SpmGuestDeviceVerdict;

typedef struct {
    SpmGuestJudgement judgement;    /* mismatch if any, else undetermined if any, else match */
    GPtrArray *devices;             /* SpmGuestDeviceVerdict * */
    gint64 time;                    /* g_get_real_time() */
    gint64 duration_us;
    char *error;                    /* why the agent gave nothing (all unknown); NULL otherwise */
} SpmGuestAudit;

void spm_guest_audit_free(SpmGuestAudit *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmGuestAudit, spm_guest_audit_free)

/* Every SPM device of @plan, from @facts. */
SpmGuestAudit *spm_guest_audit_judge(const SpmAuditPlan *plan, const SpmGuestFacts *facts);

/* One line per device: "device 'ua-hbm0': leaked (expected reserved): ..." */
char *spm_guest_device_verdict_to_string(const SpmGuestDeviceVerdict *d);

/* {"judgement", "time", "time_us", "duration_us", "error"?, "devices": [{"device",
 * "addr", "size", "planned_node", "expected", "state", "guest_node" (null =
 * not known), "evidence", "judgement", "reason"}]} (docs/virt-spmd.md) */
JsonNode *spm_guest_audit_to_json(const SpmGuestAudit *a);

G_END_DECLS
