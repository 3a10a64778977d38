#!/usr/bin/python3
# stress/soak.t: a memory soak through one worker: 1,000,000 calls with
# SY_STRESS_FULL=1 or --full (scripts/test --stress), 20,000 in the normal
# suite or with --short, over keep-alive connections driven by wrk
# (installed by scripts/install-deps; missing, it is a failure).  The
# worker's RSS after a warm-up is compared with its RSS at the end: it
# must not grow by more than a small bound.  Run with each upstream client
# (server.upstreamClient "native", then "curl"; --client NAME runs one).

import os
import re
import shutil
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T

FULL = T.stress_full()
TOTAL = 1000000 if FULL else 20000
WARMUP = TOTAL // 10
LIMIT_S = 400 if FULL else 60		# the soak's own time budget
GROWTH_KIB = 2048			# allowed RSS growth after warm-up

LUA = """wrk.method = "POST"
wrk.body = '{"params":{"num1":1,"num2":2}}'
wrk.headers["Content-Type"] = "application/json"
"""


def run_wrk(wrk, script, url, secs):
	"""(requests, non-2xx, socket errors, raw output)."""
	rc, out, err = T.run([wrk, "-t2", "-c8", "-d%ds" % secs, "-s", script,
	    url], timeout=secs + 30)
	m = re.search(r"(\d+) requests in", out)
	n = int(m.group(1)) if m else 0
	m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
	bad = int(m.group(1)) if m else 0
	m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
	    r"timeout (\d+)", out)
	serr = sum(int(x) for x in m.groups()) if m else 0
	if rc != 0 or not n:
		serr += 1
	return n, bad, serr, out + err


def main(tap):
	env = T.require_env()
	T.measure_memory()
	T.each_client(tap, lambda tap, client: soak(tap, env, client))


def soak(tap, env, client):
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port = T.free_port()
	sy = T.Daemon(env, tmp, T.adder_config(tmp, port, up, workers=1,
	    server=T.client_server(client)),
	    name="switchyard-" + client).start()
	worker = sy.workers()[0]
	wrk = shutil.which("wrk")
	if wrk is None:
		raise T.Bail("wrk is not installed (scripts/install-deps "
		    "installs it)")
	script = os.path.join(tmp, "post.lua")
	with open(script, "w") as f:
		f.write(LUA)
	url = "http://%s:%d%s" % (T.LOOPBACK, port, T.api_path("demo", "arith",
	    "adder"))
	tap.diag("load generator: %s -t2 -c8" % wrk)

	rss_start = T.rss_kib(worker)
	done = bad = serr = 0
	rss_warm = None
	samples = []
	t0 = time.monotonic()
	rate = None
	while done < TOTAL and time.monotonic() - t0 < LIMIT_S:
		left = TOTAL - done
		if rss_warm is None:
			left = max(1, WARMUP - done)
		secs = 1 if rate is None else max(1, min(30,
		    int(left / rate + 0.999)))
		n, b, e, out = run_wrk(wrk, script, url, secs)
		if n == 0:
			tap.diag(out)
			break
		rate = n / secs
		done += n
		bad += b
		serr += e
		if rss_warm is None and done >= WARMUP:
			rss_warm = T.rss_kib(worker)
			samples.append((done, rss_warm))
		elif rss_warm is not None:
			samples.append((done, T.rss_kib(worker)))
	took = time.monotonic() - t0
	rss_end = T.rss_kib(worker)
	tap.diag("%d calls in %.1f s (%.0f/s): %d not 2xx, %d socket errors" %
	    (done, took, done / max(took, 0.001), bad, serr))
	tap.diag("worker %d RSS KiB: %s at start, %s after %d warm-up calls, "
	    "%s at the end" % (worker, rss_start, rss_warm,
	    samples[0][0] if samples else 0, rss_end))
	tap.diag("RSS KiB by calls done: %s" % ", ".join("%d: %s" % s for s in
	    samples))
	tap.ok(done >= TOTAL, "%d calls through one worker" % TOTAL,
	    "only %d in %.0f s" % (done, took))
	tap.ok(bad == 0 and serr == 0, "every call answered 2xx, no socket "
	    "error", "%d not 2xx, %d socket errors" % (bad, serr))
	growth = (rss_end - rss_warm) if rss_end is not None and \
	    rss_warm is not None else None
	tap.cmp_ok(growth, "<=", GROWTH_KIB, "worker RSS grew by at most %d "
	    "KiB after the warm-up (grew %s KiB)" % (GROWTH_KIB, growth))
	tap.is_(sy.workers(), [worker], "the same worker throughout")
	tap.is_(sy.finish(), 0, "a graceful stop exits 0")
	up.stop()


T.run_main(None, main, watchdog=2 * (LIMIT_S + 120))
