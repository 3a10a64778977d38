#!/usr/bin/python3
# disconnect.t: a client that leaves while its upstream call is running.
# The upstream transfer is cancelled (its connection to the upstream is
# closed), the call's memory is freed (the suite's sanitizer check runs
# on the logs), nothing crashes, and the worker serves the next call.
# Run with each upstream client (server.upstreamClient "native", then
# "curl"; --client NAME runs one).

import os
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
	    "adder": E("/adder")}}}, workers=1,
	    server=T.client_server(client))
	sy = T.Daemon(env, tmp, cfg, name="switchyard-" + client).start()
	pids = sy.workers()
	base = T.established_conns(uport)

	body = b'{"params":{}}'
	s = socket.create_connection(("127.0.0.1", port), timeout=5)
	s.sendall(b"POST " + T.api_path("demo", "arith", "slow").encode() +
	    b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	    b"Content-Length: %d\r\n\r\n" % len(body) + body)
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
	tap.is_(sy.workers(), pids, "no worker died")
	tap.is_(sy.finish(), 0, "a graceful stop exits 0")
	up.stop()


T.run_main(None, main, watchdog=60)
