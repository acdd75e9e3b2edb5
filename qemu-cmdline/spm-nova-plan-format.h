/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-nova-plan-format.h: the Nova plan file, as its writer
 * (spm-nova-argv.c, for the hook) and its reader (wrapper/virt-spm-qemu.c,
 * C library only) both know it.  Macros only: nothing to link.
 *
 * The first line is SPM_NOVA_PLAN_MAGIC; then one item a line,
 * "KEY VALUE", no value holding a newline:
 *
 *     virt-spm-nova-plan 1
 *     uuid 142e7aec-cbbf-41ee-9e73-6ae195e7e78a
 *     name guest=vm1                  -name must be this, or this then ','
 *     m 512                           -m must be this ...
 *     m-set size=524288k,slots=1,maxmem=4194304k   ... and becomes this
 *     numa 0                          number of -numa node,... libvirt wrote
 *     machine-drop memory-backend=pc.ram   a property -machine must have; removed
 *     add -numa                       appended, in order
 *     add node,nodeid=0,cpus=0-1,memdev=pc.ram
 *
 * A reader refuses a plan with another first line or an unknown key, so a
 * change of format changes the magic's number.
 */
#pragma once

#define SPM_NOVA_PLAN_MAGIC "virt-spm-nova-plan 1"

#define SPM_NOVA_PLAN_KEY_UUID "uuid"
#define SPM_NOVA_PLAN_KEY_NAME "name"
#define SPM_NOVA_PLAN_KEY_M "m"
#define SPM_NOVA_PLAN_KEY_M_SET "m-set"
#define SPM_NOVA_PLAN_KEY_NUMA "numa"
#define SPM_NOVA_PLAN_KEY_MACHINE_DROP "machine-drop"
#define SPM_NOVA_PLAN_KEY_ADD "add"

/* The largest plan a reader takes, in bytes (a plan of exactly this size is taken). */
#define SPM_NOVA_PLAN_MAX_BYTES (256 * 1024)
