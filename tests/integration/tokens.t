#!/usr/bin/python3
# tokens.t: caller tokens (SPEC section 5, and the 401 row of section 4):
# HS256, RS256 and RS256_PUBLIC secrets, exp/nbf with 30 s of leeway,
# alg "none" and alg confusion, kid selection, aud/iss, malformed and
# missing tokens, {auth.X} in paths and header values, the token cache.
#
# Every token is made here with python3-jwt (or by hand where python3-jwt
# refuses to make a bad one); RSA keys are made per run into the temp dir.

import base64
import hashlib
import hmac
import json
import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E


HS = "hs-secret-4f1c9a"
KA = "kid-a-secret-77d2"
KB = "kid-b-secret-0e91"
MX = "mixed-secret-5b3e"
AI = "audiss-secret-c8a0"
HS2 = "hs-secret-rotated-2d7b"
AUTH = {"rule": "authenticated"}


def b64u(b):
	if isinstance(b, str):
		b = b.encode("utf-8")
	return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def hs256_by_hand(header, claims, key):
	"""A token python3-jwt refuses to make (an HMAC keyed with a PEM public
	key, claims that are not JSON): header and claims as given (objects, or
	their JSON text), HMAC-SHA256 with key."""
	if not isinstance(header, str):
		header = json.dumps(header)
	if not isinstance(claims, str):
		claims = json.dumps(claims)
	si = b64u(header) + "." + b64u(claims)
	sig = hmac.new(key.encode("utf-8") if isinstance(key, str) else key,
	    si.encode("ascii"), hashlib.sha256).digest()
	return si + "." + b64u(sig)


