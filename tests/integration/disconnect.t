#!/usr/bin/python3
# disconnect.t: a client that leaves while its upstream call is running.
# The upstream transfer is cancelled (its connection to the upstream is
# closed) as soon as the client is gone, the call's memory is freed (the
# suite's sanitizer check runs on the logs), nothing crashes, and the
# worker serves the next call.  A client that half-closes counts as gone;
# a client that pipelines its next request does not.
# Run with each upstream client (server.upstreamClient "native", then
# "curl"; --client NAME runs one).

import os
import re
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E


def main(tap):
	env = T.require_env()
	T.each_client(tap, lambda tap, client: disconnect(tap, env, client))


def disconnect(tap, env, client):
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	uport = int(up.url.rsplit(":", 1)[1])
	port = T.free_port()
	cfg = T.make_config(tmp, port, {"arith": {"url": up.url, "endpoints": {
	    "slow": E("/slow?ms=6000", timeout=10),
	    "slowish": E("/slow?ms=400", timeout=10),
	    "adder": E("/adder")}}}, workers=1,
	    server=T.client_server(client))
	sy = T.Daemon(env, tmp, cfg, name="switchyard-" + client).start()
	pids = sy.workers()
	base = T.established_conns(uport)

	s = socket.create_connection(("127.0.0.1", port), timeout=5)
	s.sendall(post("slow"))
	ok = T.wait_until(lambda: T.established_conns(uport) > base, 3)
	tap.ok(ok, "the slow call reached the upstream",
	    "connections %d -> %d" % (base, T.established_conns(uport)))
	t0 = time.monotonic()
	s.close()
	gone = T.wait_until(lambda: T.established_conns(uport) <= base, 4)
	took = time.monotonic() - t0
	tap.ok(gone and took < 3.5, "the upstream connection is closed soon "
	    "after the client left (the transfer was cancelled, not run to its "
	    "6 s end)", "%.2f s, connections %d" % (took,
	    T.established_conns(uport)))
	tap.ok(T.wait_until(lambda: "the client left" in sy.log(), 2),
	    "the log says the client left and the call was cancelled")
	r = T.call(port, "arith", "adder", {"num1": 2, "num2": 2})
	tap.ok(r.status == 200 and r.json() == {"sum": 4},
	    "the worker serves the next call", r.describe())

	# The client is watched from its request's arrival, not after a
	# delay: one that leaves 0.1 s into a call is noticed at once (an
	# earlier design looked only once the call had run for 1 s).
	s = socket.create_connection(("127.0.0.1", port), timeout=5)
	s.sendall(post("slow"))
	ok = T.wait_until(lambda: T.established_conns(uport) > base, 3)
	time.sleep(0.1)
	t0 = time.monotonic()
	s.close()
	gone = T.wait_until(lambda: T.established_conns(uport) <= base, 4)
	took = time.monotonic() - t0
	tap.ok(ok and gone and took < 0.9, "a client that leaves early in "
	    "the call has it cancelled at once, not after a second",
	    "%.3f s" % took)

	# Half-closed (SHUT_WR after the request): gone, as with nginx.
	s = socket.create_connection(("127.0.0.1", port), timeout=5)
	s.sendall(post("slow"))
	ok = T.wait_until(lambda: T.established_conns(uport) > base, 3)
	t0 = time.monotonic()
	s.shutdown(socket.SHUT_WR)
	gone = T.wait_until(lambda: T.established_conns(uport) <= base, 4)
	took = time.monotonic() - t0
	try:
		rest = s.recv(4096)
	except OSError:
		rest = b""
	s.close()
	tap.ok(ok and gone and took < 3.5 and rest == b"", "a client that "
	    "half-closes during its call has it cancelled and gets no answer",
	    "%.3f s, %r" % (took, rest[:80]))

	# A pipelined request during a call is not a goodbye: both answered,
	# in order, on the one connection.
	s = socket.create_connection(("127.0.0.1", port), timeout=5)
	s.sendall(post("slowish"))
	time.sleep(0.1)
	s.sendall(post("adder", b'{"params":{"num1":3,"num2":4}}'))
	raw = read_answers(s, 2, 5.0)
	s.close()
	statuses = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ",
	    raw)]
	tap.ok(statuses == [200, 200] and raw.endswith(b'{"sum":7}'),
	    "a request pipelined behind a running call is answered after it",
	    repr(raw[-300:]))
	tap.is_(sy.workers(), pids, "no worker died")
	tap.is_(sy.finish(), 0, "a graceful stop exits 0")
	up.stop()


def post(endpoint, body=b'{"params":{}}'):
	return (b"POST " + T.api_path("demo", "arith", endpoint).encode() +
	    b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	    b"Content-Length: %d\r\n\r\n" % len(body) + body)


def read_answers(s, n, timeout):
	"""Read from s until n whole answers (Content-Length framed) came."""
	raw, deadline = b"", time.monotonic() + timeout
	while time.monotonic() < deadline:
		got, rest = 0, raw
		while True:
			head, sep, body = rest.partition(b"\r\n\r\n")
			m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
			if not sep or not m or len(body) < int(m.group(1)):
				break
			got += 1
			rest = body[int(m.group(1)):]
		if got >= n:
			break
		s.settimeout(max(0.05, deadline - time.monotonic()))
		try:
			c = s.recv(65536)
		except OSError:
			break
		if not c:
			break
		raw += c
	return raw


T.run_main(None, main, watchdog=60)
