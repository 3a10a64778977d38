/*
 * http.c: the worker's HTTP front end on libevent's evhttp.  It routes
 * POST /v1/api/{project}/services/{service}/{endpoint}, answers the CORS
 * preflight, finds the endpoint in the catalog, applies the rule, builds
 * the upstream request and hands it to upstream.c, then turns the
 * outcome into the contract's answer.
 *
 * Invariants:
 * - Only this file includes event2/http.h.
 * - All memory of a call hangs off one struct call, freed in call_end().
 * - Every request ends in exactly one evhttp_send_reply (through
 *   http_send) and is never touched after it; a request whose client went
 *   away is freed in http_conn_closed instead.
 * - The client's params bytes are forwarded as they are; JSON is only
 *   parsed when the URL template or a GET query needs values from it.
 */
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
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
#include <json-c/json.h>

#include "auth.h"
#include "catalog.h"
#include "config.h"
#include "endpoint.h"
#include "http.h"
#include "http_frame.h"
#include "jscan.h"
#include "jwks.h"
#include "log.h"
#include "metrics.h"
#include "project.h"
#include "route.h"
#include "rule.h"
#include "tmpl.h"
#include "tokcache.h"
#include "upstream.h"
#include "util.h"

#define HTTP_REQID_MAX		128
#define HTTP_WEBHOOK_MAX	(1024 * 1024)
#define HTTP_CC_BUCKETS		4096
#define HTTP_WATCH_AFTER	1	/* seconds before watching a client */
#define HTTP_READ_SLACK		16384	/* input beyond one largest request */

struct http {
	struct event_base		*h_base;
	struct evhttp			*h_http;
	const struct sy_server		*h_srv;
	struct catalog			*h_cat;
	struct upstream			*h_up;
	struct tokcache			*h_tc;
	struct jwks			*h_jwks;
	uint64_t			 h_jwks_gen;	/* generation prefetched */
	struct metrics			*h_metrics;
	struct metrics_slot		*h_ms;
	struct evhttp			*h_admin;
	struct evhttp_bound_socket	*h_admin_sock;
	struct conn			**h_conns;	/* by evcon, chained */
	struct cconn			**h_ccs;	/* by bufferevent */
	size_t				 h_nccs;	/* open client sockets */
	struct event			*h_sweep;	/* deadlines, every 1 s */
	struct event			*h_refuse;	/* a sweep, soon */
	size_t				 h_nconns;
	size_t				 h_conncap;	/* a power of two */
	struct evhttp_bound_socket	**h_socks;
	size_t				 h_nsocks;
	size_t				 h_inflight;	/* calls */
	size_t				 h_unflushed;	/* replies being sent */
	int				 h_draining;
	void				(*h_done)(void *);
	void				*h_done_arg;
	uint64_t			 h_idprefix;
	uint64_t			 h_idcount;
};

struct call {
	struct http			*c_h;
	struct evhttp_request		*c_req;
	struct conn			*c_conn;
	struct sy_endpoint		*c_ep;
	struct sy_project		*c_proj;
	struct upstream_call		*c_uc;
	struct jscan_body		 c_jb;		/* into the request body */
	const char			*c_token;	/* raw caller token */
	size_t				 c_tokenlen;
	struct json_object		*c_claims;	/* verified, or NULL */
	struct json_object		*c_params;	/* parsed when needed */
	char				*c_body;	/* params after force/remove */
	struct upstream_call		**c_wh;		/* webhook calls */
	int				*c_wh_ok;
	size_t				 c_nwh;
	struct wh_ctx			*c_whctx;
	size_t				 c_pending;	/* webhooks in flight */
	struct route			*c_route;	/* NULL: not an API path */
	struct route			 c_routebuf;
	double				 c_start;	/* monotonic */
	double				 c_upstart;	/* upstream call start */
	double				 c_deadline;	/* monotonic; webhooks too */
	struct event			 c_slow;	/* upstream slow: watch */
	struct event			 c_watch;	/* the client's socket */
	int				 c_watching;	/* c_slow/c_watch set up */
	long				 c_upstatus;	/* 0: no upstream answer */
	char				 c_reqid[HTTP_REQID_MAX + 1];
};

/*
 * Every accepted client connection (see http_cc_new).  switchyard makes
 * its bufferevent and holds a reference on it: libevent 2.1's evhttp has
 * no hook for a connection's start or end, and the reference lets the
 * sweep see (its event callback cleared) when evhttp has freed it.
 */
struct cconn {
	struct cconn		*cc_next;
	struct http		*cc_h;
	struct bufferevent	*cc_bev;
	struct evbuffer_cb_entry *cc_outcb;
	struct evbuffer_cb_entry *cc_incb;
	struct http_frame	 cc_frame;	/* the requests' framing so far */
	const char		*cc_framing;	/* refused: why, else NULL */
	int			 cc_last;	/* answer, then close: no more */
	int			 cc_injecting;	/* http_cc_cut at work */
	double			 cc_deadline;	/* request must be in; 0: none */
	int			 cc_refuse;	/* over maxConnections */
	int			 cc_errpage;	/* 400, 413: evhttp's page? */
};

static struct cconn	*http_cc_of(struct http *, struct evhttp_request *);
static struct conn	*http_conn(struct http *, struct evhttp_connection *);

/* A client connection that sent a request, until evhttp closes it. */
struct conn {
	struct conn			*cn_next;
	struct evhttp_connection	*cn_evcon;
	struct http			*cn_h;
	struct call			*cn_call;	/* in flight, or NULL */
	size_t				 cn_unflushed;	/* replies being sent */
};

struct wh_ctx {
	struct call	*w_call;
	size_t		 w_i;
};


static const char *
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
static int
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
http_cors_origin(struct http *h, struct evhttp_request *req, int *vary)
{
	const char	*origin;
	size_t		 i;

	*vary = 0;
	if (http_cors_any(h))
		return ("*");
	origin = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Origin");
	if (origin == NULL)
		return (NULL);
	*vary = 1;
	for (i = 0; i < h->h_srv->ncors_origins; i++)
		if (strcmp(h->h_srv->cors_origins[i], origin) == 0)
			return (origin);
	return (NULL);
}

static void
http_common_headers(struct http *h, struct evhttp_request *req,
    const char *reqid, int json)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	const char		*origin;
	int			 vary;

	if (json)
		evhttp_add_header(out, "Content-Type", "application/json");
	if (reqid != NULL && reqid[0] != '\0')
		evhttp_add_header(out, "X-Request-Id", reqid);
	if ((origin = http_cors_origin(h, req, &vary)) != NULL)
		evhttp_add_header(out, "Access-Control-Allow-Origin", origin);
	if (vary)
		evhttp_add_header(out, "Vary", "Origin");
	if (h->h_draining)
		evhttp_add_header(out, "Connection", "close");
}

/* Append s as a JSON string literal. */
static void
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

static void
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
	struct conn	*cn = arg;
	struct http	*h = cn->cn_h;

	cn->cn_unflushed--;
	h->h_unflushed--;
	http_check_drained(h);
}

/* One access log line (see README: "Logs"). */
static void
http_access(struct call *c, int status, size_t bytes)
{
	struct evhttp_connection	*evcon;
	const char			*addr = "-";
	ev_uint16_t			 port = 0;
	char				 up[24];

	evcon = evhttp_request_get_connection(c->c_req);
	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, (char **)&addr, &port);
	if (c->c_upstatus > 0)
		snprintf(up, sizeof(up), "%ld", c->c_upstatus);
	else
		snprintf(up, sizeof(up), "-");
	log_access("%s %s:%u %s/%s/%s %d %s %zu %.3f", c->c_reqid, addr,
	    (unsigned)port, c->c_route ? c->c_route->project : "-",
	    c->c_route ? c->c_route->service : "-",
	    c->c_route ? c->c_route->endpoint : "-", status, up, bytes,
	    (sy_now() - c->c_start) * 1000.0);
}

