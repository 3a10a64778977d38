#!/usr/bin/python3
# install.t: "make install" into a temporary DESTDIR (SPEC section 7), then
# the installed SysV init script run against that tree: start, status,
# start when running, configtest, reload (a new endpoint is served, a bad
# file is refused), restart, stop, a stale pidfile, and the installed
# systemd unit, logrotate file, sample config and import tool.
#
# The daemon started by the init script detaches (setsid), so it is not
# one of the processes sytest spawned: its process group is added to
# sytest's cleanup list as soon as its pid is known.

import json
import os
import re
import stat
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E


def find(root, suffix):
	"""The installed file whose path ends with suffix, or None."""
	for d, _, files in os.walk(root):
		for f in files:
			p = os.path.join(d, f)
			if p.endswith(suffix):
				return p
	return None


def read(path):
	try:
		with open(path) as f:
			return f.read()
	except (OSError, TypeError):
		return ""


def make_install(builddir, destdir):
	"""make install DESTDIR=destdir, outside the make that runs the
	tests (its jobserver and flags are not ours)."""
	env = {k: v for k, v in os.environ.items() if k not in
	    ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "DESTDIR")}
	try:
		p = subprocess.run(["make", "-C", builddir, "install",
		    "DESTDIR=" + destdir], stdin=subprocess.DEVNULL,
		    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
		    timeout=150)
	except subprocess.TimeoutExpired:
		return None, "make install timed out"
	return p.returncode, p.stdout.decode("utf-8", "replace")


