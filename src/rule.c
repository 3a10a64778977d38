/*
 * rule.c: Space Cloud's security rules (SPEC section 6).  A rule object
 * is compiled once into a tree of struct rule: operator and type names
 * become enums, literals are converted to their match type (dates parsed,
 * numbers read) and variables are split into path segments, so that
 * evaluation parses nothing and allocates only when force builds values.
 *
 * Compilation runs both in the master (config validation) and in workers
 * (record decoding); it reports every problem with its JSON path and
 * never aborts on a failed allocation ("out of memory" instead).
 *
 * Evaluation semantics, fixed here:
 * - A match whose operand cannot be resolved (a missing variable, a
 *   value of the wrong JSON type, JSON null) fails, whatever the
 *   operator: "!=" and "notIn" fail closed too.  Types are strict: a
 *   number is a JSON number (never a numeric string), a bool is JSON
 *   true/false, a date is an RFC 3339 string or utils.now().
 * - utils.exists(X) is true when X is present and not null;
 *   utils.length(X) counts array elements, string bytes or object
 *   members, and is missing for anything else.
 * - force copies its value (deep copy: params never share objects with
 *   the rule); a missing variable sets the field to null; utils.now()
 *   becomes an RFC 3339 UTC string.  Intermediate members that are
 *   missing or cannot hold the next segment are replaced by new objects.
 * - Webhooks are numbered in pre-order (a rule before its clauses,
 *   clauses in order); the caller supplies their outcomes.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "jconf.h"
#include "jpath.h"
#include "rule.h"
#include "util.h"

#define RULE_DEPTH_MAX		64
#define RULE_HOOK_TIMEOUT	5.0
#define RULE_HOOK_TIMEOUT_MAX	86400.0
#define RULE_F_PARAMS		0x1	/* reads or writes params */
#define RULE_F_CHANGES		0x2	/* writes args.params */

enum rule_kind {
	RULE_ALLOW, RULE_DENY, RULE_AUTHENTICATED, RULE_MATCH, RULE_AND,
	RULE_OR, RULE_FORCE, RULE_REMOVE, RULE_WEBHOOK
};

enum rule_type { RULE_T_STRING, RULE_T_NUMBER, RULE_T_BOOL, RULE_T_DATE };

enum rule_op {
	RULE_EQ, RULE_NE, RULE_LT, RULE_LE, RULE_GT, RULE_GE, RULE_IN,
	RULE_NOTIN
};

enum rule_src { RULE_SRC_AUTH, RULE_SRC_PARAMS, RULE_SRC_TOKEN, RULE_SRC_NOW };
enum rule_fn { RULE_FN_NONE, RULE_FN_EXISTS, RULE_FN_LENGTH };

/* args.auth.a.0, args.params.x, args.token, utils.now(), utils.f(X) */
struct rule_var {
	enum rule_src	 src;
	enum rule_fn	 fn;
	struct jpath	 path;	/* after args.auth / args.params */
};

/* A value converted to the match type. */
struct rule_val {
	const char	*s;
	size_t		 len;
	double		 d;
	int64_t		 sec;
	long		 nsec;
	int		 b;
};

struct rule_operand {
	int			 is_var;
	struct rule_var		 var;
	struct json_object	*lit;	/* owned copy; NULL: JSON null */
	struct rule_val		 val;	/* lit converted (scalar) */
	struct rule_val		*vals;	/* same, for in/notIn */
	size_t			 nvals;
};

struct rule {
	enum rule_kind		 kind;
	char			*error;
	int			 flags;
	enum rule_type		 type;		/* match */
	enum rule_op		 op;
	struct rule_operand	 f1, f2;
	struct rule		**clauses;	/* and, or */
	size_t			 nclauses;
	struct rule		*clause;	/* force, remove */
	struct rule_var		*fields;
	size_t			 nfields;
	struct rule_operand	 value;		/* force */
	char			*url;		/* webhook */
	double			 timeout;
	size_t			 hook;
	struct rule_webhook	*hooks;		/* top level only */
	size_t			 nhooks;
};

static const char *const rule_kinds[] = {
	"allow", "deny", "authenticated", "match", "and", "or", "force",
	"remove", "webhook"
};
static const char *const rule_types[] = { "string", "number", "bool",
	"date" };
static const char *const rule_types_a[] = { "a string", "a number",
	"true or false", "an RFC 3339 date such as \"2026-11-26T12:00:00Z\"" };
static const char *const rule_ops[] = { "==", "!=", "<", "<=", ">", ">=",
	"in", "notIn" };

#define RULE_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static struct rule	*rule_node(struct json_object *, const char *,
			    struct syerrs *, int);
static void		 rule_free_node(struct rule *);
static enum rule_verdict rule_run(const struct rule *, struct rule_env *,
			    const char **);

/*
 * Compile-time helpers
 */

/* 1 when s (len bytes) begins with prefix. */
static int
rule_prefix(const char *s, size_t len, const char *prefix)
{
	size_t	plen = strlen(prefix);

	return (len >= plen && memcmp(s, prefix, plen) == 0);
}

/*
 * Dates (RFC 3339)
 */

/* n decimal digits at s into *v; 0 / -1. */
static int
rule_digits(const char *s, int n, int *v)
{
	int	i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		*v = *v * 10 + (s[i] - '0');
	}
	return (0);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
