#!/usr/bin/python3
# configapi.t: the config API (SPEC 9.1-9.8): login, tokens, the routes
# and their answers, every error row of 9.3, If-Match and the on-disk
# check, what is written to the file, and the audit lines.  Cases (-k):
# login, tokens, reads, writes, conflicts, unwritable, public, off,
# lockout, audit, reload.

import json
import os
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
import sycfg as C
from sytest import endpoint as E


def is_err(r, status):
	return r.status == status and T.is_error_doc(r)


def case_login(tap, api, sy):
	r = api.login()
	tap.is_(r.status, 200, "login: right user and key: 200", r.describe())
	tap.is_(r.header("Cache-Control"), "no-store", "login: no-store")
	tap.is_(r.media_type(), "application/json", "login: JSON")
	try:
		hdr, claims = T.jwt_decode_hs256(api.token, C.SECRET)
	except (ValueError, TypeError, AttributeError) as e:
		hdr, claims = None, {"error": str(e)}
	tap.is_(hdr, {"alg": "HS256", "typ": "JWT", "kid": "sc-admin-kid"},
	    "login: the token's header")
	tap.ok(claims.get("id") == C.USER and claims.get("role") == "admin"
	    and isinstance(claims.get("iat"), int) and claims.get("exp") ==
	    claims.get("iat", 0) + 600 and abs(claims["iat"] - time.time()) <
	    5, "login: claims id, role, iat and exp = iat + tokenLifetime",
	    repr(claims))
	r2 = api.req("POST", "/v1/config/login?cli=true", {"user": C.USER,
	    "key": C.KEY}, token=False)
	tap.is_(r2.status, 200, "login: ?cli=true is ignored")
	wrong_user = api.req("POST", "/v1/config/login", {"user": "root",
	    "key": C.KEY}, token=False)
	wrong_key = api.req("POST", "/v1/config/login", {"user": C.USER,
	    "key": C.KEY + "x"}, token=False)
	tap.ok(is_err(wrong_user, 401) and wrong_user.json()["error"] ==
	    "Invalid username or password provided",
	    "login: a wrong user is 401 with Space Cloud's message",
	    wrong_user.describe())
	tap.is_(wrong_key.body, wrong_user.body,
	    "login: a wrong key gets the same answer as a wrong user")
	r = api.req("POST", "/v1/config/login", {"user": C.USER},
	    token=False)
	tap.ok(is_err(r, 401), "login: a missing key is a failed login",
	    r.describe())
	for body in ("[1]", "nope", "", '"s"'):
		r = api.req("POST", "/v1/config/login", body, token=False)
		tap.ok(is_err(r, 400), "login: body %r is 400" % body,
		    r.describe())
	r = api.req("GET", "/v1/config/login", token=False)
	tap.ok(r.status == 405 and r.header("Allow") == "POST",
	    "login: GET is 405 with Allow: POST", r.describe())
	# refresh-token: a new token, fresh iat
	time.sleep(1.1)
	old = api.token
	r = api.req("GET", "/v1/config/refresh-token")
	d = r.json() or {}
	ok = r.status == 200 and isinstance(d.get("token"), str)
	if ok:
		_, c2 = T.jwt_decode_hs256(d["token"], C.SECRET)
		ok = c2["iat"] > claims.get("iat", 0) and c2["exp"] == \
		    c2["iat"] + 600
	tap.ok(ok, "refresh-token: a new token with a fresh iat/exp",
	    r.describe())
	r = api.req("GET", "/v1/config/refresh-token", token=False)
	tap.ok(is_err(r, 401), "refresh-token: needs a token", r.describe())
	api.token = old


