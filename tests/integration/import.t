#!/usr/bin/python3
# import.t: tools/switchyard-import converts Space Cloud's remote-service
# configuration (space-cli YAML documents, and the admin API's JSON answer)
# into a configuration that "switchyard -t" accepts and that serves the
# same endpoints; every field it cannot carry over is named on stderr
# with its path, and nothing else is.

import json
import os
import stat
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T

EP = "projects.demo.remoteServices.arith.endpoints"

# Space Cloud's endpoint, as Mission Control and space-cli write it: every
# template member present, empty when unused.
SC_DEFAULTS = {"kind": "internal", "template": "go", "requestTemplate": "",
    "responseTemplate": "", "graphTemplate": "", "outputFormat": "json",
    "headers": [], "cacheOptions": [], "timeout": 0}


def sc_endpoint(**kw):
	ep = dict(SC_DEFAULTS)
	ep.update(kw)
	return ep


def yaml_doc(typ, meta, spec, api):
	"""One space-cli document; JSON is YAML, but the layout is space-cli's
	(block style for the envelope, flow style for the spec)."""
	lines = ["api: %s" % api, "type: %s" % typ, "meta:"]
	lines += ["  %s: %s" % (k, v) for k, v in meta.items()]
	lines.append("spec: " + json.dumps(spec))
	return "\n".join(lines) + "\n"


