"""sytest: shared harness for switchyard's integration tests.

Every tests/integration/*.t, tests/stress/*.t and tests/package/package.t
imports this module, with one line relative to the script:

	sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
	    "..", "lib"))
	import sytest as T

It prints TAP, starts the daemon (in the foreground, with a temporary
config and LMDB directory on a free loopback port) and the example
upstream, talks HTTP to both, and makes sure that whatever happens -- a
failed assertion, an exception, a signal, the global watchdog -- every
process it started is killed and every temporary directory is removed
before the script exits.

Rules the tests follow (STYLE.md, "Tests"): only loopback addresses; ports
chosen by binding port 0; every wait and loop bounded; a missing binary or
environment variable is a failure ("Bail out!"), never a skip.

A script runs alone, without make: from the build directory
(../tests/integration/forward.t) or from the source tree with a build in
./build (tests/integration/forward.t); see require_env().  Its plan is
counted, not written: run_main(None, main) prints "1..N" after the last
test.  "-k REGEX" runs only the cases whose name matches (see selected());
the files that name cases say so in their header.

Only the Python standard library is used.
"""

import atexit
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

LOOPBACK = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")

_procs = []		# every Popen we started (each leads its own group)
_pgroups = set()	# process groups to SIGKILL at exit
_tmpdirs = []		# removed at exit
_servers = []		# LoopbackServers, stopped at exit
_logs = []		# (label, path) printed as diagnostics on failure
_tap = None
_cleaned = False


# --------------------------------------------------------------------------
# TAP


class Bail(Exception):
	"""Raised to abandon the whole test file."""


class TAP:
	"""A minimal TAP producer.  planned: the number of tests, printed up
	front; or None: the plan is the count of tests run, printed at the
	end by done() (TAP allows a trailing plan).  A script that dies before
	done() then has no plan at all, which tap-driver reports as an
	ERROR, as it does the "Bail out!" of bail()."""

	def __init__(self, planned):
		global _tap
		self.planned = planned
		self.n = 0
		self.failed = 0
		self.lock = threading.Lock()
		self.prefix = ""	# before every description (each_client)
		_tap = self
		if planned is not None:
			print("1..%d" % planned, flush=True)

	def ok(self, cond, desc, *diag, todo=None):
		"""todo: the reason a known-missing feature fails; the line gets
		"# TODO reason" (tap-driver: XFAIL, or XPASS -- a failure --
		once it passes, so the marker must then be removed)."""
		with self.lock:
			self.n += 1
			desc = (self.prefix + desc).replace("#",
			    "\\#").replace("\n", " ")
			tail = " # TODO %s" % todo if todo else ""
			if cond:
				print("ok %d - %s%s" % (self.n, desc, tail),
				    flush=True)
			else:
				if not todo:
					self.failed += 1
				print("not ok %d - %s%s" % (self.n, desc, tail),
				    flush=True)
				for d in diag:
					self.diag(d)
		return bool(cond)

	def is_(self, got, expected, desc, *diag):
		return self.ok(got == expected, desc,
		    "expected: %r" % (expected,), "     got: %r" % (got,),
		    *diag)

	def like(self, got, regex, desc, *diag):
		m = got is not None and re.search(regex, got) is not None
		return self.ok(m, desc, "expected to match: %r" % regex,
		    "got: %r" % (_clip(got),), *diag)

	def cmp_ok(self, got, op, bound, desc, *diag):
		ops = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
		    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
		    "==": lambda a, b: a == b, "!=": lambda a, b: a != b}
		try:
			res = ops[op](got, bound)
		except TypeError:
			res = False
		return self.ok(res, desc,
		    "expected: %r %s %r" % (got, op, bound), *diag)

	def diag(self, msg):
		for line in str(msg).splitlines() or [""]:
			print("# " + line, flush=True)

	def bail(self, why):
		print("Bail out! " + str(why).replace("\n", " "), flush=True)
		dump_logs()
		cleanup()
		os._exit(1)

	def done(self):
		if _filter is not None and not _filter_hits:
			self.ok(False, "-k %s matched a case" % _filter.pattern,
			    "the cases of this file are named by T.selected(); "
			    "a file without named cases cannot be filtered")
		sanitizer_check(self)
		if self.planned is None:
			print("1..%d" % self.n, flush=True)
		elif self.n != self.planned:
			self.failed += 1
			self.diag("planned %d tests but ran %d" % (self.planned,
			    self.n))
		if self.failed:
			dump_logs()
		cleanup()
		sys.exit(1 if self.failed else 0)


def _json_or_none(body):
	"""body (bytes) as JSON, or None when it is not UTF-8 JSON."""
	try:
		return json.loads(body.decode("utf-8"))
	except (ValueError, UnicodeDecodeError):
		return None


def _clip(s, n=600):
	if s is None:
		return None
	if isinstance(s, bytes):
		s = s.decode("utf-8", "replace")
	s = str(s)
	return s if len(s) <= n else s[:n] + "...(%d more)" % (len(s) - n)


SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
    r"runtime error:|SUMMARY: UndefinedBehaviorSanitizer|"
    r"Invalid (read|write|free)|uninitialised|definitely lost: [1-9]|"
    r"are definitely lost|"
    r"Mismatched free")
_vglogs = []		# directories with valgrind reports (SY_VALGRIND)


def sanitizer_check(tap):
	"""The last assertion of every file: stop what still runs with
	SIGTERM (a graceful exit, so that LeakSanitizer reports), then look
	for sanitizer reports in every process's log."""
	for pg in list(_pgroups):
		try:
			os.killpg(pg, signal.SIGTERM)
		except OSError:
			pass
	for p in _procs:
		try:
			p.wait(timeout=15)
		except Exception:
			pass
	bad = []
	for d in set(_vglogs):
		for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
			if ".vg." in f:
				_logs.append(("valgrind " + f, os.path.join(d, f)))
	for label, path in _logs:
		try:
			with open(path, "r", errors="replace") as f:
				text = f.read()
		except OSError:
			continue
		if SANITIZER_RE.search(text):
			bad.append(label)
	tap.ok(not bad, "no sanitizer reports in the logs of the processes "
	    "started", *["report in %s" % b for b in bad])


