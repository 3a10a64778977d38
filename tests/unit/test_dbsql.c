/*
 * test_dbsql.c: the SQL compiler of database fields (dbsql.h): where
 * operators and their null rules, _or, errors, identifier quoting, sort,
 * limit/skip/op, batching and de-duplication.  The statements' meaning
 * is checked against real databases by tests/db/test_db.
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

#include "dbsql.h"
#include "util.h"

#define HOSTILE	"a\"; DROP TABLE x; --"

static struct dbsql_col cols[] = {
	{ "id", "integer", 0 },
	{ "name", "text", 1 },
	{ HOSTILE, "text", 1 },
	{ "power", "integer", 0 },
};
static struct dbsql_table tbl = { "public", "pokemon", cols, 4 };
static struct dbsql_table tbl_lite = { NULL, "pokemon", cols, 4 };

/* Argument sets parsed from JSON text; freed by args_free. */
static struct dbsql_args
args_of(const char *where, const char *sort, const char *limit,
    const char *skip, const char *op)
{
	struct dbsql_args	 a;

	a.where = where ? json_tokener_parse(where) : NULL;
	a.sort = sort ? json_tokener_parse(sort) : NULL;
	a.limit = limit ? json_tokener_parse(limit) : NULL;
	a.skip = skip ? json_tokener_parse(skip) : NULL;
	a.op = op ? json_tokener_parse(op) : NULL;
	return (a);
}

static void
args_free(struct dbsql_args *a)
{
	json_object_put(a->where);
	json_object_put(a->sort);
	json_object_put(a->limit);
	json_object_put(a->skip);
	json_object_put(a->op);
}

/* Compile one set for PostgreSQL; its WHERE clause or error. */
static struct dbsql_plan plan;

static const char *
one(enum dbsql_dialect d, const char *where, const char *sort)
{
	struct dbsql_args	 a = args_of(where, sort, NULL, NULL, NULL);
	struct db_error		 err;

	dbsql_plan_free(&plan);
	assert_int_equal(dbsql_plan(&plan, d, d == DBSQL_SQLITE ? &tbl_lite :
	    &tbl, NULL, 0, &a, 1, 1000, 100, &err), 0);
	args_free(&a);
	assert_int_equal(plan.ndistinct, 1);
	if (plan.errs[0].code != DB_OK)
		return (plan.errs[0].msg);
	assert_int_equal(plan.nstmts, 1);
	return (plan.stmts[0].sql);
}

static void
expect_where(const char *where, const char *frag)
{
	const char	*sql = one(DBSQL_POSTGRES, where, NULL);

	if (strstr(sql, frag) == NULL)
		fail_msg("where %s: %s not in %s", where, frag, sql);
}

static void
expect_err(const char *where, const char *sort, enum db_code code)
{
	one(DBSQL_POSTGRES, where, sort);
	if (plan.errs[0].code != code)
		fail_msg("%s / %s: code %d (%s), want %d", where ? where : "-",
		    sort ? sort : "-", plan.errs[0].code, plan.errs[0].msg,
		    code);
	assert_int_equal(plan.nstmts, 0);
}

static void
test_full_statement(void **state)
{
	const char	*sql = one(DBSQL_POSTGRES,
	    "{\"id\":{\"_gt\":5},\"name\":\"x\"}", "[\"-name\",\"id\"]");

	assert_string_equal(sql,
	    "SELECT * FROM (SELECT 0 AS \"__set\", row_number() OVER ("
	    "ORDER BY \"name\" COLLATE \"C\" DESC NULLS LAST, \"id\" ASC "
	    "NULLS FIRST) AS \"__n\", \"id\", \"name\", "
	    "\"a\"\"; DROP TABLE x; --\", \"power\" FROM "
	    "\"public\".\"pokemon\" "
	    "WHERE (\"id\" > $1 AND \"name\" = $2) ORDER BY \"name\" COLLATE "
	    "\"C\" DESC NULLS LAST, \"id\" ASC NULLS FIRST LIMIT $3 "
	    "OFFSET $4) AS \"s0\" ORDER BY 1, 2");
	assert_int_equal(plan.stmts[0].nparams, 4);
	assert_int_equal(plan.stmts[0].params[0].kind, DBSQL_PINT);
	assert_string_equal(plan.stmts[0].params[0].text, "5");
	assert_string_equal(plan.stmts[0].params[1].s, "x");
	assert_string_equal(plan.stmts[0].params[2].text, "1000");
	assert_string_equal(plan.stmts[0].params[3].text, "0");
	dbsql_plan_free(&plan);
}

