#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spm audit --guest --agent PATH --plan FILE against a fake
qemu-guest-agent on a UNIX socket (no QEMU): the verdicts of a healthy
agent with and without [guest-audit] file_reads, and `unknown` with a
reason, within the configured timeout, for no agent, a silent agent, a
10 MiB answer and malformed JSON."""
import base64
import json
import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spmtest as t  # noqa: E402

GiB = 1 << 30
BLOCK = 128 << 20
# the device: 1 GiB at 4 GiB on node 1, memory blocks 32..39
PLAN = {"machine": "q35", "device_memory": {"base": 4 * GiB, "size": 19 * GiB},
        "devices": [{"id": "ua-hbm0", "model": "spm", "addr": 4 * GiB, "size": GiB, "node": 1,
                     "align": 2097152}],
        "numa_nodes": [{"id": 0, "kind": "cell"}, {"id": 1, "kind": "spm"}], "warnings": []}
IOMEM = {
    "reserved": "00000000-3fffffff : System RAM\n100000000-13fffffff : hmem.0\n"
                "  100000000-13fffffff : Soft Reserved\n",
    "leaked": "00000000-3fffffff : System RAM\n100000000-13fffffff : System RAM\n",
}


class FakeAgent(threading.Thread):
    """One client at a time, as a virtio port; answers by @mode."""

    def __init__(self, path, mode):
        super().__init__(daemon=True)
        self.mode = mode
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(1)
        self.commands = []
        self.start()

    def reply(self, conn, obj):
        conn.sendall(json.dumps(obj).encode() + b"\n")

    def answer(self, conn, msg):
        ex = msg["execute"]
        self.commands.append(ex)
        if ex == "guest-sync-delimited":
            conn.sendall(b"\xff")
            return self.reply(conn, {"return": msg["arguments"]["id"]})
        if self.mode == "silent":
            return
        if self.mode == "huge":
            conn.sendall(b"{\"return\":[" + b" " * (10 << 20))
            return
        if self.mode == "malformed":
            conn.sendall(b"{\"return\": {\"size\": 1\n")
            return
        leaked = self.mode == "leaked"
        if ex == "guest-get-memory-block-info":
            return self.reply(conn, {"return": {"size": BLOCK}})
        if ex == "guest-get-memory-blocks":
            blocks = [{"phys-index": i, "online": True} for i in range(8)]
            blocks += [{"phys-index": 32 + i, "online": leaked} for i in range(8 if leaked else 0)]
            return self.reply(conn, {"return": blocks})
        if ex == "guest-file-open":
            assert msg["arguments"]["path"] == "/proc/iomem", msg
            return self.reply(conn, {"return": 1000})
        if ex == "guest-file-read":
            data = IOMEM[self.mode].encode()
            return self.reply(conn, {"return": {"count": len(data), "eof": True,
                                                "buf-b64": base64.b64encode(data).decode()}})
        if ex == "guest-file-close":
            return self.reply(conn, {"return": {}})
        self.reply(conn, {"error": {"class": "CommandNotFound", "desc": ex}})

    def run(self):
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            buf = b""
            try:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    buf += data
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        line = line.strip(b"\xff \r")
                        if line:
                            self.answer(conn, json.loads(line))
            except (BrokenPipeError, ConnectionResetError):
                pass
            conn.close()

    def stop(self):
        self.srv.close()


def main():
    work, _ = t.workspace("spm-audit-guest-")
    plan_path = os.path.join(work, "plan.json")
    with open(plan_path, "w") as f:
        json.dump(PLAN, f)
    reads_conf = os.path.join(work, "reads.conf")
    with open(reads_conf, "w") as f:
        f.write("[guest-audit]\nfile_reads = true\ntimeout_ms = 500\n")
    plain_conf = os.path.join(work, "plain.conf")
    with open(plain_conf, "w") as f:
        f.write("[guest-audit]\ntimeout_ms = 500\n")
    env = dict(os.environ, VIRT_SPM_CONTROL_SOCKET=os.path.join(work, "none.sock"))
    n = 0

    def audit(mode, conf, state, status, reason="", within=5.0):
        nonlocal n
        n += 1
        path = os.path.join(work, "agent-%d.sock" % n)
        agent = FakeAgent(path, mode) if mode != "absent" else None
        t0 = time.monotonic()
        r = t.run(t.VIRT_SPM, "--config", conf, "audit", "--guest", "--agent", path, "--plan", plan_path,
                  "--json", check=False, env=env)
        took = time.monotonic() - t0
        if agent:
            agent.stop()
        v = json.loads(r.stdout) if r.stdout.startswith("{") else None
        got = v["devices"][0] if v else None
        ok = (r.returncode == status and got is not None and got["state"] == state
              and reason in got["reason"] and took < within)
        print("%s %d - %s: %s, exit %d, in %.1f s%s" % (
            "ok" if ok else "not ok", n, mode, got and got["state"], r.returncode, took,
            " (%s)" % got["reason"] if got else ""))
        if not got:
            # TAP: what the program printed, as diagnostics
            for line in (r.stdout + r.stderr).splitlines():
                print("# " + line)
        if agent and mode != "absent":
            assert "guest-exec" not in agent.commands, agent.commands
        return ok, v, agent

    results = [
        audit("reserved", reads_conf, "reserved", 0, "'hmem.0' over the device"),
        audit("reserved", plain_conf, "reserved", 0, "no online memory block"),
        audit("leaked", reads_conf, "leaked", 1, "'System RAM' at 0x100000000"),
        # blocks alone: RAM, and RAM is not what reserved asks for
        audit("leaked", plain_conf, "system-ram", 1, "8 of 8 memory blocks"),
        audit("absent", reads_conf, "unknown", 3, "cannot connect"),
        # 500 ms per command; the audit gives up at the first silence
        audit("silent", reads_conf, "unknown", 3, "no answer in time", within=3.0),
        audit("huge", reads_conf, "unknown", 3, "longer than 1048576 bytes"),
        audit("malformed", reads_conf, "unknown", 3, "guest-get-memory-block-info"),
    ]
    failed = sum(1 for ok, _, _ in results if not ok)

    def check(ok, what):
        nonlocal n, failed
        n += 1
        failed += not ok
        print("%s %d - %s" % ("ok" if ok else "not ok", n, what))

    plain_agent, reads_agent = results[1][2], results[0][2]
    check(not any(c.startswith("guest-file-") for c in plain_agent.commands),
          "without file_reads no guest file is opened: %s" % plain_agent.commands)
    check("guest-file-close" in reads_agent.commands, "the /proc/iomem handle is closed")
    # the text form: the judgement and one line per device
    agent = FakeAgent(os.path.join(work, "text.sock"), "leaked")
    r = t.run(t.VIRT_SPM, "--config", reads_conf, "audit", "--guest", "--agent", os.path.join(work, "text.sock"),
              "--plan", plan_path, check=False, env=env)
    agent.stop()
    check(r.returncode == 1 and "guest mismatch (1 devices)" in r.stdout
          and "device 'ua-hbm0': leaked (expected reserved, mismatch)" in r.stdout, "text form: %r" % r.stdout)
    # the plan's "guest" (plan --json writes <guest mode>) is what is expected
    mode_plan = os.path.join(work, "plan-system-ram.json")
    with open(mode_plan, "w") as f:
        json.dump(dict(PLAN, devices=[dict(PLAN["devices"][0], guest="system-ram")]), f)
    agent = FakeAgent(os.path.join(work, "mode.sock"), "leaked")
    r = t.run(t.VIRT_SPM, "--config", reads_conf, "audit", "--guest", "--agent", os.path.join(work, "mode.sock"),
              "--plan", mode_plan, "--json", check=False, env=env)
    agent.stop()
    dev = json.loads(r.stdout)["devices"][0] if r.stdout.startswith("{") else {}
    check(dev.get("expected") == "system-ram", "the plan's guest mode is the expectation: %s" % dev)
    r = t.run(t.VIRT_SPM, "audit", "--guest", "--agent", "x", check=False, env=env)
    check(r.returncode == 2, "--agent without --plan is a usage error")
    print("1..%d" % n)
    for f in os.listdir(work):
        os.unlink(os.path.join(work, f))
    os.rmdir(work)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
