#!/usr/bin/python3
# sctoken.t: the gateway's X-SC-Token (SPEC section 4, "Headers"): signed
# with the project's primary secret (HS256 or RS256), its header and
# claims, its reuse, projects without a primary secret, client-sent
# X-SC-Tokens, and tokens bound to each request (scToken.bindRequest).
# Every token is checked with python3-jwt.

import hashlib
import json
import os
import re
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E


SC_HS = "sc-hs-secret-93b1"
SC_KID = "sc-kid-secret-6e0d"
SC_HS2 = "sc-hs-rotated-1f4a"
NODE = "test-1"			# make_config's server.nodeId
EMPTY_SHA = hashlib.sha256(b"").hexdigest()


def main(tap):
	env = T.require_env()
	jwt = T.require_jwt()
	tmp = T.tmpdir()
	priv, pub = T.rsa_pair(tmp, "rsa")
	up = T.Upstream(env, tmp).start()
	port = T.free_port()

	bind = {"bindRequest": True}
	force = {"rule": "force", "field": "args.params.user",
	    "value": "args.auth.sub"}

	def plain():
		return {"svc": {"url": up.url, "endpoints": {
		    "echo": E("/echo/plain"),
		    # naming X-SC-Token in forwardHeaders is a config error
		    "fwd": dict(E("/echo/fwd"), forwardHeaders=["X-Foo"]),
		}}}

	def bound():
		return {"url": up.url, "endpoints": {
		    "post": dict(E("/echo/b/{args.id}"), scToken=bind),
		    "get": dict(E("/echo/g", method="GET"), scToken=bind),
		    "put": dict(E("/echo/p", method="PUT"), scToken=bind),
		    "forced": dict(E("/echo/f", rule=force), scToken=bind),
		}}

	projects = {
		"hs": {"secrets": [{"alg": "HS256", "secret": SC_HS,
		    "isPrimary": True}],
		    "remoteServices": dict(plain(), bound=bound())},
		"hskid": {"secrets": [{"alg": "HS256", "secret": SC_KID,
		    "kid": "key-7", "isPrimary": True}],
		    "remoteServices": plain()},
		"rs": {"secrets": [{"alg": "RS256", "publicKey": pub,
		    "privateKey": priv, "isPrimary": True}],
		    "remoteServices": dict(plain(), bound=bound())},
		"nosec": {"remoteServices": plain()},
		"pubonly": {"secrets": [{"alg": "RS256_PUBLIC",
		    "publicKey": pub}], "remoteServices": plain()},
	}
	# one worker, so that consecutive calls see the same cached token
	cfg = T.make_config(tmp, port, None, projects=projects, workers=1)
	sy = T.Daemon(env, tmp, cfg).start()
	pids = sy.workers()

	def go(project, service, ep, params=None, body=None, headers=None):
		return T.try_call(port, service, ep, params if params is not None
		    else {}, body=body, headers=headers, project=project)

	def desc_of(r):
		return r.describe() if isinstance(r, T.Response) else repr(r)

	def echo(r):
		if isinstance(r, T.Response) and r.status == 200:
			d = r.json()
			if isinstance(d, dict):
				return d
		return {}

	def sc_header(r):
		return (echo(r).get("headers") or {}).get("x-sc-token")

	def sc_jwt(r):
		"""The JWT of the upstream's X-SC-Token: Bearer <jwt>, or None."""
		v = sc_header(r)
		m = re.match(r"^Bearer ([A-Za-z0-9_.-]+)$", v or "")
		return m.group(1) if m else None

	def verify(token, key, alg, aud=None):
		"""(header, claims) if the signature verifies, else None (the
		reason in a diagnostic)."""
		if token is None:
			tap.diag("no token to verify")
			return None
		try:
			claims = jwt.decode(token, key, algorithms=[alg],
			    audience=aud, leeway=5,
			    options={"verify_aud": aud is not None})
			return jwt.get_unverified_header(token), claims
		except jwt.PyJWTError as e:
			tap.diag("%s does not verify: %s: %s" % (alg,
			    type(e).__name__, e))
			return None

	# --- HS256 primary secret without kid
	t0 = time.time()
	r = go("hs", "svc", "echo", headers={"X-SC-Token": "Bearer forged"})
	tap.like(sc_header(r), r"^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\."
	    r"[A-Za-z0-9_-]+$", "HS256 project: upstream gets X-SC-Token: "
	    "Bearer <jwt>", desc_of(r))
	hs_tok = sc_jwt(r)
	v = verify(hs_tok, SC_HS, "HS256")
	tap.ok(v, "X-SC-Token signature verifies with the HS256 secret")
	hdr, cl = v or ({}, {})
	hs_kid = hdr.get("kid")
	tap.ok(isinstance(hs_kid, str) and hs_kid != "" and
	    SC_HS not in hs_kid, "header has a kid derived from the key (not "
	    "the key itself)", "header: %r" % hdr)
	tap.is_(hdr, {"alg": "HS256", "typ": "JWT", "kid": hs_kid},
	    "header is exactly {alg: HS256, typ: JWT, kid}")
	tap.is_(cl.get("id"), NODE, "claim id is server.nodeId")
	tap.is_(cl.get("role"), "SpaceCloud", "claim role is SpaceCloud")
	iat, exp = cl.get("iat"), cl.get("exp")
	tap.ok(isinstance(iat, (int, float)) and isinstance(exp, (int,
	    float)) and exp - iat == 1800, "exp - iat == 1800 (30 minutes)",
	    "claims: %r" % cl)
	tap.ok(isinstance(iat, (int, float)) and t0 - 5 <= iat <= time.time()
	    + 1, "iat is close to now", "iat %r, now %.1f" % (iat, time.time()))

	r2 = go("hs", "svc", "echo")
	tap.ok(hs_tok is not None and sc_jwt(r2) == hs_tok,
	    "the same token is reused on the next call (30 minutes left)",
	    "first %r, then %r" % (hs_tok, sc_jwt(r2)))
	r3 = go("hs", "svc", "fwd", headers={"X-SC-Token": "Bearer forged"})
	tap.ok(sc_jwt(r3) is not None and sc_jwt(r3) == hs_tok,
	    "a client X-SC-Token is not forwarded with forwardHeaders set; "
	    "the gateway's is sent", "upstream got %r" %
	    sc_header(r3))

	# --- HS256 with kid
	r = go("hskid", "svc", "echo")
	v = verify(sc_jwt(r), SC_KID, "HS256")
	tap.ok(v, "HS256 secret with kid: signature verifies", desc_of(r))
	tap.is_((v or ({}, {}))[0], {"alg": "HS256", "typ": "JWT",
	    "kid": "key-7"}, "header kid is the secret's kid")

	# --- RS256 primary secret
	t0 = time.time()
	r = go("rs", "svc", "echo")
	rs_tok = sc_jwt(r)
	v = verify(rs_tok, pub, "RS256")
	tap.ok(v, "RS256 project: X-SC-Token verifies with the public key",
	    desc_of(r))
	hdr, cl = v or ({}, {})
	rs_kid = hdr.get("kid")
	tap.ok(isinstance(rs_kid, str) and rs_kid != "" and
	    hdr == {"alg": "RS256", "typ": "JWT", "kid": rs_kid},
	    "RS256 header is exactly {alg: RS256, typ: JWT, kid}",
	    "header: %r" % hdr)
	tap.ok(rs_kid != hs_kid, "derived kids of different keys differ",
	    "%r vs %r" % (rs_kid, hs_kid))
	iat, exp = cl.get("iat"), cl.get("exp")
	tap.ok(cl.get("id") == NODE and cl.get("role") == "SpaceCloud" and
	    isinstance(iat, (int, float)) and isinstance(exp, (int, float))
	    and exp - iat == 1800 and t0 - 5 <= iat <= time.time() + 1,
	    "RS256 claims: id, role, exp - iat == 1800, iat now",
	    "claims: %r" % cl)
	r2 = go("rs", "svc", "echo")
	tap.ok(rs_tok is not None and sc_jwt(r2) == rs_tok,
	    "RS256: the same token is reused on the next call")

	# --- no primary secret: no X-SC-Token
	r = go("nosec", "svc", "echo", headers={"X-SC-Token": "Bearer forged"})
	tap.ok(isinstance(r, T.Response) and r.status == 200 and
	    sc_header(r) is None, "project without secrets: no X-SC-Token "
	    "upstream (the client's is not forwarded)", desc_of(r))
	r = go("nosec", "svc", "fwd", headers={"X-SC-Token": "Bearer forged"})
	tap.ok(isinstance(r, T.Response) and r.status == 200 and
	    sc_header(r) is None, "project without secrets, forwardHeaders "
	    "set: still none", desc_of(r))
	r = go("pubonly", "svc", "echo")
	tap.ok(isinstance(r, T.Response) and r.status == 200 and
	    sc_header(r) is None, "project with only an RS256_PUBLIC secret "
	    "(cannot sign): no X-SC-Token", desc_of(r))
	said = [line for line in sy.log().splitlines() if "nosec" in line and
	    re.search(r"primary|sc-token", line, re.I)]
	tap.ok(said, "the log says at load that project nosec has no primary "
	    "secret")

	# --- bound tokens
	def bound_check(project, key, alg, ep, params=None, body=None,
	    want_method=None, want_path=None, desc=""):
		"""Call, verify; returns (claims, echo); 4 assertions."""
		t0 = time.time()
		r = go(project, "bound", ep, params, body=body)
		e = echo(r)
		v = verify(sc_jwt(r), key, alg, aud="bound")
		tap.ok(v, "%s: bound token verifies (aud bound)" % desc,
		    desc_of(r))
		hdr, cl = v or ({}, {})
		iat, exp = cl.get("iat"), cl.get("exp")
		tap.ok(cl.get("aud") == "bound" and cl.get("id") == NODE and
		    cl.get("role") == "SpaceCloud" and
		    isinstance(cl.get("jti"), str) and cl["jti"] != "" and
		    hdr.get("kid") == (hs_kid if alg == "HS256" else rs_kid),
		    "%s: aud is the service id, id, role, a jti, the "
		    "project's kid" % desc, "header %r claims %r" % (hdr, cl))
		tap.ok(isinstance(iat, (int, float)) and isinstance(exp,
		    (int, float)) and 0 < exp - iat <= 60 and
		    t0 - 5 <= iat <= time.time() + 1,
		    "%s: exp at most 60 s after iat, iat now" % desc,
		    "claims %r" % cl)
		body_bytes = (e.get("body") or "").encode("utf-8")
		want = {"method": want_method, "path": want_path,
		    "bodySha256": hashlib.sha256(body_bytes).hexdigest()}
		got = {k: cl.get(k) for k in want}
		tap.ok(e and got == want and e.get("path") == want_path and
		    e.get("bodyLength") == len(body_bytes),
		    "%s: method, path, bodySha256 of the upstream request" %
		    desc, "token %r" % got, "upstream %r" % e)
		return cl, e

	raw = '{"params": {"id": "a b", "v" : "\u00e9x",  "n":[1, 2]}}'
	c1, e1 = bound_check("hs", SC_HS, "HS256", "post", body=raw,
	    want_method="POST", want_path="/echo/b/a%20b", desc="HS256 POST")
	tap.is_(e1.get("body"), '{"id": "a b", "v" : "\u00e9x",  "n":[1, 2]}',
	    "bound POST: the upstream got the params bytes as sent")
	c2, _ = bound_check("hs", SC_HS, "HS256", "post", {"id": "z"},
	    want_method="POST", want_path="/echo/b/z", desc="HS256 POST again")
	tap.ok(c1.get("jti") and c2.get("jti") and c1["jti"] != c2["jti"],
	    "each bound call gets its own jti", "%r %r" % (c1.get("jti"),
	    c2.get("jti")))
	c3, e3 = bound_check("hs", SC_HS, "HS256", "get", {"q": "x y",
	    "n": 1}, want_method="GET", want_path="/echo/g", desc="HS256 GET")
	tap.ok(c3.get("bodySha256") == EMPTY_SHA and e3.get("query"),
	    "bound GET: bodySha256 of the empty string, path without the "
	    "query (%r)" % e3.get("query"), "claims %r" % c3)
	bound_check("hs", SC_HS, "HS256", "put", {"p": [1, 2]},
	    want_method="PUT", want_path="/echo/p", desc="HS256 PUT")
	tok = jwt.encode({"sub": "user-1", "exp": int(time.time()) + 600},
	    SC_HS, algorithm="HS256")
	r = go("hs", "bound", "forced", {"user": "mallory"},
	    headers={"Authorization": "Bearer " + tok})
	e = echo(r)
	cl = (verify(sc_jwt(r), SC_HS, "HS256", aud="bound") or ({}, {}))[1]
	tap.ok(e.get("body") and json.loads(e["body"]) == {"user": "user-1"}
	    and cl.get("bodySha256") ==
	    hashlib.sha256(e["body"].encode("utf-8")).hexdigest(),
	    "bound call with a force rule: bodySha256 of the forced body the "
	    "upstream got", desc_of(r), "claims %r" % cl)
	bound_check("rs", pub, "RS256", "post", {"id": 7},
	    want_method="POST", want_path="/echo/b/7", desc="RS256 POST")

	toks = set()
	for i in range(5):
		toks.add(sc_jwt(go("hs", "bound", "post", {"id": i})))
	tap.ok(len(toks) == 5 and None not in toks,
	    "5 bound calls: 5 different tokens")
	r = go("hs", "svc", "echo")
	tap.ok(sc_jwt(r) == hs_tok, "the unbound token is still the cached "
	    "one after the bound calls")

	# --- the derived kid is stable: a second daemon, same keys
	tmp2 = T.tmpdir()
	port2 = T.free_port()
	T.Daemon(env, tmp2, T.make_config(tmp2, port2, None,
	    projects=projects, workers=1), name="again").start()
	r = T.try_call(port2, "svc", "echo", {}, project="hs")
	v = verify(sc_jwt(r), SC_HS, "HS256")
	tap.ok(v and v[0].get("kid") == hs_kid, "another daemon derives the "
	    "same kid from the same HS256 key", "%r vs %r" %
	    (v and v[0].get("kid"), hs_kid))
	r = T.try_call(port2, "svc", "echo", {}, project="rs")
	v = verify(sc_jwt(r), pub, "RS256")
	tap.ok(v and v[0].get("kid") == rs_kid, "... and from the same RSA "
	    "key", "%r vs %r" % (v and v[0].get("kid"), rs_kid))

	# --- reload with a new primary secret: the cached token is not used
	projects["hs"]["secrets"] = [{"alg": "HS256", "secret": SC_HS2,
	    "isPrimary": True}]
	sy.write_config(cfg)
	sy.kill(signal.SIGHUP)

	def new_key_signs():
		t = sc_jwt(go("hs", "svc", "echo"))
		try:
			jwt.decode(t or "", SC_HS2, algorithms=["HS256"], leeway=5)
			return True
		except jwt.PyJWTError:
			return False
	tap.ok(T.wait_until(new_key_signs, 8, interval=0.1),
	    "after SIGHUP with a new primary secret, the X-SC-Token is "
	    "signed with it", "last: %r" % sc_header(go("hs", "svc", "echo")))

	tap.is_(sy.workers(), pids, "no worker was replaced during the test")


T.run_main(None, main, watchdog=60)
