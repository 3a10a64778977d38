/*
 * test_dbconf.c: one "databases" entry of the config (dbconf.h): the
 * defaults, every rule of SPEC 8.10 about one entry with its JSON path,
 * and the rule objects kept as references.
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

#include "dbconf.h"
#include "util.h"

#define P	"projects.p.databases.db"

/* Parse json as the entry "alias"; the errors joined by "|". */
static char errbuf[4096];

static int
parse(struct dbconf *c, const char *alias, const char *json)
{
	struct json_object	*o = json_tokener_parse(json);
	struct syerrs		 errs;
	size_t			 i;
	int			 rc;

	assert_non_null(o);
	syerrs_init(&errs);
	rc = dbconf_parse(c, alias, o, P, &errs);
	errbuf[0] = '\0';
	for (i = 0; i < errs.n; i++)
		snprintf(errbuf + strlen(errbuf), sizeof(errbuf) -
		    strlen(errbuf), "%s%s", i ? "|" : "", errs.msg[i]);
	assert_int_equal(rc, errs.n == 0 ? 0 : -1);
	syerrs_free(&errs);
	json_object_put(o);
	return (rc);
}

static void
test_defaults(void **state)
{
	struct dbconf	 c;

	assert_int_equal(parse(&c, "db", "{\"conn\":\"app.sqlite3\"}"), 0);
	assert_int_equal(c.type, DBCONF_SQLITE);
	assert_string_equal(c.conn, "app.sqlite3");
	assert_string_equal(c.schema, "public");
	assert_int_equal(c.enabled, 1);
	assert_int_equal(c.max_rows, 1000);
	assert_int_equal(c.batch_size, 100);
	assert_int_equal(c.max_conns, 4);
	assert_int_equal(c.ntables, 0);
	assert_null(dbconf_table(&c, "t"));
	dbconf_free(&c);
}

static void
test_full(void **state)
{
	struct dbconf			 c;
	const struct dbconf_table	*t;
	struct json_object		*rule;

	assert_int_equal(parse(&c, "pg_2", "{\"type\":\"postgres\","
	    "\"conn\":\"host=127.0.0.1 password=x\",\"schema\":\"app\","
	    "\"enabled\":false,\"maxRows\":5,\"batchSize\":7,"
	    "\"maxConnections\":2,\"tables\":{\"trainer\":{\"rules\":"
	    "{\"read\":{\"rule\":\"allow\"}}},\"pokemon\":{\"columns\":"
	    "[\"id\",\"name\"]},\"x\":{\"rules\":{}}}}"), 0);
	assert_int_equal(c.type, DBCONF_POSTGRES);
	assert_string_equal(c.schema, "app");
	assert_int_equal(c.enabled, 0);
	assert_int_equal(c.max_rows, 5);
	assert_int_equal(c.batch_size, 7);
	assert_int_equal(c.max_conns, 2);
	assert_int_equal(c.ntables, 3);
	t = dbconf_table(&c, "trainer");
	assert_non_null(t);
	assert_null(t->columns);
	rule = t->read_rule;
	assert_string_equal(json_object_to_json_string_ext(rule,
	    JSON_C_TO_STRING_PLAIN), "{\"rule\":\"allow\"}");
	t = dbconf_table(&c, "pokemon");
	assert_int_equal(t->ncolumns, 2);
	assert_string_equal(t->columns[1], "name");
	assert_null(t->read_rule);		/* no read rule: deny */
	assert_null(dbconf_table(&c, "x")->read_rule);
	dbconf_free(&c);
}

static void
test_errors(void **state)
{
	static const struct {
		const char	*alias, *json, *want;
	} c[] = {
		{ "db", "{\"type\":\"mysql\",\"conn\":\"x\"}", P ".type: "
		    "unknown type (expected \"sqlite\" or \"postgres\")" },
		{ "db", "{\"type\":1,\"conn\":\"x\"}", P ".type: unknown" },
		{ "db", "{}", P ": missing \"conn\"" },
		{ "db", "{\"conn\":\"\"}", P ".conn: must be a non-empty "
		    "string" },
		{ "db", "{\"conn\":7}", P ".conn: must be" },
		{ "db", "{\"conn\":\"x\",\"schema\":\"s\"}", P ".schema: "
		    "only a postgres database has a schema" },
		{ "db", "{\"type\":\"sqlite\",\"conn\":\"x\",\"schema\":\"s\"}",
		    P ".schema: only" },
		{ "db", "{\"type\":\"postgres\",\"conn\":\"x\",\"schema\":1}",
		    P ".schema: must be a non-empty string" },
		{ "db", "{\"conn\":\"x\",\"tables\":{\"t\":{\"columns\":"
		    "[\"a\",1,null]}}}", P ".tables.t.columns.1: must be a "
		    "string|" P ".tables.t.columns.2: must be a string" },
		{ "db", "{\"conn\":\"x\",\"tables\":{\"t\":{\"columns\":"
		    "\"a\"}}}", P ".tables.t.columns: must be an array" },
		{ "db", "{\"conn\":\"x\",\"enabled\":\"yes\"}", P ".enabled: "
		    "must be true or false" },
		{ "db", "{\"conn\":\"x\",\"maxRows\":0}", P ".maxRows: must "
		    "be a positive integer" },
		{ "db", "{\"conn\":\"x\",\"maxRows\":1.5}", P ".maxRows: " },
		{ "db", "{\"conn\":\"x\",\"batchSize\":-1}", P ".batchSize: "
		    "must be a positive integer" },
		{ "db", "{\"conn\":\"x\",\"maxConnections\":\"4\"}",
		    P ".maxConnections: must be a positive integer" },
		{ "db", "{\"conn\":\"x\",\"tables\":[]}", P ".tables: must "
		    "be an object" },
		{ "db", "{\"conn\":\"x\",\"tables\":{\"t\":1}}", P ".tables.t: "
		    "must be an object" },
		{ "db", "{\"conn\":\"x\",\"tables\":{\"t\":{\"rules\":1}}}",
		    P ".tables.t.rules: must be an object" },
		{ "1db", "{\"conn\":\"x\"}", P ": the alias \"1db\" is not a "
		    "GraphQL name" },
		{ "d-b", "{\"conn\":\"x\"}", P ": the alias" },
		{ "db", "[]", P ": must be an object" },
	};
	struct dbconf	 conf;
	size_t		 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_int_equal(parse(&conf, c[i].alias, c[i].json), -1);
		if (strncmp(errbuf, c[i].want, strlen(c[i].want)) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", c[i].json,
			    errbuf, c[i].want);
		dbconf_free(&conf);
	}
	/* every problem is reported, not only the first */
	assert_int_equal(parse(&conf, "db", "{\"type\":\"x\",\"maxRows\":0,"
	    "\"batchSize\":0}"), -1);
	assert_string_equal(errbuf, P ".type: unknown type (expected "
	    "\"sqlite\" or \"postgres\")|" P ": missing \"conn\"|"
	    P ".maxRows: must be a positive integer|" P ".batchSize: must "
	    "be a positive integer");
	dbconf_free(&conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_errors),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
