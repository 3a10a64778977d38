/*
 * gql_exec.c: runs one GraphQL request (gql_exec.h), read top-down:
 *   gql_exec_start  parse, normalize, shape the root, start the batches
 *   gx_batch        one call field's occurrence, all of its instances at
 *                   once: its service and endpoint, params, keys,
 *                   maxFanOut, de-duplication, maxCalls
 *   gx_pump         start queued calls, maxConcurrency at a time
 *   gx_call_done    a call's outcome mapped to a value or a field error
 *   gx_shape        a value shaped by a selection set; call fields met
 *                   on the way become instances of their occurrence
 *   gx_deliver      the response, then the one callback
 *
 * Invariants:
 * - An occurrence (a call field of the document) runs only when every
 *   instance of its nearest call ancestor has finished, so that all of
 *   its instances are known: maxFanOut counts them all, and a database
 *   field can read them in one statement.
 * - Each instance finishes exactly once: a value in its slot, or one
 *   field error.  Occurrence counts (pending) include one hold while a
 *   batch is being set up, so that none completes early.
 * - A gcall is one upstream call shared by every instance with its key
 *   (service, endpoint, canonical params); its result is kept until the
 *   request ends, so later identical instances reuse it.
 * - The callback is delivered from the deadline timer, made active at
 *   once when the request is done; freeing the request cancels calls.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "authn.h"
#include "call.h"
#include "catalog.h"
#include "endpoint.h"
#include "gql_exec.h"
#include "gql_int.h"
#include "gql_parse.h"
#include "jconf.h"
#include "jwrite.h"
#include "log.h"
#include "metrics.h"
#include "project.h"
#include "rule.h"
#include "util.h"

/* JSON values parsed from upstream bodies per request, at most */
#define GX_MAX_VALUES		500000
/* a request that parsed more gives its memory back to the system */
#define GX_TRIM_VALUES		50000

struct gcall;

/* A distinct key within one batch. */
struct gkey {
	char			*key;
	size_t			 len;
	uint32_t		 hash;
	struct json_object	*params;	/* until a gcall takes it */
	struct gcall		*gc;
	struct gkey		*next;
};

struct gcall {
	struct gql_exec		*x;
	struct gcall		*hnext;		/* x->tab bucket */
	struct gcall		*qnext;		/* the queue */
	struct gcall		*anext;		/* every gcall */
	const char		*key;
	size_t			 keylen;
	uint32_t		 hash;
	struct sy_endpoint	*ep;		/* one reference */
	double			 dir_timeout;	/* 0: none */
	struct json_object	*params;
	char			*ptext;
	struct call		*c;
	int			 state;		/* GC_* */
	int			 cut;		/* the request deadline is first */
	struct ginst		*waiters, *wtail;
	struct json_object	*value;		/* ok: the body */
	const char		*code;		/* NULL: ok */
	int			 status;
	const char		*msg;		/* arena */
	long			 upstatus;
	struct json_object	*upbody;
};

enum { GC_QUEUED, GC_RUNNING, GC_DONE };

static void	gx_batch(struct gql_exec *, struct gnode *);
static void	gx_pump(struct gql_exec *);
static struct json_object *gx_shape(struct gql_exec *, struct json_object *,
		    const struct gnode *, const struct gscope *,
		    const struct gpath *);

static uint32_t
gx_hash(const char *s, size_t n)
{
	uint32_t	h = 2166136261u;

	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return (h);
}

static void
gx_finish_soon(struct gql_exec *x)
{
	if (x->finishing)
		return;
	x->finishing = 1;
	event_active(x->timer, EV_TIMEOUT, 1);
}

static const struct gpath *
gx_path(struct gql_exec *x, const struct gpath *up, const struct gnode *n,
    size_t index)
{
	struct gpath	*p;

	if ((p = garena_alloc(&x->a, sizeof(*p))) == NULL)
		return (up);	/* an error's path is then cut short */
	p->up = up;
	p->node = n;
	p->index = index;
	p->len = up != NULL ? up->len + 1 : 1;
	return (p);
}