rule_days(int y, int m, int d)
{
	int64_t		era;
	unsigned	yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + (int64_t)doe - 719468);
}

static int
rule_mdays(int y, int m)
{
	static const int	mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
				    31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return (29);
	return (mdays[m - 1]);
}

/* The fraction and offset after "...HH:MM:SS"; 0 / -1. */
static int
rule_date_tail(const char *s, size_t len, long *nsec, int *off)
{
	size_t	i = 0;
	long	scale = 100000000;
	int	oh, om;

	*nsec = 0;
	*off = 0;
	if (i < len && s[i] == '.') {
		if (++i >= len || s[i] < '0' || s[i] > '9')
			return (-1);
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			*nsec += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (len - i == 1 && (s[i] == 'Z' || s[i] == 'z'))
		return (0);
	if (len - i != 6 || (s[i] != '+' && s[i] != '-') ||
	    rule_digits(s + i + 1, 2, &oh) == -1 || s[i + 3] != ':' ||
	    rule_digits(s + i + 4, 2, &om) == -1 || oh > 23 || om > 59)
		return (-1);
	*off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
	return (0);
}

/* "2026-11-26T12:00:00.5+01:00" to an instant; 0 / -1. */
static int
rule_date_parse(const char *s, size_t len, int64_t *sec, long *nsec)
{
	int	y, mo, d, h, mi, se, off;

	if (len < 20 || rule_digits(s, 4, &y) == -1 || s[4] != '-' ||
	    rule_digits(s + 5, 2, &mo) == -1 || s[7] != '-' ||
	    rule_digits(s + 8, 2, &d) == -1 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    rule_digits(s + 11, 2, &h) == -1 || s[13] != ':' ||
	    rule_digits(s + 14, 2, &mi) == -1 || s[16] != ':' ||
	    rule_digits(s + 17, 2, &se) == -1 ||
	    rule_date_tail(s + 19, len - 19, nsec, &off) == -1)
		return (-1);
	if (mo < 1 || mo > 12 || d < 1 || d > rule_mdays(y, mo) || h > 23 ||
	    mi > 59 || se > 60)
		return (-1);
	*sec = rule_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
	return (0);
}

/* Unix time t split into seconds and nanoseconds (no libm). */
static void
rule_split_time(double t, int64_t *sec, long *nsec)
{
	*sec = (int64_t)t;
	if ((double)*sec > t)
		(*sec)--;
	*nsec = (long)((t - (double)*sec) * 1e9);
	if (*nsec > 999999999)
		*nsec = 999999999;
}

/* t (Unix seconds) as "2026-11-26T12:00:00Z", ".123" when fractional. */
static struct json_object *
rule_date_json(double t)
{
	struct tm	tm;
	time_t		sec;
	int64_t		s;
	long		ns;
	char		buf[64];
	size_t		n;

	rule_split_time(t, &s, &ns);
	sec = (time_t)s;
	if (gmtime_r(&sec, &tm) == NULL)
		return (NULL);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	if (ns / 1000000 != 0)
		snprintf(buf + n, sizeof(buf) - n, ".%03ldZ", ns / 1000000);
	else
		snprintf(buf + n, sizeof(buf) - n, "Z");
	return (json_object_new_string(buf));
}

/*
 * Variables
 */

/* args.token, args.auth[.X...], args.params[.X...]; 0 / -1 / -2. */
static int
rule_var_path(struct rule_var *var, const char *s, size_t len)
{
	static const struct {
		const char	*name;
		enum rule_src	 src;
	} roots[] = {
		{ "args.auth", RULE_SRC_AUTH },
		{ "args.params", RULE_SRC_PARAMS },
	};
	size_t	i, n;

	if (len == 10 && memcmp(s, "args.token", 10) == 0) {
		var->src = RULE_SRC_TOKEN;
		return (0);
	}
	for (i = 0; i < RULE_NELEM(roots); i++) {
		n = strlen(roots[i].name);
		if (!rule_prefix(s, len, roots[i].name) ||
		    (len > n && s[n] != '.'))
			continue;
		var->src = roots[i].src;
		return (len == n ? 0 : jpath_compile(&var->path, s + n + 1,
		    len - n - 1));
	}
	return (-1);
}

/* Any variable; 0, -1 (unknown), -2 (out of memory). */
static int
rule_var_parse(struct rule_var *var, const char *s, size_t len)
{
	static const struct {
		const char	*name;
		enum rule_fn	 fn;
	} fns[] = {
		{ "utils.exists(", RULE_FN_EXISTS },
		{ "utils.length(", RULE_FN_LENGTH },
	};
	size_t	i, n;
	int	rc;

	memset(var, 0, sizeof(*var));
	if (memchr(s, '\0', len) != NULL)
		return (-1);
	if (len == 11 && memcmp(s, "utils.now()", 11) == 0) {
		var->src = RULE_SRC_NOW;
		return (0);
	}
	for (i = 0; i < RULE_NELEM(fns); i++) {
		n = strlen(fns[i].name);
		if (!rule_prefix(s, len, fns[i].name) || len <= n + 1 ||
		    s[len - 1] != ')')
			continue;
		if ((rc = rule_var_path(var, s + n, len - n - 1)) == 0)
			var->fn = fns[i].fn;
		return (rc);
	}
	return (rule_var_path(var, s, len));
}

static void
rule_var_free(struct rule_var *var)
{
	jpath_free(&var->path);
}

/* Compile variable string v into var, reporting at path.member. */
static int
rule_c_var(struct rule_var *var, struct json_object *v, const char *path,
    const char *member, struct syerrs *errs)
{
	const char	*s = json_object_get_string(v);
	int		 rc;

	rc = rule_var_parse(var, s, (size_t)json_object_get_string_len(v));
	if (rc == -2)
		return (jconf_err(errs, path, member, "out of memory"));
	if (rc == -1)
		return (jconf_err(errs, path, member, "unknown variable \"%s\" "
		    "(expected args.auth.X, args.params.X, args.token, "
		    "utils.now(), utils.exists(X) or utils.length(X))", s));
	return (0);
}

/* 1 when v is a string that names a variable. */
static int
rule_is_var(struct json_object *v)
{
	const char	*s;
	size_t		 len;

	if (!json_object_is_type(v, json_type_string))
		return (0);
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	return (rule_prefix(s, len, "args.") || rule_prefix(s, len, "utils."));
}

/*
 * Operands
 */

/* Convert JSON value o to type t; 0 / -1 (wrong type). */
static int
rule_json_val(struct json_object *o, enum rule_type t, struct rule_val *v)
{
	switch (t) {
	case RULE_T_STRING:
		if (!json_object_is_type(o, json_type_string))
			return (-1);
		v->s = json_object_get_string(o);
		v->len = (size_t)json_object_get_string_len(o);
		return (0);
	case RULE_T_NUMBER:
		if (!json_object_is_type(o, json_type_int) &&
		    !json_object_is_type(o, json_type_double))
			return (-1);
		v->d = json_object_get_double(o);
		return (isfinite(v->d) ? 0 : -1);
	case RULE_T_BOOL:
		if (!json_object_is_type(o, json_type_boolean))
			return (-1);
		v->b = json_object_get_boolean(o);
		return (0);
	case RULE_T_DATE:
		if (!json_object_is_type(o, json_type_string))
			return (-1);
		return (rule_date_parse(json_object_get_string(o),
		    (size_t)json_object_get_string_len(o), &v->sec, &v->nsec));
	}
	return (-1);
}

/* Can variable var be an operand of type t (list: f2 of in/notIn)? */
static int
rule_c_var_type(const struct rule_var *var, enum rule_type t, int list,
    const char *path, const char *member, struct syerrs *errs)
{
	if (list && (var->fn != RULE_FN_NONE || var->src == RULE_SRC_NOW ||
	    var->src == RULE_SRC_TOKEN))
		return (jconf_err(errs, path, member, "must be an array, or an "
		    "args.auth or args.params variable that holds one"));
	if (var->fn == RULE_FN_EXISTS && t != RULE_T_BOOL)
		return (jconf_err(errs, path, member, "utils.exists() gives a "
		    "bool: use type \"bool\""));
	if (var->fn == RULE_FN_LENGTH && t != RULE_T_NUMBER)
		return (jconf_err(errs, path, member, "utils.length() gives a "
		    "number: use type \"number\""));
	if (var->fn == RULE_FN_NONE && var->src == RULE_SRC_NOW &&
	    t != RULE_T_DATE && t != RULE_T_NUMBER)
		return (jconf_err(errs, path, member, "utils.now() needs type "
		    "\"date\" or \"number\""));
	if (var->fn == RULE_FN_NONE && var->src == RULE_SRC_TOKEN &&
	    t != RULE_T_STRING)
		return (jconf_err(errs, path, member, "args.token is a string: "
		    "use type \"string\""));
	return (0);
}

/* A literal array operand of in/notIn, converted element by element. */
static int
rule_c_list(struct rule_operand *o, enum rule_type t, const char *path,
    const char *member, struct syerrs *errs)
{
	size_t	i, n;
	char	elem[64];
	int	rc = 0;

	if (!json_object_is_type(o->lit, json_type_array))
		return (jconf_err(errs, path, member, "must be an array, or an "
		    "args.auth or args.params variable that holds one"));
	n = json_object_array_length(o->lit);
	if (n > 0 && (o->vals = calloc(n, sizeof(*o->vals))) == NULL)
		return (jconf_err(errs, path, member, "out of memory"));
	o->nvals = n;
	for (i = 0; i < n; i++) {
		if (rule_json_val(json_object_array_get_idx(o->lit, i), t,
		    &o->vals[i]) == 0)
			continue;
		snprintf(elem, sizeof(elem), "%s[%zu]", member, i);
		rc = jconf_err(errs, path, elem, "must be %s", rule_types_a[t]);
	}
	return (rc);
}

/* Operand member of match (list: f2 of in/notIn). */
static int
rule_c_operand(struct rule_operand *o, struct json_object *v,
    enum rule_type t, int list, const char *path, const char *member,
    struct syerrs *errs)
{
	if (rule_is_var(v)) {
		o->is_var = 1;
		if (rule_c_var(&o->var, v, path, member, errs) == -1)
			return (-1);
		return (rule_c_var_type(&o->var, t, list, path, member, errs));
	}
	if (v != NULL && json_object_deep_copy(v, &o->lit, NULL) != 0)
		return (jconf_err(errs, path, member, "out of memory"));
	if (list)
		return (rule_c_list(o, t, path, member, errs));
	if (rule_json_val(o->lit, t, &o->val) == -1)
		return (jconf_err(errs, path, member, "must be %s",
		    rule_types_a[t]));
	return (0);
}

static void
rule_operand_free(struct rule_operand *o)
{
	rule_var_free(&o->var);
	json_object_put(o->lit);
	free(o->vals);
}

static int
rule_operand_flags(const struct rule_operand *o)
{
	return (o->is_var && o->var.src == RULE_SRC_PARAMS ? RULE_F_PARAMS :
	    0);
}

/*
 * Compiling each rule
 */

static int
rule_c_match(struct rule *r, struct json_object *v, const char *path,
    struct syerrs *errs)
{
	struct json_object	*type = jconf_get(v, "type");
	struct json_object	*op = jconf_get(v, "eval"), *f1, *f2;
	int			 t, o, rc = 0;

	if ((t = jconf_name_index(type, rule_types, 4)) == -1)
		rc = type == NULL ? jconf_err(errs, path, NULL, "missing "
		    "\"type\"") : jconf_err(errs, path, "type", "must be "
		    "\"string\", \"number\", \"bool\" or \"date\"");
	if ((o = jconf_name_index(op, rule_ops, 8)) == -1)
		rc = op == NULL ? jconf_err(errs, path, NULL, "missing "
		    "\"eval\"") : jconf_err(errs, path, "eval", "must be ==, "
		    "!=, <, <=, >, >=, in or notIn");
	else if (t == RULE_T_BOOL && o != RULE_EQ && o != RULE_NE)
		rc = jconf_err(errs, path, "eval", "operator \"%s\" does not "
		    "apply to type \"bool\" (use == or !=)", rule_ops[o]);
	if (!json_object_object_get_ex(v, "f1", &f1))
		rc = jconf_err(errs, path, NULL, "missing \"f1\"");
	else if (t != -1 && rule_c_operand(&r->f1, f1, t, 0, path, "f1",
	    errs) == -1)
		rc = -1;
	if (!json_object_object_get_ex(v, "f2", &f2))
		rc = jconf_err(errs, path, NULL, "missing \"f2\"");
	else if (t != -1 && o != -1 && rule_c_operand(&r->f2, f2, t,
	    o == RULE_IN || o == RULE_NOTIN, path, "f2", errs) == -1)
		rc = -1;
	r->type = t;
	r->op = o;
	r->flags = rule_operand_flags(&r->f1) | rule_operand_flags(&r->f2);
	return (rc);
}

static int
rule_c_logic(struct rule *r, struct json_object *v, const char *path,
    struct syerrs *errs, int depth)
{
	struct json_object	*cl = jconf_get(v, "clauses");
	size_t			 i, n;
	char			*sub;
	int			 rc = 0;

	if (cl == NULL)
		return (jconf_err(errs, path, NULL, "missing \"clauses\""));
	if (!json_object_is_type(cl, json_type_array) ||
	    (n = json_object_array_length(cl)) == 0)
		return (jconf_err(errs, path, "clauses", "must be a non-empty "
		    "array of rules"));
	if ((r->clauses = calloc(n, sizeof(*r->clauses))) == NULL)
		return (jconf_err(errs, path, NULL, "out of memory"));
	r->nclauses = n;
	for (i = 0; i < n; i++) {
		if ((sub = jconf_strf("%s.clauses[%zu]", path, i)) == NULL)
			return (jconf_err(errs, path, NULL, "out of memory"));
		r->clauses[i] = rule_node(json_object_array_get_idx(cl, i),
		    sub, errs, depth + 1);
		free(sub);
		if (r->clauses[i] == NULL)
			rc = -1;
		else
			r->flags |= r->clauses[i]->flags;
	}
	return (rc);
}

/* The optional "clause" of force and remove. */
static int
rule_c_clause(struct rule *r, struct json_object *v, const char *path,
    struct syerrs *errs, int depth)
{
	struct json_object	*cl = jconf_get(v, "clause");
	char			*sub;

	if (cl == NULL)
		return (0);
	if ((sub = jconf_cat(path, ".clause", (char *)NULL)) == NULL)
		return (jconf_err(errs, path, NULL, "out of memory"));
	r->clause = rule_node(cl, sub, errs, depth + 1);
	free(sub);
	if (r->clause == NULL)
		return (-1);
	r->flags |= r->clause->flags;
	return (0);
}

/* A field of force or remove: args.params.X[.Y...]. */
static int
rule_c_field(struct rule_var *var, struct json_object *v, const char *path,
    const char *member, struct syerrs *errs)
{
	int	rc = -1;

	if (json_object_is_type(v, json_type_string))
		rc = rule_var_parse(var, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	if (rc == -2)
		return (jconf_err(errs, path, member, "out of memory"));
	if (rc == -1 || var->fn != RULE_FN_NONE ||
	    var->src != RULE_SRC_PARAMS || var->path.nseg == 0)
		return (jconf_err(errs, path, member, "must name a parameter, "
		    "as in \"args.params.owner\""));
	return (0);
}

static int
rule_c_force(struct rule *r, struct json_object *v, const char *path,
    struct syerrs *errs, int depth)
{
	struct json_object	*f = jconf_get(v, "field"), *val;
	int			 rc = 0;

	r->flags = RULE_F_PARAMS | RULE_F_CHANGES;
	if ((r->fields = calloc(1, sizeof(*r->fields))) == NULL)
		return (jconf_err(errs, path, NULL, "out of memory"));
	r->nfields = 1;
	if (f == NULL)
		rc = jconf_err(errs, path, NULL, "missing \"field\"");
	else if (rule_c_field(r->fields, f, path, "field", errs) == -1)
		rc = -1;
	if (!json_object_object_get_ex(v, "value", &val))
		rc = jconf_err(errs, path, NULL, "missing \"value\"");
	else if (rule_is_var(val)) {
		r->value.is_var = 1;
		if (rule_c_var(&r->value.var, val, path, "value", errs) == -1)
			rc = -1;
	} else if (val != NULL &&
	    json_object_deep_copy(val, &r->value.lit, NULL) != 0)
		rc = jconf_err(errs, path, "value", "out of memory");
	if (rule_c_clause(r, v, path, errs, depth) == -1)
		rc = -1;
	return (rc);
}

static int
rule_c_remove(struct rule *r, struct json_object *v, const char *path,
    struct syerrs *errs, int depth)
{
	struct json_object	*f = jconf_get(v, "fields");
	size_t			 i, n;
	char			 elem[64];
	int			 rc = 0;

	r->flags = RULE_F_PARAMS | RULE_F_CHANGES;
	if (f == NULL)
		rc = jconf_err(errs, path, NULL, "missing \"fields\"");
	else if (!json_object_is_type(f, json_type_array) ||
	    (n = json_object_array_length(f)) == 0)
		rc = jconf_err(errs, path, "fields", "must be a non-empty array "
		    "of parameters, as in [\"args.params.owner\"]");
	else if ((r->fields = calloc(n, sizeof(*r->fields))) == NULL)
		return (jconf_err(errs, path, NULL, "out of memory"));
	else {
		r->nfields = n;
		for (i = 0; i < n; i++) {
			snprintf(elem, sizeof(elem), "fields[%zu]", i);
			if (rule_c_field(&r->fields[i],
			    json_object_array_get_idx(f, i), path, elem,
			    errs) == -1)
				rc = -1;
		}
	}
	if (rule_c_clause(r, v, path, errs, depth) == -1)
		rc = -1;
	return (rc);
}

static int
rule_c_webhook(struct rule *r, struct json_object *v, const char *path,
    struct syerrs *errs)
{
	struct json_object	*u = jconf_get(v, "url"), *t;
	int			 rc = 0;

	r->flags = RULE_F_PARAMS;
	r->timeout = RULE_HOOK_TIMEOUT;
	if (u == NULL)
		rc = jconf_err(errs, path, NULL, "missing \"url\"");
	else if (jconf_str(u) == NULL ||
	    jconf_url_problem(jconf_str(u)) != NULL)
		rc = jconf_err(errs, path, "url", "must be an http:// or "
		    "https:// URL without spaces or control characters");
	else if ((r->url = strdup(json_object_get_string(u))) == NULL)
		rc = jconf_err(errs, path, NULL, "out of memory");
	if ((t = jconf_get(v, "timeout")) == NULL)
		return (rc);
	if (json_object_is_type(t, json_type_int) ||
	    json_object_is_type(t, json_type_double))
		r->timeout = json_object_get_double(t);
	else
		r->timeout = -1;
	if (!(r->timeout > 0 && r->timeout <= RULE_HOOK_TIMEOUT_MAX))
		rc = jconf_err(errs, path, "timeout", "must be a number of "
		    "seconds greater than 0 and at most %g",
		    RULE_HOOK_TIMEOUT_MAX);
	return (rc);
}

/* The "rule" and "error" members; the kind, or -1. */
static int
rule_c_head(struct json_object *v, const char *path, struct syerrs *errs)
{
	struct json_object	*name, *msg;
	int			 kind;

	if (!json_object_is_type(v, json_type_object))
		return (jconf_err(errs, path, NULL, "must be an object such as "
		    "{\"rule\": \"allow\"}"));
	if ((name = jconf_get(v, "rule")) == NULL)
		return (jconf_err(errs, path, NULL, "missing the \"rule\" "
		    "member, as in {\"rule\": \"allow\"}"));
	if (!json_object_is_type(name, json_type_string))
		return (jconf_err(errs, path, NULL, "\"rule\" must be a "
		    "string"));
	kind = jconf_name_index(name, rule_kinds, RULE_NELEM(rule_kinds));
	if (kind == -1)
		return (jconf_err(errs, path, NULL, "unknown rule \"%s\"",
		    json_object_get_string(name)));
	if ((msg = jconf_get(v, "error")) != NULL &&
	    !json_object_is_type(msg, json_type_string))
		return (jconf_err(errs, path, NULL, "\"error\" must be a "
		    "string"));
	return (kind);
}

static struct rule *
rule_node(struct json_object *v, const char *path, struct syerrs *errs,
    int depth)
{
	struct json_object	*msg;
	struct rule		*r;
	int			 kind, rc = 0;

	if (depth > RULE_DEPTH_MAX) {
		jconf_err(errs, path, NULL, "rules nested too deeply (at most "
		    "%d levels)", RULE_DEPTH_MAX);
		return (NULL);
	}
	if ((kind = rule_c_head(v, path, errs)) == -1)
		return (NULL);
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		jconf_err(errs, path, NULL, "out of memory");
		return (NULL);
	}
	r->kind = kind;
	if ((msg = jconf_get(v, "error")) != NULL &&
	    (r->error = strdup(json_object_get_string(msg))) == NULL)
		rc = jconf_err(errs, path, NULL, "out of memory");
	else if (kind == RULE_MATCH)
		rc = rule_c_match(r, v, path, errs);
	else if (kind == RULE_AND || kind == RULE_OR)
		rc = rule_c_logic(r, v, path, errs, depth);
	else if (kind == RULE_FORCE)
		rc = rule_c_force(r, v, path, errs, depth);
	else if (kind == RULE_REMOVE)
		rc = rule_c_remove(r, v, path, errs, depth);
	else if (kind == RULE_WEBHOOK)
		rc = rule_c_webhook(r, v, path, errs);
	if (rc == -1) {
		rule_free_node(r);
		return (NULL);
	}
	return (r);
}

/* Number the webhooks in pre-order; with hooks NULL, only count. */
static void
rule_number_hooks(struct rule *r, struct rule_webhook *hooks, size_t *n)
{
	size_t	i;

	if (r->kind == RULE_WEBHOOK) {
		if (hooks != NULL) {
			r->hook = *n;
			hooks[*n].url = r->url;
			hooks[*n].timeout = r->timeout;
		}
		(*n)++;
	}
	for (i = 0; i < r->nclauses; i++)
		rule_number_hooks(r->clauses[i], hooks, n);
	if (r->clause != NULL)
		rule_number_hooks(r->clause, hooks, n);
}

struct rule *
rule_compile(struct json_object *v, const char *path, struct syerrs *errs)
{
	struct rule	*r;
	size_t		 n = 0;

	if ((r = rule_node(v, path, errs, 0)) == NULL)
		return (NULL);
	rule_number_hooks(r, NULL, &n);
	if (n == 0)
		return (r);
	if ((r->hooks = calloc(n, sizeof(*r->hooks))) == NULL) {
		jconf_err(errs, path, NULL, "out of memory");
		rule_free(r);
		return (NULL);
	}
	rule_number_hooks(r, r->hooks, &r->nhooks);
	return (r);
}

static void
rule_free_node(struct rule *r)
{
	size_t	i;

	if (r == NULL)
		return;
	free(r->error);
	rule_operand_free(&r->f1);
	rule_operand_free(&r->f2);
	for (i = 0; i < r->nclauses; i++)
		rule_free_node(r->clauses[i]);
	free(r->clauses);
	rule_free_node(r->clause);
	for (i = 0; i < r->nfields; i++)
		rule_var_free(&r->fields[i]);
	free(r->fields);
	rule_operand_free(&r->value);
	free(r->url);
	free(r->hooks);
	free(r);
}

void
rule_free(struct rule *r)
{
	rule_free_node(r);
}

int
rule_needs_token(const struct rule *r)
{
	/* fail closed: no rule at all is treated as needing a token */
	return (r == NULL || r->kind != RULE_ALLOW);
}

int
rule_needs_params(const struct rule *r)
{
	return (r != NULL && (r->flags & RULE_F_PARAMS) != 0);
}

int
rule_changes_params(const struct rule *r)
{
	return (r != NULL && (r->flags & RULE_F_CHANGES) != 0);
}

size_t
rule_webhooks(const struct rule *r, const struct rule_webhook **out)
{
	*out = r != NULL ? r->hooks : NULL;
	return (r != NULL ? r->nhooks : 0);
}

/*
 * Evaluation
 */

/* A path variable (not the token); 1 and *out when present. */
static int
rule_find(const struct rule_var *var, const struct rule_env *env,
    struct json_object **out)
{
	return (jpath_get(var->src == RULE_SRC_AUTH ? env->auth : env->params,
	    &var->path, out));
}

static int
rule_exists(const struct rule_var *var, const struct rule_env *env)
{
	struct json_object	*o;

	if (var->src == RULE_SRC_TOKEN)
		return (env->token != NULL);
	return (rule_find(var, env, &o) && o != NULL);
}

/* utils.length(X); 0 / -1 (missing, or nothing with a length). */
static int
rule_length(const struct rule_var *var, const struct rule_env *env,
    double *len)
{
	struct json_object	*o;

	if (var->src == RULE_SRC_TOKEN) {
		if (env->token == NULL)
			return (-1);
		*len = (double)strlen(env->token);
		return (0);
	}
	if (!rule_find(var, env, &o))
		return (-1);
	if (json_object_is_type(o, json_type_array))
		*len = (double)json_object_array_length(o);
	else if (json_object_is_type(o, json_type_string))
		*len = (double)json_object_get_string_len(o);
	else if (json_object_is_type(o, json_type_object))
		*len = (double)json_object_object_length(o);
	else
		return (-1);
	return (0);
}

/* An operand as type t; 0 / -1 (missing or of another type). */
static int
rule_operand_val(const struct rule_operand *op, enum rule_type t,
    const struct rule_env *env, struct rule_val *v)
{
	struct json_object	*o;

	if (!op->is_var) {
		*v = op->val;
		return (0);
	}
	if (op->var.fn == RULE_FN_EXISTS) {
		v->b = rule_exists(&op->var, env);
		return (0);
	}
	if (op->var.fn == RULE_FN_LENGTH)
		return (rule_length(&op->var, env, &v->d));
	switch (op->var.src) {
	case RULE_SRC_NOW:
		if (!isfinite(env->now))
			return (-1);
		v->d = env->now;
		rule_split_time(env->now, &v->sec, &v->nsec);
		return (0);
	case RULE_SRC_TOKEN:
		if (env->token == NULL)
			return (-1);
		v->s = env->token;
		v->len = strlen(env->token);
		return (0);
	default:
		if (!rule_find(&op->var, env, &o))
			return (-1);
		return (rule_json_val(o, t, v));
	}
}

/* -1, 0, 1 as a is less than, equal to or greater than b. */
static int
rule_cmp(enum rule_type t, const struct rule_val *a, const struct rule_val *b)
{
	int	c;

	switch (t) {
	case RULE_T_STRING:
		c = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);
		if (c != 0)
			return (c < 0 ? -1 : 1);
		return (a->len < b->len ? -1 : a->len > b->len);
	case RULE_T_NUMBER:
		return (a->d < b->d ? -1 : a->d > b->d);
	case RULE_T_BOOL:
		return (a->b != b->b);
	case RULE_T_DATE:
		if (a->sec != b->sec)
			return (a->sec < b->sec ? -1 : 1);
		return (a->nsec < b->nsec ? -1 : a->nsec > b->nsec);
	}
	return (1);
}

