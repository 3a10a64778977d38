#!/usr/bin/python3
# package.t: the Debian package on this machine (issue 17).  scripts/package
# builds it from the committed tree (HEAD) and lints it; the test installs
# it with apt-get, checks its files, owners and modes, the switchyard user
# and the service that postinst started through the init script; calls
# through it to the example upstream after a reload with a changed
# configuration; upgrades to a higher version with the configuration
# (a conffile) changed and sees it kept and the service answering; upgrades
# with a configuration the daemon rejects and sees the old daemon keep
# serving; then purges and sees nothing of the package left.
#
# It needs root and changes the machine, so it refuses to start when any of
# it is there already (the package, the user, /etc/switchyard, ports 4122
# and 4123 in use), and puts the machine back however it ends: purge, kill
# what is left of the daemon, remove the user, restore policy-rc.d.
#
# The higher versions are the built package repacked by dpkg-deb with
# another Version in its control file (one build instead of three): dpkg
# and the maintainer scripts see a real upgrade, with the same files.
#
# Services and containers: CI has no running systemd, so postinst starts
# the daemon with invoke-rc.d and the init script.  A container's
# /usr/sbin/policy-rc.d (exit 101) forbids that; while the test runs it is
# replaced by one that allows switchyard alone, and restored at the end.

import grp
import json
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E

PORT, ADMIN = 4122, 4123
CONFIG = "/etc/switchyard/switchyard.json"
PIDFILE = "/run/switchyard.pid"
POLICY = "/usr/sbin/policy-rc.d"
# where the package puts things; after the purge no path under them that
# names switchyard may be left (other paths there may change while the
# test runs: the machine is shared)
WATCHED = ["/etc", "/lib/systemd", "/usr", "/var/lib", "/var/log", "/run"]

state = {"policy": None, "touched": False}


def quiet_signals():
	"""From here on the test only cleans up: no watchdog, no signal
	interrupts it (each command it runs is bounded)."""
	signal.alarm(0)
	for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
		signal.signal(sig, signal.SIG_IGN)


def sh(argv, timeout=180):
	"""(rc, stdout+stderr); rc None after a timeout.  When the test is
	interrupted (watchdog, signal) while apt-get or dpkg runs, the command
	is let finish (for at most timeout seconds) rather than killed half
	way, then the test goes on to put the machine back."""
	env = dict(os.environ, DEBIAN_FRONTEND="noninteractive",
	    PATH="/usr/sbin:/usr/bin:/sbin:/bin")
	for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
		env.pop(k, None)
	p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
	    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
	    start_new_session=True)
	try:
		out, _ = p.communicate(timeout=timeout)
	except subprocess.TimeoutExpired:
		os.killpg(p.pid, signal.SIGKILL)
		out, _ = p.communicate()
		return None, out.decode("utf-8", "replace")
	except BaseException:
		quiet_signals()
		try:
			p.communicate(timeout=timeout)
		except subprocess.TimeoutExpired:
			os.killpg(p.pid, signal.SIGKILL)
			p.communicate()
		raise
	return p.returncode, out.decode("utf-8", "replace")


APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=120"]


def installed_version():
	rc, out = sh(["dpkg-query", "-W", "-f=${Status}|${Version}",
	    "switchyard"], 10)
	return out.strip() if rc == 0 else None


def package_pids():
	"""Every process running the package's daemon (also a binary that an
	upgrade replaced)."""
	pids = []
	for d in os.listdir("/proc"):
		if not d.isdigit():
			continue
		try:
			exe = os.readlink("/proc/%s/exe" % d)
		except OSError:
			continue
		if exe in ("/usr/sbin/switchyard",
		    "/usr/sbin/switchyard (deleted)"):
			pids.append(int(d))
	return pids


def snapshot():
	paths = set()
	for top in WATCHED:
		for d, dirs, files in os.walk(top):
			for n in dirs + files:
				p = os.path.join(d, n)
				if "switchyard" in p:
					paths.add(p)
	return paths


def restore_policy():
	saved = state["policy"]
	if saved is None:
		return
	state["policy"] = None
	if saved == "absent":
		try:
			os.unlink(POLICY)
		except FileNotFoundError:
			pass
	else:
		data, mode = saved
		with open(POLICY + ".sy-tmp", "wb") as f:
			f.write(data)
		os.chmod(POLICY + ".sy-tmp", mode)
		os.rename(POLICY + ".sy-tmp", POLICY)


