#!/usr/bin/python3
# console.t: the web console (SPEC 9.9) in a real headless Chromium
# (Debian's chromium and chromium-driver, driven with python3-selenium)
# against a running switchyard, its config API and the public API.
# A browser that cannot start is a failure, never a skip.  Cases (-k):
# static (headers, CSP, types, names outside the directory), offline (no
# URL of another origin in the HTML, scripts and styles, and none loaded
# by the browser), off (no console when the API or console is off),
# login, create, edit, invalid, conflict, tryit, delete, expired, logout.
# With --screenshots DIR (or SY_CONSOLE_SHOTS=DIR) the main screens are
# saved there as PNG files (doc/console-*.png come from this).

import html.parser
import json
import os
import re
import shutil
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "..", "lib"))
import sytest as T
import sycfg as C
from sytest import endpoint as E

WAIT = 10		# seconds any browser wait may take
FILES = ("index.html", "console.css", "console.js")
SHOTS = None


def shots_dir():
	if "--screenshots" in sys.argv:
		i = sys.argv.index("--screenshots")
		d = sys.argv[i + 1]
		del sys.argv[i:i + 2]
		return d
	return os.environ.get("SY_CONSOLE_SHOTS") or None


# --------------------------------------------------------------------------
# the browser


class Browser:
	"""A headless Chromium through chromedriver; every wait bounded."""

	def __init__(self, tmp):
		try:
			from selenium import webdriver
			from selenium.webdriver.chrome.service import Service
		except ImportError as e:
			raise T.Bail("python3-selenium is missing (%s): run "
			    "scripts/install-deps" % e)
		for exe in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
			if not os.access(exe, os.X_OK):
				raise T.Bail("%s is missing: run scripts/install-deps "
				    "(Debian's chromium and chromium-driver)" % exe)
		opts = webdriver.ChromeOptions()
		opts.binary_location = "/usr/bin/chromium"
		for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
		    "--disable-dev-shm-usage", "--no-proxy-server",
		    "--no-first-run", "--disable-extensions",
		    "--disable-background-networking", "--disable-sync",
		    "--disable-component-update", "--disable-default-apps",
		    "--window-size=1366,900", "--lang=en-US",
		    "--user-data-dir=" + os.path.join(tmp, "chromium")):
			opts.add_argument(a)
		opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
		log = os.path.join(tmp, "chromedriver.log")
		T.add_log("chromedriver", log)
		# chromedriver and its Chromium in a process group of their
		# own, killed at cleanup whatever happens
		svc = Service("/usr/bin/chromedriver", log_path=log,
		    service_args=["--log-level=WARNING"],
		    popen_kw={"start_new_session": True})
		try:
			self.d = webdriver.Chrome(service=svc, options=opts)
		except Exception as e:
			if svc.process is not None:
				T.track_pgroup(svc.process.pid)
			raise T.Bail("headless Chromium does not start: %s: %s" %
			    (type(e).__name__, str(e).strip()[:800]))
		T.track_pgroup(svc.process.pid)
		self.d.set_page_load_timeout(WAIT)
		self.d.set_script_timeout(WAIT)

	def quit(self):
		try:
			self.d.quit()
		except Exception:
			pass

	def by_id(self, eid):
		from selenium.webdriver.common.by import By
		return self.d.find_element(By.ID, eid)

	def css(self, sel):
		from selenium.webdriver.common.by import By
		return self.d.find_elements(By.CSS_SELECTOR, sel)

	def wait(self, pred, timeout=WAIT):
		"""pred() truthy within timeout (exceptions count as false)."""
		def safe():
			try:
				return pred()
			except Exception:
				return None
		return T.wait_until(safe, timeout, interval=0.1)

	def visible(self, eid):
		return self.wait(lambda: self.by_id(eid).is_displayed())

	def text(self, eid):
		return self.by_id(eid).text

	def value(self, eid):
		return self.by_id(eid).get_attribute("value")

	def type(self, eid, text):
		e = self.by_id(eid)
		e.clear()
		if text:
			e.send_keys(text)

	def set_value(self, eid, text):
		"""Replace a text area's content (send_keys would auto-indent
		nothing, but is slow for long JSON)."""
		self.d.execute_script("var e = document.getElementById("
		    "arguments[0]); e.value = arguments[1]; e.dispatchEvent("
		    "new Event('input'));", eid, text)

	def click(self, eid):
		self.by_id(eid).click()

	def select(self, eid, value):
		from selenium.webdriver.support.ui import Select
		Select(self.by_id(eid)).select_by_value(value)

	def options(self, eid):
		return [o.get_attribute("value") for o in
		    self.css("#%s option" % eid)]

	def service_ids(self):
		return [e.get_attribute("data-service-id") for e in
		    self.css("#services [data-service-id]")]

	def endpoint_text(self, sid, name):
		e = self.css('#services [data-service-id="%s"] '
		    '[data-endpoint="%s"]' % (sid, name))
		return e[0].text if e else None

	def console_log(self):
		try:
			return self.d.get_log("browser")
		except Exception:
			return []

	def shot(self, name, eid=None, block="start"):
		"""Save the window as SHOTS/name, eid scrolled into view."""
		if SHOTS is None:
			return
		os.makedirs(SHOTS, exist_ok=True)
		if eid is not None:
			self.d.execute_script("document.getElementById("
			    "arguments[0]).scrollIntoView({block: arguments[1]})",
			    eid, block)
		self.d.save_screenshot(os.path.join(SHOTS, name))


