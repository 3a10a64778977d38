/*
 * http.c: the worker's HTTP front end on libevent's evhttp: listeners,
 * drain, routing, replies (CORS, request ids, the access log, JSON
 * errors), the REST handler of
 * POST /v1/api/{project}/services/{service}/{endpoint} (lookup, body,
 * deadline, the caller's principal through authn.c, then one call
 * through call.c, whose completion becomes the reply), the table of
 * client connections (deadlines, maxConnections, the framing check of
 * http_frame.c, the rewrite of evhttp's own error pages, a client that
 * leaves) and the admin listener.
 *
 * Invariants:
 * - Only the transport files include event2/http.h.
 * - All memory of a REST request hangs off one struct rest, freed in
 *   rest_end(); the call it started is cancelled there if still running.
 * - Every request ends in exactly one evhttp_send_reply (through
 *   http_send) and is never touched after it; a request whose client went
 *   away is freed in http_conn_closed instead.
 * - The client's params bytes are forwarded as they are (call.c).
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

#include "admin.h"
#include "authn.h"
#include "call.h"
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
#include "upreq.h"
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
	struct authn			*h_authn;
	struct call_ctx			 h_call;
	struct metrics			*h_metrics;
	struct metrics_slot		*h_ms;
	struct admin			*h_admin;
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

struct rest {
	struct http			*r_h;
	struct evhttp_request		*r_req;
	struct conn			*r_conn;
	struct sy_endpoint		*r_ep;
	struct sy_project		*r_proj;
	struct call			*r_call;	/* in flight, or NULL */
	struct principal		 r_who;
	int				 r_has_who;
	struct route			*r_route;	/* NULL: not an API path */
	struct route			 r_routebuf;
	double				 r_start;	/* monotonic */
	struct event			 r_slow;	/* upstream slow: watch */
	struct event			 r_watch;	/* the client's socket */
	int				 r_watching;	/* r_slow/r_watch set up */
	long				 r_upstatus;	/* 0: no upstream answer */
	char				 r_reqid[HTTP_REQID_MAX + 1];
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
	struct rest			*cn_call;	/* in flight, or NULL */
	size_t				 cn_unflushed;	/* replies being sent */
};


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
http_access(struct rest *r, int status, size_t bytes)
{
	struct evhttp_connection	*evcon;
	const char			*addr = "-";
	ev_uint16_t			 port = 0;
	char				 up[24];

	evcon = evhttp_request_get_connection(r->r_req);
	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, (char **)&addr, &port);
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

/* The one place that answers a request. */
static void
http_send(struct rest *r, int status, struct evbuffer *body)
{
	struct http			*h = r->r_h;
	struct evhttp_request		*req = r->r_req;
	struct evhttp_connection	*evcon;
	struct cconn			*cc;
	struct conn			*cn;

	if (log_access_enabled())
		http_access(r, status, body != NULL ?
		    evbuffer_get_length(body) : 0);
	/* only names the registry knows become series, never a caller's */
	if (r->r_ep != NULL)
		metrics_request(h->h_ms, r->r_ep->project, r->r_ep->service,
		    r->r_ep->name, status);
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
	http_common_headers(r->r_h, req, r->r_reqid, 1);
	if (status == 405)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "POST, OPTIONS");
	http_send(r, status, b);
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
http_preflight(struct rest *r)
{
	struct evkeyvalq	*out;

	out = evhttp_request_get_output_headers(r->r_req);
	http_common_headers(r->r_h, r->r_req, NULL, 0);
	evhttp_add_header(out, "Access-Control-Allow-Methods", "POST, OPTIONS");
	evhttp_add_header(out, "Access-Control-Allow-Headers",
	    "Authorization, Content-Type");
	evhttp_add_header(out, "Access-Control-Max-Age", "86400");
	http_send(r, 204, NULL);
}

