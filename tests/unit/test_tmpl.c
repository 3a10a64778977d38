/*
 * test_tmpl.c: path templates, percent-encoding, query strings and URL
 * joining for the upstream request line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "tmpl.h"
#include "util.h"

static const char *const doc_text =
    "{\"user\":{\"id\":42,\"name\":\"Ann Lee\",\"tags\":[\"a\",\"b/c\"]},"
    "\"items\":[{\"name\":\"x\"},{\"name\":\"y z\"}],"
    "\"0\":\"zero\",\"n\":null,\"t\":true,\"f\":false,\"d\":1.5,"
    "\"neg\":-7,\"s\":\"caf\xc3\xa9 50%\",\"empty\":\"\"}";

static struct json_object *
parse(const char *s)
{
	struct json_object	*o;

	o = json_tokener_parse(s);
	assert_non_null(o);
	return (o);
}

/* Percent-encode s into a fresh buffer and compare. */
static void
check_pct(const char *s, size_t len, const char *want)
{
	struct sybuf	 b;

	sybuf_init(&b);
	assert_int_equal(tmpl_pct_encode(&b, s, len), 0);
	if (len > 0)
		assert_string_equal(b.data, want);
	assert_int_equal(b.len, strlen(want));
	sybuf_free(&b);
}

static void
test_has_vars(void **state)
{
	assert_int_equal(tmpl_has_vars("/u/{args.id}"), 1);
	assert_int_equal(tmpl_has_vars("/u/{auth.sub}/x"), 1);
	assert_int_equal(tmpl_has_vars("{args.a.b.0}"), 1);
	assert_int_equal(tmpl_has_vars("/u/{foo}"), 0);
	assert_int_equal(tmpl_has_vars("/u/{args}"), 0);
	assert_int_equal(tmpl_has_vars("/u/args.id"), 0);
	assert_int_equal(tmpl_has_vars("/u/{ args.id}"), 0);
	assert_int_equal(tmpl_has_vars(""), 0);
	assert_int_equal(tmpl_has_vars(NULL), 0);
}

static void
test_pct_encode(void **state)
{
	const char	 all[] = "ABCXYZabcxyz0123456789-._~";

	check_pct(all, strlen(all), all);
	check_pct(" ", 1, "%20");
	check_pct("/", 1, "%2F");
	check_pct("%", 1, "%25");
	check_pct("a b/c", 5, "a%20b%2Fc");
	check_pct("caf\xc3\xa9", 5, "caf%C3%A9");
	check_pct("\xff\x80", 2, "%FF%80");
	check_pct("+&=?#[]@!$'()*,;:", 17,
	    "%2B%26%3D%3F%23%5B%5D%40%21%24%27%28%29%2A%2C%3B%3A");
	check_pct("a\0b", 3, "a%00b");
	check_pct("\r\n\"<>\\^`{|}", 11, "%0D%0A%22%3C%3E%5C%5E%60%7B%7C%7D");
	check_pct("abc", 2, "ab");
	check_pct("", 0, "");
}

static void
test_pct_encode_appends(void **state)
{
	struct sybuf	 b;

	sybuf_init(&b);
	assert_int_equal(sybuf_addstr(&b, "/x/"), 0);
	assert_int_equal(tmpl_pct_encode(&b, "a b", 3), 0);
	assert_int_equal(tmpl_pct_encode(&b, "", 0), 0);
	assert_string_equal(b.data, "/x/a%20b");
	sybuf_free(&b);
}

