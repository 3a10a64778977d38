/*
 * http.c: the worker's HTTP front end on libevent's evhttp: listeners,
 * drain, routing, replies (CORS, request ids, the access log, JSON
 * errors) and the REST handler of
 * POST /v1/api/{project}/services/{service}/{endpoint}: route, method,
 * lookup, body, deadline, the caller's principal (authn.c), then one
 * call through the call core (call.c) whose completion becomes the
 * reply.  Client connections are kept in http_conn.c, the admin
 * listener in admin.c.
 *
 * Invariants:
 * - Only the transport files include event2/http.h.
 * - All memory of a REST request hangs off one struct rest, freed in
 *   http_rest_end(); the call it started is cancelled there if running.
 * - Every request ends in exactly one evhttp_send_reply (through
 *   http_send) and is never touched after it; a request whose client went
 *   away is freed by its connection's close callback instead.
 */
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "admin.h"
#include "admin_api.h"
#include "authn.h"
#include "call.h"
#include "catalog.h"
#include "config.h"
#include "dbcache.h"
#include "endpoint.h"
#include "gql_exec.h"
#include "http.h"
#include "http_int.h"
#include "jscan.h"
#include "log.h"
#include "metrics.h"
#include "project.h"
#include "route.h"
#include "rule.h"
#include "upreq.h"
#include "util.h"



const char *
http_reason(int status)
{
	switch (status) {
	case 200: return ("OK");
	case 201: return ("Created");
	case 204: return ("No Content");
	case 400: return ("Bad Request");
	case 401: return ("Unauthorized");
	case 403: return ("Forbidden");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 413: return ("Payload Too Large");
	case 500: return ("Internal Server Error");
	case 502: return ("Bad Gateway");
	case 503: return ("Service Unavailable");
	case 504: return ("Gateway Timeout");
	default:
		return (status < 300 ? "OK" : status < 500 ? "Client Error" :
		    "Server Error");
	}
}

/* Whether cors.allowedOrigins has "*". */
int
http_cors_any(const struct http *h)
{
	size_t	i;

	for (i = 0; i < h->h_srv->ncors_origins; i++)
		if (strcmp(h->h_srv->cors_origins[i], "*") == 0)
			return (1);
	return (0);
}

/* The Access-Control-Allow-Origin value for this request, or NULL. */
static const char *
http_cors_origin(struct http *h, const char *origin, int *vary)
{
	size_t		 i;

	*vary = 0;
	if (http_cors_any(h))
		return ("*");
	if (origin == NULL)
		return (NULL);
	*vary = 1;
	for (i = 0; i < h->h_srv->ncors_origins; i++)
		if (strcmp(h->h_srv->cors_origins[i], origin) == 0)
			return (origin);
	return (NULL);
}

/*
 * A reply's own header lines ride in its status line, after the reason
 * phrase: evhttp writes the status line with one printf, then each
 * header of its list with another printf and keeps each in three heap
 * blocks, about 1,900 instructions a header line, the largest part of
 * its reply.  Written as "OK\r\nName: value\r\nName: value", they reach
 * the client byte for byte as the list would have sent them.  Only
 * Date, Content-Length and Connection stay in evhttp's list: evhttp adds
 * the first two itself when the list lacks them and reads the third to
 * close the connection.  A value with a control character, or one that
 * does not fit, goes through evhttp_add_header, which refuses what it
 * must, as every value did before.
 */
void
http_head_add(struct rest *r, const char *name, const char *value)
{
	size_t	nl = strlen(name), vl;
	char	*p;

	for (vl = 0; value[vl] != '\0'; vl++)
		if (((unsigned char)value[vl] < 0x20 && value[vl] != '\t') ||
		    value[vl] == 0x7f)
			break;
	if (value[vl] != '\0' || r->r_headlen + nl + vl + 5 >
	    sizeof(r->r_head)) {
		evhttp_add_header(evhttp_request_get_output_headers(r->r_req),
		    name, value);
		return;
	}
	p = r->r_head + r->r_headlen;
	*p++ = '\r';
	*p++ = '\n';
	memcpy(p, name, nl);
	p += nl;
	*p++ = ':';
	*p++ = ' ';
	memcpy(p, value, vl);
	p[vl] = '\0';
	r->r_headlen = p + vl - r->r_head;
}