def case_tokens(tap, api, sy, port):
	now = int(time.time())
	good = {"id": C.USER, "role": "admin", "iat": now, "exp": now + 600}
	kid = "sc-admin-kid"

	def alg_token(alg, claims, secret):
		hdr = {"alg": alg, "typ": "JWT", "kid": kid}
		si = T._b64u(json.dumps(hdr).encode()) + "." + \
		    T._b64u(json.dumps(claims).encode())
		if alg == "none":
			return si + "."
		import hashlib
		import hmac
		dig = hashlib.sha512 if alg == "HS512" else hashlib.sha256
		return si + "." + T._b64u(hmac.new(secret.encode(),
		    si.encode(), dig).digest())

	forged = T.jwt_hs256(good, C.SECRET)
	tap.is_(api.req("GET", "/v1/config/projects/*", token=forged).status,
	    200, "tokens: a token made with the admin secret passes (the "
	    "check is the token, not where it came from)")
	cases = [
	    ("no token", None),
	    ("a malformed token", "abc.def"),
	    ("another secret", T.jwt_hs256(good, C.SECRET + "x", kid)),
	    ("alg none", alg_token("none", good, "")),
	    ("HS512", alg_token("HS512", good, C.SECRET)),
	    ("expired a minute ago", T.jwt_hs256(dict(good, iat=now - 700,
	        exp=now - 60), C.SECRET, kid)),
	    ("role not admin", T.jwt_hs256(dict(good, role="user"),
	        C.SECRET, kid)),
	    ("another user", T.jwt_hs256(dict(good, id="root"), C.SECRET,
	        kid)),
	    ("a project's caller token", T.jwt_hs256(dict(good,
	        sub="u1"), "s3cret")),
	]
	for name, tok in cases:
		h = {} if tok is None else {"Authorization": "Bearer " + tok}
		for method, path in (("GET", "/v1/config/projects/*"),
		    ("POST", C.SVC % "demo" + "/x")):
			r = T.request(api.port, method, path, "{}" if method ==
			    "POST" else None, h)
			tap.ok(is_err(r, 401), "tokens: %s: %s %s is 401" %
			    (name, method, path), r.describe())
	r = T.request(api.port, "GET", "/v1/config/projects/*", None,
	    {"Authorization": "bEaReR " + api.token})
	tap.is_(r.status, 200, "tokens: the scheme is case-insensitive")
	# an admin token is no caller token on the public API
	r = T.call(port, "arith", "authed", {"a": 1}, headers={
	    "Authorization": "Bearer " + api.token})
	tap.is_(r.status, 401, "tokens: an admin token is refused by the "
	    "public API", r.describe())
	r = T.call(port, "arith", "authed", {"a": 1}, headers={
	    "Authorization": "Bearer " + T.jwt_hs256({"sub": "u1",
	    "exp": now + 60}, "s3cret")})
	tap.is_(r.status, 200, "tokens: (the project's token passes there)",
	    r.describe())


