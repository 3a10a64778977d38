/*
 * admin_api.c: Space Cloud's config API (admin_api.h), a transport file
 * next to admin.c.  Reads are served here from the registry records the
 * master commits with every configuration (cfgapi.h), in one read
 * transaction each, so an answer and its ETag are of one version.
 * Logins and writes go to the master over the control channel: a login
 * is checked here (user and key compared in constant time) and counted
 * there; a write is checked for its token here and for everything else
 * (9.5's order) there.  The answer is relayed as the master wrote it.
 *
 * The credentials are read from the registry ("#adm", cfgapi.h) when
 * its generation changes, so that a reload changes them in place.
 *
 * Invariants:
 * - Every request taken ends in exactly one evhttp_send_reply (a client
 *   that went away meanwhile makes libevent free the request then).
 * - Keys, secrets and tokens are never logged or echoed.
 * - The admin secret only signs and checks admin tokens (admintok.c).
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>

#include "admin_api.h"
#include "adminctl.h"
#include "admintok.h"
#include "catalog.h"
#include "config.h"
#include "crypto.h"
#include "http.h"
#include "log.h"
#include "registry.h"
#include "store.h"
#include "util.h"

#define API_PREFIX	"/v1/config/"
#define API_HEALTH	"/v1/api/health-check"
#define API_MAXSEG	6
#define API_CLIENT_MAX	80
#define API_USER_MAX	64

struct admin_api {
	const struct sy_server	*srv;
	struct catalog		*cat;
	struct adminctl		*ctl;
	struct admintok		*tok;		/* NULL: the API is off */
	uint64_t		 gen;		/* tok's registry generation */
	int			 draining;
};

/* A request waiting for the master. */
struct apireq {
	struct admin_api	*api;
	struct evhttp_request	*req;
	int			 login;
};

/* Answers. */

static void
api_reply(struct evhttp_request *req, int status, struct json_object *body,
    const char *etag)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*b;
	const char		*text;

	evhttp_add_header(out, "Content-Type", "application/json");
	evhttp_add_header(out, "Cache-Control", "no-store");
	if (etag != NULL && etag[0] != '\0')
		evhttp_add_header(out, "ETag", etag);
	if ((b = evbuffer_new()) == NULL) {
		json_object_put(body);
		evhttp_send_error(req, 503, NULL);
		return;
	}
	text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	evbuffer_add(b, text, strlen(text));
	evbuffer_add(b, "\n", 1);
	json_object_put(body);
	evhttp_send_reply(req, status, http_reason(status), b);
	evbuffer_free(b);
}

static void
api_error(struct evhttp_request *req, int status, const char *msg)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "rawError", json_object_new_string(""));
	api_reply(req, status, o, NULL);
}

static void
api_405(struct evhttp_request *req, const char *allow)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
	    allow);
	api_error(req, 405, "method not allowed");
}

/* "addr:port" of the client into dst; its address alone into addr. */
static void
api_client(struct evhttp_request *req, char *dst, char *addr, size_t size)
{
	struct evhttp_connection	*evcon;
	char				*a = NULL;
	ev_uint16_t			 port = 0;

	if ((evcon = evhttp_request_get_connection(req)) != NULL)
		evhttp_connection_get_peer(evcon, &a, &port);
	if (a == NULL)
		a = "-";
	snprintf(addr, size, "%s", a);
	snprintf(dst, size, strchr(a, ':') != NULL ? "[%s]:%u" : "%s:%u", a,
	    (unsigned)port);
}

/* The request body, NUL-terminated (borrowed from the request). */
static const char *
api_body(struct evhttp_request *req, size_t *len)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);

	*len = evbuffer_get_length(in);
	evbuffer_add(in, "", 1);
	return ((const char *)evbuffer_pullup(in, -1));
}

/* Tokens and login. */

/*
 * The bearer token of req checked (9.6); 0, or -1 with the 401 sent and
 * the refusal logged.
 */
static int
api_auth(struct admin_api *api, struct evhttp_request *req,
    const char *client)
{
	const char		*h;
	enum admintok_result	 r = ADMINTOK_MALFORMED;

	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) {
		h += 7;
		h += strspn(h, " ");
		r = admintok_check(api->tok, h, strlen(h), (double)time(NULL));
	} else if (h == NULL) {
		log_info("admin: %s no token (401)", client);
		api_error(req, 401, "missing admin token");
		return (-1);
	}
	if (r == ADMINTOK_OK)
		return (0);
	log_info("admin: %s token refused: %s (401)", client,
	    admintok_result_str(r));
	api_error(req, 401, "invalid admin token");
	return (-1);
}