# --------------------------------------------------------------------------
# helpers


def login(b, url, user=C.USER, key=C.KEY):
	b.d.get(url)
	if not b.visible("login-user"):
		return False
	b.type("login-user", user)
	b.type("login-key", key)
	b.click("login-submit")
	return True


def logged_in(b, project="demo"):
	return b.wait(lambda: b.by_id("project").is_displayed() and
	    b.value("project") == project and len(b.service_ids()) > 0)


def fill_service(b, sid, url, endpoints):
	b.click("service-new")
	b.type("service-id", sid)
	b.type("service-url", url)
	b.set_value("service-endpoints", endpoints if isinstance(endpoints,
	    str) else json.dumps(endpoints, indent=2))


def open_service(b, sid):
	e = b.css('#services [data-service-id="%s"]' % sid)
	if not e:
		return False
	b.d.execute_script("document.getElementById('service-id').value = ''")
	e[0].click()
	return b.wait(lambda: b.value("service-id") == sid)


def endpoints_of(b):
	try:
		return json.loads(b.value("service-endpoints"))
	except ValueError:
		return None


def note(b):
	return b.text("service-note")


class Refs(html.parser.HTMLParser):
	"""Every URL-bearing attribute of a page, and inline code."""

	URL_ATTRS = ("src", "href", "action", "formaction", "srcset",
	    "poster", "data", "background", "manifest", "ping", "cite")

	def __init__(self):
		super().__init__()
		self.urls = []
		self.inline = []
		self.handlers = []
		self._in = None

	def handle_starttag(self, tag, attrs):
		for k, v in attrs:
			if k in self.URL_ATTRS and v is not None:
				self.urls.append((tag, k, v))
			if k.startswith("on") or k == "style":
				self.handlers.append((tag, k))
		if tag in ("script", "style"):
			self._in = tag

	def handle_endtag(self, tag):
		if tag == self._in:
			self._in = None

	def handle_data(self, data):
		if self._in and data.strip():
			self.inline.append(self._in)


def is_local(ref):
	"""A path on the page's own origin: "/x", never "//host" or
	"scheme:"."""
	return ref.startswith("/") and not ref.startswith("//") and \
	    ":" not in ref.split("?")[0]


# --------------------------------------------------------------------------
# cases over HTTP


