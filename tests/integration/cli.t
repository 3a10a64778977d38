#!/usr/bin/python3
# cli.t: the command line (SPEC section 1): -V, -h, -t, start-up failures,
# the pidfile, and -s reload|reopen|stop through the pidfile.

import os
import re
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E

EP = "projects.demo.remoteServices.arith.endpoints"


def lines_with(text, *needles):
	return [l for l in text.splitlines() if all(n in l for n in needles)]


write = T.write_config_file


def main(tap):
	env = T.require_env(need_upstream=False)
	tmp = T.tmpdir()
	sy = env.switchyard
	up_url = "http://127.0.0.1:%d" % T.free_port()

	def services(**extra):
		eps = {"adder": E("/adder"), "st": E("/status/200")}
		eps.update(extra)
		return {"arith": {"url": up_url, "endpoints": eps}}

	port = T.free_port()
	good = T.make_config(tmp, port, services())
	goodf = write(os.path.join(tmp, "good.json"), good)

	# --- -V, -h, bad option
	rc, out, err = T.run([sy, "-V"])
	tap.is_(rc, 0, "-V exits 0", err)
	tap.like(out + err, r"\d+\.\d+", "-V prints a version")
	rc, out, err = T.run([sy, "-h"])
	tap.is_(rc, 0, "-h exits 0", err)
	text = out + err
	tap.ok(re.search(r"(?i)usage", text) and all(f in text for f in
	    ("-c", "-f", "-t", "-s", "-V")), "-h prints usage with every flag",
	    text)
	rc, out, err = T.run([sy, "-Z"])
	tap.ok(rc not in (0, None) and err.strip(),
	    "an unknown flag: non-zero exit and a message on stderr",
	    "rc %r, stderr %r" % (rc, err))

	# --- -t on good configs
	rc, out, err = T.run([sy, "-t", "-c", goodf])
	tap.is_(rc, 0, "-t on a good config exits 0", err)
	tap.like(out, r"configuration ok", "-t prints 'configuration ok' on "
	    "stdout")
	# as root, a config without server.user runs workers as nobody, who
	# must be able to reach the registry: not in a 0700 directory
	os.chmod(tmp, 0o755)
	minimal = {"server": {"registryPath": os.path.join(tmp, "reg-min")},
	    "projects": good["projects"]}
	rc, out, err = T.run([sy, "-t", "-c",
	    write(os.path.join(tmp, "minimal.json"), minimal)])
	tap.ok(rc == 0 and "configuration ok" in out,
	    "-t: every other server member has a default",
	    "rc %r, stdout %r, stderr %r" % (rc, out, err))

	# --- -t on a missing rule
	bad = T.make_config(tmp, port, services())
	del bad["projects"]["demo"]["remoteServices"]["arith"]["endpoints"][
	    "adder"]["rule"]
	badf = write(os.path.join(tmp, "norule.json"), bad)
	rc, out, err = T.run([sy, "-t", "-c", badf])
	tap.is_(rc, 1, "-t on a missing rule exits 1", out + err)
	hits = lines_with(err, EP + ".adder", 'missing "rule"')
	tap.ok(hits, "stderr names %s and says missing \"rule\"" %
	    (EP + ".adder"), "stderr: %r" % err)
	tap.ok(any("allow" in l for l in hits) or
	    ("allow" in err and hits), "the error says how to make the "
	    "endpoint public (rule allow)", "stderr: %r" % err)
	tap.ok("configuration ok" not in out, "-t does not say ok on a bad "
	    "config")

	# --- -t reports every error
	many = T.make_config(tmp, port, services(
	    badmethod=E("/x", method="FETCH"),
	    badkind=E("/x", kind="sideways"),
	    badrule=E("/x", rule={"rule": "bogus"}),
	    nopath={"method": "POST", "rule": {"rule": "allow"}},
	    crlf=dict(E("/x"), headers=[{"key": "X-A", "value": "a\r\nb"}]),
	    **{"bad name": E("/x")}))
	del many["projects"]["demo"]["remoteServices"]["arith"]["endpoints"][
	    "adder"]["rule"]
	rs = many["projects"]["demo"]["remoteServices"]
	rs["badurl"] = {"url": "not a url", "endpoints": {"e": E("/x")}}
	rs["svc!"] = {"url": up_url, "endpoints": {"e": E("/x")}}
	many["projects"]["demo"]["secrets"][0]["alg"] = "XX999"
	manyf = write(os.path.join(tmp, "many.json"), many)
	rc, out, err = T.run([sy, "-t", "-c", manyf])
	tap.is_(rc, 1, "-t with many errors exits 1", out + err)
	for desc, needles in (
	    ("missing rule", (EP + ".adder", 'missing "rule"')),
	    ("unknown method", (EP + ".badmethod",)),
	    ("unknown kind", (EP + ".badkind",)),
	    ("unknown rule type", (EP + ".badrule",)),
	    ("missing path", (EP + ".nopath",)),
	    ("literal header value with CR LF", (EP + ".crlf",)),
	    ("endpoint name outside [A-Za-z0-9_-]", (EP, "bad name")),
	    ("malformed service url", ("projects.demo.remoteServices.badurl",)),
	    ("service id outside [A-Za-z0-9_-]",
	        ("projects.demo.remoteServices", "svc!")),
	    ("unknown alg", ("projects.demo.secrets",))):
		tap.ok(lines_with(err, *needles), "-t reports the %s with its "
		    "path (%s)" % (desc, needles[0]), "stderr: %r" % err)

	# --- -t on unreadable or unparsable files
	rc, out, err = T.run([sy, "-t", "-c", write(os.path.join(tmp,
	    "syntax.json"), '{"projects": {"demo": ')])
	tap.ok(rc == 1 and err.strip(), "-t on a JSON syntax error exits 1 "
	    "with a message", "rc %r, stderr %r" % (rc, err))
	missing = os.path.join(tmp, "does-not-exist.json")
	rc, out, err = T.run([sy, "-t", "-c", missing])
	tap.ok(rc == 1 and missing in err, "-t on a missing file exits 1 and "
	    "names the file", "rc %r, stderr %r" % (rc, err))
	plain = os.path.join(tmp, "plainfile")
	open(plain, "w").close()
	noreg = T.make_config(tmp, port, services(),
	    server={"registryPath": os.path.join(plain, "registry")})
	noregf = write(os.path.join(tmp, "noreg.json"), noreg)
	rc, out, err = T.run([sy, "-t", "-c", noregf])
	tap.ok(rc == 1 and plain in err, "-t with an unusable registryPath "
	    "exits 1 and names it", "rc %r, stdout %r, stderr %r" %
	    (rc, out, err))

	# --- start-up failures
	pidfile = good["server"]["pidFile"]

	def start_fails(cfgfile, desc, needle_any):
		p = T.spawn([sy, "-c", cfgfile, "-f"],
		    os.path.join(tmp, "fail.out"),
		    os.path.join(tmp, "fail.err"))
		try:
			rc = p.wait(timeout=5)
		except Exception:
			rc = None
		with open(os.path.join(tmp, "fail.err")) as f:
			err = f.read()
		tap.ok(rc not in (0, None), "start-up with %s exits non-zero" %
		    desc, "rc %r" % rc)
		tap.ok(err.strip() and any(n in err for n in needle_any),
		    "start-up with %s: the reason on stderr" % desc,
		    "stderr: %r" % err, "expected one of %r" % (needle_any,))
		return rc

	start_fails(badf, "a missing rule", [EP + ".adder"])
	tap.ok(not os.path.exists(pidfile), "no pidfile after a failed start")
	start_fails(missing, "a missing config file", [missing])
	start_fails(tmp, "a directory as config file", [tmp])
	start_fails(write(os.path.join(tmp, "syntax2.json"), "{nope"),
	    "a JSON syntax error", ["syntax2.json"])
	start_fails(noregf, "an unusable registryPath", [plain])

	busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	busy.bind(("127.0.0.1", 0))
	busy.listen(1)
	bport = busy.getsockname()[1]
	inuse = T.make_config(tmp, bport, services())
	try:
		start_fails(write(os.path.join(tmp, "inuse.json"), inuse),
		    "its port in use", [str(bport), "in use"])
	finally:
		busy.close()
	tap.ok(not os.path.exists(inuse["server"]["pidFile"]),
	    "no pidfile when the port is in use")

	# --- a real start: pidfile, -s reload, -s reopen, -s stop
	good["server"]["workers"] = 0
	d = T.Daemon(env, tmp, good).start()
	tap.is_(d.pidfile_pid(), d.pid, "pidfile holds the master pid")
	tap.ok(len(d.workers()) in d.worker_counts(),
	    "workers 0: one worker per CPU", "workers %r, CPUs %r" %
	    (d.workers(), d.worker_counts()))
	r = T.call(d.port, "arith", "added", {}, timeout=5)
	tap.is_(r.status, 404, "before reload: endpoint 'added' is unknown",
	    r.describe())

	# no upstream runs here: a known endpoint answers 502, an unknown 404
	new = T.make_config(tmp, port, services(added=E("/added")),
	    server={"workers": 0})
	d.write_config(new)
	rc, out, err = T.run([sy, "-c", d.cfgfile, "-s", "reload"])
	tap.is_(rc, 0, "-s reload exits 0", out + err)
	r = T.wait_until(lambda: (lambda x: x if isinstance(x, T.Response) and
	    x.status == 502 else None)(T.try_call(d.port, "arith", "added", {},
	    timeout=2)), 3)
	tap.ok(r, "after -s reload the new endpoint is served (502 from its "
	    "absent upstream, not 404)")
	tap.ok(d.alive(), "master still running after -s reload")

	rc, out, err = T.run([sy, "-c", d.cfgfile, "-s", "reopen"])
	tap.is_(rc, 0, "-s reopen exits 0", out + err)
	r = T.try_request(d.port, "GET", "/nothing-here", timeout=3)
	tap.ok(d.alive() and isinstance(r, T.Response) and r.status == 404,
	    "after -s reopen the master still serves", repr(r))

	workers = d.workers()
	rc, out, err = T.run([sy, "-c", d.cfgfile, "-s", "stop"])
	tap.is_(rc, 0, "-s stop exits 0", out + err)
	st = d.wait_exit(7)
	tap.is_(st, 0, "master exits 0 after -s stop")
	tap.ok(not os.path.exists(pidfile), "pidfile removed on a clean stop")
	tap.ok(T.wait_until(lambda: not any(T.alive(w) for w in workers), 2),
	    "workers gone after -s stop", "workers %r" % workers)
	tap.ok(T.wait_until(lambda: T.refuses(d.port), 1.0),
	    "port refuses connections after stop")

	rc, out, err = T.run([sy, "-c", d.cfgfile, "-s", "stop"])
	tap.ok(rc not in (0, None) and err.strip(),
	    "-s stop with no master running: non-zero exit and a message",
	    "rc %r, stderr %r" % (rc, err))
	rc, out, err = T.run([sy, "-c", d.cfgfile, "-s", "bogus"])
	tap.ok(rc not in (0, None) and err.strip(),
	    "-s with an unknown signal name: non-zero exit and a message",
	    "rc %r, stderr %r" % (rc, err))


T.run_main(None, main, watchdog=60)