_filter = None		# -k REGEX: the cases to run (selected())
_filter_hits = 0	# how many named cases it selected


def parse_args(argv):
	"""-k REGEX (or -kREGEX): run only the named cases that match;
	--client NAME: each_client runs only that client.  The other
	arguments are left to the script (--full, --short)."""
	global _filter, _clients
	rest = []
	i = 0
	while i < len(argv):
		a = argv[i]
		usage = ("usage: %s [-k REGEX] [--client NAME] "
		    "[--full|--short]\n"
		    "  -k REGEX  run only the cases whose name matches "
		    "(case-insensitive)\n"
		    "  --client NAME  the files that run every case with each "
		    "upstream client\n"
		    "                 run only this one (native or curl)" %
		    sys.argv[0])
		if a == "--client" and i + 1 < len(argv) and \
		    argv[i + 1] in UPSTREAM_CLIENTS:
			_clients = (argv[i + 1],)
			i += 2
			continue
		if a == "-k" and i + 1 < len(argv):
			_filter = re.compile(argv[i + 1], re.I)
			i += 2
			continue
		if a.startswith("-k") and len(a) > 2:
			_filter = re.compile(a[2:], re.I)
		elif a in ("-h", "--help"):
			print(usage)
			sys.exit(0)
		elif a in ("-k", "--client"):
			print(usage, file=sys.stderr)
			sys.exit(2)
		else:
			rest.append(a)
		i += 1
	return rest


def selected(*names):
	"""True when a case named by any of names is to run: always, unless
	"-k REGEX" was given, then only when one of the names matches.  A
	script names its cases by calling this around each one (its setup
	runs regardless); a -k that selects nothing is a failure."""
	global _filter_hits
	if _filter is None:
		return True
	if any(_filter.search(n) for n in names):
		_filter_hits += 1
		return True
	return False


# upstreamClient values (switchyard.json(5)); every forwarding, fault and
# limit test runs its cases once with each (each_client)
UPSTREAM_CLIENTS = ("native", "curl")
_clients = UPSTREAM_CLIENTS	# --client NAME narrows it


def each_client(tap, body):
	"""Run body(tap, client) once per upstream client ("native", then
	"curl"; --client NAME runs one), each description starting with
	"[client] ".  body puts client_server(client) into its config and
	stops what it started before returning."""
	for client in _clients:
		tap.prefix = "[%s] " % client
		try:
			body(tap, client)
		finally:
			tap.prefix = ""


def client_server(client, server=None):
	"""The "server" members of make_config for client, plus server."""
	srv = {"upstreamClient": client}
	srv.update(server or {})
	return srv


def select(cases, name=lambda c: c[0]):
	"""The cases of a table that selected() lets through; name(case) is
	a case's name (by default its first field)."""
	return [c for c in cases if selected(name(c))]


def run_main(planned, body, watchdog=100):
	"""Run body(tap) under a watchdog; any exception bails out loudly.
	planned: None to count the tests (the plan is printed last), or
	the number of tests body runs; one is added: sanitizer_check()."""
	parse_args(sys.argv[1:])
	tap = TAP(None if planned is None else planned + 1)

	def on_alarm(signum, frame):
		raise Bail("watchdog: test still running after %d s" %
		    watchdog)

	def on_term(signum, frame):
		raise Bail("killed by signal %d" % signum)

	signal.signal(signal.SIGALRM, on_alarm)
	signal.signal(signal.SIGTERM, on_term)
	signal.signal(signal.SIGHUP, on_term)
	signal.signal(signal.SIGINT, on_term)
	if os.environ.get("SY_VALGRIND"):
		watchdog *= 5		# memcheck runs the daemon ~20x slower
	signal.alarm(watchdog)
	try:
		body(tap)
	except Bail as e:
		signal.alarm(0)
		tap.bail(e)
	except BaseException as e:
		signal.alarm(0)
		import traceback
		tap.ok(False, "unexpected exception: %s: %s" %
		    (type(e).__name__, e))
		tap.diag(traceback.format_exc())
		tap.bail("exception in test: %s" % type(e).__name__)
	signal.alarm(0)
	tap.done()


# --------------------------------------------------------------------------
# environment, temporary files, cleanup


class Env:
	def __init__(self, switchyard, upstream, srcdir, builddir):
		self.switchyard = switchyard
		self.upstream = upstream
		self.srcdir = srcdir
		self.builddir = builddir


SRCDIR = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def find_builddir():
	"""$SY_BUILDDIR; else the current directory when it holds a built
	switchyard (make check, or a script run from the build directory);
	else the source tree's ./build (scripts/build); None if neither."""
	v = os.environ.get("SY_BUILDDIR")
	if v:
		return v
	for d in (os.getcwd(), os.path.join(SRCDIR, "build")):
		if os.path.isfile(os.path.join(d, "switchyard")):
			return d
	return None


