#!/usr/bin/python3
# dupkeys.t: a call body with a duplicate member name at any depth is 400
# (SPEC section 4), so that the rule (json-c, last member wins) and the
# upstream (which may read the first) never see different values; and a
# body with 100,000 members is checked in linear-logarithmic time.

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E

NOT_ADMIN = {"rule": "match", "type": "string", "eval": "!=",
    "f1": "args.params.id", "f2": "admin"}


def main(tap):
	env = T.require_env()
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port = T.free_port()
	services = {"s": {"url": up.url, "endpoints": {
		"guarded": E("/echo/guarded", rule=NOT_ADMIN),
		"echo": E("/echo/plain"),
		"deny": E("/echo/deny", rule={"rule": "deny"}),
	}}}
	cfg = T.make_config(tmp, port, services,
	    limits={"maxBodyBytes": 4 * 1024 * 1024})
	sy = T.Daemon(env, tmp, cfg).start()
	# a rule other than allow needs a caller's token
	tok = T.jwt_hs256({"sub": "u1", "exp": int(time.time()) + 600},
	    "s3cret")
	auth = {"Authorization": "Bearer " + tok}

	def upstream_requests():
		"""Requests the upstream has had: each asking counts one."""
		return up.stats().get("requests")

	def refused(body, desc, service_ep="guarded"):
		n0 = upstream_requests()
		r = T.try_call(port, "s", service_ep, body=body, headers=auth)
		ok = isinstance(r, T.Response) and r.status == 400
		tap.ok(ok and T.is_error_doc(r) and
		    "duplicate member name" in r.json().get("error", ""),
		    "%s: 400, the error names the duplicate member" % desc,
		    r.describe() if isinstance(r, T.Response) else repr(r))
		tap.is_(upstream_requests() - n0, 1, "%s: the upstream is not "
		    "called (only asked for its count)" % desc)

	# --- the bypass of issue 10: the rule read "x", the upstream "admin"
	r = T.call(port, "s", "guarded", {"id": "admin"}, headers=auth)
	tap.is_(r.status, 403, "rule args.params.id != admin: id admin is "
	    "denied", r.describe())
	r = T.call(port, "s", "guarded", {"id": "x"}, headers=auth)
	tap.is_(r.status, 200, "id x is allowed", r.describe())
	refused('{"params":{"id":"admin","id":"x"}}', "params.id twice")
	refused('{"params":{"id":"x","id":"admin"}}', "params.id twice, "
	    "the other way round")
	refused('{"params":{"id":"admin","i\\u0064":"x"}}',
	    "params.id twice, once written with an escape")
	refused('{"params":{"id":"x"},"params":{"id":"admin"}}',
	    "params twice")
	refused('{"params":{"u":[1,{"id":"a","b":{"c":2,"c":3}}]}}',
	    "a duplicate inside an object inside an array", "echo")
	refused('{"params":{},"timeout":5000,"timeout":1}', "timeout twice",
	    "echo")

	# --- the same name in different objects is fine
	r = T.call(port, "s", "echo", body='{"params":{"a":{"id":1},'
	    '"b":{"id":1},"c":[{"id":1},{"id":1}],"id":{"id":{"id":1}}}}')
	tap.ok(r.status == 200 and r.json().get("body") is not None,
	    "the same name in sibling and nested objects: forwarded",
	    r.describe())

	# --- 100,000 members: checked in well under a second
	members = ",".join('"k%d":%d' % (i, i) for i in range(100000))
	big = '{"params":{%s}}' % members
	t0 = time.monotonic()
	r = T.try_call(port, "s", "deny", body=big, timeout=20,
	    headers=auth)
	took = time.monotonic() - t0
	tap.ok(isinstance(r, T.Response) and r.status == 403,
	    "100,000 distinct members: the body is accepted (then the rule "
	    "denies)", r.describe() if isinstance(r, T.Response) else repr(r))
	tap.cmp_ok(took, "<", 3.0, "... answered in under 3 s")
	dup = '{"params":{%s,"k99999":0}}' % members
	t0 = time.monotonic()
	r = T.try_call(port, "s", "deny", body=dup, timeout=20,
	    headers=auth)
	took = time.monotonic() - t0
	tap.ok(isinstance(r, T.Response) and r.status == 400 and
	    "duplicate" in r.body.decode(),
	    "100,000 members and the last repeats one: 400",
	    r.describe() if isinstance(r, T.Response) else repr(r))
	tap.cmp_ok(took, "<", 3.0, "... answered in under 3 s")

	# --- the daemon still serves
	r = T.call(port, "s", "guarded", {"id": "y"}, headers=auth)
	tap.is_(r.status, 200, "a good call afterwards is served",
	    r.describe())
	tap.ok(sy.alive() and len(sy.workers()) == 2, "master and both "
	    "workers still run")


T.run_main(None, main, watchdog=60)
