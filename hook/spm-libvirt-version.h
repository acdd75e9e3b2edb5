/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-libvirt-version.h: the version of the libvirt daemon that runs the
 * hook, without loading libvirt.
 *
 * Linking libvirt into the hook helper for virGetVersion() cost ~8 ms of
 * library start-up on every start of an SPM domain -- most of the hook's
 * time.  The hook's parent process is the daemon itself (libvirtd or
 * virtqemud): its binary is /proc/PPID/exe, and `BINARY --version` prints
 * "libvirtd (libvirt) 9.0.0".  The answer is cached next to the emulator
 * probes, keyed by the binary's path, size and mtime, so only the first
 * start after an upgrade runs it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SPM_LIBVIRT_VERSION_TIMEOUT_MS 5000

/*
 * The version (libvirt's encoding, 9000000 for 9.0.0) of the libvirt daemon
 * binary @daemon_exe (NULL = the parent process's executable).  0 when the
 * parent is not a libvirt daemon or its version cannot be told; the caller
 * then falls back to what it knows otherwise.  @cache_dir NULL = no cache.
 */
guint spm_libvirt_daemon_version(const char *daemon_exe, const char *cache_dir);

G_END_DECLS
