/*
 * dbsql.c: compiles GraphQL database arguments into SQL (SPEC 8.10) and
 * batches many argument sets into one statement (SPEC 8.6).  Pure: no
 * database header, no I/O.
 *
 * Why ~1,150 lines in one file: the where/sort compiler and the batcher
 * share the placeholder bookkeeping that guarantees every value is a
 * bound parameter; split, that invariant would span two files.
 *
 * Invariants: every identifier written into SQL is a column or table
 * name that introspection found and the config exposes, always double-
 * quoted with embedded quotes doubled; every value from the caller is a
 * bound parameter; the only other SQL text is this file's constants,
 * decimal set numbers it generated, and (PostgreSQL) the type names the
 * server's format_type gave for the table's columns.
 *
 * Each argument set is compiled on its own into a WHERE fragment (with
 * the byte offsets where its placeholders go), an ORDER BY list, and
 * limit and skip.  Sets whose compiled form is identical are one
 * distinct set (read once).  A statement answers up to batchsize
 * distinct sets with one branch per set:
 *
 *   SELECT * FROM (SELECT 0 AS "__set", row_number() OVER (ORDER BY k)
 *     AS "__n", "c1", "c2" FROM "t" WHERE w ORDER BY k LIMIT ? OFFSET ?)
 *     AS "s0" UNION ALL SELECT * FROM (...) AS "s1" ORDER BY 1, 2
 *
 * On PostgreSQL, sets of one shape (the same WHERE and ORDER BY, only
 * values, limit and skip differ: the usual join) share one branch, which
 * PostgreSQL plans once instead of once per set (300 sets: 0.4 ms of
 * planning instead of 500):
 *
 *   SELECT * FROM (SELECT "__v"."__set", "__x"."__n", "__x"."c1" FROM
 *     (VALUES (0, ?, ?, ?), (1, ?, ?, ?)) AS "__v"("__set", "__p0",
 *     "__lim", "__off") CROSS JOIN LATERAL (SELECT row_number() OVER
 *     (ORDER BY k) AS "__n", "c1" FROM "t" WHERE "c" = CAST("__v"."__p0"
 *     AS <c's type>) ORDER BY k LIMIT ... OFFSET ...) AS "__x") AS "s0"
 *
 * The values arrive as text; the cast to the column's type (without
 * modifiers, so varchar(10) does not truncate) is what an untyped
 * parameter compared with the column resolves to, with the same class-22
 * errors.
 *
 * Each branch applies its own sort, limit and skip exactly as its own
 * query would.  UNION ALL by itself guarantees no order, so row_number()
 * over the branch's own sort keys carries that order out, and the outer
 * ORDER BY makes the statement's row order fully defined.  The window
 * and the branch's ORDER BY share one sort (PostgreSQL plans Limit ->
 * WindowAgg -> Sort); ordering the branch by "__n" instead cost a second
 * sort and 3-4 times the planning time for 40 branches.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "dbsql.h"
#include "util.h"

#define DBSQL_MAXDEPTH		10	/* nesting of _or */
#define DBSQL_MAXPARAMS		30000	/* SQLite allows 32766 */

/* One argument set being compiled. */
struct cset {
	enum dbsql_dialect	 dialect;
	const struct dbsql_table *t;
	struct sybuf		 w;	/* WHERE, no placeholders */
	size_t			*off;	/* placeholders in w */
	const struct dbsql_col	**pc;	/* the column each one meets */
	struct dbsql_param	*p;
	size_t			 np;
	size_t			 cap;
	struct sybuf		 order;		/* ORDER BY list */
	int64_t			 limit;
	int64_t			 skip;
	int			 one;
	struct sybuf		 key;	/* identity, to dedupe */
	struct db_error		 err;
	int			 oom;
};

static const char *const code_names[] = {
	"", "BAD_USER_INPUT", "NOT_FOUND", "NOT_SUPPORTED", "DATABASE_ERROR"
};

const char *
dbsql_code_name(enum db_code c)
{
	if ((size_t)c >= sizeof(code_names) / sizeof(code_names[0]))
		return ("DATABASE_ERROR");
	return (code_names[c]);
}

