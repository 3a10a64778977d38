#!/usr/bin/python3
# graphql_db.t: database fields of GraphQL (SPEC 8.10, with 8.2's codes,
# 8.6's batched joins, 8.7's deadline, 8.8's maxCalls and 8.11's metrics
# and access log) against the real daemon, a SQLite file and a real
# PostgreSQL server started here (tests/lib/pgserver, removed at exit).
# The same cases run against both: project "lite" (SQLite, a path
# relative to the config file) and project "pg" (PostgreSQL as the
# unprivileged role "app" over TCP with a password).
#
# Cases are named for -k: where, sort, limit, one, columns, tables, rules,
# inject, values, types, batch, joins, hooks, budget, metrics, pgdown,
# deadline, reload.

import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import atexit

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E
from sygql import codes, data, errs
import sygql

SECRET = "s3cret"
NPARENT = 100

SCHEMA = """
CREATE TABLE trainer (id integer PRIMARY KEY, name text);
CREATE TABLE pokemon (id integer PRIMARY KEY, name text, power integer,
    trainer_id integer, secret text);
CREATE VIEW pokeview AS SELECT * FROM pokemon;
CREATE TABLE hidden (id integer);
CREATE TABLE norule (id integer);
CREATE TABLE authd (id integer);
CREATE TABLE owned (id integer, owner text);
CREATE TABLE hooked (id integer, owner text);
CREATE TABLE slowhooked (id integer);
CREATE TABLE weird ("we""ird; --" text, id integer);
CREATE TABLE p (id integer PRIMARY KEY, name text);
CREATE TABLE c (id integer PRIMARY KEY, p_id integer, v integer);
CREATE TABLE g (id integer PRIMARY KEY, c_id integer, w integer);
INSERT INTO trainer VALUES (1, 'ash'), (2, 'misty'), (3, 'brock'),
    (4, 'nobody');
INSERT INTO pokemon VALUES
    (1, 'pikachu', 55, 1, 's1'), (2, 'Bulbasaur', 49, 1, 's2'),
    (3, 'charmander', 52, 1, NULL), (4, 'squirtle', 48, 1, NULL),
    (5, 'staryu', NULL, 2, NULL), (6, 'starmie', 75, 2, NULL),
    (7, 'onix', 45, 3, NULL), (8, NULL, 10, 3, NULL),
    (9, 'abra', 60, NULL, NULL), (10, 'zubat', 20, 3, NULL);
INSERT INTO hidden VALUES (1);
INSERT INTO norule VALUES (1);
INSERT INTO authd VALUES (1);
INSERT INTO owned VALUES (1, 'u1'), (2, 'u2'), (3, 'u1');
INSERT INTO hooked VALUES (1, 'u1'), (2, 'u2'), (3, 'u1');
INSERT INTO weird VALUES ('w', 1);
"""


def family_sql():
	"""p: 100 parents; c: 3 children each; g: 2 grandchildren per child."""
	out = []
	for i in range(1, NPARENT + 1):
		out.append("INSERT INTO p VALUES (%d, 'p%d');" % (i, i))
		for k in range(3):
			cid = i * 10 + k
			out.append("INSERT INTO c VALUES (%d, %d, %d);" % (cid, i,
			    (i * 7 + k * 3) % 10))
			for m in range(2):
				out.append("INSERT INTO g VALUES (%d, %d, %d);" %
				    (cid * 10 + m, cid, m))
	return "\n".join(out)


def tables(hook):
	allow = {"rules": {"read": {"rule": "allow"}}}
	return {
		"hooked": {"rules": {"read": {"rule": "webhook", "url": hook}}},
		"slowhooked": {"rules": {"read": {"rule": "webhook", "url":
		    hook + "slow", "timeout": 20}}},
		"trainer": allow,
		"pokemon": dict(allow, columns=["id", "name", "power",
		    "trainer_id"]),
		"norule": {},
		"authd": {"rules": {"read": {"rule": "authenticated"}}},
		"owned": {"rules": {"read": {"rule": "match", "type": "string",
		    "eval": "==", "f1": "args.find.owner",
		    "f2": "args.auth.sub", "error": "only your own rows"}}},
		"weird": allow,
		"ghost": allow,
		"p": allow, "c": allow, "g": allow,
		"types": allow,
		"slow": allow, "nap": allow, "doze": allow,
	}


class PG:
	"""The test's PostgreSQL server (tests/lib/pgserver)."""

	def __init__(self, top):
		self.tool = os.path.join(top, "tests", "lib", "pgserver")
		self.base = tempfile.mkdtemp(prefix="sydbt.")
		os.chmod(self.base, 0o755)
		self.dir = os.path.join(self.base, "pg")
		self.pw = "Pw-" + os.urandom(6).hex()
		atexit.register(self.destroy)
		self.port = int(self.run("init").strip())
		self.run("start")
		self.top = top

	def run(self, *args, inp=None):
		r = subprocess.run([self.tool, args[0], self.dir] + list(
		    args[1:]), input=inp, stdout=subprocess.PIPE,
		    stderr=subprocess.PIPE, timeout=60, text=True)
		if r.returncode != 0:
			raise T.Bail("pgserver %s: %s" % (args[0], r.stderr))
		return r.stdout

	def psql(self, sql):
		return self.run("psql", "-At", "-c", sql)

	def load(self, sql, pgschema):
		path = os.path.join(self.base, "schema.sql")
		with open(path, "w") as f:
			f.write(sql)
		os.chmod(path, 0o644)
		self.run("psql", "-v", "pw=" + self.pw, "-f", path, "-f",
		    pgschema)

	def conn(self):
		return ("host=127.0.0.1 port=%d user=app password=%s "
		    "dbname=postgres connect_timeout=5" % (self.port, self.pw))

	def log_lines(self):
		try:
			with open(os.path.join(self.dir, "log"), errors="replace") \
			    as f:
				return f.read().splitlines()
		except OSError:
			return []

	def destroy(self):
		subprocess.run([self.tool, "destroy", self.dir],
		    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
		    timeout=60)
		subprocess.run(["rm", "-rf", self.base], timeout=60)


