/*
 * gql_db.c: database fields of a GraphQL request (SPEC 8.10, 8.6): one
 * occurrence, all of its instances at once, read with one db_read (db.c
 * splits it into statements of batchSize argument sets).
 *
 *   gql_db_batch   the directive names a database alias: table, each
 *                  instance's arguments resolved and checked, identical
 *                  sets merged, the token the rule needs, then (after
 *                  webhooks) the read rule per distinct set, maxCalls,
 *                  and one read
 *   gdb_hooks      the read rule's webhooks, per distinct set, before
 *                  gdb_go evaluates the rules and starts the read
 *   gdb_answer     a part of the read's answer kept per set; at the end
 *                  every instance gets its rows (shaped by gql_exec.c,
 *                  which also makes nested fields instances) or its error
 *
 * Invariants:
 * - The read rows carry every exposed column (db_read's check_select), so
 *   a reference to the row sees columns that are not selected (8.4).
 * - A gdbread holds a reference on its database until the request is
 *   freed, never less: a reload may replace the database meanwhile, and
 *   it must not be freed from its own callback.
 * - Every instance is settled exactly once, by gql_inst_fail or
 *   gql_inst_value; the batch's hold is released after the instances
 *   that fail before the read, so the occurrence cannot finish early.
 * - maxCalls is charged before the read, ceil(sets / batchSize) statements
 *   (8.8); sets beyond the budget fail with LIMIT_EXCEEDED and are not
 *   read.  result.statements counts the statements that ran.
 * - A read rule's webhooks are called once per webhook and distinct set,
 *   POSTing {"auth","find","op","opts","token"} (section 6 with the read
 *   state in place of params), within their timeout and the request's
 *   deadline; like call.c's, they do not count against maxCalls.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "call.h"
#include "config.h"
#include "db.h"
#include "dbcache.h"
#include "gql_int.h"
#include "jscan.h"
#include "metrics.h"
#include "project.h"
#include "rule.h"
#include "upreq.h"
#include "upstream.h"
#include "util.h"

/* a read rule's webhook answer, at most (as call.c's) */
#define GDB_HOOK_MAX	(1024 * 1024)

/* One distinct argument set of an occurrence. */
struct gdbset {
	struct json_object	*args;		/* resolved, owned */
	struct dbsql_args	 a;		/* borrowed from args */
	struct sybuf		 key;		/* canonical args */
	const char		*code;		/* NULL: ok (so far) */
	int			 status;
	const char		*msg;		/* arena */
	struct json_object	*rows;		/* one reference */
	int			 one;		/* op "one" */
	int			*hook_ok;	/* per webhook of the rule */
};

/* One webhook call of a set's read rule. */
struct gdbhook {
	struct gdbread		*r;
	struct gdbset		*s;
	size_t			 i;		/* the rule's webhook */
	struct upstream_call	*uc;		/* NULL: done or not made */
	int			 cut;	/* the request deadline is first */
};

/* One occurrence's read. */
struct gdbread {
	struct gql_exec		*x;
	struct gnode		*n;
	struct dbcache_db	*d;		/* one reference */
	struct db_req		*req;		/* NULL: done or cancelled */
	const char		*alias;
	struct gdbset		*sets;
	size_t			 nsets;
	size_t			*inst;		/* instance -> set, or -1 */
	size_t			*rd;		/* read arg -> set */
	const char		*table;
	const struct rule	*rule;
	struct gdbhook		*hooks;		/* the rule's webhooks */
	size_t			 nhooks;
	size_t			 hpending;	/* still running */
	struct gdbread		*next;
};

#define GDB_NOSET	((size_t)-1)

static void
gdb_setfail(struct gql_exec *x, struct gdbset *s, const char *code,
    int status, const char *msg)
{
	if (s->code != NULL)
		return;
	s->code = code;
	s->status = status;
	if ((s->msg = garena_strdup(&x->a, msg)) == NULL)
		s->msg = "out of memory";
}

