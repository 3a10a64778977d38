/*
 * rule_eval.c: evaluating a compiled security rule (SPEC section 6)
 * against a call's claims and params; rule.c compiles the tree and its
 * opening comment fixes the semantics this file implements.  Nothing is
 * parsed here, and memory is allocated only when force builds values;
 * every failure answers a verdict, nothing aborts.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jpath.h"
#include "rule.h"
#include "rule_int.h"
#include "util.h"

static enum rule_verdict rule_run(const struct rule *, struct rule_env *,
			    const char **);

/* A path variable (not the token); 1 and *out when present. */
static int
rule_find(const struct rule_var *var, const struct rule_env *env,
    struct json_object **out)
{
	struct json_object	*root = env->params;

	if (var->src == RULE_SRC_AUTH)
		root = env->auth;
	else if (var->src == RULE_SRC_READ)
		root = env->read;
	return (jpath_get(root, &var->path, out));
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
