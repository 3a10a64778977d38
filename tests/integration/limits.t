#!/usr/bin/python3
# limits.t: limits.clientTimeout is a deadline for the whole request, not
# per read (a client trickling a byte at a time is cut off on time while
# others are served), and limits.maxConnections caps a worker's open
# connections (the next one is closed at once; room comes back).  Run
# with each upstream client (server.upstreamClient "native", then "curl";
# --client NAME runs one).

import os
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T


def trickle(port, first, drips, every, limit):
	"""Send first, then a drip every `every` s; the seconds until the
	server closed the connection, or None if still open after limit."""
	s = socket.create_connection(("127.0.0.1", port), timeout=limit)
	s.settimeout(every)
	t0 = time.monotonic()
	try:
		s.sendall(first.encode())
		for d in drips:
			if time.monotonic() - t0 > limit:
				return None
			try:
				if s.recv(4096) == b"":
					return time.monotonic() - t0
			except socket.timeout:
				pass
			except OSError:
				return time.monotonic() - t0
			try:
				s.sendall(d.encode())
			except OSError:
				return time.monotonic() - t0
		return None
	finally:
		s.close()


def closed_within(s, limit):
	s.settimeout(limit)
	try:
		return s.recv(1) == b""
	except socket.timeout:
		return False
	except OSError:
		return True


def main(tap):
	env = T.require_env()
	T.each_client(tap, lambda tap, client: limits(tap, env, client))


def limits(tap, env, client):
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port = T.free_port()
	cfg = T.adder_config(tmp, port, up, workers=1,
	    limits={"clientTimeout": 2, "maxConnections": 6},
	    server=T.client_server(client))
	sy = T.Daemon(env, tmp, cfg, name="switchyard-" + client).start()
	path = T.api_path("demo", "arith", "adder")
	head = "POST %s HTTP/1.1\r\nHost: x\r\n" % path

	took = trickle(port, head, ["X-Drip-%d: x\r\n" % i for i in range(40)],
	    0.25, 7.0)
	tap.ok(took is not None and 1.8 <= took <= 3.6, "a client trickling "
	    "its headers every 0.25 s is cut off after clientTimeout (2 s)",
	    "after %r s" % took)
	t0 = time.monotonic()
	r = T.call(port, "arith", "adder", {"num1": 1, "num2": 2})
	tap.ok(r.status == 200 and time.monotonic() - t0 < 1,
	    "a normal call is served quickly right after", r.describe())
	took = trickle(port, head + "Content-Type: application/json\r\n"
	    "Content-Length: 60\r\n\r\n", ["{"] + [" "] * 59, 0.25, 7.0)
	tap.ok(took is not None and 1.8 <= took <= 3.6, "a client trickling "
	    "its body is cut off after clientTimeout too", "after %r s" % took)

	# maxConnections 6: the start-up probe's connection is closed by now
	time.sleep(0.5)
	held = [socket.create_connection(("127.0.0.1", port), timeout=5)
	    for i in range(6)]
	time.sleep(0.3)
	extra = socket.create_connection(("127.0.0.1", port), timeout=5)
	t0 = time.monotonic()
	tap.ok(closed_within(extra, 2.5), "over maxConnections a new "
	    "connection is closed at once",
	    "%.2f s" % (time.monotonic() - t0))
	extra.close()
	held[0].sendall(("%sContent-Type: application/json\r\n"
	    "Content-Length: 2\r\n\r\n{}" % head).encode())
	held[0].settimeout(5)
	tap.ok(held[0].recv(4096).startswith(b"HTTP/1.1 "),
	    "the connections within the limit are served")
	for s in held:
		s.close()
	ok = T.wait_until(lambda: isinstance(T.try_call(port, "arith",
	    "adder", {"num1": 1, "num2": 1}), T.Response), 3)
	tap.ok(ok, "once they close, new connections are served again")
	r = T.request(port, "GET", "/nope")
	tap.is_(r.status, 404, "and the worker still answers")
	tap.ok(sy.alive() and len(sy.workers()) == 1, "no worker died")
	tap.is_(sy.finish(), 0, "a graceful stop exits 0")
	up.stop()


T.run_main(None, main, watchdog=100)
