#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# record-spmem-fixtures.sh [ROOT [OUT [GUEST_DIR]]]
#
# Re-records tests/fixtures/qemu-spmem/ (OUT) from the QEMU 11.1 of the sid
# root ROOT (default ~/.cache/virt-spm/sid, made by scripts/setup-sid-root.sh),
# run on the host through ROOT/bin/qemu-system-x86_64-sid.  The formats are
# those of tests/fixtures/qemu-spm/ (docs/testing.md):
#
#   NAME.cmd        QEMU's arguments, one word each, no shell quoting
#   NAME.json       {"query-memory-devices": [...], "device-memory": [lines
#                   of `info mtree`]}, or {"error": "QEMU's exact message"}
#   NAME.guest.txt  what the test guest printed from "=== IOMEM" to
#                   "=== END", booted with the root's OVMF (the booted cases)
#
# Every case runs paused (-S -display none -nodefaults), as the tests replay
# it.  A case named err-* must fail and every other must start: a case whose
# outcome changed with QEMU is an error here, to be renamed on purpose.
# GUEST_DIR (default ~/.cache/spm-qemu/guest) holds vmlinuz and initrd.gz
# (scripts/build-spm-qemu.sh); without them the guest files are left alone.
set -euo pipefail

root=$(realpath -m "${1:-$HOME/.cache/virt-spm/sid}")
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${2:-$here/tests/fixtures/qemu-spmem}")
guest=${3:-$HOME/.cache/spm-qemu/guest}
qemu=$root/bin/qemu-system-x86_64-sid
ovmf=$root/usr/share/ovmf/OVMF.fd
[ -x "$qemu" ] || { echo "record-spmem-fixtures: no $qemu (run scripts/setup-sid-root.sh)" >&2; exit 77; }
mkdir -p "$out"

exec python3 - "$qemu" "$out" "$guest" "$ovmf" <<'EOF'
import json, os, socket, subprocess, sys, tempfile, time

qemu, out, guest, ovmf = sys.argv[1:5]

