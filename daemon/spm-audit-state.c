/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-audit-state.c: the audit state machine of one domain
 * (spm-audit-state.h).
 *
 * Every switch names every case and has no default: a state, request or
 * event added later is a compiler warning (-Wswitch, and -Werror) until
 * each switch says what it does with it; the name tables at the end are
 * checked against the enums' lengths in the same way.
 */
#include "spm-audit-state.h"

gboolean
spm_audit_status_valid(const SpmAuditStatus *s)
{
    switch (s->state) {
    case SPM_AUDIT_IDLE:
        return s->request == SPM_AUDIT_REQUEST_NONE;
    case SPM_AUDIT_QUEUED:
        return s->request == SPM_AUDIT_REQUEST_AUDIT ||
               s->request == SPM_AUDIT_REQUEST_AUDIT_FORCED;
    case SPM_AUDIT_RUNNING:
        return s->request < SPM_AUDIT_REQUEST_LAST;
    case SPM_AUDIT_STATE_LAST:
        break;
    }
    return FALSE;
}

gboolean
spm_audit_status_busy(const SpmAuditStatus *s)
{
    return s->state != SPM_AUDIT_IDLE;
}

/* A request for an audit that arrives while one is queued or in flight
 * folds into the request held: forced wins over not forced, and FORGET
 * over both (the domain is gone; nothing is left to audit). */
static SpmAuditRequest
spm_audit_fold(SpmAuditRequest held, SpmAuditEvent event)
{
    gboolean forced = event == SPM_AUDIT_EVENT_REQUEST_FORCED;

    switch (held) {
    case SPM_AUDIT_REQUEST_NONE:
    case SPM_AUDIT_REQUEST_AUDIT:
        return forced ? SPM_AUDIT_REQUEST_AUDIT_FORCED : SPM_AUDIT_REQUEST_AUDIT;
    case SPM_AUDIT_REQUEST_AUDIT_FORCED:
    case SPM_AUDIT_REQUEST_FORGET:
    case SPM_AUDIT_REQUEST_LAST:
        break;
    }
    return held;
}

static SpmAuditAction
spm_audit_from_idle(SpmAuditStatus *s, SpmAuditEvent event)
{
    switch (event) {
    case SPM_AUDIT_EVENT_REQUEST:
    case SPM_AUDIT_EVENT_REQUEST_FORCED:
        s->state = SPM_AUDIT_QUEUED;
        s->request = spm_audit_fold(SPM_AUDIT_REQUEST_NONE, event);
        return SPM_AUDIT_ACTION_QUEUE;
    case SPM_AUDIT_EVENT_FORGET:
        return SPM_AUDIT_ACTION_FORGET;
    case SPM_AUDIT_EVENT_START:
    case SPM_AUDIT_EVENT_END:
    case SPM_AUDIT_EVENT_END_RETRY:
    case SPM_AUDIT_EVENT_LAST:
        break;
    }
    return SPM_AUDIT_ACTION_INVALID;
}

static SpmAuditAction
spm_audit_from_queued(SpmAuditStatus *s, SpmAuditEvent event)
{
    gboolean forced = s->request == SPM_AUDIT_REQUEST_AUDIT_FORCED;

    switch (event) {
    case SPM_AUDIT_EVENT_REQUEST:
    case SPM_AUDIT_EVENT_REQUEST_FORCED:
        s->request = spm_audit_fold(s->request, event);
        return SPM_AUDIT_ACTION_NONE;
    case SPM_AUDIT_EVENT_FORGET:
        /* nothing runs yet: the queued audit would only find it gone */
        s->state = SPM_AUDIT_IDLE;
        s->request = SPM_AUDIT_REQUEST_NONE;
        return SPM_AUDIT_ACTION_UNQUEUE;
    case SPM_AUDIT_EVENT_START:
        s->state = SPM_AUDIT_RUNNING;
        s->request = SPM_AUDIT_REQUEST_NONE;
        return forced ? SPM_AUDIT_ACTION_RUN_FORCED : SPM_AUDIT_ACTION_RUN;
    case SPM_AUDIT_EVENT_END:
    case SPM_AUDIT_EVENT_END_RETRY:
    case SPM_AUDIT_EVENT_LAST:
        break;
    }
    return SPM_AUDIT_ACTION_INVALID;
}

