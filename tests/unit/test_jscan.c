/*
 * test_jscan.c: the strict JSON validator and the call body scanner.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "jscan.h"

#define ERR_INVALID	"request body is not valid JSON"
#define ERR_NOTOBJ	"request body is not a JSON object"
#define ERR_TIMEOUT	"timeout must be a number of milliseconds"
#define ERR_DUP		"request body has a duplicate member name"

static int
validate(const char *s)
{
	return (jscan_validate(s, strlen(s)));
}

static void
test_valid_values(void **state)
{
	static const char *const ok[] = {
		"0", "-0", "1", "-1", "42", "1.5", "-0.5", "1e5", "1E5",
		"1e+5", "1e-5", "-1.25E-10", "0.0", "10.01e00",
		"123456789012345678901234567890", "1e999",
		"\"\"", "\"abc\"", "\"caf\xc3\xa9\"",
		"\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"",
		"\"\\u0041\\u00e9\\uD83D\\uDE00\\uabcd\\uABCD\"",
		"\"\\ud800\"",		/* lenient: unpaired surrogate */
		"true", "false", "null",
		"[]", "{}", "[ ]", "{ }", "[1,2,3]", "[[],{}]",
		"{\"a\":1}", "{\"a\":[1,{\"b\":null}],\"c\":true}",
		"{\"\":\"\"}", "{\"a\":1,\"a\":2}",
		" 1 ", "\t\n\r [ 1 , \"x\" , { \"k\" : false } ] \r\n\t",
		"[\"{\",\"[\",\"]\",\"}\"]",
		"\"\x7f\"",
	};
	size_t	 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (validate(ok[i]) != 0)
			fail_msg("rejected valid JSON: %s", ok[i]);
	}
}

static void
test_invalid_values(void **state)
{
	static const char *const bad[] = {
		"", " ", "\n\t",
		/* numbers */
		"01", "-01", "00", "+1", "1.", ".5", "-", "--1", "1e",
		"1e+", "1E-", "1.e5", "0x10", "1_000", "NaN", "Infinity",
		"-Infinity", "nan", "inf", "1.5.5", "- 1",
		/* literals */
		"tru", "nul", "fals", "True", "NULL", "truex", "nulll",
		/* strings */
		"\"abc", "\"", "'a'", "\"\\x\"", "\"\\u12G4\"", "\"\\u123\"",
		"\"\\u\"", "\"\\", "\"a\tb\"", "\"a\nb\"", "\"\x1f\"",
		"\"\\U0041\"",
		/* structure */
		"[", "]", "{", "}", "[1,]", "[,1]", "[,]", "[1 2]",
		"{\"a\":1,}", "{,}", "{\"a\" 1}", "{\"a\":}", "{\"a\"}",
		"{1:2}", "{a:1}", "{'a':1}", "{\"a\":1 \"b\":2}", "[1]]",
		"{}}", "[}", "{]", "[1:2]", "{\"a\",1}",
		/* trailing garbage */
		"1 2", "{} {}", "[] x", "\"a\" \"b\"", "null,", "1 //",
		/* byte order mark and other white space */
		"\xef\xbb\xbf{}", "\f1", "\v1", "\xc2\xa0\x31",
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (validate(bad[i]) != -1)
			fail_msg("accepted invalid JSON: \"%s\"", bad[i]);
	}
}

static void
test_validate_uses_len(void **state)
{
	/* buf need not be NUL-terminated, and a NUL is just a byte */
	assert_int_equal(jscan_validate("123x", 3), 0);
	assert_int_equal(jscan_validate("[1]", 2), -1);
	assert_int_equal(jscan_validate("\"a\0b\"", 5), -1);
	assert_int_equal(jscan_validate("1\0", 2), -1);
	assert_int_equal(jscan_validate("true", 3), -1);
	assert_int_equal(jscan_validate("\"\\u00", 5), -1);
	assert_int_equal(jscan_validate("x", 0), -1);
	assert_int_equal(jscan_validate(NULL, 0), -1);
}

