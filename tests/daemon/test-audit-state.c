/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-audit-state.c: every transition of virt-spmd's audit state machine
 * (daemon/spm-audit-state.c), as a table: state x event -> state, action.
 *
 * Pure: no libvirt, no main loop.  One test case per row; a second test
 * checks that the table has a row for every valid state and every event,
 * so that a state or event added later fails here until its rows exist.
 */
#include "spm-audit-state.h"

#define I SPM_AUDIT_IDLE
#define Q SPM_AUDIT_QUEUED
#define R SPM_AUDIT_RUNNING

#define NONE SPM_AUDIT_REQUEST_NONE
#define AUDIT SPM_AUDIT_REQUEST_AUDIT
#define FORCED SPM_AUDIT_REQUEST_AUDIT_FORCED
#define FORGET SPM_AUDIT_REQUEST_FORGET

typedef struct {
    SpmAuditState state;
    SpmAuditRequest request;
    SpmAuditEvent event;
    SpmAuditState want_state;
    SpmAuditRequest want_request;
    SpmAuditAction want_action;
} Row;

#define EV(x) SPM_AUDIT_EVENT_##x
#define ACT(x) SPM_AUDIT_ACTION_##x

static const Row rows[] = {
    /* idle: a request queues it; forgetting it is immediate */
    { I, NONE,   EV(REQUEST),        Q, AUDIT,  ACT(QUEUE) },
    { I, NONE,   EV(REQUEST_FORCED), Q, FORCED, ACT(QUEUE) },
    { I, NONE,   EV(FORGET),         I, NONE,   ACT(FORGET) },
    { I, NONE,   EV(START),          I, NONE,   ACT(INVALID) },
    { I, NONE,   EV(END),            I, NONE,   ACT(INVALID) },
    { I, NONE,   EV(END_RETRY),      I, NONE,   ACT(INVALID) },

    /* queued: requests fold into the queued one, forced wins */
    { Q, AUDIT,  EV(REQUEST),        Q, AUDIT,  ACT(NONE) },
    { Q, AUDIT,  EV(REQUEST_FORCED), Q, FORCED, ACT(NONE) },
    { Q, AUDIT,  EV(FORGET),         I, NONE,   ACT(UNQUEUE) },
    { Q, AUDIT,  EV(START),          R, NONE,   ACT(RUN) },
    { Q, AUDIT,  EV(END),            Q, AUDIT,  ACT(INVALID) },
    { Q, AUDIT,  EV(END_RETRY),      Q, AUDIT,  ACT(INVALID) },

    { Q, FORCED, EV(REQUEST),        Q, FORCED, ACT(NONE) },
    { Q, FORCED, EV(REQUEST_FORCED), Q, FORCED, ACT(NONE) },
    { Q, FORCED, EV(FORGET),         I, NONE,   ACT(UNQUEUE) },
    { Q, FORCED, EV(START),          R, NONE,   ACT(RUN_FORCED) },
    { Q, FORCED, EV(END),            Q, FORCED, ACT(INVALID) },
    { Q, FORCED, EV(END_RETRY),      Q, FORCED, ACT(INVALID) },

    /* running, nothing asked for meanwhile: the end records (or retries) */
    { R, NONE,   EV(REQUEST),        R, AUDIT,  ACT(NONE) },
    { R, NONE,   EV(REQUEST_FORCED), R, FORCED, ACT(NONE) },
    { R, NONE,   EV(FORGET),         R, FORGET, ACT(NONE) },
    { R, NONE,   EV(START),          R, NONE,   ACT(INVALID) },
    { R, NONE,   EV(END),            I, NONE,   ACT(RECORD) },
    { R, NONE,   EV(END_RETRY),      I, NONE,   ACT(RETRY) },

    /* running with a follow-up audit: it is the next attempt, no retry */
    { R, AUDIT,  EV(REQUEST),        R, AUDIT,  ACT(NONE) },
    { R, AUDIT,  EV(REQUEST_FORCED), R, FORCED, ACT(NONE) },
    { R, AUDIT,  EV(FORGET),         R, FORGET, ACT(NONE) },
    { R, AUDIT,  EV(START),          R, AUDIT,  ACT(INVALID) },
    { R, AUDIT,  EV(END),            Q, AUDIT,  ACT(RECORD_QUEUE) },
    { R, AUDIT,  EV(END_RETRY),      Q, AUDIT,  ACT(RECORD_QUEUE) },

    { R, FORCED, EV(REQUEST),        R, FORCED, ACT(NONE) },
    { R, FORCED, EV(REQUEST_FORCED), R, FORCED, ACT(NONE) },
    { R, FORCED, EV(FORGET),         R, FORGET, ACT(NONE) },
    { R, FORCED, EV(START),          R, FORCED, ACT(INVALID) },
    { R, FORCED, EV(END),            Q, FORCED, ACT(RECORD_QUEUE) },
    { R, FORCED, EV(END_RETRY),      Q, FORCED, ACT(RECORD_QUEUE) },

    /* running, forgotten meanwhile: forget wins over every audit */
    { R, FORGET, EV(REQUEST),        R, FORGET, ACT(NONE) },
    { R, FORGET, EV(REQUEST_FORCED), R, FORGET, ACT(NONE) },
    { R, FORGET, EV(FORGET),         R, FORGET, ACT(NONE) },
    { R, FORGET, EV(START),          R, FORGET, ACT(INVALID) },
    { R, FORGET, EV(END),            I, NONE,   ACT(RECORD_FORGET) },
    { R, FORGET, EV(END_RETRY),      I, NONE,   ACT(RECORD_FORGET) },
};

