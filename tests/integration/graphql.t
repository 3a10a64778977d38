#!/usr/bin/python3
# graphql.t: POST|GET /v1/api/{project}/graphql against the real daemon and a
# real loopback upstream (SPEC 8.1-8.9, 8.11): requests, status codes and
# media types, fields and directives, references, shaping, calls, rules and
# de-duplication, deadlines, limits, logs and metrics.  Every document sent
# is first parsed by an independent parser (Debian's python3-graphql-core),
# which must agree with the daemon on whether it parses.
#
# Cases are named for -k: basic, chain, rules, fanout, faults, deadline,
# concurrency, limits, dedupe, refs, shape, reqerr, http, directives, skip,
# order, logs, cancel, hostile.

import json
import os
import socket
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E
from sygql import codes, data, errs
import sygql

GQL_MEDIA = "application/graphql-response+json"
SECRET = "s3cret"


class Up:
	"""The upstream: a loopback server whose routes compute from params,
	counting calls per path and the calls in flight at once."""

	def __init__(self):
		self.lock = threading.Lock()
		self.inflight = 0
		self.max_inflight = 0
		self.group = {}		# /slow calls in flight by params.grp
		self.group_max = {}
		self.srv = T.LoopbackServer(self.handle)

	def reset(self):
		with self.srv.lock:
			self.srv.requests.clear()
		with self.lock:
			self.max_inflight = 0

	def calls(self, path):
		return [r for r in self.srv.received()
		    if r.path.split("?")[0] == path]

	def handle(self, req):
		with self.lock:
			self.inflight += 1
			self.max_inflight = max(self.max_inflight, self.inflight)
		try:
			return self.route(req)
		finally:
			with self.lock:
				self.inflight -= 1

	def route(self, req):
		p = req.json() if req.body else {}
		path = req.path.split("?")[0]
		js = {"Content-Type": "application/json"}
		if not isinstance(p, dict):
			p = {}
		if path == "/add":
			return 200, js, json.dumps({"value": p.get("num1", 0) +
			    p.get("num2", 0)})
		if path == "/double":
			v = p.get("value")
			return 200, js, json.dumps({"value": v * 2 if isinstance(
			    v, (int, float)) else None})
		if path == "/items":
			n = min(int(p.get("n", 5)), 200000)
			m = int(p.get("mod", 10))
			return 200, js, json.dumps([{"id": i, "k": i % m,
			    "name": "item%d" % i} for i in range(n)])
		if path == "/echo":
			return 200, js, json.dumps({"params": p,
			    "auth": req.headers.get("authorization"),
			    "reqid": req.headers.get("x-request-id"),
			    "sctoken": bool(req.headers.get("x-sc-token"))})
		if path == "/slow":
			grp = p.get("grp")
			with self.lock:
				self.group[grp] = self.group.get(grp, 0) + 1
				self.group_max[grp] = max(self.group_max.get(grp,
				    0), self.group[grp])
			try:
				time.sleep(min(float(p.get("ms", 100)), 5000) /
				    1000.0)
			finally:
				with self.lock:
					self.group[grp] -= 1
			return 200, js, json.dumps({"slept": p.get("ms", 100),
			    "tag": p.get("tag")})
		if path == "/status":
			return int(p.get("code", 500)), js, json.dumps(
			    p.get("body", {"failed": True}))
		if path == "/nojson":
			return 200, {"Content-Type": "text/plain"}, "not json"
		if path == "/raw":
			return 200, js, p.get("raw", "null")
		if path == "/big":
			return 200, js, json.dumps({"pad": "x" * int(p.get("n",
			    10))})
		if path == "/nocontent":
			return 204, {}, b""
		return 404, js, json.dumps({"error": "no route " + path})


def services(up_url, dead_url):
	allow = {"rule": "allow"}
	return {
		"svc": {"url": up_url, "endpoints": {
			"adder": E("/add"),
			"add": E("/add"),
			"double": E("/double"),
			"items": E("/items"),
			"echo": E("/echo"),
			"slow": E("/slow"),
			"status": E("/status"),
			"nojson": E("/nojson"),
			"raw": E("/raw"),
			"nocontent": E("/nocontent"),
			"big": E("/big"),
			"pathvar": E("/echo/{args.id}"),
			"short": dict(E("/slow"), timeout=0.4),
			"deny": dict(E("/echo"), rule={"rule": "deny",
			    "error": "no doubling today"}),
			"authd": dict(E("/echo"), rule={"rule": "authenticated"}),
			"getecho": dict(E("/echo"), method="GET"),
		}},
		"dead": {"url": dead_url, "endpoints": {"x": E("/x")}},
		"with-dash": {"url": up_url, "endpoints": {"echo": E("/echo")}},
	}


class G:
	"""Sends GraphQL requests; checks each document with graphql-core."""

	def __init__(self, tap, port, project="demo"):
		self.tap = tap
		self.port = port
		self.project = project

	def path(self):
		return "/v1/api/%s/graphql" % self.project

	def check_doc(self, doc, parses):
		ok = sygql.parses(doc)
		if ok != parses:
			self.tap.ok(False, "graphql-core %s the document: %r" % (
			    "accepts" if ok else "refuses", doc))

	def post(self, doc, variables=None, op=None, headers=None,
	    parses=True, raw=None, timeout=15.0, project=None):
		if doc is not None:
			self.check_doc(doc, parses)
		body = raw
		if body is None:
			b = {"query": doc}
			if variables is not None:
				b["variables"] = variables
			if op is not None:
				b["operationName"] = op
			body = json.dumps(b)
		return T.post_json(self.port, "/v1/api/%s/graphql" % (
		    project or self.project), body, headers, timeout)

	def get(self, params, headers=None):
		qs = urllib.parse.urlencode(params)
		return T.request(self.port, "GET", self.path() + "?" + qs,
		    headers=headers or {})


