/*
 * test_jpath.c: the one variable-path grammar and resolver, and the JSON
 * writer (jwrite.c) and config helpers (jconf.c) it sits beside.
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

#include "jconf.h"
#include "jpath.h"
#include "jwrite.h"
#include "util.h"

static const char doc_text[] =
    "{\"user\":{\"id\":7,\"tags\":[\"a\",\"b\"],\"n\":null},"
    "\"items\":[{\"name\":\"x\"},{\"name\":\"y\"}],\"0\":\"zero\"}";

static void
test_valid(void **state)
{
	static const char *const ok[] = { "a", "a.b", "a-b_c.0.Z9" };
	static const char *const bad[] = { "", ".a", "a.", "a..b", "a b",
	    "a.b}", "é" };
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(jpath_valid(ok[i], strlen(ok[i])), 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(jpath_valid(bad[i], strlen(bad[i])), 0);
}

static void
test_index(void **state)
{
	size_t	idx = 5;

	(void)state;
	assert_int_equal(jpath_index("0", 1, &idx), 1);
	assert_int_equal(idx, 0);
	assert_int_equal(jpath_index("0012", 4, &idx), 1);
	assert_int_equal(idx, 12);
	/* more than 9 digits is an index too, as long as it fits */
	assert_int_equal(jpath_index("12345678901", 11, &idx), 1);
	assert_true(idx == (size_t)12345678901ULL);
	assert_int_equal(jpath_index("99999999999999999999999", 23, &idx), 0);
	assert_int_equal(jpath_index("1a", 2, &idx), 0);
	assert_int_equal(jpath_index("", 0, &idx), 0);
}

/* find (text) and get (compiled) agree on every path. */
static void
test_find_and_get(void **state)
{
	static const struct {
		const char	*path;
		int		 found;
		const char	*json;	/* expected value as JSON text */
	} t[] = {
		{ "user.id", 1, "7" },
		{ "user.tags.1", 1, "\"b\"" },
		{ "items.1.name", 1, "\"y\"" },
		{ "items.0000000001.name", 1, "\"y\"" },
		{ "0", 1, "\"zero\"" },
		{ "user.n", 1, "null" },
		{ "user.missing", 0, NULL },
		{ "user.tags.2", 0, NULL },
		{ "user.tags.x", 0, NULL },
		{ "user.id.x", 0, NULL },
		{ "user..id", 0, NULL },
		{ "user.tags.99999999999999999999999999", 0, NULL },
	};
	struct json_object	*doc, *v;
	struct jpath		 p;
	size_t			 i, len;

	(void)state;
	doc = json_tokener_parse(doc_text);
	assert_non_null(doc);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		len = strlen(t[i].path);
		assert_int_equal(jpath_find(doc, t[i].path, len, &v),
		    t[i].found);
		if (t[i].found)
			assert_string_equal(json_object_to_json_string_ext(v,
			    JSON_C_TO_STRING_PLAIN), t[i].json);
		if (jpath_compile(&p, t[i].path, len) == 0)
			assert_int_equal(jpath_get(doc, &p, &v), t[i].found);
		else
			assert_int_equal(t[i].found, 0);
		jpath_free(&p);
	}
	/* a length shorter than the text stops the path there */
	assert_int_equal(jpath_find(doc, "user.id.zzz", 7, &v), 1);
	assert_int_equal(json_object_get_int(v), 7);
	assert_int_equal(jpath_find(NULL, "user", 4, &v), 0);
	/* a NUL inside a segment names no member */
	assert_int_equal(jpath_find(doc, "user\0x", 6, &v), 0);
	assert_int_equal(jpath_compile(&p, "user\0x", 6), -1);
	jpath_free(&p);
	json_object_put(doc);
}

static void
test_long_member(void **state)
{
	struct json_object	*doc, *v;
	char			 key[400], path[410];

	(void)state;
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	doc = json_object_new_object();
	json_object_object_add(doc, key, json_object_new_int(3));
	snprintf(path, sizeof(path), "%s", key);
	assert_int_equal(jpath_find(doc, path, strlen(path), &v), 1);
	assert_int_equal(json_object_get_int(v), 3);
	path[strlen(path) - 1] = '\0';
	assert_int_equal(jpath_find(doc, path, strlen(path), &v), 0);
	json_object_put(doc);
}

/* jwrite_value writes what json-c writes. */
static void
test_jwrite(void **state)
{
	static const char *const docs[] = {
		"{\"a\":[1,2.5,true,false,null],\"b\":\"x/y\\\"\\\\\\n\\t"
		"\\u0001\\u001f\xc3\xa9\"}",
		"18446744073709551615", "-9223372036854775808", "[]", "{}",
	};
	struct json_object	*v;
	struct sybuf		 b;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		v = json_tokener_parse(docs[i]);
		assert_non_null(v);
		sybuf_init(&b);
		assert_int_equal(jwrite_value(&b, v), 0);
		assert_string_equal(b.data,
		    json_object_to_json_string_ext(v, JWRITE_FLAGS));
		sybuf_free(&b);
		json_object_put(v);
	}
	sybuf_init(&b);
	assert_int_equal(jwrite_str(&b, "a\0b", 3), 0);
	assert_string_equal(b.data, "\"a\\u0000b\"");
	sybuf_free(&b);
}

static void
test_jconf(void **state)
{
	struct syerrs	 errs;
	char		*s;

	(void)state;
	s = jconf_strf("%s[%d]", "x", 3);
	assert_string_equal(s, "x[3]");
	free(s);
	s = jconf_cat("a", ".", "b", (char *)NULL);
	assert_string_equal(s, "a.b");
	free(s);
	syerrs_init(&errs);
	assert_int_equal(jconf_err(&errs, "p", "m", "bad %d", 1), -1);
	assert_int_equal(jconf_err(&errs, "p", NULL, "worse"), -1);
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.msg[0], "p.m: bad 1");
	assert_string_equal(errs.msg[1], "p: worse");
	syerrs_free(&errs);
	assert_null(jconf_url_problem("http://h:99/x"));
	assert_null(jconf_url_problem("HTTPS://u@[::1]:8443/b"));
	assert_string_equal(jconf_url_problem("http://:99999"),
	    "it has no host");
	assert_string_equal(jconf_url_problem("http://h:99999"),
	    "its port is not from 1 to 65535");
	assert_string_equal(jconf_url_problem("ftp://h/"),
	    "it does not begin with http:// or https://");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_find_and_get),
		cmocka_unit_test(test_long_member),
		cmocka_unit_test(test_jwrite),
		cmocka_unit_test(test_jconf),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
