/*
 * test_tokcache.c: the verified-token cache: hits, misses, expiry with
 * leeway, the TTL cap, generations, projects, collisions, long tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "tokcache.h"

static struct json_object *
claims(const char *sub)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "sub", json_object_new_string(sub));
	return (o);
}

static const char *
sub_of(struct json_object *o)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, "sub", &v))
		return (NULL);
	return (json_object_get_string(v));
}

static void
test_hit_and_miss(void **state)
{
	struct tokcache		*tc = tokcache_new(16);
	struct json_object	*c = claims("alice");

	assert_null(tokcache_get(tc, 1, "p", "tok", 3, 1000));
	tokcache_put(tc, 1, "p", "tok", 3, c, 2000, 1000, 30);
	json_object_put(c);	/* the cache holds its own reference */
	assert_string_equal(sub_of(tokcache_get(tc, 1, "p", "tok", 3, 1100)),
	    "alice");
	assert_null(tokcache_get(tc, 1, "p", "tox", 3, 1100));
	assert_null(tokcache_get(tc, 1, "p", "to", 2, 1100));
	/* never past TOKCACHE_MAX_TTL, even when exp is later */
	assert_null(tokcache_get(tc, 1, "p", "tok", 3, 1000 + TOKCACHE_MAX_TTL + 1));
	tokcache_free(tc);
}

static void
test_expiry_with_leeway(void **state)
{
	struct tokcache		*tc = tokcache_new(16);
	struct json_object	*c = claims("bob");

	tokcache_put(tc, 1, "p", "t", 1, c, 1000, 900, 30);
	json_object_put(c);
	assert_non_null(tokcache_get(tc, 1, "p", "t", 1, 1029));
	assert_null(tokcache_get(tc, 1, "p", "t", 1, 1031));
	/* once expired, the entry is gone */
	assert_null(tokcache_get(tc, 1, "p", "t", 1, 1000));
	tokcache_free(tc);
}

static void
test_ttl_cap_without_exp(void **state)
{
	struct tokcache		*tc = tokcache_new(16);
	struct json_object	*c = claims("carol");

	tokcache_put(tc, 1, "p", "t", 1, c, 0, 1000, 30);
	json_object_put(c);
	assert_non_null(tokcache_get(tc, 1, "p", "t", 1,
	    1000 + TOKCACHE_MAX_TTL - 1));
	assert_null(tokcache_get(tc, 1, "p", "t", 1,
	    1000 + TOKCACHE_MAX_TTL + 1));
	tokcache_free(tc);
}

static void
test_generation_and_project(void **state)
{
	struct tokcache		*tc = tokcache_new(16);
	struct json_object	*c = claims("dave");

	tokcache_put(tc, 7, "p", "t", 1, c, 5000, 1000, 30);
	json_object_put(c);
	assert_null(tokcache_get(tc, 7, "q", "t", 1, 1001));
	assert_non_null(tokcache_get(tc, 7, "p", "t", 1, 1001));
	/* new keys may have been loaded: a new generation verifies again */
	assert_null(tokcache_get(tc, 8, "p", "t", 1, 1001));
	tokcache_free(tc);
}

static void
test_bounded_replacement(void **state)
{
	struct tokcache		*tc = tokcache_new(1);
	struct json_object	*a = claims("a"), *b = claims("b");

	tokcache_put(tc, 1, "p", "one", 3, a, 5000, 1000, 30);
	tokcache_put(tc, 1, "p", "two", 3, b, 5000, 1000, 30);
	json_object_put(a);
	json_object_put(b);
	/* one slot: the second token replaced the first */
	assert_null(tokcache_get(tc, 1, "p", "one", 3, 1001));
	assert_string_equal(sub_of(tokcache_get(tc, 1, "p", "two", 3, 1001)),
	    "b");
	tokcache_free(tc);
}

static void
test_long_token_not_cached(void **state)
{
	struct tokcache		*tc = tokcache_new(16);
	struct json_object	*c = claims("e");
	static char		 big[TOKCACHE_MAX_TOKEN + 2];

	memset(big, 'x', sizeof(big) - 1);
	tokcache_put(tc, 1, "p", big, sizeof(big) - 1, c, 5000, 1000, 30);
	json_object_put(c);
	assert_null(tokcache_get(tc, 1, "p", big, sizeof(big) - 1, 1001));
	tokcache_free(tc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_miss),
		cmocka_unit_test(test_expiry_with_leeway),
		cmocka_unit_test(test_ttl_cap_without_exp),
		cmocka_unit_test(test_generation_and_project),
		cmocka_unit_test(test_bounded_replacement),
		cmocka_unit_test(test_long_token_not_cached),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
