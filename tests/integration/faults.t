#!/usr/bin/python3
# faults.t: an upstream that fails in every way we could think of --
# connection refused, reset before or during the response, a response that
# stops half way, slow headers, slow body, huge headers, a garbage status
# line, a non-JSON body.  Each call gets the contract's status (SPEC
# section 4: 502, or 504 for the deadline) with the JSON error document,
# the daemon logs a warning naming the request and saying what happened
# (libcurl's words), and the same worker serves the next call.  Every case
# runs with each upstream client (server.upstreamClient "native", then
# "curl"; --client NAME runs one): the answers and the log texts are the
# same.
#
# The misbehaving upstream is sytest.FaultServer (raw sockets, one fault
# per request path); the healthy one is sy-upstream.
#
# Cases for -k: the names in CASES, and "headers-ok".

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E

# libcurl's error texts (CURLE_*), as the daemon passes them on; a version
# may word one differently, hence the alternatives
RESET = r"Connection reset by peer|Recv failure"
TIMEOUT_HEAD = r"[Tt]imed out after \d+ milliseconds with 0 bytes received"
TIMEOUT_BODY = r"[Tt]imed out after \d+ milliseconds with \d+ out of " \
    r"\d+ bytes received"

# the daemon refuses an upstream header block over limits.maxHeaderBytes
# (16384 here), whether it comes as many lines or as one (libcurl 7.88
# refuses one header line over 100 KiB itself, as "Out of memory", which
# upstream.c words as the native client does); the log says "response
# headers over 16384 bytes" on both paths
HUGE = r"headers are larger than maxHeaderBytes"
HUGE_LOG = r"response headers over 16384 bytes"

# (endpoint, service, upstream path, status, "error" regex, regex for the
# rest of the log line, todo)
CASES = [
	("refused", "dead", "/refused", 502, r"refused",
	    r"Failed to connect to 127\.0\.0\.1 port \d+ after \d+ ms: "
	    r"Couldn't connect to server", None),
	("reset", "faults", "/reset", 502, r"failed|reset", RESET, None),
	("empty", "faults", "/empty", 502, r"failed|closed|empty",
	    r"Empty reply from server", None),
	("reset-headers", "faults", "/reset-headers", 502, r"failed|reset",
	    RESET, None),
	("reset-body", "faults", "/reset-body", 502, r"failed|reset", RESET,
	    None),
	("short", "faults", "/short", 502, r"failed|closed|short",
	    r"transfer closed with \d+ bytes remaining|[Pp]artial", None),
	("slow-headers", "faults", "/slow-headers", 504, r"deadline",
	    TIMEOUT_HEAD, None),
	("slow-body", "faults", "/slow-body", 504, r"deadline", TIMEOUT_BODY,
	    None),
	("huge-headers", "faults", "/huge-headers?kib=200", 502, HUGE,
	    HUGE_LOG, None),
	("huge-over", "faults", "/huge-headers?kib=8192", 502, HUGE, HUGE_LOG,
	    None),
	("huge-line", "faults", "/huge-line?kib=200", 502, HUGE, HUGE_LOG,
	    None),
	("garbage", "faults", "/garbage", 502, r"failed",
	    r"Received HTTP/0\.9 when not allowed", None),
	("nojson", "faults", "/nojson", 502, r"not JSON",
	    r"not JSON \(status 200, \d+ bytes\)", None),
]


# what each client gave per case: (status, error document, log text),
# with every run of digits as "#" (elapsed times, ports, request ids)
SEEN = {}


def digitless(x):
	return re.sub(r"\d+", "#", repr(x))


def main(tap):
	env = T.require_env()
	T.each_client(tap, lambda tap, client: faults(tap, env, client))
	for name, by in sorted(SEEN.items()):
		if len(by) < 2:
			continue	# --client: one of them ran
		tap.ok(by["native"] == by["curl"], "%s: the native client and "
		    "libcurl give the same status, error document and log "
		    "text" % name, "native: %s" % (by["native"],),
		    "  curl: %s" % (by["curl"],))


