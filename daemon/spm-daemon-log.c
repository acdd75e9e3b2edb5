/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-daemon-log.c: journal records with structured fields, or stderr.
 *
 * Under journald (stderr is a journal stream, or --journal) every verdict
 * is one record with MESSAGE, PRIORITY, DOMAIN_NAME, DOMAIN_UUID and
 * SPM_VERDICT, and every finding one more record with SPM_DEVICE,
 * SPM_FIELD, SPM_EXPECTED and SPM_ACTUAL, so that
 * `journalctl SPM_VERDICT=mismatch` finds them.  Elsewhere the same
 * fields go to stderr as key=value pairs on one line.
 *
 * A guest audit is one record with SPM_GUEST_JUDGEMENT, and every device
 * that does not match one more with SPM_DEVICE, SPM_GUEST_VERDICT (the
 * state seen), SPM_GUEST_EXPECTED, SPM_GUEST_NODE and SPM_GUEST_EVIDENCE:
 * `journalctl SPM_GUEST_VERDICT=leaked`.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "spm-daemon.h"

static gboolean spm_log_journal;

void
spm_daemon_log_init(gboolean journal)
{
    spm_log_journal = journal || g_log_writer_is_journald(fileno(stderr));
}

static const char *
spm_priority_name(int priority)
{
    switch (priority) {
    case LOG_ERR: return "error";
    case LOG_WARNING: return "warning";
    case LOG_NOTICE: return "notice";
    case LOG_INFO: return "info";
    default: return "debug";
    }
}

void
spm_daemon_log(int priority, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (spm_log_journal) {
        sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", priority,
                        "SYSLOG_IDENTIFIER=virt-spmd", NULL);
    } else {
        fprintf(stderr, "virt-spmd: %s: %s\n", spm_priority_name(priority), msg);
        fflush(stderr);
    }
}

void
spm_daemon_log_verdict(const SpmVerdict *v, gboolean first_of_run)
{
    const char *verdict = spm_verdict_kind_to_string(v->kind);
    int priority = v->kind == SPM_VERDICT_MATCH ? LOG_INFO
                 : v->kind == SPM_VERDICT_MISMATCH ? LOG_WARNING : LOG_ERR;
    g_autofree char *msg = NULL;

    if (v->kind == SPM_VERDICT_ERROR)
        msg = g_strdup_printf("domain '%s': audit failed: %s", v->domain, v->error);
    else
        msg = g_strdup_printf("domain '%s': %s (%u devices, %u findings)%s", v->domain, verdict,
                              v->devices, v->findings->len, first_of_run ? "" : " (re-audit)");

    if (spm_log_journal) {
        sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", priority,
                        "SYSLOG_IDENTIFIER=virt-spmd",
                        "DOMAIN_NAME=%s", v->domain, "DOMAIN_UUID=%s", v->uuid ? v->uuid : "",
                        "SPM_VERDICT=%s", verdict,
                        "SPM_AUDIT_COUNT=%" G_GUINT64_FORMAT, v->audit_count, NULL);
        for (guint i = 0; i < v->findings->len; i++) {
            const SpmFinding *f = g_ptr_array_index(v->findings, i);
            g_autofree char *line = spm_finding_to_string(f);
            g_autofree char *fmsg = g_strdup_printf("domain '%s': %s", v->domain, line);

            sd_journal_send("MESSAGE=%s", fmsg, "PRIORITY=%d", priority,
                            "SYSLOG_IDENTIFIER=virt-spmd",
                            "DOMAIN_NAME=%s", v->domain, "DOMAIN_UUID=%s", v->uuid ? v->uuid : "",
                            "SPM_VERDICT=%s", verdict, "SPM_DEVICE=%s", f->device,
                            "SPM_FIELD=%s", f->field, "SPM_EXPECTED=%s", f->expected,
                            "SPM_ACTUAL=%s", f->actual, NULL);
        }
        return;
    }
    fprintf(stderr, "virt-spmd: %s: %s DOMAIN_NAME=%s DOMAIN_UUID=%s SPM_VERDICT=%s SPM_AUDIT_COUNT=%"
            G_GUINT64_FORMAT "\n", spm_priority_name(priority), msg, v->domain,
            v->uuid ? v->uuid : "", verdict, v->audit_count);
    for (guint i = 0; i < v->findings->len; i++) {
        const SpmFinding *f = g_ptr_array_index(v->findings, i);
        g_autofree char *line = spm_finding_to_string(f);

        fprintf(stderr, "virt-spmd: %s: domain '%s': %s DOMAIN_NAME=%s DOMAIN_UUID=%s SPM_DEVICE=%s "
                "SPM_FIELD=%s SPM_EXPECTED=%s SPM_ACTUAL=%s\n", spm_priority_name(priority),
                v->domain, line, v->domain, v->uuid ? v->uuid : "", f->device, f->field,
                f->expected, f->actual);
    }
    fflush(stderr);
}

