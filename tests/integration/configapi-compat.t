#!/usr/bin/python3
# configapi-compat.t: Space Cloud's own clients on the config API (SPEC
# 9.3): the requests of space-cli (login ?cli=true, "apply" of a
# remote-service spec with no Content-Type, "get remote-services",
# "delete remote-services") and Mission Control's Service object with
# its unused template members, captured in their exact shapes; and
# tools/switchyard-import agreeing with the API.  Cases (-k): spacecli,
# missioncontrol, import.

import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
import sycfg as C
from sytest import endpoint as E

SVC_API = "/v1/config/projects/{project}/remote-service/service/{id}"


def mc_endpoint(**kw):
	"""An endpoint as Mission Control's service form posts it (Space
	Cloud's model.Endpoint with every member, unused ones empty)."""
	ep = {"kind": "internal", "method": "POST", "path": "/",
	    "rule": {"rule": "allow"}, "token": "", "claims": "",
	    "template": "go", "requestTemplate": "", "responseTemplate": "",
	    "graphTemplate": "", "outputFormat": "yaml",
	    "requestPayloadFormat": "json", "headers": [], "timeout": 60,
	    "cacheOptions": []}
	ep.update(kw)
	return ep


def space_cli(api, method, path, body=None):
	"""A request as space-cli's transport sends it: the token as a
	bearer, a JSON body without Content-Type, {} on GET and DELETE."""
	h = {"Authorization": "Bearer " + api.token}
	if body is None:
		body = "{}"
	return T.request(api.port, method, path, json.dumps(body) if not
	    isinstance(body, str) else body, h)


def case_spacecli(tap, api, up, port):
	r = T.request(api.port, "POST", "/v1/config/login?cli=true",
	    json.dumps({"user": C.USER, "key": C.KEY}),
	    {"Content-Type": "application/json"})
	d = r.json() or {}
	tap.ok(r.status == 200 and isinstance(d.get("token"), str),
	    "space-cli login: {token}", r.describe())
	api.token = d.get("token")
	# space-cli apply of a spec file:
	#   api: /v1/config/projects/{project}/remote-service/service/{id}
	#   type: remote-service
	#   meta: {id: billing, project: demo}
	#   spec: {url: ..., endpoints: {...}}
	# posts "spec" to the api with the meta filled in
	spec = {"url": up.url, "endpoints": {
	    "charge": {"kind": "internal", "method": "POST", "path":
	        "/adder", "rule": {"rule": "allow"}, "timeout": 10,
	        "template": "go", "requestTemplate": "", "responseTemplate":
	        "", "graphTemplate": "", "outputFormat": "json", "headers":
	        [], "cacheOptions": []},
	    "who": {"method": "GET", "path": "/echo/{args.id}", "rule":
	        {"rule": "authenticated"}, "headers": [{"key": "X-User",
	        "value": "auth.sub", "op": "set"}]}}}
	path = SVC_API.format(project="demo", id="billing")
	r = space_cli(api, "POST", path, spec)
	tap.ok(r.status == 200 and r.json() == {}, "space-cli apply: 200 {}",
	    r.describe())
	r = T.call(port, "billing", "charge", {"num1": 4, "num2": 5})
	tap.ok(r.status == 200 and r.json() == {"sum": 9},
	    "space-cli apply: served", r.describe())
	tok = T.jwt_hs256({"sub": "u7", "exp": 4102444800}, "s3cret")
	r = T.call(port, "billing", "who", {"id": "42"}, headers={
	    "Authorization": "Bearer " + tok})
	d = r.json() or {}
	tap.ok(r.status == 200 and d.get("path") == "/echo/42" and
	    d.get("method") == "GET" and d["headers"].get("x-user") == "u7",
	    "space-cli apply: the GET endpoint with a header from a claim",
	    r.describe())
	# space-cli get remote-services [id]
	r = space_cli(api, "GET", C.SVC % "demo")
	d = r.json() or {}
	got = {s["id"]: s for s in d.get("result", [])}
	tap.is_(got.get("billing"), dict(spec, id="billing"),
	    "space-cli get: the spec as applied, members kept")
	r = space_cli(api, "GET", C.SVC % "demo" + "?id=billing")
	tap.is_((r.json() or {}).get("result"), [dict(spec, id="billing")],
	    "space-cli get with an id: a one-element list")
	# space-cli delete remote-services billing
	r = space_cli(api, "DELETE", path)
	tap.is_(r.status, 200, "space-cli delete: 200")
	tap.is_(T.call(port, "billing", "charge", {}).status, 404,
	    "space-cli delete: no longer served")


