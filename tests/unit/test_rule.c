/*
 * test_rule.c: Space Cloud's security rules (rule.c): every rule, every
 * operator under every type, variables (auth, params, token, utils.*,
 * array indexes, missing and null values), and/or short-circuits and
 * error messages, force and remove on params, webhook numbering and
 * outcomes, the needs_* flags, and every compile error with its path.
 *
 * JSON in this file is written with single quotes, which q() turns into
 * double quotes, so that rules stay readable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "rule.h"
#include "util.h"

#define NOW	1795694400.0	/* 2026-11-26T12:00:00Z */

#define AUTH	"{'sub':'u1','role':'admin','age':30,'verified':true," \
		"'groups':['a','b'],'exp':1795698000,'org':{'id':7}}"
#define PARAMS	"{'id':'u1','n':5,'x':2.5,'flag':false,'list':[1,2,3]," \
		"'names':['ann','bob'],'nested':{'a':[{'b':'deep'}]}," \
		"'when':'2026-11-26T12:00:00Z','nul':null," \
		"'obj':{'k':1,'j':2},'str':'h\\u00e9llo'," \
		"'mixed':[1,'1',true],'numstr':'5'," \
		"'bad':'2026-02-30T00:00:00Z'}"
#define TOKEN	"hdr.claims.sig"