static void
test_lookup(void **state)
{
	struct json_object	*doc, *v;

	doc = parse(doc_text);
	v = tmpl_lookup(doc, "user.id", 7);
	assert_non_null(v);
	assert_true(json_object_is_type(v, json_type_int));
	assert_int_equal(json_object_get_int(v), 42);

	v = tmpl_lookup(doc, "items.1.name", 12);
	assert_string_equal(json_object_get_string(v), "y z");
	v = tmpl_lookup(doc, "user.tags.1", 11);
	assert_string_equal(json_object_get_string(v), "b/c");
	v = tmpl_lookup(doc, "user", 4);
	assert_true(json_object_is_type(v, json_type_object));
	/* a numeric segment on an object is a member name */
	v = tmpl_lookup(doc, "0", 1);
	assert_string_equal(json_object_get_string(v), "zero");
	/* pathlen bounds the path: no NUL needed */
	v = tmpl_lookup(doc, "user.id.zzz", 7);
	assert_int_equal(json_object_get_int(v), 42);
	v = tmpl_lookup(doc, "user.name}", 9);
	assert_string_equal(json_object_get_string(v), "Ann Lee");
	json_object_put(doc);
}

static void
test_lookup_missing(void **state)
{
	static const char *const miss[] = {
		"nope", "user.nope", "user.tags.2", "user.tags.-1",
		"user.tags.x", "user.tags.", "user.id.deeper", "items.0.name.x",
		"", ".", "user.", ".user", "user..id", "t.x", "s.0",
		"user.tags.99999999999999999999999999", "USER.id",
	};
	struct json_object	*doc, *arr;
	size_t			 i;

	doc = parse(doc_text);
	for (i = 0; i < sizeof(miss) / sizeof(miss[0]); i++) {
		if (tmpl_lookup(doc, miss[i], strlen(miss[i])) != NULL)
			fail_msg("found \"%s\"", miss[i]);
	}
	assert_null(tmpl_lookup(NULL, "user", 4));
	/* a JSON null is indistinguishable from a missing member here */
	assert_null(tmpl_lookup(doc, "n", 1));
	json_object_put(doc);

	arr = parse("[10,[20,21]]");
	assert_int_equal(json_object_get_int(tmpl_lookup(arr, "1.1", 3)), 21);
	assert_int_equal(json_object_get_int(tmpl_lookup(arr, "0", 1)), 10);
	assert_null(tmpl_lookup(arr, "2", 1));
	assert_null(tmpl_lookup(arr, "a", 1));
	json_object_put(arr);
}

static void
check_text(struct json_object *v, const char *want)
{
	struct sybuf	 b;

	sybuf_init(&b);
	assert_int_equal(sybuf_addstr(&b, ">"), 0);
	assert_int_equal(tmpl_scalar_text(&b, v), 0);
	assert_string_equal(b.data + 1, want);
	sybuf_free(&b);
}

static void
test_scalar_text(void **state)
{
	struct json_object	*doc, *v;

	doc = parse("[\"a b/c\",42,-7,1.5,1e3,2.50,true,false,null,"
	    "9223372036854775807,-9223372036854775808,18446744073709551615]");
	check_text(json_object_array_get_idx(doc, 0), "a b/c");
	check_text(json_object_array_get_idx(doc, 1), "42");
	check_text(json_object_array_get_idx(doc, 2), "-7");
	check_text(json_object_array_get_idx(doc, 3), "1.5");
	check_text(json_object_array_get_idx(doc, 4), "1e3");
	check_text(json_object_array_get_idx(doc, 5), "2.50");
	check_text(json_object_array_get_idx(doc, 6), "true");
	check_text(json_object_array_get_idx(doc, 7), "false");
	check_text(json_object_array_get_idx(doc, 8), "null");
	check_text(json_object_array_get_idx(doc, 9), "9223372036854775807");
	check_text(json_object_array_get_idx(doc, 10),
	    "-9223372036854775808");
	check_text(json_object_array_get_idx(doc, 11),
	    "18446744073709551615");
	check_text(NULL, "null");
	json_object_put(doc);

	/* numbers built in memory, as rules may force them */
	v = json_object_new_double(1.5);
	check_text(v, "1.5");
	json_object_set_double(v, 42.0);
	check_text(v, "42");
	json_object_set_double(v, 0.1);
	check_text(v, "0.1");
	json_object_set_double(v, -2.25);
	check_text(v, "-2.25");
	json_object_put(v);
	v = json_object_new_int64(42);
	check_text(v, "42");
	json_object_put(v);
	v = json_object_new_string_len("a\0b", 3);
	check_text(v, "a");	/* the NUL is kept; see the length below */
	json_object_put(v);
}

