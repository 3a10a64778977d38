/*
 * test_call.c: the call core (call.c) on a real event loop, through the
 * real upstream client, against a loopback HTTP server in this process:
 * an answer passed through, a rule that denies (nothing sent upstream),
 * a rule that needs a caller, force changing the upstream body, a
 * refused upstream, a deadline, a non-JSON answer, and a cancel (no
 * callback, the upstream's connection closed).  Every completion must
 * come from the loop, never from inside call_start.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <json-c/json.h>

#include "authn.h"
#include "call.h"
#include "config.h"
#include "endpoint.h"
#include "project.h"
#include "upstream.h"
#include "util.h"

struct world {
	struct event_base	*base;
	struct evhttp		*srv;
	struct upstream		*up;
	struct sy_server	 conf;
	struct call_ctx		 ctx;
	struct sy_project	*proj;
	int			 port;
	int			 hits;		/* requests the server got */
	char			 last_body[256];
	struct evhttp_request	*held;		/* /hold: never answered */
};

struct outcome {
	int			 done;
	int			 in_start;	/* set while call_start runs */
	int			 from_start;	/* the callback ran inside it */
	enum call_outcome	 o;
	int			 status;
	char			 body[256];
};

static void
server_cb(struct evhttp_request *req, void *arg)
{
	struct world	*w = arg;
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	struct evbuffer	*b = evbuffer_new();
	const char	*path = evhttp_request_get_uri(req);
	size_t		 n;

	w->hits++;
	n = evbuffer_get_length(in);
	if (n >= sizeof(w->last_body))
		n = sizeof(w->last_body) - 1;
	evbuffer_copyout(in, w->last_body, n);
	w->last_body[n] = '\0';
	if (strcmp(path, "/hold") == 0) {
		w->held = req;		/* the test closes the connection */
		evbuffer_free(b);
		return;
	}
	if (strcmp(path, "/text") == 0)
		evbuffer_add_printf(b, "not json");
	else
		evbuffer_add_printf(b, "{\"got\":%s}", w->last_body[0] != '\0' ?
		    w->last_body : "null");
	evhttp_send_reply(req, strcmp(path, "/teapot") == 0 ? 418 : 200,
	    "OK", b);
	evbuffer_free(b);
}

static int
setup(void **state)
{
	static struct world		 w;
	struct evhttp_bound_socket	*bs;
	struct sockaddr_in		 sin;
	socklen_t			 sl = sizeof(sin);
	const char			*prec = "{\"project\":\"p\",\"secrets\":[]}";
	char				*err = NULL;

	memset(&w, 0, sizeof(w));
	w.base = event_base_new();
	w.srv = evhttp_new(w.base);
	evhttp_set_gencb(w.srv, server_cb, &w);
	bs = evhttp_bind_socket_with_handle(w.srv, "127.0.0.1", 0);
	assert_non_null(bs);
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin,
	    &sl);
	w.port = ntohs(sin.sin_port);
	w.up = upstream_new(w.base);
	w.conf.node_id = (char *)"node";
	w.conf.max_header_bytes = 16384;
	w.conf.max_response_bytes = 65536;
	w.ctx.base = w.base;
	w.ctx.srv = &w.conf;
	w.ctx.up = w.up;
	w.proj = project_decode(prec, strlen(prec), &err);
	assert_non_null(w.proj);
	*state = &w;
	return (0);
}

static int
teardown(void **state)
{
	struct world	*w = *state;

	project_unref(w->proj);
	upstream_free(w->up);
	evhttp_free(w->srv);
	event_base_free(w->base);
	return (0);
}

static void
done_cb(const struct call_result *res, void *arg)
{
	struct outcome	*o = arg;

	o->from_start = o->in_start;
	o->done++;
	o->o = res->outcome;
	o->status = res->status;
	if (res->body != NULL)
		snprintf(o->body, sizeof(o->body), "%.*s", (int)res->body_len,
		    res->body);
	else
		snprintf(o->body, sizeof(o->body), "%s", res->error);
}

static struct sy_endpoint *
endpoint(struct world *w, const char *path, const char *rule, double tmo)
{
	struct sy_endpoint	*ep;
	char			 rec[1024], *err = NULL;

	snprintf(rec, sizeof(rec), "{\"project\":\"p\",\"service\":\"s\","
	    "\"endpoint\":\"e\",\"kind\":\"internal\",\"method\":\"POST\","
	    "\"url\":\"http://127.0.0.1:%d%s\",\"timeout\":%g,\"rule\":%s}",
	    w->port, path, tmo, rule);
	if ((ep = endpoint_decode(rec, strlen(rec), &err)) == NULL)
		fail_msg("endpoint_decode: %s", err);
	return (ep);
}

/* Run one call to completion (bounded: 5 s of loop). */
static struct call *
run(struct world *w, struct sy_endpoint *ep, const char *params,
    const struct principal *who, double tmo, struct outcome *o, int wait)
{
	struct call_in	 in;
	struct call	*c;
	struct timeval	 tick = { 0, 20000 };
	int		 i;

	memset(o, 0, sizeof(*o));
	memset(&in, 0, sizeof(in));
	in.ep = ep;
	in.proj = w->proj;
	in.params = params;
	in.params_len = params != NULL ? strlen(params) : 0;
	in.who = who;
	in.deadline = sy_now() + tmo;
	in.reqid = "rid";
	o->in_start = 1;
	c = call_start(&w->ctx, &in, done_cb, o);
	o->in_start = 0;
	assert_non_null(c);
	for (i = 0; wait && i < 250 && o->done == 0; i++) {
		event_base_loopexit(w->base, &tick);
		event_base_dispatch(w->base);
	}
	return (c);
}