/* 200 {"token": a new admin token}. */
static void
api_token(struct admin_api *api, struct evhttp_request *req)
{
	struct json_object	*o;
	char			*tok;

	if (api->tok == NULL) {		/* turned off meanwhile */
		api_error(req, 404, "not found");
		return;
	}
	if ((tok = admintok_issue(api->tok, (double)time(NULL))) == NULL) {
		api_error(req, 503, "cannot issue a token");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(tok));
	crypto_wipe(tok, strlen(tok));
	free(tok);
	api_reply(req, 200, o, NULL);
}

static void
api_done(const struct ctl_answer *a, void *arg)
{
	struct apireq		*ar = arg;
	struct evhttp_request	*req = ar->req;
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct json_object	*body;
	char			 ra[16];

	if (a == NULL) {
		api_error(req, 503, "the master did not answer");
	} else if (ar->login && a->status == 200)
		api_token(ar->api, req);
	else {
		if (a->status == 429) {
			snprintf(ra, sizeof(ra), "%u", (unsigned)a->retry_after);
			evhttp_add_header(out, "Retry-After", ra);
		}
		body = a->body != NULL ? json_tokener_parse(a->body) : NULL;
		if (body == NULL)
			body = json_object_new_object();
		api_reply(req, (int)a->status, body, a->etag);
	}
	free(ar);
}

static struct apireq *
api_pending(struct admin_api *api, struct evhttp_request *req, int login)
{
	struct apireq	*ar;

	if ((ar = calloc(1, sizeof(*ar))) == NULL)
		return (NULL);
	ar->api = api;
	ar->req = req;
	ar->login = login;
	return (ar);
}

static const char *
api_member(struct json_object *o, const char *name, size_t *len)
{
	struct json_object	*v;

	*len = 0;
	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return (NULL);
	*len = (size_t)json_object_get_string_len(v);
	return (json_object_get_string(v));
}

static void
api_login(struct admin_api *api, struct evhttp_request *req,
    const char *client, const char *addr)
{
	struct json_object	*o;
	struct ctl_login	 l;
	struct apireq		*ar;
	struct store_err	 e;
	const char		*body, *user, *key;
	size_t			 len, ulen, klen;

	body = api_body(req, &len);
	if (store_body_parse(body, len, &o, &e) == -1) {
		api_error(req, 400, "request body is not a JSON object");
		return;
	}
	user = api_member(o, "user", &ulen);
	key = api_member(o, "key", &klen);
	memset(&l, 0, sizeof(l));
	l.addr = (char *)addr;
	l.client = (char *)client;
	l.user = (char *)(user != NULL ? user : "");
	l.ok = user != NULL && key != NULL &&
	    admintok_login_ok(api->tok, user, ulen, key, klen);
	if ((ar = api_pending(api, req, 1)) == NULL ||
	    api->ctl == NULL || adminctl_login(api->ctl, &l, api_done,
	    ar) == NULL) {
		free(ar);
		api_error(req, 503, "the master cannot be reached");
	}
	json_object_put(o);
}

static void
api_write(struct admin_api *api, struct evhttp_request *req,
    const char *client, const char *project, const char *id, int del)
{
	struct ctl_write	 w;
	struct apireq		*ar;
	size_t			 len = 0;

	memset(&w, 0, sizeof(w));
	w.project = (char *)project;
	w.service = (char *)id;
	if (!del) {
		w.body = (char *)api_body(req, &len);
		w.bodylen = len;
	}
	w.if_match = (char *)evhttp_find_header(
	    evhttp_request_get_input_headers(req), "If-Match");
	w.client = (char *)client;
	w.user = (char *)admintok_user(api->tok);
	if ((ar = api_pending(api, req, 0)) == NULL || api->ctl == NULL ||
	    adminctl_write(api->ctl, del ? CTL_DELETE_SERVICE :
	    CTL_SET_SERVICE, &w, api_done, ar) == NULL) {
		free(ar);
		api_error(req, 503, "the master cannot be reached");
	}
}

