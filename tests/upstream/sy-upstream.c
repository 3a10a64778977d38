/*
 * sy-upstream.c: the example upstream service for the demo and the
 * integration tests, a small libevent evhttp server.
 *
 *   sy-upstream [-l ADDR] [-p PORT]
 *
 * It binds ADDR:PORT (127.0.0.1:5000 by default; port 0 picks a free
 * one), prints "listening on ADDR:PORT" with the actual port to stdout,
 * and serves until SIGTERM or SIGINT:
 *
 *   POST /adder            {"num1":N,"num2":M} -> {"sum":N+M}
 *   * /echo, /echo/...     the request, as JSON
 *   * /status/CODE         that status, body {"status":CODE} or ?body=
 *   * /slow?ms=N           {"slept":N} after N ms (a timer; the loop
 *                          never blocks)
 *   * /fail                500
 *   * /nojson              200 text/plain
 *   * /big?bytes=N         a JSON object of at least N bytes
 *   * /close               closes the connection without a response
 *   * /stats               {"accepts":N,"requests":M}
 *
 * Connections are kept alive as evhttp does for HTTP/1.1, and /stats
 * counts accepted connections, so tests can see that a client reuses
 * them.  A request whose client went away while it waited in /slow is
 * detached from its connection by evhttp and freed by the reply that
 * the timer sends, so the timer never touches freed memory.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>

#define SYUP_MAX_SLOW_MS	600000L			/* 10 minutes */
#define SYUP_MAX_BIG		((long)256 << 20)	/* 256 MiB */
#define SYUP_JSON		"application/json"
#define SYUP_JSON_FLAGS	\
	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

struct syup_slow {
	TAILQ_ENTRY(syup_slow)	 sl_entry;
	struct evhttp_request	*sl_req;
	struct event		*sl_ev;
	long			 sl_ms;
};

TAILQ_HEAD(syup_slowq, syup_slow);

typedef void (*syup_handler)(struct evhttp_request *, const char *,
    struct json_object *);

#define SYUP_EXACT	0x1	/* the route matches rt_path itself */
#define SYUP_SUB	0x2	/* and rt_path + "/..." */

struct syup_route {
	const char	*rt_path;
	int		 rt_match;
	syup_handler	 rt_fn;
};

static struct event_base	*syup_base;
static struct syup_slowq	 syup_slows =
    TAILQ_HEAD_INITIALIZER(syup_slows);
static unsigned long long	 syup_accepts;
static unsigned long long	 syup_requests;