def case_missioncontrol(tap, api, up, port):
	svc = {"id": "arith2", "url": up.url, "endpoints": {
	    "adder": mc_endpoint(path="/adder"),
	    "secret": mc_endpoint(path="/echo", rule={"rule": "deny",
	        "error": "private"}),
	    "ext": mc_endpoint(kind="external", method="GET",
	        path=up.url + "/status/201", timeout=5)}}
	r = api.set("arith2", svc)
	tap.ok(r.status == 200 and r.json() == {},
	    "Mission Control Service: 200 {}", r.describe())
	r = T.call(port, "arith2", "adder", {"num1": 1, "num2": 1})
	tap.ok(r.status == 200 and r.json() == {"sum": 2},
	    "Mission Control Service: served (template members ignored)",
	    r.describe())
	tap.is_(T.call(port, "arith2", "ext", {}).status, 201,
	    "Mission Control Service: an external endpoint")
	r = T.call(port, "arith2", "secret", {}, headers={"Authorization":
	    "Bearer " + T.jwt_hs256({"sub": "u"}, "s3cret")})
	tap.is_(r.status, 403, "Mission Control Service: a deny rule")
	tap.is_(C.served_services(api).get("arith2"),
	    {k: v for k, v in svc.items() if k != "id"},
	    "Mission Control Service: GET gives every member back")
	stored = C.file_services(C.realpath(api.cfgfile))["arith2"]
	tap.ok("id" not in stored and stored["endpoints"]["adder"][
	    "outputFormat"] == "yaml", "Mission Control Service: stored "
	    "without id, unused members kept")
	# what cannot be honoured is refused at its path
	for member, value in (("requestTemplate", '{"n": {{.args.n}}}'),
	    ("responseTemplate", "{{.response}}"),
	    ("graphTemplate", "query { a }"), ("claims", '{"a": 1}'),
	    ("cacheOptions", ["args.n"])):
		bad = json.loads(json.dumps(svc))
		bad["endpoints"]["adder"][member] = value
		r = api.set("arith2", bad)
		d = r.json() or {}
		paths = [e.get("path") for e in d.get("errors", [])]
		tap.ok(r.status == 400 and
		    "projects.demo.remoteServices.arith2.endpoints.adder." +
		    member in paths, "Mission Control Service: a non-empty "
		    "%s is 400 at its path" % member, r.describe())
	for member, value in (("claims", None), ("cacheOptions", None),
	    ("requestTemplate", None), ("outputFormat", "json"),
	    ("template", "other"), ("requestPayloadFormat", "form-data")):
		ok = json.loads(json.dumps(svc))
		ok["endpoints"]["adder"][member] = value
		r = api.set("arith2", ok)
		tap.is_(r.status, 200, "Mission Control Service: %s %r is "
		    "accepted" % (member, value), r.describe())
	r = api.set("arith2", dict(svc, endpoints={"adder": mc_endpoint(
	    path="/echo", token="static-token")}))
	r2 = T.call(port, "arith2", "adder", {})
	d = r2.json() or {}
	tap.ok(r.status == 200 and d.get("headers", {}).get(
	    "authorization") == "Bearer static-token",
	    "Mission Control Service: a non-empty token is sent", r2.describe())


def sc_yaml(project, services):
	"""space-cli's "get remote-services" output for services."""
	docs = []
	for sid, spec in services.items():
		docs.append("api: %s\ntype: remote-service\nmeta:\n  id: %s\n"
		    "  project: %s\nspec: %s\n" % (SVC_API, sid, project,
		    json.dumps(spec)))
	return "---\n".join(docs)


def echo_view(r):
	"""What a call's echo answer says about the upstream request."""
	if not isinstance(r, T.Response):
		return repr(r)
	d = r.json()
	if r.status != 200 or not isinstance(d, dict):
		return (r.status, r.body)
	h = {k: v for k, v in d.get("headers", {}).items() if k.lower() in
	    ("x-user", "x-tag", "authorization", "content-type")}
	return (r.status, d.get("method"), d.get("path"), d.get("query"),
	    d.get("body"), h)