def faults(tap, env, client):
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	fs = T.FaultServer(delay=3.0, trickle=0.1)
	port = T.free_port()
	closed = T.free_port()
	eps = {}
	for name, svc, path, *_ in CASES:
		if svc == "faults":
			eps[name] = E(path, timeout=1)
	eps["headers-ok"] = E("/huge-headers?kib=8", timeout=1)
	services = {
		"faults": {"url": fs.url(), "endpoints": eps},
		"dead": {"url": "http://127.0.0.1:%d" % closed, "endpoints": {
			"refused": E("/adder", timeout=1)}},
		"arith": {"url": up.url, "endpoints": {"adder": E("/adder")}},
	}
	# one worker: the one that met the fault serves the next call; no
	# ASan quarantine, so that the worker's RSS means something
	T.measure_memory()
	cfg = T.make_config(tmp, port, services, workers=1,
	    server=T.client_server(client))
	sy = T.Daemon(env, tmp, cfg, name="switchyard-" + client).start()
	pids = sy.workers()
	T.wait_until(lambda: T.established_conns(fs.port) == 0, 2)

	n = 0
	for name, svc, path, status, errre, logre, todo in T.select(CASES):
		n += 1
		off = sy.log_size()
		rss0 = T.rss_kib(pids[0]) if pids else None
		r = T.try_call(port, svc, name, {"case": n}, timeout=10)
		resp = isinstance(r, T.Response)
		desc = r.describe() if resp else "no response: %r" % (r,)
		tap.ok(resp and r.status == status, "%s: %d" % (name, status),
		    desc, todo=todo)
		doc = r.json() if resp else None
		tap.ok(resp and T.is_error_doc(r) and
		    r.media_type() == "application/json" and
		    re.search(errre, doc["error"]),
		    "%s: {\"error\",\"rawError\"} as application/json, error "
		    "matches /%s/" % (name, errre), desc, todo=todo)

		# the warning: "request <id>: demo/<service>/<endpoint>: <msg>
		# (<curl error>)"
		reqid = r.header("X-Request-Id") if resp else None
		want = "request %s: demo/%s/%s: " % (reqid, svc, name)

		def line():
			for l in sy.log_since(off).splitlines():
				if want in l:
					return l
			return None
		found = T.wait_until(line, 2) if reqid else None
		tap.ok(found and " warn: " in found and
		    re.search(logre, found.split(want, 1)[1]),
		    "%s: the log warns about request %s and says /%s/" %
		    (name, reqid, logre), "log since the call:",
		    sy.log_since(off), todo=todo)
		tap.diag("%s: %s -> %s" % (name, path, found or
		    "(no log line) " + (repr(r.body) if resp else repr(r))))
		SEEN.setdefault(name, {})[client] = (resp and r.status,
		    digitless(doc), digitless(found and
		    found.split(want, 1)[1]))

		if svc == "faults":
			got = fs.received(path.split("?")[0])
			tap.ok(got and got[-1].method == "POST" and
			    (got[-1].json() or {}).get("case") == n,
			    "%s: the fault server got the call with its params" %
			    name, repr(got))

		if name in ("slow-headers", "slow-body"):
			tap.ok(resp and 0.8 <= r.elapsed <= 3.0,
			    "%s: answered at the 1 s endpoint timeout" % name,
			    "elapsed %s" % getattr(r, "elapsed", None))
		if name == "huge-headers":
			hdrs = [k for k, v in r.headers] if resp else []
			tap.ok(resp and not [k for k in hdrs if
			    k.lower().startswith("x-pad-")],
			    "huge-headers: none of the upstream's header lines "
			    "reaches the client", desc)
		if name == "huge-over":
			rss1 = T.rss_kib(pids[0]) if pids else None
			tap.ok(rss0 is not None and rss1 is not None and
			    rss1 - rss0 < 4096,
			    "huge-over: 8 MiB of header lines offered, the "
			    "worker's RSS grew by less than 4 MiB",
			    "RSS %s -> %s KiB" % (rss0, rss1))
			tap.diag("huge-over: worker RSS %s -> %s KiB" % (rss0,
			    rss1))

		g = T.try_call(port, "arith", "adder", {"num1": n, "num2": 100})
		tap.ok(isinstance(g, T.Response) and g.status == 200 and
		    g.json() == {"sum": n + 100} and sy.workers() == pids,
		    "%s: then the same worker serves a good call" % name,
		    g.describe() if isinstance(g, T.Response) else repr(g),
		    "workers %r, were %r" % (sy.workers(), pids))

	if T.selected("headers-ok"):
		r = T.try_call(port, "faults", "headers-ok", {})
		tap.ok(isinstance(r, T.Response) and r.status == 200,
		    "8 KiB of upstream headers, under maxHeaderBytes, pass",
		    r.describe() if isinstance(r, T.Response) else repr(r))

	left = T.wait_until(lambda: T.established_conns(fs.port) == 0, 3)
	tap.ok(left, "no connection to the fault server is left open",
	    "open: %d" % T.established_conns(fs.port))
	tap.is_(sy.workers(), pids, "worker pids unchanged after all faults")
	tap.ok(sy.alive(), "master still running")
	tap.is_(sy.finish(), 0, "a graceful stop exits 0")
	fs.stop()
	up.stop()


T.run_main(None, main, watchdog=60)
