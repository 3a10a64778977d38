#!/usr/bin/python3
"""switchyard benchmark driver.  Run it through scripts/bench, which
installs the tools, builds switchyard optimized and passes:

    bench.py --bin BUILD/switchyard --tmp DIR --out DIR [--duration N]
             [--rounds N] [--profile] [--requests N]

Everything listens on 127.0.0.1.  Every process this driver starts leads
its own process group; its pid is appended to DIR/pgids so that the shell
wrapper can stop what is left if this driver dies, and cleanup() stops all
of them (TERM to the leader, then KILL to the group) on any exit.
"""

import argparse
import csv
import datetime
import http.client
import json
import os
import platform
import resource
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
POST_LUA = os.path.join(HERE, "post.lua")
BODY = b'{"params":{"num1":10,"num2":20}}'
EXPECT = '{"sum":30}'
# the same call through GraphQL (SPEC 8): one service field, rule authenticated
GQL_BODY = '{"query":"{ adder(num1: 10, num2: 20) @s(func: \\"auth\\") { sum } }"}'
GQL_EXPECT = '{"data":{"adder":{"sum":30}}}'
SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
PROJECT = "bench"
CONNS = 32
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
	pass


def log(msg):
	print("bench: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes

class Proc:
	def __init__(self, name, popen, logpath):
		self.name = name
		self.p = popen
		self.log = logpath

	@property
	def pid(self):
		return self.p.pid

	def alive(self):
		return self.p.poll() is None

	def log_tail(self, n=20):
		try:
			with open(self.log, "rb") as f:
				lines = f.read().decode("utf-8", "replace").splitlines()
		except OSError:
			return ""
		return "\n".join("    " + l for l in lines[-n:])


PROCS = []
PGFILE = None


def spawn(name, argv, logpath, env=None):
	f = open(logpath, "ab")
	try:
		p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f,
		    stderr=subprocess.STDOUT, start_new_session=True, env=env)
	finally:
		f.close()
	pr = Proc(name, p, logpath)
	PROCS.append(pr)
	if PGFILE:
		with open(PGFILE, "a") as g:
			g.write("%d\n" % p.pid)
	return pr


def stop(pr, grace=5.0):
	"""TERM the leader, wait at most grace seconds, then KILL the group
	(which also takes any worker the leader left behind)."""
	if pr.alive():
		try:
			os.kill(pr.pid, signal.SIGTERM)
		except ProcessLookupError:
			pass
		try:
			pr.p.wait(grace)
		except subprocess.TimeoutExpired:
			pass
	try:
		os.killpg(pr.pid, signal.SIGKILL)
	except (ProcessLookupError, PermissionError):
		pass
	try:
		pr.p.wait(5)
	except subprocess.TimeoutExpired:
		log("%s (pid %d) did not exit" % (pr.name, pr.pid))
	if pr in PROCS:
		PROCS.remove(pr)


def cleanup():
	for pr in list(reversed(PROCS)):
		stop(pr, grace=3.0)


def on_signal(signum, frame):
	raise KeyboardInterrupt("signal %d" % signum)


def free_port():
	s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	s.bind(("127.0.0.1", 0))
	port = s.getsockname()[1]
	s.close()
	return port


def children(pid):
	out = []
	for d in os.listdir("/proc"):
		if not d.isdigit():
			continue
		try:
			with open("/proc/%s/stat" % d) as f:
				st = f.read()
		except OSError:
			continue
		fields = st[st.rindex(")") + 2:].split()
		if int(fields[1]) == pid and fields[0] != "Z":
			out.append(int(d))
	return sorted(out)


def cpu_ticks(pid, which=(11, 12)):
	"""utime + stime (fields 14 and 15 of /proc/PID/stat) in clock ticks."""
	with open("/proc/%d/stat" % pid) as f:
		st = f.read()
	fields = st[st.rindex(")") + 2:].split()
	return sum(int(fields[i]) for i in which)


def mem_detail(pid):
	"""VmHWM, VmRSS, RssAnon, RssFile (KiB) from status, Pss from smaps_rollup."""
	d = {}
	with open("/proc/%d/status" % pid) as f:
		for line in f:
			k = line.split(":")[0]
			if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem"):
				d[k] = int(line.split()[1])
	try:
		with open("/proc/%d/smaps_rollup" % pid) as f:
			for line in f:
				k = line.split(":")[0]
				if k in ("Pss", "Private_Clean", "Private_Dirty"):
					d[k] = int(line.split()[1])
	except OSError:
		pass
	d["Uss"] = d.get("Private_Clean", 0) + d.get("Private_Dirty", 0)
	return d


def fmt_mem(d):
	return ("VmHWM %.1f, RSS %.1f = anon %.1f + file %.1f + shmem %.1f, "
	    "PSS %.1f, USS (private) %.1f" % tuple(d.get(k, 0) / 1024 for k in (
	    "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem", "Pss", "Uss")))


def machine_busy_ticks():
	"""Busy ticks of all CPUs (everything but idle and iowait)."""
	with open("/proc/stat") as f:
		v = [int(x) for x in f.readline().split()[1:]]
	return sum(v[:8]) - v[3] - v[4]	# user nice system idle iowait irq softirq steal


def vm_hwm_kib(pid):
	with open("/proc/%d/status" % pid) as f:
		for line in f:
			if line.startswith("VmHWM:"):
				return int(line.split()[1])
	return 0


# ---------------------------------------------------------------- http

def post(port, path, token=None, body=BODY, timeout=5.0, ctx=None):
	"""ctx: an ssl.SSLContext to speak https, or None."""
	if ctx is not None:
		c = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
		    context=ctx)
	else:
		c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
	try:
		h = {"Content-Type": "application/json"}
		if token:
			h["Authorization"] = "Bearer " + token
		c.request("POST", path, body=body, headers=h)
		r = c.getresponse()
		return r.status, r.read().decode("utf-8", "replace")
	finally:
		c.close()


def try_post(*a, **kw):
	try:
		return post(*a, **kw)
	except (OSError, http.client.HTTPException) as e:
		return None, str(e)


def wait_serving(pr, port, path, token=None, timeout=15.0, ctx=None):
	"""Poll until path answers 200 {"sum":30}; fail if pr exits."""
	deadline = time.monotonic() + timeout
	last = None
	while time.monotonic() < deadline:
		if not pr.alive():
			raise BenchError("%s exited with status %s before it served:\n%s"
			    % (pr.name, pr.p.returncode, pr.log_tail()))
		st, body = try_post(port, path, token, timeout=2.0, ctx=ctx)
		if st == 200 and body == EXPECT:
			return
		last = (st, body[:200])
		time.sleep(0.05)
	raise BenchError("%s did not answer 200 %s on %s within %gs (last: %s):\n%s"
	    % (pr.name, EXPECT, path, timeout, last, pr.log_tail()))


# ---------------------------------------------------------------- configs

def write(path, text):
	with open(path, "w") as f:
		f.write(text)


def nginx_conf(d, port, body):
	os.makedirs(d, exist_ok=True)
	temps = "".join("    %s_temp_path %s/%s;\n" % (t, d, t)
	    for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
	return """daemon off;
master_process on;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
%(temps)s    keepalive_requests 1000000;
    keepalive_timeout 120s;
%(body)s
}
""" % {"d": d, "temps": temps, "body": body}


def start_nginx(name, d, port, body, wrap=()):
	conf = os.path.join(d, "nginx.conf")
	write(conf, nginx_conf(d, port, body))
	argv = ["nginx", "-e", os.path.join(d, "error.log"), "-p", d, "-c", conf]
	t = subprocess.run(argv + ["-t", "-q"], stdin=subprocess.DEVNULL,
	    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
	if t.returncode != 0:
		raise BenchError("%s: nginx -t failed:\n%s" % (name, t.stdout.decode()))
	return spawn(name, list(wrap) + argv, os.path.join(d, "out.log"))


def start_upstream(tmp):
	port = free_port()
	body = """    server {
        listen 127.0.0.1:%d;
        location /adder { default_type application/json; return 200 '%s'; }
    }""" % (port, EXPECT)
	pr = start_nginx("upstream (nginx)", os.path.join(tmp, "upstream"), port, body)
	wait_serving(pr, port, "/adder")
	return pr, port


def start_nginx_proxy(tmp, up, tls=None, wrap=(), timeout=15.0):
	"""nginx proxying to the upstream on port up with kept-alive
	connections; tls (make_tls's files): the upstream speaks https, its
	certificate verified against the bench CA, sessions reused."""
	port = free_port()
	ssl_conf = ""
	if tls is not None:
		ssl_conf = """
            proxy_ssl_trusted_certificate %s;
            proxy_ssl_verify on;
            proxy_ssl_verify_depth 2;
            proxy_ssl_name 127.0.0.1;
            proxy_ssl_session_reuse on;""" % tls["ca"]
	body = """    upstream adder {
        server 127.0.0.1:%d;
        keepalive 32;
        keepalive_requests 1000000;
        keepalive_timeout 120s;
    }
    server {
        listen 127.0.0.1:%d;
        location /adder {
            proxy_pass %s://adder;
            proxy_http_version 1.1;
            proxy_set_header Connection "";%s
        }
    }""" % (up, port, "https" if tls else "http", ssl_conf)
	if tls is None:
		pr = start_nginx("nginx proxy", os.path.join(tmp, "nginx"), port, body,
		    wrap)
	else:
		pr = start_nginx("nginx proxy, https upstream", os.path.join(tmp,
		    "nginx-tls"), port, body, wrap)
	wait_serving(pr, port, "/adder", timeout=timeout)
	return pr, port


def openssl(argv):
	t = subprocess.run(["openssl"] + argv, stdin=subprocess.DEVNULL,
	    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
	if t.returncode != 0:
		raise BenchError("openssl %s failed:\n%s" % (argv[0], t.stdout.decode()))


def make_tls(tmp):
	"""A CA and a certificate for IP 127.0.0.1 signed by it (subjectAltName
	IP:127.0.0.1, CN 127.0.0.1 for nginx's name check), RSA 2048, made
	with openssl(1) in tmp/tls: {"ca", "cert", "key"} file names."""
	d = os.path.join(tmp, "tls")
	os.makedirs(d, exist_ok=True)
	f = {k: os.path.join(d, n) for k, n in (("ca", "ca.pem"),
	    ("cakey", "ca.key"), ("cert", "server.pem"), ("key", "server.key"),
	    ("csr", "server.csr"), ("ext", "server.ext"))}
	openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
	    f["cakey"], "-out", f["ca"], "-days", "2", "-subj",
	    "/CN=switchyard bench CA", "-addext",
	    "basicConstraints=critical,CA:TRUE", "-addext",
	    "keyUsage=critical,keyCertSign,cRLSign"])
	write(f["ext"], "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
	    "extendedKeyUsage=serverAuth\n")
	openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", f["key"],
	    "-out", f["csr"], "-subj", "/CN=127.0.0.1"])
	openssl(["x509", "-req", "-in", f["csr"], "-CA", f["ca"], "-CAkey",
	    f["cakey"], "-CAcreateserial", "-out", f["cert"], "-days", "2",
	    "-extfile", f["ext"]])
	return f