def main(tap):
	env = T.require_env()
	jwt = T.require_jwt()
	tmp = T.tmpdir()
	priv1, pub1 = T.rsa_pair(tmp, "rsa1")
	priv2, pub2 = T.rsa_pair(tmp, "rsa2")
	up = T.Upstream(env, tmp).start()
	port = T.free_port()

	def svc(endpoints):
		return {"svc": {"url": up.url, "endpoints": endpoints}}

	auth_only = svc({"auth": E("/echo/auth", rule=AUTH)})
	projects = {
		"hs": {"secrets": [{"alg": "HS256", "secret": HS,
		    "isPrimary": True}], "remoteServices": svc({
			"auth": E("/echo/auth", rule=AUTH),
			"open": E("/echo/open"),
			"sub": E("/echo/{auth.sub}", rule=AUTH),
			"nested": E("/echo/n/{auth.user.id}", rule=AUTH),
			"opensub": E("/echo/{auth.sub}"),
			"hdr": dict(E("/echo/hdr", rule=AUTH), headers=[
			    {"key": "X-User", "value": "auth.sub"}]),
		    })},
		"rs": {"secrets": [{"alg": "RS256", "publicKey": pub1,
		    "privateKey": priv1, "isPrimary": True}],
		    "remoteServices": auth_only},
		"rspub": {"secrets": [{"alg": "RS256_PUBLIC",
		    "publicKey": pub2}], "remoteServices": auth_only},
		"kids": {"secrets": [
		    {"alg": "HS256", "secret": KA, "kid": "ka",
		    "isPrimary": True},
		    {"alg": "HS256", "secret": KB, "kid": "kb"}],
		    "remoteServices": auth_only},
		"mixed": {"secrets": [
		    {"alg": "HS256", "secret": MX, "isPrimary": True},
		    {"alg": "RS256_PUBLIC", "publicKey": pub2}],
		    "remoteServices": auth_only},
		"ai": {"secrets": [{"alg": "HS256", "secret": AI,
		    "aud": ["app1", "app2"], "iss": ["https://issuer.example"],
		    "isPrimary": True}], "remoteServices": auth_only},
	}
	cfg = T.make_config(tmp, port, None, projects=projects)
	sy = T.Daemon(env, tmp, cfg).start()
	pids = sy.workers()

	def claims(**kw):
		now = int(time.time())
		c = {"sub": "user-1", "iat": now, "exp": now + 600}
		c.update(kw)
		return {k: v for k, v in c.items() if v is not None}

	def hs(key=HS, kid=None, alg="HS256", **kw):
		return jwt.encode(claims(**kw), key, algorithm=alg,
		    headers={"kid": kid} if kid else None)

	def rs(key, kid=None, **kw):
		return jwt.encode(claims(**kw), key, algorithm="RS256",
		    headers={"kid": kid} if kid else None)

	def go(project, ep, token, params=None, authz=None):
		h = {}
		if authz is not None:
			h["Authorization"] = authz
		elif token is not None:
			h["Authorization"] = "Bearer " + token
		return T.try_call(port, "svc", ep, params or {}, headers=h,
		    project=project)

	def desc_of(r):
		return r.describe() if isinstance(r, T.Response) else repr(r)

	def expect(r, status, desc):
		ok = isinstance(r, T.Response) and r.status == status
		if ok and status >= 400:
			ok = T.is_error_doc(r) and \
			    r.media_type() == "application/json"
		return tap.ok(ok, "%s: %d%s" % (desc, status,
		    " with a JSON {\"error\",\"rawError\"}" if status >= 400
		    else ""), desc_of(r))

	def echo(r):
		if isinstance(r, T.Response) and r.status == 200:
			d = r.json()
			if isinstance(d, dict):
				return d
		return {}

	def hdr(r, name):
		return (echo(r).get("headers") or {}).get(name)

	# --- the cache must not outlive exp + leeway: a token 26 s past its
	# exp passes now and must be refused once 30 s have passed (checked
	# at the end, so that the wait overlaps the other tests)
	late_exp = int(time.time()) - 26
	late = hs(exp=late_exp)
	rs_ = [go("hs", "auth", late) for _ in range(6)]
	tap.ok(all(isinstance(r, T.Response) and r.status == 200
	    for r in rs_), "a token expired 26 s ago passes (leeway 30 s), "
	    "6 calls", *[desc_of(r) for r in rs_ if not
	    (isinstance(r, T.Response) and r.status == 200)][:1])

	# --- HS256
	tok = hs()
	r = go("hs", "auth", tok)
	expect(r, 200, "HS256 valid token")
	tap.is_(hdr(r, "authorization"), "Bearer " + tok,
	    "the upstream gets the caller's Authorization unchanged")
	expect(go("hs", "auth", hs(exp=int(time.time()) - 60)), 401,
	    "HS256 expired 60 s ago")
	expect(go("hs", "auth", hs(exp=int(time.time()) - 10)), 200,
	    "HS256 expired 10 s ago (within the leeway)")
	expect(go("hs", "auth", hs(nbf=int(time.time()) + 60)), 401,
	    "HS256 nbf 60 s in the future")
	expect(go("hs", "auth", hs(nbf=int(time.time()) + 10)), 200,
	    "HS256 nbf 10 s in the future (within the leeway)")
	expect(go("hs", "auth", hs(exp=None)), 200,
	    "HS256 without exp (nothing to expire)")
	expect(go("hs", "auth", hs(key="not-the-secret")), 401,
	    "HS256 signed with a wrong secret")
	expect(go("hs", "auth", hs(alg="HS512")), 401,
	    "HS512 signed with the right secret (alg differs from the "
	    "secret's)")
	expect(go("hs", "auth", rs(priv1)), 401,
	    "RS256 token against an HS256-only project")
	expect(go("hs", "auth", hs(kid="x")), 401,
	    "a kid that no secret has (secret otherwise right)")

	c = claims()
	none_tok = b64u(json.dumps({"alg": "none", "typ": "JWT"})) + "." + \
	    b64u(json.dumps(c)) + "."
	expect(go("hs", "auth", none_tok), 401, "alg none, empty signature")
	h_none = b64u(json.dumps({"alg": "none", "typ": "JWT"})) + "." + \
	    b64u(json.dumps(c))
	sig = hmac.new(HS.encode(), h_none.encode(), hashlib.sha256).digest()
	expect(go("hs", "auth", h_none + "." + b64u(sig)), 401,
	    "alg none with an HS256 signature by the right secret")

	parts = tok.split(".")
	forged = parts[0] + "." + b64u(json.dumps(claims(sub="admin"))) + \
	    "." + parts[2]
	expect(go("hs", "auth", forged), 401,
	    "claims changed after signing (signature of the original)")
	expect(go("hs", "auth", parts[0] + "." + parts[1] + "."), 401,
	    "HS256 token with its signature stripped")

	expect(go("hs", "auth", "garbage"), 401, "malformed: garbage")
	expect(go("hs", "auth", parts[0] + "." + parts[1]), 401,
	    "malformed: two segments")
	expect(go("hs", "auth", "!!!." + parts[1] + "." + parts[2]), 401,
	    "malformed: header not base64url")
	expect(go("hs", "auth", parts[0] + ".%%%%." + parts[2]), 401,
	    "malformed: claims not base64url")
	expect(go("hs", "auth", hs256_by_hand({"alg": "HS256", "typ": "JWT"},
	    "not json", HS)), 401, "malformed: claims not JSON (signed right)")
	expect(go("hs", "auth", hs256_by_hand('["alg", "HS256"]', claims(),
	    HS)), 401, "malformed: header not a JSON object (signed right)")
	expect(go("hs", "auth", None, authz="Bearer "), 401,
	    "empty bearer token")
	expect(go("hs", "auth", None, authz="Basic dXNlcjpwYXNz"), 401,
	    "Authorization that is not a bearer token")
	expect(go("hs", "auth", None), 401, "no Authorization")

	r = go("hs", "open", None, authz="Bearer garbage.not.checked")
	tap.ok(isinstance(r, T.Response) and r.status == 200 and
	    hdr(r, "authorization") == "Bearer garbage.not.checked",
	    "allow endpoint: a garbage token is not checked (200, "
	    "forwarded unchanged)", desc_of(r))
	expect(go("hs", "opensub", hs(sub="u1")), 400,
	    "allow endpoint: auth is empty even with a valid token, so "
	    "{auth.sub} is missing")

	# --- {auth.X} in paths and header values
	r = go("hs", "sub", hs(sub="u 1/x~"))
	tap.is_(echo(r).get("path"), "/echo/u%201%2Fx~",
	    "{auth.sub} in the path, percent-encoded", desc_of(r))
	r = go("hs", "nested", hs(user={"id": 7}))
	tap.is_(echo(r).get("path"), "/echo/n/7",
	    "{auth.user.id}: a dotted path into the claims", desc_of(r))
	expect(go("hs", "sub", hs(sub=None)), 400,
	    "{auth.sub} when the token has no sub")
	r = go("hs", "hdr", hs(sub="user-42"))
	tap.is_(hdr(r, "x-user"), "user-42",
	    "header op with value auth.sub gets the claim", desc_of(r))

	# --- the same token many times
	bad = []
	for i in range(60):
		r = go("hs", "auth", tok)
		if not (isinstance(r, T.Response) and r.status == 200):
			bad.append(desc_of(r))
	tap.ok(not bad, "60 calls with the same valid token all 200",
	    *bad[:2])

	# --- RS256 (public and private key)
	rtok = rs(priv1)
	r = go("rs", "auth", rtok)
	tap.ok(isinstance(r, T.Response) and r.status == 200 and
	    hdr(r, "authorization") == "Bearer " + rtok,
	    "RS256 valid token: 200, Authorization forwarded unchanged",
	    desc_of(r))
	expect(go("rs", "auth", rs(priv1, exp=int(time.time()) - 60)), 401,
	    "RS256 expired 60 s ago")
	expect(go("rs", "auth", rs(priv2)), 401,
	    "RS256 signed with another key")
	rc = claims()
	expect(go("rs", "auth", b64u(json.dumps({"alg": "none",
	    "typ": "JWT"})) + "." + b64u(json.dumps(rc)) + "."), 401,
	    "RS256 project: alg none")
	expect(go("rs", "auth", hs256_by_hand({"alg": "HS256", "typ": "JWT"},
	    rc, pub1)), 401,
	    "RS256 project: HS256 keyed with the public key PEM (alg "
	    "confusion)")
	r1 = rtok.split(".")
	expect(go("rs", "auth", r1[0] + "." + b64u(json.dumps(
	    claims(sub="admin"))) + "." + r1[2]), 401,
	    "RS256: claims changed after signing")

	# --- RS256_PUBLIC
	expect(go("rspub", "auth", rs(priv2)), 200, "RS256_PUBLIC valid token")
	expect(go("rspub", "auth", rs(priv1)), 401,
	    "RS256_PUBLIC: signed with another key")
	expect(go("rspub", "auth", hs256_by_hand({"alg": "HS256",
	    "typ": "JWT"}, claims(), pub2)), 401,
	    "RS256_PUBLIC: HS256 keyed with the public key PEM")

	# --- kid selects the secret
	expect(go("kids", "auth", hs(key=KA, kid="ka")), 200,
	    "kid ka, signed with ka's secret")
	expect(go("kids", "auth", hs(key=KB, kid="kb")), 200,
	    "kid kb, signed with kb's secret")
	expect(go("kids", "auth", hs(key=KA, kid="kb")), 401,
	    "kid kb but signed with ka's secret (only kb's is tried)")
	expect(go("kids", "auth", hs(key=KA, kid="kz")), 401,
	    "unknown kid kz (signed with a secret of the project)")
	expect(go("kids", "auth", hs(key=KB)), 200,
	    "no kid: each secret in turn (kb's, the second, verifies)")

	# --- several algs in one project
	expect(go("mixed", "auth", rs(priv2)), 200,
	    "HS256 + RS256_PUBLIC project: RS256 token without kid")
	expect(go("mixed", "auth", hs(key=MX)), 200,
	    "HS256 + RS256_PUBLIC project: HS256 token")
	expect(go("mixed", "auth", hs256_by_hand({"alg": "HS256",
	    "typ": "JWT"}, claims(), pub2)), 401,
	    "HS256 + RS256_PUBLIC project: HS256 keyed with the public key "
	    "PEM")

	# --- aud and iss
	iss = "https://issuer.example"
	expect(go("ai", "auth", hs(key=AI, aud="app2", iss=iss)), 200,
	    "aud and iss listed by the secret")
	expect(go("ai", "auth", hs(key=AI, aud="app3", iss=iss)), 401,
	    "wrong aud")
	expect(go("ai", "auth", hs(key=AI, aud="app1",
	    iss="https://evil.example")), 401, "wrong iss")
	expect(go("ai", "auth", hs(key=AI, iss=iss)), 401,
	    "no aud when the secret lists aud")
	expect(go("ai", "auth", hs(key=AI, aud="app1")), 401,
	    "no iss when the secret lists iss")

	# --- the late token, now more than 30 s past its exp
	T.wait_until(lambda: time.time() > late_exp + 32, 10, interval=0.1)
	rs_ = [go("hs", "auth", late) for _ in range(6)]
	tap.ok(all(isinstance(r, T.Response) and r.status == 401
	    for r in rs_), "the same token, now 32 s past its exp: 401 on "
	    "every call (no cache outlives exp + leeway)",
	    *[desc_of(r) for r in rs_ if not
	    (isinstance(r, T.Response) and r.status == 401)][:1])

	# --- the cache is per project: a token cached as valid for hs
	expect(go("kids", "auth", tok), 401,
	    "a token verified (and cached) for project hs, sent to project "
	    "kids")

	# --- reload with a new secret: cached verifications are not used
	projects["hs"]["secrets"] = [{"alg": "HS256", "secret": HS2,
	    "isPrimary": True}]
	sy.write_config(cfg)
	sy.kill(signal.SIGHUP)
	new_tok = hs(key=HS2, sub="user-2")

	def new_secret_passes():
		return all(getattr(go("hs", "auth", new_tok), "status", None) ==
		    200 for _ in range(6))
	ok = T.wait_until(new_secret_passes, 8, interval=0.1)
	tap.ok(ok, "after SIGHUP with a new HS256 secret, tokens signed with "
	    "it pass")
	rs_ = [go("hs", "auth", tok) for _ in range(6)]
	tap.ok(all(isinstance(r, T.Response) and r.status == 401
	    for r in rs_), "after the reload, the token of the old secret "
	    "(cached as valid before) is 401 on every call",
	    *[desc_of(r) for r in rs_ if not
	    (isinstance(r, T.Response) and r.status == 401)][:1])

	# --- no secret or token in the logs (level debug)
	log = sy.log()
	pem_line = priv1.splitlines()[5]
	leaks = [n for n, s in (("HS256 secret", HS), ("kid secret", KA),
	    ("kid secret", KB), ("mixed secret", MX), ("aud secret", AI),
	    ("reloaded secret", HS2),
	    ("RSA private key", pem_line)) if s in log]
	tap.ok(not leaks, "no secret in the daemon's log", *leaks)
	leaks = [t for t in (tok, rtok, late) if t.split(".")[2] in log]
	tap.ok(not leaks, "no caller token (signature) in the daemon's log",
	    *leaks)

	tap.is_(sy.workers(), pids, "no worker was replaced during the test")


T.run_main(None, main, watchdog=60)
