/*
 * test_compile.c: a project's JSON -> registry records, on its own (no
 * config file), as the config API will call it: one service at a time.
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

#include "compile.h"
#include "util.h"

static struct json_object *
parse(const char *text)
{
	struct json_object	*v;

	v = json_tokener_parse(text);
	assert_non_null(v);
	return (v);
}

static const char *
entry(const struct compile *c, const char *key)
{
	size_t	i;

	for (i = 0; i < c->nents; i++)
		if (strcmp(c->ents[i].key, key) == 0)
			return (c->ents[i].val);
	return (NULL);
}

static void
test_one_service(void **state)
{
	struct json_object	*sv;
	struct syerrs		 errs;
	struct compile		 c;
	const char		*e;

	(void)state;
	sv = parse("{\"url\":\"http://127.0.0.1:5000/\",\"endpoints\":{"
	    "\"b\":{\"path\":\"/b/{args.id}\",\"rule\":{\"rule\":\"allow\"}},"
	    "\"a\":{\"kind\":\"external\",\"path\":\"https://x.example/a\","
	    "\"rule\":{\"rule\":\"deny\"}}}}");
	syerrs_init(&errs);
	compile_init(&c, &errs, NULL);
	assert_int_equal(compile_service(&c, sv, "p", "s"), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(c.nservices, 1);
	assert_int_equal(c.nendpoints, 2);
	assert_int_equal(c.nprojects, 0);
	assert_int_equal(c.nents, 3);
	compile_sort(&c);
	assert_string_equal(c.ents[0].key, "E/p/s/a");
	assert_string_equal(c.ents[1].key, "E/p/s/b");
	assert_string_equal(c.ents[2].key, "S/p/s");
	assert_string_equal(entry(&c, "S/p/s"), "{\"project\":\"p\","
	    "\"service\":\"s\",\"url\":\"http://127.0.0.1:5000/\"}");
	e = entry(&c, "E/p/s/b");
	assert_non_null(e);
	assert_non_null(strstr(e, "\"url\":\"http://127.0.0.1:5000/b/"
	    "{args.id}\""));
	assert_int_equal(c.ents[1].vallen, strlen(c.ents[1].val));
	compile_free(&c);
	syerrs_free(&errs);
	json_object_put(sv);
}

/* Problems come back with the service's full JSON path. */
static void
test_service_errors(void **state)
{
	struct json_object	*sv;
	struct syerrs		 errs;
	struct compile		 c;

	(void)state;
	sv = parse("{\"endpoints\":{\"e\":{\"path\":\"/a\",\"rule\":"
	    "{\"rule\":\"webhook\",\"url\":\"http://:99999\"}}}}");
	syerrs_init(&errs);
	compile_init(&c, &errs, NULL);
	assert_int_equal(compile_service(&c, sv, "p", "bad/id"), -1);
	assert_int_equal(errs.n, 3);
	assert_string_equal(errs.msg[0], "projects.p.remoteServices.bad/id: "
	    "bad service id \"bad/id\" (use 1 to 128 of A-Z, a-z, 0-9, \"_\" "
	    "and \"-\")");
	assert_string_equal(errs.msg[1], "projects.p.remoteServices.bad/id: "
	    "missing \"url\" (internal endpoint \"e\" needs it)");
	assert_string_equal(errs.msg[2], "projects.p.remoteServices.bad/id."
	    "endpoints.e.rule.url: must be an http:// or https:// URL "
	    "without spaces or control characters");
	compile_free(&c);
	syerrs_free(&errs);
	json_object_put(sv);
}

/*
 * Space Cloud writes "url": "" for a service of external endpoints
 * only: as a missing url, enough for those, not for an internal one.
 */
static void
test_empty_url(void **state)
{
	struct json_object	*ext, *in;
	struct syerrs		 errs;
	struct compile		 c;

	(void)state;
	ext = parse("{\"url\":\"\",\"endpoints\":{\"a\":{\"kind\":"
	    "\"external\",\"path\":\"https://x.example/a\",\"rule\":"
	    "{\"rule\":\"allow\"}}}}");
	in = parse("{\"url\":\"\",\"endpoints\":{\"b\":{\"path\":"
	    "\"/b\",\"rule\":{\"rule\":\"allow\"}}}}");
	syerrs_init(&errs);
	compile_init(&c, &errs, NULL);
	assert_int_equal(compile_service(&c, ext, "p", "s"), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(compile_service(&c, in, "p", "t"), -1);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], "projects.p.remoteServices.t: "
	    "missing \"url\" (internal endpoint \"b\" needs it)");
	compile_free(&c);
	syerrs_free(&errs);
	json_object_put(ext);
	json_object_put(in);
}

static void
test_project(void **state)
{
	struct json_object	*pv;
	struct syerrs		 errs;
	struct compile		 c;

	(void)state;
	pv = parse("{\"secrets\":[{\"alg\":\"HS256\",\"secret\":\"k\","
	    "\"isPrimary\":true}],\"remoteServices\":{\"s\":{\"url\":"
	    "\"http://h:1\",\"endpoints\":{}}}}");
	syerrs_init(&errs);
	compile_init(&c, &errs, NULL);
	compile_project(&c, pv, "p");
	assert_int_equal(errs.n, 0);
	assert_int_equal(c.nprojects, 1);
	assert_int_equal(c.nservices, 1);
	assert_int_equal(c.nnosign, 0);
	assert_non_null(entry(&c, "P/p"));
	assert_non_null(entry(&c, "S/p/s"));
	json_object_put(pv);
	/* a project whose secrets cannot sign is listed */
	pv = parse("{}");
	compile_project(&c, pv, "q");
	assert_int_equal(errs.n, 0);
	assert_int_equal(c.nnosign, 1);
	assert_string_equal(c.nosign[0], "q");
	assert_string_equal(entry(&c, "P/q"),
	    "{\"project\":\"q\",\"secrets\":[],"
	    "\"graphql\":{\"timeout\":10.0,\"maxDepth\":10,\"maxFields\":500,\"maxFanOut\":100,\"maxCalls\":500,\"maxConcurrency\":16}}");
	compile_free(&c);
	assert_int_equal(c.nents, 0);
	syerrs_free(&errs);
	json_object_put(pv);
}

