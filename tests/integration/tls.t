#!/usr/bin/python3
# tls.t: a service's "caFile" (switchyard.json(5)): the PEM file of CA
# certificates its https:// url's certificate must chain to, in place of
# the system's trust store.  A real HTTPS upstream on 127.0.0.1 with a
# certificate signed by a CA the test makes with openssl(1); calls with
# the CA, with none (the system store: refused), with another CA; pooled
# curl handles that must not carry one service's CAs into another's call;
# connection reuse; what "switchyard -t" refuses; a reload and the config
# API that add a caFile.

import json
import os
import re
import shutil
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
from sytest import endpoint as E

SVC = "projects.demo.remoteServices.%s.caFile"

# The HTTPS upstream: HTTP/1.1 with keep-alive, POST /adder answers
# {"sum": num1+num2} as sy-upstream does, GET /stats the number of TLS connections it accepted.
UPSTREAM = r'''
import http.server, json, ssl, sys, threading
cert, key = sys.argv[1], sys.argv[2]
conns = [0]
lock = threading.Lock()

class H(http.server.BaseHTTPRequestHandler):
	protocol_version = "HTTP/1.1"

	def setup(self):
		with lock:
			conns[0] += 1
		super().setup()

	def answer(self, status, doc):
		data = json.dumps(doc).encode()
		self.send_response(status)
		self.send_header("Content-Type", "application/json")
		self.send_header("Content-Length", str(len(data)))
		self.end_headers()
		self.wfile.write(data)

	def do_POST(self):
		n = int(self.headers.get("Content-Length") or 0)
		body = self.rfile.read(n)
		if self.path != "/adder":
			return self.answer(404, {"error": "no such path"})
		try:
			d = json.loads(body)
			self.answer(200, {"sum": d["num1"] + d["num2"]})
		except Exception as e:
			self.answer(400, {"error": str(e)})

	def do_GET(self):
		with lock:
			n = conns[0]
		self.answer(200, {"conns": n})

	def log_message(self, *args):
		pass

class S(http.server.ThreadingHTTPServer):
	daemon_threads = True

	def get_request(self):
		sock, addr = self.socket.accept()
		sock.settimeout(10)
		return ctx.wrap_socket(sock, server_side=True,
		    do_handshake_on_connect=False), addr

	def handle_error(self, request, client_address):
		pass

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = S(("127.0.0.1", 0), H)
print("listening on 127.0.0.1:%d" % srv.server_address[1], flush=True)
srv.serve_forever()
'''


def openssl(tap, tmp, *args):
	rc, out, err = T.run(["openssl"] + list(args), timeout=30)
	if rc != 0:
		raise T.Bail("openssl %s failed (%r): %s" % (args[0], rc, err))


def make_ca(tap, tmp, name):
	key = os.path.join(tmp, name + ".key")
	crt = os.path.join(tmp, name + ".pem")
	openssl(tap, tmp, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
	    "-keyout", key, "-out", crt, "-days", "2", "-subj",
	    "/CN=switchyard test " + name, "-addext",
	    "basicConstraints=critical,CA:TRUE", "-addext",
	    "keyUsage=critical,keyCertSign,cRLSign")
	return key, crt


def make_certs(tap, tmp):
	"""The CA, the upstream's certificate for IP 127.0.0.1 signed by it,
	and another CA: {"ca", "other", "cert", "key"}."""
	cakey, ca = make_ca(tap, tmp, "ca")
	_, other = make_ca(tap, tmp, "other")
	key = os.path.join(tmp, "server.key")
	csr = os.path.join(tmp, "server.csr")
	crt = os.path.join(tmp, "server.pem")
	ext = os.path.join(tmp, "server.ext")
	with open(ext, "w") as f:
		f.write("subjectAltName=IP:127.0.0.1\n"
		    "basicConstraints=CA:FALSE\n"
		    "extendedKeyUsage=serverAuth\n")
	openssl(tap, tmp, "req", "-newkey", "rsa:2048", "-nodes", "-keyout",
	    key, "-out", csr, "-subj", "/CN=127.0.0.1")
	openssl(tap, tmp, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey",
	    cakey, "-CAcreateserial", "-out", crt, "-days", "2", "-extfile",
	    ext)
	return {"ca": ca, "other": other, "cert": crt, "key": key}


