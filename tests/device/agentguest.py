# SPDX-License-Identifier: LGPL-2.1-or-later
"""Booting the agent test guest (scripts/build-agent-guest.sh) on QEMU
11.1.3's sp-mem and asking its qemu-guest-agent what the guest made of its
HBM (docs/guest-view.md).  Waits are on events (the console's "spmguest:"
line, QMP's VSERPORT_CHANGE, the agent's answers) with deadlines, never
sleeps."""
import base64
import json
import os
import re
import select
import shlex
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
BUILD = os.environ.get("SPM_BUILD_ROOT", "")
VIRT_SPM = os.path.join(BUILD, "cli", "virt-spm")
AGENT_PORT = "org.qemu.guest_agent.0"
# A TCG boot under OVMF takes 15-30 s on the shared 2-core machine.
BOOT_TIMEOUT = 240
CMDLINE = "console=ttyS0 quiet panic=-1"


def skip(why):
    print("1..0 # SKIP " + why)
    sys.exit(SKIP)


class Stack:
    """What the test runs on: the sid root's QEMU and OVMF, the agent guest."""

    def __init__(self):
        root = os.environ.get("SPM_SID_ROOT")
        if not root:
            skip("SPM_SID_ROOT is not set (scripts/setup-sid-root.sh makes the root)")
        self.qemu = os.path.join(root, "bin", "qemu-system-x86_64-sid")
        self.ovmf = os.path.join(root, "usr", "share", "ovmf", "OVMF.fd")
        if not os.access(self.qemu, os.X_OK) or not os.path.isfile(self.ovmf):
            skip("no QEMU 11.1 and OVMF in the sid root %s (scripts/setup-sid-root.sh)" % root)
        guest = os.environ.get("SPM_AGENT_GUEST_DIR")
        if not guest:
            skip("SPM_AGENT_GUEST_DIR is not set (scripts/build-agent-guest.sh makes the guest)")
        self.kernel = os.path.join(guest, "vmlinuz")
        self.initrd = os.path.join(guest, "initrd.gz")
        if not os.path.isfile(self.kernel) or not os.path.isfile(self.initrd):
            skip("no agent guest in %s (scripts/build-agent-guest.sh makes it)" % guest)