def token(claims=None, secret=SECRET):
	c = {"sub": "u1", "role": "user"}
	c.update(claims or {})
	return T.jwt_hs256(c, secret)


def bearer(claims=None):
	return {"Authorization": "Bearer " + token(claims)}


def case_basic(tap, g, up):
	up.reset()
	r = g.post("query { adder(num1: 10, num2: 20) @svc { sum value } }")
	tap.is_(r.status, 200, "8.9 adder: 200", r.describe())
	tap.is_(r.body, b'{"data":{"adder":{"sum":null,"value":30}}}',
	    "8.9 adder: body, selection order, missing member null")
	tap.is_(r.media_type(), "application/json",
	    "8.2: application/json by default")
	c = up.calls("/add")
	tap.is_(len(c), 1, "8.9 adder: one upstream call")
	tap.is_(c and c[0].method, "POST", "upstream: POST")
	tap.is_(c and c[0].body, b'{"num1":10,"num2":20}',
	    "8.4 params: the arguments in the order written")
	tap.ok(r.header("X-Request-Id"), "X-Request-Id on a GraphQL answer")
	tap.ok(r.header("Access-Control-Allow-Origin"), "CORS header")
	r = g.post("{ e: echo(a: 1) @svc }", headers=dict(bearer(),
	    **{"X-Request-Id": "gql-rid-1"}))
	d = data(r) or {}
	e = d.get("e") or {}
	tap.is_(e.get("reqid"), "gql-rid-1",
	    "8.6: X-Request-Id sent upstream is the request's id")
	tap.like(e.get("auth") or "", r"^Bearer ",
	    "8.6: the caller's Authorization goes upstream")
	tap.ok(e.get("sctoken"), "8.6: X-SC-Token goes upstream")
	r = g.post("{ g: getecho(q: \"a b\", n: 2) @svc(func: \"getecho\") }")
	c = up.calls("/echo")
	tap.like(c[-1].path if c else "", r"^/echo\?", "8.6: GET endpoint "
	    "sends params as the query string", repr(c[-1:]))
	r = g.post("{ __typename }")
	tap.is_(r.body, b'{"data":{"__typename":"Query"}}',
	    "root __typename is Query")


def case_chain(tap, g, up):
	up.reset()
	r = g.post("{ add(num1:1, num2:2) @svc { value double(value:\"add."
	    "value\") @svc { value again: double(value: \"double.value\") "
	    "@svc(func: \"double\") { value } } } }")
	tap.is_(r.json(), {"data": {"add": {"value": 3, "double": {
	    "value": 6, "again": {"value": 12}}}}},
	    "8.9 chaining, two levels deep", r.describe())
	tap.is_(json.loads(up.calls("/double")[0].body), {"value": 3},
	    "chained call sent the parent's value")
	r = g.post("{ add(num1:1, num2:2) @svc { value echo(text: \"see add."
	    "value\", u: \"add__value\") @svc { params } } }")
	tap.is_((data(r) or {}).get("add", {}).get("echo"), {"params": {
	    "text": "see add.value", "u": 3}},
	    "8.4: text with a space is literal; __ reads as .", r.describe())


def case_rules(tap, g, up):
	up.reset()
	doc = ("{ add(num1:1, num2:2) @svc { value double: deny(value:"
	    "\"add.value\") @svc { value } } }")
	r = g.post(doc, headers=bearer())
	tap.is_(r.status, 200, "rule deny: still 200")
	tap.is_(data(r), {"add": {"value": 3, "double": None}},
	    "8.9 rule deny: the other fields' data kept")
	e = errs(r)
	tap.is_(len(e), 1, "rule deny: one error entry")
	if e:
		tap.is_(e[0].get("path"), ["add", "double"], "error path")
		tap.is_(e[0].get("extensions"), {"code": "FORBIDDEN",
		    "status": 403}, "FORBIDDEN 403")
		tap.is_(e[0].get("message"), "no doubling today",
		    "the rule's error is the message")
		tap.is_(list(e[0].keys()), ["message", "locations", "path",
		    "extensions"], "8.2: members in order")
		tap.is_(e[0].get("locations"), [{"line": 1, "column": 36}],
		    "locations of the field")
	tap.is_(len(up.calls("/echo")), 0, "denied: nothing sent upstream")
	r = g.post(doc)
	tap.is_(codes(r), ["UNAUTHENTICATED"],
	    "deny without a token: UNAUTHENTICATED")
	r = g.post("{ a: authd(x: 1) @svc b: authd(x: 2) @svc c: add(num1: 1) "
	    "@svc { value } }", headers={"Authorization": "Bearer not.a.jwt"})
	tap.is_(codes(r), ["UNAUTHENTICATED", "UNAUTHENTICATED"],
	    "bad token: each authenticated field fails", r.describe())
	tap.is_((data(r) or {}).get("c"), {"value": 1},
	    "a field with an allow rule still runs")
	r = g.post("{ a: authd(x: 1) @svc { params } }", headers=bearer())
	tap.is_((data(r) or {}).get("a"), {"params": {"x": 1}},
	    "authenticated with a good token: the call runs")


