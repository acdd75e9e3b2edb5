/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-cli-device.h: which SPM device the commands plan for.
 *
 * plan, convert, argv (and define) generate arguments for one device
 * revision: the one the domain's <emulator> has when it can be asked, else
 * the configuration's [qemu] device (default sp-mem).
 */
#pragma once

#include <libxml/tree.h>
#include "spm-config.h"

G_BEGIN_DECLS

/*
 * Set config->policy.device from @doc's <devices><emulator> when that
 * binary answers the probe with one of the SPM devices; leave the
 * configuration's choice otherwise (no <emulator>, a binary that is
 * missing, does not answer, or has neither device).  Nothing to do with a
 * stand-in driver.  Never fails: the plan says which device it is for.
 */
void spm_cli_choose_device(SpmConfig *config, xmlDocPtr doc);

G_END_DECLS
