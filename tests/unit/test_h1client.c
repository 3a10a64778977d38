/*
 * test_h1client.c: the native HTTP/1.1 client against real loopback
 * servers: a raw socket server in a thread, scripted per case (what it
 * answers to the Nth request of a connection), which counts accepted
 * connections and connections the client closed; and sy-upstream.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "h1client.h"
#include "h1resp.h"

#define NCONN	16
#define LASTMAX	8192

/* What the server does after answering. */
enum act { KEEP, CLOSE, RESET, HOLD };

struct srv;
/* Answer request n (1-based) of connection k (1-based, accept order). */
typedef enum act (*handler)(struct srv *, int fd, int k, int n,
    const char *req);

struct sconn {
	int	 fd, k, n;
	size_t	 len, cap;
	char	*buf;		/* grows to hold a request */
};

struct srv {
	int		 lfd, port;
	pthread_t	 th;
	handler		 h;
	int		 stop;		/* atomics from here */
	int		 accepts, eofs, requests;
	int		 handled;	/* requests whose handler returned */
	char		 last[LASTMAX];	/* under the lock */
	pthread_mutex_t	 mu;
	struct sconn	 c[NCONN];
};

static struct srv	*S;
static struct event_base *B;
static int		 in_start;

static void
xsend(int fd, const char *s, size_t n)
{
	ssize_t	w;

	while (n > 0 && (w = send(fd, s, n, MSG_NOSIGNAL)) > 0) {
		s += w;
		n -= w;
	}
}

static void
say(int fd, const char *s)
{
	xsend(fd, s, strlen(s));
}

static void
msleep(int ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The request is complete: its head and Content-Length bytes. */
static size_t
req_len(const char *b, size_t len)
{
	const char	*e, *cl;
	size_t		 head;

	if ((e = memmem(b, len, "\r\n\r\n", 4)) == NULL)
		return (0);
	head = e + 4 - b;
	if ((cl = strcasestr(b, "\r\nContent-Length:")) != NULL && cl < e)
		head += strtoul(cl + 17, NULL, 10);
	return (len >= head ? head : 0);
}

static void
srv_drop(struct srv *s, struct sconn *c, enum act a)
{
	struct linger	l = { 1, 0 };

	if (a == RESET)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(c->fd);
	c->fd = -1;
}

static void
srv_input(struct srv *s, struct sconn *c)
{
	ssize_t		 r;
	size_t		 n;
	enum act	 a;
	char		*b;

	if (c->cap - c->len < 65537) {
		b = realloc(c->buf, c->cap * 2 + 65537);
		assert_non_null(b);
		c->buf = b;
		c->cap = c->cap * 2 + 65537;
	}
	r = recv(c->fd, c->buf + c->len, c->cap - 1 - c->len, 0);
	if (r <= 0) {
		__atomic_add_fetch(&s->eofs, 1, __ATOMIC_SEQ_CST);
		srv_drop(s, c, CLOSE);
		return;
	}
	c->len += r;
	c->buf[c->len] = '\0';
	while ((n = req_len(c->buf, c->len)) > 0) {
		pthread_mutex_lock(&s->mu);
		memcpy(s->last, c->buf, n < LASTMAX ? n : LASTMAX - 1);
		s->last[n < LASTMAX ? n : LASTMAX - 1] = '\0';
		pthread_mutex_unlock(&s->mu);
		__atomic_add_fetch(&s->requests, 1, __ATOMIC_SEQ_CST);
		a = s->h(s, c->fd, c->k, ++c->n, c->buf);
		__atomic_add_fetch(&s->handled, 1, __ATOMIC_SEQ_CST);
		memmove(c->buf, c->buf + n, c->len - n);
		c->len -= n;
		if (a == CLOSE || a == RESET) {
			srv_drop(s, c, a);
			return;
		}
	}
}

static void *
srv_main(void *arg)
{
	struct srv	*s = arg;
	struct pollfd	 pf[NCONN + 1];
	int		 i, fd, nacc = 0;

	while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST)) {
		pf[0].fd = s->lfd;
		pf[0].events = POLLIN;
		for (i = 0; i < NCONN; i++) {
			pf[i + 1].fd = s->c[i].fd;
			pf[i + 1].events = POLLIN;
		}
		if (poll(pf, NCONN + 1, 20) <= 0)
			continue;
		if ((pf[0].revents & POLLIN) &&
		    (fd = accept(s->lfd, NULL, NULL)) != -1) {
			for (i = 0; i < NCONN && s->c[i].fd != -1; i++)
				;
			if (i == NCONN)
				close(fd);
			else {
				s->c[i].len = s->c[i].n = 0;
				s->c[i].fd = fd;
				s->c[i].k = ++nacc;
				__atomic_add_fetch(&s->accepts, 1,
				    __ATOMIC_SEQ_CST);
			}
		}
		for (i = 0; i < NCONN; i++)
			if (pf[i + 1].fd != -1 && pf[i + 1].revents != 0 &&
			    s->c[i].fd == pf[i + 1].fd)
				srv_input(s, &s->c[i]);
	}
	return (NULL);
}