/* The occurrence n lost one pending instance (or its batch's hold). */
void
gql_pending_dec(struct gql_exec *x, struct gnode *n)
{
	size_t	i;

	if (--n->pending > 0)
		return;
	n->done = 1;
	for (i = 0; i < n->nocc; i++)
		gx_batch(x, n->occ[i]);
	if (--x->open_occ == 0)
		gx_finish_soon(x);
}

static void
gx_field_error(struct gql_exec *x, struct ginst *in, const char *code,
    int status, const char *msg, long upstatus, struct json_object *upbody)
{
	if (gql_err_add(&x->errs, &x->a, code, status, msg, in->node,
	    in->path) == 0) {
		x->errs.tail->upstatus = upstatus;
		x->errs.tail->upbody = json_object_get(upbody);
	}
	if (x->ctx->ms != NULL)
		metrics_gql_field_error(*x->ctx->ms, x->proj->name, code);
}

void
gql_inst_fail(struct gql_exec *x, struct ginst *in, const char *code,
    int status, const char *msg)
{
	if (in->done)
		return;
	in->done = 1;
	gx_field_error(x, in, code, status, msg, 0, NULL);
	gql_pending_dec(x, in->node);
}

void
gql_inst_value(struct gql_exec *x, struct ginst *in, struct json_object *v)
{
	if (in->done)
		return;
	in->done = 1;
	json_object_object_add(in->slot, in->node->key, gx_shape(x, v,
	    in->node, in->scope, in->path));
	gql_pending_dec(x, in->node);
}

/* The instance's call has its result: shape it, or fail with it. */
static void
gx_inst_settle(struct gql_exec *x, struct ginst *in, struct gcall *gc)
{
	struct json_object	*v;

	if (in->done)
		return;
	in->done = 1;
	if (gc->code != NULL)
		gx_field_error(x, in, gc->code, gc->status, gc->msg,
		    gc->upstatus, gc->upbody);
	else {
		v = gx_shape(x, gc->value, in->node, in->scope, in->path);
		json_object_object_add(in->slot, in->node->key, v);
	}
	gql_pending_dec(x, in->node);
}

static void
gx_call_settle(struct gcall *gc)
{
	struct gql_exec	*x = gc->x;
	struct ginst	*in, *next;

	gc->state = GC_DONE;
	for (in = gc->waiters; in != NULL; in = next) {
		next = in->wnext;
		gx_inst_settle(x, in, gc);
	}
	gc->waiters = gc->wtail = NULL;
}

static void
gx_call_fail(struct gcall *gc, const char *code, int status, const char *msg)
{
	gc->code = code;
	gc->status = status;
	if ((gc->msg = garena_strdup(&gc->x->a, msg)) == NULL)
		gc->msg = "out of memory";
	gx_call_settle(gc);
}

/* A new instance of call field n, to be filled into slot's n->key. */
static void
gx_inst_new(struct gql_exec *x, struct gnode *n, struct json_object *slot,
    const struct gpath *path, const struct gscope *sc)
{
	struct ginst	*in;

	json_object_object_add(slot, n->key, NULL);
	if ((in = garena_alloc(&x->a, sizeof(*in))) == NULL)
		return;		/* stays null; the request ends short */
	in->node = n;
	in->slot = slot;
	in->path = path;
	in->scope = sc;
	if (n->insts_tail != NULL)
		n->insts_tail->next = in;
	else
		n->insts = in;
	n->insts_tail = in;
	n->ninsts++;
}

static struct json_object *
gx_typename(const char *name)
{
	struct json_object	*s;
	char			*t;

	if ((t = strdup(name)) == NULL)
		return (NULL);
	if (t[0] >= 'a' && t[0] <= 'z')
		t[0] = (char)(t[0] - 'a' + 'A');
	s = json_object_new_string(t);
	free(t);
	return (s);
}

