#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spm audit --qmp PATH --plan FILE against a real QEMU 7.2 (no libvirt)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spmtest as t  # noqa: E402


def plan(addr, node=1, backend=None):
    dev = {"id": "dimm1", "model": "spm", "addr": addr, "size": 1 << 30, "node": node, "align": 2097152}
    if backend:
        dev["backend"] = backend
    return {"machine": "q35", "device_memory": {"base": 1 << 32, "size": 19 << 30},
            "devices": [dev], "numa_nodes": [{"id": 0, "kind": "cell"}, {"id": 1, "kind": "spm"}],
            "warnings": []}


def main():
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        t.skip("qemu-system-x86_64 not installed")
    work = tempfile.mkdtemp(prefix="spm-audit-qmp-")
    sock = os.path.join(work, "qmp.sock")
    q = subprocess.Popen([qemu, "-machine", "q35", "-accel", "tcg", "-m", "1G,slots=4,maxmem=16G",
                          "-object", "memory-backend-ram,id=ram0,size=1G",
                          "-numa", "node,nodeid=0,memdev=ram0", "-numa", "node,nodeid=1",
                          "-object", "memory-backend-ram,id=mem1,size=1G",
                          "-device", "pc-dimm,id=dimm1,memdev=mem1,node=1,addr=0x100000000",
                          "-display", "none", "-nodefaults", "-S",
                          "-qmp", "unix:%s,server=on,wait=off" % sock],
                         stdout=subprocess.DEVNULL)
    env = dict(os.environ, VIRT_SPM_CONTROL_SOCKET=os.path.join(work, "none.sock"))
    try:
        t.wait_for("QMP socket", lambda: os.path.exists(sock), 20)

        def audit(p, *extra):
            path = os.path.join(work, "plan.json")
            json.dump(p, open(path, "w"))
            return t.run(t.VIRT_SPM, "audit", "--qmp", sock, "--plan", path, *extra, check=False, env=env)

        r = audit(plan(0x100000000, backend="mem1"), "--stand-in", "pc-dimm")
        assert r.returncode == 0 and ": match (1 devices checked)" in r.stdout, (r.returncode, r.stdout, r.stderr)
        r = audit(plan(0x140000000), "--stand-in", "pc-dimm")
        assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
        assert "device 'dimm1': addr expected 0x140000000, actual 0x100000000" in r.stdout, r.stdout
        r = audit(plan(0x100000000, node=2), "--stand-in", "pc-dimm", "--json")
        assert r.returncode == 1, r
        v = json.loads(r.stdout)
        assert v["verdict"] == "mismatch" and v["findings"][0]["field"] == "node", v
        # without the stand-in, a dimm is not an SPM device (of either revision:
        # this plan does not say which one it was made for)
        r = audit(plan(0x100000000))
        assert r.returncode == 1 and "type expected sp-mem or spm-memory, actual dimm" in r.stdout, r.stdout
        # a plan without the device: unplanned
        p = plan(0x100000000)
        p["devices"] = []
        r = audit(p)
        assert r.returncode == 1 and "unplanned memory device 'dimm1'" in r.stdout, r.stdout
        # usage errors exit 2
        r = t.run(t.VIRT_SPM, "audit", "--qmp", sock, check=False, env=env)
        assert r.returncode == 2, r
        # no socket: a clean error
        r = t.run(t.VIRT_SPM, "audit", "--qmp", os.path.join(work, "nope"), "--plan",
                  os.path.join(work, "plan.json"), "--timeout", "1", check=False, env=env)
        assert r.returncode == 1 and "error:" in r.stderr, r
        print("ok - virt-spm audit --qmp")
        return 0
    finally:
        q.kill()
        q.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
