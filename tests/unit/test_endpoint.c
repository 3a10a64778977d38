/*
 * test_endpoint.c: endpoint records (decoding, defaults, every kind of
 * malformed record, garbage bytes, reference counting, the round trip
 * from endpoint_encode), URL checking, and the security rules of
 * rule.c.
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

#include "endpoint.h"
#include "rule.h"
#include "util.h"

#define GOOD_HEAD							\
	"{\"project\":\"p\",\"service\":\"s\",\"endpoint\":\"e\","	\
	"\"kind\":\"internal\",\"method\":\"POST\","			\
	"\"url\":\"http://127.0.0.1:5000/adder\",\"timeout\":10,"	\
	"\"rule\":{\"rule\":\"allow\"}"
#define GOOD_TAIL \
	",\"headers\":[{\"key\":\"X-A\",\"value\":\"1\",\"op\":\"set\"}," \
	"{\"key\":\"X-U\",\"value\":\"auth.sub\",\"op\":\"add\"}," \
	"{\"key\":\"X-D\",\"value\":null,\"op\":\"del\"}]," \
	"\"token\":\"tok\",\"forwardHeaders\":[\"X-F\",\"X-G\"]," \
	"\"responseHeaders\":[\"X-R\"],\"scToken\":{\"bindRequest\":true}}"
#define GOOD	GOOD_HEAD GOOD_TAIL

static struct sy_endpoint *
decode(const char *rec, char **err)
{
	return (endpoint_decode(rec, strlen(rec), err));
}

/* rec must not decode, and must say why. */
static void
expect_bad(const char *rec, size_t len)
{
	struct sy_endpoint	*ep;
	char			*err = (char *)"unset";

	ep = endpoint_decode(rec, len, &err);
	if (ep != NULL)
		print_message("# decoded: %.*s\n", (int)len, rec);
	assert_null(ep);
	assert_non_null(err);
	assert_true(strncmp(err, "endpoint record: ", 17) == 0);
	free(err);
}

static void
test_decode_good(void **state)
{
	struct sy_endpoint	*ep;
	char			*err = (char *)"unset";

	ep = decode(GOOD, &err);
	assert_non_null(ep);
	assert_null(err);
	assert_int_equal(ep->refcnt, 1);
	assert_string_equal(ep->project, "p");
	assert_string_equal(ep->service, "s");
	assert_string_equal(ep->name, "e");
	assert_int_equal(ep->kind, EP_KIND_INTERNAL);
	assert_string_equal(ep->method, "POST");
	assert_true(ep->has_body);
	assert_string_equal(ep->url, "http://127.0.0.1:5000/adder");
	assert_false(ep->url_vars);
	assert_true(ep->timeout == 10.0);
	assert_non_null(ep->rule);
	assert_false(rule_needs_token(ep->rule));
	assert_int_equal(ep->nheaders, 3);
	assert_int_equal(ep->headers[0].op, EP_HDR_SET);
	assert_string_equal(ep->headers[0].key, "X-A");
	assert_string_equal(ep->headers[0].value, "1");
	assert_false(ep->headers[0].is_var);
	assert_int_equal(ep->headers[1].op, EP_HDR_ADD);
	assert_string_equal(ep->headers[1].value, "auth.sub");
	assert_true(ep->headers[1].is_var);
	assert_int_equal(ep->headers[2].op, EP_HDR_DEL);
	assert_string_equal(ep->headers[2].key, "X-D");
	assert_null(ep->headers[2].value);
	assert_string_equal(ep->token, "tok");
	assert_int_equal(ep->nfwd_headers, 2);
	assert_string_equal(ep->fwd_headers[1], "X-G");
	assert_int_equal(ep->nresp_headers, 1);
	assert_string_equal(ep->resp_headers[0], "X-R");
	assert_true(ep->bind_token);
	endpoint_unref(ep);
}

