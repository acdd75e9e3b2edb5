/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-convert.h: a user's domain XML to the form libvirt accepts, and back.
 *
 * Forward: every <memory model='spm'> leaves <devices> for virt-spm's
 * <metadata> element, the generated arguments go into <qemu:commandline>,
 * NUMA cells and <maxMemory> are adjusted, and what was adjusted is recorded
 * so that reverse gives back exactly the user's form.  Forward on a document
 * that is already converted first reverses it, so converting twice gives
 * the same document as converting once.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include "spm-plan.h"

G_BEGIN_DECLS

/*
 * Convert @doc in place.  On error @doc is left unchanged.  The plan
 * borrows the definition, so @plan_out needs @def_out; free the plan first.
 */
gboolean spm_convert_forward(xmlDocPtr doc,
                             const SpmPlanPolicy *policy,
                             SpmPlan **plan_out,     /* nullable */
                             SpmDomainDef **def_out, /* nullable; the plan borrows it */
                             GError **error);

/* Give back the user's form in place.  A document without virt-spm
 * metadata is left as it is. */
gboolean spm_convert_reverse(xmlDocPtr doc, GError **error);

/*
 * The policy to re-plan a converted @doc with: @policy (the host's), with
 * the stand-in, alignment, guard gap and strictness recorded in its
 * metadata, which decided its arguments.  A deep copy: clear it with
 * spm_plan_policy_clear().  Without metadata, a copy of @policy.
 */
gboolean spm_convert_recorded_policy(xmlDocPtr doc,
                                     const SpmPlanPolicy *policy,
                                     SpmPlanPolicy *effective,
                                     GError **error);

/*
 * For a converted @doc (as libvirt will start it): check that its
 * <qemu:commandline> holds exactly the arguments the metadata gives today.
 * SPM_ERROR_MISMATCH names the first difference when they are stale or
 * missing; TRUE when @doc has no SPM metadata at all (*has_spm = FALSE).
 * @plan_out and @def_out (nullable) get the fresh plan and the definition
 * it borrows when there is SPM metadata and the arguments are current.
 */
gboolean spm_convert_check_current(xmlDocPtr doc,
                                   const SpmPlanPolicy *policy,
                                   gboolean *has_spm,
                                   SpmPlan **plan_out,
                                   SpmDomainDef **def_out,
                                   GError **error);

/*
 * The generated arguments a converted @doc records (<spm:argv>), in order;
 * empty without virt-spm metadata.
 */
GPtrArray *spm_convert_generated_args(xmlDocPtr doc);

/*
 * Give the converted @doc the generated arguments and the stored SPM
 * devices of @from, another conversion of the same domain (an incoming
 * migration bound to this host's HBM nodes): the run of <qemu:commandline>
 * equal to <spm:argv> and <spm:argv> itself get @from's values in place,
 * and <spm:devices> becomes @from's.  Nothing else of @doc changes; the
 * caller checks that the two argument lists differ only where it allows.
 * SPM_ERROR_MISMATCH when @doc's arguments are missing or stale, or when
 * the lists differ in length.
 */
gboolean spm_convert_take_generated(xmlDocPtr doc, xmlDocPtr from, GError **error);

G_END_DECLS
