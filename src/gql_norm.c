/*
 * gql_norm.c: from a parsed document to the tree of fields the executor
 * runs (SPEC 8.1, 8.5, 8.8): the operation is picked, the variables are
 * checked against its definitions (defaults applied, non-null ones
 * required), fragments and inline fragments are expanded, @skip and
 * @include applied, fields with the same response key merged when they
 * are identical, and the depth and field limits checked.
 *
 * Invariants: every check that 8.2 calls a request error is made here,
 * before anything runs, so that a request either fails as a whole or
 * runs.  The work is bounded by maxFields: every field selection
 * visited, merged or not, counts against it, so that fragments spread
 * many times cannot make the expansion exponential; nested spreads are
 * bounded by GNORM_MAX_SPREADS.  Nodes point into the document, which
 * outlives them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "gql_int.h"
#include "gql_parse.h"

#define GNORM_MAX_SPREADS	100

struct gnorm {
	const struct gql_doc		*doc;
	const struct gql_operation	*op;
	struct json_object		*vars;	/* effective */
	const struct gnorm_limits	*lim;
	struct garena			*a;
	struct greqerr			*err;
	size_t				 nfields;
};

/* The active fragment spreads, for cycles. */
struct gspread {
	const struct gspread	*up;
	const char		*name;
	unsigned		 n;
};

/* The fields of one selection set, by response key, before merging. */
struct gfield {
	const struct gql_selection	 *sel;
	const struct gql_selection	**heads;	/* sub-selections */
	size_t				  nheads;
};

struct gset {
	struct gfield	*f;
	size_t		 n;
};