static void
test_sqlite_statement(void **state)
{
	const char	*sql = one(DBSQL_SQLITE, "{\"id\":1}", "\"name\"");

	assert_string_equal(sql,
	    "SELECT * FROM (SELECT 0 AS \"__set\", row_number() OVER ("
	    "ORDER BY \"name\" COLLATE BINARY ASC NULLS FIRST) AS \"__n\", "
	    "\"id\", \"name\", \"a\"\"; DROP TABLE x; --\", \"power\" FROM "
	    "\"pokemon\" WHERE (\"id\" = ?) ORDER BY \"name\" COLLATE BINARY "
	    "ASC NULLS FIRST LIMIT ? OFFSET ?) AS \"s0\" ORDER BY 1, 2");
	dbsql_plan_free(&plan);
}

static void
test_operators(void **state)
{
	expect_where("{\"id\":null}", "WHERE (\"id\" IS NULL)");
	expect_where("{\"id\":{\"_eq\":3}}", "WHERE (\"id\" = $1)");
	expect_where("{\"id\":{\"_eq\":null}}", "WHERE (\"id\" IS NULL)");
	expect_where("{\"id\":{\"_ne\":3}}", "WHERE (\"id\" <> $1)");
	expect_where("{\"id\":{\"_ne\":null}}",
	    "WHERE (\"id\" IS NOT NULL)");
	expect_where("{\"id\":{\"_gt\":3,\"_lte\":9}}",
	    "WHERE ((\"id\" > $1 AND \"id\" <= $2))");
	expect_where("{\"id\":{\"_gte\":3,\"_lt\":9}}",
	    "WHERE ((\"id\" >= $1 AND \"id\" < $2))");
	expect_where("{\"id\":{\"_gt\":null}}", "WHERE ((1=0))");
	expect_where("{\"id\":{\"_lt\":null}}", "WHERE ((1=0))");
	expect_where("{\"id\":{\"_in\":[1,2]}}",
	    "WHERE ((\"id\" IN ($1, $2)))");
	expect_where("{\"id\":{\"_in\":[]}}", "WHERE ((1=0))");
	expect_where("{\"id\":{\"_nin\":[]}}", "WHERE ((1=1))");
	expect_where("{\"id\":{\"_in\":[1,null]}}",
	    "WHERE ((\"id\" IN ($1) OR \"id\" IS NULL))");
	expect_where("{\"id\":{\"_nin\":[1,null]}}",
	    "WHERE ((\"id\" NOT IN ($1) AND \"id\" IS NOT NULL))");
	expect_where("{\"id\":{\"_in\":[null]}}",
	    "WHERE ((\"id\" IS NULL))");
	expect_where("{\"id\":{}}", "WHERE ((1=1))");
	expect_where("{\"_or\":[]}", "WHERE ((1=0))");
	expect_where("{\"_or\":[{\"id\":1},{\"name\":\"a\",\"id\":2}]}",
	    "WHERE (((\"id\" = $1) OR (\"name\" = $2 AND \"id\" = $3)))");
	expect_where("{\"a\\\"; DROP TABLE x; --\":\"v\"}",
	    "WHERE (\"a\"\"; DROP TABLE x; --\" = $1)");
	/* no where at all, and an empty one: no WHERE clause */
	assert_null(strstr(one(DBSQL_POSTGRES, "{}", NULL), "WHERE"));
	assert_null(strstr(one(DBSQL_POSTGRES, NULL, NULL), "WHERE"));
	dbsql_plan_free(&plan);
}

static void
test_param_kinds(void **state)
{
	one(DBSQL_POSTGRES, "{\"id\":{\"_in\":[true,1.5,-7,\"s\"]}}", NULL);
	assert_int_equal(plan.stmts[0].params[0].kind, DBSQL_PBOOL);
	assert_int_equal(plan.stmts[0].params[0].i, 1);
	assert_string_equal(plan.stmts[0].params[0].text, "true");
	assert_int_equal(plan.stmts[0].params[1].kind, DBSQL_PREAL);
	assert_string_equal(plan.stmts[0].params[1].text, "1.5");
	assert_int_equal(plan.stmts[0].params[2].kind, DBSQL_PINT);
	assert_int_equal(plan.stmts[0].params[2].i, -7);
	assert_int_equal(plan.stmts[0].params[3].kind, DBSQL_PTEXT);
	dbsql_plan_free(&plan);
}