class Up:
	"""The remote service: /double and /ids, counting calls."""

	def __init__(self):
		self.srv = T.LoopbackServer(self.handle)

	def calls(self, path):
		return [r for r in self.srv.received()
		    if r.path.split("?")[0] == path]

	def reset(self):
		with self.srv.lock:
			self.srv.requests.clear()

	def handle(self, req):
		p = req.json() if req.body else {}
		p = p if isinstance(p, dict) else {}
		js = {"Content-Type": "application/json"}
		path = req.path.split("?")[0]
		if path == "/double":
			v = p.get("value")
			return 200, js, json.dumps({"value": v * 2 if isinstance(
			    v, int) else None})
		if path == "/hookslow":
			time.sleep(3)
			return 200, js, "{}"
		if path == "/hook":	# a read rule's webhook: own rows only
			f = p.get("find") if isinstance(p.get("find"), dict) else {}
			a = p.get("auth") if isinstance(p.get("auth"), dict) else {}
			ok = f.get("owner") is not None and f.get("owner") == \
			    a.get("sub")
			return (200 if ok else 403), js, "{}"
		if path == "/ids":
			return 200, js, json.dumps([{"id": i} for i in
			    p.get("ids", [])])
		return 404, js, "{}"


class G:
	def __init__(self, tap, port, logpath):
		self.tap = tap
		self.port = port
		self.logpath = logpath
		self.n = 0

	def post(self, project, doc, variables=None, headers=None,
	    timeout=15.0):
		# every document sent is valid GraphQL
		if not sygql.parses(doc):
			self.tap.ok(False, "graphql-core refuses %r" % doc)
		self.n += 1
		self.rid = "gdb-%d-%d" % (os.getpid(), self.n)
		b = {"query": doc}
		if variables is not None:
			b["variables"] = variables
		h = {"Content-Type": "application/json",
		    "X-Request-Id": self.rid}
		h.update(headers or {})
		return T.request(self.port, "POST", "/v1/api/%s/graphql" %
		    project, body=json.dumps(b), headers=h, timeout=timeout)

	def logline(self, rid=None):
		rid = rid or self.rid
		for _ in range(100):
			with open(self.logpath) as f:
				ls = [x for x in f.read().splitlines()
				    if " %s " % rid in x]
			if ls:
				return ls[-1]
			time.sleep(0.05)
		return ""

	def statements(self, rid=None):
		m = re.search(r"statements=(\d+)", self.logline(rid))
		return int(m.group(1)) if m else None


def bearer(sub="u1"):
	return {"Authorization": "Bearer " + T.jwt_hs256({"sub": sub,
	    "role": "user"}, SECRET)}


def rows(g, proj, doc, key="x", **kw):
	r = g.post(proj, doc, **kw)
	return (data(r) or {}).get(key), codes(r), r


def ids(v):
	return [x.get("id") for x in v] if isinstance(v, list) else v


def case_where(tap, g, proj):
	t = "[%s] " % proj

	def q(where, want, what):
		v, c, r = rows(g, proj, "{ x: pokemon(where: %s, sort: "
		    "[\"id\"]) @db { id } }" % where)
		tap.is_(ids(v), want, t + "where " + what, r.describe())
	q("{id: 3}", [3], "col: value is equality")
	q("{id: {_eq: 3}}", [3], "_eq")
	q("{id: {_ne: 3}, trainer_id: 1}", [1, 2, 4], "_ne, AND of members")
	q("{power: {_gt: 55}}", [6, 9], "_gt")
	q("{power: {_gte: 55}}", [1, 6, 9], "_gte")
	q("{power: {_lt: 45}}", [8, 10], "_lt")
	q("{power: {_lte: 45, _gt: 10}}", [7, 10], "_lte and _gt together")
	q("{id: {_in: [2, 4, 99]}}", [2, 4], "_in")
	q("{id: {_in: []}}", [], "empty _in matches nothing")
	q("{trainer_id: {_nin: [1, 3]}}", [5, 6], "_nin (NULL trainer_id "
	    "not in the result)")
	q("{id: {_nin: []}}", list(range(1, 11)), "empty _nin matches all")
	q("{_or: [{id: 1}, {name: \"onix\"}]}", [1, 7], "_or")
	q("{_or: []}", [], "empty _or matches nothing")
	q("{power: null}", [5], "col: null is IS NULL")
	q("{power: {_eq: null}}", [5], "_eq null is IS NULL")
	q("{name: {_ne: null}, trainer_id: 3}", [7, 10], "_ne null is IS "
	    "NOT NULL")
	q("{power: {_gt: null}}", [], "_gt null matches nothing")
	v, c, r = rows(g, proj, "query($p: Int) { x: pokemon(where: {power: "
	    "$p}) @db { id } }", variables={"p": None})
	tap.is_(ids(v), [5], t + "a variable holding null: IS NULL")
	for bad, what in (("{id: {_like: 1}}", "unknown operator"),
	    ("{_and: []}", "unknown _ key"),
	    ("{id: [1, 2]}", "a list where a scalar is expected"),
	    ("{id: {_eq: {a: 1}}}", "an object where a scalar is expected"),
	    ("{id: {_in: 3}}", "_in without a list")):
		v, c, r = rows(g, proj, "{ x: pokemon(where: %s) @db { id } }" %
		    bad)
		tap.is_(c, ["BAD_USER_INPUT"], t + "where: " + what,
		    r.describe())
		tap.is_(v, None, t + "where: %s: the field is null" % what)