static int
gn_fail(struct gnorm *n, const char *code, const struct gql_loc *loc,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
gn_fail(struct gnorm *n, const char *code, const struct gql_loc *loc,
    const char *fmt, ...)
{
	va_list	ap;

	n->err->code = code;
	va_start(ap, fmt);
	vsnprintf(n->err->msg, sizeof(n->err->msg), fmt, ap);
	va_end(ap);
	if (loc != NULL)
		n->err->loc = *loc;
	else
		n->err->loc.line = n->err->loc.column = 0;
	return (-1);
}

static int	gv_equal(const struct gql_value *, const struct gql_value *);

static int
gargs_equal(const struct gql_arg *a, const struct gql_arg *b)
{
	const struct gql_arg	*x, *y;
	size_t			 na = 0, nb = 0;

	for (x = a; x != NULL; x = x->next)
		na++;
	for (y = b; y != NULL; y = y->next)
		nb++;
	if (na != nb)
		return (0);
	for (x = a; x != NULL; x = x->next)
		if ((y = gql_arg_find(b, x->name)) == NULL ||
		    !gv_equal(x->value, y->value))
			return (0);
	return (1);
}

static int
gv_equal(const struct gql_value *a, const struct gql_value *b)
{
	const struct gql_value	*x, *y;

	if (a->kind != b->kind)
		return (0);
	switch (a->kind) {
	case GQL_VAL_BOOLEAN:
		return (a->boolean == b->boolean);
	case GQL_VAL_NULL:
		return (1);
	case GQL_VAL_LIST:
		for (x = a->items, y = b->items; x != NULL && y != NULL;
		    x = x->next, y = y->next)
			if (!gv_equal(x, y))
				return (0);
		return (x == NULL && y == NULL);
	case GQL_VAL_OBJECT:
		return (gargs_equal(a->fields, b->fields));
	default:
		return (a->len == b->len && memcmp(a->str, b->str, a->len) ==
		    0);
	}
}

static int
gdirs_equal(const struct gql_directive *a, const struct gql_directive *b)
{
	for (; a != NULL && b != NULL; a = a->next, b = b->next)
		if (strcmp(a->name, b->name) != 0 ||
		    !gargs_equal(a->args, b->args))
			return (0);
	return (a == NULL && b == NULL);
}

/* Every variable a value uses must be defined by the operation. */
static int
gn_value_vars(struct gnorm *n, const struct gql_value *v)
{
	const struct gql_value	*x;
	const struct gql_arg	*f;
	const struct gql_vardef	*d;

	switch (v->kind) {
	case GQL_VAL_VARIABLE:
		for (d = n->op->vars; d != NULL; d = d->next)
			if (strcmp(d->name, v->str) == 0)
				return (0);
		return (gn_fail(n, "GRAPHQL_VALIDATION_FAILED", &v->loc,
		    "Variable \"$%s\" is not defined.", v->str));
	case GQL_VAL_LIST:
		for (x = v->items; x != NULL; x = x->next)
			if (gn_value_vars(n, x) == -1)
				return (-1);
		return (0);
	case GQL_VAL_OBJECT:
		for (f = v->fields; f != NULL; f = f->next)
			if (gn_value_vars(n, f->value) == -1)
				return (-1);
		return (0);
	default:
		return (0);
	}
}

static int
gn_uses(struct gnorm *n, const struct gql_arg *args,
    const struct gql_directive *dirs)
{
	const struct gql_arg	*a;

	for (a = args; a != NULL; a = a->next)
		if (gn_value_vars(n, a->value) == -1)
			return (-1);
	for (; dirs != NULL; dirs = dirs->next)
		for (a = dirs->args; a != NULL; a = a->next)
			if (gn_value_vars(n, a->value) == -1)
				return (-1);
	return (0);
}

/* @skip and @include: 1 when the selection is left out, -1 on error. */
static int
gn_skipped(struct gnorm *n, const struct gql_directive *d)
{
	const struct gql_arg	*a;
	struct json_object	*v;
	int			 skip, val;

	for (; d != NULL; d = d->next) {
		if ((skip = strcmp(d->name, "skip") == 0) == 0 &&
		    strcmp(d->name, "include") != 0)
			continue;
		if ((a = gql_arg_find(d->args, "if")) == NULL)
			return (gn_fail(n, "BAD_USER_INPUT", &d->loc,
			    "@%s needs its argument if: Boolean", d->name));
		if (a->value->kind == GQL_VAL_BOOLEAN)
			val = a->value->boolean;
		else if (a->value->kind == GQL_VAL_VARIABLE &&
		    json_object_object_get_ex(n->vars, a->value->str, &v) &&
		    json_object_is_type(v, json_type_boolean))
			val = json_object_get_boolean(v);
		else
			return (gn_fail(n, "BAD_USER_INPUT", &a->value->loc,
			    "@%s's argument if must be a Boolean", d->name));
		if (val == skip)
			return (1);
	}
	return (0);
}

static int
gset_add_head(struct gfield *f, const struct gql_selection *sel)
{
	const struct gql_selection	**h;

	if (sel == NULL)
		return (0);
	if ((f->nheads & (f->nheads + 1)) == 0 || f->nheads < 2) {
		h = realloc(f->heads, (f->nheads * 2 + 2) * sizeof(*h));
		if (h == NULL)
			return (-1);
		f->heads = h;
	}
	f->heads[f->nheads++] = sel;
	return (0);
}

static void
gset_free(struct gset *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		free(s->f[i].heads);
	free(s->f);
	s->n = 0;
	s->f = NULL;
}

static const char *
gsel_key(const struct gql_selection *s)
{
	return (s->alias != NULL ? s->alias : s->name);
}

/* One field selection into the set: a new key, or merged. */
static int
gn_field(struct gnorm *n, const struct gql_selection *s, struct gset *set)
{
	struct gfield	*f;
	const char	*key = gsel_key(s);
	size_t		 i;

	if (++n->nfields > (size_t)n->lim->max_fields)
		return (gn_fail(n, "LIMIT_EXCEEDED", &s->loc, "the query has "
		    "more than maxFields (%lld) fields",
		    (long long)n->lim->max_fields));
	for (i = 0; i < set->n; i++) {
		f = &set->f[i];
		if (strcmp(gsel_key(f->sel), key) != 0)
			continue;
		if (strcmp(f->sel->name, s->name) != 0 ||
		    !gargs_equal(f->sel->args, s->args) ||
		    !gdirs_equal(f->sel->dirs, s->dirs))
			return (gn_fail(n, "GRAPHQL_VALIDATION_FAILED",
			    &s->loc, "Fields \"%s\" conflict: they differ "
			    "in name, arguments or directives; use an alias",
			    key));
		return (gset_add_head(f, s->sel) == -1 ? gn_fail(n,
		    "INTERNAL", NULL, "out of memory") : 0);
	}
	if ((set->n & (set->n + 1)) == 0 || set->n < 2) {
		f = realloc(set->f, (set->n * 2 + 2) * sizeof(*f));
		if (f == NULL)
			return (gn_fail(n, "INTERNAL", NULL, "out of memory"));
		set->f = f;
	}
	f = &set->f[set->n++];
	memset(f, 0, sizeof(*f));
	f->sel = s;
	if (gset_add_head(f, s->sel) == -1)
		return (gn_fail(n, "INTERNAL", NULL, "out of memory"));
	return (0);
}

/* A selection set into set, fragments expanded. */
static int
gn_collect(struct gnorm *n, const struct gql_selection *s, struct gset *set,
    const struct gspread *st)
{
	const struct gql_fragment	*fr;
	const struct gspread		*p;
	struct gspread			 me;
	int				 r;

	for (; s != NULL; s = s->next) {
		if (gn_uses(n, s->args, s->dirs) == -1 ||
		    (r = gn_skipped(n, s->dirs)) == -1)
			return (-1);
		if (r == 1)
			continue;
		switch (s->kind) {
		case GQL_SEL_FIELD:
			if (gn_field(n, s, set) == -1)
				return (-1);
			break;
		case GQL_SEL_INLINE:
			if (gn_collect(n, s->sel, set, st) == -1)
				return (-1);
			break;
		case GQL_SEL_SPREAD:
			if ((fr = gql_doc_fragment(n->doc, s->name)) == NULL)
				return (gn_fail(n, "GRAPHQL_VALIDATION_FAILED",
				    &s->loc, "Unknown fragment \"%s\".",
				    s->name));
			for (p = st; p != NULL; p = p->up)
				if (strcmp(p->name, s->name) == 0)
					return (gn_fail(n,
					    "GRAPHQL_VALIDATION_FAILED",
					    &s->loc, "Cannot spread fragment "
					    "\"%s\" within itself.", s->name));
			if (st != NULL && st->n >= GNORM_MAX_SPREADS)
				return (gn_fail(n, "LIMIT_EXCEEDED", &s->loc,
				    "fragment spreads are nested more than "
				    "%d deep", GNORM_MAX_SPREADS));
			me.up = st;
			me.name = s->name;
			me.n = st != NULL ? st->n + 1 : 1;
			if (gn_uses(n, NULL, fr->dirs) == -1 ||
			    gn_collect(n, fr->sel, set, &me) == -1)
				return (-1);
			break;
		}
	}
	return (0);
}

/* The first directive other than @skip/@include, or NULL. */
static const struct gql_directive *
gn_source(const struct gql_directive *d)
{
	for (; d != NULL; d = d->next)
		if (strcmp(d->name, "skip") != 0 &&
		    strcmp(d->name, "include") != 0)
			return (d);
	return (NULL);
}

static int	gn_children(struct gnorm *, struct gnode *,
		    const struct gql_selection *const *, size_t);

static struct gnode *
gn_node(struct gnorm *n, struct gnode *up, const struct gfield *f,
    unsigned pos)
{
	const struct gql_selection	*s = f->sel;
	struct gnode			*g;

	if ((g = garena_alloc(n->a, sizeof(*g))) == NULL) {
		gn_fail(n, "INTERNAL", NULL, "out of memory");
		return (NULL);
	}
	g->key = gsel_key(s);
	g->name = s->name;
	g->loc = s->loc;
	g->args = s->args;
	g->src = gn_source(s->dirs);
	g->pos = pos;
	g->up = up;
	g->depth = up->depth + 1;
	g->has_sel = s->sel != NULL;
	if (strcmp(s->name, "__typename") == 0)
		g->kind = GN_TYPENAME;
	else if (g->src != NULL)
		g->kind = GN_CALL;
	else if (up->up == NULL && (strcmp(s->name, "__schema") == 0 ||
	    strcmp(s->name, "__type") == 0))
		g->kind = GN_INTROSPECT;
	else
		g->kind = GN_PLAIN;
	if (g->depth > (unsigned)n->lim->max_depth) {
		gn_fail(n, "LIMIT_EXCEEDED", &s->loc, "the query is nested "
		    "deeper than maxDepth (%lld)", (long long)n->lim->max_depth);
		return (NULL);
	}
	if (g->has_sel && gn_children(n, g, f->heads, f->nheads) == -1)
		return (NULL);
	return (g);
}

/* The merged selection sets heads[] become g's kids. */
static int
gn_children(struct gnorm *n, struct gnode *g,
    const struct gql_selection *const *heads, size_t nheads)
{
	struct gset	 set = { NULL, 0 };
	size_t		 i;
	int		 rc = -1;

	for (i = 0; i < nheads; i++)
		if (gn_collect(n, heads[i], &set, NULL) == -1)
			goto out;
	if (set.n > 0 && (g->kids = garena_alloc(n->a, set.n *
	    sizeof(*g->kids))) == NULL) {
		gn_fail(n, "INTERNAL", NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < set.n; i++) {
		if ((g->kids[i] = gn_node(n, g, &set.f[i], (unsigned)i)) ==
		    NULL)
			goto out;
		g->nkids++;
		if (g->kids[i]->kind == GN_CALL || g->kids[i]->calls_below)
			g->calls_below = 1;
	}
	rc = 0;
out:
	gset_free(&set);
	return (rc);
}

/* Each call field joins the occ list of its nearest call ancestor. */
static int
gn_occ(struct gnorm *n, struct gnode *g, struct gnode *owner)
{
	struct gnode	**v;
	size_t		  i;

	for (i = 0; i < g->nkids; i++) {
		if (g->kids[i]->kind != GN_CALL) {
			if (gn_occ(n, g->kids[i], owner) == -1)
				return (-1);
			continue;
		}
		v = garena_alloc(n->a, (owner->nocc + 1) * sizeof(*v));
		if (v == NULL)
			return (gn_fail(n, "INTERNAL", NULL, "out of memory"));
		if (owner->nocc > 0)
			memcpy(v, owner->occ, owner->nocc * sizeof(*v));
		v[owner->nocc++] = g->kids[i];
		owner->occ = v;
		if (gn_occ(n, g->kids[i], g->kids[i]) == -1)
			return (-1);
	}
	return (0);
}

static const char *
gn_type_name(const struct gql_type *t, char *buf, size_t len)
{
	char	inner[128];

	switch (t->kind) {
	case GQL_TYPE_NAMED:
		snprintf(buf, len, "%s", t->name);
		break;
	case GQL_TYPE_LIST:
		snprintf(buf, len, "[%s]", gn_type_name(t->of, inner,
		    sizeof(inner)));
		break;
	default:
		snprintf(buf, len, "%s!", gn_type_name(t->of, inner,
		    sizeof(inner)));
		break;
	}
	return (buf);
}

/* The effective variables: as given, else the default, else absent. */
static int
gn_vars(struct gnorm *n, struct json_object *given)
{
	const struct gql_vardef	*d;
	struct json_object	*v;
	const char		*why;
	char			 tn[128];
	int			 has;

	if ((n->vars = json_object_new_object()) == NULL)
		return (gn_fail(n, "INTERNAL", NULL, "out of memory"));
	for (d = n->op->vars; d != NULL; d = d->next) {
		if (json_object_object_get_ex(n->vars, d->name, NULL))
			continue;	/* defined twice: the first counts */
		v = NULL;
		has = given != NULL &&
		    json_object_object_get_ex(given, d->name, &v);
		if (has && v == NULL && d->type->kind == GQL_TYPE_NONNULL)
			return (gn_fail(n, "BAD_USER_INPUT", &d->loc,
			    "Variable \"$%s\" of non-null type \"%s\" must "
			    "not be null.", d->name, gn_type_name(d->type, tn,
			    sizeof(tn))));
		if (has) {
			json_object_object_add(n->vars, d->name,
			    json_object_get(v));
			continue;
		}
		if (d->defval != NULL) {
			if (gql_value_json(d->defval, NULL, NULL, &v, &why) !=
			    1)
				return (gn_fail(n, "BAD_USER_INPUT",
				    &d->defval->loc, "Variable \"$%s\": %s",
				    d->name, why != NULL ? why :
				    "bad default value"));
			json_object_object_add(n->vars, d->name, v);
			continue;
		}
		if (d->type->kind == GQL_TYPE_NONNULL)
			return (gn_fail(n, "BAD_USER_INPUT", &d->loc,
			    "Variable \"$%s\" of required type \"%s\" was not "
			    "provided.", d->name, gn_type_name(d->type, tn,
			    sizeof(tn))));
	}
	return (0);
}

int
gql_norm(const struct gql_doc *doc, const char *name,
    struct json_object *vars, const struct gnorm_limits *lim,
    struct garena *a, struct gop *op, struct greqerr *err)
{
	struct gnorm			 n;
	const struct gql_selection	*head;

	memset(op, 0, sizeof(*op));
	memset(err, 0, sizeof(*err));
	memset(&n, 0, sizeof(n));
	n.doc = doc;
	n.lim = lim;
	n.a = a;
	n.err = err;
	if ((n.op = gql_doc_operation(doc, name)) == NULL) {
		if (name != NULL)
			return (gn_fail(&n, "GRAPHQL_VALIDATION_FAILED", NULL,
			    "Unknown operation named \"%s\".", name));
		if (doc->nops == 0)
			return (gn_fail(&n, "GRAPHQL_VALIDATION_FAILED", NULL,
			    "the document has no operation"));
		return (gn_fail(&n, "GRAPHQL_VALIDATION_FAILED", NULL,
		    "Must provide operation name if query contains multiple "
		    "operations."));
	}
	if (n.op->kind != GQL_OP_QUERY)
		return (gn_fail(&n, "OPERATION_NOT_SUPPORTED", &n.op->loc,
		    "%s operations are not supported: only queries",
		    n.op->kind == GQL_OP_MUTATION ? "mutation" :
		    "subscription"));
	if (gn_vars(&n, vars) == -1 || gn_uses(&n, NULL, n.op->dirs) == -1 ||
	    (op->root = garena_alloc(a, sizeof(*op->root))) == NULL) {
		json_object_put(n.vars);
		if (op->root == NULL && err->code == NULL)
			gn_fail(&n, "INTERNAL", NULL, "out of memory");
		return (-1);
	}
	op->root->key = op->root->name = "Query";
	op->root->has_sel = 1;
	head = n.op->sel;
	if (gn_children(&n, op->root, &head, 1) == -1 ||
	    gn_occ(&n, op->root, op->root) == -1) {
		json_object_put(n.vars);
		return (-1);
	}
	op->vars = n.vars;
	op->nfields = n.nfields;
	return (0);
}