/* in / notIn: f2 is a literal list or a variable holding an array. */
static enum rule_verdict
rule_run_in(const struct rule *r, const struct rule_env *env,
    const struct rule_val *a)
{
	struct json_object	*arr;
	struct rule_val		 b;
	size_t			 i, n;
	int			 found = 0;

	if (!r->f2.is_var) {
		for (i = 0; i < r->f2.nvals && !found; i++)
			found = rule_cmp(r->type, a, &r->f2.vals[i]) == 0;
	} else {
		if (!rule_find(&r->f2.var, env, &arr) ||
		    !json_object_is_type(arr, json_type_array))
			return (RULE_FAIL);
		n = json_object_array_length(arr);
		for (i = 0; i < n && !found; i++)
			found = rule_json_val(json_object_array_get_idx(arr, i),
			    r->type, &b) == 0 && rule_cmp(r->type, a, &b) == 0;
	}
	return (found == (r->op == RULE_IN) ? RULE_PASS : RULE_FAIL);
}

static enum rule_verdict
rule_run_match(const struct rule *r, const struct rule_env *env)
{
	struct rule_val	a, b;
	int		c;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (rule_operand_val(&r->f1, r->type, env, &a) == -1)
		return (RULE_FAIL);
	if (r->op == RULE_IN || r->op == RULE_NOTIN)
		return (rule_run_in(r, env, &a));
	if (rule_operand_val(&r->f2, r->type, env, &b) == -1)
		return (RULE_FAIL);
	c = rule_cmp(r->type, &a, &b);
	switch (r->op) {
	case RULE_EQ:
		return (c == 0 ? RULE_PASS : RULE_FAIL);
	case RULE_NE:
		return (c != 0 ? RULE_PASS : RULE_FAIL);
	case RULE_LT:
		return (c < 0 ? RULE_PASS : RULE_FAIL);
	case RULE_LE:
		return (c <= 0 ? RULE_PASS : RULE_FAIL);
	case RULE_GT:
		return (c > 0 ? RULE_PASS : RULE_FAIL);
	case RULE_GE:
		return (c >= 0 ? RULE_PASS : RULE_FAIL);
	default:
		return (RULE_FAIL);
	}
}