def case_sort(tap, g, proj):
	t = "[%s] " % proj
	v, c, r = rows(g, proj, "{ x: pokemon(sort: [\"name\"]) @db { name "
	    "} }")
	tap.is_([x["name"] for x in v or []], [None, "Bulbasaur", "abra",
	    "charmander", "onix", "pikachu", "squirtle", "starmie", "staryu",
	    "zubat"], t + "sort by bytes (upper case first), NULL lowest "
	    "first", r.describe())
	v, c, r = rows(g, proj, "{ x: pokemon(sort: \"-name\") @db { name } }")
	tap.is_([x["name"] for x in v or []][-2:], ["Bulbasaur", None],
	    t + "-col descending, NULL last; a single string is a list")
	v, c, r = rows(g, proj, "{ x: pokemon(sort: [\"trainer_id\", "
	    "\"-power\"], where: {trainer_id: {_ne: null}}) @db { id } }")
	tap.is_(ids(v), [1, 3, 2, 4, 6, 5, 7, 10, 8], t + "two sort keys")
	v, c, r = rows(g, proj, "{ x: pokemon(sort: [\"secret\"]) @db { id } }")
	tap.is_(c, ["NOT_FOUND"], t + "sort on a hidden column: NOT_FOUND")
	v, c, r = rows(g, proj, "{ x: pokemon(sort: [1]) @db { id } }")
	tap.is_(c, ["BAD_USER_INPUT"], t + "sort entry not a string")


def case_limit(tap, g, proj):
	t = "[%s] " % proj
	v, c, r = rows(g, proj, "{ x: pokemon(sort: [\"id\"], limit: 2, skip: "
	    "3) @db { id } }")
	tap.is_(ids(v), [4, 5], t + "limit and skip", r.describe())
	v, c, r = rows(g, proj, "{ x: pokemon(sort: [\"id\"], limit: 0) @db "
	    "{ id } }")
	tap.is_(v, [], t + "limit 0")
	v, c, r = rows(g, proj, "{ x: p(sort: [\"id\"]) @db { id } }")
	tap.is_(len(v or []), 40, t + "no limit: maxRows (40) rows")
	v, c, r = rows(g, proj, "{ x: p(sort: [\"id\"], limit: 1000, skip: 70) "
	    "@db { id } }")
	tap.is_(ids(v), list(range(71, 101))[:40], t + "a larger limit is "
	    "reduced to maxRows")
	for bad in ("limit: -1", "skip: -2", "limit: 1.5", "limit: \"3\""):
		v, c, r = rows(g, proj, "{ x: pokemon(%s) @db { id } }" % bad)
		tap.is_(c, ["BAD_USER_INPUT"], t + bad + ": BAD_USER_INPUT",
		    r.describe())


def case_one(tap, g, proj):
	t = "[%s] " % proj
	v, c, r = rows(g, proj, "{ x: pokemon(where: {id: 6}, op: \"one\") "
	    "@db { name power } }")
	tap.is_(v, {"name": "starmie", "power": 75}, t + "op one: an object",
	    r.describe())
	v, c, r = rows(g, proj, "{ x: pokemon(where: {id: 600}, op: one) @db "
	    "{ name } }")
	tap.is_((v, c), (None, []), t + "op one (enum), no row: null, no "
	    "error")
	v, c, r = rows(g, proj, "{ x: pokemon(op: \"some\") @db { name } }")
	tap.is_(c, ["BAD_USER_INPUT"], t + "op other than all/one")
	v, c, r = rows(g, proj, "{ x: trainer(where: {id: 2}, op: \"all\") "
	    "@db { __typename name } }")
	tap.is_(v, [{"__typename": "Trainer", "name": "misty"}],
	    t + "op all; __typename in a row")


def case_columns(tap, g, proj):
	t = "[%s] " % proj
	v, c, r = rows(g, proj, "{ x: pokemon(where: {id: 1}) @db }")
	tap.is_(v, [{"id": 1, "name": "pikachu", "power": 55, "trainer_id": 1}],
	    t + "no selection: every exposed column in table order",
	    r.describe())
	tap.is_(r.body.count(b"secret") + r.body.count(b"s1"), 0,
	    t + "the hidden column is not read out")
	v, c, r = rows(g, proj, "{ x: pokemon @db { id secret } }")
	tap.is_(c, ["NOT_FOUND"], t + "selecting a hidden column: NOT_FOUND")
	v, c, r = rows(g, proj, "{ x: pokemon @db { id nosuch } }")
	tap.is_(c, ["NOT_FOUND"], t + "selecting a missing column: NOT_FOUND")
	v, c, r = rows(g, proj, "{ x: pokemon(where: {secret: \"s1\"}) @db { "
	    "id } }")
	tap.is_(c, ["NOT_FOUND"], t + "filtering on a hidden column: "
	    "NOT_FOUND")
	tap.is_((errs(r) or [{}])[0].get("extensions"), {"code": "NOT_FOUND",
	    "status": 404}, t + "NOT_FOUND has status 404")


def case_tables(tap, g, proj):
	t = "[%s] " % proj
	for tbl, what in (("hidden", "a table not listed"),
	    ("pokeview", "a view"), ("ghost", "a listed table that does not "
	    "exist"), ("nosuch", "no such table")):
		v, c, r = rows(g, proj, "{ x: %s @db { id } }" % tbl)
		tap.is_(c, ["NOT_FOUND"], t + what + ": NOT_FOUND",
		    r.describe())
	v, c, r = rows(g, proj, "{ x: y @db(col: \"trainer\") { name } "
	    "z: trainer(where: {id: 1}) @nodb { name } }")
	tap.is_(len(v or []), 4, t + "col: names the table")
	tap.is_(c, ["NOT_FOUND"], t + "a directive naming no database or "
	    "service: NOT_FOUND")
	v, c, r = rows(g, proj, "{ x: y @db(col: 3) { name } }")
	tap.is_(c, ["BAD_USER_INPUT"], t + "col not a String")
	for a in ("group", "distinct", "join", "aggregate"):
		v, c, r = rows(g, proj, "{ x: trainer(%s: 1) @db { id } }" % a)
		tap.is_(c, ["NOT_SUPPORTED"], t + a + ": NOT_SUPPORTED")
	v, c, r = rows(g, proj, "{ x: trainer(size: 1) @db { id } }")
	tap.is_(c, ["BAD_USER_INPUT"], t + "an unknown argument: "
	    "BAD_USER_INPUT")