static void
rest_end(struct rest *r)
{
	struct http	*h = r->r_h;

	if (r->r_conn != NULL)
		r->r_conn->cn_call = NULL;
	if (r->r_watching) {
		event_del(&r->r_slow);
		event_del(&r->r_watch);
	}
	call_cancel(r->r_call);
	if (r->r_ep != NULL)
		endpoint_unref(r->r_ep);
	project_unref(r->r_proj);
	principal_clear(&r->r_who);
	free(r);
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
	struct rest	*r = cn->cn_call;

	if (r != NULL) {
		log_debug("request %s: client closed the connection",
		    r->r_reqid);
		/* evhttp detached the request from the dead connection */
		if (evhttp_request_get_connection(r->r_req) == NULL)
			evhttp_request_free(r->r_req);
		r->r_conn = NULL;
		rest_end(r);
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

static void
http_reply_upstream(struct rest *r, const struct call_result *res)
{
	struct evhttp_request	*req = r->r_req;
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
		if (upreq_header_refused(name))
			continue;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		evhttp_add_header(out, name, v);
	}
	if (res->status == 204 || res->status == 304 || res->body_len == 0) {
		http_common_headers(r->r_h, req, r->r_reqid, 0);
		http_send(r, (int)res->status, NULL);
		return;
	}
	http_common_headers(r->r_h, req, r->r_reqid, 1);
	if ((b = evbuffer_new()) == NULL ||
	    evbuffer_add(b, res->body, res->body_len) == -1) {
		evhttp_send_error(req, 500, NULL);
	} else
		http_send(r, (int)res->status, b);
	if (b != NULL)
		evbuffer_free(b);
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
static void	http_watch_later(struct rest *);
static void	http_call_done(const struct call_result *, void *);

/* The caller's request headers, for the call core (upreq.c). */
static const char *
http_client_header(void *arg, const char *name)
{
	struct rest	*r = arg;

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
	/* from here on a client that leaves cancels the call, webhooks too */
	http_watch_later(r);
	authn_want_keys(r->r_h->h_authn, r->r_proj);
	if (rule_needs_token(r->r_ep->rule)) {
		auth = http_client_header(r, "Authorization");
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
	rest_end(r);
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
	struct rest			*r = arg;
	struct evhttp_connection	*evcon;
	char				 b;
	ssize_t				 n;

	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		/* a pipelined request, not a goodbye: stop watching */
		event_del(&r->r_watch);
		return;
	}
	log_info("request %s: the client left while the upstream call was "
	    "running: cancelling it", r->r_reqid);
	if ((evcon = evhttp_request_get_connection(r->r_req)) != NULL)
		evhttp_connection_free(evcon);	/* frees r too */
}

static void
http_slow_cb(evutil_socket_t unused, short what, void *arg)
{
	struct rest			*r = arg;
	struct evhttp_connection	*evcon;
	evutil_socket_t			 fd;

	if ((evcon = evhttp_request_get_connection(r->r_req)) == NULL ||
	    (fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon)))
	    == -1)
		return;
	event_assign(&r->r_watch, r->r_h->h_base, fd, EV_READ | EV_PERSIST,
	    http_client_check, r);
	event_add(&r->r_watch, NULL);
}

static void
http_watch_later(struct rest *r)
{
	struct timeval	tv = { HTTP_WATCH_AFTER, 0 };

	evtimer_assign(&r->r_slow, r->r_h->h_base, http_slow_cb, r);
	/* r_watch is assigned when needed; deleting it unassigned is a no-op */
	event_assign(&r->r_watch, r->r_h->h_base, -1, 0, http_client_check, r);
	r->r_watching = 1;
	evtimer_add(&r->r_slow, &tv);
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
		http_preflight(r);
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

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	if ((cc = http_cc_of(h, req)) != NULL)
		cc->cc_deadline = 0;
	http_hold_reading(req);
	r->r_h = h;
	r->r_req = req;
	r->r_start = sy_now();
	http_request_id(h, req, r->r_reqid);
	h->h_inflight++;
	if (http_admit(r) == -1) {
		rest_end(r);
		return;
	}
	if ((r->r_conn = http_conn(h, evhttp_request_get_connection(req))) !=
	    NULL)
		r->r_conn->cn_call = r;
	if (http_start(r) == -1)
		rest_end(r);
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
	    (h->h_authn = authn_new(base, up, cat, &h->h_ms)) == NULL) {
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
http_drain(struct http *h, void (*done)(void *), void *arg)
{
	size_t	i;

	/* closes this worker's copies of the listening sockets */
	for (i = 0; i < h->h_nsocks; i++)
		evhttp_del_accept_socket(h->h_http, h->h_socks[i]);
	h->h_nsocks = 0;
	admin_stop(h->h_admin);
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
	admin_free(h->h_admin);
	for (i = 0; h->h_ccs != NULL && i < HTTP_CC_BUCKETS; i++)
		while (h->h_ccs[i] != NULL)
			http_cc_release(h, &h->h_ccs[i]);
	if (h->h_sweep != NULL)
		event_free(h->h_sweep);
	if (h->h_refuse != NULL)
		event_free(h->h_refuse);
	free(h->h_ccs);
	free(h->h_conns);
	authn_free(h->h_authn);
	free(h->h_socks);
	free(h);
}