class TLSUpstream:
	def __init__(self, tmp, certs):
		self.out = os.path.join(tmp, "tls-upstream.stdout")
		self.err = os.path.join(tmp, "tls-upstream.stderr")
		T.add_log("tls upstream stderr", self.err)
		self.proc = T.spawn(["/usr/bin/python3", "-c", UPSTREAM,
		    certs["cert"], certs["key"]], self.out, self.err)

		def port():
			try:
				with open(self.out) as f:
					s = f.read()
			except OSError:
				return None
			if "listening on 127.0.0.1:" not in s:
				return None
			return int(s.split(":")[1].split()[0])

		self.port = T.wait_until(port, 10)
		if not self.port:
			raise T.Bail("the TLS upstream did not start (exit "
			    "status %r)" % self.proc.poll())
		self.url = "https://127.0.0.1:%d" % self.port

	def conns(self, certs):
		"""Connections accepted so far, asked over TLS with the CA."""
		import http.client
		import ssl
		ctx = ssl.create_default_context(cafile=certs["ca"])
		c = http.client.HTTPSConnection("127.0.0.1", self.port,
		    context=ctx, timeout=5)
		try:
			c.request("GET", "/stats")
			n = json.loads(c.getresponse().read())["conns"]
		finally:
			c.close()
		return n - 1	# not this one


def adder(port, svc, a, b):
	return T.try_call(port, svc, "adder", {"num1": a, "num2": b})


def answered(r, total):
	return isinstance(r, T.Response) and r.status == 200 and \
	    r.json() == {"sum": total}


def status_of(r):
	return r.status if isinstance(r, T.Response) else repr(r)


def main(tap):
	env = T.require_env(need_upstream=True)
	tmp = T.tmpdir()
	certs = make_certs(tap, tmp)
	up = TLSUpstream(tmp, certs)
	plain = T.Upstream(env, tmp).start()
	# a copy of the CA under the config's directory, named relatively
	os.mkdir(os.path.join(tmp, "ca"))
	shutil.copy(certs["ca"], os.path.join(tmp, "ca", "ca.pem"))
	if T.selected("calls"):
		calls(tap, env, tmp, certs, up, plain)
	if T.selected("check"):
		check(tap, env, tmp, certs, up)
	if T.selected("reload"):
		reload(tap, env, tmp, certs, up)
	if T.selected("configapi"):
		configapi(tap, env, tmp, certs, up)


def svc(url, ca=None):
	s = {"url": url, "endpoints": {"adder": E("/adder")}}
	if ca is not None:
		s["caFile"] = ca
	return s


def calls(tap, env, tmp, certs, up, plain):
	port = T.free_port()
	cfg = T.make_config(tmp, port, {
	    "good": svc(up.url, certs["ca"]),
	    "rel": svc(up.url, "ca/ca.pem"),
	    "none": svc(up.url),
	    "other": svc(up.url, certs["other"]),
	    "plain": dict(svc(plain.url), upstreamClient="curl"),
	}, workers=1)
	d = T.Daemon(env, tmp, cfg).start()
	try:
		r = adder(port, "good", 2, 40)
		tap.ok(answered(r, 42), "caFile naming the upstream's CA: 200 "
		    "and the upstream's sum", status_of(r))
		r = adder(port, "rel", 5, 6)
		tap.ok(answered(r, 11), "a caFile relative to the config "
		    "file's directory: 200", status_of(r))
		off = d.log_size()
		r = adder(port, "none", 1, 1)
		tap.is_(status_of(r), 502, "no caFile: the system store does "
		    "not know the CA, 502")
		log = T.wait_until(lambda: "demo/none/adder" in
		    d.log_since(off) and d.log_since(off), 5) or ""
		tap.like(log, r"demo/none/adder: .*(certificate|SSL)",
		    "the worker log says the certificate was refused")
		r = adder(port, "other", 1, 1)
		tap.is_(status_of(r), 502, "caFile of an unrelated CA: 502")
		# one worker, one pool of curl handles: each call takes the
		# handle the one before gave back ("plain" is http:// through
		# libcurl too)
		seq = []
		for i in range(3):
			for s in ("good", "none", "plain", "other", "rel"):
				seq.append((s, status_of(adder(port, s,
				    i, 1))))
		want = [(s, 200 if s in ("good", "rel", "plain") else 502)
		    for i in range(3) for s in ("good", "none", "plain",
		    "other", "rel")]
		tap.is_(seq, want, "interleaved calls with, without and with "
		    "another caFile: a reused curl handle keeps no other "
		    "call's CAs")
		before = up.conns(certs)
		res = [adder(port, "good", i, i) for i in range(20)]
		after = up.conns(certs)
		tap.ok(all(answered(r, 2 * i) for i, r in enumerate(res)),
		    "20 sequential calls with caFile: all 200",
		    [status_of(r) for r in res])
		tap.cmp_ok(after - before, "<=", 1, "20 sequential calls "
		    "reuse the worker's TLS connection (new connections at most "
		    "1 for 1 worker)")
	finally:
		d.stop()