def case_static(tap, aport, port):
	want_csp = ("default-src 'self'; connect-src 'self' "
	    "http://127.0.0.1:%d; frame-ancestors 'none'; base-uri 'none'; "
	    "form-action 'none'" % port)
	types = {"/": "text/html", "/console/console.css": "text/css",
	    "/console/console.js": "text/javascript"}
	for path, mtype in sorted(types.items()):
		r = T.request(aport, "GET", path)
		tap.is_(r.status, 200, "static: GET %s is 200" % path,
		    r.describe())
		tap.is_(r.media_type(), mtype, "static: %s is %s" % (path,
		    mtype))
		tap.is_(r.header("Content-Security-Policy"), want_csp,
		    "static: %s: the CSP of 9.9 (default-src 'self', the "
		    "public API in connect-src, frame-ancestors 'none')" % path)
		tap.is_(r.header("X-Content-Type-Options"), "nosniff",
		    "static: %s: nosniff" % path)
		tap.ok(r.header("Access-Control-Allow-Origin") is None,
		    "static: %s: no CORS header" % path)
		tap.ok(r.header("Set-Cookie") is None,
		    "static: %s: no cookie" % path)
	csp = T.request(aport, "GET", "/").header(
	    "Content-Security-Policy") or ""
	dirs = {}
	for part in csp.split(";"):
		w = part.split()
		if w:
			dirs[w[0]] = w[1:]
	tap.is_(dirs.get("default-src"), ["'self'"],
	    "static: default-src is exactly 'self'")
	tap.is_(dirs.get("frame-ancestors"), ["'none'"],
	    "static: frame-ancestors is exactly 'none'")
	tap.is_(dirs.get("connect-src"), ["'self'",
	    "http://127.0.0.1:%d" % port], "static: connect-src is 'self' "
	    "and publicURL's origin (from /v1/config/env)")
	env = C.Api(aport).req("GET", "/v1/config/env").json() or {}
	tap.is_(env.get("publicURL"), "http://127.0.0.1:%d" % port,
	    "static: (publicURL of /v1/config/env is that origin)")
	tap.ok(not any("unsafe" in " ".join(v) or "*" in v or "data:" in v
	    for v in dirs.values()), "static: no unsafe-*, * or data: source",
	    csp)
	r = T.request(aport, "HEAD", "/")
	tap.ok(r.status == 200 and r.body == b"" and
	    r.header("Content-Security-Policy") == want_csp,
	    "static: HEAD / is 200, no body, the CSP", r.describe())
	for path in ("/console/missing.js", "/console/../switchyard.json",
	    "/console/%2e%2e/x.js", "/console/.hidden.js",
	    "/console/index.html/x", "/console/console.js.bak",
	    "/console/Console.js", "/console/", "/console/x.exe"):
		r = T.request(aport, "GET", path)
		tap.ok(r.status in (400, 404) and b"projects" not in r.body,
		    "static: %s is not served (%d)" % (path, r.status),
		    r.describe())
	r = T.request(aport, "POST", "/", "{}")
	tap.is_(r.status, 405, "static: POST / is 405", r.describe())
	r = T.request(port, "GET", "/")
	tap.is_(r.status, 404, "static: no console on the public listener",
	    r.describe())
	r = T.request(port, "GET", "/console/console.js")
	tap.is_(r.status, 404, "static: nor its files", r.describe())


def case_offline(tap, aport, srcdir):
	bodies = {}
	for name in FILES:
		path = "/" if name == "index.html" else "/console/" + name
		r = T.request(aport, "GET", path)
		bodies[name] = r.body.decode("utf-8", "replace")
		with open(os.path.join(srcdir, "console", name), "rb") as f:
			tap.ok(r.body == f.read(), "offline: %s is served as "
			    "shipped" % name)
	p = Refs()
	p.feed(bodies["index.html"])
	tap.ok(len(p.urls) >= 2, "offline: the page references its files",
	    repr(p.urls))
	bad = [u for u in p.urls if not is_local(u[2])]
	tap.is_(bad, [], "offline: every src/href of the page is a path on "
	    "the admin listener (no scheme, no //host)")
	for tag, attr, ref in p.urls:
		if is_local(ref):
			r = T.request(aport, "GET", ref)
			tap.is_(r.status, 200, "offline: %s %s=%s is served" %
			    (tag, attr, ref))
	tap.is_(p.inline, [], "offline: no inline script or style")
	tap.is_(p.handlers, [], "offline: no on* or style attribute")
	css = bodies["console.css"]
	tap.is_(re.findall(r"@import|url\s*\(", css), [],
	    "offline: the style sheet has no @import or url()")
	tap.is_(re.findall(r"[a-z][a-z0-9+.-]*://", css), [],
	    "offline: the style sheet names no URL")
	js = bodies["console.js"]
	tap.is_(re.findall(r"[a-z][a-z0-9+.-]*://|['\"]//", js), [],
	    "offline: the script names no URL (it builds only paths and "
	    "publicURL's)")
	tap.is_(re.findall(r"\b(importScripts|import\s*\(|eval\s*\(|"
	    r"new\s+Function|XMLHttpRequest|WebSocket|EventSource|"
	    r"sendBeacon|createElement\(\s*['\"]script)", js), [],
	    "offline: no dynamic code or other fetch channel in the script")
	text = re.sub(r'placeholder="[^"]*"', "", bodies["index.html"])
	tap.is_(re.findall(r"[a-z][a-z0-9+.-]*://", text), [],
	    "offline: the page names no URL outside a placeholder")