def require_env(need_upstream=True):
	"""The four variables SWITCHYARD, SY_UPSTREAM, SY_SRCDIR, SY_BUILDDIR
	(set by make check) win; each one unset is derived: the source tree
	is the one this file is in, the build directory is find_builddir()'s
	and the binaries are in it.  The binaries must be runnable."""
	vals = {"SY_SRCDIR": os.environ.get("SY_SRCDIR") or SRCDIR}
	bd = find_builddir()
	if bd is None and not (os.environ.get("SWITCHYARD") and
	    (os.environ.get("SY_UPSTREAM") or not need_upstream)):
		raise Bail("no build found: neither %s/switchyard nor "
		    "%s/build/switchyard exists (run scripts/build, run the "
		    "test from the build directory, or set SY_BUILDDIR)" %
		    (os.getcwd(), SRCDIR))
	vals["SY_BUILDDIR"] = bd or os.getcwd()
	vals["SWITCHYARD"] = os.environ.get("SWITCHYARD") or \
	    os.path.join(vals["SY_BUILDDIR"], "switchyard")
	vals["SY_UPSTREAM"] = os.environ.get("SY_UPSTREAM") or \
	    os.path.join(vals["SY_BUILDDIR"], "sy-upstream")
	for var in ("SWITCHYARD", "SY_UPSTREAM"):
		if var == "SY_UPSTREAM" and not need_upstream:
			continue
		p = vals[var]
		if not os.path.isfile(p) or not os.access(p, os.X_OK):
			raise Bail("%s=%s is not an executable file" % (var, p))
	for var in ("SY_SRCDIR", "SY_BUILDDIR"):
		if not os.path.isdir(vals[var]):
			raise Bail("%s=%s is not a directory" %
			    (var, vals[var]))
	# the daemons started serve the source tree's web console (SPEC 9.9)
	os.environ.setdefault("SWITCHYARD_CONSOLE_DIR",
	    os.path.join(vals["SY_SRCDIR"], "console"))
	return Env(vals["SWITCHYARD"], vals["SY_UPSTREAM"], vals["SY_SRCDIR"],
	    vals["SY_BUILDDIR"])


def tmpdir():
	d = tempfile.mkdtemp(prefix="sytest-", dir="/tmp")
	_tmpdirs.append(d)
	return d


def add_log(label, path):
	_logs.append((label, path))


def dump_logs(maxlines=200):
	for label, path in _logs:
		try:
			with open(path, "rb") as f:
				lines = f.read().decode("utf-8",
				    "replace").splitlines()
		except OSError:
			continue
		print("# ---- %s (%s, last %d of %d lines) ----" % (label, path,
		    min(maxlines, len(lines)), len(lines)), flush=True)
		for line in lines[-maxlines:]:
			print("#   " + line, flush=True)


def cleanup():
	"""Kill every process group we started, then remove temp dirs."""
	global _cleaned
	if _cleaned:
		return
	_cleaned = True
	for pg in list(_pgroups):
		try:
			os.killpg(pg, signal.SIGKILL)
		except OSError:
			pass
	for p in _procs:
		try:
			p.kill()
		except OSError:
			pass
		try:
			p.wait(timeout=5)
		except Exception:
			pass
	for srv in list(_servers):
		srv.stop()
	for d in _tmpdirs:
		shutil.rmtree(d, ignore_errors=True)


atexit.register(cleanup)


def spawn(argv, stdout, stderr, **kw):
	"""Start argv as the leader of a new process group, tracked for
	cleanup.  stdout/stderr are file paths (or subprocess constants)."""
	outf = open(stdout, "wb") if isinstance(stdout, str) else stdout
	errf = open(stderr, "wb") if isinstance(stderr, str) else stderr
	try:
		p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
		    stdout=outf, stderr=errf, start_new_session=True,
		    close_fds=True, **kw)
	finally:
		if isinstance(stdout, str):
			outf.close()
		if isinstance(stderr, str):
			errf.close()
	_procs.append(p)
	_pgroups.add(p.pid)
	return p


def kill_group(proc):
	"""SIGKILL the process group that proc leads, if proc still runs, and
	reap proc (at most 5 s)."""
	if proc and proc.poll() is None:
		try:
			os.killpg(proc.pid, signal.SIGKILL)
		except OSError:
			pass
		proc.wait(timeout=5)


def track_pgroup(pgid):
	"""A process group started elsewhere (a daemon that called setsid):
	stopped by sanitizer_check and killed at cleanup like ours."""
	_pgroups.add(pgid)


def run(argv, timeout=10):
	"""Run a short command to completion; returns (rc, stdout, stderr) as
	text.  rc is None when it had to be killed after timeout."""
	p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
	    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
	    start_new_session=True)
	_procs.append(p)
	_pgroups.add(p.pid)
	try:
		out, err = p.communicate(timeout=timeout)
		rc = p.returncode
		_pgroups.discard(p.pid)
	except subprocess.TimeoutExpired:
		try:
			os.killpg(p.pid, signal.SIGKILL)
		except OSError:
			pass
		out, err = p.communicate()
		rc = None
	return rc, out.decode("utf-8", "replace"), err.decode("utf-8",
	    "replace")


def free_port():
	s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	try:
		s.bind((LOOPBACK, 0))
		return s.getsockname()[1]
	finally:
		s.close()


def wait_until(pred, timeout, interval=0.05):
	"""Poll pred() until it returns a true value or timeout passes.
	Returns the last value."""
	deadline = time.monotonic() + timeout
	while True:
		v = pred()
		if v or time.monotonic() >= deadline:
			return v
		time.sleep(interval)


# --------------------------------------------------------------------------
# /proc


def proc_stat(pid):
	"""(state, ppid, pgrp, utime+stime in seconds) or None if gone."""
	try:
		with open("/proc/%d/stat" % pid, "rb") as f:
			data = f.read().decode("ascii", "replace")
	except OSError:
		return None
	rest = data[data.rindex(")") + 2:].split()
	return (rest[0], int(rest[1]), int(rest[2]),
	    (int(rest[11]) + int(rest[12])) / CLK_TCK)


def alive(pid):
	"""True if pid exists and is not a zombie."""
	st = proc_stat(pid)
	return st is not None and st[0] not in ("Z", "X")


def children(pid, zombies=False):
	"""Child pids of pid, sorted; zombies only when asked for."""
	kids = set()
	try:
		tasks = os.listdir("/proc/%d/task" % pid)
	except OSError:
		return []
	found = False
	for t in tasks:
		try:
			with open("/proc/%d/task/%s/children" % (pid, t)) as f:
				kids.update(int(x) for x in f.read().split())
			found = True
		except OSError:
			pass
	if not found:
		for d in os.listdir("/proc"):
			if d.isdigit():
				st = proc_stat(int(d))
				if st and st[1] == pid:
					kids.add(int(d))
	if zombies:
		return sorted(k for k in kids if proc_stat(k) is not None)
	return sorted(k for k in kids if alive(k))