static void
test_scalar_text_rejects_containers(void **state)
{
	struct json_object	*doc;
	struct sybuf		 b;

	doc = parse("{\"o\":{\"a\":1},\"a\":[1]}");
	sybuf_init(&b);
	assert_int_equal(sybuf_addstr(&b, "keep"), 0);
	assert_int_equal(tmpl_scalar_text(&b,
	    json_object_object_get(doc, "o")), -1);
	assert_int_equal(tmpl_scalar_text(&b,
	    json_object_object_get(doc, "a")), -1);
	assert_int_equal(tmpl_scalar_text(&b, doc), -1);
	assert_string_equal(b.data, "keep");
	assert_int_equal(b.len, 4);
	sybuf_free(&b);
	json_object_put(doc);
}

static void
test_scalar_text_length(void **state)
{
	struct json_object	*v;
	struct sybuf		 b;

	v = json_object_new_string_len("a\0b", 3);
	sybuf_init(&b);
	assert_int_equal(tmpl_scalar_text(&b, v), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 3);
	sybuf_free(&b);
	json_object_put(v);
}

/* Expand tmpl after a "http://h" prefix; want is the expected suffix. */
static void
check_expand(const char *tmpl, struct json_object *args,
    struct json_object *auth, const char *want)
{
	struct sybuf	 b;
	char		*err = (char *)1;

	sybuf_init(&b);
	assert_int_equal(sybuf_addstr(&b, "http://h"), 0);
	if (tmpl_expand(&b, tmpl, args, auth, &err) != 0)
		fail_msg("%s: %s", tmpl, err != NULL ? err : "(null)");
	assert_null(err);
	assert_memory_equal(b.data, "http://h", 8);
	assert_string_equal(b.data + 8, want);
	assert_int_equal(b.len, 8 + strlen(want));
	sybuf_free(&b);
}

/* tmpl must fail with message want, leaving the prefix untouched. */
static void
check_expand_err(const char *tmpl, struct json_object *args,
    struct json_object *auth, const char *want)
{
	struct sybuf	 b;
	char		*err = NULL;

	sybuf_init(&b);
	assert_int_equal(sybuf_addstr(&b, "http://h"), 0);
	assert_int_equal(tmpl_expand(&b, tmpl, args, auth, &err), -1);
	assert_non_null(err);
	assert_string_equal(err, want);
	assert_string_equal(b.data, "http://h");
	assert_int_equal(b.len, 8);
	free(err);
	sybuf_free(&b);
}

/* A value never adds, removes or climbs a path segment (SPEC 4). */
static void
test_expand_dot_segments(void **state)
{
	struct json_object	*args;

	args = parse("{\"d\":\".\",\"dd\":\"..\",\"x\":\"a.b\",\"t\":\"...\","
	    "\"e\":\"\"}");
	check_expand("/users/{args.dd}/profile", args, NULL,
	    "/users/%2E%2E/profile");
	check_expand("/{args.dd}/admin", args, NULL, "/%2E%2E/admin");
	check_expand("/a/{args.d}/b", args, NULL, "/a/%2E/b");
	check_expand("/a/{args.dd}", args, NULL, "/a/%2E%2E");
	check_expand("/a/{args.d}", args, NULL, "/a/%2E");
	/* made of two values, or a value and a literal dot */
	check_expand("/a/{args.d}{args.d}/b", args, NULL, "/a/%2E%2E/b");
	check_expand("/a/.{args.d}/b", args, NULL, "/a/%2E%2E/b");
	check_expand("/a/{args.e}{args.dd}{args.e}", args, NULL, "/a/%2E%2E");
	/* dots that make no dot segment stay as they are */
	check_expand("/f/{args.x}", args, NULL, "/f/a.b");
	check_expand("/f/{args.t}", args, NULL, "/f/...");
	check_expand("/f/{args.dd}x", args, NULL, "/f/..x");
	/* literal dot segments are the operator's, and in the query nothing climbs */
	check_expand("/a/../b/{args.x}", args, NULL, "/a/../b/a.b");
	check_expand("/q?v={args.dd}", args, NULL, "/q?v=..");
	check_expand("/q/{args.dd}?v={args.dd}", args, NULL,
	    "/q/%2E%2E?v=..");
	json_object_put(args);
}