def case_rules(tap, g, proj):
	t = "[%s] " % proj
	v, c, r = rows(g, proj, "{ x: norule @db { id } t: trainer(where: "
	    "{id: 1}) @db { id } }")
	tap.is_(c, ["UNAUTHENTICATED"], t + "no read rule, no token: "
	    "UNAUTHENTICATED", r.describe())
	tap.is_((data(r) or {}).get("t"), [{"id": 1}], t + "the rest of the "
	    "query goes on")
	v, c, r = rows(g, proj, "{ x: norule @db { id } }", headers=bearer())
	tap.is_(c, ["FORBIDDEN"], t + "no read rule, a token: FORBIDDEN")
	tap.is_((errs(r) or [{}])[0].get("extensions", {}).get("status"), 403,
	    t + "FORBIDDEN: 403")
	v, c, r = rows(g, proj, "{ x: authd @db { id } }")
	tap.is_(c, ["UNAUTHENTICATED"], t + "authenticated, no token")
	v, c, r = rows(g, proj, "{ x: authd @db { id } }",
	    headers={"Authorization": "Bearer bad.to.ken"})
	tap.is_(c, ["UNAUTHENTICATED"], t + "authenticated, bad token")
	v, c, r = rows(g, proj, "{ x: authd @db { id } }", headers=bearer())
	tap.is_(v, [{"id": 1}], t + "authenticated with a token: rows")
	v, c, r = rows(g, proj, "{ x: owned(where: {owner: \"u1\"}, sort: "
	    "[\"id\"]) @db { id } }", headers=bearer("u1"))
	tap.is_(ids(v), [1, 3], t + "rule on args.find.owner: own rows",
	    r.describe())
	v, c, r = rows(g, proj, "{ x: owned(where: {owner: {_eq: \"u1\"}}) "
	    "@db { id } }", headers=bearer("u1"))
	tap.is_(c, ["FORBIDDEN"], t + "find keeps the operator as written "
	    "(owner is an object then)")
	v, c, r = rows(g, proj, "{ x: owned(where: {owner: \"u2\"}) @db { id "
	    "} }", headers=bearer("u1"))
	tap.is_(c, ["FORBIDDEN"], t + "another's rows: FORBIDDEN")
	tap.is_((errs(r) or [{}])[0].get("message"), "only your own rows",
	    t + "the rule's error is the message")
	v, c, r = rows(g, proj, "{ x: owned @db { id } }", headers=bearer())
	tap.is_(c, ["FORBIDDEN"], t + "no where: find is {}: FORBIDDEN")
	# per distinct argument set, inside a join
	v, c, r = rows(g, proj, "{ x: trainer(sort: [\"id\"], where: {id: "
	    "{_lte: 2}}) @db { id o: owned(where: {owner: \"x.name\"}) "
	    "@db { id } } }", headers=bearer("ash"))
	tap.is_(codes(r), ["FORBIDDEN"], t + "read rule once per set: one "
	    "row's set denied", r.describe())
	tap.is_(v, [{"id": 1, "o": []}, {"id": 2, "o": None}], t + "the "
	    "allowed set read, the denied one null")


def case_hooks(tap, g, proj, up):
	t = "[%s] " % proj
	up.reset()
	v, c, r = rows(g, proj, "{ x: hooked(where: {owner: \"u1\"}, sort: "
	    "[\"id\"], limit: 5) @db { id } }", headers=bearer("u1"))
	tap.is_(ids(v), [1, 3], t + "a webhook read rule that passes",
	    r.describe())
	h = up.calls("/hook")
	tap.is_(len(h), 1, t + "one webhook call")
	b = h[0].json() if h else {}
	tap.is_(sorted(b.keys()), ["auth", "find", "op", "opts", "token"],
	    t + "the webhook gets auth, find, op, opts and token")
	tap.is_((b.get("find"), b.get("op"), b.get("opts"),
	    (b.get("auth") or {}).get("sub")), ({"owner": "u1"}, "all",
	    {"limit": 5}, "u1"), t + "the webhook body's read state")
	tap.ok(str(b.get("token", "")).count(".") == 2, t + "the raw token")
	v, c, r = rows(g, proj, "{ x: hooked(where: {owner: \"u2\"}) @db { id "
	    "} }", headers=bearer("u1"))
	tap.is_(c, ["FORBIDDEN"], t + "the webhook refuses: FORBIDDEN")
	up.reset()
	v, c, r = rows(g, proj, "{ x: trainer(sort: [\"id\"], where: {id: "
	    "{_lte: 3}}) @db { id h: hooked(where: {owner: \"x.name\"}) @db "
	    "{ id } } }", headers=bearer("ash"))
	tap.is_(len(up.calls("/hook")), 3, t + "one webhook call per distinct "
	    "set")
	tap.is_([x.get("h") for x in v or []], [[], None, None], t + "each "
	    "set decided by its own webhook answer", r.describe())
	up.reset()
	v, c, r = rows(g, proj, "{ x: hooked @db { id } }")
	tap.is_((c, len(up.calls("/hook"))), (["UNAUTHENTICATED"], 0),
	    t + "no token: UNAUTHENTICATED, no webhook call")