static void
test_errors(void **state)
{
	char	 deep[512];
	int	 i;

	expect_err("{\"_and\":[]}", NULL, DB_BAD_USER_INPUT);
	expect_err("{\"_or\":{}}", NULL, DB_BAD_USER_INPUT);
	expect_err("{\"_or\":[1]}", NULL, DB_BAD_USER_INPUT);
	expect_err("{\"id\":{\"_like\":1}}", NULL, DB_BAD_USER_INPUT);
	expect_err("{\"id\":{\"$eq\":1}}", NULL, DB_BAD_USER_INPUT);
	expect_err("{\"id\":[1]}", NULL, DB_BAD_USER_INPUT);
	expect_err("{\"id\":{\"_eq\":[1]}}", NULL, DB_BAD_USER_INPUT);
	expect_err("{\"id\":{\"_eq\":{\"a\":1}}}", NULL, DB_BAD_USER_INPUT);
	expect_err("{\"id\":{\"_in\":1}}", NULL, DB_BAD_USER_INPUT);
	expect_err("{\"id\":{\"_in\":[[1]]}}", NULL, DB_BAD_USER_INPUT);
	expect_err("{\"id\":\"a\\u0000b\"}", NULL, DB_BAD_USER_INPUT);
	expect_err("[]", NULL, DB_BAD_USER_INPUT);
	expect_err("{\"nope\":1}", NULL, DB_NOT_FOUND);
	expect_err("{\"_or\":[{\"nope\":1}]}", NULL, DB_NOT_FOUND);
	expect_err("{\"a\\\"; DROP TABLE x; --x\":1}", NULL, DB_NOT_FOUND);
	expect_err(NULL, "[\"nope\"]", DB_NOT_FOUND);
	expect_err(NULL, "[\"-\"]", DB_NOT_FOUND);
	expect_err(NULL, "[\"id; DROP TABLE x\"]", DB_NOT_FOUND);
	expect_err(NULL, "[1]", DB_BAD_USER_INPUT);
	expect_err(NULL, "{}", DB_BAD_USER_INPUT);
	for (i = 0, deep[0] = '\0'; i < 11; i++)
		strcat(deep, "{\"_or\":[");
	strcat(deep, "{\"id\":1}");
	for (i = 0; i < 11; i++)
		strcat(deep, "]}");
	expect_err(deep, NULL, DB_BAD_USER_INPUT);
	/* ten levels are fine */
	expect_where(deep + strlen("{\"_or\":["), "\"id\" = $1");
	assert_string_equal(dbsql_code_name(DB_NOT_FOUND), "NOT_FOUND");
	dbsql_plan_free(&plan);
}

/* limit/skip/op validation and clamping. */
static void
test_limits(void **state)
{
	static const struct {
		const char	*limit, *skip, *op;
		enum db_code	 code;
		const char	*lim, *off;
	} c[] = {
		{ NULL, NULL, NULL, DB_OK, "50", "0" },
		{ "7", "3", "\"all\"", DB_OK, "7", "3" },
		{ "9999", NULL, NULL, DB_OK, "50", "0" },
		{ "0", NULL, NULL, DB_OK, "0", "0" },
		{ "5", "2", "\"one\"", DB_OK, "1", "2" },
		{ NULL, NULL, "\"one\"", DB_OK, "1", "0" },
		{ "-1", NULL, NULL, DB_BAD_USER_INPUT, NULL, NULL },
		{ NULL, "-1", NULL, DB_BAD_USER_INPUT, NULL, NULL },
		{ "1.5", NULL, NULL, DB_BAD_USER_INPUT, NULL, NULL },
		{ "\"5\"", NULL, NULL, DB_BAD_USER_INPUT, NULL, NULL },
		{ NULL, NULL, "\"many\"", DB_BAD_USER_INPUT, NULL, NULL },
		{ NULL, NULL, "1", DB_BAD_USER_INPUT, NULL, NULL },
	};
	struct dbsql_args	 a;
	struct db_error		 err;
	size_t			 i, n;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		a = args_of(NULL, NULL, c[i].limit, c[i].skip, c[i].op);
		assert_int_equal(dbsql_plan(&plan, DBSQL_SQLITE, &tbl_lite,
		    NULL, 0, &a, 1, 50, 100, &err), 0);
		args_free(&a);
		if (plan.errs[0].code != c[i].code)
			fail_msg("case %zu: %s", i, plan.errs[0].msg);
		if (c[i].code == DB_OK) {
			n = plan.stmts[0].nparams;
			assert_string_equal(plan.stmts[0].params[n - 2].text,
			    c[i].lim);
			assert_string_equal(plan.stmts[0].params[n - 1].text,
			    c[i].off);
			assert_int_equal(plan.one[0], c[i].op != NULL &&
			    strcmp(c[i].op, "\"one\"") == 0);
		}
		dbsql_plan_free(&plan);
	}
}

