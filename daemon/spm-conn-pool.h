/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-conn-pool.h: libvirt connections for virt-spmd's audit workers, one
 * per worker at a time and kept for the next (docs/virt-spmd.md, "One
 * connection per audit").  Thread-safe; reference-counted, since a worker
 * may outlive the daemon's own reference.
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

typedef struct _SpmConnPool SpmConnPool;

SpmConnPool *spm_conn_pool_new(const char *uri);
SpmConnPool *spm_conn_pool_ref(SpmConnPool *pool);
/* The last reference closes the idle connections. */
void spm_conn_pool_unref(SpmConnPool *pool);

/* An idle connection that is still alive, else a new one. */
virConnectPtr spm_conn_pool_take(SpmConnPool *pool, GError **error);
/* Back for the next worker (a dead one is closed); NULL is ignored. */
void spm_conn_pool_give(SpmConnPool *pool, virConnectPtr conn);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmConnPool, spm_conn_pool_unref)
