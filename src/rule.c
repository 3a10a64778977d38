/*
 * rule.c: compiling Space Cloud's security rules (SPEC section 6); the
 * evaluation is in rule_eval.c and the dates in rule_date.c.  A rule
 * object is compiled once into a tree of struct rule: operator and type
 * names become enums, literals are converted to their match type (dates parsed,
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

#include <json-c/json.h>

#include "jconf.h"
#include "jpath.h"
#include "rule.h"
#include "rule_int.h"
#include "util.h"

#define RULE_DEPTH_MAX		64
#define RULE_HOOK_TIMEOUT	5.0
#define RULE_HOOK_TIMEOUT_MAX	86400.0

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
 * Variables
 */

/*
 * args.token, args.auth[.X...], args.params[.X...], args.find[.X...],
 * args.op, args.opts[.X...]; 0 / -1 / -2.
 */
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
	/* a database read's state (SPEC 8.10), path kept from find/op/opts */
	static const char *const reads[] = { "args.find", "args.opts",
		"args.op" };
	size_t	i, n;

	if (len == 10 && memcmp(s, "args.token", 10) == 0) {
		var->src = RULE_SRC_TOKEN;
		return (0);
	}
	for (i = 0; i < RULE_NELEM(reads); i++) {
		n = strlen(reads[i]);
		if (!rule_prefix(s, len, reads[i]) ||
		    (len > n && s[n] != '.'))
			continue;
		var->src = RULE_SRC_READ;
		return (jpath_compile(&var->path, s + 5, len - 5));
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
		    "args.find.X, args.op, args.opts.X, utils.now(), "
		    "utils.exists(X) or utils.length(X))", s));
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
int
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
		rc = jconf_err(errs, path, "fields", "must be a non-empty "
		    "array of parameters, as in [\"args.params.owner\"]");
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
