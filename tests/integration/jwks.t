#!/usr/bin/python3
# jwks.t: JWK_URL secrets (SPEC sections 3 and 5) against a JWKS server
# on loopback: keys used once loaded, cached as Cache-Control says, an
# unknown kid fetching them again (key rotation without a reload), keys
# dropped by a refresh no longer accepted, and the last good keys kept
# while the server is down.

import json
import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E

AUTH = {"rule": "authenticated"}
STREAK = 6	# consecutive answers that count as settled


class Jwks:
	"""What a LoopbackServer serves at /jwks.json: the public keys of
	.keys ({kid: private key object}) with Cache-Control max-age."""

	def __init__(self, keys, max_age):
		import jwt
		self.to_jwk = jwt.algorithms.RSAAlgorithm.to_jwk
		self.lock = threading.Lock()
		self.keys = dict(keys)
		self.max_age = max_age
		self.server = T.LoopbackServer(self.handle)

	def set_keys(self, keys):
		with self.lock:
			self.keys = dict(keys)

	def handle(self, req):
		if req.method != "GET" or req.path.split("?")[0] != "/jwks.json":
			return 404, {"Content-Type": "application/json"}, "{}"
		with self.lock:
			doc = {"keys": []}
			for kid, k in self.keys.items():
				j = json.loads(self.to_jwk(k.public_key()))
				j.update({"kid": kid, "alg": "RS256", "use": "sig"})
				doc["keys"].append(j)
			age = self.max_age
		return 200, {"Content-Type": "application/json",
		    "Cache-Control": "public, max-age=%d" % age}, json.dumps(doc)

	def fetches(self):
		return len(self.server.received("/jwks.json"))

	@property
	def url(self):
		return self.server.url("/jwks.json")