void
dbsql_seterr(struct db_error *e, enum db_code c, const char *fmt, ...)
{
	va_list	 ap;

	e->code = c;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

int
dbsql_quote(struct sybuf *b, const char *id)
{
	const char	*q;

	if (sybuf_addc(b, '"') == -1)
		return (-1);
	while ((q = strchr(id, '"')) != NULL) {
		if (sybuf_add(b, id, (size_t)(q - id) + 1) == -1 ||
		    sybuf_addc(b, '"') == -1)
			return (-1);
		id = q + 1;
	}
	if (sybuf_addstr(b, id) == -1 || sybuf_addc(b, '"') == -1)
		return (-1);
	return (0);
}

char *
dbsql_base64(const unsigned char *p, size_t n)
{
	static const char	 a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char			*out, *o;
	size_t			 i;
	uint32_t		 v;

	if (n > (SIZE_MAX - 1) / 4 * 3 - 3 ||
	    (out = malloc((n + 2) / 3 * 4 + 1)) == NULL)
		return (NULL);
	o = out;
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = a[v >> 18];
		*o++ = a[(v >> 12) & 63];
		*o++ = a[(v >> 6) & 63];
		*o++ = a[v & 63];
	}
	if (i < n) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		*o++ = a[v >> 18];
		*o++ = a[(v >> 12) & 63];
		*o++ = i + 1 < n ? a[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return (out);
}

static void
param_clear(struct dbsql_param *p)
{
	free(p->s);
	free(p->text);
}

void
dbsql_stmt_free(struct dbsql_stmt *st)
{
	size_t	 i;

	for (i = 0; i < st->nparams; i++)
		param_clear(&st->params[i]);
	free(st->params);
	free(st->sets);
	free(st->sql);
	memset(st, 0, sizeof(*st));
}

void
dbsql_table_free(struct dbsql_table *t)
{
	size_t	 i;

	for (i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].type);
	}
	free(t->cols);
	free(t->schema);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

static const struct dbsql_col *
find_col(const struct dbsql_table *t, const char *name)
{
	size_t	 i;

	for (i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return (&t->cols[i]);
	return (NULL);
}

static void
emit(struct cset *cs, const char *s)
{
	if (sybuf_addstr(&cs->w, s) == -1)
		cs->oom = 1;
}

static void
emit_col(struct cset *cs, const struct dbsql_col *c)
{
	if (dbsql_quote(&cs->w, c->name) == -1)
		cs->oom = 1;
}

/* Fill p from a JSON scalar; -1 with cs->err when it is not one. */
static int
param_from(struct cset *cs, struct dbsql_param *p, struct json_object *v)
{
	const char	*s;
	size_t		 len;
	char		 num[64];

	memset(p, 0, sizeof(*p));
	switch (json_object_get_type(v)) {
	case json_type_null:
		p->kind = DBSQL_PNULL;
		return (0);
	case json_type_boolean:
		p->kind = DBSQL_PBOOL;
		p->i = json_object_get_boolean(v) ? 1 : 0;
		p->text = strdup(p->i ? "true" : "false");
		break;
	case json_type_int:
		p->kind = DBSQL_PINT;
		p->i = json_object_get_int64(v);
		snprintf(num, sizeof(num), "%lld", (long long)p->i);
		p->text = strdup(num);
		break;
	case json_type_double:
		p->kind = DBSQL_PREAL;
		p->d = json_object_get_double(v);
		if (!isfinite(p->d)) {
			dbsql_seterr(&cs->err, DB_BAD_USER_INPUT,
			    "a number in where is not finite");
			return (-1);
		}
		snprintf(num, sizeof(num), "%.17g", p->d);
		p->text = strdup(num);
		break;
	case json_type_string:
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (memchr(s, '\0', len) != NULL) {
			dbsql_seterr(&cs->err, DB_BAD_USER_INPUT,
			    "a string in where contains a NUL character");
			return (-1);
		}
		p->kind = DBSQL_PTEXT;
		p->s = strdup(s);
		p->text = strdup(s);
		if (p->s == NULL)
			cs->oom = 1;
		break;
	default:
		dbsql_seterr(&cs->err, DB_BAD_USER_INPUT,
		    "a list or object in where where a value is expected");
		return (-1);
	}
	if (p->text == NULL)
		cs->oom = 1;
	return (0);
}

/* Append a placeholder bound to the scalar v, compared with c.  0 / -1. */
static int
emit_param(struct cset *cs, const struct dbsql_col *c, struct json_object *v)
{
	struct dbsql_param	*np;
	const struct dbsql_col	**npc;
	size_t			*no, ncap;

	if (cs->np >= DBSQL_MAXPARAMS / 2) {
		dbsql_seterr(&cs->err, DB_BAD_USER_INPUT,
		    "where has too many values");
		return (-1);
	}
	if (cs->np == cs->cap) {
		ncap = cs->cap ? cs->cap * 2 : 8;
		if ((np = reallocarray(cs->p, ncap, sizeof(*np))) == NULL) {
			cs->oom = 1;
			return (-1);
		}
		cs->p = np;
		if ((no = reallocarray(cs->off, ncap, sizeof(*no))) == NULL) {
			cs->oom = 1;
			return (-1);
		}
		cs->off = no;
		if ((npc = reallocarray(cs->pc, ncap, sizeof(*npc))) == NULL) {
			cs->oom = 1;
			return (-1);
		}
		cs->pc = npc;
		cs->cap = ncap;
	}
	if (param_from(cs, &cs->p[cs->np], v) == -1)
		return (-1);
	cs->pc[cs->np] = c;
	cs->off[cs->np++] = cs->w.len;
	return (0);
}

/* "c" IN (?, ...) for _in (neg 0) or _nin (neg 1), SPEC's null rules. */
static int
emit_in(struct cset *cs, const struct dbsql_col *c, struct json_object *v,
    int neg)
{
	struct json_object	*e;
	size_t			 i, n, nval = 0, nnull = 0;

	if (!json_object_is_type(v, json_type_array)) {
		dbsql_seterr(&cs->err, DB_BAD_USER_INPUT,
		    "_in and _nin take a list");
		return (-1);
	}
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(v, i);
		if (e == NULL)
			nnull++;
		else if (json_object_is_type(e, json_type_array) ||
		    json_object_is_type(e, json_type_object)) {
			dbsql_seterr(&cs->err, DB_BAD_USER_INPUT, "a list or "
			    "object in where where a value is expected");
			return (-1);
		} else
			nval++;
	}
	if (n == 0) {
		emit(cs, neg ? "(1=1)" : "(1=0)");
		return (0);
	}
	emit(cs, "(");
	if (nval > 0) {
		emit_col(cs, c);
		emit(cs, neg ? " NOT IN (" : " IN (");
		for (i = 0, nval = 0; i < n; i++) {
			if ((e = json_object_array_get_idx(v, i)) == NULL)
				continue;
			if (nval++ > 0)
				emit(cs, ", ");
			if (emit_param(cs, c, e) == -1)
				return (-1);
		}
		emit(cs, ")");
		if (nnull > 0)
			emit(cs, neg ? " AND " : " OR ");
	}
	if (nnull > 0) {
		emit_col(cs, c);
		emit(cs, neg ? " IS NOT NULL" : " IS NULL");
	}
	emit(cs, ")");
	return (0);
}