/* A new JSON value for force (*out NULL for null); 0 / -1 (memory). */
static int
rule_value_json(const struct rule_operand *op, const struct rule_env *env,
    struct json_object **out)
{
	struct json_object	*src = op->lit;
	double			 len;

	*out = NULL;
	if (op->is_var && op->var.fn == RULE_FN_EXISTS)
		*out = json_object_new_boolean(rule_exists(&op->var, env));
	else if (op->is_var && op->var.fn == RULE_FN_LENGTH) {
		if (rule_length(&op->var, env, &len) == -1)
			return (0);
		*out = json_object_new_int64((int64_t)len);
	} else if (op->is_var && op->var.src == RULE_SRC_NOW)
		*out = rule_date_json(env->now);
	else if (op->is_var && op->var.src == RULE_SRC_TOKEN) {
		if (env->token == NULL)
			return (0);
		*out = json_object_new_string(env->token);
	} else if (op->is_var && !rule_find(&op->var, env, &src))
		return (0);
	else if (src == NULL)
		return (0);
	else if (json_object_deep_copy(src, out, NULL) != 0)
		*out = NULL;
	return (*out == NULL ? -1 : 0);
}

/* 1 when o can take segment seg (an object, or an array and an index). */
static int
rule_holds(struct json_object *o, const struct jpath_seg *seg)
{
	return (json_object_is_type(o, json_type_object) ||
	    (json_object_is_type(o, json_type_array) && seg->is_idx));
}

