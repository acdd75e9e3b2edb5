/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-guest-facts.h: what a guest says about its memory, as plain data.
 *
 * Every input here comes from inside a guest (qemu-guest-agent's answers,
 * files the agent read for us), so nothing is trusted: each parser takes a
 * length, refuses more than its cap, and is all-or-nothing -- a reply that
 * is not exactly of the documented form is an error as a whole, never a
 * partial list that a verdict could mistake for "no RAM there".  Pure
 * code: no I/O (spm-guest-agent.c does that).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Caps on what a guest may hand us (bytes of the text). */
#define SPM_GUEST_MAX_REPLY (1024 * 1024)     /* one agent reply */
#define SPM_GUEST_MAX_BLOCKS 65536            /* memory blocks listed */
#define SPM_GUEST_MAX_FILE (256 * 1024)       /* /proc/iomem as read */
#define SPM_GUEST_MAX_IOMEM_ENTRIES 4096
#define SPM_GUEST_MAX_IOMEM_DEPTH 16

/* One /sys/devices/system/memory/memoryN the agent listed. */
typedef struct {
    guint64 index;          /* phys-index: the block covers index*size .. +size */
    gboolean online;
} SpmGuestBlock;

/* One line of /proc/iomem: "  100000000-13fffffff : Soft Reserved" */
typedef struct {
    guint64 start;
    guint64 end;            /* inclusive, as the kernel prints it */
    guint depth;            /* nesting: two spaces per level */
    char *name;             /* printable, at most 64 bytes */
} SpmIomemEntry;

void spm_iomem_entry_free(SpmIomemEntry *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmIomemEntry, spm_iomem_entry_free)

/*
 * Every agent reply text is {"return": ...} (an {"error": {...}} becomes
 * "COMMAND: CLASS: DESC"), at most SPM_GUEST_MAX_REPLY bytes, guarded for
 * nesting, integer range and UTF-8 (spm-json-guard.h).
 */

/* guest-get-memory-blocks: a GArray of SpmGuestBlock, sorted by index;
 * duplicate indices, missing or mistyped members are errors. */
GArray *spm_guest_blocks_parse(const char *text, gsize len, GError **error);

/* guest-get-memory-block-info: the block size, a power of two of at least
 * 4 KiB and at most 64 GiB. */
gboolean spm_guest_block_size_parse(const char *text, gsize len, guint64 *size,
                                    GError **error);

/* guest-file-read: the decoded bytes (at most @max) and whether the agent
 * said it reached the end; "count" must equal the decoded length. */
GBytes *spm_guest_file_read_parse(const char *text, gsize len, gsize max,
                                  gboolean *eof, GError **error);

/* guest-file-open: the handle (a non-negative integer). */
gboolean spm_guest_file_handle_parse(const char *text, gsize len, gint64 *handle,
                                     GError **error);

/* /proc/iomem: a GPtrArray of SpmIomemEntry in file order.  A line that is
 * not "INDENT START-END : NAME", an end before its start, a child outside
 * its parent or a jump of more than one level is an error. */
GPtrArray *spm_iomem_parse(const char *text, gsize len, GError **error);

/* /proc/iomem read without CAP_SYS_ADMIN shows every address as 0. */
gboolean spm_iomem_addresses_hidden(const GPtrArray *entries);

/* A sysfs integer file ("1\n", "-1\n"): at most 32 bytes. */
gboolean spm_guest_sysfs_int_parse(const char *text, gsize len, gint64 min, gint64 max,
                                   gint64 *out, GError **error);

/* "daxN.M" (N, M decimal, at most 4 digits each)? */
gboolean spm_guest_is_dax_name(const char *name);

G_END_DECLS
