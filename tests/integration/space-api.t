#!/usr/bin/python3
# space-api.t: Space Cloud's npm client (space-api) against switchyard.
# tests/node/space-api.js makes the calls and reports one JSON line per
# check; this wrapper runs the daemon and turns the lines into TAP.
# node_modules is installed by scripts/test
# (npm install --prefix tests/node); without it this test fails.

import json
import os
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E

NODE_CHECKS = 11


def main(tap):
	env = T.require_env()
	nodedir = os.environ.get("SY_NODE_DIR") or os.path.join(env.srcdir,
	    "tests", "node")
	script = os.path.join(nodedir, "space-api.js")
	mod = os.path.join(nodedir, "node_modules", "space-api", "package.json")
	node = shutil.which("node")
	if not node:
		raise T.Bail("node is not installed")
	if not os.path.isfile(script):
		raise T.Bail("%s is missing" % script)
	if not os.path.isfile(mod):
		raise T.Bail("%s is missing: run 'npm install --prefix %s'" %
		    (os.path.dirname(mod), nodedir))
	with open(mod) as f:
		version = json.load(f).get("version", "")
	tap.ok(version.startswith("0.19."), "space-api 0.19.x installed",
	    "version %r" % version)

	tmp = T.tmpdir()
	up = T.Upstream(env, tmp).start()
	port = T.free_port()
	cfg = T.make_config(tmp, port, {"arith": {"url": up.url, "endpoints": {
	    "adder": E("/adder"),
	    "fail": E("/fail"),
	    "echo": E("/echo"),
	    "slow": E("/slow", method="GET"),
	    "deny": E("/echo", rule={"rule": "deny",
	        "error": "no entry for you"})}}})
	T.Daemon(env, tmp, cfg).start()

	rc, out, err = T.run([node, script, "http://127.0.0.1:%d" % port,
	    "demo", "s3cret"], timeout=30)
	results, done = [], None
	for line in out.splitlines():
		try:
			d = json.loads(line)
		except ValueError:
			tap.diag("node: " + line)
			continue
		if "done" in d:
			done = d["done"]
		else:
			results.append(d)
	tap.ok(rc == 0 and done == NODE_CHECKS,
	    "node space-api.js ran to the end", "exit %r, done %r" % (rc, done),
	    "stderr: " + err[-2000:])
	for i in range(NODE_CHECKS):
		if i < len(results):
			d = results[i]
			tap.ok(d.get("ok"), "space-api: " + d.get("name", "?"),
			    d.get("diag", ""))
		else:
			tap.ok(False, "space-api: check %d did not run" %
			    (i + 1))


T.run_main(None, main, watchdog=60)