def allow_switchyard_policy():
	try:
		with open(POLICY, "rb") as f:
			state["policy"] = (f.read(), stat.S_IMODE(os.stat(
			    POLICY).st_mode))
	except FileNotFoundError:
		state["policy"] = "absent"
	with open(POLICY + ".sy-tmp", "w") as f:
		f.write("#!/bin/sh\n# tests/package/package.t: only switchyard "
		    "may start; the original is restored after the test\n"
		    "case \"$1\" in switchyard) exit 0 ;; esac\nexit 101\n")
	os.chmod(POLICY + ".sy-tmp", 0o755)
	os.rename(POLICY + ".sy-tmp", POLICY)


def put_back():
	"""Leave the machine as the test found it, whatever happened."""
	if not state["touched"]:
		return
	quiet_signals()
	state["touched"] = False
	if installed_version():
		sh(["dpkg", "--purge", "switchyard"], 120)
	for pid in package_pids():
		try:
			os.kill(pid, 9)
		except OSError:
			pass
	try:
		pwd.getpwnam("switchyard")
		sh(["deluser", "--system", "--quiet", "switchyard"], 30)
	except KeyError:
		pass
	try:
		grp.getgrnam("switchyard")
		sh(["delgroup", "--system", "--quiet", "switchyard"], 30)
	except KeyError:
		pass
	for d in ("/var/lib/switchyard", "/var/log/switchyard",
	    "/etc/switchyard"):
		shutil.rmtree(d, ignore_errors=True)
	try:
		os.unlink(PIDFILE)
	except FileNotFoundError:
		pass
	restore_policy()


def owner(path):
	st = os.stat(path)
	return "%s:%s %04o" % (pwd.getpwuid(st.st_uid).pw_name,
	    grp.getgrgid(st.st_gid).gr_name, stat.S_IMODE(st.st_mode))


def read(path):
	try:
		with open(path) as f:
			return f.read()
	except OSError:
		return None


def write_config(text):
	"""Rewrite the conffile in place, keeping its owner and mode."""
	with open(CONFIG, "w") as f:
		f.write(text)


def master_pid():
	try:
		pid = int(read(PIDFILE).strip())
	except (AttributeError, ValueError):
		return None
	return pid if T.alive(pid) else None


def adds(want=5):
	"""The adder answers through the packaged daemon within 5 s."""
	def once():
		r = T.try_call(PORT, "arith", "adder", {"num1": 2, "num2": 3},
		    timeout=2)
		if isinstance(r, T.Response) and r.status == 200 and \
		    r.json() == {"sum": want}:
			return r
		return None
	return T.wait_until(once, 5)


def preconditions():
	if os.geteuid() != 0:
		raise T.Bail("package.t installs a package and must run as "
		    "root (scripts/test in CI does)")
	for tool in ("apt-get", "dpkg", "dpkg-deb", "git"):
		if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin"):
			raise T.Bail("%s is missing" % tool)
	if installed_version():
		raise T.Bail("the switchyard package is installed already; "
		    "this test would remove it: not touching it")
	for what, there in (("user", lambda: pwd.getpwnam("switchyard")),
	    ("group", lambda: grp.getgrnam("switchyard"))):
		try:
			there()
			raise T.Bail("a %s switchyard exists already: not "
			    "touching it" % what)
		except KeyError:
			pass
	for p in ("/etc/switchyard", "/var/lib/switchyard",
	    "/var/log/switchyard", PIDFILE):
		if os.path.exists(p):
			raise T.Bail("%s exists already: not touching it" % p)
	for port in (PORT, ADMIN):
		if not T.refuses(port):
			raise T.Bail("127.0.0.1:%d is in use; the package's "
			    "configuration listens there" % port)


