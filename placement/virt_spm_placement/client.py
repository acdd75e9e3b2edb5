# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Placement API through a keystoneauth1 adapter.

Credentials come the way nova-compute takes them: nova.conf's [placement]
section read with oslo.config and keystoneauth1.loading (auth_type,
auth_url, username, ... or any other keystoneauth plugin), or, for a
Placement without Keystone (noauth2), a URL and a token.
"""
import re

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from keystoneauth1 import adapter as ks_adapter

# 1.33: granular groups with string suffixes; 1.36 adds nothing we need.
# 1.14 nested providers, 1.7 PUT /resource_classes/NAME, 1.6 traits.
MICROVERSION = "1.33"
TIMEOUT = 10


class PlacementError(Exception):
    """One line: what was asked of Placement and what it said."""


class Conflict(PlacementError):
    """409: a generation conflict or a name in use."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


def _error_text(resp):
    try:
        errs = resp.json().get("errors", [])
        if errs:
            return "%s (%s)" % (" ".join(errs[0].get("detail", "").split()),
                                errs[0].get("code", "no code"))
    except ValueError:
        pass
    return " ".join(resp.text.split())[:200]


class Placement:
    def __init__(self, adapter, where):
        self._adapter = adapter
        self.where = where

    @classmethod
    def from_token(cls, url, token, timeout=TIMEOUT):
        auth = token_endpoint.Token(url.rstrip("/"), token)
        sess = ks_session.Session(auth=auth, timeout=timeout)
        return cls(ks_adapter.Adapter(sess, service_type="placement"), url)

    @classmethod
    def from_nova_conf(cls, paths, timeout=None):
        """@timeout (seconds, nullable) bounds each request whatever nova.conf says."""
        from oslo_config import cfg

        conf = cfg.ConfigOpts()
        ks_loading.register_session_conf_options(conf, "placement")
        ks_loading.register_auth_conf_options(conf, "placement")
        ks_loading.register_adapter_conf_options(conf, "placement")
        # nova-compute's defaults for the section (nova/conf/placement.py)
        conf.set_default("service_type", "placement", group="placement")
        conf.set_default("valid_interfaces", ["internal", "public"], group="placement")
        try:
            conf([], project="nova", default_config_files=paths)
        except cfg.Error as e:
            raise PlacementError("%s: %s" % (", ".join(paths), " ".join(str(e).split())))
        try:
            auth = ks_loading.load_auth_from_conf_options(conf, "placement")
        except ks_exc.ClientException as e:
            raise PlacementError("%s [placement]: %s" % (", ".join(paths), e))
        if auth is None:
            raise PlacementError("%s [placement]: no auth_type; give --placement-url and --token "
                                 "for a Placement without Keystone" % ", ".join(paths))
        sess = ks_loading.load_session_from_conf_options(conf, "placement", auth=auth)
        if timeout is not None:
            sess.timeout = timeout
        elif sess.timeout is None:
            sess.timeout = TIMEOUT
        adapter = ks_loading.load_adapter_from_conf_options(conf, "placement", session=sess,
                                                            auth=auth)
        return cls(adapter, "Placement (%s [placement])" % ", ".join(paths))

    def request(self, method, url, body=None, ok=(200,)):
        kwargs = {"raise_exc": False, "microversion": MICROVERSION,
                  "headers": {"Accept": "application/json"}}
        if body is not None:
            kwargs["json"] = body
        try:
            resp = self._adapter.request(url, method, **kwargs)
        except ks_exc.ClientException as e:
            raise PlacementError("%s %s: %s unreachable: %s" % (method, url, self.where, _short(e)))
        if resp.status_code in ok:
            return resp.json() if resp.content else None
        text = _error_text(resp)
        if resp.status_code == 409:
            code = None
            try:
                code = resp.json()["errors"][0].get("code")
            except (ValueError, KeyError, IndexError):
                pass
            raise Conflict("%s %s: %d %s" % (method, url, resp.status_code, text), code)
        raise PlacementError("%s %s: %d %s" % (method, url, resp.status_code, text))

    # the few calls the agent needs -----------------------------------------

    def provider_by_name(self, name):
        rps = self.request("GET", "/resource_providers?name=%s" % _q(name))["resource_providers"]
        return rps[0] if rps else None

    def tree(self, root_uuid):
        return self.request("GET", "/resource_providers?in_tree=%s" % root_uuid)["resource_providers"]

    def provider(self, rp_uuid):
        return self.request("GET", "/resource_providers/%s" % rp_uuid)

    def create_provider(self, name, rp_uuid, parent):
        return self.request("POST", "/resource_providers",
                            {"name": name, "uuid": rp_uuid, "parent_provider_uuid": parent},
                            ok=(200,))

    def delete_provider(self, rp_uuid):
        self.request("DELETE", "/resource_providers/%s" % rp_uuid, ok=(204,))

    def inventories(self, rp_uuid):
        return self.request("GET", "/resource_providers/%s/inventories" % rp_uuid)

    def put_inventories(self, rp_uuid, generation, inventories):
        return self.request("PUT", "/resource_providers/%s/inventories" % rp_uuid,
                            {"resource_provider_generation": generation,
                             "inventories": inventories})

    def traits(self, rp_uuid):
        return self.request("GET", "/resource_providers/%s/traits" % rp_uuid)

    def put_traits(self, rp_uuid, generation, traits):
        return self.request("PUT", "/resource_providers/%s/traits" % rp_uuid,
                            {"resource_provider_generation": generation, "traits": sorted(traits)})

    def usages(self, rp_uuid):
        return self.request("GET", "/resource_providers/%s/usages" % rp_uuid)["usages"]

    def consumer_allocations(self, consumer):
        return self.request("GET", "/allocations/%s" % consumer)["allocations"]

    def ensure_resource_class(self, name):
        self.request("PUT", "/resource_classes/%s" % name, ok=(201, 204))

    def ensure_trait(self, name):
        self.request("PUT", "/traits/%s" % name, ok=(201, 204))


def _short(exc):
    """keystoneauth's connection errors quote urllib3's whole chain: keep
    the URL it tried and the system's reason."""
    text = " ".join(str(exc).split())
    m = re.search(r"(Unable to establish connection to \S+?):? .*(\[Errno -?\d+\] [^'\")]+)", text)
    if m:
        return "%s: %s" % (m.group(1), m.group(2).strip())
    return text[:300]


def _q(text):
    from urllib.parse import quote

    return quote(text, safe="")
