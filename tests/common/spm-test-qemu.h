/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-test-qemu.h: run a real QEMU from a test and talk QMP to it.
 *
 * Test-only code (the production QMP client lives in daemon/).  QEMU gets
 * its QMP monitor on a unix socket the harness has already bound and put
 * in listening state, passed as a file descriptor (-chardev socket,fd=N):
 * connecting cannot race QEMU's start, so there is no retry loop at all,
 * and when QEMU dies before its greeting the connection reads EOF at once.
 * Every read has a deadline.  QEMU is killed when the harness is freed
 * and, through PR_SET_PDEATHSIG, when the test process dies (a failed
 * assertion aborts before any teardown runs).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SPM_TEST_QEMU_BINARY "/usr/bin/qemu-system-x86_64"

/* Seconds: QEMU's start (greeting) and each QMP reply, or a run to exit. */
#define SPM_TEST_QEMU_TIMEOUT_S 60

typedef struct _SpmTestQemu SpmTestQemu;

/* TRUE when the QEMU binary is there. */
gboolean spm_test_qemu_available(void);

/*
 * The binary every later start and run uses: SPM_TEST_QEMU_BINARY until a
 * test sets another one (the spm-memory QEMU of the real-device tier).
 */
void spm_test_qemu_set_binary(const char *path);
const char *spm_test_qemu_binary(void);

/*
 * Start SPM_TEST_QEMU_BINARY with @args (without the binary itself) plus
 * the QMP monitor, read the greeting and negotiate capabilities.  If QEMU
 * exits instead, the error (SPM_ERROR_SYSTEM) carries its exit status and
 * everything it printed.
 */
SpmTestQemu *spm_test_qemu_start(const char *const *args, GError **error);

/* Kill QEMU (if still running), wait for it, remove the temporary files. */
void spm_test_qemu_free(SpmTestQemu *qemu);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmTestQemu, spm_test_qemu_free)

/* The full command line, words joined by spaces (for test messages). */
const char *spm_test_qemu_command_line(SpmTestQemu *qemu);

/* Everything QEMU wrote to stdout and stderr so far. */
char *spm_test_qemu_output(SpmTestQemu *qemu);

/*
 * Execute @command with @arguments (an object node, or NULL; not taken)
 * and return a copy of the reply's "return" member.  Events in between
 * are skipped.  A QMP error reply fails with SPM_ERROR_QMP "CLASS: desc".
 */
JsonNode *spm_test_qemu_execute(SpmTestQemu *qemu,
                                const char *command,
                                JsonNode *arguments,
                                GError **error);

/* human-monitor-command: the text an HMP command prints ("info mtree"). */
char *spm_test_qemu_hmp(SpmTestQemu *qemu,
                        const char *command_line,
                        GError **error);

/*
 * Run SPM_TEST_QEMU_BINARY with @args (no QMP) and wait until it exits
 * by itself, at most SPM_TEST_QEMU_TIMEOUT_S seconds (then it is killed
 * and the call fails with SPM_ERROR_TIMEOUT).  *exit_status gets the exit
 * code (128 + signal when killed by one), *output what it printed.
 */
gboolean spm_test_qemu_run_to_exit(const char *const *args,
                                   int *exit_status,
                                   char **output,
                                   GError **error);

/* The same with a deadline of @timeout_s seconds (a guest that boots). */
gboolean spm_test_qemu_run_to_exit_within(const char *const *args,
                                          guint timeout_s,
                                          int *exit_status,
                                          char **output,
                                          GError **error);

/*
 * The device-memory region in `info mtree` output: every
 * "START-END (prio P, i/o): device-memory" line (one per address space
 * that shows system memory) must give the same range.  Fails with
 * SPM_ERROR_INVALID when there is none or when they differ.
 */
gboolean spm_test_mtree_device_memory(const char *mtree,
                                      guint64 *start,
                                      guint64 *end,
                                      GError **error);

/*
 * The range of the alias region @name ("ram-below-4g", "ram-above-4g")
 * in `info mtree` output; FALSE without an error when there is none.
 */
gboolean spm_test_mtree_alias(const char *mtree,
                              const char *name,
                              guint64 *start,
                              guint64 *end,
                              GError **error);

G_END_DECLS
