#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spm host reads ledger.json, a file: names with terminal escapes are
printed escaped, reservations that add up past 2^63 and a ledger nested a
million levels deep are refused in one line (no wrapped column, no crash)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

BUILD = os.environ.get("SPM_BUILD_ROOT", "")
VIRT_SPM = os.path.join(BUILD, "cli", "virt-spm")


sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "common"))
from fakesysfs import fake_sysfs as common_fake_sysfs  # noqa: E402


def fake_sysfs(root):
    """Node 0 with CPUs, node 1 memory-only (16 GiB)."""
    common_fake_sysfs(root, [16, 16], '0')


def holding(domain, *sizes):
    return {"uuid": "u-" + str(len(domain)), "domain": domain, "reserved_at": 1,
            "devices": [{"device": "ua-hbm%d" % i, "nodeset": "1", "bytes": b} for i, b in enumerate(sizes)]}


def main():
    work = tempfile.mkdtemp(prefix="spm-host-hostile-")
    try:
        fake_sysfs(os.path.join(work, "sys"))
        run = os.path.join(work, "run")
        os.makedirs(run)
        conf = os.path.join(work, "virt-spm.conf")
        with open(conf, "w") as f:
            f.write("[host]\nspm_nodes = 1\n")
        env = dict(os.environ, VIRT_SPM_SYSFS_ROOT=os.path.join(work, "sys"), VIRT_SPM_LEDGER_DIR=run)
        ledger = os.path.join(run, "ledger.json")
        open(os.path.join(run, "ledger.lock"), "w").close()

        def host(text):
            with open(ledger, "w") as f:
                f.write(text)
            return subprocess.run([VIRT_SPM, "--config", conf, "host"], capture_output=True, env=env)

        # terminal escapes in a domain name: OSC (retitle), CSI (C1, U+009B), BEL
        evil = "vm\x1b]0;owned\x07\u009b2J\nx"
        r = host(json.dumps({"version": 1, "holdings": [holding(evil, 1 << 30)]}))
        assert r.returncode == 0, r
        assert b"\x1b" not in r.stdout and b"\x07" not in r.stdout and b"\xc2\x9b" not in r.stdout, r.stdout
        assert b"vm\\x1b]0;owned\\x07\\u009b2J\\nx/ua-hbm0 1 GiB" in r.stdout, r.stdout
        assert len(r.stdout.decode().splitlines()) == 3, r.stdout
        print("ok 1 - names from the ledger reach the terminal escaped")

        # sums past 2^63: refused, not a wrapped column
        r = host(json.dumps({"version": 1, "holdings": [holding("a", (1 << 63) - 1), holding("bb", 1 << 30)]}))
        assert r.returncode == 1 and b"add up to more than" in r.stderr, r
        assert r.stderr.count(b"\n") == 1 and not r.stdout, r
        print("ok 2 - reservations that add up past 2^63 are refused in one line")

        # a million levels, and nesting behind '"'
        for text in ('{"version": 1, "holdings": ' + "[" * 1000000 + "]" * 1000000 + "}",
                     '{"version": 1, "holdings": [], "x": \'"\', "y": ' + "[" * 100000 + "]" * 100000
                     + ', "z": \'"\'}'):
            r = host(text)
            assert r.returncode == 1, (r.returncode, r.stderr[-300:])
            assert b"is corrupt (JSON message nested deeper than" in r.stderr, r.stderr[-300:]
            assert r.stderr.count(b"\n") == 1, r.stderr[-300:]
        print("ok 3 - a deeply nested ledger.json is refused in one line")

        # no ledger.lock: the file is still read
        os.unlink(os.path.join(run, "ledger.lock"))
        r = host(json.dumps({"version": 1, "holdings": [holding("held", 1 << 30)]}))
        assert r.returncode == 0 and b"held/ua-hbm0 1 GiB" in r.stdout, r
        print("ok 4 - without ledger.lock, ledger.json is read all the same")
        print("1..4")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
