#!/usr/bin/python3
# stress/idle.t: many idle keep-alive client connections, each having sent
# one request: 10,000 with SY_STRESS_FULL=1 or --full (scripts/test
# --stress), 2,000 in the normal suite or with --short.  The workers' RSS
# stays bounded (a few KiB per idle connection), and normal requests on new
# connections are still served with normal latency.  The test raises its
# own RLIMIT_NOFILE (the daemon it starts inherits it) and reports the
# workers' limit.  Run with each upstream client (server.upstreamClient
# "native", then "curl").

import os
import resource
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T

FULL = T.stress_full()
NCONN = 10000 if FULL else 2000
PER_CONN_KIB = 16	# bound on worker memory per idle connection

BODY = b'{"params":{"num1":1,"num2":2}}'
REQ = (b"POST /v1/api/demo/services/arith/adder HTTP/1.1\r\n"
    b"Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n" % len(BODY)) + BODY


def nofile(pid):
	try:
		with open("/proc/%d/limits" % pid) as f:
			for line in f:
				if line.startswith("Max open files"):
					return line.split()[3:5]
	except OSError:
		pass
	return None


def read_response(s, deadline):
	"""Read one response with a Content-Length; its status or None."""
	buf = b""
	while time.monotonic() < deadline:
		head, sep, body = buf.partition(b"\r\n\r\n")
		if sep:
			n = 0
			for line in head.split(b"\r\n")[1:]:
				k, _, v = line.partition(b":")
				if k.strip().lower() == b"content-length":
					n = int(v)
			if len(body) >= n:
				return int(head.split(b" ", 2)[1])
		s.settimeout(max(0.01, deadline - time.monotonic()))
		c = s.recv(65536)
		if not c:
			return None
		buf += c
	return None


def latencies(port, n):
	out = []
	for _ in range(n):
		r = T.try_call(port, "arith", "adder", {"num1": 1, "num2": 2},
		    timeout=5)
		out.append(r.elapsed if isinstance(r, T.Response) and
		    r.status == 200 else None)
	return out


def summary(lat):
	ok = sorted(x for x in lat if x is not None)
	if not ok:
		return "no answers"
	return "%d/%d ok, median %.1f ms, p99 %.1f ms, max %.1f ms" % (len(ok),
	    len(lat), ok[len(ok) // 2] * 1e3, ok[int(len(ok) * 0.99) - 1] * 1e3,
	    ok[-1] * 1e3)


def main(tap):
	env = T.require_env()
	T.measure_memory()
	soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
	want = NCONN + 1024
	if soft < want:
		if hard != resource.RLIM_INFINITY and hard < want:
			raise T.Bail("RLIMIT_NOFILE hard limit %d < %d needed" %
			    (hard, want))
		resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
	tap.diag("test process RLIMIT_NOFILE: %r (was %d)" %
	    (resource.getrlimit(resource.RLIMIT_NOFILE), soft))
	T.each_client(tap, lambda tap, client: idle(tap, env, client))


def idle(tap, env, client):
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port = T.free_port()
	sy = T.Daemon(env, tmp, T.adder_config(tmp, port, up, workers=2,
	    server=T.client_server(client)), name="switchyard-" +
	    client).start()
	workers = sy.workers()
	tap.diag("daemon workers' open-file limit (soft, hard): %s" %
	    ", ".join("%d: %s" % (w, nofile(w)) for w in workers))

	base = latencies(port, 200)		# also warms the workers up
	rss0 = {w: T.rss_kib(w) for w in workers}
	tap.diag("baseline latency: %s" % summary(base))

	socks, bad = [], 0
	t0 = time.monotonic()
	deadline = t0 + 120
	try:
		for i in range(NCONN):
			if time.monotonic() > deadline:
				break
			try:
				s = socket.create_connection((T.LOOPBACK, port),
				    timeout=5)
			except OSError:
				bad += 1
				continue
			socks.append(s)
			try:
				s.sendall(REQ)
				st = read_response(s, time.monotonic() + 5)
			except OSError:
				st = None
			if st != 200:
				bad += 1
		took = time.monotonic() - t0
		tap.diag("%d connections opened, each with one answered request, "
		    "in %.1f s; %d failed" % (len(socks), took, bad))
		tap.ok(len(socks) == NCONN and bad == 0, "%d idle keep-alive "
		    "connections, each with one request answered" % NCONN,
		    "%d open, %d failed" % (len(socks), bad))
		time.sleep(1.0)
		rss1 = {w: T.rss_kib(w) for w in workers}
		during = latencies(port, 200)
		tap.diag("latency with %d idle connections: %s" % (len(socks),
		    summary(during)))
		grow = sum((rss1[w] or 0) - (rss0[w] or 0) for w in workers)
		tap.diag("worker RSS KiB before -> after: %s; total growth %d "
		    "KiB = %.1f KiB per idle connection" % (", ".join(
		    "%d: %s -> %s" % (w, rss0[w], rss1[w]) for w in workers),
		    grow, grow / max(1, len(socks))))
		tap.ok(all(rss1[w] is not None for w in workers) and
		    grow <= PER_CONN_KIB * NCONN, "worker RSS stays bounded "
		    "(at most %d KiB per idle connection)" % PER_CONN_KIB,
		    "growth %d KiB" % grow)
		okd = sorted(x for x in during if x is not None)
		okb = sorted(x for x in base if x is not None)
		p99 = okd[int(len(okd) * 0.99) - 1] if okd else None
		med = okd[len(okd) // 2] if okd else None
		tap.ok(len(okd) == len(during), "every normal call answered 200 "
		    "with the idle connections open", summary(during))
		tap.ok(med is not None and okb and med <= 3 * okb[len(okb) // 2]
		    + 0.005 and p99 <= 0.25, "normal latency: median within 3x "
		    "the baseline (+5 ms), p99 under 250 ms", "baseline: " +
		    summary(base), "with idle connections: " + summary(during))
		# the idle connections are still usable (not dropped silently)
		sample = socks[::max(1, len(socks) // 50)]
		reused = 0
		for s in sample:
			try:
				s.sendall(REQ)
				if read_response(s, time.monotonic() + 5) == 200:
					reused += 1
			except OSError:
				pass
		tap.is_(reused, len(sample), "a sample of the idle connections "
		    "still answers a second request")
	finally:
		for s in socks:
			s.close()
	tap.ok(sy.workers() == workers, "the same workers throughout")
	tap.is_(sy.finish(), 0, "a graceful stop exits 0")
	up.stop()


T.run_main(None, main, watchdog=300 if FULL else 120)