static void
test_decode_defaults(void **state)
{
	struct sy_endpoint	*ep;
	char			*err;

	/* optional members missing */
	ep = decode(GOOD_HEAD "}", &err);
	assert_non_null(ep);
	assert_int_equal(ep->nheaders, 0);
	assert_null(ep->headers);
	assert_null(ep->token);
	assert_int_equal(ep->nfwd_headers, 0);
	assert_int_equal(ep->nresp_headers, 0);
	assert_false(ep->bind_token);
	endpoint_unref(ep);

	/* as endpoint_encode writes them */
	ep = decode(GOOD_HEAD ",\"headers\":[],\"token\":null,"
	    "\"forwardHeaders\":[],\"responseHeaders\":[],"
	    "\"scToken\":{\"bindRequest\":false}}", &err);
	assert_non_null(ep);
	assert_int_equal(ep->nheaders, 0);
	assert_null(ep->token);
	assert_false(ep->bind_token);
	endpoint_unref(ep);

	ep = decode(GOOD_HEAD ",\"scToken\":{}}", NULL);
	assert_non_null(ep);
	assert_false(ep->bind_token);
	assert_int_equal(ep->client, EP_CLIENT_DEFAULT);
	endpoint_unref(ep);

	/* a service's upstreamClient */
	ep = decode(GOOD_HEAD ",\"upstreamClient\":\"curl\"}", NULL);
	assert_non_null(ep);
	assert_int_equal(ep->client, EP_CLIENT_CURL);
	endpoint_unref(ep);
	ep = decode(GOOD_HEAD ",\"upstreamClient\":\"native\"}", NULL);
	assert_non_null(ep);
	assert_int_equal(ep->client, EP_CLIENT_NATIVE);
	endpoint_unref(ep);
	ep = decode(GOOD_HEAD ",\"upstreamClient\":null}", NULL);
	assert_non_null(ep);
	assert_int_equal(ep->client, EP_CLIENT_DEFAULT);
	endpoint_unref(ep);
	assert_null(decode(GOOD_HEAD ",\"upstreamClient\":\"x\"}", &err));
	assert_string_equal(err, "endpoint record: bad \"upstreamClient\"");
	free(err);

	/* a service's caFile */
	ep = decode(GOOD_HEAD ",\"caFile\":\"/etc/ca.pem\"}", NULL);
	assert_non_null(ep);
	assert_string_equal(ep->ca_file, "/etc/ca.pem");
	endpoint_unref(ep);
	ep = decode(GOOD_HEAD ",\"caFile\":null}", NULL);
	assert_non_null(ep);
	assert_null(ep->ca_file);
	endpoint_unref(ep);
	assert_null(decode(GOOD_HEAD ",\"caFile\":7}", &err));
	assert_string_equal(err, "endpoint record: \"caFile\" is not a "
	    "string");
	free(err);
}

static void
test_decode_kinds_methods(void **state)
{
	static const struct {
		const char	*method;
		int		 has_body;
	} m[] = {
		{ "GET", 0 }, { "HEAD", 0 }, { "POST", 1 }, { "PUT", 1 },
		{ "PATCH", 1 }, { "DELETE", 1 }, { "OPTIONS", 1 },
	};
	struct sy_endpoint	*ep;
	struct rule_env		 env;
	const char		*msg;
	char			 rec[512];
	size_t			 i;

	memset(&env, 0, sizeof(env));
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		snprintf(rec, sizeof(rec), "{\"project\":\"p\",\"service\":"
		    "\"s\",\"endpoint\":\"e\",\"kind\":\"external\",\"method\":"
		    "\"%s\",\"url\":\"https://x.example/a/{auth.sub}\","
		    "\"timeout\":0.25,\"rule\":{\"rule\":\"deny\",\"error\":"
		    "\"go away\"}}", m[i].method);
		ep = decode(rec, NULL);
		assert_non_null(ep);
		assert_int_equal(ep->kind, EP_KIND_EXTERNAL);
		assert_string_equal(ep->method, m[i].method);
		assert_int_equal(ep->has_body, m[i].has_body);
		assert_true(ep->url_vars);
		assert_true(ep->timeout == 0.25);
		assert_true(rule_needs_token(ep->rule));
		assert_int_equal(rule_eval(ep->rule, &env, &msg), RULE_FAIL);
		assert_string_equal(msg, "go away");
		endpoint_unref(ep);
	}
}

