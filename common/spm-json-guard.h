/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-json-guard.h: parse JSON from a peer we do not trust (QMP, clients).
 *
 * json-glib recurses on nesting and silently wraps integers beyond 64 bits
 * (18446744073709551616 reads as -1, 2^64 + 2^32 as 4294967296), which
 * would let a hostile or broken peer forge a plausible address.  The guard
 * scans the text first: too deep, an integer outside gint64, bytes that
 * are not UTF-8 or a token outside RFC 8259 JSON (json-glib 1.6's
 * single-quoted strings excepted: spm-json-guard.c says why) make the
 * whole message an error, never a partial value.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SPM_JSON_MAX_DEPTH 32

/* Check @len bytes of @text (see above); SPM_ERROR_QMP on failure. */
gboolean spm_json_guard_check(const char *text, gsize len, guint max_depth, GError **error);

/* Check, then parse; the root node (a copy the caller owns). */
JsonNode *spm_json_guard_parse(const char *text, gsize len, guint max_depth, GError **error);

G_END_DECLS
