/*
 * call.c: one service call (call.h), read top-down:
 *   call_start     references, params parsed when something reads them
 *   call_webhooks  the rule's webhooks, in parallel, each within its own
 *                  timeout and the time the call has left
 *   call_decide    the rule, with the webhooks' verdicts; force/remove
 *                  change the params and so the upstream body
 *   call_forward   the upstream request (upreq.c), then the upstream call
 *   call_answered  the upstream's outcome, mapped through call_outcomes[]
 *   call_finish    the one completion, then everything is freed
 *
 * Invariants: a call ends in exactly one callback (or a cancel, which
 * runs none), never from inside call_start: an outcome known at once is
 * delivered from a zero-timeout event.  The client's params bytes are
 * forwarded as they are unless the rule changed the params.  Every
 * upstream outcome is counted once in the upstream metrics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <json-c/json.h>

#include "authn.h"
#include "call.h"
#include "config.h"
#include "endpoint.h"
#include "jscan.h"
#include "log.h"
#include "metrics.h"
#include "project.h"
#include "rule.h"
#include "upstream.h"
#include "util.h"

#define CALL_REQID_MAX		128
#define CALL_WEBHOOK_MAX	(1024 * 1024)

/* One row per outcome: its status and, for upstream faults, the metric. */
static const struct {
	int		 status;
	int		 uperr;		/* enum metrics_uperr, or -1 */
	const char	*error;
} call_outcomes[] = {
	[CALL_ANSWERED] = { 0, -1, NULL },
	[CALL_BAD_REQUEST] = { 400, -1, NULL },
	[CALL_UNAUTHENTICATED] = { 401, -1,
	    "this endpoint needs a bearer token" },
	[CALL_FORBIDDEN] = { 403, -1, "the endpoint's rule denies this call" },
	[CALL_NO_MEMORY] = { 503, -1, "out of memory" },
	[CALL_DEADLINE] = { 504, -1, "upstream deadline passed" },
	[CALL_UP_REFUSED] = { 502, METRICS_UP_REFUSED,
	    "upstream refused the connection" },
	[CALL_UP_TIMEOUT] = { 504, METRICS_UP_TIMEOUT,
	    "upstream deadline passed" },
	[CALL_UP_TOOBIG] = { 502, METRICS_UP_TOO_LARGE,
	    "upstream response is larger than maxResponseBytes" },
	[CALL_UP_HDRS_TOOBIG] = { 502, METRICS_UP_TOO_LARGE,
	    "upstream response headers are larger than maxHeaderBytes" },
	[CALL_UP_FAILED] = { 502, METRICS_UP_RESET, "upstream call failed" },
	[CALL_UP_BAD_ANSWER] = { 502, METRICS_UP_BAD_RESPONSE, NULL },
	[CALL_NOT_STARTED] = { 502, -1, "cannot start the upstream call" },
};

struct call_hook {
	struct call		*w_call;
	size_t			 w_i;
	int			 w_cut;		/* its timeout is the call's */
};

struct call {
	struct call_ctx		*c_ctx;
	struct sy_endpoint	*c_ep;
	struct sy_project	*c_proj;
	const struct principal	*c_who;
	const char		*c_params_text;	/* borrowed, or NULL */
	size_t			 c_params_len;
	struct json_object	*c_params;	/* parsed when needed */
	char			*c_body;	/* params after force/remove */
	double			 c_deadline;
	double			 c_upstart;
	upreq_header_fn		 c_header;
	void			*c_header_arg;
	struct upstream_call	*c_uc;
	struct upstream_call	**c_wh;		/* webhook calls */
	int			*c_wh_ok;
	struct call_hook	*c_hooks;
	size_t			 c_nwh;
	size_t			 c_pending;	/* webhooks in flight */
	int			 c_out_of_time;	/* a webhook hit the deadline */
	struct event		 c_later;	/* an outcome known at once */
	int			 c_later_set;
	struct call_result	 c_res;
	char			*c_owned;	/* c_res.error, when allocated */
	call_cb			 c_cb;
	void			*c_arg;
	char			 c_reqid[CALL_REQID_MAX + 1];
};

static void	call_webhooks(struct call *, const struct rule_webhook *,
		    size_t);
static void	call_decide(struct call *);
static void	call_forward(struct call *);
static void	call_answered(const struct upstream_response *, void *);
static void	call_finish(struct call *);

int
call_status(enum call_outcome o)
{
	return (call_outcomes[o].status);
}

static double
call_wall_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Milliseconds left before the call's deadline, at least 1. */
static long
call_left_ms(const struct call *c)
{
	double	left = (c->c_deadline - sy_now()) * 1000.0;

	return (left < 1 ? 1 : left > 86400000.0 ? 86400000L : (long)left);
}

