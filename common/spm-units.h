/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-units.h: libvirt's scaled integers (<size unit='GiB'>64</size>)
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Scale @value (decimal digits only) by @unit using libvirt's suffixes:
 * b/byte/bytes, k/KiB, KB, M/MiB, MB, G/GiB, GB, T/TiB, TB, P/PiB, PB,
 * E/EiB, EB (case-insensitive, as in libvirt).  @unit NULL or "" means
 * @default_scale bytes (1024 for libvirt's KiB default).  @what names the
 * element for error messages, e.g. "memory/target/size".  Fails on anything
 * that is not a plain non-negative integer, on unknown units and on
 * overflow of 64 bits.
 */
gboolean spm_units_parse(const char *what,
                         const char *value,
                         const char *unit,
                         guint64 default_scale,
                         guint64 *bytes,
                         GError **error);

/* Parse a plain unsigned integer, decimal or 0x-hex, as for base='0x...'. */
gboolean spm_units_parse_uint64(const char *what,
                                const char *value,
                                guint64 *out,
                                GError **error);

/*
 * The largest libvirt unit (KiB, MiB, GiB, TiB) that represents @bytes
 * exactly; @bytes is returned divided by it in @value.  Used to write
 * normalised, readable sizes back into XML.
 */
const char *spm_units_best(guint64 bytes, guint64 *value);

/* "1 GiB", "512 MiB", "3 KiB", "4097 B": for tables and messages. */
char *spm_units_format(guint64 bytes);

G_END_DECLS