def case_reads(tap, api, sy, up, port):
	r = api.req("GET", "/v1/config/env", token=False)
	d = r.json() or {}
	tap.ok(r.status == 200 and d.get("isProd") is True and
	    d.get("clusterType") == "none" and d.get("loginURL") == "/" and
	    d.get("publicURL") == "http://127.0.0.1:%d" % port and
	    isinstance(d.get("version"), str),
	    "env: Space Cloud's members and publicURL", r.describe())
	r = api.req("GET", "/v1/config/projects/*")
	tap.is_(r.json(), {"result": [{"id": "demo", "name": "demo"},
	    {"id": "other", "name": "other"}]},
	    "projects/*: every project, sorted, nothing else", r.describe())
	r = api.req("GET", "/v1/config/projects/other")
	tap.is_(r.json(), {"result": [{"id": "other", "name": "other"}]},
	    "projects/P: the one project")
	r = api.req("GET", "/v1/config/projects/nope")
	tap.ok(is_err(r, 404) and r.json()["error"] ==
	    "project (nope) not found", "projects/P: unknown is 404",
	    r.describe())
	r = api.services()
	d = r.json() or {}
	with open(sy.cfgfile) as f:
		want = json.load(f)["projects"]["demo"]["remoteServices"]
	got = {s["id"]: {k: v for k, v in s.items() if k != "id"}
	    for s in d.get("result", [])}
	tap.is_(got, want, "services: each one as in the file (no defaults "
	    "filled in)", r.describe())
	tap.is_([s["id"] for s in d.get("result", [])], sorted(want),
	    "services: sorted by id")
	tap.is_(list(d["result"][0].keys())[0], "id", "services: id first")
	etag = r.header("ETag")
	tap.like(etag or "", r'^"g\d+-[0-9a-f]{12}"$', "services: an ETag")
	tags = set()
	for _ in range(12):
		tags.add(api.services().header("ETag"))
	tap.is_(tags, {etag}, "services: every worker gives the same ETag")
	r = api.services(sid="arith")
	tap.ok(r.status == 200 and [s["id"] for s in r.json()["result"]] ==
	    ["arith"], "services?id=S: a one-element list", r.describe())
	r = api.services(sid="nope")
	tap.ok(is_err(r, 404) and r.json()["error"] ==
	    "service with id (nope) does not exist", "services?id=: unknown "
	    "is 404", r.describe())
	r = api.services(project="nope")
	tap.ok(is_err(r, 404), "services: unknown project is 404")
	for path in ("/v1/config/", "/v1/config/nope", "/v1/config/projects",
	    "/v1/config/projects/demo/database/x",
	    "/v1/config/projects/demo/remote-service/service/a/b"):
		r = api.req("GET", path)
		tap.ok(is_err(r, 404), "GET %s is 404" % path, r.describe())
	for method, path, allow in (
	    ("POST", "/v1/config/projects/*", "GET"),
	    ("PUT", C.SVC % "demo", "GET"),
	    ("GET", C.SVC % "demo" + "/arith", "POST, DELETE"),
	    ("POST", "/v1/config/env", "GET"),
	    ("DELETE", "/v1/config/refresh-token", "GET")):
		r = api.req(method, path, "{}" if method != "GET" else None)
		tap.ok(r.status == 405 and r.header("Allow") == allow,
		    "%s %s is 405 with Allow: %s" % (method, path, allow),
		    r.describe())
	for p in (api.port, port):
		r = T.request(p, "GET", "/v1/api/health-check")
		tap.ok(r.status == 200 and r.json() == {},
		    "health-check on port %d: 200 {}" % p, r.describe())
	r = api.req("GET", "/v1/config/projects/*", body="{}")
	tap.is_(r.status, 200, "a body on GET is ignored")
	tap.is_(r.header("Access-Control-Allow-Origin"), None,
	    "no Access-Control-Allow-Origin on the admin listener")
	r = api.req("GET", "/v1/config/projects/*", headers={"Origin":
	    "https://evil.example"})
	tap.ok(r.header("Access-Control-Allow-Origin") is None and
	    r.header("Set-Cookie") is None, "not with an Origin either, and "
	    "no cookie")
	r = api.req("GET", "/")
	tap.ok(r.status == 200 and r.media_type() == "text/html",
	    "/ is the web console (console.t tests it)", r.describe())
	r = api.req("GET", "/healthz", token=False)
	tap.is_(r.status, 200, "/healthz still answers")


