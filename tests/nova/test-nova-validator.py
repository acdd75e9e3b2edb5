#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt_spm_nova against the C parser and inside Nova's own API code.

  test-nova-validator.py CASES DIST_INFO_DIR PACKAGE_SRC_DIR

CASES: the test-nova-specs program, or a .json file of what its `--cases`
printed (the C parser's table and its verdicts, one case a line).
For every case:
  - virt_spm_nova.specs.check_specs() refuses exactly when the C parser
    does, with the same message, byte for byte;
  - Nova's own nova.api.validation.extra_specs.validators, which finds the
    package through its entry point, accepts every spec of a valid case,
    and refuses the spec of an invalid case that is wrong on its own
    (`alone` in the table) with the C parser's message; a case that needs
    the flavor's other specs passes spec by spec (Nova validates each on
    its own; the hook refuses it at start);
  - Nova's flavor API (FlavorExtraSpecsController behind Nova's own
    wsgi.Resource, microversion 2.86): a 400 whose message is the C
    parser's, or 200 for valid specs.

The package is not installed: a temporary directory on sys.path holds the
dist-info meson generated (entry_points.txt) and a link to the sources,
as `meson install` lays them out, before Nova's validators module loads.
Run with the Python of the Nova to test (Debian 12's /usr/bin/python3:
Nova 26); `--sid CASES DIST_INFO_DIR PACKAGE_SRC_DIR` runs it inside the sid
root ($SPM_SID_ROOT, default ~/.cache/virt-spm/sid) with its Nova 34.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import check, finish  # noqa: E402


