/*
 * test_dbcache.c: a worker's open databases (dbcache.c): one per project
 * and alias, kept while the entry is unchanged, replaced when a reload
 * changes it while holders keep the old one, read rules per table, and
 * entries that do not read.  SQLite entries only: nothing is opened
 * before a read, so no file is needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "dbcache.h"
#include "rule.h"

#define ENTRY(rows) "{\"conn\":\"x.sqlite3\",\"maxRows\":" rows "," \
	"\"tables\":{\"t\":{\"rules\":{\"read\":{\"rule\":\"allow\"}}}," \
	"\"u\":{}}}"

static struct json_object *
parse(const char *s)
{
	struct json_object	*o = json_tokener_parse(s);

	assert_non_null(o);
	return (o);
}

static void
test_reuse_and_replace(void **state)
{
	struct event_base	*base = event_base_new();
	struct dbcache		*dc = dbcache_new(base);
	struct json_object	*e1 = parse(ENTRY("5")), *e2 = parse(ENTRY("6"));
	struct dbcache_db	*a, *b, *c, *d;

	(void)state;
	a = dbcache_get(dc, "p", "db", e1, "/tmp");
	assert_non_null(a);
	assert_int_equal(a->conf.max_rows, 5);
	b = dbcache_get(dc, "p", "db", e1, "/tmp");
	assert_ptr_equal(a, b);		/* unchanged: the same database */
	c = dbcache_get(dc, "q", "db", e1, "/tmp");
	assert_ptr_not_equal(a, c);	/* another project: its own */
	d = dbcache_get(dc, "p", "db", e1, "/elsewhere");
	assert_ptr_not_equal(a, d);	/* another basedir: a new one */
	dbcache_put(d);
	d = dbcache_get(dc, "p", "db", e2, "/tmp");
	assert_ptr_not_equal(a, d);	/* changed by a reload */
	assert_int_equal(d->conf.max_rows, 6);
	/* the holders of the old one still have it, whole */
	assert_int_equal(a->conf.max_rows, 5);
	assert_int_equal(a->refcnt, 2);
	dbcache_put(a);
	dbcache_put(b);			/* the last reference frees it */
	dbcache_put(c);
	dbcache_put(d);
	dbcache_free(dc);
	json_object_put(e1);
	json_object_put(e2);
	event_base_free(base);
}

static void
test_rules(void **state)
{
	struct event_base	*base = event_base_new();
	struct dbcache		*dc = dbcache_new(base);
	struct json_object	*e = parse(ENTRY("5"));
	struct dbcache_db	*a;
	const struct rule	*r;

	(void)state;
	a = dbcache_get(dc, "p", "db", e, NULL);
	assert_non_null(a);
	assert_int_equal(dbcache_rule(a, "t", &r), 1);
	assert_non_null(r);
	assert_int_equal(rule_needs_token(r), 0);
	assert_int_equal(dbcache_rule(a, "u", &r), 1);
	assert_null(r);			/* listed, no read rule: deny */
	assert_int_equal(dbcache_rule(a, "v", &r), 0);
	dbcache_put(a);
	dbcache_free(dc);
	json_object_put(e);
	event_base_free(base);
}

static void
test_bad_entry(void **state)
{
	struct event_base	*base = event_base_new();
	struct dbcache		*dc = dbcache_new(base);
	struct json_object	*e = parse("{\"type\":\"oracle\"}");

	(void)state;
	assert_null(dbcache_get(dc, "p", "db", e, NULL));
	dbcache_free(dc);
	json_object_put(e);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse_and_replace),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_bad_entry),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
