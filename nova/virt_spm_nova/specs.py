# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spm's spm: flavor extra specs, checked with the rules and the words
of the C parser (xmlschema/spm-nova.c, common/spm-units.c).

Two entry points:

  check_spec(name, value)   one spec on its own: what Nova's flavor API can
                            check, since it validates each spec by itself;
  check_specs(items)        a whole flavor, exactly as the hook parses it
                            (spm_nova_request_parse).

Both raise SpecError whose str() is the C parser's message.  Names outside
the spm: namespace are not ours and pass.  tests/nova/test-nova-validator.py
runs every case of the C test table (test-nova-specs --cases) through both
and fails on any difference.  Plain Python: no Nova import here.
"""
import re

PREFIX = "spm:"
MAX_DEVICES = 64
GLOBAL_KEYS = ("devices", "size", "pagesize", "access", "profile")
DEVICE_KEYS = ("size", "host_nodes")
_U64 = (1 << 64) - 1
_U32 = (1 << 32) - 1
_DIGITS = re.compile(r"[0-9]+")


class SpecError(ValueError):
    """An invalid spm: extra spec; str() is virt-spm's one-line message."""


def _fail(key, msg):
    raise SpecError("%s: %s" % (key, msg))


def printable(text, limit=64):
    """A value as a message shows it (spm_error_printable)."""
    out = bytearray()
    for c in text.encode("utf-8", "surrogateescape"):
        if limit and len(out) >= limit:
            # never cut a UTF-8 sequence in two
            while out and (out[-1] & 0xC0) == 0x80:
                out.pop()
            if out and out[-1] >= 0xC0:
                out.pop()
            out += b"..."
            break
        if c == 0x0A:
            out += b"\\n"
        elif c == 0x0D:
            out += b"\\r"
        elif c == 0x09:
            out += b"\\t"
        elif c < 0x20 or c == 0x7F:
            out += b"\\x%02x" % c
        else:
            out.append(c)
    return out.decode("utf-8", "surrogateescape")


def _ascii_strip(s):
    # g_strstrip: ASCII white space only
    return s.strip(" \t\n\v\f\r")


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _scale(unit):
    """Bytes per unit (libvirt's units, a bare number is KiB), None if unknown."""
    if not unit:
        return 1024
    # g_ascii_strcasecmp: str.lower() would take the Kelvin sign for a 'k'
    low = unit.translate(_ASCII_LOWER)
    if low in ("b", "byte", "bytes"):
        return 1
    if len(unit) == 1 or low[1:] == "ib":
        base = 1024
    elif low[1:] == "b":
        base = 1000
    else:
        return None
    power = "kmgtpe".find(low[0]) + 1
    if power == 0:
        return None
    return base ** power


def parse_size(key, value):
    """'64GiB', '64 GiB', '65536' (KiB) -> bytes (spm_nova_parse_size)."""
    m = re.match(r"[0-9]*", value)
    number, suffix = m.group(0), _ascii_strip(value[m.end():])
    scale = _scale(suffix)
    if scale is None:
        _fail(key, "unknown unit '%s'" % printable(suffix))
    if not number:
        _fail(key, "missing value")
    v = int(number)
    if v > _U64:
        _fail(key, "'%s' does not fit in 64 bits" % printable(number))
    if v > _U64 // scale:
        _fail(key, "'%s %s' overflows 64 bits" % (printable(number), suffix or "KiB"))
    if v * scale == 0:
        _fail(key, "size must not be 0")
    return v * scale


def name_is_safe(name):
    """A profile or flavor file name (spm_nova_name_is_safe)."""
    return (bool(name) and name[0] != "." and len(name.encode("utf-8", "surrogateescape")) <= 255 and
            re.fullmatch(r"[A-Za-z0-9._-]+", name) is not None)


def nodeset_is_valid(s):
    """A libvirt node set such as '0-3,5' (spm_nodeset_is_valid)."""
    return bool(s) and re.fullmatch(r"[0-9,^-]+", s) is not None and (s[0].isdigit() or s[0] == "^")


def parse_devices(value):
    if not _DIGITS.fullmatch(value) or not 1 <= int(value) <= MAX_DEVICES:
        _fail("spm:devices", "'%s' is not a number of devices (1-%d)" % (value, MAX_DEVICES))
    return int(value)