def rss_kib(pid):
	"""A process's resident set size in KiB, or None when it is gone."""
	try:
		with open("/proc/%d/status" % pid) as f:
			for line in f:
				if line.startswith("VmRSS:"):
					return int(line.split()[1])
	except OSError:
		pass
	return None


def watch_starts(daemon, before, secs):
	"""Watch daemon's master for secs: ({new child pid: seconds after the
	start of the watch when first seen}, whether the master died)."""
	seen = {}
	t0 = time.monotonic()
	while time.monotonic() - t0 < secs:
		if not daemon.alive():
			return seen, True
		for w in children(daemon.pid, zombies=True):
			if w not in before and w not in seen:
				seen[w] = round(time.monotonic() - t0, 3)
		time.sleep(0.005)
	return seen, False


def established_conns(port):
	"""Established TCP connections to 127.0.0.1:port (ss from iproute2)."""
	out = subprocess.run(["ss", "-Htn", "state", "established",
	    "dst", "%s:%d" % (LOOPBACK, port)], capture_output=True, text=True,
	    timeout=5).stdout
	return len([l for l in out.splitlines() if l.strip()])


def cpu_seconds(pid):
	st = proc_stat(pid)
	return None if st is None else st[3]


# --------------------------------------------------------------------------
# HTTP


class Response:
	def __init__(self, status, headers, body, elapsed):
		self.status = status
		self.headers = headers		# list of (name, value)
		self.body = body		# bytes
		self.elapsed = elapsed

	def header(self, name):
		name = name.lower()
		for k, v in self.headers:
			if k.lower() == name:
				return v
		return None

	def header_all(self, name):
		name = name.lower()
		return [v for k, v in self.headers if k.lower() == name]

	def json(self):
		return _json_or_none(self.body)

	def media_type(self):
		ct = self.header("Content-Type")
		if ct is None:
			return None
		return ct.split(";")[0].strip().lower()

	def describe(self):
		lines = ["status %s in %.3f s" % (self.status, self.elapsed)]
		lines += ["%s: %s" % (k, v) for k, v in self.headers]
		lines.append("body: %r" % (_clip(self.body),))
		return "\n".join(lines)

	def __repr__(self):
		return "<Response %s %r>" % (self.status, _clip(self.body, 200))


def request(port, method, path, body=None, headers=None, timeout=5.0):
	"""One request on a new connection; returns a Response.  Connection
	errors and timeouts propagate as OSError."""
	if isinstance(body, str):
		body = body.encode("utf-8")
	conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
	t0 = time.monotonic()
	try:
		conn.request(method, path, body=body, headers=headers or {})
		r = conn.getresponse()
		data = r.read()
		return Response(r.status, r.getheaders(), data,
		    time.monotonic() - t0)
	finally:
		conn.close()


def try_request(*args, **kw):
	"""request() that returns the exception instead of raising it."""
	try:
		return request(*args, **kw)
	except (OSError, http.client.HTTPException) as e:
		return e


def raw_exchange(port, data, timeout=5.0, pause_after=None,
    until_close=False):
	"""Send raw bytes (in two parts with a 0.3 s pause when pause_after is
	given), read until the server closes, timeout, or (unless
	until_close) one whole response has come; (bytes, closed by the
	server)."""
	s = socket.create_connection((LOOPBACK, port), timeout=timeout)
	chunks, closed = [], False
	try:
		try:
			if pause_after is None:
				s.sendall(data)
			else:
				s.sendall(data[:pause_after])
				time.sleep(0.3)
				s.sendall(data[pause_after:])
		except OSError:
			pass
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			try:
				c = s.recv(65536)
			except socket.timeout:
				break
			except OSError:
				closed = True
				break
			if not c:
				closed = True
				break
			chunks.append(c)
			if not until_close and _complete(b"".join(chunks)):
				break
	finally:
		s.close()
	return b"".join(chunks), closed


def raw_request(port, data, timeout=5.0):
	"""Send raw bytes, read until the server closes or timeout; returns a
	Response (status None if nothing parseable came back)."""
	t0 = time.monotonic()
	raw, _ = raw_exchange(port, data, timeout)
	return _parse_raw(raw, time.monotonic() - t0)


def scrape_metrics(aport):
	"""(the response, {(name, frozenset(labels.items())): value}) from
	the admin listener's /metrics, read with Prometheus's own parser
	(Debian's python3-prometheus-client)."""
	try:
		from prometheus_client.parser import \
		    text_string_to_metric_families
	except ImportError as e:
		raise Bail("python3-prometheus-client is needed: %s" % e)
	r = request(aport, "GET", "/metrics")
	out = {}
	for fam in text_string_to_metric_families(r.body.decode("utf-8")):
		for s in fam.samples:
			out[(s.name, frozenset(s.labels.items()))] = s.value
	return r, out


def _complete(raw):
	head, sep, body = raw.partition(b"\r\n\r\n")
	if not sep:
		return False
	m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
	if m:
		return len(body) >= int(m.group(1))
	return False


def _parse_raw(raw, elapsed):
	head, sep, body = raw.partition(b"\r\n\r\n")
	lines = head.decode("latin-1").split("\r\n")
	m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0]) if lines else None
	if not m:
		return Response(None, [], raw, elapsed)
	hdrs = []
	for line in lines[1:]:
		k, _, v = line.partition(":")
		hdrs.append((k.strip(), v.strip()))
	return Response(int(m.group(1)), hdrs, body, elapsed)


def api_path(project, service, endpoint):
	return "/v1/api/%s/services/%s/%s" % (project, service, endpoint)


def call(port, service, endpoint, params=None, timeout_ms=None, body=None,
    headers=None, project="demo", timeout=8.0, method="POST"):
	"""POST a call the way Space Cloud's clients do.  body (str/bytes)
	overrides params/timeout_ms entirely."""
	if body is None:
		doc = {}
		if params is not None:
			doc["params"] = params
		if timeout_ms is not None:
			doc["timeout"] = timeout_ms
		body = json.dumps(doc)
	return post_json(port, api_path(project, service, endpoint), body,
	    headers, timeout, method)