def layout(dist_info, package_src):
    """A site directory as `meson install` makes it, first on sys.path:
    virt_spm_nova/ and virt_spm_nova-VERSION.dist-info/ (METADATA and
    entry_points.txt, from @dist_info)."""
    site = tempfile.mkdtemp(prefix="spm-nova-site-")
    with open(os.path.join(dist_info, "METADATA")) as f:
        meta = dict(line.split(": ", 1) for line in f.read().splitlines() if ": " in line)
    info = os.path.join(site, "virt_spm_nova-%s.dist-info" % meta["Version"])
    os.mkdir(info)
    for name in ("METADATA", "entry_points.txt"):
        shutil.copy(os.path.join(dist_info, name), info)
    shutil.copytree(os.path.join(package_src, "virt_spm_nova"), os.path.join(site, "virt_spm_nova"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    sys.path.insert(0, site)
    return site


def flavor_api():
    """POST os-extra_specs through Nova's own controller and wsgi.Resource.
    Validation comes first; the flavor lookup that follows is stubbed."""
    from unittest import mock
    import webob

    from nova.api.openstack.compute import flavors_extraspecs
    from nova.api.openstack import wsgi
    from nova import context as nova_context
    import nova.conf
    from nova import policy

    nova.conf.CONF([], project="nova", default_config_files=[])
    policy.reset()
    policy.init()
    resource = wsgi.Resource(flavors_extraspecs.FlavorExtraSpecsController())

    class Flavor:
        extra_specs = {}

        def save(self):
            pass

    def post(specs):
        req = webob.Request.blank("/v2.1/flavors/1/os-extra_specs", method="POST")
        req.headers["Content-Type"] = "application/json"
        req.headers["OpenStack-API-Version"] = "compute 2.86"
        req.body = json.dumps({"extra_specs": specs}).encode()
        # what the API router would have matched
        req.environ["wsgiorg.routing_args"] = ((), {"action": "create", "flavor_id": "1"})
        req.environ["nova.context"] = nova_context.RequestContext("admin", "admin", is_admin=True,
                                                                  roles=["admin"])
        with mock.patch("nova.api.openstack.common.get_flavor", return_value=Flavor()):
            res = req.get_response(resource)
        body = json.loads(res.body) if res.body else {}
        return res.status_int, body
    return post


def in_sid_root(cases_from, dist_info, package_src):
    """--sid: the same test with the sid root's Nova (34), copied into the
    root and run there with its own Python.  Skips when there is no root
    with Nova in it (scripts/setup-sid-root.sh --nova makes one)."""
    root = os.environ.get("SPM_SID_ROOT") or os.path.expanduser("~/.cache/virt-spm/sid")
    if not os.path.exists(os.path.join(root, "usr/lib/python3/dist-packages/nova/api/validation")):
        print("# SKIP no sid root with python3-nova at %s (scripts/setup-sid-root.sh --nova)" % root)
        sys.exit(77)
    if os.geteuid() != 0:
        print("# SKIP chroot into the sid root needs root")
        sys.exit(77)
    here = os.path.dirname(os.path.abspath(__file__))
    inside = tempfile.mkdtemp(prefix="spm-nova-validator-", dir=os.path.join(root, "tmp"))
    try:
        with open(os.path.join(inside, "cases.json"), "w") as f:
            f.write(subprocess.run([cases_from, "--cases"], capture_output=True, text=True,
                                   check=True).stdout)
        for name in ("test-nova-validator.py", "tap.py"):
            shutil.copy(os.path.join(here, name), inside)
        os.mkdir(os.path.join(inside, "dist-info"))
        for name in ("METADATA", "entry_points.txt"):
            shutil.copy(os.path.join(dist_info, name), os.path.join(inside, "dist-info"))
        shutil.copytree(os.path.join(package_src, "virt_spm_nova"),
                        os.path.join(inside, "src", "virt_spm_nova"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        rel = "/" + os.path.relpath(inside, root)
        p = subprocess.run(["chroot", root, "/usr/bin/python3", rel + "/test-nova-validator.py",
                            rel + "/cases.json", rel + "/dist-info", rel + "/src"],
                           env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
                                "LC_ALL": "C.UTF-8"}, timeout=600)
        sys.exit(p.returncode)
    finally:
        shutil.rmtree(inside, ignore_errors=True)


def main():
    if sys.argv[1] == "--sid":
        in_sid_root(*sys.argv[2:5])
    cases_from, dist_info, package_src = sys.argv[1:4]
    # stevedore caches what it found per sys.path, which differs at every
    # run: keep the cache with the run, not in ~/.cache/python-entrypoints
    cache = tempfile.mkdtemp(prefix="spm-nova-cache-")
    os.environ["XDG_CACHE_HOME"] = cache
    try:
        run(cases_from, dist_info, package_src)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def run(cases_from, dist_info, package_src):
    try:
        import nova.api.validation.extra_specs.base  # noqa: F401
    except ImportError as e:
        # a package build has no Nova (python3-nova is no build dependency)
        print("# SKIP Nova is not importable with %s: %s" % (sys.executable, e))
        sys.exit(77)
    if cases_from.endswith(".json"):
        with open(cases_from) as f:
            text = f.read()
    else:
        text = subprocess.run([cases_from, "--cases"], capture_output=True, text=True,
                              check=True).stdout
    cases = [json.loads(line) for line in text.splitlines() if line.strip()]
    site = layout(dist_info, package_src)
    try:
        from virt_spm_nova import specs
        from nova.api.validation.extra_specs import validators
        from nova import exception
        from nova import version

        print("# Nova %s, %d cases of the C parser's table" % (version.version_string(), len(cases)))

        # one parser with two implementations: every case, every message
        differ = []
        for c in cases:
            try:
                specs.check_specs([tuple(kv) for kv in c["specs"]])
                py = None
            except specs.SpecError as e:
                py = str(e)
            if py != c["error"]:
                differ.append("%s: C %r, Python %r" % (c["specs"], c["error"], py))
        check(not differ, "check_specs() and the C parser agree on all %d cases%s"
              % (len(cases), "".join("\n# " + d for d in differ)))

        ours = [v for v in validators.VALIDATORS.values()
                if type(v).__module__ == "virt_spm_nova.validators"]
        check(len(ours) >= 8 and "spm" in validators.NAMESPACES and
              os.path.dirname(os.path.dirname(sys.modules["virt_spm_nova"].__file__)) == site,
              "Nova's validators loaded virt_spm_nova through its entry point (%d validators)"
              % len(ours))

        def nova_validate(name, value):
            try:
                validators.validate(name, value)
                return None
            except exception.ValidationError as e:
                return e.format_message()

        wrong = []
        for c in cases:
            named = c["error"].split(": ", 1)[0] if c["error"] else None
            for name, value in c["specs"]:
                got = nova_validate(name, value)
                want = c["error"] if c["error"] and c["alone"] and name == named else None
                if got != want:
                    wrong.append("%s=%r in %s: Nova says %r, want %r" % (name, value, c["specs"], got, want))
            if c["error"] and c["alone"] and named not in [kv[0] for kv in c["specs"]]:
                wrong.append("%s: the message names no spec of the case" % c["specs"])
        n_valid = sum(1 for c in cases if not c["error"])
        n_alone = sum(1 for c in cases if c["error"] and c["alone"])
        check(not wrong, "Nova's validate(): %d valid cases accepted, %d invalid ones refused with "
              "the C parser's message, %d cross-spec ones passed spec by spec%s"
              % (n_valid, n_alone, len(cases) - n_valid - n_alone, "".join("\n# " + w for w in wrong)))

        post = flavor_api()
        api = []
        for c in cases:
            if c["error"] and not c["alone"]:
                continue
            body = dict((k, v) for k, v in c["specs"])
            status, answer = post(body)
            if c["error"]:
                msg = answer.get("badRequest", {}).get("message")
                if status != 400 or msg != c["error"]:
                    api.append("%s: %d %s, want 400 %r" % (body, status, answer, c["error"]))
            elif status != 200:
                api.append("%s: %d %s, want 200" % (body, status, answer))
        status, answer = post({"spm:size": "64GB2"})
        print("# openstack flavor set gpu.hbm --property spm:size=64GB2 -> %d %s" % (status, answer))
        check(not api, "Nova's flavor API (2.86): 400 with virt-spm's message for each invalid "
              "spec, 200 for each valid flavor%s" % "".join("\n# " + a for a in api))
    finally:
        shutil.rmtree(site, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
