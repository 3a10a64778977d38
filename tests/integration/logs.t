#!/usr/bin/python3
# logs.t: the access log (one line per request, its fields) and USR1
# reopening log files after they were renamed (SPEC section 7, "Logs").

import json
import os
import re
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T

LINE = re.compile(r"^(\S+) (\S+) (\S+):(\d+) (\S+) (\d{3}) (\S+) (\d+) "
    r"(\d+\.\d{3})$")


def read_lines(path):
	try:
		with open(path) as f:
			return f.read().splitlines()
	except OSError:
		return []


def main(tap):
	env = T.require_env()
	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port = T.free_port()
	access = os.path.join(tmp, "access.log")
	cfg = T.adder_config(tmp, port, up, workers=2,
	    server={"log": {"error": "stderr", "level": "info",
	    "access": access}})
	sy = T.Daemon(env, tmp, cfg).start()
	T.add_log("access log", access)
	base = len(read_lines(access))	# start() probes the port once

	r = T.call(port, "arith", "adder", {"num1": 1, "num2": 2},
	    headers={"X-Request-Id": "rid-logs-1"})
	r2 = T.try_call(port, "arith", "nope", {})
	T.wait_until(lambda: len(read_lines(access)) >= base + 2, 3)
	lines = read_lines(access)[base:]
	tap.is_(len(lines), 2, "one access line per request", *lines)
	m = LINE.match(lines[0]) if lines else None
	tap.ok(m, "the line has the documented fields", repr(lines[:1]))
	tap.ok(m and (m.group(2), m.group(3), m.group(5), m.group(6),
	    m.group(7), m.group(8)) == ("rid-logs-1", "127.0.0.1",
	    "demo/arith/adder", "200", "200", str(len(r.body))),
	    "request id, client, project/service/endpoint, status, upstream "
	    "status, bytes", repr(lines[:1]))
	m2 = LINE.match(lines[1]) if len(lines) > 1 else None
	tap.ok(m2 and m2.group(5) == "demo/arith/nope" and
	    m2.group(6) == "404" and m2.group(7) == "-",
	    "a 404 is logged with no upstream status", repr(lines[1:2]),
	    repr(r2))

	# logrotate: rename, USR1, new lines go to the new file
	os.rename(access, access + ".1")
	os.kill(sy.proc.pid, signal.SIGUSR1)
	time.sleep(0.5)
	for i in range(4):
		T.call(port, "arith", "adder", {"num1": i, "num2": 1})
	T.wait_until(lambda: len(read_lines(access)) >= 4, 3)
	tap.is_(len(read_lines(access)), 4, "after USR1 the new access log "
	    "gets the new lines", *read_lines(access))
	tap.is_(len(read_lines(access + ".1")), base + 2, "the renamed "
	    "access log keeps the old lines only")
	tap.ok(sy.alive() and len(sy.workers()) == 2,
	    "master and both workers still running")

	# the error log file of a daemonized switchyard, and -s reopen
	port2 = T.free_port()
	tmp2 = os.path.join(tmp, "d")
	os.mkdir(tmp2)
	errlog = os.path.join(tmp2, "error.log")
	cfg2 = T.adder_config(tmp2, port2, up, workers=1,
	    server={"log": {"error": errlog, "level": "info",
	    "access": None}})
	cfgfile = os.path.join(tmp2, "switchyard.json")
	with open(cfgfile, "w") as f:
		json.dump(cfg2, f)
	T.add_log("daemon error log", errlog)
	rc, out, err = T.run([env.switchyard, "-c", cfgfile], timeout=10)
	pidfile = cfg2["server"]["pidFile"]
	pid = None
	if rc == 0 and os.path.exists(pidfile):
		with open(pidfile) as f:
			pid = int(f.read().strip())
		T.track_pgroup(pid)	# setsid: its own group, killed at exit
	tap.ok(pid and T.wait_until(lambda: isinstance(T.try_call(port2,
	    "arith", "adder", {"num1": 1, "num2": 1}), T.Response), 5),
	    "a daemonized switchyard serves", "rc %r: %s" % (rc, err))
	os.rename(errlog, errlog + ".1")
	rc, out, err = T.run([env.switchyard, "-c", cfgfile, "-s", "reopen"])
	time.sleep(0.3)
	rc2, out, err2 = T.run([env.switchyard, "-c", cfgfile, "-s", "reload"])
	tap.ok(rc == 0 and rc2 == 0 and T.wait_until(lambda: any("reloaded"
	    in l for l in read_lines(errlog)), 3),
	    "after -s reopen the error log is written to a new file",
	    err, err2, *read_lines(errlog))
	tap.ok(any("started" in l for l in read_lines(errlog + ".1")) and
	    not any("reloaded" in l for l in read_lines(errlog + ".1")),
	    "the renamed error log kept the earlier lines only")
	T.run([env.switchyard, "-c", cfgfile, "-s", "stop"])
	tap.ok(T.wait_until(lambda: not T.alive(pid) if pid else False, 8),
	    "-s stop ends the daemon")


T.run_main(None, main, watchdog=60)