static void
syup_reply(struct evhttp_request *req, int code, const char *ctype,
    const char *body, size_t len)
{
	struct evbuffer	*buf;

	if (ctype != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", ctype);
	if ((buf = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (body != NULL)
		evbuffer_add(buf, body, len);
	evhttp_send_reply(req, code, NULL, buf);
	evbuffer_free(buf);
}

static void
syup_reply_json(struct evhttp_request *req, int code, struct json_object *o)
{
	size_t		 len;
	const char	*s;

	s = json_object_to_json_string_length(o, SYUP_JSON_FLAGS, &len);
	syup_reply(req, code, SYUP_JSON, s, len);
	json_object_put(o);
}

static void
syup_error(struct evhttp_request *req, int code, const char *msg)
{
	struct json_object	*o;

	o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(msg));
	syup_reply_json(req, code, o);
}

/*
 * Decoded query parameters (plus decodes to a space; a name without '='
 * has the value ""; the last of repeated names wins).
 */
static struct json_object *
syup_args(const char *query)
{
	struct json_object	*args;
	char			*copy, *p, *pair, *eq, *k, *v;
	size_t			 vlen;

	args = json_object_new_object();
	if (query == NULL || (copy = strdup(query)) == NULL)
		return (args);
	for (p = copy; (pair = strsep(&p, "&")) != NULL; ) {
		if (*pair == '\0')
			continue;
		if ((eq = strchr(pair, '=')) != NULL)
			*eq++ = '\0';
		else
			eq = pair + strlen(pair);
		k = evhttp_uridecode(pair, 1, NULL);
		v = evhttp_uridecode(eq, 1, &vlen);
		if (k != NULL && v != NULL)
			json_object_object_add(args, k,
			    json_object_new_string_len(v, (int)vlen));
		free(k);
		free(v);
	}
	free(copy);
	return (args);
}

/* Integer argument name in [0, max], or -1 when missing or bad. */
static long
syup_arg_long(struct json_object *args, const char *name, long max)
{
	struct json_object	*v;
	const char		*s;
	char			*end;
	long			 n;

	if (!json_object_object_get_ex(args, name, &v))
		return (-1);
	s = json_object_get_string(v);
	if (!isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	n = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || n > max)
		return (-1);
	return (n);
}

/* Parse the request body as one JSON value, or NULL. */
static struct json_object *
syup_body_json(struct evhttp_request *req)
{
	struct evbuffer		*in;
	struct json_tokener	*tok;
	struct json_object	*o;
	size_t			 len, end;
	const char		*s;

	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	if (len == 0 || len > INT32_MAX ||
	    (s = (const char *)evbuffer_pullup(in, -1)) == NULL)
		return (NULL);
	if ((tok = json_tokener_new()) == NULL)
		return (NULL);
	o = json_tokener_parse_ex(tok, s, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	while (o != NULL && end < len) {
		if (!isspace((unsigned char)s[end++])) {
			json_object_put(o);	/* trailing garbage */
			o = NULL;
		}
	}
	return (o);
}

/* The shortest "%.*g" text that reads back as d. */
static void
syup_fmt_double(char *buf, size_t size, double d)
{
	int	prec;

	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, size, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
	snprintf(buf, size, "%.17g", d);
}

static void
syup_adder(struct evhttp_request *req, const char *path,
    struct json_object *args)
{
	struct json_object	*body, *a, *b;
	char			 num[64], out[96];
	int64_t			 sum;
	double			 d;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "POST");
		syup_error(req, 405, "use POST");
		return;
	}
	body = syup_body_json(req);
	if (body == NULL || !json_object_is_type(body, json_type_object) ||
	    !json_object_object_get_ex(body, "num1", &a) ||
	    !json_object_object_get_ex(body, "num2", &b) ||
	    !(json_object_is_type(a, json_type_int) ||
	    json_object_is_type(a, json_type_double)) ||
	    !(json_object_is_type(b, json_type_int) ||
	    json_object_is_type(b, json_type_double))) {
		json_object_put(body);
		syup_error(req, 400,
		    "want {\"num1\": number, \"num2\": number}");
		return;
	}
	if (json_object_is_type(a, json_type_int) &&
	    json_object_is_type(b, json_type_int) &&
	    !__builtin_add_overflow(json_object_get_int64(a),
	    json_object_get_int64(b), &sum))
		snprintf(num, sizeof(num), "%lld", (long long)sum);
	else {
		d = json_object_get_double(a) + json_object_get_double(b);
		if (!isfinite(d)) {
			json_object_put(body);
			syup_error(req, 400, "sum out of range");
			return;
		}
		syup_fmt_double(num, sizeof(num), d);
	}
	json_object_put(body);
	snprintf(out, sizeof(out), "{\"sum\":%s}", num);
	syup_reply(req, 200, SYUP_JSON, out, strlen(out));
}

static const char *
syup_method(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET:
		return ("GET");
	case EVHTTP_REQ_POST:
		return ("POST");
	case EVHTTP_REQ_HEAD:
		return ("HEAD");
	case EVHTTP_REQ_PUT:
		return ("PUT");
	case EVHTTP_REQ_DELETE:
		return ("DELETE");
	case EVHTTP_REQ_OPTIONS:
		return ("OPTIONS");
	case EVHTTP_REQ_TRACE:
		return ("TRACE");
	case EVHTTP_REQ_CONNECT:
		return ("CONNECT");
	case EVHTTP_REQ_PATCH:
		return ("PATCH");
	}
	return ("UNKNOWN");
}