static struct srv *
srv_start(handler h)
{
	struct srv		*s;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 i, one = 1;

	s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->h = h;
	pthread_mutex_init(&s->mu, NULL);
	for (i = 0; i < NCONN; i++)
		s->c[i].fd = -1;
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sin, len), 0);
	assert_int_equal(listen(s->lfd, 64), 0);
	getsockname(s->lfd, (struct sockaddr *)&sin, &len);
	s->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
	S = s;
	return (s);
}

static void
srv_stop(struct srv *s)
{
	int	i;

	__atomic_store_n(&s->stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(s->th, NULL);
	for (i = 0; i < NCONN; i++)
		if (s->c[i].fd != -1)
			close(s->c[i].fd);
	for (i = 0; i < NCONN; i++)
		free(s->c[i].buf);
	close(s->lfd);
	pthread_mutex_destroy(&s->mu);
	free(s);
	S = NULL;
}

static int
get(int *p)
{
	return (__atomic_load_n(p, __ATOMIC_SEQ_CST));
}

/* ---- the client side ------------------------------------------------ */

struct res {
	int			 calls;
	enum upstream_result	 result;
	long			 status;
	char			 body[4096];
	size_t			 body_len;
	char			 err[256];
	char			 hdr[4][128];
	size_t			 nh;
};

static void
done_cb(const struct upstream_response *r, void *arg)
{
	struct res	*o = arg;
	size_t		 i;

	assert_int_equal(in_start, 0);	/* never from inside start */
	o->calls++;
	o->result = r->result;
	o->status = r->status;
	o->body_len = r->body_len;
	memcpy(o->body, r->body, r->body_len < sizeof(o->body) ?
	    r->body_len : sizeof(o->body) - 1);
	snprintf(o->err, sizeof(o->err), "%s", r->error);
	o->nh = r->nheaders;
	for (i = 0; i < r->nheaders && i < 4; i++)
		snprintf(o->hdr[i], sizeof(o->hdr[i]), "%s", r->headers[i]);
}

/* Run the loop until cond() or ms pass. */
static void
loop_until(int (*cond)(void *), void *arg, int ms)
{
	struct timespec	t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (cond(arg))
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			return;
		event_base_loop(B, EVLOOP_NONBLOCK);
		msleep(1);
	}
}

static int
res_done(void *arg)
{
	return (((struct res *)arg)->calls > 0);
}

static struct upstream_request
mkreq(const char *method, const char *path)
{
	static char			 url[256];
	struct upstream_request		 rq;
	static const char *const	 want[] = { "X-Foo", "content-type" };

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", S->port, path);
	memset(&rq, 0, sizeof(rq));
	rq.url = url;
	rq.method = method;
	rq.timeout_ms = 2000;
	rq.max_response = 100000;
	rq.max_headers = 16384;
	rq.resp_headers = want;
	rq.nresp_headers = 2;
	return (rq);
}

static struct h1client_call *
start(struct h1client *cl, const struct upstream_request *rq, struct res *o)
{
	struct h1client_call	*c;

	memset(o, 0, sizeof(*o));
	in_start = 1;
	c = h1client_start(cl, rq, done_cb, o);
	in_start = 0;
	assert_non_null(c);
	return (c);
}

/* One call; its result, after checking the callback ran exactly once. */
static void
call(struct h1client *cl, const struct upstream_request *rq, struct res *o)
{
	start(cl, rq, o);
	loop_until(res_done, o, 5000);
	assert_int_equal(o->calls, 1);
}

static void
call_get(struct h1client *cl, const char *path, struct res *o)
{
	struct upstream_request	rq = mkreq("GET", path);

	call(cl, &rq, o);
}

static struct h1client *
client(unsigned kreq, size_t maxc)
{
	struct h1client_conf	conf;

	h1client_conf_default(&conf);
	if (kreq != 0)
		conf.keepalive_requests = kreq;
	conf.max_conns = maxc;
	return (h1client_new(B, &conf));
}

static void
ok_body(const struct res *o, long status, const char *body)
{
	if (o->result != UPSTREAM_OK)
		fail_msg("result %d: %s", o->result, o->err);
	assert_int_equal(o->status, status);
	assert_int_equal(o->body_len, strlen(body));
	assert_memory_equal(o->body, body, strlen(body));
}

static void
failed_with(const struct res *o, enum upstream_result r, const char *text)
{
	if (o->result != r || strstr(o->err, text) == NULL)
		fail_msg("result %d, wanted %d; error \"%s\", wanted \"%s\"",
		    o->result, r, o->err, text);
}

/* ---- scripted servers ------------------------------------------------ */

static enum act
h_plain(struct srv *s, int fd, int k, int n, const char *req)
{
	say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nX-Foo: bar\r\n"
	    "Content-Type: application/json\r\n\r\n{\"a\":1}");
	return (KEEP);
}

static enum act
h_chunked(struct srv *s, int fd, int k, int n, const char *req)
{
	say(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3;ext=1;q=\"x\"\r\nabc\r\n");
	msleep(5);
	say(fd, "4\r\ndefg\r\n10\r\n0123456789abcdef\r\n0\r\n"
	    "X-Trailer: t\r\n\r\n");
	return (KEEP);
}

static enum act
h_eof(struct srv *s, int fd, int k, int n, const char *req)
{
	say(fd, "HTTP/1.1 200 OK\r\n\r\nhello ");
	msleep(5);
	say(fd, "world");
	return (CLOSE);
}