def case_writes(tap, api, sy, up, port):
	cfg = sy.cfgfile
	before = api.services().header("ETag")
	svc = {"id": "ignored", "url": up.url, "endpoints": {"add": {
	    "path": "/adder", "rule": {"rule": "allow"}}}}
	r = api.set("calc", svc)
	tap.ok(r.status == 200 and r.json() == {},
	    "POST: 200 {} (created)", r.describe())
	etag = r.header("ETag")
	tap.ok(etag is not None and etag != before,
	    "POST: answers with a new ETag", "%r %r" % (etag, before))
	tap.is_(api.services().header("ETag"), etag,
	    "POST: GET gives the ETag of the write")
	r = T.call(port, "calc", "add", {"num1": 2, "num2": 3})
	tap.ok(r.status == 200 and r.json() == {"sum": 5},
	    "POST: the new service is served", r.describe())
	stored = C.file_services(cfg).get("calc")
	tap.is_(stored, {"url": up.url, "endpoints": {"add": {
	    "path": "/adder", "rule": {"rule": "allow"}}}},
	    "POST: written to the file as given, without the body's id")
	r = api.services(sid="calc")
	tap.is_((r.json() or {}).get("result"), [dict(stored, id="calc")],
	    "POST: GET returns it as stored (no method, no timeout added)")
	text = C.read_bytes(cfg).decode()
	tap.ok(text.endswith("}\n") and '\n  "server": {\n' in text,
	    "the file: two-space indent, a final newline")
	tap.ok(os.path.exists(cfg + ".bak") and "calc" not in
	    C.read_bytes(cfg + ".bak").decode(), "the file: FILE.bak holds "
	    "the version before")
	rc, out, err = T.run([sy.env.switchyard, "-t", "-c", cfg])
	tap.is_(rc, 0, "the file: -t accepts it", out + err)
	# replace as a whole
	r = api.set("calc", {"url": up.url, "endpoints": {"st": E(
	    "/status/201")}})
	tap.is_(r.status, 200, "POST again: replaced", r.describe())
	r = T.call(port, "calc", "add", {"num1": 2, "num2": 3})
	tap.is_(r.status, 404, "POST again: the old endpoint is gone")
	tap.is_(T.call(port, "calc", "st", {}).status, 201,
	    "POST again: the new endpoint is served")
	# invalid: 400 with every path, nothing changed
	text = C.read_bytes(cfg)
	etag = api.services().header("ETag")
	bad = {"url": "ftp://x", "endpoints": {"e": {"path": "/x"},
	    "f": {"path": "/y", "rule": {"rule": "allow"}, "kind": "odd"}}}
	r = api.set("calc", bad)
	d = r.json() or {}
	paths = sorted(e.get("path") for e in d.get("errors", []))
	tap.ok(is_err(r, 400) and d["error"].startswith(
	    "invalid configuration: "), "invalid: 400 invalid configuration",
	    r.describe())
	tap.is_(paths, ["projects.demo.remoteServices.calc.endpoints.e",
	    "projects.demo.remoteServices.calc.endpoints.f.kind",
	    "projects.demo.remoteServices.calc.url"],
	    "invalid: every problem with its JSON path")
	tap.is_(C.read_bytes(cfg), text, "invalid: the file is unchanged")
	tap.is_(api.services().header("ETag"), etag,
	    "invalid: the ETag is unchanged")
	tap.is_(T.call(port, "calc", "st", {}).status, 201,
	    "invalid: the old registry keeps serving")
	for body, what in (("not json", "not JSON"), ("[]", "an array"),
	    ('{"url": 1, "url": 2}', "a duplicate member")):
		r = api.set("calc", body)
		tap.ok(is_err(r, 400), "POST: a body that is %s is 400" % what,
		    r.describe())
	for sid in ("a.b", "x" * 65, "sp%20ace"):
		r = api.set(sid, {"url": up.url, "endpoints": {}})
		tap.ok(is_err(r, 400), "POST: service id %r is 400" % sid,
		    r.describe())
	r = api.set("calc", {"url": up.url, "endpoints": {}}, project="nope")
	tap.ok(is_err(r, 404) and r.json()["error"] ==
	    "project (nope) not found", "POST: unknown project is 404",
	    r.describe())
	r = api.set("calc", {"url": up.url, "endpoints": {"e": E("/echo",
	    timeout=1)}, "pad": "x" * 5000})
	tap.is_(r.status, 413, "POST: a body over maxBodyBytes is 413",
	    r.describe())
	tap.is_(C.read_bytes(cfg), text, "the refused writes changed nothing")
	# delete
	r = api.delete("calc")
	tap.ok(r.status == 200 and r.json() == {} and
	    r.header("ETag") not in (None, etag), "DELETE: 200 {} and a new "
	    "ETag", r.describe())
	tap.is_(T.call(port, "calc", "st", {}).status, 404,
	    "DELETE: no longer served")
	tap.ok("calc" not in C.file_services(cfg), "DELETE: gone from the "
	    "file")
	r = api.delete("calc")
	tap.is_(r.status, 200, "DELETE of no such service: 200")
	r = api.req("DELETE", C.SVC % "demo" + "/nope", body="{}")
	tap.is_(r.status, 200, "DELETE: a body is ignored")
	# everything outside the service kept as it was
	with open(cfg) as f:
		doc = json.load(f)
	want = json.loads(json.dumps(sy.config))
	tap.is_(doc, want, "after create and delete the document equals the "
	    "original (server section and secrets included)")
	# a restart keeps every change
	r = api.set("kept", {"url": up.url, "endpoints": {"st": E(
	    "/status/202")}})
	n = sy.log().count("reloaded: registry generation")
	sy.kill(signal.SIGHUP)
	tap.ok(T.wait_until(lambda: sy.log().count("reloaded: registry "
	    "generation") > n, 5), "a SIGHUP after a write: reloaded")
	tap.is_(T.call(port, "kept", "st", {}).status, 202,
	    "a SIGHUP after a write keeps it")