static void
test_expand(void **state)
{
	struct json_object	*args, *auth;

	args = parse(doc_text);
	auth = parse("{\"sub\":\"u/1\",\"roles\":[\"admin\"],\"n\":3}");
	check_expand("/users/{args.user.id}/items/{args.items.1.name}",
	    args, auth, "/users/42/items/y%20z");
	check_expand("/{auth.sub}/{auth.roles.0}/{auth.n}", args, auth,
	    "/u%2F1/admin/3");
	check_expand("/{args.s}", args, auth, "/caf%C3%A9%2050%25");
	check_expand("/{args.t}/{args.f}/{args.n}/{args.d}/{args.neg}",
	    args, auth, "/true/false/null/1.5/-7");
	check_expand("/{args.user.tags.1}", args, auth, "/b%2Fc");
	check_expand("/e{args.empty}e", args, auth, "/ee");
	check_expand("{args.user.id}{args.user.id}", args, auth, "4242");
	check_expand("/plain/path", args, auth, "/plain/path");
	check_expand("", args, auth, "");
	json_object_put(args);
	json_object_put(auth);
}

static void
test_expand_literal_braces(void **state)
{
	struct json_object	*args;

	args = parse("{\"id\":7}");
	check_expand("/x/{foo}/{id}/{args}/{ args.id}", args, NULL,
	    "/x/{foo}/{id}/{args}/{ args.id}");
	check_expand("/{/}/{{args.id}}/{", args, NULL, "/{/}/{7}/{");
	check_expand("/{argsXid}/{auth}/{authy.x}", args, NULL,
	    "/{argsXid}/{auth}/{authy.x}");
	check_expand("}{args.id}}", args, NULL, "}7}");
	json_object_put(args);
}

static void
test_expand_errors(void **state)
{
	struct json_object	*args, *auth;

	args = parse(doc_text);
	auth = parse("{\"sub\":\"u1\",\"o\":{}}");
	check_expand_err("/u/{args.nope}", args, auth,
	    "path variable {args.nope} is missing");
	check_expand_err("/ok/{args.user.id}/{args.user.tags.5}/x", args,
	    auth, "path variable {args.user.tags.5} is missing");
	check_expand_err("/u/{args.user}", args, auth,
	    "path variable {args.user} is not a scalar");
	check_expand_err("/u/{args.items}", args, auth,
	    "path variable {args.items} is not a scalar");
	check_expand_err("/u/{auth.o}", args, auth,
	    "path variable {auth.o} is not a scalar");
	check_expand_err("/u/{auth.nope}", args, auth,
	    "path variable {auth.nope} is missing");
	check_expand_err("/u/{args.}", args, auth,
	    "path variable {args.} is missing");
	check_expand_err("/u/{args.user.id", args, auth,
	    "path variable {args.user.id is not terminated");
	check_expand_err("/u/{auth.sub}{args.x", args, auth,
	    "path variable {args.x is not terminated");
	/* no token: every {auth.X} is missing */
	check_expand_err("/u/{auth.sub}", args, NULL,
	    "path variable {auth.sub} is missing");
	check_expand_err("/u/{args.user.id}", NULL, auth,
	    "path variable {args.user.id} is missing");
	json_object_put(args);
	json_object_put(auth);
}