/* n '[' then n ']', or an object chain {"a":{"a":...1...}} */
static char *
nest(size_t n, int object, size_t *lenp)
{
	char	*s, *p;
	size_t	 i;

	s = malloc(n * 6 + 2);
	assert_non_null(s);
	p = s;
	for (i = 0; i < n; i++) {
		if (object) {
			memcpy(p, "{\"a\":", 5);
			p += 5;
		} else
			*p++ = '[';
	}
	*p++ = '1';
	for (i = 0; i < n; i++)
		*p++ = object ? '}' : ']';
	*p = '\0';
	*lenp = (size_t)(p - s);
	return (s);
}

static void
test_depth_limit(void **state)
{
	char	*s;
	size_t	 len;

	s = nest(JSCAN_MAX_DEPTH, 0, &len);
	assert_int_equal(jscan_validate(s, len), 0);
	free(s);
	s = nest(JSCAN_MAX_DEPTH + 1, 0, &len);
	assert_int_equal(jscan_validate(s, len), -1);
	free(s);
	s = nest(JSCAN_MAX_DEPTH, 1, &len);
	assert_int_equal(jscan_validate(s, len), 0);
	free(s);
	s = nest(JSCAN_MAX_DEPTH + 1, 1, &len);
	assert_int_equal(jscan_validate(s, len), -1);
	free(s);
}

static void
test_depth_recovers(void **state)
{
	char	*s;
	size_t	 len, i, n = 0;

	/* many siblings at the limit: depth goes back down after ']' */
	s = malloc(10 * (2 * JSCAN_MAX_DEPTH + 2) + 3);
	assert_non_null(s);
	s[n++] = '[';
	for (i = 0; i < 10; i++) {
		if (i > 0)
			s[n++] = ',';
		memset(s + n, '[', JSCAN_MAX_DEPTH - 1);
		n += JSCAN_MAX_DEPTH - 1;
		memset(s + n, ']', JSCAN_MAX_DEPTH - 1);
		n += JSCAN_MAX_DEPTH - 1;
	}
	s[n++] = ']';
	len = n;
	assert_int_equal(jscan_validate(s, len), 0);
	free(s);
}

static void
test_megabyte_of_brackets(void **state)
{
	size_t	 len = 1024 * 1024;
	char	*s;

	s = malloc(len);
	assert_non_null(s);
	memset(s, '[', len);
	assert_int_equal(jscan_validate(s, len), -1);
	memset(s, '{', len);
	assert_int_equal(jscan_validate(s, len), -1);
	free(s);
}

static int
body(const char *s, struct jscan_body *b, const char **err)
{
	*err = NULL;
	return (jscan_body(s, strlen(s), b, err));
}

static void
assert_params(const struct jscan_body *b, const char *buf, const char *want)
{
	size_t	 len = strlen(want);

	assert_non_null(b->params);
	assert_true(b->params >= buf && b->params + b->params_len <=
	    buf + strlen(buf));
	if (b->params_len != len || memcmp(b->params, want, len) != 0)
		fail_msg("params span \"%.*s\", want \"%s\"",
		    (int)b->params_len, b->params, want);
}

static void
test_body_empty(void **state)
{
	static const char *const empty[] = { "", " ", "\r\n\t  \n" };
	struct jscan_body	 b;
	const char		*err = NULL;
	size_t			 i;

	for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		memset(&b, 0xa5, sizeof(b));
		assert_int_equal(body(empty[i], &b, &err), 0);
		assert_null(b.params);
		assert_int_equal(b.params_len, 0);
		assert_int_equal(b.has_timeout, 0);
	}
	memset(&b, 0xa5, sizeof(b));
	assert_int_equal(jscan_body(NULL, 0, &b, &err), 0);
	assert_null(b.params);
	assert_int_equal(b.has_timeout, 0);
	assert_int_equal(body("{}", &b, &err), 0);
	assert_null(b.params);
	assert_int_equal(b.has_timeout, 0);
	assert_int_equal(body(" { } ", &b, &err), 0);
	assert_null(b.params);
}

