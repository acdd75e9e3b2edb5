/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-guest-agent.h: ask a guest's qemu-guest-agent what it made of its
 * HBM, and judge it (spm-guest-verdict.h).
 *
 * The questions are asked through one function pointer, "send this
 * command, give me the reply text, within this time", so that the same
 * code runs over libvirt's agent passthrough (virDomainQemuAgentCommand,
 * for the daemon and `virt-spm audit --guest DOMAIN`) and over an agent
 * socket of a QEMU run without libvirt (spm-guest-agent-socket.h: tests and
 * `--agent PATH`).
 *
 * What is asked: guest-get-memory-block-info and guest-get-memory-blocks
 * always (they run nothing in the guest); only with file_reads (the
 * operator's `[guest-audit] file_reads = true`) guest-file-open, -read and
 * -close of /proc/iomem and of /sys/bus/dax/devices/daxN.M/target_node for
 * each daxN.M /proc/iomem names.  Never guest-exec.
 *
 * Every failure ends as facts with a reason (and so a device verdict
 * `unknown` or a weaker source), never as a partial answer: a transport
 * that fails once (no answer, a deadline) stops the gathering, since a
 * late reply would be taken for the next command's.
 */
#pragma once

#include <glib.h>

#include "spm-audit.h"
#include "spm-guest-verdict.h"

G_BEGIN_DECLS

#define SPM_GUEST_AGENT_DEFAULT_TIMEOUT_MS 5000
/* daxN.M devices whose target_node is read, at most */
#define SPM_GUEST_AGENT_MAX_DAX 64

/*
 * Send @command (one JSON object, "execute" and "arguments") and return
 * the reply text ({"return": ...} or {"error": ...}), of at most
 * @max_reply bytes, within @timeout_ms.  NULL + @error when there is no
 * reply (no agent, a deadline, a reply too long or cut): the caller then
 * stops asking.
 */
typedef char *(*SpmGuestAgentSendFunc)(const char *command, gsize max_reply, guint timeout_ms,
                                       gpointer user_data, GError **error);

typedef struct {
    gboolean file_reads;    /* [guest-audit] file_reads, default FALSE */
    guint timeout_ms;       /* per command; [guest-audit] timeout_ms */
} SpmGuestAgentOptions;

/* The [guest-audit] group of @kf (nullable: defaults). */
gboolean spm_guest_agent_options_load(GKeyFile *kf, SpmGuestAgentOptions *opts, GError **error);

/* Everything the agent tells (spm-guest-verdict.h's SpmGuestFacts). */
SpmGuestFacts *spm_guest_agent_gather(SpmGuestAgentSendFunc send, gpointer user_data,
                                      const SpmGuestAgentOptions *opts);

/* Gather and judge against @plan; the audit's duration is set. */
SpmGuestAudit *spm_guest_agent_audit(const SpmAuditPlan *plan, SpmGuestAgentSendFunc send,
                                     gpointer user_data, const SpmGuestAgentOptions *opts);

G_END_DECLS
