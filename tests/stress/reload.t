#!/usr/bin/python3
# stress/reload.t: SIGHUP reloads alternating two valid configs while 4
# keep-alive clients call continuously: zero failed requests, zero
# connection errors.  100 reloads with SY_STRESS_FULL=1 (scripts/test
# --stress), 20 in the normal suite.  Run with each upstream client
# (server.upstreamClient "native", then "curl"; --client NAME runs one).

import http.client
import os
import signal
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E

FULL = T.stress_full()
RELOADS = 100 if FULL else 20


def main(tap):
	env = T.require_env()
	T.each_client(tap, lambda tap, client: reloads(tap, env, client))


def reloads(tap, env, upclient):
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port = T.free_port()

	def cfg(st):
		return T.make_config(tmp, port, {"arith": {"url": up.url,
		    "endpoints": {"adder": E("/adder"), "st": E(st)}}}, workers=2,
		    server=T.client_server(upclient))

	sy = T.Daemon(env, tmp, cfg("/status/200"),
	    name="switchyard-" + upclient).start()
	pids = sy.workers()
	stats = {"ok": 0, "bad": 0, "err": 0}
	lock = threading.Lock()
	stop = threading.Event()

	def client():
		c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
		while not stop.is_set():
			try:
				c.request("POST", T.api_path("demo", "arith",
				    "adder"), '{"params":{"num1":1,"num2":2}}',
				    {"Content-Type": "application/json"})
				r = c.getresponse()
				r.read()
				k = "ok" if r.status == 200 else "bad"
			except (OSError, http.client.HTTPException):
				k = "err"
				c.close()
			with lock:
				stats[k] += 1

	ths = [threading.Thread(target=client, daemon=True) for i in range(4)]
	for t in ths:
		t.start()
	t0 = time.monotonic()
	for i in range(RELOADS):
		sy.write_config(cfg("/status/20%d" % (i % 2)))
		os.kill(sy.proc.pid, signal.SIGHUP)
		time.sleep(0.05)
	took = time.monotonic() - t0
	time.sleep(0.5)
	stop.set()
	for t in ths:
		t.join(10)
	tap.diag("%d reloads in %.1f s (%.0f/s); requests: %d ok, %d not 200, "
	    "%d connection errors" % (RELOADS, took, RELOADS / took,
	    stats["ok"], stats["bad"], stats["err"]))
	tap.ok(stats["ok"] > 100 and stats["bad"] == 0 and stats["err"] == 0,
	    "%d reloads under load: no failed request, no connection error" %
	    RELOADS, stats)
	r = T.call(port, "arith", "st", {})
	tap.is_(r.status, 200 + (RELOADS - 1) % 2, "the last config is served")
	tap.is_(sy.workers(), pids, "the same workers served throughout")
	tap.is_(sy.finish(), 0, "a graceful stop exits 0")
	up.stop()


T.run_main(None, main, watchdog=240)