static void
test_body_spans(void **state)
{
	static const struct {
		const char	*in;
		const char	*params;
	} t[] = {
		{ "{\"params\": {\"a\" : 1 } , \"timeout\":5}",
		    "{\"a\" : 1 }" },
		{ "{\"params\":[1, 2 ,3]}", "[1, 2 ,3]" },
		{ "{\"params\":\"x y\"}", "\"x y\"" },
		{ "{\"params\":\"a\\\"}\"}", "\"a\\\"}\"" },
		{ "{\"params\":-1.5e3}", "-1.5e3" },
		{ "{\"params\":0}", "0" },
		{ "{\"params\":true}", "true" },
		{ "{\"params\":false}", "false" },
		{ "{\"params\":null}", "null" },
		{ "{\"params\":{}}", "{}" },
		{ "{\"params\":[]}", "[]" },
		{ "  {\n\"params\" :\t [1]  \n}  ", "[1]" },
		{ "{\"a\":{\"params\":1},\"params\":{\"b\":[{}]},\"c\":2}",
		    "{\"b\":[{}]}" },
		{ "{\"p\\u0061rams\":[7]}", "[7]" },	/* read decoded */
		{ "{\"x\":{\"a\":1},\"params\":{\"a\":[{\"a\":1},"
		    "{\"a\":2}]}}", "{\"a\":[{\"a\":1},{\"a\":2}]}" },
		{ "{\"x\":[1,2],\"params\":\"\\u00e9\"}", "\"\\u00e9\"" },
	};
	struct jscan_body	 b;
	const char		*err;
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (body(t[i].in, &b, &err) != 0)
			fail_msg("rejected %s: %s", t[i].in, err);
		assert_params(&b, t[i].in, t[i].params);
	}
}

static void
test_body_params_absent(void **state)
{
	static const char *const in[] = {
		"{\"a\":1}",
		"{\"x\":{\"params\":1}}",
		"{\"p\\u0062rams\":1}",
		"{\"Params\":1}",
		"{\"param\":1,\"paramss\":2}",
		"[{\"params\":1}]",
	};
	struct jscan_body	 b;
	const char		*err;
	size_t			 i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]) - 1; i++) {
		assert_int_equal(body(in[i], &b, &err), 0);
		assert_null(b.params);
	}
	assert_int_equal(body(in[i], &b, &err), -1);
	assert_string_equal(err, ERR_NOTOBJ);
	assert_null(b.params);
}

static void
test_body_timeout(void **state)
{
	struct jscan_body	 b;
	const char		*err;

	assert_int_equal(body("{\"params\": {\"a\" : 1 } , \"timeout\":5}",
	    &b, &err), 0);
	assert_int_equal(b.has_timeout, 1);
	assert_true(b.timeout_ms == 5.0);

	assert_int_equal(body("{\"timeout\":2.5}", &b, &err), 0);
	assert_int_equal(b.has_timeout, 1);
	assert_true(b.timeout_ms == 2.5);
	assert_null(b.params);

	assert_int_equal(body("{\"timeout\":-5}", &b, &err), 0);
	assert_int_equal(b.has_timeout, 1);
	assert_true(b.timeout_ms == -5.0);

	assert_int_equal(body("{\"timeout\":0}", &b, &err), 0);
	assert_int_equal(b.has_timeout, 1);
	assert_true(b.timeout_ms == 0.0);

	assert_int_equal(body("{\"timeout\":1.5e3 }", &b, &err), 0);
	assert_int_equal(b.has_timeout, 1);
	assert_true(b.timeout_ms == 1500.0);

	assert_int_equal(body("{\"timeout\":null}", &b, &err), 0);
	assert_int_equal(b.has_timeout, 0);

	assert_int_equal(body("{\"timeout\":\"5\"}", &b, &err), -1);
	assert_string_equal(err, ERR_TIMEOUT);
	assert_int_equal(b.has_timeout, 0);
	assert_null(b.params);

	assert_int_equal(body("{\"timeout\":true}", &b, &err), -1);
	assert_string_equal(err, ERR_TIMEOUT);
	assert_int_equal(body("{\"timeout\":[5]}", &b, &err), -1);
	assert_string_equal(err, ERR_TIMEOUT);
	assert_int_equal(body("{\"timeout\":{}}", &b, &err), -1);
	assert_string_equal(err, ERR_TIMEOUT);
}