def repack(deb, version, tmp):
	"""The same package with another version in its control file."""
	root = os.path.join(tmp, "repack-" + version)
	rc, out = sh(["dpkg-deb", "-R", deb, root], 60)
	if rc != 0:
		raise T.Bail("dpkg-deb -R failed: %s" % out)
	ctl = os.path.join(root, "DEBIAN", "control")
	text = re.sub(r"(?m)^Version: .*$", "Version: " + version, read(ctl))
	with open(ctl, "w") as f:
		f.write(text)
	new = os.path.join(tmp, "switchyard_%s.deb" % version)
	rc, out = sh(["dpkg-deb", "-b", root, new], 60)
	if rc != 0:
		raise T.Bail("dpkg-deb -b failed: %s" % out)
	return new


def main(tap):
	t0 = time.monotonic()
	env = T.require_env()
	preconditions()
	tmp = T.tmpdir()
	before = snapshot()

	# --- build
	rc, out = sh([os.path.join(env.srcdir, "scripts", "package"), "-o",
	    tmp], 600)
	deb = out.strip().splitlines()[-1] if out.strip() else ""
	tap.ok(rc == 0 and deb.endswith(".deb") and os.path.isfile(deb),
	    "scripts/package builds the package, lintian clean, and prints "
	    "its path", out[-3000:])
	if not os.path.isfile(deb):
		raise T.Bail("no package")
	tap.diag("built %s (%d bytes) in %.0f s" % (os.path.basename(deb),
	    os.path.getsize(deb), time.monotonic() - t0))
	m = re.search(r"_([^_]+)_[^_]+\.deb$", deb)
	v1 = m.group(1) if m else "?"
	ac = re.search(r"AC_INIT\(\[switchyard\], *\[([^]]+)\]",
	    read(os.path.join(env.srcdir, "configure.ac")) or "")
	tap.ok(ac and v1.startswith(ac.group(1) + "-"), "the package's "
	    "version %s is configure.ac's" % v1)
	v2, v3 = v1 + "+t2", v1 + "+t3"
	deb2, deb3 = repack(deb, v2, tmp), repack(deb, v3, tmp)

	# --- install
	state["touched"] = True
	allow_switchyard_policy()
	rc, out = sh(APT + ["install", deb], 300)
	tap.ok(rc == 0 and installed_version() == "install ok installed|" + v1,
	    "apt-get install ./%s" % os.path.basename(deb), out[-3000:])
	want = {
		"/usr/sbin/switchyard": "root:root 0755",
		"/usr/bin/switchyard-import": "root:root 0755",
		"/etc/init.d/switchyard": "root:root 0755",
		"/lib/systemd/system/switchyard.service": "root:root 0644",
		"/etc/logrotate.d/switchyard": "root:root 0644",
		"/usr/share/man/man8/switchyard.8.gz": "root:root 0644",
		"/usr/share/man/man5/switchyard.json.5.gz": "root:root 0644",
		"/usr/share/man/man1/switchyard-import.1.gz": "root:root 0644",
		CONFIG: "root:switchyard 0640",
		"/var/lib/switchyard": "switchyard:switchyard 0750",
		"/var/log/switchyard": "switchyard:adm 0750",
	}
	got = {}
	for p in want:
		try:
			got[p] = owner(p)
		except (OSError, KeyError) as e:
			got[p] = repr(e)
	bad = ["%s: %s, want %s" % (p, got[p], w) for p, w in want.items()
	    if got[p] != w]
	tap.ok(not bad, "installed files, owners and modes", *bad)
	rc, conffiles = sh(["dpkg-query", "-W", "-f=${Conffiles}",
	    "switchyard"], 10)
	tap.ok(CONFIG in conffiles and "/etc/init.d/switchyard" in conffiles,
	    "switchyard.json and the init script are conffiles", conffiles)
	rc, listed = sh(["dpkg", "-L", "switchyard"], 10)
	console = os.path.isdir(os.path.join(env.srcdir, "console"))
	tap.ok(("/usr/share/switchyard/console" in listed) == console,
	    "the console's files are in the package exactly when the tree "
	    "has them (%s)" % ("it has" if console else "it has none yet"),
	    listed)
	try:
		u = pwd.getpwnam("switchyard")
		g = grp.getgrnam("switchyard")
		uok = (u.pw_uid < 1000 and u.pw_gid == g.gr_gid and
		    u.pw_dir == "/var/lib/switchyard" and
		    u.pw_shell in ("/usr/sbin/nologin", "/bin/false"))
		udesc = repr(u)
	except KeyError as e:
		uok, udesc = False, repr(e)
	tap.ok(uok, "a system user and group switchyard, home "
	    "/var/lib/switchyard, no shell", udesc)
	cfg = None
	try:
		cfg = json.loads(read(CONFIG))
		srv = cfg["server"]
		cok = (srv["listen"] == ["127.0.0.1:%d" % PORT] and
		    srv["user"] == "switchyard" and
		    srv["log"]["error"] == "syslog" and
		    srv["registryPath"] == "/var/lib/switchyard" and
		    srv["pidFile"] == PIDFILE)
	except (TypeError, ValueError, KeyError):
		cok = False
	tap.ok(cok, "the production config: loopback, user switchyard, "
	    "syslog, /var/lib/switchyard, %s" % PIDFILE, read(CONFIG) or "")
	if not cfg:
		raise T.Bail("no usable configuration")

	# --- the service postinst started through the init script
	pid = T.wait_until(master_pid, 5)
	rc, out = sh(["service", "switchyard", "status"], 20)
	tap.ok(rc == 0 and pid and str(pid) in out, "postinst started the "
	    "service: status exits 0, the pidfile names a running master",
	    "rc %r pid %r: %s" % (rc, pid, out))
	users = set()
	for p in package_pids():
		if p != pid:
			try:
				users.add(pwd.getpwuid(os.stat("/proc/%d" %
				    p).st_uid).pw_name)
			except (OSError, KeyError):
				pass
	tap.ok(users == {"switchyard"}, "its workers run as switchyard",
	    repr(users))
	r = T.wait_until(lambda: (lambda x: x if isinstance(x, T.Response) and
	    x.status == 200 else None)(T.try_request(ADMIN, "GET", "/healthz",
	    timeout=2)), 5)
	tap.ok(r, "the admin listener 127.0.0.1:%d answers /healthz" % ADMIN)

	# --- a changed configuration, reloaded
	up = T.Upstream(env, tmp).start()
	r = T.try_call(PORT, "arith", "adder", {"num1": 2, "num2": 3},
	    timeout=2)
	tap.ok(isinstance(r, T.Response) and r.status == 404,
	    "before the reload: project demo is unknown (404)", repr(r))
	cfg["projects"] = {"demo": {
	    "secrets": [{"alg": "HS256", "secret": "package-test-secret",
	    "isPrimary": True}],
	    "remoteServices": {"arith": {"url": up.url,
	    "endpoints": {"adder": E("/adder")}}}}}
	good = json.dumps(cfg, indent=2) + "\n"
	write_config(good)
	rc, out = sh(["service", "switchyard", "reload"], 30)
	tap.ok(rc == 0, "service switchyard reload exits 0", out)
	tap.ok(adds(), "after the reload a call reaches the loopback "
	    "upstream (adder 2+3 = 5)")
	tap.is_(master_pid(), pid, "the reload kept the master")
	tap.ok(T.wait_until(lambda: os.path.isfile(
	    "/var/log/switchyard/access.log"), 5) and owner(
	    "/var/log/switchyard/access.log").startswith("switchyard:"),
	    "the call is in /var/log/switchyard/access.log, written by "
	    "switchyard")
	rc, out = sh(["service", "switchyard", "force-reload"], 30)
	tap.ok(rc == 0 and master_pid() == pid and adds(),
	    "force-reload: exits 0, same master, still answering", out)

	# --- upgrade, the conffile changed
	rc, out = sh(APT + ["install", deb2], 300)
	npid = T.wait_until(master_pid, 5)
	tap.ok(rc == 0 and installed_version() == "install ok installed|" + v2,
	    "upgrade to %s" % v2, out[-3000:])
	tap.ok(read(CONFIG) == good and owner(CONFIG) ==
	    "root:switchyard 0640", "the changed conffile is kept, "
	    "root:switchyard 0640", owner(CONFIG))
	tap.ok(npid and npid != pid, "the upgrade restarted the daemon",
	    "old %r new %r" % (pid, npid))
	tap.ok(adds(), "after the upgrade the call still reaches the "
	    "upstream")
	pid = npid

	# --- an upgrade with a configuration the new daemon rejects
	del cfg["projects"]["demo"]["remoteServices"]["arith"]["endpoints"][
	    "adder"]["rule"]
	write_config(json.dumps(cfg))
	rc, out = sh(APT + ["install", deb3], 300)
	tap.ok(rc not in (0, None) and 'missing "rule"' in out and
	    "not restarted" in out, "upgrade to %s with a rejected config: "
	    "apt-get fails and says why" % v3, out[-3000:])
	tap.is_(installed_version(), "install ok half-configured|" + v3,
	    "the package is left half-configured")
	tap.ok(master_pid() == pid and adds(), "the old daemon keeps serving "
	    "its old configuration", "pid %r, want %r" % (master_pid(), pid))
	write_config(good)
	rc, out = sh(["dpkg", "--configure", "-a"], 120)
	npid = T.wait_until(master_pid, 5)
	tap.ok(rc == 0 and installed_version() == "install ok installed|" + v3,
	    "config fixed, dpkg --configure -a completes the upgrade", out)
	tap.ok(npid and npid != pid and adds(), "and restarts the daemon, "
	    "which answers", "old %r new %r" % (pid, npid))
	pid = npid

	# --- the init script under service(8)
	rc, out = sh(["service", "switchyard", "restart"], 60)
	npid = T.wait_until(master_pid, 5)
	tap.ok(rc == 0 and npid and npid != pid and adds(),
	    "service switchyard restart: a new master that answers", out)
	pid = npid
	rc, out = sh(["service", "switchyard", "stop"], 60)
	tap.ok(rc == 0 and T.wait_until(lambda: not package_pids(), 5) and
	    not os.path.exists(PIDFILE),
	    "service switchyard stop: no daemon process, no pidfile", out)
	rc, out = sh(["service", "switchyard", "status"], 20)
	tap.is_(rc, 3, "status when stopped exits 3", out)
	rc, out = sh(["service", "switchyard", "start"], 60)
	pid = T.wait_until(master_pid, 5)
	tap.ok(rc == 0 and pid and adds(), "service switchyard start: "
	    "answers again", out)

	# --- remove (the daemon stops, the conffiles stay), then purge
	rc, out = sh(APT + ["remove", "switchyard"], 300)
	tap.ok(rc == 0 and T.wait_until(lambda: not package_pids(), 5) and
	    T.refuses(PORT),
	    "apt-get remove stops the daemon", out[-3000:])
	tap.ok(os.path.isfile(CONFIG) and os.path.isdir("/var/lib/switchyard"),
	    "after remove the configuration and the registry are still there")
	rc, out = sh(APT + ["purge", "switchyard"], 300)
	tap.ok(rc == 0 and installed_version() is None, "apt-get purge "
	    "switchyard", out[-3000:])
	left = [p for p in ("/etc/switchyard", "/var/lib/switchyard",
	    "/var/log/switchyard", PIDFILE, "/etc/init.d/switchyard",
	    "/usr/sbin/switchyard", "/lib/systemd/system/switchyard.service")
	    if os.path.lexists(p)]
	tap.ok(not left, "purge: no configuration, registry, logs, pidfile, "
	    "init script or daemon left", *left)
	gone = []
	for what, get in (("user", pwd.getpwnam), ("group", grp.getgrnam)):
		try:
			get("switchyard")
			gone.append(what)
		except KeyError:
			pass
	tap.ok(not gone, "purge: the switchyard user and group are gone",
	    *gone)
	tap.ok(not package_pids(), "purge: no daemon process left")
	after = snapshot()
	tap.ok(after == before, "purge: the paths naming switchyard under %s "
	    "are those before the install" % ", ".join(WATCHED),
	    *(["added: " + p for p in sorted(after - before)][:20] +
	    ["removed: " + p for p in sorted(before - after)][:20]))
	state["touched"] = False
	saved = state["policy"]
	restore_policy()
	now = "absent" if not os.path.exists(POLICY) else (open(POLICY,
	    "rb").read(), stat.S_IMODE(os.stat(POLICY).st_mode))
	tap.ok(saved is not None and now == saved, "policy-rc.d is back as "
	    "it was")
	tap.diag("package.t ran in %.0f s" % (time.monotonic() - t0))


def body(tap):
	# sytest's Bail ends the process with os._exit (no atexit): put the
	# machine back before that
	try:
		main(tap)
	finally:
		put_back()


T.run_main(None, body, watchdog=900)