static void
call_free(struct call *c)
{
	size_t	i;

	if (c->c_later_set)
		event_del(&c->c_later);
	if (c->c_uc != NULL)
		upstream_cancel(c->c_uc);
	for (i = 0; i < c->c_nwh; i++)
		if (c->c_wh[i] != NULL)
			upstream_cancel(c->c_wh[i]);
	endpoint_unref(c->c_ep);
	project_unref(c->c_proj);
	json_object_put(c->c_params);
	free(c->c_body);
	free(c->c_wh);
	free(c->c_wh_ok);
	free(c->c_hooks);
	free(c->c_owned);
	free(c);
}

/* The one completion. */
static void
call_finish(struct call *c)
{
	if (c->c_res.outcome != CALL_ANSWERED) {
		c->c_res.status = call_outcomes[c->c_res.outcome].status;
		if (c->c_res.error == NULL)
			c->c_res.error = call_outcomes[c->c_res.outcome].error;
		if (c->c_res.raw == NULL)
			c->c_res.raw = "";
	}
	c->c_cb(&c->c_res, c->c_arg);
	call_free(c);
}

static void
call_later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call	*c = arg;

	c->c_later_set = 0;
	call_finish(c);
}

/* An outcome known before anything went out: delivered from the loop. */
static void
call_fail(struct call *c, enum call_outcome o, const char *error)
{
	c->c_res.outcome = o;
	c->c_res.error = error;
	evtimer_assign(&c->c_later, c->c_ctx->base, call_later_cb, c);
	c->c_later_set = 1;
	event_active(&c->c_later, EV_TIMEOUT, 1);
}

/* Parse the params value (already validated by the caller). */
static struct json_object *
call_parse_params(const char *text, size_t len)
{
	struct json_object	*v;
	char			*tmp;

	if ((tmp = strndup(text, len)) == NULL)
		return (NULL);
	v = json_tokener_parse(tmp);
	free(tmp);
	return (v);
}