def check(tap, env, tmp, certs, up):
	sy = env.switchyard
	port = T.free_port()
	nocert = os.path.join(tmp, "nocert.pem")
	with open(nocert, "w") as f:
		f.write("not a certificate\n")
	hidden = os.path.join(tmp, "hidden")
	os.mkdir(hidden, 0o700)
	shutil.copy(certs["ca"], os.path.join(hidden, "ca.pem"))
	cases = [
	    ("a missing file", os.path.join(tmp, "missing.pem"), up.url,
	        None, r"missing\.pem\": No such file"),
	    ("a file with no certificate", nocert, up.url, None,
	        r"no PEM certificate"),
	    ("a number", 7, up.url, None, r"must be the path of a PEM file"),
	    ("an http:// service", certs["ca"], "http://127.0.0.1:9",
	        None, r"applies to https:// URLs only"),
	]
	if os.geteuid() == 0:
		cases.append(("a file the workers' user (nobody) cannot read",
		    os.path.join(hidden, "ca.pem"), up.url, {"user": "nobody"},
		    r"workers' user cannot search"))
	else:
		os.chmod(os.path.join(hidden, "ca.pem"), 0)
		cases.append(("a file nobody may read",
		    os.path.join(hidden, "ca.pem"), up.url, None,
		    r"Permission denied"))
	for i, (desc, ca, url, server, why) in enumerate(cases):
		cfg = T.make_config(tmp, port, {"s": svc(url, ca)},
		    server=server)
		f = T.write_config_file(os.path.join(tmp, "check%d.json" % i),
		    cfg)
		rc, out, err = T.run([sy, "-t", "-c", f])
		tap.ok(rc == 1 and (SVC % "s") + ": " in err and
		    re.search(why, err) is not None, "-t refuses caFile: "
		    "%s (exit 1, %s)" % (desc, SVC % "s"),
		    "rc %r, stderr %r" % (rc, err))
	cfg = T.make_config(tmp, port, {"s": svc(up.url, "ca/ca.pem")})
	f = T.write_config_file(os.path.join(tmp, "checkok.json"), cfg)
	rc, out, err = T.run([sy, "-t", "-c", f])
	tap.is_(rc, 0, "-t accepts a good relative caFile", err)


def reload(tap, env, tmp, certs, up):
	port = T.free_port()
	cfg = T.make_config(tmp, port, {"s": svc(up.url)})
	d = T.Daemon(env, tmp, cfg, name="reload").start()
	try:
		r = adder(port, "s", 3, 4)
		tap.is_(status_of(r), 502, "before the reload: no caFile, 502")
		cfg["projects"]["demo"]["remoteServices"]["s"]["caFile"] = \
		    certs["ca"]
		d.write_config(cfg)
		d.kill(signal.SIGHUP)
		r = T.wait_until(lambda: (lambda r: r if answered(r, 7) else
		    None)(adder(port, "s", 3, 4)), 10, 0.2)
		tap.ok(answered(r, 7), "a SIGHUP reload that adds caFile: the "
		    "call now succeeds")
	finally:
		d.stop()


def configapi(tap, env, tmp, certs, up):
	import sycfg as C
	port = T.free_port()
	aport = T.free_port()
	cfg = C.config(tmp, port, aport, {"s": svc(up.url)})
	d = T.Daemon(env, tmp, cfg, name="cfgapi").start()
	try:
		api = C.Api(aport)
		tap.is_(api.login().status, 200, "config API: login")
		r = adder(port, "s", 1, 2)
		tap.is_(status_of(r), 502, "config API: before, no caFile, 502")
		bad = api.set("s", svc(up.url, os.path.join(tmp,
		    "missing.pem")))
		paths = [e.get("path") for e in (bad.json() or {}).get(
		    "errors", [])]
		tap.ok(bad.status == 400 and paths == [SVC % "s"],
		    "config API: a missing caFile is refused with its path",
		    bad.describe())
		ok = api.set("s", svc(up.url, "ca/ca.pem"))
		tap.ok(ok.status in (200, 201), "config API: a service with a "
		    "relative caFile is accepted", ok.describe())
		r = T.wait_until(lambda: (lambda r: r if answered(r, 3) else
		    None)(adder(port, "s", 1, 2)), 10, 0.2)
		tap.ok(answered(r, 3), "config API: the call now succeeds")
	finally:
		d.stop()


T.run_main(None, main)