def case_fanout(tap, g, up):
	up.reset()
	r = g.post("{ items(n: 50, mod: 10) @svc { id e: echo(k: \"items.k\") "
	    "@svc { params } } }")
	d = (data(r) or {}).get("items") or []
	tap.is_(len(d), 50, "nested over 50 elements: 50 results")
	tap.is_(len(up.calls("/echo")), 10,
	    "8.6: 50 rows, 10 distinct params: exactly 10 upstream calls")
	tap.ok(all(x.get("e") == {"params": {"k": x.get("id") % 10}}
	    for x in d), "each row got its own call's result")
	tap.is_(errs(r), [], "no errors")


def case_faults(tap, g, up, dead_port):
	r = g.post("{ a: status(code: 500, body: {why: \"boom\"}) @svc "
	    "b: add(num1: 2, num2: 2) @svc { value } }")
	tap.is_(r.status, 200, "upstream 500: still 200")
	e = errs(r)
	tap.is_(e and e[0].get("extensions"), {"code": "UPSTREAM_STATUS",
	    "status": 502, "upstreamStatus": 500,
	    "upstreamBody": {"why": "boom"}}, "UPSTREAM_STATUS with the "
	    "upstream's status and body", r.describe())
	tap.is_((data(r) or {}).get("b"), {"value": 4}, "other field kept")
	r = g.post("{ d: x @dead }")
	tap.is_(codes(r), ["UPSTREAM_ERROR"], "refused: UPSTREAM_ERROR")
	tap.is_((errs(r) or [{}])[0].get("extensions", {}).get("status"),
	    502, "refused: status 502")
	r = g.post("{ n: nojson @svc }")
	tap.is_(codes(r), ["UPSTREAM_ERROR"], "non-JSON: UPSTREAM_ERROR")
	r = g.post("{ s: short(ms: 2000) @svc }")
	tap.is_(codes(r), ["UPSTREAM_TIMEOUT"],
	    "endpoint timeout: UPSTREAM_TIMEOUT")
	tap.is_((errs(r) or [{}])[0].get("extensions", {}).get("status"),
	    504, "UPSTREAM_TIMEOUT: status 504")
	tap.cmp_ok(r.elapsed, "<", 1.9, "the field failed at its deadline, "
	    "not when the upstream answered")
	r = g.post("{ s: slow(ms: 2000) @svc(timeout: 0.3) }")
	tap.is_(codes(r), ["UPSTREAM_TIMEOUT"],
	    "directive timeout: UPSTREAM_TIMEOUT")
	r = g.post("{ b: big(n: 9437184) @svc { pad } }")
	tap.is_(codes(r), ["UPSTREAM_ERROR"], "a body over maxResponseBytes: "
	    "UPSTREAM_ERROR", r.describe())
	r = g.post("{ p: pathvar(other: 1) @svc }")
	tap.is_([(e.get("extensions"), e.get("path")) for e in errs(r)],
	    [({"code": "BAD_USER_INPUT", "status": 400}, ["p"])],
	    "a path variable missing: BAD_USER_INPUT 400", r.describe())
	r = g.post("{ p: pathvar(id: [1]) @svc }")
	tap.is_(codes(r), ["BAD_USER_INPUT"], "a path variable not a scalar: "
	    "BAD_USER_INPUT")
	r = g.post("{ z: nocontent @svc { a } }")
	tap.is_(r.body, b'{"data":{"z":null}}', "8.5: upstream 204: null, "
	    "no error")
	r = g.post("{ r: raw(raw: \"{\\\"big\\\": 9007199254740993, \\\"f\\\": "
	    "30.0, \\\"i\\\": 30, \\\"s\\\": \\\"\\u00e9\\u2603\\\"}\") @svc }")
	tap.is_(r.body, '{"data":{"r":{"big":9007199254740993,"f":30.0,'
	    '"i":30,"s":"\u00e9\u2603"}}}'.encode(), "8.5: integers exact, "
	    "strings with the same code points", r.describe())


def case_deadline(tap, g, up):
	t0 = time.monotonic()
	r = g.post("{ fast: add(num1: 1, num2: 1) @svc { value } "
	    "slow: slow(ms: 4000) @svc { slept } }", project="quick")
	el = time.monotonic() - t0
	tap.is_(r.status, 200, "request deadline: 200")
	tap.is_(data(r), {"fast": {"value": 2}, "slow": None},
	    "8.7: partial data: what finished, null for the rest")
	tap.is_(codes(r), ["TIMEOUT"], "8.7: TIMEOUT for the unfinished")
	tap.cmp_ok(el, "<", 3.5, "the answer came at the request deadline "
	    "(1 s), not after the upstream (4 s)")
	r = g.post("{ a: slow(ms: 4000) @svc(timeout: 30) }", project="quick")
	tap.is_(codes(r), ["TIMEOUT"], "8.7: cut by the request deadline, "
	    "not its own: TIMEOUT")


