# SPDX-License-Identifier: LGPL-2.1-or-later
"""The emulator wrapper (wrapper/virt-spm-qemu.c) against a fake QEMU.

The fake records the argv it got, byte for byte.  Probes and guests
without a plan must reach it unchanged; a guest with a stored plan gets the
plan's edits; a plan that does not fit libvirt's arguments is refused
(exit 1, one line on stderr) before any QEMU runs.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import check, finish  # noqa: E402

BUILD = os.environ["SPM_BUILD_ROOT"]
WRAPPER = os.path.join(BUILD, "wrapper", "virt-spm-qemu")
UUID = "142e7aec-cbbf-41ee-9e73-6ae195e7e78a"
MAGIC = "virt-spm-nova-plan 1"
FAKE = """#!%s
import os, sys
with open(os.environ["FAKE_QEMU_OUT"], "wb") as f:
    f.write(b"\\0".join(os.fsencode(a) for a in sys.argv))
"""



class Setup:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="spm-wrapper-")
        self.bin = os.path.join(self.dir, "bin")          # the wrapper, as the drop-in has it
        self.again = os.path.join(self.dir, "again")      # the wrapper once more: skipped
        self.qemu = os.path.join(self.dir, "qemu")        # the "real" QEMU
        self.plans = os.path.join(self.dir, "plans")
        for d in (self.bin, self.again, self.qemu, self.plans):
            os.makedirs(d)
        self.wrapper = os.path.join(self.bin, "qemu-system-x86_64")
        shutil.copy2(WRAPPER, self.wrapper)
        os.symlink(self.wrapper, os.path.join(self.again, "qemu-system-x86_64"))
        self.fake = os.path.join(self.qemu, "qemu-system-x86_64")
        with open(self.fake, "w") as f:
            f.write(FAKE % sys.executable)
        os.chmod(self.fake, 0o755)
        self.out = os.path.join(self.dir, "argv")

    def run(self, args, argv0=None, path=None):
        if os.path.exists(self.out):
            os.unlink(self.out)
        env = {"PATH": path or "%s:%s:%s:/usr/bin:/bin" % (self.bin, self.again, self.qemu),
               "FAKE_QEMU_OUT": self.out, "VIRT_SPM_NOVA_PLAN_DIR": self.plans}
        try:
            # a wrapper that runs itself, or waits on a FIFO, never ends: bounded
            p = subprocess.run([os.fsencode(a) for a in args], executable=self.wrapper, env=env,
                               capture_output=True, timeout=10)
        except subprocess.TimeoutExpired as e:
            p = subprocess.CompletedProcess(args, -1, e.stdout or b"", b"timed out after 10 s\n")
        got = None
        if os.path.exists(self.out):
            got = open(self.out, "rb").read().split(b"\0")
        return p, got

    def plan(self, text, uuid=UUID):
        path = os.path.join(self.plans, uuid + ".plan")
        if os.path.lexists(path):
            os.unlink(path)
        with open(path, "w") as f:
            f.write(text)
        return path

    def refused(self, msg, what, args=None):
        p, got = self.run([self.wrapper] + (args or LIBVIRT_ARGS))
        err = p.stderr.decode(errors="replace")
        return check(p.returncode == 1 and got is None and err.count("\n") == 1 and msg in err,
                     "refused, one line, no QEMU run: %s (%s)" % (what, err.strip()))


LIBVIRT_ARGS = ["-name", "guest=vm,,1,debug-threads=on", "-S",
                "-machine", "pc-q35-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram",
                "-accel", "tcg", "-m", "512",
                "-object", '{"qom-type":"memory-backend-ram","id":"pc.ram","size":536870912}',
                "-smp", "2,sockets=2,cores=1,threads=1", "-uuid", UUID, "-display", "none"]

PLAN = "\n".join([MAGIC, "uuid " + UUID, "name guest=vm,,1", "m 512",
                  "m-set size=524288k,slots=1,maxmem=3145728k", "numa 0",
                  "machine-drop memory-backend=pc.ram",
                  "add -numa", "add node,nodeid=0,cpus=0-1,memdev=pc.ram",
                  "add -numa", "add node,nodeid=1",
                  "add -object", "add memory-backend-ram,id=memua-spm0,size=1073741824",
                  "add -device", "add spm-memory,id=ua-spm0,memdev=memua-spm0,node=1,addr=0x100000000",
                  ""])


def plan_limits(s):
    """A plan of exactly the limit is applied, one byte more is refused;
    a FIFO in the plan's place does not hold the start."""
    limit = 256 * 1024
    # arguments of 64 KiB (the kernel takes at most 128 KiB in one), the last one fills it
    pad = ["add " + "x" * (64 * 1024) + "\n"] * 3
    rest = limit - len(PLAN) - sum(len(x) for x in pad) - len("add \n")
    exact = PLAN + "".join(pad) + "add " + "y" * rest + "\n"
    assert len(exact.encode()) == limit
    s.plan(exact)
    p, got = s.run([s.wrapper] + LIBVIRT_ARGS)
    check(p.returncode == 0 and got is not None and got[-1] == b"y" * rest,
          "a plan of exactly %d bytes is applied (%s)" % (limit, p.stderr.decode().strip()))
    s.plan(exact + "x")
    s.refused("larger than %d bytes" % limit, "a plan of %d bytes" % (limit + 1))

    path = s.plan(PLAN)
    os.unlink(path)
    os.mkfifo(path)
    s.refused("is not a regular file", "a FIFO at the plan path")
    os.unlink(path)
    os.mkdir(path)
    s.refused("is not a regular file", "a directory at the plan path")
    os.rmdir(path)
    s.plan(PLAN)


