/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-daemon-control.h: virt-spmd's control socket (spm-control.h has the
 * protocol and the client side).
 */
#pragma once

#include "spm-daemon.h"

G_BEGIN_DECLS

gboolean spm_daemon_control_start(SpmDaemon *d, GError **error);

G_END_DECLS
