#!/usr/bin/python3
# hostile.t: what an adversarial review got through (issue "Hardening II"),
# each against the real daemon with raw sockets where an HTTP library would
# hide the bytes (SPEC section 4, "The upstream request" and "Connections
# and framing"; section 7, metrics):
#  - a "." or ".." path variable never changes the upstream path, and a
#    bound X-SC-Token's path claim is the path the upstream received
#    (with each upstream client: "[native]" and "[curl]");
#  - a client that pipelines and never reads costs one request and one
#    answer of memory (the worker's RSS is reported);
#  - ambiguous request framing is answered 400 and the connection closed,
#    so that nothing hidden behind it reaches an upstream;
#  - made-up project/service/endpoint names never become metric series;
#  - webhooks end with their caller and within the call's deadline;
#  - a graceful stop does not wait for a client that is gone;
#  - the open-connections gauge counts a connection once.
#
# Cases for -k: paths, framing, pipelining, metrics, gauge, webhooks, drain.

import http.client
import json
import os
import re
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E

FRAMING = [
	("two Content-Length headers",
	    b"Content-Length: %(n)d\r\nContent-Length: 0\r\n\r\n%(body)s",
	    "two Content-Length headers"),
	("Content-Length with Transfer-Encoding",
	    b"Content-Length: %(n)d\r\nTransfer-Encoding: chunked\r\n\r\n"
	    b"0\r\n\r\n", "both Content-Length and Transfer-Encoding"),
	("Transfer-Encoding other than chunked",
	    b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
	    "a Transfer-Encoding other than chunked"),
	("a space before a header's colon",
	    b"Transfer-Encoding : chunked\r\nContent-Length: %(n)d\r\n\r\n"
	    b"%(body)s", "white space in a header name"),
	("a chunk size written 0x..",
	    b"Transfer-Encoding: chunked\r\n\r\n0x%(x)s\r\n%(body)s\r\n"
	    b"0\r\n\r\n", "not plain hexadecimal digits"),
	("Content-Length: +N", b"Content-Length: +%(n)d\r\n\r\n%(body)s",
	    "not a plain decimal number"),
	("an obs-fold continuation line",
	    b"X-A: b\r\n c\r\nContent-Length: %(n)d\r\n\r\n%(body)s",
	    "obs-fold"),
]


def raw_exchange(port, data, pause_after=None):
	return T.raw_exchange(port, data, timeout=4.0, pause_after=pause_after,
	    until_close=True)


