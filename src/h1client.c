/*
 * h1client.c: the native HTTP/1.1 client for plain http:// upstreams:
 * connections, pools, deadlines, retries and calls.  Raw non-blocking
 * sockets with plain libevent events on the worker's event_base; hosts
 * and names in h1host.c (evdns), responses parsed by h1resp.c (Debian's
 * libhttp-parser).  The request (head and body) is built in one buffer
 * kept by the call and sent with one send(2).
 *
 * Invariants:
 * - A call's callback runs from an event callback only: every failure
 *   found while starting or dispatching is delivered later, through the
 *   call's own timer made active (h1_fail), and successes are delivered
 *   from the connection's read event.
 * - A connection belongs to one call at a time, or sits idle in its
 *   host's pool with its idle timer: data or EOF on an idle connection
 *   closes it.  Its EV_READ event stays registered from one call to the
 *   next (EV_WRITE only while connecting or after a short write), so a
 *   call on a kept-alive connection costs no epoll_ctl(2).  It is
 *   pooled only after a complete response, with keep-alive allowed by
 *   the response, no byte after it, fewer than keepalive_requests
 *   requests done and room in the pool; anything else (cancel, error,
 *   deadline) closes it.
 * - Calls wait in their host's queue (FIFO) for a name, a free slot
 *   under max_conns or an idle connection; h1_kick serves the queue
 *   whenever one of those changes.
 * - Retries: as nginx (proxy_next_upstream) does, a request is resent
 *   once, on a fresh connection, only when it went out on a REUSED
 *   connection that then failed (reset, EOF, send error) before any
 *   response byte, and only when its method is not POST, PATCH or
 *   LOCK: the server may close a kept-alive connection just as we write
 *   (the idle close race), and resending an idempotent request is
 *   harmless.  A non-idempotent request is never resent; the idle
 *   timeout (4 s by default, below the 5 s of Node.js and Apache)
 *   keeps that race rare.
 * - Finished calls keep their buffers on a free list (up to 64), so a
 *   steady call rate allocates nothing per call.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/util.h>

#include "h1client.h"
#include "h1host.h"
#include "h1resp.h"
#include "log.h"
#include "util.h"

#define H1_FREE_MAX	64
#define H1_RBUF		16384
#define H1_BUILD_LENS	16		/* header lengths h1_build keeps */

struct h1_conn {
	int			 fd;
	struct event		 ev;		/* EV_READ, or EV_WRITE */
	short			 what;		/* ev's kind, 0: not added */
	struct event		 idle;		/* the idle timeout */
	struct h1host		*host;
	struct h1client_call	*call;
	unsigned		 nreq;
	TAILQ_ENTRY(h1_conn)	 entry;		/* the host's idle list */
};

struct h1client_call {
	struct h1client		*cl;
	struct h1host		*host;
	struct h1_conn		*conn;
	upstream_cb		 cb;
	void			*arg;
	struct event		 timer;		/* deadline; failures */
	struct timeval		 start;
	struct sybuf		 out;		/* request head and body */
	size_t			 off;
	struct h1resp		 r;
	struct sybuf		 want;
	const char		**hv;
	size_t			 hvcap;
	int			 unsafe;	/* POST, PATCH, LOCK */
	int			 retried, fresh, queued, reused;
	int			 failed, connecting, reading;
	enum upstream_result	 res;
	char			 err[H1RESP_ERRLEN];
	TAILQ_ENTRY(h1client_call) entry;	/* calls, or free list */
	TAILQ_ENTRY(h1client_call) wentry;	/* the host's queue */
};

struct h1client {
	struct event_base	*base;
	struct h1client_conf	 conf;
	struct h1hosts		 hosts;
	TAILQ_HEAD(, h1client_call) calls;
	TAILQ_HEAD(, h1client_call) spare;
	size_t			 nactive, nspare;
	int			 dying;		/* in h1client_free */
	struct h1client_stats	 st;
	struct timeval		 idle_tv;	/* a common timeout: see new */
	char			 rbuf[H1_RBUF];
};

static void	h1_kick(struct h1host *);
static void	h1_conn_cb(evutil_socket_t, short, void *);
static void	h1_idle_cb(evutil_socket_t, short, void *);

