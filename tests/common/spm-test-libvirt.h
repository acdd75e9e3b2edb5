/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-test-libvirt.h: a real libvirtd for the tests (docs/libvirt.md).
 *
 * The daemon is shared with every other test running on the machine: the
 * harness never stops or restarts it, only starts it when its socket does
 * not answer, and each test uses domain names of its own (prefix + pid)
 * and removes its domains in teardown.
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

G_BEGIN_DECLS

/*
 * The libvirtd the tests use: $SPM_TEST_LIBVIRT_URI, default the host's
 * (docs/testing.md).  Another daemon (the sid root's libvirt 12.8,
 * scripts/sid-libvirtd.sh) belongs to whoever set the variable: the
 * harness connects to it but never starts it or edits the host's
 * qemu.conf for it.  libvirtd-harness.sh and tests/daemon/spmtest.py read
 * the same variable.
 */
#define SPM_TEST_LIBVIRT_URI_DEFAULT "qemu:///system"
#define SPM_TEST_LIBVIRT_URI_ENV "SPM_TEST_LIBVIRT_URI"
const char *spm_test_libvirt_uri(void);
#define SPM_TEST_LIBVIRT_SOCK "/run/libvirt/libvirt-sock"
#define SPM_TEST_LIBVIRTD "/usr/sbin/libvirtd"
#define SPM_TEST_LIBVIRTD_PIDFILE "/run/libvirtd.pid"
#define SPM_TEST_QEMU_CONF "/etc/libvirt/qemu.conf"

/*
 * libvirtd's PATH in every test harness (this file, libvirtd-harness.sh,
 * tests/daemon/spmtest.py): a test directory first, then the system's.
 * The directory is normally absent; the Nova test (tests/nova) puts the
 * emulator wrapper there as qemu-system-x86_64 for its run, as the systemd
 * drop-in does on a real host (docs/nova.md).
 */
#define SPM_TEST_EMULATOR_DIR "/run/virt-spm-test/bin"
#define SPM_TEST_LIBVIRTD_PATH SPM_TEST_EMULATOR_DIR ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Seconds to wait for libvirtd to answer after starting it. */
#define SPM_TEST_LIBVIRT_TIMEOUT_S 60

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)

/* Why the libvirt tests cannot run here (not root, no libvirtd), or NULL. */
char *spm_test_libvirt_skip_reason(void);

/*
 * Append to @conf_path the settings of docs/libvirt.md that it lacks
 * (security_driver = "none", stdio_handler = "file", cgroup_controllers =
 * [ ], user = "root", group = "root").  A setting already there with
 * another value is an error: it belongs to someone else.  *appended (may
 * be NULL) tells whether the file changed.
 */
gboolean spm_test_libvirt_ensure_conf(const char *conf_path,
                                      gboolean *appended,
                                      GError **error);

/*
 * Make sure SPM_TEST_QEMU_CONF is ready and that libvirtd answers on
 * spm_test_libvirt_uri(): start `libvirtd -d` when it does not and no
 * libvirtd process is alive (one may be starting or being restarted by
 * another test), and wait for it with a deadline.  Another daemon's URI
 * is only waited for.  Returns an open connection.
 */
virConnectPtr spm_test_libvirt_connect(GError **error);

/* "PREFIX<pid>-WHAT": a domain name no other test process uses. */
char *spm_test_libvirt_domain_name(const char *prefix, const char *what);

/* Destroy and undefine the domain @name if it exists; errors ignored. */
void spm_test_libvirt_remove_domain(virConnectPtr conn, const char *name);

/*
 * Programs that install a hook restart libvirtd twice, which breaks the
 * connections of another such run (another build directory, the sanitizer
 * build): they take this lock first, waiting at most
 * SPM_TEST_LIBVIRT_RUN_LOCK_S seconds.  Returns the descriptor to close,
 * or -1 with @error set.
 */
#define SPM_TEST_LIBVIRT_RUN_LOCK "/run/lock/virt-spm-libvirt-tests.lock"
#define SPM_TEST_LIBVIRT_RUN_LOCK_S 600
int spm_test_libvirt_run_lock(GError **error);
/*
 * Take an exclusive flock on @path (made if missing), polling until
 * @deadline_s seconds have passed.  Returns the descriptor to close, or -1
 * with @error set.
 */
int spm_test_lock_file(const char *path, guint deadline_s, GError **error);
/* The lock of the tests' libvirtd: SPM_TEST_LIBVIRT_RUN_LOCK for the host's,
 * one per URI for another. */
char *spm_test_libvirt_run_lock_path(void);

/* The message of libvirt's last error in this thread ("" when none). */
const char *spm_test_libvirt_last_error(void);

G_END_DECLS