/* The audit in flight ended: what was asked for meanwhile comes next. */
static SpmAuditAction
spm_audit_end(SpmAuditStatus *s, gboolean retry)
{
    switch (s->request) {
    case SPM_AUDIT_REQUEST_NONE:
        s->state = SPM_AUDIT_IDLE;
        /* a retry only when nothing else was asked for: a request that
         * came meanwhile is the next attempt already */
        return retry ? SPM_AUDIT_ACTION_RETRY : SPM_AUDIT_ACTION_RECORD;
    case SPM_AUDIT_REQUEST_AUDIT:
    case SPM_AUDIT_REQUEST_AUDIT_FORCED:
        s->state = SPM_AUDIT_QUEUED;
        return SPM_AUDIT_ACTION_RECORD_QUEUE;
    case SPM_AUDIT_REQUEST_FORGET:
        s->state = SPM_AUDIT_IDLE;
        s->request = SPM_AUDIT_REQUEST_NONE;
        return SPM_AUDIT_ACTION_RECORD_FORGET;
    case SPM_AUDIT_REQUEST_LAST:
        break;
    }
    return SPM_AUDIT_ACTION_INVALID;
}

static SpmAuditAction
spm_audit_from_running(SpmAuditStatus *s, SpmAuditEvent event)
{
    switch (event) {
    case SPM_AUDIT_EVENT_REQUEST:
    case SPM_AUDIT_EVENT_REQUEST_FORCED:
        s->request = spm_audit_fold(s->request, event);
        return SPM_AUDIT_ACTION_NONE;
    case SPM_AUDIT_EVENT_FORGET:
        /* the worker still holds the domain: forget it when it is done */
        s->request = SPM_AUDIT_REQUEST_FORGET;
        return SPM_AUDIT_ACTION_NONE;
    case SPM_AUDIT_EVENT_END:
        return spm_audit_end(s, FALSE);
    case SPM_AUDIT_EVENT_END_RETRY:
        return spm_audit_end(s, TRUE);
    case SPM_AUDIT_EVENT_START:
    case SPM_AUDIT_EVENT_LAST:
        break;
    }
    return SPM_AUDIT_ACTION_INVALID;
}

SpmAuditAction
spm_audit_transition(SpmAuditStatus *s, SpmAuditEvent event)
{
    SpmAuditStatus next = *s;
    SpmAuditAction action = SPM_AUDIT_ACTION_INVALID;

    if (!spm_audit_status_valid(s))
        return SPM_AUDIT_ACTION_INVALID;
    switch (s->state) {
    case SPM_AUDIT_IDLE:
        action = spm_audit_from_idle(&next, event);
        break;
    case SPM_AUDIT_QUEUED:
        action = spm_audit_from_queued(&next, event);
        break;
    case SPM_AUDIT_RUNNING:
        action = spm_audit_from_running(&next, event);
        break;
    case SPM_AUDIT_STATE_LAST:
        break;
    }
    if (action == SPM_AUDIT_ACTION_INVALID)
        return action;
    g_assert(spm_audit_status_valid(&next));
    *s = next;
    return action;
}

gboolean
spm_audit_outcome_keeps_record(SpmAuditOutcome outcome)
{
    switch (outcome) {
    case SPM_AUDIT_OUTCOME_VERDICT:
    case SPM_AUDIT_OUTCOME_SKIPPED:
    case SPM_AUDIT_OUTCOME_TIMED_OUT:
        return TRUE;
    case SPM_AUDIT_OUTCOME_NOT_RUNNING:
    case SPM_AUDIT_OUTCOME_NOT_SPM:
    case SPM_AUDIT_OUTCOME_LAST:
        break;
    }
    return FALSE;
}

/* One name per value, in the order of the enum; the compiler checks that
 * each table has as many names as its enum has values. */