/* Request headers by lower-case name; repeats joined with ", ". */
static struct json_object *
syup_headers(struct evhttp_request *req)
{
	struct json_object	*hdrs, *old;
	struct evkeyval		*kv;
	char			*name, *joined;
	size_t			 i, len;

	hdrs = json_object_new_object();
	TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next) {
		if ((name = strdup(kv->key)) == NULL)
			continue;
		for (i = 0; name[i] != '\0'; i++)
			name[i] = tolower((unsigned char)name[i]);
		if (json_object_object_get_ex(hdrs, name, &old)) {
			len = strlen(json_object_get_string(old)) +
			    strlen(kv->value) + 3;
			if ((joined = malloc(len)) != NULL) {
				snprintf(joined, len, "%s, %s",
				    json_object_get_string(old), kv->value);
				json_object_object_add(hdrs, name,
				    json_object_new_string(joined));
				free(joined);
			}
		} else
			json_object_object_add(hdrs, name,
			    json_object_new_string(kv->value));
		free(name);
	}
	return (hdrs);
}

static void
syup_echo(struct evhttp_request *req, const char *path,
    struct json_object *args)
{
	struct evbuffer		*in;
	struct json_object	*o;
	const char		*query, *body;
	size_t			 len;

	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	body = len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
	if (body == NULL || len > INT32_MAX) {
		syup_error(req, 500, "cannot read the body");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "method", json_object_new_string(
	    syup_method(evhttp_request_get_command(req))));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "query",
	    json_object_new_string(query != NULL ? query : ""));
	json_object_object_add(o, "args", json_object_get(args));
	json_object_object_add(o, "headers", syup_headers(req));
	json_object_object_add(o, "body",
	    json_object_new_string_len(body, (int)len));
	json_object_object_add(o, "bodyLength",
	    json_object_new_int64((int64_t)len));
	syup_reply_json(req, 200, o);
}

static void
syup_status(struct evhttp_request *req, const char *path,
    struct json_object *args)
{
	struct json_object	*b;
	const char		*s = path + strlen("/status/");
	char			 out[32];
	int			 code = 0;

	if (*s == '\0' || strlen(s) > 3 || strspn(s, "0123456789") !=
	    strlen(s) || (code = atoi(s)) < 200 || code > 599) {
		syup_error(req, 400, "status code must be 200 to 599");
		return;
	}
	if (code == 204 || code == 304)
		syup_reply(req, code, NULL, NULL, 0);
	else if (json_object_object_get_ex(args, "body", &b))
		syup_reply(req, code, SYUP_JSON, json_object_get_string(b),
		    (size_t)json_object_get_string_len(b));
	else {
		snprintf(out, sizeof(out), "{\"status\":%d}", code);
		syup_reply(req, code, SYUP_JSON, out, strlen(out));
	}
}

static void
syup_slow_done(evutil_socket_t fd, short what, void *arg)
{
	struct syup_slow	*sl = arg;
	char			 out[64];

	TAILQ_REMOVE(&syup_slows, sl, sl_entry);
	snprintf(out, sizeof(out), "{\"slept\":%ld}", sl->sl_ms);
	/* frees the request even when its client has gone */
	syup_reply(sl->sl_req, 200, SYUP_JSON, out, strlen(out));
	event_free(sl->sl_ev);
	free(sl);
}

static void
syup_slow(struct evhttp_request *req, const char *path,
    struct json_object *args)
{
	struct syup_slow	*sl;
	struct timeval		 tv;
	long			 ms;

	if ((ms = syup_arg_long(args, "ms", SYUP_MAX_SLOW_MS)) == -1) {
		syup_error(req, 400, "want ?ms=N, N at most 600000");
		return;
	}
	if ((sl = calloc(1, sizeof(*sl))) == NULL ||
	    (sl->sl_ev = evtimer_new(syup_base, syup_slow_done, sl)) == NULL) {
		free(sl);
		syup_error(req, 500, "out of memory");
		return;
	}
	sl->sl_req = req;
	sl->sl_ms = ms;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(sl->sl_ev, &tv);
	TAILQ_INSERT_TAIL(&syup_slows, sl, sl_entry);
}