def case_off(tap, env, tmp, up):
	"""The API off (no credentials) and console false: / is 404."""
	for label, admin in (("console false", {"console": False}),
	    ("the API off", None)):
		port, aport = T.free_port(), T.free_port()
		if admin is None:
			cfg = T.make_config(tmp, port, {"arith": {"url": up.url,
			    "endpoints": {"adder": E("/adder")}}}, server={
			    "admin": {"listen": "127.0.0.1:%d" % aport}})
		else:
			cfg = C.config(tmp, port, aport, {"arith": {"url":
			    up.url, "endpoints": {"adder": E("/adder")}}},
			    admin=admin)
		d = os.path.join(tmp, "off-" + label.replace(" ", "-"))
		os.mkdir(d)
		sy = T.Daemon(env, d, cfg, name="off").start()
		for path in ("/", "/console/console.js"):
			r = T.request(aport, "GET", path)
			tap.ok(r.status == 404 and r.header(
			    "Content-Security-Policy") is None,
			    "off: %s: GET %s is 404" % (label, path),
			    r.describe())
		r = T.request(aport, "GET", "/healthz")
		tap.is_(r.status, 200, "off: %s: /healthz still served" %
		    label)
		sy.stop()
	# on, but its files are not where the daemon looks: 500 naming them
	port, aport = T.free_port(), T.free_port()
	d = os.path.join(tmp, "nofiles")
	os.mkdir(d)
	saved = os.environ["SWITCHYARD_CONSOLE_DIR"]
	os.environ["SWITCHYARD_CONSOLE_DIR"] = os.path.join(d, "absent")
	try:
		sy = T.Daemon(env, d, C.config(tmp, port, aport, {})).start()
	finally:
		os.environ["SWITCHYARD_CONSOLE_DIR"] = saved
	r = T.request(aport, "GET", "/")
	tap.ok(r.status == 500 and (os.path.join(d, "absent",
	    "index.html")).encode() in r.body, "off: console files missing: "
	    "/ is 500 naming the file", r.describe())
	r = T.request(aport, "GET", "/console/console.js")
	tap.is_(r.status, 404, "off: ... and its other files 404")
	sy.stop()


# --------------------------------------------------------------------------
# cases in the browser


