#!/usr/bin/python3
# errors.t: every error status of SPEC section 4 that this version has,
# each with its JSON body, and the daemon keeps serving after each one.
#
# Cases for -k: the "# ---" section names ("400: body", "400: path", 404,
# 405, 413, 431, 502, 504, "deny").

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E


def main(tap):
	env = T.require_env()
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port = T.free_port()
	closed = T.free_port()
	services = {
		"arith": {"url": up.url, "endpoints": {
			"adder": E("/adder"),
			"echo": E("/echo"),
			"pv": E("/echo/{args.id}", method="GET"),
			"pvn": E("/echo/{args.user.id}"),
			"nojson": E("/nojson", method="GET"),
			"big": E("/big", method="GET"),
			"close": E("/close", method="GET"),
			"slow1": E("/slow", method="GET", timeout=1),
			"slow5": E("/slow", method="GET", timeout=5),
			"slowfrac": E("/slow", method="GET", timeout=0.5),
			"deny": E("/echo", rule={"rule": "deny",
			    "error": "no entry for you"}),
		}},
		"dead": {"url": "http://127.0.0.1:%d" % closed, "endpoints": {
			"refused": E("/adder"),
		}},
	}
	cfg = T.make_config(tmp, port, services,
	    limits={"maxHeaderBytes": 2048, "clientTimeout": 2})
	sy = T.Daemon(env, tmp, cfg).start()
	pids = sy.workers()
	api = T.api_path

	def good_after(desc):
		r = T.try_call(port, "arith", "adder", {"num1": 10, "num2": 20})
		tap.ok(isinstance(r, T.Response) and r.status == 200 and
		    r.json() == {"sum": 30},
		    "%s: then a good call on a new connection is served" % desc,
		    r.describe() if isinstance(r, T.Response) else repr(r))

	def check(r, status, desc, statuses=None):
		"""Three assertions: status, error document, good call after."""
		statuses = statuses or (status,)
		if not isinstance(r, T.Response):
			tap.ok(False, "%s: %s" % (desc, status),
			    "no response: %r" % r)
			tap.ok(False, "%s: JSON error body" % desc)
			good_after(desc)
			return
		tap.ok(r.status in statuses, "%s: %s" % (desc,
		    " or ".join(map(str, statuses))), r.describe())
		tap.ok(T.is_error_doc(r) and
		    r.media_type() == "application/json" and
		    r.header("Access-Control-Allow-Origin"),
		    "%s: {\"error\",\"rawError\"} as application/json "
		    "with Access-Control-Allow-Origin" % desc, r.describe())
		good_after(desc)

	path = api("demo", "arith", "echo")

	# --- 400: body not JSON or not an object
	if T.selected("400: body not JSON or not an object"):
		for raw, what in (("not json", "non-JSON body"),
		    ("[]", "array body"), ('"x"', "string body"), ("1", "number body"),
		    ("null", "null body"), ('{"params": {"a": 1}', "truncated JSON"),
		    ('{"params": {}} trailing', "JSON followed by garbage")):
			r = T.try_call(port, "arith", "adder", body=raw)
			check(r, 400, what)

	# --- 400: path variables
	if T.selected("400: path variables"):
		for name, params, what in (
		    ("pv", {}, "missing path variable"),
		    ("pv", {"id": {"a": 1}}, "object path variable"),
		    ("pv", {"id": [1]}, "array path variable"),
		    ("pv", [1], "path variable with array params"),
		    ("pvn", {"user": {}}, "missing dotted path variable"),
		    ("pvn", {"user": "x"}, "dotted path through a string")):
			r = T.try_call(port, "arith", name, params)
			check(r, 400, what)

	# --- 404
	if T.selected("404"):
		for method, path, what in (
		    ("POST", api("nope", "arith", "adder"), "unknown project"),
		    ("POST", api("demo", "nope", "adder"), "unknown service"),
		    ("POST", api("demo", "arith", "nope"), "unknown endpoint"),
		    ("POST", api("demo", "dead", "adder"),
		        "endpoint of another service"),
		    ("GET", "/", "GET /"),
		    ("GET", "/foo", "GET /foo"),
		    ("POST", "/v1/api/demo/services/arith", "path too short"),
		    ("POST", api("demo", "arith", "adder") + "/extra",
		        "path too long"),
		    ("POST", "/v1/api/demo/functions/arith/adder", "wrong segment")):
			r = T.try_request(port, method, path, body="{}",
			    headers={"Content-Type": "application/json"})
			check(r, 404, what)

	# --- 405 with Allow
	if T.selected("405 with Allow"):
		for method in ("GET", "PUT", "DELETE", "PATCH"):
			r = T.try_request(port, method, api("demo", "arith", "adder"),
			    body=None if method == "GET" else "{}",
			    headers={"Content-Type": "application/json"})
			check(r, 405, "%s on the API path" % method)
			allow = r.header("Allow") if isinstance(r, T.Response) else None
			tap.is_((allow or "").replace(" ", ""), "POST,OPTIONS",
			    "%s: Allow: POST, OPTIONS" % method, "got %r" % allow)

	# --- 413 and the limit itself
	if T.selected("413 and the limit itself"):
		pad = "x" * (5000 - len('{"params": {"pad": ""}}'))
		big = ('{"params": {"pad": "%s"}}' % pad).encode()
		r = T.raw_request(port, b"POST " + path.encode() + b" HTTP/1.1\r\n"
		    b"Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
		    b"Connection: close\r\nContent-Length: " +
		    str(len(big)).encode() + b"\r\n\r\n" + big)
		check(r, 413, "body over maxBodyBytes")
		tap.ok(isinstance(r, T.Response) and r.header("X-Request-Id") and
		    (r.header("Connection") or "").lower() == "close",
		    "413: X-Request-Id and Connection: close",
		    r.describe() if isinstance(r, T.Response) else repr(r))
		r = T.raw_request(port, b"POST " + path.encode() + b" HTTP/1.0\r\n"
		    b"Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
		    b"Content-Length: " + str(len(big)).encode() + b"\r\n\r\n" + big)
		check(r, 413, "HTTP/1.0 body over maxBodyBytes")
		chunks = b"".join(b"%x\r\n%s\r\n" % (len(big[i:i + 1000]),
		    big[i:i + 1000]) for i in range(0, len(big), 1000)) + b"0\r\n\r\n"
		r = T.raw_request(port, b"POST " + path.encode() + b" HTTP/1.1\r\n"
		    b"Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
		    b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
		check(r, 413, "chunked body over maxBodyBytes")

		pad = "x" * (4096 - len('{"params": {"pad": ""}}'))
		inner = '{"pad": "%s"}' % pad
		exact = '{"params": %s}' % inner
		r = T.try_call(port, "arith", "echo", body=exact)
		tap.ok(len(exact) == 4096 and isinstance(r, T.Response) and
		    r.status == 200 and (r.json() or {}).get("body") == inner,
		    "a body of exactly maxBodyBytes is accepted",
		    r.describe() if isinstance(r, T.Response) else repr(r))

	# --- 431 (or 400) for headers over maxHeaderBytes
	if T.selected("431 (or 400) for headers over maxHeaderBytes"):
		r = T.raw_request(port, b"POST " + path.encode() + b" HTTP/1.1\r\n"
		    b"Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
		    b"X-Big: " + b"h" * 4000 + b"\r\n"
		    b"Connection: close\r\nContent-Length: 2\r\n\r\n{}")
		check(r, 431, "headers over maxHeaderBytes", statuses=(431, 400))
		r = T.raw_request(port, b"GARBAGE\r\n\r\n")
		check(r, 400, "malformed request line")

	# --- 502
	if T.selected("502"):
		r = T.try_call(port, "dead", "refused", {})
		check(r, 502, "upstream refused")
		r = T.try_call(port, "arith", "nojson", {})
		check(r, 502, "upstream answered non-JSON")
		r = T.try_call(port, "arith", "big", {"bytes": 100000})
		check(r, 502, "upstream answer over maxResponseBytes")
		r = T.try_call(port, "arith", "close", {})
		check(r, 502, "upstream dropped the connection")
		r = T.try_call(port, "arith", "big", {"bytes": 1000})
		tap.ok(isinstance(r, T.Response) and r.status == 200,
		    "an upstream answer under maxResponseBytes passes",
		    r.describe() if isinstance(r, T.Response) else repr(r))

	# --- 504
	if T.selected("504"):
		r = T.try_call(port, "arith", "slow1", {"ms": 3000})
		check(r, 504, "endpoint timeout 1 s against a 3 s upstream")
		tap.ok(isinstance(r, T.Response) and 0.8 <= r.elapsed <= 2.0,
		    "endpoint timeout: answered after about 1 s",
		    "elapsed %s" % getattr(r, "elapsed", None))

		r = T.try_call(port, "arith", "slow5", {"ms": 2000}, timeout_ms=300)
		check(r, 504, "client timeout 300 ms shortens endpoint timeout 5 s")
		tap.ok(isinstance(r, T.Response) and 0.25 <= r.elapsed <= 1.2,
		    "client timeout: answered after about 0.3 s",
		    "elapsed %s" % getattr(r, "elapsed", None))

		r = T.try_call(port, "arith", "slow1", {"ms": 3000}, timeout_ms=10000)
		check(r, 504, "a larger client timeout does not extend the endpoint's")
		tap.ok(isinstance(r, T.Response) and 0.8 <= r.elapsed <= 2.0,
		    "larger client timeout: still answered after about 1 s",
		    "elapsed %s" % getattr(r, "elapsed", None))

		r = T.try_call(port, "arith", "slowfrac", {"ms": 3000})
		check(r, 504, "endpoint timeout 0.5 s (fractions allowed)")
		tap.ok(isinstance(r, T.Response) and 0.4 <= r.elapsed <= 1.2,
		    "fractional endpoint timeout: answered after about 0.5 s",
		    "elapsed %s" % getattr(r, "elapsed", None))

		for tmo in (0, -5):
			r = T.try_call(port, "arith", "slow5", {"ms": 300},
			    timeout_ms=tmo)
			tap.ok(isinstance(r, T.Response) and r.status == 200 and
			    r.json() == {"slept": 300},
			    "client timeout %d is not a deadline" % tmo,
			    r.describe() if isinstance(r, T.Response) else repr(r))

	# --- deny: 401 without a token, 403 with a valid one
	if T.selected("deny: 401 without a token, 403 with a valid one"):
		r = T.try_call(port, "arith", "deny", {})
		check(r, 401, "deny rule without Authorization")
		tok = T.jwt_hs256({"sub": "user-1", "iat": int(time.time()),
		    "exp": int(time.time()) + 600}, "s3cret")
		r = T.try_call(port, "arith", "deny", {},
		    headers={"Authorization": "Bearer " + tok})
		check(r, 403, "deny rule with a valid token")
		tap.is_((r.json() or {}).get("error") if isinstance(r, T.Response)
		    else None, "no entry for you",
		    "deny: the rule's error is the error")

	tap.is_(sy.workers(), pids, "worker pids unchanged after all errors")
	tap.ok(sy.alive(), "master still running")


T.run_main(None, main, watchdog=90)
