#!/usr/bin/python3
# rules.t: Space Cloud's security rules (SPEC section 6) with a valid
# HS256 caller token: deny, authenticated, match (string, number, bool,
# date; every operator; args.auth and args.params; utils.now/exists/
# length), and/or, force and remove as the upstream sees them, and
# webhooks against a real loopback server (pass, deny, slow, down, and
# the worker serving others while a webhook is slow).
#
# Cases for -k: the names in MATCH_CASES, "no token NAME", "force",
# "remove", "webhook".

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

SECRET = "s3cret"		# make_config's primary HS256 secret
CLAIMS = {"sub": "user-1", "role": "admin", "level": 5, "verified": True,
    "tags": ["a", "b"], "born": "1990-05-01T10:00:00Z"}


def m(typ, ev, f1, f2, **kw):
	d = {"rule": "match", "type": typ, "eval": ev, "f1": f1, "f2": f2}
	d.update(kw)
	return d


def rand(*clauses, **kw):
	d = {"rule": "and", "clauses": list(clauses)}
	d.update(kw)
	return d


def ror(*clauses, **kw):
	d = {"rule": "or", "clauses": list(clauses)}
	d.update(kw)
	return d


ROLE = "args.auth.role"
LEVEL = "args.auth.level"
NOW = "utils.now()"
FUTURE = "2999-01-01T00:00:00Z"

