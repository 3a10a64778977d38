#!/usr/bin/python3
# stress/kill.t: kill -9 of a worker every 0.5 s under load with 2
# workers (20 s with SY_STRESS_FULL=1, 5 s in the normal suite): the
# master replaces each within 1 s, and only calls on the killed worker's
# connections fail: each client keeps one connection, and a failed call
# must be on a connection whose worker was just killed.  Run with each
# upstream client (server.upstreamClient "native", then "curl").

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

FULL = T.stress_full()
SECONDS = 20 if FULL else 5


def main(tap):
	env = T.require_env()
	T.each_client(tap, lambda tap, client: kills(tap, env, client))


def kills(tap, env, client):
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port = T.free_port()
	sy = T.Daemon(env, tmp, T.adder_config(tmp, port, up, workers=2,
	    server=T.client_server(client)), name="switchyard-" +
	    client).start()
	stats = {"ok": 0, "err": 0}
	seen = {}		# request-id prefix (one per worker) -> last OK
	failures = []		# (prefix of the connection's worker, time)
	lock = threading.Lock()
	stop = threading.Event()

	def client():
		c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
		prefix = None	# the worker this connection talks to
		while not stop.is_set():
			try:
				c.request("POST", T.api_path("demo", "arith",
				    "adder"), '{"params":{"num1":1,"num2":2}}',
				    {"Content-Type": "application/json"})
				r = c.getresponse()
				r.read()
				prefix = (r.getheader("X-Request-Id") or "")[:16]
				with lock:
					if r.status == 200:
						stats["ok"] += 1
						seen[prefix] = time.monotonic()
					else:
						stats["err"] += 1
						failures.append((prefix,
						    time.monotonic()))
			except (OSError, http.client.HTTPException):
				c.close()
				with lock:
					stats["err"] += 1
					failures.append((prefix, time.monotonic()))
				prefix = None

	ths = [threading.Thread(target=client, daemon=True) for i in range(4)]
	for t in ths:
		t.start()
	replaced, worst, kills = 0, 0.0, 0
	end = time.monotonic() + SECONDS
	while time.monotonic() < end:
		time.sleep(0.5)
		before = sy.workers()
		if len(before) != 2:
			continue
		victim = before[0]
		os.kill(victim, signal.SIGKILL)
		kills += 1
		t0 = time.monotonic()
		ok = T.wait_until(lambda: len(sy.workers()) == 2 and victim
		    not in sy.workers(), 2, interval=0.01)
		dt = time.monotonic() - t0
		worst = max(worst, dt)
		replaced += ok and dt < 1
	stop.set()
	for t in ths:
		t.join(10)
	tap.diag("%d kills in %d s; worst replacement %.2f s; requests: %d ok, "
	    "%d failed" % (kills, SECONDS, worst, stats["ok"], stats["err"]))
	tap.ok(kills > 0 and replaced == kills, "every killed worker was "
	    "replaced within 1 s", "%d of %d, worst %.2f s" % (replaced,
	    kills, worst))
	# a failure on a worker that kept serving afterwards was not caused
	# by a kill: its worker survived
	unexplained = [f for f in failures if f[0] is not None and
	    seen.get(f[0], 0) > f[1] + 0.05]
	tap.diag("failed calls: %d on a killed worker's connection, %d on a "
	    "new connection, %d on a surviving worker" % (len([f for f in
	    failures if f[0] is not None]) - len(unexplained), len([f for f
	    in failures if f[0] is None]), len(unexplained)))
	tap.ok(stats["ok"] > 100 and not unexplained,
	    "no call failed on the surviving worker", stats, unexplained[:5])
	tap.is_(sy.finish(), 0, "a graceful stop exits 0")
	up.stop()


T.run_main(None, main, watchdog=120)
