/*
 * http_conn.c: the worker's one table of client connections, keyed by
 * the bufferevent switchyard makes for each (evhttp_set_bevcb): the
 * open-connections gauge, maxConnections, the clientTimeout deadline
 * for a whole request, the framing check of every byte before evhttp
 * reads it (http_frame.c), the rewrite of evhttp's own HTML error pages
 * into the contract's JSON, the close callback that ends the request in
 * flight, the watch on a client that leaves while its call runs, and the
 * reply written in the iteration that makes it (http_cc_flush).
 *
 * Invariants: a connection's entry lives from its accept until the sweep
 * sees that evhttp freed its bufferevent (its event callback cleared),
 * so every callback that names it (close, reply complete) finds it; the
 * gauge moves only here, once per socket.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/http.h>

#include "config.h"
#include "http.h"
#include "http_int.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

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

static size_t
http_cc_hash(const struct bufferevent *bev)
{
	uintptr_t	p = (uintptr_t)bev;

	return ((size_t)((p >> 4) ^ (p >> 16)) & (HTTP_CC_BUCKETS - 1));
}

struct cconn *
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

/*
 * evhttp_send_reply only queues the reply and arms the write event, so
 * the socket is written one loop iteration later, after an epoll_wait
 * that reports it writable (it nearly always is) and two epoll_ctl
 * calls to arm and disarm it.  Running the bufferevent's write callback
 * now, in this iteration, writes the reply at once; if the socket is
 * full the callback leaves the event armed, as it would have.
 */