# (endpoint name, rule, [(params, expected status, expected error)]);
# every call carries a valid token.  error None: not checked.
MATCH_CASES = [
	# string, on a claim
	("s_eq", m("string", "==", ROLE, "admin"), [({}, 200, None)]),
	("s_eq_f", m("string", "==", ROLE, "user"), [({}, 403, None)]),
	("s_ne", m("string", "!=", ROLE, "user"), [({}, 200, None)]),
	("s_ne_f", m("string", "!=", ROLE, "admin"), [({}, 403, None)]),
	("s_lt", m("string", "<", ROLE, "b"), [({}, 200, None)]),
	("s_lt_f", m("string", "<", ROLE, "admin"), [({}, 403, None)]),
	("s_le", m("string", "<=", ROLE, "admin"), [({}, 200, None)]),
	("s_gt", m("string", ">", ROLE, "Admin"), [({}, 200, None)]),
	("s_gt_f", m("string", ">", ROLE, "admin"), [({}, 403, None)]),
	("s_ge", m("string", ">=", ROLE, "admin"), [({}, 200, None)]),
	("s_ge_f", m("string", ">=", ROLE, "admio"), [({}, 403, None)]),
	("s_in", m("string", "in", ROLE, ["ops", "admin"]),
	    [({}, 200, None)]),
	("s_in_f", m("string", "in", ROLE, ["ops", "dev"]),
	    [({}, 403, None)]),
	("s_notin", m("string", "notIn", ROLE, ["ops"]), [({}, 200, None)]),
	("s_notin_f", m("string", "notIn", ROLE, ["ops", "admin"]),
	    [({}, 403, None)]),
	# string, on params, and variable against variable
	("sp_eq", m("string", "==", "args.params.name", "bob"),
	    [({"name": "bob"}, 200, None), ({"name": "alice"}, 403, None)]),
	("sp_vars", m("string", "==", "args.params.user", "args.auth.sub"),
	    [({"user": "user-1"}, 200, None), ({"user": "user-2"}, 403,
	    None)]),
	("sp_in_var", m("string", "in", ROLE, "args.params.roles"),
	    [({"roles": ["x", "admin"]}, 200, None), ({"roles": ["x"]}, 403,
	    None)]),
	("s_idx", m("string", "==", "args.auth.tags.1", "b"),
	    [({}, 200, None)]),
	("s_missing", m("string", "==", "args.auth.nope", "x"),
	    [({}, 403, None)]),
	# number
	("n_eq", m("number", "==", LEVEL, 5), [({}, 200, None)]),
	("n_eq_f", m("number", "==", LEVEL, 4), [({}, 403, None)]),
	("n_ne", m("number", "!=", LEVEL, 4), [({}, 200, None)]),
	("n_ne_f", m("number", "!=", LEVEL, 5), [({}, 403, None)]),
	("n_lt", m("number", "<", LEVEL, 6), [({}, 200, None)]),
	("n_lt_f", m("number", "<", LEVEL, 5), [({}, 403, None)]),
	("n_le", m("number", "<=", LEVEL, 5), [({}, 200, None)]),
	("n_le_f", m("number", "<=", LEVEL, 4), [({}, 403, None)]),
	("n_gt", m("number", ">", LEVEL, 4), [({}, 200, None)]),
	("n_gt_f", m("number", ">", LEVEL, 5), [({}, 403, None)]),
	("n_ge", m("number", ">=", LEVEL, 5), [({}, 200, None)]),
	("n_ge_f", m("number", ">=", LEVEL, 6), [({}, 403, None)]),
	("n_in", m("number", "in", LEVEL, [1, 5, 9]), [({}, 200, None)]),
	("n_in_f", m("number", "in", LEVEL, [1, 2]), [({}, 403, None)]),
	("n_notin", m("number", "notIn", LEVEL, [1, 2]), [({}, 200, None)]),
	("n_notin_f", m("number", "notIn", LEVEL, [5]), [({}, 403, None)]),
	("np_le", m("number", "<=", "args.params.amount", 2.5),
	    [({"amount": 2.5}, 200, None), ({"amount": 3}, 403, None)]),
	("np_vars", m("number", "<", "args.params.n", LEVEL),
	    [({"n": 3}, 200, None), ({"n": 7}, 403, None)]),
	# bool
	("b_eq", m("bool", "==", "args.auth.verified", True),
	    [({}, 200, None)]),
	("b_eq_f", m("bool", "==", "args.auth.verified", False),
	    [({}, 403, None)]),
	("b_ne", m("bool", "!=", "args.auth.verified", False),
	    [({}, 200, None)]),
	("b_ne_f", m("bool", "!=", "args.auth.verified", True),
	    [({}, 403, None)]),
	("bp_eq", m("bool", "==", "args.params.flag", True),
	    [({"flag": True}, 200, None), ({"flag": False}, 403, None)]),
	# date
	("d_lt", m("date", "<", "args.auth.born", NOW), [({}, 200, None)]),
	("d_gt_f", m("date", ">", "args.auth.born", NOW), [({}, 403, None)]),
	("dp_gt", m("date", ">", "args.params.when", NOW),
	    [({"when": FUTURE}, 200, None),
	    ({"when": "2001-01-01T00:00:00Z"}, 403, None)]),
	("d_eq", m("date", "==", "args.auth.born",
	    "1990-05-01T12:00:00+02:00"), [({}, 200, None)]),
	("d_ne_f", m("date", "!=", "args.auth.born",
	    "1990-05-01T12:00:00+02:00"), [({}, 403, None)]),
	("d_le", m("date", "<=", "args.auth.born", "1990-05-01T10:00:00Z"),
	    [({}, 200, None)]),
	("d_ge_f", m("date", ">=", "args.auth.born", "1991-01-01T00:00:00Z"),
	    [({}, 403, None)]),
	("d_ge_now", m("date", ">=", NOW, "args.params.when"),
	    [({"when": "2001-01-01T00:00:00Z"}, 200, None),
	    ({"when": FUTURE}, 403, None)]),
	# utils.exists, utils.length
	("u_exists", m("bool", "==", "utils.exists(args.params.x)", True),
	    [({"x": 1}, 200, None), ({"y": 1}, 403, None)]),
	("u_exists_auth", m("bool", "==", "utils.exists(args.auth.role)",
	    True), [({}, 200, None)]),
	("u_notexists", m("bool", "==", "utils.exists(args.auth.nope)",
	    False), [({}, 200, None)]),
	("u_len", m("number", "==", "utils.length(args.auth.tags)", 2),
	    [({}, 200, None)]),
	("u_len_p", m("number", ">=", "utils.length(args.params.items)", 3),
	    [({"items": [1, 2, 3]}, 200, None), ({"items": [1]}, 403, None)]),
	# the rule's error
	("m_err", m("string", "==", ROLE, "root", error="root only"),
	    [({}, 403, "root only")]),
	# and / or
	("and_ok", rand(m("string", "==", ROLE, "admin"),
	    m("number", ">=", LEVEL, 5)), [({}, 200, None)]),
	("and_fail", rand(m("string", "==", ROLE, "admin"),
	    m("number", ">", LEVEL, 5, error="level too low")),
	    [({}, 403, "level too low")]),
	("or_ok", ror(m("string", "==", ROLE, "nobody"),
	    m("number", "==", LEVEL, 5)), [({}, 200, None)]),
	("or_fail", ror(m("string", "==", ROLE, "nobody"),
	    m("number", "==", LEVEL, 1), error="neither"),
	    [({}, 403, "neither")]),
	("nested_ok", rand(ror(m("string", "==", ROLE, "nobody"),
	    m("bool", "==", "args.auth.verified", True)),
	    m("number", "<", LEVEL, 10)), [({}, 200, None)]),
	("nested_fail", ror(rand(m("string", "==", ROLE, "admin"),
	    m("number", ">", LEVEL, 9)), rand(m("string", "==", ROLE,
	    "nobody"))), [({}, 403, None)]),
	# deny, authenticated
	("deny", {"rule": "deny", "error": "no entry for you"},
	    [({}, 403, "no entry for you")]),
	("deny_plain", {"rule": "deny"}, [({}, 403, None)]),
	("authd", {"rule": "authenticated"}, [({}, 200, None)]),
]

