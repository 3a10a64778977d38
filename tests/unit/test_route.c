/*
 * test_route.c: the API path parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "route.h"

static void
test_route_ok(void **state)
{
	struct route	r;

	assert_int_equal(route_parse("/v1/api/myproj/services/arith/adder",
	    &r), 0);
	assert_string_equal(r.project, "myproj");
	assert_string_equal(r.service, "arith");
	assert_string_equal(r.endpoint, "adder");
	assert_int_equal(route_parse("/v1/api/a-B_9/services/s/e_-Z", &r), 0);
	assert_string_equal(r.project, "a-B_9");
	assert_string_equal(r.endpoint, "e_-Z");
}

static void
test_route_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"/",
		"/v1/api/",
		"/v1/api/p",
		"/v1/api/p/services",
		"/v1/api/p/services/",
		"/v1/api/p/services/s",
		"/v1/api/p/services/s/",
		"/v1/api/p/services//e",
		"/v1/api//services/s/e",
		"/v1/api/p/services/s/e/",
		"/v1/api/p/services/s/e/x",
		"/v1/api/p/service/s/e",
		"/v1/api/p/services/s/e%20",
		"/v1/api/p/services/s/e.x",
		"/v1/api/p/services/s/e?x",
		"/v2/api/p/services/s/e",
		"v1/api/p/services/s/e",
		"/v1/api/p//services/s/e",
	};
	struct route	r;
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (route_parse(bad[i], &r) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(route_parse(NULL, &r), -1);
}

static void
test_route_name_length(void **state)
{
	struct route	r;
	char		path[512], name[ROUTE_NAME_MAX + 2];

	memset(name, 'n', ROUTE_NAME_MAX);
	name[ROUTE_NAME_MAX] = '\0';
	snprintf(path, sizeof(path), "/v1/api/%s/services/%s/%s", name, name,
	    name);
	assert_int_equal(route_parse(path, &r), 0);
	assert_int_equal(strlen(r.endpoint), ROUTE_NAME_MAX);
	strcat(name, "n");
	snprintf(path, sizeof(path), "/v1/api/p/services/s/%s", name);
	assert_int_equal(route_parse(path, &r), -1);
	snprintf(path, sizeof(path), "/v1/api/%s/services/s/e", name);
	assert_int_equal(route_parse(path, &r), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_ok),
		cmocka_unit_test(test_route_refused),
		cmocka_unit_test(test_route_name_length),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
