/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-libvirt-conn.h: opening a libvirt connection and finding a domain,
 * the way virsh does, with libvirt's errors as one-line GErrors
 * (SPM_ERROR_LIBVIRT, libvirt's virGetLastErrorMessage() appended).
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)

/* "WHAT: libvirt's last error message" as SPM_ERROR_LIBVIRT (of this thread). */
void spm_libvirt_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* libvirt prints every error on stderr by default: they come back
 * through GError (spm_libvirt_error) instead.  Process-wide. */
void spm_libvirt_quiet_errors(void);

/* @connect_uri NULL: $LIBVIRT_DEFAULT_URI or libvirt's default, as virsh.
 * libvirt's own printing of errors on stderr is turned off. */
virConnectPtr spm_libvirt_open(const char *connect_uri, GError **error);

/* As virsh: an id when numeric, then a UUID, then a name. */
virDomainPtr spm_libvirt_lookup(virConnectPtr conn, const char *what, GError **error);

/* The id of the domain's run (what virsh shows as Id); -1 when it does
 * not run.  No call to libvirtd: the domain object carries it. */
gint64 spm_libvirt_run_id(virDomainPtr dom);

G_END_DECLS
