#!/usr/bin/python3
# confcheck.t: settings "switchyard -t", start-up and a reload refuse
# (SPEC section 3, issue 10 items 4 and 9): endpoint headers that frame
# messages, a pidFile that is not a pidfile or is a symbolic link, a
# registry others may write, listen and admin.listen sharing an address,
# an upstreamClient other than "native" or "curl"; and relative paths
# taken from the config file's directory.

import json
import os
import signal
import stat
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E

EP = "projects.demo.remoteServices.arith.endpoints"
PASSWD = "root:x:0:0:root:/root:/bin/bash\n"
write = T.write_config_file


def main(tap):
	env = T.require_env(need_upstream=False)
	tmp = T.tmpdir()
	sy = env.switchyard
	up_url = "http://127.0.0.1:%d" % T.free_port()
	port = T.free_port()

	def config(eps=None, **server):
		e = {"adder": E("/adder")}
		e.update(eps or {})
		return T.make_config(tmp, port, {"arith": {"url": up_url,
		    "endpoints": e}}, server=server)

	def check(cfg, name):
		f = write(os.path.join(tmp, name + ".json"), cfg)
		rc, out, err = T.run([sy, "-t", "-c", f])
		return f, rc, out, err

	def start_fails(cfgfile, desc, needles):
		p = T.spawn([sy, "-c", cfgfile, "-f"], os.path.join(tmp,
		    "fail.out"), os.path.join(tmp, "fail.err"))
		try:
			rc = p.wait(timeout=5)
		except subprocess.TimeoutExpired:
			rc = None
		with open(os.path.join(tmp, "fail.err")) as f:
			err = f.read()
		tap.ok(rc not in (0, None) and all(n in err for n in needles),
		    "start-up with %s exits non-zero, naming %r" % (desc,
		    needles), "rc %r, stderr %r" % (rc, err))

	# --- upstreamClient, the server's and a service's: "native" or "curl"
	cc = config(upstreamClient="libcurl")
	cc["projects"]["demo"]["remoteServices"]["arith"][
	    "upstreamClient"] = "fast"
	f, rc, out, err = check(cc, "client")
	tap.ok(rc == 1 and "server.upstreamClient: must be \"native\" or "
	    "\"curl\"" in out + err and "projects.demo.remoteServices.arith."
	    "upstreamClient: must be \"native\" or \"curl\"" in out + err,
	    "-t refuses an upstreamClient other than native or curl, with "
	    "its path, on the server and on a service", out + err)
	cc = config(upstreamClient="curl")
	cc["projects"]["demo"]["remoteServices"]["arith"][
	    "upstreamClient"] = "native"
	f, rc, out, err = check(cc, "client-ok")
	tap.is_(rc, 0, "-t accepts upstreamClient curl and native", out + err)

	# --- item 4: header settings that frame messages
	bad_eps = {
	    "cl": dict(E("/x"), headers=[{"key": "Content-Length",
		"value": "args.len"}]),
	    "sc": dict(E("/x"), headers=[{"key": "x-sc-token",
		"value": "Bearer x"}]),
	    "hostvar": dict(E("/x"), headers=[{"key": "Host",
		"value": "args.host"}]),
	    "hostadd": dict(E("/x"), headers=[{"key": "host", "value": "h",
		"op": "add"}]),
	    "fwd": dict(E("/x"), forwardHeaders=["Cookie", "Content-Length",
		"Host", "Connection"]),
	    "resp": dict(E("/x"), responseHeaders=["ETag",
		"Transfer-Encoding", "content-length"]),
	}
	f, rc, out, err = check(config(bad_eps), "headers")
	tap.is_(rc, 1, "-t refuses header settings that frame messages",
	    out + err)
	for path, what in (
	    (EP + ".cl.headers[0].key", "Content-Length"),
	    (EP + ".sc.headers[0].key", "x-sc-token"),
	    (EP + ".hostvar.headers[0].value", "Host"),
	    (EP + ".hostadd.headers[0].op", "host"),
	    (EP + ".fwd.forwardHeaders[1]", "Content-Length"),
	    (EP + ".fwd.forwardHeaders[2]", "Host"),
	    (EP + ".fwd.forwardHeaders[3]", "Connection"),
	    (EP + ".resp.responseHeaders[1]", "Transfer-Encoding"),
	    (EP + ".resp.responseHeaders[2]", "content-length")):
		tap.ok(any(l.find(path + ":") >= 0 and what in l
		    for l in err.splitlines()), "-t names %s (%s)" % (path,
		    what), "stderr: %r" % err)
	start_fails(f, "a Content-Length header op", [EP + ".cl.headers[0]"])
	ok_eps = {"vhost": dict(E("/x"), headers=[{"key": "Host",
	    "value": "api.internal"}], forwardHeaders=["Cookie"],
	    responseHeaders=["ETag"])}
	f, rc, out, err = check(config(ok_eps), "vhost")
	tap.ok(rc == 0 and "configuration ok" in out, "-t accepts Host set "
	    "to a literal", "rc %r, stderr %r" % (rc, err))

	# --- item 9a: a pidFile that is not a pidfile, or a symbolic link
	victim = os.path.join(tmp, "passwd")
	with open(victim, "w") as fh:
		fh.write(PASSWD)
	f, rc, out, err = check(config(pidFile=victim), "pidpasswd")
	tap.ok(rc == 1 and "server.pidFile" in err and victim in err and
	    "not a pidfile" in err, "-t refuses a pidFile naming a file with "
	    "other contents, at server.pidFile", "rc %r, stderr %r" % (rc, err))
	start_fails(f, "that pidFile", ["server.pidFile", victim])
	with open(victim) as fh:
		tap.is_(fh.read(), PASSWD, "start-up left that file as it was")
	link = os.path.join(tmp, "link.pid")
	os.symlink(victim, link)
	f, rc, out, err = check(config(pidFile=link), "pidlink")
	tap.ok(rc == 1 and "server.pidFile" in err and "symbolic link" in err,
	    "-t refuses a pidFile that is a symbolic link", "rc %r, stderr %r"
	    % (rc, err))
	start_fails(f, "a symbolic link as pidFile", ["symbolic link"])
	with open(victim) as fh:
		tap.is_(fh.read(), PASSWD, "... and the link's target is "
		    "intact")
	stale = os.path.join(tmp, "stale.pid")
	with open(stale, "w") as fh:
		fh.write("999999\n")
	f, rc, out, err = check(config(pidFile=stale), "pidstale")
	tap.ok(rc == 0, "-t accepts a stale pidfile (a process id and a "
	    "newline)", "rc %r, stderr %r" % (rc, err))

	# --- item 9b: a registry group or others may write
	reg = os.path.join(tmp, "loosereg")
	os.mkdir(reg)
	os.chmod(reg, 0o777)
	f, rc, out, err = check(config(registryPath=reg), "loosedir")
	tap.ok(rc == 1 and reg in err and "chmod 0750 %s" % reg in err,
	    "-t refuses a registry directory of mode 0777 and says how to "
	    "fix it", "rc %r, stderr %r" % (rc, err))
	start_fails(f, "a registry directory of mode 0777",
	    ["chmod 0750 %s" % reg])
	tap.is_(stat.S_IMODE(os.stat(reg).st_mode), 0o777, "the mode is left "
	    "for the admin to fix")
	tap.ok(not os.path.exists(os.path.join(reg, "data.mdb")),
	    "nothing was written in it")
	os.chmod(reg, 0o750)
	f, rc, out, err = check(config(registryPath=reg), "fixeddir")
	tap.is_(rc, 0, "after chmod 0750, -t accepts it", err)
	data = os.path.join(reg, "data.mdb")
	os.chmod(data, 0o666)
	f, rc, out, err = check(config(registryPath=reg), "loosefile")
	tap.ok(rc == 1 and "chmod 0640 %s" % data in err, "-t refuses a "
	    "data.mdb of mode 0666 and says how to fix it", "rc %r, stderr %r"
	    % (rc, err))
	start_fails(f, "a data.mdb of mode 0666", ["chmod 0640 %s" % data])

	# --- item 9c: listen and admin.listen sharing an address
	for lst, adm in (("127.0.0.1:%d" % port, "127.0.0.1:%d" % port),
	    ("0.0.0.0:%d" % port, "127.0.0.1:%d" % port),
	    ("127.0.0.1:%d" % port, ":%d" % port)):
		f, rc, out, err = check(config(listen=[lst],
		    admin={"listen": adm}), "sameaddr")
		tap.ok(rc == 1 and "server.admin.listen" in err and
		    "overlaps" in err, "-t refuses listen %s with admin.listen "
		    "%s" % (lst, adm), "rc %r, stderr %r" % (rc, err))
	start_fails(f, "admin.listen on a listen address",
	    ["server.admin.listen"])
	f, rc, out, err = check(config(listen=["127.0.0.1:%d" % port],
	    admin={"listen": "127.0.0.1:%d" % T.free_port()}), "twoaddr")
	tap.is_(rc, 0, "-t accepts two different addresses", err)

	# --- item 9d: relative paths are the config file's directory's
	cdir = os.path.join(tmp, "etc")
	os.mkdir(cdir)
	os.chmod(tmp, 0o755)	# workers as nobody, when root, reach it
	rel = config(registryPath="reg", pidFile="run.pid")
	rel["server"]["listen"] = ["127.0.0.1:%d" % port]
	rel["server"]["workers"] = 1
	relf = write(os.path.join(cdir, "sy.json"), rel)
	elsewhere = os.path.join(tmp, "elsewhere")
	os.mkdir(elsewhere)
	p = subprocess.run([sy, "-t", "-c", relf], cwd=elsewhere,
	    stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
	tap.ok(p.returncode == 0 and os.path.isdir(os.path.join(cdir, "reg"))
	    and not os.path.exists(os.path.join(elsewhere, "reg")),
	    "-t run elsewhere checks registryPath \"reg\" in the config "
	    "file's directory", "rc %r, stderr %r" % (p.returncode, p.stderr))
	d = T.spawn([sy, "-c", "sy.json", "-f"], os.path.join(tmp,
	    "rel.out"), os.path.join(tmp, "rel.err"), cwd=cdir)
	pidf = os.path.join(cdir, "run.pid")
	up = T.wait_until(lambda: os.path.exists(pidf) and
	    isinstance(T.try_request(port, "GET", "/nothing", timeout=1),
	    T.Response), 10)
	tap.ok(up, "the daemon started with -c sy.json finds its relative "
	    "paths from the config file", open(os.path.join(tmp,
	    "rel.err")).read()[-2000:])
	tap.ok(os.path.exists(os.path.join(cdir, "reg", "data.mdb")),
	    "its registry is in the config file's directory")
	with open(pidf) as fh:
		tap.is_(fh.read().strip(), str(d.pid), "its pidfile too, "
		    "holding the master's pid")
	# a reload that frames messages is refused and the daemon goes on
	bad = json.loads(json.dumps(rel))
	bad["projects"]["demo"]["remoteServices"]["arith"]["endpoints"][
	    "cl"] = bad_eps["cl"]
	write(relf, bad)
	os.kill(d.pid, signal.SIGHUP)
	said = T.wait_until(lambda: "reload failed" in open(os.path.join(tmp,
	    "rel.err")).read(), 5)
	log = open(os.path.join(tmp, "rel.err")).read()
	tap.ok(said and EP + ".cl.headers[0].key" in log, "a reload naming "
	    "Content-Length in headers is refused, with the path in the log",
	    log[-2000:])
	r = T.try_call(port, "arith", "cl", {})
	tap.ok(isinstance(r, T.Response) and r.status == 404 and d.poll() is
	    None, "the running configuration stays (the endpoint is unknown)",
	    repr(r))
	d.send_signal(signal.SIGTERM)
	try:
		rc = d.wait(timeout=10)
	except subprocess.TimeoutExpired:
		rc = None
	tap.is_(rc, 0, "it stops cleanly")
	tap.ok(not os.path.exists(pidf), "and removes its pidfile")


T.run_main(None, main, watchdog=90)