def case_concurrency(tap, g, up):
	up.reset()
	r = g.post("{ items(n: 5, mod: 5) @svc { s: slow(ms: 300, grp: "
	    "\"conc\", tag: \"items.k\") @svc { tag } } }", project="narrow")
	d = (data(r) or {}).get("items") or []
	tap.is_([(x.get("s") or {}).get("tag") for x in d], list(range(5)),
	    "results placed by position", r.describe())
	tap.is_(up.group_max.get("conc"), 2, "8.6: maxConcurrency 2: at most "
	    "2 upstream calls in flight, and 2 at once")


def case_limits(tap, g, up):
	up.reset()
	r = g.post("{ items(n: 20, mod: 20) @svc { id e: echo(k: \"items.k\") "
	    "@svc } }", project="narrow")
	tap.is_(codes(r), ["LIMIT_EXCEEDED"] * 20, "maxFanOut 5, 20 distinct: "
	    "every instance fails", r.describe())
	tap.is_(len(up.calls("/echo")), 0, "maxFanOut: none called upstream")
	tap.is_(errs(r) and errs(r)[0].get("path"), ["items", 0, "e"],
	    "errors in document order")
	tap.is_([e.get("path")[1] for e in errs(r)], list(range(20)),
	    "list elements ascending")
	up.reset()
	r = g.post("{ items(n: 12, mod: 4) @svc { id e: echo(k: \"items.k\") "
	    "@svc } x: add(num1: 1) @svc { value } }", project="budget")
	# budget 4: items and x, then 2 of 4 distinct echo calls
	tap.is_(len(up.calls("/echo")), 2, "maxCalls 4: 2 echo calls made")
	tap.is_(sorted(set(codes(r))), ["LIMIT_EXCEEDED"],
	    "maxCalls: the rest LIMIT_EXCEEDED")
	d = (data(r) or {}).get("items") or []
	tap.ok(len(d) == 12 and d[0].get("e") and d[1].get("e") and
	    d[2].get("e") is None, "maxCalls: the earliest rows got calls",
	    r.describe())
	for media, st in (("application/json", 200), (GQL_MEDIA, 400)):
		r = g.post("{ a @svc { b { c { d } } } }", project="narrow",
		    headers={"Accept": media})
		tap.is_((r.status, codes(r), "data" in (r.json() or {})),
		    (st, ["LIMIT_EXCEEDED"], False), "maxDepth 3: request "
		    "error, %s gives %d" % (media, st), r.describe())
	doc = "{ " + " ".join("a%d: add @svc" % i for i in range(11)) + " }"
	r = g.post(doc, project="narrow")
	tap.is_(codes(r), ["LIMIT_EXCEEDED"], "maxFields 10: request error")
	tap.ok("data" not in (r.json() or {}), "request error: no data")


def case_dedupe(tap, g, up):
	up.reset()
	r = g.post("{ a: add(num1: 1, num2: 2) @svc { value } b: add(num2: 2, "
	    "num1: 1.0) @svc { v: value } c: add(num1: 1, num2: 2) "
	    "@svc(func: \"add\") }")
	tap.is_(data(r), {"a": {"value": 3}, "b": {"v": 3}, "c": {"value": 3}},
	    "8.6: three instances, each shaped", r.describe())
	tap.is_(len(up.calls("/add")), 1, "8.6: equal params (any member "
	    "order, 1 == 1.0): one upstream call")
	up.reset()
	r = g.post("{ a: add(num1: 1, num2: 2) @svc { value } b: adder(num1: "
	    "1, num2: 2) @svc { value } }")
	tap.is_(len(up.calls("/add")), 2,
	    "another endpoint with equal params: its own call")
	up.reset()
	r = g.post("{ items(n: 10, mod: 1) @svc { d: deny @svc } }",
	    headers=bearer())
	tap.is_(codes(r), ["FORBIDDEN"] * 10, "a shared rule failure fails "
	    "every instance", r.describe())
	g.post("{ a: add(num1: 1, num2: 2) @svc { value } }")
	g.post("{ a: add(num1: 1, num2: 2) @svc { value } }")
	tap.is_(len(up.calls("/add")), 2, "never across requests")


def case_refs(tap, g, up):
	r = g.post("query($n: Int = 4) { e: echo(a: \"vars.n\", b: $n, c: "
	    "\"vars.nope\") @svc { params } }")
	tap.is_((data(r) or {}).get("e"), {"params": {"a": 4, "b": 4,
	    "c": None}}, "8.4: vars.x references; absent gives null",
	    r.describe())
	r = g.post("query($t: String) { add(num1: 1, num2: 2) @svc { e: echo("
	    "v: $t, w: \"add.missing.deep\", x: \"add.value.0\") @svc "
	    "{ params } } }", variables={"t": "add.value"})
	tap.is_((data(r) or {}).get("add", {}).get("e"), {"params": {
	    "v": "add.value", "w": None, "x": None}},
	    "a variable is never a reference; paths that find nothing: null",
	    r.describe())
	r = g.post("{ items(n: 3) @svc { id inner: echo(i: \"items.id\") @svc "
	    "{ params { i e2: echo(i: \"items.name\", j: \"inner.params.i\","
	    " k: \"params.i\") @svc(func: \"echo\") { params } } "
	    "e3: echo(k: \"params.i\") @svc { params } } } }")
	d = (data(r) or {}).get("items") or [{}, {}, {}]
	tap.is_(d[2].get("inner"), {"params": {"i": 2, "e2": {"params": {
	    "i": "item2", "j": 2, "k": 2}}}, "e3": {"params": {"k":
	    "params.i"}}}, "references to enclosing fields: service, plain; "
	    "a sibling is not enclosing", r.describe())
	r = g.post("{ items(n: 2) @svc { id echo(x: [\"items.id\", {y: "
	    "\"items.name\"}], e: ITEMS, f: \"items.\", g: \".id\") @svc "
	    "{ params } } }")
	d = (data(r) or {}).get("items") or [{}, {}]
	tap.is_(d[1].get("echo"), {"params": {"x": [1, {"y": "item1"}],
	    "e": "ITEMS", "f": "items.", "g": ".id"}}, "references inside "
	    "lists and objects; empty segments are literal", r.describe())
	r = g.post("{ add(num1: 1, num2: 2) @svc { items(n: 2) @svc { x: echo("
	    "v: \"add.value\") @svc { params } } } }")
	d = ((data(r) or {}).get("add") or {}).get("items") or [{}, {}]
	tap.is_(d[1].get("x"), {"params": {"v": 3}}, "a reference to a "
	    "grandparent", r.describe())