static void
test_body_timeout_duplicates(void **state)
{
	struct jscan_body	 b;
	const char		*err;

	/* a repeated "timeout" is a duplicate, whatever the values */
	assert_int_equal(body("{\"timeout\":\"x\",\"timeout\":7}", &b, &err),
	    -1);
	assert_string_equal(err, ERR_DUP);
	assert_int_equal(b.has_timeout, 0);
	assert_int_equal(body("{\"timeout\":7,\"timeout\":null}", &b, &err),
	    -1);
	assert_string_equal(err, ERR_DUP);
	assert_int_equal(body("{\"timeout\":7,\"timeout\":7}", &b, &err),
	    -1);
	assert_string_equal(err, ERR_DUP);

	/* a nested "timeout" is not the call's */
	assert_int_equal(body("{\"params\":{\"timeout\":\"x\"}}", &b, &err),
	    0);
	assert_int_equal(b.has_timeout, 0);
	assert_params(&b, "{\"params\":{\"timeout\":\"x\"}}",
	    "{\"timeout\":\"x\"}");
}

static void
test_body_duplicates(void **state)
{
	static const char *const dup[] = {
		"{\"a\":1,\"a\":1}",
		"{\"\":1,\"\":2}",
		"{\"params\":1,\"params\":2}",
		"{\"params\":{\"id\":\"admin\",\"id\":\"x\"}}",
		"{\"params\":{\"u\":{\"role\":1,\"x\":2,\"role\":3}}}",
		"{\"params\":[1,{\"a\":1,\"b\":2,\"a\":3}]}",
		"{\"params\":[[[{\"k\":[{\"z\":0,\"z\":0}]}]]]}",
		"{\"other\":{\"a\":1,\"a\":2},\"params\":{}}",
		"{\"a\":{\"b\":1},\"a\":{\"c\":1}}",
		"{\"x\":1,\"y\":{\"x\":1},\"x\":2}",
		/* equal once decoded */
		"{\"params\":{\"id\":1,\"i\\u0064\":2}}",
		"{\"p\\u0061rams\":{},\"params\":1}",
		"{\"a/b\":1,\"a\\/b\":2}",
		"{\"\\n\":1,\"\\u000a\":2}",
		"{\"\\u00e9\":1,\"\xc3\xa9\":2}",
		"{\"\\u00E9\":1,\"\\u00e9\":2}",
		"{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}",
		"{\"\\\"\":1,\"\\u0022\":2}",
	};
	static const char *const ok[] = {
		"{\"a\":{\"a\":{\"a\":1}}}",
		"{\"a\":{\"x\":1},\"b\":{\"x\":1}}",
		"{\"params\":[{\"x\":1},{\"x\":1},{\"x\":1}]}",
		"{\"a\":1,\"A\":1,\"a \":1,\" a\":1}",
		"{\"\\u00e9\":1,\"\\u00e8\":2,\"e\":3}",
		"{\"\\ud83d\":1,\"\\ude00\":2,\"\\ud83d\\ude00\":3}",
		"{\"params\":{\"a\":1},\"p\":{\"params\":{\"a\":1}}}",
	};
	struct jscan_body	 b;
	const char		*err;
	size_t			 i;

	for (i = 0; i < sizeof(dup) / sizeof(dup[0]); i++) {
		if (body(dup[i], &b, &err) != -1)
			fail_msg("accepted %s", dup[i]);
		if (strcmp(err, ERR_DUP) != 0)
			fail_msg("%s: got \"%s\"", dup[i], err);
		assert_null(b.params);
		/* the validator still takes it: it is valid JSON */
		assert_int_equal(validate(dup[i]), 0);
	}
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (body(ok[i], &b, &err) != 0)
			fail_msg("rejected %s: %s", ok[i], err);
	/* a body that is not JSON is reported as that, duplicate or not */
	assert_int_equal(body("{\"params\":{\"a\":1,\"a\":2},\"x\":}", &b,
	    &err), -1);
	assert_string_equal(err, ERR_INVALID);
	assert_int_equal(body("{\"a\":1,\"a\":2} x", &b, &err), -1);
	assert_string_equal(err, ERR_INVALID);
	assert_int_equal(body("{\"a\":1,\"a\":2", &b, &err), -1);
	assert_string_equal(err, ERR_INVALID);
}