/* The one place that answers a request. */
static void
http_send(struct call *c, int status, struct evbuffer *body)
{
	struct http			*h = c->c_h;
	struct evhttp_request		*req = c->c_req;
	struct evhttp_connection	*evcon;
	struct cconn			*cc;
	struct conn			*cn;

	if (log_access_enabled())
		http_access(c, status, body != NULL ?
		    evbuffer_get_length(body) : 0);
	/* only names the registry knows become series, never a caller's */
	if (c->c_ep != NULL)
		metrics_request(h->h_ms, c->c_ep->project, c->c_ep->service,
		    c->c_ep->name, status);
	else
		metrics_request(h->h_ms, "-", "-", "-", status);
	evcon = evhttp_request_get_connection(req);
	if (evcon != NULL && (cn = http_conn(h, evcon)) != NULL) {
		/* counted per connection: a dead one never calls http_sent */
		cn->cn_unflushed++;
		h->h_unflushed++;
		evhttp_request_set_on_complete_cb(req, http_sent, cn);
		/* the next request on this connection has clientTimeout */
		if ((cc = http_cc_of(h, req)) != NULL)
			cc->cc_deadline = sy_now() + h->h_srv->client_timeout;
		if (cc != NULL && cc->cc_last && evhttp_find_header(
		    evhttp_request_get_output_headers(req), "Connection") ==
		    NULL)
			evhttp_add_header(evhttp_request_get_output_headers(req),
			    "Connection", "close");
	}
	evhttp_send_reply(req, status, http_reason(status), body);
}

static void
http_error(struct call *c, int status, const char *msg, const char *raw)
{
	struct evhttp_request	*req = c->c_req;
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
	http_common_headers(c->c_h, req, c->c_reqid, 1);
	if (status == 405)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "POST, OPTIONS");
	http_send(c, status, b);
	evbuffer_free(b);
}

/* A new request id: this worker's random prefix and a count. */
static void
http_new_reqid(struct http *h, char *dst)
{
	unsigned char	b[16];
	uint64_t	v[2] = { h->h_idprefix, ++h->h_idcount };
	int		i;

	for (i = 0; i < 16; i++)	/* as "%016llx%016llx" would */
		b[i] = (unsigned char)(v[i / 8] >> (56 - 8 * (i % 8)));
	sy_hex(dst, b, sizeof(b));
}

static void
http_request_id(struct http *h, struct evhttp_request *req, char *dst)
{
	const char	*in;
	size_t		 i, n;

	in = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "X-Request-Id");
	if (in != NULL && (n = strlen(in)) > 0 && n <= HTTP_REQID_MAX) {
		for (i = 0; i < n; i++)
			if (in[i] < 0x21 || in[i] > 0x7e)
				break;
		if (i == n) {
			memcpy(dst, in, n + 1);
			return;
		}
	}
	http_new_reqid(h, dst);
}

static void
http_preflight(struct call *c)
{
	struct evkeyvalq	*out;

	out = evhttp_request_get_output_headers(c->c_req);
	http_common_headers(c->c_h, c->c_req, NULL, 0);
	evhttp_add_header(out, "Access-Control-Allow-Methods", "POST, OPTIONS");
	evhttp_add_header(out, "Access-Control-Allow-Headers",
	    "Authorization, Content-Type");
	evhttp_add_header(out, "Access-Control-Max-Age", "86400");
	http_send(c, 204, NULL);
}

static void
call_end(struct call *c)
{
	struct http	*h = c->c_h;
	size_t		 i;

	if (c->c_conn != NULL)
		c->c_conn->cn_call = NULL;
	if (c->c_watching) {
		event_del(&c->c_slow);
		event_del(&c->c_watch);
	}
	if (c->c_uc != NULL)
		upstream_cancel(c->c_uc);
	for (i = 0; i < c->c_nwh; i++)
		if (c->c_wh[i] != NULL)
			upstream_cancel(c->c_wh[i]);
	if (c->c_ep != NULL)
		endpoint_unref(c->c_ep);
	project_unref(c->c_proj);
	json_object_put(c->c_claims);
	json_object_put(c->c_params);
	free(c->c_body);
	free(c->c_wh);
	free(c->c_wh_ok);
	free(c->c_whctx);
	free(c);
	h->h_inflight--;
	http_check_drained(h);
}

static size_t
http_cc_hash(const struct bufferevent *bev)
{
	uintptr_t	p = (uintptr_t)bev;

	return ((size_t)((p >> 4) ^ (p >> 16)) & (HTTP_CC_BUCKETS - 1));
}

static struct cconn *
http_cc_of(struct http *h, struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	struct cconn			*cc;

	if ((evcon = evhttp_request_get_connection(req)) == NULL)
		return (NULL);
	bev = evhttp_connection_get_bufferevent(evcon);
	for (cc = h->h_ccs[http_cc_hash(bev)]; cc != NULL; cc = cc->cc_next)
		if (cc->cc_bev == bev)
			return (cc);
	return (NULL);
}

/* Whether evhttp has freed the connection (it cleared the callbacks). */
static int
http_cc_gone(struct cconn *cc)
{
	bufferevent_event_cb	 ecb;

	bufferevent_getcb(cc->cc_bev, NULL, NULL, &ecb, NULL);
	return (ecb == NULL);
}

/* Drop our reference: the bufferevent and its socket are freed now. */
static void
http_cc_release(struct http *h, struct cconn **pp)
{
	struct cconn	*cc = *pp;

	*pp = cc->cc_next;
	bufferevent_disable(cc->cc_bev, EV_READ | EV_WRITE);
	evbuffer_remove_cb_entry(bufferevent_get_output(cc->cc_bev),
	    cc->cc_outcb);
	evbuffer_remove_cb_entry(bufferevent_get_input(cc->cc_bev),
	    cc->cc_incb);
	bufferevent_decref(cc->cc_bev);
	h->h_nccs--;
	metrics_connections(h->h_ms, -1);
	free(cc);
}

/*
 * Once a second: release connections evhttp freed, and fail the ones
 * whose request did not arrive within clientTimeout (a deadline for the
 * whole request, where evhttp only has one per read) or that are over
 * maxConnections, the way evhttp fails a read timeout.
 */
static void
http_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct http	*h = arg;
	struct cconn	**pp, *cc;
	double		 now = sy_now();
	size_t		 i;

	for (i = 0; i < HTTP_CC_BUCKETS; i++) {
		for (pp = &h->h_ccs[i]; (cc = *pp) != NULL; ) {
			if (!http_cc_gone(cc) && (cc->cc_refuse ||
			    (cc->cc_deadline > 0 && now > cc->cc_deadline))) {
				log_debug("%s: closing a client connection",
				    cc->cc_refuse ? "maxConnections reached" :
				    "request not in within clientTimeout");
				cc->cc_deadline = 0;
				bufferevent_trigger_event(cc->cc_bev,
				    BEV_EVENT_READING | (cc->cc_refuse ?
				    BEV_EVENT_EOF : BEV_EVENT_TIMEOUT), 0);
			}
			if (http_cc_gone(cc))
				http_cc_release(h, pp);
			else
				pp = &cc->cc_next;
		}
	}
}

/*
 * evhttp (libevent 2.1) answers some bad requests itself, with an HTML
 * page and no hook to change it: 413 for a body over maxBodyBytes, 400
 * for a malformed request line or headers (headers over maxHeaderBytes
 * included).  Errors are JSON, so once such a page is whole in the
 * connection's output buffer (status line first, the page's closing tag
 * last) it is rewritten there, before the socket can be written.  Other
 * answers only cost a look at their status line.
 */
#define HTTP_PAGE_END	"</BODY></HTML>\n"