def case_shape(tap, g, up):
	r = g.post("{ r: raw(raw: \"[[{\\\"a\\\":1,\\\"b\\\":2},null,3],[]]\") "
	    "@svc { b a __typename t: __typename } }")
	tap.is_(r.body, b'{"data":{"r":[[{"b":2,"a":1,"__typename":"Raw",'
	    b'"t":"Raw"},null,3],[]]}}', "8.5: lists of lists, scalars "
	    "as they are, __typename with an alias", r.describe())
	r = g.post("{ r: raw(raw: \"{\\\"z\\\":1,\\\"a\\\":{\\\"m\\\":[1,2]}}\")"
	    " @svc { a { m } z } }")
	tap.is_(r.body, b'{"data":{"r":{"a":{"m":[1,2]},"z":1}}}',
	    "8.5: selection order, never alphabetical; no selection: whole")
	r = g.post("{ r: raw(raw: \"\\\"text\\\"\") @svc { a } }")
	tap.is_(r.body, b'{"data":{"r":"text"}}',
	    "8.5: a scalar with a selection: returned as it is")
	r = g.post("{ r: raw(raw: \"{\\\"a\\\":1}\") @svc { a } r: raw(raw: "
	    "\"{\\\"a\\\":1}\") @svc { __typename } }")
	tap.is_(r.body, b'{"data":{"r":{"a":1,"__typename":"Raw"}}}',
	    "8.5: identical fields merge")


def case_reqerr(tap, g, up):
	cases = [
		("parse", "{ a", None, None, "GRAPHQL_PARSE_FAILED", False),
		("no such operation", "query A { a @svc }", None, "B",
		    "GRAPHQL_VALIDATION_FAILED", True),
		("ambiguous operation", "query A { a @svc } query B { b @svc }",
		    None, None, "GRAPHQL_VALIDATION_FAILED", True),
		("undefined variable", "{ add(num1: $x) @svc }", None, None,
		    "GRAPHQL_VALIDATION_FAILED", True),
		("missing non-null variable", "query($x: Int!) { add(num1: $x) "
		    "@svc }", None, None, "BAD_USER_INPUT", True),
		("null non-null variable", "query($x: Int!) { add(num1: $x) "
		    "@svc }", {"x": None}, None, "BAD_USER_INPUT", True),
		("mutation", "mutation { add @svc }", None, None,
		    "OPERATION_NOT_SUPPORTED", True),
		("subscription", "subscription { add @svc }", None, None,
		    "OPERATION_NOT_SUPPORTED", True),
		("fragment cycle", "{ ...F } fragment F on Q { a ...G } "
		    "fragment G on Q { ...F }", None, None,
		    "GRAPHQL_VALIDATION_FAILED", True),
		("unknown fragment", "{ ...Nope }", None, None,
		    "GRAPHQL_VALIDATION_FAILED", True),
		("duplicate response key", "{ a: add(num1: 1) @svc a: add(num1: "
		    "2) @svc }", None, None, "GRAPHQL_VALIDATION_FAILED", True),
	]
	for name, doc, var, op, code, parses in T.select(cases):
		for media, st in (("application/json", 200), (GQL_MEDIA, 400)):
			r = g.post(doc, variables=var, op=op, parses=parses,
			    headers={"Accept": media})
			d = r.json() or {}
			tap.is_((r.status, codes(r), "data" in d),
			    (st, [code], False), "request error (%s), %s: %d, "
			    "%s, no data" % (name, media, st, code),
			    r.describe())
	r = g.post("{ a", headers={"Accept": GQL_MEDIA}, parses=False)
	tap.is_(r.media_type(), GQL_MEDIA, "8.2: Accept lists "
	    "graphql-response+json: that media type")
	tap.ok(errs(r) and errs(r)[0].get("locations") == [{"line": 1,
	    "column": 4}], "syntax error location", r.describe())
	r = g.post("{ a", headers={"Accept": GQL_MEDIA + ";q=0, */*"},
	    parses=False)
	tap.is_((r.status, r.media_type()), (200, "application/json"),
	    "q=0: application/json")
	bad = [
		("body not JSON", "{nope"),
		("body not an object", "[1]"),
		("query missing", '{"variables": {}}'),
		("query not a string", '{"query": 5}'),
		("variables not an object", '{"query": "{ a }", "variables": 3}'),
		("operationName not a string",
		    '{"query": "{ a }", "operationName": 1}'),
	]
	for name, body in bad:
		for media in ("application/json", GQL_MEDIA):
			r = g.post(None, raw=body, headers={"Accept": media})
			tap.is_((r.status, codes(r)), (400, ["BAD_REQUEST"]),
			    "not a GraphQL request (%s), %s: 400" % (name, media),
			    r.describe())
	r = g.post(None, raw='{"query": "{ add(num1: 1, num2: 1) @svc { value '
	    '} }", "variables": null, "operationName": null, "extra": 1}')
	tap.is_(data(r), {"add": {"value": 2}}, "null members and unknown "
	    "members are fine")
	r = g.get({"query": "{ a }", "variables": "{nope"})
	tap.is_((r.status, codes(r)), (400, ["BAD_REQUEST"]),
	    "GET variables not JSON: 400")


