/*
 * test_backoff.c: the worker restart policy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backoff.h"

static void
test_ready_restarts_at_once(void **state)
{
	struct backoff	b;

	backoff_init(&b);
	assert_true(backoff_next(&b, 1, BACKOFF_EXIT_CRASH) == 0.0);
	assert_true(backoff_next(&b, 1, BACKOFF_EXIT_CRASH) == 0.0);
	assert_int_equal(b.failures, 0);
}

static void
test_crash_loop_doubles(void **state)
{
	struct backoff	b;

	backoff_init(&b);
	assert_true(backoff_next(&b, 0, BACKOFF_EXIT_CRASH) == 0.5);
	assert_true(backoff_next(&b, 0, BACKOFF_EXIT_CRASH) == 1.0);
	assert_true(backoff_next(&b, 0, BACKOFF_EXIT_CRASH) == 2.0);
	assert_true(backoff_next(&b, 0, BACKOFF_EXIT_CRASH) == 4.0);
}

static void
test_crash_loop_capped(void **state)
{
	struct backoff	b;
	int		i;
	double		d = 0;

	backoff_init(&b);
	for (i = 0; i < 1000; i++)
		d = backoff_next(&b, 0, BACKOFF_EXIT_CRASH);
	assert_true(d == BACKOFF_MAX);
}

static void
test_ready_resets(void **state)
{
	struct backoff	b;

	backoff_init(&b);
	backoff_next(&b, 0, BACKOFF_EXIT_CRASH);
	backoff_next(&b, 0, BACKOFF_EXIT_CRASH);
	assert_true(backoff_next(&b, 1, BACKOFF_EXIT_CRASH) == 0.0);
	assert_true(backoff_next(&b, 0, BACKOFF_EXIT_CRASH) == 0.5);
}

static void
test_resource_is_slow(void **state)
{
	struct backoff	b;

	backoff_init(&b);
	assert_true(backoff_next(&b, 1, BACKOFF_EXIT_RESOURCE) ==
	    BACKOFF_SLOW);
	assert_true(backoff_next(&b, 0, BACKOFF_EXIT_RESOURCE) ==
	    BACKOFF_SLOW);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_restarts_at_once),
		cmocka_unit_test(test_crash_loop_doubles),
		cmocka_unit_test(test_crash_loop_capped),
		cmocka_unit_test(test_ready_resets),
		cmocka_unit_test(test_resource_is_slow),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
