#!/usr/bin/python3
# signals.t: QUIT and TERM drain requests in flight, INT stops at once,
# shutdownTimeout forces the stop, USR1 keeps things running (SPEC 1 and 7).

import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E


def start(env, up, shutdown=5):
	tmp = T.tmpdir()
	port = T.free_port()
	cfg = T.make_config(tmp, port, {"arith": {"url": up.url, "endpoints": {
	    "adder": E("/adder"),
	    "slow": E("/slow", method="GET", timeout=10)}}},
	    server={"shutdownTimeout": shutdown})
	return T.Daemon(env, tmp, cfg).start()


def graceful(tap, env, up, sig, name):
	sy = start(env, up)
	workers = sy.workers()
	c = T.Caller(sy.port, "arith", "slow", {"ms": 1500}, timeout=10)
	c.start()
	time.sleep(0.4)
	t0 = time.monotonic()
	sy.kill(sig)
	time.sleep(0.2)
	r = T.try_call(sy.port, "arith", "adder", {"num1": 1, "num2": 2},
	    timeout=1.5)
	tap.ok(isinstance(r, ConnectionRefusedError) or
	    (isinstance(r, T.Response) and r.status == 503),
	    "%s: while draining, a new call is refused or gets 503" % name,
	    "got %r" % r)
	st = sy.wait_exit(7.5)
	took = time.monotonic() - t0
	c.join(5)
	r = c.result
	tap.ok(isinstance(r, T.Response) and r.status == 200 and
	    r.json() == {"slept": 1500},
	    "%s: the call in flight completes 200" % name, repr(r))
	tap.is_(st, 0, "%s: master exits 0" % name)
	tap.ok(st is not None and took <= 7.0,
	    "%s: master exits within shutdownTimeout + 2 s" % name,
	    "took %.2f s" % took)
	tap.ok(not os.path.exists(sy.pidfile), "%s: pidfile removed" % name)
	tap.ok(T.wait_until(lambda: T.refuses(sy.port), 1.0),
	    "%s: the port then refuses connections" % name)
	tap.ok(T.wait_until(lambda: not any(T.alive(w) for w in workers), 2),
	    "%s: workers gone" % name, "workers %r" % workers)


def main(tap):
	env = T.require_env()
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()

	# --- USR1 changes nothing visible but must not hurt
	sy = start(env, up)
	workers = sy.workers()
	sy.kill(signal.SIGUSR1)
	time.sleep(0.3)
	r = T.try_call(sy.port, "arith", "adder", {"num1": 10, "num2": 20})
	tap.ok(sy.alive() and sy.workers() == workers and
	    isinstance(r, T.Response) and r.json() == {"sum": 30},
	    "USR1: master, workers and service unchanged", repr(r))
	sy.stop()

	graceful(tap, env, up, signal.SIGQUIT, "QUIT")
	graceful(tap, env, up, signal.SIGTERM, "TERM")

	# --- INT: immediate, even with a call in flight
	sy = start(env, up)
	workers = sy.workers()
	c = T.Caller(sy.port, "arith", "slow", {"ms": 3000}, timeout=10)
	c.start()
	time.sleep(0.4)
	t0 = time.monotonic()
	sy.kill(signal.SIGINT)
	st = sy.wait_exit(2)
	tap.ok(st is not None, "INT: master exits within 2 s",
	    "took %.2f s" % (time.monotonic() - t0))
	tap.ok(T.wait_until(lambda: not any(T.alive(w) for w in workers), 2),
	    "INT: workers gone within 2 s", "workers %r" % workers)
	c.join(2)
	tap.ok(not c.is_alive() and not (isinstance(c.result, T.Response) and
	    c.result.status == 200),
	    "INT: the call in flight was cut off, not completed",
	    "result %r" % c.result)
	tap.ok(T.wait_until(lambda: T.refuses(sy.port), 1.0),
	    "INT: the port then refuses connections")
	sy.stop()

	# --- shutdownTimeout forces a graceful stop
	sy = start(env, up, shutdown=1)
	workers = sy.workers()
	c = T.Caller(sy.port, "arith", "slow", {"ms": 5000}, timeout=10)
	c.start()
	time.sleep(0.4)
	t0 = time.monotonic()
	sy.kill(signal.SIGQUIT)
	st = sy.wait_exit(3.5)
	took = time.monotonic() - t0
	tap.ok(st is not None and 0.7 <= took <= 3.0,
	    "QUIT with shutdownTimeout 1 and a 5 s call: master stops after "
	    "about 1 s", "took %.2f s, status %r" % (took, st))
	tap.ok(T.wait_until(lambda: not any(T.alive(w) for w in workers), 2),
	    "forced stop: workers gone", "workers %r" % workers)
	sy.stop()


T.run_main(None, main, watchdog=60)