static enum act
h_1xx(struct srv *s, int fd, int k, int n, const char *req)
{
	say(fd, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
	    "X-Foo: early\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2"
	    "\r\n\r\nok");
	return (KEEP);
}

static enum act
h_nobody(struct srv *s, int fd, int k, int n, const char *req)
{
	if (strncmp(req, "HEAD ", 5) == 0)
		say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
	else if (strstr(req, "/204") != NULL)
		say(fd, "HTTP/1.1 204 No Content\r\n\r\n");
	else if (strstr(req, "/304") != NULL)
		say(fd, "HTTP/1.1 304 Not Modified\r\nContent-Length: 50"
		    "\r\n\r\n");
	else
		say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	return (KEEP);
}

static enum act
h_http10(struct srv *s, int fd, int k, int n, const char *req)
{
	say(fd, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
	return (KEEP);
}

static enum act
h_connclose(struct srv *s, int fd, int k, int n, const char *req)
{
	say(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2"
	    "\r\n\r\nok");
	return (KEEP);
}

/* The length and byte sum of the request body. */
static enum act
h_sum(struct srv *s, int fd, int k, int n, const char *req)
{
	const char	*b = strstr(req, "\r\n\r\n") + 4, *cl;
	unsigned long	 len = 0, sum = 0, i;
	char		 out[128], body[64];

	if ((cl = strcasestr(req, "\r\nContent-Length:")) != NULL && cl < b)
		len = strtoul(cl + 17, NULL, 10);
	for (i = 0; i < len; i++)
		sum += (unsigned char)b[i];
	snprintf(body, sizeof(body), "%lu %lu", len, sum);
	snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nContent-Length: %zu"
	    "\r\n\r\n%s", strlen(body), body);
	say(fd, out);
	return (KEEP);
}

/* Bytes after the response: the connection cannot be reused. */
static enum act
h_extra(struct srv *s, int fd, int k, int n, const char *req)
{
	say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200");
	return (KEEP);
}

/* Answered, kept alive, then closed by the server. */
static enum act
h_answer_close(struct srv *s, int fd, int k, int n, const char *req)
{
	h_plain(s, fd, k, n, req);
	return (CLOSE);
}

static enum act
h_slow(struct srv *s, int fd, int k, int n, const char *req)
{
	say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	msleep(30);
	return (KEEP);
}

/* The request's path is p ("GET /p HTTP/1.1"). */
static int
is(const char *req, const char *p)
{
	const char	*sp = strchr(req, ' ');

	return (sp != NULL && strncmp(sp + 1, p, strlen(p)) == 0 &&
	    (sp[strlen(p) + 1] == ' ' || sp[strlen(p) + 1] == '?'));
}

/* The faults that take time or volume. */
static enum act
h_slow_or_big(struct srv *s, int fd, int k, int n, const char *req)
{
	char	big[2048];
	int	i;

	if (is(req, "/reset-body")) {
		say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123");
		msleep(20);
		return (RESET);
	}
	if (is(req, "/slow-headers")) {
		msleep(600);
		say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
		return (KEEP);
	}
	if (is(req, "/slow-body")) {
		say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
		    "0123456789");
		msleep(600);
		return (CLOSE);
	}
	memset(big, 'x', sizeof(big));
	if (is(req, "/huge-headers")) {
		say(fd, "HTTP/1.1 200 OK\r\n");
		memcpy(big, "X-Big: ", 7);
		memcpy(big + sizeof(big) - 2, "\r\n", 2);
		for (i = 0; i < 100; i++)	/* 200 KiB */
			xsend(fd, big, sizeof(big));
		say(fd, "Content-Length: 2\r\n\r\nok");
		return (CLOSE);
	}
	if (is(req, "/huge-line")) {
		say(fd, "HTTP/1.1 200 OK\r\nX-Huge: ");
		for (i = 0; i < 100; i++)	/* 200 KiB */
			xsend(fd, big, sizeof(big));
		say(fd, "\r\nContent-Length: 2\r\n\r\nok");
		return (CLOSE);
	}
	if (is(req, "/big-chunked")) {
		say(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
		for (i = 0; i < 10; i++) {
			say(fd, "800\r\n");
			xsend(fd, big, sizeof(big));
			say(fd, "\r\n");
		}
		say(fd, "0\r\n\r\n");
		return (CLOSE);
	}
	return (h_plain(s, fd, k, n, req));
}

static enum act
h_faults(struct srv *s, int fd, int k, int n, const char *req)
{
	static const struct {
		const char	*path, *answer;
		enum act	 act;
	} t[] = {
		{ "/reset", NULL, RESET },
		{ "/empty", NULL, CLOSE },
		{ "/hold", NULL, HOLD },
		{ "/short", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
		    "0123456789", CLOSE },
		{ "/cut-chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
		    "chunked\r\n\r\na\r\n01234", CLOSE },
		{ "/cut-headers", "HTTP/1.1 200 OK\r\nContent-Le", CLOSE },
		{ "/big", "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n",
		    CLOSE },
		{ "/status020", "HTTP/1.1 020 OK\r\nContent-Length: 0\r\n\r\n",
		    CLOSE },
		{ "/garbage", "HTELLO, this is no HTTP\r\n\r\n", CLOSE },
		{ "/http09", "HELLO WORLD\r\n\r\n", CLOSE },
		{ "/mistyped", "HTTX/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
		    "ok", CLOSE },
		{ "/cut-status", "HTTP/1.1 2", CLOSE },
		{ "/no-reason", "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
		    CLOSE },
		{ "/http10", "HTTP/1.0 200 OK\r\n\r\n{}", CLOSE },
		{ "/continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 "
		    "Created\r\nContent-Length: 2\r\n\r\n{}", CLOSE },
		{ "/bad-chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
		    "chunked\r\n\r\nzz\r\n", CLOSE },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!is(req, t[i].path))
			continue;
		if (t[i].answer != NULL)
			say(fd, t[i].answer);
		return (t[i].act);
	}
	return (h_slow_or_big(s, fd, k, n, req));
}