# The firmware paths as every fixture of tests/fixtures/qemu-spm has them;
# the runner puts the root's own directories before them.
L = "-L /usr/share/seabios -L /usr/share/qemu"
BASE = L + " -machine q35 -accel tcg -smp 2 -m 1G,slots=4,maxmem=16G -object memory-backend-ram,id=ram0,size=1G -numa node,nodeid=0,cpus=0-1,memdev=ram0"
N1 = " -numa node,nodeid=1"
N12 = " -numa node,nodeid=1 -numa node,nodeid=2"
S0 = " -object memory-backend-ram,id=spm0,size=1G"
S1 = " -object memory-backend-ram,id=spm1,size=1G"
CASES = {
    # the cases of tests/fixtures/qemu-spm, spm-memory written as sp-mem
    "big-ram-above-4g": L + " -machine q35 -accel tcg -smp 2 -m 6G,slots=2,maxmem=40G -object memory-backend-ram,id=ram0,size=6G -numa node,nodeid=0,cpus=0-1,memdev=ram0 -numa node,nodeid=1 -object memory-backend-ram,id=spm0,size=8G -device sp-mem,id=dev0,memdev=spm0,node=1",
    "dimm-first-json-order": BASE + N12 + ' -object memory-backend-ram,id=mem1,size=512M -device {"driver":"pc-dimm","id":"dimm1","memdev":"mem1","node":2}' + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=1",
    "err-addr-below-base": BASE + N1 + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=1,addr=0x80000000",
    "err-backend-twice": BASE + N12 + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=1 -device sp-mem,id=dev1,memdev=spm0,node=2",
    "err-maxmem-too-small": L + " -machine q35 -accel tcg -smp 2 -m 1G,slots=2,maxmem=2G -object memory-backend-ram,id=ram0,size=1G -numa node,nodeid=0,cpus=0-1,memdev=ram0 -numa node,nodeid=1 -object memory-backend-ram,id=spm0,size=2G -device sp-mem,id=dev0,memdev=spm0,node=1",
    "err-missing-memdev": BASE + N1 + " -device sp-mem,id=dev0,node=1",
    "err-no-maxmem": L + " -machine q35 -accel tcg -smp 2 -m 1G -object memory-backend-ram,id=ram0,size=1G -numa node,nodeid=0,cpus=0-1,memdev=ram0 -numa node,nodeid=1" + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=1",
    "err-node-gap": BASE + " -numa node,nodeid=2" + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=2",
    "err-node-out-of-range": BASE + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=1",
    "err-overlap": BASE + N12 + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=1" + S1 + " -device sp-mem,id=dev1,memdev=spm1,node=2,addr=0x120000000",
    "err-size-not-aligned": BASE + N1 + " -object memory-backend-ram,id=spm0,size=1025M -device sp-mem,id=dev0,memdev=spm0,node=1",
    "err-unaligned-addr": BASE + N1 + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=1,addr=0x200001000",
    "single-explicit-addr": BASE + N1 + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=1,addr=0x200000000",
    "single-natural": BASE + N1 + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=1",
    "spm-plus-dimm": BASE + N12 + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=1 -object memory-backend-ram,id=mem1,size=512M -device pc-dimm,id=dimm1,memdev=mem1,node=2",
    "two-gap": BASE + N12 + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=1" + S1 + " -device sp-mem,id=dev1,memdev=spm1,node=2,addr=0x180000000",
    "two-tight": BASE + N12 + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=1 -object memory-backend-ram,id=spm1,size=2G -device sp-mem,id=dev1,memdev=spm1,node=2",
    # v8 refused these (err-two-on-one-node, err-node-has-ram); 11.1 accepts them
    "two-on-one-node": BASE + N1 + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=1" + S1 + " -device sp-mem,id=dev1,memdev=spm1,node=1",
    "node-has-ram": BASE + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=0",
    # new in 11.1: a pc-dimm and an sp-mem on one node
    "dimm-and-spm-one-node": BASE + N1 + S0 + " -device sp-mem,id=dev0,memdev=spm0,node=1 -object memory-backend-ram,id=mem1,size=512M -device pc-dimm,id=dimm1,memdev=mem1,node=1",
}
# (fixture, file, firmware): OVMF passes Soft Reserved to the guest,
# SeaBIOS (QEMU's default) does not
BOOTED = [("single-natural", "single-natural.guest.txt", "ovmf"),
          ("two-gap", "two-gap.guest.txt", "ovmf"),
          ("two-tight", "two-tight.guest.txt", "ovmf"),
          ("two-tight", "two-tight.seabios.guest.txt", "seabios")]
PAUSED = ["-S", "-display", "none", "-nodefaults"]
GUEST_CMDLINE = "console=ttyS0 panic=-1"