/* s with every ' turned into "; static storage, two slots in turn. */
static const char *
q(const char *s)
{
	static char	 buf[2][4096];
	static int	 slot;
	char		*p;

	slot = !slot;
	assert_true(strlen(s) < sizeof(buf[0]));
	strcpy(buf[slot], s);
	for (p = buf[slot]; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return (buf[slot]);
}

static struct json_object *
parse(const char *text)
{
	struct json_object	*o;

	if (text == NULL)
		return (NULL);
	o = json_tokener_parse(q(text));
	assert_non_null(o);
	return (o);
}

/* Compile text at path "x.rule"; it must succeed. */
static struct rule *
compile(const char *text)
{
	struct json_object	*v = parse(text);
	struct syerrs		 errs;
	struct rule		*r;

	syerrs_init(&errs);
	r = rule_compile(v, "x.rule", &errs);
	if (r == NULL || errs.n != 0)
		print_message("# %s: %s\n", text, errs.n ? errs.msg[0] : "?");
	assert_non_null(r);
	assert_int_equal(errs.n, 0);
	syerrs_free(&errs);
	json_object_put(v);
	return (r);
}

/* The outcome of one evaluation. */
struct run {
	enum rule_verdict	 v;
	char			 err[256];	/* "" when NULL */
	int			 has_err;
	char			 params[1024];	/* "-": NULL */
};

/* Evaluate rule r with the given auth, params (JSON text or NULL). */
static void
eval_rule(const struct rule *r, const char *auth, const char *params,
    const char *token, const int *ok, size_t nok, struct run *out)
{
	struct rule_env	 env;
	const char	*err = (const char *)"unset";

	memset(&env, 0, sizeof(env));
	env.auth = parse(auth);
	env.params = parse(params);
	env.token = token;
	env.now = NOW;
	env.webhook_ok = ok;
	env.nwebhooks = nok;
	out->v = rule_eval(r, &env, &err);
	assert_true(out->v == RULE_PASS || out->v == RULE_FAIL);
	if (out->v == RULE_PASS)
		assert_null(err);
	out->has_err = err != NULL;
	snprintf(out->err, sizeof(out->err), "%s", err ? err : "");
	snprintf(out->params, sizeof(out->params), "%s", env.params == NULL ?
	    "-" : json_object_to_json_string_ext(env.params,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(env.auth);
	json_object_put(env.params);
}

/* Compile text and evaluate it against AUTH, PARAMS and TOKEN. */
static enum rule_verdict
verdict(const char *text)
{
	struct rule	*r = compile(text);
	struct run	 out;

	eval_rule(r, AUTH, PARAMS, TOKEN, NULL, 0, &out);
	rule_free(r);
	return (out.v);
}

/* A match rule with JSON operands f1 and f2 (single-quoted). */
static enum rule_verdict
match(const char *type, const char *op, const char *f1, const char *f2)
{
	char	text[1024];

	snprintf(text, sizeof(text), "{'rule':'match','type':'%s','eval':"
	    "'%s','f1':%s,'f2':%s}", type, op, f1, f2);
	return (verdict(text));
}

/* Compile text, evaluate with params, return params afterwards. */
static const char *
changed(const char *text, const char *params)
{
	static struct run	 out;
	struct rule		*r = compile(text);

	eval_rule(r, AUTH, params, TOKEN, NULL, 0, &out);
	assert_int_equal(out.v, RULE_PASS);
	rule_free(r);
	return (out.params);
}

struct mcase {
	const char	*type, *op, *f1, *f2;
	int		 pass;
};

static void
check_matches(const struct mcase *t, size_t n)
{
	size_t			i;
	enum rule_verdict	v;

	for (i = 0; i < n; i++) {
		v = match(t[i].type, t[i].op, t[i].f1, t[i].f2);
		if ((v == RULE_PASS) != t[i].pass)
			print_message("# %s %s %s %s: got %s\n", t[i].type,
			    t[i].f1, t[i].op, t[i].f2,
			    v == RULE_PASS ? "pass" : "fail");
		assert_int_equal(v == RULE_PASS, t[i].pass);
	}
}

static void
test_simple_rules(void **state)
{
	struct rule	*r;
	struct run	 out;

	r = compile("{'rule':'allow'}");
	eval_rule(r, NULL, NULL, NULL, NULL, 0, &out);
	assert_int_equal(out.v, RULE_PASS);
	assert_false(rule_needs_token(r));
	rule_free(r);

	r = compile("{'rule':'authenticated','error':'who?'}");
	eval_rule(r, AUTH, NULL, TOKEN, NULL, 0, &out);
	assert_int_equal(out.v, RULE_PASS);
	assert_true(rule_needs_token(r));
	rule_free(r);

	r = compile("{'rule':'deny','error':'private','other':1}");
	eval_rule(r, AUTH, PARAMS, TOKEN, NULL, 0, &out);
	assert_int_equal(out.v, RULE_FAIL);
	assert_string_equal(out.err, "private");
	assert_true(rule_needs_token(r));
	rule_free(r);

	r = compile("{'rule':'deny','error':null}");
	eval_rule(r, AUTH, PARAMS, TOKEN, NULL, 0, &out);
	assert_int_equal(out.v, RULE_FAIL);
	assert_false(out.has_err);
	rule_free(r);

	/* no rule: fail closed */
	assert_true(rule_needs_token(NULL));
	assert_int_equal(rule_eval(NULL, NULL, NULL), RULE_FAIL);
	rule_free(NULL);
}

static void
test_match_string(void **state)
{
	static const struct mcase t[] = {
		{ "string", "==", "'a'", "'a'", 1 },
		{ "string", "==", "'a'", "'b'", 0 },
		{ "string", "==", "'a'", "'a '", 0 },
		{ "string", "!=", "'a'", "'b'", 1 },
		{ "string", "!=", "'a'", "'a'", 0 },
		{ "string", "<", "'a'", "'b'", 1 },
		{ "string", "<", "'b'", "'a'", 0 },
		{ "string", "<", "'a'", "'ab'", 1 },
		{ "string", "<", "'a'", "'a'", 0 },
		{ "string", "<=", "'a'", "'a'", 1 },
		{ "string", "<=", "'b'", "'a'", 0 },
		{ "string", ">", "'ab'", "'a'", 1 },
		{ "string", ">", "'B'", "'a'", 0 },	/* bytewise */
		{ "string", ">", "'\\u00e9'", "'z'", 1 },
		{ "string", ">=", "'b'", "'b'", 1 },
		{ "string", ">=", "'a'", "'b'", 0 },
		{ "string", "in", "'b'", "['a','b']", 1 },
		{ "string", "in", "'c'", "['a','b']", 0 },
		{ "string", "in", "'c'", "[]", 0 },
		{ "string", "notIn", "'c'", "['a','b']", 1 },
		{ "string", "notIn", "'a'", "['a','b']", 0 },
		{ "string", "notIn", "'c'", "[]", 1 },
		{ "string", "==", "'args.auth.sub'", "'args.params.id'", 1 },
		{ "string", "==", "'args.auth.role'", "'admin'", 1 },
		{ "string", "==", "'args.params.str'", "'h\\u00e9llo'", 1 },
		{ "string", "==", "'args.token'", "'hdr.claims.sig'", 1 },
		{ "string", "!=", "'args.token'", "'x'", 1 },
		{ "string", "in", "'args.auth.sub'", "['u0','u1']", 1 },
		{ "string", "in", "'args.params.names.1'",
		  "'args.params.names'", 1 },
		{ "string", "in", "'carl'", "'args.params.names'", 0 },
		{ "string", "notIn", "'carl'", "'args.params.names'", 1 },
		{ "string", "in", "'1'", "'args.params.mixed'", 1 },
		{ "string", "notIn", "'2'", "'args.params.mixed'", 1 },
		/* the wrong JSON type never matches, even with != */
		{ "string", "==", "'args.params.n'", "'5'", 0 },
		{ "string", "!=", "'args.params.n'", "'5'", 0 },
		{ "string", "==", "'args.params.numstr'", "'5'", 1 },
	};

	check_matches(t, sizeof(t) / sizeof(t[0]));
}

static void
test_match_number(void **state)
{
	static const struct mcase t[] = {
		{ "number", "==", "1", "1.0", 1 },
		{ "number", "==", "1", "2", 0 },
		{ "number", "!=", "1", "2", 1 },
		{ "number", "!=", "-0.0", "0", 0 },
		{ "number", "<", "1", "2", 1 },
		{ "number", "<", "2", "2", 0 },
		{ "number", "<", "-3", "-2.5", 1 },
		{ "number", "<=", "2", "2", 1 },
		{ "number", "<=", "2.0001", "2", 0 },
		{ "number", ">", "10", "9", 1 },	/* not "10" < "9" */
		{ "number", ">", "9", "10", 0 },
		{ "number", ">=", "1e3", "1000", 1 },
		{ "number", ">=", "999", "1e3", 0 },
		{ "number", "in", "2", "[1,2,3]", 1 },
		{ "number", "in", "4", "[1,2,3]", 0 },
		{ "number", "notIn", "4", "[1,2,3]", 1 },
		{ "number", "notIn", "3", "[1,2,3.0]", 0 },
		{ "number", "==", "'args.auth.age'", "30", 1 },
		{ "number", ">=", "'args.auth.age'", "18", 1 },
		{ "number", "<", "'args.params.x'", "'args.params.n'", 1 },
		{ "number", "in", "'args.params.n'", "[4,5]", 1 },
		{ "number", "in", "2", "'args.params.list'", 1 },
		{ "number", "in", "7", "'args.params.list'", 0 },
		{ "number", "notIn", "7", "'args.params.list'", 1 },
		{ "number", "in", "1", "'args.params.mixed'", 1 },
		{ "number", "==", "'args.params.list.2'", "3", 1 },
		{ "number", "==", "'args.auth.org.id'", "7", 1 },
		/* strict: a numeric string is not a number */
		{ "number", "==", "'args.params.numstr'", "5", 0 },
		{ "number", "!=", "'args.params.numstr'", "5", 0 },
		{ "number", "==", "'args.params.flag'", "0", 0 },
		{ "number", "==", "'args.params.nul'", "0", 0 },
	};

	check_matches(t, sizeof(t) / sizeof(t[0]));
}

static void
test_match_bool(void **state)
{
	static const struct mcase t[] = {
		{ "bool", "==", "true", "true", 1 },
		{ "bool", "==", "true", "false", 0 },
		{ "bool", "!=", "true", "false", 1 },
		{ "bool", "!=", "false", "false", 0 },
		{ "bool", "==", "'args.auth.verified'", "true", 1 },
		{ "bool", "==", "'args.params.flag'", "false", 1 },
		{ "bool", "!=", "'args.params.flag'", "'args.auth.verified'",
		  1 },
		{ "bool", "==", "'args.params.n'", "true", 0 },
		{ "bool", "!=", "'args.params.n'", "true", 0 },
		{ "bool", "==", "'args.params.missing'", "false", 0 },
	};

	check_matches(t, sizeof(t) / sizeof(t[0]));
}

static void
test_match_date(void **state)
{
	static const struct mcase t[] = {
		{ "date", "==", "'2026-11-26T12:00:00Z'",
		  "'2026-11-26T13:30:00+01:30'", 1 },
		{ "date", "==", "'2026-11-26T12:00:00Z'",
		  "'2026-11-26t12:00:00.000z'", 1 },
		{ "date", "==", "'2026-11-26T12:00:00Z'",
		  "'2026-11-26 07:00:00-05:00'", 1 },
		{ "date", "!=", "'2026-11-26T12:00:00Z'",
		  "'2026-11-26T12:00:00.000000001Z'", 1 },
		{ "date", "<", "'2026-11-26T12:00:00.1Z'",
		  "'2026-11-26T12:00:00.25Z'", 1 },
		{ "date", "<", "'2026-11-26T12:00:00Z'",
		  "'2026-11-26T12:59:00+01:00'", 0 },
		{ "date", "<=", "'2024-02-29T00:00:00Z'",
		  "'2024-03-01T00:00:00Z'", 1 },
		{ "date", ">", "'2000-01-01T00:00:00Z'",
		  "'1999-12-31T23:59:59.999Z'", 1 },
		{ "date", ">", "'1969-12-31T23:59:59Z'",
		  "'1970-01-01T00:00:00Z'", 0 },
		{ "date", ">=", "'2026-11-26T12:00:00Z'",
		  "'2026-11-26T12:00:00Z'", 1 },
		{ "date", "in", "'2026-11-26T12:00:00Z'",
		  "['2020-01-01T00:00:00Z','2026-11-26T11:00:00-01:00']", 1 },
		{ "date", "notIn", "'2026-11-26T12:00:00Z'",
		  "['2020-01-01T00:00:00Z']", 1 },
		{ "date", "==", "'utils.now()'", "'2026-11-26T12:00:00Z'", 1 },
		{ "date", "==", "'utils.now()'", "'args.params.when'", 1 },
		{ "date", "<", "'utils.now()'", "'2026-11-26T12:00:01Z'", 1 },
		{ "date", ">", "'utils.now()'", "'2026-11-26T11:59:59Z'", 1 },
		/* a variable that is not an RFC 3339 date never matches */
		{ "date", "<", "'args.params.bad'", "'2030-01-01T00:00:00Z'",
		  0 },
		{ "date", "!=", "'args.params.id'", "'2030-01-01T00:00:00Z'",
		  0 },
		{ "date", "==", "'args.params.n'", "'2030-01-01T00:00:00Z'",
		  0 },
	};

	check_matches(t, sizeof(t) / sizeof(t[0]));
}

/* Dates in params, parsed at evaluation: good ones and bad ones. */
static void
test_date_forms(void **state)
{
	static const struct {
		const char	*date;
		int		 good;
	} t[] = {
		{ "2026-11-26T12:00:00Z", 1 },
		{ "2026-11-26T12:00:00.123456789123Z", 1 },
		{ "2024-02-29T23:59:60Z", 1 },
		{ "2026-11-26T12:00:00+23:59", 1 },
		{ "2023-02-29T00:00:00Z", 0 },
		{ "2100-02-29T00:00:00Z", 0 },
		{ "2026-13-01T00:00:00Z", 0 },
		{ "2026-00-01T00:00:00Z", 0 },
		{ "2026-04-31T00:00:00Z", 0 },
		{ "2026-11-26T24:00:00Z", 0 },
		{ "2026-11-26T12:60:00Z", 0 },
		{ "2026-11-26T12:00:61Z", 0 },
		{ "2026-11-26T12:00:00", 0 },
		{ "2026-11-26T12:00:00.Z", 0 },
		{ "2026-11-26T12:00:00+0100", 0 },
		{ "2026-11-26T12:00:00+24:00", 0 },
		{ "2026-11-26T12:00:00Zx", 0 },
		{ "2026-11-26", 0 },
		{ "26-11-26T12:00:00Z", 0 },
		{ "2026/11/26T12:00:00Z", 0 },
		{ "2026-11-26X12:00:00Z", 0 },
		{ "", 0 },
	};
	struct rule	*r;
	struct run	 out;
	char		 params[256];
	size_t		 i;

	r = compile("{'rule':'match','type':'date','eval':'>','f1':"
	    "'args.params.d','f2':'1900-01-01T00:00:00Z'}");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(params, sizeof(params), "{'d':'%s'}", t[i].date);
		eval_rule(r, NULL, params, NULL, NULL, 0, &out);
		if ((out.v == RULE_PASS) != t[i].good)
			print_message("# %s\n", t[i].date);
		assert_int_equal(out.v == RULE_PASS, t[i].good);
	}
	rule_free(r);
}

static void
test_variables(void **state)
{
	static const struct mcase t[] = {
		/* array indexes, nested */
		{ "string", "==", "'args.params.nested.a.0.b'", "'deep'", 1 },
		{ "string", "==", "'args.params.names.0'", "'ann'", 1 },
		{ "string", "==", "'args.auth.groups.1'", "'b'", 1 },
		{ "string", "==", "'args.params.names.2'", "'ann'", 0 },
		{ "string", "==", "'args.params.names.x'", "'ann'", 0 },
		{ "string", "==", "'args.params.id.0'", "'u'", 0 },
		{ "number", "==", "'args.params.obj.k'", "1", 1 },
		/* missing variables fail every operator */
		{ "string", "==", "'args.params.nope'", "'x'", 0 },
		{ "string", "!=", "'args.params.nope'", "'x'", 0 },
		{ "string", "!=", "'x'", "'args.auth.nope.deeper'", 0 },
		{ "string", "notIn", "'args.params.nope'", "['x']", 0 },
		{ "string", "in", "'x'", "'args.params.nope'", 0 },
		{ "string", "notIn", "'x'", "'args.params.nope'", 0 },
		{ "string", "notIn", "'x'", "'args.params.id'", 0 },
		{ "number", "notIn", "1", "'args.params.obj'", 0 },
		/* JSON null is no value of any type */
		{ "string", "!=", "'args.params.nul'", "'x'", 0 },
		{ "bool", "==", "'args.params.nul'", "false", 0 },
		/* whole objects are not scalars */
		{ "string", "==", "'args.params'", "'x'", 0 },
		{ "string", "!=", "'args.auth'", "'x'", 0 },
	};
	struct rule	*r;
	struct run	 out;

	check_matches(t, sizeof(t) / sizeof(t[0]));

	/* no auth, no params, no token: everything is missing */
	r = compile("{'rule':'or','clauses':["
	    "{'rule':'match','type':'string','eval':'!=','f1':'args.token',"
	    "'f2':'x'},"
	    "{'rule':'match','type':'string','eval':'!=','f1':'args.auth.sub',"
	    "'f2':'x'},"
	    "{'rule':'match','type':'number','eval':'!=','f1':'args.params.n',"
	    "'f2':1}]}");
	eval_rule(r, NULL, NULL, NULL, NULL, 0, &out);
	assert_int_equal(out.v, RULE_FAIL);
	eval_rule(r, "{}", "[]", NULL, NULL, 0, &out);
	assert_int_equal(out.v, RULE_FAIL);
	eval_rule(r, NULL, "{'n':2}", NULL, NULL, 0, &out);
	assert_int_equal(out.v, RULE_PASS);
	rule_free(r);

	/* params that are an array: a numeric first segment indexes it */
	r = compile("{'rule':'match','type':'number','eval':'==','f1':"
	    "'args.params.1.v','f2':9}");
	eval_rule(r, NULL, "[{'v':1},{'v':9}]", NULL, NULL, 0, &out);
	assert_int_equal(out.v, RULE_PASS);
	eval_rule(r, NULL, "{'1':{'v':9}}", NULL, NULL, 0, &out);
	assert_int_equal(out.v, RULE_PASS);
	rule_free(r);

	/* a literal that looks like a variable is one only with args./utils. */
	assert_int_equal(match("string", "==", "'arg.params.id'",
	    "'arg.params.id'"), RULE_PASS);
}

static void
test_utils(void **state)
{
	static const struct mcase t[] = {
		{ "number", "==", "'utils.now()'", "1795694400", 1 },
		{ "number", ">", "'args.auth.exp'", "'utils.now()'", 1 },
		{ "number", "<", "'args.auth.exp'", "'utils.now()'", 0 },
		{ "bool", "==", "'utils.exists(args.params.id)'", "true", 1 },
		{ "bool", "==", "'utils.exists(args.params.nested.a.0.b)'",
		  "true", 1 },
		{ "bool", "==", "'utils.exists(args.params.flag)'", "true", 1 },
		{ "bool", "==", "'utils.exists(args.params.nope)'", "false",
		  1 },
		{ "bool", "==", "'utils.exists(args.params.nul)'", "false", 1 },
		{ "bool", "==", "'utils.exists(args.auth.role)'", "true", 1 },
		{ "bool", "==", "'utils.exists(args.auth.nope)'", "true", 0 },
		{ "bool", "==", "'utils.exists(args.token)'", "true", 1 },
		{ "bool", "==", "'utils.exists(args.params)'", "true", 1 },
		{ "number", "==", "'utils.length(args.params.list)'", "3", 1 },
		{ "number", "==", "'utils.length(args.params.str)'", "6", 1 },
		{ "number", "==", "'utils.length(args.params.obj)'", "2", 1 },
		{ "number", "==", "'utils.length(args.params.names.0)'", "3",
		  1 },
		{ "number", ">", "'utils.length(args.auth.groups)'", "1", 1 },
		{ "number", "==", "'utils.length(args.token)'", "14", 1 },
		{ "number", "==", "'utils.length(args.params)'", "14", 1 },
		{ "number", ">=", "'utils.length(args.params.n)'", "0", 0 },
		{ "number", ">=", "'utils.length(args.params.nul)'", "0", 0 },
		{ "number", ">=", "'utils.length(args.params.nope)'", "0", 0 },
		{ "number", "!=", "'utils.length(args.params.nope)'", "0", 0 },
	};
	struct rule	*r;
	struct run	 out;

	check_matches(t, sizeof(t) / sizeof(t[0]));

	r = compile("{'rule':'match','type':'bool','eval':'==','f1':"
	    "'utils.exists(args.token)','f2':false}");
	eval_rule(r, NULL, NULL, NULL, NULL, 0, &out);
	assert_int_equal(out.v, RULE_PASS);
	rule_free(r);
}

static void
test_and_or(void **state)
{
	struct rule	*r;
	struct run	 out;

	assert_int_equal(verdict("{'rule':'and','clauses':[{'rule':'allow'},"
	    "{'rule':'authenticated'}]}"), RULE_PASS);
	assert_int_equal(verdict("{'rule':'and','clauses':[{'rule':'allow'},"
	    "{'rule':'deny'}]}"), RULE_FAIL);
	assert_int_equal(verdict("{'rule':'or','clauses':[{'rule':'deny'},"
	    "{'rule':'allow'}]}"), RULE_PASS);
	assert_int_equal(verdict("{'rule':'or','clauses':[{'rule':'deny'},"
	    "{'rule':'deny'}]}"), RULE_FAIL);
	assert_int_equal(verdict("{'rule':'or','clauses':[{'rule':'and',"
	    "'clauses':[{'rule':'allow'},{'rule':'deny'}]},{'rule':'and',"
	    "'clauses':[{'rule':'allow'},{'rule':'match','type':'string',"
	    "'eval':'==','f1':'args.auth.role','f2':'admin'}]}]}"), RULE_PASS);

	/* and stops at the first failure: the force never runs */
	r = compile("{'rule':'and','clauses':[{'rule':'deny'},{'rule':"
	    "'force','field':'args.params.x','value':1}]}");
	eval_rule(r, NULL, "{}", NULL, NULL, 0, &out);
	assert_int_equal(out.v, RULE_FAIL);
	assert_string_equal(out.params, "{}");
	rule_free(r);
	/* ... and runs the clauses in order until then */
	r = compile("{'rule':'and','clauses':[{'rule':'force','field':"
	    "'args.params.x','value':1},{'rule':'match','type':'number',"
	    "'eval':'==','f1':'args.params.x','f2':1}]}");
	eval_rule(r, NULL, "{}", NULL, NULL, 0, &out);
	assert_int_equal(out.v, RULE_PASS);
	assert_string_equal(out.params, "{\"x\":1}");
	rule_free(r);
	/* or stops at the first success */
	r = compile("{'rule':'or','clauses':[{'rule':'allow'},{'rule':"
	    "'force','field':'args.params.x','value':1}]}");
	eval_rule(r, NULL, "{}", NULL, NULL, 0, &out);
	assert_int_equal(out.v, RULE_PASS);
	assert_string_equal(out.params, "{}");
	rule_free(r);
}

static void
test_error_messages(void **state)
{
	static const struct {
		const char	*text;
		const char	*err;	/* NULL: none */
	} t[] = {
		{ "{'rule':'deny'}", NULL },
		{ "{'rule':'and','clauses':[{'rule':'deny','error':'inner'}],"
		  "'error':'outer'}", "inner" },
		{ "{'rule':'and','clauses':[{'rule':'deny'}],'error':'outer'}",
		  "outer" },
		{ "{'rule':'and','clauses':[{'rule':'allow','error':'no'},"
		  "{'rule':'or','clauses':[{'rule':'deny'}],'error':'mid'}],"
		  "'error':'outer'}", "mid" },
		{ "{'rule':'and','clauses':[{'rule':'deny','error':'first'},"
		  "{'rule':'deny','error':'second'}]}", "first" },
		{ "{'rule':'or','clauses':[{'rule':'deny','error':'first'},"
		  "{'rule':'deny','error':'second'}],'error':'or'}", "second" },
		{ "{'rule':'or','clauses':[{'rule':'deny','error':'first'},"
		  "{'rule':'deny'}],'error':'or'}", "first" },
		{ "{'rule':'or','clauses':[{'rule':'deny'},{'rule':'deny'}],"
		  "'error':'or'}", "or" },
		{ "{'rule':'match','type':'string','eval':'==','f1':"
		  "'args.params.nope','f2':'x','error':'no match'}",
		  "no match" },
		{ "{'rule':'and','clauses':[{'rule':'force','field':"
		  "'args.params.x','value':1,'clause':{'rule':'deny','error':"
		  "'ignored'}},{'rule':'deny'}]}", NULL },
		{ "{'rule':'webhook','url':'http://h/','error':'hook says no'}",
		  "hook says no" },
	};
	struct rule	*r;
	struct run	 out;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = compile(t[i].text);
		eval_rule(r, AUTH, PARAMS, TOKEN, NULL, 0, &out);
		assert_int_equal(out.v, RULE_FAIL);
		if (t[i].err == NULL)
			assert_false(out.has_err);
		else
			assert_string_equal(out.err, t[i].err);
		rule_free(r);
	}
	/* a passing rule reports no message */
	r = compile("{'rule':'or','clauses':[{'rule':'deny','error':'x'},"
	    "{'rule':'allow'}]}");
	eval_rule(r, AUTH, PARAMS, TOKEN, NULL, 0, &out);
	assert_int_equal(out.v, RULE_PASS);
	assert_false(out.has_err);
	rule_free(r);
}

static void
test_force(void **state)
{
	struct rule	*r;
	struct run	 out;

	/* no params at all: a new object */
	assert_string_equal(changed("{'rule':'force','field':'args.params.x',"
	    "'value':1}", NULL), "{\"x\":1}");
	/* nested, creating intermediate objects */
	assert_string_equal(changed("{'rule':'force','field':"
	    "'args.params.a.b.c','value':'v'}", "{'k':0}"),
	    "{\"k\":0,\"a\":{\"b\":{\"c\":\"v\"}}}");
	/* replacing a value, and an intermediate that holds a scalar */
	assert_string_equal(changed("{'rule':'force','field':"
	    "'args.params.a.b','value':[1,{'z':null}]}", "{'a':5,'x':1}"),
	    "{\"a\":{\"b\":[1,{\"z\":null}]},\"x\":1}");
	assert_string_equal(changed("{'rule':'force','field':"
	    "'args.params.a','value':null}", "{'a':{'b':1}}"),
	    "{\"a\":null}");
	/* params that are not an object are replaced */
	assert_string_equal(changed("{'rule':'force','field':'args.params.x',"
	    "'value':true}", "'str'"), "{\"x\":true}");
	/* an array element */
	assert_string_equal(changed("{'rule':'force','field':"
	    "'args.params.l.1','value':9}", "{'l':[1,2,3]}"),
	    "{\"l\":[1,9,3]}");
	assert_string_equal(changed("{'rule':'force','field':"
	    "'args.params.l.0.v','value':9}", "{'l':[{'v':1}]}"),
	    "{\"l\":[{\"v\":9}]}");
	/* variable values */
	assert_string_equal(changed("{'rule':'force','field':"
	    "'args.params.owner','value':'args.auth.sub'}", "{'owner':'x'}"),
	    "{\"owner\":\"u1\"}");
	assert_string_equal(changed("{'rule':'force','field':"
	    "'args.params.g','value':'args.auth.groups'}", "{}"),
	    "{\"g\":[\"a\",\"b\"]}");
	assert_string_equal(changed("{'rule':'force','field':"
	    "'args.params.copy','value':'args.params'}", "{'a':{'b':1}}"),
	    "{\"a\":{\"b\":1},\"copy\":{\"a\":{\"b\":1}}}");
	assert_string_equal(changed("{'rule':'force','field':"
	    "'args.params.a.b','value':'args.params.a'}", "{'a':{'c':1}}"),
	    "{\"a\":{\"c\":1,\"b\":{\"c\":1}}}");
	assert_string_equal(changed("{'rule':'force','field':"
	    "'args.params.t','value':'args.token'}", "{}"),
	    "{\"t\":\"hdr.claims.sig\"}");
	assert_string_equal(changed("{'rule':'force','field':"
	    "'args.params.t','value':'utils.now()'}", "{}"),
	    "{\"t\":\"2026-11-26T12:00:00Z\"}");
	assert_string_equal(changed("{'rule':'force','field':"
	    "'args.params.e','value':'utils.exists(args.auth.sub)'}", "{}"),
	    "{\"e\":true}");
	assert_string_equal(changed("{'rule':'force','field':"
	    "'args.params.n','value':'utils.length(args.auth.groups)'}",
	    "{}"), "{\"n\":2}");
	/* a missing variable sets null */
	assert_string_equal(changed("{'rule':'force','field':"
	    "'args.params.owner','value':'args.auth.nope'}", "{'owner':'x'}"),
	    "{\"owner\":null}");
	assert_string_equal(changed("{'rule':'force','field':"
	    "'args.params.n','value':'utils.length(args.auth.nope)'}", "{}"),
	    "{\"n\":null}");

	/* the clause decides; force itself passes either way */
	r = compile("{'rule':'force','field':'args.params.role','value':"
	    "'guest','clause':{'rule':'match','type':'string','eval':'!=',"
	    "'f1':'args.auth.role','f2':'admin'}}");
	eval_rule(r, "{'role':'admin'}", "{}", TOKEN, NULL, 0, &out);
	assert_int_equal(out.v, RULE_PASS);
	assert_string_equal(out.params, "{}");
	eval_rule(r, "{'role':'user'}", "{}", TOKEN, NULL, 0, &out);
	assert_int_equal(out.v, RULE_PASS);
	assert_string_equal(out.params, "{\"role\":\"guest\"}");
	rule_free(r);

	/* the rule's literal is copied: changing params cannot reach it */
	r = compile("{'rule':'and','clauses':[{'rule':'force','field':"
	    "'args.params.o','value':{'a':1}},{'rule':'force','field':"
	    "'args.params.o.b','value':2,'clause':{'rule':'match','type':"
	    "'string','eval':'==','f1':'args.auth.role','f2':'admin'}}]}");
	eval_rule(r, "{'role':'admin'}", NULL, TOKEN, NULL, 0, &out);
	assert_string_equal(out.params, "{\"o\":{\"a\":1,\"b\":2}}");
	eval_rule(r, "{'role':'user'}", NULL, TOKEN, NULL, 0, &out);
	assert_string_equal(out.params, "{\"o\":{\"a\":1}}");
	rule_free(r);
}

/* utils.now() with a fraction, as force writes it. */
static void
test_force_now_fraction(void **state)
{
	struct rule	*r;
	struct rule_env	 env;
	const char	*err;

	r = compile("{'rule':'force','field':'args.params.t','value':"
	    "'utils.now()'}");
	memset(&env, 0, sizeof(env));
	env.now = NOW + 0.25;
	assert_int_equal(rule_eval(r, &env, &err), RULE_PASS);
	assert_non_null(env.params);
	assert_string_equal(json_object_to_json_string_ext(env.params,
	    JSON_C_TO_STRING_PLAIN), "{\"t\":\"2026-11-26T12:00:00.250Z\"}");
	json_object_put(env.params);
	rule_free(r);

	/* and as a date in a match, to the nanosecond */
	r = compile("{'rule':'and','clauses':[{'rule':'match','type':'date',"
	    "'eval':'>','f1':'utils.now()','f2':'2026-11-26T12:00:00.2Z'},"
	    "{'rule':'match','type':'date','eval':'<','f1':'utils.now()',"
	    "'f2':'2026-11-26T13:00:00.3+01:00'},{'rule':'match','type':"
	    "'number','eval':'==','f1':'utils.now()','f2':1795694400.25}]}");
	memset(&env, 0, sizeof(env));
	env.now = NOW + 0.25;
	assert_int_equal(rule_eval(r, &env, &err), RULE_PASS);
	env.now = NOW + 0.3;
	assert_int_equal(rule_eval(r, &env, &err), RULE_FAIL);
	rule_free(r);
}

static void
test_remove(void **state)
{
	struct rule	*r;
	struct run	 out;

	assert_string_equal(changed("{'rule':'remove','fields':["
	    "'args.params.a','args.params.b.c']}",
	    "{'a':1,'b':{'c':2,'d':3},'e':4}"),
	    "{\"b\":{\"d\":3},\"e\":4}");
	/* missing fields, missing parents, scalars on the way: no-ops */
	assert_string_equal(changed("{'rule':'remove','fields':["
	    "'args.params.x','args.params.e.f','args.params.y.z.w']}",
	    "{'e':4}"), "{\"e\":4}");
	assert_string_equal(changed("{'rule':'remove','fields':["
	    "'args.params.x']}", NULL), "-");
	/* array elements */
	assert_string_equal(changed("{'rule':'remove','fields':["
	    "'args.params.l.0','args.params.l.5','args.params.m.0.v']}",
	    "{'l':[1,2,3],'m':[{'v':1,'w':2}]}"),
	    "{\"l\":[2,3],\"m\":[{\"w\":2}]}");

	r = compile("{'rule':'remove','fields':['args.params.secret'],"
	    "'clause':{'rule':'match','type':'string','eval':'!=','f1':"
	    "'args.auth.role','f2':'admin'}}");
	eval_rule(r, "{'role':'admin'}", "{'secret':1}", TOKEN, NULL, 0,
	    &out);
	assert_int_equal(out.v, RULE_PASS);
	assert_string_equal(out.params, "{\"secret\":1}");
	eval_rule(r, "{'role':'user'}", "{'secret':1}", TOKEN, NULL, 0, &out);
	assert_int_equal(out.v, RULE_PASS);
	assert_string_equal(out.params, "{}");
	rule_free(r);
}

static void
test_webhook(void **state)
{
	static const int	 ok_all[] = { 1, 1, 1, 1 };
	static const int	 ok_third[] = { 1, 1, 0, 1 };
	const struct rule_webhook *h;
	struct rule	*r;
	struct run	 out;

	/* pre-order: a rule before its clauses, clauses in order */
	r = compile("{'rule':'and','clauses':["
	    "{'rule':'webhook','url':'http://a/'},"
	    "{'rule':'or','clauses':[{'rule':'webhook','url':'https://b/',"
	    "'timeout':0.5},{'rule':'deny'}]},"
	    "{'rule':'force','field':'args.params.x','value':1,"
	    "'clause':{'rule':'webhook','url':'http://c/','timeout':30,"
	    "'error':'c failed'}},"
	    "{'rule':'remove','fields':['args.params.y'],"
	    "'clause':{'rule':'webhook','url':'http://d/'}}]}");
	assert_int_equal(rule_webhooks(r, &h), 4);
	assert_string_equal(h[0].url, "http://a/");
	assert_true(h[0].timeout == 5.0);
	assert_string_equal(h[1].url, "https://b/");
	assert_true(h[1].timeout == 0.5);
	assert_string_equal(h[2].url, "http://c/");
	assert_true(h[2].timeout == 30.0);
	assert_string_equal(h[3].url, "http://d/");
	assert_true(rule_needs_params(r));

	eval_rule(r, NULL, "{'y':2}", TOKEN, ok_all, 4, &out);
	assert_int_equal(out.v, RULE_PASS);
	assert_string_equal(out.params, "{\"x\":1}");
	/* the third hook (a clause) fails: no force, still a pass */
	eval_rule(r, NULL, "{'y':2}", TOKEN, ok_third, 4, &out);
	assert_int_equal(out.v, RULE_PASS);
	assert_string_equal(out.params, "{}");
	/* outcomes missing or short: fail closed */
	eval_rule(r, NULL, "{'y':2}", TOKEN, NULL, 0, &out);
	assert_int_equal(out.v, RULE_FAIL);
	eval_rule(r, NULL, "{'y':2}", TOKEN, ok_all, 1, &out);
	assert_int_equal(out.v, RULE_FAIL);
	rule_free(r);

	r = compile("{'rule':'or','clauses':[{'rule':'webhook','url':"
	    "'http://a/','error':'a'},{'rule':'webhook','url':'http://b/',"
	    "'error':'b'}]}");
	eval_rule(r, NULL, NULL, TOKEN, ok_third + 2, 2, &out);
	assert_int_equal(out.v, RULE_PASS);
	eval_rule(r, NULL, NULL, TOKEN, ok_third + 1, 2, &out);
	assert_int_equal(out.v, RULE_PASS);
	eval_rule(r, NULL, NULL, TOKEN, ok_third + 2, 1, &out);
	assert_int_equal(out.v, RULE_FAIL);
	assert_string_equal(out.err, "b");
	rule_free(r);

	r = compile("{'rule':'allow'}");
	assert_int_equal(rule_webhooks(r, &h), 0);
	rule_free(r);
	assert_int_equal(rule_webhooks(NULL, &h), 0);
}

static void
test_flags(void **state)
{
	static const struct {
		const char	*text;
		int		 token, params, changes;
	} t[] = {
		{ "{'rule':'allow'}", 0, 0, 0 },
		{ "{'rule':'deny'}", 1, 0, 0 },
		{ "{'rule':'authenticated'}", 1, 0, 0 },
		{ "{'rule':'and','clauses':[{'rule':'allow'}]}", 1, 0, 0 },
		{ "{'rule':'match','type':'string','eval':'==','f1':"
		  "'args.auth.sub','f2':'args.token'}", 1, 0, 0 },
		{ "{'rule':'match','type':'string','eval':'==','f1':"
		  "'args.auth.sub','f2':'args.params.id'}", 1, 1, 0 },
		{ "{'rule':'match','type':'string','eval':'in','f1':"
		  "'x','f2':'args.params.l'}", 1, 1, 0 },
		{ "{'rule':'match','type':'bool','eval':'==','f1':"
		  "'utils.exists(args.params.x)','f2':true}", 1, 1, 0 },
		{ "{'rule':'match','type':'number','eval':'==','f1':"
		  "'utils.length(args.auth.g)','f2':2}", 1, 0, 0 },
		{ "{'rule':'or','clauses':[{'rule':'deny'},{'rule':'match',"
		  "'type':'number','eval':'<','f1':'args.params.n','f2':3}]}",
		  1, 1, 0 },
		{ "{'rule':'force','field':'args.params.x','value':1}",
		  1, 1, 1 },
		{ "{'rule':'and','clauses':[{'rule':'allow'},{'rule':'remove',"
		  "'fields':['args.params.x']}]}", 1, 1, 1 },
		{ "{'rule':'webhook','url':'http://h/'}", 1, 1, 0 },
	};
	struct rule	*r;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = compile(t[i].text);
		if (rule_needs_params(r) != t[i].params)
			print_message("# %s\n", t[i].text);
		assert_int_equal(rule_needs_token(r), t[i].token);
		assert_int_equal(rule_needs_params(r), t[i].params);
		assert_int_equal(rule_changes_params(r), t[i].changes);
		rule_free(r);
	}
	assert_false(rule_needs_params(NULL));
	assert_false(rule_changes_params(NULL));
}