def case_login(tap, b, url):
	b.d.get(url)
	tap.ok(b.visible("login-user"), "login: the login form is shown")
	tap.ok(not b.by_id("project").is_displayed(),
	    "login: nothing else before logging in")
	lbl = [e.text for e in b.css('label[for="login-user"], '
	    'label[for="login-key"]')]
	tap.is_(len(lbl), 2, "login: both fields are labelled", repr(lbl))
	tap.is_(b.by_id("login-key").get_attribute("type"), "password",
	    "login: the key is a password field")
	b.shot("console-login.png")
	b.type("login-user", C.USER)
	b.type("login-key", C.KEY + "-wrong")
	b.click("login-submit")
	tap.ok(b.wait(lambda: b.text("login-error") != ""),
	    "login: a wrong key shows an error")
	tap.like(b.text("login-error"), r"(?i)wrong user or key",
	    "login: ... saying so")
	tap.ok(not b.by_id("project").is_displayed(),
	    "login: ... and stays on the login form")
	tap.ok(b.d.execute_script("return sessionStorage.length") == 0,
	    "login: ... with no token stored")
	# keyboard only: type, then Enter submits
	from selenium.webdriver.common.keys import Keys
	b.type("login-user", C.USER)
	b.type("login-key", C.KEY)
	b.by_id("login-key").send_keys(Keys.ENTER)
	tap.ok(logged_in(b), "login: the right key (Enter in the form) "
	    "logs in, selects the first project and lists its services")
	tap.is_(b.options("project"), ["demo", "other"],
	    "login: #project lists the projects by id")
	tap.is_(b.service_ids(), ["arith", "zeta"],
	    "login: #services lists the first project's services")
	tap.like(b.endpoint_text("arith", "adder") or "",
	    r"POST[\s\S]*adder[\s\S]*/adder[\s\S]*allow",
	    "login: an endpoint shows method, path and rule")
	tap.like(b.endpoint_text("arith", "authed") or "",
	    r"POST[\s\S]*/echo[\s\S]*authenticated",
	    "login: ... the rule summary of each endpoint")
	tap.like(b.endpoint_text("zeta", "st") or "", r"POST[\s\S]*/status/200",
	    "login: a missing method shows as POST (the default)")
	tap.is_(b.options("try-service"), ["arith", "zeta"],
	    "login: the try-it service list is filled")
	tap.is_(b.options("try-endpoint"), ["adder", "authed"],
	    "login: ... and its endpoints")
	b.select("project", "other")
	tap.ok(b.wait(lambda: b.service_ids() == [] and
	    b.by_id("services-empty").is_displayed()),
	    "login: picking another project lists its (no) services")
	b.select("project", "demo")
	tap.ok(b.wait(lambda: b.service_ids() == ["arith", "zeta"]),
	    "login: and back")
	b.shot("console-services.png")


def case_create(tap, b, api, port, up):
	eps = {"sum": {"method": "POST", "path": "/adder",
	    "rule": {"rule": "allow"}, "timeout": 5}}
	fill_service(b, "calc", up.url, eps)
	b.click("service-save")
	tap.ok(b.wait(lambda: "calc" in b.service_ids()),
	    "create: the new service is listed after saving",
	    b.text("service-errors"))
	tap.like(note(b), r"Saved calc", "create: the save is confirmed")
	tap.is_(b.text("service-errors"), "", "create: no error shown")
	got = C.served_services(api) or {}
	tap.is_(got.get("calc"), {"url": up.url, "endpoints": eps},
	    "create: the config API has it as typed")
	r = T.call(port, "calc", "sum", {"num1": 2, "num2": 40})
	tap.ok(r.status == 200 and (r.json() or {}).get("sum") == 42,
	    "create: the public API calls it", r.describe())


def case_edit(tap, b, api, port, up):
	from selenium.webdriver.common.keys import Keys
	b.click("service-new")
	btn = b.css('#services [data-service-id="calc"] button')
	if btn:
		btn[0].send_keys(Keys.ENTER)
	tap.ok(btn and b.wait(lambda: b.value("service-id") == "calc" and
	    b.d.switch_to.active_element.get_attribute("id") ==
	    "service-url"), "edit: Enter on the service's button opens it "
	    "(keyboard), focus in the editor")
	tap.ok(open_service(b, "calc"), "edit: clicking the service opens "
	    "it in the editor")
	tap.ok(b.by_id("service-id").get_attribute("readonly") is not None,
	    "edit: a saved service's id is read-only")
	eps = endpoints_of(b)
	tap.ok(isinstance(eps, dict) and eps.get("sum", {}).get("path") ==
	    "/adder", "edit: the endpoints JSON is in the text area", repr(eps))
	eps["sum"]["path"] = "/echo/moved"
	b.set_value("service-endpoints", json.dumps(eps, indent=2))
	b.click("service-save")
	tap.ok(b.wait(lambda: "/echo/moved" in (b.endpoint_text("calc",
	    "sum") or "")), "edit: the list shows the new path",
	    b.text("service-errors"))
	r = T.call(port, "calc", "sum", {"a": 1})
	tap.ok(r.status == 200 and (r.json() or {}).get("path") ==
	    "/echo/moved", "edit: the public API uses the new path",
	    r.describe())
	# a second save straight after uses the newest ETag: no conflict
	eps["sum"]["timeout"] = 7
	b.set_value("service-endpoints", json.dumps(eps, indent=2))
	b.click("service-save")
	tap.ok(b.wait(lambda: ((C.served_services(api) or {}).get("calc", {})
	    .get("endpoints", {}).get("sum", {}).get("timeout")) == 7),
	    "edit: a second save in a row applies (the newest ETag)",
	    b.text("service-errors"))
	tap.is_(b.text("service-errors"), "", "edit: ... without a conflict")