static void
test_row(gconstpointer data)
{
    const Row *row = data;
    SpmAuditStatus s = { row->state, row->request };
    SpmAuditAction action;

    g_assert_true(spm_audit_status_valid(&s));
    action = spm_audit_transition(&s, row->event);
    g_assert_cmpstr(spm_audit_action_to_string(action), ==,
                    spm_audit_action_to_string(row->want_action));
    g_assert_cmpstr(spm_audit_state_to_string(s.state), ==,
                    spm_audit_state_to_string(row->want_state));
    g_assert_cmpstr(spm_audit_request_to_string(s.request), ==,
                    spm_audit_request_to_string(row->want_request));
    g_assert_true(spm_audit_status_valid(&s));
}

/* Every valid status meets every event in the table; every invalid status
 * is refused whatever the event, and left as it was. */
static void
test_complete(void)
{
    for (int st = 0; st < SPM_AUDIT_STATE_LAST; st++) {
        for (int rq = 0; rq < SPM_AUDIT_REQUEST_LAST; rq++) {
            SpmAuditStatus s = { st, rq };
            gboolean valid = spm_audit_status_valid(&s);

            for (int ev = 0; ev < SPM_AUDIT_EVENT_LAST; ev++) {
                guint found = 0;

                for (gsize i = 0; i < G_N_ELEMENTS(rows); i++)
                    found += rows[i].state == (SpmAuditState) st &&
                             rows[i].request == (SpmAuditRequest) rq &&
                             rows[i].event == (SpmAuditEvent) ev;
                if (valid) {
                    if (found != 1)
                        g_test_message("%s/%s + %s: %u rows", spm_audit_state_to_string(st),
                                       spm_audit_request_to_string(rq),
                                       spm_audit_event_to_string(ev), found);
                    g_assert_cmpuint(found, ==, 1);
                } else {
                    SpmAuditStatus t = s;

                    g_assert_cmpuint(found, ==, 0);
                    g_assert_cmpint(spm_audit_transition(&t, ev), ==, SPM_AUDIT_ACTION_INVALID);
                    g_assert_cmpint(t.state, ==, s.state);
                    g_assert_cmpint(t.request, ==, s.request);
                }
            }
        }
    }
}

/* The valid statuses: idle holds nothing, queued an audit, running any. */
static void
test_valid(void)
{
    static const struct {
        SpmAuditState state;
        SpmAuditRequest request;
        gboolean valid;
        gboolean busy;
    } want[] = {
        { I, NONE, TRUE, FALSE },   { I, AUDIT, FALSE, FALSE },
        { I, FORCED, FALSE, FALSE }, { I, FORGET, FALSE, FALSE },
        { Q, NONE, FALSE, TRUE },   { Q, AUDIT, TRUE, TRUE },
        { Q, FORCED, TRUE, TRUE },  { Q, FORGET, FALSE, TRUE },
        { R, NONE, TRUE, TRUE },    { R, AUDIT, TRUE, TRUE },
        { R, FORCED, TRUE, TRUE },  { R, FORGET, TRUE, TRUE },
    };
    SpmAuditStatus init = SPM_AUDIT_STATUS_INIT;

    g_assert_cmpuint(G_N_ELEMENTS(want), ==, SPM_AUDIT_STATE_LAST * SPM_AUDIT_REQUEST_LAST);
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        SpmAuditStatus s = { want[i].state, want[i].request };

        g_assert_cmpint(spm_audit_status_valid(&s), ==, want[i].valid);
        g_assert_cmpint(spm_audit_status_busy(&s), ==, want[i].busy);
    }
    g_assert_true(spm_audit_status_valid(&init));
    g_assert_false(spm_audit_status_busy(&init));
}