/* One comparison operator on column c. */
static int
emit_op(struct cset *cs, const struct dbsql_col *c, const char *op,
    struct json_object *v)
{
	static const struct {
		const char	*name, *sql, *ifnull;
	} ops[] = {
		{ "_eq", " = ", " IS NULL" },
		{ "_ne", " <> ", " IS NOT NULL" },
		{ "_gt", " > ", NULL },
		{ "_gte", " >= ", NULL },
		{ "_lt", " < ", NULL },
		{ "_lte", " <= ", NULL },
	};
	size_t	 i;

	if (strcmp(op, "_in") == 0 || strcmp(op, "_nin") == 0)
		return (emit_in(cs, c, v, op[1] == 'n'));
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(op, ops[i].name) == 0)
			break;
	if (i == sizeof(ops) / sizeof(ops[0])) {
		dbsql_seterr(&cs->err, DB_BAD_USER_INPUT,
		    "unknown where operator \"%.64s\"", op);
		return (-1);
	}
	if (v == NULL && ops[i].ifnull == NULL) {
		emit(cs, "(1=0)");
		return (0);
	}
	emit_col(cs, c);
	if (v == NULL) {
		emit(cs, ops[i].ifnull);
		return (0);
	}
	emit(cs, ops[i].sql);
	return (emit_param(cs, c, v));
}

static int	compile_where(struct cset *, struct json_object *, int);

/* _or: [where, ...]; an empty list matches nothing. */
static int
compile_or(struct cset *cs, struct json_object *v, int depth)
{
	size_t	 i, n;

	if (!json_object_is_type(v, json_type_array)) {
		dbsql_seterr(&cs->err, DB_BAD_USER_INPUT,
		    "_or takes a list of where objects");
		return (-1);
	}
	if ((n = json_object_array_length(v)) == 0) {
		emit(cs, "(1=0)");
		return (0);
	}
	emit(cs, "(");
	for (i = 0; i < n; i++) {
		if (i > 0)
			emit(cs, " OR ");
		if (compile_where(cs, json_object_array_get_idx(v, i),
		    depth + 1) == -1)
			return (-1);
	}
	emit(cs, ")");
	return (0);
}

/* col: value or col: {op: value, ...}. */
static int
compile_col(struct cset *cs, const char *k, struct json_object *v)
{
	const struct dbsql_col	*c;
	int			 first = 1;

	if ((c = find_col(cs->t, k)) == NULL) {
		dbsql_seterr(&cs->err, DB_NOT_FOUND,
		    "unknown column \"%.64s\"", k);
		return (-1);
	}
	if (!json_object_is_type(v, json_type_object))
		return (emit_op(cs, c, "_eq", v));
	if (json_object_object_length(v) == 1) {
		json_object_object_foreach(v, op1, ov1)
			return (emit_op(cs, c, op1, ov1));
	}
	emit(cs, "(");
	json_object_object_foreach(v, op, ov) {
		if (!first)
			emit(cs, " AND ");
		first = 0;
		if (emit_op(cs, c, op, ov) == -1)
			return (-1);
	}
	emit(cs, first ? "1=1)" : ")");
	return (0);
}