def case_inject(tap, g, proj):
	t = "[%s] " % proj
	v, c, r = rows(g, proj, "{ x: y @db(col: \"trainer; DROP TABLE "
	    "trainer; --\") { id } }")
	tap.is_(c, ["NOT_FOUND"], t + "injection in col: NOT_FOUND")
	v, c, r = rows(g, proj, "{ x: y @db(col: \"trainer\\\" --\") { id } }")
	tap.is_(c, ["NOT_FOUND"], t + "a quote in col: NOT_FOUND")
	v, c, r = rows(g, proj, "query($w: JSON) { x: trainer(where: $w) @db "
	    "{ id } }", variables={"w": {"id\" = 1 OR 1=1 --": 1}})
	tap.is_(c, ["NOT_FOUND"], t + "injection in a where column: "
	    "NOT_FOUND")
	v, c, r = rows(g, proj, "{ x: trainer(sort: [\"id; DROP TABLE "
	    "trainer\"]) @db { id } }")
	tap.is_(c, ["NOT_FOUND"], t + "injection in sort: NOT_FOUND")
	v, c, r = rows(g, proj, "{ x: trainer(where: {name: \"x' OR '1'='1\"}) "
	    "@db { id } }")
	tap.is_((v, c), ([], []), t + "injection in a value: bound, no row")
	v, c, r = rows(g, proj, "{ x: weird @db }")
	tap.is_(v, [{"we\"ird; --": "w", "id": 1}], t + "a column name with "
	    "a quote is quoted", r.describe())
	v, c, r = rows(g, proj, "{ x: trainer @db { id } }")
	tap.is_(len(v or []), 4, t + "trainer still there")


def case_values(tap, g, proj):
	t = "[%s] " % proj
	v, c, r = rows(g, proj, "{ x: pokemon(where: {id: \"3\"}) @db { id } "
	    "}")
	tap.is_(ids(v), [3], t + "\"3\" equals 3 in an integer column",
	    r.describe())
	v, c, r = rows(g, proj, "{ x: pokemon(where: {id: \"abc\"}) @db { id }"
	    " t: trainer(where: {id: 1}) @db { id } }")
	if proj == "pg":
		tap.is_(c, ["BAD_USER_INPUT"], t + "PostgreSQL class 22: "
		    "BAD_USER_INPUT", r.describe())
	else:
		tap.is_((v, c), ([], []), t + "SQLite: \"abc\" matches no "
		    "integer")
	tap.is_((data(r) or {}).get("t"), [{"id": 1}], t + "other field kept")
	# in a batch: only the parent whose value is bad fails
	v, c, r = rows(g, proj, "{ x: pokemon(where: {id: {_in: [1, 8]}}, "
	    "sort: [\"id\"]) @db { id q: pokemon(where: {id: \"x.name\"}) "
	    "@db { id } } }")
	if proj == "pg":
		tap.is_((codes(r), v), (["BAD_USER_INPUT"], [{"id": 1, "q": None},
		    {"id": 8, "q": []}]), t + "batched class 22: only the bad "
		    "set fails", r.describe())
	v, c, r = rows(g, proj, "{ x: pokemon(where: {id: {_in: [1, \"2\"]}}, "
	    "sort: [\"-id\"]) @db { id } }")
	tap.is_(ids(v), [2, 1], t + "_in with mixed literal types")


def case_types(tap, g, proj):
	t = "[%s] " % proj
	v, c, r = rows(g, proj, "{ x: types @db }")
	v = (v or [{}])[0]
	if proj == "pg":
		want = {"i2": -32768, "i4": 2147483647, "i8": 9223372036854775807,
		    "f4": 1.5, "f8": 0.1, "nan": "NaN", "inf": "Infinity",
		    "ninf": "-Infinity", "b": True, "j": {"a": [1, 2]},
		    "jb": {"b": None}, "d": "2024-02-29",
		    "ts": "2024-01-02T03:04:05.12", "ts0": "2024-01-02T03:04:05",
		    "tstz": "2024-01-02T01:04:05.5Z", "t": "13:14:15.25",
		    "by": "AP8Q", "ai": [1, None, 3], "at": ["a b", "c\"d", None],
		    "ab": [True, False], "anull": None,
		    "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "tx": "text",
		    "vc": "vc", "n": None}
	else:
		want = {"i": 9007199254740993, "r": 1.5, "t": "h\u00e9llo",
		    "b": "AP8Q", "n": None, "dyn": 5}
	for k, w in want.items():
		tap.is_(v.get(k), w, t + "type of %s" % k)
	if proj == "pg":
		tap.like(r.body.decode(), r'"i8":9223372036854775807[,}]',
		    t + "bigint written as an integer")
		tap.ok(abs(float(v.get("num", 0)) - 12345678901234567890.125) <
		    1e6, t + "numeric is a number")


def pg_statements(pg, marker):
	"""SELECTs the role app ran after the log line holding marker."""
	lines = pg.log_lines()
	start = max([i for i, x in enumerate(lines) if marker in x] or [0])
	return [x for x in lines[start:] if x.startswith("app ") and
	    ("execute" in x or "statement:" in x) and "SELECT" in x]