/* GOOD with member key replaced by val (JSON text), or removed. */
static char *
good_with(const char *key, const char *val)
{
	struct json_object	*o, *v;
	char			*rec;

	o = json_tokener_parse(GOOD);
	assert_non_null(o);
	json_object_object_del(o, key);
	if (val != NULL) {
		v = json_tokener_parse(val);
		assert_true(v != NULL || strcmp(val, "null") == 0);
		json_object_object_add(o, key, v);
	}
	rec = strdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	assert_non_null(rec);
	json_object_put(o);
	return (rec);
}

static void
test_decode_malformed(void **state)
{
	static const struct {
		const char	*key;
		const char	*val;	/* NULL: member removed */
	} t[] = {
		{ "project", NULL }, { "service", NULL }, { "endpoint", NULL },
		{ "kind", NULL }, { "method", NULL }, { "url", NULL },
		{ "timeout", NULL }, { "rule", NULL },
		{ "project", "1" }, { "project", "\"p\\u0000q\"" },
		{ "service", "[]" }, { "endpoint", "null" },
		{ "kind", "\"prepared\"" }, { "kind", "\"Internal\"" },
		{ "method", "\"post\"" }, { "method", "\"FETCH\"" },
		{ "url", "\"/rel\"" }, { "url", "\"http://h/a b\"" },
		{ "url", "5" }, { "timeout", "0" }, { "timeout", "-1" },
		{ "timeout", "\"1\"" }, { "timeout", "1e9" },
		{ "rule", "{\"rule\":\"match\"}" },
		{ "rule", "{\"rule\":\"z\"}" },
		{ "rule", "\"allow\"" }, { "rule", "null" },
		{ "rule", "{\"rule\":\"deny\",\"error\":5}" },
		{ "headers", "{}" }, { "headers", "[1]" },
		{ "headers", "[{\"key\":\"X\",\"value\":\"1\"}]" },
		{ "headers", "[{\"key\":\"X\",\"value\":\"1\","
		  "\"op\":\"SET\"}]" },
		{ "headers", "[{\"key\":\"X Y\",\"value\":\"1\","
		  "\"op\":\"set\"}]" },
		{ "headers", "[{\"key\":\"\",\"value\":\"1\","
		  "\"op\":\"set\"}]" },
		{ "headers", "[{\"value\":\"1\",\"op\":\"set\"}]" },
		{ "headers", "[{\"key\":\"X\",\"op\":\"add\"}]" },
		{ "headers", "[{\"key\":\"X\",\"value\":null,"
		  "\"op\":\"set\"}]" },
		{ "headers", "[{\"key\":\"X\",\"value\":\"a\\r\\nB: c\","
		  "\"op\":\"set\"}]" },
		{ "headers", "[{\"key\":\"X\",\"value\":\"1\",\"op\":\"set\"},"
		  "{\"key\":\"Y\",\"value\":2,\"op\":\"set\"}]" },
		{ "token", "5" }, { "token", "\"a\\nb\"" },
		{ "forwardHeaders", "\"X\"" },
		{ "forwardHeaders", "[\"X\",1]" },
		{ "responseHeaders", "[\"a:b\"]" }, { "scToken", "true" },
		{ "scToken", "{\"bindRequest\":\"yes\"}" },
	};
	static const char *const bad[] = {
		"", " ", "[]", "1", "\"x\"", "null", "true", "{",
		GOOD_HEAD, GOOD "x", GOOD "{}", " " GOOD "]",
		"{\"project\":\"p\",}",
		/* not finite; invalid UTF-8; nested too deep */
		GOOD_HEAD ",\"timeout\":NaN}",
		GOOD_HEAD ",\"timeout\":1e999}",
		"{\"project\":\"\xff\xfe\"}",
		GOOD_HEAD ",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1"
		"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	};
	char	*rec;
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		rec = good_with(t[i].key, t[i].val);
		expect_bad(rec, strlen(rec));
		free(rec);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad(bad[i], strlen(bad[i]));
	/* a NUL byte after a good record, and the record cut short */
	expect_bad(GOOD "\0", sizeof(GOOD));
	for (i = 0; i < sizeof(GOOD) - 1; i++)
		expect_bad(GOOD, i);
	/* err may be NULL, rec may be NULL */
	assert_null(endpoint_decode("[]", 2, NULL));
	assert_null(endpoint_decode(NULL, 0, NULL));
	/* the helper itself makes records that decode */
	rec = good_with("token", "\"other\"");
	endpoint_unref(endpoint_decode(rec, strlen(rec), NULL));
	assert_non_null(strstr(rec, "\"token\":\"other\""));
	free(rec);
}

/* Random bytes, and random damage to a good record: never a crash. */
static void
test_decode_garbage(void **state)
{
	struct sy_endpoint	*ep;
	char			 buf[sizeof(GOOD)], *err;
	size_t			 i, j, len;
	unsigned		 seed = 12345, ok = 0;

	for (i = 0; i < 20000; i++) {
		seed = seed * 1103515245 + 12345;
		len = (seed >> 8) % sizeof(buf);
		if (i % 2 == 0) {
			for (j = 0; j < len; j++) {
				seed = seed * 1103515245 + 12345;
				buf[j] = (char)(seed >> 16);
			}
		} else {
			len = sizeof(GOOD) - 1;
			memcpy(buf, GOOD, len);
			for (j = 0; j < 1 + i % 4; j++) {
				seed = seed * 1103515245 + 12345;
				buf[(seed >> 8) % len] = "\"{}[],:\\ax0\x80"
				    [(seed >> 20) % 13];
			}
		}
		err = NULL;
		ep = endpoint_decode(buf, len, &err);
		if (ep != NULL) {
			assert_null(err);
			ok++;
		} else
			assert_non_null(err);
		endpoint_unref(ep);
		free(err);
	}
	/* some damage is harmless (inside a string), most is not */
	assert_true(ok > 0 && ok < 10000);
}

static void
test_refcount(void **state)
{
	struct sy_endpoint	*ep;

	ep = decode(GOOD, NULL);
	assert_non_null(ep);
	assert_ptr_equal(endpoint_ref(ep), ep);
	assert_int_equal(ep->refcnt, 2);
	endpoint_ref(ep);
	assert_int_equal(ep->refcnt, 3);
	endpoint_unref(ep);
	endpoint_unref(ep);
	assert_int_equal(ep->refcnt, 1);
	assert_string_equal(ep->url, "http://127.0.0.1:5000/adder");
	endpoint_unref(ep);	/* freed: valgrind and ASan would see a leak */
	endpoint_unref(NULL);
}

/* endpoint_encode's record decodes to the same endpoint. */
static void
test_round_trip(void **state)
{
	struct json_object	*v;
	struct sy_endpoint	*ep;
	struct syerrs		 errs;
	struct sybuf		 rec;
	char			*err;

	v = json_tokener_parse("{\"method\":\"delete\",\"path\":\"items/"
	    "{args.id}\",\"rule\":{\"rule\":\"deny\"},\"timeout\":3,"
	    "\"headers\":[{\"key\":\"X-Id\",\"value\":\"args.user.id\"}],"
	    "\"forwardHeaders\":[\"Cookie\"],\"unknown\":{\"x\":1}}");
	assert_non_null(v);
	syerrs_init(&errs);
	sybuf_init(&rec);
	assert_int_equal(endpoint_encode(v, "ep", "p", "s", "e",
	    "https://h:8443//", &rec, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(rec.data, "{\"project\":\"p\",\"service\":\"s\","
	    "\"endpoint\":\"e\",\"kind\":\"internal\",\"method\":\"DELETE\","
	    "\"url\":\"https://h:8443/items/{args.id}\",\"timeout\":3,"
	    "\"rule\":{\"rule\":\"deny\"},\"headers\":[{\"key\":\"X-Id\","
	    "\"value\":\"args.user.id\",\"op\":\"set\"}],\"token\":null,"
	    "\"forwardHeaders\":[\"Cookie\"],\"responseHeaders\":[],"
	    "\"scToken\":{\"bindRequest\":false}}");
	ep = decode(rec.data, &err);
	assert_non_null(ep);
	assert_string_equal(ep->method, "DELETE");
	assert_true(ep->has_body);
	assert_true(ep->url_vars);
	assert_true(ep->headers[0].is_var);
	assert_true(rule_needs_token(ep->rule));
	endpoint_unref(ep);

	/* an internal endpoint without a service url: no record, no error */
	assert_int_equal(endpoint_encode(v, "ep", "p", "s", "e", NULL, &rec,
	    &errs), -1);
	assert_int_equal(errs.n, 0);
	json_object_put(v);

	v = json_tokener_parse("{\"path\":\"/a\"}");
	assert_int_equal(endpoint_encode(v, "ep", "p", "s", "e", "http://h",
	    &rec, &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], "ep: missing \"rule\" (use "
	    "{\"rule\": \"allow\"} to make the endpoint public)");
	json_object_put(v);
	syerrs_free(&errs);
	sybuf_free(&rec);
}

/*
 * endpoint_encode escapes what JSON requires (as json-c would: "\u00xx"
 * in lower case, '/' as it is, UTF-8 untouched), and every string comes
 * back from endpoint_decode as it was.
 */
static void
test_encode_escapes(void **state)
{
	static const char	 project[] = "p\"q\\\x01\xc3\xa9";
	struct json_object	*v;
	struct sy_endpoint	*ep;
	struct rule_env		 env;
	struct syerrs		 errs;
	struct sybuf		 rec;
	const char		*msg;
	char			*err;

	v = json_tokener_parse("{\"kind\":\"external\",\"method\":\"GET\","
	    "\"path\":\"https://h/a\\\"b\\\\c/\\u00e9/\xe6\x97\xa5\","
	    "\"rule\":{\"rule\":\"deny\",\"error\":\"\\\"\\\\\\/ "
	    "\\u0001\\u001f\\b\\f\\n\\r\\t\\u007f \xc3\xa9 "
	    "\\ud83d\\ude00\"},"
	    "\"headers\":[{\"key\":\"X-Q\",\"value\":\"a\\\"b\\\\c "
	    "\xc3\xa9\"}],\"token\":\"t\\\"\\\\\\u00e9\"}");
	assert_non_null(v);
	syerrs_init(&errs);
	sybuf_init(&rec);
	assert_int_equal(endpoint_encode(v, "ep", project, "s", "e", NULL,
	    &rec, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(rec.data, "{\"project\":\"p\\\"q\\\\\\u0001"
	    "\xc3\xa9\",\"service\":\"s\",\"endpoint\":\"e\","
	    "\"kind\":\"external\",\"method\":\"GET\","
	    "\"url\":\"https://h/a\\\"b\\\\c/\xc3\xa9/\xe6\x97\xa5\","
	    "\"timeout\":60,\"rule\":{\"rule\":\"deny\",\"error\":"
	    "\"\\\"\\\\/ \\u0001\\u001f\\b\\f\\n\\r\\t\x7f \xc3\xa9 "
	    "\xf0\x9f\x98\x80\"},"
	    "\"headers\":[{\"key\":\"X-Q\",\"value\":\"a\\\"b\\\\c "
	    "\xc3\xa9\",\"op\":\"set\"}],\"token\":\"t\\\"\\\\\xc3\xa9\","
	    "\"forwardHeaders\":[],\"responseHeaders\":[],"
	    "\"scToken\":{\"bindRequest\":false}}");
	ep = decode(rec.data, &err);
	assert_non_null(ep);
	assert_string_equal(ep->project, project);
	assert_string_equal(ep->url, "https://h/a\"b\\c/\xc3\xa9/\xe6\x97\xa5");
	assert_string_equal(ep->headers[0].value, "a\"b\\c \xc3\xa9");
	assert_string_equal(ep->token, "t\"\\\xc3\xa9");
	memset(&env, 0, sizeof(env));
	assert_int_equal(rule_eval(ep->rule, &env, &msg), RULE_FAIL);
	assert_string_equal(msg, "\"\\/ \x01\x1f\b\f\n\r\t\x7f \xc3\xa9 "
	    "\xf0\x9f\x98\x80");
	endpoint_unref(ep);
	json_object_put(v);
	syerrs_free(&errs);
	sybuf_free(&rec);
}

/* SPEC section 3: the headers no endpoint setting may name. */
static void
test_header_forbidden(void **state)
{
	static const char *const no[] = {
		"Connection", "connection", "KEEP-ALIVE", "Keep-Alive",
		"Proxy-Authorization", "proxy-connection", "Proxy-",
		"PROXY-X", "TE", "te", "Trailer", "Transfer-Encoding",
		"transfer-encoding", "Upgrade", "Content-Length",
		"content-LENGTH", "X-SC-Token", "x-sc-token",
	};
	static const char *const yes[] = {
		"Host", "Content-Type", "Authorization", "Cookie", "Proxy",
		"ProxyX", "X-Proxy-Id", "TE2", "Trailers-X", "Upgraded",
		"Content-Length2", "X-SC-Tokens", "X-Request-Id", "Connections",
		"Keep-Alive-X", "",
	};
	struct json_object	*v;
	struct syerrs		 errs;
	struct sybuf		 rec;
	size_t			 i;

	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (!endpoint_header_forbidden(no[i]))
			fail_msg("%s is allowed", no[i]);
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (endpoint_header_forbidden(yes[i]))
			fail_msg("%s is forbidden", yes[i]);

	/* Host set to a literal is the one way to name it */
	v = json_tokener_parse("{\"path\":\"/a\",\"rule\":{\"rule\":"
	    "\"allow\"},\"headers\":[{\"key\":\"Host\",\"value\":"
	    "\"api.example\"},{\"key\":\"host\",\"value\":\"b\",\"op\":"
	    "\"set\"},{\"key\":\"X-Proxy-Id\",\"value\":\"args.x\"}],"
	    "\"forwardHeaders\":[\"Proxy\",\"Cookie\"],"
	    "\"responseHeaders\":[\"Content-Type\",\"ETag\"]}");
	assert_non_null(v);
	syerrs_init(&errs);
	sybuf_init(&rec);
	assert_int_equal(endpoint_encode(v, "ep", "p", "s", "e", "http://h",
	    &rec, &errs), 0);
	assert_int_equal(errs.n, 0);
	json_object_put(v);
	syerrs_free(&errs);
	sybuf_free(&rec);
}

static void
test_check_url(void **state)
{
	static const char *const good[] = {
		"http://h", "https://h/", "HTTP://H:1/x?y#z", "http://u:p@h:80",
		"http://[::1]:8080/a", "http://a.b-c_d.example/{args.x}",
		"https://h/a/{auth.sub}?q={args.q}",
	};
	static const struct {
		const char	*url;
		const char	*why;
	} bad[] = {
		{ "ftp://h", "it does not begin with http:// or https://" },
		{ "/rel", "it does not begin with http:// or https://" },
		{ "http://", "it has no host" },
		{ "http:///x", "it has no host" },
		{ "http://u@/x", "it has no host" },
		{ "http://:80", "it has no host" },
		{ "http://h:", "it has a bad port" },
		{ "http://h:x", "it has a bad port" },
		{ "http://h:123456", "it has a bad port" },
		{ "http://h:0", "its port is not from 1 to 65535" },
		{ "http://h:65536", "its port is not from 1 to 65535" },
		{ "http://[::1", "it has a bad IPv6 address" },
		{ "http://[nope]/", "it has a bad IPv6 address" },
		{ "http://[::1]x/", "it has a bad port" },
		{ "http://{args.h}/", "its host name has a bad character" },
		{ "http://h /", "it contains a space or control character" },
		{ "http://h/\r\n", "it contains a space or control character" },
	};
	size_t	i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_null(endpoint_check_url(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (endpoint_check_url(bad[i].url) == NULL)
			print_message("# accepted %s\n", bad[i].url);
		assert_non_null(endpoint_check_url(bad[i].url));
		assert_string_equal(endpoint_check_url(bad[i].url), bad[i].why);
	}
}

/*
 * rule.c
 */

static struct rule *
compile(const char *text, struct syerrs *errs)
{
	struct json_object	*v;
	struct rule		*r;

	v = json_tokener_parse(text);
	syerrs_init(errs);
	r = rule_compile(v, "x.rule", errs);
	json_object_put(v);
	return (r);
}

/* Evaluate r with no auth, params or token. */
static enum rule_verdict
eval_bare(const struct rule *r, const char **msg)
{
	struct rule_env	env;

	memset(&env, 0, sizeof(env));
	return (rule_eval(r, &env, msg));
}

static void
test_rule_allow_deny(void **state)
{
	struct syerrs	 errs;
	struct rule	*r;
	const char	*msg;

	r = compile("{\"rule\":\"allow\"}", &errs);
	assert_non_null(r);
	assert_int_equal(errs.n, 0);
	assert_int_equal(eval_bare(r, &msg), RULE_PASS);
	assert_null(msg);
	assert_false(rule_needs_token(r));
	rule_free(r);

	r = compile("{\"rule\":\"deny\",\"error\":\"private\",\"x\":1}",
	    &errs);
	assert_non_null(r);
	assert_int_equal(eval_bare(r, &msg), RULE_FAIL);
	assert_string_equal(msg, "private");
	assert_true(rule_needs_token(r));
	rule_free(r);

	r = compile("{\"rule\":\"deny\",\"error\":null}", &errs);
	assert_non_null(r);
	assert_int_equal(eval_bare(r, &msg), RULE_FAIL);
	assert_null(msg);
	rule_free(r);

	rule_free(NULL);
	assert_true(rule_needs_token(NULL));
}

/* The rules that used to be refused now compile (test_rule.c has more). */
static void
test_rule_others(void **state)
{
	static const char *const ok[] = {
		"{\"rule\":\"authenticated\"}",
		"{\"rule\":\"match\",\"type\":\"string\",\"eval\":\"==\","
		"\"f1\":\"args.auth.sub\",\"f2\":\"args.params.id\"}",
		"{\"rule\":\"and\",\"clauses\":[{\"rule\":\"allow\"}]}",
		"{\"rule\":\"or\",\"clauses\":[{\"rule\":\"deny\"}]}",
		"{\"rule\":\"force\",\"field\":\"args.params.a\","
		"\"value\":1}",
		"{\"rule\":\"remove\",\"fields\":[\"args.params.a\"]}",
		"{\"rule\":\"webhook\",\"url\":\"http://h/\"}",
	};
	struct syerrs	 errs;
	struct rule	*r;
	size_t		 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		r = compile(ok[i], &errs);
		if (r == NULL)
			print_message("# %s: %s\n", ok[i], errs.msg[0]);
		assert_non_null(r);
		assert_int_equal(errs.n, 0);
		assert_true(rule_needs_token(r));
		rule_free(r);
		syerrs_free(&errs);
	}
}

static void
test_rule_errors(void **state)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} t[] = {
		{ "{\"rule\":\"xyz\"}", "x.rule: unknown rule \"xyz\"" },
		{ "{\"rule\":\"Allow\"}", "x.rule: unknown rule \"Allow\"" },
		{ "{\"rule\":\"query\"}", "x.rule: unknown rule \"query\"" },
		{ "{\"rule\":\"func\"}", "x.rule: unknown rule \"func\"" },
		{ "{\"rule\":\"allow\\u0000\"}",
		  "x.rule: unknown rule \"allow\"" },
		{ "{\"rule\":1}", "x.rule: \"rule\" must be a string" },
		{ "{}", "x.rule: missing the \"rule\" member, as in "
		  "{\"rule\": \"allow\"}" },
		{ "\"allow\"", "x.rule: must be an object such as "
		  "{\"rule\": \"allow\"}" },
		{ "[]", "x.rule: must be an object such as {\"rule\": "
		  "\"allow\"}" },
		{ "{\"rule\":\"deny\",\"error\":[]}",
		  "x.rule: \"error\" must be a string" },
		{ "{\"rule\":\"and\",\"clauses\":[{\"rule\":\"allow\"},"
		  "{\"rule\":\"later\"}]}",
		  "x.rule.clauses[1]: unknown rule \"later\"" },
	};
	struct syerrs	errs;
	size_t		i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_null(compile(t[i].text, &errs));
		assert_int_equal(errs.n, 1);
		assert_string_equal(errs.msg[0], t[i].msg);
		syerrs_free(&errs);
	}
	syerrs_init(&errs);
	assert_null(rule_compile(NULL, "x.rule", &errs));
	assert_int_equal(errs.n, 1);
	syerrs_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_good),
		cmocka_unit_test(test_decode_defaults),
		cmocka_unit_test(test_decode_kinds_methods),
		cmocka_unit_test(test_decode_malformed),
		cmocka_unit_test(test_decode_garbage),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encode_escapes),
		cmocka_unit_test(test_check_url),
		cmocka_unit_test(test_header_forbidden),
		cmocka_unit_test(test_rule_allow_deny),
		cmocka_unit_test(test_rule_others),
		cmocka_unit_test(test_rule_errors),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