def wait_for(what, cond, timeout):
    deadline = time.monotonic() + timeout
    while True:
        r = cond()
        if r:
            return r
        if time.monotonic() > deadline:
            sys.exit(f"record-spmem-fixtures: timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class Qmp:
    def __init__(self, path):
        def connect():
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(path)
                return s
            except OSError:
                s.close()
                return None
        self.f = wait_for("QMP on " + path, connect, 30).makefile("rw")
        json.loads(self.f.readline())      # greeting
        self.execute("qmp_capabilities")

    def execute(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                sys.exit(f"record-spmem-fixtures: QEMU closed QMP during {cmd}")
            r = json.loads(line)
            if "error" in r:
                sys.exit(f"record-spmem-fixtures: {cmd}: {r['error']['desc']}")
            if "return" in r:
                return r["return"]


# The lines about RAM and device memory, in a fixed order (QEMU prints
# its address spaces in an order that varies from run to run).
def device_memory_lines(mtree):
    kinds = [lambda l: "alias ram-below-4g" in l, lambda l: "alias ram-above-4g" in l,
             lambda l: l.endswith("): device-memory"), lambda l: l == "address-space: device-memory"]
    keep = []
    for kind in kinds:
        for raw in mtree.splitlines():
            l = raw.strip()
            if kind(l) and l not in keep:
                keep.append(l)
    return keep


def record(name, words, tmp):
    sock = os.path.join(tmp, name + ".qmp")
    p = subprocess.Popen([qemu] + words + PAUSED + ["-qmp", f"unix:{sock},server=on,wait=off"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # It either fails on its arguments or answers on QMP; it may open
        # the socket before it checks the devices, and then close it.
        wait_for(name + " to start or fail", lambda: p.poll() is not None or os.path.exists(sock), 30)
        try:
            q = Qmp(sock) if p.poll() is None else None
        except (OSError, ValueError):
            q = None
        if q is None:
            p.wait(30)
            err = p.stderr.read().strip()
            if p.returncode == 0 or not err:
                sys.exit(f"record-spmem-fixtures: {name}: QEMU exited {p.returncode} with '{err}'")
            return {"error": err}
        devs = q.execute("query-memory-devices")
        mtree = q.execute("human-monitor-command", **{"command-line": "info mtree"})
        q.execute("quit")
        p.wait(30)
        return {"query-memory-devices": devs, "device-memory": device_memory_lines(mtree)}
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def boot(name, words, firmware, tmp):
    serial = os.path.join(tmp, name + ".serial")
    open(serial, "w").close()
    args = [qemu] + words + ["-display", "none", "-nodefaults"] + \
        (["-bios", ovmf] if firmware == "ovmf" else []) + [
            "-kernel", os.path.join(guest, "vmlinuz"), "-initrd", os.path.join(guest, "initrd.gz"),
            "-append", GUEST_CMDLINE, "-serial", "file:" + serial, "-no-reboot"]
    t = time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        # The console's bytes as they are (its lines end with \r\n),
        # from "=== IOMEM" to the end of the "=== END" line.
        def section():
            text = open(serial, "rb").read().decode(errors="replace")
            b = text.find("=== IOMEM")
            e = text.find("=== END", b if b >= 0 else 0)
            nl = text.find("\n", e) if e >= 0 else -1
            if b >= 0 and nl >= 0:
                return text[b:nl + 1]
            if p.poll() is not None:
                sys.exit(f"record-spmem-fixtures: {name}: the guest stopped (QEMU {p.returncode}) "
                         f"without printing its view: {p.stderr.read().strip()}")
            return None
        view = wait_for(name + "'s guest view", section, 600)
        p.wait(120)
        print(f"record-spmem-fixtures: booted {name} in {time.monotonic() - t:.1f} s", file=sys.stderr)
        return view
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


with tempfile.TemporaryDirectory(prefix="spmem-fixtures-") as tmp:
    for name, cmd in CASES.items():
        words = cmd.split()
        got = record(name, words, tmp)
        if ("error" in got) != name.startswith("err-"):
            sys.exit(f"record-spmem-fixtures: {name}: QEMU {'refused' if 'error' in got else 'accepted'} it: "
                     f"{got.get('error', '')}; rename the case if this is QEMU's new rule")
        with open(os.path.join(out, name + ".cmd"), "w") as f:
            f.write(cmd + "\n")
        with open(os.path.join(out, name + ".json"), "w") as f:
            if "error" in got:
                f.write(json.dumps(got) + "\n")
            else:
                f.write(json.dumps(got, indent=1) + "\n")
        print(f"record-spmem-fixtures: {name}: {got.get('error', 'started')}", file=sys.stderr)
    if all(os.path.isfile(os.path.join(guest, f)) for f in ("vmlinuz", "initrd.gz")):
        for name, file, firmware in BOOTED:
            with open(os.path.join(out, file), "w", newline="") as f:
                f.write(boot(name + "-" + firmware, CASES[name].split(), firmware, tmp))
    else:
        print(f"record-spmem-fixtures: no guest in {guest}: NAME.guest.txt left as they are", file=sys.stderr)
EOF