def plan_trust(s):
    """A plan is applied only when root wrote it where only root can write."""
    path = s.plan(PLAN)
    os.chmod(path, 0o666)
    s.refused("writable by root only: plan not applied", "a plan writable by others")
    os.chmod(path, 0o644)
    os.chmod(s.plans, 0o777)
    s.refused("writable by root only: plan not applied", "a plan directory writable by others")
    os.chmod(s.plans, 0o755)
    os.chmod(s.dir, 0o777)
    s.refused("levels above its plan directory", "a directory above writable by others")
    os.chmod(s.dir, 0o1777)   # sticky, as /tmp: others cannot move what is root's
    p, got = s.run([s.wrapper] + LIBVIRT_ARGS)
    check(p.returncode == 0 and got is not None, "a sticky directory above is fine (%s)" % p.stderr)
    os.chmod(s.dir, 0o755)
    if os.geteuid() != 0:
        print("ok - # SKIP plans of another user need root to write them")
        return
    import pwd
    nobody = pwd.getpwnam("nobody")
    # the attack of issue 22: nobody writes a plan into a directory it may write
    os.chown(s.plans, nobody.pw_uid, nobody.pw_gid)
    os.unlink(path)
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            with open(path, "w") as f:
                f.write(PLAN.replace("add -numa\n", "add -chardev\nadd file,id=x,path=/etc/shadow\nadd -numa\n", 1))
            os._exit(0)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    check(status == 0 and os.stat(path).st_uid == nobody.pw_uid, "nobody wrote a plan")
    s.refused("not root's", "a plan nobody wrote into a directory of nobody's")
    os.chown(s.plans, 0, 0)
    s.refused("owned by uid %d" % nobody.pw_uid, "a plan of nobody's in root's directory")
    os.unlink(path)
    s.plan(PLAN)


def wrapper_loops(s, real):
    """The wrapper never runs itself: real/NAME linked back to it, or a
    second copy of it in PATH, is refused in one line naming it."""
    link = os.path.join(real, "qemu-system-x86_64")
    os.unlink(link)
    os.symlink(s.wrapper, link)
    s.refused("'%s/../real/qemu-system-x86_64' is the virt-spm emulator wrapper" % s.bin,
              "real/NAME links back to the wrapper", ["-version"])
    os.unlink(link)
    os.rmdir(real)
    copy = os.path.join(s.dir, "copy")
    os.makedirs(copy)
    shutil.copy2(WRAPPER, os.path.join(copy, "qemu-system-x86_64"))
    p, got = s.run([s.wrapper, "-version"], path="%s:%s:%s" % (s.bin, copy, s.qemu))
    err = p.stderr.decode(errors="replace")
    check(p.returncode == 1 and got is None and err.count("\n") == 1 and
          ("'%s/qemu-system-x86_64' is the virt-spm emulator wrapper" % copy) in err,
          "a second copy of the wrapper in PATH is refused (%s)" % err.strip())