/* Compile must fail with exactly these messages (NULL-terminated). */
static void
expect_errors(struct json_object *v, const char *text,
    const char *const *msg)
{
	struct syerrs	 errs;
	struct rule	*r;
	size_t		 i, n;

	for (n = 0; msg[n] != NULL; n++)
		;
	syerrs_init(&errs);
	r = rule_compile(v, "x.rule", &errs);
	if (errs.n != n || r != NULL) {
		print_message("# %s\n", text);
		for (i = 0; i < errs.n; i++)
			print_message("#   %s\n", errs.msg[i]);
	}
	assert_null(r);
	assert_int_equal(errs.n, n);
	for (i = 0; i < n; i++)
		assert_string_equal(errs.msg[i], q(msg[i]));
	syerrs_free(&errs);
}

#define E(text, ...)	{ text, { __VA_ARGS__, NULL } }

static void
test_compile_errors(void **state)
{
	static const struct {
		const char	*text;
		const char	*msg[5];
	} t[] = {
		E("'allow'", "x.rule: must be an object such as "
		  "{'rule': 'allow'}"),
		E("null", "x.rule: must be an object such as "
		  "{'rule': 'allow'}"),
		E("{}", "x.rule: missing the 'rule' member, as in "
		  "{'rule': 'allow'}"),
		E("{'rule':null}", "x.rule: missing the 'rule' member, as in "
		  "{'rule': 'allow'}"),
		E("{'rule':1}", "x.rule: 'rule' must be a string"),
		E("{'rule':'xyz'}", "x.rule: unknown rule 'xyz'"),
		E("{'rule':'Allow'}", "x.rule: unknown rule 'Allow'"),
		E("{'rule':'query'}", "x.rule: unknown rule 'query'"),
		E("{'rule':'deny','error':5}",
		  "x.rule: 'error' must be a string"),
		/* match */
		E("{'rule':'match'}", "x.rule: missing 'type'",
		  "x.rule: missing 'eval'", "x.rule: missing 'f1'",
		  "x.rule: missing 'f2'"),
		E("{'rule':'match','type':'int','eval':'=','f1':1,'f2':2}",
		  "x.rule.type: must be 'string', 'number', 'bool' or 'date'",
		  "x.rule.eval: must be ==, !=, <, <=, >, >=, in or notIn"),
		E("{'rule':'match','type':'bool','eval':'<','f1':true,"
		  "'f2':false}", "x.rule.eval: operator '<' does not apply to "
		  "type 'bool' (use == or !=)"),
		E("{'rule':'match','type':'bool','eval':'in','f1':true,"
		  "'f2':[true]}", "x.rule.eval: operator 'in' does not apply "
		  "to type 'bool' (use == or !=)"),
		E("{'rule':'match','type':'string','eval':'in','f1':'a',"
		  "'f2':'b'}", "x.rule.f2: must be an array, or an args.auth "
		  "or args.params variable that holds one"),
		E("{'rule':'match','type':'string','eval':'notIn','f1':'a',"
		  "'f2':'args.token'}", "x.rule.f2: must be an array, or an "
		  "args.auth or args.params variable that holds one"),
		E("{'rule':'match','type':'number','eval':'in','f1':1,"
		  "'f2':'utils.length(args.params.l)'}", "x.rule.f2: must be "
		  "an array, or an args.auth or args.params variable that "
		  "holds one"),
		E("{'rule':'match','type':'number','eval':'in','f1':1,"
		  "'f2':[1,'2',null]}", "x.rule.f2[1]: must be a number",
		  "x.rule.f2[2]: must be a number"),
		E("{'rule':'match','type':'number','eval':'==','f1':'5',"
		  "'f2':null}", "x.rule.f1: must be a number",
		  "x.rule.f2: must be a number"),
		E("{'rule':'match','type':'string','eval':'==','f1':1,"
		  "'f2':['a']}", "x.rule.f1: must be a string",
		  "x.rule.f2: must be a string"),
		E("{'rule':'match','type':'bool','eval':'==','f1':'true',"
		  "'f2':0}", "x.rule.f1: must be true or false",
		  "x.rule.f2: must be true or false"),
		E("{'rule':'match','type':'date','eval':'<','f1':"
		  "'2026-02-30T00:00:00Z','f2':'utils.now()'}",
		  "x.rule.f1: must be an RFC 3339 date such as "
		  "'2026-11-26T12:00:00Z'"),
		E("{'rule':'match','type':'string','eval':'==','f1':"
		  "'args.foo','f2':'utils.today()'}",
		  "x.rule.f1: unknown variable 'args.foo' (expected "
		  "args.auth.X, args.params.X, args.token, "
		  "args.find.X, args.op, args.opts.X, utils.now(), "
		  "utils.exists(X) or utils.length(X))",
		  "x.rule.f2: unknown variable 'utils.today()' (expected "
		  "args.auth.X, args.params.X, args.token, "
		  "args.find.X, args.op, args.opts.X, utils.now(), "
		  "utils.exists(X) or utils.length(X))"),
		E("{'rule':'match','type':'string','eval':'==','f1':"
		  "'args.params..x','f2':'args.auth.'}",
		  "x.rule.f1: unknown variable 'args.params..x' (expected "
		  "args.auth.X, args.params.X, args.token, "
		  "args.find.X, args.op, args.opts.X, utils.now(), "
		  "utils.exists(X) or utils.length(X))",
		  "x.rule.f2: unknown variable 'args.auth.' (expected "
		  "args.auth.X, args.params.X, args.token, "
		  "args.find.X, args.op, args.opts.X, utils.now(), "
		  "utils.exists(X) or utils.length(X))"),
		E("{'rule':'match','type':'string','eval':'==','f1':"
		  "'args.tokens','f2':'utils.exists()'}",
		  "x.rule.f1: unknown variable 'args.tokens' (expected "
		  "args.auth.X, args.params.X, args.token, "
		  "args.find.X, args.op, args.opts.X, utils.now(), "
		  "utils.exists(X) or utils.length(X))",
		  "x.rule.f2: unknown variable 'utils.exists()' (expected "
		  "args.auth.X, args.params.X, args.token, "
		  "args.find.X, args.op, args.opts.X, utils.now(), "
		  "utils.exists(X) or utils.length(X))"),
		E("{'rule':'match','type':'string','eval':'==','f1':"
		  "'args.paramsx','f2':'args.auth_x.y'}",
		  "x.rule.f1: unknown variable 'args.paramsx' (expected "
		  "args.auth.X, args.params.X, args.token, "
		  "args.find.X, args.op, args.opts.X, utils.now(), "
		  "utils.exists(X) or utils.length(X))",
		  "x.rule.f2: unknown variable 'args.auth_x.y' (expected "
		  "args.auth.X, args.params.X, args.token, "
		  "args.find.X, args.op, args.opts.X, utils.now(), "
		  "utils.exists(X) or utils.length(X))"),
		E("{'rule':'match','type':'number','eval':'==','f1':"
		  "'utils.exists(args.params.x)','f2':'args.token'}",
		  "x.rule.f1: utils.exists() gives a bool: use type 'bool'",
		  "x.rule.f2: args.token is a string: use type 'string'"),
		E("{'rule':'match','type':'string','eval':'==','f1':"
		  "'utils.length(args.params.x)','f2':'utils.now()'}",
		  "x.rule.f1: utils.length() gives a number: use type 'number'",
		  "x.rule.f2: utils.now() needs type 'date' or 'number'"),
		/* and, or */
		E("{'rule':'and'}", "x.rule: missing 'clauses'"),
		E("{'rule':'or','clauses':[]}",
		  "x.rule.clauses: must be a non-empty array of rules"),
		E("{'rule':'or','clauses':{'rule':'allow'}}",
		  "x.rule.clauses: must be a non-empty array of rules"),
		E("{'rule':'and','clauses':[{'rule':'allow'},{'rule':'nope'},"
		  "{'rule':'or','clauses':[{'rule':'allow'},{}]},5]}",
		  "x.rule.clauses[1]: unknown rule 'nope'",
		  "x.rule.clauses[2].clauses[1]: missing the 'rule' member, as "
		  "in {'rule': 'allow'}",
		  "x.rule.clauses[3]: must be an object such as "
		  "{'rule': 'allow'}"),
		/* force */
		E("{'rule':'force'}", "x.rule: missing 'field'",
		  "x.rule: missing 'value'"),
		E("{'rule':'force','field':'args.auth.x','value':1}",
		  "x.rule.field: must name a parameter, as in "
		  "'args.params.owner'"),
		E("{'rule':'force','field':'args.params','value':1}",
		  "x.rule.field: must name a parameter, as in "
		  "'args.params.owner'"),
		E("{'rule':'force','field':'params.x','value':1}",
		  "x.rule.field: must name a parameter, as in "
		  "'args.params.owner'"),
		E("{'rule':'force','field':['args.params.x'],'value':1}",
		  "x.rule.field: must name a parameter, as in "
		  "'args.params.owner'"),
		E("{'rule':'force','field':'utils.exists(args.params.x)',"
		  "'value':1}", "x.rule.field: must name a parameter, as in "
		  "'args.params.owner'"),
		E("{'rule':'force','field':'args.params.x','value':"
		  "'args.nope','clause':{'rule':'match','type':'string',"
		  "'eval':'==','f1':'a'}}",
		  "x.rule.value: unknown variable 'args.nope' (expected "
		  "args.auth.X, args.params.X, args.token, "
		  "args.find.X, args.op, args.opts.X, utils.now(), "
		  "utils.exists(X) or utils.length(X))",
		  "x.rule.clause: missing 'f2'"),
		E("{'rule':'force','field':'args.params.x','value':1,"
		  "'clause':'allow'}", "x.rule.clause: must be an object such "
		  "as {'rule': 'allow'}"),
		/* remove */
		E("{'rule':'remove'}", "x.rule: missing 'fields'"),
		E("{'rule':'remove','fields':[]}", "x.rule.fields: must be a "
		  "non-empty array of parameters, as in ['args.params.owner']"),
		E("{'rule':'remove','fields':'args.params.x'}",
		  "x.rule.fields: must be a non-empty array of parameters, as "
		  "in ['args.params.owner']"),
		E("{'rule':'remove','fields':['args.params.x','args.auth.y',"
		  "3],'clause':{'rule':'and','clauses':[{'rule':'x'}]}}",
		  "x.rule.fields[1]: must name a parameter, as in "
		  "'args.params.owner'",
		  "x.rule.fields[2]: must name a parameter, as in "
		  "'args.params.owner'",
		  "x.rule.clause.clauses[0]: unknown rule 'x'"),
		/* webhook */
		E("{'rule':'webhook'}", "x.rule: missing 'url'"),
		E("{'rule':'webhook','url':'ftp://h/','timeout':0}",
		  "x.rule.url: must be an http:// or https:// URL without "
		  "spaces or control characters",
		  "x.rule.timeout: must be a number of seconds greater than 0 "
		  "and at most 86400"),
		E("{'rule':'webhook','url':'http://','timeout':'5'}",
		  "x.rule.url: must be an http:// or https:// URL without "
		  "spaces or control characters",
		  "x.rule.timeout: must be a number of seconds greater than 0 "
		  "and at most 86400"),
		E("{'rule':'webhook','url':'http://h/a b','timeout':1e9}",
		  "x.rule.url: must be an http:// or https:// URL without "
		  "spaces or control characters",
		  "x.rule.timeout: must be a number of seconds greater than 0 "
		  "and at most 86400"),
		E("{'rule':'webhook','url':5}", "x.rule.url: must be an "
		  "http:// or https:// URL without spaces or control "
		  "characters"),
	};
	struct json_object	*v;
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = json_tokener_parse(q(t[i].text));
		assert_true(v != NULL || strcmp(t[i].text, "null") == 0);
		expect_errors(v, t[i].text, t[i].msg);
		json_object_put(v);
	}
}