/* A where object: its members ANDed, parenthesized. */
static int
compile_where(struct cset *cs, struct json_object *w, int depth)
{
	int	 first = 1, rc;

	if (!json_object_is_type(w, json_type_object)) {
		dbsql_seterr(&cs->err, DB_BAD_USER_INPUT,
		    "where must be an object");
		return (-1);
	}
	if (depth > DBSQL_MAXDEPTH) {
		dbsql_seterr(&cs->err, DB_BAD_USER_INPUT,
		    "where is nested too deeply");
		return (-1);
	}
	emit(cs, "(");
	json_object_object_foreach(w, k, v) {
		if (!first)
			emit(cs, " AND ");
		first = 0;
		if (strcmp(k, "_or") == 0)
			rc = compile_or(cs, v, depth);
		else if (k[0] == '_') {
			dbsql_seterr(&cs->err, DB_BAD_USER_INPUT,
			    "unknown where key \"%.64s\"", k);
			rc = -1;
		} else
			rc = compile_col(cs, k, v);
		if (rc == -1)
			return (-1);
	}
	emit(cs, first ? "1=1)" : ")");
	return (0);
}

/* One sort entry, "col" or "-col". */
static int
compile_sort1(struct cset *cs, struct json_object *e, int first)
{
	const struct dbsql_col	*c;
	const char		*s;
	int			 desc;

	if (!json_object_is_type(e, json_type_string)) {
		dbsql_seterr(&cs->err, DB_BAD_USER_INPUT,
		    "sort takes a list of column names");
		return (-1);
	}
	s = json_object_get_string(e);
	desc = s[0] == '-';
	if ((c = find_col(cs->t, s + desc)) == NULL) {
		dbsql_seterr(&cs->err, DB_NOT_FOUND,
		    "unknown column \"%.64s\" in sort", s + desc);
		return (-1);
	}
	if ((!first && sybuf_addstr(&cs->order, ", ") == -1) ||
	    dbsql_quote(&cs->order, c->name) == -1 ||
	    sybuf_addstr(&cs->order, cs->dialect == DBSQL_SQLITE ?
	    " COLLATE BINARY" : c->collate ? " COLLATE \"C\"" : "") == -1 ||
	    sybuf_addstr(&cs->order, desc ? " DESC NULLS LAST" :
	    " ASC NULLS FIRST") == -1)
		cs->oom = 1;
	return (0);
}

static int
compile_sort(struct cset *cs, struct json_object *sort)
{
	size_t	 i, n;

	if (sort == NULL)
		return (0);
	if (!json_object_is_type(sort, json_type_array))
		return (compile_sort1(cs, sort, 1));
	n = json_object_array_length(sort);
	for (i = 0; i < n; i++)
		if (compile_sort1(cs, json_object_array_get_idx(sort, i),
		    i == 0) == -1)
			return (-1);
	return (0);
}

/* limit or skip: an integer >= 0, or def when absent. */
static int
get_count(struct cset *cs, struct json_object *v, const char *name,
    int64_t def, int64_t *out)
{
	if (v == NULL) {
		*out = def;
		return (0);
	}
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0) {
		dbsql_seterr(&cs->err, DB_BAD_USER_INPUT,
		    "%s must be an integer >= 0", name);
		return (-1);
	}
	*out = json_object_get_int64(v);
	return (0);
}

static int
compile_opts(struct cset *cs, const struct dbsql_args *a, int64_t maxrows)
{
	const char	*op;

	if (get_count(cs, a->limit, "limit", maxrows, &cs->limit) == -1 ||
	    get_count(cs, a->skip, "skip", 0, &cs->skip) == -1)
		return (-1);
	if (cs->limit > maxrows)
		cs->limit = maxrows;
	if (a->op != NULL) {
		op = json_object_is_type(a->op, json_type_string) ?
		    json_object_get_string(a->op) : "";
		if (strcmp(op, "one") == 0)
			cs->one = 1;
		else if (strcmp(op, "all") != 0) {
			dbsql_seterr(&cs->err, DB_BAD_USER_INPUT,
			    "op must be \"all\" or \"one\"");
			return (-1);
		}
	}
	if (cs->one && cs->limit > 1)
		cs->limit = 1;
	return (0);
}

/* The set's identity: everything that reaches the SQL. */
static void
make_key(struct cset *cs)
{
	struct sybuf	*k = &cs->key;
	size_t		 i;
	int		 rc;

	rc = sybuf_add(k, cs->w.data ? cs->w.data : "", cs->w.len + 1);
	for (i = 0; i < cs->np && rc == 0; i++)
		rc = sybuf_printf(k, "%zu:%d:%s", cs->off[i],
		    (int)cs->p[i].kind, cs->p[i].text ? cs->p[i].text : "") ==
		    -1 || sybuf_addc(k, '\0') == -1 ? -1 : 0;
	if (rc == 0)
		rc = sybuf_printf(k, "%s%c%lld %lld %d", cs->order.data ?
		    cs->order.data : "", '\0', (long long)cs->limit,
		    (long long)cs->skip, cs->one);
	if (rc == -1)
		cs->oom = 1;
}

static void
cset_free(struct cset *cs)
{
	size_t	 i;

	for (i = 0; i < cs->np; i++)
		param_clear(&cs->p[i]);
	free(cs->p);
	free(cs->off);
	free(cs->pc);
	sybuf_free(&cs->w);
	sybuf_free(&cs->order);
	sybuf_free(&cs->key);
}