def tls_context(tls):
	"""A client context that trusts only the bench CA."""
	return ssl.create_default_context(cafile=tls["ca"])


def start_tls_upstream(tmp, tls):
	"""The upstream of the https rows: nginx as start_upstream's, over TLS
	with the bench certificate."""
	port = free_port()
	body = """    server {
        listen 127.0.0.1:%d ssl;
        ssl_certificate %s;
        ssl_certificate_key %s;
        location /adder { default_type application/json; return 200 '%s'; }
    }""" % (port, tls["cert"], tls["key"], EXPECT)
	pr = start_nginx("upstream (nginx, https)", os.path.join(tmp, "upstream-tls"),
	    port, body)
	wait_serving(pr, port, "/adder", ctx=tls_context(tls))
	return pr, port


def start_haproxy(tmp, up):
	d = os.path.join(tmp, "haproxy")
	os.makedirs(d, exist_ok=True)
	port = free_port()
	conf = os.path.join(d, "haproxy.cfg")
	write(conf, """global
    nbthread 1
    maxconn 4096

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
    http-reuse always

frontend fe
    bind 127.0.0.1:%d
    default_backend be

backend be
    server up 127.0.0.1:%d
""" % (port, up))
	t = subprocess.run(["haproxy", "-c", "-q", "-f", conf], stdin=subprocess.DEVNULL,
	    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
	if t.returncode != 0:
		raise BenchError("haproxy -c failed:\n%s" % t.stdout.decode())
	pr = spawn("haproxy", ["haproxy", "-db", "-f", conf], os.path.join(d, "out.log"))
	wait_serving(pr, port, "/adder")
	return pr, port


def endpoint_names(n):
	"""n endpoints: s/allow, s/auth, then n-2 fillers g<k>/e<j>, 100 a service."""
	yield "s", "allow", "allow"
	yield "s", "auth", "authenticated"
	for i in range(n - 2):
		yield "g%d" % (i // 100), "e%d" % (i % 100), "authenticated"


def sy_config(d, port, workers, up, nendpoints, extra=None, tls=None):
	"""tls: (port, CA file) of the https upstream, for service "t"."""
	services = {}
	for svc, ep, rule in endpoint_names(nendpoints):
		s = services.setdefault(svc, {"url": "http://127.0.0.1:%d" % up,
		    "endpoints": {}})
		s["endpoints"][ep] = {"method": "POST", "path": "/adder",
		    "rule": {"rule": rule}}
	for svc, ep, rule in extra or ():
		services[svc]["endpoints"][ep] = {"method": "POST", "path": "/adder",
		    "rule": {"rule": rule}}
	# service "c": the same two endpoints through libcurl, for the row
	# that measures it against the native client every other row uses
	services["c"] = {"url": "http://127.0.0.1:%d" % up,
	    "upstreamClient": "curl", "endpoints": {
		ep: {"method": "POST", "path": "/adder", "rule": {"rule": rule}}
		for ep, rule in (("allow", "allow"), ("auth", "authenticated"))}}
	if tls is not None:
		# service "t": the https upstream, through libcurl (as every
		# https:// url), trusting the bench CA
		services["t"] = {"url": "https://127.0.0.1:%d" % tls[0],
		    "caFile": tls[1], "endpoints": {"auth": {"method": "POST",
		    "path": "/adder", "rule": {"rule": "authenticated"}}}}
	return {
		"server": {
			"listen": ["127.0.0.1:%d" % port],
			"workers": workers,
			"upstreamClient": "native",
			"nodeId": "bench",
			"registryPath": os.path.join(d, "registry"),
			"pidFile": os.path.join(d, "switchyard.pid"),
			"shutdownTimeout": 2,
			"log": {"error": "stderr", "level": "warn", "access": None},
			"admin": None,
		},
		"projects": {PROJECT: {
			"secrets": [{"alg": "HS256", "secret": SECRET, "isPrimary": True}],
			"remoteServices": services,
		}},
	}


def api(svc, ep):
	return "/v1/api/%s/services/%s/%s" % (PROJECT, svc, ep)


def start_switchyard(name, binary, tmp, tag, up, workers, nendpoints, token,
    wrap=None, timeout=30.0, probe=None, tls=None):
	"""Returns (proc, port, seconds from exec to serving); tls: see
	sy_config."""
	d = os.path.join(tmp, tag)
	os.makedirs(d, exist_ok=True)
	port = free_port()
	conf = os.path.join(d, "switchyard.json")
	with open(conf, "w") as f:
		json.dump(sy_config(d, port, workers, up, nendpoints, tls=tls), f,
		    separators=(",", ":"))
	t = subprocess.run([binary, "-t", "-c", conf], stdin=subprocess.DEVNULL,
	    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
	if t.returncode != 0:
		raise BenchError("%s: %s -t -c %s failed (status %d):\n%s"
		    % (name, binary, conf, t.returncode, t.stdout.decode()[-2000:]))
	t0 = time.monotonic()
	pr = spawn(name, (wrap or []) + [binary, "-f", "-c", conf],
	    os.path.join(d, "out.log"))
	if probe is None:
		wait_serving(pr, port, api("s", "auth"), token, timeout)
		if tls is not None:
			wait_serving(pr, port, api("t", "auth"), token, timeout)
	else:
		probe(pr, port, timeout)
	return pr, port, time.monotonic() - t0, conf, d


def make_token():
	try:
		import jwt
	except ImportError:
		raise BenchError("python3-jwt is missing (apt-get install python3-jwt)")
	now = int(time.time())
	tok = jwt.encode({"sub": "bench", "iat": now, "exp": now + 4 * 3600},
	    SECRET, algorithm="HS256")
	return tok.decode() if isinstance(tok, bytes) else tok


# ---------------------------------------------------------------- wrk

class Target:
	def __init__(self, key, label, proc, port, path, token=None, kind="proxy",
	    workers_of=None, body=None, expect=EXPECT, upstream=None, versus=None):
		self.body = body	# None: post.lua's REST call
		self.upstream = upstream	# its upstream Proc; None: UPSTREAM
		self.versus = versus	# relative table: key compared with, None: all
		self.expect = expect
		self.key = key
		self.label = label
		self.proc = proc
		self.port = port
		self.path = path
		self.token = token
		self.kind = kind
		self.runs = []
		self.problems = []
		self.worker_pids0 = None

	def pids(self):
		"""(all pids whose CPU counts, the pids of the workers)"""
		kids = children(self.proc.pid)
		if not kids:	# haproxy: one process does everything
			return [self.proc.pid], [self.proc.pid]
		return [self.proc.pid] + kids, kids


UPSTREAM = None	# the upstream Proc; its CPU is ours, not foreign load
QUIET_BUDGET = [60.0]	# seconds wait_quiet may still spend in this run


def wait_quiet(limit_pct=25.0, most=5.0):
	"""Before a run, wait (at most `most` seconds, and at most what is
	left of QUIET_BUDGET) until the machine's busy CPU over 0.5 s is
	below limit_pct of one CPU; between runs nothing of ours is busy."""
	t0 = time.monotonic()
	while True:
		b0 = machine_busy_ticks()
		time.sleep(0.5)
		busy = (machine_busy_ticks() - b0) / CLK_TCK / 0.5 * 100
		spent = time.monotonic() - t0
		if busy < limit_pct or spent >= most or spent >= QUIET_BUDGET[0]:
			QUIET_BUDGET[0] = max(0.0, QUIET_BUDGET[0] - spent)
			return busy


def run_wrk(t, tmp, duration, tag):
	if not t.proc.alive():
		raise BenchError("%s is gone (exit status %s):\n%s"
		    % (t.label, t.proc.p.returncode, t.proc.log_tail()))
	env = dict(os.environ)
	env["BENCH_AUTH"] = t.token or ""
	env["BENCH_EXPECT"] = t.expect
	env["BENCH_BODY"] = t.body or ""
	url = "http://127.0.0.1:%d%s" % (t.port, t.path)
	argv = ["wrk", "-t1", "-c%d" % CONNS, "-d%ds" % duration, "--latency",
	    "-s", POST_LUA, url]
	allp, workers = t.pids()
	upp = []
	upstream = t.upstream or UPSTREAM
	if upstream is not None and upstream is not t.proc:
		upp = [upstream.pid] + children(upstream.pid)
	before = sum(cpu_ticks(p) for p in allp)
	sys_before = sum(cpu_ticks(p, (12,)) for p in allp)
	up_before = sum(cpu_ticks(p) for p in upp)
	ru = resource.getrusage(resource.RUSAGE_CHILDREN)
	kids_before = ru.ru_utime + ru.ru_stime
	busy_before = machine_busy_ticks()
	logp = os.path.join(tmp, "wrk-%s.log" % tag)
	pr = spawn("wrk " + t.key, argv, logp, env=env)
	try:
		pr.p.wait(duration + 30)
	except subprocess.TimeoutExpired:
		stop(pr)
		raise BenchError("wrk against %s did not finish in %ds" % (t.label, duration + 30))
	PROCS.remove(pr)
	allp2, workers2 = t.pids()
	if set(allp2) != set(allp):
		t.problems.append("processes changed during the run: %s -> %s "
		    "(a worker died or was restarted)" % (allp, allp2))
	busy_after = machine_busy_ticks()
	ru = resource.getrusage(resource.RUSAGE_CHILDREN)
	wrk_s = ru.ru_utime + ru.ru_stime - kids_before
	try:
		after = sum(cpu_ticks(p) for p in allp)
		sys_after = sum(cpu_ticks(p, (12,)) for p in allp)
		up_after = sum(cpu_ticks(p) for p in upp)
	except OSError:
		after, sys_after, up_after = before, sys_before, up_before
		t.problems.append("a process vanished during the run")
	rss = max(vm_hwm_kib(p) for p in workers2)
	with open(logp) as f:
		out = f.read()
	if pr.p.returncode != 0:
		raise BenchError("wrk against %s failed (status %d):\n%s"
		    % (t.label, pr.p.returncode, out[-2000:]))
	m = re.search(r"^BENCH (.*)$", out, re.M)
	if not m:
		raise BenchError("no BENCH line in wrk's output for %s:\n%s"
		    % (t.label, out[-2000:]))
	r = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
	fb = re.search(r"^BENCH-FIRSTBAD (.*)$", out, re.M)
	r["firstbad"] = fb.group(1) if fb else ""
	r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
	r["cpu_s"] = (after - before) / CLK_TCK
	r["sys_share"] = (sys_after - sys_before) / (after - before) if after > before else 0.0
	r["wrk_cpu_s"] = wrk_s
	r["upstream_cpu_s"] = (up_after - up_before) / CLK_TCK
	# CPU that neither the proxy, the upstream nor wrk used: other load
	r["other_cpu_pct"] = max(0.0, ((busy_after - busy_before) / CLK_TCK - r["cpu_s"]
	    - r["upstream_cpu_s"] - wrk_s) / (r["duration_us"] / 1e6) * 100)
	r["cpu_100k"] = r["cpu_s"] / r["requests"] * 1e5 if r["requests"] else float("nan")
	r["rss_kib"] = rss
	r["wrk_out"] = out
	errs = r["connect"] + r["read"] + r["write"] + r["timeout"]
	if r["requests"] == 0:
		t.problems.append("%s: no requests completed" % tag)
	if errs:
		t.problems.append("%s: socket errors connect %d, read %d, write %d, timeout %d"
		    % (tag, r["connect"], r["read"], r["write"], r["timeout"]))
	if r["non2xx"] or r["badbody"]:
		t.problems.append("%s: %d non-2xx answers, %d 2xx with another body "
		    "than %s (first: %s)" % (tag, r["non2xx"], r["badbody"], t.expect,
		    r["firstbad"]))
	return r


def med(t, k):
	return statistics.median(r[k] for r in t.runs)


H2H_SECS = 2


def head_to_head(args, a, b):
	"""a and b back to back, args.pairs times, H2H_SECS each, the order
	alternating: whatever else the machine does changes over seconds, and
	a pair sees nearly the same of it.  Returns [(run of a, run of b)]."""
	pairs = []
	for i in range(args.pairs):
		wait_quiet()
		res = {}
		for t in ((a, b) if i % 2 == 0 else (b, a)):
			res[t.key] = run_wrk(t, args.tmp, H2H_SECS, "h2h%d-%s" % (i + 1, t.key))
		pairs.append((res[a.key], res[b.key]))
	log("head to head: %s / %s per pair: %s" % (b.label, a.label, " ".join(
	    "%.2f" % (y["rps"] / x["rps"]) for x, y in pairs)))
	return pairs


def h2h_lines(a, b, pairs):
	"""The report's head-to-head section: per-pair ratios of b to a."""
	L = ["## Head to head: %s and %s" % (a.label, b.label), ""]
	L.append("%d pairs of %d-s runs back to back after the rounds, the order "
	    "alternating; each figure is the median of the %d per-pair ratios "
	    "(%s ÷ %s), with their quartiles and range. Consecutive runs share "
	    "most of what else the machine is doing, so these ratios vary less "
	    "than the rounds above." % (len(pairs), H2H_SECS, len(pairs), b.label,
	    a.label))
	L.append("")
	L.append("| measure | median | quartiles | min-max |")
	L.append("|---|---:|---:|---:|")
	for name, k in (("requests/s", "rps"), ("p99", "p99_us"),
	    ("CPU per request", "cpu_100k")):
		v = sorted(y[k] / x[k] for x, y in pairs if x[k] > 0)
		if not v:
			continue
		q = (statistics.quantiles(v, n=4, method="inclusive") if len(v) > 1
		    else [v[0], v[0], v[0]])
		L.append("| %s | %.2f | %.2f-%.2f | %.2f-%.2f |" % (name,
		    statistics.median(v), q[0], q[2], v[0], v[-1]))
	L.append("")
	return L


# ---------------------------------------------------------------- report

def run_dir(args, started, suffix):
	"""bench/results/runs/<date-time><suffix>/, kept out of git."""
	d = os.path.join(args.out, "runs", started.strftime("%Y%m%d-%H%M%S") + suffix)
	os.makedirs(d, exist_ok=True)
	return d


def sh(argv):
	try:
		p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
		    stderr=subprocess.STDOUT, timeout=10)
		return p.stdout.decode("utf-8", "replace").strip()
	except (OSError, subprocess.TimeoutExpired) as e:
		return "? (%s)" % e


def machine(binary):
	model = "?"
	with open("/proc/cpuinfo") as f:
		for line in f:
			if line.startswith("model name"):
				model = line.split(":", 1)[1].strip()
				break
	with open("/proc/meminfo") as f:
		mem = int(f.readline().split()[1]) // 1024
	top = os.path.dirname(os.path.dirname(HERE))
	rev = sh(["git", "-C", top, "rev-parse", "--short", "HEAD"])
	dirty = sh(["git", "-C", top, "status", "--porcelain", "--untracked-files=no", "src"])
	return {
		"nproc": os.cpu_count(),
		"cpu": model,
		"mem": "%d MiB" % mem,
		"kernel": platform.release(),
		"nginx": sh(["nginx", "-v"]).replace("nginx version: ", ""),
		"haproxy": re.sub(r"^HAProxy version (\S+).*", r"haproxy/\1",
		    sh(["haproxy", "-v"]).splitlines()[0]),
		"wrk": re.sub(r"^wrk (\S+).*", r"wrk/\1", sh(["wrk", "-v"]).splitlines()[0]),
		"switchyard": "%s (%s%s, %s)" % (sh([binary, "-V"]), rev,
		    " + local changes in src/" if dirty else "", binary),
	}


def fmt_ratio(a, b):
	return "%.2f" % (a / b) if b else "-"


def report(args, targets, scale, info, started, ok, failures, h2h=()):
	D = args.duration
	by = {t.key: t for t in targets}
	ng, hp = by["nginx"], by["haproxy"]
	rows = []
	for t in targets:
		rows.append({
			"target": t.label, "path": t.path,
			"rps": med(t, "rps"), "p50": med(t, "p50_us") / 1000,
			"p99": med(t, "p99_us") / 1000, "cpu": med(t, "cpu_100k"),
			"rss": max(r["rss_kib"] for r in t.runs) / 1024,
			"t": t,
		})
	L = []
	L.append("# switchyard benchmark%s" % ("" if ok else " (FAILED, see below)"))
	L.append("")
	L.append("- command: `%s`" % os.environ.get("BENCH_CMDLINE", "scripts/bench"))
	L.append("- date: %s (%.0f s)" % (started.strftime("%Y-%m-%d %H:%M:%S %z"),
	    time.time() - started.timestamp()))
	L.append("- machine: %d CPUs (nproc), %s, %s RAM, Linux %s"
	    % (info["nproc"], info["cpu"], info["mem"], info["kernel"]))
	L.append("- versions: %s, %s, %s, %s" % (info["nginx"], info["haproxy"],
	    info["wrk"], info["switchyard"]))
	L.append("- load: `wrk -t1 -c%d -d%ds --latency -s bench/lib/post.lua` POST "
	    "`{\"params\":{\"num1\":10,\"num2\":20}}`, %d round%s interleaved "
	    "(each round runs every target once), medians over rounds; "
	    "every answer checked to be 2xx `%s`"
	    % (CONNS, D, args.rounds, "" if args.rounds == 1 else "s", EXPECT))
	L.append("- upstream: nginx, 1 worker, `return 200 '%s'`; every proxy "
	    "keeps upstream connections alive" % EXPECT)
	L.append("- switchyard calls the upstream with its native HTTP/1.1 client "
	    "(`server.upstreamClient` \"native\") in every row but the one "
	    "marked libcurl, whose service sets `\"upstreamClient\": \"curl\"`")
	L.append("- https rows: a second upstream nginx, the same `return 200` "
	    "over TLS (`listen ssl`, RSA 2048 certificate for 127.0.0.1 signed by "
	    "a CA the benchmark makes with openssl); nginx proxies to it with "
	    "`proxy_pass https://`, `keepalive 32`, `proxy_ssl_verify on` "
	    "against that CA and `proxy_ssl_session_reuse on`; switchyard's "
	    "service has `\"caFile\"`, the CA, and calls it through libcurl; "
	    "both keep their TLS connections alive and verify the certificate")
	L.append("- nothing is pinned: on %d CPUs wrk, the proxy and the upstream "
	    "compete for the same cores, so these numbers compare the proxies "
	    "with one another on this machine, not their absolute capacity"
	    % info["nproc"])
	worst = max(r["other_cpu_pct"] for t in targets for r in t.runs)
	L.append("- other load on the machine during the runs (CPU time used by "
	    "anything but wrk, the upstream and the proxy measured): at most "
	    "%.0f%% of one CPU%s (before each run the benchmark waits up to 5 s, "
	    "60 s in all, for the machine to be quiet)" % (worst, "" if worst < 15 else
	    " -- **the machine was not idle; treat these numbers with care**"))
	wl = [r["wrk_cpu_s"] / (r["duration_us"] / 1e6) * 100 for t in targets for r in t.runs]
	L.append("- wrk itself used %.0f-%.0f%% of one CPU, the upstream nginx up to "
	    "%.0f%%" % (min(wl), max(wl), max(r["upstream_cpu_s"] / (r["duration_us"] / 1e6)
	    * 100 for t in targets for r in t.runs)))
	L.append("- CPU = user+system seconds of the proxy's own processes "
	    "(master and workers) per 100,000 requests; RSS = peak (VmHWM) of "
	    "the largest worker")
	L.append("")
	L.append("| target | path | requests/s | p50 ms | p99 ms | CPU s / 100k req | "
	    "of which system | peak RSS / worker MiB |")
	L.append("|---|---|---:|---:|---:|---:|---:|---:|")
	for r in rows:
		L.append("| %s | `%s` | %.0f | %.3f | %.3f | %.2f | %.0f%% | %.1f |" % (
		    r["target"], r["path"], r["rps"], r["p50"], r["p99"], r["cpu"],
		    100 * med(r["t"], "sys_share"), r["rss"]))
	L.append("")
	L.append("switchyard relative to nginx and HAProxy (requests/s: higher is "
	    "better; p99, CPU, RSS: lower is better):")
	L.append("")
	L.append("| target | req/s ÷ nginx | req/s ÷ HAProxy | p99 ÷ nginx | p99 ÷ HAProxy "
	    "| CPU ÷ nginx | CPU ÷ HAProxy | RSS ÷ nginx | RSS ÷ HAProxy |")
	L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	keys = [t.key for t in targets]
	rn = rows[keys.index("nginx")]
	rh = rows[keys.index("haproxy")]
	versus = []
	for r in rows:
		if r["t"].kind != "switchyard":
			continue
		if r["t"].versus is not None:
			versus.append(r)
			continue
		L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (r["target"],
		    fmt_ratio(r["rps"], rn["rps"]), fmt_ratio(r["rps"], rh["rps"]),
		    fmt_ratio(r["p99"], rn["p99"]), fmt_ratio(r["p99"], rh["p99"]),
		    fmt_ratio(r["cpu"], rn["cpu"]), fmt_ratio(r["cpu"], rh["cpu"]),
		    fmt_ratio(r["rss"], rn["rss"]), fmt_ratio(r["rss"], rh["rss"])))
	for r in versus:
		# the https row against nginx's https row, not the plain one
		v = rows[keys.index(r["t"].versus)]
		L.append("| %s ÷ **%s** | %s | - | %s | - | %s | - | %s | - |" % (
		    r["target"], v["target"], fmt_ratio(r["rps"], v["rps"]),
		    fmt_ratio(r["p99"], v["p99"]), fmt_ratio(r["cpu"], v["cpu"]),
		    fmt_ratio(r["rss"], v["rss"])))
	L.append("")
	if versus:
		L.append("The https row is compared with nginx proxying to the same "
		    "https upstream (its \"÷ nginx\" columns), not with the plain "
		    "nginx row; HAProxy has no https row.")
		L.append("")
	if args.rounds > 1:
		L.append("Requests/s per round (spread of the medians above):")
		L.append("")
		L.append("| target | " + " | ".join("round %d" % (i + 1)
		    for i in range(args.rounds)) + " |")
		L.append("|---|" + "---:|" * args.rounds)
		for t in targets:
			L.append("| %s | %s |" % (t.label, " | ".join("%.0f" % r["rps"]
			    for r in t.runs)))
		L.append("")
	L.extend(h2h)
	if scale:
		a, b = by["sy-auth"], by["sy-auth-100k"]
		ra, rb = med(a, "rps"), med(b, "rps")
		L.append("## Registry scale (authenticated, 1 worker)")
		L.append("")
		L.append("| measurement | value |")
		L.append("|---|---:|")
		L.append("| requests/s, 10 endpoints registered | %.0f |" % ra)
		L.append("| requests/s, %d endpoints registered | %.0f |" % (scale["n_big"], rb))
		L.append("| ratio 100k / 10 | %.3f |" % (rb / ra if ra else float("nan")))
		L.append("| p99 ms, 10 / %d endpoints | %.3f / %.3f |" % (scale["n_big"],
		    med(a, "p99_us") / 1000, med(b, "p99_us") / 1000))
		L.append("| start-up with %d endpoints until it serves, s | %.2f |"
		    % (scale["n_big"], scale["startup_big"]))
		L.append("| start-up with 10 endpoints until it serves, s | %.2f |"
		    % scale["startup_small"])
		L.append("| config file with %d endpoints, MiB | %.1f |"
		    % (scale["n_big"], scale["conf_big_bytes"] / 2**20))
		L.append("| SIGHUP reload of the %d-endpoint registry (one endpoint added) "
		    "until a worker serves it, s | %s |" % (scale["n_big"],
		    "%.3f" % scale["reload_s"] if scale.get("reload_s") is not None
		    else "FAILED"))
		L.append("| peak RSS per worker, %d endpoints, after the benchmark, MiB | %.1f |"
		    % (scale["n_big"], max(r["rss_kib"] for r in b.runs) / 1024))
		if "rss10k_after" in scale:
			L.append("| peak RSS per worker, %d endpoints, after start-up, MiB | %.1f |"
			    % (scale["n_mid"], scale["rss10k_before"] / 1024))
			L.append("| peak RSS per worker, %d endpoints, after calling %d of them, MiB | %.1f |"
			    % (scale["n_mid"], scale["n_called"], scale["rss10k_after"] / 1024))
			L.append("| peak RSS per worker, 10 endpoints, after the benchmark, MiB | %.1f |"
			    % (max(r["rss_kib"] for r in a.runs) / 1024))
		L.append("")
		L.append("Memory in MiB from /proc/PID/status and smaps_rollup (a worker's "
		    "RSS counts the pages it shares with the master after fork and the "
		    "LMDB pages it has read; PSS splits shared pages between the "
		    "processes that map them; USS is what only this process holds):")
		L.append("")
		for k, what in (("mem_small", "10 endpoints, after the benchmark"),
		    ("mem_mid", "%d endpoints, after calling %d" % (scale["n_mid"], scale["n_called"])),
		    ("mem_big", "%d endpoints, after the benchmark" % scale["n_big"])):
			if k + "_worker" in scale:
				L.append("- %s: worker %s; master %s" % (what, scale[k + "_worker"],
				    scale[k + "_master"]))
		L.append("")
		L.append("Reload: the %d-endpoint config gets one more endpoint "
		    "(`s/fresh`), the master gets SIGHUP, and `%s` is polled every "
		    "10 ms (a new connection each time) until it answers 200."
		    % (scale["n_big"], api("s", "fresh")))
		L.append("")
	L.extend(join_report(scale))
	if failures:
		L.append("## Problems")
		L.append("")
		for f in failures:
			L.append("- " + f.replace("\n", " "))
		L.append("")
	L.append("Files: `latest.md` (this), `latest.csv` (every run and the "
	    "medians), `latest.svg` (requests/s and p99 per target).")
	md = "\n".join(L) + "\n"

	os.makedirs(args.out, exist_ok=True)
	write(os.path.join(args.out, "latest.md"), md)
	with open(os.path.join(args.out, "latest.csv"), "w", newline="") as f:
		w = csv.writer(f)
		w.writerow(["target", "path", "round", "requests_per_s", "p50_ms", "p90_ms",
		    "p99_ms", "max_ms", "requests", "cpu_s", "cpu_s_per_100k",
		    "peak_rss_worker_kib", "non2xx", "badbody", "socket_errors",
		    "wrk_cpu_s", "upstream_cpu_s", "other_load_pct_of_cpu", "cpu_system_share"])
		for t in targets:
			for i, r in enumerate(t.runs):
				w.writerow([t.key, t.path, i + 1, "%.1f" % r["rps"],
				    "%.3f" % (r["p50_us"] / 1000), "%.3f" % (r["p90_us"] / 1000),
				    "%.3f" % (r["p99_us"] / 1000), "%.3f" % (r["max_us"] / 1000),
				    r["requests"], "%.2f" % r["cpu_s"], "%.3f" % r["cpu_100k"],
				    r["rss_kib"], r["non2xx"], r["badbody"],
				    r["connect"] + r["read"] + r["write"] + r["timeout"],
				    "%.2f" % r["wrk_cpu_s"], "%.2f" % r["upstream_cpu_s"],
				    "%.0f" % r["other_cpu_pct"], "%.2f" % r["sys_share"]])
		for r in rows:
			t = r["t"]
			w.writerow([t.key, t.path, "median", "%.1f" % r["rps"],
			    "%.3f" % r["p50"], "%.3f" % (med(t, "p90_us") / 1000),
			    "%.3f" % r["p99"], "%.3f" % (med(t, "max_us") / 1000),
			    int(med(t, "requests")), "%.2f" % med(t, "cpu_s"),
			    "%.3f" % r["cpu"], max(x["rss_kib"] for x in t.runs),
			    sum(x["non2xx"] for x in t.runs), sum(x["badbody"] for x in t.runs),
			    sum(x["connect"] + x["read"] + x["write"] + x["timeout"] for x in t.runs),
			    "%.2f" % med(t, "wrk_cpu_s"), "%.2f" % med(t, "upstream_cpu_s"),
			    "%.0f" % med(t, "other_cpu_pct"), "%.2f" % med(t, "sys_share")])
		if scale:
			for k in sorted(scale):
				v = scale[k]
				w.writerow(["scale", k, "", "%.4f" % v if isinstance(v, float) else v])
	plot(args, rows, info)
	return md


def plot(args, rows, info):
	dat = os.path.join(args.tmp, "plot.dat")
	with open(dat, "w") as f:
		for i, r in enumerate(rows):
			f.write('%d "%s" %.1f %.3f\n' % (i, r["t"].key, r["rps"], r["p99"]))
	svg = os.path.join(args.out, "latest.svg")
	gp = os.path.join(args.tmp, "plot.gp")
	write(gp, """set terminal svg size 900,720 dynamic font "sans,11"
set output '%(svg)s'
set style fill solid 0.7 border -1
set boxwidth 0.6
set grid ytics
set xtics scale 0 font "sans,10"
set xrange [-0.6:%(xmax).1f]
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set multiplot layout 2,1 title "switchyard vs nginx vs HAProxy: wrk -t1 -c%(c)d -d%(d)ds, median of %(r)d round(s), %(n)d CPUs, %(cpu)s"
set title "requests/s (higher is better)"
unset key
plot '%(dat)s' using 1:3:xtic(2) with boxes lc rgb "#4878a8", \\
     '' using 1:3:(sprintf("%%.0f", $3)) with labels offset 0,0.7 font "sans,9"
set title "p99 latency, ms (lower is better)"
plot '%(dat)s' using 1:4:xtic(2) with boxes lc rgb "#c8643c", \\
     '' using 1:4:(sprintf("%%.2f", $4)) with labels offset 0,0.7 font "sans,9"
unset multiplot
""" % {"svg": svg, "dat": dat, "c": CONNS, "d": args.duration, "r": args.rounds,
	    "n": info["nproc"], "cpu": info["cpu"].replace('"', "'"),
	    "xmax": len(rows) - 0.4})
	p = subprocess.run(["gnuplot", gp], stdin=subprocess.DEVNULL,
	    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
	if p.returncode != 0:
		raise BenchError("gnuplot failed:\n%s" % p.stdout.decode())


# ---------------------------------------------------------------- registry scale

def reload_test(pr, port, conf, d, token, n_big, timeout=180.0):
	"""Add s/fresh to the big config, HUP, poll every 10 ms until 200."""
	path = api("s", "fresh")
	st, body = try_post(port, path, token)
	if st != 404:
		raise BenchError("before the reload %s answered %s %s, not 404"
		    % (path, st, body[:200]))
	with open(conf) as f:
		cfg = json.load(f)
	cfg["projects"][PROJECT]["remoteServices"]["s"]["endpoints"]["fresh"] = {
		"method": "POST", "path": "/adder", "rule": {"rule": "authenticated"}}
	tmpc = conf + ".new"
	with open(tmpc, "w") as f:
		json.dump(cfg, f, separators=(",", ":"))
	os.rename(tmpc, conf)
	t0 = time.monotonic()
	os.kill(pr.pid, signal.SIGHUP)
	last = None
	polls = 0
	while time.monotonic() - t0 < timeout:
		if not pr.alive():
			raise BenchError("switchyard (%d endpoints) exited during the reload:\n%s"
			    % (n_big, pr.log_tail()))
		st, body = try_post(port, path, token, timeout=5.0)
		polls += 1
		if st == 200:
			if body != EXPECT:
				raise BenchError("after the reload %s answered 200 %r" % (path, body[:200]))
			el = time.monotonic() - t0
			# the old endpoints must still be there
			st2, b2 = try_post(port, api("g%d" % ((n_big - 3) // 100),
			    "e%d" % ((n_big - 3) % 100)), token)
			if st2 != 200:
				raise BenchError("after the reload the last filler endpoint "
				    "answered %s %s" % (st2, b2[:200]))
			return el, polls
		if st not in (404, None):
			last = (st, body[:200])
		time.sleep(0.01)
	raise BenchError("the reload of %d endpoints was not served within %gs "
	    "(last odd answer: %s):\n%s" % (n_big, timeout, last, pr.log_tail()))


def rss_after_calls(args, up, token, n_mid, n_called):
	pr, port, _, _, _ = start_switchyard("switchyard 10k", args.bin, args.tmp,
	    "sy-10k", up, 1, n_mid, token, timeout=120)
	try:
		workers = children(pr.pid)
		if len(workers) != 1:
			raise BenchError("switchyard 10k: expected 1 worker, found %s" % workers)
		before = mem_detail(workers[0])
		step = (n_mid - 2) // n_called
		c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
		try:
			for k in range(n_called):
				i = k * step
				path = api("g%d" % (i // 100), "e%d" % (i % 100))
				c.request("POST", path, body=BODY, headers={
				    "Content-Type": "application/json",
				    "Authorization": "Bearer " + token})
				r = c.getresponse()
				b = r.read().decode("utf-8", "replace")
				if r.status != 200 or b != EXPECT:
					raise BenchError("switchyard 10k: %s answered %d %s"
					    % (path, r.status, b[:200]))
		finally:
			c.close()
		if children(pr.pid) != workers:
			raise BenchError("switchyard 10k: the worker changed while calling it")
		return before, mem_detail(workers[0]), mem_detail(pr.pid)
	finally:
		stop(pr)


# ---------------------------------------------------------------- main run

def bench(args):
	started = datetime.datetime.now().astimezone()
	info = machine(args.bin)
	token = make_token()
	n_big, n_mid, n_called = 100000, 10000, 100
	scale = {"n_big": n_big, "n_mid": n_mid, "n_called": n_called}

	log("starting the upstream, nginx, HAProxy and switchyard on 127.0.0.1")
	upp, up = start_upstream(args.tmp)
	global UPSTREAM
	UPSTREAM = upp
	ngp, ngport = start_nginx_proxy(args.tmp, up)
	hpp, hpport = start_haproxy(args.tmp, up)
	log("making a CA and a certificate for 127.0.0.1 (openssl); the https "
	    "upstream and nginx proxying to it")
	tls = make_tls(args.tmp)
	tup, tupport = start_tls_upstream(args.tmp, tls)
	ngtp, ngtport = start_nginx_proxy(args.tmp, tupport, tls)
	sy1, sy1port, scale["startup_small"], _, _ = start_switchyard(
	    "switchyard 1 worker", args.bin, args.tmp, "sy1", up, 1, 10, token,
	    tls=(tupport, tls["ca"]))
	sy2, sy2port, _, _, _ = start_switchyard("switchyard 2 workers", args.bin,
	    args.tmp, "sy2", up, 2, 10, token)
	log("starting switchyard with %d endpoints" % n_big)
	syb, sybport, scale["startup_big"], bigconf, bigdir = start_switchyard(
	    "switchyard 100k", args.bin, args.tmp, "sy-100k", up, 1, n_big, token,
	    timeout=300)
	scale["conf_big_bytes"] = os.path.getsize(bigconf)
	# the endpoint benchmarked in the 100k registry is one of the fillers
	mid = n_big // 2
	bigpath = api("g%d" % (mid // 100), "e%d" % (mid % 100))
	wait_serving(syb, sybport, bigpath, token, 30)

	targets = [
		Target("direct", "upstream direct (no proxy)", upp, up, "/adder", kind="direct"),
		Target("nginx", "nginx proxy", ngp, ngport, "/adder"),
		Target("haproxy", "HAProxy", hpp, hpport, "/adder"),
		Target("sy-allow", "switchyard 1w allow", sy1, sy1port, api("s", "allow"),
		    kind="switchyard"),
		Target("sy-auth", "switchyard 1w auth", sy1, sy1port, api("s", "auth"),
		    token, kind="switchyard"),
		Target("sy-auth-curl", "switchyard 1w auth, libcurl upstream client",
		    sy1, sy1port, api("c", "auth"), token, kind="switchyard"),
		Target("sy2-auth", "switchyard 2w auth", sy2, sy2port, api("s", "auth"),
		    token, kind="switchyard"),
		Target("sy-gql", "switchyard 1w auth, GraphQL", sy1, sy1port,
		    "/v1/api/%s/graphql" % PROJECT, token, kind="switchyard",
		    body=GQL_BODY, expect=GQL_EXPECT),
		Target("sy-auth-100k", "switchyard 1w auth, 100k endpoints", syb, sybport,
		    bigpath, token, kind="switchyard"),
		Target("nginx-https", "nginx proxy, https upstream", ngtp, ngtport,
		    "/adder", upstream=tup),
		Target("sy-auth-https", "switchyard 1w auth, https upstream (libcurl)",
		    sy1, sy1port, api("t", "auth"), token, kind="switchyard",
		    upstream=tup, versus="nginx-https"),
	]
	for t in targets:
		if t.kind == "switchyard":
			n = len(children(t.proc.pid))
			want = 2 if t.key.startswith("sy2") else 1
			if n != want:
				raise BenchError("%s: %d worker processes, expected %d"
				    % (t.label, n, want))

	log("warm-up: 1 s per target")
	for t in targets:
		r = run_wrk(t, args.tmp, 1, "warmup-" + t.key)
		if t.problems:
			raise BenchError("%s failed during the warm-up: %s"
			    % (t.label, "; ".join(t.problems)))
	for rnd in range(args.rounds):
		for t in targets:
			wait_quiet()
			log("round %d/%d: %s (%d s)" % (rnd + 1, args.rounds, t.label, args.duration))
			r = run_wrk(t, args.tmp, args.duration, "r%d-%s" % (rnd + 1, t.key))
			t.runs.append(r)
			log("    %.0f req/s, p50 %.3f ms, p99 %.3f ms, CPU %.2f s/100k, "
			    "other load %.0f%% of a CPU%s" % (r["rps"], r["p50_us"] / 1000,
			    r["p99_us"] / 1000, r["cpu_100k"], r["other_cpu_pct"],
			    "" if not t.problems else "  PROBLEM"))

	by_key = {t.key: t for t in targets}
	h2h = (by_key["nginx"], by_key["sy-auth"])
	log("head to head: %s and %s, %d pairs of %d s" % (h2h[0].label,
	    h2h[1].label, args.pairs, H2H_SECS))
	h2h_pairs = head_to_head(args, h2h[0], h2h[1]) if args.pairs else []

	failures = []
	bw = children(syb.pid)
	scale["mem_big_worker"] = fmt_mem(mem_detail(bw[0])) if bw else "?"
	scale["mem_big_master"] = fmt_mem(mem_detail(syb.pid))
	sw = children(sy1.pid)
	scale["mem_small_worker"] = fmt_mem(mem_detail(sw[0])) if sw else "?"
	scale["mem_small_master"] = fmt_mem(mem_detail(sy1.pid))
	log("reload: adding one endpoint to the %d-endpoint config, SIGHUP" % n_big)
	try:
		scale["reload_s"], scale["reload_polls"] = reload_test(syb, sybport,
		    bigconf, bigdir, token, n_big)
		log("    served after %.3f s" % scale["reload_s"])
	except BenchError as e:
		scale["reload_s"] = None
		failures.append("reload: %s" % e)
	stop(syb)
	stop(sy2)
	log("peak RSS with %d endpoints after calling %d of them" % (n_mid, n_called))
	m0, m1, mm = rss_after_calls(args, up, token, n_mid, n_called)
	scale["rss10k_before"], scale["rss10k_after"] = m0["VmHWM"], m1["VmHWM"]
	scale["mem_mid_worker"], scale["mem_mid_master"] = fmt_mem(m1), fmt_mem(mm)

	log("GraphQL join: %d database rows joined to a child table and a "
	    "service, against one REST call per row (%d s each)"
	    % (JOIN_ROWS, args.duration))
	try:
		scale.update(join_bench(args, up, args.duration))
		log("    %.0f rows/s vs %.0f rows/s naive" % (scale["join_gql_rows_s"],
		    scale["join_naive_rows_s"]))
	except BenchError as e:
		failures.append("GraphQL join: %s" % e)

	for t in targets:
		for p in t.problems:
			failures.append("%s: %s" % (t.label, p))
	md = report(args, targets, scale, info, started, not failures, failures,
	    h2h_lines(h2h[0], h2h[1], h2h_pairs) if h2h_pairs else [])
	keep = run_dir(args, started, "")
	for f in ("latest.md", "latest.csv", "latest.svg"):
		shutil.copyfile(os.path.join(args.out, f), os.path.join(keep, f))
	print(md, end="", flush=True)
	print("wrote %s/latest.md, latest.csv, latest.svg (copies in %s)"
	    % (os.path.relpath(args.out, TOP), os.path.relpath(keep, TOP)), flush=True)
	if failures:
		raise BenchError("%d problem(s):\n  %s" % (len(failures), "\n  ".join(failures)))


# ---------------------------------------------------------------- GraphQL join

JOIN_ROWS, JOIN_KIDS, JOIN_DISTINCT = 100, 3, 10
JOIN_DOC = ("{ x: parent(sort: [\"id\"], limit: %d) @jdb { id k kids: "
    "child(where: {parent_id: \"x.id\"}, sort: [\"id\"]) @jdb { v } sum: "
    "allow(num1: \"x.k\", num2: 1) @s { sum } } }" % JOIN_ROWS)


def join_db(path):
	"""parent: JOIN_ROWS rows, k = id % JOIN_DISTINCT; child: JOIN_KIDS
	rows per parent."""
	import sqlite3
	db = sqlite3.connect(path)
	db.executescript("CREATE TABLE parent (id integer PRIMARY KEY, k integer);"
	    "CREATE TABLE child (id integer PRIMARY KEY, parent_id integer, "
	    "v integer);")
	db.executemany("INSERT INTO parent VALUES (?, ?)", [(i, i % JOIN_DISTINCT)
	    for i in range(1, JOIN_ROWS + 1)])
	db.executemany("INSERT INTO child VALUES (?, ?, ?)", [(i * 10 + j, i, j)
	    for i in range(1, JOIN_ROWS + 1) for j in range(JOIN_KIDS)])
	db.commit()
	db.close()


def join_check(body):
	"""None when a GraphQL answer holds every parent row joined, else why."""
	try:
		d = json.loads(body)
		x = d["data"]["x"]
	except (ValueError, KeyError, TypeError):
		return "not a GraphQL answer: %s" % body[:200]
	if d.get("errors"):
		return "errors: %s" % json.dumps(d["errors"])[:300]
	if len(x) != JOIN_ROWS or any(len(r["kids"]) != JOIN_KIDS or
	    r["sum"] != json.loads(EXPECT) for r in x):
		return "rows missing or not joined: %s" % body[:200]
	return None


def join_loop(port, duration, one):
	"""Run one(conn) back to back on one keep-alive connection for
	duration seconds; the latency of each, in seconds."""
	c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
	lat = []
	end = time.monotonic() + duration
	try:
		while time.monotonic() < end:
			t0 = time.monotonic()
			one(c)
			lat.append(time.monotonic() - t0)
	finally:
		c.close()
	return lat


def join_bench(args, up, duration):
	"""JOIN_ROWS parent rows from SQLite, each joined to a child table and
	to the remote service (JOIN_DISTINCT distinct params), in one GraphQL
	request; against a naive client making one REST call per row.  One
	sequential client each; returns the scale entries join_*."""
	d = os.path.join(args.tmp, "join")
	os.makedirs(d, exist_ok=True)
	join_db(os.path.join(d, "join.sqlite3"))
	port = free_port()
	cfg = sy_config(d, port, 1, up, 2)
	cfg["projects"][PROJECT]["databases"] = {"jdb": {"conn": "join.sqlite3",
	    "tables": {"parent": {"rules": {"read": {"rule": "allow"}}},
	    "child": {"rules": {"read": {"rule": "allow"}}}}}}
	conf = os.path.join(d, "switchyard.json")
	with open(conf, "w") as f:
		json.dump(cfg, f)
	pr = spawn("switchyard join", [args.bin, "-f", "-c", conf],
	    os.path.join(d, "out.log"))
	try:
		wait_serving(pr, port, api("s", "allow"), None, 30)
		gql = json.dumps({"query": JOIN_DOC}).encode()
		hdr = {"Content-Type": "application/json"}
		bad = []

		def graphql(c):
			c.request("POST", "/v1/api/%s/graphql" % PROJECT, body=gql,
			    headers=hdr)
			r = c.getresponse()
			why = join_check(r.read().decode("utf-8", "replace"))
			if r.status != 200 or why:
				bad.append("GraphQL join: status %d %s" % (r.status, why))

		bodies = [json.dumps({"params": {"num1": i % JOIN_DISTINCT,
		    "num2": 1}}).encode() for i in range(1, JOIN_ROWS + 1)]

		def naive(c):
			for b in bodies:
				c.request("POST", api("s", "allow"), body=b, headers=hdr)
				r = c.getresponse()
				if r.status != 200 or r.read().decode() != EXPECT:
					bad.append("naive REST call: status %d" % r.status)

		join_loop(port, 1, graphql)	# warm-up: introspection, connections
		join_loop(port, 1, naive)
		lg = join_loop(port, duration, graphql)
		ln = join_loop(port, duration, naive)
		if bad:
			raise BenchError("%d bad answers, first: %s" % (len(bad), bad[0]))
	finally:
		stop(pr)

	def p99(lat):
		return sorted(lat)[max(0, int(len(lat) * 0.99 + 0.5) - 1)]
	return {
		"join_gql_rows_s": JOIN_ROWS * len(lg) / sum(lg),
		"join_gql_p99_ms": p99(lg) * 1000,
		"join_gql_requests": len(lg),
		"join_naive_rows_s": JOIN_ROWS * len(ln) / sum(ln),
		"join_naive_p99_ms": p99(ln) * 1000,
		"join_naive_requests": len(ln) * JOIN_ROWS,
	}


def join_report(scale):
	"""The report's lines for join_bench's entries (none when absent)."""
	if "join_gql_rows_s" not in scale:
		return []
	g, n = scale["join_gql_rows_s"], scale["join_naive_rows_s"]
	return [
		"## GraphQL join: database rows with a remote service",
		"",
		"%d parent rows read from SQLite, each joined to %d rows of a child "
		"table and to the remote service (`s/allow`, %d distinct params), in "
		"one GraphQL request (2 SQL statements, %d upstream calls); against "
		"a naive client making one REST call per row (%d calls; the rows "
		"themselves free). One sequential client on one keep-alive "
		"connection each, switchyard 1 worker; p99 is per %d rows."
		% (JOIN_ROWS, JOIN_KIDS, JOIN_DISTINCT, JOIN_DISTINCT, JOIN_ROWS,
		    JOIN_ROWS),
		"",
		"| client | rows/s | p99 ms per %d rows | requests |" % JOIN_ROWS,
		"|---|---:|---:|---:|",
		"| GraphQL, one request | %.0f | %.2f | %d |" % (g,
		    scale["join_gql_p99_ms"], scale["join_gql_requests"]),
		"| naive, one REST call per row | %.0f | %.2f | %d |" % (n,
		    scale["join_naive_p99_ms"], scale["join_naive_requests"]),
		"| ratio GraphQL / naive | %s | %s | |" % (fmt_ratio(g, n),
		    fmt_ratio(scale["join_gql_p99_ms"], scale["join_naive_p99_ms"])),
		"",
	]



# ---------------------------------------------------------------- --profile

def callgrind_total(path):
	with open(path, "rb") as f:
		for line in f:
			if line.startswith(b"summary:") or line.startswith(b"totals:"):
				return int(line.split()[1])
	raise BenchError("no totals in %s" % path)


def annotate(path, inclusive, threshold=100):
	argv = ["callgrind_annotate", "--threshold=%d" % threshold]
	if inclusive:
		argv.append("--inclusive=yes")
	p = subprocess.run(argv + [path], stdin=subprocess.DEVNULL,
	    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
	if p.returncode != 0:
		raise BenchError("callgrind_annotate failed:\n%s" % p.stdout.decode()[-2000:])
	return p.stdout.decode("utf-8", "replace")


FN_RE = re.compile(r"^\s*([\d,]+)\s+(?:\([\s\d.]+%\)\s+)?(\S.*?)\s*$")


def functions(text):
	"""{(function, object): Ir} from callgrind_annotate output."""
	out = {}
	body = False
	for line in text.splitlines():
		if re.match(r"^Ir\s+file:function", line):
			body = True
			continue
		if not body or not line.strip() or line.startswith("--"):
			continue
		m = FN_RE.match(line)
		if not m:
			continue
		name = m.group(2)
		obj = ""
		mo = re.search(r"\s+\[([^\]]*)\]$", name)
		if mo:
			obj = os.path.basename(mo.group(1))
			name = name[:mo.start()]
		if ":" in name and not name.startswith("("):
			name = name.rsplit(":", 1)[1]		# drop the source file
		if name.startswith("0x"):
			name = "%s:%s" % (re.sub(r"\.so[.\d]*$", "", obj or "?"),
			    "0x" + name[2:].lstrip("0"))
		key = (name, obj)
		out[key] = out.get(key, 0) + int(m.group(1).replace(",", ""))
	# lines of a function split by source file may come without the object
	objs = {n: o for (n, o) in out if o}
	for key in [k for k in out if not k[1] and k[0] in objs]:
		k2 = (key[0], objs[key[0]])
		out[k2] = out.get(k2, 0) + out.pop(key)
	return out


# the frames every request runs under: left out of the inclusive tables
CHAIN = re.compile(r"^(\(below main\)|__libc_start_main.*|__libc_start_call_main|"
    r"main|master_run|master_spawn|worker_main|event_base_dispatch|"
    r"event_base_loop|ld-linux.*)$")


def label(key):
	name, obj = key
	if not obj or name.startswith(re.sub(r"\.so[.\d]*$", "", obj) + ":"):
		return name
	return "%s  (%s)" % (name, re.sub(r"\.so[.\d]*$", "", obj))


def profile_run(args, up, token, tag, n_allow, n_auth, warm):
	d = os.path.join(args.tmp, "prof-" + tag)
	os.makedirs(d, exist_ok=True)
	# the worker writes its callgrind file as the user it runs as (nobody
	# when started as root and server.user is not set)
	os.chmod(d, 0o1777)
	outpat = os.path.join(d, "callgrind.out.%p")
	wrap = ["valgrind", "--tool=callgrind", "--trace-children=yes",
	    "--callgrind-out-file=" + outpat, "-q"]

	def probe(pr, port, timeout):
		# a GET on an unknown path: cheap, and the same in every run
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			if not pr.alive():
				raise BenchError("switchyard under callgrind exited:\n%s" % pr.log_tail())
			try:
				c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
				c.request("GET", "/probe")
				r = c.getresponse()
				r.read()
				c.close()
				if r.status == 404:
					return
			except (OSError, http.client.HTTPException):
				pass
			time.sleep(0.5)
		raise BenchError("switchyard under callgrind did not start in %gs:\n%s"
		    % (timeout, pr.log_tail()))

	pr, port, _, _, _ = start_switchyard("switchyard (callgrind %s)" % tag, args.bin,
	    args.tmp, "prof-" + tag, up, 1, 10, token, wrap=wrap, timeout=120,
	    probe=probe)
	try:
		workers = children(pr.pid)
		if len(workers) != 1:
			raise BenchError("expected one worker under callgrind, found %s" % workers)
		wpid = workers[0]
		c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
		plan = [("allow", None, warm), ("auth", token, warm),
		    ("allow", None, n_allow), ("auth", token, n_auth)]
		t0 = time.monotonic()
		for ep, tok, n in plan:
			h = {"Content-Type": "application/json"}
			if tok:
				h["Authorization"] = "Bearer " + tok
			for _ in range(n):
				c.request("POST", api(args.service, ep), body=BODY,
				    headers=h)
				r = c.getresponse()
				b = r.read().decode("utf-8", "replace")
				if r.status != 200 or b != EXPECT:
					raise BenchError("%s answered %d %s under callgrind"
					    % (ep, r.status, b[:200]))
		el = time.monotonic() - t0
		c.close()
	finally:
		stop(pr, grace=60.0)
	f = os.path.join(d, "callgrind.out.%d" % wpid)
	if not os.path.exists(f):
		raise BenchError("no callgrind output for the worker (%s); files: %s"
		    % (f, os.listdir(d)))
	return f, callgrind_total(f), 2 * warm + n_allow + n_auth, el


def profile_nginx(args, up, token, tag, n, warm):
	"""nginx's one worker under callgrind, proxying warm + n POSTs with
	the authenticated calls' body and headers, on one keep-alive
	connection: (its callgrind file, Ir, requests)."""
	d = os.path.join(args.tmp, "prof-nginx-" + tag)
	os.makedirs(d, exist_ok=True)
	os.chmod(d, 0o1777)	# the worker runs as nobody when started as root
	wrap = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" +
	    os.path.join(d, "callgrind.out.%p"), "-q"]
	pr, port = start_nginx_proxy(args.tmp, up, wrap=wrap, timeout=60.0)
	try:
		workers = children(pr.pid)
		if len(workers) != 1:
			raise BenchError("expected one nginx worker under callgrind, "
			    "found %s" % workers)
		c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
		h = {"Content-Type": "application/json",
		    "Authorization": "Bearer " + token}
		for _ in range(warm + n):
			c.request("POST", "/adder", body=BODY, headers=h)
			r = c.getresponse()
			b = r.read().decode("utf-8", "replace")
			if r.status != 200 or b != EXPECT:
				raise BenchError("nginx answered %d %s under callgrind"
				    % (r.status, b[:200]))
		c.close()
	finally:
		stop(pr, grace=60.0)
	f = os.path.join(d, "callgrind.out.%d" % workers[0])
	if not os.path.exists(f):
		raise BenchError("no callgrind output for nginx's worker (%s); "
		    "files: %s" % (f, os.listdir(d)))
	return f, callgrind_total(f), warm + n


def strace_counts(path):
	"""{syscall: calls} from the table strace -c writes."""
	out = {}
	with open(path) as f:
		for line in f:
			p = line.split()
			# % time, seconds, usecs/call, calls, [errors,] syscall
			if len(p) in (5, 6) and re.match(r"^[\d.]+$", p[0]) and \
			    p[-1] != "total":
				out[p[-1]] = out.get(p[-1], 0) + int(p[3])
	return out


def syscalls(args, up, token, seconds=3):
	"""System calls per request of nginx's worker and switchyard's one
	worker (the profiled client) under the benchmark's load, counted by
	strace -c attached to the worker for one wrk run."""
	res = []
	ngp, ngport = start_nginx_proxy(args.tmp, up)
	syp, syport, _, _, _ = start_switchyard("switchyard (strace)", args.bin,
	    args.tmp, "strace", up, 1, 10, token)
	try:
		for key, label, proc, port, path, tok in (
		    ("nginx", "nginx proxy", ngp, ngport, "/adder", None),
		    ("sy-auth", "switchyard 1w auth (%s)" % args.client, syp, syport,
		    api(args.service, "auth"), token)):
			t = Target(key, label, proc, port, path, tok)
			_, workers = t.pids()
			if len(workers) != 1:
				raise BenchError("%s: expected one worker, found %s"
				    % (label, workers))
			f = os.path.join(args.tmp, "strace-%s.txt" % key)
			st = spawn("strace " + key, ["strace", "-c", "-f", "-o", f,
			    "-p", str(workers[0])], os.path.join(args.tmp,
			    "strace-%s.log" % key))
			time.sleep(1.0)		# attached
			r = run_wrk(t, args.tmp, seconds, "strace-" + key)
			st.p.send_signal(signal.SIGINT)
			try:
				st.p.wait(30)
			except subprocess.TimeoutExpired:
				raise BenchError("strace on %s did not stop" % label)
			PROCS.remove(st)
			if t.problems:
				raise BenchError("%s under strace: %s" % (label,
				    "; ".join(t.problems)))
			res.append((label, r["requests"], strace_counts(f)))
	finally:
		stop(syp)
		stop(ngp)
	return res


def profile(args):
	started = datetime.datetime.now().astimezone()
	token = make_token()
	N, W = args.requests, 200
	log("profile: upstream")
	upp, up = start_upstream(args.tmp)
	res = {}
	for tag, na, nu in (("base", N, N), ("allow2", 2 * N, N), ("auth2", N, 2 * N)):
		log("profile: switchyard 1 worker under callgrind: %d+%d warm-up, "
		    "%d allow + %d auth calls" % (W, W, na, nu))
		res[tag] = profile_run(args, up, token, tag, na, nu, W)
		log("    worker Ir %d for %d requests (%.1f s of calls)"
		    % (res[tag][1], res[tag][2], res[tag][3]))
	for tag, n in (("base", N), ("twice", 2 * N)):
		log("profile: nginx proxy, its worker under callgrind: %d warm-up, "
		    "%d calls" % (W, n))
		res["nginx-" + tag] = profile_nginx(args, up, token, tag, n, W)
	log("profile: system calls per request, strace -c on the worker, "
	    "wrk -c%d" % CONNS)
	sc = syscalls(args, up, token)
	stop(upp)
	fb, irb, nb, _ = res["base"]
	ir_allow = (res["allow2"][1] - irb) / N
	ir_auth = (res["auth2"][1] - irb) / N
	L = []
	info = machine(args.bin)
	L.append("switchyard profile: one worker under valgrind --tool=callgrind "
	    "(%s)" % sh(["valgrind", "--version"]))
	L.append("command: %s; date: %s; %s; %d CPUs, %s" % (
	    os.environ.get("BENCH_CMDLINE", "scripts/bench --profile"),
	    started.strftime("%Y-%m-%d %H:%M:%S %z"), info["switchyard"],
	    info["nproc"], info["cpu"]))
	L.append("calls: %d allow + %d authenticated warm-up, then %d + %d measured, "
	    "one keep-alive connection; runs with 2N of one kind give the "
	    "measured phase by difference; upstream client: %s" % (W, W, N, N,
	    args.client))
	L.append("")
	L.append("instructions (Ir) per request:")
	L.append("  whole worker (start-up + warm-up + calls) / requests: %10.0f  (%d Ir / %d)"
	    % (irb / nb, irb, nb))
	L.append("  measured, allow          (Ir[2N allow] - Ir[N]) / N:   %10.0f" % ir_allow)
	L.append("  measured, authenticated  (Ir[2N auth]  - Ir[N]) / N:   %10.0f" % ir_auth)
	ir_nginx = (res["nginx-twice"][1] - res["nginx-base"][1]) / N
	L.append("  nginx proxy_pass, its worker, the same POST and headers")
	L.append("    (Ir[%d + 2N] - Ir[%d + N]) / N:                        %10.0f"
	    % (W, W, ir_nginx))
	L.append("")

	def table(title, d, n, total, k=15, chain=False):
		"""The top k of d (Ir summed over n requests) per request.  With
		chain, the frames that include everything (main, the master's
		fork, the event loop) are left out."""
		L.append(title)
		items = sorted(d.items(), key=lambda kv: -kv[1])
		if chain:
			items = [kv for kv in items if not CHAIN.match(kv[0][0])]
			L.append("  (left out: main, master_run, master_spawn, worker_main, "
			    "event_base_loop and the frames above them)")
		for key, v in items[:k]:
			L.append("  %10.0f  %5.1f%%  %s" % (v / n, 100.0 * v / total, label(key)))
		L.append("")

	def by_object(title, d, n, total):
		objs = {}
		for (name, obj), v in d.items():
			o = re.sub(r"\.so[.\d]*$", "", obj or "?")
			objs[o] = objs.get(o, 0) + v
		L.append(title)
		for o, v in sorted(objs.items(), key=lambda kv: -kv[1])[:8]:
			L.append("  %10.0f  %5.1f%%  %s" % (v / n, 100.0 * v / total, o))
		L.append("")

	L.append("system calls per request (strace -c attached to the one "
	    "worker during wrk -t1 -c%d -d3s; authenticated calls):" % CONNS)
	for who, n, counts in sc:
		top = sorted(counts.items(), key=lambda kv: -kv[1])[:8]
		L.append("  %-34s %5.2f  (%s)" % (who, sum(counts.values()) / n,
		    ", ".join("%s %.2f" % (k, v / n) for k, v in top)))
	L.append("")

	inc = {t: functions(annotate(res[t][0], True)) for t in res}
	exc = {t: functions(annotate(res[t][0], False)) for t in res}

	def diff(a, b):
		return {k: a.get(k, 0) - b.get(k, 0) for k in set(a) | set(b)}

	for kind, tag, ir in (("allow", "allow2", ir_allow), ("authenticated", "auth2", ir_auth)):
		e = diff(exc[tag], exc["base"])
		by_object("exclusive Ir per %s request by object (measured phase):" % kind,
		    e, N, ir * N)
		table("top 15 functions by inclusive Ir per %s request (measured phase):"
		    % kind, diff(inc[tag], inc["base"]), N, ir * N, chain=True)
		table("top 15 functions by exclusive Ir per %s request (measured phase):"
		    % kind, e, N, ir * N)
	e = diff(exc["nginx-twice"], exc["nginx-base"])
	by_object("nginx proxy_pass, exclusive Ir per request by object:", e, N,
	    ir_nginx * N)
	table("nginx proxy_pass, top 15 functions by exclusive Ir per request:",
	    e, N, ir_nginx * N)
	table("whole worker, top 15 by inclusive Ir (Ir / request over its %d requests):"
	    % nb, inc["base"], nb, irb, chain=True)
	table("whole worker, top 15 by exclusive Ir (Ir / request over its %d requests):"
	    % nb, exc["base"], nb, irb)
	keep = run_dir(args, started, "-profile")
	for tag in res:
		shutil.copyfile(res[tag][0], os.path.join(keep, "callgrind.out." +
		    (tag if tag.startswith("nginx-") else "worker-" + tag)))
	rel = os.path.relpath(keep, TOP)
	L.append("callgrind output of the runs: %s/callgrind.out.worker-{base,allow2,auth2} "
	    "and callgrind.out.nginx-{base,twice}" % rel)
	L.append("(e.g. callgrind_annotate --inclusive=yes %s/callgrind.out.worker-base; "
	    "a worker's profile starts with the master's start-up, which it inherits "
	    "at fork; names like libcurl:0x24930 are static functions of a stripped "
	    "library)" % rel)
	text = "\n".join(L) + "\n"
	write(os.path.join(keep, "profile.txt"), text)
	print(text, end="", flush=True)


def main():
	ap = argparse.ArgumentParser(prog="bench.py")
	ap.add_argument("--bin", required=True)
	ap.add_argument("--tmp", required=True)
	ap.add_argument("--out", required=True)
	ap.add_argument("--duration", type=int, default=10)
	ap.add_argument("--rounds", type=int, default=5)
	ap.add_argument("--pairs", type=int, default=15,
	    help="head-to-head pairs of nginx and switchyard 1w auth")
	ap.add_argument("--requests", type=int, default=2000)
	ap.add_argument("--profile", action="store_true")
	ap.add_argument("--client", choices=("native", "curl"), default="native",
	    help="--profile: the upstream client of the profiled calls")
	args = ap.parse_args()
	# service "s" uses the server's client (native), "c" libcurl
	args.service = "c" if args.client == "curl" else "s"
	global PGFILE
	PGFILE = os.path.join(args.tmp, "pgids")
	for s in (signal.SIGTERM, signal.SIGHUP):
		signal.signal(s, on_signal)
	try:
		if args.profile:
			profile(args)
		else:
			bench(args)
	except BenchError as e:
		print("bench: FAILED: %s" % e, file=sys.stderr, flush=True)
		return 1
	except KeyboardInterrupt:
		print("bench: interrupted", file=sys.stderr, flush=True)
		return 130
	finally:
		cleanup()
	return 0


if __name__ == "__main__":
	sys.exit(main())