/*
 * Webhook URLs pass the same check as upstream URLs: a URL without a
 * host or with a port out of range is a config error at its path, in a
 * nested clause too.
 */
static void
test_webhook_url_checked(void **state)
{
	static const char *const bad[] = {
		"{'rule':'webhook','url':'http://:99999'}",
		"{'rule':'webhook','url':'http://h:0/x'}",
		"{'rule':'webhook','url':'https://[::1/x'}",
		"{'rule':'webhook','url':'http://h_\\u00e9/'}",
	};
	static const char *const msg[] = {
		"x.rule.url: must be an http:// or https:// URL without "
		"spaces or control characters", NULL };
	static const char *const nested[] = {
		"x.rule.clauses[1].url: must be an http:// or https:// URL "
		"without spaces or control characters", NULL };
	struct json_object	*v;
	struct syerrs		 errs;
	struct rule		*r;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = json_tokener_parse(q(bad[i]));
		assert_non_null(v);
		expect_errors(v, bad[i], msg);
		json_object_put(v);
	}
	v = json_tokener_parse(q("{'rule':'and','clauses':[{'rule':'allow'},"
	    "{'rule':'webhook','url':'http://:99999'}]}"));
	assert_non_null(v);
	expect_errors(v, "nested http://:99999", nested);
	json_object_put(v);
	/* a good one still compiles */
	v = json_tokener_parse(q("{'rule':'webhook','url':"
	    "'http://127.0.0.1:99/hook'}"));
	syerrs_init(&errs);
	r = rule_compile(v, "x.rule", &errs);
	assert_non_null(r);
	assert_int_equal(errs.n, 0);
	rule_free(r);
	syerrs_free(&errs);
	json_object_put(v);
}