def main(tap):
	env = T.require_env()
	try:
		import jwt
		from cryptography.hazmat.primitives import serialization
		from cryptography.hazmat.primitives.asymmetric import rsa
	except ImportError as e:
		raise T.Bail("python3-jwt and python3-cryptography are needed: "
		    "%s" % e)
	tmp = T.tmpdir()
	keys = {}
	for kid in ("k1", "k2", "k3", "k5", "k6"):
		k = rsa.generate_private_key(public_exponent=65537,
		    key_size=2048)
		keys[kid] = k
		with open(os.path.join(tmp, kid + ".key"), "wb") as f:
			f.write(k.private_bytes(serialization.Encoding.PEM,
			    serialization.PrivateFormat.PKCS8,
			    serialization.NoEncryption()))

	up = T.Upstream(env, tmp).start()
	port = T.free_port()
	closed = T.free_port()
	a = Jwks({"k1": keys["k1"]}, 300)	# long-lived cache
	b = Jwks({"k5": keys["k5"]}, 1)		# refreshed every second

	svc = {"svc": {"url": up.url, "endpoints": {
	    "auth": E("/echo/auth", rule=AUTH)}}}
	projects = {
		"jw": {"secrets": [{"alg": "JWK_URL", "jwkUrl": a.url}],
		    "remoteServices": svc},
		"rev": {"secrets": [{"alg": "JWK_URL", "jwkUrl": b.url}],
		    "remoteServices": svc},
		"nojwks": {"secrets": [{"alg": "JWK_URL",
		    "jwkUrl": "http://127.0.0.1:%d/jwks.json" % closed}],
		    "remoteServices": svc},
	}
	# one worker: its key store is the one every call sees
	cfg = T.make_config(tmp, port, None, projects=projects, workers=1)
	sy = T.Daemon(env, tmp, cfg).start()
	pids = sy.workers()

	def tok(kid, signer=None, alg="RS256", **kw):
		now = int(time.time())
		c = {"sub": "user-1", "iat": now, "exp": now + 600}
		c.update(kw)
		key = signer if signer is not None else keys[kid]
		return jwt.encode(c, key, algorithm=alg,
		    headers={"kid": kid} if kid else None)

	def go(project, token):
		return T.try_call(port, "svc", "auth", {}, project=project,
		    headers={"Authorization": "Bearer " + token})

	def desc_of(r):
		return r.describe() if isinstance(r, T.Response) else repr(r)

	def status(r):
		return r.status if isinstance(r, T.Response) else None

	def streak(project, token, want, timeout):
		"""Wait until STREAK consecutive calls answer want; returns
		(ok, last response)."""
		state = {"n": 0, "r": None}

		def pred():
			r = go(project, token)
			state["r"] = r
			state["n"] = state["n"] + 1 if status(r) == want else 0
			return state["n"] >= STREAK
		ok = T.wait_until(pred, timeout, interval=0.02)
		return ok, state["r"]

	def expect(r, want, desc):
		ok = status(r) == want
		if ok and want >= 400:
			ok = T.is_error_doc(r)
		return tap.ok(ok, "%s: %d" % (desc, want), desc_of(r))

	# --- keys are fetched when the worker starts, before any call
	tap.ok(T.wait_until(lambda: a.fetches() > 0, 5),
	    "the worker fetched the JWKS before the project's first call",
	    "fetches: %d" % a.fetches())

	# --- keys loaded once fetched
	t1 = tok("k1")
	ok, r = streak("jw", t1, 200, 8)
	tap.ok(ok, "token signed with k1 (kid k1): 200 once the keys are "
	    "loaded", desc_of(r))
	got = a.server.received()
	tap.ok(got and all(q.method == "GET" and q.path == "/jwks.json"
	    for q in got), "the daemon fetched GET /jwks.json", repr(got))
	expect(go("jw", tok(None, signer=keys["k1"])), 401,
	    "k1 token without kid (JWKS keys are tried only by kid)")
	expect(go("jw", tok("k1", signer=keys["k2"])), 401,
	    "kid k1, signed with another key")
	expect(go("jw", tok("k1", signer="some-hmac-secret", alg="HS256")),
	    401, "kid k1, HS256")
	expect(go("jw", tok("k1", exp=int(time.time()) - 60)), 401,
	    "k1 token expired 60 s ago")
	expect(go("nojwks", tok("k1")), 503,
	    "JWK_URL whose keys never load (closed port)")

	n0 = a.fetches()
	bad = [desc_of(r) for r in (go("jw", t1) for _ in range(20))
	    if status(r) != 200]
	tap.ok(not bad and a.fetches() == n0, "20 calls with k1: all 200, "
	    "no new fetch (max-age=300)", "fetches %d -> %d" % (n0,
	    a.fetches()), *bad[:1])

	# --- rotation: an unknown kid fetches the keys again.  One call
	# names k2 while the keys are fresh (a refetch may be rate-limited);
	# k2 is not named again for 7 s, by when the refetch that call asked
	# for must have happened: the next k2 call passes at once.
	a.set_keys({"k1": keys["k1"], "k2": keys["k2"]})
	t2 = tok("k2")
	t_rot = time.monotonic()
	first = go("jw", t2)
	tap.diag("first call naming k2: %s" % status(first))

	# --- meanwhile, a refresh (max-age=1) that drops a key
	t5 = tok("k5")
	ok, r = streak("rev", t5, 200, 8)
	tap.ok(ok, "max-age=1 server: k5 token accepted", desc_of(r))
	nb = b.fetches()
	b.set_keys({"k6": keys["k6"]})
	t_rev = time.monotonic()
	ok, r = streak("rev", t5, 401, 12)
	tap.ok(ok, "once the keys are refreshed without k5, the k5 token "
	    "accepted before is refused (%.1f s)" % (time.monotonic() - t_rev),
	    desc_of(r))
	tap.ok(b.fetches() > nb, "the max-age=1 keys were fetched again",
	    "fetches %d -> %d" % (nb, b.fetches()))
	expect(go("rev", tok("k5", sub="user-2")), 401,
	    "a new token signed with the dropped k5")
	ok, r = streak("rev", tok("k6"), 200, 2)
	tap.ok(ok, "the new key k6 is accepted", desc_of(r))

	T.wait_until(lambda: time.monotonic() > t_rot + 7, 8, interval=0.1)
	r = go("jw", t2)
	tap.ok(status(r) == 200, "rotation: 7 s after a call named the new "
	    "kid k2, the next k2 call passes without a reload", desc_of(r))
	ok, r = streak("jw", t2, 200, 1)
	tap.ok(ok, "rotation: k2 tokens keep passing", desc_of(r))
	ok, r = streak("jw", t1, 200, 1)
	tap.ok(ok, "rotation: k1 tokens still pass", desc_of(r))

	# --- the JWKS server goes away: the last good keys are kept
	a.server.stop()
	tap.ok(T.refuses(a.server.port), "JWKS server stopped (port refuses)")
	bad = [desc_of(r) for r in (go("jw", tok("k3")) for _ in range(6))
	    if not (status(r) == 401 and T.is_error_doc(r))]
	tap.ok(not bad, "server down: a token with unknown kid k3 is 401 on "
	    "every call", *bad[:1])
	time.sleep(0.5)		# let the refetch it asked for fail
	bad = [desc_of(r) for r in [go("jw", t) for t in (t1, t2) * STREAK]
	    if status(r) != 200]
	tap.ok(not bad, "server down, after a failed refetch: k1 and k2 "
	    "tokens still accepted", *bad[:1])

	tap.is_(sy.workers(), pids, "no worker was replaced during the test")


T.run_main(None, main, watchdog=60)