static struct json_object *
gx_shape_object(struct gql_exec *x, struct json_object *v,
    const struct gnode *n, const struct gscope *sc, const struct gpath *path)
{
	struct json_object	*out, *m;
	struct gscope		*me;
	const struct gnode	*k;
	size_t			 i;

	if ((out = json_object_new_object()) == NULL)
		return (NULL);
	if (n->calls_below && (me = garena_alloc(&x->a, sizeof(*me))) !=
	    NULL) {
		me->up = sc;
		me->key = n->key;
		me->val = v;
		sc = me;
	}
	for (i = 0; i < n->nkids; i++) {
		k = n->kids[i];
		switch (k->kind) {
		case GN_TYPENAME:
			json_object_object_add(out, k->key,
			    gx_typename(n->name));
			break;
		case GN_CALL:
			gx_inst_new(x, (struct gnode *)k, out,
			    gx_path(x, path, k, 0), sc);
			break;
		default:
			if (!json_object_object_get_ex(v, k->name, &m))
				m = NULL;
			json_object_object_add(out, k->key, gx_shape(x, m, k,
			    sc, k->calls_below ? gx_path(x, path, k, 0) :
			    path));
			break;
		}
	}
	return (out);
}

static struct json_object *
gx_shape(struct gql_exec *x, struct json_object *v, const struct gnode *n,
    const struct gscope *sc, const struct gpath *path)
{
	struct json_object	*out;
	size_t			 i, len;

	if (!n->has_sel || v == NULL)
		return (json_object_get(v));
	if (json_object_is_type(v, json_type_object))
		return (gx_shape_object(x, v, n, sc, path));
	if (!json_object_is_type(v, json_type_array))
		return (json_object_get(v));
	len = json_object_array_length(v);
	if ((out = json_object_new_array_ext((int)len)) == NULL)
		return (NULL);
	for (i = 0; i < len; i++)
		json_object_array_add(out, gx_shape(x,
		    json_object_array_get_idx(v, i), n, sc, n->calls_below ?
		    gx_path(x, path, NULL, i) : path));
	return (out);
}

/* The principal, verified at most once per request. */
int
gql_who(struct gql_exec *x)
{
	if (x->who_state == 0)
		x->who_state = authn_verify(x->authn, x->proj,
		    x->authorization, &x->who, &x->who_why) == AUTHN_OK ? 1 : 2;
	return (x->who_state == 1 ? 0 : -1);
}

static void	gx_call_done(const struct call_result *, void *);

static void
gx_start(struct gcall *gc)
{
	struct gql_exec	*x = gc->x;
	struct call_in	 ci;
	double		 now = sy_now(), left, lim;

	left = x->deadline - now;
	if (left <= 0) {
		gx_call_fail(gc, "TIMEOUT", 504, "the request deadline passed "
		    "before the field finished");
		return;
	}
	lim = gc->ep->timeout;
	if (gc->dir_timeout > 0 && gc->dir_timeout < lim)
		lim = gc->dir_timeout;
	if (left < lim) {
		gc->cut = 1;
		lim = left;
	}
	if (rule_needs_token(gc->ep->rule) && gql_who(x) == -1) {
		gx_call_fail(gc, "UNAUTHENTICATED", 401, x->who_why != NULL ?
		    x->who_why : "this endpoint needs a bearer token");
		return;
	}
	gc->ptext = garena_strdup(&x->a, json_object_to_json_string_ext(
	    gc->params, JWRITE_FLAGS));
	memset(&ci, 0, sizeof(ci));
	ci.ep = gc->ep;
	ci.proj = x->proj;
	ci.params = gc->ptext;
	ci.params_len = gc->ptext != NULL ? strlen(gc->ptext) : 0;
	ci.who = x->who_state == 1 ? &x->who : NULL;
	ci.deadline = now + lim;
	ci.reqid = x->reqid;
	ci.header = x->header;
	ci.header_arg = x->header_arg;
	if (gc->ptext == NULL ||
	    (gc->c = call_start(x->ctx, &ci, gx_call_done, gc)) == NULL) {
		gx_call_fail(gc, "UPSTREAM_ERROR", 502, "out of memory");
		return;
	}
	gc->state = GC_RUNNING;
	x->running++;
}