static void
test_select(void **state)
{
	const char *const	 sel[] = { "power", HOSTILE };
	const char *const	 bad[] = { "id", "secret" };
	struct dbsql_args	 a = args_of(NULL, NULL, NULL, NULL, NULL);
	struct db_error		 err;

	assert_int_equal(dbsql_plan(&plan, DBSQL_SQLITE, &tbl_lite, sel, 2,
	    &a, 1, 10, 10, &err), 0);
	assert_int_equal(plan.ncols, 2);
	assert_non_null(strstr(plan.stmts[0].sql, "AS \"__n\", \"power\", "
	    "\"a\"\"; DROP TABLE x; --\" FROM"));
	dbsql_plan_free(&plan);
	assert_int_equal(dbsql_plan(&plan, DBSQL_SQLITE, &tbl_lite, bad, 2,
	    &a, 1, 10, 10, &err), -1);
	assert_int_equal(err.code, DB_NOT_FOUND);
	dbsql_plan_free(&plan);
}

/* 10 sets, 4 distinct, one failing; batch size 2. */
static void
test_batch_dedupe(void **state)
{
	static const char *const w[] = {
		"{\"id\":1}", "{\"id\":{\"_eq\":1}}", "{\"id\":2}",
		"{\"nope\":1}", "{\"id\":1}", "{\"id\":3}", "{\"id\":2}",
		"{\"nope\":1}", "{\"id\":4}", "{\"id\":1.0}",
	};
	struct dbsql_args	 a[10];
	struct db_error		 err;
	size_t			 i;

	for (i = 0; i < 10; i++)
		a[i] = args_of(w[i], NULL, NULL, NULL, NULL);
	a[4].limit = json_object_new_int(3);
	assert_int_equal(dbsql_plan(&plan, DBSQL_POSTGRES, &tbl, NULL, 0, a,
	    10, 100, 2, &err), 0);
	/* 1 and {_eq:1} are equal; id 1 with limit 3 is not; 1.0 is real */
	assert_int_equal(plan.map[0], 0);
	assert_int_equal(plan.map[1], 0);
	assert_int_equal(plan.map[2], 1);
	assert_int_equal(plan.map[3], 2);
	assert_int_equal(plan.map[4], 3);
	assert_int_equal(plan.map[5], 4);
	assert_int_equal(plan.map[6], 1);
	assert_int_equal(plan.map[7], 5);
	assert_int_equal(plan.map[8], 6);
	assert_int_equal(plan.map[9], 7);
	assert_int_equal(plan.ndistinct, 8);
	assert_int_equal(plan.errs[2].code, DB_NOT_FOUND);
	assert_int_equal(plan.errs[5].code, DB_NOT_FOUND);
	/* 6 runnable distinct sets in statements of 2 */
	assert_int_equal(plan.nstmts, 3);
	assert_int_equal(plan.stmts[0].nsets, 2);
	assert_int_equal(plan.stmts[0].sets[0], 0);
	assert_int_equal(plan.stmts[0].sets[1], 1);
	assert_int_equal(plan.stmts[1].sets[0], 3);
	assert_int_equal(plan.stmts[1].sets[1], 4);
	assert_int_equal(plan.stmts[2].sets[0], 6);
	assert_int_equal(plan.stmts[2].sets[1], 7);
	/* two sets of one shape: one LATERAL branch over their values */
	assert_string_equal(plan.stmts[1].sql,
	    "SELECT * FROM (SELECT \"__v\".\"__set\", \"__x\".\"__n\", "
	    "\"__x\".\"id\", \"__x\".\"name\", \"__x\".\"a\"\"; DROP TABLE "
	    "x; --\", \"__x\".\"power\" FROM (VALUES (3, $1, $2, $3), "
	    "(4, $4, $5, $6)) AS \"__v\"(\"__set\", \"__p0\", \"__lim\", "
	    "\"__off\") CROSS JOIN LATERAL (SELECT row_number() OVER () AS "
	    "\"__n\", \"id\", \"name\", \"a\"\"; DROP TABLE x; --\", "
	    "\"power\" FROM \"public\".\"pokemon\" WHERE (\"id\" = "
	    "CAST(\"__v\".\"__p0\" AS integer)) LIMIT CAST(\"__v\".\"__lim\" "
	    "AS bigint) OFFSET CAST(\"__v\".\"__off\" AS bigint)) AS "
	    "\"__x\") AS \"s3\" ORDER BY 1, 2");
	assert_string_equal(plan.stmts[1].params[1].text, "3");
	assert_string_equal(plan.stmts[1].params[3].text, "3");
	for (i = 0; i < 10; i++)
		args_free(&a[i]);
	dbsql_plan_free(&plan);
}