static int
gdb_status(enum db_code c)
{
	switch (c) {
	case DB_NOT_FOUND:
		return (404);
	case DB_DATABASE_ERROR:
		return (502);
	default:
		return (400);
	}
}

/* The table: the directive's col, else the field name; NULL: bad col. */
static const char *
gdb_table(struct gql_exec *x, struct gnode *n)
{
	const struct gql_arg	*a;
	struct json_object	*v = NULL;
	const char		*t = n->name, *why;

	if ((a = gql_arg_find(n->src->args, "col")) == NULL)
		return (t);
	t = NULL;
	if (gql_value_json(a->value, NULL, x->op.vars, &v, &why) == 1 &&
	    (a->value->kind == GQL_VAL_STRING ||
	    a->value->kind == GQL_VAL_VARIABLE) &&
	    json_object_is_type(v, json_type_string))
		t = garena_strdup(&x->a, json_object_get_string(v));
	json_object_put(v);
	return (t);
}

/* Check an instance's argument names; 0, or -1 with *code and msg. */
static int
gdb_argnames(struct json_object *args, const char **code, char *msg,
    size_t msglen)
{
	static const char *const known[] = { "where", "sort", "limit",
		"skip", "op" };
	static const char *const unsupported[] = { "group", "distinct",
		"join", "aggregate" };
	size_t	 i;

	json_object_object_foreach(args, k, v) {
		(void)v;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(k, known[i]) == 0)
				break;
		if (i < sizeof(known) / sizeof(known[0]))
			continue;
		for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]);
		    i++)
			if (strcmp(k, unsupported[i]) == 0) {
				*code = "NOT_SUPPORTED";
				snprintf(msg, msglen, "argument %.64s of a "
				    "database field is not supported", k);
				return (-1);
			}
		*code = "BAD_USER_INPUT";
		snprintf(msg, msglen, "unknown argument %.64s of a database "
		    "field", k);
		return (-1);
	}
	return (0);
}

/* The set of this args (taken over): an existing or a new one. */
static size_t
gdb_set_of(struct gdbread *r, struct json_object *args, size_t cap)
{
	struct gdbset	*s;
	struct sybuf	 b;
	size_t		 i;

	sybuf_init(&b);
	if (gql_canon(&b, args) == -1) {
		sybuf_free(&b);
		json_object_put(args);
		return (GDB_NOSET);
	}
	for (i = 0; i < r->nsets; i++)
		if (r->sets[i].key.len == b.len &&
		    memcmp(r->sets[i].key.data, b.data, b.len) == 0) {
			sybuf_free(&b);
			json_object_put(args);
			return (i);
		}
	if (r->nsets == cap) {
		sybuf_free(&b);
		json_object_put(args);
		return (GDB_NOSET);
	}
	s = &r->sets[r->nsets];
	s->args = args;
	s->key = b;
	json_object_object_get_ex(args, "where", &s->a.where);
	json_object_object_get_ex(args, "sort", &s->a.sort);
	json_object_object_get_ex(args, "limit", &s->a.limit);
	json_object_object_get_ex(args, "skip", &s->a.skip);
	json_object_object_get_ex(args, "op", &s->a.op);
	s->one = s->a.op != NULL && json_object_is_type(s->a.op,
	    json_type_string) && strcmp(json_object_get_string(s->a.op),
	    "one") == 0;
	return (r->nsets++);
}

/* Pass 1: each instance's arguments and set; failures are settled. */
static void
gdb_sets(struct gql_exec *x, struct gdbread *r)
{
	struct ginst		*in;
	struct json_object	*args;
	const char		*why, *code;
	char			 msg[160];
	size_t			 i;

	for (in = r->n->insts, i = 0; in != NULL; in = in->next, i++) {
		r->inst[i] = GDB_NOSET;
		if (gql_args_json(r->n->args, in->scope, x->op.vars, &args,
		    &why) == -1) {
			gql_inst_fail(x, in, "BAD_USER_INPUT", 400, why);
			continue;
		}
		if (args == NULL) {
			gql_inst_fail(x, in, "DATABASE_ERROR", 502,
			    "out of memory");
			continue;
		}
		if (gdb_argnames(args, &code, msg, sizeof(msg)) == -1) {
			json_object_put(args);
			gql_inst_fail(x, in, code, 400, msg);
			continue;
		}
		if ((r->inst[i] = gdb_set_of(r, args, r->n->ninsts)) ==
		    GDB_NOSET)
			gql_inst_fail(x, in, "DATABASE_ERROR", 502,
			    "out of memory");
	}
}