def case_conflicts(tap, api, sy, up, port):
	etag = api.services().header("ETag")
	svc = {"url": up.url, "endpoints": {"st": E("/status/203")}}
	r = api.set("m1", svc, headers={"If-Match": '"g0-000000000000"'})
	tap.ok(is_err(r, 409), "If-Match: a stale ETag is 409", r.describe())
	tap.ok("m1" not in C.file_services(sy.cfgfile),
	    "If-Match: nothing written")
	r = api.set("m1", svc, headers={"If-Match": etag})
	tap.is_(r.status, 200, "If-Match: the current ETag applies")
	r = api.set("m1", svc, headers={"If-Match": etag})
	tap.ok(is_err(r, 409), "If-Match: the same ETag again is 409")
	r = api.delete("m1", headers={"If-Match": "*"})
	tap.is_(r.status, 200, "If-Match: * always matches")
	# a token is checked before If-Match
	r = api.req("POST", C.SVC % "demo" + "/m1", svc, token=False,
	    headers={"If-Match": '"x"'})
	tap.is_(r.status, 401, "order: the token before If-Match")
	# edited on disk without a reload
	with open(sy.cfgfile) as f:
		doc = json.load(f)
	doc["projects"]["demo"]["remoteServices"]["hand"] = {"url": up.url,
	    "endpoints": {"st": E("/status/204")}}
	text = json.dumps(doc, indent=4)
	with open(sy.cfgfile, "w") as f:
		f.write(text)
	r = api.set("m2", svc)
	tap.ok(is_err(r, 409) and "changed on disk" in r.json()["error"],
	    "a hand edit without a reload: 409", r.describe())
	tap.is_(C.read_bytes(sy.cfgfile).decode(), text,
	    "a hand edit without a reload: the edit is not overwritten")
	os.utime(sy.cfgfile)
	sy.kill(signal.SIGHUP)
	ok = T.wait_until(lambda: T.call(port, "hand", "st", {}).status ==
	    204, 3)
	tap.ok(ok, "after the reload the edit is served")
	r = api.set("m2", svc)
	tap.is_(r.status, 200, "after the reload writes apply again",
	    r.describe())
	sv = C.file_services(sy.cfgfile)
	tap.ok("hand" in sv and "m2" in sv, "both the edit and the write are "
	    "in the file")
	# a touch alone is no change
	os.utime(sy.cfgfile, (1, 1))
	r = api.delete("m2")
	tap.is_(r.status, 200, "a touch alone is no change on disk")


