#!/usr/bin/python3
# stress/upstream.t: the upstream goes down and comes back while 4
# keep-alive clients call: 502 while it is down, normal answers again
# within 2 s of its return, and no stuck connection (every call completes
# within its timeout, none fails at the connection level).  Three
# down/up cycles with SY_STRESS_FULL=1 or --full, one in the normal suite
# or with --short.  Run with each upstream client (server.upstreamClient
# "native", then "curl"; --client NAME runs one).

import http.client
import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E

FULL = T.stress_full()
CYCLES = 3 if FULL else 1
UP_S, DOWN_S = 2.0, 2.0
CLIENT_TIMEOUT = 5.0


def main(tap):
	env = T.require_env()
	T.each_client(tap, lambda tap, client: outages(tap, env, client))


def outages(tap, env, upclient):
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	uport = up.port
	port = T.free_port()
	sy = T.Daemon(env, tmp, T.make_config(tmp, port, {"arith": {
	    "url": up.url, "endpoints": {"adder": E("/adder", timeout=2)}}},
	    workers=2, server=T.client_server(upclient)),
	    name="switchyard-" + upclient).start()

	results = []		# (start, end, status or exception name)
	lock = threading.Lock()
	stop = threading.Event()
	odd = []		# (seconds since start, status, body) not 200
	T0 = time.monotonic()

	def client():
		c = http.client.HTTPConnection(T.LOOPBACK, port,
		    timeout=CLIENT_TIMEOUT)
		while not stop.is_set():
			t0 = time.monotonic()
			try:
				c.request("POST", T.api_path("demo", "arith",
				    "adder"), '{"params":{"num1":1,"num2":2}}',
				    {"Content-Type": "application/json"})
				r = c.getresponse()
				body = r.read()
				res = r.status
				if res != 200:
					with lock:
						odd.append((round(t0 - T0, 3),
						    res, body[:160]))
			except (OSError, http.client.HTTPException) as e:
				res = type(e).__name__
				c.close()
			with lock:
				results.append((t0, time.monotonic(), res))
			if res == 502:
				time.sleep(0.002)	# not a pure spin

	ths = [threading.Thread(target=client, daemon=True) for i in range(4)]
	for t in ths:
		t.start()
	procs = [up.proc]
	events = []		# (killed at, restarted at)
	time.sleep(UP_S)
	for cyc in range(CYCLES):
		killed = time.monotonic()	# calls ending later may fail
		T.os.killpg(procs[-1].pid, T.signal.SIGKILL)
		procs[-1].wait(timeout=5)
		time.sleep(DOWN_S)
		name = "upstream-%d" % (cyc + 1)
		out = os.path.join(tmp, name + ".stdout")
		err = os.path.join(tmp, name + ".stderr")
		T.add_log(name + " stderr", err)
		respawn = time.monotonic()
		p = T.spawn([env.upstream, "-l", T.LOOPBACK, "-p", str(uport)],
		    out, err)
		procs.append(p)
		if not T.wait_until(lambda: not T.refuses(uport, 0.5), 5):
			raise T.Bail("the upstream did not come back on port %d"
			    % uport)
		events.append((killed, respawn, time.monotonic()))
		time.sleep(UP_S)
	stop.set()
	for t in ths:
		t.join(CLIENT_TIMEOUT + 2)
	stuck = [t for t in ths if t.is_alive()]

	with lock:
		res = list(results)
	errs = [r for r in res if not isinstance(r[2], int)]
	slow = [r for r in res if r[1] - r[0] > CLIENT_TIMEOUT]
	counts = {}
	for r in res:
		counts[r[2]] = counts.get(r[2], 0) + 1
	tap.diag("%d calls in %d down/up cycles (%.0f s down each): %s" % (
	    len(res), CYCLES, DOWN_S, ", ".join("%s: %d" % kv for kv in
	    sorted(counts.items(), key=lambda kv: str(kv[0])))))
	tap.diag("slowest call: %.3f s" % max(r[1] - r[0] for r in res))
	first = events[0][0]
	before = [r for r in res if r[1] < first]
	tap.ok(before and all(r[2] == 200 for r in before), "before the first "
	    "outage every call answers 200", "%d calls, %d not 200; first: %r"
	    % (len(before), len([r for r in before if r[2] != 200]),
	    [o for o in odd if o[0] < first - T0][:5]))
	for i, (killed, respawn, back) in enumerate(events):
		# started after the kill had settled, finished before the
		# upstream was started again
		down = [r for r in res if r[0] > killed + 0.1 and r[1] < respawn]
		odd = [r[2] for r in down if r[2] != 502]
		tap.ok(len(down) > 10 and not odd, "outage %d: every call "
		    "while the upstream is down answers 502" % (i + 1),
		    "%d calls, other answers: %r" % (len(down), odd[:10]))
		nxt = events[i + 1][0] if i + 1 < len(events) else float("inf")
		after = [r for r in res if r[0] >= back and r[1] < nxt]
		firstok = min([r[1] for r in after if r[2] == 200] or [None]) \
		    if after else None
		late = [r for r in after if r[0] > back + 2.0 and r[2] != 200]
		tap.diag("outage %d: %d calls while down; first 200 %.3f s after "
		    "the upstream was back; %d calls after it" % (i + 1,
		    len(down), (firstok - back) if firstok else -1, len(after)))
		tap.ok(firstok is not None and firstok - back <= 2.0 and
		    not late and len(after) > 10, "outage %d: normal answers "
		    "within 2 s of the upstream's return, and every call after"
		    % (i + 1), "first 200 at %r, late failures %r" % (
		    firstok and firstok - back, [(round(r[0] - back, 3), r[2])
		    for r in late][:10]), "upstream back at %.3f s; odd answers "
		    "after: %r" % (back - T0, [o for o in odd if o[0] > back
		    - T0 + 2.0][:5]))
	tap.ok(not errs, "no connection error or client timeout on the "
	    "gateway side", "%d: %r" % (len(errs), [r[2] for r in errs][:10]))
	tap.ok(not stuck and not slow, "no stuck call: every call completed "
	    "within %.0f s and every client thread ended" % CLIENT_TIMEOUT,
	    "%d over time, %d threads stuck" % (len(slow), len(stuck)))
	tap.ok(sy.alive() and len(sy.workers()) == 2, "the daemon and its "
	    "workers still run")
	tap.is_(sy.finish(), 0, "a graceful stop exits 0")
	T.os.killpg(procs[-1].pid, T.signal.SIGKILL)
	procs[-1].wait(timeout=5)


T.run_main(None, main, watchdog=2 * (60 + CYCLES * 10))