/* Compile one argument set; failures land in cs->err (or cs->oom). */
static void
compile_set(struct cset *cs, enum dbsql_dialect d,
    const struct dbsql_table *t, const struct dbsql_args *a, int64_t maxrows)
{
	memset(cs, 0, sizeof(*cs));
	cs->dialect = d;
	cs->t = t;
	sybuf_init(&cs->w);
	sybuf_init(&cs->order);
	sybuf_init(&cs->key);
	if (a->where != NULL && !(json_object_is_type(a->where,
	    json_type_object) && json_object_object_length(a->where) == 0) &&
	    compile_where(cs, a->where, 0) == -1)
		return;
	if (compile_sort(cs, a->sort) == -1 ||
	    compile_opts(cs, a, maxrows) == -1)
		return;
	make_key(cs);
}

/* Sort helper for de-duplication: by key bytes, then input index. */
struct keyref {
	const struct sybuf	*k;
	size_t			 i;
};

static int
keyref_cmp(const void *a, const void *b)
{
	const struct keyref	*x = a, *y = b;
	size_t			 n;
	int			 c;

	n = x->k->len < y->k->len ? x->k->len : y->k->len;
	if (n > 0 && (c = memcmp(x->k->data, y->k->data, n)) != 0)
		return (c);
	if (x->k->len != y->k->len)
		return (x->k->len < y->k->len ? -1 : 1);
	return (x->i < y->i ? -1 : x->i > y->i);
}

/*
 * Map every input set to a distinct set, numbered in order of first
 * appearance.  Failed sets are never merged.  rep[d] = first input set.
 */
static int
dedupe(struct dbsql_plan *p, struct cset *cs, size_t n, size_t **repp)
{
	struct keyref	*kr;
	size_t		*first, *rep, i, j;

	kr = calloc(n ? n : 1, sizeof(*kr));
	first = calloc(n ? n : 1, sizeof(*first));
	rep = calloc(n ? n : 1, sizeof(*rep));
	if (kr == NULL || first == NULL || rep == NULL) {
		free(kr);
		free(first);
		free(rep);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		kr[i].k = &cs[i].key;
		kr[i].i = i;
	}
	qsort(kr, n, sizeof(*kr), keyref_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && (j == i || (cs[kr[i].i].err.code ==
		    DB_OK && keyref_cmp(&(struct keyref){ kr[i].k, 0 },
		    &(struct keyref){ kr[j].k, 0 }) == 0)); j++)
			first[kr[j].i] = kr[i].i;
	}
	p->ndistinct = 0;
	for (i = 0; i < n; i++) {
		if (first[i] == i)
			rep[p->ndistinct++] = i;
		p->map[i] = first[i] == i ? p->ndistinct - 1 :
		    p->map[first[i]];
	}
	free(kr);
	free(first);
	*repp = rep;
	return (0);
}

/* Append the placeholder for parameter number n (0-based). */
static int
add_ph(struct sybuf *b, enum dbsql_dialect d, size_t n)
{
	return (d == DBSQL_SQLITE ? sybuf_addc(b, '?') :
	    sybuf_printf(b, "$%zu", n + 1));
}

/* Move set cs's parameters into st, renumbering; add limit and skip. */
static int
add_params(struct dbsql_stmt *st, struct cset *cs)
{
	struct dbsql_param	*np;
	char			 num[32];
	size_t			 i;

	np = reallocarray(st->params, st->nparams + cs->np + 2, sizeof(*np));
	if (np == NULL)
		return (-1);
	st->params = np;
	for (i = 0; i < cs->np; i++) {
		st->params[st->nparams++] = cs->p[i];
		memset(&cs->p[i], 0, sizeof(cs->p[i]));
	}
	for (i = 0; i < 2; i++) {
		np = &st->params[st->nparams];
		memset(np, 0, sizeof(*np));
		np->kind = DBSQL_PINT;
		np->i = i == 0 ? cs->limit : cs->skip;
		snprintf(num, sizeof(num), "%lld", (long long)np->i);
		if ((np->text = strdup(num)) == NULL)
			return (-1);
		st->nparams++;
	}
	return (0);
}

/* The select list, each column prefixed with pre (or nothing). */
static int
select_list(struct sybuf *b, const struct dbsql_plan *p, const char *pre)
{
	size_t	 i;

	for (i = 0; i < p->ncols; i++)
		if (sybuf_addstr(b, ", ") == -1 || sybuf_addstr(b, pre) == -1 ||
		    dbsql_quote(b, p->cols[i]) == -1)
			return (-1);
	return (0);
}

/*
 * ", cols FROM t WHERE w ORDER BY k" of set cs: its placeholders from
 * parameter number base, or (lateral) the casts of "__v"'s values.
 */
static int
add_body(struct sybuf *b, const struct dbsql_plan *p,
    const struct dbsql_table *t, const struct cset *cs,
    enum dbsql_dialect dl, size_t base, int lateral)
{
	size_t	 i, at;
	int	 rc;