def case_batch(tap, g, proj, pg):
	t = "[%s] " % proj
	doc = ("{ x: p(sort: [\"id\"], limit: 100) @db(col: \"p\") { id "
	    "kids: c(where: {p_id: \"x.id\"}, sort: [\"-v\", \"id\"]) @db { id "
	    "v grand: g(where: {c_id: \"kids.id\"}, sort: [\"w\"]) @db { w } "
	    "} } }")
	rows(g, "big" + proj, doc)	# introspection out of the way
	marker = "sy-mark-%d" % time.time_ns()
	if pg is not None:
		pg.psql("SELECT '%s'" % marker)
	t0 = time.monotonic()
	v, c, r = rows(g, "big" + proj, doc)
	ms = (time.monotonic() - t0) * 1000
	tap.is_((len(v or []), c), (NPARENT, []), t + "3-level join over 100 "
	    "parents", r.describe())
	tap.is_(sum(len(x.get("kids") or []) for x in v or []), 300,
	    t + "every child row")
	tap.ok(all(len(k.get("grand") or []) == 2 for x in v or [] for k in
	    x.get("kids") or []), t + "every grandchild row")
	ok = True
	for x in v or []:
		want = sorted([(x["id"] * 10 + k, (x["id"] * 7 + k * 3) % 10)
		    for k in range(3)], key=lambda a: (-a[1], a[0]))
		if [(k["id"], k["v"]) for k in x.get("kids") or []] != want:
			ok = False
	tap.ok(ok, t + "each parent got its own children, sorted per parent")
	tap.is_(g.statements(), 3, t + "one statement per occurrence "
	    "(access log statements=3)")
	if pg is not None:
		time.sleep(0.3)
		s = pg_statements(pg, marker)
		tap.is_(len(s), 3, t + "PostgreSQL's log: exactly 3 statements",
		    "\n".join(s))
	times = []
	for _ in range(5):
		t0 = time.monotonic()
		rows(g, "big" + proj, doc)
		times.append((time.monotonic() - t0) * 1000)
	tap.diag("%s 3-level join, 100+300+600 rows, 3 statements: first %.1f "
	    "ms, median of 5 more %.1f ms" % (proj, ms, sorted(times)[2]))
	# batchSize 100 < 300 children: ceil(300/100) statements for g
	doc2 = ("{ x: c(sort: [\"id\"], limit: 300) @db { id gr: g(where: "
	    "{c_id: \"x.id\"}, limit: 1) @db { id } } }")
	rows(g, "small" + proj, doc2)
	v, c, r = rows(g, "small" + proj, doc2)
	tap.is_((len(v or []), c), (300, []), t + "300 parents, batchSize 100")
	tap.is_(g.statements(), 1 + 3, t + "ceil(300/100) statements for the "
	    "nested field")
	# per-parent limit/skip, identical sets read once
	v, c, r = rows(g, proj, "{ x: trainer(sort: [\"id\"]) @db { id pk: "
	    "pokemon(where: {trainer_id: \"x.id\"}, sort: [\"-power\"], limit: "
	    "2, skip: 1) @db { id } same: trainer(where: {id: 1}) @db { name } "
	    "} }")
	tap.is_([ids(x.get("pk")) for x in v or []], [[3, 2], [5], [10, 8],
	    []], t + "sort, limit, skip per parent row", r.describe())
	tap.is_([x.get("same") for x in v or []], [[{"name": "ash"}]] * 4,
	    t + "identical argument sets share the answer")
	tap.is_(g.statements(), 3, t + "three occurrences, three statements")


def case_joins(tap, g, proj, up):
	t = "[%s] " % proj
	up.reset()
	v, c, r = rows(g, proj, "{ x: pokemon(sort: [\"id\"], where: {id: {"
	    "_lte: 8}}) @db { id d: double(value: \"x.power\") @svc { value } "
	    "} }")
	tap.is_([x.get("d") for x in v or []][:3], [{"value": 110},
	    {"value": 98}, {"value": 104}], t + "DB -> service", r.describe())
	tap.is_(len(up.calls("/double")), 8, t + "one call per distinct "
	    "params (8 distinct powers incl. null)")
	v, c, r = rows(g, proj, "{ x: pokemon(where: {id: 2}) @db { name "
	    "d: double(value: \"x.trainer_id\") @svc { value } } }")
	tap.is_(v, [{"name": "Bulbasaur", "d": {"value": 2}}],
	    t + "a reference to an unselected column (8.4)")
	up.reset()
	v, c, r = rows(g, proj, "{ x: ids(ids: [1, 2, 3, 2]) @svc { id t: "
	    "trainer(where: {id: \"x.id\"}, op: \"one\") @db { name } } }")
	tap.is_(v, [{"id": 1, "t": {"name": "ash"}}, {"id": 2, "t": {"name":
	    "misty"}}, {"id": 3, "t": {"name": "brock"}}, {"id": 2, "t": {
	    "name": "misty"}}], t + "service -> DB", r.describe())
	tap.is_(g.statements(), 1, t + "service -> DB: one statement")
	v, c, r = rows(g, proj, "{ x: trainer(where: {id: 1}) @db { name "
	    "o: trainer(where: {id: 2}) @other(col: \"trainer\") { name } } }")
	tap.is_(v, [{"name": "ash", "o": [{"name": "misty"}]}], t + "a join "
	    "across two databases", r.describe())


def case_budget(tap, g, proj):
	t = "[%s] " % proj
	v, c, r = rows(g, "tight" + proj, "{ x: trainer(sort: [\"id\"]) @db { "
	    "id a: pokemon(where: {trainer_id: \"x.id\"}) @db { id } } y: "
	    "trainer @db { id } }")
	tap.is_(codes(r), ["LIMIT_EXCEEDED"] * 4, t + "maxCalls 2 counts "
	    "statements: the third fails, for each parent", r.describe())
	tap.is_(len((data(r) or {}).get("y") or []), 4, t + "the root "
	    "fields were read")
	tap.is_(g.statements(), 2, t + "two statements ran")


