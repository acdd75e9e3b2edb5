# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers of the virt-spmd tests: deadlines instead of sleeps, libvirt setup."""
import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
BUILD = os.environ.get("SPM_BUILD_ROOT", "")
SOURCE = os.environ.get("SPM_SOURCE_ROOT", "")
# $SPM_TEST_PREFIX (e.g. /usr): test the installed programs, not the build
# tree's (debian/tests/libvirt runs the suite against the installed package).
PREFIX = os.environ.get("SPM_TEST_PREFIX", "")
VIRT_SPM = os.path.join(PREFIX, "bin", "virt-spm") if PREFIX else os.path.join(BUILD, "cli", "virt-spm")
VIRT_SPMD = os.path.join(PREFIX, "sbin", "virt-spmd") if PREFIX else os.path.join(BUILD, "daemon", "virt-spmd")
# The libvirtd of the tests (docs/testing.md): the host's unless
# $SPM_TEST_LIBVIRT_URI names another (tests/common/spm-test-libvirt.h).
URI = os.environ.get("SPM_TEST_LIBVIRT_URI") or "qemu:///system"
HOSTS_LIBVIRTD = URI == "qemu:///system"


def socket_of(uri):
    """The daemon's socket: the one a qemu+unix URI names (?socket=PATH), else the host's."""
    m = re.search(r"[?&]socket=([^&]+)", uri)
    return m.group(1) if m else "/run/libvirt/libvirt-sock"


LIBVIRT_SOCK = socket_of(URI)
# The root that libvirtd runs in ("" for the host's): the paths it writes
# (its pid files, its domains' state) are under it (daemon_path).
ROOT = ""


def daemon_path(path):
    """@path, written by the libvirtd under test, as the test sees it."""
    return ROOT + path


def use_sid_root():
    """Point the helpers at the libvirt 12.8 of the Debian sid root
    ($SPM_SID_ROOT, docs/testing.md), brought up (idempotently) by
    scripts/sid-libvirtd.sh ROOT up; skip with one line without it.  The
    harness variables are set for the programs the test runs."""
    global URI, HOSTS_LIBVIRTD, LIBVIRT_SOCK, ROOT
    if os.geteuid() != 0:
        skip("needs root (chroot, the sid root's libvirtd)")
    root = os.environ.get("SPM_SID_ROOT")
    if not root:
        skip("SPM_SID_ROOT is not set (scripts/setup-sid-root.sh makes the root)")
    root = os.path.realpath(root)
    if not os.access(os.path.join(root, "usr", "sbin", "libvirtd"), os.X_OK):
        skip("no libvirtd in the sid root %s (scripts/setup-sid-root.sh)" % root)
    script = os.path.join(SOURCE, "scripts", "sid-libvirtd.sh")
    p = run(script, root, "up", check=False)
    if p.returncode == SKIP:
        skip(p.stderr.strip())
    assert p.returncode == 0, "%s %s up: %s" % (script, root, p.stderr)
    URI = p.stdout.strip()
    HOSTS_LIBVIRTD = False
    LIBVIRT_SOCK = socket_of(URI)
    ROOT = root
    os.environ["SPM_TEST_LIBVIRT_URI"] = URI
    # the virt-spm commands the test runs without -c (audit --direct) too
    os.environ["LIBVIRT_DEFAULT_URI"] = URI
    os.environ["SPM_TEST_LIBVIRTD_PIDFILE"] = os.path.join(root, "run", "libvirtd.pid")
    os.environ["SPM_TEST_LIBVIRTD_START"] = "%s %s up" % (script, root)
    os.environ["SPM_TEST_HOOK_DIR"] = os.path.join(root, "etc", "libvirt", "hooks", "qemu.d")


def run_lock_path():
    """The lock one libvirt test run at a time holds while it restarts the
    daemon under test: the host's, or the other daemon's own
    (spm_test_libvirt_run_lock_path() in tests/common/spm-test-libvirt.c,
    whose g_str_hash of the URI this repeats), so that the root's tests and
    the host's do not hold each other up."""
    if HOSTS_LIBVIRTD:
        return "/run/lock/virt-spm-libvirt-tests.lock"
    h = 5381
    for c in URI.encode():
        h = (h * 33 + (c - 256 if c > 127 else c)) & 0xFFFFFFFF   # glib hashes signed chars
    return "/run/lock/virt-spm-libvirt-tests.%08x.lock" % h


def take_run_lock(deadline=1200):
    """One libvirt test program at a time restarts the daemon under test
    (test-libvirt-real does the same in C): take run_lock_path(), waiting
    at most @deadline seconds.  Returns the descriptor; closing it (or the
    program's exit) lets the next one go."""
    path = run_lock_path()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def taken():
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
    wait_for(path, taken, deadline, 0.1)
    return fd