/* The second request of each connection: closed unanswered. */
static enum act
h_stale(struct srv *s, int fd, int k, int n, const char *req)
{
	if (n == 2)
		return (CLOSE);
	return (h_plain(s, fd, k, n, req));
}

static int	eofs_seen(void *);

/* ---- tests ----------------------------------------------------------- */

static int
setup(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	B = event_base_new();
	return (B == NULL ? -1 : 0);
}

static int
teardown(void **state)
{
	event_base_free(B);
	return (0);
}

static void
test_plain(void **state)
{
	struct h1client		*cl = client(0, 0);
	struct upstream_request	 rq;
	struct res		 o;
	const char		*hdrs[] = { "X-A: 1", "Expect:", "X-B: two" };
	char			 want[512];

	srv_start(h_plain);
	rq = mkreq("POST", "/a/../b/./c?x=1&y=%2F#frag");
	rq.headers = hdrs;
	rq.nheaders = 3;
	rq.body = "{\"a\":1}";
	rq.body_len = 7;
	rq.has_body = 1;
	call(cl, &rq, &o);
	ok_body(&o, 200, "{\"a\":1}");
	assert_int_equal(o.nh, 2);
	assert_string_equal(o.hdr[0], "X-Foo: bar");
	assert_string_equal(o.hdr[1], "Content-Type: application/json");
	snprintf(want, sizeof(want), "POST /a/../b/./c?x=1&y=%%2F HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\nAccept: */*\r\nX-A: 1\r\nX-B: two\r\n"
	    "Content-Length: 7\r\n\r\n{\"a\":1}", S->port);
	assert_string_equal(S->last, want);
	/* a GET without a body has no Content-Length; "?" alone gets "/" */
	call_get(cl, "?q", &o);
	ok_body(&o, 200, "{\"a\":1}");
	snprintf(want, sizeof(want), "GET /?q HTTP/1.1\r\nHost: 127.0.0.1:%d"
	    "\r\nAccept: */*\r\n\r\n", S->port);
	assert_string_equal(S->last, want);
	/* a bodiless DELETE says Content-Length: 0 */
	rq = mkreq("DELETE", "/x");
	call(cl, &rq, &o);
	ok_body(&o, 200, "{\"a\":1}");
	assert_non_null(strstr(S->last, "\r\nContent-Length: 0\r\n"));
	assert_int_equal(get(&S->accepts), 1);
	h1client_free(cl);
	srv_stop(S);
}

/* 10 calls: one connection, or 4 with keepalive_requests 3. */
static void
test_reuse(void **state)
{
	static const unsigned	 kreq[] = { 0, 3 }, conns[] = { 1, 4 };
	struct h1client		*cl;
	struct h1client_stats	 st;
	struct res		 o;
	int			 i, k;

	for (k = 0; k < 2; k++) {
		cl = client(kreq[k], 0);
		srv_start(h_plain);
		for (i = 0; i < 10; i++) {
			call_get(cl, "/r", &o);
			ok_body(&o, 200, "{\"a\":1}");
		}
		assert_int_equal(get(&S->accepts), conns[k]);
		assert_int_equal(get(&S->requests), 10);
		h1client_stats(cl, &st);
		assert_int_equal(st.connects, conns[k]);
		assert_int_equal(st.reuses, 10 - conns[k]);
		assert_int_equal(st.idle, 1);	/* 3+3+3+1: the last one */
		assert_int_equal(h1client_active(cl), 0);
		h1client_free(cl);
		srv_stop(S);
	}
}

/* Two calls with the same answer; connections the server accepted. */
static void
test_twice(void **state)
{
	static const struct {
		handler		 h;
		long		 status;
		const char	*body;
		int		 accepts;
	} t[] = {
		{ h_chunked, 200, "abcdefg0123456789abcdef", 1 },
		{ h_eof, 200, "hello world", 2 },	/* not reused */
		{ h_1xx, 201, "ok", 1 },
		{ h_http10, 200, "ok", 2 },
		{ h_connclose, 200, "ok", 2 },
		{ h_extra, 200, "ok", 2 },
	};
	struct h1client		*cl;
	struct h1client_stats	 st;
	struct res		 o;
	size_t			 i;
	int			 j;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cl = client(0, 0);
		srv_start(t[i].h);
		for (j = 0; j < 2; j++) {
			call_get(cl, "/t", &o);
			ok_body(&o, t[i].status, t[i].body);
			assert_int_equal(o.nh, 0);	/* a 103's X-Foo too */
		}
		if (get(&S->accepts) != t[i].accepts)
			fail_msg("case %zu: %d connections", i,
			    get(&S->accepts));
		h1client_stats(cl, &st);
		assert_int_equal(st.open, t[i].accepts == 1 ? 1 : 0);
		h1client_free(cl);
		srv_stop(S);
	}
}