static void
gx_pump(struct gql_exec *x)
{
	struct gcall	*gc;

	while (x->qhead != NULL && !x->finishing &&
	    x->running < (size_t)x->proj->gql.max_concurrency) {
		gc = x->qhead;
		if ((x->qhead = gc->qnext) == NULL)
			x->qtail = NULL;
		gx_start(gc);
	}
}

/* Parse an upstream body within the request's budget of values. */
static int
gx_parse(struct gql_exec *x, const char *b, size_t len,
    struct json_object **out)
{
	size_t			 i, n = 1;
	int			 instr = 0;

	*out = NULL;
	if (len == 0)
		return (0);
	for (i = 0; i < len; i++) {	/* values, near enough: , [ { */
		if (instr) {
			if (b[i] == '\\')
				i++;
			else if (b[i] == '"')
				instr = 0;
		} else if (b[i] == '"')
			instr = 1;
		else if (b[i] == ',' || b[i] == '[' || b[i] == '{')
			n++;
	}
	if ((x->nvalues += n) > GX_MAX_VALUES)
		return (-2);
	return (jconf_parse(b, len, out));
}

static void
gx_answered(struct gcall *gc, const struct call_result *res)
{
	struct gql_exec	*x = gc->x;
	char		 msg[128];
	int		 r;

	if (res->status >= 200 && res->status < 300) {
		if ((r = gx_parse(x, res->body, res->body_len, &gc->value)) ==
		    0)
			gx_call_settle(gc);
		else
			gx_call_fail(gc, "UPSTREAM_ERROR", 502, r == -2 ?
			    "the upstream bodies of this request hold too many "
			    "JSON values" : "upstream answered with a body that "
			    "is not JSON");
		return;
	}
	gc->upstatus = res->status;
	if (gx_parse(x, res->body, res->body_len, &gc->upbody) != 0)
		gc->upbody = NULL;
	snprintf(msg, sizeof(msg), "upstream answered with status %d",
	    res->status);
	gx_call_fail(gc, "UPSTREAM_STATUS", 502, msg);
}

static void
gx_call_done(const struct call_result *res, void *arg)
{
	struct gcall	*gc = arg;
	struct gql_exec	*x = gc->x;
	const char	*msg = res->error != NULL ? res->error : "call failed";

	gc->c = NULL;
	x->running--;
	if (x->ctx->ms != NULL)
		metrics_request(*x->ctx->ms, gc->ep->project, gc->ep->service,
		    gc->ep->name, res->status);
	switch (res->outcome) {
	case CALL_ANSWERED:
		gx_answered(gc, res);
		break;
	case CALL_BAD_REQUEST:
		gx_call_fail(gc, "BAD_USER_INPUT", 400, msg);
		break;
	case CALL_UNAUTHENTICATED:
		gx_call_fail(gc, "UNAUTHENTICATED", 401, msg);
		break;
	case CALL_FORBIDDEN:
		gx_call_fail(gc, "FORBIDDEN", 403, msg);
		break;
	case CALL_DEADLINE:
	case CALL_UP_TIMEOUT:
		if (gc->cut)
			gx_call_fail(gc, "TIMEOUT", 504, "the request deadline "
			    "passed before the field finished");
		else
			gx_call_fail(gc, "UPSTREAM_TIMEOUT", 504, msg);
		break;
	default:
		gx_call_fail(gc, "UPSTREAM_ERROR", 502, msg);
		break;
	}
	gx_pump(x);
}