static double
gdb_wall_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Space Cloud's read-rule state of set s: {"find","op","opts"}. */
static struct json_object *
gdb_state(const struct gdbset *s)
{
	struct json_object	*st, *opts;

	if ((st = json_object_new_object()) == NULL ||
	    (opts = json_object_new_object()) == NULL) {
		json_object_put(st);
		return (NULL);
	}
	json_object_object_add(st, "find", s->a.where != NULL ?
	    json_object_get(s->a.where) : json_object_new_object());
	json_object_object_add(st, "op", s->a.op != NULL ?
	    json_object_get(s->a.op) : json_object_new_string("all"));
	if (s->a.limit != NULL)
		json_object_object_add(opts, "limit",
		    json_object_get(s->a.limit));
	if (s->a.skip != NULL)
		json_object_object_add(opts, "skip",
		    json_object_get(s->a.skip));
	json_object_object_add(st, "opts", opts);
	return (st);
}

/*
 * Before the read rule of set s (SPEC 8.10): no rule denies, and a rule
 * other than allow needs a verified token.
 */
static void
gdb_auth(struct gql_exec *x, struct gdbset *s, const struct rule *rule,
    const char *table)
{
	char	 msg[160];

	if ((rule == NULL || rule_needs_token(rule)) && gql_who(x) == -1) {
		snprintf(msg, sizeof(msg), "reading table %.64s needs a bearer "
		    "token", table);
		gdb_setfail(x, s, "UNAUTHENTICATED", 401, x->who_why != NULL ?
		    x->who_why : msg);
	} else if (rule == NULL) {
		snprintf(msg, sizeof(msg), "table %.64s has no read rule: "
		    "every read is denied", table);
		gdb_setfail(x, s, "FORBIDDEN", 403, msg);
	}
}

/* The read rule for set s, its webhooks (if any) having answered. */
static void
gdb_eval(struct gql_exec *x, struct gdbset *s, const struct rule *rule)
{
	struct rule_env		 env;
	const struct rule_webhook *wh;
	const char		*err = NULL;

	memset(&env, 0, sizeof(env));
	env.auth = x->who_state == 1 ? x->who.claims : NULL;
	env.token = x->who_state == 1 ? x->who.token : NULL;
	env.now = gdb_wall_now();
	env.webhook_ok = s->hook_ok;
	env.nwebhooks = s->hook_ok != NULL ? rule_webhooks(rule, &wh) : 0;
	if ((env.read = gdb_state(s)) == NULL)
		gdb_setfail(x, s, "DATABASE_ERROR", 502, "out of memory");
	else if (rule_eval(rule, &env, &err) != RULE_PASS)
		gdb_setfail(x, s, "FORBIDDEN", 403, err != NULL ? err :
		    "the read rule denies this read");
	json_object_put(env.read);
	json_object_put(env.params);
}

/* The webhook body of set s: {"auth","find","op","opts","token"}. */
static char *
gdb_hook_body(struct gql_exec *x, const struct gdbset *s)
{
	struct json_object	*o;
	char			*b = NULL;

	if ((o = gdb_state(s)) == NULL)
		return (NULL);
	json_object_object_add(o, "auth", x->who_state == 1 ?
	    json_object_get(x->who.claims) : json_object_new_object());
	json_object_object_add(o, "token", json_object_new_string_len(
	    x->who_state == 1 ? x->who.token : "", x->who_state == 1 ?
	    (int)x->who.tokenlen : 0));
	b = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return (b);
}

static void	gdb_go(struct gql_exec *, struct gdbread *);