def case_invalid(tap, b, api):
	open_service(b, "calc")
	before = C.served_services(api)
	bad = {"sum": {"method": "POST", "path": "/adder"},
	    "odd": {"method": "FETCH", "path": "/x", "rule": {"rule": "allow"}}}
	text = json.dumps(bad, indent=2)
	b.set_value("service-endpoints", text)
	b.type("service-url", "ftp://nowhere")
	b.click("service-save")
	tap.ok(b.wait(lambda: b.text("service-errors") != ""),
	    "invalid: a save the API refuses shows errors")
	errs = b.text("service-errors")
	tap.like(errs, r"projects\.demo\.remoteServices\.calc\.endpoints\.sum"
	    r": missing \"rule\"", "invalid: the missing rule, path and "
	    "message, inline", errs)
	tap.like(errs, r"projects\.demo\.remoteServices\.calc\.url: ",
	    "invalid: the bad url, at its path", errs)
	tap.like(errs, r"endpoints\.odd\S*: .*method", "invalid: the bad "
	    "method, at its path", errs)
	tap.like(errs, r"400", "invalid: the status is named", errs)
	tap.is_(b.value("service-endpoints"), text,
	    "invalid: the unsaved edit is kept in the text area")
	tap.is_(b.value("service-url"), "ftp://nowhere",
	    "invalid: ... and in the url field")
	tap.is_(C.served_services(api), before,
	    "invalid: nothing changed on the server")
	b.shot("console-errors.png", "service-errors", "end")
	b.set_value("service-endpoints", "{\"sum\": ")
	b.click("service-save")
	tap.ok(b.wait(lambda: "not JSON" in b.text("service-errors")),
	    "invalid: endpoints that are not JSON are refused before sending",
	    b.text("service-errors"))
	tap.is_(b.value("service-endpoints"), "{\"sum\": ",
	    "invalid: ... the text kept")


def case_conflict(tap, b, api, up):
	tap.ok(open_service(b, "calc"), "conflict: the service is opened")
	# someone else changes it through the API meanwhile
	other = {"url": up.url, "endpoints": {"sum": {"path": "/adder",
	    "rule": {"rule": "allow"}, "method": "POST"}, "extra": {
	    "path": "/echo", "rule": {"rule": "allow"}}}}
	r = api.set("calc", other)
	tap.is_(r.status, 200, "conflict: (another client saved meanwhile)",
	    r.describe())
	mine = endpoints_of(b) or {}
	mine["mine"] = {"path": "/echo/mine", "rule": {"rule": "deny"}}
	text = json.dumps(mine, indent=2)
	b.set_value("service-endpoints", text)
	b.click("service-save")
	tap.ok(b.wait(lambda: "onflict" in b.text("service-errors")),
	    "conflict: saving the stale edit shows a conflict",
	    b.text("service-errors"))
	tap.like(b.text("service-errors"), r"409", "conflict: ... its status")
	tap.is_(b.value("service-endpoints"), text,
	    "conflict: the edit is kept")
	tap.is_((C.served_services(api) or {}).get("calc"), other,
	    "conflict: the other client's change was not overwritten")
	# reopening reads the current version; then saving applies
	tap.ok(open_service(b, "calc") and b.wait(lambda: "extra" in
	    (endpoints_of(b) or {})), "conflict: reopening reads the current "
	    "version")
	eps = endpoints_of(b)
	eps["extra"]["path"] = "/echo/extra2"
	b.set_value("service-endpoints", json.dumps(eps, indent=2))
	b.click("service-save")
	tap.ok(b.wait(lambda: ((C.served_services(api) or {}).get("calc", {})
	    .get("endpoints", {}).get("extra", {}).get("path")) ==
	    "/echo/extra2"), "conflict: ... and saving it then applies",
	    b.text("service-errors"))