def case_http(tap, g, up, port):
	r = g.get({"query": "query Q($a: Int) { add(num1: $a, num2: 2) @svc "
	    "{ value } }", "variables": '{"a": 40}', "operationName": "Q"})
	tap.is_((r.status, data(r)), (200, {"add": {"value": 42}}),
	    "GET: query, variables, operationName", r.describe())
	path = g.path() + "?query=%7B+add(num1%3A+1%2C+num2%3A+1)+%40svc+%7B+" \
	    "value+%7D+%7D"
	r = T.request(port, "GET", path)
	tap.is_(data(r), {"add": {"value": 2}}, "GET: + is a space")
	r = g.get({"query": "mutation { add @svc }"})
	tap.is_(codes(r), ["OPERATION_NOT_SUPPORTED"], "GET mutation refused")
	r = T.request(port, "POST", g.path() + "?query=ignored", body=json.dumps(
	    {"query": "{ add(num1: 5) @svc { value } }"}))
	tap.is_(data(r), {"add": {"value": 5}}, "POST ignores the URL query")
	r = T.request(port, "POST", g.path(), body=json.dumps({"query":
	    "{ add(num1: 5) @svc { value } }"}), headers={"Content-Type":
	    "text/plain"})
	tap.is_(data(r), {"add": {"value": 5}}, "8.1: any Content-Type")
	r = T.request(port, "OPTIONS", g.path(), headers={"Origin":
	    "http://example.test", "Access-Control-Request-Method": "POST"})
	tap.is_((r.status, r.header("Access-Control-Allow-Methods"),
	    r.header("Access-Control-Allow-Headers")), (204, "GET, POST",
	    "Authorization, Content-Type"), "OPTIONS preflight")
	for m in ("PUT", "DELETE", "PATCH"):
		r = T.request(port, m, g.path(), body="{}")
		tap.is_((r.status, r.header("Allow"), codes(r)), (405,
		    "GET, POST, OPTIONS", ["BAD_REQUEST"]), "%s: 405 with Allow"
		    % m, r.describe())
	r = g.post("{ a @svc }", project="nope")
	tap.is_((r.status, codes(r)), (404, ["NOT_FOUND"]),
	    "unknown project: 404 NOT_FOUND")
	big = json.dumps({"query": "{ a @svc }", "pad": "x" * 600000})
	r = T.request(port, "POST", g.path(), body=big)
	tap.is_(r.status, 413, "body over maxBodyBytes: 413")
	tap.ok(errs(r), "413 has errors", r.describe())


def case_directives(tap, g, up):
	r = g.post("{ a: nothing @svc b: add @nosuch c: x @template d: add("
	    "num1: 1) @svc(func: 3) e: add @svc(timeout: 0) f: add @svc("
	    "timeout: \"1\") h: echo @with(func: \"echo\") }")
	want = [("a", "NOT_FOUND"), ("b", "NOT_FOUND"), ("c", "NOT_SUPPORTED"),
	    ("d", "BAD_USER_INPUT"), ("e", "BAD_USER_INPUT"),
	    ("f", "BAD_USER_INPUT"), ("h", "NOT_FOUND")]
	tap.is_([(e.get("path")[0], e.get("extensions", {}).get("code"))
	    for e in errs(r)], want, "8.3: directive errors per field",
	    r.describe())
	tap.is_([e.get("extensions", {}).get("status") for e in errs(r)],
	    [404, 404, 400, 400, 400, 400, 404], "their statuses")
	r = g.post("query($f: String, $t: Float) { x: nope(num1: 1) "
	    "@svc(func: $f, timeout: $t, cache: true) { value } }",
	    variables={"f": "add", "t": 2.5})
	tap.is_(data(r), {"x": {"value": 1}}, "func and timeout from "
	    "variables; cache ignored; the alias only renames", r.describe())
	r = g.post("{ plain { a } }")
	tap.is_((data(r), codes(r), errs(r)[0].get("message") if errs(r) else
	    None), ({"plain": None}, ["BAD_USER_INPUT"], "field plain has no "
	    "service or database directive"), "8.3: a root plain field")
	r = g.post("{ __schema { types { name } } __type(name: \"X\") "
	    "{ name } }")
	tap.is_(codes(r), ["NOT_SUPPORTED", "NOT_SUPPORTED"],
	    "introspection: NOT_SUPPORTED")


