# SPDX-License-Identifier: LGPL-2.1-or-later
"""`virt-spm nova flavor`: the openstack command line it prints, the offline
check of a flavor's properties, and its exit codes (0, 1 invalid, 2 usage)."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import check, finish  # noqa: E402

VIRT_SPM = os.path.join(os.environ["SPM_BUILD_ROOT"], "cli", "virt-spm")


def main():
    with tempfile.TemporaryDirectory(prefix="spm-nova-flavor-") as d:
        profiles = os.path.join(d, "profiles.d")
        os.makedirs(profiles)
        with open(os.path.join(profiles, "hbm2x.conf"), "w") as f:
            f.write("[spm]\ndevices = 2\nsize = 64GiB\n")
        with open(os.path.join(profiles, "broken.conf"), "w") as f:
            f.write("[spm]\nsize = 64 parsecs\n")
        conf = os.path.join(d, "virt-spm.conf")
        with open(conf, "w") as f:
            f.write("[nova]\nprofiles_dir = %s\n" % profiles)

        def run(*args):
            p = subprocess.run([VIRT_SPM, "--config", conf, "nova", "flavor"] + list(args),
                               capture_output=True, text=True)
            return p.returncode, p.stdout.strip(), p.stderr.strip()

        groups = ("--property resources_spm0:CUSTOM_SPM_HBM_GIB=64 "
                  "--property trait_spm0:CUSTOM_SPM_MEMORY=required "
                  "--property resources_spm1:CUSTOM_SPM_HBM_GIB=64 "
                  "--property trait_spm1:CUSTOM_SPM_MEMORY=required")
        rc, out, err = run("--name", "gpu.hbm.2x", "spm:devices=2", "spm:size=64GiB", "spm:1.host_nodes=3")
        check(rc == 0 and out == "openstack flavor set gpu.hbm.2x --property spm:devices=2 "
              "--property spm:size=64GiB --property spm:1.host_nodes=3 " + groups +
              " --property trait_spm1:CUSTOM_SPM_HOST_NODE_3=required --property group_policy=none",
              "one request group per device, a bound device names its node: %s" % out)
        rc, out, err = run("--pooled", "--name", "gpu.hbm.2x", "spm:devices=2", "spm:size=64GiB")
        check(rc == 0 and out == "openstack flavor set gpu.hbm.2x --property spm:devices=2 "
              "--property spm:size=64GiB "
              "--property resources:CUSTOM_SPM_HBM_GIB=128 --property trait:CUSTOM_SPM_MEMORY=required",
              "--pooled: the provider file's single amount: %s" % out)
        rc, out, err = run("--name", "gpu 2x", "--profile", "hbm2x")
        check(rc == 0 and out == "openstack flavor set 'gpu 2x' --property spm:profile=hbm2x " +
              groups + " --property group_policy=none",
              "a profile stays a profile; its devices decide the groups; names are quoted: %s" % out)
        rc, out, err = run("spm:size=1536MiB")
        check(rc == 0 and out.endswith("--property resources_spm0:CUSTOM_SPM_HBM_GIB=2 "
                                       "--property trait_spm0:CUSTOM_SPM_MEMORY=required"),
              "one device: a started GiB counts whole, no group_policy: %s" % out)
        two = ["spm:devices=2", "spm:size=64GiB", "resources_spm0:CUSTOM_SPM_HBM_GIB=64",
               "trait_spm0:CUSTOM_SPM_MEMORY=required", "resources_spm1:CUSTOM_SPM_HBM_GIB=64",
               "trait_spm1:CUSTOM_SPM_MEMORY=required"]
        rc, out, err = run("--check", *two, "group_policy=none")
        check(rc == 0 and "2 SPM devices, 128 GiB" in out, "--check of the per-node form: %s" % out)
        rc, out, err = run("--check", "spm:size=1536MiB", "resources:CUSTOM_SPM_HBM_GIB=2",
                           "trait:CUSTOM_SPM_MEMORY=required", "hw:cpu_policy=dedicated")
        check(rc == 0 and "1 SPM device, 2 GiB" in out, "--check of a consistent flavor: %s" % out)
        for args, words in ((["--check", "spm:size=1GiB"], "resources:CUSTOM_SPM_HBM_GIB=1 is missing"),
                            (["--check", "spm:size=1GiB", "resources:CUSTOM_SPM_HBM_GIB=1"],
                             "trait:CUSTOM_SPM_MEMORY=required is missing"),
                            (["spm:size=2GiB", "resources:CUSTOM_SPM_HBM_GIB=1"], "ask for 2 GiB"),
                            (["spm:size=1GiB", "trait:CUSTOM_SPM_MEMORY=forbidden"], "expected 'required'"),
                            (["spm:colour=red"], "spm:colour: unknown extra spec"),
                            (["spm:size=64GB2"], "spm:size: unknown unit 'GB2'"),
                            (["--profile", "nope"], "profile 'nope' does not exist"),
                            (["--profile", "broken"], "spm:size: unknown unit 'parsecs'"),
                            (["spm:size=1GiB", "spm:0.host_nodes=2-3"],
                             "a Placement request group is one host node"),
                            (["--check"] + two, "group_policy=(missing): expected 'none'"),
                            (["--check"] + two + ["group_policy=isolate"], "expected 'none'"),
                            (["--check"] + two[:4] + ["group_policy=none"],
                             "resources_spm1:CUSTOM_SPM_HBM_GIB=64 is missing"),
                            (["--check"] + two + ["group_policy=none", "resources_spm2:CUSTOM_SPM_HBM_GIB=1"],
                             "ask for 2 SPM devices"),
                            (["--check"] + two + ["group_policy=none", "resources:CUSTOM_SPM_HBM_GIB=128"],
                             "exclude each other")):
            rc, out, err = run(*args)
            check(rc == 1 and err.startswith("error: ") and words in err and err.count("\n") == 0,
                  "invalid, exit 1, one line: %s" % err)
        for args in ([], ["spm:size"], ["--profile", "hbm2x", "spm:size=1GiB"], ["--bogus"]):
            rc, out, err = run(*args)
            check(rc == 2, "usage error, exit 2: %r (%s)" % (args, err))
    finish()


if __name__ == "__main__":
    main()