def in_root(path):
    """@path, a host path under ROOT ("" for the host), as the root's
    libvirtd and the hooks it runs see it."""
    assert path.startswith(ROOT + "/") or not ROOT, "%s is not in the root %s" % (path, ROOT)
    return path[len(ROOT):]


def build_in_sid_root():
    """virt-spm built inside the root (scripts/build-in-sid-root.sh): the
    root's libvirtd runs its hooks and emulator there, with the root's
    libraries.  One build per source tree, shared with test-libvirt-real
    (spm_test_sid_hook_build() in tests/common/spm-test-sid-root.c).
    Returns the build directory as the host sees it; skips when the root
    has no build tools."""
    assert ROOT, "use_sid_root() first"
    builder = os.path.join(SOURCE, "scripts", "build-in-sid-root.sh")
    build = "/var/build/virt-spm-tests" + os.path.realpath(SOURCE)
    t0 = time.monotonic()
    p = run(builder, ROOT, SOURCE, build, check=False, timeout=1800)
    if p.returncode == SKIP:
        skip(p.stderr.strip())
    assert p.returncode == 0, "%s: %s" % (builder, p.stderr)
    print("# virt-spm built inside the root in %s (%.1f s)" % (build, time.monotonic() - t0), flush=True)
    return ROOT + build


def restart_libvirtd_killing(pids):
    """Stop libvirtd, SIGKILL the processes @pids while none runs (nobody
    runs their hooks in time), and start it again: the host's, or the
    root's (restart_other_libvirtd)."""
    if HOSTS_LIBVIRTD:
        daemons = libvirtd_pids()
    else:
        with open(os.environ["SPM_TEST_LIBVIRTD_PIDFILE"]) as f:
            daemons = [int(f.read().strip())]
    for pid in daemons:
        os.kill(pid, signal.SIGTERM)
    wait_for("libvirtd to stop", lambda: not any(alive(p) for p in daemons), 60)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    if HOSTS_LIBVIRTD:
        ensure_libvirtd()
    else:
        run(*os.environ["SPM_TEST_LIBVIRTD_START"].split())
        wait_for("libvirtd", libvirt_alive, 60, 0.1)
QEMU_CONF_LINES = ['security_driver = "none"', 'stdio_handler = "file"',
                   'cgroup_controllers = [ ]', 'user = "root"', 'group = "root"']


GUEST_XML = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "spm-guest.xml")


def workspace(prefix, extra=""):
    """A temporary directory and a virt-spm.conf in it whose daemon retries
    quickly (libvirtd is restarted by other tests): (dir, config path)."""
    work = tempfile.mkdtemp(prefix=prefix)
    config = os.path.join(work, "virt-spm.conf")
    with open(config, "w") as f:
        f.write("[daemon]\nreconnect_min_ms = 100\nreconnect_max_ms = 1000\n"
                "audit_retry_ms = 300\naudit_attempts = 20\n" + extra)
    return work, config


def skip(why):
    # a TAP plan of no test too, so that meson's tap protocol reports the skip
    print("1..0 # SKIP " + why)
    sys.exit(SKIP)


def tap_main(main):
    """Run the main() of a test of meson's tap protocol, which counts any
    non-zero exit as an error and reads a skip from the plan of no test:
    a skip() (its plan printed, exit 77) exits 0 there."""
    try:
        return main()
    except SystemExit as e:
        if e.code == SKIP:
            return 0
        raise