def post_json(port, path, body, headers=None, timeout=8.0, method="POST"):
	"""request() of body (str/bytes, JSON text) with Content-Type
	application/json, which headers may override or add to."""
	h = {"Content-Type": "application/json"}
	h.update(headers or {})
	return request(port, method, path, body=body, headers=h,
	    timeout=timeout)


def try_call(*args, **kw):
	try:
		return call(*args, **kw)
	except (OSError, http.client.HTTPException) as e:
		return e


def refuses(port, timeout=1.0):
	"""True if a TCP connect to port is refused."""
	try:
		s = socket.create_connection((LOOPBACK, port), timeout=timeout)
	except ConnectionRefusedError:
		return True
	except OSError:
		return False
	s.close()
	return False


# --------------------------------------------------------------------------
# a loopback HTTP server in this process (webhooks, JWKS, ...)


class ServedRequest:
	def __init__(self, method, path, headers, body):
		self.method = method
		self.path = path	# as sent, query included
		self.headers = headers	# {lower-case name: value}
		self.body = body	# bytes
		self.at = time.monotonic()

	def json(self):
		return _json_or_none(self.body)

	def __repr__(self):
		return "<%s %s %r>" % (self.method, self.path, _clip(self.body,
		    200))


class LoopbackServer:
	"""An HTTP/1.0 server on 127.0.0.1 and a free port, serving from a
	daemon thread (one more thread per request) until stop().  handler
	(replaceable at any time) is called as handler(ServedRequest) and
	returns (status, {header: value}, body bytes or str), or None to
	close the connection without an answer.  Every request is appended
	to .requests.  A handler that sleeps must sleep for a bounded
	time.  Stopped by cleanup() at the latest."""

	def __init__(self, handler=None):
		self.handler = handler or (lambda req: (404, {}, b""))
		self.requests = []
		self.lock = threading.Lock()
		outer = self

		class H(http.server.BaseHTTPRequestHandler):
			def _serve(self):
				n = int(self.headers.get("Content-Length") or 0)
				body = self.rfile.read(n) if n > 0 else b""
				req = ServedRequest(self.command, self.path,
				    {k.lower(): v for k, v in
				    self.headers.items()}, body)
				with outer.lock:
					outer.requests.append(req)
				ans = outer.handler(req)
				if ans is None:
					return
				status, hdrs, data = ans
				if isinstance(data, str):
					data = data.encode("utf-8")
				try:
					self.send_response(status)
					for k, v in (hdrs or {}).items():
						self.send_header(k, v)
					self.send_header("Content-Length",
					    str(len(data)))
					self.end_headers()
					self.wfile.write(data)
				except OSError:
					pass	# the client gave up

			do_GET = do_POST = do_PUT = do_DELETE = _serve

			def log_message(self, *args):
				pass

		class S(http.server.ThreadingHTTPServer):
			daemon_threads = True
			block_on_close = False

			def handle_error(self, request, client_address):
				pass

		self.httpd = S((LOOPBACK, 0), H)
		self.port = self.httpd.server_address[1]
		self.thread = threading.Thread(target=self.httpd.serve_forever,
		    kwargs={"poll_interval": 0.05}, daemon=True)
		self.thread.start()
		self.stopped = False
		_servers.append(self)

	def url(self, path="/"):
		return "http://%s:%d%s" % (LOOPBACK, self.port, path)

	def received(self, path_prefix=None):
		"""A copy of the requests so far, optionally only those whose
		path starts with path_prefix."""
		with self.lock:
			return [r for r in self.requests if path_prefix is None or
			    r.path.startswith(path_prefix)]

	def stop(self):
		"""Stop serving and close the listening socket (the port then
		refuses connections)."""
		if self.stopped:
			return
		self.stopped = True
		self.httpd.shutdown()
		self.httpd.server_close()
		self.thread.join(timeout=5)


# --------------------------------------------------------------------------
# JWT (HS256 only, enough to make a valid caller token and to check the
# gateway's X-SC-Token)


def _b64u(b):
	return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def _b64u_dec(s):
	s += "=" * (-len(s) % 4)
	return base64.urlsafe_b64decode(s.encode("ascii"))


def jwt_hs256(claims, secret, kid=None):
	hdr = {"alg": "HS256", "typ": "JWT"}
	if kid is not None:
		hdr["kid"] = kid
	si = _b64u(json.dumps(hdr).encode()) + "." + \
	    _b64u(json.dumps(claims).encode())
	sig = hmac.new(secret.encode(), si.encode(), hashlib.sha256).digest()
	return si + "." + _b64u(sig)


def jwt_decode_hs256(token, secret):
	"""(header, claims) if token is a JWT whose HS256 signature verifies
	with secret, else raises ValueError."""
	parts = token.split(".")
	if len(parts) != 3:
		raise ValueError("not three parts")
	hdr = json.loads(_b64u_dec(parts[0]))
	claims = json.loads(_b64u_dec(parts[1]))
	want = hmac.new(secret.encode(), (parts[0] + "." + parts[1]).encode(),
	    hashlib.sha256).digest()
	if not hmac.compare_digest(want, _b64u_dec(parts[2])):
		raise ValueError("bad signature")
	return hdr, claims


# --------------------------------------------------------------------------
# the example upstream


