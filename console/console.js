/*
 * switchyard console (SPEC 9.9): a client of the config API (9.3) and,
 * for "try it", of the public API.  No framework, no build step, no
 * other origin.  The admin token lives in sessionStorage and is sent as
 * a bearer token; a 401 or an expired token returns to the login form.
 */
"use strict";

(function () {
  var TOKEN_KEY = "switchyard.console.token";
  var state = {
    token: null,
    expiryTimer: null,
    publicURL: "",
    project: "",
    services: [],   /* as GET answers them, sorted by id */
    etag: null,     /* ETag of the list last read */
    editing: null   /* {id, etag} of the service in the editor; null: new */
  };

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, text) {
    var e = document.createElement(tag), k;
    for (k in attrs || {}) {
      if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    }
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  /* The token's claims, or null when it cannot be read. */
  function claims(token) {
    try {
      var p = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      while (p.length % 4) p += "=";
      return JSON.parse(atob(p));
    } catch (e) {
      return null;
    }
  }

  /* API calls. */

  function AuthError(message) { this.message = message; }

  function api(method, path, body, headers) {
    var h = { "Accept": "application/json" }, k, opts;
    for (k in headers || {}) h[k] = headers[k];
    if (state.token) h.Authorization = "Bearer " + state.token;
    opts = { method: method, headers: h, cache: "no-store", credentials: "omit" };
    if (body !== undefined) {
      h["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (r.status === 401 && path !== "/v1/config/login") {
          expire("Your session has expired or is no longer valid; log in again.");
          throw new AuthError("unauthorised");
        }
        return { status: r.status, etag: r.headers.get("ETag"), data: data, text: text };
      });
    });
  }

  function errorText(res) {
    if (res.data && typeof res.data.error === "string") return res.data.error;
    return "HTTP " + res.status + (res.text ? ": " + res.text.slice(0, 200) : "");
  }

  function svcPath(project, id) {
    var p = "/v1/config/projects/" + encodeURIComponent(project) +
      "/remote-service/service";
    return id === undefined ? p : p + "/" + encodeURIComponent(id);
  }

  function status(msg) { $("app-status").textContent = msg || ""; }

  function failed(e) {
    if (e instanceof AuthError) return;
    status("");
    $("service-errors").textContent = "Request failed: " + (e && e.message ? e.message : e);
  }

  /* Session. */

  function showLogin(message) {
    $("app-view").hidden = true;
    $("session").hidden = true;
    $("login-view").hidden = false;
    $("login-error").textContent = message || "";
    $("login-key").value = "";
    $("login-user").focus();
  }

  function expire(message) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    if (state.expiryTimer) clearTimeout(state.expiryTimer);
    state.expiryTimer = null;
    showLogin(message);
  }

  /* Start the session of token; false when it has already expired. */
  function startSession(token) {
    var c = claims(token), left;
    if (!c || typeof c.exp !== "number") return false;
    left = c.exp * 1000 - Date.now();
    if (left <= 0) return false;
    state.token = token;
    sessionStorage.setItem(TOKEN_KEY, token);
    if (state.expiryTimer) clearTimeout(state.expiryTimer);
    state.expiryTimer = setTimeout(function () {
      expire("Your session has expired; log in again.");
    }, Math.min(left, 2147483000));
    $("session-user").textContent = typeof c.id === "string" ? c.id : "";
    $("login-view").hidden = true;
    $("session").hidden = false;
    $("app-view").hidden = false;
    return true;
  }

  function login(ev) {
    ev.preventDefault();
    var user = $("login-user").value, key = $("login-key").value;
    $("login-error").textContent = "";
    $("login-submit").disabled = true;
    api("POST", "/v1/config/login", { user: user, key: key }).then(function (res) {
      $("login-submit").disabled = false;
      if (res.status === 200 && res.data && typeof res.data.token === "string") {
        if (!startSession(res.data.token)) {
          showLogin("The server's token has already expired (check the clocks).");
          return;
        }
        loadAll();
      } else if (res.status === 401) {
        showLogin("Wrong user or key.");
      } else {
        showLogin(errorText(res));
      }
    }).catch(function (e) {
      $("login-submit").disabled = false;
      showLogin("Cannot reach the server: " + (e && e.message ? e.message : e));
    });
  }

  function logout() {
    expire("You have logged out.");
  }

  /* Projects and services. */

  function loadAll() {
    status("Loading…");
    api("GET", "/v1/config/env").then(function (res) {
      if (res.status === 200 && res.data && res.data.publicURL)
        state.publicURL = String(res.data.publicURL).replace(/\/+$/, "");
      $("try-url").textContent = state.publicURL || "(unknown)";
      return api("GET", "/v1/config/projects/*");
    }).then(function (res) {
      var sel = $("project"), list, keep = state.project;
      if (res.status !== 200 || !res.data || !Array.isArray(res.data.result)) {
        status("");
        $("service-errors").textContent = "Cannot list projects: " + errorText(res);
        return null;
      }
      list = res.data.result.map(function (p) { return String(p.id); }).sort();
      clear(sel);
      list.forEach(function (id) { sel.appendChild(el("option", { value: id }, id)); });
      state.project = list.indexOf(keep) >= 0 ? keep : (list[0] || "");
      sel.value = state.project;
      newService();
      return loadServices();
    }).catch(failed);
  }

  /* Read the project's services; resolves when they are shown. */
  function loadServices() {
    if (!state.project) {
      state.services = [];
      renderServices();
      status("No projects.");
      return Promise.resolve();
    }
    return api("GET", svcPath(state.project)).then(function (res) {
      if (res.status !== 200 || !res.data || !Array.isArray(res.data.result)) {
        $("service-errors").textContent = "Cannot list services: " + errorText(res);
        status("");
        return;
      }
      state.services = res.data.result.slice().sort(function (a, b) {
        return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
      });
      state.etag = res.etag;
      renderServices();
      status("");
    });
  }

  function ruleSummary(r) {
    var s, parts;
    if (r === undefined || r === null) return "no rule";
    if (typeof r !== "object" || typeof r.rule !== "string") return "rule: " + JSON.stringify(r);
    switch (r.rule) {
    case "match":
      s = "match " + JSON.stringify(r.f1) + " " + (r.eval || "==") + " " + JSON.stringify(r.f2);
      break;
    case "and":
    case "or":
      parts = Array.isArray(r.clauses) ? r.clauses.map(ruleSummary) : [];
      s = r.rule + "(" + parts.join(", ") + ")";
      break;
    case "webhook":
      s = "webhook " + (r.url || "");
      break;
    default:
      s = r.rule;
    }
    return s.length > 120 ? s.slice(0, 117) + "…" : s;
  }

  function renderServices() {
    var ul = $("services");
    clear(ul);
    state.services.forEach(function (svc) {
      var li = el("li", { "data-service-id": svc.id });
      var eps = el("ul", { "class": "endpoints", "aria-label": "Endpoints of " + svc.id });
      var names;
      if (state.editing && state.editing.id === svc.id) li.className = "current";
      /* the whole item opens on a click; the button is for the keyboard */
      li.appendChild(el("button", { type: "button", "class": "svc-name",
        "aria-label": "Edit service " + svc.id }, svc.id));
      li.appendChild(el("div", { "class": "svc-url" }, svc.url || ""));
      names = Object.keys(svc.endpoints || {}).sort();
      names.forEach(function (name) {
        var ep = svc.endpoints[name] || {}, item = el("li", { "data-endpoint": name });
        item.appendChild(el("span", { "class": "ep-method" }, ep.method || "POST"));
        var where = el("span", {});
        where.appendChild(el("span", { "class": "ep-name" }, name + " "));
        where.appendChild(el("span", { "class": "ep-path" }, ep.path || ""));
        item.appendChild(where);
        item.appendChild(el("span", { "class": "ep-rule" }, ruleSummary(ep.rule)));
        eps.appendChild(item);
      });
      li.appendChild(eps);
      li.addEventListener("click", function () { editService(svc.id).then(focusUrl); });
      ul.appendChild(li);
    });
    $("services-empty").hidden = state.services.length > 0;
    fillTry();
  }

  function findService(id) {
    for (var i = 0; i < state.services.length; i++)
      if (state.services[i].id === id) return state.services[i];
    return null;
  }

  /* The editor. */

  function clearMessages() {
    clear($("service-errors"));
    $("service-note").textContent = "";
  }

  function newService() {
    state.editing = null;
    $("editor-title").textContent = "New service";
    $("service-id").value = "";
    $("service-id").readOnly = false;
    $("service-url").value = "";
    $("service-endpoints").value = JSON.stringify({
      hello: { method: "POST", path: "/hello", rule: { rule: "allow" } }
    }, null, 2);
    $("service-delete").disabled = true;
    clearMessages();
    markCurrent();
  }

  /* Open service id in the editor, read afresh with its ETag. */
  function editService(id) {
    clearMessages();
    return api("GET", svcPath(state.project) + "?id=" + encodeURIComponent(id)).then(
      function (res) {
        var svc = res.status === 200 && res.data && Array.isArray(res.data.result) ?
          res.data.result[0] : null;
        if (!svc) {
          showErrors("Cannot open " + id + ": " + errorText(res));
          return;
        }
        showService(svc, res.etag);
      }).catch(failed);
  }

  function showService(svc, etag) {
    state.editing = { id: svc.id, etag: etag };
    $("editor-title").textContent = "Service " + svc.id;
    $("service-id").value = svc.id;
    $("service-id").readOnly = true;
    $("service-url").value = svc.url || "";
    $("service-endpoints").value = JSON.stringify(
      svc.endpoints === undefined ? {} : svc.endpoints, null, 2);
    $("service-delete").disabled = false;
    markCurrent();
  }

  function focusUrl() { $("service-url").focus(); }

  function markCurrent() {
    var items = $("services").children, i;
    for (i = 0; i < items.length; i++) {
      items[i].className = state.editing &&
        items[i].getAttribute("data-service-id") === state.editing.id ? "current" : "";
    }
  }

  function showErrors(title, errors) {
    var box = $("service-errors"), ul;
    clear(box);
    box.appendChild(el("p", {}, title));
    if (errors && errors.length) {
      ul = el("ul", {});
      errors.forEach(function (e) {
        var li = el("li", {});
        li.appendChild(el("code", {}, e.path || ""));
        li.appendChild(document.createTextNode(": " + (e.message || "")));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
  }

  /* A 409: the list is read again, the editor keeps the edit. */
  function conflict(res) {
    loadServices().catch(failed);
    showErrors("Conflict (409): " + errorText(res) + ". The configuration " +
      "changed since this service was loaded; your edit is kept here. Open " +
      "the service again from the list to see the current version.");
  }

  function save(ev) {
    ev.preventDefault();
    var id = $("service-id").value.trim(), url = $("service-url").value.trim();
    var text = $("service-endpoints").value, endpoints, headers = {};
    clearMessages();
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
      showErrors("Not saved:", [{ path: "id",
        message: "1 to 64 letters, digits, _ or -" }]);
      $("service-id").focus();
      return;
    }
    try {
      endpoints = JSON.parse(text);
    } catch (e) {
      showErrors("Not saved:", [{ path: "endpoints", message: "not JSON: " + e.message }]);
      $("service-endpoints").focus();
      return;
    }
    if (state.editing && state.editing.etag) headers["If-Match"] = state.editing.etag;
    else if (!state.editing && state.etag) headers["If-Match"] = state.etag;
    $("service-save").disabled = true;
    api("POST", svcPath(state.project, id), { id: id, url: url, endpoints: endpoints },
      headers).then(function (res) {
      $("service-save").disabled = false;
      if (res.status === 200) {
        return loadServices().then(function () {
          var svc = findService(id);
          if (svc) showService(svc, state.etag);
          $("service-note").textContent = "Saved " + id + ".";
        });
      }
      if (res.status === 409) conflict(res);
      else if (res.status === 400)
        showErrors("Not saved (400): " + errorText(res), res.data && res.data.errors);
      else showErrors("Not saved (" + res.status + "): " + errorText(res));
    }).catch(function (e) {
      $("service-save").disabled = false;
      failed(e);
    });
  }

  function remove() {
    var id = state.editing && state.editing.id, headers = {};
    if (!id) return;
    if (!window.confirm("Delete service " + id + " of project " + state.project + "?"))
      return;
    clearMessages();
    if (state.editing.etag) headers["If-Match"] = state.editing.etag;
    api("DELETE", svcPath(state.project, id), undefined, headers).then(function (res) {
      if (res.status === 200) {
        return loadServices().then(function () {
          newService();
          $("service-note").textContent = "Deleted " + id + ".";
        });
      }
      if (res.status === 409) conflict(res);
      else showErrors("Not deleted (" + res.status + "): " + errorText(res));
    }).catch(failed);
  }

  /* Try it. */

  function fillTry() {
    var ss = $("try-service"), keep = ss.value;
    clear(ss);
    state.services.forEach(function (svc) {
      ss.appendChild(el("option", { value: svc.id }, svc.id));
    });
    if (findService(keep)) ss.value = keep;
    fillTryEndpoints();
  }

  function fillTryEndpoints() {
    var es = $("try-endpoint"), keep = es.value, svc = findService($("try-service").value);
    var names = svc ? Object.keys(svc.endpoints || {}).sort() : [];
    clear(es);
    names.forEach(function (n) { es.appendChild(el("option", { value: n }, n)); });
    if (names.indexOf(keep) >= 0) es.value = keep;
  }

  function tryIt(ev) {
    ev.preventDefault();
    var svc = $("try-service").value, ep = $("try-endpoint").value, params;
    var token = $("try-token").value.trim(), h = { "Content-Type": "application/json" };
    $("try-status").textContent = "";
    $("try-result").textContent = "";
    if (!svc || !ep) {
      $("try-status").textContent = "pick a service and an endpoint";
      return;
    }
    try {
      params = $("try-params").value.trim() === "" ? {} : JSON.parse($("try-params").value);
    } catch (e) {
      $("try-status").textContent = "params are not JSON: " + e.message;
      return;
    }
    if (token) h.Authorization = "Bearer " + token;
    $("try-send").disabled = true;
    fetch(state.publicURL + "/v1/api/" + encodeURIComponent(state.project) + "/services/" +
      encodeURIComponent(svc) + "/" + encodeURIComponent(ep), {
      method: "POST", headers: h, body: JSON.stringify({ params: params }),
      cache: "no-store", credentials: "omit", mode: "cors"
    }).then(function (r) {
      return r.text().then(function (text) {
        var shown = text;
        try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { shown = text; }
        $("try-status").textContent = String(r.status);
        $("try-result").textContent = shown;
      });
    }).catch(function (e) {
      $("try-status").textContent = "network error";
      $("try-result").textContent = String(e && e.message ? e.message : e) +
        "\n(is " + state.publicURL + " reachable, and does server.cors allow this origin?)";
    }).then(function () { $("try-send").disabled = false; });
  }

  /* Start. */

  function init() {
    var saved = sessionStorage.getItem(TOKEN_KEY);
    $("login-form").addEventListener("submit", login);
    $("logout").addEventListener("click", logout);
    $("project").addEventListener("change", function () {
      state.project = $("project").value;
      newService();
      loadServices().catch(failed);
    });
    $("service-new").addEventListener("click", function () {
      newService();
      $("service-id").focus();
    });
    $("service-form").addEventListener("submit", save);
    $("service-delete").addEventListener("click", remove);
    $("try-service").addEventListener("change", fillTryEndpoints);
    $("try-form").addEventListener("submit", tryIt);
    if (saved && startSession(saved)) loadAll();
    else if (saved) expire("Your session has expired; log in again.");
    else showLogin("");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
