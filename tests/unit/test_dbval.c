/*
 * test_dbval.c: PostgreSQL text values to JSON by type OID (dbval.h),
 * the cases a live server rarely shows: multi-dimensional and decorated
 * arrays, escapes, special values, malformed input.
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

#include "dbval.h"

static void
expect(unsigned oid, const char *in, const char *want)
{
	struct json_object	*o = dbval_pg(oid, in, strlen(in));
	const char		*got = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (strcmp(got, want) != 0)
		fail_msg("oid %u %s: got %s, want %s", oid, in, got, want);
	json_object_put(o);
}

static void
test_scalars(void **state)
{
	expect(20, "-9223372036854775808", "-9223372036854775808");
	expect(21, "7", "7");
	expect(700, "-1.25e+20", "-1.25e+20");
	expect(1700, "NaN", "\"NaN\"");
	expect(701, "-Infinity", "\"-Infinity\"");
	expect(16, "f", "false");
	expect(114, "[1, {\"a\": \"b/c\"}]", "[1,{\"a\":\"b/c\"}]");
	expect(17, "\\x", "\"\"");
	expect(17, "\\x616263", "\"YWJj\"");
	expect(1114, "2024-01-02 03:04:05", "\"2024-01-02T03:04:05\"");
	expect(1114, "infinity", "\"infinity\"");
	expect(1184, "2024-01-02 03:04:05.123456+00",
	    "\"2024-01-02T03:04:05.123456Z\"");
	expect(1082, "2024-02-29", "\"2024-02-29\"");
	expect(1083, "00:00:00", "\"00:00:00\"");
	expect(25, "plain \"text\"", "\"plain \\\"text\\\"\"");
	expect(2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
	    "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
}

static void
test_arrays(void **state)
{
	expect(1007, "{}", "[]");
	expect(1007, "{{1,2},{3,NULL}}", "[[1,2],[3,null]]");
	expect(1007, "[0:1]={5,6}", "[5,6]");
	expect(1009, "{\"a,b\",\"\\\\x\",\"NULL\",NULL,plain}",
	    "[\"a,b\",\"\\\\x\",\"NULL\",null,\"plain\"]");
	expect(1000, "{t,f,NULL}", "[true,false,null]");
	expect(1022, "{1.5,NaN,-Infinity}", "[1.5,\"NaN\",\"-Infinity\"]");
	expect(1185, "{\"2024-01-02 03:04:05+00\"}",
	    "[\"2024-01-02T03:04:05Z\"]");
	expect(1001, "{\"\\\\x00ff10\"}", "[\"AP8Q\"]");
	expect(3807, "{\"{\\\"a\\\": 1}\"}", "[{\"a\":1}]");
	/* malformed: the text itself */
	expect(1007, "{1,2", "\"{1,2\"");
	expect(1007, "[0:1]", "\"[0:1]\"");
	expect(1007, "{{{{{{{{{{1}}}}}}}}}}", "\"{{{{{{{{{{1}}}}}}}}}}\"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_arrays),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
