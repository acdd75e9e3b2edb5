/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-libvirt-conn.c: the one libvirt layer of virt-spm, for the command
 * line and the daemon alike: opening a connection and finding a domain the
 * way virsh does, with libvirt's errors as one-line GErrors.
 */
#include <string.h>

#include "spm-error.h"
#include "spm-env.h"
#include "spm-libvirt-conn.h"

void
spm_libvirt_error(GError **error, const char *fmt, ...)
{
    g_autofree char *what = NULL;
    va_list ap;

    virErrorPtr err = virGetLastError();

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, SPM_ERROR, SPM_ERROR_LIBVIRT, "%s: %s", what,
                err && err->message ? err->message : "unknown libvirt error");
}

static void
spm_libvirt_quiet(void *opaque, virErrorPtr err)
{
}

void
spm_libvirt_quiet_errors(void)
{
    /* once: virSetErrorFunc() writes a global, and daemon workers open
     * connections of their own concurrently */
    static gsize done;

    if (g_once_init_enter(&done)) {
        virSetErrorFunc(NULL, spm_libvirt_quiet);
        g_once_init_leave(&done, 1);
    }
}

virConnectPtr
spm_libvirt_open(const char *connect_uri, GError **error)
{
    virConnectPtr conn;

    spm_libvirt_quiet_errors();
    if (!(conn = virConnectOpen(connect_uri))) {
        const char *uri = connect_uri ? connect_uri : spm_env(SPM_ENV_LIBVIRT_DEFAULT_URI);

        if (uri && *uri)
            spm_libvirt_error(error, "cannot connect to '%s'", uri);
        else
            spm_libvirt_error(error, "cannot connect to the default hypervisor");
        return NULL;
    }
    return conn;
}

virDomainPtr
spm_libvirt_lookup(virConnectPtr conn, const char *what, GError **error)
{
    virDomainPtr dom = NULL;
    guint64 id;

    if (g_ascii_string_to_unsigned(what, 10, 0, G_MAXINT, &id, NULL) &&
        (dom = virDomainLookupByID(conn, (int)id)))
        return dom;
    if (strlen(what) >= VIR_UUID_STRING_BUFLEN - 1 &&
        (dom = virDomainLookupByUUIDString(conn, what)))
        return dom;
    if ((dom = virDomainLookupByName(conn, what)))
        return dom;
    spm_libvirt_error(error, "failed to get domain '%s'", what);
    return NULL;
}

gint64
spm_libvirt_run_id(virDomainPtr dom)
{
    unsigned int id = virDomainGetID(dom);

    return id == (unsigned int) -1 ? -1 : (gint64) id;
}