static void
http_cc_rewrite(struct cconn *cc, struct evbuffer *out, int status)
{
	struct evbuffer		*hdrs;
	struct evbuffer_ptr	 end;
	const char		*msg;
	char			*line;
	size_t			 n;
	int			 minor;
	char			 body[256], ver[8], reqid[HTTP_REQID_MAX + 1];

	if (evbuffer_copyout(out, ver, 8) != 8 || (ver[7] != '0' &&
	    ver[7] != '1'))
		return;
	minor = ver[7] - '0';
	end = evbuffer_search(out, "\r\n\r\n", 4, NULL);
	if (end.pos == -1 || (hdrs = evbuffer_new()) == NULL)
		return;
	/* keep evhttp's headers (Date, Connection: close) but the body's */
	free(evbuffer_readln(out, NULL, EVBUFFER_EOL_CRLF_STRICT));
	while ((line = evbuffer_readln(out, &n, EVBUFFER_EOL_CRLF_STRICT)) !=
	    NULL && n > 0) {
		if (strncasecmp(line, "Content-Type:", 13) != 0 &&
		    strncasecmp(line, "Content-Length:", 15) != 0)
			evbuffer_add_printf(hdrs, "%s\r\n", line);
		free(line);
	}
	free(line);
	evbuffer_drain(out, evbuffer_get_length(out));
	msg = status == 413 ? "request body larger than limits.maxBodyBytes" :
	    "malformed request line or headers, or headers larger than "
	    "limits.maxHeaderBytes";
	if (cc->cc_framing != NULL) {
		/* http_cc_cut made evhttp fail; 413 for a chunk line */
		status = 400;
		msg = "ambiguous request framing";
	}
	n = snprintf(body, sizeof(body), "{\"error\":\"%s%s%s\",\"rawError\":"
	    "\"\"}", msg, cc->cc_framing != NULL ? ": " : "",
	    cc->cc_framing != NULL ? cc->cc_framing : "");
	evbuffer_add_printf(out, "HTTP/1.%d %d %s\r\n", minor, status,
	    http_reason(status));
	evbuffer_add_buffer(out, hdrs);
	http_new_reqid(cc->cc_h, reqid);
	evbuffer_add_printf(out, "X-Request-Id: %s\r\n%s", reqid,
	    http_cors_any(cc->cc_h) ? "Access-Control-Allow-Origin: *\r\n" :
	    "");
	evbuffer_add_printf(out, "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n%s", n, body);
	evbuffer_free(hdrs);
	metrics_request(cc->cc_h->h_ms, "-", "-", "-", status);
	log_debug("client error %d: %s", status, msg);
}

static void
http_cc_output(struct evbuffer *out, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct cconn		*cc = arg;
	struct evbuffer_ptr	 p;
	char			 head[13], tail[sizeof(HTTP_PAGE_END) - 1];
	size_t			 len;
	int			 status, frozen;

	if (info->n_added == 0)
		return;
	/*
	 * The bufferevent keeps the front of its output frozen except
	 * while it writes, and a frozen front cannot be read or drained:
	 * thawed here, and frozen again as it was found.
	 */
	frozen = evbuffer_copyout(out, head, 1) == -1;
	if (frozen)
		evbuffer_unfreeze(out, 1);
	if (info->orig_size == 0) {
		/* "HTTP/1.x 400 " or "HTTP/1.x 413 " */
		cc->cc_errpage = 0;
		if (evbuffer_copyout(out, head, sizeof(head)) == sizeof(head) &&
		    memcmp(head, "HTTP/1.", 7) == 0 && head[12] == ' ' &&
		    (memcmp(head + 9, "400", 3) == 0 ||
		    memcmp(head + 9, "413", 3) == 0))
			cc->cc_errpage = head[11] == '0' ? 400 : 413;
	} else if ((status = cc->cc_errpage) != 0 &&
	    (len = evbuffer_get_length(out)) >= sizeof(tail) &&
	    evbuffer_ptr_set(out, &p, len - sizeof(tail), EVBUFFER_PTR_SET) !=
	    -1 && evbuffer_copyout_from(out, &p, tail, sizeof(tail)) ==
	    sizeof(tail) && memcmp(tail, HTTP_PAGE_END, sizeof(tail)) == 0) {
		http_cc_rewrite(cc, out, status);  /* which calls back here */
		cc->cc_errpage = 0;
	}
	if (frozen)
		evbuffer_freeze(out, 1);
}

/*
 * Keep only the first keep bytes of the input, then add the line end (if
 * any).  For refused framing, end is a line that evhttp cannot parse in
 * any state, so that it answers the requests before it, then fails the
 * offending one with its own error page (rewritten by http_cc_rewrite)
 * and closes the connection.  Nothing cut off is ever read as a request.
 */
static void
http_cc_cut(struct cconn *cc, struct evbuffer *in, size_t keep_len,
    const char *end)
{
	struct evbuffer	*keep;

	cc->cc_injecting = 1;
	if ((keep = evbuffer_new()) != NULL) {
		evbuffer_remove_buffer(in, keep, keep_len);
		evbuffer_drain(in, evbuffer_get_length(in));
		if (end != NULL)
			evbuffer_add(keep, end, strlen(end));
		evbuffer_unfreeze(in, 0);
		evbuffer_add_buffer(in, keep);
		evbuffer_freeze(in, 0);
		evbuffer_free(keep);
	} else {
		/* no memory even for that: drop the connection */
		evbuffer_drain(in, evbuffer_get_length(in));
		bufferevent_trigger_event(cc->cc_bev, BEV_EVENT_READING |
		    BEV_EVENT_ERROR, 0);
	}
	cc->cc_injecting = 0;
}

/*
 * Bytes arrived on a client connection; evhttp reads them only after
 * this returns.  Their framing is checked (http_frame.c): at the first
 * violation the stream is refused from the line where it begins; after
 * a request with a body that evhttp would read as the next request, it
 * ends where that body begins, and the answer closes the connection.
 */
static void
http_cc_input(struct evbuffer *in, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct cconn		*cc = arg;
	struct evbuffer_ptr	 p;
	struct evbuffer_iovec	 v[8];
	size_t			 len, left, k;
	uint64_t		 start;
	int			 i, n, rc;

	if (info->n_added == 0 || cc->cc_injecting)
		return;
	len = evbuffer_get_length(in);
	if (cc->cc_framing != NULL || cc->cc_last) {
		/* the stream has ended: nothing more of it is read */
		http_cc_cut(cc, in, len - info->n_added, NULL);
		return;
	}
	/* the stream offset of the input's first byte */
	start = cc->cc_frame.fr_off + info->n_added - len;
	if (evbuffer_ptr_set(in, &p, len - info->n_added, EVBUFFER_PTR_SET) ==
	    -1)
		return;
	for (left = info->n_added; left > 0; ) {
		if ((n = evbuffer_peek(in, left, &p, v, 8)) <= 0)
			return;
		for (i = 0; i < n && i < 8 && left > 0; i++) {
			k = v[i].iov_len < left ? v[i].iov_len : left;
			if ((rc = http_frame_feed(&cc->cc_frame,
			    v[i].iov_base, k)) != 0)
				goto end;
			left -= k;
			evbuffer_ptr_set(in, &p, k, EVBUFFER_PTR_ADD);
		}
	}
	return;
end:
	start = cc->cc_frame.fr_unit > start ? cc->cc_frame.fr_unit - start :
	    0;
	if (rc == 1) {
		log_debug("client request: %s: answered on its head, then "
		    "the connection is closed", cc->cc_frame.fr_reason);
		cc->cc_last = 1;
		http_cc_cut(cc, in, start < len ? (size_t)start : len, NULL);
		return;
	}
	cc->cc_framing = cc->cc_frame.fr_reason;
	log_info("client request refused: ambiguous request framing: %s",
	    cc->cc_framing);
	http_cc_cut(cc, in, start < len ? (size_t)start : len, "X\r\n");
}

