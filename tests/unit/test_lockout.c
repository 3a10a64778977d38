/*
 * test_lockout.c: failed-login counting and lockout, against the text
 * of SPEC 9.6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lockout.h"

#define A	"127.0.0.1"
#define B	"::1"

static enum lockout_verdict
try(struct lockout *lk, const char *addr, int ok, double now, unsigned *ra)
{
	*ra = 0;
	return (lockout_attempt(lk, addr, ok, now, ra));
}

/*
 * "The maxLoginFailures-th consecutive failure is answered 401; after
 * it, every login from that address, right or wrong, gets 429 with
 * Retry-After until loginLockout seconds have passed since that
 * failure.  Attempts answered 429 are not counted and do not extend the
 * lockout."
 */
static void
test_lockout_after_max(void **state)
{
	struct lockout	*lk = lockout_new(3, 60, 16);
	unsigned	 ra;

	(void)state;
	assert_non_null(lk);
	assert_int_equal(try(lk, A, 0, 100, &ra), LOCKOUT_FAILED);
	assert_int_equal(try(lk, A, 0, 101, &ra), LOCKOUT_FAILED);
	assert_int_equal(lockout_failures(lk, A), 2);
	/* the third failure is still a 401; it starts the lockout */
	assert_int_equal(try(lk, A, 0, 102, &ra), LOCKOUT_FAILED);
	assert_int_equal(ra, 0);
	/* right or wrong, 429 until 162 */
	assert_int_equal(try(lk, A, 1, 103, &ra), LOCKOUT_LOCKED);
	assert_int_equal(ra, 59);
	assert_int_equal(try(lk, A, 0, 110.2, &ra), LOCKOUT_LOCKED);
	assert_int_equal(ra, 52);
	assert_int_equal(lockout_failures(lk, A), 3);	/* not counted */
	assert_int_equal(try(lk, A, 0, 161.5, &ra), LOCKOUT_LOCKED);
	assert_int_equal(ra, 1);	/* not extended, rounded up */
	/* another address is not affected */
	assert_int_equal(try(lk, B, 1, 120, &ra), LOCKOUT_OK);
	assert_int_equal(try(lk, B, 0, 120, &ra), LOCKOUT_FAILED);
	/* 60 s after the third failure: in again */
	assert_int_equal(try(lk, A, 1, 162, &ra), LOCKOUT_OK);
	assert_int_equal(lockout_failures(lk, A), 0);
	lockout_free(lk);
}

/* "a successful login resets the count" */
static void
test_success_resets(void **state)
{
	struct lockout	*lk = lockout_new(3, 60, 16);
	unsigned	 ra;

	(void)state;
	assert_int_equal(try(lk, A, 0, 1, &ra), LOCKOUT_FAILED);
	assert_int_equal(try(lk, A, 0, 2, &ra), LOCKOUT_FAILED);
	assert_int_equal(try(lk, A, 1, 3, &ra), LOCKOUT_OK);
	assert_int_equal(lockout_failures(lk, A), 0);
	assert_int_equal(try(lk, A, 0, 4, &ra), LOCKOUT_FAILED);
	assert_int_equal(try(lk, A, 0, 5, &ra), LOCKOUT_FAILED);
	assert_int_equal(try(lk, A, 1, 6, &ra), LOCKOUT_OK);
	lockout_free(lk);
}

/* after a lockout the count starts over: max more failures to lock */
static void
test_after_lockout_starts_over(void **state)
{
	struct lockout	*lk = lockout_new(2, 10, 16);
	unsigned	 ra;

	(void)state;
	assert_int_equal(try(lk, A, 0, 0, &ra), LOCKOUT_FAILED);
	assert_int_equal(try(lk, A, 0, 1, &ra), LOCKOUT_FAILED);
	assert_int_equal(try(lk, A, 0, 10.9, &ra), LOCKOUT_LOCKED);
	assert_int_equal(ra, 1);
	assert_int_equal(try(lk, A, 0, 11, &ra), LOCKOUT_FAILED);
	assert_int_equal(lockout_failures(lk, A), 1);
	assert_int_equal(try(lk, A, 1, 11.5, &ra), LOCKOUT_OK);
	assert_int_equal(try(lk, A, 0, 12, &ra), LOCKOUT_FAILED);
	assert_int_equal(try(lk, A, 0, 13, &ra), LOCKOUT_FAILED);
	assert_int_equal(try(lk, A, 1, 14, &ra), LOCKOUT_LOCKED);
	assert_int_equal(ra, 9);
	lockout_free(lk);
}

/* maxLoginFailures 1: the first failure locks */
static void
test_max_one(void **state)
{
	struct lockout	*lk = lockout_new(1, 5, 4);
	unsigned	 ra;

	(void)state;
	assert_int_equal(try(lk, A, 0, 0, &ra), LOCKOUT_FAILED);
	assert_int_equal(try(lk, A, 1, 0, &ra), LOCKOUT_LOCKED);
	assert_int_equal(ra, 5);
	/* a reload changes the settings, not a running lockout */
	lockout_configure(lk, 5, 100);
	assert_int_equal(try(lk, A, 1, 4, &ra), LOCKOUT_LOCKED);
	assert_int_equal(ra, 1);
	assert_int_equal(try(lk, A, 1, 5, &ra), LOCKOUT_OK);
	lockout_free(lk);
}

/* a full table forgets an unlocked address, never a locked one first */
static void
test_bounded(void **state)
{
	struct lockout	*lk = lockout_new(2, 1000, 3);
	char		 addr[32];
	unsigned	 ra;
	int		 i;

	(void)state;
	assert_int_equal(try(lk, A, 0, 0, &ra), LOCKOUT_FAILED);
	assert_int_equal(try(lk, A, 0, 1, &ra), LOCKOUT_FAILED);
	for (i = 0; i < 100; i++) {
		snprintf(addr, sizeof(addr), "10.0.0.%d", i);
		assert_int_equal(try(lk, addr, 0, 2 + i, &ra),
		    LOCKOUT_FAILED);
	}
	assert_int_equal(try(lk, A, 1, 200, &ra), LOCKOUT_LOCKED);
	assert_int_equal(ra, 801);
	assert_int_equal(lockout_failures(lk, "10.0.0.99"), 1);
	assert_int_equal(lockout_failures(lk, "10.0.0.98"), 1);
	assert_int_equal(lockout_failures(lk, "10.0.0.0"), 0);
	lockout_free(lk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lockout_after_max),
		cmocka_unit_test(test_success_resets),
		cmocka_unit_test(test_after_lockout_starts_over),
		cmocka_unit_test(test_max_one),
		cmocka_unit_test(test_bounded),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
