/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-daemon-scheduler.h: virt-spmd's audits: the queue, the workers, the
 * retries and the deadline of each audit (spm-daemon-scheduler.c says how).
 *
 * Main thread only.  The scheduler calls nothing in the files above it
 * (libvirt, control): they call in here.
 */
#pragma once

#include "spm-daemon.h"

G_BEGIN_DECLS

/* Ask for an audit of the domain @uuid.  @force: even if this run was
 * audited already (restart, reconnect, `virt-spm audit`).  @run_id: the
 * libvirt domain id of the run, -1 = unknown; a second request for the
 * same run that is not forced is no new audit (libvirt's STARTED event and
 * the hook's "started" both announce every start).  @waiter (nullable) is
 * called once, when the audit ends or at once. */
void spm_scheduler_audit(SpmDaemon *d, const char *uuid, const char *name, gint64 run_id,
                         gboolean force, SpmAuditWaiter waiter, gpointer waiter_data);

/* A start notification (libvirt's event or the hook's) for the run @run_id. */
void spm_scheduler_domain_started(SpmDaemon *d, const char *uuid, const char *name,
                                  gint64 run_id, gint64 trigger_time);

/* A stop notification: the domain no longer runs. */
void spm_scheduler_domain_stopped(SpmDaemon *d, const char *uuid, const char *name);

/* libvirt no longer knows the domain: forget @r and its state file, now
 * or when its audit in flight ends. */
void spm_scheduler_forget(SpmDaemon *d, SpmDomainRecord *r);

/* Hand queued audits to free workers; after a (re)connect. */
void spm_scheduler_pump(SpmDaemon *d);

G_END_DECLS