class Upstream:
	def __init__(self, env, tmp, name="upstream"):
		self.env = env
		self.out = os.path.join(tmp, name + ".stdout")
		self.err = os.path.join(tmp, name + ".stderr")
		self.proc = None
		self.port = None
		add_log(name + " stdout", self.out)
		add_log(name + " stderr", self.err)

	def start(self, timeout=5.0):
		self.proc = spawn([self.env.upstream, "-l", LOOPBACK,
		    "-p", "0"], self.out, self.err)

		def port():
			try:
				with open(self.out) as f:
					m = re.search(r"listening on "
					    r"127\.0\.0\.1:(\d+)", f.read())
			except OSError:
				return None
			return int(m.group(1)) if m else None

		self.port = wait_until(port, timeout)
		if not self.port:
			raise Bail("upstream did not print 'listening on "
			    "127.0.0.1:PORT' within %.0f s (exit status %r)" %
			    (timeout, self.proc.poll()))
		return self

	@property
	def url(self):
		return "http://%s:%d" % (LOOPBACK, self.port)

	def stats(self):
		r = request(self.port, "GET", "/stats", timeout=5)
		return r.json()

	def stop(self):
		kill_group(self.proc)


# --------------------------------------------------------------------------
# configs


def endpoint(path, method="POST", rule=None, timeout=5, kind=None):
	ep = {"method": method, "path": path,
	    "rule": rule if rule is not None else {"rule": "allow"},
	    "timeout": timeout}
	if kind is not None:
		ep["kind"] = kind
	return ep


def write_config_file(path, cfg):
	"""Write cfg (a dict, or text as it is) to path; returns path."""
	with open(path, "w") as f:
		f.write(cfg if isinstance(cfg, str) else
		    json.dumps(cfg, indent=1))
	return path


def adder_config(tmp, port, up, **kw):
	"""make_config with one service "arith" at upstream up, endpoint
	"adder"."""
	return make_config(tmp, port, {"arith": {"url": up.url,
	    "endpoints": {"adder": endpoint("/adder")}}}, **kw)


def break_registry(reg):
	"""Make the registry directory unusable for a worker: its contents
	replaced by a directory named data.mdb."""
	for name in os.listdir(reg):
		p = os.path.join(reg, name)
		if os.path.isdir(p):
			shutil.rmtree(p)
		else:
			os.unlink(p)
	os.mkdir(os.path.join(reg, "data.mdb"))


def measure_memory():
	"""For a test that measures the daemon's memory: under ASan (scripts/test
	--sanitizers) freed memory is held in a quarantine and would count as
	growth, so the daemons started from now on run without one.  Other
	builds ignore ASAN_OPTIONS."""
	opts = os.environ.get("ASAN_OPTIONS", "")
	os.environ["ASAN_OPTIONS"] = (opts + ":" if opts else "") + \
	    "quarantine_size_mb=0:thread_local_quarantine_size_kb=0"


def stress_full():
	"""A tests/stress script runs at full length with SY_STRESS_FULL=1
	(scripts/test --stress) or --full, short with --short or otherwise."""
	return "--short" not in sys.argv and ("--full" in sys.argv or
	    os.environ.get("SY_STRESS_FULL") == "1")


def make_config(tmp, port, services, workers=2, limits=None, server=None,
    projects=None):
	"""The test config of the brief: one project "demo" with an HS256
	primary secret "s3cret" and the given services
	({name: {"url", "endpoints"}})."""
	lim = {"maxBodyBytes": 4096, "maxResponseBytes": 65536}
	lim.update(limits or {})
	srv = {
		"listen": ["%s:%d" % (LOOPBACK, port)],
		"workers": workers,
		"nodeId": "test-1",
		"registryPath": os.path.join(tmp, "registry"),
		"pidFile": os.path.join(tmp, "switchyard.pid"),
		"shutdownTimeout": 5,
		"log": {"error": "stderr", "level": "debug", "access": None},
		"limits": lim,
		"admin": {"listen": None},
	}
	if os.geteuid() == 0:
		# started as root, workers run as "nobody" unless told otherwise;
		# the tests' files live in root's 0700 temporary directories
		srv["user"] = "root"
	srv.update(server or {})
	cfg = {"server": srv, "projects": projects if projects is not None
	    else {"demo": {
		"secrets": [{"alg": "HS256", "secret": "s3cret",
		    "isPrimary": True}],
		"remoteServices": services}}}
	return cfg


# --------------------------------------------------------------------------
# the daemon