/* Errors that JSON text with single quotes cannot carry. */
static void
test_compile_errors_raw(void **state)
{
	static const char *const nul_rule[] = {
		"x.rule: unknown rule 'allow'", NULL };
	static const char *const nul_var[] = {
		"x.rule.f1: unknown variable 'args.token' (expected "
		"args.auth.X, args.params.X, args.token, "
		  "args.find.X, args.op, args.opts.X, utils.now(), "
		"utils.exists(X) or utils.length(X))", NULL };
	static const char *const nul_url[] = {
		"x.rule.url: must be an http:// or https:// URL without "
		"spaces or control characters", NULL };
	const char		*deep[2] = { NULL, NULL };
	struct json_object	*v, *inner;
	char			 path[1024];
	int			 i;

	v = json_tokener_parse("{\"rule\":\"allow\\u0000\"}");
	expect_errors(v, "allow\\0", nul_rule);
	json_object_put(v);
	v = json_tokener_parse("{\"rule\":\"match\",\"type\":\"string\","
	    "\"eval\":\"==\",\"f1\":\"args.token\\u0000\",\"f2\":\"x\"}");
	expect_errors(v, "args.token\\0", nul_var);
	json_object_put(v);
	v = json_tokener_parse("{\"rule\":\"webhook\",\"url\":"
	    "\"http://h/\\u0000\"}");
	expect_errors(v, "http://h/\\0", nul_url);
	json_object_put(v);

	/* 65 levels of clauses under the top rule (built, not parsed) */
	v = json_tokener_parse("{\"rule\":\"allow\"}");
	strcpy(path, "x.rule");
	for (i = 0; i < 65; i++) {
		inner = v;
		v = json_tokener_parse("{\"rule\":\"remove\",\"fields\":"
		    "[\"args.params.x\"]}");
		json_object_object_add(v, "clause", inner);
		strcat(path, ".clause");
	}
	strcat(path, ": rules nested too deeply (at most 64 levels)");
	deep[0] = path;
	expect_errors(v, "deep", deep);
	json_object_put(v);
}

