# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spm's Placement agent: one child resource provider per HBM node.

model   -- what Placement should hold, from `virt-spm host --json` (pure)
client  -- the Placement API over a keystoneauth1 session
sync    -- one idempotent registration and reconciliation of a host
cli     -- `virt-spm nova placement-sync` (exit 0 ok, 1 failure, 2 usage)
allocation, allocation_cli -- what an instance's allocation takes of the
           host's HBM nodes, for the qemu hook at the guest's start
"""