/* The source of occurrence n: its endpoint, or a field error for all. */
static struct sy_endpoint *
gx_source(struct gql_exec *x, struct gnode *n, double *tmo,
    const char **code, int *status, char *msg, size_t msglen)
{
	const struct gql_directive	*d = n->src;
	const struct gql_arg		*a;
	struct json_object		*v = NULL;
	struct sy_endpoint		*ep;
	const char			*func = n->name, *why;
	int				 r;

	*tmo = 0;
	*code = "BAD_USER_INPUT";
	*status = 400;
	if (strcmp(d->name, "template") == 0) {
		*code = "NOT_SUPPORTED";
		snprintf(msg, msglen, "@template is not supported");
		return (NULL);
	}
	if ((a = gql_arg_find(d->args, "func")) != NULL) {
		r = gql_value_json(a->value, NULL, x->op.vars, &v, &why);
		if (r == 1 && (a->value->kind == GQL_VAL_STRING ||
		    a->value->kind == GQL_VAL_VARIABLE) &&
		    json_object_is_type(v, json_type_string))
			func = garena_strdup(&x->a, json_object_get_string(v));
		else if (r != 0 || a->value->kind != GQL_VAL_VARIABLE)
			func = NULL;
		json_object_put(v);
		if (func == NULL) {
			snprintf(msg, msglen, "@%s: func must be a String",
			    d->name);
			return (NULL);
		}
	}
	if ((a = gql_arg_find(d->args, "timeout")) != NULL) {
		v = NULL;
		r = gql_value_json(a->value, NULL, x->op.vars, &v, &why);
		if (r == 1 && (json_object_is_type(v, json_type_int) ||
		    json_object_is_type(v, json_type_double)) &&
		    json_object_get_double(v) > 0)
			*tmo = json_object_get_double(v);
		else if (r != 0 || a->value->kind != GQL_VAL_VARIABLE) {
			json_object_put(v);
			snprintf(msg, msglen, "@%s: timeout must be a number of "
			    "seconds greater than 0", d->name);
			return (NULL);
		}
		json_object_put(v);
	}
	*code = "NOT_FOUND";
	*status = 404;
	switch (catalog_lookup(x->cat, x->proj->name, d->name, func, &ep,
	    NULL)) {
	case CATALOG_OK:
		return (ep);
	case CATALOG_NO_ENDPOINT:
		snprintf(msg, msglen, "service %s has no endpoint \"%s\"",
		    d->name, func);
		return (NULL);
	case CATALOG_ERROR:
		*code = "UPSTREAM_ERROR";
		*status = 502;
		snprintf(msg, msglen, "registry lookup failed");
		return (NULL);
	default:
		snprintf(msg, msglen, "@%s names no service or database of "
		    "project %s", d->name, x->proj->name);
		return (NULL);
	}
}

/* Pass 1 of a batch: each instance's params and key.  The distinct keys. */
static size_t
gx_keys(struct gql_exec *x, struct gnode *n, struct sy_endpoint *ep,
    struct gkey **tab, size_t nb, int *over)
{
	struct ginst		*in;
	struct gkey		*k;
	struct json_object	*params;
	struct sybuf		 b;
	size_t			 distinct = 0;
	uint32_t		 h;

	sybuf_init(&b);
	*over = 0;
	for (in = n->insts; in != NULL; in = in->next) {
		if (gql_args_json(n->args, in->scope, x->op.vars, &params,
		    &in->err) == -1)
			continue;
		sybuf_reset(&b);
		if (params == NULL || sybuf_addstr(&b, ep->service) == -1 ||
		    sybuf_addc(&b, '\0') == -1 ||
		    sybuf_addstr(&b, ep->name) == -1 ||
		    sybuf_addc(&b, '\0') == -1 || gql_canon(&b, params) == -1) {
			json_object_put(params);
			in->err = "out of memory";
			continue;
		}
		h = gx_hash(b.data, b.len);
		for (k = tab[h % nb]; k != NULL; k = k->next)
			if (k->hash == h && k->len == b.len &&
			    memcmp(k->key, b.data, b.len) == 0)
				break;
		if (k != NULL) {
			json_object_put(params);
			in->key = k;
			continue;
		}
		if (++distinct > (size_t)x->proj->gql.max_fanout) {
			json_object_put(params);
			*over = 1;
			break;
		}
		if ((k = garena_alloc(&x->a, sizeof(*k))) == NULL ||
		    (k->key = garena_alloc(&x->a, b.len)) == NULL) {
			json_object_put(params);
			in->err = "out of memory";
			continue;
		}
		memcpy(k->key, b.data, b.len);
		k->len = b.len;
		k->hash = h;
		k->params = params;
		k->next = tab[h % nb];
		tab[h % nb] = k;
		in->key = k;
	}
	sybuf_free(&b);
	return (distinct);
}