def case_import(tap, env, tmp, up):
	tool = os.path.join(env.srcdir, "tools", "switchyard-import")
	services = {
	    "arith": {"url": up.url, "endpoints": {
	        "adder": mc_endpoint(path="/adder", outputFormat="json"),
	        "get": mc_endpoint(method="GET", path="/echo/{args.id}",
	            outputFormat="json", rule={"rule": "authenticated"},
	            headers=[{"key": "X-User", "value": "auth.sub",
	            "op": "set"}, {"key": "X-Tag", "value": "t1",
	            "op": "add"}])}},
	    "ext": {"url": "", "endpoints": {"e": mc_endpoint(
	        kind="external", path=up.url + "/echo/x", outputFormat="json",
	        rule={"rule": "match", "type": "string", "eval": "==",
	        "f1": "args.auth.sub", "f2": "u9"})}},
	}
	scfile = os.path.join(tmp, "sc.yaml")
	with open(scfile, "w") as f:
		f.write(sc_yaml("demo", services))
	port1, port2, aport = T.free_port(), T.free_port(), T.free_port()
	base = C.config(tmp, port1, None, {}, workers=1)
	basefile = os.path.join(tmp, "base-import.json")
	with open(basefile, "w") as f:
		json.dump(base, f)
	rc, out, err = T.run([tool, "-b", basefile, scfile])
	tap.is_(rc, 0, "import: switchyard-import converts", err)
	imported = json.loads(out)
	a = T.Daemon(env, tmp, imported, name="imported").start()
	b = T.Daemon(env, tmp, C.config(tmp, port2, aport, {}, workers=1),
	    name="posted").start()
	api = C.Api(aport)
	api.login()
	for sid, spec in services.items():
		r = api.req("POST", SVC_API.format(project="demo", id=sid),
		    json.dumps(spec))
		tap.is_(r.status, 200, "import: POST of %s as space-cli "
		    "applies it" % sid, r.describe())
	tok = T.jwt_hs256({"sub": "u9", "exp": 4102444800}, "s3cret")
	for sid, spec in sorted(services.items()):
		for ep in sorted(spec["endpoints"]):
			for params in ({"id": "7", "num1": 1, "num2": 2}, {}):
				ra = T.try_call(port1, sid, ep, params, headers={
				    "Authorization": "Bearer " + tok})
				rb = T.try_call(port2, sid, ep, params, headers={
				    "Authorization": "Bearer " + tok})
				tap.is_(echo_view(rb), echo_view(ra),
				    "import: %s/%s %s: the same upstream "
				    "request either way" % (sid, ep,
				    json.dumps(params)))
	want = imported["projects"]["demo"]["remoteServices"]
	got = C.served_services(api)
	tap.is_(sorted(got), sorted(want), "import: the same services")
	for sid in sorted(want):
		eps_a = {k: {m: v for m, v in e.items() if m in ("method",
		    "path", "rule", "kind", "headers")}
		    for k, e in want[sid]["endpoints"].items()}
		eps_b = {k: {m: v for m, v in e.items() if m in ("method",
		    "path", "rule", "kind", "headers") and v != [] and
		    (m, v) != ("kind", "internal")}
		    for k, e in got.get(sid, {"endpoints": {}})[
		    "endpoints"].items()}
		for e in eps_a.values():
			for h in e.get("headers", []):
				h.setdefault("op", "set")
		tap.is_(eps_b, eps_a, "import: %s: the same method, path, "
		    "kind, rule and headers" % sid)
	a.stop()
	b.stop()


def main(tap):
	env = T.require_env()
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port, aport = T.free_port(), T.free_port()
	cfg = C.config(tmp, port, aport, {"arith": {"url": up.url,
	    "endpoints": {"adder": E("/adder")}}})
	sy = T.Daemon(env, tmp, cfg).start()
	api = C.Api(aport)
	api.cfgfile = sy.cfgfile
	if api.login().status != 200:
		raise T.Bail("cannot log in")
	if T.selected("spacecli"):
		case_spacecli(tap, api, up, port)
	if T.selected("missioncontrol"):
		case_missioncontrol(tap, api, up, port)
	sy.stop()
	if T.selected("import"):
		case_import(tap, env, tmp, up)


T.run_main(None, main)