/* evhttp_set_bevcb: the bufferevent of a newly accepted connection. */
static struct bufferevent *
http_cc_new(struct event_base *base, void *arg)
{
	struct http		*h = arg;
	struct bufferevent	*bev;
	struct cconn		*cc;
	struct timeval		 now = { 0, 0 };
	size_t			 k;

	if ((cc = calloc(1, sizeof(*cc))) == NULL)
		return (NULL);
	if ((bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL) {
		free(cc);
		return (NULL);
	}
	if ((cc->cc_outcb = evbuffer_add_cb(bufferevent_get_output(bev),
	    http_cc_output, cc)) == NULL ||
	    (cc->cc_incb = evbuffer_add_cb(bufferevent_get_input(bev),
	    http_cc_input, cc)) == NULL) {
		bufferevent_free(bev);
		free(cc);
		return (NULL);
	}
	http_frame_init(&cc->cc_frame);
	/*
	 * evhttp reads on after each answer is written and parses only one
	 * request per answer: a client that pipelines faster than it reads
	 * would pile up requests here.  Reading stops once the input holds
	 * one request of the largest size allowed (a chunked body is read
	 * whole before evhttp takes it).
	 */
	bufferevent_setwatermark(bev, EV_READ, 0, h->h_srv->max_body_bytes +
	    h->h_srv->max_header_bytes + HTTP_READ_SLACK);
	bufferevent_incref(bev);
	cc->cc_h = h;
	cc->cc_bev = bev;
	cc->cc_deadline = sy_now() + h->h_srv->client_timeout;
	k = http_cc_hash(bev);
	cc->cc_next = h->h_ccs[k];
	h->h_ccs[k] = cc;
	metrics_connections(h->h_ms, 1);
	if (++h->h_nccs > h->h_srv->max_connections) {
		/* refuse it at once rather than run out of memory or fds */
		cc->cc_refuse = 1;
		event_add(h->h_refuse, &now);
	}
	return (bev);
}

static size_t
http_conn_hash(const struct http *h, const struct evhttp_connection *evcon)
{
	uintptr_t	p = (uintptr_t)evcon;

	return ((size_t)((p >> 4) ^ (p >> 16)) & (h->h_conncap - 1));
}

static void
http_conn_unlink(struct http *h, struct conn *cn)
{
	struct conn	**pp;

	for (pp = &h->h_conns[http_conn_hash(h, cn->cn_evcon)]; *pp != NULL;
	    pp = &(*pp)->cn_next) {
		if (*pp == cn) {
			*pp = cn->cn_next;
			h->h_nconns--;
			return;
		}
	}
}

/*
 * evhttp is freeing a connection.  A call still in flight on it lost its
 * client: its upstream transfer is cancelled and its memory freed.
 */
static void
http_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct conn	*cn = arg;
	struct http	*h;
	struct call	*c = cn->cn_call;

	if (c != NULL) {
		log_debug("request %s: client closed the connection",
		    c->c_reqid);
		/* evhttp detached the request from the dead connection */
		if (evhttp_request_get_connection(c->c_req) == NULL)
			evhttp_request_free(c->c_req);
		c->c_conn = NULL;
		call_end(c);
	}
	h = cn->cn_h;
	http_conn_unlink(h, cn);
	/*
	 * A connection that dies with a reply unwritten (the client reset
	 * it) never completes that reply: a drain must not wait for it.
	 */
	if (cn->cn_unflushed > 0) {
		h->h_unflushed -= cn->cn_unflushed;
		http_check_drained(h);
	}
	free(cn);
}

static void
http_conn_grow(struct http *h)
{
	struct conn	**old = h->h_conns, *cn, *next;
	size_t		  oldcap = h->h_conncap, i, k;

	if ((h->h_conns = calloc(oldcap * 2, sizeof(*h->h_conns))) == NULL) {
		h->h_conns = old;
		return;
	}
	h->h_conncap = oldcap * 2;
	for (i = 0; i < oldcap; i++) {
		for (cn = old[i]; cn != NULL; cn = next) {
			next = cn->cn_next;
			k = http_conn_hash(h, cn->cn_evcon);
			cn->cn_next = h->h_conns[k];
			h->h_conns[k] = cn;
		}
	}
	free(old);
}

/* The tracked connection of evcon, created on its first request. */
static struct conn *
http_conn(struct http *h, struct evhttp_connection *evcon)
{
	struct conn	*cn;
	size_t		 k = http_conn_hash(h, evcon);

	for (cn = h->h_conns[k]; cn != NULL; cn = cn->cn_next)
		if (cn->cn_evcon == evcon)
			return (cn);
	if ((cn = calloc(1, sizeof(*cn))) == NULL)
		return (NULL);
	cn->cn_evcon = evcon;
	cn->cn_h = h;
	cn->cn_next = h->h_conns[k];
	h->h_conns[k] = cn;
	if (++h->h_nconns > h->h_conncap)
		http_conn_grow(h);
	evhttp_connection_set_closecb(evcon, http_conn_closed, cn);
	/* the gauge counts sockets, in http_cc_new: not here again */
	return (cn);
}

/*
 * Headers that forwardHeaders and responseHeaders never pass on: those
 * that frame a message or belong to one hop, X-SC-Token, and Host.
 */
static int
http_header_refused(const char *name)
{
	return (endpoint_header_forbidden(name) ||
	    strcasecmp(name, "Host") == 0);
}

static void
http_reply_upstream(struct call *c, const struct upstream_response *res)
{
	struct evhttp_request	*req = c->c_req;
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*b;
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
		if (http_header_refused(name))
			continue;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		evhttp_add_header(out, name, v);
	}
	if (res->status == 204 || res->status == 304 || res->body_len == 0) {
		http_common_headers(c->c_h, req, c->c_reqid, 0);
		http_send(c, (int)res->status, NULL);
		return;
	}
	http_common_headers(c->c_h, req, c->c_reqid, 1);
	if ((b = evbuffer_new()) == NULL ||
	    evbuffer_add(b, res->body, res->body_len) == -1) {
		evhttp_send_error(req, 500, NULL);
	} else
		http_send(c, (int)res->status, b);
	if (b != NULL)
		evbuffer_free(b);
}

static void
http_upstream_done(const struct upstream_response *res, void *arg)
{
	struct call	*c = arg;
	const char		*msg = NULL, *raw = res->error;
	enum metrics_uperr	 kind = METRICS_UP_RESET;
	int			 status = 502;
	int			 empty_ok;
	char			 detail[64];

	c->c_uc = NULL;
	if (res->result == UPSTREAM_OK)
		c->c_upstatus = res->status;
	empty_ok = res->status == 204 || res->status == 304 ||
	    strcmp(c->c_ep->method, "HEAD") == 0;
	switch (res->result) {
	case UPSTREAM_OK:
		kind = METRICS_UP_BAD_RESPONSE;
		if (res->status < 200 || res->status > 599)
			msg = "upstream answered with an unusable status";
		else if (!(empty_ok && res->body_len == 0) &&
		    jscan_validate(res->body, res->body_len) == -1)
			msg = "upstream answered with a body that is not JSON";
		break;
	case UPSTREAM_REFUSED:
		kind = METRICS_UP_REFUSED;
		msg = "upstream refused the connection";
		break;
	case UPSTREAM_TIMEOUT:
		kind = METRICS_UP_TIMEOUT;
		msg = "upstream deadline passed";
		status = 504;
		break;
	case UPSTREAM_TOOBIG:
		kind = METRICS_UP_TOO_LARGE;
		msg = "upstream response is larger than maxResponseBytes";
		break;
	case UPSTREAM_HDRS_TOOBIG:
		kind = METRICS_UP_TOO_LARGE;
		msg = "upstream response headers are larger than "
		    "maxHeaderBytes";
		break;
	case UPSTREAM_FAILED:
		kind = METRICS_UP_RESET;
		msg = "upstream call failed";
		break;
	}
	metrics_upstream(c->c_h->h_ms, c->c_ep->project, c->c_ep->service,
	    sy_now() - c->c_upstart, msg != NULL ? (int)kind : -1);
	if (msg != NULL) {
		if (res->error[0] == '\0') {
			/* an answer, but not one to pass on */
			snprintf(detail, sizeof(detail), "status %ld, %zu bytes",
			    res->status, res->body_len);
			raw = detail;
		}
		log_warnx("request %s: %s/%s/%s: %s (%s)", c->c_reqid,
		    c->c_ep->project, c->c_ep->service, c->c_ep->name, msg,
		    raw);
		http_error(c, status, msg, raw);
	} else
		http_reply_upstream(c, res);
	call_end(c);
}