def case_metrics(tap, g, proj, aport):
	t = "[%s] " % proj
	_, before = T.scrape_metrics(aport)
	rows(g, proj, "{ x: trainer @db { id } y: pokemon(where: {id: 1}) "
	    "@db { id } }")
	_, after = T.scrape_metrics(aport)
	k = ("switchyard_db_statements_total", frozenset({"project": proj,
	    "database": "db", "outcome": "ok"}.items()))
	tap.is_(after.get(k, 0) - before.get(k, 0), 2, t + "8.11: "
	    "switchyard_db_statements_total counts statements")
	tap.like(g.logline(), r" %s/graphql 200 - \d+ [\d.]+ calls=0 "
	    r"statements=2 errors=0$" % proj, t + "8.11 access log: "
	    "statements=2")


def case_pgdown(tap, g, pg, sy, up):
	t = "[pg] "
	pg.run("stop", "fast")
	doc = ("{ x: trainer(where: {id: 1}) @db { name } d: double(value: 4) "
	    "@svc { value } }")
	v, c, r = rows(g, "pg", doc)
	tap.is_(c, ["DATABASE_ERROR"], t + "server down: DATABASE_ERROR",
	    r.describe())
	tap.is_((errs(r) or [{}])[0].get("extensions", {}).get("status"), 502,
	    t + "DATABASE_ERROR: 502")
	tap.is_((data(r) or {}).get("d"), {"value": 8}, t + "the service "
	    "field still works")
	tap.ok(pg.pw.encode() not in r.body and b"password" not in r.body,
	    t + "no password in the answer")
	rr = T.call(sy.port, "svc", "double", {"value": 5}, project="pg")
	tap.is_(rr.status, 200, t + "REST calls keep working")
	v, c, r = rows(g, "lite", "{ x: trainer(where: {id: 1}) @db { name } }")
	tap.is_(v, [{"name": "ash"}], t + "the other database keeps working")
	pg.run("start")
	ok = T.wait_until(lambda: rows(g, "pg", doc)[0] == [{"name": "ash"}],
	    10)
	tap.ok(ok, t + "server back: the pool recovers without a restart")
	# going down mid-request
	res = {}

	def slow():
		res["r"] = g.post("pg", "{ x: slow @db { id } }")
	th = threading.Thread(target=slow)
	th.start()
	T.wait_until(lambda: pg.psql("SELECT count(*) FROM pg_stat_activity "
	    "WHERE usename = 'app' AND state = 'active'").strip() != "0", 5)
	pg.run("stop", "immediate")
	th.join(20)
	r = res.get("r")
	tap.is_(codes(r), ["DATABASE_ERROR"], t + "server gone mid-statement: "
	    "DATABASE_ERROR", r.describe() if r else "")
	pg.run("start")
	ok = T.wait_until(lambda: rows(g, "pg", doc)[0] == [{"name": "ash"}],
	    10)
	tap.ok(ok, t + "and back again")
	tap.ok(pg.pw not in sy.log(), t + "the password never in the log")


def case_pgstart(tap, g, pg, sy):
	t = "[pg] "
	doc = ("{ x: trainer(where: {id: 1}) @db { name } d: double(value: 4) "
	    "@svc { value } }")
	v, c, r = rows(g, "pg", doc)
	tap.is_(c, ["DATABASE_ERROR"], t + "down at start-up: DATABASE_ERROR",
	    r.describe())
	tap.is_((data(r) or {}).get("d"), {"value": 8}, t + "down at start-up: "
	    "the service field works")
	tap.ok(pg.pw.encode() not in r.body, t + "no password in the answer")
	rr = T.call(sy.port, "svc", "double", {"value": 5}, project="pg")
	tap.is_(rr.status, 200, t + "down at start-up: REST works")
	pg.run("start")
	ok = T.wait_until(lambda: rows(g, "pg", doc)[0] == [{"name": "ash"}],
	    10)
	tap.ok(ok, t + "server up: served without a restart")


def case_inflight(tap, g, sy, cfg, pg):
	"""A reload that changes the entry: the read in flight finishes on
	the old database, the next request uses the new one."""
	res = {}

	def doze():
		res["r"] = g.post("pg", "{ x: doze @db { id } }")
		res["t"] = time.monotonic()
	th = threading.Thread(target=doze)
	th.start()
	T.wait_until(lambda: pg.psql("SELECT count(*) FROM pg_stat_activity "
	    "WHERE usename = 'app' AND query LIKE '%doze%' AND state = "
	    "'active'").strip() != "0", 5)
	cfg["projects"]["pg"]["databases"]["db"]["maxRows"] = 3
	sy.write_config(cfg)
	sy.kill(1)	# SIGHUP
	ok = T.wait_until(lambda: len(rows(g, "pg", "{ x: trainer @db { id "
	    "} }")[0] or []) == 3, 10)
	tap.ok(ok, "[pg] reload: the changed entry is used by new requests")
	swapped = time.monotonic()
	th.join(20)
	tap.ok(res.get("t", 0) > swapped, "[pg] the new database was in use "
	    "while the old one still read")
	r = res.get("r")
	tap.is_(data(r) if r else None, {"x": [{"id": 1}]}, "[pg] the read in "
	    "flight during the reload finished on the old database",
	    r.describe() if r else "")


def case_deadline(tap, g, pg):
	t = "[pg] "
	t0 = time.monotonic()
	v, c, r = rows(g, "pgquick", "{ x: slow @db { id } y: trainer(where: "
	    "{id: 1}) @db { name } }")
	el = time.monotonic() - t0
	tap.is_(c, ["TIMEOUT"], t + "a slow statement: TIMEOUT", r.describe())
	tap.is_((data(r) or {}).get("y"), [{"name": "ash"}], t + "the fast "
	    "field finished")
	tap.ok(el < 3, t + "answered at the deadline (%.2f s)" % el)
	ok = T.wait_until(lambda: pg.psql("SELECT count(*) FROM "
	    "pg_stat_activity WHERE usename = 'app' AND query LIKE '%slow%' "
	    "AND state = 'active'").strip() == "0", 5)
	tap.ok(ok, t + "pg_stat_activity: the statement was cancelled")
	t0 = time.monotonic()
	v, c, r = rows(g, "pgquick", "{ x: slowhooked @db { id } }",
	    headers=bearer())
	tap.is_(c, ["TIMEOUT"], t + "a webhook still running at the deadline: "
	    "TIMEOUT", r.describe())
	tap.ok(time.monotonic() - t0 < 2.5, t + "answered at the deadline, "
	    "not after the webhook")