/* The gcall of key k: shared, new (within maxCalls), or NULL. */
static struct gcall *
gx_call_of(struct gql_exec *x, struct gkey *k, struct sy_endpoint *ep,
    double tmo)
{
	struct gcall	*gc;
	size_t		 b = k->hash % GX_BUCKETS;

	if (k->gc != NULL)
		return (k->gc);
	for (gc = x->tab[b]; gc != NULL; gc = gc->hnext)
		if (gc->hash == k->hash && gc->keylen == k->len &&
		    memcmp(gc->key, k->key, k->len) == 0)
			return (k->gc = gc);
	if (x->ncalls >= (size_t)x->proj->gql.max_calls ||
	    (gc = garena_alloc(&x->a, sizeof(*gc))) == NULL)
		return (NULL);
	x->ncalls++;
	gc->x = x;
	gc->key = k->key;
	gc->keylen = k->len;
	gc->hash = k->hash;
	gc->ep = endpoint_ref(ep);
	gc->dir_timeout = tmo;
	gc->params = k->params;
	k->params = NULL;
	gc->hnext = x->tab[b];
	x->tab[b] = gc;
	gc->anext = x->all;
	x->all = gc;
	if (x->qtail != NULL)
		x->qtail->qnext = gc;
	else
		x->qhead = gc;
	x->qtail = gc;
	return (k->gc = gc);
}

static void
gx_attach(struct gql_exec *x, struct ginst *in, struct sy_endpoint *ep,
    double tmo)
{
	struct gcall	*gc;

	if (in->err != NULL) {
		gql_inst_fail(x, in, "BAD_USER_INPUT", 400, in->err);
		return;
	}
	if ((gc = gx_call_of(x, in->key, ep, tmo)) == NULL) {
		gql_inst_fail(x, in, "LIMIT_EXCEEDED", 400, "the request "
		    "reached maxCalls: this call was not made");
		return;
	}
	if (gc->state == GC_DONE) {
		gx_inst_settle(x, in, gc);
		return;
	}
	if (gc->wtail != NULL)
		gc->wtail->wnext = in;
	else
		gc->waiters = in;
	gc->wtail = in;
}

static void
gx_batch(struct gql_exec *x, struct gnode *n)
{
	struct sy_endpoint	*ep;
	struct ginst		*in;
	struct gkey		**tab, *k;
	const char		*code;
	char			 msg[256];
	double			 tmo;
	size_t			 nb, i;
	int			 status, over;

	n->pending = n->ninsts + 1;
	if (n->ninsts == 0 || x->finishing) {
		gql_pending_dec(x, n);
		return;
	}
	if (gql_db_batch(x, n) == 0)
		return;
	if ((ep = gx_source(x, n, &tmo, &code, &status, msg,
	    sizeof(msg))) == NULL) {
		for (in = n->insts; in != NULL; in = in->next)
			gql_inst_fail(x, in, code, status, msg);
		gql_pending_dec(x, n);
		return;
	}
	nb = (size_t)x->proj->gql.max_fanout * 2 + 1;
	if ((tab = calloc(nb, sizeof(*tab))) == NULL)
		over = -1;
	else
		gx_keys(x, n, ep, tab, nb, &over);
	for (in = n->insts; in != NULL; in = in->next)
		if (over == -1)
			gql_inst_fail(x, in, "UPSTREAM_ERROR", 502,
			    "out of memory");
		else if (over)
			gql_inst_fail(x, in, "LIMIT_EXCEEDED", 400, "this "
			    "field would make more distinct calls than "
			    "maxFanOut");
		else
			gx_attach(x, in, ep, tmo);
	for (i = 0; tab != NULL && i < nb; i++)
		for (k = tab[i]; k != NULL; k = k->next)
			json_object_put(k->params);
	free(tab);
	endpoint_unref(ep);
	gql_pending_dec(x, n);
	gx_pump(x);
}