	rc = select_list(b, p, "");
	if (rc == 0)
		rc = sybuf_addstr(b, " FROM ") == -1 || (t->schema != NULL &&
		    (dbsql_quote(b, t->schema) == -1 || sybuf_addc(b, '.') ==
		    -1)) || dbsql_quote(b, t->name) == -1 ? -1 : 0;
	if (rc == 0 && cs->w.len > 0)
		rc = sybuf_addstr(b, " WHERE ");
	for (i = 0, at = 0; i < cs->np && rc == 0; i++) {
		rc = sybuf_add(b, cs->w.data + at, cs->off[i] - at);
		if (rc == 0 && lateral)
			rc = sybuf_printf(b, "CAST(\"__v\".\"__p%zu\" AS %s)",
			    i, cs->pc[i]->type);
		else if (rc == 0)
			rc = add_ph(b, dl, base + i);
		at = cs->off[i];
	}
	if (rc == 0 && cs->w.len > at)
		rc = sybuf_add(b, cs->w.data + at, cs->w.len - at);
	if (rc == 0 && cs->order.len > 0)
		rc = sybuf_addstr(b, " ORDER BY ") == -1 ||
		    sybuf_add(b, cs->order.data, cs->order.len) == -1 ? -1 : 0;
	return (rc == -1 ? -1 : 0);
}

/* Set d (compiled in cs) joins st: its parameters move over. */
static int
add_set(struct dbsql_stmt *st, struct cset *cs, size_t d)
{
	if (add_params(st, cs) == -1)
		return (-1);
	st->sets[st->nsets++] = d;
	return (0);
}

/* One UNION ALL branch for distinct set d, compiled in cs. */
static int
add_branch(struct sybuf *b, struct dbsql_stmt *st, enum dbsql_dialect dl,
    const struct dbsql_plan *p, const struct dbsql_table *t, size_t d,
    struct cset *cs)
{
	size_t	 base = st->nparams;
	int	 rc;

	rc = sybuf_printf(b, "%sSELECT * FROM (SELECT %zu AS \"__set\", "
	    "row_number() OVER (%s%s) AS \"__n\"", st->nsets ? " UNION ALL " :
	    "", d, cs->order.len ? "ORDER BY " : "", cs->order.len ?
	    cs->order.data : "");
	if (rc == 0)
		rc = add_body(b, p, t, cs, dl, base, 0);
	if (rc == 0)
		rc = sybuf_addstr(b, " LIMIT ");
	if (rc == 0)
		rc = add_ph(b, dl, base + cs->np) == -1 || sybuf_addstr(b,
		    " OFFSET ") == -1 || add_ph(b, dl, base + cs->np + 1) ==
		    -1 ? -1 : 0;
	if (rc == 0)
		rc = sybuf_printf(b, ") AS \"s%zu\"", d);
	if (rc == 0)
		rc = add_set(st, cs, d);
	return (rc);
}

/*
 * 1 when sets x and y differ only in their values, limit and skip, so
 * that one LATERAL branch can read both (PostgreSQL); every placeholder
 * then needs its column's type for the cast.
 */
static int
same_shape(const struct cset *x, const struct cset *y)
{
	size_t	 i;

	if (x->w.len != y->w.len || x->np != y->np ||
	    x->order.len != y->order.len ||
	    (x->w.len > 0 && memcmp(x->w.data, y->w.data, x->w.len) != 0) ||
	    (x->order.len > 0 && memcmp(x->order.data, y->order.data,
	    x->order.len) != 0))
		return (0);
	for (i = 0; i < x->np; i++)
		if (x->off[i] != y->off[i] || x->pc[i] != y->pc[i] ||
		    x->pc[i]->type == NULL || x->pc[i]->type[0] == '\0')
			return (0);
	return (1);
}

/* "(d, $a, ..., $limit, $skip)" of set d, its parameters moved to st. */
static int
lateral_row(struct sybuf *b, struct dbsql_stmt *st, size_t d,
    struct cset *cs, int first)
{
	size_t	 i, base = st->nparams;
	int	 rc;

	rc = sybuf_printf(b, "%s(%zu", first ? "" : ", ", d);
	for (i = 0; i < cs->np + 2 && rc == 0; i++)
		rc = sybuf_addstr(b, ", ") == -1 ||
		    add_ph(b, DBSQL_POSTGRES, base + i) == -1 ? -1 : 0;
	if (rc == 0)
		rc = sybuf_addc(b, ')');
	if (rc == 0)
		rc = add_set(st, cs, d);
	return (rc);
}

/* The LATERAL side: the set's query with its values from "__v". */
static int
lateral_query(struct sybuf *b, const struct dbsql_plan *p,
    const struct dbsql_table *t, const struct cset *cs)
{
	int	 rc;

	rc = sybuf_printf(b, " CROSS JOIN LATERAL (SELECT row_number() "
	    "OVER (%s%s) AS \"__n\"", cs->order.len ? "ORDER BY " : "",
	    cs->order.len ? cs->order.data : "");
	if (rc == 0)
		rc = add_body(b, p, t, cs, DBSQL_POSTGRES, 0, 1);
	if (rc == 0)
		rc = sybuf_addstr(b, " LIMIT CAST(\"__v\".\"__lim\" AS bigint) "
		    "OFFSET CAST(\"__v\".\"__off\" AS bigint)) AS \"__x\"");
	return (rc);
}

