/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-guest-agent-socket.h: qemu-guest-agent on the host end of its virtio
 * port, for a QEMU run without libvirt (`virt-spm audit --guest --agent
 * PATH`, tests).  libvirt owns that socket for the domains it runs: use
 * its passthrough there (spm-guest-audit-domain.h).
 *
 * Blocking, with a deadline on every call.  Opening sends
 * guest-sync-delimited so that whatever an earlier client left half-sent
 * is dropped; a command that fails (deadline, reply too long, the peer
 * closing) marks the connection broken, because its late reply would be
 * read as the next command's.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SpmGuestAgentSocket SpmGuestAgentSocket;

/* Connect to @path and sync within @timeout_ms. */
SpmGuestAgentSocket *spm_guest_agent_socket_open(const char *path, guint timeout_ms, GError **error);
void spm_guest_agent_socket_free(SpmGuestAgentSocket *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmGuestAgentSocket, spm_guest_agent_socket_free)

/* An SpmGuestAgentSendFunc; @user_data is the SpmGuestAgentSocket. */
char *spm_guest_agent_socket_send(const char *command, gsize max_reply, guint timeout_ms,
                                  gpointer user_data, GError **error);

G_END_DECLS