def case_skip(tap, g, up):
	up.reset()
	r = g.post("query($s: Boolean!) { a: add(num1: 1) @svc @skip(if: $s) "
	    "b: add(num1: 2) @include(if: false) @svc c: add(num1: 3) "
	    "@include(if: true) @svc { value } ...F @skip(if: true) } "
	    "fragment F on Query { d: add(num1: 4) @svc }",
	    variables={"s": True})
	tap.is_(r.body, b'{"data":{"c":{"value":3}}}', "@skip/@include on "
	    "fields and spreads, literal and variable", r.describe())
	tap.is_(len(up.calls("/add")), 1, "skipped fields make no calls")


def case_logs(tap, g, up, sy, aport, logpath):
	up.reset()
	_, before = T.scrape_metrics(aport)
	r = g.post("{ a: add(num1: 7) @svc { value } b: add(num1: 7) @svc { "
	    "value } c: status(code: 500) @svc }", headers={"X-Request-Id":
	    "gql-log-1"})
	_, after = T.scrape_metrics(aport)

	def delta(name, **labels):
		k = (name, frozenset(labels.items()))
		return after.get(k, 0) - before.get(k, 0)
	tap.is_(delta("switchyard_graphql_requests_total", project="demo",
	    status="200"), 1, "metrics: graphql request counted")
	tap.is_(delta("switchyard_graphql_field_errors_total", project="demo",
	    code="UPSTREAM_STATUS"), 1, "metrics: field error by code")
	tap.is_(delta("switchyard_requests_total", project="demo",
	    service="svc", endpoint="add", status="200"), 1, "metrics: the "
	    "shared call counts once per endpoint")
	tap.is_(delta("switchyard_requests_total", project="demo",
	    service="svc", endpoint="status", status="500"), 1,
	    "metrics: the failing call counted with its status")
	line = None
	for _ in range(50):
		with open(logpath) as f:
			ls = [x for x in f.read().splitlines() if "gql-log-1" in x]
		if ls:
			line = ls[-1]
			break
		time.sleep(0.05)
	tap.like(line or "", r" gql-log-1 127\.0\.0\.1:\d+ demo/graphql 200 "
	    r"- \d+ [\d.]+ calls=2 statements=0 errors=1$",
	    "8.11 access log line", line)


def case_cancel(tap, g, up, port, sy):
	up.reset()
	base = T.established_conns(up.srv.port)
	s = socket.create_connection(("127.0.0.1", port), timeout=5)
	body = json.dumps({"query": "{ a: slow(ms: 4500, tag: 1) @svc "
	    "b: slow(ms: 4500, tag: 2) @svc }"}).encode()
	s.sendall(b"POST /v1/api/demo/graphql HTTP/1.1\r\nHost: x\r\n"
	    b"Content-Length: %d\r\n\r\n" % len(body) + body)
	ok = T.wait_until(lambda: T.established_conns(up.srv.port) >= base + 2,
	    3)
	tap.ok(ok, "both calls reached the upstream")
	t0 = time.monotonic()
	s.close()
	gone = T.wait_until(lambda: T.established_conns(up.srv.port) <= base, 4)
	took = time.monotonic() - t0
	tap.ok(gone and took < 3, "a client that leaves cancels its calls: "
	    "the upstream connections are closed at once, not after 4.5 s",
	    "%.2f s" % took)
	tap.ok(T.wait_until(lambda: "the client left" in sy.log(), 2),
	    "the log says the client left")
	r = g.post("{ add(num1: 1) @svc { value } }")
	tap.is_(data(r), {"add": {"value": 1}}, "the worker serves on")


