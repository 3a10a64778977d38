#!/usr/bin/python3
# reload.t: SIGHUP with valid and invalid configs (SPEC section 2, "Reload").

import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E

EP = "projects.demo.remoteServices.arith.endpoints"


def main(tap):
	env = T.require_env()
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port = T.free_port()

	def config(st_path, workers=2, slow=True, st_rule=True, listen=None,
	    **extra):
		eps = {"adder": E("/adder"), "st": E(st_path)}
		if not st_rule:
			del eps["st"]["rule"]
		if slow:
			eps["slow"] = E("/slow", method="GET")
		eps.update(extra)
		return T.make_config(tmp, listen or port, {"arith": {
		    "url": up.url, "endpoints": eps}}, workers=workers)

	def st_status():
		r = T.try_call(port, "arith", "st", {}, timeout=3)
		return r.status if isinstance(r, T.Response) else repr(r)

	def wait_status(want, limit):
		t0 = time.monotonic()
		got = T.wait_until(lambda: st_status() == want, limit, 0.02)
		return got, time.monotonic() - t0

	def steady(want, period):
		"""Every answer over period is want; returns the odd ones."""
		odd = []
		end = time.monotonic() + period
		while time.monotonic() < end:
			s = st_status()
			if s != want:
				odd.append(s)
			time.sleep(0.05)
		return odd

	sy = T.Daemon(env, tmp, config("/status/200")).start()
	pids = sy.workers()
	tap.is_(st_status(), 200, "before reload: st answers 200")

	# --- a valid change: new path and a new endpoint
	sy.write_config(config("/status/201", added=E("/adder")))
	sy.kill(signal.SIGHUP)
	ok, took = wait_status(201, 1.0)
	tap.ok(ok, "after HUP the changed path is served within 1 s",
	    "took %.2f s, st now %r" % (took, st_status()))
	r = T.try_call(port, "arith", "added", {"num1": 10, "num2": 20})
	tap.ok(isinstance(r, T.Response) and r.status == 200 and
	    r.json() == {"sum": 30}, "the added endpoint is served", repr(r))
	tap.is_(sy.workers(), pids, "same worker pids after the reload")
	tap.ok(sy.alive(), "master running")

	# --- a request in flight across a reload that removes its endpoint
	c = T.Caller(port, "arith", "slow", {"ms": 1500}, timeout=6)
	c.start()
	time.sleep(0.4)
	sy.write_config(config("/status/202", slow=False))
	sy.kill(signal.SIGHUP)
	ok, took = wait_status(202, 1.0)
	tap.ok(ok, "second reload served within 1 s", "took %.2f s" % took)
	c.join(6)
	r = c.result
	tap.ok(isinstance(r, T.Response) and r.status == 200 and
	    r.json() == {"slept": 1500},
	    "a call in flight during the reload completes 200", repr(r))
	r = T.try_call(port, "arith", "slow", {"ms": 1})
	tap.ok(isinstance(r, T.Response) and r.status == 404,
	    "the removed endpoint is now 404", repr(r))
	tap.is_(sy.workers(), pids, "same worker pids")

	# --- an invalid config keeps the old registry
	off = sy.log_size()
	sy.write_config(config("/status/203", slow=False, st_rule=False))
	sy.kill(signal.SIGHUP)
	odd = steady(202, 1.5)
	tap.ok(not odd, "invalid config: the old registry keeps serving",
	    "odd answers: %r" % odd)
	tap.ok(sy.alive(), "invalid config: master still running")
	log = sy.log_since(off)
	tap.ok(any(EP + ".st" in l and 'missing "rule"' in l
	    for l in log.splitlines()),
	    "invalid config: the log says why (%s: missing \"rule\")" %
	    (EP + ".st"), "log since HUP:\n" + log[-3000:])
	tap.is_(sy.workers(), pids, "invalid config: same worker pids")

	sy.write_config('{"server": {"workers": 2}, "projects": {')
	sy.kill(signal.SIGHUP)
	odd = steady(202, 1.0)
	tap.ok(not odd and sy.alive(),
	    "JSON syntax error: master running, the old registry serving",
	    "odd answers: %r" % odd)
	tap.is_(sy.workers(), pids, "JSON syntax error: same worker pids")

	# --- a valid config after the invalid ones
	sy.write_config(config("/status/203"))
	sy.kill(signal.SIGHUP)
	ok, took = wait_status(203, 1.0)
	tap.ok(ok, "a valid config after invalid ones is served within 1 s",
	    "took %.2f s, st now %r" % (took, st_status()))
	tap.is_(sy.workers(), pids, "same worker pids")
	r = T.try_call(port, "arith", "slow", {"ms": 1})
	tap.ok(isinstance(r, T.Response) and r.status == 200,
	    "the re-added endpoint is served", repr(r))

	# --- a process-level change (worker count) with a call in flight
	c = T.Caller(port, "arith", "slow", {"ms": 1500}, timeout=8)
	c.start()
	time.sleep(0.4)
	sy.write_config(config("/status/204", workers=3))
	sy.kill(signal.SIGHUP)
	c.join(8)
	r = c.result
	tap.ok(isinstance(r, T.Response) and r.status == 200 and
	    r.json() == {"slept": 1500},
	    "workers 2 -> 3: the call in flight completes 200", repr(r))
	ok = T.wait_until(lambda: len(sy.workers()) == 3 and
	    not set(sy.workers()) & set(pids), 8)
	tap.ok(ok, "workers 2 -> 3: three new workers, the old ones retired",
	    "old %r, now %r" % (pids, sy.workers()))
	ok, took = wait_status(204, 2.0)
	tap.ok(ok, "workers 2 -> 3: the new config is served",
	    "st now %r" % st_status())
	tap.ok(sy.alive(), "master running")
	new = sy.workers()
	odd = steady(204, 0.5)
	tap.ok(not odd and sy.workers() == new,
	    "the new workers keep serving and stay", "odd %r, workers %r -> %r"
	    % (odd, new, sy.workers()))

	# --- a new listen address
	port2 = T.free_port()
	sy.write_config(config("/status/201", workers=3, listen=port2))
	sy.kill(signal.SIGHUP)

	def on_port2():
		r = T.try_call(port2, "arith", "st", {}, timeout=2)
		return isinstance(r, T.Response) and r.status == 201

	tap.ok(T.wait_until(on_port2, 5.0), "listen changed: the new address "
	    "serves the new config within 5 s")
	tap.ok(T.wait_until(lambda: T.refuses(port), 7.0),
	    "listen changed: the old address is closed")


T.run_main(None, main, watchdog=60)