void
http_cc_flush(struct cconn *cc)
{
	struct bufferevent	*bev = cc->cc_bev;

	if (!http_cc_gone(cc) && event_pending(&bev->ev_write, EV_WRITE,
	    NULL) && evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		event_active(&bev->ev_write, EV_WRITE, 1);
}

/* Drop our reference: the bufferevent and its socket are freed now. */
static void
http_cc_release(struct http *h, struct cconn **pp)
{
	struct cconn	*cc = *pp;

	*pp = cc->cc_next;
	if (cc->cc_watch_set)
		event_del(&cc->cc_watch);	/* before the socket closes */
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
void
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
 * The next CRLF-ended line of b, taken out of it, into line (truncated
 * to size - 1); its length, or -1 when b holds no whole line.  Not
 * evbuffer_readln: its line comes from libevent's allocator (mcache.c
 * in a worker), which free() must not be given.
 */
static ssize_t
http_cc_line(struct evbuffer *b, char *line, size_t size)
{
	struct evbuffer_ptr	eol;
	size_t			eol_len = 0, n;

	eol = evbuffer_search_eol(b, NULL, &eol_len, EVBUFFER_EOL_CRLF_STRICT);
	if (eol.pos == -1)
		return (-1);
	n = (size_t)eol.pos < size - 1 ? (size_t)eol.pos : size - 1;
	evbuffer_copyout(b, line, n);
	line[n] = '\0';
	evbuffer_drain(b, (size_t)eol.pos + eol_len);
	return (eol.pos);
}

static void
http_cc_rewrite(struct cconn *cc, struct evbuffer *out, int status)
{
	struct evbuffer		*hdrs;
	struct evbuffer_ptr	 end;
	const char		*msg;
	ssize_t			 len;
	size_t			 n;
	int			 minor;
	char			 body[640], ver[8], reqid[HTTP_REQID_MAX + 1];
	char			 line[256];

	if (evbuffer_copyout(out, ver, 8) != 8 || (ver[7] != '0' &&
	    ver[7] != '1'))
		return;
	minor = ver[7] - '0';
	end = evbuffer_search(out, "\r\n\r\n", 4, NULL);
	if (end.pos == -1 || (hdrs = evbuffer_new()) == NULL)
		return;
	/* keep evhttp's headers (Date, Connection: close) but the body's */
	http_cc_line(out, line, sizeof(line));	/* the status line */
	while ((len = http_cc_line(out, line, sizeof(line))) > 0) {
		/* evhttp's own lines are short: none is cut at 255 bytes */
		if ((size_t)len < sizeof(line) &&
		    strncasecmp(line, "Content-Type:", 13) != 0 &&
		    strncasecmp(line, "Content-Length:", 15) != 0)
			evbuffer_add_printf(hdrs, "%s\r\n", line);
	}
	evbuffer_drain(out, evbuffer_get_length(out));
	msg = status == 413 ? "request body larger than limits.maxBodyBytes" :
	    "malformed request line or headers, or headers larger than "
	    "limits.maxHeaderBytes";
	if (cc->cc_framing != NULL) {
		/* http_cc_cut made evhttp fail; 413 for a chunk line */
		status = 400;
		msg = "ambiguous request framing";
	}
	/*
	 * The path is not known here: the body suits both APIs, "error"
	 * for REST callers and "errors" for GraphQL ones (SPEC 8.2).
	 */
	n = snprintf(body, sizeof(body), "{\"error\":\"%s%s%s\",\"rawError\":"
	    "\"\",\"errors\":[{\"message\":\"%s%s%s\",\"extensions\":"
	    "{\"code\":\"BAD_REQUEST\"}}]}", msg, cc->cc_framing != NULL ?
	    ": " : "", cc->cc_framing != NULL ? cc->cc_framing : "", msg,
	    cc->cc_framing != NULL ? ": " : "", cc->cc_framing != NULL ?
	    cc->cc_framing : "");
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

/*
 * Copy n bytes at pos (NULL: the start) out of the output.  The
 * bufferevent keeps the front of its output frozen except while it
 * writes, and a frozen front cannot be read: thawed for the copy, and
 * frozen again as it was found.
 */
static int
http_cc_peek(struct evbuffer *out, struct evbuffer_ptr *pos, char *dst,
    size_t n)
{
	ev_ssize_t	got;

	if ((got = evbuffer_copyout_from(out, pos, dst, n)) == -1) {
		evbuffer_unfreeze(out, 1);
		got = evbuffer_copyout_from(out, pos, dst, n);
		evbuffer_freeze(out, 1);
	}
	return (got == (ev_ssize_t)n ? 0 : -1);
}

static void
http_cc_output(struct evbuffer *out, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct cconn		*cc = arg;
	struct evbuffer_ptr	 p;
	char			 head[13], tail[sizeof(HTTP_PAGE_END) - 1];
	size_t			 len;
	int			 status;

	if (info->n_added == 0)
		return;
	if (info->orig_size == 0) {
		/* "HTTP/1.x 400 " or "HTTP/1.x 413 " */
		cc->cc_errpage = 0;
		if (http_cc_peek(out, NULL, head, sizeof(head)) == 0 &&
		    memcmp(head, "HTTP/1.", 7) == 0 && head[12] == ' ' &&
		    (memcmp(head + 9, "400", 3) == 0 ||
		    memcmp(head + 9, "413", 3) == 0))
			cc->cc_errpage = head[11] == '0' ? 400 : 413;
		return;
	}
	if ((status = cc->cc_errpage) == 0 ||
	    (len = evbuffer_get_length(out)) < sizeof(tail) ||
	    evbuffer_ptr_set(out, &p, len - sizeof(tail), EVBUFFER_PTR_SET) ==
	    -1 || http_cc_peek(out, &p, tail, sizeof(tail)) == -1 ||
	    memcmp(tail, HTTP_PAGE_END, sizeof(tail)) != 0)
		return;
	/* the rewrite reads and drains the front: thawed meanwhile */
	if (evbuffer_copyout(out, head, 1) == -1) {
		evbuffer_unfreeze(out, 1);
		http_cc_rewrite(cc, out, status);  /* which calls back here */
		evbuffer_freeze(out, 1);
	} else
		http_cc_rewrite(cc, out, status);
	cc->cc_errpage = 0;
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
 * evhttp reads on after each answer is written and parses only one
 * request per answer: a client that pipelines faster than it reads
 * would pile its requests up here.  Once the unread input holds one
 * request of the largest size allowed (a chunked body is read whole
 * before evhttp takes it), a read high-watermark stops reading until
 * half of it is consumed.  The mark is set only then: while it is set,
 * libevent re-arms the read event at every drain, a dozen times a
 * request.
 */
static size_t
http_cc_limit(const struct cconn *cc)
{
	const struct sy_server	*srv = cc->cc_h->h_srv;

	return (srv->max_body_bytes + srv->max_header_bytes + HTTP_READ_SLACK);
}

/*
 * evhttp stops reading a connection once its request has arrived, so it
 * would not notice a client that leaves while the call runs.  Each
 * connection has a read event of its own on its socket, armed when bytes
 * arrive (before evhttp parses them and stops reading) and left armed:
 * the socket stays in epoll with the same interest from the request's
 * arrival to its answer, so serving it costs no epoll_ctl at all.
 *
 * The watch acts only while a request is in flight and no bytes were
 * read since it last ran (bytes read mean evhttp consumed what woke it).
 * Then EOF or an error drops the connection, which cancels the call and
 * its webhooks through the close callback (http_conn_closed); a
 * pipelined request disarms it until the next bytes are read.  With no
 * request in flight, what the socket has is evhttp's to read: disarmed.
 */
static void
http_cc_watch(evutil_socket_t fd, short what, void *arg)
{
	struct cconn			*cc = arg;
	struct evhttp_connection	*evcon;
	char				 b;
	ssize_t				 n;

	if (cc->cc_seen) {
		cc->cc_seen = 0;
		return;
	}
	if (cc->cc_rest == NULL || http_cc_gone(cc)) {
		event_del(&cc->cc_watch);
		return;
	}
	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	event_del(&cc->cc_watch);
	if (n > 0)
		return;		/* a pipelined request, not a goodbye */
	log_info("request %s: the client left while the upstream call was "
	    "running: cancelling it", cc->cc_rest->r_reqid);
	if ((evcon = evhttp_request_get_connection(cc->cc_rest->r_req)) !=
	    NULL)
		evhttp_connection_free(evcon);	/* ends the request too */
}

static void
http_cc_arm(struct cconn *cc)
{
	evutil_socket_t	fd;

	cc->cc_seen = 1;
	if (!cc->cc_watch_set) {
		if ((fd = bufferevent_getfd(cc->cc_bev)) == -1)
			return;
		event_assign(&cc->cc_watch, bufferevent_get_base(cc->cc_bev),
		    fd, EV_READ | EV_PERSIST, http_cc_watch, cc);
		cc->cc_watch_set = 1;
	}
	if (!event_pending(&cc->cc_watch, EV_READ, NULL))
		event_add(&cc->cc_watch, NULL);
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

	if (info->n_added == 0 && !cc->cc_throttled)
		return;		/* evhttp took a line: most calls end here */
	len = evbuffer_get_length(in);
	if (cc->cc_throttled && len < http_cc_limit(cc) / 2) {
		/* read again: lifting the mark resumes reading */
		cc->cc_throttled = 0;
		bufferevent_setwatermark(cc->cc_bev, EV_READ, 0, 0);
	}
	if (info->n_added == 0 || cc->cc_injecting)
		return;
	http_cc_arm(cc);
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
	if (!cc->cc_throttled && len >= http_cc_limit(cc)) {
		/* setting the mark with this much unread suspends reading */
		cc->cc_throttled = 1;
		bufferevent_setwatermark(cc->cc_bev, EV_READ, 0,
		    http_cc_limit(cc));
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
struct bufferevent *
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

/*
 * evhttp is freeing a connection.  A request still in flight on it lost
 * its client: its call is cancelled and its memory freed.  Replies it
 * never wrote are no longer waited for by a drain.
 */
static void
http_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct cconn	*cc = arg;
	struct http	*h = cc->cc_h;
	struct rest	*r = cc->cc_rest;

	cc->cc_evcon = NULL;
	if (cc->cc_watch_set)
		event_del(&cc->cc_watch);
	if (r != NULL) {
		log_debug("request %s: client closed the connection",
		    r->r_reqid);
		/* evhttp detached the request from the dead connection */
		if (evhttp_request_get_connection(r->r_req) == NULL)
			evhttp_request_free(r->r_req);
		r->r_conn = NULL;
		cc->cc_rest = NULL;
		http_rest_end(r);
	}
	if (cc->cc_unflushed > 0) {
		h->h_unflushed -= cc->cc_unflushed;
		cc->cc_unflushed = 0;
		http_check_drained(h);
	}
}

struct cconn *
http_cc_attach(struct http *h, struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct cconn			*cc;

	if ((evcon = evhttp_request_get_connection(req)) == NULL ||
	    (cc = http_cc_of(h, req)) == NULL)
		return (NULL);
	if (cc->cc_evcon != evcon) {
		cc->cc_evcon = evcon;
		evhttp_connection_set_closecb(evcon, http_conn_closed, cc);
	}
	return (cc);
}

void
http_cc_release_all(struct http *h)
{
	size_t	i;

	for (i = 0; h->h_ccs != NULL && i < HTTP_CC_BUCKETS; i++)
		while (h->h_ccs[i] != NULL)
			http_cc_release(h, &h->h_ccs[i]);
}