/* Store val (taken over, even on failure) at seg of container o. */
static int
rule_put(struct json_object *o, const struct jpath_seg *seg,
    struct json_object *val)
{
	int	rc;

	if (json_object_is_type(o, json_type_object))
		rc = json_object_object_add(o, seg->key, val);
	else
		rc = json_object_array_put_idx(o, seg->idx, val);
	if (rc != 0)
		json_object_put(val);
	return (rc == 0 ? 0 : -1);
}

/* Set field f of *params to val (taken over); 0 / -1 (memory). */
static int
rule_set(struct json_object **params, const struct rule_var *f,
    struct json_object *val)
{
	struct json_object	*cur, *next;
	size_t			 i;

	if (!rule_holds(*params, &f->path.seg[0])) {
		if ((cur = json_object_new_object()) == NULL) {
			json_object_put(val);
			return (-1);
		}
		json_object_put(*params);
		*params = cur;
	}
	cur = *params;
	for (i = 0; i + 1 < f->path.nseg; i++) {
		if (!jpath_step(cur, &f->path.seg[i], &next) ||
		    !rule_holds(next, &f->path.seg[i + 1])) {
			if ((next = json_object_new_object()) == NULL ||
			    rule_put(cur, &f->path.seg[i], next) == -1) {
				json_object_put(val);
				return (-1);
			}
		}
		cur = next;
	}
	return (rule_put(cur, &f->path.seg[i], val));
}