/* A body larger than loopback's socket buffers: several sends. */
static void
test_big_body(void **state)
{
	struct h1client		*cl = client(0, 0);
	struct upstream_request	 rq;
	struct res		 o;
	char			*body, want[64];
	unsigned long		 i, sum = 0, len = 16 << 20;

	body = malloc(len);
	assert_non_null(body);
	for (i = 0; i < len; i++)
		sum += (unsigned char)(body[i] = 'a' + i % 26);
	srv_start(h_sum);
	rq = mkreq("PUT", "/b");
	rq.body = body;
	rq.body_len = len;
	rq.has_body = 1;
	call(cl, &rq, &o);
	free(body);
	snprintf(want, sizeof(want), "%lu %lu", len, sum);
	ok_body(&o, 200, want);
	h1client_free(cl);
	srv_stop(S);
}

static int
no_open(void *arg)
{
	struct h1client_stats	st;

	h1client_stats(arg, &st);
	return (st.open == 0);
}

/* Idle connections close after the idle timeout, or when the server
 * closes them, without a retry. */
static void
test_idle(void **state)
{
	struct h1client_conf	 conf;
	struct h1client		*cl;
	struct h1client_stats	 st;
	struct res		 o;
	int			 one = 1;

	h1client_conf_default(&conf);
	conf.idle_timeout_ms = 100;
	cl = h1client_new(B, &conf);
	srv_start(h_plain);
	call_get(cl, "/i", &o);
	ok_body(&o, 200, "{\"a\":1}");
	h1client_stats(cl, &st);
	assert_int_equal(st.idle, 1);
	loop_until(eofs_seen, &one, 1000);
	assert_int_equal(get(&S->eofs), 1);	/* the client closed it */
	assert_true(no_open(cl));
	srv_stop(S);
	srv_start(h_answer_close);
	call_get(cl, "/i", &o);
	ok_body(&o, 200, "{\"a\":1}");
	loop_until(no_open, cl, 1000);
	assert_true(no_open(cl));
	call_get(cl, "/i", &o);
	ok_body(&o, 200, "{\"a\":1}");
	h1client_stats(cl, &st);
	assert_int_equal(st.retries, 0);
	assert_int_equal(get(&S->accepts), 2);
	h1client_free(cl);
	srv_stop(S);
}

static void
test_nobody(void **state)
{
	struct h1client		*cl = client(0, 0);
	struct upstream_request	 rq;
	struct res		 o;

	srv_start(h_nobody);
	rq = mkreq("HEAD", "/h");
	call(cl, &rq, &o);
	ok_body(&o, 200, "");
	call_get(cl, "/204", &o);
	ok_body(&o, 204, "");
	call_get(cl, "/304", &o);
	ok_body(&o, 304, "");
	call_get(cl, "/x", &o);
	ok_body(&o, 200, "ok");
	assert_int_equal(get(&S->accepts), 1);
	h1client_free(cl);
	srv_stop(S);
}

static void
test_pool_max(void **state)
{
	struct h1client		*cl = client(0, 2);
	struct upstream_request	 rq;
	struct res		 o[6];
	int			 i;

	srv_start(h_slow);
	for (i = 0; i < 6; i++) {
		rq = mkreq("GET", "/p");
		start(cl, &rq, &o[i]);
	}
	assert_int_equal(h1client_active(cl), 6);
	for (i = 0; i < 6; i++) {
		loop_until(res_done, &o[i], 5000);
		assert_int_equal(o[i].calls, 1);
		ok_body(&o[i], 200, "ok");
	}
	assert_int_equal(get(&S->accepts), 2);
	h1client_free(cl);
	srv_stop(S);
}

static void
test_refused(void **state)
{
	struct h1client		*cl = client(0, 0);
	struct upstream_request	 rq;
	struct res		 o;
	int			 port;

	srv_start(h_plain);
	port = S->port;
	srv_stop(S);	/* the port is closed now */
	srv_start(h_plain);
	S->port = port;
	rq = mkreq("GET", "/x");
	call(cl, &rq, &o);
	failed_with(&o, UPSTREAM_REFUSED, "Couldn't connect to server");
	assert_non_null(strstr(o.err, "Failed to connect to 127.0.0.1 port"));
	rq.url = "ftp://127.0.0.1/x";
	call(cl, &rq, &o);
	failed_with(&o, UPSTREAM_FAILED, "URL rejected");
	h1client_free(cl);
	srv_stop(S);
}