static void
syup_fail(struct evhttp_request *req, const char *path,
    struct json_object *args)
{
	syup_error(req, 500, "failure requested");
}

static void
syup_nojson(struct evhttp_request *req, const char *path,
    struct json_object *args)
{
	static const char	text[] = "this is not json";

	syup_reply(req, 200, "text/plain", text, sizeof(text) - 1);
}

static void
syup_big(struct evhttp_request *req, const char *path,
    struct json_object *args)
{
	static const char	 head[] = "{\"pad\":\"", tail[] = "\"}";
	struct evbuffer		*buf;
	char			 chunk[8192];
	long			 n, pad;

	if ((n = syup_arg_long(args, "bytes", SYUP_MAX_BIG)) == -1) {
		syup_error(req, 400, "want ?bytes=N, N at most 268435456");
		return;
	}
	if ((buf = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	memset(chunk, 'x', sizeof(chunk));
	pad = n - (long)(sizeof(head) - 1 + sizeof(tail) - 1);
	evbuffer_add(buf, head, sizeof(head) - 1);
	for (; pad > 0; pad -= (long)sizeof(chunk))
		evbuffer_add(buf, chunk, pad < (long)sizeof(chunk) ?
		    (size_t)pad : sizeof(chunk));
	evbuffer_add(buf, tail, sizeof(tail) - 1);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", SYUP_JSON);
	evhttp_send_reply(req, 200, NULL, buf);
	evbuffer_free(buf);
}

/*
 * Shut the socket down, then reply: the reply cannot be written, so
 * evhttp sees the error and frees the connection and the request.
 * SIGPIPE is ignored.
 */
static void
syup_close(struct evhttp_request *req, const char *path,
    struct json_object *args)
{
	struct evhttp_connection	*evcon;
	evutil_socket_t			 fd = -1;

	evcon = evhttp_request_get_connection(req);
	if (evcon != NULL)
		fd = bufferevent_getfd(
		    evhttp_connection_get_bufferevent(evcon));
	if (fd != -1)
		shutdown(fd, SHUT_RDWR);
	syup_reply(req, 500, NULL, NULL, 0);
}

static void
syup_stats(struct evhttp_request *req, const char *path,
    struct json_object *args)
{
	char	out[96];

	snprintf(out, sizeof(out), "{\"accepts\":%llu,\"requests\":%llu}",
	    syup_accepts, syup_requests);
	syup_reply(req, 200, SYUP_JSON, out, strlen(out));
}

static const struct syup_route syup_routes[] = {
	{ "/adder",	SYUP_EXACT,		syup_adder },
	{ "/echo",	SYUP_EXACT | SYUP_SUB,	syup_echo },
	{ "/status",	SYUP_SUB,		syup_status },
	{ "/slow",	SYUP_EXACT,		syup_slow },
	{ "/fail",	SYUP_EXACT,		syup_fail },
	{ "/nojson",	SYUP_EXACT,		syup_nojson },
	{ "/big",	SYUP_EXACT,		syup_big },
	{ "/close",	SYUP_EXACT,		syup_close },
	{ "/stats",	SYUP_EXACT,		syup_stats },
};

static const struct syup_route *
syup_route_find(const char *path)
{
	const struct syup_route	*rt;
	size_t			 i, len;

	for (i = 0; i < sizeof(syup_routes) / sizeof(syup_routes[0]); i++) {
		rt = &syup_routes[i];
		len = strlen(rt->rt_path);
		if (strncmp(path, rt->rt_path, len) != 0)
			continue;
		if (path[len] == '\0' && (rt->rt_match & SYUP_EXACT))
			return (rt);
		if (path[len] == '/' && (rt->rt_match & SYUP_SUB))
			return (rt);
	}
	return (NULL);
}

static void
syup_dispatch(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri;
	const struct syup_route	*rt;
	struct json_object	*args;
	const char		*path;

	syup_requests++;
	uri = evhttp_request_get_evhttp_uri(req);
	path = evhttp_uri_get_path(uri);
	if (path == NULL || *path == '\0')
		path = "/";
	if ((rt = syup_route_find(path)) == NULL) {
		syup_error(req, 404, "no such route");
		return;
	}
	args = syup_args(evhttp_uri_get_query(uri));
	rt->rt_fn(req, path, args);
	json_object_put(args);
}

/*
 * evhttp asks for a bufferevent once for every connection it accepts:
 * count it there, and return NULL to get evhttp's default one.
 */
static struct bufferevent *
syup_newconn(struct event_base *base, void *arg)
{
	syup_accepts++;
	return (NULL);
}

static void
syup_signal(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopexit(syup_base, NULL);
}

/*
 * Reply to the requests still sleeping, which frees those whose client
 * has gone (the others go with their connection in evhttp_free, before
 * the reply is written), then free everything.
 */
static void
syup_shutdown(struct evhttp *http)
{
	struct syup_slow	*sl;

	while ((sl = TAILQ_FIRST(&syup_slows)) != NULL) {
		TAILQ_REMOVE(&syup_slows, sl, sl_entry);
		syup_error(sl->sl_req, 503, "shutting down");
		event_free(sl->sl_ev);
		free(sl);
	}
	evhttp_free(http);
}

static int
syup_port(struct evhttp_bound_socket *bs)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss,
	    &len) == -1)
		return (-1);
	if (ss.ss_family == AF_INET)
		return (ntohs(((struct sockaddr_in *)&ss)->sin_port));
	if (ss.ss_family == AF_INET6)
		return (ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	return (-1);
}