static const char *const spm_audit_state_names[] = {
    [SPM_AUDIT_IDLE] = "idle",
    [SPM_AUDIT_QUEUED] = "queued",
    [SPM_AUDIT_RUNNING] = "running",
};
G_STATIC_ASSERT(G_N_ELEMENTS(spm_audit_state_names) == SPM_AUDIT_STATE_LAST);

static const char *const spm_audit_request_names[] = {
    [SPM_AUDIT_REQUEST_NONE] = "none",
    [SPM_AUDIT_REQUEST_AUDIT] = "audit",
    [SPM_AUDIT_REQUEST_AUDIT_FORCED] = "audit-forced",
    [SPM_AUDIT_REQUEST_FORGET] = "forget",
};
G_STATIC_ASSERT(G_N_ELEMENTS(spm_audit_request_names) == SPM_AUDIT_REQUEST_LAST);

static const char *const spm_audit_event_names[] = {
    [SPM_AUDIT_EVENT_REQUEST] = "request",
    [SPM_AUDIT_EVENT_REQUEST_FORCED] = "request-forced",
    [SPM_AUDIT_EVENT_FORGET] = "forget",
    [SPM_AUDIT_EVENT_START] = "start",
    [SPM_AUDIT_EVENT_END] = "end",
    [SPM_AUDIT_EVENT_END_RETRY] = "end-retry",
};
G_STATIC_ASSERT(G_N_ELEMENTS(spm_audit_event_names) == SPM_AUDIT_EVENT_LAST);

static const char *const spm_audit_outcome_names[] = {
    [SPM_AUDIT_OUTCOME_VERDICT] = "verdict",
    [SPM_AUDIT_OUTCOME_NOT_RUNNING] = "not-running",
    [SPM_AUDIT_OUTCOME_NOT_SPM] = "not-spm",
    [SPM_AUDIT_OUTCOME_SKIPPED] = "skipped",
    [SPM_AUDIT_OUTCOME_TIMED_OUT] = "timed-out",
};
G_STATIC_ASSERT(G_N_ELEMENTS(spm_audit_outcome_names) == SPM_AUDIT_OUTCOME_LAST);

static const char *const spm_audit_action_names[] = {
    [SPM_AUDIT_ACTION_INVALID] = "invalid",
    [SPM_AUDIT_ACTION_NONE] = "none",
    [SPM_AUDIT_ACTION_QUEUE] = "queue",
    [SPM_AUDIT_ACTION_RUN] = "run",
    [SPM_AUDIT_ACTION_RUN_FORCED] = "run-forced",
    [SPM_AUDIT_ACTION_UNQUEUE] = "unqueue",
    [SPM_AUDIT_ACTION_FORGET] = "forget",
    [SPM_AUDIT_ACTION_RECORD] = "record",
    [SPM_AUDIT_ACTION_RECORD_QUEUE] = "record-queue",
    [SPM_AUDIT_ACTION_RECORD_FORGET] = "record-forget",
    [SPM_AUDIT_ACTION_RETRY] = "retry",
};
G_STATIC_ASSERT(G_N_ELEMENTS(spm_audit_action_names) == SPM_AUDIT_ACTION_LAST);

/* "?" for a value out of range (_LAST, or garbage) */
#define SPM_AUDIT_NAME(table, value) \
    ((guint) (value) < G_N_ELEMENTS(table) ? (table)[(value)] : "?")

const char *
spm_audit_state_to_string(SpmAuditState state)
{
    return SPM_AUDIT_NAME(spm_audit_state_names, state);
}

const char *
spm_audit_request_to_string(SpmAuditRequest request)
{
    return SPM_AUDIT_NAME(spm_audit_request_names, request);
}

const char *
spm_audit_event_to_string(SpmAuditEvent event)
{
    return SPM_AUDIT_NAME(spm_audit_event_names, event);
}

const char *
spm_audit_outcome_to_string(SpmAuditOutcome outcome)
{
    return SPM_AUDIT_NAME(spm_audit_outcome_names, outcome);
}

const char *
spm_audit_action_to_string(SpmAuditAction action)
{
    return SPM_AUDIT_NAME(spm_audit_action_names, action);
}