static void
test_faults(void **state)
{
	static const struct {
		const char		*path;
		enum upstream_result	 res;
		const char		*text;
	} t[] = {
		{ "/reset", UPSTREAM_FAILED, "Connection reset by peer" },
		{ "/reset-body", UPSTREAM_FAILED, "Connection reset by peer" },
		{ "/empty", UPSTREAM_FAILED, "Empty reply from server" },
		{ "/short", UPSTREAM_FAILED,
		    "transfer closed with 90 bytes remaining to read" },
		{ "/cut-chunked", UPSTREAM_FAILED,
		    "transfer closed with outstanding read data remaining" },
		{ "/cut-headers", UPSTREAM_FAILED, "Recv failure" },
		{ "/slow-headers", UPSTREAM_TIMEOUT, "milliseconds with 0 "
		    "bytes received" },
		{ "/slow-body", UPSTREAM_TIMEOUT, "milliseconds with 10 out "
		    "of 100 bytes received" },
		{ "/huge-headers", UPSTREAM_HDRS_TOOBIG, "headers over 16384" },
		{ "/big-chunked", UPSTREAM_TOOBIG, "Maximum file size "
		    "exceeded" },
		{ "/big", UPSTREAM_TOOBIG, "Maximum file size exceeded" },
		{ "/garbage", UPSTREAM_FAILED, "Received HTTP/0.9 when not "
		    "allowed" },
		{ "/status020", UPSTREAM_FAILED, "Unsupported response code" },
	};
	struct h1client		*cl;
	struct h1client_stats	 st;
	struct upstream_request	 rq;
	struct res		 o;
	struct timespec		 t0, t1;
	long			 ms;
	size_t			 i;

	srv_start(h_faults);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cl = client(0, 0);	/* a fresh connection: no retry */
		rq = mkreq("GET", t[i].path);
		/* 200 ms only where the deadline is the fault */
		rq.timeout_ms = t[i].res == UPSTREAM_TIMEOUT ? 200 : 5000;
		rq.max_response = 1000;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		call(cl, &rq, &o);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (o.result != t[i].res || strstr(o.err, t[i].text) == NULL)
			fail_msg("%s: result %d, wanted %d; error \"%s\"",
			    t[i].path, o.result, t[i].res, o.err);
		if (t[i].res == UPSTREAM_TIMEOUT && (ms < 190 || ms > 700))
			fail_msg("%s: the deadline came after %ld ms",
			    t[i].path, ms);
		if (t[i].res == UPSTREAM_TIMEOUT)
			msleep(500);	/* the server thread is still asleep */
		h1client_stats(cl, &st);
		assert_int_equal(st.open, 0);	/* never pooled */
		assert_int_equal(st.retries, 0);
		h1client_free(cl);
	}
	srv_stop(S);
}

static int
eofs_seen(void *arg)
{
	return (get(&S->eofs) >= *(int *)arg);
}

static void
test_retry(void **state)
{
	struct h1client		*cl = client(0, 0);
	struct h1client_stats	 st;
	struct upstream_request	 rq;
	struct res		 o;

	srv_start(h_stale);
	call_get(cl, "/1", &o);
	ok_body(&o, 200, "{\"a\":1}");
	/* the reused connection dies unanswered: resent on a fresh one */
	call_get(cl, "/2", &o);
	ok_body(&o, 200, "{\"a\":1}");
	h1client_stats(cl, &st);
	assert_int_equal(st.retries, 1);
	assert_int_equal(get(&S->accepts), 2);
	/* a POST is not resent */
	rq = mkreq("POST", "/3");
	call(cl, &rq, &o);
	failed_with(&o, UPSTREAM_FAILED, "Empty reply from server");
	h1client_stats(cl, &st);
	assert_int_equal(st.retries, 1);
	assert_int_equal(get(&S->accepts), 2);
	/* nor a GET whose fresh connection dies */
	call_get(cl, "/4", &o);
	ok_body(&o, 200, "{\"a\":1}");
	assert_int_equal(get(&S->accepts), 3);
	h1client_free(cl);
	srv_stop(S);
}

static void
test_cancel(void **state)
{
	struct h1client		*cl = client(0, 0);
	struct h1client_stats	 st;
	struct h1client_call	*c;
	struct upstream_request	 rq;
	struct res		 o;
	int			 one = 1;

	srv_start(h_faults);
	rq = mkreq("GET", "/hold");
	c = start(cl, &rq, &o);
	loop_until(res_done, &o, 100);	/* sent, waiting for an answer */
	assert_int_equal(get(&S->requests), 1);
	h1client_cancel(c);
	assert_int_equal(h1client_active(cl), 0);
	loop_until(eofs_seen, &one, 2000);
	assert_int_equal(get(&S->eofs), 1);	/* closed, not pooled */
	h1client_stats(cl, &st);
	assert_int_equal(st.open, 0);
	loop_until(res_done, &o, 300);
	assert_int_equal(o.calls, 0);
	/* cancel right after start: no callback either */
	c = start(cl, &rq, &o);
	h1client_cancel(c);
	loop_until(res_done, &o, 100);
	assert_int_equal(o.calls, 0);
	/* free with a call in flight: no callback */
	start(cl, &rq, &o);
	h1client_free(cl);
	assert_int_equal(o.calls, 0);
	srv_stop(S);
}