def main(tap):
	env = T.require_env()
	tmp = T.tmpdir()
	dest = os.path.join(tmp, "dest")

	# --- make install
	rc, out = make_install(env.builddir, dest)
	if rc != 0:
		tap.ok(False, "make install DESTDIR=... exits 0", out[-3000:])
		raise T.Bail("make install failed")
	tap.ok(True, "make install DESTDIR=... exits 0")
	files = {}
	for key, suffix in (("daemon", "/sbin/switchyard"),
	    ("man8", "/man8/switchyard.8"),
	    ("man5", "/man5/switchyard.json.5"),
	    ("sample", "/switchyard/switchyard.json.sample"),
	    ("config", "/switchyard/switchyard.json"),
	    ("unit", "/systemd/system/switchyard.service"),
	    ("initd", "/init.d/switchyard"),
	    ("logrotate", "/logrotate.d/switchyard"),
	    ("import", "/bin/switchyard-import"),
	    ("console", "/switchyard/console/index.html"),
	    ("console.css", "/switchyard/console/console.css"),
	    ("console.js", "/switchyard/console/console.js")):
		files[key] = find(dest, suffix)
		tap.ok(files[key] is not None, "installed: %s" % suffix.lstrip(
		    "/"))
	if not files["daemon"] or not files["initd"]:
		raise T.Bail("the daemon or the init script was not installed")
	initd, daemon = files["initd"], files["daemon"]
	tap.ok(os.stat(initd).st_mode & stat.S_IXUSR and
	    os.stat(files["import"] or initd).st_mode & stat.S_IXUSR,
	    "the init script and switchyard-import are executable")
	sbindir = os.path.dirname(daemon)[len(dest):]
	edited = {k: read(files[k]) for k in ("unit", "initd", "logrotate",
	    "sample")}
	tap.ok(not any(re.search(r"@\w+@", t) for t in edited.values()) and
	    (sbindir + "/switchyard") in edited["initd"] and
	    (sbindir + "/switchyard") in edited["unit"],
	    "installed files carry the configured paths (%s), no @var@ left" %
	    sbindir)
	unit = edited["unit"]
	tap.ok(re.search(r"(?m)^PIDFile=/\S+/switchyard\.pid$", unit) and
	    re.search(r"(?m)^ExecStartPre=\S+/switchyard -t\b", unit) and
	    re.search(r"(?m)^ExecReload=.*\bHUP\b", unit) and
	    re.search(r"(?m)^ExecStop=.*\bTERM\b", unit) and
	    re.search(r"(?m)^Type=forking$", unit),
	    "systemd unit: forking, PIDFile, ExecStartPre -t, ExecReload HUP, "
	    "ExecStop TERM", unit)
	tap.ok(re.search(r"### BEGIN INIT INFO.*# Provides: +switchyard.*"
	    r"# Default-Start:.*### END INIT INFO", edited["initd"], re.S) and
	    T.run(["sh", "-n", initd])[0] == 0,
	    "init script: LSB header, valid sh")
	tap.ok(re.search(r"postrotate.*USR1.*endscript", edited["logrotate"],
	    re.S), "logrotate file: USR1 after rotation", edited["logrotate"])
	sample = edited["sample"]
	try:
		sdoc = json.loads(sample)
	except ValueError:
		sdoc = None
	tap.ok(sdoc and sdoc["server"].get("user") == "switchyard" and
	    sdoc["server"]["log"]["error"] == "syslog" and
	    sdoc["server"]["registryPath"].endswith("/lib/switchyard") and
	    sdoc["server"]["pidFile"].endswith("/switchyard.pid") and
	    read(files["config"]) == sample,
	    "the sample: user switchyard, syslog, registry and pidfile paths; "
	    "switchyard.json installed from it", sample)
	if sdoc:
		# the sample as it is but for what a test cannot have
		sdoc["server"].update({"user": "root", "group": None,
		    "registryPath": os.path.join(tmp, "sample-reg"),
		    "pidFile": os.path.join(tmp, "sample.pid")})
		sf = os.path.join(tmp, "sample.json")
		with open(sf, "w") as f:
			json.dump(sdoc, f)
		rc, out, err = T.run([daemon, "-t", "-c", sf])
	else:
		rc, out, err = None, "", "no sample"
	tap.ok(rc == 0 and "configuration ok" in out, "the installed daemon "
	    "accepts the sample (user and paths changed)", out + err)
	cdir = os.path.dirname(files["console"] or "/nonexistent/x")
	tap.ok(all(files[k] and read(files[k]) == read(os.path.join(
	    env.srcdir, "console", os.path.basename(files[k]))) for k in
	    ("console", "console.css", "console.js")) and
	    (cdir[len(dest):] + "\0").encode() in open(daemon, "rb").read(),
	    "the web console's files are installed as shipped, where the "
	    "installed daemon looks for them (%s)" % cdir[len(dest):])
	rc, out, err = T.run([files["import"] or "/nonexistent", "-h"])
	tap.ok(rc == 0 and "usage" in out.lower(), "the installed "
	    "switchyard-import runs", out + err)

	# --- a configuration in the temporary directory
	up = T.Upstream(env, tmp).start()
	port = T.free_port()
	run = os.path.join(tmp, "run")
	os.mkdir(run)
	pidfile = os.path.join(run, "switchyard.pid")
	logfile = os.path.join(tmp, "switchyard.log")
	T.add_log("daemon log", logfile)

	def config(**extra):
		eps = {"adder": E("/adder")}
		eps.update(extra)
		cfg = T.make_config(tmp, port, {"arith": {"url": up.url,
		    "endpoints": eps}}, workers=2, server={
		    "pidFile": pidfile, "user": "root", "group": None,
		    "log": {"error": logfile, "level": "debug",
		    "access": None}})
		return cfg

	cfgfile = os.path.join(tmp, "switchyard.json")

	def write_config(cfg):
		with open(cfgfile + ".new", "w") as f:
			f.write(cfg if isinstance(cfg, str) else json.dumps(cfg))
		os.rename(cfgfile + ".new", cfgfile)

	write_config(config())
	defaults = os.path.join(tmp, "default")
	with open(defaults, "w") as f:
		f.write("# as /etc/default/switchyard would\nCONFIG=%s\n"
		    "PIDFILE=%s\nSTOP_TIMEOUT=15\n" % (cfgfile, pidfile))
	# DAEMON from the environment, the rest from the defaults file
	ienv = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
	    "SWITCHYARD_DEFAULTS": defaults, "DAEMON": daemon}

	def initd_run(action, timeout=25):
		p = subprocess.Popen([initd, action], stdin=subprocess.DEVNULL,
		    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=ienv,
		    start_new_session=True)
		try:
			out, _ = p.communicate(timeout=timeout)
		except subprocess.TimeoutExpired:
			p.kill()
			out, _ = p.communicate()
			return None, out.decode("utf-8", "replace")
		return p.returncode, out.decode("utf-8", "replace")

	def pid_now():
		try:
			with open(pidfile) as f:
				return int(f.read().strip())
		except (OSError, ValueError):
			return None

	def track(pid):
		"""Kill the detached daemon at cleanup whatever happens."""
		if pid:
			T.track_pgroup(pid)

	def calls(ep, want=200):
		r = T.wait_until(lambda: (lambda x: x if isinstance(x,
		    T.Response) and x.status == want else None)(T.try_call(
		    port, "arith", ep, {"num1": 2, "num2": 3}, timeout=2)), 5)
		return r

	# --- start, status
	rc, out = initd_run("status")
	tap.is_(rc, 3, "status before start exits 3 (not running)", out)
	rc, out = initd_run("start")
	pid = pid_now()
	track(pid)
	tap.is_(rc, 0, "start exits 0", out)
	tap.ok(pid and T.alive(pid), "start: the pidfile names a running "
	    "master", "pid %r" % pid)
	r = calls("adder")
	tap.ok(r and r.json() == {"sum": 5}, "start: the port answers "
	    "(adder 2+3 = 5)", repr(r))
	rc, out = initd_run("status")
	tap.ok(rc == 0 and str(pid) in out, "status exits 0 and names the pid",
	    "rc %r: %s" % (rc, out))
	rc, out = initd_run("start")
	tap.ok(rc == 0 and pid_now() == pid and "already running" in out,
	    "start when running: exits 0, same pid, says so",
	    "rc %r, pid %r: %s" % (rc, pid_now(), out))
	rc, out = initd_run("configtest")
	tap.ok(rc == 0 and "configuration ok" in out, "configtest exits 0",
	    out)

	# --- reload
	r = T.try_call(port, "arith", "echo", {"x": 1}, timeout=2)
	tap.ok(isinstance(r, T.Response) and r.status == 404,
	    "before reload: endpoint echo is unknown", repr(r))
	write_config(config(echo=E("/echo")))
	rc, out = initd_run("reload")
	tap.is_(rc, 0, "reload exits 0", out)
	r = calls("echo")
	tap.ok(r and (r.json() or {}).get("path") == "/echo",
	    "after reload the new endpoint is served", repr(r))
	tap.is_(pid_now(), pid, "reload keeps the master")
	write_config('{"projects": {"demo": ')
	rc, out = initd_run("reload")
	tap.ok(rc not in (0, None) and "invalid JSON" in out,
	    "reload of a broken file: non-zero exit and the reason", "rc %r: "
	    "%s" % (rc, out))
	r = calls("echo")
	tap.ok(r and T.alive(pid), "after the refused reload the old "
	    "configuration keeps serving", repr(r))
	rc, out = initd_run("configtest")
	tap.ok(rc not in (0, None), "configtest on the broken file fails",
	    out)
	write_config(config(echo=E("/echo")))

	# --- restart
	rc, out = initd_run("restart")
	npid = pid_now()
	track(npid)
	tap.ok(rc == 0 and npid and npid != pid and T.alive(npid) and
	    not T.alive(pid), "restart: exits 0, a new master",
	    "rc %r, old %r, new %r: %s" % (rc, pid, npid, out))
	tap.ok(calls("adder"), "restart: the port answers")
	pid = npid

	# --- stop
	rc, out = initd_run("stop")
	tap.is_(rc, 0, "stop exits 0", out)
	tap.ok(not os.path.exists(pidfile), "stop: pidfile removed")
	tap.ok(not T.alive(pid), "stop: the master is gone")
	tap.ok(T.wait_until(lambda: T.refuses(port), 2), "stop: the port "
	    "refuses connections")
	rc, out = initd_run("status")
	tap.is_(rc, 3, "status after stop exits 3", out)
	rc, out = initd_run("stop")
	tap.is_(rc, 0, "stop when stopped exits 0", out)

	# --- a pidfile left over by a daemon that died
	dead = subprocess.Popen(["true"])
	dead.wait()
	with open(pidfile, "w") as f:
		f.write("%d\n" % dead.pid)
	rc, out = initd_run("status")
	tap.is_(rc, 1, "status with a stale pidfile exits 1", out)
	rc, out = initd_run("start")
	pid = pid_now()
	track(pid)
	tap.ok(rc == 0 and pid and pid != dead.pid and T.alive(pid) and
	    calls("adder"), "start over a stale pidfile: exits 0, serves, "
	    "pidfile rewritten", "rc %r, pid %r: %s" % (rc, pid, out))
	rc, out = initd_run("stop")
	tap.ok(rc == 0 and not os.path.exists(pidfile) and not T.alive(pid),
	    "stop again: exits 0, pidfile gone", out)

	# --- failures
	bad = config()
	del bad["projects"]["demo"]["remoteServices"]["arith"]["endpoints"][
	    "adder"]["rule"]
	write_config(bad)
	rc, out = initd_run("start")
	tap.ok(rc not in (0, None) and 'missing "rule"' in out and
	    not os.path.exists(pidfile), "start with a bad config: non-zero "
	    "exit, the reason, no pidfile", "rc %r: %s" % (rc, out))
	rc, out = initd_run("reload")
	tap.is_(rc, 1, "reload when stopped fails (configtest first)", out)
	write_config(config())
	rc, out = initd_run("reload")
	tap.is_(rc, 7, "reload of a good config when stopped exits 7 (not "
	    "running)", out)
	rc, out = initd_run("bogus")
	tap.ok(rc == 2 and "usage" in out, "an unknown action exits 2 with "
	    "usage", "rc %r: %s" % (rc, out))


T.run_main(None, main, watchdog=240)