class Daemon:
	def __init__(self, env, tmp, config, name="switchyard"):
		self.env = env
		self.tmp = tmp
		self.name = name
		self.cfgfile = os.path.join(tmp, name + ".json")
		self.logfile = os.path.join(tmp, name + ".stderr")
		self.outfile = os.path.join(tmp, name + ".stdout")
		self.proc = None
		self.seen_workers = set()
		add_log(name + " stderr", self.logfile)
		add_log(name + " stdout", self.outfile)
		self.write_config(config)

	def write_config(self, config):
		"""Write the config atomically (rename), as an editor would."""
		self.config = config
		tmpf = self.cfgfile + ".new"
		with open(tmpf, "w") as f:
			if isinstance(config, str):
				f.write(config)
			else:
				json.dump(config, f, indent=1)
		os.rename(tmpf, self.cfgfile)

	@property
	def port(self):
		return int(self.config["server"]["listen"][0].rsplit(":", 1)[1])

	@property
	def pidfile(self):
		return self.config["server"]["pidFile"]

	@property
	def nworkers(self):
		return self.config["server"]["workers"]

	@property
	def pid(self):
		return self.proc.pid

	def worker_counts(self):
		"""Acceptable worker counts: "workers", or for 0 one per CPU
		(online CPUs or those this process may run on)."""
		n = self.config["server"].get("workers", 0)
		if n > 0:
			return {n}
		return {os.cpu_count(), len(os.sched_getaffinity(0))}

	def start(self, ready=True, timeout=10.0):
		argv = [self.env.switchyard, "-c", self.cfgfile, "-f"]
		if os.environ.get("SY_VALGRIND"):
			# scripts/test --valgrind: memcheck every process of the
			# daemon; sanitizer_check reads the reports
			vglog = os.path.join(self.tmp, self.name + ".vg.%p")
			argv = ["valgrind", "--quiet", "--leak-check=full",
			    "--errors-for-leak-kinds=definite",
			    "--log-file=" + vglog] + argv
			_vglogs.append(os.path.dirname(vglog))
			timeout *= 10
		self.proc = spawn(argv, self.outfile, self.logfile)
		if ready:
			self.wait_ready(timeout)
		return self

	def is_ready(self):
		if self.proc.poll() is not None:
			return False
		if self.pidfile_pid() != self.proc.pid:
			return False
		if len(self.workers()) not in self.worker_counts():
			return False
		r = try_request(self.port, "GET", "/sytest-readiness-probe",
		    timeout=1)
		return isinstance(r, Response) and r.status == 404

	def wait_ready(self, timeout=10.0):
		if not wait_until(self.is_ready, timeout):
			raise Bail("%s not ready within %.0f s (exit status "
			    "%r, pidfile pid %r, workers %r)" % (self.name,
			    timeout, self.proc.poll(), self.pidfile_pid(),
			    self.workers()))

	def pidfile_pid(self):
		try:
			with open(self.pidfile) as f:
				return int(f.read().strip())
		except (OSError, ValueError):
			return None

	def workers(self):
		w = children(self.proc.pid)
		self.seen_workers.update(w)
		return w

	def alive(self):
		return self.proc.poll() is None

	def kill(self, sig):
		os.kill(self.proc.pid, sig)

	def wait_exit(self, timeout):
		"""Exit status, or None if still running after timeout."""
		try:
			return self.proc.wait(timeout=timeout)
		except subprocess.TimeoutExpired:
			return None

	def log(self):
		try:
			with open(self.logfile, "rb") as f:
				return f.read().decode("utf-8", "replace")
		except OSError:
			return ""

	def log_size(self):
		try:
			return os.path.getsize(self.logfile)
		except OSError:
			return 0

	def log_since(self, offset):
		try:
			with open(self.logfile, "rb") as f:
				f.seek(offset)
				return f.read().decode("utf-8", "replace")
		except OSError:
			return ""

	def stop(self):
		kill_group(self.proc)
		# workers are in the master's process group
		try:
			os.killpg(self.proc.pid, signal.SIGKILL)
		except OSError:
			pass


	def finish(self, timeout=15):
		"""A graceful stop (TERM, so that LeakSanitizer reports), for a
		script that starts another daemon after this one; the exit status,
		or None when it had to be killed."""
		rc = None
		if self.proc and self.proc.poll() is None:
			try:
				os.killpg(self.proc.pid, signal.SIGTERM)
			except OSError:
				pass
			rc = self.wait_exit(timeout)
		self.stop()
		return rc


class Caller(threading.Thread):
	"""Run one call in the background; .result is a Response or the
	exception.  Daemon thread with a bounded socket timeout."""

	def __init__(self, *args, **kw):
		super().__init__(daemon=True)
		self.args = args
		self.kw = kw
		self.result = None
		self.started_at = None

	def run(self):
		self.started_at = time.monotonic()
		self.result = try_call(*self.args, **self.kw)


def is_error_doc(r):
	"""True if r's body is {"error": non-empty string, "rawError": str}."""
	d = r.json()
	return (isinstance(d, dict) and isinstance(d.get("error"), str) and
	    d["error"] != "" and isinstance(d.get("rawError"), str))


# --------------------------------------------------------------------------
# tokens: made by python3-jwt, never by the daemon


def require_jwt():
	"""Debian's python3-jwt, or a loud bail-out."""
	try:
		import jwt
	except ImportError as e:
		raise Bail("python3-jwt is needed (apt-get install python3-jwt): "
		    "%s" % e)
	return jwt