static void
test_names(void **state)
{
	struct h1client_conf	 conf;
	struct h1client		*cl;
	struct upstream_request	 rq;
	struct res		 o;
	char			 url[128], hosts[] = "/tmp/h1hostsXXXXXX";
	int			 fd;

	srv_start(h_plain);
	snprintf(url, sizeof(url), "http://localhost:%d/n", S->port);
	cl = client(0, 0);
	rq = mkreq("GET", "/n");
	rq.url = url;
	call(cl, &rq, &o);
	ok_body(&o, 200, "{\"a\":1}");
	assert_non_null(strstr(S->last, "\r\nHost: localhost:"));
	h1client_free(cl);
	/* a name through evdns, from a hosts file of our own */
	fd = mkstemp(hosts);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "127.0.0.1 sy-h1.test\n", 21), 21);
	close(fd);
	h1client_conf_default(&conf);
	conf.hosts_file = hosts;
	cl = h1client_new(B, &conf);
	snprintf(url, sizeof(url), "http://sy-h1.test:%d/n", S->port);
	call(cl, &rq, &o);
	ok_body(&o, 200, "{\"a\":1}");
	snprintf(url, sizeof(url), "http://nowhere.test:%d/n", S->port);
	call(cl, &rq, &o);
	failed_with(&o, UPSTREAM_REFUSED, "Could not resolve host: "
	    "nowhere.test");
	h1client_free(cl);
	unlink(hosts);
	srv_stop(S);
}

/* Start sy-upstream on a free loopback port; its port, or 0. */
static int
syup_start(pid_t *pid)
{
	const char	*bin = getenv("SY_UPSTREAM");
	char		 line[128], *p;
	int		 pfd[2], port = 0, st;
	ssize_t		 n;

	if (bin == NULL)
		fail_msg("SY_UPSTREAM is not set (run through make check)");
	assert_int_equal(pipe(pfd), 0);
	if ((*pid = fork()) == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(bin, bin, "-l", "127.0.0.1", "-p", "0", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	n = read(pfd[0], line, sizeof(line) - 1);	/* one line, then */
	close(pfd[0]);
	if (n > 0) {
		line[n] = '\0';
		if ((p = strrchr(line, ':')) != NULL)
			port = atoi(p + 1);
	}
	if (port == 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, &st, 0);
		*pid = 0;
	}
	return (port);
}

/* Through upstream.h: upstream_start dispatches on rq.native. */
static void
test_via_upstream(void **state)
{
	struct upstream		*up = upstream_new(B);
	struct upstream_call	*uc;
	struct upstream_request	 rq;
	struct res		 o;
	int			 one = 1;

	assert_non_null(up);
	srv_start(h_faults);
	rq = mkreq("GET", "/x");
	rq.native = 1;
	memset(&o, 0, sizeof(o));
	in_start = 1;
	uc = upstream_start(up, &rq, done_cb, &o);
	in_start = 0;
	assert_non_null(uc);
	assert_int_equal(upstream_active(up), 1);
	loop_until(res_done, &o, 5000);
	ok_body(&o, 200, "{\"a\":1}");
	assert_int_equal(upstream_active(up), 0);
	/* cancelled: no callback, the connection closed */
	rq = mkreq("GET", "/hold");
	rq.native = 1;
	memset(&o, 0, sizeof(o));
	uc = upstream_start(up, &rq, done_cb, &o);
	assert_non_null(uc);
	loop_until(res_done, &o, 100);
	upstream_cancel(uc);
	assert_int_equal(upstream_active(up), 0);
	loop_until(eofs_seen, &one, 2000);
	assert_int_equal(get(&S->eofs), 1);
	assert_int_equal(get(&S->accepts), 1);	/* the first one, reused */
	/* freed with a call in flight: no callback */
	uc = upstream_start(up, &rq, done_cb, &o);
	assert_non_null(uc);
	upstream_free(up);
	assert_int_equal(o.calls, 0);
	srv_stop(S);
}

/* s with every run of digits as one '#' (elapsed times differ). */
static void
no_digits(const char *s, char *out, size_t len)
{
	size_t	i = 0;

	for (; *s != '\0' && i + 1 < len; s++) {
		if (*s >= '0' && *s <= '9') {
			if (i == 0 || out[i - 1] != '#')
				out[i++] = '#';
		} else
			out[i++] = *s;
	}
	out[i] = '\0';
}

/* The server thread is done with every request (none still asleep). */
static int
srv_idle(void *arg)
{
	return (get(&S->handled) == get(&S->requests));
}

/*
 * One call through upstream_start, by h1client.c or by libcurl, once
 * the server (one thread) has finished the call before: a handler that
 * sleeps past the deadline would otherwise delay this one.
 */
static void
up_call(struct upstream *up, struct upstream_request *rq, int native,
    struct res *o)
{
	loop_until(srv_idle, NULL, 5000);
	assert_true(srv_idle(NULL));
	rq->native = native;
	memset(o, 0, sizeof(*o));
	in_start = 1;
	assert_non_null(upstream_start(up, rq, done_cb, o));
	in_start = 0;
	loop_until(res_done, o, 5000);
	assert_int_equal(o->calls, 1);
}

/*
 * The native client answers every fault as libcurl does: the same
 * result, status and body, and the same error text (elapsed times
 * aside), so that switching upstreamClient changes nothing a caller or
 * a log reader sees.
 */
static void
test_same_as_curl(void **state)
{
	static const struct {
		const char	*path;
		size_t		 maxhdr;
		int		 differs;	/* on purpose: see README */
	} t[] = {
		{ "/x", 0, 0 }, { "/reset", 0, 0 }, { "/reset-body", 0, 0 },
		{ "/empty", 0, 0 }, { "/short", 0, 0 },
		{ "/cut-chunked", 0, 0 },
		/* libcurl takes a header block cut by EOF as complete */
		{ "/cut-headers", 0, 1 },
		{ "/cut-status", 0, 0 },
		{ "/slow-headers", 0, 0 }, { "/slow-body", 0, 0 },
		{ "/huge-headers", 0, 0 }, { "/huge-line", 0, 0 },
		{ "/huge-line", 1 << 20, 0 }, { "/big-chunked", 0, 0 },
		{ "/big", 0, 0 }, { "/garbage", 0, 0 }, { "/http09", 0, 0 },
		{ "/mistyped", 0, 0 }, { "/no-reason", 0, 0 },
		{ "/http10", 0, 0 }, { "/continue", 0, 0 },
		{ "/bad-chunk", 0, 0 }, { "/status020", 0, 0 },
	};
	int			 same, bad = 0;
	struct upstream		*up = upstream_new(B);
	struct upstream_request	 rq;
	struct res		 n, c;
	char			 ne[256], ce[256];
	size_t			 i;

	assert_non_null(up);
	srv_start(h_faults);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		rq = mkreq("GET", t[i].path);
		/* 200 ms only where the deadline is the fault: a busy
		   machine (the sanitizer build) must not time the rest out */
		rq.timeout_ms = strncmp(t[i].path, "/slow", 5) == 0 ? 200 :
		    5000;
		rq.max_response = 1000;
		if (t[i].maxhdr != 0)
			rq.max_headers = t[i].maxhdr;
		up_call(up, &rq, 1, &n);
		up_call(up, &rq, 0, &c);
		no_digits(n.err, ne, sizeof(ne));
		no_digits(c.err, ce, sizeof(ce));
		print_message("# %s: native %d %ld \"%s\", curl %d %ld "
		    "\"%s\"\n", t[i].path, n.result, n.status, n.err,
		    c.result, c.status, c.err);
		same = n.result == c.result && strcmp(ne, ce) == 0 &&
		    n.status == c.status && (n.result != UPSTREAM_OK ||
		    (n.body_len == c.body_len &&
		    memcmp(n.body, c.body, n.body_len) == 0));
		if (same == t[i].differs) {
			print_message("# %s: %s\n", t[i].path, same ?
			    "the same, but marked as differing" :
			    "native and libcurl differ");
			bad++;
		}
	}
	upstream_free(up);
	srv_stop(S);
	assert_int_equal(bad, 0);
}