/* Compile project text pv as "p"; the problems found, joined by '|'. */
static char *
project_errors(const char *text)
{
	struct json_object	*pv = parse(text);
	struct syerrs		 errs;
	struct compile		 c;
	struct sybuf		 b;
	size_t			 i;

	syerrs_init(&errs);
	compile_init(&c, &errs, NULL);
	compile_project(&c, pv, "p");
	sybuf_init(&b);
	sybuf_addstr(&b, "");
	for (i = 0; i < errs.n; i++)
		sybuf_printf(&b, "%s%s", i > 0 ? "|" : "", errs.msg[i]);
	compile_free(&c);
	syerrs_free(&errs);
	json_object_put(pv);
	return (sybuf_detach(&b));
}

static void
expect_error(const char *text, const char *want)
{
	char	*got = project_errors(text);

	if (strstr(got, want) == NULL)
		fail_msg("expected an error with \"%s\", got \"%s\"", want, got);
	free(got);
}

#define SVC	"\"remoteServices\":{\"svc\":{\"url\":\"http://h:1\"," \
	"\"endpoints\":{}}}"

/* SPEC 8.10: what a databases entry may hold, with its JSON paths. */
static void
test_databases(void **state)
{
	char	*got;

	(void)state;
	got = project_errors("{" SVC ",\"databases\":{"
	    "\"db\":{\"conn\":\"/var/lib/x.sqlite3\",\"tables\":{"
	    "\"trainer\":{\"rules\":{\"read\":{\"rule\":\"allow\"}}},"
	    "\"pokemon\":{\"rules\":{\"read\":{\"rule\":\"authenticated\"}},"
	    "\"columns\":[\"id\",\"name\"]},\"hidden\":{}}},"
	    "\"pg\":{\"type\":\"postgres\",\"conn\":\"postgresql://a@127.0.0.1/a\","
	    "\"schema\":\"public\",\"tables\":{}}}}");
	assert_string_equal(got, "");
	free(got);
	expect_error("{" SVC ",\"databases\":{\"svc\":{\"conn\":\"x.db\"}}}",
	    "projects.p.databases.svc: the database alias \"svc\" is also a "
	    "service id");
	expect_error("{\"databases\":{\"db\":{\"type\":\"mysql\","
	    "\"conn\":\"x\"}}}", "projects.p.databases.db.type");
	expect_error("{\"databases\":{\"db\":{}}}", "projects.p.databases.db");
	expect_error("{\"databases\":{\"db\":{\"conn\":\"x.db\","
	    "\"schema\":\"public\"}}}", "projects.p.databases.db.schema");
	expect_error("{\"databases\":{\"db\":{\"conn\":\"x.db\",\"tables\":{"
	    "\"t\":{\"rules\":{\"read\":{\"rule\":\"force\",\"field\":"
	    "\"args.params.x\",\"value\":1}}}}}}}",
	    "projects.p.databases.db.tables.t.rules.read: a read rule cannot "
	    "use \"force\" or \"remove\"");
	expect_error("{\"databases\":{\"db\":{\"conn\":\"x.db\",\"tables\":{"
	    "\"t\":{\"rules\":{\"read\":{\"rule\":\"nonsense\"}}}}}}}",
	    "projects.p.databases.db.tables.t.rules.read");
	expect_error("{\"databases\":[]}", "projects.p.databases");
}

/* SPEC 8.8: the graphql limits, with their JSON paths. */
static void
test_graphql(void **state)
{
	char	*got;

	(void)state;
	got = project_errors("{\"graphql\":{\"timeout\":0.5,\"maxDepth\":3,"
	    "\"maxFields\":1,\"maxFanOut\":1000000,\"maxCalls\":7,"
	    "\"maxConcurrency\":1}}");
	assert_string_equal(got, "");
	free(got);
	got = project_errors("{\"contextTimeGraphQL\":3}");
	assert_string_equal(got, "");
	free(got);
	expect_error("{\"graphql\":{\"timeout\":0}}",
	    "projects.p.graphql.timeout: must be a number of seconds greater "
	    "than 0");
	expect_error("{\"graphql\":{\"timeout\":\"10\"}}",
	    "projects.p.graphql.timeout");
	expect_error("{\"contextTimeGraphQL\":-1}",
	    "projects.p.contextTimeGraphQL: must be a number");
	expect_error("{\"graphql\":{\"maxDepth\":0}}",
	    "projects.p.graphql.maxDepth: must be an integer from 1");
	expect_error("{\"graphql\":{\"maxFields\":2.5}}",
	    "projects.p.graphql.maxFields");
	expect_error("{\"graphql\":{\"maxFanOut\":1000001}}",
	    "projects.p.graphql.maxFanOut");
	expect_error("{\"graphql\":{\"maxCalls\":null,\"maxConcurrency\":"
	    "true}}", "projects.p.graphql.maxConcurrency");
	expect_error("{\"graphql\":[]}", "projects.p.graphql: must be an "
	    "object");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_service),
		cmocka_unit_test(test_service_errors),
		cmocka_unit_test(test_empty_url),
		cmocka_unit_test(test_project),
		cmocka_unit_test(test_databases),
		cmocka_unit_test(test_graphql),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
