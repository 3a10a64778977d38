#!/usr/bin/python3
# stress/crashloop.t: workers that die at start.  The registry is made
# unusable (its contents replaced by a directory named data.mdb) and the
# workers are killed: over 10 s the master restarts them with a growing
# back-off (a handful of starts, not a spin), stays up, says in its log
# what happens, and uses little CPU; once the registry is fixed, a HUP
# brings two serving workers back.  The same in --short mode (the suite's
# default) and at full length (SY_STRESS_FULL=1): 10 s either way, the
# back-off is what is measured.

import os
import re
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T

PERIOD = 10.0


def main(tap):
	env = T.require_env()
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port = T.free_port()
	cfg = T.adder_config(tmp, port, up, workers=2)
	sy = T.Daemon(env, tmp, cfg).start()
	master = sy.pid

	reg = cfg["server"]["registryPath"]
	T.break_registry(reg)
	logoff = sy.log_size()
	before = set(sy.workers())
	cpu0 = T.cpu_seconds(master)
	for w in before:
		os.kill(w, signal.SIGKILL)
	seen, died = T.watch_starts(sy, before, PERIOD)
	cpu1 = T.cpu_seconds(master)
	used = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
	log = sy.log_since(logoff)
	starts = sorted(seen.values())
	tap.diag("crash loop over %.0f s: %d worker starts, at %r s" % (PERIOD,
	    len(seen), starts))
	tap.diag("master CPU (utime+stime) over the period: %s s" % (
	    "%.2f" % used if used is not None else "?"))
	delays = re.findall(r"restarting it in ([0-9.]+) s", log)
	tap.diag("back-off delays logged: %s" % ", ".join(delays))
	tap.ok(not died and sy.alive(), "the master stays up through the crash "
	    "loop")
	tap.ok(3 <= len(seen) <= 14, "a handful of worker starts in %.0f s "
	    "(restarted, but backing off)" % PERIOD,
	    "starts at %r s" % starts)
	tap.cmp_ok(used, "<", 0.5, "the master used little CPU over %.0f s" %
	    PERIOD)
	early = len([t for t in starts if t < PERIOD / 2])
	tap.ok(len(starts) - early < early, "the delays grow: fewer starts in "
	    "the second half", "starts at %r s" % starts)
	clear = (re.search(r"killed by signal 9", log) and
	    re.search(r"died before it was ready: restarting it in", log) and
	    re.search(r"registry|data\.mdb|mdb", log, re.I))
	tap.ok(clear, "the log says that workers die before they are ready, "
	    "why (the registry), and when they are restarted",
	    "log during the crash loop:", T._clip(log, 3000))

	# --- fix the cause, HUP: two serving workers within 5 s
	os.rmdir(os.path.join(reg, "data.mdb"))
	sy.kill(signal.SIGHUP)
	t0 = time.monotonic()

	def serving():
		w = sy.workers()
		if len(w) != 2:
			return False
		r = T.try_call(port, "arith", "adder", {"num1": 1, "num2": 2},
		    timeout=2)
		return isinstance(r, T.Response) and r.json() == {"sum": 3}

	ok = T.wait_until(serving, 5.0)
	took = time.monotonic() - t0
	tap.diag("recovered %.2f s after the fix and HUP" % took)
	rs = [T.try_call(port, "arith", "adder", {"num1": 1, "num2": 2},
	    timeout=3) for _ in range(20)]
	tap.ok(ok and all(isinstance(r, T.Response) and r.status == 200
	    for r in rs), "after fixing the registry and HUP, two workers "
	    "serve within 5 s and answer 20 calls",
	    "after %.2f s workers %r; %r" % (took, sy.workers(), [r for r in rs
	    if not (isinstance(r, T.Response) and r.status == 200)][:3]))


T.run_main(None, main, watchdog=60)