static void	h1_fail(struct h1client_call *, enum upstream_result,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

/* The name of hs resolved (rc 0), or not: serve or fail its queue. */
static void
h1_named(struct h1host *hs, int rc)
{
	struct h1client_call	*c, *next;

	if (rc == 0) {
		h1_kick(hs);
		return;
	}
	/* libcurl's words; debug logs have the resolver's */
	log_debug("upstream %s: %s", hs->name, evutil_gai_strerror(rc));
	for (c = TAILQ_FIRST(&hs->queue); c != NULL; c = next) {
		next = TAILQ_NEXT(c, wentry);
		h1_fail(c, UPSTREAM_REFUSED, "Could not resolve host: %s",
		    hs->name);
	}
}

/* ---- connections -------------------------------------------------- */

static long
h1_elapsed(const struct h1client_call *c)
{
	struct timeval	now;

	event_base_gettimeofday_cached(c->cl->base, &now);
	return ((now.tv_sec - c->start.tv_sec) * 1000 +
	    (now.tv_usec - c->start.tv_usec) / 1000);
}

/* Watch for what; no epoll_ctl(2) when that is watched already. */
static void
h1_arm(struct h1_conn *cn, short what)
{
	if (cn->what == what)
		return;
	if (cn->what != 0)
		event_del(&cn->ev);
	event_assign(&cn->ev, cn->host->cl->base, cn->fd, what | EV_PERSIST,
	    h1_conn_cb, cn);
	event_add(&cn->ev, NULL);
	cn->what = what;
}

/* Close a connection; the caller kicks the host's queue. */
static void
h1_conn_close(struct h1_conn *cn)
{
	struct h1host	*hs = cn->host;

	if (cn->call == NULL) {
		TAILQ_REMOVE(&hs->idle, cn, entry);
		hs->nidle--;
		hs->cl->st.idle--;
	} else
		cn->call->conn = NULL;
	event_del(&cn->ev);
	evtimer_del(&cn->idle);
	close(cn->fd);
	hs->nconns--;
	hs->cl->st.open--;
	free(cn);
}

static void
h1_dequeue(struct h1client_call *c)
{
	if (c->queued) {
		TAILQ_REMOVE(&c->host->queue, c, wentry);
		c->queued = 0;
	}
}

/*
 * Fail a call: its connection is closed, and the callback runs from
 * the call's timer, made active, never from here.
 */
static void
h1_fail(struct h1client_call *c, enum upstream_result res,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->res = res;
	c->failed = 1;
	if (c->conn != NULL)
		h1_conn_close(c->conn);
	if (c->host != NULL)
		h1_dequeue(c);
	evtimer_del(&c->timer);
	event_active(&c->timer, EV_TIMEOUT, 1);
}

/* The connection died: resend once, or fail (see the top comment). */
static void
h1_broken(struct h1client_call *c, const char *what)
{
	struct h1host	*hs = c->host;

	if (c->reused && !c->unsafe && !c->retried && c->r.rx == 0) {
		c->cl->st.retries++;
		c->retried = c->fresh = 1;
		h1_conn_close(c->conn);
		TAILQ_INSERT_HEAD(&hs->queue, c, wentry);
		c->queued = 1;
		h1_kick(hs);
		return;
	}
	h1_fail(c, UPSTREAM_FAILED, "%s", what);
}

static void
h1_write(struct h1client_call *c)
{
	struct h1_conn	*cn = c->conn;
	ssize_t		 n;
	char		 msg[128];

	while (c->off < c->out.len) {
		n = send(cn->fd, c->out.data + c->off, c->out.len - c->off,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			h1_arm(cn, EV_WRITE);
			return;
		}
		if (n == -1) {
			snprintf(msg, sizeof(msg), "Send failure: %s",
			    strerror(errno));
			h1_broken(c, msg);
			return;
		}
		c->off += n;
	}
	c->reading = 1;
	h1_arm(cn, EV_READ);
}

/* A complete response: pool or close the connection, then deliver. */
static void	h1_deliver(struct h1client_call *, enum upstream_result);

static void
h1_done(struct h1client_call *c, int noreuse)
{
	struct h1_conn	*cn = c->conn;
	struct h1host	*hs = cn->host;
	struct h1client	*cl = hs->cl;

	if (!noreuse && h1resp_keepalive(&c->r) &&
	    cn->nreq < cl->conf.keepalive_requests &&
	    hs->nidle < cl->conf.max_idle) {
		c->conn = NULL;
		cn->call = NULL;
		TAILQ_INSERT_HEAD(&hs->idle, cn, entry);
		hs->nidle++;
		cl->st.idle++;
		h1_arm(cn, EV_READ);
		evtimer_add(&cn->idle, &cl->idle_tv);
	} else
		h1_conn_close(cn);
	h1_kick(hs);
	h1_deliver(c, UPSTREAM_OK);
}

static void
h1_read(struct h1client_call *c)
{
	struct h1client		*cl = c->cl;
	enum upstream_result	 res;
	ssize_t			 n;
	int			 rc, extra = 0;
	char			 msg[H1RESP_ERRLEN];

	n = read(c->conn->fd, cl->rbuf, sizeof(cl->rbuf));
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n == -1) {
		snprintf(msg, sizeof(msg), "Recv failure: %s",
		    strerror(errno));
		h1_broken(c, msg);
		return;
	}
	rc = h1resp_feed(&c->r, cl->rbuf, n, &extra, &res, msg,
	    sizeof(msg));
	if (rc == 1)
		h1_done(c, extra || n == 0);
	else if (rc == -1 && n == 0 && c->r.rx == 0)
		h1_broken(c, "Empty reply from server");
	else if (rc == -1)
		h1_fail(c, res, "%s", msg);
}

