/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-cli-device.c: the device revision of the domain's emulator, for the
 * commands that generate arguments.
 */
#include "spm-cli-device.h"
#include "spm-emulator-probe.h"
#include "spm-xml-node.h"

void
spm_cli_choose_device(SpmConfig *config, xmlDocPtr doc)
{
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    g_autofree char *emulator = NULL;
    g_autoptr(GError) error = NULL;
    gboolean found = FALSE;
    SpmDeviceRev rev;

    if (!root || config->policy.stand_in_driver)
        return;
    emulator = spm_xml_text_or_null(spm_xml_child(spm_xml_child(root, "devices"), "emulator"));
    /* only an absolute path is a binary of this host; libvirt checks it at define */
    if (!emulator || !g_path_is_absolute(emulator))
        return;
    /* the hook's cache: a root run fills it, another user's run only reads it */
    if (!spm_emulator_find_device(emulator, spm_emulator_probe_cached,
                                  (gpointer)spm_emulator_cache_dir(), &found, &rev, &error) ||
        !found)
        return;
    config->policy.device = rev;
}