static pid_t	syup_pid;

/* Also when an assertion left test_sy_upstream early. */
static int
syup_stop(void **state)
{
	int	st;

	if (syup_pid > 0) {
		kill(syup_pid, SIGTERM);
		waitpid(syup_pid, &st, 0);
		syup_pid = 0;
	}
	return (0);
}

/* The repository's example upstream, an evhttp server. */
static void
test_sy_upstream(void **state)
{
	struct h1client		*cl = client(0, 0);
	struct upstream_request	 rq;
	struct res		 o;
	char			 url[128];
	const char		*ct[] = { "Content-Type: application/json" };
	int			 i, port;

	if ((port = syup_start(&syup_pid)) == 0)
		fail_msg("sy-upstream did not start");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/adder", port);
	memset(&rq, 0, sizeof(rq));
	rq.url = url;
	rq.method = "POST";
	rq.timeout_ms = 2000;
	rq.max_response = 10000;
	rq.max_headers = 16384;
	rq.headers = ct;
	rq.nheaders = 1;
	rq.has_body = 1;
	rq.body = "{\"num1\":2,\"num2\":3}";
	rq.body_len = strlen(rq.body);
	for (i = 0; i < 10; i++) {
		call(cl, &rq, &o);
		ok_body(&o, 200, "{\"sum\":5}");
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/stats", port);
	rq.method = "GET";
	rq.has_body = 0;
	call(cl, &rq, &o);
	assert_int_equal(o.result, UPSTREAM_OK);
	o.body[o.body_len] = '\0';
	if (strstr(o.body, "\"accepts\":1,") == NULL)
		fail_msg("not one connection: %s", o.body);
	h1client_free(cl);
}

/* The parser alone, fed a byte at a time. */
static void
test_parse_buf(void **state)
{
	static const char	resp[] = "HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\nok\r\n0\r\n\r\n";
	long			status;

	assert_int_equal(h1resp_parse_buf(resp, sizeof(resp) - 1, 1, "GET",
	    1000, 1000, &status), UPSTREAM_OK);
	assert_int_equal(status, 200);
	assert_int_equal(h1resp_parse_buf(resp, sizeof(resp) - 1, 0, "GET",
	    30, 1000, &status), UPSTREAM_HDRS_TOOBIG);
	assert_int_equal(h1resp_parse_buf(resp, sizeof(resp) - 1, 3, "GET",
	    1000, 1, &status), UPSTREAM_TOOBIG);
	assert_int_equal(h1resp_parse_buf(resp, 30, 0, "GET", 1000, 1000,
	    &status), UPSTREAM_FAILED);
	assert_int_equal(h1resp_parse_buf("", 0, 0, "GET", 1000, 1000,
	    &status), UPSTREAM_FAILED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_twice),
		cmocka_unit_test(test_big_body),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_nobody),
		cmocka_unit_test(test_pool_max),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_retry),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_via_upstream),
		cmocka_unit_test(test_same_as_curl),
		cmocka_unit_test_teardown(test_sy_upstream, syup_stop),
		cmocka_unit_test(test_parse_buf),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, setup, teardown));
}