/* 64 levels compile and evaluate. */
static void
test_deep_ok(void **state)
{
	struct json_object	*v, *inner;
	struct syerrs		 errs;
	struct rule		*r;
	struct run		 out;
	int			 i;

	v = json_tokener_parse("{\"rule\":\"allow\"}");
	for (i = 0; i < 64; i++) {
		inner = v;
		v = json_tokener_parse("{\"rule\":\"and\",\"clauses\":[]}");
		json_object_array_add(json_object_object_get(v, "clauses"),
		    inner);
	}
	syerrs_init(&errs);
	r = rule_compile(v, "x.rule", &errs);
	assert_non_null(r);
	assert_int_equal(errs.n, 0);
	eval_rule(r, NULL, NULL, TOKEN, NULL, 0, &out);
	assert_int_equal(out.v, RULE_PASS);
	rule_free(r);
	syerrs_free(&errs);
	json_object_put(v);
}

/* The compiled rule does not keep references into the config tree. */
static void
test_independent(void **state)
{
	struct json_object	*v;
	struct syerrs		 errs;
	struct rule		*r;
	struct run		 out;

	v = parse("{'rule':'match','type':'string','eval':'in','f1':"
	    "'args.auth.sub','f2':['u1'],'error':'e'}");
	syerrs_init(&errs);
	r = rule_compile(v, "x.rule", &errs);
	assert_non_null(r);
	json_object_array_put_idx(json_object_object_get(v, "f2"), 0,
	    json_object_new_string("zz"));
	json_object_put(v);
	eval_rule(r, AUTH, NULL, TOKEN, NULL, 0, &out);
	assert_int_equal(out.v, RULE_PASS);
	eval_rule(r, "{'sub':'zz'}", NULL, TOKEN, NULL, 0, &out);
	assert_int_equal(out.v, RULE_FAIL);
	assert_string_equal(out.err, "e");
	rule_free(r);
	syerrs_free(&errs);
}

