/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-audit-state.h: the audit state of one domain in virt-spmd, as a
 * state machine.
 *
 * A domain is IDLE, QUEUED (waits for a worker) or RUNNING (a worker asks
 * QEMU), and holds at most one request for what comes next.  Every change
 * goes through spm_audit_transition(), which answers what the scheduler
 * (spm-daemon-scheduler.c) must do about it.  Pure: no libvirt, no main
 * loop, no clock; tests/daemon/test-audit-state.c walks every transition.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    SPM_AUDIT_IDLE,             /* no audit queued or in flight */
    SPM_AUDIT_QUEUED,           /* in the queue, waiting for a free worker */
    SPM_AUDIT_RUNNING,          /* a worker audits it: one at a time per domain */
    SPM_AUDIT_STATE_LAST
} SpmAuditState;

/* IDLE: always NONE.  QUEUED: the audit it waits to run (AUDIT or
 * AUDIT_FORCED).  RUNNING: what follows the audit in flight; requests that
 * arrive meanwhile fold into this one, and FORGET wins over any audit. */
typedef enum {
    SPM_AUDIT_REQUEST_NONE,
    SPM_AUDIT_REQUEST_AUDIT,        /* audit, unless this run was audited already */
    SPM_AUDIT_REQUEST_AUDIT_FORCED, /* audit even so (restart, reconnect, `virt-spm audit`) */
    SPM_AUDIT_REQUEST_FORGET,       /* libvirt no longer knows the domain */
    SPM_AUDIT_REQUEST_LAST
} SpmAuditRequest;

typedef struct {
    SpmAuditState state;
    SpmAuditRequest request;
} SpmAuditStatus;

#define SPM_AUDIT_STATUS_INIT { SPM_AUDIT_IDLE, SPM_AUDIT_REQUEST_NONE }

typedef enum {
    SPM_AUDIT_EVENT_REQUEST,        /* an audit is asked for */
    SPM_AUDIT_EVENT_REQUEST_FORCED, /* ... even if this run was audited already */
    SPM_AUDIT_EVENT_FORGET,         /* libvirt no longer knows the domain */
    SPM_AUDIT_EVENT_START,          /* a worker is free for the queued audit */
    SPM_AUDIT_EVENT_END,            /* the audit in flight ended with an outcome */
    SPM_AUDIT_EVENT_END_RETRY,      /* ... with a libvirt error worth another attempt */
    SPM_AUDIT_EVENT_LAST
} SpmAuditEvent;

/* How an audit in flight ended: what the scheduler records and answers. */
typedef enum {
    SPM_AUDIT_OUTCOME_VERDICT,      /* QEMU answered (or libvirt failed): a verdict */
    SPM_AUDIT_OUTCOME_NOT_RUNNING,  /* the domain does not run (or libvirt lost it) */
    SPM_AUDIT_OUTCOME_NOT_SPM,      /* it runs but has no virt-spm metadata */
    SPM_AUDIT_OUTCOME_SKIPPED,      /* this run has a verdict already, not forced */
    SPM_AUDIT_OUTCOME_TIMED_OUT,    /* no answer within audit_timeout_ms */
    SPM_AUDIT_OUTCOME_LAST
} SpmAuditOutcome;

/* What the scheduler does after a transition. */
typedef enum {
    SPM_AUDIT_ACTION_INVALID,       /* the event cannot happen in this state: a bug */
    SPM_AUDIT_ACTION_NONE,          /* nothing: the request folded into one there is */
    SPM_AUDIT_ACTION_QUEUE,         /* put the domain at the tail of the queue */
    SPM_AUDIT_ACTION_RUN,           /* hand the queued audit to a worker */
    SPM_AUDIT_ACTION_RUN_FORCED,    /* ... an audit that is forced */
    SPM_AUDIT_ACTION_UNQUEUE,       /* take it off the queue, answer NOT_RUNNING, forget it */
    SPM_AUDIT_ACTION_FORGET,        /* forget the domain now */
    SPM_AUDIT_ACTION_RECORD,        /* record and answer the outcome */
    SPM_AUDIT_ACTION_RECORD_QUEUE,  /* ... then queue the audit asked for meanwhile */
    SPM_AUDIT_ACTION_RECORD_FORGET, /* ... then forget the domain */
    SPM_AUDIT_ACTION_RETRY,         /* drop the error verdict, audit again later */
    SPM_AUDIT_ACTION_LAST
} SpmAuditAction;

/* IDLE holds no request, QUEUED an audit, RUNNING any. */
gboolean spm_audit_status_valid(const SpmAuditStatus *s);

/* Apply @event to @s.  On SPM_AUDIT_ACTION_INVALID @s is left as it was. */
SpmAuditAction spm_audit_transition(SpmAuditStatus *s, SpmAuditEvent event);

/* An audit is queued or in flight: status shows "auditing". */
gboolean spm_audit_status_busy(const SpmAuditStatus *s);

/* A domain whose audit ended so, and that has no verdict from before, is
 * no SPM domain the daemon must remember. */
gboolean spm_audit_outcome_keeps_record(SpmAuditOutcome outcome);

const char *spm_audit_state_to_string(SpmAuditState state);
const char *spm_audit_request_to_string(SpmAuditRequest request);
const char *spm_audit_event_to_string(SpmAuditEvent event);
const char *spm_audit_outcome_to_string(SpmAuditOutcome outcome);
const char *spm_audit_action_to_string(SpmAuditAction action);

G_END_DECLS