static void
gdb_hook_done(const struct upstream_response *res, void *arg)
{
	struct gdbhook	*h = arg;
	struct gdbread	*r = h->r;

	h->uc = NULL;
	h->s->hook_ok[h->i] = res->result == UPSTREAM_OK &&
	    res->status >= 200 && res->status < 300 &&
	    jscan_validate(res->body, res->body_len) == 0;
	if (h->cut && res->result == UPSTREAM_TIMEOUT)	/* as call.c */
		gdb_setfail(r->x, h->s, "TIMEOUT", 504, "the request deadline "
		    "passed before the field finished");
	if (--r->hpending == 0)
		gdb_go(r->x, r);
}

/* Start webhook i (wh) of the rule for set s, each within its timeout
   and the time the request has left; a call not made fails. */
static void
gdb_hook_start(struct gql_exec *x, struct gdbread *r, struct gdbset *s,
    const struct rule_webhook *wh, size_t i, const char *body)
{
	struct upstream_request	 rq;
	struct gdbhook		*h = &r->hooks[r->nhooks++];
	const char		*hdrs[2];
	char			 rid[GX_REQID_MAX + 16];
	double			 left = x->deadline - sy_now();

	h->r = r;
	h->s = s;
	h->i = i;
	upreq_webhook(&rq, hdrs, rid, sizeof(rid), x->reqid, body,
	    GDB_HOOK_MAX, x->ctx->srv->max_header_bytes);
	rq.url = wh->url;
	h->cut = left <= wh->timeout;
	rq.timeout_ms = (long)((h->cut ? left : wh->timeout) * 1000.0);
	if (rq.timeout_ms > 0 && (h->uc = upstream_start(x->ctx->up, &rq,
	    gdb_hook_done, h)) != NULL)
		r->hpending++;
}

/*
 * Start the webhooks of the rule for every set still standing (one call
 * per webhook and distinct set); the number started.  The sets are read
 * once the last has answered (gdb_go).
 */
static size_t
gdb_hooks(struct gql_exec *x, struct gdbread *r)
{
	const struct rule_webhook	*wh;
	struct gdbset			*s;
	char				*body;
	size_t				 i, k, n;

	if (r->rule == NULL || (n = rule_webhooks(r->rule, &wh)) == 0)
		return (0);
	if ((r->hooks = garena_alloc(&x->a, (r->nsets * n + 1) *
	    sizeof(*r->hooks))) == NULL)
		return (0);
	r->hpending = 1;	/* a hold while they start */
	for (k = 0; k < r->nsets; k++) {
		s = &r->sets[k];
		if (s->code != NULL)
			continue;
		s->hook_ok = garena_alloc(&x->a, n * sizeof(*s->hook_ok));
		if (s->hook_ok == NULL || (body = gdb_hook_body(x, s)) ==
		    NULL) {
			gdb_setfail(x, s, "DATABASE_ERROR", 502,
			    "out of memory");
			continue;
		}
		for (i = 0; i < n; i++)
			gdb_hook_start(x, r, s, &wh[i], i, body);
		free(body);
	}
	return (--r->hpending);
}

/* maxCalls: the sets that may be read; the others fail. */
static void
gdb_budget(struct gql_exec *x, struct gdbread *r)
{
	size_t	 i, left, batch = (size_t)r->d->conf.batch_size, n = 0;
	size_t	 max = (size_t)x->proj->gql.max_calls;

	left = x->ncalls < max ? max - x->ncalls : 0;
	for (i = 0; i < r->nsets; i++) {
		if (r->sets[i].code != NULL)
			continue;
		if (n % batch == 0) {
			if (left == 0) {
				gdb_setfail(x, &r->sets[i], "LIMIT_EXCEEDED",
				    400, "the request reached maxCalls: this "
				    "statement was not run");
				continue;
			}
			left--;
			x->ncalls++;
		}
		n++;
	}
}