struct call *
call_start(struct call_ctx *ctx, const struct call_in *in, call_cb cb,
    void *arg)
{
	const struct rule_webhook	*wh;
	struct call			*c;
	size_t				 n;

	if ((c = sy_zalloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->c_ctx = ctx;
	c->c_ep = endpoint_ref(in->ep);
	c->c_proj = project_ref(in->proj);
	c->c_who = in->who;
	c->c_params_text = in->params;
	c->c_params_len = in->params_len;
	c->c_deadline = in->deadline;
	c->c_header = in->header;
	c->c_header_arg = in->header_arg;
	c->c_cb = cb;
	c->c_arg = arg;
	n = strnlen(in->reqid, sizeof(c->c_reqid) - 1);
	memcpy(c->c_reqid, in->reqid, n);
	c->c_reqid[n] = '\0';
	if (rule_needs_token(c->c_ep->rule) && c->c_who == NULL) {
		call_fail(c, CALL_UNAUTHENTICATED, NULL);
		return (c);
	}
	if (in->params != NULL && (upreq_needs_params(c->c_ep) ||
	    rule_changes_params(c->c_ep->rule)))
		c->c_params = call_parse_params(in->params, in->params_len);
	if ((n = rule_webhooks(c->c_ep->rule, &wh)) > 0)
		call_webhooks(c, wh, n);
	else
		call_decide(c);
	return (c);
}

/* The webhook body: {"auth","params","token"}.  Caller frees. */
static char *
call_webhook_body(struct call *c)
{
	struct json_object	*o;
	char			*s;

	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	json_object_object_add(o, "auth", c->c_who != NULL ?
	    json_object_get(c->c_who->claims) : json_object_new_object());
	json_object_object_add(o, "params", c->c_params != NULL ?
	    json_object_get(c->c_params) : json_object_new_object());
	json_object_object_add(o, "token", json_object_new_string_len(
	    c->c_who != NULL ? c->c_who->token : "",
	    c->c_who != NULL ? (int)c->c_who->tokenlen : 0));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return (s);
}

static void
call_webhook_done(const struct upstream_response *res, void *arg)
{
	struct call_hook	*w = arg;
	struct call		*c = w->w_call;

	c->c_wh[w->w_i] = NULL;
	if (c->c_later_set)
		return;		/* decided already: a webhook did not start */
	c->c_wh_ok[w->w_i] = res->result == UPSTREAM_OK &&
	    res->status >= 200 && res->status < 300 &&
	    jscan_validate(res->body, res->body_len) == 0;
	if (w->w_cut && res->result == UPSTREAM_TIMEOUT)
		c->c_out_of_time = 1;
	else if (!c->c_wh_ok[w->w_i])
		log_info("request %s: webhook %zu refused the call (%s, status "
		    "%ld)", c->c_reqid, w->w_i, res->error, res->status);
	if (--c->c_pending > 0)
		return;
	if (c->c_out_of_time || sy_now() >= c->c_deadline) {
		log_warnx("request %s: %s/%s/%s: the call's deadline passed "
		    "while its webhooks ran", c->c_reqid, c->c_ep->project,
		    c->c_ep->service, c->c_ep->name);
		c->c_res.outcome = CALL_DEADLINE;
		c->c_res.raw = "the deadline passed while the rule's webhooks "
		    "ran";
		call_finish(c);
		return;
	}
	call_decide(c);
}

/* Start every webhook of the rule in parallel. */
static void
call_webhooks(struct call *c, const struct rule_webhook *wh, size_t n)
{
	struct upstream_request	 rq;
	const char		*hdrs[2];
	char			 rid[CALL_REQID_MAX + 16], *body;
	size_t			 i;

	c->c_wh = calloc(n, sizeof(*c->c_wh));
	c->c_wh_ok = calloc(n, sizeof(*c->c_wh_ok));
	c->c_hooks = calloc(n, sizeof(*c->c_hooks));
	if (c->c_wh == NULL || c->c_wh_ok == NULL || c->c_hooks == NULL ||
	    (body = call_webhook_body(c)) == NULL) {
		call_fail(c, CALL_NO_MEMORY, NULL);
		return;
	}
	c->c_nwh = n;
	upreq_webhook(&rq, hdrs, rid, sizeof(rid), c->c_reqid, body,
	    CALL_WEBHOOK_MAX, c->c_ctx->srv->max_header_bytes);
	for (i = 0; i < n; i++) {
		rq.url = wh[i].url;
		/* each within its own timeout and the time the call has left */
		rq.timeout_ms = (long)(wh[i].timeout * 1000.0);
		if (rq.timeout_ms >= call_left_ms(c)) {
			rq.timeout_ms = call_left_ms(c);
			c->c_hooks[i].w_cut = 1;
		}
		c->c_hooks[i].w_call = c;
		c->c_hooks[i].w_i = i;
		c->c_wh[i] = upstream_start(c->c_ctx->up, &rq,
		    call_webhook_done, &c->c_hooks[i]);
		if (c->c_wh[i] != NULL)
			c->c_pending++;
	}
	free(body);
	if (c->c_pending < n)
		call_fail(c, CALL_NOT_STARTED, "cannot start a webhook call");
}

/*
 * Evaluate the rule (its webhooks have answered) and, when it changed
 * the params, serialize them as the new upstream body; then forward.
 */
static void
call_decide(struct call *c)
{
	struct rule_env		 env;
	const char		*err = NULL, *text;

	memset(&env, 0, sizeof(env));
	env.auth = c->c_who != NULL ? c->c_who->claims : NULL;
	env.params = c->c_params;
	env.token = c->c_who != NULL ? c->c_who->token : NULL;
	env.now = call_wall_now();
	env.webhook_ok = c->c_wh_ok;
	env.nwebhooks = c->c_nwh;
	if (rule_eval(c->c_ep->rule, &env, &err) != RULE_PASS) {
		c->c_params = env.params;
		call_fail(c, CALL_FORBIDDEN, err);
		return;
	}
	c->c_params = env.params;
	if (rule_changes_params(c->c_ep->rule)) {
		text = c->c_params != NULL ? json_object_to_json_string_ext(
		    c->c_params, JSON_C_TO_STRING_PLAIN) : "{}";
		if ((c->c_body = strdup(text)) == NULL) {
			call_fail(c, CALL_NO_MEMORY, NULL);
			return;
		}
	}
	call_forward(c);
}

/*
 * Whether url goes to the native client (h1client.c): an http:// URL,
 * unless the service's upstreamClient, or else the server's, is curl.
 * https:// is always libcurl's, and so is a URL with "user@" in its
 * authority (libcurl sends it as Basic authentication).
 */
static int
call_native(const struct sy_server *srv, const struct sy_endpoint *ep,
    const char *url)
{
	size_t	alen;
	int	curl;

	curl = ep->client == EP_CLIENT_DEFAULT ? srv->upstream_curl :
	    ep->client == EP_CLIENT_CURL;
	if (curl || strncasecmp(url, "http://", 7) != 0)
		return (0);
	alen = strcspn(url + 7, "/?#");
	return (memchr(url + 7, '@', alen) == NULL);
}

/* Build the upstream request and start it. */
static void
call_forward(struct call *c)
{
	const struct sy_server	*srv = c->c_ctx->srv;
	struct upstream_request	 rq;
	struct upreq_in		 in;
	struct upreq		 r;
	char			*err = NULL;

	memset(&in, 0, sizeof(in));
	in.ep = c->c_ep;
	in.proj = c->c_proj;
	in.node_id = srv->node_id;
	in.params = c->c_params;
	in.claims = c->c_who != NULL ? c->c_who->claims : NULL;
	if (c->c_body != NULL) {
		in.body = c->c_body;
		in.body_len = strlen(c->c_body);
	} else {
		in.body = c->c_params_text != NULL ? c->c_params_text : "{}";
		in.body_len = c->c_params_text != NULL ? c->c_params_len : 2;
	}
	in.reqid = c->c_reqid;
	in.header = c->c_header;
	in.header_arg = c->c_header_arg;
	in.now = call_wall_now();
	if (upreq_build(&r, &in, &err) == -1) {
		c->c_owned = err;
		call_fail(c, err != NULL ? CALL_BAD_REQUEST : CALL_NO_MEMORY,
		    err);
		upreq_free(&r);
		return;
	}
	memset(&rq, 0, sizeof(rq));
	rq.url = r.url.data;
	rq.method = c->c_ep->method;
	rq.has_body = c->c_ep->has_body;
	rq.body = in.body;
	rq.body_len = in.body_len;
	rq.headers = r.lines;
	rq.nheaders = r.nlines;
	rq.timeout_ms = call_left_ms(c);
	rq.max_response = srv->max_response_bytes;
	rq.max_headers = srv->max_header_bytes;
	rq.resp_headers = (const char *const *)c->c_ep->resp_headers;
	rq.nresp_headers = c->c_ep->nresp_headers;
	/* caFile is for the service url: its internal endpoints' calls */
	if (c->c_ep->kind == EP_KIND_INTERNAL)
		rq.ca_file = c->c_ep->ca_file;
	rq.native = rq.ca_file == NULL && call_native(srv, c->c_ep, rq.url);
	c->c_upstart = sy_now();
	if ((c->c_uc = upstream_start(c->c_ctx->up, &rq, call_answered, c)) ==
	    NULL)
		call_fail(c, CALL_NOT_STARTED, NULL);
	upreq_free(&r);
}

/* Map the upstream's outcome onto the call's. */
static enum call_outcome
call_map(const struct call *c, const struct upstream_response *res)
{
	int	empty_ok;

	switch (res->result) {
	case UPSTREAM_OK:
		empty_ok = res->status == 204 || res->status == 304 ||
		    strcmp(c->c_ep->method, "HEAD") == 0;
		if (res->status < 200 || res->status > 599 ||
		    (!(empty_ok && res->body_len == 0) &&
		    jscan_validate(res->body, res->body_len) == -1))
			return (CALL_UP_BAD_ANSWER);
		return (CALL_ANSWERED);
	case UPSTREAM_REFUSED:
		return (CALL_UP_REFUSED);
	case UPSTREAM_TIMEOUT:
		return (CALL_UP_TIMEOUT);
	case UPSTREAM_TOOBIG:
		return (CALL_UP_TOOBIG);
	case UPSTREAM_HDRS_TOOBIG:
		return (CALL_UP_HDRS_TOOBIG);
	case UPSTREAM_FAILED:
	default:
		return (CALL_UP_FAILED);
	}
}

static void
call_answered(const struct upstream_response *res, void *arg)
{
	struct call		*c = arg;
	struct call_result	*r = &c->c_res;
	char			 detail[64];

	c->c_uc = NULL;
	r->outcome = call_map(c, res);
	if (res->result == UPSTREAM_OK)
		r->upstatus = res->status;
	if (c->c_ctx->ms != NULL && *c->c_ctx->ms != NULL)
		metrics_upstream(*c->c_ctx->ms, c->c_ep->project,
		    c->c_ep->service, sy_now() - c->c_upstart,
		    call_outcomes[r->outcome].uperr);
	if (r->outcome == CALL_ANSWERED) {
		r->status = (int)res->status;
		r->body = res->body;
		r->body_len = res->body_len;
		r->headers = res->headers;
		r->nheaders = res->nheaders;
		call_finish(c);
		return;
	}
	r->raw = res->error;
	if (r->outcome == CALL_UP_BAD_ANSWER)
		r->error = res->status < 200 || res->status > 599 ?
		    "upstream answered with an unusable status" :
		    "upstream answered with a body that is not JSON";
	if (res->error[0] == '\0') {
		/* an answer, but not one to pass on */
		snprintf(detail, sizeof(detail), "status %ld, %zu bytes",
		    res->status, res->body_len);
		r->raw = detail;
	}
	log_warnx("request %s: %s/%s/%s: %s (%s)", c->c_reqid,
	    c->c_ep->project, c->c_ep->service, c->c_ep->name, r->error != NULL ?
	    r->error : call_outcomes[r->outcome].error, r->raw);
	call_finish(c);
}

void
call_cancel(struct call *c)
{
	if (c != NULL)
		call_free(c);
}