def case_unwritable(tap, api, sy, up, port, tmp):
	cfg = sy.cfgfile
	svc = {"url": up.url, "endpoints": {"st": E("/status/205")}}
	text = C.read_bytes(cfg)
	etag = api.services().header("ETag")
	# FILE.tmp in the way: someone else's, never removed
	with open(cfg + ".tmp", "w") as f:
		f.write("someone else's\n")
	r = api.set("u1", svc)
	tap.ok(is_err(r, 500) and cfg + ".tmp" in r.json()["error"],
	    "FILE.tmp in the way: 500 naming it", r.describe())
	tap.is_(C.read_bytes(cfg + ".tmp"), b"someone else's\n",
	    "FILE.tmp in the way: left alone")
	os.unlink(cfg + ".tmp")
	# FILE.bak cannot be written: FILE.tmp removed, nothing changed
	os.unlink(cfg + ".bak") if os.path.exists(cfg + ".bak") else None
	os.mkdir(cfg + ".bak")
	r = api.set("u1", svc)
	tap.ok(is_err(r, 500) and cfg + ".bak" in r.json()["error"],
	    "FILE.bak cannot be written: 500 naming it", r.describe())
	tap.ok(not os.path.exists(cfg + ".tmp"), "FILE.bak cannot be "
	    "written: the FILE.tmp of this write is removed")
	os.rmdir(cfg + ".bak")
	# a directory nobody may write in (immutable, so that root is
	# refused too)
	rc, out, err = T.run(["chattr", "+i", tmp])
	tap.is_(rc, 0, "chattr +i on the config directory", out + err)
	try:
		r = api.set("u1", svc)
		err = (r.json() or {}).get("error", "")
		tap.ok(is_err(r, 500) and cfg in err and
		    "Operation not permitted" in err, "an unwritable "
		    "directory: 500 naming the file and the reason",
		    r.describe())
	finally:
		T.run(["chattr", "-i", tmp])
	tap.is_(C.read_bytes(cfg), text, "the failed writes left FILE alone")
	tap.is_(api.services().header("ETag"), etag,
	    "the failed writes left the registry alone")
	tap.is_(T.call(port, "u1", "st", {}).status, 404,
	    "nothing of the failed writes is served")
	r = api.set("u1", svc)
	tap.is_(r.status, 200, "once writable again, the write applies")


def case_lockout(tap, env, tmp, up):
	port, aport = T.free_port(), T.free_port()
	cfg = C.config(tmp, port, aport, {"arith": {"url": up.url,
	    "endpoints": {"adder": E("/adder")}}}, workers=3, admin={
	    "maxLoginFailures": 3, "loginLockout": 2})
	sy = T.Daemon(env, tmp, cfg, name="lockout").start()
	api = C.Api(aport)
	got = [api.login(key="wrong-key-123").status for _ in range(3)]
	tap.is_(got, [401, 401, 401], "lockout: the first 3 failures are 401")
	r = api.login()
	tap.ok(r.status == 429 and r.header("Retry-After") in ("1", "2") and
	    T.is_error_doc(r), "lockout: then even the right key is 429 with "
	    "Retry-After", r.describe())
	r = api.login(key="wrong-key-123")
	tap.is_(r.status, 429, "lockout: a wrong key too (not counted)")
	time.sleep(2.2)
	r = api.login()
	tap.is_(r.status, 200, "lockout: over after loginLockout seconds")
	got = [api.login(key="wrong-key-123").status for _ in range(2)]
	got.append(api.login().status)
	got.append(api.login(key="wrong-key-123").status)
	tap.is_(got, [401, 401, 200, 401], "lockout: a success resets the "
	    "count")
	log = sy.log()
	tap.like(log, r'admin: 127\.0\.0\.1:\d+ login locked out \(429\)',
	    "lockout: audit line")
	sy.stop()