def statuses(raw):
	return [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", raw)]


def check_paths(tap, env, tmp, client):
	up = T.LoopbackServer(lambda req: (200, {"Content-Type":
	    "application/json"}, json.dumps({"path": req.path})))
	base = up.url("/base")
	port = T.free_port()
	bind = {"bindRequest": True}
	cfg = T.make_config(tmp, port, {"files": {"url": base, "endpoints": {
	    "profile": dict(E("/users/{args.id}/profile"), scToken=bind),
	    "root": E("/{args.id}/admin"),
	    "pair": E("/a/{args.x}{args.y}/b"),
	    "dotted": E("/f/{args.id}")}}}, workers=1,
	    server=T.client_server(client))
	sy = T.Daemon(env, tmp, cfg, name="paths-" + client).start()

	def got(ep, params):
		n = len(up.received())
		r = T.call(port, "files", ep, params)
		reqs = up.received()
		return r, (reqs[n] if len(reqs) > n else None)

	r, req = got("profile", {"id": ".."})
	tap.is_(req and req.path, "/base/users/%2E%2E/profile",
	    "{args.id} = \"..\" is sent as %2E%2E: the path keeps its segments",
	    r.describe())
	tok = (req.headers.get("x-sc-token") or "")[7:] if req else ""
	try:
		claims = T.jwt_decode_hs256(tok, "s3cret")[1]
	except ValueError as e:
		claims = {"error": str(e)}
	tap.is_(claims.get("path"), req and req.path, "a bound X-SC-Token's "
	    "path claim is the path of the request line the upstream got")
	r, req = got("root", {"id": ".."})
	tap.is_(req and req.path, "/base/%2E%2E/admin", "a value cannot "
	    "climb out of the service's base path", r.describe())
	r, req = got("root", {"id": "."})
	tap.is_(req and req.path, "/base/%2E/admin", "\".\" is sent as %2E")
	r, req = got("pair", {"x": ".", "y": "."})
	tap.is_(req and req.path, "/base/a/%2E%2E/b", "two values that make "
	    "\"..\" together are sent as %2E%2E")
	r, req = got("dotted", {"id": "a.b"})
	tap.is_(req and req.path, "/base/f/a.b", "dots in other values are "
	    "sent as they are")
	r, req = got("dotted", {"id": "../x"})
	tap.is_(req and req.path, "/base/f/..%2Fx", "a slash in a value is "
	    "encoded, so it never adds a segment")
	sy.stop()
	up.stop()


def adder(req):
	d = req.json() or {}
	return (200, {"Content-Type": "application/json"},
	    json.dumps({"sum": d.get("num1", 0) + d.get("num2", 0)}))


def check_framing(tap, env, tmp):
	up = T.LoopbackServer(adder)
	port = T.free_port()
	cfg = T.make_config(tmp, port, {"arith": {"url": up.url(""),
	    "endpoints": {"adder": E("/adder"), "hidden": E("/hidden-request")}}},
	    workers=1)
	sy = T.Daemon(env, tmp, cfg, name="framing").start()
	body = b'{"params":{"num1":1,"num2":2}}'
	hidden = (b"POST " + T.api_path("demo", "arith", "hidden").encode() +
	    b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
	head = (b"POST " + T.api_path("demo", "arith", "adder").encode() +
	    b" HTTP/1.1\r\nHost: x\r\n")
	for name, tmpl, reason in FRAMING:
		n0 = sy.log_size()
		data = head + tmpl % {b"n": len(body), b"body": body,
		    b"x": (b"%x" % len(body))} + hidden
		raw, closed = raw_exchange(port, data)
		st = statuses(raw)
		tap.is_(st[-1:], [400], "%s: answered 400" % name, repr(raw[:300]))
		tap.ok(closed and len(st) == 1 and b"hidden-request" not in raw,
		    "%s: the connection is closed and the request hidden behind "
		    "it is never answered" % name, "statuses %r" % st)
		tail = raw.split(b"\r\n\r\n", 1)[-1]
		try:
			err = json.loads(tail.decode()).get("error", "")
		except ValueError:
			err = ""
		tap.ok(reason in err and "ambiguous request framing" in err,
		    "%s: the JSON error names the problem" % name, repr(tail))
	tap.is_(up.received(), [], "neither the refused requests nor the ones "
	    "hidden behind them reached the upstream")
	# a sound request before the bad one is answered, then the 400
	good = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
	bad = head + b"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}"
	raw, closed = raw_exchange(port, good + bad + hidden)
	tap.is_(statuses(raw), [200, 400], "a sound request pipelined before a "
	    "refused one is answered first", repr(raw[:400]))
	# the offending line arriving in a later packet
	data = head + b"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}" + \
	    hidden
	raw, closed = raw_exchange(port, data, pause_after=len(head) + 10)
	tap.is_(statuses(raw), [400], "refused also when the line arrives in "
	    "pieces", repr(raw[:300]))
	# evhttp reads no body on HEAD: it would take this one for a request
	data = (b"HEAD " + T.api_path("demo", "arith", "adder").encode() +
	    b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" %
	    len(hidden) + hidden)
	raw, closed = raw_exchange(port, data)
	tap.ok(statuses(raw) == [405] and closed, "a HEAD with a body is "
	    "answered on its head and the connection closed: the body is "
	    "never read as a request", repr(raw[:300]))
	r = T.call(port, "arith", "adder", {"num1": 2, "num2": 3})
	tap.ok(r.status == 200 and r.json() == {"sum": 5}, "the worker serves "
	    "the next call", r.describe())
	tap.is_(up.received("/hidden-request"), [], "no hidden request ever "
	    "reached the upstream")
	sy.stop()


def check_pipelining(tap, env, tmp, up):
	T.measure_memory()
	port = T.free_port()
	cfg = T.make_config(tmp, port, {"arith": {"url": up.url, "endpoints": {
	    "adder": E("/adder")}}}, workers=1)
	sy = T.Daemon(env, tmp, cfg, name="pipeline").start()
	worker = sy.workers()[0]
	for _ in range(20):
		T.call(port, "arith", "adder", {"num1": 1, "num2": 1})
	before = T.rss_kib(worker)
	req = (b"OPTIONS " + T.api_path("demo", "arith", "adder").encode() +
	    b" HTTP/1.1\r\nHost: x\r\nOrigin: http://a\r\n\r\n")
	chunk = req * (65536 // len(req))
	s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	s.connect(("127.0.0.1", port))
	s.settimeout(0.25)
	sent, blocked, t0 = 0, 0.0, time.monotonic()
	# bounded: 400 MB or 8 s, or blocked for 1.5 s in a row
	while sent < 400 * 2**20 and time.monotonic() - t0 < 8 and \
	    blocked < 1.5:
		try:
			sent += s.send(chunk)
			blocked = 0.0
		except socket.timeout:
			blocked += 0.25
		except OSError:
			break
	peak = T.rss_kib(worker)
	r = T.call(port, "arith", "adder", {"num1": 20, "num2": 22})
	tap.ok(r.status == 200 and r.json() == {"sum": 42}, "other clients are "
	    "served while one pipelines and never reads", r.describe())
	grew = (peak - before) / 1024.0
	fig = "%.1f MiB sent in %.1f s, worker RSS %d -> %d KiB (+%.1f MiB)" % (
	    sent / 2**20, time.monotonic() - t0, before, peak, grew)
	tap.ok(grew < 8, "a client that pipelines and never reads grows the "
	    "worker by a bounded amount (one request, one answer)", fig)
	tap.diag("pipelining client: " + fig)
	s.close()
	sy.stop()


def scrape(aport):
	return T.scrape_metrics(aport)[1]


def with_admin(env, tmp, up, name):
	"""One worker, the adder endpoint, an admin listener: (daemon,
	port, admin port)."""
	port, aport = T.free_port(), T.free_port()
	cfg = T.make_config(tmp, port, {"arith": {"url": up.url, "endpoints": {
	    "adder": E("/adder")}}}, workers=1,
	    server={"admin": {"listen": "127.0.0.1:%d" % aport}})
	return T.Daemon(env, tmp, cfg, name=name).start(), port, aport


def check_metrics(tap, env, tmp, up):
	sy, port, aport = with_admin(env, tmp, up, "metrics")
	dash0 = sum(v for (name, labels), v in scrape(aport).items()
	    if name == "switchyard_requests_total" and
	    dict(labels).get("project") == "-")
	c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
	n404 = 0
	for i in range(700):
		c.request("POST", T.api_path("made%d" % i, "svc%d" % i,
		    "ep%d" % i), body="{}")
		r = c.getresponse()
		r.read()
		n404 += r.status == 404
	c.close()
	r = T.call(port, "arith", "adder", {"num1": 1, "num2": 2})
	m = scrape(aport)
	made = [k for k in m if any("made" in v or "svc" in v
	    for _, v in k[1])]
	tap.ok(n404 == 700 and not made, "700 calls to made-up names are 404 "
	    "and none of the names becomes a series", "%d series with made-up "
	    "names" % len(made))
	dash = sum(v for (name, labels), v in m.items()
	    if name == "switchyard_requests_total" and
	    dict(labels).get("project") == "-")
	tap.is_(dash - dash0, 700.0, "they are counted under project=\"-\"")
	real = sum(v for (name, labels), v in m.items()
	    if name == "switchyard_requests_total" and
	    dict(labels).get("endpoint") == "adder")
	tap.is_(real, 1.0, "a real endpoint's call is still counted after "
	    "them", r.describe())
	sy.stop()


def check_gauge(tap, env, tmp, up):
	sy, port, aport = with_admin(env, tmp, up, "gauge")
	T.wait_until(lambda: scrape(aport).get(("switchyard_open_connections",
	    frozenset())) == 0.0, 3)
	c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
	c.request("POST", T.api_path("demo", "arith", "adder"),
	    body='{"params":{"num1":1,"num2":2}}')
	r = c.getresponse()
	r.read()
	g = scrape(aport).get(("switchyard_open_connections", frozenset()))
	tap.is_(g, 1.0, "one kept-alive connection after a forwarded call is "
	    "counted once")
	c.close()
	tap.ok(T.wait_until(lambda: scrape(aport).get((
	    "switchyard_open_connections", frozenset())) == 0.0, 3),
	    "and the gauge is back to 0 when it closes")
	sy.stop()


def check_webhooks(tap, env, tmp, up):
	jwt = T.require_jwt()
	tok = jwt.encode({"sub": "u1", "exp": int(time.time()) + 600},
	    "s3cret", algorithm="HS256")
	if isinstance(tok, bytes):
		tok = tok.decode()
	hold = threading.Event()

	def hook(req):
		hold.wait(8.0)		# bounded
		return (200, {"Content-Type": "application/json"}, "{}")

	wh = T.LoopbackServer(hook)
	port = T.free_port()
	rule = {"rule": "webhook", "url": wh.url("/hook"), "timeout": 20}
	fast = dict(E("/adder", rule={"rule": "webhook",
	    "url": wh.url("/hook")}, timeout=1))
	cfg = T.make_config(tmp, port, {"arith": {"url": up.url, "endpoints": {
	    "slowhook": E("/adder", rule=rule, timeout=30),
	    "deadline": fast}}}, workers=1)
	sy = T.Daemon(env, tmp, cfg, name="webhooks").start()
	body = b'{"params":{"num1":1,"num2":2}}'
	req = (b"POST " + T.api_path("demo", "arith", "slowhook").encode() +
	    b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok.encode() +
	    b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
	socks = []
	for _ in range(30):
		s = socket.create_connection(("127.0.0.1", port), timeout=5)
		s.sendall(req)
		socks.append(s)
	T.wait_until(lambda: T.established_conns(wh.port) >= 30, 3)
	n = T.established_conns(wh.port)
	t0 = time.monotonic()
	for s in socks:
		s.close()
	gone = T.wait_until(lambda: T.established_conns(wh.port) == 0, 2.5)
	took = time.monotonic() - t0
	fig = "%d webhook connections, all closed %.2f s after the callers " \
	    "left" % (n, took)
	tap.ok(n >= 30 and gone, "30 callers that hang up take their webhook "
	    "calls with them (before the webhook answers)", fig)
	tap.diag("webhooks of callers that left: " + fig)
	hold.set()
	hold.clear()
	t0 = time.monotonic()
	r = T.call(port, "arith", "deadline", {"num1": 1, "num2": 2},
	    headers={"Authorization": "Bearer " + tok})
	took = time.monotonic() - t0
	hold.set()
	tap.is_(r.status, 504, "a webhook slower than the endpoint's timeout "
	    "ends the call at the call's deadline", r.describe())
	tap.ok(took < 2.5, "the answer comes at the 1 s deadline, not at the "
	    "webhook's own 5 s", "%.2f s" % took)
	sy.stop()


def check_drain(tap, env, tmp):
	big = json.dumps({"blob": "x" * (6 * 2**20)})
	up = T.LoopbackServer(lambda req: (200, {"Content-Type":
	    "application/json"}, big))
	port = T.free_port()
	cfg = T.make_config(tmp, port, {"big": {"url": up.url(""), "endpoints":
	    {"blob": E("/blob")}}}, workers=1,
	    limits={"maxResponseBytes": 16 * 2**20},
	    server={"shutdownTimeout": 20})
	sy = T.Daemon(env, tmp, cfg, name="drain").start()
	s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
	s.connect(("127.0.0.1", port))
	s.sendall(b"POST " + T.api_path("demo", "big", "blob").encode() +
	    b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
	s.settimeout(3)
	first = s.recv(16)		# the answer has begun; read no more
	time.sleep(1.0)
	s.close()			# unread data: the kernel resets it
	time.sleep(0.5)
	t0 = time.monotonic()
	sy.kill(signal.SIGQUIT)
	st = sy.wait_exit(15)
	took = time.monotonic() - t0
	tap.ok(first.startswith(b"HTTP/1.1 200"), "a 6 MiB answer began",
	    repr(first))
	tap.ok(st == 0 and took < 5, "a graceful stop does not wait for the "
	    "client that left with its answer unread (shutdownTimeout 20 s)",
	    "exit %r after %.2f s" % (st, took))


def main(tap):
	env = T.require_env()
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	if T.selected("paths"):
		# the request line is the upstream client's: both of them
		T.each_client(tap, lambda tap, client: check_paths(tap, env,
		    T.tmpdir(), client))
	if T.selected("framing"):
		check_framing(tap, env, tmp)
	if T.selected("pipelining"):
		check_pipelining(tap, env, tmp, up)
	if T.selected("metrics"):
		check_metrics(tap, env, tmp, up)
	if T.selected("gauge"):
		check_gauge(tap, env, tmp, up)
	if T.selected("webhooks"):
		check_webhooks(tap, env, tmp, up)
	if T.selected("drain"):
		check_drain(tap, env, tmp)


T.run_main(None, main, watchdog=150)
