#!/usr/bin/python3
# metrics.t: the admin listener (SPEC section 7): /healthz, /readyz and
# /metrics in the Prometheus text format, checked with Prometheus's own
# Python parser (Debian's python3-prometheus-client); the counters move
# with traffic, summed over both workers, and never go down when a worker
# is replaced.

import http.client
import json
import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E


scrape = T.scrape_metrics


def val(m, name, **labels):
	return m.get((name, frozenset(labels.items())), 0.0)


def main(tap):
	env = T.require_env()
	jwt = T.require_jwt()
	try:
		import prometheus_client.parser  # noqa: F401
	except ImportError as e:
		raise T.Bail("python3-prometheus-client is needed: %s" % e)
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port, aport, closed = T.free_port(), T.free_port(), T.free_port()
	svcs = {"arith": {"url": up.url, "endpoints": {
	    "adder": E("/adder"), "fail": E("/fail"),
	    "slow": E("/slow?ms=2000", timeout=0.3),
	    "auth": E("/adder", rule={"rule": "authenticated"})}},
	    "gone": {"url": "http://127.0.0.1:%d" % closed, "endpoints": {
	    "x": E("/x")}}}
	cfg = T.make_config(tmp, port, svcs, workers=2,
	    server={"admin": {"listen": "127.0.0.1:%d" % aport}})
	sy = T.Daemon(env, tmp, cfg).start()

	r = T.request(aport, "GET", "/healthz")
	tap.is_(r.status, 200, "/healthz answers 200")
	ok = T.wait_until(lambda: T.request(aport, "GET",
	    "/readyz").status == 200, 5)
	r = T.request(aport, "GET", "/readyz")
	tap.ok(ok and json.loads(r.body).get("generation") == 1,
	    "/readyz answers 200 with the registry generation", r.describe())
	tap.is_(T.request(aport, "GET", "/nope").status, 404,
	    "another admin path is 404")

	r0, m0 = scrape(aport)
	tap.ok(r0.status == 200 and "text/plain" in
	    (r0.header("Content-Type") or ""), "/metrics is text/plain and "
	    "parses with the Prometheus parser", r0.describe())
	tok = jwt.encode({"sub": "u", "exp": int(time.time()) - 120},
	    "s3cret", algorithm="HS256")
	for i in range(20):
		T.call(port, "arith", "adder", {"num1": i, "num2": 1})
	for i in range(3):
		T.call(port, "arith", "fail", {})
	for i in range(2):
		T.call(port, "gone", "x", {})
	T.call(port, "arith", "slow", {})
	for i in range(2):
		T.call(port, "arith", "auth", {})
	T.call(port, "arith", "auth", {}, headers={"Authorization":
	    "Bearer " + tok})
	_, m1 = scrape(aport)

	def d(name, **labels):
		return val(m1, name, **labels) - val(m0, name, **labels)

	ep = dict(project="demo", service="arith")
	tap.is_(d("switchyard_requests_total", endpoint="adder", status="200",
	    **ep), 20.0, "requests_total moved by the 20 calls (both workers "
	    "summed)")
	tap.is_(d("switchyard_requests_total", endpoint="fail", status="500",
	    **ep), 3.0, "requests_total counts the upstream's 500s")
	tap.is_(d("switchyard_requests_total", endpoint="auth", status="401",
	    **ep), 3.0, "requests_total counts the 401s")
	tap.is_(d("switchyard_upstream_errors_total", project="demo",
	    service="gone", kind="refused"), 2.0, "upstream errors: refused")
	tap.is_(d("switchyard_upstream_errors_total", kind="timeout", **ep),
	    1.0, "upstream errors: timeout")
	tap.is_(d("switchyard_auth_failures_total", reason="missing"), 2.0,
	    "auth failures: missing token")
	tap.is_(d("switchyard_auth_failures_total", reason="expired"), 1.0,
	    "auth failures: expired token")
	cnt = val(m1, "switchyard_upstream_duration_seconds_count", **ep)
	inf = val(m1, "switchyard_upstream_duration_seconds_bucket", le="+Inf",
	    **ep)
	tap.ok(cnt >= 23 and cnt == inf, "histogram: +Inf bucket equals "
	    "_count, which counts every answered call", cnt, inf)
	les = sorted(((float(dict(k[1])["le"]), v) for k, v in m1.items()
	    if k[0] == "switchyard_upstream_duration_seconds_bucket" and
	    dict(k[1]).get("service") == "arith"), key=lambda x: x[0])
	tap.ok(len(les) > 5 and all(les[i][1] <= les[i + 1][1]
	    for i in range(len(les) - 1)), "histogram buckets are cumulative",
	    les)
	tap.ok(val(m1, "switchyard_upstream_duration_seconds_sum", **ep) > 0,
	    "histogram _sum is positive")
	tap.is_(val(m1, "switchyard_registry_generation"), 1.0,
	    "registry generation 1")
	tap.is_(val(m1, "switchyard_workers"), 2.0, "two workers")

	# a kept-alive client connection is counted while it is open
	c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
	c.request("POST", T.api_path("demo", "arith", "adder"),
	    '{"params":{"num1":1,"num2":1}}')
	c.getresponse().read()
	_, m2 = scrape(aport)
	opened = val(m2, "switchyard_open_connections")
	c.close()
	gone = T.wait_until(lambda: val(scrape(aport)[1],
	    "switchyard_open_connections") < opened, 3)
	tap.ok(opened >= 1 and gone, "open_connections counts a kept-alive "
	    "connection and drops it when the client closes", opened)

	# reloads, good and bad
	cfg2 = T.make_config(tmp, port, dict(svcs, extra={"url": up.url,
	    "endpoints": {"e": E("/adder")}}), workers=2,
	    server={"admin": {"listen": "127.0.0.1:%d" % aport}})
	sy.write_config(cfg2)
	os.kill(sy.proc.pid, signal.SIGHUP)
	T.wait_until(lambda: val(scrape(aport)[1],
	    "switchyard_registry_generation") == 2, 5)
	with open(sy.cfgfile, "w") as f:
		f.write("{ not json")
	os.kill(sy.proc.pid, signal.SIGHUP)
	T.wait_until(lambda: val(scrape(aport)[1], "switchyard_reloads_total",
	    result="failed") >= 1, 5)
	_, m3 = scrape(aport)
	tap.is_(val(m3, "switchyard_registry_generation"), 2.0,
	    "a good reload moves the generation")
	tap.is_((val(m3, "switchyard_reloads_total", result="ok"),
	    val(m3, "switchyard_reloads_total", result="failed")), (1.0, 1.0),
	    "reloads_total by result")

	# a worker replaced: restarts counted, counters never go down
	before = val(m3, "switchyard_requests_total", endpoint="adder",
	    status="200", **ep)
	os.kill(sy.workers()[0], signal.SIGKILL)
	T.wait_until(lambda: len(sy.workers()) == 2 and val(scrape(aport)[1],
	    "switchyard_worker_restarts_total") >= 1, 5)
	_, m4 = scrape(aport)
	tap.is_(val(m4, "switchyard_worker_restarts_total"), 1.0,
	    "worker_restarts_total counts the replaced worker")
	tap.ok(val(m4, "switchyard_requests_total", endpoint="adder",
	    status="200", **ep) >= before, "counters of the killed worker "
	    "are kept", before)
	for i in range(5):
		T.call(port, "arith", "adder", {"num1": i, "num2": 1})
	_, m5 = scrape(aport)
	tap.is_(val(m5, "switchyard_requests_total", endpoint="adder",
	    status="200", **ep) - val(m4, "switchyard_requests_total",
	    endpoint="adder", status="200", **ep), 5.0,
	    "and keep counting after the replacement")
	names = {k[0] for k in m5}
	tap.ok(all(n.startswith("switchyard_") for n in names),
	    "every metric name starts with switchyard_", sorted(names))
	r = T.request(aport, "POST", "/metrics", body="x")
	tap.is_(r.status, 405, "the admin API is read-only (POST: 405)")
	tap.ok(sy.alive(), "master still running")


T.run_main(None, main, watchdog=60)
