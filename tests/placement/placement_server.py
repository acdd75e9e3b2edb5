# SPDX-License-Identifier: LGPL-2.1-or-later
"""A real Placement server for the tests: Debian's python3-placement on
127.0.0.1 with sqlite and noauth2, in a child process.

    with PlacementServer(tmpdir) as srv:
        api = srv.api()            # urllib client, token 'admin'
        api.get("/resource_providers")

Run as a script it is the child: it binds port 0, prints the port on
stdout and serves until terminated.  Stopping keeps the database, so a
restart on the same directory is the same Placement after an outage.
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

TOKEN = "admin"


def have_placement():
    try:
        import placement.wsgi  # noqa: F401
        return True
    except ImportError:
        return False


class PlacementAPI:
    def __init__(self, url, microversion="1.36"):
        self.url = url
        self.microversion = microversion

    def call(self, method, path, body=None, ok=(200, 201, 204)):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("X-Auth-Token", TOKEN)
        req.add_header("Accept", "application/json")
        req.add_header("OpenStack-API-Version", "placement %s" % self.microversion)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, text = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        if status not in ok:
            raise RuntimeError("%s %s: %d %s" % (method, path, status, text[:300]))
        return json.loads(text) if text else None

    def get(self, path):
        return self.call("GET", path)

    def put(self, path, body, ok=(200, 201, 204)):
        return self.call("PUT", path, body, ok)

    def post(self, path, body):
        return self.call("POST", path, body)

    def delete(self, path):
        return self.call("DELETE", path)

    # as nova-compute registers its compute node: a root provider with
    # VCPU, MEMORY_MB, DISK_GB and a few COMPUTE_ traits
    def register_compute_node(self, name, uuid, vcpus=64, ram_mb=262144, disk_gb=2000):
        self.post("/resource_providers", {"name": name, "uuid": uuid})
        inv = {"VCPU": {"total": vcpus, "allocation_ratio": 4.0},
               "MEMORY_MB": {"total": ram_mb, "reserved": 512, "allocation_ratio": 1.0},
               "DISK_GB": {"total": disk_gb, "allocation_ratio": 1.0}}
        self.put("/resource_providers/%s/inventories" % uuid,
                 {"resource_provider_generation": 0, "inventories": inv})
        rp = self.get("/resource_providers/%s" % uuid)
        self.put("/resource_providers/%s/traits" % uuid,
                 {"resource_provider_generation": rp["generation"],
                  "traits": ["COMPUTE_NODE", "HW_CPU_X86_AVX2"]})


class PlacementServer:
    def __init__(self, directory, deadline=60):
        self.directory = directory
        self.deadline = deadline
        self.proc = None
        self.url = None
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "placement.conf"), "w") as f:
            f.write("[DEFAULT]\ndebug = False\n[api]\nauth_strategy = noauth2\n"
                    "[placement_database]\nconnection = sqlite:///%s\n"
                    "sync_on_startup = True\n" % os.path.join(directory, "placement.db"))

    def start(self):
        env = dict(os.environ, OS_PLACEMENT_CONFIG_DIR=self.directory)
        log = open(os.path.join(self.directory, "placement.log"), "ab")
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__)], env=env,
                                     stdout=subprocess.PIPE, stderr=log, text=True)
        log.close()
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError("Placement did not start (see %s/placement.log)" % self.directory)
        self.url = "http://127.0.0.1:%d" % int(line)
        end = time.monotonic() + self.deadline
        while True:
            try:
                self.api().get("/")
                return self
            except (OSError, RuntimeError):
                if time.monotonic() > end or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("Placement at %s did not answer within %d s" %
                                       (self.url, self.deadline))
                time.sleep(0.05)  # polling a deadline, not waiting for a guess

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc.stdout.close()
            self.proc = None

    def api(self, microversion="1.36"):
        return PlacementAPI(self.url, microversion)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _serve():
    import logging
    import wsgiref.simple_server as wss

    from placement.wsgi import init_application

    class Quiet(wss.WSGIRequestHandler):
        def log_message(self, *args):
            pass

    # oslo.log writes to standard output: keep that for the port alone
    port_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    app = init_application()
    logging.getLogger().setLevel(logging.WARNING)
    server = wss.make_server("127.0.0.1", 0, app, handler_class=Quiet)
    print(server.server_port, file=port_out, flush=True)
    port_out.close()
    server.serve_forever()


if __name__ == "__main__":
    _serve()
