# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spm's side of OpenStack Nova's API: the spm: flavor extra specs are
refused when the flavor is made, with the words the hook would use at the
instance's start (docs/nova.md).

  specs       the vocabulary, plain Python (no Nova import)
  validators  the plug-in for Nova's `nova.api.extra_spec_validators`
"""