/* libcurl 7.88's words, whatever err is; debug logs have the rest. */
static void
h1_refused(struct h1client_call *c, int err)
{
	struct h1host	*hs = c->host;
	char		 a[INET6_ADDRSTRLEN];

	h1host_addr(hs, a, sizeof(a));
	log_debug("upstream %s port %u (%s): connect: %s", hs->name,
	    hs->port, a, strerror(err));
	h1_fail(c, UPSTREAM_REFUSED, "Failed to connect to %s port %u "
	    "after %ld ms: Couldn't connect to server", hs->name, hs->port,
	    h1_elapsed(c));
}

static void
h1_connected(struct h1client_call *c)
{
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	if (getsockopt(c->conn->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		h1_refused(c, err);
		return;
	}
	c->connecting = 0;
	h1_write(c);
}

static void
h1_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct h1_conn	*cn = arg;
	struct h1host	*hs = cn->host;

	h1_conn_close(cn);
	h1_kick(hs);
}

static void
h1_conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct h1_conn		*cn = arg;
	struct h1client_call	*c = cn->call;
	struct h1host		*hs = cn->host;

	if (c == NULL) {
		/* idle: EOF or unasked-for bytes */
		h1_conn_close(cn);
		h1_kick(hs);
	} else if (c->connecting)
		h1_connected(c);
	else if (!c->reading)
		h1_write(c);
	else
		h1_read(c);
}

static void
h1_attach(struct h1client_call *c, struct h1_conn *cn)
{
	struct h1client	*cl = c->cl;

	c->conn = cn;
	cn->call = c;
	c->reused = cn->nreq > 0;
	if (c->reused)
		cl->st.reuses++;
	cn->nreq++;
	c->off = 0;
	c->fresh = c->connecting = c->reading = 0;
	h1resp_init(&c->r, c->r.head, c->r.maxhdr, c->r.maxbody, &c->want,
	    c->r.nwant);
}