def main(tap):
	env = T.require_env()
	tmp = T.tmpdir()
	tool = os.path.join(env.srcdir, "tools", "switchyard-import")
	if not os.access(tool, os.X_OK):
		raise T.Bail("%s is not executable" % tool)
	up = T.Upstream(env, tmp).start()
	port = T.free_port()

	endpoints = {
	    "adder": sc_endpoint(method="POST", path="/adder",
	        rule={"rule": "allow"}, timeout=10),
	    "echoget": sc_endpoint(method="GET", path="/echo/{args.id}",
	        rule={"rule": "authenticated"}, headers=[{"key": "X-Imported",
	        "value": "yes", "op": ""}, {"key": "X-Sub", "value": "auth.sub",
	        "op": "set"}]),
	    "private": sc_endpoint(path="/echo", rule={"rule": "deny",
	        "error": "private endpoint"}),
	    "authed": sc_endpoint(path="/echo", rule={"rule": "authenticated"},
	        token=""),
	    "templated": sc_endpoint(path="/echo", rule={"rule": "allow"},
	        requestTemplate='{"n": {{.args.params.n}}}',
	        responseTemplate='{"r": {{.response}}}',
	        graphTemplate="query { x }", outputFormat="yaml",
	        claims='{"role": "admin"}', cacheOptions=["args.params.n"],
	        requestPayloadFormat="multipart/form-data"),
	    "queryrule": sc_endpoint(path="/echo", rule={"rule": "and",
	        "clauses": [{"rule": "authenticated"}, {"rule": "query",
	        "db": "db", "col": "users", "find": {"id": "args.auth.sub"}}]}),
	    "prep": sc_endpoint(kind="prepared", path="",
	        graphTemplate="query { x }"),
	    "bad name": sc_endpoint(path="/echo", rule={"rule": "allow"}),
	}
	ext_endpoints = {"created": sc_endpoint(kind="external",
	    path=up.url + "/status/201", rule={"rule": "allow"})}
	svc_api = "/v1/config/projects/{project}/remote-service/service/{id}"
	# a date left unquoted, as YAML users write it: it must stay a string
	dated = ("api: %s\ntype: remote-service\nmeta:\n  id: dates\n"
	    "  project: demo\nspec:\n  url: %s\n  endpoints:\n    past:\n"
	    "      method: POST\n      path: /echo\n      rule:\n"
	    "        rule: match\n        type: date\n        eval: \"<\"\n"
	    "        f1: 2000-01-01T00:00:00Z\n        f2: utils.now()\n" %
	    (svc_api, up.url))
	docs = [
	    yaml_doc("project", {"project": "demo"}, {"id": "demo", "name":
	        "Demo", "secrets": [{"isPrimary": True, "alg": "HS256",
	        "secret": "s3cret", "kid": "", "jwkUrl": "", "publicKey": "",
	        "privateKey": "", "aud": None, "iss": None}], "aesKey": "x"},
	        "/v1/config/projects/{project}"),
	    yaml_doc("remote-service", {"id": "arith", "project": "demo"},
	        {"url": up.url, "endpoints": endpoints}, svc_api),
	    yaml_doc("db-config", {"project": "demo", "dbAlias": "db", "id":
	        "db-config"}, {"conn": "postgres://x", "type": "postgres"},
	        "/v1/config/projects/{project}/database/{dbAlias}/config/{id}"),
	    yaml_doc("remote-service", {"id": "ext", "project": "demo"},
	        {"url": "", "endpoints": ext_endpoints}, svc_api),
	    dated,
	]
	scfile = os.path.join(tmp, "spacecloud.yaml")
	with open(scfile, "w") as f:
		f.write("---\n".join(docs))

	base = T.make_config(tmp, port, {}, workers=1, projects={})
	basefile = os.path.join(tmp, "base.json")
	with open(basefile, "w") as f:
		json.dump(base, f)

	# --- the YAML of space-cli
	rc, out, err = T.run([tool, "-b", basefile, scfile])
	tap.is_(rc, 0, "space-cli YAML: exits 0", err)
	try:
		cfg = json.loads(out)
	except ValueError:
		cfg = None
	tap.ok(isinstance(cfg, dict), "the output is JSON", out[:2000])
	if not isinstance(cfg, dict):
		raise T.Bail("no configuration to go on with")
	tap.is_(cfg.get("server"), base["server"], "-b keeps the base's server "
	    "section")
	demo = cfg.get("projects", {}).get("demo", {})
	tap.is_(demo.get("secrets"), [{"isPrimary": True, "alg": "HS256",
	    "secret": "s3cret"}], "the project document's secret is carried "
	    "over (Space Cloud's empty members dropped)")
	arith = demo.get("remoteServices", {}).get("arith", {})
	tap.is_(sorted(arith.get("endpoints", {})), sorted(["adder", "echoget",
	    "private", "authed", "templated", "queryrule"]),
	    "the endpoints that can be carried over are, the others not")
	tap.is_(arith["endpoints"].get("adder"), {"method": "POST", "path":
	    "/adder", "rule": {"rule": "allow"}, "timeout": 10},
	    "an ordinary endpoint converts to its switchyard form")
	past = demo.get("remoteServices", {}).get("dates", {}).get(
	    "endpoints", {}).get("past", {})
	tap.is_(past.get("rule", {}).get("f1"), "2000-01-01T00:00:00Z",
	    "an unquoted YAML date stays the string it was")

	lines = err.splitlines()

	def reported(path, *words):
		return [l for l in lines if (": " + path + ": ") in l and
		    all(w in l for w in words)]

	for path, words, desc in (
	    (EP + ".templated.requestTemplate", (), "requestTemplate"),
	    (EP + ".templated.responseTemplate", (), "responseTemplate"),
	    (EP + ".templated.graphTemplate", (), "graphTemplate"),
	    (EP + ".templated.outputFormat", ("yaml",), "outputFormat yaml"),
	    (EP + ".templated.claims", (), "claims"),
	    (EP + ".templated.cacheOptions", (), "cacheOptions"),
	    (EP + ".templated.requestPayloadFormat", ("multipart",),
	        "requestPayloadFormat"),
	    (EP + ".queryrule.rule.clauses[1].rule", ("query", "deny"),
	        "an unsupported rule (query), and that the endpoint now denies"),
	    (EP + ".prep.kind", ("prepared",), "a prepared endpoint"),
	    (EP + ".bad name", ("bad name",), "a name switchyard cannot route"),
	    ("document 3", ("db-config", "skipped"), "a document of another "
	        "type")):
		tap.ok(len(reported(path, *words)) == 1, "reported once, with "
		    "its path: %s" % desc, "stderr: %s" % err)
	for name in ("adder", "echoget", "private", "authed"):
		tap.ok(not [l for l in lines if ".%s" % name in l],
		    "nothing reported for the plain endpoint %s" % name)
	tap.ok(not [l for l in lines if ".secrets" in l], "nothing reported "
	    "for the project's secrets", err)

	# --- switchyard accepts it and serves the same endpoints
	cfgfile = os.path.join(tmp, "imported.json")
	with open(cfgfile, "w") as f:
		f.write(out)
	rc, sout, serr = T.run([env.switchyard, "-t", "-c", cfgfile])
	tap.ok(rc == 0 and "configuration ok" in sout, "switchyard -t accepts "
	    "the imported configuration", sout + serr)
	d = T.Daemon(env, tmp, cfg).start()
	tok = T.jwt_hs256({"sub": "u1", "exp": int(time.time()) + 600},
	    "s3cret")
	auth = {"Authorization": "Bearer " + tok}
	r = T.call(port, "arith", "adder", {"num1": 2, "num2": 3})
	tap.ok(r.status == 200 and r.json() == {"sum": 5}, "adder: 2 + 3 = 5",
	    r.describe())
	r = T.call(port, "arith", "echoget", {"id": "a b", "q": 1},
	    headers=auth)
	j = r.json() or {}
	hdrs = {k.lower(): v for k, v in (j.get("headers") or {}).items()} \
	    if isinstance(j.get("headers"), dict) else {}
	tap.ok(r.status == 200 and j.get("method") == "GET" and
	    j.get("path") == "/echo/a%20b" and "q=1" in j.get("query", ""),
	    "echoget: GET with the path variable and the params as query",
	    r.describe())
	tap.ok(hdrs.get("x-imported") == "yes" and hdrs.get("x-sub") == "u1",
	    "echoget: the header operations were carried over (a literal and "
	    "auth.sub)", r.describe())
	r = T.call(port, "arith", "private", {})
	tap.is_(r.status, 401, "private (deny): 401 without a token",
	    r.describe())
	r = T.call(port, "arith", "private", {}, headers=auth)
	tap.ok(r.status == 403 and "private endpoint" in r.body.decode(
	    "utf-8", "replace"), "private (deny): 403 with its error message "
	    "with a token", r.describe())
	r = T.call(port, "arith", "authed", {}, headers=auth)
	tap.is_(r.status, 200, "authed: 200 with a token", r.describe())
	r = T.call(port, "arith", "templated", {"n": 1})
	tap.ok(r.status == 200 and (r.json() or {}).get("path") == "/echo",
	    "templated: served, without its templates", r.describe())
	r = T.call(port, "arith", "queryrule", {}, headers=auth)
	tap.is_(r.status, 403, "queryrule: the rule that was not carried over "
	    "denies", r.describe())
	r = T.call(port, "arith", "prep", {})
	tap.is_(r.status, 404, "prep (not carried over): 404", r.describe())
	r = T.call(port, "ext", "created", {})
	tap.is_(r.status, 201, "an external endpoint calls its full URL",
	    r.describe())
	r = T.call(port, "dates", "past", {}, headers=auth)
	tap.is_(r.status, 200, "a match on dates passes", r.describe())
	d.stop()

	# --- the admin API's answer
	answer = {"result": [{"id": "arith", "project": "demo", "version": 7,
	    "url": up.url, "endpoints": endpoints}]}
	adminfile = os.path.join(tmp, "admin.json")
	with open(adminfile, "w") as f:
		json.dump(answer, f)
	rc, aout, aerr = T.run([tool, "-p", "demo", adminfile])
	try:
		acfg = json.loads(aout)
	except ValueError:
		acfg = {}
	tap.ok(rc == 0 and acfg.get("projects", {}).get("demo", {}).get(
	    "remoteServices", {}).get("arith") == arith,
	    "admin API JSON with -p: the same service as from the YAML",
	    "rc %r, stderr %s" % (rc, aerr))
	tap.ok("server" not in acfg and [l for l in aerr.splitlines() if
	    "projects.demo.secrets" in l], "without -b: projects only, and "
	    "the missing secrets are reported", aerr)
	tap.ok(not [l for l in aerr.splitlines() if ".version" in l or
	    ".project" in l], "the admin API's id, project and version are "
	    "not reported", aerr)
	rc, _, aerr2 = T.run([tool, adminfile])
	tap.ok(rc == 2 and "-p" in aerr2, "admin API JSON without -p: exit 2, "
	    "asks for -p", "rc %r: %s" % (rc, aerr2))
	outfile = os.path.join(tmp, "out.json")
	rc, oout, _ = T.run([tool, "-p", "demo", "-o", outfile, adminfile])
	try:
		with open(outfile) as f:
			written = f.read()
	except OSError:
		written = None
	tap.ok(rc == 0 and oout == "" and written == aout and
	    stat.S_IMODE(os.stat(outfile).st_mode) & 0o007 == 0,
	    "-o FILE: the same text, nothing on stdout, not world-readable")
	p = subprocess.run([tool, "-p", "demo"], input=json.dumps(
	    answer).encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
	    timeout=10)
	tap.ok(p.returncode == 0 and p.stdout.decode() == aout,
	    "standard input is read without FILE")

	# --- input it cannot use
	missing = os.path.join(tmp, "nope.yaml")
	rc, _, e = T.run([tool, missing])
	tap.ok(rc == 1 and missing in e, "an unreadable file: exit 1, named",
	    "rc %r: %s" % (rc, e))
	badf = os.path.join(tmp, "bad.yaml")
	with open(badf, "w") as f:
		f.write("type: remote-service\nspec: [unclosed\n")
	rc, _, e = T.run([tool, badf])
	tap.ok(rc == 1 and e.strip(), "neither JSON nor YAML: exit 1 with a "
	    "message", "rc %r: %s" % (rc, e))
	nonef = os.path.join(tmp, "none.yaml")
	with open(nonef, "w") as f:
		f.write(docs[2])
	rc, o, e = T.run([tool, nonef])
	tap.ok(rc == 1 and o == "" and "no remote service" in e,
	    "no remote service in the input: exit 1, no output", "rc %r: %s" %
	    (rc, e))


T.run_main(None, main, watchdog=90)
