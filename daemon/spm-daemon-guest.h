/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-daemon-guest.h: virt-spmd's guest audit (spm-guest-agent.h): when
 * libvirt reports a guest's agent connected, and on a control request.
 *
 * Each audit runs in its own GTask worker (libvirt's agent passthrough
 * blocks for up to its timeout): a silent or hostile agent holds only
 * its own guest's audit, never the main loop or another guest's.  At most
 * one audit per domain at a time; a request while one runs waits for it.
 * The result goes into the domain's record (status shows it) and every
 * mismatching device into the journal with SPM_GUEST_VERDICT.
 */
#pragma once

#include "spm-daemon.h"
#include "spm-guest-verdict.h"

G_BEGIN_DECLS

/* Called in the main thread: @report (borrowed: the audit as JSON with
 * "domain" and "uuid") or @error. */
typedef void (*SpmGuestWaiter)(SpmDaemon *d, JsonNode *report, const GError *error,
                               gpointer user_data);

/* Audit the guest of @name_or_uuid; @waiter may be NULL. */
void spm_daemon_guest_audit(SpmDaemon *d, const char *name_or_uuid, SpmGuestWaiter waiter,
                            gpointer user_data);

/* libvirt's agent lifecycle event said "connected" (main thread). */
void spm_daemon_guest_agent_connected(SpmDaemon *d, const char *uuid, const char *name);

/* At exit: free what no worker uses any more (a worker still running
 * keeps its job: the process ends under it). */
void spm_daemon_guest_stop(SpmDaemon *d);

G_END_DECLS