static void
h1_connect(struct h1client_call *c)
{
	struct h1host	*hs = c->host;
	struct h1client	*cl = hs->cl;
	struct h1_conn	*cn;
	int		 fd, one = 1;

	fd = socket(hs->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1 || (cn = calloc(1, sizeof(*cn))) == NULL) {
		h1_fail(c, UPSTREAM_FAILED, "socket: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	cn->fd = fd;
	cn->host = hs;
	evtimer_assign(&cn->idle, cl->base, h1_idle_cb, cn);
	hs->nconns++;
	cl->st.open++;
	cl->st.connects++;
	h1_attach(c, cn);
	if (connect(fd, (struct sockaddr *)&hs->addr, hs->alen) == 0)
		h1_write(c);
	else if (errno == EINPROGRESS) {
		c->connecting = 1;
		h1_arm(cn, EV_WRITE);
	} else
		h1_refused(c, errno);
}

/* Serve the host's queue with idle connections, new ones or a name. */
static void
h1_kick(struct h1host *hs)
{
	struct h1client		*cl = hs->cl;
	struct h1client_call	*c;
	struct h1_conn		*cn;

	while (!cl->dying && (c = TAILQ_FIRST(&hs->queue)) != NULL) {
		if (!c->fresh && (cn = TAILQ_FIRST(&hs->idle)) != NULL) {
			TAILQ_REMOVE(&hs->idle, cn, entry);
			hs->nidle--;
			cl->st.idle--;
			evtimer_del(&cn->idle);
			h1_dequeue(c);
			h1_attach(c, cn);
			h1_write(c);
			continue;
		}
		if (cl->conf.max_conns != 0 &&
		    hs->nconns >= cl->conf.max_conns) {
			/* a retry wants a fresh one: drop the oldest idle */
			if (c->fresh && (cn = TAILQ_LAST(&hs->idle,
			    h1_conn_head)) != NULL) {
				h1_conn_close(cn);
				continue;
			}
			break;
		}
		if (h1host_need_name(hs)) {
			h1host_resolve(hs);
			break;
		}
		h1_dequeue(c);
		h1_connect(c);
	}
}

/* ---- calls -------------------------------------------------------- */

static void
h1_call_free(struct h1client_call *c)
{
	sybuf_free(&c->out);
	sybuf_free(&c->want);
	h1resp_free(&c->r);
	free(c->hv);
	free(c);
}

/* Keep a finished call's buffers for the next one. */
static void
h1_recycle(struct h1client_call *c)
{
	struct h1client	*cl = c->cl;

	if (cl->nspare < H1_FREE_MAX) {
		TAILQ_INSERT_HEAD(&cl->spare, c, entry);
		cl->nspare++;
	} else
		h1_call_free(c);
}

static void
h1_deliver(struct h1client_call *c, enum upstream_result res)
{
	struct h1client			*cl = c->cl;
	struct upstream_response	 out;
	const char			**hv, *s;
	size_t				 i;

	evtimer_del(&c->timer);
	TAILQ_REMOVE(&cl->calls, c, entry);
	cl->nactive--;
	memset(&out, 0, sizeof(out));
	out.result = res;
	out.status = h1resp_status(&c->r);
	out.body = c->r.body.data != NULL ? c->r.body.data : "";
	out.body_len = c->r.body.len;
	out.error = res == UPSTREAM_OK ? "" : c->err;
	if (c->r.ngot > c->hvcap && (hv = reallocarray(c->hv, c->r.ngot,
	    sizeof(*hv))) != NULL) {
		c->hv = hv;
		c->hvcap = c->r.ngot;
	}
	if (c->r.ngot <= c->hvcap) {
		for (i = 0, s = c->r.got.data; i < c->r.ngot; i++) {
			c->hv[i] = s;
			s += strlen(s) + 1;
		}
		out.headers = c->hv;
		out.nheaders = c->r.ngot;
	}
	c->cb(&out, c->arg);
	h1_recycle(c);
}

/* The deadline, or a failure made active by h1_fail. */
static void
h1_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct h1client_call	*c = arg;
	struct h1host		*hs = c->host;
	long			 ms = h1_elapsed(c);

	if (c->failed) {
		h1_deliver(c, c->res);
		if (hs != NULL)
			h1_kick(hs);
		return;
	}
	if (c->conn != NULL && c->connecting)
		snprintf(c->err, sizeof(c->err), "Connection timed out after "
		    "%ld milliseconds", ms);
	else if (c->r.hdrdone && c->r.cl != UINT64_MAX)
		snprintf(c->err, sizeof(c->err), "Operation timed out after "
		    "%ld milliseconds with %zu out of %llu bytes received", ms,
		    c->r.body.len, (unsigned long long)c->r.cl);
	else
		snprintf(c->err, sizeof(c->err), "Operation timed out after "
		    "%ld milliseconds with %zu bytes received", ms,
		    c->r.body.len);
	if (c->conn != NULL)
		h1_conn_close(c->conn);
	h1_dequeue(c);
	h1_deliver(c, UPSTREAM_TIMEOUT);
	h1_kick(hs);
}

/* A caller's header line as it is sent: its length, 0 when it is not. */
static size_t
h1_hdr_len(const char *h)
{
	const char	*v;

	if ((v = strchr(h, ':')) == NULL || v[strspn(v + 1, " \t") + 1] == '\0')
		return (0);
	return (strlen(h));
}

/* Append to a buffer whose room h1_build reserved. */
static void
h1_put(struct sybuf *b, const void *p, size_t n)
{
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/*
 * The request head and body, in one buffer sent with one send(2), its
 * room reserved at once.  As libcurl does, a caller's "Name:" line with
 * an empty value is not sent (it removes "Expect:"), and a caller's
 * Host or Accept replaces ours.
 */
static int
h1_build(struct h1client_call *c, const struct upstream_request *rq,
    const char *path)
{
	struct sybuf	*b = &c->out;
	const char	*h;
	size_t		 i, n, need, di, plen = strcspn(path, "#");
	size_t		 mlen = strlen(rq->method), v;
	size_t		 lens[H1_BUILD_LENS];	/* the first lines' lengths */
	int		 host = 0, accept = 0, clen;
	char		 d[24];

	need = mlen + plen + 13 + c->host->hosthdr.len + 13 + 2;
	for (i = 0; i < rq->nheaders; i++) {
		h = rq->headers[i];
		if ((h[0] | 0x20) == 'h' && strncasecmp(h, "Host:", 5) == 0)
			host = 1;
		else if ((h[0] | 0x20) == 'a' &&
		    strncasecmp(h, "Accept:", 7) == 0)
			accept = 1;
		n = h1_hdr_len(h);
		if (i < H1_BUILD_LENS)
			lens[i] = n;
		need += n + 2;
	}
	clen = rq->has_body || (strcmp(rq->method, "GET") != 0 &&
	    strcmp(rq->method, "HEAD") != 0);
	di = sizeof(d);
	v = rq->has_body ? rq->body_len : 0;
	do
		d[--di] = '0' + v % 10;
	while ((v /= 10) != 0);
	need += 18 + sizeof(d) - di + (rq->has_body ? rq->body_len : 0);
	sybuf_reset(b);
	if (sybuf_reserve(b, need) == -1)
		return (-1);
	h1_put(b, rq->method, mlen);
	h1_put(b, plen == 0 || path[0] == '?' ? " /" : " ",
	    plen == 0 || path[0] == '?' ? 2 : 1);
	h1_put(b, path, plen);
	h1_put(b, " HTTP/1.1\r\n", 11);
	if (!host)
		h1_put(b, c->host->hosthdr.data, c->host->hosthdr.len);
	if (!accept)
		h1_put(b, "Accept: */*\r\n", 13);
	for (i = 0; i < rq->nheaders; i++)
		if ((n = i < H1_BUILD_LENS ? lens[i] :
		    h1_hdr_len(rq->headers[i])) > 0) {
			h1_put(b, rq->headers[i], n);
			h1_put(b, "\r\n", 2);
		}
	if (clen) {
		h1_put(b, "Content-Length: ", 16);
		h1_put(b, d + di, sizeof(d) - di);
		h1_put(b, "\r\n", 2);
	}
	h1_put(b, "\r\n", 2);
	if (rq->has_body)
		h1_put(b, rq->body, rq->body_len);
	b->data[b->len] = '\0';
	return (0);
}

static struct h1client_call *
h1_call_get(struct h1client *cl)
{
	struct h1client_call	*c;

	if ((c = TAILQ_FIRST(&cl->spare)) != NULL) {
		TAILQ_REMOVE(&cl->spare, c, entry);
		cl->nspare--;
	} else if ((c = calloc(1, sizeof(*c))) != NULL) {
		sybuf_init(&c->out);
		sybuf_init(&c->want);
		sybuf_init(&c->r.body);
		sybuf_init(&c->r.cur);
		sybuf_init(&c->r.got);
	}
	return (c);
}

static int
h1_unsafe(const char *m)
{
	return (strcmp(m, "POST") == 0 || strcmp(m, "PATCH") == 0 ||
	    strcmp(m, "LOCK") == 0);
}

struct h1client_call *
h1client_start(struct h1client *cl, const struct upstream_request *rq,
    upstream_cb cb, void *arg)
{
	struct h1client_call	*c;
	const char		*path;
	struct timeval		 tv;
	size_t			 i;
	int			 rc = 0;

	if ((c = h1_call_get(cl)) == NULL)
		return (NULL);
	c->cl = cl;
	c->cb = cb;
	c->arg = arg;
	c->conn = NULL;
	c->retried = c->fresh = c->queued = c->reused = c->failed = 0;
	c->err[0] = '\0';
	c->unsafe = h1_unsafe(rq->method);
	evtimer_assign(&c->timer, cl->base, h1_timer_cb, c);
	event_base_gettimeofday_cached(cl->base, &c->start);
	sybuf_reset(&c->want);
	for (i = 0; i < rq->nresp_headers; i++)
		rc |= sybuf_add(&c->want, rq->resp_headers[i],
		    strlen(rq->resp_headers[i]) + 1);
	c->r.head = strcmp(rq->method, "HEAD") == 0;
	c->r.maxhdr = rq->max_headers;
	c->r.maxbody = rq->max_response;
	c->r.nwant = rq->nresp_headers;
	h1resp_init(&c->r, c->r.head, c->r.maxhdr, c->r.maxbody, &c->want,
	    c->r.nwant);
	TAILQ_INSERT_TAIL(&cl->calls, c, entry);
	cl->nactive++;
	if (rq->timeout_ms > 0) {
		tv.tv_sec = rq->timeout_ms / 1000;
		tv.tv_usec = (rq->timeout_ms % 1000) * 1000;
		evtimer_add(&c->timer, &tv);
	}
	c->host = h1host_get(&cl->hosts, rq->url, &path);
	if (c->host == NULL)
		h1_fail(c, UPSTREAM_FAILED, "URL rejected: Malformed input "
		    "to a URL function (%s)", rq->url);
	else if (rc != 0 || h1_build(c, rq, path) == -1)
		h1_fail(c, UPSTREAM_FAILED, "Out of memory");
	else {
		TAILQ_INSERT_TAIL(&c->host->queue, c, wentry);
		c->queued = 1;
		h1_kick(c->host);
	}
	return (c);
}

void
h1client_cancel(struct h1client_call *c)
{
	struct h1client	*cl = c->cl;
	struct h1host	*hs = c->host;
	int		 closed = c->conn != NULL;

	evtimer_del(&c->timer);
	if (c->conn != NULL)
		h1_conn_close(c->conn);
	if (hs != NULL)
		h1_dequeue(c);
	TAILQ_REMOVE(&cl->calls, c, entry);
	cl->nactive--;
	h1_recycle(c);
	if (closed)
		h1_kick(hs);
}

void
h1client_conf_default(struct h1client_conf *conf)
{
	conf->max_idle = 32;
	conf->max_conns = 0;
	conf->keepalive_requests = 1000;
	conf->idle_timeout_ms = 4000;
	conf->hosts_file = NULL;
}

/*
 * Every idle connection waits the same time, so its timer is one of
 * libevent's common timeouts: added to the tail of one queue and taken
 * out of it in constant time, where a heap costs a sift for each of the
 * two timer changes a call makes (event_base_init_common_timeout).
 */
static void
h1_idle_tv(struct h1client *cl)
{
	const struct timeval	*ctv;

	cl->idle_tv.tv_sec = cl->conf.idle_timeout_ms / 1000;
	cl->idle_tv.tv_usec = (cl->conf.idle_timeout_ms % 1000) * 1000;
	if ((ctv = event_base_init_common_timeout(cl->base,
	    &cl->idle_tv)) != NULL)
		cl->idle_tv = *ctv;
}

struct h1client *
h1client_new(struct event_base *base, const struct h1client_conf *conf)
{
	struct h1client	*cl;

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return (NULL);
	cl->base = base;
	if (conf != NULL)
		cl->conf = *conf;
	else
		h1client_conf_default(&cl->conf);
	if (cl->conf.keepalive_requests == 0)
		cl->conf.keepalive_requests = 1;
	h1_idle_tv(cl);
	h1host_init(&cl->hosts, base, cl, cl->conf.hosts_file, h1_named);
	TAILQ_INIT(&cl->calls);
	TAILQ_INIT(&cl->spare);
	h1resp_setup();
	return (cl);
}

/* Before a host is freed: close its idle connections. */
static void
h1_host_gone(struct h1host *hs)
{
	while (!TAILQ_EMPTY(&hs->idle))
		h1_conn_close(TAILQ_FIRST(&hs->idle));
}

void
h1client_free(struct h1client *cl)
{
	struct h1client_call	*c;

	if (cl == NULL)
		return;
	cl->dying = 1;
	while ((c = TAILQ_FIRST(&cl->calls)) != NULL)
		h1client_cancel(c);
	while ((c = TAILQ_FIRST(&cl->spare)) != NULL) {
		TAILQ_REMOVE(&cl->spare, c, entry);
		h1_call_free(c);
	}
	h1host_free(&cl->hosts, h1_host_gone);
	free(cl);
}

size_t
h1client_active(const struct h1client *cl)
{
	return (cl->nactive);
}

void
h1client_stats(const struct h1client *cl, struct h1client_stats *st)
{
	*st = cl->st;
}