/* Give every instance its set's rows or error. */
static void
gdb_settle(struct gql_exec *x, struct gdbread *r)
{
	struct ginst	*in, *next;
	struct gdbset	*s;
	size_t		 i;

	for (in = r->n->insts, i = 0; in != NULL; in = next, i++) {
		next = in->next;
		if (r->inst[i] == GDB_NOSET)
			continue;
		s = &r->sets[r->inst[i]];
		if (s->code != NULL)
			gql_inst_fail(x, in, s->code, s->status, s->msg);
		else if (s->one)
			gql_inst_value(x, in, json_object_array_length(
			    s->rows) > 0 ? json_object_array_get_idx(s->rows,
			    0) : NULL);
		else
			gql_inst_value(x, in, s->rows);
	}
}

static void
gdb_count(struct gdbread *r, const struct db_result *res)
{
	struct gql_exec	*x = r->x;
	const char	*outcome = "ok";
	size_t		 k, dberr = 0;

	for (k = 0; k < res->nsets; k++)
		if (res->errs[k].code == DB_DATABASE_ERROR)
			dberr++;
	if (res->stmt) {
		x->nstmts++;
		if (dberr > 0 || (res->nsets > 0 &&
		    res->errs[0].code != DB_OK))
			outcome = "error";
	} else if (dberr > 0)
		outcome = "error";	/* introspection or connection */
	else
		return;
	if (x->ctx->ms != NULL)
		metrics_db_statement(*x->ctx->ms, x->proj->name, r->alias,
		    outcome);
}

static void
gdb_answer(const struct db_result *res, void *arg)
{
	struct gdbread	*r = arg;
	struct gql_exec	*x = r->x;
	struct gdbset	*s;
	size_t		 k;

	gdb_count(r, res);
	for (k = 0; k < res->nsets; k++) {
		s = &r->sets[r->rd[res->sets[k]]];
		if (res->errs[k].code != DB_OK)
			gdb_setfail(x, s, dbsql_code_name(res->errs[k].code),
			    gdb_status(res->errs[k].code), res->errs[k].msg);
		else if (s->rows == NULL)
			s->rows = json_object_get(res->rows[k]);
	}
	if (!res->last)
		return;
	r->req = NULL;
	gdb_settle(x, r);
}

/* Start the read of every set still standing; 0, or -1 (none, or error). */
static int
gdb_read(struct gql_exec *x, struct gdbread *r, const char *table)
{
	struct dbsql_args	*args;
	struct db_read		 rd;
	const char		**sel;
	size_t			 i, n = 0, nsel = 0;

	args = garena_alloc(&x->a, (r->nsets + 1) * sizeof(*args));
	r->rd = garena_alloc(&x->a, (r->nsets + 1) * sizeof(*r->rd));
	sel = garena_alloc(&x->a, (r->n->nkids + 1) * sizeof(*sel));
	if (args == NULL || r->rd == NULL || sel == NULL)
		return (-1);
	for (i = 0; i < r->nsets; i++)
		if (r->sets[i].code == NULL) {
			args[n] = r->sets[i].a;
			r->rd[n++] = i;
		}
	if (n == 0)
		return (0);
	for (i = 0; i < r->n->nkids; i++)
		if (r->n->kids[i]->kind == GN_PLAIN)
			sel[nsel++] = r->n->kids[i]->name;
	memset(&rd, 0, sizeof(rd));
	rd.table = table;
	rd.select = r->n->has_sel ? sel : NULL;
	rd.nselect = nsel;
	rd.check_select = 1;
	rd.args = args;
	rd.nargs = n;
	if ((r->req = db_read(r->d->db, &rd, gdb_answer, r)) == NULL)
		return (-1);
	return (0);
}

static void
gdb_fail_all(struct gql_exec *x, struct gnode *n, const char *code,
    int status, const char *msg)
{
	struct ginst	*in, *next;

	for (in = n->insts; in != NULL; in = next) {
		next = in->next;
		gql_inst_fail(x, in, code, status, msg);
	}
}