/* Reads. */

/* What a scan of "R/" records gathers. */
struct api_scan {
	const char		*project;	/* NULL: every project */
	const char		*id;		/* NULL: every service */
	int			 services;	/* list the services */
	int			 found;		/* the project's record */
	struct json_object	*list;
};

/* "R/<project>" or "R/<project>/<id>": 0, with the parts' lengths. */
static int
api_split_key(const char *key, size_t keylen, size_t *plen,
    const char **sid, size_t *slen)
{
	const char	*p = key + 2, *slash;

	if (keylen < 3 || memcmp(key, "R/", 2) != 0)
		return (-1);
	slash = memchr(p, '/', keylen - 2);
	*plen = slash != NULL ? (size_t)(slash - p) : keylen - 2;
	*sid = slash != NULL ? slash + 1 : NULL;
	*slen = slash != NULL ? keylen - (size_t)(slash + 1 - key) : 0;
	return (0);
}

static void
api_scan_cb(const char *key, size_t keylen, const char *val, size_t vallen,
    void *arg)
{
	struct api_scan		*sc = arg;
	struct json_object	*o, *sv;
	const char		*sid;
	size_t			 plen, slen;

	if (api_split_key(key, keylen, &plen, &sid, &slen) == -1)
		return;
	if (sc->project == NULL) {
		if (sid != NULL)
			return;
		o = json_object_new_object();
		json_object_object_add(o, "id",
		    json_object_new_string_len(key + 2, (int)plen));
		json_object_object_add(o, "name",
		    json_object_new_string_len(key + 2, (int)plen));
		json_object_array_add(sc->list, o);
		return;
	}
	if (plen != strlen(sc->project) ||
	    memcmp(key + 2, sc->project, plen) != 0)
		return;
	if (sid == NULL) {
		sc->found = 1;
		return;
	}
	if (!sc->services)
		return;
	if (sc->id != NULL && (slen != strlen(sc->id) ||
	    memcmp(sid, sc->id, slen) != 0))
		return;
	if ((sv = json_tokener_parse(val)) == NULL)
		return;
	(void)vallen;
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string_len(sid,
	    (int)slen));
	json_object_object_foreach(sv, k, v)
		json_object_object_add(o, k, json_object_get(v));
	json_object_put(sv);
	json_object_array_add(sc->list, o);
}

/*
 * Scan for project (NULL: all) and id (NULL: all) into a new list; the
 * version's ETag into etag.  0, or -1 with a 503 sent.
 */
static int
api_scan(struct admin_api *api, struct evhttp_request *req,
    struct api_scan *sc, char etag[STORE_ETAG_MAX])
{
	char		 sha[65], prefix[256];
	uint64_t	 gen;

	sc->list = json_object_new_array();
	if (sc->project != NULL)
		snprintf(prefix, sizeof(prefix), "R/%s", sc->project);
	else
		snprintf(prefix, sizeof(prefix), "R/");
	if (catalog_raw(api->cat, prefix, api_scan_cb, sc, &gen, sha,
	    sizeof(sha)) == -1) {
		json_object_put(sc->list);
		api_error(req, 503, "cannot read the registry");
		return (-1);
	}
	etag[0] = '\0';
	if (sha[0] != '\0')
		store_etag(etag, (unsigned long long)gen, sha);
	return (0);
}

static void
api_projects(struct admin_api *api, struct evhttp_request *req,
    const char *project)
{
	struct api_scan		 sc;
	struct json_object	*o;
	char			 etag[STORE_ETAG_MAX], msg[160];

	memset(&sc, 0, sizeof(sc));
	sc.project = strcmp(project, "*") == 0 ? NULL : project;
	if (api_scan(api, req, &sc, etag) == -1)
		return;
	if (sc.project != NULL && !sc.found) {
		json_object_put(sc.list);
		snprintf(msg, sizeof(msg), "project (%.64s) not found", project);
		api_error(req, 404, msg);
		return;
	}
	if (sc.project != NULL) {
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(project));
		json_object_object_add(o, "name",
		    json_object_new_string(project));
		json_object_array_add(sc.list, o);
	}
	o = json_object_new_object();
	json_object_object_add(o, "result", sc.list);
	api_reply(req, 200, o, etag);
}

