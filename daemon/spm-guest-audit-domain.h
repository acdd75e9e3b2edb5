/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-guest-audit-domain.h: the guest audit of a libvirt domain, through
 * libvirt's agent passthrough (virDomainQemuAgentCommand with a timeout;
 * libvirt does the guest-sync itself and owns the agent's socket).
 * Blocking: the daemon runs it in a worker thread.
 */
#pragma once

#include <libvirt/libvirt.h>

#include "spm-guest-agent.h"
#include "spm-plan.h"

G_BEGIN_DECLS

/* An SpmGuestAgentSendFunc; @user_data is the virDomainPtr. */
char *spm_guest_agent_libvirt_send(const char *command, gsize max_reply, guint timeout_ms,
                                   gpointer user_data, GError **error);

/*
 * Audit what @dom's guest made of its SPM devices.  NULL + *is_spm FALSE:
 * no virt-spm metadata; NULL + error: its plan cannot be had.
 */
SpmGuestAudit *spm_guest_audit_domain(virDomainPtr dom, const SpmPlanPolicy *policy,
                                      const SpmGuestAgentOptions *opts, gboolean *is_spm,
                                      GError **error);

G_END_DECLS