static void
syup_usage(void)
{
	fprintf(stderr, "usage: sy-upstream [-l addr] [-p port]\n");
	exit(1);
}

static void
syup_getopt(int argc, char **argv, const char **addr, int *port)
{
	char	*end;
	long	 n;
	int	 ch;

	while ((ch = getopt(argc, argv, "l:p:h")) != -1) {
		switch (ch) {
		case 'l':
			*addr = optarg;
			break;
		case 'p':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    n < 0 || n > 65535)
				syup_usage();
			*port = (int)n;
			break;
		default:
			syup_usage();
		}
	}
	if (optind != argc)
		syup_usage();
}

int
main(int argc, char **argv)
{
	struct evhttp			*http;
	struct evhttp_bound_socket	*bs;
	struct event			*sigterm, *sigint;
	const char			*addr = "127.0.0.1";
	int				 port = 5000;

	syup_getopt(argc, argv, &addr, &port);
	signal(SIGPIPE, SIG_IGN);
	if ((syup_base = event_base_new()) == NULL ||
	    (http = evhttp_new(syup_base)) == NULL) {
		fprintf(stderr, "sy-upstream: cannot set up libevent\n");
		return (1);
	}
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(http, syup_dispatch, NULL);
	evhttp_set_bevcb(http, syup_newconn, NULL);
	if ((bs = evhttp_bind_socket_with_handle(http, addr,
	    (ev_uint16_t)port)) == NULL) {
		fprintf(stderr, "sy-upstream: cannot listen on %s:%d: %s\n",
		    addr, port, strerror(errno));
		return (1);
	}
	sigterm = evsignal_new(syup_base, SIGTERM, syup_signal, NULL);
	sigint = evsignal_new(syup_base, SIGINT, syup_signal, NULL);
	if (sigterm == NULL || sigint == NULL ||
	    evsignal_add(sigterm, NULL) == -1 ||
	    evsignal_add(sigint, NULL) == -1) {
		fprintf(stderr, "sy-upstream: cannot catch signals\n");
		return (1);
	}
	printf("listening on %s:%d\n", addr, syup_port(bs));
	fflush(stdout);
	event_base_dispatch(syup_base);
	syup_shutdown(http);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(syup_base);
	return (0);
}
