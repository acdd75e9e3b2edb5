#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Debian package, as an operator rolls it out (docs/packaging.md).

From a fresh `git clone` of this tree: dpkg-buildpackage, lintian (no error,
no warning that debian/virt-spm.lintian-overrides does not justify), then on
this machine's real libvirtd:

  install    dpkg -i + apt-get -f install; libvirtd is not restarted, and is
             told once that it must re-read its hooks; every file the .deb
             lists (dpkg-deb -c) is there and owned by virt-spm (dpkg -S),
             and every file of `meson install` (the package's own build,
             --destdir) is in that list; /etc files are conffiles; units
             enabled.
  start      libvirtd re-reads its hooks (SIGHUP, as the message says):
             the installed hook refuses a stale SPM guest and starts a good
             one (pc-dimm standing in for spm-memory on Debian's QEMU 7.2),
             and the installed virt-spmd audits it.
  upgrade    a newer version installed while that guest runs: the hook
             answers every call during the unpack (replaced by rename), the
             guest keeps running, and again after libvirtd restarts (the
             hook's `reconnect`).
  remove     no hook is left; without restarting libvirtd, SPM guests start.
  purge      nothing of the package is left: no file, hook, unit, enablement
             or state; a file of the administrator's own in /etc/virt-spm
             (one the test puts there, and any there before) is kept, as
             dpkg keeps it, and is told apart from a leftover.

Root only; skips (77) without dpkg-buildpackage, debhelper, lintian, git or
libvirt.  While the package's hook is installed system-wide this test holds
the shared lock of the real-libvirt tests, and purges the package whatever
happens.
"""
import fcntl
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SOURCE = os.environ.get("SPM_SOURCE_ROOT", "")
sys.path.insert(0, os.path.join(SOURCE, "tests", "daemon"))
import spmtest as t  # noqa: E402  (the libvirt helpers shared by the tests)

PKG = "virt-spm"
HOOK = "/etc/libvirt/hooks/qemu.d/virt-spm"
HARNESS = os.path.join(SOURCE, "tests", "libvirt", "libvirtd-harness.sh")
RUN_LOCK = "/run/lock/virt-spm-libvirt-tests.lock"
# what virt-spm makes at run time (purge removes it), and postinst's marker
STATE_DIRS = ["/var/lib/virt-spm", "/var/cache/virt-spm", "/run/virt-spm"]
MARKER = "/run/virt-spm.dpkg-hook-new"
ETC_DIR = "/etc/virt-spm"
# a file of the administrator's own, which purge must leave (with its directory)
ADMIN_FILE = os.path.join(ETC_DIR, "local-notes.pkgtest")
PREFIX = "spmpkg-%d-" % os.getpid()
T0 = time.monotonic()


def log(msg):
    print("# [%5.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def sh(*args, check_rc=True, env=None, timeout=900, cwd=None):
    p = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd)
    if check_rc and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(args), p.returncode,
                                                        p.stdout[-4000:], p.stderr[-4000:]))
    return p


def dpkg(*args):
    """dpkg, waiting (with a deadline) while another apt/dpkg holds its lock;
    traced, so that check_no_libvirt_restart() can see what it ran."""
    deadline = time.monotonic() + 900
    trace = os.path.join(WORK, "dpkg.trace")
    while True:
        p = sh("strace", "-f", "-qq", "-s", "256", "-e", "trace=execve,kill,tgkill,tkill",
               "-e", "signal=none", "-o", trace, "dpkg", *args, check_rc=False)
        locked = "lock" in p.stderr and ("locked by another process" in p.stderr or
                                         "is locked" in p.stderr)
        if not locked or time.monotonic() >= deadline:
            break
        time.sleep(1.0)
    if p.returncode != 0:
        raise AssertionError("dpkg %s failed (%d):\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    check_no_libvirt_restart(trace, "dpkg " + " ".join(args))
    return p.stdout + p.stderr


def check_no_libvirt_restart(trace, what):
    """Nothing dpkg ran signalled libvirtd/virtqemud or asked systemd or an
    init script to restart, reload or stop them.  (Comparing libvirtd's pid
    would not do on a host where other tests restart it.)"""
    daemons = {}
    for name in ("libvirtd", "virtqemud"):
        for pid in sh("pidof", name, check_rc=False).stdout.split():
            daemons[pid] = name
    for line in open(trace):
        m = re.search(r"\b(?:kill|tgkill|tkill)\((\d+)", line)
        if m and m.group(1) in daemons:
            raise AssertionError("%s signalled %s: %s" % (what, daemons[m.group(1)], line.strip()))
        if "execve(" in line and re.search(r"\b(libvirtd|virtqemud)(\.service)?\b", line) and \
                re.search(r"(systemctl|deb-systemd-invoke|invoke-rc\.d|service|kill|pkill|killall)\b", line):
            raise AssertionError("%s touched libvirt: %s" % (what, line.strip()))


def pkg_status():
    p = sh("dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", PKG, check_rc=False)
    return p.stdout.split() if p.returncode == 0 else ["not-installed"]


def harness(*args):
    sh(HARNESS, *args)


def libvirtd_pid():
    try:
        return int(open("/run/libvirtd.pid").read().strip())
    except (OSError, ValueError):
        return None


def take_lock():
    """The shared lock of the real-libvirt tests.  A blocking flock is woken
    when the lock is released (a poll loses that race to blocked waiters);
    an alarm gives up after 20 minutes."""
    fd = os.open(RUN_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def expire(signum, frame):
        raise TimeoutError()
    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(1200)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except TimeoutError:
        raise AssertionError("cannot take %s within 1200 s" % RUN_LOCK)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return fd


# ---- build ----

def clone(work):
    src = os.path.join(work, PKG)
    if os.path.exists(os.path.join(SOURCE, ".git")):
        p = sh("git", "-c", "safe.directory=*", "clone", "-q", SOURCE, src, check_rc=False)
        if p.returncode == 0:
            head = sh("git", "-C", src, "log", "-1", "--format=%h %s").stdout.strip()
            dirty = sh("git", "-c", "safe.directory=*", "-C", SOURCE, "status", "--porcelain",
                       "--untracked-files=no", check_rc=False).stdout.strip()
            log("fresh clone of %s at %s%s" % (SOURCE, head,
                                               " (its uncommitted changes are not in it)" if dirty else ""))
            return src
        log("git clone failed (%s): copying the tree instead" % p.stderr.strip())
    # a tarball of the project: the tree as it is, without build trees
    shutil.copytree(SOURCE, src, symlinks=True,
                    ignore=shutil.ignore_patterns("build*", "obj-*", ".git"))
    log("copied the tree of %s" % SOURCE)
    return src


def check_version(src):
    """debian/changelog and meson.build name the same version."""
    deb = sh("dpkg-parsechangelog", "-l", os.path.join(src, "debian", "changelog"), "-S", "Version").stdout.strip()
    meson = re.search(r"^\s*version:\s*'([^']+)'", open(os.path.join(src, "meson.build")).read(), re.M).group(1)
    check(deb == meson, "debian/changelog says %s, meson.build %s" % (deb, meson))


def build(src):
    env = dict(os.environ, DEB_BUILD_OPTIONS="parallel=2", LC_ALL="C.UTF-8")
    for k in ("SPM_SOURCE_ROOT", "SPM_BUILD_ROOT", "SPM_FIXTURES_DIR", "VIRT_SPM_SCHEMA", "MESON_TESTTHREADS"):
        env.pop(k, None)
    p = sh("dpkg-buildpackage", "-us", "-uc", "-b", check_rc=False, env=env, cwd=src, timeout=1200)
    with open(os.path.join(os.path.dirname(src), "build.log"), "w") as f:
        f.write(p.stdout + p.stderr)
    check(p.returncode == 0, "dpkg-buildpackage failed:\n" + (p.stdout + p.stderr)[-6000:])
    work = os.path.dirname(src)
    debs = sorted(glob.glob(os.path.join(work, PKG + "_*.deb")))
    changes = glob.glob(os.path.join(work, PKG + "_*.changes"))
    check(len(debs) == 1 and len(changes) == 1, "expected one .deb and one .changes: %s" % os.listdir(work))
    log("built %s (+ %s)" % (os.path.basename(debs[0]),
                             ", ".join(os.path.basename(x) for x in glob.glob(os.path.join(work, "*-dbgsym_*")))))
    return debs[0], changes[0]


def run_lintian(changes):
    # the exit status only tells lintian's own failures; the tags are judged here
    p = sh("lintian", "--fail-on", "none", "--show-overrides", changes, check_rc=False, timeout=600)
    tags = [l for l in p.stdout.splitlines() if re.match(r"^[EWO]: ", l)]
    for l in tags:
        log("lintian: " + l)
    bad = [l for l in tags if l.startswith(("E:", "W:"))]
    check(not bad and p.returncode == 0,
          "lintian: errors or unjustified warnings (justify in debian/virt-spm.lintian-overrides "
          "and docs/packaging.md, or fix):\n" + p.stdout + p.stderr)


def meson_install_listing(src, work):
    """Every file and symlink `meson install` puts down, with the package's configuration."""
    arch = sh("dpkg-architecture", "-qDEB_HOST_GNU_TYPE").stdout.strip()
    dest = os.path.join(work, "destdir")
    sh("meson", "install", "-C", os.path.join(src, "obj-" + arch), "--no-rebuild", "--quiet", "--destdir", dest)
    paths = []
    for root, dirs, files in os.walk(dest):
        for n in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            paths.append("/" + os.path.relpath(os.path.join(root, n), dest))
    check(paths, "meson install put nothing in " + dest)
    return sorted(paths)


def deb_listing(deb):
    """What the .deb itself ships ({path: "file" | "link"}), from `dpkg-deb -c`:
    the names after dh_compress (manual pages and documents gzipped), never
    guessed from what happens to be on this host."""
    entries = {}
    for line in sh("dpkg-deb", "-c", deb).stdout.splitlines():
        m = re.match(r"^(\S)\S*\s+\S+\s+\d+\s+\S+\s+\S+\s+\.(/.*?)(?: -> .*| link to .*)?$", line)
        check(m, "cannot read this line of dpkg-deb -c: %r" % line)
        kind, path = m.group(1), m.group(2).rstrip("/")
        if kind == "d":
            continue
        entries[path] = "link" if kind == "l" else "file"
    check(entries, "dpkg-deb -c lists nothing in " + deb)
    return entries


def check_meson_in_deb(meson_paths, shipped):
    """Every file `meson install` puts down is in the package, as itself or gzipped."""
    missing = [p for p in meson_paths if p not in shipped and p + ".gz" not in shipped]
    check(not missing, "meson installs these, the package does not ship them: %s" % missing)
    log("all %d files of meson install are in the package (%d entries)" % (len(meson_paths), len(shipped)))


# The Nova API's validators: a package of their own, beside Nova's API
NOVA_PKG = "python3-virt-spm-nova"
NOVA_PY_DIR = "/usr/lib/python3/dist-packages/"


def check_nova_validator_deb(deb, expected):
    """What `meson install` puts into Python's dist-packages is exactly what
    python3-virt-spm-nova holds (virt-spm holds none of it); the other
    files are virt-spm's, checked on the host.  That package needs Nova,
    so it is only built and listed here, never installed."""
    debs = glob.glob(os.path.join(os.path.dirname(deb), NOVA_PKG + "_*_all.deb"))
    check(len(debs) == 1, "expected one %s .deb: %s" % (NOVA_PKG, os.listdir(os.path.dirname(deb))))

    def files_of(d):
        out = sh("dpkg-deb", "-c", d).stdout
        return {"/" + line.split()[-1].lstrip("./").rstrip("/") for line in out.splitlines()
                if not line.startswith("d")}
    python = sorted(p for p in expected if p.startswith(NOVA_PY_DIR))
    nova_files = files_of(debs[0])
    check(python and all(p in nova_files for p in python),
          "%s lacks some of %s" % (NOVA_PKG, python))
    check(not [p for p in files_of(deb) if p.startswith(NOVA_PY_DIR)],
          "%s holds files of %s" % (PKG, NOVA_PKG))
    check(any(p.endswith(".dist-info/entry_points.txt") for p in nova_files),
          "%s has no entry_points.txt" % NOVA_PKG)
    log("%s: the %d files of virt_spm_nova" % (os.path.basename(debs[0]), len(python)))
    return [p for p in expected if not p.startswith(NOVA_PY_DIR)]


def new_version_deb(deb, work):
    """The same package as a newer version: what an upgrade installs."""
    root = os.path.join(work, "next")
    sh("dpkg-deb", "-R", deb, root)
    control = os.path.join(root, "DEBIAN", "control")
    text = open(control).read()
    version = re.search(r"^Version: (\S+)$", text, re.M).group(1) + "+pkgtest1"
    open(control, "w").write(re.sub(r"^Version: .*$", "Version: " + version, text, flags=re.M))
    out = os.path.join(work, "%s_%s_next.deb" % (PKG, version))
    sh("dpkg-deb", "--root-owner-group", "-b", root, out)
    return out, version


# ---- on the host ----

def check_installed(shipped):
    expected = sorted(shipped)
    owned = sh("dpkg", "-S", *expected).stdout
    for p in expected:
        check(os.path.lexists(p), "the package ships %s, it is not there" % p)
        check(re.search(r"^%s: %s$" % (PKG, re.escape(p)), owned, re.M), "%s is not owned by %s" % (p, PKG))
    conffiles = sh("dpkg-query", "-W", "-f=${Conffiles}\n", PKG).stdout
    for p in expected:
        if p.startswith("/etc/") and shipped[p] == "file":
            check(" %s " % p in conffiles, "%s is not a conffile:\n%s" % (p, conffiles))
    check(shipped.get(HOOK) == "link" and os.path.islink(HOOK) and
          os.readlink(HOOK) == "/usr/sbin/virt-spm-qemu-hook",
          "%s is not the symlink to the installed hook" % HOOK)
    check(HOOK not in conffiles, "the hook must not be a conffile (it would survive remove)")
    for wants in ("sockets.target.wants/virt-spmd.socket", "multi-user.target.wants/virt-spmd.service"):
        check(os.path.islink("/etc/systemd/system/" + wants), "not enabled: " + wants)
    log("all %d files of the package are there and owned by %s; conffiles: %s" %
        (len(expected), PKG, " ".join(l.split()[0] for l in conffiles.splitlines() if l.strip())))


def autopkgtest(src):
    """On request, debian/tests/libvirt against the package just installed.

    SPM_TEST_PACKAGE_AUTOPKGTEST: "all" for the whole autopkgtest (libvirt
    and daemon suites, about 5 minutes), or the names of some of its tests.
    Not in CI: the lock is held meanwhile, and the suites ran already."""
    which = os.environ.get("SPM_TEST_PACKAGE_AUTOPKGTEST", "").split()
    if not which:
        return
    env = dict(os.environ, AUTOPKGTEST_TMP=os.path.join(WORK, "autopkgtest"), SPM_TEST_RUN_LOCK_HELD="1")
    for k in ("SPM_SOURCE_ROOT", "SPM_BUILD_ROOT", "SPM_FIXTURES_DIR", "VIRT_SPM_SCHEMA"):
        env.pop(k, None)
    os.makedirs(env["AUTOPKGTEST_TMP"])
    p = sh(os.path.join(src, "debian", "tests", "libvirt"), *([] if which == ["all"] else which),
           check_rc=False, env=env, cwd=src, timeout=1800)
    print(p.stdout[-3000:] + p.stderr[-3000:])
    check(p.returncode == 0, "debian/tests/libvirt failed")
    log("debian/tests/libvirt %s passed against the installed package" % " ".join(which))


def virt_spm(*args, timeout=90):
    """The installed virt-spm, riding out libvirtd restarts by other tests."""
    deadline = time.monotonic() + timeout
    while True:
        p = sh("/usr/bin/virt-spm", *args, check_rc=False)
        lost = any(x in p.stderr for x in t.TRANSIENT + ("Failed to connect socket",))
        if p.returncode == 0 or not lost or time.monotonic() >= deadline:
            break
        t.wait_for("libvirtd", t.libvirt_alive_quiet, max(deadline - time.monotonic(), 1), 0.2)
    check(p.returncode == 0, "virt-spm %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
    return p


def define_domains():
    """A good SPM guest (stand-in) and a stale one, defined with the installed virt-spm."""
    tmpl = open(os.path.join(SOURCE, "tests", "libvirt", "data", "user-spm.xml")).read()
    tmpl = re.sub(r"\s*<uuid>[^<]*</uuid>", "", tmpl)
    names = {}
    for what in ("good", "stale"):
        name = PREFIX + what
        path = os.path.join(WORK, name + ".xml")
        open(path, "w").write(re.sub(r"<name>[^<]*</name>", "<name>%s</name>" % name, tmpl, count=1))
        virt_spm("-c", t.URI, "define", path, "--stand-in-driver=pc-dimm")
        names[what] = name
    # as `virsh edit` would: the last generated argument changes
    xml = t.virsh("dumpxml", "--inactive", names["stale"]).stdout
    end = xml.index("</qemu:commandline>")
    last = xml.rindex("<qemu:arg value=", 0, end) + len("<qemu:arg value=") + 1
    stale = os.path.join(WORK, "stale.xml")
    open(stale, "w").write(xml[:last] + "edited-" + xml[last:])
    t.virsh("define", stale)
    return names["good"], names["stale"]


def qemu_pid(name):
    try:
        return int(open("/run/libvirt/qemu/%s.pid" % name).read().strip())
    except (OSError, ValueError):
        return None


def running(name):
    return "running" in t.virsh("domstate", name, check=False).stdout


def start_through_hook(good, stale):
    # libvirt applies the hook once it re-read them: poll the stale guest until refused
    refusal = "virt-spm: refusing to start domain '%s': qemu:commandline: " % stale

    def refused():
        r = t.virsh("start", stale, check=False)
        if r.returncode == 0:
            t.virsh("destroy", stale, check=False)
            return None
        check(refusal in r.stderr and HOOK + " " in r.stderr, "unexpected start failure: " + r.stderr)
        return r.stderr
    msg = t.wait_for("the installed hook to refuse the stale guest", refused, 60, 0.2)
    log("installed hook refuses the stale guest: " + msg.strip().splitlines()[-1][-160:])

    t.virsh("start", good)
    check(running(good), good + " is not running")
    cmdline = open("/proc/%d/cmdline" % qemu_pid(good), "rb").read().replace(b"\0", b" ").decode()
    check("pc-dimm," in cmdline and "ua-hbm0" in cmdline, "QEMU did not get the stand-in: " + cmdline)
    check(glob.glob("/var/cache/virt-spm/emulator-*"), "the installed helper kept no probe in /var/cache/virt-spm")
    log("SPM guest %s started through the installed hook (pc-dimm stand-in)" % good)


class Hammer(threading.Thread):
    """Runs the installed hook as libvirt does, over and over, during an upgrade."""

    def __init__(self, name, xml):
        super().__init__(daemon=True)
        self.name, self.xml = name, xml
        self.stop = threading.Event()
        self.calls, self.failures = 0, []

    def run(self):
        while not self.stop.is_set():
            p = subprocess.run([HOOK, self.name, "prepare", "begin", "-"], input=self.xml,
                               capture_output=True, text=True)
            self.calls += 1
            if p.returncode != 0:
                self.failures.append("exit %d: %s" % (p.returncode, p.stderr.strip()))


def etc_files():
    """The files under /etc/virt-spm (relative names), whoever made them."""
    found = set()
    for root, dirs, files in os.walk(ETC_DIR):
        for n in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            found.add(os.path.join(root, n))
    return found


def check_nothing_left(shipped, admin_files):
    """Nothing of the package is left.  Files of the administrator's own in
    /etc/virt-spm (@admin_files: there before the test, or put there as an
    administrator would) are kept by dpkg, rightly, and with them the
    directory: that is no failure; anything else there is."""
    left = [p for p in shipped if os.path.lexists(p)]
    left += [d for d in STATE_DIRS + ["/usr/share/doc/virt-spm", "/usr/share/virt-spm", MARKER]
             if os.path.lexists(d)]
    kept = []
    if os.path.lexists(ETC_DIR):
        for f in sorted(etc_files()):
            (kept if f in admin_files else left).append(f)
        if not kept:
            left.append(ETC_DIR)
    left += glob.glob(HOOK + "*")
    left += glob.glob("/etc/systemd/system/**/virt-spmd*", recursive=True)
    left += glob.glob("/var/lib/systemd/deb-systemd-helper-*/**/virt-spmd*", recursive=True)
    left += glob.glob("/var/lib/dpkg/info/%s.*" % PKG)
    check(not left, "left after purge: %s" % left)
    check(sorted(kept) == sorted(f for f in admin_files if os.path.lexists(f)),
          "purge took files of the administrator's: %s" % sorted(set(admin_files) - set(kept)))
    check(pkg_status()[0] == "not-installed", "dpkg still knows %s: %s" % (PKG, pkg_status()))
    log("purge left nothing of the package (%d files, hook, units, state)%s" %
        (len(shipped), "; the administrator's own %s kept, as dpkg does" % " ".join(kept) if kept else ""))


def main():
    global WORK
    if os.geteuid() != 0:
        t.skip("needs root (dpkg -i, libvirtd)")
    for tool in ("dpkg-buildpackage", "dh", "lintian", "git", "meson", "strace", "virsh", "libvirtd",
                 "qemu-system-x86_64"):
        if not shutil.which(tool):
            t.skip(tool + " is not installed (scripts/packages.txt lists it)")
    if pkg_status()[0] == "installed" and not os.environ.get("SPM_TEST_PACKAGE_REPLACE"):
        t.skip("a virt-spm package is installed here; set SPM_TEST_PACKAGE_REPLACE=1 to let the test purge it")

    WORK = tempfile.mkdtemp(prefix="spm-package-")
    os.chmod(WORK, 0o755)
    try:
        src = clone(WORK)
        check_version(src)
        deb, changes = build(src)
        log("dpkg-buildpackage done")
        run_lintian(changes)
        # the validator's files belong to python3-virt-spm-nova, the rest to virt-spm
        expected = check_nova_validator_deb(deb, meson_install_listing(src, WORK))
        shipped = deb_listing(deb)
        check_meson_in_deb(expected, shipped)
        next_deb, next_version = new_version_deb(deb, WORK)

        lock = take_lock()
        log("holding " + RUN_LOCK)
        daemon = None
        planted = False
        etc_existed = True
        try:
            if pkg_status()[0] != "not-installed":
                dpkg("--purge", PKG)
            # what an administrator left here before (no package installed): theirs
            admin_files = etc_files() if os.path.isdir(ETC_DIR) else set()
            etc_existed = os.path.isdir(ETC_DIR)
            t.ensure_libvirtd()
            harness("up")

            # install
            out = dpkg("-i", deb)
            sh("apt-get", "-o", "DPkg::Lock::Timeout=900", "-f", "install", "-y", "-q")
            print(out)
            check(pkg_status()[0] == "installed", "not installed: %s" % pkg_status())
            check("virt-spm: libvirt's qemu hook %s is new." % HOOK in out and
                  re.search(r"virt-spm:   libvirtd \(pid \d+\): kill -HUP \d+", out),
                  "postinst did not tell libvirtd to re-read its hooks")
            check(not os.path.exists(MARKER), MARKER + " left after configure")
            check_installed(shipped)
            autopkgtest(src)

            # start
            good, stale = define_domains()
            harness("reload")
            daemon = subprocess.Popen(["/usr/sbin/virt-spmd"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t.wait_for("the installed virt-spmd", lambda: sh("/usr/bin/virt-spm", "status", check_rc=False).returncode == 0, 30)
            start_through_hook(good, stale)

            def audited():
                st = sh("/usr/bin/virt-spm", "status", "--json", check_rc=False).stdout
                return re.search(r'"domain"\s*:\s*"%s"' % re.escape(good), st) and st
            t.wait_for("virt-spmd's verdict on " + good, audited, 60, 0.1)
            check(glob.glob("/var/lib/virt-spm/*"), "virt-spmd wrote no state to /var/lib/virt-spm")
            log("the installed virt-spmd audited %s" % good)

            # upgrade while the guest runs
            guest = qemu_pid(good)
            hammer = Hammer(good, t.virsh("dumpxml", good).stdout)
            hammer.start()
            t.wait_for("the hammer", lambda: hammer.calls > 0, 30)
            before = hammer.calls
            out = dpkg("-i", next_deb)
            hammer.stop.set()
            hammer.join()
            print(out)
            check(pkg_status() == ["installed", next_version], "upgrade: %s" % pkg_status())
            check(not hammer.failures, "the hook failed during the upgrade: %s" % hammer.failures[:3])
            check(hammer.calls - before > 0, "the hook was not called during the upgrade")
            check("is new." not in out, "an upgrade must not ask libvirtd to re-read its hooks:\n" + out)
            check(qemu_pid(good) == guest and running(good), "the guest did not survive the upgrade")
            log("upgrade to %s: %d hook calls during dpkg -i, none failed; guest kept running" %
                (next_version, hammer.calls - before))
            harness("restart")
            check(qemu_pid(good) == guest and running(good), "the guest did not survive libvirtd's restart")
            log("libvirtd restarted (hook 'reconnect'): guest still running")
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
            daemon = None

            # remove: no hook left; starts work without restarting libvirtd
            pid = libvirtd_pid()
            dpkg("-r", PKG)
            check(pkg_status()[0] == "config-files", "remove: %s" % pkg_status())
            check(not os.path.lexists(HOOK) and not glob.glob(HOOK + ".*"), "remove left the hook")
            check(os.path.exists("/etc/virt-spm/virt-spm.conf"), "remove took the conffile (purge does)")
            t.virsh("destroy", good)
            t.virsh("start", good)
            check(running(good), "after remove, an SPM guest does not start")
            if libvirtd_pid() == pid:
                log("after remove: the hook is gone, libvirtd (not restarted) starts SPM guests")
            else:   # on a shared host: then it proves less, but nothing is wrong
                log("after remove: the hook is gone, SPM guests start (another test restarted libvirtd meanwhile)")
            t.virsh("destroy", good)

            # purge, with a file of the administrator's own in /etc/virt-spm
            if not os.path.lexists(ADMIN_FILE):
                with open(ADMIN_FILE, "w") as f:
                    f.write("# the administrator's own notes: dpkg --purge keeps them\n")
                planted = True
            admin_files = admin_files | {ADMIN_FILE}
            dpkg("--purge", PKG)
            check_nothing_left(shipped, admin_files)
        finally:
            if daemon:
                daemon.kill()
                daemon.wait()
            if planted and os.path.lexists(ADMIN_FILE):
                os.unlink(ADMIN_FILE)
                if not etc_existed and os.path.isdir(ETC_DIR) and not os.listdir(ETC_DIR):
                    os.rmdir(ETC_DIR)
            if pkg_status()[0] != "not-installed":
                log("purging %s after a failure" % PKG)
                dpkg("--purge", PKG)
            t.cleanup_domains(PREFIX)
            fcntl.flock(lock, fcntl.LOCK_UN)
            os.close(lock)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    log("passed")


if __name__ == "__main__":
    main()