FORCE = {"rule": "force", "field": "args.params.user",
    "value": "args.auth.sub"}
# without a token, each of these is 401
NO_TOKEN = ["deny", "authd", "s_eq", "and_ok", "f_var", "rm", "w_ok"]


def main(tap):
	env = T.require_env()
	jwt = T.require_jwt()
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port = T.free_port()
	closed = T.free_port()

	def hook(req):
		name = req.path.rsplit("/", 1)[-1]
		j = {"Content-Type": "application/json"}
		if name == "ok":
			return 200, j, '{"ok": true}'
		if name == "deny":
			return 403, j, '{"error": "not you"}'
		if name == "slow":
			time.sleep(3)
			return 200, j, '{"ok": true}'
		if name == "text":
			return 200, {"Content-Type": "text/plain"}, "yes"
		if name == "fail":
			return 500, j, '{"error": "broken"}'
		return 404, j, "{}"

	wh = T.LoopbackServer(hook)

	def webhook(name, url=None):
		return {"rule": "webhook", "url": url or wh.url("/hook/" + name),
		    "timeout": 1}

	eps = {name: E("/echo/" + name, rule=rule)
	    for name, rule, _ in MATCH_CASES}
	eps.update({
		"open": E("/echo/open"),
		"f_var": E("/echo/f", rule=FORCE),
		"f_lit": E("/echo/f", rule={"rule": "force",
		    "field": "args.params.tenant", "value": "acme"}),
		"f_get": E("/echo/g", method="GET", rule=FORCE),
		"f_path": E("/echo/u/{args.user}", rule=FORCE),
		"rm": E("/echo/rm", rule={"rule": "remove", "fields":
		    ["args.params.secret", "args.params.nested.x"]}),
		"and_fm": E("/echo/fm", rule=rand(FORCE,
		    m("string", "==", ROLE, "admin"))),
		"and_fm_f": E("/echo/fm", rule=rand(FORCE,
		    m("string", "==", ROLE, "nobody", error="not admin"))),
		"w_ok": E("/echo/w", rule=webhook("ok")),
		"w_deny": E("/echo/w", rule=webhook("deny")),
		"w_slow": E("/echo/w", rule=webhook("slow")),
		"w_text": E("/echo/w", rule=webhook("text")),
		"w_fail": E("/echo/w", rule=webhook("fail")),
		"w_down": E("/echo/w", rule=webhook("down",
		    url="http://127.0.0.1:%d/hook/down" % closed)),
		"w_or": E("/echo/w", rule=ror(webhook("deny"),
		    m("string", "==", ROLE, "admin"))),
	})
	# one worker, so that the call made while a webhook is slow is
	# served by the same worker
	cfg = T.make_config(tmp, port, {"r": {"url": up.url,
	    "endpoints": eps}}, workers=1)
	sy = T.Daemon(env, tmp, cfg).start()
	pids = sy.workers()

	now = int(time.time())
	claims = dict(CLAIMS, iat=now, exp=now + 600)
	tok = jwt.encode(claims, SECRET, algorithm="HS256")
	bearer = {"Authorization": "Bearer " + tok}

	def go(ep, params=None, token=True, body=None, timeout=8.0):
		return T.try_call(port, "r", ep, params if params is not None
		    else {}, body=body, headers=bearer if token else {},
		    timeout=timeout)

	def desc_of(r):
		return r.describe() if isinstance(r, T.Response) else repr(r)

	def check(r, status, error, desc):
		ok = isinstance(r, T.Response) and r.status == status
		if ok and status >= 400:
			ok = T.is_error_doc(r)
		if ok and error is not None:
			ok = r.json().get("error") == error
		return tap.ok(ok, "%s: %d%s" % (desc, status,
		    " with error %r" % error if error else ""), desc_of(r))

	def echo_body(r):
		"""The params the upstream received (its /echo body, parsed)."""
		if not isinstance(r, T.Response) or r.status != 200:
			return None
		try:
			return json.loads(r.json().get("body"))
		except (ValueError, TypeError, AttributeError):
			return None

	# --- match, and/or, deny, authenticated
	for name, rule, calls in T.select(MATCH_CASES):
		for params, status, error in calls:
			check(go(name, params), status, error, "%s %s params %s"
			    % (name, json.dumps(rule, separators=(",", ":")),
			    json.dumps(params)))

	# --- every rule but allow needs a token
	for name in T.select(NO_TOKEN, name=lambda n: "no token " + n):
		check(go(name, token=False), 401, None,
		    "rule of %s without a token" % name)

	# --- force and remove, as the upstream sees them
	if T.selected("force", "remove"):
		r = go("f_var", {"user": "mallory", "x": 1})
		tap.is_(echo_body(r), {"user": "user-1", "x": 1},
		    "force args.params.user = args.auth.sub overrides the client's "
		    "value", desc_of(r))
		r = go("f_var", body='{"timeout": 3000}')
		tap.is_(echo_body(r), {"user": "user-1"},
		    "force when the call has no params", desc_of(r))
		r = go("f_lit", {"a": [1]})
		tap.is_(echo_body(r), {"a": [1], "tenant": "acme"},
		    "force with a literal value", desc_of(r))
		r = go("f_get", {"user": "mallory", "q": "z"})
		e = r.json() if isinstance(r, T.Response) and r.status == 200 else {}
		tap.is_((e or {}).get("args"), {"user": "user-1", "q": "z"},
		    "force on a GET endpoint: the query carries the forced value",
		    desc_of(r))
		r = go("f_path", {"user": "mallory"})
		e = r.json() if isinstance(r, T.Response) and r.status == 200 else {}
		tap.is_((e or {}).get("path"), "/echo/u/user-1",
		    "force before {args.user} in the path", desc_of(r))
		r = go("rm", {"secret": "s", "keep": 1, "nested": {"x": 1, "y": 2}})
		tap.is_(echo_body(r), {"keep": 1, "nested": {"y": 2}},
		    "remove args.params.secret and args.params.nested.x", desc_of(r))
		r = go("rm", {"keep": 1})
		tap.is_(echo_body(r), {"keep": 1},
		    "remove of absent params passes", desc_of(r))
		r = go("and_fm", {"user": "mallory"})
		tap.is_(echo_body(r), {"user": "user-1"},
		    "and of force + passing match: 200, forced value upstream",
		    desc_of(r))
		check(go("and_fm_f", {"user": "mallory"}), 403, "not admin",
		    "and of force + failing match")

	# --- webhooks
	if T.selected("webhook"):
		n0 = len(wh.received())
		r = go("w_ok", {"k": "v", "n": 2})
		check(r, 200, None, "webhook answering 200 JSON passes")
		got = wh.received()[n0:]
		req = got[0] if got else None
		tap.ok(req is not None and req.method == "POST" and
		    req.path == "/hook/ok", "webhook got one POST /hook/ok",
		    "requests: %r" % got)
		doc = req.json() if req else None
		tap.is_(doc, {"auth": claims, "params": {"k": "v", "n": 2},
		    "token": tok}, "webhook body is {auth: the claims, params, "
		    "token: the raw token}")
		tap.like(req.headers.get("content-type") if req else None,
		    r"^application/json", "webhook request is application/json")
		check(go("w_deny"), 403, None, "webhook answering 403")
		check(go("w_fail"), 403, None, "webhook answering 500")
		check(go("w_text"), 403, None, "webhook answering 200 text/plain "
		    "(not JSON)")
		r = go("w_down")
		check(r, 403, None, "webhook on a closed port")
		check(go("w_or"), 200, None, "or of a denying webhook and a passing "
		    "match")
		n1 = len(wh.received())
		go("w_ok", token=False)
		tap.is_(len(wh.received()), n1, "no token: the webhook is not called")

		r = go("w_slow")
		check(r, 403, None, "webhook slower than its 1 s timeout")
		tap.ok(isinstance(r, T.Response) and 0.8 <= r.elapsed <= 2.5,
		    "slow webhook: answered after about 1 s",
		    "elapsed %s" % getattr(r, "elapsed", None))

		# a normal call while a webhook is slow, on the only worker
		n2 = len(wh.received("/hook/slow"))
		slow = T.Caller(port, "r", "w_slow", {}, headers=bearer, timeout=8)
		slow.start()
		T.wait_until(lambda: len(wh.received("/hook/slow")) > n2, 3)
		r = go("open", {"a": 1}, token=False, timeout=3)
		pending = slow.is_alive()
		tap.ok(isinstance(r, T.Response) and r.status == 200 and
		    r.elapsed < 0.5 and pending,
		    "while a webhook is slow, another call on the same worker is "
		    "answered at once", "still waiting on the webhook: %s" % pending,
		    desc_of(r))
		slow.join(timeout=6)
		check(slow.result, 403, None, "the slow-webhook call then ends")

	tap.is_(sy.workers(), pids, "no worker was replaced during the test")


T.run_main(None, main, watchdog=60)
