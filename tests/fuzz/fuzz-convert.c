/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-convert.c: convert, convert again, reverse, on hostile domain XML.
 *
 * What must hold whenever convert accepts a document: its output parses
 * again; converting it again gives the same document; the hook's staleness
 * check accepts it; reverse succeeds, and when the input was in the user's
 * form (no virt-spm metadata), gives the input back.
 */
#include "fuzz-common.h"

#include "spm-convert.h"
#include "spm-xml.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const SpmPlanPolicy *policy = spm_fuzz_policy();
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_memory((const char *)data, size, "fuzz", &error);
    g_autoptr(xmlDoc) again = NULL;
    g_autofree char *input = NULL;
    g_autofree char *once = NULL;
    g_autofree char *twice = NULL;
    g_autofree char *before = NULL;
    g_autofree char *reversed = NULL;
    gboolean user_form;
    gboolean has_spm = FALSE;

    if (!doc)
        return 0;
    user_form = xmlDocGetRootElement(doc) && !spm_xml_metadata_element(xmlDocGetRootElement(doc));
    input = spm_xml_format(doc);
    if (!spm_convert_forward(doc, policy, NULL, NULL, &error)) {
        SPM_FUZZ_CLEAN_ERROR(error);
        before = spm_xml_format(doc);
        SPM_FUZZ_CHECK(g_str_equal(before, input), "a failed convert changed the document");
        return 0;
    }
    once = spm_xml_format(doc);
    again = spm_xml_read_memory(once, strlen(once), "converted", &error);
    SPM_FUZZ_CHECK(again, "the converted document does not parse: %s", error->message);

    SPM_FUZZ_CHECK(spm_convert_check_current(again, policy, &has_spm, NULL, NULL, &error),
                   "the hook refuses a fresh conversion: %s", error->message);
    SPM_FUZZ_CHECK(spm_convert_forward(again, policy, NULL, NULL, &error),
                   "converting the converted document fails: %s", error->message);
    twice = spm_xml_format(again);
    SPM_FUZZ_CHECK(g_str_equal(once, twice), "convert is not idempotent:\n%s\n---\n%s", once, twice);

    SPM_FUZZ_CHECK(spm_convert_reverse(again, &error), "reverse fails: %s", error->message);
    reversed = spm_xml_format(again);
    if (user_form)
        SPM_FUZZ_CHECK(g_str_equal(reversed, input), "reverse loses:\n%s\n---\n%s", input, reversed);
    return 0;
}