static void
check_query(const char *url, const char *params, const char *want)
{
	struct json_object	*p = NULL;
	struct sybuf		 b;

	if (params != NULL)
		p = parse(params);
	sybuf_init(&b);
	assert_int_equal(sybuf_addstr(&b, url), 0);
	assert_int_equal(tmpl_query(&b, p), 0);
	assert_string_equal(b.data, want);
	assert_int_equal(b.len, strlen(want));
	sybuf_free(&b);
	json_object_put(p);
}

static void
test_query(void **state)
{
	check_query("/search",
	    "{\"q\":\"hello world\",\"a&b\":\"x=y\",\"n\":42,\"f\":1.5,"
	    "\"t\":true,\"z\":false,\"nil\":null,\"obj\":{\"a\":1},"
	    "\"arr\":[1],\"last\":\"\xc3\xa9/+\"}",
	    "/search?q=hello%20world&a%26b=x%3Dy&n=42&f=1.5&t=true&z=false"
	    "&nil=null&last=%C3%A9%2F%2B");
	/* member order is kept */
	check_query("/s", "{\"b\":2,\"a\":1,\"c\":3}", "/s?b=2&a=1&c=3");
	check_query("/s", "{\"obj\":{\"a\":1},\"x\":1}", "/s?x=1");
	check_query("/s", "{\"key with space\":\"\"}",
	    "/s?key%20with%20space=");
	check_query("/s", "{\"neg\":-1e-3}", "/s?neg=-1e-3");
}

static void
test_query_existing_question_mark(void **state)
{
	check_query("/s?x=1", "{\"a\":1,\"b\":\"2\"}", "/s?x=1&a=1&b=2");
	check_query("/s?", "{\"a\":1}", "/s?a=1");
	check_query("/s?x=1&", "{\"a\":1}", "/s?x=1&a=1");
	check_query("/s?x=1", "{\"o\":{}}", "/s?x=1");
}

static void
test_query_nothing(void **state)
{
	check_query("/s", "{}", "/s");
	check_query("/s", "{\"o\":{\"a\":1},\"a\":[1,2]}", "/s");
	check_query("/s", "[1,2]", "/s");
	check_query("/s", "\"str\"", "/s");
	check_query("/s", "5", "/s");
	check_query("/s", NULL, "/s");
}

static void
check_join(const char *base, const char *path, const char *want)
{
	char	*s;

	s = tmpl_join_url(base, path);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void
test_join_url(void **state)
{
	check_join("http://h:5000", "/adder", "http://h:5000/adder");
	check_join("http://h:5000/", "/adder", "http://h:5000/adder");
	check_join("http://h:5000///", "/adder", "http://h:5000/adder");
	check_join("http://h:5000", "adder", "http://h:5000/adder");
	check_join("http://h:5000/", "adder", "http://h:5000/adder");
	check_join("http://h/base/", "v1/x", "http://h/base/v1/x");
	check_join("http://h/base", "/v1/x/", "http://h/base/v1/x/");
	check_join("http://h", "", "http://h/");
	check_join("http://h/", "/", "http://h/");
	check_join("http://h", "/a?b=c", "http://h/a?b=c");
	check_join("http://h", "//double", "http://h//double");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_has_vars),
		cmocka_unit_test(test_pct_encode),
		cmocka_unit_test(test_pct_encode_appends),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_lookup_missing),
		cmocka_unit_test(test_scalar_text),
		cmocka_unit_test(test_scalar_text_rejects_containers),
		cmocka_unit_test(test_scalar_text_length),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_expand_literal_braces),
		cmocka_unit_test(test_expand_errors),
		cmocka_unit_test(test_expand_dot_segments),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_query_existing_question_mark),
		cmocka_unit_test(test_query_nothing),
		cmocka_unit_test(test_join_url),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