static void
api_services(struct admin_api *api, struct evhttp_request *req,
    const char *project)
{
	struct evkeyvalq	 q;
	struct api_scan		 sc;
	struct json_object	*o;
	const char		*query;
	char			 etag[STORE_ETAG_MAX], msg[160];

	memset(&sc, 0, sizeof(sc));
	TAILQ_INIT(&q);
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (query != NULL && evhttp_parse_query_str(query, &q) == 0)
		sc.id = evhttp_find_header(&q, "id");
	sc.project = project;
	sc.services = 1;
	if (api_scan(api, req, &sc, etag) == -1) {
		evhttp_clear_headers(&q);
		return;
	}
	if (!sc.found)
		snprintf(msg, sizeof(msg), "project (%.64s) not found", project);
	else if (sc.id != NULL && json_object_array_length(sc.list) == 0)
		snprintf(msg, sizeof(msg), "service with id (%.64s) does not "
		    "exist", sc.id);
	else
		msg[0] = '\0';
	evhttp_clear_headers(&q);
	if (msg[0] != '\0') {
		json_object_put(sc.list);
		api_error(req, 404, msg);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "result", sc.list);
	api_reply(req, 200, o, etag);
}

void
admin_api_public_url(const struct admin_api *api, char *url, size_t size)
{
	const char	*l, *port;

	l = api->srv->nlisten > 0 ? api->srv->listen[0] : "127.0.0.1:4122";
	port = strrchr(l, ':');
	if (strncmp(l, "0.0.0.0:", 8) == 0 || strncmp(l, "*:", 2) == 0 ||
	    l[0] == ':')
		snprintf(url, size, "http://127.0.0.1%s", port);
	else if (strncmp(l, "[::]:", 5) == 0)
		snprintf(url, size, "http://[::1]%s", port);
	else
		snprintf(url, size, "http://%s", l);
}

static void
api_env(struct admin_api *api, struct evhttp_request *req)
{
	struct json_object	*o;
	char			 url[160];

	admin_api_public_url(api, url, sizeof(url));
	o = json_object_new_object();
	json_object_object_add(o, "isProd", json_object_new_boolean(1));
	json_object_object_add(o, "version",
	    json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "clusterType",
	    json_object_new_string("none"));
	json_object_object_add(o, "loginURL", json_object_new_string("/"));
	json_object_object_add(o, "publicURL", json_object_new_string(url));
	api_reply(req, 200, o, NULL);
}

/* Routing. */

static void
api_record_cb(const char *key, size_t keylen, const char *val,
    size_t vallen, void *arg)
{
	char	**rec = arg;

	if (keylen == strlen(REGISTRY_KEY_ADMIN) && *rec == NULL)
		*rec = xstrndup(val, vallen);
}

/*
 * The credentials of the registry's generation (its "#adm" record), so
 * that a reload that changes them is served without new workers.  A
 * registry that cannot be read keeps the ones known.
 */
static void
api_refresh(struct admin_api *api)
{
	char		*rec = NULL, sha[65];
	uint64_t	 gen;

	if (catalog_raw(api->cat, REGISTRY_KEY_ADMIN, api_record_cb, &rec,
	    &gen, sha, sizeof(sha)) == -1 || gen == api->gen) {
		sy_wipe_free(rec);
		return;
	}
	admintok_free(api->tok);
	api->tok = rec != NULL ? admintok_from_record(rec, strlen(rec)) :
	    NULL;
	if (rec != NULL && api->tok == NULL)
		log_warnx("config API: the registry's credentials do not "
		    "load: the API answers 404");
	api->gen = gen;
	sy_wipe_free(rec);
}

static int
api_method(struct evhttp_request *req, enum evhttp_cmd_type want,
    const char *allow)
{
	if (evhttp_request_get_command(req) == want)
		return (0);
	api_405(req, allow);
	return (-1);
}

/* path split at '/' into seg (at most API_MAXSEG); copies into buf. */
static size_t
api_segments(const char *path, char *buf, size_t size, char **seg)
{
	size_t	n = 0;
	char	*p;

	snprintf(buf, size, "%s", path);
	for (p = buf; n < API_MAXSEG; n++) {
		seg[n] = p;
		if ((p = strchr(p, '/')) == NULL)
			return (n + 1);
		*p++ = '\0';
	}
	return (API_MAXSEG + 1);	/* too many: no route */
}

