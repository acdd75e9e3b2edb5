/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-common.h: what the libFuzzer targets share.
 *
 * Each target defines LLVMFuzzerTestOneInput.  Built with -Dfuzzing=true
 * (clang, -fsanitize=fuzzer) it is a libFuzzer binary; otherwise it is
 * linked with fuzz-replay.c, which runs the seed and regression inputs
 * through it in the normal test suite.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <glib.h>

#include "spm-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The host facts of tests/data/golden.conf, so runs do not depend on the machine. */
const SpmPlanPolicy *spm_fuzz_policy(void);

/* A failure the target exists to find: print it and abort (libFuzzer saves the input). */
#define SPM_FUZZ_CHECK(cond, ...) \
    do { \
        if (G_UNLIKELY(!(cond))) { \
            g_printerr("fuzz check failed: %s: ", #cond); \
            g_printerr(__VA_ARGS__); \
            g_printerr("\n"); \
            abort(); \
        } \
    } while (0)

/* A GError of a failed call must be virt-spm's one-line message. */
#define SPM_FUZZ_CLEAN_ERROR(err) \
    SPM_FUZZ_CHECK((err) && (err)->message[0] && !strchr((err)->message, '\n'), \
                   "error is not one line: %s", (err) ? (err)->message : "(none)")
