#!/usr/bin/python3
# workers.t: a killed worker is replaced, a crash loop backs off without
# spinning the CPU and recovers on HUP, and workers exit when the master
# dies (SPEC section 2).

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


class Loop(threading.Thread):
	"""Call adder over and over (new connection each time) until told to
	stop or 15 s have passed."""

	def __init__(self, port):
		super().__init__(daemon=True)
		self.port = port
		self.stop = threading.Event()
		self.good = 0
		self.bad = []

	def run(self):
		end = time.monotonic() + 15
		i = 0
		while not self.stop.is_set() and time.monotonic() < end:
			i += 1
			r = T.try_call(self.port, "arith", "adder",
			    {"num1": i, "num2": 1}, timeout=3)
			if isinstance(r, T.Response) and r.status == 200 and \
			    r.json() == {"sum": i + 1}:
				self.good += 1
			else:
				self.bad.append(r)


def main(tap):
	env = T.require_env()
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port = T.free_port()
	cfg = T.make_config(tmp, port, {"arith": {"url": up.url, "endpoints": {
	    "adder": E("/adder")}}})
	sy = T.Daemon(env, tmp, cfg).start()
	master = sy.pid
	pids = sy.workers()

	# --- kill -9 one worker under load
	loop = Loop(port)
	loop.start()
	time.sleep(0.5)
	victim = pids[0]
	os.kill(victim, signal.SIGKILL)
	t0 = time.monotonic()
	ok = T.wait_until(lambda: len(sy.workers()) == 2 and
	    victim not in sy.workers(), 1.0, 0.01)
	tap.ok(ok, "a replacement worker appears within 1 s",
	    "after %.2f s workers are %r (killed %d)" %
	    (time.monotonic() - t0, sy.workers(), victim))
	tap.ok(sy.alive(), "master still running")
	time.sleep(1.0)
	loop.stop.set()
	loop.join(5)
	tap.cmp_ok(len(loop.bad), "<=", 1, "calls keep succeeding: at most the "
	    "one in flight on the killed worker fails",
	    "failures: %r" % loop.bad[:5])
	tap.cmp_ok(loop.good, ">=", 10, "the client loop kept being served")
	rs = [T.try_call(port, "arith", "adder", {"num1": 10, "num2": 20})
	    for _ in range(10)]
	tap.ok(all(isinstance(r, T.Response) and r.status == 200 for r in rs),
	    "10 more calls all answered", repr(rs))

	# --- crash loop: workers cannot open the registry
	reg = cfg["server"]["registryPath"]
	T.break_registry(reg)
	before = set(sy.workers())
	cpu0 = T.cpu_seconds(master)
	for w in before:
		os.kill(w, signal.SIGKILL)
	seen, master_died = T.watch_starts(sy, before, 4.0)
	cpu1 = T.cpu_seconds(master)
	tap.ok(not master_died and sy.alive(),
	    "crash loop: the master stays up")
	tap.cmp_ok(len(seen), "<=", 12, "crash loop: only a handful of "
	    "worker starts in 4 s (back-off)",
	    "new worker pids and when first seen: %r" % sorted(seen.items(),
	    key=lambda kv: kv[1])[:40])
	used = (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None
	tap.cmp_ok(used, "<", 0.5, "crash loop: master used little CPU "
	    "(utime+stime over 4 s)")
	early = len([t for t in seen.values() if t < 2.0])
	late = len(seen) - early
	tap.ok(len(seen) >= 3 and late < early, "crash loop: workers are "
	    "restarted, with growing delays (fewer starts in the second 2 s)",
	    "starts seen at %r s" % sorted(seen.values()))

	# --- fix the cause, HUP: workers come back at once
	os.rmdir(os.path.join(reg, "data.mdb"))
	sy.kill(signal.SIGHUP)
	t0 = time.monotonic()

	def serving():
		w = sy.workers()
		if len(w) != 2:
			return False
		time.sleep(0.3)
		if sy.workers() != w:
			return False
		r = T.try_call(port, "arith", "adder", {"num1": 10, "num2": 20},
		    timeout=2)
		return isinstance(r, T.Response) and r.json() == {"sum": 30}

	ok = T.wait_until(serving, 5.0)
	tap.ok(ok, "after fixing the registry and HUP, two workers serve "
	    "within 5 s", "after %.2f s workers %r" % (time.monotonic() - t0,
	    sy.workers()))
	tap.ok(sy.alive(), "master still running")
	rs = [T.try_call(port, "arith", "adder", {"num1": 10, "num2": 20})
	    for _ in range(6)]
	tap.ok(all(isinstance(r, T.Response) and r.status == 200 for r in rs),
	    "recovered workers answer every call", repr(rs))

	# --- kill -9 the master: workers exit on their own
	workers = sy.workers()
	os.kill(master, signal.SIGKILL)
	sy.wait_exit(2)
	t0 = time.monotonic()
	gone = T.wait_until(lambda: not any(T.alive(w) for w in workers), 2.0,
	    0.02)
	tap.ok(gone, "master killed: workers exit within 2 s",
	    "still alive after %.2f s: %r" % (time.monotonic() - t0,
	    [w for w in workers if T.alive(w)]))
	tap.ok(T.wait_until(lambda: T.refuses(port), 1.0),
	    "master killed: the port then refuses connections")


T.run_main(None, main, watchdog=60)