/* The routes under /v1/config/ that need a token. */
static void
api_route_token(struct admin_api *api, struct evhttp_request *req,
    char **seg, size_t n, const char *client)
{
	enum evhttp_cmd_type	cmd = evhttp_request_get_command(req);

	if (n == 1 && strcmp(seg[0], "refresh-token") == 0) {
		if (api_method(req, EVHTTP_REQ_GET, "GET") == 0 &&
		    api_auth(api, req, client) == 0)
			api_token(api, req);
	} else if (n == 2 && strcmp(seg[0], "projects") == 0) {
		if (api_method(req, EVHTTP_REQ_GET, "GET") == 0 &&
		    api_auth(api, req, client) == 0)
			api_projects(api, req, seg[1]);
	} else if (n >= 4 && n <= 5 && strcmp(seg[0], "projects") == 0 &&
	    strcmp(seg[2], "remote-service") == 0 &&
	    strcmp(seg[3], "service") == 0) {
		if (n == 4) {
			if (api_method(req, EVHTTP_REQ_GET, "GET") == 0 &&
			    api_auth(api, req, client) == 0)
				api_services(api, req, seg[1]);
		} else if (cmd != EVHTTP_REQ_POST && cmd != EVHTTP_REQ_DELETE)
			api_405(req, "POST, DELETE");
		else if (api_auth(api, req, client) == 0)
			api_write(api, req, client, seg[1], seg[4],
			    cmd == EVHTTP_REQ_DELETE);
	} else
		api_error(req, 404, "not found");
}

static void
api_route(struct admin_api *api, struct evhttp_request *req,
    const char *rest)
{
	char	 buf[1024], *seg[API_MAXSEG], client[API_CLIENT_MAX];
	char	 addr[API_CLIENT_MAX];
	size_t	 n;

	api_client(req, client, addr, sizeof(client));
	if (strlen(rest) >= sizeof(buf)) {
		api_error(req, 404, "not found");
		return;
	}
	n = api_segments(rest, buf, sizeof(buf), seg);
	if (n == 1 && strcmp(seg[0], "login") == 0) {
		if (api_method(req, EVHTTP_REQ_POST, "POST") == 0)
			api_login(api, req, client, addr);
	} else if (n == 1 && strcmp(seg[0], "env") == 0) {
		if (api_method(req, EVHTTP_REQ_GET, "GET") == 0)
			api_env(api, req);
	} else if (n <= API_MAXSEG)
		api_route_token(api, req, seg, n, client);
	else
		api_error(req, 404, "not found");
}

int
admin_api_serve(struct admin_api *api, struct evhttp_request *req,
    int public)
{
	const char	*path;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL)
		return (0);
	if (strcmp(path, API_HEALTH) == 0) {
		http_hold_reading(req);
		if (api_method(req, EVHTTP_REQ_GET, "GET") == 0)
			api_reply(req, 200, json_object_new_object(), NULL);
		return (1);
	}
	if (strncmp(path, API_PREFIX, strlen(API_PREFIX)) != 0 &&
	    strcmp(path, "/v1/config") != 0)
		return (0);
	api_refresh(api);
	/* on a public listener only with servePublic, and never when off */
	if (public && (!api->srv->admin_serve_public || api->tok == NULL))
		return (0);
	http_hold_reading(req);
	if (api->tok == NULL)
		api_error(req, 404, "not found");
	else if (api->draining)
		api_error(req, 503, "shutting down");
	else if (strcmp(path, "/v1/config") == 0)
		api_error(req, 404, "not found");
	else
		api_route(api, req, path + strlen(API_PREFIX));
	return (1);
}

int
admin_api_console(struct admin_api *api)
{
	api_refresh(api);
	return (api->tok != NULL && admintok_console(api->tok));
}

struct admin_api *
admin_api_new(const struct sy_server *srv, struct catalog *cat,
    struct adminctl *ctl)
{
	struct admin_api	*api;

	if ((api = calloc(1, sizeof(*api))) == NULL)
		return (NULL);
	api->srv = srv;
	api->cat = cat;
	api->ctl = ctl;
	return (api);
}

void
admin_api_free(struct admin_api *api)
{
	if (api == NULL)
		return;
	admintok_free(api->tok);
	free(api);
}

void
admin_api_drain(struct admin_api *api)
{
	if (api != NULL)
		api->draining = 1;
}