def case_public(tap, env, tmp, up):
	svcs = {"arith": {"url": up.url, "endpoints": {"adder": E("/adder")}}}
	port, aport = T.free_port(), T.free_port()
	sy = T.Daemon(env, tmp, C.config(tmp, port, aport, svcs),
	    name="private").start()
	for path in ("/v1/config/login", "/v1/config/projects/*", "/"):
		r = T.request(port, "POST", path, json.dumps({"user": C.USER,
		    "key": C.KEY}))
		tap.ok(r.status == 404 and b"token" not in r.body,
		    "servePublic off: %s on the public port is 404" % path,
		    r.describe())
	sy.stop()
	port, aport = T.free_port(), T.free_port()
	sy = T.Daemon(env, tmp, C.config(tmp, port, aport, svcs, admin={
	    "servePublic": True}), name="public").start()
	api = C.Api(port)
	tap.is_(api.login().status, 200, "servePublic: login on the public "
	    "port")
	r = api.set("p1", {"url": up.url, "endpoints": {"st": E(
	    "/status/206")}})
	tap.is_(r.status, 200, "servePublic: a write on the public port")
	tap.is_(T.call(port, "p1", "st", {}).status, 206,
	    "servePublic: served")
	tap.is_(T.request(port, "GET", "/").status, 404,
	    "servePublic: no console on the public port")
	sy.stop()
	# no admin listener, servePublic: the API on the public port only
	port = T.free_port()
	sy = T.Daemon(env, tmp, C.config(tmp, port, None, svcs, admin={
	    "servePublic": True}), name="noadmin").start()
	tap.is_(C.Api(port).login().status, 200, "admin.listen null and "
	    "servePublic: login on the public port")
	sy.stop()


def case_off(tap, env, tmp, up):
	port, aport = T.free_port(), T.free_port()
	cfg = T.make_config(tmp, port, {"arith": {"url": up.url,
	    "endpoints": {"adder": E("/adder")}}}, server={"admin": {
	    "listen": "127.0.0.1:%d" % aport}})
	sy = T.Daemon(env, tmp, cfg, name="off").start()
	for p in (aport, port):
		r = T.request(p, "POST", "/v1/config/login", json.dumps(
		    {"user": C.USER, "key": C.KEY}))
		tap.is_(r.status, 404, "API off: login on port %d is 404" % p)
	for path in ("/v1/config/env", "/v1/config/projects/*"):
		tap.is_(T.request(aport, "GET", path).status, 404,
		    "API off: %s is 404" % path)
	tap.is_(T.request(aport, "GET", "/healthz").status, 200,
	    "API off: /healthz answers")
	tap.is_(T.request(aport, "GET", "/v1/api/health-check").status, 200,
	    "API off: the health check answers")
	sy.stop()


def case_reload(tap, env, tmp, up):
	port, aport = T.free_port(), T.free_port()
	svcs = {"arith": {"url": up.url, "endpoints": {"adder": E("/adder")}}}
	off = T.make_config(tmp, port, svcs, server={"admin": {
	    "listen": "127.0.0.1:%d" % aport}})
	sy = T.Daemon(env, tmp, off, name="reload").start()
	pids = sy.workers()
	api = C.Api(aport)
	tap.is_(api.login().status, 404, "reload: the API is off at first")
	on = C.config(tmp, port, aport, svcs)
	sy.write_config(on)
	sy.kill(signal.SIGHUP)
	ok = T.wait_until(lambda: api.login().status == 200, 5)
	tap.ok(ok, "reload: a reload that sets the credentials turns it on")
	old = api.token
	tap.is_(api.services().status, 200, "reload: the token works")
	sy.write_config(C.config(tmp, port, aport, svcs, admin={
	    "secret": C.SECRET + "-new"}))
	sy.kill(signal.SIGHUP)
	ok = T.wait_until(lambda: api.req("GET", C.SVC % "demo",
	    token=old).status == 401, 5)
	tap.ok(ok, "reload: a new secret invalidates the tokens issued "
	    "before")
	r = api.login()
	tap.ok(r.status == 200 and T.jwt_decode_hs256(api.token, C.SECRET +
	    "-new"), "reload: new tokens are signed with the new secret")
	sy.write_config(C.config(tmp, port, aport, svcs, admin={
	    "secret": C.SECRET + "-new", "user": "root"}))
	sy.kill(signal.SIGHUP)
	ok = T.wait_until(lambda: api.services().status == 401, 5)
	tap.ok(ok, "reload: a new user invalidates the tokens issued before")
	tap.is_(api.login(user="root").status, 200, "reload: the new user "
	    "logs in")
	sy.write_config(off)
	sy.kill(signal.SIGHUP)
	ok = T.wait_until(lambda: api.services().status == 404, 5)
	tap.ok(ok, "reload: removing the credentials turns the API off")
	tap.is_(sy.workers(), pids, "reload: the credentials changed in "
	    "place, without new workers")
	sy.stop()


