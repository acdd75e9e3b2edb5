/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-daemon-libvirt.h: virt-spmd's connection to libvirt
 * (spm-daemon-libvirt.c says how it is kept).
 */
#pragma once

#include "spm-daemon.h"

G_BEGIN_DECLS

void spm_daemon_libvirt_start(SpmDaemon *d);
void spm_daemon_libvirt_stop(SpmDaemon *d);
/* Deregister the callbacks and close the connection (if any). */
void spm_daemon_disconnect(SpmDaemon *d);
gboolean spm_daemon_connected(SpmDaemon *d);

/* Ask for an audit of the domain @name_or_uuid, resolved through libvirt
 * first (spm_scheduler_audit() then). */
void spm_daemon_audit_lookup(SpmDaemon *d, const char *name_or_uuid, gboolean force,
                             SpmAuditWaiter waiter, gpointer waiter_data);

/* The domain stopped or was undefined: does libvirt still know it?  If not
 * (undefined, or a transient domain that stopped), forget it. */
void spm_daemon_domain_check(SpmDaemon *d, const char *uuid);

G_END_DECLS