def plan_domain(xml_path):
    """virt-spm's plan (JSON) and its QEMU arguments for the domain XML."""
    p = subprocess.run([VIRT_SPM, "-q", "plan", "--json", xml_path], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    plan = json.loads(p.stdout)
    p = subprocess.run([VIRT_SPM, "-q", "argv", xml_path], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return plan, shlex.split(p.stdout)


class Json:
    """One JSON-per-line peer on a unix socket, read with deadlines."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""

    def send(self, obj, prefix=b""):
        self.sock.sendall(prefix + json.dumps(obj).encode() + b"\n")

    def read_raw(self, deadline):
        """Bytes as they come, or None at the deadline."""
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self.sock], [], [], left)[0]:
            return None
        data = self.sock.recv(65536)
        assert data, "the peer closed the socket"
        return data

    def read(self, deadline):
        """The next JSON object, or None at the deadline."""
        while b"\n" not in self.buf:
            data = self.read_raw(deadline)
            if data is None:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        line = line.strip(b"\xff \r")
        return json.loads(line) if line else self.read(deadline)

    def close(self):
        self.sock.close()


class Agent(Json):
    """qemu-guest-agent on the host end of its virtio port."""

    def sync(self, timeout):
        """guest-sync-delimited: True once the agent answers, False at the deadline.
        The 0xff byte makes the agent drop any half-read request first."""
        deadline = time.monotonic() + timeout
        token = int(time.monotonic() * 1000) & 0x7fffffff
        self.send({"execute": "guest-sync-delimited", "arguments": {"id": token}}, prefix=b"\xff")
        # the answer starts with 0xff; drop everything before it
        while b"\xff" not in self.buf:
            data = self.read_raw(deadline)
            if data is None:
                return False
            self.buf += data
        self.buf = self.buf[self.buf.index(b"\xff") + 1:]
        while True:
            r = self.read(deadline)
            if r is None:
                return False
            if r.get("return") == token:
                return True

    def call(self, command, timeout=30, **arguments):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.send(msg)
        r = self.read(time.monotonic() + timeout)
        assert r is not None, "the agent did not answer %s within %d s" % (command, timeout)
        assert "return" in r, "%s: %s" % (command, r)
        return r["return"]

    def read_file(self, path, limit=1 << 20):
        """A guest file through guest-file-open/read (no exec), at most @limit bytes."""
        h = self.call("guest-file-open", path=path, mode="r")
        data = b""
        try:
            while len(data) < limit:
                r = self.call("guest-file-read", handle=h, count=65536)
                data += base64.b64decode(r["buf-b64"])
                if r["eof"] or not r["count"]:
                    break
        finally:
            self.call("guest-file-close", handle=h)
        return data.decode()


class Qmp(Json):
    def __init__(self, path):
        super().__init__(path)
        self.events = []
        greeting = self.read(time.monotonic() + 30)
        assert greeting and "QMP" in greeting, greeting
        self.command("qmp_capabilities")

    def command(self, name, timeout=30):
        self.send({"execute": name})
        deadline = time.monotonic() + timeout
        while True:
            r = self.read(deadline)
            assert r is not None, "QMP: no answer to " + name
            if "event" in r:
                self.events.append(r)
            else:
                return r

    def pump(self, timeout=0.0):
        """Take the events QEMU sent (waiting up to @timeout for the first)."""
        r = self.read(time.monotonic() + timeout)
        while r is not None:
            if "event" in r:
                self.events.append(r)
            r = self.read(time.monotonic())

    def saw_port_open(self, port_id):
        return any(e["event"] == "VSERPORT_CHANGE" and e["data"]["id"] == port_id and e["data"]["open"]
                   for e in self.events)


class Guest:
    """One booted test guest: QEMU with the plan's arguments, the agent's port."""

    def __init__(self, stack, name, plan_args, seabios=False, cmdline="", ram_mib=256):
        self.name = name
        self.work = tempfile.mkdtemp(prefix="spm-agent-%s-" % name)
        self.console = os.path.join(self.work, "console")
        self.qmp_path = os.path.join(self.work, "qmp.sock")
        self.agent_path = os.path.join(self.work, "agent.sock")
        argv = [stack.qemu, "-machine", "q35", "-accel", "tcg", "-smp", "1",
                "-m", "%dM,slots=1,maxmem=1G" % ram_mib,
                "-object", "memory-backend-ram,id=ram0,size=%dM" % ram_mib,
                "-numa", "node,nodeid=0,memdev=ram0"] + plan_args
        if not seabios:
            argv += ["-bios", stack.ovmf]
        argv += ["-kernel", stack.kernel, "-initrd", stack.initrd,
                 "-append", " ".join([CMDLINE, cmdline]).strip(),
                 "-display", "none", "-nodefaults", "-no-reboot",
                 "-serial", "file:" + self.console,
                 "-qmp", "unix:%s,server=on,wait=on" % self.qmp_path,
                 "-device", "virtio-serial-pci,id=vser0",
                 "-chardev", "socket,id=qga0,path=%s,server=on,wait=off" % self.agent_path,
                 "-device", "virtserialport,id=agent0,chardev=qga0,name=" + AGENT_PORT]
        self.t0 = time.monotonic()
        # -qmp wait=on: QEMU waits for the test before it runs the guest,
        # so no VSERPORT_CHANGE can be missed
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.qmp_path):
            assert self.proc.poll() is None, "QEMU exited: %s" % self.proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no QMP socket"
            select.select([], [], [], 0.05)
        self.qmp = Qmp(self.qmp_path)
        self.agent = None
        self.boot_s = None

    def wait_ready(self, timeout=BOOT_TIMEOUT):
        """The init's "spmguest: ready|failed" line (the guest is done setting up)."""
        deadline = time.monotonic() + timeout
        while True:
            text = open(self.console, errors="replace").read() if os.path.exists(self.console) else ""
            m = re.search(r"spmguest: (ready .*|failed: .*)", text)
            if m:
                assert m.group(1).startswith("ready"), "%s: %s" % (self.name, m.group(0))
                self.boot_s = time.monotonic() - self.t0
                return
            assert self.proc.poll() is None, "%s: QEMU exited: %s" % (self.name, text[-500:])
            assert time.monotonic() < deadline, "%s: no spmguest line in %d s: %s" % (
                self.name, timeout, text[-500:])
            # the guest's console is a file: poll it, waiting on QMP meanwhile
            self.qmp.pump(0.2)

    def connect_agent(self, timeout=60):
        """The agent, once the guest opened its port (QMP VSERPORT_CHANGE) and it answers."""
        deadline = time.monotonic() + timeout
        while not self.qmp.saw_port_open("agent0"):
            assert time.monotonic() < deadline, "%s: the guest never opened %s" % (self.name, AGENT_PORT)
            self.qmp.pump(deadline - time.monotonic())
        self.agent = Agent(self.agent_path)
        assert self.agent.sync(deadline - time.monotonic()), "%s: the agent does not answer" % self.name
        return self.agent

    def close(self):
        if self.agent:
            self.agent.close()
        if self.proc.poll() is None:
            try:
                self.qmp.command("quit", timeout=10)
            except (AssertionError, OSError):
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.qmp.close()
        subprocess.run(["rm", "-rf", self.work])


# ---- what the guest made of its HBM ---------------------------------------

def parse_iomem(text):
    """/proc/iomem as (depth, start, end, name), in order; strict: a line
    that is not "START-END : NAME" fails the test."""
    out = []
    for line in text.splitlines():
        m = re.fullmatch(r"( *)([0-9a-f]+)-([0-9a-f]+) : (.+)", line)
        assert m, "not an /proc/iomem line: %r" % line
        out.append((len(m.group(1)) // 2, int(m.group(2), 16), int(m.group(3), 16), m.group(4)))
    return out


def iomem_chain(entries, addr, end):
    """The names of the nested entries that cover [addr, end], outermost first."""
    return [name for _, s, e, name in entries if s <= addr and end <= e]


def iomem_at(entries, addr, end):
    """The names of every entry overlapping [addr, end], once each (to tell
    'nothing there' from a partial cover, and to see the kernel land there)."""
    names = []
    for _, s, e, name in entries:
        if s <= end and addr <= e and name not in names:
            names.append(name)
    return names


def observe(agent, dev):
    """The facts of one planned SPM device in the guest, through the agent."""
    addr, size = dev["addr"], dev["size"]
    end = addr + size - 1
    facts = {}
    block = agent.call("guest-get-memory-block-info")["size"]
    blocks = agent.call("guest-get-memory-blocks")
    inside = [b for b in blocks if addr <= b["phys-index"] * block <= end]
    facts["block_size"] = block
    facts["blocks"] = len(inside)
    facts["blocks_online"] = sum(1 for b in inside if b["online"])
    iomem = parse_iomem(agent.read_file("/proc/iomem"))
    facts["iomem_chain"] = iomem_chain(iomem, addr, end)
    facts["iomem_at"] = iomem_at(iomem, addr, end)
    dax = sorted({n for n in facts["iomem_chain"] if re.fullmatch(r"dax\d+\.\d+", n)})
    facts["dax"] = {d: int(agent.read_file("/sys/bus/dax/devices/%s/target_node" % d).strip())
                    for d in dax}
    try:
        meminfo = agent.read_file("/sys/devices/system/node/node%d/meminfo" % dev["node"])
    except AssertionError:      # no such node in the guest
        meminfo = ""
    m = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
    facts["node_memtotal_kib"] = int(m.group(1)) if m else None
    return facts


# ---- the product's verdict ------------------------------------------------

def product_guest_audit():
    """Why virt-spm cannot audit a guest's agent directly, or None: the
    form is `virt-spm audit --guest --agent PATH --plan FILE --json`."""
    p = subprocess.run([VIRT_SPM, "audit", "--guest", "--help"], capture_output=True, text=True)
    if "--agent" not in p.stdout:
        return "virt-spm audit has no --guest --agent"
    return None


def product_verdict(agent_path, plan_path):
    """The state virt-spm gives the first device, and its whole answer.
    File reads allowed ([guest-audit] file_reads): only /proc/iomem tells
    devdax, leaked and missing apart."""
    conf = agent_path + ".conf"
    with open(conf, "w") as f:
        f.write("[guest-audit]\nfile_reads = true\ntimeout_ms = 10000\n")
    env = dict(os.environ, VIRT_SPM_CONTROL_SOCKET=conf + ".none.sock")
    p = subprocess.run([VIRT_SPM, "--config", conf, "audit", "--guest", "--agent", agent_path,
                        "--plan", plan_path, "--json"], capture_output=True, text=True, timeout=120,
                       env=env)
    os.unlink(conf)
    try:
        v = json.loads(p.stdout)
        return v["devices"][0]["state"], v
    except (ValueError, KeyError, IndexError, TypeError):
        return None, "exit %d: %s%s" % (p.returncode, p.stdout, p.stderr)