/* The read of occurrence n on database d (a reference taken over). */
static void
gdb_run(struct gql_exec *x, struct gnode *n, struct dbcache_db *d,
    const char *alias, const char *table, const struct rule *rule)
{
	struct gdbread	*r;
	size_t		 i;

	if ((r = garena_alloc(&x->a, sizeof(*r))) == NULL) {
		dbcache_put(d);
		gdb_fail_all(x, n, "DATABASE_ERROR", 502, "out of memory");
		return;
	}
	r->x = x;
	r->n = n;
	r->d = d;
	r->alias = alias;
	r->next = x->dbreads;
	x->dbreads = r;
	r->sets = garena_alloc(&x->a, (n->ninsts + 1) * sizeof(*r->sets));
	r->inst = garena_alloc(&x->a, (n->ninsts + 1) * sizeof(*r->inst));
	if (r->sets == NULL || r->inst == NULL) {
		r->nsets = 0;
		gdb_fail_all(x, n, "DATABASE_ERROR", 502, "out of memory");
		return;
	}
	r->table = table;
	r->rule = rule;
	gdb_sets(x, r);
	for (i = 0; i < r->nsets; i++)
		gdb_auth(x, &r->sets[i], rule, table);
	if (gdb_hooks(x, r) == 0)
		gdb_go(x, r);
}

/* The read rules decided (webhooks answered): budget, read, or settle. */
static void
gdb_go(struct gql_exec *x, struct gdbread *r)
{
	size_t	 i;

	for (i = 0; i < r->nsets; i++)
		if (r->sets[i].code == NULL)
			gdb_eval(x, &r->sets[i], r->rule);
	gdb_budget(x, r);
	if (gdb_read(x, r, r->table) == -1)
		for (i = 0; i < r->nsets; i++)
			gdb_setfail(x, &r->sets[i], "DATABASE_ERROR", 502,
			    "out of memory");
	if (r->req == NULL)
		gdb_settle(x, r);
}

int
gql_db_batch(struct gql_exec *x, struct gnode *n)
{
	struct json_object	*entry;
	struct dbcache_db	*d;
	const struct rule	*rule;
	const char		*alias = n->src->name, *table;
	char			 msg[256];

	if (x->proj->dbs == NULL || !json_object_object_get_ex(x->proj->dbs,
	    alias, &entry))
		return (-1);
	if ((table = gdb_table(x, n)) == NULL) {
		snprintf(msg, sizeof(msg), "@%s: col must be a String", alias);
		gdb_fail_all(x, n, "BAD_USER_INPUT", 400, msg);
	} else if (x->ctx->dbs == NULL || (d = dbcache_get(x->ctx->dbs,
	    x->proj->name, alias, entry, x->proj->dbdir)) == NULL) {
		snprintf(msg, sizeof(msg), "database %s cannot be opened",
		    alias);
		gdb_fail_all(x, n, "DATABASE_ERROR", 502, msg);
	} else if (!dbcache_rule(d, table, &rule)) {
		dbcache_put(d);
		snprintf(msg, sizeof(msg), "table \"%.64s\" not found", table);
		gdb_fail_all(x, n, "NOT_FOUND", 404, msg);
	} else
		gdb_run(x, n, d, alias, table, rule);
	gql_pending_dec(x, n);
	return (0);
}

void
gql_db_cancel(struct gql_exec *x)
{
	struct gdbread	*r;
	size_t		 i;

	for (r = x->dbreads; r != NULL; r = r->next) {
		if (r->req != NULL) {
			db_cancel(r->req);
			r->req = NULL;
		}
		for (i = 0; i < r->nhooks; i++)
			if (r->hooks[i].uc != NULL) {
				upstream_cancel(r->hooks[i].uc);
				r->hooks[i].uc = NULL;
			}
	}
}

void
gql_db_free(struct gql_exec *x)
{
	struct gdbread	*r;
	size_t		 i;

	gql_db_cancel(x);
	for (r = x->dbreads; r != NULL; r = r->next) {
		for (i = 0; r->sets != NULL && i < r->nsets; i++) {
			json_object_put(r->sets[i].args);
			json_object_put(r->sets[i].rows);
			sybuf_free(&r->sets[i].key);
		}
		dbcache_put(r->d);
	}
	x->dbreads = NULL;
}