static void
rule_del(struct json_object *params, const struct rule_var *f)
{
	const struct jpath_seg	*last = &f->path.seg[f->path.nseg - 1];
	struct json_object	*cur = params;
	size_t			 i;

	for (i = 0; i + 1 < f->path.nseg; i++)
		if (!jpath_step(cur, &f->path.seg[i], &cur))
			return;
	if (json_object_is_type(cur, json_type_object))
		json_object_object_del(cur, last->key);
	else if (json_object_is_type(cur, json_type_array) && last->is_idx &&
	    last->idx < json_object_array_length(cur))
		json_object_array_del_idx(cur, last->idx, 1);
}

/* force and remove: apply unless the clause fails; always pass. */
static enum rule_verdict
rule_run_change(const struct rule *r, struct rule_env *env)
{
	struct json_object	*val;
	const char		*ignored;
	size_t			 i;

	if (r->clause != NULL && rule_run(r->clause, env, &ignored) !=
	    RULE_PASS)
		return (RULE_PASS);
	if (r->kind == RULE_REMOVE) {
		for (i = 0; i < r->nfields; i++)
			rule_del(env->params, &r->fields[i]);
		return (RULE_PASS);
	}
	/* out of memory: fail closed rather than call without the field */
	if (rule_value_json(&r->value, env, &val) == -1 ||
	    rule_set(&env->params, &r->fields[0], val) == -1)
		return (RULE_FAIL);
	return (RULE_PASS);
}

