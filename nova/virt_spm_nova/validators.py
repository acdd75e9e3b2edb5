# SPDX-License-Identifier: LGPL-2.1-or-later
"""Validators of the spm: namespace for Nova's flavor API.

Nova loads register() through the stevedore entry point
`nova.api.extra_spec_validators` (nova/api/validation/extra_specs/
validators.py) and, from API microversion 2.86 on, runs each extra spec a
flavor is given through the validator whose name matches it.  Each one
here hands the spec to specs.check_spec(), so a spec is refused with
virt-spm's own message (`spm:size: unknown unit 'GB2'`) in Nova's 400.

Nova validates each spec on its own: what needs a flavor's other specs
(a device index below spm:devices, a size for every device, spm:profile
alone) is checked by `virt-spm nova flavor --check` and by the hook at the
instance's start.  The catch-all `spm:{key}`, registered last, gives an
unknown spm: name virt-spm's message rather than Nova's generic one.
"""
from nova.api.validation.extra_specs import base
from nova import exception

from virt_spm_nova import specs

_INDEX = {"name": "index", "pattern": r"[0-9]+",
          "description": "the SPM device, from 0 (below spm:devices)"}


class SpmExtraSpecValidator(base.ExtraSpecValidator):
    """Nova's validator with virt-spm's rules and words."""

    def validate(self, name, value):
        try:
            specs.check_spec(name, value)
        except specs.SpecError as e:
            raise exception.ValidationError(str(e))


def _v(name, description, value, parameters=()):
    return SpmExtraSpecValidator(name=name, description=description, value=value,
                                 parameters=list(parameters))


VALIDATORS = [
    _v("spm:devices", "The number of SPM devices (accelerator HBM) of the instance.",
       {"type": int, "min": 1, "max": specs.MAX_DEVICES}),
    _v("spm:size", "The size of each SPM device (libvirt's units: 64GiB; a bare number is KiB).",
       {"type": str, "description": "a size such as 64GiB"}),
    _v("spm:{index}.size", "The size of one SPM device, over spm:size.",
       {"type": str, "description": "a size such as 32GiB"}, [_INDEX]),
    _v("spm:{index}.host_nodes", "The host NUMA nodes of one SPM device (a libvirt node set).",
       {"type": str, "description": "a node set such as 2-3,5"}, [_INDEX]),
    _v("spm:pagesize", "The huge page size of the SPM devices' backends.",
       {"type": str, "description": "a size such as 2MiB"}),
    _v("spm:access", "The SPM devices' backend mapping.",
       {"type": str, "enum": ["shared", "private"]}),
    _v("spm:profile", "Everything from /etc/virt-spm/profiles.d/NAME.conf on the compute node.",
       {"type": str, "description": "a profile name"}),
    # last: whatever spm: name the others do not know
    _v("spm:{key}", "Not a virt-spm extra spec.",
       {"type": str, "description": "refused"},
       [{"name": "key", "pattern": r".*", "description": "any other name"}]),
]


def register():
    return VALIDATORS