/* Parse the params value (already validated by jscan) with json-c. */
static struct json_object *
http_parse_params(const struct jscan_body *body)
{
	struct json_object	*v;
	char			*tmp;

	if ((tmp = strndup(body->params, body->params_len)) == NULL)
		return (NULL);
	v = json_tokener_parse(tmp);
	free(tmp);
	return (v);
}

/* The upstream URL: template expanded, plus the query for GET/HEAD. */
static int
http_build_url(struct call *c, struct json_object *params, struct sybuf *url,
    char **err)
{
	struct sy_endpoint	*ep = c->c_ep;
	int			 rc = 0;

	if (ep->url_vars)
		rc = tmpl_expand(url, ep->url, params, c->c_claims, err);
	else if (sybuf_addstr(url, ep->url) == -1)
		rc = -1;
	if (rc == 0 && !ep->has_body && tmpl_query(url, params) == -1)
		rc = -1;
	if (rc == -1 && *err == NULL)
		*err = strdup("out of memory");
	return (rc);
}

/* Whether the call needs the params as JSON values, not just bytes. */
static int
http_needs_params(const struct sy_endpoint *ep)
{
	size_t	i;

	if (ep->url_vars || !ep->has_body || rule_needs_params(ep->rule))
		return (1);
	for (i = 0; i < ep->nheaders; i++)
		if (ep->headers[i].is_var &&
		    strncmp(ep->headers[i].value, "args.", 5) == 0)
			return (1);
	return (0);
}

/*
 * The upstream request headers, in the contract's order, kept as
 * "Name: value" strings in one buffer; a deleted entry is skipped.
 */
struct hdrs {
	struct sybuf	 store;
	size_t		*off;
	size_t		 n;
	size_t		 cap;
};

#define HDR_GONE	((size_t)-1)

static int
hdrs_is(const struct hdrs *hl, size_t i, const char *name)
{
	size_t	n = strlen(name);
	char	*e;

	if (hl->off[i] == HDR_GONE)
		return (0);
	e = hl->store.data + hl->off[i];
	return (strncasecmp(e, name, n) == 0 && e[n] == ':');
}

static void
hdrs_del(struct hdrs *hl, const char *name)
{
	size_t	i;

	for (i = 0; i < hl->n; i++)
		if (hdrs_is(hl, i, name))
			hl->off[i] = HDR_GONE;
}

static int
hdrs_add(struct hdrs *hl, const char *name, const char *value)
{
	if (hl->n == hl->cap)
		return (-1);
	hl->off[hl->n++] = hl->store.len;
	/* hot path: plain copies, no printf */
	if (sybuf_addstr(&hl->store, name) == -1 ||
	    sybuf_add(&hl->store, ": ", 2) == -1 ||
	    sybuf_add(&hl->store, value, strlen(value) + 1) == -1)
		return (-1);
	return (0);
}

/* The value of a header operation; NULL with *err on a bad variable. */
static const char *
http_header_value(const struct ep_header *eh, struct call *c,
    struct sybuf *tmp, char **err)
{
	struct json_object	*v;
	const char		*p = eh->value + 5;

	if (!eh->is_var)
		return (eh->value);
	/* args.X reads the params, auth.X the verified claims */
	v = tmpl_lookup(strncmp(eh->value, "args.", 5) == 0 ? c->c_params :
	    c->c_claims, p, strlen(p));
	sybuf_reset(tmp);
	if (v == NULL || tmpl_scalar_text(tmp, v) == -1 ||
	    strpbrk(tmp->data, "\r\n") != NULL) {
		if (asprintf(err, "header variable %s is missing, not a "
		    "scalar, or holds CR or LF", eh->value) == -1)
			*err = NULL;
		return (NULL);
	}
	return (tmp->data);
}

static int
http_build_headers(struct call *c, const char *sc, struct hdrs *hl,
    char **err)
{
	struct sy_endpoint	*ep = c->c_ep;
	struct evkeyvalq	*in;
	struct sybuf		 tmp;
	const char		*auth, *v;
	size_t			 i;
	int			 rc = -1;

	in = evhttp_request_get_input_headers(c->c_req);
	sybuf_init(&tmp);
	if (ep->token != NULL) {
		if (sybuf_printf(&tmp, "%s%s", strncasecmp(ep->token,
		    "Bearer ", 7) == 0 ? "" : "Bearer ", ep->token) == -1 ||
		    hdrs_add(hl, "Authorization", tmp.data) == -1)
			goto out;
	} else if ((auth = evhttp_find_header(in, "Authorization")) != NULL &&
	    hdrs_add(hl, "Authorization", auth) == -1)
		goto out;
	if (sc != NULL && hdrs_add(hl, "X-SC-Token", sc) == -1)
		goto out;
	if (hdrs_add(hl, "X-Request-Id", c->c_reqid) == -1 ||
	    (ep->has_body &&
	    hdrs_add(hl, "Content-Type", "application/json") == -1))
		goto out;
	for (i = 0; i < ep->nheaders; i++) {
		/* config refuses these; never emitted, whatever the registry */
		if (endpoint_header_forbidden(ep->headers[i].key) ||
		    (strcasecmp(ep->headers[i].key, "Host") == 0 &&
		    (ep->headers[i].op != EP_HDR_SET || ep->headers[i].is_var)))
			continue;
		if (ep->headers[i].op != EP_HDR_ADD)
			hdrs_del(hl, ep->headers[i].key);
		if (ep->headers[i].op == EP_HDR_DEL)
			continue;
		if ((v = http_header_value(&ep->headers[i], c, &tmp,
		    err)) == NULL || hdrs_add(hl, ep->headers[i].key, v) == -1)
			goto out;
	}
	for (i = 0; i < ep->nfwd_headers; i++) {
		/* the gateway's own identity header is never the caller's */
		if (http_header_refused(ep->fwd_headers[i]) ||
		    (v = evhttp_find_header(in, ep->fwd_headers[i])) == NULL)
			continue;
		if (hdrs_add(hl, ep->fwd_headers[i], v) == -1)
			goto out;
	}
	rc = 0;
out:
	sybuf_free(&tmp);
	if (rc == -1 && *err == NULL)
		*err = strdup("cannot build the upstream headers");
	return (rc);
}

/* Pointers to the live entries, for upstream_start. */
static size_t
hdrs_lines(struct hdrs *hl, const char **lines)
{
	size_t	i, n = 0;

	for (i = 0; i < hl->n; i++)
		if (hl->off[i] != HDR_GONE)
			lines[n++] = hl->store.data + hl->off[i];
	return (n);
}

static double
http_wall_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void	http_want_jwks(struct http *, struct sy_project *);

static void
http_prefetch_cb(struct sy_project *p, void *arg)
{
	http_want_jwks(arg, p);
}

/*
 * Fetch the JWK_URL keys of every project of a new registry generation
 * now, so that they are loaded before the project's first call.
 */
void
http_prefetch(struct http *h)
{
	uint64_t	gen = catalog_generation(h->h_cat);

	if (gen != 0 && gen == h->h_jwks_gen)
		return;
	catalog_each_project(h->h_cat, http_prefetch_cb, h);
	h->h_jwks_gen = catalog_generation(h->h_cat);
}

/* Ask for the JWK_URL keys of the project once per compiled project. */
static void
http_want_jwks(struct http *h, struct sy_project *p)
{
	size_t	i, n;

	if (p->jwks_wanted)
		return;
	p->jwks_wanted = 1;
	n = auth_keyset_njwks(p->keys);
	for (i = 0; i < n; i++)
		jwks_want(h->h_jwks, auth_keyset_jwks_url(p->keys, i));
}

/*
 * Verify the caller's bearer token (from the cache when it was verified
 * before).  0 = c_claims set; -1 = answered 401 or 503.
 */