/* {"params":{"k0":0,...}} with n members; dup adds "k<dupof>" last. */
static char *
many_members(size_t n, const char *fmt, long dupof, size_t *lenp)
{
	char	*s;
	size_t	 cap = 32 + (n + 1) * 64, len, i;

	s = malloc(cap);
	assert_non_null(s);
	len = (size_t)snprintf(s, cap, "{\"params\":{");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, fmt,
		    i > 0 ? "," : "", i);
	if (dupof >= 0)
		len += (size_t)snprintf(s + len, cap - len, fmt, ",",
		    (size_t)dupof);
	len += (size_t)snprintf(s + len, cap - len, "}}");
	assert_true(len < cap);
	*lenp = len;
	return (s);
}

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

static void
test_body_many_members(void **state)
{
	static const char *const fmts[] = {
		"%s\"k%zu\":0",
		/* long names with a common prefix, escapes in them */
		"%s\"\\u0061aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\/%zu\":[]",
	};
	static const long dupof[] = { -1, 0, 50000, 99999 };
	struct jscan_body	 b;
	const char		*err;
	char			*s;
	size_t			 len, f, d;
	double			 t0, took;

	for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		for (d = 0; d < sizeof(dupof) / sizeof(dupof[0]); d++) {
			s = many_members(100000, fmts[f], dupof[d], &len);
			t0 = now();
			err = NULL;
			if (dupof[d] < 0) {
				assert_int_equal(jscan_body(s, len, &b, &err),
				    0);
				assert_non_null(b.params);
			} else {
				assert_int_equal(jscan_body(s, len, &b, &err),
				    -1);
				assert_string_equal(err, ERR_DUP);
			}
			took = now() - t0;
			/* quadratic would be 5e9 comparisons: minutes */
			if (took > 2.0)
				fail_msg("100000 members took %.2f s", took);
			free(s);
		}
	}
}

/* The same small objects many times over: names are forgotten on close. */
static char *
many_objects(size_t n, const char *last, size_t *lenp)
{
	char	*s;
	size_t	 cap = n * 24 + 64, len, i;

	s = malloc(cap);
	assert_non_null(s);
	len = (size_t)snprintf(s, cap, "{\"params\":[");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len,
		    "{\"a\":{\"a\":1}},");
	len += (size_t)snprintf(s + len, cap - len, "%s]}", last);
	assert_true(len < cap);
	*lenp = len;
	return (s);
}

static void
test_body_many_objects(void **state)
{
	struct jscan_body	 b;
	const char		*err;
	char			*s;
	size_t			 len;

	s = many_objects(200000, "{\"a\":{\"a\":1,\"b\":2}}", &len);
	assert_int_equal(jscan_body(s, len, &b, &err), 0);
	free(s);
	/* a duplicate in the very last one is still found */
	s = many_objects(200000, "{\"a\":{\"a\":1,\"a\":2}}", &len);
	assert_int_equal(jscan_body(s, len, &b, &err), -1);
	assert_string_equal(err, ERR_DUP);
	free(s);
}

static void
test_body_timeout_long_number(void **state)
{
	struct jscan_body	 b;
	const char		*err;
	char			 in[256];

	/* longer than the stack copy, still a valid number */
	snprintf(in, sizeof(in), "{\"timeout\":1000.%0150d}", 0);
	assert_int_equal(body(in, &b, &err), 0);
	assert_int_equal(b.has_timeout, 1);
	assert_true(b.timeout_ms == 1000.0);

	snprintf(in, sizeof(in), "{\"timeout\":%0100d12e-2 ,\"params\":1}",
	    0);
	assert_int_equal(body(in, &b, &err), -1);	/* leading zeros */
	assert_string_equal(err, ERR_INVALID);
}

