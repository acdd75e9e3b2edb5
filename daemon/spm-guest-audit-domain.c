/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-guest-audit-domain.c: the guest audit over libvirt (see
 * spm-guest-audit-domain.h)
 */
#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt-qemu.h>

#include "spm-audit-domain.h"
#include "spm-error.h"
#include "spm-guest-audit-domain.h"
#include "spm-libvirt-conn.h"

char *
spm_guest_agent_libvirt_send(const char *command, gsize max_reply, guint timeout_ms,
                             gpointer user_data, GError **error)
{
    virDomainPtr dom = user_data;
    /* libvirt counts in whole seconds; 0 would mean "do not wait" */
    int timeout_s = (int) MAX((timeout_ms + 999) / 1000, 1);
    char *raw = virDomainQemuAgentCommand(dom, command, timeout_s, 0);
    char *reply;
    gsize len;

    if (!raw) {
        spm_libvirt_error(error, "guest agent via libvirt");
        return NULL;
    }
    len = strlen(raw);
    if (len > max_reply) {
        free(raw);
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "guest agent via libvirt: reply of %" G_GSIZE_FORMAT
                    " bytes, more than %" G_GSIZE_FORMAT, len, max_reply);
        return NULL;
    }
    reply = g_strndup(raw, len);
    free(raw);
    return reply;
}

SpmGuestAudit *
spm_guest_audit_domain(virDomainPtr dom, const SpmPlanPolicy *policy,
                       const SpmGuestAgentOptions *opts, gboolean *is_spm, GError **error)
{
    g_autoptr(SpmAuditPlan) plan = spm_audit_domain_plan(dom, policy, is_spm, error);

    if (!plan)
        return NULL;
    return spm_guest_agent_audit(plan, spm_guest_agent_libvirt_send, dom, opts);
}