void
http_common_headers(struct rest *r, int json, int reqid)
{
	const char	*origin;
	int		 vary;

	if (json)
		http_head_add(r, "Content-Type", "application/json");
	if (reqid && r->r_reqid[0] != '\0')
		http_head_add(r, "X-Request-Id", r->r_reqid);
	if ((origin = http_cors_origin(r->r_h, r->r_origin, &vary)) != NULL)
		http_head_add(r, "Access-Control-Allow-Origin", origin);
	if (vary)
		http_head_add(r, "Vary", "Origin");
	if (r->r_h->h_draining)
		evhttp_add_header(evhttp_request_get_output_headers(r->r_req),
		    "Connection", "close");
}

void
http_json_str(struct evbuffer *b, const char *s)
{
	const unsigned char	*p;

	evbuffer_add(b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			evbuffer_add_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			evbuffer_add_printf(b, "\\u%04x", *p);
		else
			evbuffer_add(b, p, 1);
	}
	evbuffer_add(b, "\"", 1);
}

void
http_check_drained(struct http *h)
{
	if (h->h_draining && h->h_inflight == 0 && h->h_unflushed == 0 &&
	    h->h_done != NULL)
		h->h_done(h->h_done_arg);
}

/* evhttp wrote the whole reply: a drain may end only after that. */
static void
http_sent(struct evhttp_request *req, void *arg)
{
	struct cconn	*cc = arg;
	struct http	*h = cc->cc_h;

	cc->cc_unflushed--;
	h->h_unflushed--;
	http_check_drained(h);
}

/* One access log line (see README: "Logs"). */
static void
http_access(struct rest *r, int status, size_t bytes)
{
	struct evhttp_connection	*evcon;
	const char			*addr = "-";
	ev_uint16_t			 port = 0;
	char				 up[24];

	evcon = evhttp_request_get_connection(r->r_req);
	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, (char **)&addr, &port);
	if (r->r_is_gql) {
		log_access("%s %s:%u %s/graphql %d - %zu %.3f calls=%zu "
		    "statements=%zu errors=%zu", r->r_reqid, addr,
		    (unsigned)port, r->r_route->project, status, bytes,
		    (sy_now() - r->r_start) * 1000.0, r->r_gql_calls,
		    r->r_gql_statements, r->r_gql_errors);
		return;
	}
	if (r->r_upstatus > 0)
		snprintf(up, sizeof(up), "%ld", r->r_upstatus);
	else
		snprintf(up, sizeof(up), "-");
	log_access("%s %s:%u %s/%s/%s %d %s %zu %.3f", r->r_reqid, addr,
	    (unsigned)port, r->r_route ? r->r_route->project : "-",
	    r->r_route ? r->r_route->service : "-",
	    r->r_route ? r->r_route->endpoint : "-", status, up, bytes,
	    (sy_now() - r->r_start) * 1000.0);
}

/*
 * Date and Content-Length, which evhttp would otherwise format with a
 * printf of its own for every reply: the date once a second, the length
 * as digits.  The same values evhttp gives, on the replies it gives them.
 */