static int
http_authenticate(struct call *c)
{
	struct http		*h = c->c_h;
	struct json_object	*claims;
	enum auth_result	 r;
	const char		*auth, *url = NULL;
	double			 now = http_wall_now(), exp = 0;
	uint64_t		 gen;

	/* cached verdicts stand only for the keys that gave them */
	gen = (catalog_generation(h->h_cat) << 32) ^ jwks_epoch(h->h_jwks);

	auth = evhttp_find_header(evhttp_request_get_input_headers(c->c_req),
	    "Authorization");
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0 ||
	    auth[7] == '\0') {
		metrics_auth_failure(h->h_ms, 0);
		http_error(c, 401,
		    "this endpoint needs a bearer token", "");
		return (-1);
	}
	c->c_token = auth + 7;
	c->c_tokenlen = strlen(c->c_token);
	claims = tokcache_get(h->h_tc, gen, c->c_proj->name, c->c_token,
	    c->c_tokenlen, now);
	if (claims != NULL) {
		c->c_claims = json_object_get(claims);
		return (0);
	}
	r = auth_verify(c->c_proj->keys, c->c_token, c->c_tokenlen, now,
	    jwks_lookup, h->h_jwks, &claims, &exp, &url);
	if (url != NULL)
		jwks_refresh(h->h_jwks, url);
	if (r != AUTH_OK)
		metrics_auth_failure(h->h_ms, (int)r);
	if (r == AUTH_NO_KEYS) {
		http_error(c, 503,
		    "the project's signing keys are not loaded yet", "");
		return (-1);
	}
	if (r != AUTH_OK) {
		log_debug("request %s: token refused: %s", c->c_reqid,
		    auth_result_str(r));
		http_error(c, 401, auth_result_str(r), "");
		return (-1);
	}
	tokcache_put(h->h_tc, gen, c->c_proj->name, c->c_token, c->c_tokenlen,
	    claims, exp, now, AUTH_LEEWAY);
	c->c_claims = claims;
	return (0);
}

/*
 * Evaluate the rule (its webhooks have answered) and, when it changed
 * the params, serialize them as the new upstream body.  0 = go on.
 */
static int
http_apply_rule(struct call *c)
{
	struct rule_env		 env;
	const char		*err = NULL, *text;

	memset(&env, 0, sizeof(env));
	env.auth = c->c_claims;
	env.params = c->c_params;
	env.token = c->c_token;
	env.now = http_wall_now();
	env.webhook_ok = c->c_wh_ok;
	env.nwebhooks = c->c_nwh;
	if (rule_eval(c->c_ep->rule, &env, &err) != RULE_PASS) {
		c->c_params = env.params;
		http_error(c, 403, err != NULL ? err :
		    "the endpoint's rule denies this call", "");
		return (-1);
	}
	c->c_params = env.params;
	if (rule_changes_params(c->c_ep->rule)) {
		text = c->c_params != NULL ? json_object_to_json_string_ext(
		    c->c_params, JSON_C_TO_STRING_PLAIN) : "{}";
		if ((c->c_body = strdup(text)) == NULL) {
			http_error(c, 503,
			    "out of memory", "");
			return (-1);
		}
	}
	return (0);
}

static int	http_forward(struct call *);
static long	http_timeout_ms(const struct sy_endpoint *,
		    const struct jscan_body *);
static void	http_watch_later(struct call *);

/* Milliseconds left before the call's deadline, at least 1. */
static long
http_left_ms(const struct call *c)
{
	double	left = (c->c_deadline - sy_now()) * 1000.0;

	return (left < 1 ? 1 : (long)left);
}

static void
http_webhook_done(const struct upstream_response *res, void *arg)
{
	struct wh_ctx	*w = arg;
	struct call	*c = w->w_call;

	c->c_wh[w->w_i] = NULL;
	c->c_wh_ok[w->w_i] = res->result == UPSTREAM_OK &&
	    res->status >= 200 && res->status < 300 &&
	    jscan_validate(res->body, res->body_len) == 0;
	if (!c->c_wh_ok[w->w_i])
		log_info("request %s: webhook %zu refused the call (%s, status "
		    "%ld)", c->c_reqid, w->w_i, res->error, res->status);
	if (--c->c_pending > 0)
		return;
	if (sy_now() >= c->c_deadline) {
		log_warnx("request %s: %s/%s/%s: the call's deadline passed "
		    "while its webhooks ran", c->c_reqid, c->c_ep->project,
		    c->c_ep->service, c->c_ep->name);
		http_error(c, 504, "upstream deadline passed",
		    "the deadline passed while the rule's webhooks ran");
		call_end(c);
		return;
	}
	if (http_apply_rule(c) == -1 || http_forward(c) == -1)
		call_end(c);
}

/* The webhook body: {"auth","params","token"}.  Caller frees. */
static char *
http_webhook_body(struct call *c)
{
	struct json_object	*o;
	char			*s;

	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	json_object_object_add(o, "auth", c->c_claims != NULL ?
	    json_object_get(c->c_claims) : json_object_new_object());
	json_object_object_add(o, "params", c->c_params != NULL ?
	    json_object_get(c->c_params) : json_object_new_object());
	json_object_object_add(o, "token", json_object_new_string_len(
	    c->c_token != NULL ? c->c_token : "", (int)c->c_tokenlen));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return (s);
}

/* Start every webhook of the rule in parallel.  0, or -1 (answered). */
static int
http_start_webhooks(struct call *c, const struct rule_webhook *wh, size_t n)
{
	struct upstream_request	 rq;
	const char		*hdrs[2];
	char			 rid[HTTP_REQID_MAX + 16], *body;
	size_t			 i;

	c->c_wh = calloc(n, sizeof(*c->c_wh));
	c->c_wh_ok = calloc(n, sizeof(*c->c_wh_ok));
	c->c_whctx = calloc(n, sizeof(*c->c_whctx));
	if (c->c_wh == NULL || c->c_wh_ok == NULL || c->c_whctx == NULL ||
	    (body = http_webhook_body(c)) == NULL) {
		http_error(c, 503, "out of memory",
		    "");
		return (-1);
	}
	c->c_nwh = n;
	snprintf(rid, sizeof(rid), "X-Request-Id: %s", c->c_reqid);
	hdrs[0] = "Content-Type: application/json";
	hdrs[1] = rid;
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.has_body = 1;
	rq.body = body;
	rq.body_len = strlen(body);
	rq.headers = hdrs;
	rq.nheaders = 2;
	rq.max_response = HTTP_WEBHOOK_MAX;
	rq.max_headers = c->c_h->h_srv->max_header_bytes;
	for (i = 0; i < n; i++) {
		rq.url = wh[i].url;
		/* each within its own timeout and the time the call has left */
		rq.timeout_ms = (long)(wh[i].timeout * 1000.0);
		if (rq.timeout_ms > http_left_ms(c))
			rq.timeout_ms = http_left_ms(c);
		c->c_whctx[i].w_call = c;
		c->c_whctx[i].w_i = i;
		c->c_wh[i] = upstream_start(c->c_h->h_up, &rq,
		    http_webhook_done, &c->c_whctx[i]);
		if (c->c_wh[i] != NULL)
			c->c_pending++;
	}
	free(body);
	if (c->c_pending < n) {
		http_error(c, 502,
		    "cannot start a webhook call", "");
		return (-1);
	}
	return (0);
}

/*
 * After the lookup: body, token, params, webhooks, rule, then the
 * upstream call.  0 = the call goes on (asynchronously); -1 = answered.
 */
