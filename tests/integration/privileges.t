#!/usr/bin/python3
# privileges.t: started as root, switchyard binds first and then runs its
# workers as server.user/server.group (SPEC section 7); the registry
# directory belongs to that user; the master stays root to bind and
# signal.  Needs root (CI runs as root): anything else fails loudly.

import json
import os
import pwd
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T


def ids(pid):
	"""(uid, gid) of pid from /proc/PID/status (real uid and gid)."""
	uid = gid = None
	with open("/proc/%d/status" % pid) as f:
		for line in f:
			if line.startswith("Uid:"):
				uid = int(line.split()[1])
			elif line.startswith("Gid:"):
				gid = int(line.split()[1])
	return uid, gid


def main(tap):
	env = T.require_env()
	if os.geteuid() != 0:
		raise T.Bail("privileges.t must run as root (as CI does)")
	nobody = pwd.getpwnam("nobody")
	tmp = T.tmpdir()
	os.chmod(tmp, 0o755)	# the workers, as nobody, read below it
	up = T.Upstream(env, tmp).start()
	port = T.free_port()
	cfg = T.adder_config(tmp, port, up, workers=2,
	    server={"user": "nobody", "group": "nogroup"})
	sy = T.Daemon(env, tmp, cfg).start()
	r = T.call(port, "arith", "adder", {"num1": 2, "num2": 3})
	tap.ok(r.status == 200 and r.json() == {"sum": 5},
	    "workers running as nobody serve calls", r.describe())
	w = sy.workers()
	tap.ok(len(w) == 2 and all(ids(p)[0] == nobody.pw_uid for p in w),
	    "both workers run as user nobody", [ids(p) for p in w])
	gid = __import__("grp").getgrnam("nogroup").gr_gid
	tap.ok(all(ids(p)[1] == gid for p in w), "and as group nogroup",
	    [ids(p) for p in w])
	tap.is_(ids(sy.proc.pid)[0], 0, "the master stays root")
	st = os.stat(cfg["server"]["registryPath"])
	tap.ok(st.st_uid == nobody.pw_uid and (st.st_mode & 0o777) == 0o750,
	    "the registry directory belongs to nobody, mode 0750",
	    "uid %d mode %o" % (st.st_uid, st.st_mode & 0o777))
	# no server.user: as root, workers run as nobody, never as root
	port3 = T.free_port()
	tmp3 = os.path.join(tmp, "nouser")
	os.mkdir(tmp3)
	cfg3 = T.adder_config(tmp3, port3, up, workers=1,
	    server={"user": None})
	sy3 = T.Daemon(env, tmp3, cfg3, name="nouser").start()
	r = T.call(port3, "arith", "adder", {"num1": 1, "num2": 1})
	w3 = sy3.workers()
	tap.ok(r.status == 200 and w3 and
	    all(ids(p)[0] == nobody.pw_uid for p in w3),
	    "without server.user, workers started by root run as nobody",
	    r.describe(), [ids(p) for p in w3])
	# a registry the workers could not reach fails at start, not later
	hidden = os.path.join(tmp, "private")
	os.mkdir(hidden, 0o700)
	cfg4 = T.adder_config(hidden, T.free_port(), up, workers=1,
	    server={"user": "nobody"})
	f4 = os.path.join(tmp, "private.json")
	with open(f4, "w") as f:
		json.dump(cfg4, f)
	rc, out, err = T.run([env.switchyard, "-t", "-c", f4])
	rc2, out2, err2 = T.run([env.switchyard, "-f", "-c", f4])
	tap.ok(rc == 1 and rc2 == 1 and "cannot search " + hidden in err and
	    "cannot search" in err2, "a registry directory the workers' user "
	    "cannot reach fails -t and start-up", rc, err, rc2, err2)
	cfg2 = T.adder_config(tmp, port, up, workers=2,
	    server={"user": "no-such-user-here"})
	rc, out, err = T.run([env.switchyard, "-t", "-c",
	    sy.write_config(cfg2) or sy.cfgfile])
	tap.ok(rc == 1 and "no-such-user-here" in err,
	    "an unknown server.user is a configuration error", rc, err)


T.run_main(None, main, watchdog=40)