/*
 * PostgreSQL groups the sets of one shape into LATERAL branches (sets of
 * other shapes keep a branch each); SQLite keeps one branch per set.
 */
static void
test_batch_shapes(void **state)
{
	static const char *const w[] = {
		"{\"id\":1}", "{\"name\":\"x\"}", "{\"id\":2}",
		"{\"id\":{\"_in\":[1,2]}}", "{\"id\":3}",
	};
	struct dbsql_args	 a[5];
	struct db_error		 err;
	const char		*sql;
	size_t			 i;

	(void)state;
	for (i = 0; i < 5; i++)
		a[i] = args_of(w[i], NULL, NULL, NULL, NULL);
	a[2].limit = json_object_new_int(7);
	assert_int_equal(dbsql_plan(&plan, DBSQL_POSTGRES, &tbl, NULL, 0, a,
	    5, 100, 100, &err), 0);
	assert_int_equal(plan.nstmts, 1);
	assert_int_equal(plan.stmts[0].nsets, 5);
	/* sets 0, 2, 4 in one LATERAL branch, then 1 and 3 on their own */
	assert_int_equal(plan.stmts[0].sets[0], 0);
	assert_int_equal(plan.stmts[0].sets[1], 2);
	assert_int_equal(plan.stmts[0].sets[2], 4);
	assert_int_equal(plan.stmts[0].sets[3], 1);
	assert_int_equal(plan.stmts[0].sets[4], 3);
	sql = plan.stmts[0].sql;
	assert_non_null(strstr(sql, "FROM (VALUES (0, $1, $2, $3), "
	    "(2, $4, $5, $6), (4, $7, $8, $9)) AS \"__v\""));
	assert_non_null(strstr(sql, "AS \"s0\" UNION ALL SELECT * FROM "
	    "(SELECT 1 AS \"__set\""));
	assert_non_null(strstr(sql, "\"name\" = $10"));
	assert_non_null(strstr(sql, "\"id\" IN ($13, $14)"));
	assert_string_equal(plan.stmts[0].params[4].text, "7");
	assert_int_equal(plan.stmts[0].nparams, 16);
	dbsql_plan_free(&plan);
	assert_int_equal(dbsql_plan(&plan, DBSQL_SQLITE, &tbl_lite, NULL, 0,
	    a, 5, 100, 100, &err), 0);
	assert_null(strstr(plan.stmts[0].sql, "LATERAL"));
	assert_non_null(strstr(plan.stmts[0].sql, "AS \"s4\" ORDER BY 1, 2"));
	dbsql_plan_free(&plan);
	for (i = 0; i < 5; i++)
		args_free(&a[i]);
}

static void
test_quote_and_base64(void **state)
{
	struct sybuf	 b;
	char		*s;

	sybuf_init(&b);
	assert_int_equal(dbsql_quote(&b, "\"\"x\""), 0);
	assert_string_equal(b.data, "\"\"\"\"\"x\"\"\"");
	sybuf_free(&b);
	s = dbsql_base64((const unsigned char *)"", 0);
	assert_string_equal(s, "");
	free(s);
	s = dbsql_base64((const unsigned char *)"f", 1);
	assert_string_equal(s, "Zg==");
	free(s);
	s = dbsql_base64((const unsigned char *)"fo", 2);
	assert_string_equal(s, "Zm8=");
	free(s);
	s = dbsql_base64((const unsigned char *)"foob\xff", 5);
	assert_string_equal(s, "Zm9vYv8=");
	free(s);
}

static void
test_introspect(void **state)
{
	struct dbsql_stmt	 st;

	assert_int_equal(dbsql_introspect(&st, DBSQL_POSTGRES, "s\"x", "t"),
	    0);
	assert_int_equal(st.nparams, 2);
	assert_string_equal(st.params[0].text, "s\"x");
	assert_null(strstr(st.sql, "s\"x"));
	dbsql_stmt_free(&st);
	assert_int_equal(dbsql_introspect(&st, DBSQL_SQLITE, NULL, "t"), 0);
	assert_int_equal(st.nparams, 1);
	dbsql_stmt_free(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_statement),
		cmocka_unit_test(test_sqlite_statement),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_param_kinds),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_batch_dedupe),
		cmocka_unit_test(test_batch_shapes),
		cmocka_unit_test(test_quote_and_base64),
		cmocka_unit_test(test_introspect),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
