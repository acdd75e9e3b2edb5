#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spm plan/argv/convert: which SPM device they generate.

The domain's <emulator> decides when it answers the probe (sp-mem first,
then the legacy spm-memory), else [qemu] device of the configuration
(default sp-mem).  The emulators here are shell scripts that answer
`-device NAME,help` as QEMU does."""
import json
import os
import subprocess
import sys
import tempfile

VIRT_SPM = os.path.join(os.environ["SPM_BUILD_ROOT"], "cli", "virt-spm")
DOMAIN = os.path.join(os.environ["SPM_SOURCE_ROOT"], "tests", "data", "spm-two-natural.xml")
GOLDEN = os.path.join(os.environ["SPM_SOURCE_ROOT"], "tests", "data", "golden.conf")

# What `-device NAME,help` prints on each QEMU (QEMU 7.2 exits 0 either way).
HELP = {
    "sp-mem": "sp-mem options:\n  addr=<uint64>          -  (default: 0)\n"
              "  memdev=<link<memory-backend>>\n  node=<uint32>          -  (default: 0)\n",
    "spm-memory": "spm-memory options:\n  addr=<uint64>\n  memdev=<link<memory-backend>>\n"
                  "  node=<uint32>\n",
}

failures = 0


def check(cond, what):
    global failures
    print(("ok - " if cond else "not ok - ") + what)
    if not cond:
        failures += 1


def fake_qemu(work, name, devices):
    path = os.path.join(work, name)
    cases = "".join("  %s,help) printf '%%s' '%s';;\n" % (d, HELP[d]) for d in devices)
    with open(path, "w") as f:
        f.write("#!/bin/sh\ncase \"$2\" in\n%s"
                "  *) echo \"qemu-system-x86_64: -device $2: Device '${2%%,help}' not found\";;\n"
                "esac\n" % cases)
    os.chmod(path, 0o755)
    return path


def domain_with(work, emulator):
    with open(DOMAIN) as f:
        text = f.read()
    text = text.replace("<emulator>/usr/bin/qemu-system-x86_64</emulator>",
                        "<emulator>%s</emulator>" % emulator)
    assert emulator in text
    path = os.path.join(work, "domain-%d.xml" % abs(hash(emulator)))
    with open(path, "w") as f:
        f.write(text)
    return path


def config(work, device):
    path = os.path.join(work, "virt-spm-%s.conf" % (device or "default"))
    with open(GOLDEN) as f:
        text = f.read()
    if device:
        text += "\n[qemu]\ndevice = %s\n" % device
    with open(path, "w") as f:
        f.write(text)
    return path


def run(*args):
    env = dict(os.environ, SPM_HOOK_CACHE_DIR=os.path.join(work, "cache"))
    return subprocess.run([VIRT_SPM, "-q"] + list(args), capture_output=True, text=True, env=env)


def planned_device(conf, xml):
    p = run("--config", conf, "plan", "--json", xml)
    if p.returncode != 0:
        return "error: " + p.stderr.strip()
    return json.loads(p.stdout)["device"]


with tempfile.TemporaryDirectory(prefix="spm-cli-device-") as work:
    spmem = domain_with(work, fake_qemu(work, "qemu-11.1", ["sp-mem"]))
    v8 = domain_with(work, fake_qemu(work, "qemu-v8", ["spm-memory"]))
    neither = domain_with(work, fake_qemu(work, "qemu-7.2", []))
    missing = domain_with(work, os.path.join(work, "no-such-qemu"))
    default = config(work, None)
    legacy = config(work, "spm-memory")

    check(planned_device(default, spmem) == "sp-mem", "an emulator with sp-mem: sp-mem")
    check(planned_device(legacy, spmem) == "sp-mem", "the emulator wins over [qemu] device")
    check(planned_device(default, v8) == "spm-memory", "an emulator with the v8 device: spm-memory")
    check(planned_device(default, neither) == "sp-mem", "neither device: the default, sp-mem")
    check(planned_device(legacy, neither) == "spm-memory", "neither device: [qemu] device")
    check(planned_device(legacy, missing) == "spm-memory", "a missing emulator: [qemu] device")

    p = run("--config", default, "plan", v8)
    check(p.returncode == 0 and "\nSPM device: spm-memory (the v8 patch series, legacy)\n" in p.stdout,
          "the text plan says which device it planned for")
    p = run("--config", default, "argv", v8)
    check(p.returncode == 0 and "-device 'spm-memory,id=ua-hbm0," in p.stdout, "argv for the v8 device")
    p = run("--config", default, "argv", spmem)
    check(p.returncode == 0 and "-device 'sp-mem,id=ua-hbm0," in p.stdout
          and "spm-memory" not in p.stdout, "argv for sp-mem")
    p = run("--config", legacy, "convert", neither)
    check(p.returncode == 0 and 'device="spm-memory"' in p.stdout
          and '<qemu:arg value="spm-memory,id=ua-hbm0,' in p.stdout, "convert records the device")

    bad = os.path.join(work, "bad.conf")
    with open(bad, "w") as f:
        f.write("[qemu]\ndevice = spm_memory\n")
    p = run("--config", bad, "plan", spmem)
    check(p.returncode != 0 and p.stderr.count("\n") == 1 and
          "[qemu] device: 'spm_memory' is not 'sp-mem' (QEMU 11.1 and later) or 'spm-memory' "
          "(the v8 patch series, legacy)" in p.stderr, "a wrong [qemu] device: one line")

print("1..%d" % 11)
sys.exit(1 if failures else 0)