def case_hostile(tap, g, up, sy):
	pid = sy.workers()[0]
	rss0 = T.rss_kib(pid)
	deep = "{ a @svc " + "{ b " * 120 + "}" * 121
	r = g.post(deep)
	tap.is_(codes(r), ["LIMIT_EXCEEDED"], "a deep document: maxDepth")
	deeper = "{ a @svc " + "{ b " * 2000 + "}" * 2001
	r = T.request(g.port, "POST", g.path(), body=json.dumps(
	    {"query": deeper}))
	tap.is_(codes(r), ["GRAPHQL_PARSE_FAILED"], "a document deeper than "
	    "the parser's bound: refused", r.describe())
	aliases = "{ " + " ".join("a%d: add @svc" % i for i in range(10000)) \
	    + " }"
	r = T.request(g.port, "POST", g.path(), body=json.dumps(
	    {"query": aliases}), timeout=20)
	tap.is_(codes(r), ["LIMIT_EXCEEDED"], "10,000 aliases: maxFields",
	    r.describe())
	frag = "{ ...F0 } " + " ".join("fragment F%d on Q { a%d: add @svc "
	    "...F%d ...F%d }" % (i, i, i + 1, i + 1) for i in range(40)) + \
	    " fragment F40 on Q { z: add @svc }"
	r = T.request(g.port, "POST", g.path(), body=json.dumps(
	    {"query": frag}), timeout=20)
	tap.ok(r.status == 200 and codes(r) in (["LIMIT_EXCEEDED"],),
	    "fragments spread 2^40 times: bounded by maxFields", r.describe())
	hv = {"v%d" % i: "x" * 10 for i in range(20000)}
	r = g.post("query($v0: String) { e: echo(a: $v0) @svc { params } }",
	    variables=hv)
	tap.is_((data(r) or {}).get("e"), {"params": {"a": "x" * 10}},
	    "a huge variables object (20,000 members, %d bytes) within "
	    "maxBodyBytes is fine" % len(json.dumps(hv)))
	hv = {"v": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}
	r = g.post("query($v: Int) { e: echo(a: $v) @svc }", variables=hv)
	tap.is_((r.status, codes(r)), (400, ["BAD_REQUEST"]), "variables nested "
	    "deeper than the JSON parser's bound: not a GraphQL request",
	    r.describe())
	up.reset()
	t0 = time.monotonic()
	r = g.post("{ items(n: 100000, mod: 100000) @svc { id e: echo(k: "
	    "\"items.k\") @svc } }", project="wide", timeout=60)
	tap.is_(r.status, 200, "fan-out over 100,000 elements: answered",
	    r.describe())
	e = errs(r)
	tap.is_((len(e), e[0].get("extensions", {}).get("code") if e else
	    None), (100000, "LIMIT_EXCEEDED"), "every instance fails with "
	    "LIMIT_EXCEEDED")
	tap.is_(len(up.calls("/echo")), 0, "no call made")
	rss1 = T.rss_kib(pid)
	with open("/proc/%d/status" % pid) as f:
		hwm = [int(x.split()[1]) for x in f if x.startswith("VmHWM:")]
	tap.diag("worker RSS %d KiB before the hostile documents, peak %s "
	    "KiB, %d KiB after (%.1f s for the 100,000 fan-out)" % (rss0,
	    hwm[0] if hwm else "?", rss1, time.monotonic() - t0))
	with open("/proc/%d/maps" % pid) as f:
		asan = "libasan" in f.read()
	if asan:
		# ASan keeps freed memory in quarantine and has its own
		# allocator: only the peak is bounded, with its overhead
		tap.cmp_ok((hwm[0] if hwm else 1 << 30) - rss0, "<", 1024 * 1024,
		    "ASan build: the worker's peak stays under 1 GiB more")
	else:
		tap.cmp_ok((hwm[0] if hwm else 1 << 30) - rss0, "<", 400 * 1024,
		    "the worker's peak stays under 400 MiB more")
		tap.cmp_ok(rss1 - rss0, "<", 64 * 1024, "the worker gave the "
		    "memory back: RSS within 64 MiB of where it was")
	r = g.post("{ add(num1: 1) @svc { value } }")
	tap.is_(data(r), {"add": {"value": 1}}, "the worker still serves")


def main(tap):
	sygql.require()
	env = T.require_env()
	tmp = T.tmpdir()
	up = Up()
	port, aport = T.free_port(), T.free_port()
	dead = T.free_port()
	svcs = services(up.srv.url("").rstrip("/"), "http://127.0.0.1:%d" %
	    dead)
	sec = [{"alg": "HS256", "secret": SECRET, "isPrimary": True}]
	logpath = os.path.join(tmp, "access.log")
	projects = {
		"demo": {"secrets": sec, "remoteServices": svcs},
		"quick": {"secrets": sec, "remoteServices": svcs,
		    "graphql": {"timeout": 1}},
		"narrow": {"secrets": sec, "remoteServices": svcs,
		    "graphql": {"maxConcurrency": 2, "maxFanOut": 5,
		    "maxDepth": 3, "maxFields": 10}},
		"budget": {"secrets": sec, "remoteServices": svcs,
		    "graphql": {"maxCalls": 4}},
		"wide": {"secrets": sec, "remoteServices": svcs,
		    "contextTimeGraphQL": 50},
	}
	cfg = T.make_config(tmp, port, None, workers=1, projects=projects,
	    limits={"maxBodyBytes": 512 * 1024, "maxResponseBytes": 8 << 20},
	    server={"admin": {"listen": "127.0.0.1:%d" % aport},
	    "log": {"error": "stderr", "level": "debug", "access": logpath}})
	sy = T.Daemon(env, tmp, cfg).start()
	g = G(tap, port)
	if T.selected("basic"):
		case_basic(tap, g, up)
	if T.selected("chain"):
		case_chain(tap, g, up)
	if T.selected("rules"):
		case_rules(tap, g, up)
	if T.selected("fanout"):
		case_fanout(tap, g, up)
	if T.selected("faults"):
		case_faults(tap, g, up, dead)
	if T.selected("deadline"):
		case_deadline(tap, g, up)
	if T.selected("concurrency"):
		case_concurrency(tap, g, up)
	if T.selected("limits"):
		case_limits(tap, g, up)
	if T.selected("dedupe"):
		case_dedupe(tap, g, up)
	if T.selected("refs"):
		case_refs(tap, g, up)
	if T.selected("shape"):
		case_shape(tap, g, up)
	if T.selected("reqerr"):
		case_reqerr(tap, g, up)
	if T.selected("http"):
		case_http(tap, g, up, port)
	if T.selected("directives"):
		case_directives(tap, g, up)
	if T.selected("skip"):
		case_skip(tap, g, up)
	if T.selected("logs"):
		case_logs(tap, g, up, sy, aport, logpath)
	if T.selected("cancel"):
		case_cancel(tap, g, up, port, sy)
	if T.selected("hostile"):
		case_hostile(tap, g, up, sy)


T.run_main(None, main, watchdog=240)