static void
test_body_not_object(void **state)
{
	static const char *const in[] = {
		"[]", "[1,2]", "\"x\"", "1", "-2.5", "null", "true", "false",
		"  [ {\"params\":1} ]  ",
	};
	struct jscan_body	 b;
	const char		*err;
	size_t			 i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		if (body(in[i], &b, &err) != -1)
			fail_msg("accepted %s", in[i]);
		assert_non_null(err);
		assert_string_equal(err, ERR_NOTOBJ);
		assert_null(b.params);
	}
}

static void
test_body_invalid(void **state)
{
	static const char *const in[] = {
		"{", "{\"params\"", "{\"params\":", "{\"params\":1",
		"{\"params\":1,", "{\"params\":1,}", "{\"params\":[1,2}",
		"{\"a\":1} x", "{\"a\":1}{}", "{\"a\":01}", "{\"a\":\"\t\"}",
		"{\"params\":{\"a\":1}", "{params:1}", "{\"a\" 1}",
		"{\"a\":1 \"b\":2}", "{,}", "{\"timeout\":}", "nope", "[",
		"\"abc", "{\"timeout\":\"5\"", "{\"timeout\":5,}", "]", "}",
		"{\"params\":NaN}", "{\"timeout\":Infinity}", "{\"t\":.5}",
	};
	struct jscan_body	 b;
	const char		*err;
	size_t			 i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		if (body(in[i], &b, &err) != -1)
			fail_msg("accepted %s", in[i]);
		assert_non_null(err);
		if (strcmp(err, ERR_INVALID) != 0)
			fail_msg("%s: got \"%s\"", in[i], err);
		assert_null(b.params);
		assert_int_equal(b.has_timeout, 0);
	}
}

static void
test_body_truncated(void **state)
{
	const char		*in =
	    "{\"params\":{\"a\":[1,2]},\"timeout\":50}";
	struct jscan_body	 b;
	const char		*err;
	size_t			 len = strlen(in), n;

	/* every proper prefix (bar the empty one) is invalid */
	for (n = 1; n < len; n++) {
		err = NULL;
		if (jscan_body(in, n, &b, &err) != -1)
			fail_msg("accepted prefix %zu", n);
		assert_string_equal(err, ERR_INVALID);
	}
	assert_int_equal(jscan_body(in, len, &b, &err), 0);
	assert_int_equal(b.has_timeout, 1);
	assert_true(b.timeout_ms == 50.0);
	assert_int_equal(b.params_len, strlen("{\"a\":[1,2]}"));
}

static void
test_body_depth(void **state)
{
	struct jscan_body	 b;
	const char		*err;
	char			*nested, *in;
	size_t			 len, n;

	/* the body object is one level: params may nest one less */
	for (n = JSCAN_MAX_DEPTH - 1; n <= JSCAN_MAX_DEPTH; n++) {
		nested = nest(n, 0, &len);
		in = malloc(len + 20);
		assert_non_null(in);
		snprintf(in, len + 20, "{\"params\":%s}", nested);
		if (n < JSCAN_MAX_DEPTH) {
			assert_int_equal(body(in, &b, &err), 0);
			assert_int_equal(b.params_len, len);
			assert_int_equal(jscan_validate(in, strlen(in)), 0);
		} else {
			assert_int_equal(body(in, &b, &err), -1);
			assert_string_equal(err, ERR_INVALID);
			assert_int_equal(jscan_validate(in, strlen(in)), -1);
		}
		free(in);
		free(nested);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_values),
		cmocka_unit_test(test_invalid_values),
		cmocka_unit_test(test_validate_uses_len),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_depth_recovers),
		cmocka_unit_test(test_megabyte_of_brackets),
		cmocka_unit_test(test_body_empty),
		cmocka_unit_test(test_body_spans),
		cmocka_unit_test(test_body_params_absent),
		cmocka_unit_test(test_body_timeout),
		cmocka_unit_test(test_body_timeout_duplicates),
		cmocka_unit_test(test_body_duplicates),
		cmocka_unit_test(test_body_many_members),
		cmocka_unit_test(test_body_many_objects),
		cmocka_unit_test(test_body_timeout_long_number),
		cmocka_unit_test(test_body_not_object),
		cmocka_unit_test(test_body_invalid),
		cmocka_unit_test(test_body_truncated),
		cmocka_unit_test(test_body_depth),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