/* A database read rule's state (SPEC 8.10): args.find, args.op, args.opts. */
static void
read_case(const char *rule, const char *read, enum rule_verdict want)
{
	struct rule	*r = compile(rule);
	struct rule_env	 env;
	const char	*err = NULL;

	memset(&env, 0, sizeof(env));
	env.auth = parse(AUTH);
	env.read = parse(read);
	env.now = NOW;
	assert_int_equal(rule_eval(r, &env, &err), want);
	json_object_put(env.auth);
	json_object_put(env.read);
	rule_free(r);
}

static void
test_read_state(void **state)
{
	const char	*own = "{'rule':'match','type':'string','eval':'==',"
	    "'f1':'args.find.owner','f2':'args.auth.sub'}";
	struct json_object	*v;
	struct syerrs		 errs;

	(void)state;
	read_case(own, "{'find':{'owner':'u1'},'op':'all','opts':{}}",
	    RULE_PASS);
	read_case(own, "{'find':{'owner':'u2'},'op':'all','opts':{}}",
	    RULE_FAIL);
	read_case(own, "{'find':{},'op':'all','opts':{}}", RULE_FAIL);
	read_case(own, NULL, RULE_FAIL);
	read_case("{'rule':'match','type':'string','eval':'==','f1':"
	    "'args.op','f2':'one'}", "{'find':{},'op':'one'}", RULE_PASS);
	read_case("{'rule':'match','type':'string','eval':'==','f1':"
	    "'args.op','f2':'one'}", "{'find':{},'op':'all'}", RULE_FAIL);
	read_case("{'rule':'match','type':'number','eval':'<=','f1':"
	    "'args.opts.limit','f2':10}", "{'opts':{'limit':5}}", RULE_PASS);
	read_case("{'rule':'match','type':'number','eval':'<=','f1':"
	    "'args.opts.limit','f2':10}", "{'opts':{}}", RULE_FAIL);
	read_case("{'rule':'match','type':'bool','eval':'==','f1':"
	    "'utils.exists(args.find.owner)','f2':true}",
	    "{'find':{'owner':'x'}}", RULE_PASS);
	/* args.operator is not args.op */
	v = parse("{'rule':'match','type':'string','eval':'==','f1':"
	    "'args.operator','f2':'x'}");
	syerrs_init(&errs);
	assert_null(rule_compile(v, "x.rule", &errs));
	assert_int_equal(errs.n, 1);
	syerrs_free(&errs);
	json_object_put(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_rules),
		cmocka_unit_test(test_match_string),
		cmocka_unit_test(test_match_number),
		cmocka_unit_test(test_match_bool),
		cmocka_unit_test(test_match_date),
		cmocka_unit_test(test_date_forms),
		cmocka_unit_test(test_variables),
		cmocka_unit_test(test_utils),
		cmocka_unit_test(test_and_or),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_force),
		cmocka_unit_test(test_force_now_fraction),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_webhook),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_compile_errors_raw),
		cmocka_unit_test(test_webhook_url_checked),
		cmocka_unit_test(test_deep_ok),
		cmocka_unit_test(test_independent),
		cmocka_unit_test(test_read_state),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