def case_tryit(tap, b, port):
	tap.ok(b.wait(lambda: "calc" in b.options("try-service")),
	    "tryit: the new service is offered")
	b.select("try-service", "calc")
	tap.ok(b.wait(lambda: "extra" in b.options("try-endpoint")),
	    "tryit: its endpoints are offered")
	b.select("try-endpoint", "extra")
	b.set_value("try-params", '{"who": "console", "n": 7}')
	tok = T.jwt_hs256({"sub": "u1", "exp": int(time.time()) + 300},
	    "s3cret")
	b.type("try-token", tok)
	b.click("try-send")
	tap.ok(b.wait(lambda: b.text("try-status") != ""),
	    "tryit: sending shows a status")
	tap.is_(b.text("try-status"), "200", "tryit: status 200")
	try:
		res = json.loads(b.text("try-result"))
	except ValueError:
		res = None
	tap.ok(isinstance(res, dict) and res.get("path") == "/echo/extra2",
	    "tryit: the upstream's answer is shown (it was called at the "
	    "endpoint's path)", b.text("try-result")[:300])
	body = json.loads(res.get("body") or "null") if res else None
	tap.is_(body, {"who": "console", "n": 7}, "tryit: the params were "
	    "sent as typed")
	hdrs = {k.lower(): v for k, v in (res or {}).get("headers",
	    {}).items()} if isinstance((res or {}).get("headers"), dict) \
	    else {}
	tap.is_(hdrs.get("authorization"), "Bearer " + tok,
	    "tryit: with the caller token")
	b.shot("console-tryit.png", "try-title")
	# an endpoint the rule denies: the public API's 403 is shown
	b.select("try-service", "arith")
	b.wait(lambda: "authed" in b.options("try-endpoint"))
	b.select("try-endpoint", "authed")
	b.type("try-token", "")
	b.set_value("try-params", "{}")
	b.click("try-send")
	tap.ok(b.wait(lambda: b.text("try-status") == "401"),
	    "tryit: an authenticated endpoint without token shows 401",
	    b.text("try-status"))


def case_delete(tap, b, api, port):
	tap.ok(open_service(b, "calc"), "delete: the service is opened")
	b.click("service-delete")
	alert = b.wait(lambda: b.d.switch_to.alert)
	tap.ok(alert is not None, "delete: asks with window.confirm()")
	if alert is None:
		return
	tap.like(alert.text, r"calc", "delete: ... naming the service")
	alert.dismiss()
	time.sleep(0.3)
	tap.ok("calc" in (C.served_services(api) or {}),
	    "delete: cancelling keeps it")
	b.click("service-delete")
	alert = b.wait(lambda: b.d.switch_to.alert)
	if alert is not None:
		alert.accept()
	tap.ok(b.wait(lambda: "calc" not in b.service_ids()),
	    "delete: confirming removes it from the list")
	tap.ok("calc" not in (C.served_services(api) or {"calc": 1}),
	    "delete: and from the config API")
	r = T.call(port, "calc", "sum", {"a": 1})
	tap.is_(r.status, 404, "delete: the public API no longer has it",
	    r.describe())


def case_expired(tap, b, url):
	now = int(time.time())
	old = T.jwt_hs256({"id": C.USER, "role": "admin", "iat": now - 700,
	    "exp": now - 100}, C.SECRET, "sc-admin-kid")
	b.d.execute_script("sessionStorage.setItem("
	    "'switchyard.console.token', arguments[0])", old)
	b.d.get(url)
	tap.ok(b.visible("login-user") and not b.by_id(
	    "project").is_displayed(), "expired: an expired token opens "
	    "the login form")
	tap.like(b.text("login-error"), r"(?i)expired",
	    "expired: ... saying the session expired")
	tap.ok(login(b, url) and logged_in(b), "expired: logging in again "
	    "works")
	# a token the server refuses (another secret) while in use: the
	# next request's 401 returns to the login form
	bad = T.jwt_hs256({"id": C.USER, "role": "admin", "iat": now,
	    "exp": now + 600}, C.SECRET + "-other", "sc-admin-kid")
	b.d.execute_script("sessionStorage.setItem("
	    "'switchyard.console.token', arguments[0])", bad)
	b.d.get(url)
	tap.ok(b.wait(lambda: b.by_id("login-user").is_displayed() and
	    b.text("login-error") != ""), "expired: a token the API refuses "
	    "(401) returns to the login form", b.text("login-error"))
	tap.ok(b.d.execute_script("return sessionStorage.getItem("
	    "'switchyard.console.token')") is None,
	    "expired: ... and forgets the token")