def case_audit(tap, sy):
	log = sy.log()
	tap.like(log, r'admin: 127\.0\.0\.1:\d+ user "admin" login \(200\)',
	    "audit: a login")
	tap.like(log, r'admin: 127\.0\.0\.1:\d+ user "root" login failed '
	    r'\(401\)', "audit: a failed login with the user given")
	tap.like(log, r'admin: 127\.0\.0\.1:\d+ user "admin" set remote '
	    r'service demo/calc \(200, generation \d+\)', "audit: a set")
	tap.like(log, r'admin: 127\.0\.0\.1:\d+ user "admin" delete remote '
	    r'service demo/calc \(200, generation \d+\)', "audit: a delete")
	tap.like(log, r'admin: 127\.0\.0\.1:\d+ user "admin" set remote '
	    r'service demo/calc \(400\)', "audit: a refused write")
	tap.like(log, r'admin: 127\.0\.0\.1:\d+ token refused: [a-z ]+ '
	    r'\(401\)', "audit: a refused token")
	for secret in (C.KEY, C.SECRET, "s3cret"):
		tap.ok(secret not in log, "audit: %s... never in the log" %
		    secret[:6])
	tap.ok("eyJ" not in log, "audit: no token in the log")


def main(tap):
	env = T.require_env()
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port, aport = T.free_port(), T.free_port()
	cfgdir = os.path.join(tmp, "etc")
	os.mkdir(cfgdir)
	svcs = {"arith": {"url": up.url, "endpoints": {
	    "adder": E("/adder"),
	    "authed": E("/echo", rule={"rule": "authenticated"})}},
	    "zeta": {"url": up.url, "endpoints": {"st": {"path":
	        "/status/200", "rule": {"rule": "allow"}}}}}
	cfg = C.config(tmp, port, aport, svcs, workers=3,
	    admin={"tokenLifetime": 600}, projects={
	    "demo": {"secrets": [{"alg": "HS256", "secret": "s3cret",
	        "isPrimary": True}], "remoteServices": svcs},
	    "other": {"remoteServices": {}}})
	sy = T.Daemon(env, cfgdir, cfg).start()
	api = C.Api(aport)
	if T.selected("login"):
		case_login(tap, api, sy)
	if api.token is None:
		api.login()
	if api.token is None:
		raise T.Bail("no admin token: nothing else can be tested")
	if T.selected("tokens"):
		case_tokens(tap, api, sy, port)
	if T.selected("reads"):
		case_reads(tap, api, sy, up, port)
	if T.selected("writes"):
		case_writes(tap, api, sy, up, port)
	if T.selected("conflicts"):
		case_conflicts(tap, api, sy, up, port)
	if T.selected("unwritable"):
		case_unwritable(tap, api, sy, up, port, cfgdir)
	if T.selected("audit"):
		case_audit(tap, sy)
	sy.stop()
	if T.selected("lockout"):
		case_lockout(tap, env, tmp, up)
	if T.selected("public"):
		case_public(tap, env, tmp, up)
	if T.selected("off"):
		case_off(tap, env, tmp, up)
	if T.selected("reload"):
		case_reload(tap, env, tmp, up)


T.run_main(None, main)