static void
http_framing(struct http *h, struct evhttp_request *req, int status,
    size_t len)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct timeval		 tv;
	struct tm		 tm;
	size_t			 i;
	char			 num[24];

	event_base_gettimeofday_cached(h->h_base, &tv);
	if (tv.tv_sec != h->h_date_sec || h->h_date[0] == '\0') {
		if (gmtime_r(&tv.tv_sec, &tm) == NULL ||
		    strftime(h->h_date, sizeof(h->h_date),
		    "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
			return;		/* evhttp adds its own */
		h->h_date_sec = tv.tv_sec;
	}
	evhttp_add_header(out, "Date", h->h_date);
	if (status < 200 || status == 204 || status == 304 ||
	    evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
		return;
	i = sizeof(num) - 1;
	num[i] = '\0';
	do
		num[--i] = '0' + len % 10;
	while ((len /= 10) != 0);
	evhttp_add_header(out, "Content-Length", num + i);
}

/*
 * The one place that answers a request: the body is body, or what is
 * in the request's output buffer already (body NULL).
 */
void
http_send(struct rest *r, int status, struct evbuffer *body)
{
	struct http		*h = r->r_h;
	struct evhttp_request	*req = r->r_req;
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct cconn		*cc;
	const char		*reason;
	size_t			 len, n;
	char			 line[HTTP_HEAD_MAX + 32];

	len = evbuffer_get_length(evhttp_request_get_output_buffer(req)) +
	    (body != NULL ? evbuffer_get_length(body) : 0);
	if (log_access_enabled())
		http_access(r, status, len);
	/* only names the registry knows become series, never a caller's */
	if (r->r_is_gql)
		metrics_graphql_request(h->h_ms, r->r_proj != NULL ?
		    r->r_proj->name : "-", status);
	else if (r->r_ep != NULL)
		metrics_request(h->h_ms, r->r_ep->project, r->r_ep->service,
		    r->r_ep->name, status);
	else
		metrics_request(h->h_ms, "-", "-", "-", status);
	/* r_conn once attached (a dead connection clears it) */
	if ((cc = r->r_conn) != NULL || (cc = http_cc_attach(h, req)) !=
	    NULL) {
		/* counted per connection: a dead one never calls http_sent */
		cc->cc_unflushed++;
		h->h_unflushed++;
		evhttp_request_set_on_complete_cb(req, http_sent, cc);
		/* the next request on this connection has clientTimeout */
		cc->cc_deadline = sy_now() + h->h_srv->client_timeout;
		if (cc->cc_last && evhttp_find_header(out, "Connection") ==
		    NULL)
			evhttp_add_header(out, "Connection", "close");
	}
	http_framing(h, req, status, len);
	reason = http_reason(status);
	if (r->r_headlen > 0) {
		n = strlen(reason);
		memcpy(line, reason, n);
		memcpy(line + n, r->r_head, r->r_headlen + 1);
		reason = line;
	}
	/*
	 * http_cc_output looks for evhttp's own error pages; this reply is
	 * not one, and evhttp writes it whole here, in some ten additions.
	 */
	if (cc != NULL)
		evbuffer_cb_clear_flags(bufferevent_get_output(cc->cc_bev),
		    cc->cc_outcb, EVBUFFER_CB_ENABLED);
	evhttp_send_reply(req, status, reason, body);
	if (cc != NULL) {
		evbuffer_cb_set_flags(bufferevent_get_output(cc->cc_bev),
		    cc->cc_outcb, EVBUFFER_CB_ENABLED);
		http_cc_flush(cc);	/* cc_bev is ours: alive */
	}
}

static void
http_error(struct rest *r, int status, const char *msg, const char *raw)
{
	struct evhttp_request	*req = r->r_req;
	struct evbuffer		*b;

	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add(b, "{\"error\":", 9);
	http_json_str(b, msg);
	evbuffer_add(b, ",\"rawError\":", 12);
	http_json_str(b, raw != NULL ? raw : "");
	evbuffer_add(b, "}", 1);
	http_common_headers(r, 1, 1);
	if (status == 405)
		http_head_add(r, "Allow", "POST, OPTIONS");
	http_send(r, status, b);
	evbuffer_free(b);
}

/* A new request id: this worker's random prefix and a count. */
void
http_new_reqid(struct http *h, char *dst)
{
	unsigned char	b[16];
	uint64_t	v[2] = { h->h_idprefix, ++h->h_idcount };
	int		i;

	for (i = 0; i < 16; i++)	/* as "%016llx%016llx" would */
		b[i] = (unsigned char)(v[i / 8] >> (56 - 8 * (i % 8)));
	sy_hex(dst, b, sizeof(b));
}

/*
 * The client headers switchyard reads for every request, found in one
 * walk of the list (evhttp_find_header walks it once per name), and the
 * request id: the client's X-Request-Id when it is 1-128 visible ASCII
 * characters, else a new one.  The first of a repeated header counts,
 * as with evhttp_find_header.
 */
static void
http_request_headers(struct rest *r)
{
	struct evkeyval	*kv;
	const char	*rid = NULL;
	size_t		 i, n;

	TAILQ_FOREACH(kv, evhttp_request_get_input_headers(r->r_req), next) {
		switch (kv->key[0]) {
		case 'A': case 'a':
			if (r->r_auth == NULL &&
			    strcasecmp(kv->key, "Authorization") == 0)
				r->r_auth = kv->value;
			break;
		case 'O': case 'o':
			if (r->r_origin == NULL &&
			    strcasecmp(kv->key, "Origin") == 0)
				r->r_origin = kv->value;
			break;
		case 'X': case 'x':
			if (rid == NULL &&
			    strcasecmp(kv->key, "X-Request-Id") == 0)
				rid = kv->value;
			break;
		}
	}
	if (rid != NULL && (n = strlen(rid)) > 0 && n <= HTTP_REQID_MAX) {
		for (i = 0; i < n; i++)
			if (rid[i] < 0x21 || rid[i] > 0x7e)
				break;
		if (i == n) {
			memcpy(r->r_reqid, rid, n + 1);
			return;
		}
	}
	http_new_reqid(r->r_h, r->r_reqid);
}

void
http_preflight(struct rest *r, const char *methods)
{
	http_common_headers(r, 0, 0);
	http_head_add(r, "Access-Control-Allow-Methods", methods);
	http_head_add(r, "Access-Control-Allow-Headers",
	    "Authorization, Content-Type");
	http_head_add(r, "Access-Control-Max-Age", "86400");
	http_send(r, 204, NULL);
}

void
http_rest_end(struct rest *r)
{
	struct http	*h = r->r_h;

	if (r->r_conn != NULL)
		r->r_conn->cc_rest = NULL;
	call_cancel(r->r_call);
	gql_exec_free(r->r_gql);
	if (r->r_ep != NULL)
		endpoint_unref(r->r_ep);
	project_unref(r->r_proj);
	principal_clear(&r->r_who);
	free(r);
	h->h_inflight--;
	http_check_drained(h);
}


static void
http_reply_upstream(struct rest *r, const struct call_result *res)
{
	struct evhttp_request	*req = r->r_req;
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	const char		*colon, *v;
	size_t			 i;
	char			 name[256];

	for (i = 0; i < res->nheaders; i++) {
		colon = strchr(res->headers[i], ':');
		if (colon == NULL || (size_t)(colon - res->headers[i]) >=
		    sizeof(name))
			continue;
		memcpy(name, res->headers[i], colon - res->headers[i]);
		name[colon - res->headers[i]] = '\0';
		/* config refuses these; never emitted, whatever the registry */
		if (upreq_header_refused(name))
			continue;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		evhttp_add_header(out, name, v);
	}
	if (res->status == 204 || res->status == 304 || res->body_len == 0) {
		http_common_headers(r, 0, 1);
		http_send(r, (int)res->status, NULL);
		return;
	}
	http_common_headers(r, 1, 1);
	/* straight into the reply's buffer: no evbuffer of our own */
	if (evbuffer_add(evhttp_request_get_output_buffer(req), res->body,
	    res->body_len) == -1)
		evhttp_send_error(req, 500, NULL);
	else
		http_send(r, (int)res->status, NULL);
}

/*
 * Fetch the JWK_URL keys of every project of a new registry generation
 * now, so that they are loaded before the project's first call.
 */
void
http_prefetch(struct http *h)
{
	authn_prefetch(h->h_authn);
}

static long	http_timeout_ms(const struct sy_endpoint *,
		    const struct jscan_body *);
static void	http_call_done(const struct call_result *, void *);

/* The caller's request headers, for the call core (upreq.c). */
const char *
http_client_header(void *arg, const char *name)
{
	struct rest	*r = arg;

	if (strcasecmp(name, "Authorization") == 0)
		return (r->r_auth);
	return (evhttp_find_header(evhttp_request_get_input_headers(r->r_req),
	    name));
}

/*
 * After the lookup: the body, the deadline, the caller (when the rule
 * needs one), then the call.  0 = the call goes on (asynchronously);
 * -1 = answered.
 */
static int
http_start(struct rest *r)
{
	struct evbuffer		*in;
	struct call_in		 ci;
	struct jscan_body	 jb;
	const char		*err = NULL, *auth;

	in = evhttp_request_get_input_buffer(r->r_req);
	if (jscan_body((const char *)evbuffer_pullup(in, -1),
	    evbuffer_get_length(in), &jb, &err) == -1) {
		http_error(r, 400, err, "");
		return (-1);
	}
	authn_want_keys(r->r_h->h_authn, r->r_proj);
	if (rule_needs_token(r->r_ep->rule)) {
		auth = r->r_auth;
		switch (authn_verify(r->r_h->h_authn, r->r_proj, auth,
		    &r->r_who, &err)) {
		case AUTHN_OK:
			r->r_has_who = 1;
			break;
		case AUTHN_KEYS_NOT_LOADED:
			http_error(r, 503, err, "");
			return (-1);
		default:
			log_debug("request %s: token refused: %s", r->r_reqid,
			    err);
			http_error(r, 401, err, "");
			return (-1);
		}
	}
	memset(&ci, 0, sizeof(ci));
	ci.ep = r->r_ep;
	ci.proj = r->r_proj;
	ci.params = jb.params;
	ci.params_len = jb.params_len;
	ci.who = r->r_has_who ? &r->r_who : NULL;
	ci.deadline = r->r_start + http_timeout_ms(r->r_ep, &jb) / 1000.0;
	ci.reqid = r->r_reqid;
	ci.header = http_client_header;
	ci.header_arg = r;
	if ((r->r_call = call_start(&r->r_h->h_call, &ci, http_call_done,
	    r)) == NULL) {
		http_error(r, 503, "out of memory", "");
		return (-1);
	}
	return (0);
}

/* The call's one completion: the upstream's answer, or a JSON error. */
static void
http_call_done(const struct call_result *res, void *arg)
{
	struct rest	*r = arg;

	r->r_call = NULL;
	r->r_upstatus = res->upstatus;
	if (res->outcome == CALL_ANSWERED)
		http_reply_upstream(r, res);
	else
		http_error(r, res->status, res->error, res->raw);
	http_rest_end(r);
}

static long
http_timeout_ms(const struct sy_endpoint *ep, const struct jscan_body *b)
{
	double	ms = ep->timeout * 1000.0;

	if (b->has_timeout && b->timeout_ms > 0 && b->timeout_ms < ms)
		ms = b->timeout_ms;
	if (ms < 1)
		ms = 1;
	if (ms > 86400000.0)
		ms = 86400000.0;
	return ((long)ms);
}

static int
http_lookup(struct rest *r)
{
	struct route	*rt = r->r_route;
	char		 msg[ROUTE_NAME_MAX + 64];

	switch (catalog_lookup(r->r_h->h_cat, rt->project, rt->service,
	    rt->endpoint, &r->r_ep, &r->r_proj)) {
	case CATALOG_OK:
		return (0);
	case CATALOG_NO_PROJECT:
		snprintf(msg, sizeof(msg), "project %s not found", rt->project);
		break;
	case CATALOG_NO_SERVICE:
		snprintf(msg, sizeof(msg), "service %s not found", rt->service);
		break;
	case CATALOG_NO_ENDPOINT:
		snprintf(msg, sizeof(msg), "endpoint %s not found",
		    rt->endpoint);
		break;
	default:
		http_error(r, 500, "registry lookup failed", "");
		return (-1);
	}
	http_error(r, 404, msg, "");
	return (-1);
}

/* Route, method, drain and lookup checks.  0 = an API call to start. */
static int
http_admit(struct rest *r)
{
	struct http	*h = r->r_h;

	if (route_parse(evhttp_uri_get_path(evhttp_request_get_evhttp_uri(
	    r->r_req)), &r->r_routebuf) == -1) {
		http_error(r, 404, "not found", "");
		return (-1);
	}
	r->r_route = &r->r_routebuf;
	switch (evhttp_request_get_command(r->r_req)) {
	case EVHTTP_REQ_OPTIONS:
		http_preflight(r, "POST, OPTIONS");
		return (-1);
	case EVHTTP_REQ_POST:
		break;
	default:
		http_error(r, 405, "method not allowed", "");
		return (-1);
	}
	if (h->h_draining) {
		http_error(r, 503, "shutting down", "");
		return (-1);
	}
	if (http_lookup(r) == -1)
		return (-1);
	authn_prefetch(h->h_authn);
	return (0);
}

/*
 * evhttp leaves reading on while a body-less request is served and its
 * answer written, so a client that pipelines and never reads piles its
 * requests up in memory.  No further request is read on a connection
 * until its answer is written: evhttp enables reading again then, to
 * read the next request.
 */
void
http_hold_reading(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;

	if ((evcon = evhttp_request_get_connection(req)) != NULL)
		bufferevent_disable(evhttp_connection_get_bufferevent(evcon),
		    EV_READ);
}

static void
http_api_cb(struct evhttp_request *req, void *arg)
{
	struct http	*h = arg;
	struct rest	*r;
	struct cconn	*cc;

	if (h->h_cfgapi != NULL && admin_api_serve(h->h_cfgapi, req, 1))
		return;
	if ((r = sy_zalloc(1, sizeof(*r))) == NULL) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	if ((cc = http_cc_of(h, req)) != NULL)
		cc->cc_deadline = 0;
	http_hold_reading(req);
	r->r_h = h;
	r->r_req = req;
	r->r_start = sy_now();
	http_request_headers(r);
	h->h_inflight++;
	switch (http_gql_admit(r, evhttp_uri_get_path(
	    evhttp_request_get_evhttp_uri(req)))) {
	case 0:
		return;
	case -1:
		http_rest_end(r);
		return;
	default:
		break;
	}
	if (http_admit(r) == -1) {
		http_rest_end(r);
		return;
	}
	if ((r->r_conn = http_cc_attach(h, req)) != NULL)
		r->r_conn->cc_rest = r;
	if (http_start(r) == -1)
		http_rest_end(r);
}

/*
 * evhttp's read and write timeout on client connections, whole seconds
 * of clientTimeout (SPEC 2).  Every connection has the same one, so it
 * is a common timeout: each of the timer changes evhttp makes around a
 * request is a queue append or unlink, not a heap sift.
 */
static void
http_client_timeout(struct http *h, const struct sy_server *srv)
{
	const struct timeval	*ctv;
	struct timeval		 tv;

	tv.tv_sec = (time_t)(srv->client_timeout + 0.999);
	tv.tv_usec = 0;
	if ((ctv = event_base_init_common_timeout(h->h_base, &tv)) != NULL)
		tv = *ctv;
	evhttp_set_timeout_tv(h->h_http, &tv);
}

struct http *
http_new(struct event_base *base, const struct sy_server *srv,
    const int *fds, size_t nfds, struct catalog *cat, struct upstream *up)
{
	struct http	*h;
	struct timeval	 sweep_tv = { 1, 0 };
	size_t		 i;

	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->h_socks = calloc(nfds, sizeof(*h->h_socks))) == NULL ||
	    (h->h_http = evhttp_new(base)) == NULL) {
		log_warnx("%s: out of memory", __func__);
		http_free(h);
		return (NULL);
	}
	if ((h->h_ccs = calloc(HTTP_CC_BUCKETS, sizeof(*h->h_ccs))) == NULL ||
	    (h->h_sweep = event_new(base, -1, EV_PERSIST, http_sweep, h)) ==
	    NULL ||
	    (h->h_refuse = evtimer_new(base, http_sweep, h)) == NULL ||
	    (h->h_authn = authn_new(base, up, cat, &h->h_ms)) == NULL ||
	    (h->h_call.dbs = dbcache_new(base)) == NULL) {
		log_warnx("%s: out of memory", __func__);
		http_free(h);
		return (NULL);
	}
	h->h_base = base;
	h->h_srv = srv;
	h->h_cat = cat;
	h->h_up = up;
	h->h_call.base = base;
	h->h_call.srv = srv;
	h->h_call.up = up;
	h->h_call.ms = &h->h_ms;
	/* request ids: a random per-worker prefix and a counter */
	if (getrandom(&h->h_idprefix, sizeof(h->h_idprefix), 0) !=
	    sizeof(h->h_idprefix))
		h->h_idprefix = ((uint64_t)getpid() << 32) ^ (uint64_t)random();
	evhttp_set_allowed_methods(h->h_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_max_body_size(h->h_http, srv->max_body_bytes);
	evhttp_set_max_headers_size(h->h_http, srv->max_header_bytes);
	http_client_timeout(h, srv);
	/* Content-Type may ride in the status line (http_head_add) */
	evhttp_set_default_content_type(h->h_http, NULL);
	evhttp_set_gencb(h->h_http, http_api_cb, h);
	evhttp_set_bevcb(h->h_http, http_cc_new, h);
	evtimer_add(h->h_sweep, &sweep_tv);
	for (i = 0; i < nfds; i++) {
		h->h_socks[i] = evhttp_accept_socket_with_handle(h->h_http,
		    fds[i]);
		if (h->h_socks[i] == NULL) {
			log_warnx("%s: evhttp_accept_socket failed", __func__);
			http_free(h);
			return (NULL);
		}
		h->h_nsocks++;
	}
	return (h);
}

int
http_metrics(struct http *h, struct metrics *m, int mslot, int admin_fd)
{
	h->h_metrics = m;
	h->h_ms = metrics_slot(m, mslot);
	if (admin_fd == -1 || m == NULL)
		return (0);
	if ((h->h_admin = admin_new(h->h_base, admin_fd, h->h_cat,
	    h->h_authn, m)) == NULL)
		return (-1);
	return (0);
}

void
http_config_api(struct http *h, struct admin_api *api)
{
	h->h_cfgapi = api;
	admin_set_api(h->h_admin, api, h->h_srv->max_body_bytes);
}

void
http_drain(struct http *h, void (*done)(void *), void *arg)
{
	size_t	i;

	/* closes this worker's copies of the listening sockets */
	for (i = 0; i < h->h_nsocks; i++)
		evhttp_del_accept_socket(h->h_http, h->h_socks[i]);
	h->h_nsocks = 0;
	admin_stop(h->h_admin);
	admin_api_drain(h->h_cfgapi);
	h->h_draining = 1;
	h->h_done = done;
	h->h_done_arg = arg;
	http_check_drained(h);
}

size_t
http_inflight(const struct http *h)
{
	return (h->h_inflight);
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->h_http != NULL)
		evhttp_free(h->h_http);
	admin_free(h->h_admin);
	http_cc_release_all(h);
	if (h->h_sweep != NULL)
		event_free(h->h_sweep);
	if (h->h_refuse != NULL)
		event_free(h->h_refuse);
	free(h->h_ccs);
	authn_free(h->h_authn);
	dbcache_free(h->h_call.dbs);
	free(h->h_socks);
	free(h);
}