def rsa_pair(tmp, name):
	"""(private PEM, public PEM) of a new 2048-bit key, also written to
	tmp/name.key and tmp/name.pub."""
	from cryptography.hazmat.primitives import serialization
	from cryptography.hazmat.primitives.asymmetric import rsa
	k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
	priv = k.private_bytes(serialization.Encoding.PEM,
	    serialization.PrivateFormat.PKCS8,
	    serialization.NoEncryption()).decode("ascii")
	pub = k.public_key().public_bytes(serialization.Encoding.PEM,
	    serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
	for ext, pem in (("key", priv), ("pub", pub)):
		with open(os.path.join(tmp, "%s.%s" % (name, ext)), "w") as f:
			f.write(pem)
	return priv, pub


# --------------------------------------------------------------------------
# a misbehaving upstream: raw sockets, one fault per request path


class FaultServer:
	"""A raw-socket "HTTP server" on 127.0.0.1 and a free port that
	misbehaves on purpose.  A daemon thread accepts connections and
	serves each from a thread of its own: it reads the request's headers
	and its Content-Length body (bounded: 64 KiB of headers, 5 s), records
	a ServedRequest in .requests, then acts on the last segment of the
	request path (the query may set "kib", the size of the huge modes
	in KiB, instead of .huge_bytes):

	  /reset         close at once without answering, with an RST
	                 (SO_LINGER 0): reset before the response
	  /empty         close at once without answering (FIN)
	  /reset-headers send part of the status line and headers, then RST
	  /reset-body    send the headers and part of the body, then RST
	  /short         "Content-Length: 100", 10 body bytes, then close
	  /slow-headers  send nothing for .delay seconds, then a good answer
	  /slow-body     the headers at once, then the body one byte every
	                 .trickle seconds (.delay seconds in all)
	  /huge-headers  .huge_bytes of header lines (about 100 bytes each),
	                 then a good JSON answer
	  /huge-repeat   like /huge-headers, but every line is "X-Repeat: ..."
	  /huge-line     one header line of .huge_bytes, then a good answer
	  /garbage       "HELLO WORLD\\r\\n\\r\\n", then close
	  /nojson        200 with a text/plain body that is not JSON
	  /ok            200 with {"ok":true}
	  anything else  404 with {"error":"no such fault"}

	Every answer says "Connection: close" and the connection is closed
	after it, so each call gets a connection of its own.  All sleeps are
	bounded and end early at stop(); stopped by cleanup() at the
	latest."""

	GOOD = b'{"ok":true}'

	def __init__(self, delay=3.0, trickle=0.1, huge_bytes=200 * 1024):
		self.delay = delay
		self.trickle = trickle
		self.huge_bytes = huge_bytes
		self.requests = []
		self.lock = threading.Lock()
		self.stopping = threading.Event()
		self.stopped = False
		self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		self.sock.bind((LOOPBACK, 0))
		self.sock.listen(64)
		self.sock.settimeout(0.05)
		self.port = self.sock.getsockname()[1]
		self.thread = threading.Thread(target=self._accept_loop,
		    daemon=True)
		self.thread.start()
		_servers.append(self)

	def url(self, path=""):
		return "http://%s:%d%s" % (LOOPBACK, self.port, path)

	def received(self, path_prefix=None):
		with self.lock:
			return [r for r in self.requests if path_prefix is None or
			    r.path.startswith(path_prefix)]

	def _accept_loop(self):
		while not self.stopping.is_set():
			try:
				conn, _ = self.sock.accept()
			except socket.timeout:
				continue
			except OSError:
				return
			threading.Thread(target=self._serve, args=(conn,),
			    daemon=True).start()

	def _read_request(self, conn):
		conn.settimeout(0.1)
		deadline = time.monotonic() + 5.0
		data = b""
		while b"\r\n\r\n" not in data:
			if (time.monotonic() >= deadline or len(data) > 65536 or
			    self.stopping.is_set()):
				return None
			try:
				c = conn.recv(65536)
			except socket.timeout:
				continue
			if not c:
				return None
			data += c
		head, _, body = data.partition(b"\r\n\r\n")
		lines = head.decode("latin-1").split("\r\n")
		parts = lines[0].split(" ")
		if len(parts) < 2:
			return None
		hdrs = {}
		for line in lines[1:]:
			k, _, v = line.partition(":")
			hdrs[k.strip().lower()] = v.strip()
		try:
			n = int(hdrs.get("content-length") or 0)
		except ValueError:
			n = 0
		while len(body) < n and time.monotonic() < deadline and \
		    not self.stopping.is_set():
			try:
				c = conn.recv(65536)
			except socket.timeout:
				continue
			if not c:
				break
			body += c
		return ServedRequest(parts[0], parts[1], hdrs, body)

	def _rst(self, conn):
		conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
		    b"\x01\x00\x00\x00\x00\x00\x00\x00")
		conn.close()

	def _sleep(self, secs):
		"""False if stop() came first."""
		return not self.stopping.wait(secs)

	@staticmethod
	def _head(status, ctype, length, extra=b""):
		return (b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype +
		    b"\r\nContent-Length: %d\r\nConnection: close\r\n" % length +
		    extra + b"\r\n")

	def _serve(self, conn):
		try:
			req = self._read_request(conn)
			if req is None:
				conn.close()
				return
			with self.lock:
				self.requests.append(req)
			conn.settimeout(5.0)
			path, _, query = req.path.partition("?")
			mode = path.rstrip("/").rsplit("/", 1)[-1]
			huge = self.huge_bytes
			for kv in query.split("&"):
				k, _, v = kv.partition("=")
				if k == "kib" and v.isdigit():
					huge = int(v) * 1024
			if self._act(conn, mode, huge) == "rst":
				self._rst(conn)
				return
		except OSError:
			pass	# the daemon gave up on us: fine
		try:
			conn.close()
		except OSError:
			pass

	def _act(self, conn, mode, huge):
		good = self._head(b"200 OK", b"application/json",
		    len(self.GOOD)) + self.GOOD
		if mode == "reset":
			return "rst"
		if mode == "empty":
			return None
		if mode == "reset-headers":
			conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: applica")
			time.sleep(0.05)
			return "rst"
		if mode == "reset-body":
			conn.sendall(self._head(b"200 OK", b"application/json",
			    100) + b'{"partial":')
			time.sleep(0.05)
			return "rst"
		if mode == "short":
			conn.sendall(self._head(b"200 OK", b"application/json",
			    100) + b'{"a":"0123')
			time.sleep(0.05)
			return None
		if mode == "slow-headers":
			if self._sleep(self.delay):
				conn.sendall(good)
			return None
		if mode == "slow-body":
			n = max(int(self.delay / self.trickle), 8)
			body = b'{"a":"' + b"x" * (n - 8) + b'"}'
			conn.sendall(self._head(b"200 OK", b"application/json",
			    len(body)))
			for i in range(len(body)):
				if not self._sleep(self.trickle):
					return None
				conn.sendall(body[i:i + 1])
			return None
		if mode in ("huge-headers", "huge-repeat"):
			lines = []
			size = 0
			i = 0
			while size < huge:
				if mode == "huge-repeat":
					line = b"X-Repeat: %05d %s\r\n" % (i,
					    b"p" * 84)
				else:
					line = b"X-Pad-%05d: %s\r\n" % (i,
					    b"p" * 85)
				lines.append(line)
				size += len(line)
				i += 1
			conn.sendall(self._head(b"200 OK", b"application/json",
			    len(self.GOOD), b"".join(lines)) + self.GOOD)
			return None
		if mode == "huge-line":
			conn.sendall(self._head(b"200 OK", b"application/json",
			    len(self.GOOD), b"X-Huge: " + b"h" * huge +
			    b"\r\n") + self.GOOD)
			return None
		if mode == "garbage":
			conn.sendall(b"HELLO WORLD\r\n\r\n")
			return None
		if mode == "nojson":
			body = b"this is not JSON, sorry\n"
			conn.sendall(self._head(b"200 OK", b"text/plain",
			    len(body)) + body)
			return None
		if mode == "ok":
			conn.sendall(good)
			return None
		body = b'{"error":"no such fault"}'
		conn.sendall(self._head(b"404 Not Found", b"application/json",
		    len(body)) + body)
		return None

	def stop(self):
		"""Stop accepting, end every sleep, close the listening socket
		(the port then refuses connections)."""
		if self.stopped:
			return
		self.stopped = True
		self.stopping.set()
		self.thread.join(timeout=5)
		try:
			self.sock.close()
		except OSError:
			pass