static int
http_start(struct call *c)
{
	struct evbuffer			*in;
	const struct rule_webhook	*wh;
	const char			*err = NULL;
	size_t				 n;

	in = evhttp_request_get_input_buffer(c->c_req);
	if (jscan_body((const char *)evbuffer_pullup(in, -1),
	    evbuffer_get_length(in), &c->c_jb, &err) == -1) {
		http_error(c, 400, err, "");
		return (-1);
	}
	c->c_deadline = c->c_start + http_timeout_ms(c->c_ep, &c->c_jb) / 1000.0;
	/* from here on a client that leaves cancels the call, webhooks too */
	http_watch_later(c);
	http_want_jwks(c->c_h, c->c_proj);
	if (rule_needs_token(c->c_ep->rule) && http_authenticate(c) == -1)
		return (-1);
	if (c->c_jb.params != NULL && (http_needs_params(c->c_ep) ||
	    rule_changes_params(c->c_ep->rule)))
		c->c_params = http_parse_params(&c->c_jb);
	if ((n = rule_webhooks(c->c_ep->rule, &wh)) > 0)
		return (http_start_webhooks(c, wh, n));
	if (http_apply_rule(c) == -1)
		return (-1);
	return (http_forward(c));
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

/*
 * evhttp stops reading a connection once its request has arrived, so it
 * does not notice a client that leaves while the upstream call runs.
 * When a call has waited HTTP_WATCH_AFTER seconds, switchyard watches
 * the client's socket itself; on EOF or an error it drops the
 * connection, which cancels the upstream transfer through the
 * connection's close callback (http_conn_closed).  Fast calls never pay
 * for the watch.
 */
static void
http_client_check(evutil_socket_t fd, short what, void *arg)
{
	struct call			*c = arg;
	struct evhttp_connection	*evcon;
	char				 b;
	ssize_t				 n;

	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		/* a pipelined request, not a goodbye: stop watching */
		event_del(&c->c_watch);
		return;
	}
	log_info("request %s: the client left while the upstream call was "
	    "running: cancelling it", c->c_reqid);
	if ((evcon = evhttp_request_get_connection(c->c_req)) != NULL)
		evhttp_connection_free(evcon);	/* frees c too */
}

static void
http_slow_cb(evutil_socket_t unused, short what, void *arg)
{
	struct call			*c = arg;
	struct evhttp_connection	*evcon;
	evutil_socket_t			 fd;

	if ((evcon = evhttp_request_get_connection(c->c_req)) == NULL ||
	    (fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon)))
	    == -1)
		return;
	event_assign(&c->c_watch, c->c_h->h_base, fd, EV_READ | EV_PERSIST,
	    http_client_check, c);
	event_add(&c->c_watch, NULL);
}

static void
http_watch_later(struct call *c)
{
	struct timeval	tv = { HTTP_WATCH_AFTER, 0 };

	evtimer_assign(&c->c_slow, c->c_h->h_base, http_slow_cb, c);
	/* c_watch is assigned when needed; deleting it unassigned is a no-op */
	event_assign(&c->c_watch, c->c_h->h_base, -1, 0, http_client_check, c);
	c->c_watching = 1;
	evtimer_add(&c->c_slow, &tv);
}

/* The path of url (after the authority, before any query). */
static const char *
http_url_path(const char *url, size_t *len)
{
	const char	*p, *q;

	p = strstr(url, "://");
	p = p != NULL ? p + 3 : url;
	if ((p = strchr(p, '/')) == NULL) {
		*len = 1;
		return ("/");
	}
	q = strchr(p, '?');
	*len = q != NULL ? (size_t)(q - p) : strlen(p);
	return (p);
}

/* The X-SC-Token value for this call, or NULL (none, or no memory). */
static const char *
http_sc_token(struct call *c, const struct upstream_request *rq,
    char **owned)
{
	struct sy_endpoint	*ep = c->c_ep;
	const char		*path;
	size_t			 plen;
	double			 now = http_wall_now();

	*owned = NULL;
	if (!ep->bind_token)
		return (project_sc_token(c->c_proj, c->c_h->h_srv->node_id,
		    now));
	path = http_url_path(rq->url, &plen);
	*owned = project_bound_token(c->c_proj, c->c_h->h_srv->node_id,
	    ep->service, ep->method, path, plen, rq->has_body ? rq->body : "",
	    rq->has_body ? rq->body_len : 0, now);
	return (*owned);
}

/* Build the upstream request and start it.  0 = started. */
static int
http_forward(struct call *c)
{
	struct sy_endpoint	*ep = c->c_ep;
	struct upstream_request	 rq;
	struct sybuf		 url;
	struct hdrs		 hl;
	const char		**lines = NULL, *sc;
	char			*terr = NULL, *scown = NULL;
	int			 rc = -1;

	sybuf_init(&url);
	memset(&hl, 0, sizeof(hl));
	memset(&rq, 0, sizeof(rq));
	sybuf_init(&hl.store);
	hl.cap = 4 + ep->nheaders + ep->nfwd_headers;
	rq.method = ep->method;
	rq.has_body = ep->has_body;
	if (c->c_body != NULL) {
		rq.body = c->c_body;
		rq.body_len = strlen(c->c_body);
	} else {
		rq.body = c->c_jb.params != NULL ? c->c_jb.params : "{}";
		rq.body_len = c->c_jb.params != NULL ? c->c_jb.params_len : 2;
	}
	if ((hl.off = calloc(hl.cap, sizeof(*hl.off))) == NULL ||
	    (lines = calloc(hl.cap, sizeof(*lines))) == NULL ||
	    http_build_url(c, c->c_params, &url, &terr) == -1)
		goto bad;
	rq.url = url.data;
	sc = http_sc_token(c, &rq, &scown);
	if (http_build_headers(c, sc, &hl, &terr) == -1)
		goto bad;
	rq.nheaders = hdrs_lines(&hl, lines);
	rq.headers = lines;
	rq.timeout_ms = http_left_ms(c);
	rq.max_response = c->c_h->h_srv->max_response_bytes;
	rq.max_headers = c->c_h->h_srv->max_header_bytes;
	rq.resp_headers = (const char *const *)ep->resp_headers;
	rq.nresp_headers = ep->nresp_headers;
	c->c_upstart = sy_now();
	if ((c->c_uc = upstream_start(c->c_h->h_up, &rq, http_upstream_done,
	    c)) == NULL) {
		http_error(c, 502,
		    "cannot start the upstream call", "");
		goto out;
	}
	rc = 0;
	goto out;
bad:
	http_error(c, 400, terr != NULL ? terr :
	    "out of memory", "");
out:
	free(scown);
	free(terr);
	free(lines);
	free(hl.off);
	sybuf_free(&hl.store);
	sybuf_free(&url);
	return (rc);
}

static int
http_lookup(struct call *c)
{
	struct route	*r = c->c_route;
	char		 msg[ROUTE_NAME_MAX + 64];

	switch (catalog_lookup(c->c_h->h_cat, r->project, r->service,
	    r->endpoint, &c->c_ep, &c->c_proj)) {
	case CATALOG_OK:
		return (0);
	case CATALOG_NO_PROJECT:
		snprintf(msg, sizeof(msg), "project %s not found", r->project);
		break;
	case CATALOG_NO_SERVICE:
		snprintf(msg, sizeof(msg), "service %s not found", r->service);
		break;
	case CATALOG_NO_ENDPOINT:
		snprintf(msg, sizeof(msg), "endpoint %s not found",
		    r->endpoint);
		break;
	default:
		http_error(c, 500, "registry lookup failed", "");
		return (-1);
	}
	http_error(c, 404, msg, "");
	return (-1);
}

/* Route, method, drain and lookup checks.  0 = an API call to start. */
static int
http_admit(struct call *c)
{
	struct http	*h = c->c_h;

	if (route_parse(evhttp_uri_get_path(evhttp_request_get_evhttp_uri(
	    c->c_req)), &c->c_routebuf) == -1) {
		http_error(c, 404, "not found", "");
		return (-1);
	}
	c->c_route = &c->c_routebuf;
	switch (evhttp_request_get_command(c->c_req)) {
	case EVHTTP_REQ_OPTIONS:
		http_preflight(c);
		return (-1);
	case EVHTTP_REQ_POST:
		break;
	default:
		http_error(c, 405, "method not allowed", "");
		return (-1);
	}
	if (h->h_draining) {
		http_error(c, 503, "shutting down", "");
		return (-1);
	}
	if (http_lookup(c) == -1)
		return (-1);
	if (catalog_generation(h->h_cat) != h->h_jwks_gen)
		http_prefetch(h);
	return (0);
}