/*
 * One branch for the ng distinct sets g[] of one shape (PostgreSQL): the
 * sets' values as rows of a VALUES list, each joined LATERAL to its own
 * query, so that PostgreSQL plans the query once and not once per set.
 * The values arrive as text and are cast to their column's type, which
 * is what an untyped parameter compared with the column resolves to.
 */
static int
add_lateral(struct sybuf *b, struct dbsql_stmt *st,
    const struct dbsql_plan *p, const struct dbsql_table *t,
    const size_t *g, size_t ng, struct cset *cs, const size_t *rep)
{
	const struct cset	*c0 = &cs[rep[g[0]]];
	size_t			 k, i;
	int			 rc;

	rc = sybuf_printf(b, "%sSELECT * FROM (SELECT \"__v\".\"__set\", "
	    "\"__x\".\"__n\"", st->nsets ? " UNION ALL " : "");
	if (rc == 0)
		rc = select_list(b, p, "\"__x\".");
	if (rc == 0)
		rc = sybuf_addstr(b, " FROM (VALUES ");
	for (k = 0; k < ng && rc == 0; k++)
		rc = lateral_row(b, st, g[k], &cs[rep[g[k]]], k == 0);
	if (rc == 0)
		rc = sybuf_addstr(b, ") AS \"__v\"(\"__set\"");
	for (i = 0; i < c0->np && rc == 0; i++)
		rc = sybuf_printf(b, ", \"__p%zu\"", i);
	if (rc == 0)
		rc = sybuf_addstr(b, ", \"__lim\", \"__off\")");
	if (rc == 0)
		rc = lateral_query(b, p, t, c0);
	if (rc == 0)
		rc = sybuf_printf(b, ") AS \"s%zu\"", g[0]);
	return (rc);
}

/* Statement for the distinct sets ds[0..n): branches, or LATERAL groups. */
static int
emit_stmt(struct dbsql_plan *p, enum dbsql_dialect dl,
    const struct dbsql_table *t, struct cset *cs, const size_t *rep,
    const size_t *ds, size_t n)
{
	struct dbsql_stmt	*st, *ns;
	struct sybuf		 b;
	size_t			*g, *done, i, j, ng;
	int			 rc = 0;

	if ((ns = reallocarray(p->stmts, p->nstmts + 1, sizeof(*ns))) == NULL)
		return (-1);
	p->stmts = ns;
	st = &p->stmts[p->nstmts++];
	memset(st, 0, sizeof(*st));
	sybuf_init(&b);
	g = calloc(n, sizeof(*g));
	done = calloc(n, sizeof(*done));
	if ((st->sets = calloc(n, sizeof(size_t))) == NULL || g == NULL ||
	    done == NULL)
		rc = -1;
	for (i = 0; i < n && rc == 0; i++) {
		if (done[i])
			continue;
		g[0] = ds[i];
		ng = done[i] = 1;
		for (j = i + 1; dl == DBSQL_POSTGRES && j < n; j++)
			if (!done[j] && same_shape(&cs[rep[ds[i]]],
			    &cs[rep[ds[j]]])) {
				g[ng++] = ds[j];
				done[j] = 1;
			}
		if (ng >= 2)
			rc = add_lateral(&b, st, p, t, g, ng, cs, rep);
		else
			rc = add_branch(&b, st, dl, p, t, ds[i],
			    &cs[rep[ds[i]]]);
	}
	if (rc == 0 && sybuf_addstr(&b, " ORDER BY 1, 2") == 0)
		st->sql = sybuf_detach(&b);
	else
		rc = -1;
	sybuf_free(&b);
	free(g);
	free(done);
	return (rc);
}

/* Group the runnable distinct sets into statements. */
static int
build_stmts(struct dbsql_plan *p, enum dbsql_dialect dl,
    const struct dbsql_table *t, struct cset *cs, const size_t *rep,
    size_t batchsize)
{
	size_t	*ds, d, n = 0, np = 0;
	int	 rc = 0;

	if ((ds = calloc(p->ndistinct + 1, sizeof(*ds))) == NULL)
		return (-1);
	for (d = 0; d < p->ndistinct && rc == 0; d++) {
		if (p->errs[d].code != DB_OK)
			continue;
		if (n > 0 && (n >= batchsize || np + cs[rep[d]].np + 2 >
		    DBSQL_MAXPARAMS)) {
			rc = emit_stmt(p, dl, t, cs, rep, ds, n);
			n = np = 0;
		}
		ds[n++] = d;
		np += cs[rep[d]].np + 2;
	}
	if (rc == 0 && n > 0)
		rc = emit_stmt(p, dl, t, cs, rep, ds, n);
	free(ds);
	return (rc);
}