def split_device_key(name):
    """'3.size' -> (3, 'size'); None when not of the per-device form."""
    index, dot, field = name.partition(".")
    if not dot or not index or not _DIGITS.fullmatch(index) or int(index) > _U32:
        return None
    return int(index), field


def _unknown(key, name):
    split = split_device_key(name)
    if split is None and name not in GLOBAL_KEYS:
        _fail(key, "unknown extra spec (spm:devices, spm:size, spm:N.size, spm:N.host_nodes, "
                   "spm:pagesize, spm:access, spm:profile)")
    # the devices are looked up as "%u.size": "01.size" would never be read,
    # and "1.size" beside it would pass as no conflict.  One spelling per index.
    if split is not None and name[0] == "0" and name[1] != ".":
        _fail(key, "device index '%s' is not written in its canonical form (spm:%d.%s)"
              % (name.partition(".")[0], split[0], split[1]))
    if split is not None and split[1] not in DEVICE_KEYS:
        _fail(key, "unknown extra spec (per device: spm:N.size, spm:N.host_nodes)")
    return split


def _check_access(value):
    if value not in ("shared", "private"):
        _fail("spm:access", "unknown value '%s' (shared, private)" % value)


def _check_profile(value):
    if not name_is_safe(value):
        _fail("spm:profile", "'%s' is not a profile name (letters, digits, '.', '_', '-'; "
                             "not starting with '.')" % value)


def _check_nodes(key, value):
    if not nodeset_is_valid(value):
        _fail(key, "'%s' is not a node set such as '0-3,5'" % value)


def check_spec(name, value):
    """One extra spec on its own: its name and its value.  What needs the
    other specs (a device index below spm:devices, a size for every device,
    spm:profile alone, a spec given twice) is check_specs()'s."""
    if not name.startswith(PREFIX):
        return
    key, short = name, name[len(PREFIX):]
    split = _unknown(key, short)
    if split is not None:
        if split[1] == "size":
            parse_size(key, value)
        else:
            _check_nodes(key, value)
    elif short == "devices":
        parse_devices(value)
    elif short in ("size", "pagesize"):
        parse_size(key, value)
    elif short == "access":
        _check_access(value)
    else:
        _check_profile(value)


def check_specs(items):
    """A flavor's extra specs, (name, value) pairs in order, as the hook
    parses them.  Returns the number of SPM devices (0: asks for nothing;
    None: spm:profile names a profile, which the hook reads)."""
    keys = {}
    for name, value in items:
        if not name.startswith(PREFIX):
            continue
        short = name[len(PREFIX):]
        if short in keys:
            _fail(name, "given twice")
        keys[short] = value
    if not keys:
        return 0
    if "profile" in keys:
        if len(keys) > 1:
            _fail("spm:profile", "cannot be combined with other spm: extra specs: the "
                                 "profile says it all")
        _check_profile(keys["profile"])
        return None
    ndevices = parse_devices(keys["devices"]) if "devices" in keys else 1
    # each key on its own first, then against the others, as the C parser
    # does, so that the first error does not depend on the keys' order
    splits = [(short, _unknown(PREFIX + short, short)) for short in sorted(keys)]
    for short, split in splits:
        if split is not None and split[0] >= ndevices:
            _fail(PREFIX + short, "device %d does not exist (spm:devices=%d: devices 0 to %d)"
                  % (split[0], ndevices, ndevices - 1))
    size = parse_size("spm:size", keys["size"]) if "size" in keys else 0
    if "pagesize" in keys:
        parse_size("spm:pagesize", keys["pagesize"])
    if "access" in keys:
        _check_access(keys["access"])
    total = 0
    for i in range(ndevices):
        size_key = "%s%d.size" % (PREFIX, i)
        dev = size
        if "%d.size" % i in keys:
            dev = parse_size(size_key, keys["%d.size" % i])
        if dev == 0:
            _fail(size_key, "required extra spec is missing (or give spm:size for every device)")
        if "%d.host_nodes" % i in keys:
            _check_nodes("%s%d.host_nodes" % (PREFIX, i), keys["%d.host_nodes" % i])
        total += dev
        if total > _U64:
            _fail(size_key, "the sizes of the devices overflow 64 bits")
    return ndevices