/* Which outcomes keep a record that has no verdict from before. */
static void
test_outcome(void)
{
    static const struct {
        SpmAuditOutcome outcome;
        const char *name;
        gboolean keeps;
    } want[] = {
        { SPM_AUDIT_OUTCOME_VERDICT, "verdict", TRUE },
        { SPM_AUDIT_OUTCOME_NOT_RUNNING, "not-running", FALSE },
        { SPM_AUDIT_OUTCOME_NOT_SPM, "not-spm", FALSE },
        { SPM_AUDIT_OUTCOME_SKIPPED, "skipped", TRUE },
        { SPM_AUDIT_OUTCOME_TIMED_OUT, "timed-out", TRUE },
    };

    g_assert_cmpuint(G_N_ELEMENTS(want), ==, SPM_AUDIT_OUTCOME_LAST);
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        g_assert_cmpint(want[i].outcome, ==, i);
        g_assert_cmpstr(spm_audit_outcome_to_string(want[i].outcome), ==, want[i].name);
        g_assert_cmpint(spm_audit_outcome_keeps_record(want[i].outcome), ==, want[i].keeps);
    }
}

/* Every value of every enum has a name of its own. */
static void
test_names(void)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    for (int i = 0; i < SPM_AUDIT_STATE_LAST; i++)
        g_assert_true(spm_audit_state_to_string(i) && *spm_audit_state_to_string(i) != '?');
    for (int i = 0; i < SPM_AUDIT_EVENT_LAST; i++)
        g_assert_true(spm_audit_event_to_string(i) && *spm_audit_event_to_string(i) != '?');
    for (int i = 0; i < SPM_AUDIT_REQUEST_LAST; i++)
        g_assert_true(spm_audit_request_to_string(i) && *spm_audit_request_to_string(i) != '?');
    for (int i = 0; i < SPM_AUDIT_ACTION_LAST; i++) {
        const char *name = spm_audit_action_to_string(i);

        g_assert_true(name && *name != '?');
        g_assert_false(g_hash_table_contains(seen, name));
        g_hash_table_add(seen, (gpointer) name);
    }
    g_assert_cmpstr(spm_audit_state_to_string(SPM_AUDIT_STATE_LAST), ==, "?");
    g_assert_cmpstr(spm_audit_action_to_string(SPM_AUDIT_ACTION_LAST), ==, "?");
}

/* One domain's life as the daemon drives it: a start, a duplicate while
 * it runs, the follow-up, a forced audit, and libvirt forgetting it. */
static void
test_walk(void)
{
    static const struct {
        SpmAuditEvent event;
        SpmAuditAction action;
    } walk[] = {
        { EV(REQUEST), ACT(QUEUE) },
        { EV(START), ACT(RUN) },
        { EV(REQUEST), ACT(NONE) },
        { EV(END_RETRY), ACT(RECORD_QUEUE) },
        { EV(START), ACT(RUN) },
        { EV(END_RETRY), ACT(RETRY) },
        { EV(REQUEST_FORCED), ACT(QUEUE) },
        { EV(REQUEST), ACT(NONE) },
        { EV(START), ACT(RUN_FORCED) },
        { EV(FORGET), ACT(NONE) },
        { EV(REQUEST), ACT(NONE) },
        { EV(END), ACT(RECORD_FORGET) },
    };
    SpmAuditStatus s = SPM_AUDIT_STATUS_INIT;

    for (gsize i = 0; i < G_N_ELEMENTS(walk); i++) {
        g_assert_cmpstr(spm_audit_action_to_string(spm_audit_transition(&s, walk[i].event)), ==,
                        spm_audit_action_to_string(walk[i].action));
        g_assert_true(spm_audit_status_valid(&s));
    }
    g_assert_cmpint(s.state, ==, SPM_AUDIT_IDLE);
    g_assert_cmpint(s.request, ==, SPM_AUDIT_REQUEST_NONE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
        const Row *row = &rows[i];
        g_autofree char *path = g_strdup_printf("/audit-state/transition/%s-%s/%s",
                                                spm_audit_state_to_string(row->state),
                                                spm_audit_request_to_string(row->request),
                                                spm_audit_event_to_string(row->event));

        g_test_add_data_func(path, row, test_row);
    }
    g_test_add_func("/audit-state/table-complete", test_complete);
    g_test_add_func("/audit-state/valid", test_valid);
    g_test_add_func("/audit-state/outcome", test_outcome);
    g_test_add_func("/audit-state/names", test_names);
    g_test_add_func("/audit-state/walk", test_walk);
    return g_test_run();
}