static void
test_answered(void **state)
{
	struct world		*w = *state;
	struct sy_endpoint	*ep = endpoint(w, "/add", "{\"rule\":\"allow\"}",
	    5);
	struct outcome		 o;

	run(w, ep, "{\"a\":1}", NULL, 5, &o, 1);
	assert_int_equal(o.done, 1);
	assert_false(o.from_start);
	assert_int_equal(o.o, CALL_ANSWERED);
	assert_int_equal(o.status, 200);
	assert_string_equal(o.body, "{\"got\":{\"a\":1}}");
	endpoint_unref(ep);
	ep = endpoint(w, "/teapot", "{\"rule\":\"allow\"}", 5);
	run(w, ep, NULL, NULL, 5, &o, 1);
	assert_int_equal(o.o, CALL_ANSWERED);
	assert_int_equal(o.status, 418);	/* the upstream's, as it is */
	assert_string_equal(o.body, "{\"got\":{}}");
	endpoint_unref(ep);
}

static void
test_rules(void **state)
{
	struct world		*w = *state;
	struct sy_endpoint	*ep;
	struct principal	 who;
	struct outcome		 o;
	int			 hits = w->hits;

	ep = endpoint(w, "/add", "{\"rule\":\"deny\",\"error\":\"no way\"}", 5);
	memset(&who, 0, sizeof(who));
	who.claims = json_tokener_parse("{\"sub\":\"u\"}");
	who.token = "t";
	who.tokenlen = 1;
	run(w, ep, "{}", &who, 5, &o, 1);
	assert_int_equal(o.done, 1);
	assert_false(o.from_start);
	assert_int_equal(o.o, CALL_FORBIDDEN);
	assert_int_equal(o.status, 403);
	assert_string_equal(o.body, "no way");
	assert_int_equal(w->hits, hits);	/* nothing went upstream */
	endpoint_unref(ep);

	ep = endpoint(w, "/add", "{\"rule\":\"authenticated\"}", 5);
	run(w, ep, "{}", NULL, 5, &o, 1);
	assert_int_equal(o.o, CALL_UNAUTHENTICATED);
	assert_int_equal(o.status, 401);
	assert_false(o.from_start);
	assert_int_equal(w->hits, hits);
	endpoint_unref(ep);

	ep = endpoint(w, "/add", "{\"rule\":\"force\",\"field\":"
	    "\"args.params.owner\",\"value\":\"args.auth.sub\"}", 5);
	run(w, ep, "{\"owner\":\"mallory\"}", &who, 5, &o, 1);
	assert_int_equal(o.o, CALL_ANSWERED);
	assert_string_equal(w->last_body, "{\"owner\":\"u\"}");
	endpoint_unref(ep);
	principal_clear(&who);
}

static void
test_upstream_faults(void **state)
{
	struct world		*w = *state;
	struct sy_endpoint	*ep;
	struct outcome		 o;
	char			 rec[512], *err = NULL;
	int			 s, port;
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);

	/* a port that refuses: bound, never listened on */
	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	getsockname(s, (struct sockaddr *)&sin, &sl);
	port = ntohs(sin.sin_port);
	snprintf(rec, sizeof(rec), "{\"project\":\"p\",\"service\":\"s\","
	    "\"endpoint\":\"e\",\"kind\":\"internal\",\"method\":\"POST\","
	    "\"url\":\"http://127.0.0.1:%d/x\",\"timeout\":5,"
	    "\"rule\":{\"rule\":\"allow\"}}", port);
	ep = endpoint_decode(rec, strlen(rec), &err);
	run(w, ep, "{}", NULL, 5, &o, 1);
	assert_int_equal(o.o, CALL_UP_REFUSED);
	assert_int_equal(o.status, 502);
	endpoint_unref(ep);
	close(s);

	ep = endpoint(w, "/text", "{\"rule\":\"allow\"}", 5);
	run(w, ep, "{}", NULL, 5, &o, 1);
	assert_int_equal(o.o, CALL_UP_BAD_ANSWER);
	assert_int_equal(o.status, 502);
	assert_string_equal(o.body,
	    "upstream answered with a body that is not JSON");
	endpoint_unref(ep);

	/* the deadline: the call's own, shorter than the endpoint's */
	ep = endpoint(w, "/hold", "{\"rule\":\"allow\"}", 30);
	run(w, ep, "{}", NULL, 0.3, &o, 1);
	assert_int_equal(o.o, CALL_UP_TIMEOUT);
	assert_int_equal(o.status, 504);
	endpoint_unref(ep);
	if (w->held != NULL) {
		evhttp_send_reply(w->held, 200, "OK", NULL);
		w->held = NULL;
	}
}

static void
test_cancel(void **state)
{
	struct world		*w = *state;
	struct sy_endpoint	*ep = endpoint(w, "/hold", "{\"rule\":\"allow\"}",
	    30);
	struct outcome		 o;
	struct call		*c;
	struct timeval		 tick = { 0, 20000 };
	int			 i;

	c = run(w, ep, "{}", NULL, 30, &o, 0);
	for (i = 0; i < 100 && w->held == NULL; i++) {
		event_base_loopexit(w->base, &tick);
		event_base_dispatch(w->base);
	}
	assert_non_null(w->held);	/* the request reached the server */
	call_cancel(c);
	for (i = 0; i < 10; i++) {
		event_base_loopexit(w->base, &tick);
		event_base_dispatch(w->base);
	}
	assert_int_equal(o.done, 0);	/* no callback after a cancel */
	assert_int_equal(upstream_active(w->up), 0);
	evhttp_send_reply(w->held, 200, "OK", NULL);
	w->held = NULL;
	endpoint_unref(ep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answered),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_upstream_faults),
		cmocka_unit_test(test_cancel),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, setup, teardown));
}