static enum rule_verdict
rule_run_logic(const struct rule *r, struct rule_env *env,
    const char **error)
{
	const char	*e;
	size_t		 i;

	for (i = 0; i < r->nclauses; i++) {
		e = NULL;
		if (rule_run(r->clauses[i], env, &e) == RULE_PASS) {
			if (r->kind == RULE_OR)
				return (RULE_PASS);
			continue;
		}
		if (e != NULL)
			*error = e;
		if (r->kind == RULE_AND)
			return (RULE_FAIL);
	}
	return (r->kind == RULE_AND ? RULE_PASS : RULE_FAIL);
}

static enum rule_verdict
rule_run(const struct rule *r, struct rule_env *env, const char **error)
{
	enum rule_verdict	v;

	*error = NULL;
	switch (r->kind) {
	case RULE_ALLOW:
	case RULE_AUTHENTICATED:
		return (RULE_PASS);
	case RULE_DENY:
		v = RULE_FAIL;
		break;
	case RULE_MATCH:
		v = rule_run_match(r, env);
		break;
	case RULE_AND:
	case RULE_OR:
		v = rule_run_logic(r, env, error);
		break;
	case RULE_FORCE:
	case RULE_REMOVE:
		v = rule_run_change(r, env);
		break;
	case RULE_WEBHOOK:
		v = env->webhook_ok != NULL && r->hook < env->nwebhooks &&
		    env->webhook_ok[r->hook] ? RULE_PASS : RULE_FAIL;
		break;
	default:
		v = RULE_FAIL;
		break;
	}
	if (v == RULE_FAIL && *error == NULL)
		*error = r->error;
	return (v);
}

enum rule_verdict
rule_eval(const struct rule *r, struct rule_env *env, const char **error)
{
	const char		*e = NULL;
	enum rule_verdict	 v = RULE_FAIL;

	if (r != NULL)
		v = rule_run(r, env, &e);
	if (error != NULL)
		*error = v == RULE_FAIL ? e : NULL;
	return (v);
}