/* Every instance that has not finished fails with TIMEOUT. */
static void
gx_timeout_all(struct gql_exec *x, struct gnode *n)
{
	struct ginst	*in;
	size_t		 i;

	for (i = 0; i < n->nkids; i++)
		gx_timeout_all(x, n->kids[i]);
	if (n->kind != GN_CALL)
		return;
	for (in = n->insts; in != NULL; in = in->next)
		if (!in->done) {
			in->done = 1;
			gx_field_error(x, in, "TIMEOUT", 504, "the request "
			    "deadline passed before the field finished", 0,
			    NULL);
		}
}

static void
gx_cancel_all(struct gql_exec *x)
{
	struct gcall	*gc;

	for (gc = x->all; gc != NULL; gc = gc->anext)
		if (gc->c != NULL) {
			call_cancel(gc->c);
			gc->c = NULL;
		}
	x->running = 0;
	x->qhead = x->qtail = NULL;
	gql_db_cancel(x);
}

static void
gx_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct gql_exec		*x = arg;
	struct gql_exec_result	 r;
	int			 rc;

	(void)fd;
	(void)what;
	x->finishing = 1;
	memset(&r, 0, sizeof(r));
	if (x->has_reqerr) {
		r.request_error = 1;
		rc = gql_out_reqerr(&x->out, &x->reqerr);
	} else {
		if (x->open_occ > 0)
			gx_timeout_all(x, x->op.root);
		gx_cancel_all(x);
		rc = gql_out_write(&x->out, x->data, &x->errs);
	}
	if (rc == -1) {
		sybuf_reset(&x->out);
		sybuf_addstr(&x->out, "{\"errors\":[{\"message\":\"out of "
		    "memory\",\"extensions\":{\"code\":\"INTERNAL\"}}]}");
		r.request_error = 1;
	}
	r.body = x->out.data;
	r.len = x->out.len;
	r.calls = x->ncalls - x->nstmts;
	r.statements = x->nstmts;
	r.field_errors = x->errs.n;
	x->cb(&r, x->arg);
}

/* The root fields; call fields become the first instances. */
static void
gx_root(struct gql_exec *x)
{
	struct gnode	*root = x->op.root, *k;
	struct ginst	 fake;
	char		 msg[GQL_ERR_MAX];
	size_t		 i;

	for (i = 0; i < root->nkids; i++) {
		k = root->kids[i];
		switch (k->kind) {
		case GN_TYPENAME:
			json_object_object_add(x->data, k->key,
			    json_object_new_string("Query"));
			break;
		case GN_CALL:
			gx_inst_new(x, k, x->data, gx_path(x, NULL, k, 0),
			    NULL);
			break;
		default:
			json_object_object_add(x->data, k->key, NULL);
			memset(&fake, 0, sizeof(fake));
			fake.node = k;
			fake.path = gx_path(x, NULL, k, 0);
			if (k->kind == GN_INTROSPECT)
				gx_field_error(x, &fake, "NOT_SUPPORTED", 400,
				    "introspection is not supported: there is "
				    "no schema", 0, NULL);
			else {
				snprintf(msg, sizeof(msg), "field %s has no "
				    "service or database directive", k->name);
				gx_field_error(x, &fake, "BAD_USER_INPUT", 400,
				    msg, 0, NULL);
			}
			break;
		}
	}
}