def case_reload(tap, g, sy, cfg):
	prj = cfg["projects"]["lite"]
	prj["databases"]["db"]["maxRows"] = 2
	sy.write_config(cfg)
	sy.kill(1)	# SIGHUP
	ok = T.wait_until(lambda: len(rows(g, "lite", "{ x: trainer @db { id "
	    "} }")[0] or []) == 2, 10)
	tap.ok(ok, "[lite] reload: a changed entry gets a new database")
	prj["databases"]["db"]["enabled"] = False
	sy.write_config(cfg)
	sy.kill(1)
	ok = T.wait_until(lambda: rows(g, "lite", "{ x: trainer @db { id } "
	    "}")[1] == ["NOT_FOUND"], 10)
	tap.ok(ok, "[lite] a disabled database is not declared: NOT_FOUND")


def project(sec, svcs, db, gql=None, other=None):
	p = {"secrets": sec, "remoteServices": svcs, "databases": {"db": db}}
	if other:
		p["databases"]["other"] = other
	if gql:
		p["graphql"] = gql
	return p


def main(tap):
	sygql.require()
	env = T.require_env()
	top = os.environ.get("SY_SRCDIR") or os.path.join(os.path.dirname(
	    os.path.abspath(__file__)), "..", "..")
	tmp = T.tmpdir()
	pg = PG(top)
	pg.load(SCHEMA + family_sql() + """
CREATE TABLE doze (id integer);
INSERT INTO doze VALUES (1);
ALTER TABLE doze ENABLE ROW LEVEL SECURITY;
ALTER TABLE doze FORCE ROW LEVEL SECURITY;
CREATE POLICY dozing ON doze USING (pg_sleep(4) IS NOT NULL);
""", os.path.join(top, "tests", "db", "schema_pg.sql"))
	lite = sqlite3.connect(os.path.join(tmp, "app.sqlite3"))
	lite.executescript(SCHEMA + family_sql() + """
CREATE TABLE types (i integer, r real, t text, b blob, n text, dyn);
INSERT INTO types VALUES (9007199254740993, 1.5, 'h' || char(233) || 'llo',
    X'00FF10', NULL, 5);""")
	lite.commit()
	lite.close()
	up = Up()
	port, aport = T.free_port(), T.free_port()
	svcs = {"svc": {"url": up.srv.url("").rstrip("/"), "endpoints": {
	    "double": E("/double"), "ids": E("/ids")}}}
	sec = [{"alg": "HS256", "secret": SECRET, "isPrimary": True}]
	hook = up.srv.url("/hook")
	ldb = {"conn": "app.sqlite3", "maxRows": 40, "tables": tables(hook)}
	pdb = {"type": "postgres", "conn": pg.conn(), "maxRows": 40,
	    "maxConnections": 2, "tables": tables(hook)}
	big = {"maxRows": 1000, "batchSize": 1000}
	projects = {
		"lite": project(sec, svcs, ldb, other=pdb),
		"pg": project(sec, svcs, pdb, other=ldb),
		"biglite": project(sec, svcs, dict(ldb, **big)),
		"bigpg": project(sec, svcs, dict(pdb, **big)),
		"smalllite": project(sec, svcs, dict(ldb, maxRows=1000,
		    batchSize=100)),
		"smallpg": project(sec, svcs, dict(pdb, maxRows=1000,
		    batchSize=100)),
		"tightlite": project(sec, svcs, ldb, gql={"maxCalls": 2}),
		"tightpg": project(sec, svcs, pdb, gql={"maxCalls": 2}),
		"pgquick": project(sec, svcs, pdb, gql={"timeout": 1}),
	}
	logpath = os.path.join(tmp, "access.log")
	cfg = T.make_config(tmp, port, None, workers=1, projects=projects,
	    limits={"maxBodyBytes": 512 * 1024, "maxResponseBytes": 8 << 20},
	    server={"admin": {"listen": "127.0.0.1:%d" % aport},
	    "log": {"error": "stderr", "level": "debug", "access": logpath}})
	pg.run("stop", "fast")	# PostgreSQL is down when switchyard starts
	sy = T.Daemon(env, tmp, cfg).start()
	g = G(tap, port, logpath)
	case_pgstart(tap, g, pg, sy)
	for proj in ("lite", "pg"):
		for name, fn in (("where", case_where), ("sort", case_sort),
		    ("limit", case_limit), ("one", case_one),
		    ("columns", case_columns), ("tables", case_tables),
		    ("rules", case_rules), ("inject", case_inject),
		    ("values", case_values), ("types", case_types)):
			if T.selected(name):
				fn(tap, g, proj)
		if T.selected("batch"):
			case_batch(tap, g, proj, pg if proj == "pg" else None)
		if T.selected("joins"):
			case_joins(tap, g, proj, up)
		if T.selected("hooks"):
			case_hooks(tap, g, proj, up)
		if T.selected("budget"):
			case_budget(tap, g, proj)
		if T.selected("metrics"):
			case_metrics(tap, g, proj, aport)
	if T.selected("deadline"):
		case_deadline(tap, g, pg)
	if T.selected("pgdown"):
		case_pgdown(tap, g, pg, sy, up)
	if T.selected("reload"):
		case_inflight(tap, g, sy, cfg, pg)
		case_reload(tap, g, sy, cfg)


T.run_main(None, main, watchdog=280)