/*
 * evhttp leaves reading on while a body-less request is served and its
 * answer written, so a client that pipelines and never reads piles its
 * requests up in memory.  No further request is read on a connection
 * until its answer is written: evhttp enables reading again then, to
 * read the next request.
 */
static void
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
	struct call	*c;
	struct cconn	*cc;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	if ((cc = http_cc_of(h, req)) != NULL)
		cc->cc_deadline = 0;
	http_hold_reading(req);
	c->c_h = h;
	c->c_req = req;
	c->c_start = sy_now();
	http_request_id(h, req, c->c_reqid);
	h->h_inflight++;
	if (http_admit(c) == -1) {
		call_end(c);
		return;
	}
	if ((c->c_conn = http_conn(h, evhttp_request_get_connection(req))) !=
	    NULL)
		c->c_conn->cn_call = c;
	if (http_start(c) == -1)
		call_end(c);
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
	h->h_conncap = 256;
	if ((h->h_conns = calloc(h->h_conncap, sizeof(*h->h_conns))) == NULL ||
	    (h->h_ccs = calloc(HTTP_CC_BUCKETS, sizeof(*h->h_ccs))) == NULL ||
	    (h->h_sweep = event_new(base, -1, EV_PERSIST, http_sweep, h)) ==
	    NULL ||
	    (h->h_refuse = evtimer_new(base, http_sweep, h)) == NULL ||
	    (h->h_tc = tokcache_new(TOKCACHE_SLOTS)) == NULL ||
	    (h->h_jwks = jwks_new(base, up)) == NULL) {
		log_warnx("%s: out of memory", __func__);
		http_free(h);
		return (NULL);
	}
	h->h_base = base;
	h->h_srv = srv;
	h->h_cat = cat;
	h->h_up = up;
	/* request ids: a random per-worker prefix and a counter */
	if (getrandom(&h->h_idprefix, sizeof(h->h_idprefix), 0) !=
	    sizeof(h->h_idprefix))
		h->h_idprefix = ((uint64_t)getpid() << 32) ^ (uint64_t)random();
	evhttp_set_allowed_methods(h->h_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_max_body_size(h->h_http, srv->max_body_bytes);
	evhttp_set_max_headers_size(h->h_http, srv->max_header_bytes);
	evhttp_set_timeout(h->h_http, (int)(srv->client_timeout + 0.999));
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

/* Names of auth failure reasons for the metrics (enum auth_result). */
static const char *
http_auth_reason(int r)
{
	switch (r) {
	case 0: return ("missing");
	case AUTH_MALFORMED: return ("malformed");
	case AUTH_BAD_ALG: return ("bad_alg");
	case AUTH_UNKNOWN_KID: return ("unknown_kid");
	case AUTH_BAD_SIGNATURE: return ("bad_signature");
	case AUTH_EXPIRED: return ("expired");
	case AUTH_NOT_YET_VALID: return ("not_yet_valid");
	case AUTH_BAD_AUDIENCE: return ("bad_audience");
	case AUTH_BAD_ISSUER: return ("bad_issuer");
	case AUTH_NO_KEYS: return ("keys_not_loaded");
	default: return (NULL);
	}
}

struct ready_check {
	struct http	*rc_h;
	char		 rc_why[256];
};

static void
http_ready_cb(struct sy_project *p, void *arg)
{
	struct ready_check	*rc = arg;
	const char		*url;
	size_t			 i, n = auth_keyset_njwks(p->keys);

	for (i = 0; i < n && rc->rc_why[0] == '\0'; i++) {
		url = auth_keyset_jwks_url(p->keys, i);
		if (jwks_lookup(url, rc->rc_h->h_jwks) == NULL)
			snprintf(rc->rc_why, sizeof(rc->rc_why), "the JWKS keys "
			    "of project %s are not loaded yet", p->name);
	}
}

/* /readyz: 200 when the registry is loaded and every JWKS is. */
static int
http_readyz(struct http *h, struct evbuffer *b)
{
	struct ready_check	rc;

	memset(&rc, 0, sizeof(rc));
	rc.rc_h = h;
	catalog_each_project(h->h_cat, http_ready_cb, &rc);
	if (catalog_generation(h->h_cat) == 0)
		snprintf(rc.rc_why, sizeof(rc.rc_why), "no registry loaded");
	if (rc.rc_why[0] != '\0') {
		evbuffer_add_printf(b, "{\"status\":\"not ready\",\"reason\":");
		http_json_str(b, rc.rc_why);
		evbuffer_add_printf(b, "}\n");
		return (503);
	}
	evbuffer_add_printf(b, "{\"status\":\"ready\",\"generation\":%llu}\n",
	    (unsigned long long)catalog_generation(h->h_cat));
	return (200);
}

static void
http_admin_cb(struct evhttp_request *req, void *arg)
{
	struct http		*h = arg;
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*b;
	struct sybuf		 text;
	const char		*path;
	int			 status = 200;

	http_hold_reading(req);
	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		status = 405;
		evhttp_add_header(out, "Allow", "GET, HEAD");
		evbuffer_add_printf(b, "{\"error\":\"method not allowed\"}\n");
	} else if (path != NULL && strcmp(path, "/healthz") == 0)
		evbuffer_add_printf(b, "{\"status\":\"ok\"}\n");
	else if (path != NULL && strcmp(path, "/readyz") == 0)
		status = http_readyz(h, b);
	else if (path != NULL && strcmp(path, "/metrics") == 0) {
		sybuf_init(&text);
		if (metrics_render(h->h_metrics, &text, http_auth_reason) == -1)
			status = 503;
		else
			evbuffer_add(b, text.data, text.len);
		sybuf_free(&text);
		evhttp_add_header(out, "Content-Type",
		    "text/plain; version=0.0.4; charset=utf-8");
	} else {
		status = 404;
		evbuffer_add_printf(b, "{\"error\":\"not found\"}\n");
	}
	if (evhttp_find_header(out, "Content-Type") == NULL)
		evhttp_add_header(out, "Content-Type", "application/json");
	evhttp_send_reply(req, status, http_reason(status), b);
	evbuffer_free(b);
}

int
http_metrics(struct http *h, struct metrics *m, int mslot, int admin_fd)
{
	h->h_metrics = m;
	h->h_ms = metrics_slot(m, mslot);
	if (admin_fd == -1 || m == NULL)
		return (0);
	if ((h->h_admin = evhttp_new(h->h_base)) == NULL ||
	    (h->h_admin_sock = evhttp_accept_socket_with_handle(h->h_admin,
	    admin_fd)) == NULL) {
		log_warnx("%s: cannot serve the admin listener", __func__);
		return (-1);
	}
	evhttp_set_allowed_methods(h->h_admin, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE);
	evhttp_set_timeout(h->h_admin, 10);
	evhttp_set_gencb(h->h_admin, http_admin_cb, h);
	return (0);
}

void
http_drain(struct http *h, void (*done)(void *), void *arg)
{
	size_t	i;

	/* closes this worker's copies of the listening sockets */
	for (i = 0; i < h->h_nsocks; i++)
		evhttp_del_accept_socket(h->h_http, h->h_socks[i]);
	h->h_nsocks = 0;
	if (h->h_admin_sock != NULL)
		evhttp_del_accept_socket(h->h_admin, h->h_admin_sock);
	h->h_admin_sock = NULL;
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
	size_t	i;

	if (h == NULL)
		return;
	if (h->h_http != NULL)
		evhttp_free(h->h_http);
	if (h->h_admin != NULL)
		evhttp_free(h->h_admin);
	for (i = 0; h->h_ccs != NULL && i < HTTP_CC_BUCKETS; i++)
		while (h->h_ccs[i] != NULL)
			http_cc_release(h, &h->h_ccs[i]);
	if (h->h_sweep != NULL)
		event_free(h->h_sweep);
	if (h->h_refuse != NULL)
		event_free(h->h_refuse);
	free(h->h_ccs);
	free(h->h_conns);
	tokcache_free(h->h_tc);
	jwks_free(h->h_jwks);
	free(h->h_socks);
	free(h);
}