def case_logout(tap, b, url):
	if not b.by_id("logout").is_displayed():
		login(b, url)
		logged_in(b)
	b.click("logout")
	tap.ok(b.visible("login-user") and not b.by_id(
	    "project").is_displayed(), "logout: back to the login form")
	tap.ok(b.d.execute_script("return sessionStorage.getItem("
	    "'switchyard.console.token')") is None,
	    "logout: the token is forgotten")
	b.d.get(url)
	tap.ok(b.visible("login-user"), "logout: a reload stays logged out")


def case_browser_offline(tap, b, aport, port):
	"""What the browser really loaded, and what it complained of."""
	origin = "http://127.0.0.1:%d" % aport
	public = "http://127.0.0.1:%d/" % port
	names = b.d.execute_script("return performance.getEntriesByType("
	    "'resource').map(function (e) { return e.name; })") or []
	tap.ok(len(names) > 0, "offline: the browser loaded resources",
	    repr(names))
	other = [n for n in names if not n.startswith(origin + "/") and not
	    n.startswith(public)]
	tap.is_(other, [], "offline: every resource the browser fetched "
	    "was from the admin listener or the public API on loopback")
	css = [n for n in names if n.startswith(origin) and n.endswith(
	    ".css")]
	tap.is_(len(css), 1, "offline: (the style sheet was among them)")
	msgs = [m.get("message", "") for m in b.console_log()]
	csp = [m for m in msgs if re.search(r"Content.Security.Policy|"
	    r"Refused to", m)]
	tap.is_(csp, [], "offline: no CSP violation in the browser's log")
	errs = [m for m in msgs if "Uncaught" in m]
	tap.is_(errs, [], "offline: no script error in the browser's log")


def main(tap):
	global SHOTS
	SHOTS = shots_dir()
	env = T.require_env()
	tmp = T.tmpdir()
	# the source tree's files, whatever the environment says
	os.environ["SWITCHYARD_CONSOLE_DIR"] = os.path.join(env.srcdir,
	    "console")
	up = T.Upstream(env, tmp).start()
	port, aport = T.free_port(), T.free_port()
	cfgdir = os.path.join(tmp, "etc")
	os.mkdir(cfgdir)
	cfg = C.two_projects(tmp, up, port, aport)
	sy = T.Daemon(env, cfgdir, cfg).start()
	api = C.Api(aport)
	if api.login().status != 200:
		raise T.Bail("the config API does not log in: the console "
		    "cannot work without SPEC 9.3's routes")
	url = "http://127.0.0.1:%d/" % aport
	if T.selected("static"):
		case_static(tap, aport, port)
	if T.selected("offline"):
		case_offline(tap, aport, env.srcdir)
	browser_cases = ("login", "create", "edit", "invalid", "conflict",
	    "tryit", "delete", "expired", "logout", "offline")
	if any(T.selected(n) for n in browser_cases):
		b = Browser(tmp)
		try:
			browser(tap, b, api, url, aport, port, up)
		finally:
			b.quit()
	sy.stop()
	if T.selected("off"):
		case_off(tap, env, tmp, up)


def browser(tap, b, api, url, aport, port, up):
	if T.selected("login", "create", "edit", "invalid", "conflict",
	    "tryit", "delete"):
		case_login(tap, b, url)
	else:
		login(b, url)
		logged_in(b)
	if T.selected("offline"):
		case_browser_offline(tap, b, aport, port)
	if T.selected("create", "edit", "invalid", "conflict", "tryit",
	    "delete"):
		case_create(tap, b, api, port, up)
	if T.selected("edit", "invalid", "conflict", "tryit", "delete"):
		case_edit(tap, b, api, port, up)
	if T.selected("invalid"):
		case_invalid(tap, b, api)
	if T.selected("conflict", "tryit", "delete"):
		case_conflict(tap, b, api, up)
	if T.selected("tryit"):
		case_tryit(tap, b, port)
	if T.selected("delete"):
		case_delete(tap, b, api, port)
	if T.selected("expired"):
		case_expired(tap, b, url)
	if T.selected("logout"):
		case_logout(tap, b, url)


T.run_main(None, main, watchdog=240)
