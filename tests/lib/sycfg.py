"""sycfg: what the config API's tests (tests/integration/configapi*.t)
share: a config with the API on, and a small client of SPEC 9.3's
routes.  Only the standard library; imported next to sytest.
"""

import json
import os

import sytest as T

USER = "admin"
KEY = "a-long-admin-key"
SECRET = "an-hmac-secret-for-admin-tokens-0123456789"
SVC = "/v1/config/projects/%s/remote-service/service"


def config(tmp, port, aport, services, workers=2, admin=None, **kw):
	"""make_config with the config API on (admin listener aport; None:
	no admin listener) and admin's members updated from admin."""
	adm = {"listen": "127.0.0.1:%d" % aport if aport else None,
	    "user": USER, "key": KEY, "secret": SECRET}
	adm.update(admin or {})
	server = dict(kw.pop("server", {}) or {})
	server["admin"] = adm
	return T.make_config(tmp, port, services, workers=workers,
	    server=server, **kw)


class Api:
	"""A client of the config API on port; token kept after login()."""

	def __init__(self, port):
		self.port = port
		self.token = None

	def req(self, method, path, body=None, token=True, headers=None,
	    timeout=12):
		h = dict(headers or {})
		if token is True and self.token:
			h["Authorization"] = "Bearer " + self.token
		elif isinstance(token, str):
			h["Authorization"] = "Bearer " + token
		if body is not None and not isinstance(body, (str, bytes)):
			body = json.dumps(body)
		return T.request(self.port, method, path, body, h,
		    timeout=timeout)

	def login(self, user=USER, key=KEY):
		r = self.req("POST", "/v1/config/login", {"user": user,
		    "key": key}, token=False)
		d = r.json()
		if r.status == 200 and isinstance(d, dict):
			self.token = d.get("token")
		return r

	def services(self, project="demo", sid=None):
		return self.req("GET", SVC % project + ("?id=" + sid if sid
		    else ""))

	def set(self, sid, body, project="demo", headers=None):
		return self.req("POST", SVC % project + "/" + sid, body,
		    headers=headers)

	def delete(self, sid, project="demo", headers=None):
		return self.req("DELETE", SVC % project + "/" + sid,
		    headers=headers)


def file_services(path, project="demo"):
	"""projects.P.remoteServices of the config file at path."""
	with open(path) as f:
		return json.load(f)["projects"][project].get("remoteServices",
		    {})


def read_bytes(path):
	with open(path, "rb") as f:
		return f.read()


def served_services(api, project="demo"):
	"""{id: service without id} as GET answers, or None."""
	r = api.services(project)
	d = r.json()
	if r.status != 200 or not isinstance(d, dict):
		return None
	out = {}
	for s in d.get("result", []):
		s = dict(s)
		out[s.pop("id")] = s
	return out


def realpath(path):
	return os.path.realpath(path)


def two_projects(tmp, up, port, aport, workers=2):
	"""A config with the API on (tokenLifetime 600): project "demo" with
	services arith (adder: allow, authed: authenticated, at upstream up)
	and zeta (st: /status/200, no method), project "other" with none."""
	svcs = {"arith": {"url": up.url, "endpoints": {
	    "adder": T.endpoint("/adder"),
	    "authed": T.endpoint("/echo", rule={"rule": "authenticated"})}},
	    "zeta": {"url": up.url, "endpoints": {"st": {"path":
	        "/status/200", "rule": {"rule": "allow"}}}}}
	return config(tmp, port, aport, svcs, workers=workers,
	    admin={"tokenLifetime": 600}, projects={
	    "demo": {"secrets": [{"alg": "HS256", "secret": "s3cret",
	        "isPrimary": True}], "remoteServices": svcs},
	    "other": {"remoteServices": {}}})