/* The selected columns: every exposed one, or the named ones. */
static int
select_cols(struct dbsql_plan *p, const struct dbsql_table *t,
    const char *const *sel, size_t nsel, struct db_error *err)
{
	size_t	 i, n = sel != NULL ? nsel : t->ncols;

	if ((p->cols = calloc(n ? n : 1, sizeof(char *))) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		if (sel != NULL && find_col(t, sel[i]) == NULL) {
			dbsql_seterr(err, DB_NOT_FOUND,
			    "unknown column \"%.64s\"", sel[i]);
			return (-1);
		}
		if ((p->cols[i] = strdup(sel != NULL ? sel[i] :
		    t->cols[i].name)) == NULL)
			goto oom;
		p->ncols = i + 1;
	}
	return (0);
oom:
	dbsql_seterr(err, DB_DATABASE_ERROR, "out of memory");
	return (-1);
}

int
dbsql_plan(struct dbsql_plan *p, enum dbsql_dialect dl,
    const struct dbsql_table *t, const char *const *sel, size_t nsel,
    const struct dbsql_args *args, size_t nargs, int64_t maxrows,
    size_t batchsize, struct db_error *err)
{
	struct cset	*cs = NULL;
	size_t		*rep = NULL, i, d;
	int		 rc = -1;

	memset(p, 0, sizeof(*p));
	err->code = DB_OK;
	err->msg[0] = '\0';
	if (batchsize == 0)
		batchsize = 1;
	if (select_cols(p, t, sel, nsel, err) == -1)
		return (-1);
	p->nsets = nargs;
	cs = calloc(nargs ? nargs : 1, sizeof(*cs));
	p->map = calloc(nargs ? nargs : 1, sizeof(size_t));
	if (cs == NULL || p->map == NULL)
		goto oom;
	for (i = 0; i < nargs; i++) {
		compile_set(&cs[i], dl, t, &args[i], maxrows);
		if (cs[i].oom)
			goto oom;
	}
	if (dedupe(p, cs, nargs, &rep) == -1)
		goto oom;
	p->errs = calloc(p->ndistinct ? p->ndistinct : 1, sizeof(*p->errs));
	p->one = calloc(p->ndistinct ? p->ndistinct : 1, sizeof(int));
	if (p->errs == NULL || p->one == NULL)
		goto oom;
	for (d = 0; d < p->ndistinct; d++) {
		p->errs[d] = cs[rep[d]].err;
		p->one[d] = cs[rep[d]].one;
	}
	if (build_stmts(p, dl, t, cs, rep, batchsize) == -1)
		goto oom;
	rc = 0;
	goto out;
oom:
	dbsql_seterr(err, DB_DATABASE_ERROR, "out of memory");
	dbsql_plan_free(p);
out:
	for (i = 0; cs != NULL && i < nargs; i++)
		cset_free(&cs[i]);
	free(cs);
	free(rep);
	return (rc);
}

void
dbsql_plan_free(struct dbsql_plan *p)
{
	size_t	 i;

	for (i = 0; i < p->ncols; i++)
		free(p->cols[i]);
	free(p->cols);
	for (i = 0; i < p->nstmts; i++)
		dbsql_stmt_free(&p->stmts[i]);
	free(p->stmts);
	free(p->map);
	free(p->errs);
	free(p->one);
	memset(p, 0, sizeof(*p));
}

static int
text_param(struct dbsql_param *p, const char *s)
{
	memset(p, 0, sizeof(*p));
	p->kind = DBSQL_PTEXT;
	p->s = strdup(s);
	p->text = strdup(s);
	return (p->s == NULL || p->text == NULL ? -1 : 0);
}

int
dbsql_introspect(struct dbsql_stmt *st, enum dbsql_dialect dl,
    const char *schema, const char *table)
{
	static const char sqlite_sql[] =
	    "SELECT p.name, p.type, 0 FROM sqlite_master AS m, "
	    "pragma_table_info(m.name) AS p WHERE m.type = 'table' AND "
	    "m.name = ? ORDER BY p.cid";
	static const char pg_sql[] =
	    "SELECT a.attname, pg_catalog.format_type(a.atttypid, "
	    "NULL), a.attcollation <> 0 "
	    "FROM pg_catalog.pg_attribute a "
	    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
	    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE n.nspname = $1 AND c.relname = $2 "
	    "AND c.relkind IN ('r', 'p') AND a.attnum > 0 "
	    "AND NOT a.attisdropped ORDER BY a.attnum";

	memset(st, 0, sizeof(*st));
	st->sql = strdup(dl == DBSQL_SQLITE ? sqlite_sql : pg_sql);
	st->params = calloc(2, sizeof(*st->params));
	if (st->sql == NULL || st->params == NULL)
		goto fail;
	if (dl == DBSQL_POSTGRES && text_param(&st->params[st->nparams++],
	    schema != NULL ? schema : "public") == -1)
		goto fail;
	if (text_param(&st->params[st->nparams++], table) == -1)
		goto fail;
	return (0);
fail:
	dbsql_stmt_free(st);
	return (-1);
}