void
spm_daemon_log_guest(const char *name, const char *uuid, const SpmGuestAudit *a)
{
    const char *judgement = spm_guest_judgement_to_string(a->judgement);
    int priority = a->judgement == SPM_GUEST_JUDGED_MISMATCH ? LOG_WARNING : LOG_INFO;
    g_autofree char *msg = g_strdup_printf("domain '%s': guest %s (%u devices)%s%s", name,
                                           judgement, a->devices->len, a->error ? ": " : "",
                                           a->error ? a->error : "");

    if (spm_log_journal)
        sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", priority, "SYSLOG_IDENTIFIER=virt-spmd",
                        "DOMAIN_NAME=%s", name, "DOMAIN_UUID=%s", uuid,
                        "SPM_GUEST_JUDGEMENT=%s", judgement, NULL);
    else
        fprintf(stderr, "virt-spmd: %s: %s DOMAIN_NAME=%s DOMAIN_UUID=%s SPM_GUEST_JUDGEMENT=%s\n",
                spm_priority_name(priority), msg, name, uuid, judgement);
    for (guint i = 0; i < a->devices->len; i++) {
        const SpmGuestDeviceVerdict *v = g_ptr_array_index(a->devices, i);
        g_autofree char *line = NULL;
        g_autofree char *dmsg = NULL;
        g_autofree char *node = NULL;

        if (v->judgement != SPM_GUEST_JUDGED_MISMATCH)
            continue;
        line = spm_guest_device_verdict_to_string(v);
        dmsg = g_strdup_printf("domain '%s': guest %s", name, line);
        node = v->guest_node >= 0 ? g_strdup_printf("%" G_GINT64_FORMAT, v->guest_node) : g_strdup("");
        if (spm_log_journal) {
            sd_journal_send("MESSAGE=%s", dmsg, "PRIORITY=%d", LOG_WARNING,
                            "SYSLOG_IDENTIFIER=virt-spmd",
                            "DOMAIN_NAME=%s", name, "DOMAIN_UUID=%s", uuid,
                            "SPM_DEVICE=%s", v->device,
                            "SPM_GUEST_VERDICT=%s", spm_guest_state_to_string(v->state),
                            "SPM_GUEST_EXPECTED=%s", spm_guest_mode_to_string(v->expected),
                            "SPM_GUEST_NODE=%s", node,
                            "SPM_GUEST_EVIDENCE=%s", spm_guest_evidence_to_string(v->evidence), NULL);
        } else {
            fprintf(stderr, "virt-spmd: warning: %s DOMAIN_NAME=%s DOMAIN_UUID=%s SPM_DEVICE=%s "
                    "SPM_GUEST_VERDICT=%s SPM_GUEST_EXPECTED=%s SPM_GUEST_NODE=%s\n", dmsg, name, uuid,
                    v->device, spm_guest_state_to_string(v->state),
                    spm_guest_mode_to_string(v->expected), node);
        }
    }
    fflush(stderr);
}