def wait_for(what, cond, timeout=30.0, step=0.02):
    """Poll cond() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(step)


def run(*args, check=True, env=None, timeout=120):
    p = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


TRANSIENT = ("failed to connect to the hypervisor", "Failed to connect socket", "Cannot recv data", "no valid connection",
             "End of file while reading data", "Unable to register disconnect callback")


def virsh(*args, check=True, timeout=90, done_if=()):
    """virsh, riding out libvirtd restarts (other project tests restart it too).
    @done_if: errors that mean a retry found the work done (the restart lost
    the reply to the first try), e.g. "domain is not running" for destroy."""
    deadline = time.monotonic() + timeout
    retried = False
    while True:
        p = run("virsh", "-q", "-c", URI, *args, check=False)
        if retried and p.returncode != 0 and any(x in p.stderr for x in done_if):
            p = subprocess.CompletedProcess(p.args, 0, p.stdout, "")
        if p.returncode == 0 or not any(x in p.stderr for x in TRANSIENT) or time.monotonic() >= deadline:
            break
        retried = True
        wait_for("libvirtd", libvirt_alive_quiet, max(deadline - time.monotonic(), 1))
    if check and p.returncode != 0:
        raise AssertionError("virsh %s failed (%d): %s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def libvirt_alive_quiet():
    return os.path.exists(LIBVIRT_SOCK) and run("virsh", "-q", "-c", URI, "version", check=False).returncode == 0


def start_domain(name, timeout=180):
    """virsh start; another project test may have its own hook installed in
    /etc/libvirt/hooks/qemu.d for a while (it refuses domains it did not
    make): wait for it to go away, then skip rather than fail."""
    deadline = time.monotonic() + timeout
    while True:
        r = virsh("start", name, check=False)
        # "already active": virsh() asked again after a libvirtd restarted by
        # another test lost the reply to a start that had happened
        if r.returncode == 0 or "Domain is already active" in r.stderr:
            return
        foreign = "Hook script execution failed" in r.stderr and "/hooks/qemu.d/virt-spm-test-" in r.stderr
        if not foreign:
            raise AssertionError("virsh start %s: %s" % (name, r.stderr))
        if time.monotonic() >= deadline:
            skip("another test's libvirt hook refuses our domains: " + r.stderr.strip()[-300:])
        time.sleep(1.0)


def host_root(pid):
    try:
        return os.readlink("/proc/%d/root" % pid) == "/"
    except OSError:
        return False


def libvirtd_pids():
    """The host's libvirtd, not one chrooted elsewhere (the sid root's of
    scripts/sid-libvirtd.sh, which other tests use at the same time)."""
    p = run("pgrep", "-x", "libvirtd", check=False)
    return [pid for pid in (int(x) for x in p.stdout.split()) if host_root(pid)]


def libvirt_alive():
    return libvirt_alive_quiet()


# libvirtd's PATH in every harness (SPM_TEST_LIBVIRTD_PATH in
# tests/common/spm-test-libvirt.h): the Nova test's emulator directory first.
LIBVIRTD_PATH = "/run/virt-spm-test/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def start_libvirtd():
    run("libvirtd", "-d", check=False, env=dict(os.environ, PATH=LIBVIRTD_PATH))


def ensure_libvirtd():
    """docs/libvirt.md: configure qemu.conf once, start libvirtd if it is not running."""
    if os.geteuid() != 0:
        skip("needs root (libvirtd, qemu:///system)")
    for tool in ("virsh", "libvirtd", "qemu-system-x86_64"):
        if not shutil.which(tool):
            skip(tool + " is not installed")
    if not HOSTS_LIBVIRTD:
        # another daemon is its owner's to configure and start: wait for it
        wait_for("libvirtd on " + URI, libvirt_alive, 30)
        return
    conf = "/etc/libvirt/qemu.conf"
    text = open(conf).read()
    missing = [l for l in QEMU_CONF_LINES if not re.search("^" + re.escape(l.split(" =")[0]) + r"\s*=", text, re.M)]
    if missing:
        with open(conf, "a") as f:
            f.write("\n" + "\n".join(missing) + "\n")
    if not any(alive(p) for p in libvirtd_pids()):
        start_libvirtd()
    wait_for("libvirtd", libvirt_alive, 30)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def restart_other_libvirtd():
    """restart_libvirtd() for a libvirtd that is not the host's: the one of
    $SPM_TEST_LIBVIRTD_PIDFILE, started again by $SPM_TEST_LIBVIRTD_START
    (never the host's, which pgrep would find)."""
    pidfile = os.environ.get("SPM_TEST_LIBVIRTD_PIDFILE", "")
    start = os.environ.get("SPM_TEST_LIBVIRTD_START", "").split()
    assert pidfile and start, ("restarting the libvirtd of %s needs SPM_TEST_LIBVIRTD_PIDFILE "
                               "and SPM_TEST_LIBVIRTD_START" % URI)
    with open(pidfile) as f:
        pid = int(f.read().strip())
    if alive(pid):
        os.kill(pid, signal.SIGTERM)
    wait_for("libvirtd (%d) to stop" % pid, lambda: not alive(pid), 60)
    run(*start)
    wait_for("libvirtd", libvirt_alive, 60, 0.1)


def restart_libvirtd():
    """Stop the running libvirtd and start a new one; running guests survive.
    Another test may restart it at the same time: wait for the processes we
    stopped, start one only if none runs, then wait until it answers."""
    if not HOSTS_LIBVIRTD:
        restart_other_libvirtd()
        return
    pids = [p for p in libvirtd_pids() if alive(p)]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    wait_for("libvirtd to stop", lambda: not any(alive(p) for p in pids), 60)
    if not any(alive(p) for p in libvirtd_pids()):
        start_libvirtd()
    wait_for("libvirtd", libvirt_alive, 60, 0.1)


def convert(xml_path, name, config, stand_in="pc-dimm"):
    """The libvirt-ready XML of a test domain, renamed; skips when convert
    is not there yet.  @stand_in: the device standing in for the SPM
    device (QEMU 7.2 has none), or None for the device the QEMU has."""
    stand = ["--stand-in", stand_in] if stand_in else []
    p = run(VIRT_SPM, "--config", config, "convert", *stand, xml_path, check=False)
    if p.returncode != 0:
        if "not implemented" in p.stderr:
            skip("virt-spm convert is not implemented in this tree yet: " + p.stderr.strip())
        raise AssertionError("convert failed: " + p.stderr)
    xml = re.sub(r"<name>[^<]*</name>", "<name>%s</name>" % name, p.stdout, count=1)
    return re.sub(r"\s*<uuid>[^<]*</uuid>", "", xml, count=1)


def move_stand_in(xml, device_id, delta):
    """Put the stand-in @device_id at its planned addr + @delta: append
    "-set device.ID.addr=NEW" to qemu:commandline, leaving the generated
    arguments as they are (so the hook's staleness check still passes), as
    an administrator's stray edit would."""
    pat = re.compile(r"pc-dimm,[^'\"]*id=%s[^'\"]*addr=(0x[0-9a-fA-F]+|\d+)" % re.escape(device_id))
    m = pat.search(xml)
    assert m, "no stand-in device %s with addr= in the converted XML" % device_id
    old = int(m.group(1), 0)
    extra = ('<qemu:arg value="-set"/><qemu:arg value="device.%s.addr=%s"/>\n  </qemu:commandline>'
             % (device_id, hex(old + delta)))
    return xml.replace("</qemu:commandline>", extra, 1), old


def smaps_rollup(pid):
    """/proc/PID/smaps_rollup as {field: KiB}: Rss, Pss, Anonymous, ..."""
    f = {}
    for line in open("/proc/%d/smaps_rollup" % pid):
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            f[parts[0].rstrip(":")] = int(parts[1])
    return f


def control_line(sock_path, line, timeout=30):
    """One request line on virt-spmd's control socket, on its own
    connection, as virt-spm does; the reply line (bytes).  A full listen
    backlog (EAGAIN at once on a UNIX socket) is retried until the timeout,
    as spm_control_request does."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                s.connect(sock_path)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.002)
        s.sendall(line)
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf
    finally:
        s.close()


def sanitizer_report(text):
    """A report of ASan, LeakSanitizer or UBSan in a log, or None."""
    m = re.search(r"^.*(Sanitizer|runtime error:).*$", text, re.M)
    return text[m.start():m.start() + 3000] if m else None


def daemon_env(sock):
    """virt-spmd's environment: GLib's slice allocator off, so that LeakSanitizer
    (or valgrind) sees every block (tests/meson.build sets it for all tests),
    and, in a sanitizer build, no quarantine of freed blocks: ASan holds up to
    256 MiB of them by default, which would hide any growth of our own."""
    env = dict(os.environ, VIRT_SPM_CONTROL_SOCKET=sock, G_SLICE="always-malloc")
    asan = [o for o in env.get("ASAN_OPTIONS", "").split(":") if o]
    # and free pages go back to the system, as glibc's free() does
    env["ASAN_OPTIONS"] = ":".join(asan + ["quarantine_size_mb=0", "thread_local_quarantine_size_kb=0",
                                           "allocator_release_to_os_interval_ms=500"])
    return env


class Daemon:
    """virt-spmd in WORKDIR.  state_dir=None: the built-in default (the
    layout a packaged daemon uses; take default_layout_lock() first)."""

    def __init__(self, workdir, config, extra=(), state_dir="", sock=None):
        self.workdir = workdir
        self.state = os.path.join(workdir, "state") if state_dir == "" else state_dir
        self.sock = sock or os.path.join(workdir, "control.sock")
        self.log = os.path.join(workdir, "daemon.log")
        self.config = config
        self.extra = list(extra)
        self.proc = None
        self.env = daemon_env(self.sock)

    def start(self):
        logf = open(self.log, "a")
        state = ["--state-dir", self.state] if self.state else []
        self.proc = subprocess.Popen([VIRT_SPMD, "--config", self.config, "--connect", URI,
                                      "--socket", self.sock] + state + self.extra,
                                     stdout=logf, stderr=logf, env=self.env)
        wait_for("control socket", lambda: self.status(check=False) is not None, 15)

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)
        return self.proc.returncode if self.proc else None

    def stop(self):
        """SIGTERM: the daemon must leave through main's clean-up with status 0,
        and a sanitizer build must have nothing to report (leaks included)."""
        rc = self.kill(signal.SIGTERM)
        report = sanitizer_report(self.log_text())
        assert rc == 0 and report is None, "virt-spmd exit %s: %s" % (rc, report or self.log_text()[-3000:])

    def anonymous_kib(self):
        """The daemon's own memory (heap, stacks): smaps_rollup's Anonymous,
        not RSS, which counts every page of the shared libraries."""
        kib = smaps_rollup(self.proc.pid).get("Anonymous")
        assert kib is not None, "no Anonymous line in smaps_rollup"
        return kib

    def status(self, check=True):
        p = run(VIRT_SPM, "status", "--json", env=self.env, check=check)
        if p.returncode != 0:
            return None
        return json.loads(p.stdout)

    def domain(self, name):
        st = self.status()
        for d in st["domains"]:
            if d["domain"] == name:
                return d
        return None

    def wait_verdict(self, name, count=1, timeout=60):
        def ok():
            d = self.domain(name)
            return d if d and d.get("audit_count", 0) >= count and d["verdict"] != "error" else None
        return wait_for("verdict #%d of %s" % (count, name), ok, timeout, 0.05)

    def audit(self, name, *extra, timeout=60):
        """virt-spm audit, riding out a libvirtd restarted by someone else."""
        deadline = time.monotonic() + timeout
        while True:
            p = run(VIRT_SPM, "audit", name, *extra, env=self.env, check=False)
            transient = p.returncode != 0 and "error:" in p.stderr and (
                "not connected" in p.stderr or any(x in p.stderr for x in TRANSIENT))
            if not transient or time.monotonic() >= deadline:
                return p
            time.sleep(0.2)

    def log_text(self):
        return open(self.log).read()

    def connect(self):
        return Control(self.sock)


class Control:
    """One connection to the control socket: one JSON request, one reply line."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(120)
        self.sock.connect(path)
        self.file = self.sock.makefile("rwb")

    def request(self, obj):
        self.file.write(json.dumps(obj).encode() + b"\n")
        self.file.flush()
        line = self.file.readline()
        assert line.endswith(b"\n"), "virt-spmd closed the connection"
        return json.loads(line)

    def close(self):
        self.file.close()
        self.sock.close()


@contextlib.contextmanager
def default_layout_lock():
    """A daemon on the default state directory: one test at a time on this host."""
    with open("/run/lock/virt-spm-default-layout.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def define_all(paths):
    """virsh define for many files in one virsh process."""
    if paths:
        virsh(" ; ".join("define " + p for p in paths))


def disconnect_libvirt_client(pid):
    """Make libvirtd drop the connections of process @pid (virt-admin), as a
    libvirtd restart would, without restarting it under the other tests.
    Returns how many it dropped."""
    p = run("virt-admin", "srv-clients-list", "libvirtd", check=False)
    dropped = 0
    for i in re.findall(r"^\s*(\d+)\s+unix\b", p.stdout, re.M):
        info = run("virt-admin", "client-info", "libvirtd", i, check=False).stdout
        if re.search(r"^unix_process_id\s*:\s*%d$" % pid, info, re.M):
            dropped += run("virt-admin", "client-disconnect", "libvirtd", i, check=False).returncode == 0
    return dropped


def cleanup_on_sigterm():
    """meson kills a test that times out with SIGTERM: run its finally blocks
    (stop the daemon, remove the domains) all the same."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("killed by SIGTERM"))


def finish(daemon, *prefixes):
    """A test's clean-up: the daemon killed (if still running), the domains
    removed, the end of the daemon's log on stderr."""
    daemon.kill()
    for prefix in prefixes:
        cleanup_domains(prefix)
    if os.path.exists(daemon.log):
        sys.stderr.write(open(daemon.log).read()[-3000:])


def cleanup_domains(prefix, rounds=30):
    """Destroy and undefine every domain named PREFIX*, until none is left
    (libvirtd may be restarted by other tests while we do it)."""
    for _ in range(rounds):
        try:
            wait_for("libvirtd", libvirt_alive_quiet, 60, 0.2)
        except AssertionError:
            return
        p = run("virsh", "-c", URI, "list", "--all", "--name", check=False)
        if p.returncode != 0:
            continue
        names = [n for n in p.stdout.split() if n.startswith(prefix)]
        if not names:
            return
        for n in names:
            virsh("destroy", n, check=False)
            virsh("undefine", n, check=False)
