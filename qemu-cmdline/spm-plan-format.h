/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-plan-format.h: a plan for people (table) and programs (JSON).
 */
#pragma once

#include <glib.h>
#include "spm-plan.h"

G_BEGIN_DECLS

/* The JSON object of docs/xml.md (keys fixed; more may be added). */
char *spm_plan_to_json(const SpmPlan *plan, gboolean pretty);

/* A readable table of the region, devices, nodes and warnings. */
char *spm_plan_to_table(const SpmPlan *plan);

G_END_DECLS