def main():
    s = Setup()
    try:
        # probes and unplanned guests: byte for byte, argv[0] included
        for args in (["-machine", "none,accel=kvm:tcg", "-qmp", "unix:/x,server=on", "-nodefaults"],
                     ["-help"], ["-version"], ["-device", "spm-memory,help"],
                     ["a\udcff", "", " two words ", "-uuid"],
                     LIBVIRT_ARGS,
                     ["-uuid", "../../../../etc/passwd", "-m", "512"],
                     ["-uuid", UUID, "-uuid", UUID]):
            p, got = s.run([s.wrapper] + args)
            want = [os.fsencode(a) for a in [s.wrapper] + args]
            # (the fake is a script: its argv[0] is its own path)
            check(p.returncode == 0 and got is not None and got[1:] == want[1:],
                  "passed through unchanged: %r" % args[:3])

        # a guest with a plan: the edits, then the real QEMU (skipping the wrapper twice in PATH)
        s.plan(PLAN)
        p, got = s.run([s.wrapper] + LIBVIRT_ARGS)
        want = [s.fake] + LIBVIRT_ARGS
        want[want.index("512")] = "size=524288k,slots=1,maxmem=3145728k"
        want[want.index("-machine") + 1] = "pc-q35-7.2,usb=off,dump-guest-core=off"
        want += ["-numa", "node,nodeid=0,cpus=0-1,memdev=pc.ram", "-numa", "node,nodeid=1",
                 "-object", "memory-backend-ram,id=memua-spm0,size=1073741824",
                 "-device", "spm-memory,id=ua-spm0,memdev=memua-spm0,node=1,addr=0x100000000"]
        check(p.returncode == 0 and got == [os.fsencode(a) for a in want],
              "planned guest: -m, -machine and the SPM arguments edited (%s)" % p.stderr)

        # libvirt 12.8 spells the same -m "size=524288k": the same edits
        p, got = s.run([s.wrapper] + [("size=524288k" if a == "512" else a) for a in LIBVIRT_ARGS])
        check(p.returncode == 0 and got == [os.fsencode(a) for a in want],
              "planned guest, libvirt 12.8's -m size=524288k: the same edits (%s)" % p.stderr)
        for m in ("size=524289k", "size=512M", "size=524288k,slots=1", "524288k"):
            s.refused("its plan is for '-m 512', libvirt wrote '-m %s'" % m, "-m " + m,
                      [(m if a == "512" else a) for a in LIBVIRT_ARGS])

        # the plan must belong to these arguments
        bad = {
            "-m": (PLAN.replace("m 512\n", "m 1024\n"), "its plan is for '-m 1024'"),
            "-name": (PLAN.replace("name guest=vm,,1\n", "name guest=vm\n"), "-name"),
            "uuid": (PLAN.replace("uuid " + UUID, "uuid 00000000-0000-0000-0000-000000000000"),
                     "its plan belongs to domain 00000000"),
            "numa": (PLAN.replace("numa 0\n", "numa 1\n"), "NUMA"),
            "machine": (PLAN.replace("machine-drop memory-backend=pc.ram", "machine-drop memory-backend=x"),
                        "drops 'memory-backend=x'"),
            "magic": (PLAN.replace(MAGIC, "virt-spm-nova-plan 9"), "does not start with"),
            "unknown": (PLAN + "colour red\n", "unknown line 'colour'"),
            "truncated": (MAGIC + "\nuuid " + UUID + "\n", "lacks one of"),
        }
        for what, (text, msg) in bad.items():
            s.plan(text)
            p, got = s.run([s.wrapper] + LIBVIRT_ARGS)
            err = p.stderr.decode()
            check(p.returncode == 1 and got is None and err.count("\n") == 1 and msg in err and
                  err.startswith("virt-spm: refusing to start domain " + UUID),
                  "refused, one line, no QEMU run: %s (%s)" % (what, err.strip()))

        plan_limits(s)
        plan_trust(s)

        # a QEMU installed beside the wrapper (DIR/../real/NAME) comes first
        os.unlink(os.path.join(s.plans, UUID + ".plan"))
        real = os.path.join(s.dir, "real")
        os.makedirs(real)
        os.symlink(s.fake, os.path.join(real, "qemu-system-x86_64"))
        p, got = s.run([s.wrapper, "-version"])
        check(p.returncode == 0 and got == [os.fsencode(s.bin + "/../real/qemu-system-x86_64"), b"-version"],
              "DIR/../real/NAME runs, probes unchanged")

        wrapper_loops(s, real)
    finally:
        shutil.rmtree(s.dir, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