static size_t
gx_count_calls(const struct gnode *n)
{
	size_t	i, c = n->kind == GN_CALL;

	for (i = 0; i < n->nkids; i++)
		c += gx_count_calls(n->kids[i]);
	return (c);
}

/* Parse and normalize: 0, or -1 with the request error set. */
static int
gx_prepare(struct gql_exec *x, const struct gql_exec_in *in)
{
	struct gql_limits	lim;
	struct gql_error	perr;
	struct gnorm_limits	nl;

	memset(&lim, 0, sizeof(lim));
	lim.max_bytes = in->max_doc;
	if ((x->doc = gql_parse(in->query, in->query_len, &lim, &perr)) ==
	    NULL) {
		x->reqerr.code = "GRAPHQL_PARSE_FAILED";
		snprintf(x->reqerr.msg, sizeof(x->reqerr.msg), "%s", perr.msg);
		x->reqerr.loc = perr.loc;
		return (-1);
	}
	nl.max_depth = x->proj->gql.max_depth;
	nl.max_fields = x->proj->gql.max_fields;
	return (gql_norm(x->doc, in->opname, x->vars, &nl, &x->a, &x->op,
	    &x->reqerr));
}

struct gql_exec *
gql_exec_start(struct call_ctx *ctx, const struct gql_exec_in *in,
    gql_exec_cb cb, void *arg)
{
	struct gql_exec	*x;
	struct timeval	 tv;
	double		 left;
	size_t		 i;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return (NULL);
	x->ctx = ctx;
	x->cat = in->cat;
	x->authn = in->authn;
	x->proj = project_ref(in->proj);
	x->authorization = in->authorization;
	snprintf(x->reqid, sizeof(x->reqid), "%s", in->reqid);
	x->header = in->header;
	x->header_arg = in->header_arg;
	x->vars = json_object_get(in->variables);
	x->cb = cb;
	x->arg = arg;
	x->deadline = in->start + x->proj->gql.timeout;
	sybuf_init(&x->out);
	if ((x->timer = evtimer_new(ctx->base, gx_deliver, x)) == NULL) {
		gql_exec_free(x);
		return (NULL);
	}
	if (gx_prepare(x, in) == -1) {
		x->has_reqerr = 1;
		gx_finish_soon(x);
		return (x);
	}
	if ((x->data = json_object_new_object()) == NULL) {
		gql_exec_free(x);
		return (NULL);
	}
	authn_want_keys(x->authn, x->proj);
	left = x->deadline - sy_now();
	if (left < 0)
		left = 0;
	tv.tv_sec = (time_t)left;
	tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
	evtimer_add(x->timer, &tv);
	gx_root(x);
	x->open_occ = gx_count_calls(x->op.root) + 1;
	for (i = 0; i < x->op.root->nocc; i++)
		gx_batch(x, x->op.root->occ[i]);
	if (--x->open_occ == 0)
		gx_finish_soon(x);
	return (x);
}

void
gql_exec_free(struct gql_exec *x)
{
	struct gcall	*gc;

	if (x == NULL)
		return;
	for (gc = x->all; gc != NULL; gc = gc->anext) {
		call_cancel(gc->c);
		endpoint_unref(gc->ep);
		json_object_put(gc->params);
		json_object_put(gc->value);
		json_object_put(gc->upbody);
	}
	gql_db_free(x);
	if (x->timer != NULL)
		event_free(x->timer);
	gql_errs_free(&x->errs);
	json_object_put(x->data);
	json_object_put(x->op.vars);
	json_object_put(x->vars);
	gql_doc_free(x->doc);
	if (x->who_state == 1)
		principal_clear(&x->who);
	project_unref(x->proj);
	garena_free(&x->a);
	sybuf_free(&x->out);
	if (x->nvalues > GX_TRIM_VALUES)
		malloc_trim(0);
	free(x);
}
