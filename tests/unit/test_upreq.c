/*
 * test_upreq.c: the upstream request builder (SPEC section 4, "The
 * upstream request"): URL templating and GET queries, the headers in the
 * contract's order, header operations and forwardHeaders, the static
 * token, the X-SC-Token (bound to the request line's path), variable
 * errors, and headers that must never go out whatever a registry holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "endpoint.h"
#include "project.h"
#include "upreq.h"
#include "util.h"

#define EP(method, url, rest)						\
	"{\"project\":\"p\",\"service\":\"s\",\"endpoint\":\"e\","	\
	"\"kind\":\"internal\",\"method\":\"" method "\","		\
	"\"url\":\"" url "\",\"timeout\":10,"				\
	"\"rule\":{\"rule\":\"allow\"}" rest "}"

struct fixture {
	struct sy_project	*proj;
	struct sy_project	*unsigned_proj;
};

static const char *
client_headers(void *arg, const char *name)
{
	static const char *const h[][2] = {
		{ "Authorization", "Bearer caller-token" },
		{ "X-F", "forwarded" },
		{ "X-SC-Token", "Bearer forged" },
		{ "Content-Length", "999" },
		{ "Host", "evil.example" },
	};
	size_t	i;

	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++)
		if (strcasecmp(h[i][0], name) == 0)
			return (h[i][1]);
	return (NULL);
}

static int
setup(void **state)
{
	static struct fixture	f;
	const char		*signed_rec = "{\"project\":\"p\",\"secrets\":["
	    "{\"alg\":\"HS256\",\"secret\":\"s3cret\",\"isPrimary\":true}]}";
	const char		*plain_rec = "{\"project\":\"p\",\"secrets\":[]}";
	char			*err = NULL;

	f.proj = project_decode(signed_rec, strlen(signed_rec), &err);
	f.unsigned_proj = project_decode(plain_rec, strlen(plain_rec), &err);
	if (f.proj == NULL || f.unsigned_proj == NULL)
		fail_msg("project_decode: %s", err != NULL ? err : "?");
	*state = &f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	project_unref(f->proj);
	project_unref(f->unsigned_proj);
	return (0);
}

/* Decode base64url text into out (NUL-terminated); its length or -1. */
static int
b64url_decode(unsigned char *out, size_t cap, const char *in, size_t len)
{
	static const char	 abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const char		*p;
	unsigned int		 acc = 0;
	size_t			 i, n = 0;
	int			 bits = 0;

	for (i = 0; i < len; i++) {
		if ((p = strchr(abc, in[i])) == NULL || in[i] == '\0')
			return (-1);
		acc = (acc << 6) | (unsigned int)(p - abc);
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (n + 1 >= cap)
				return (-1);
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	out[n] = '\0';
	return ((int)n);
}

/* Build the request of endpoint record rec with params and claims. */
static int
build(struct upreq *r, struct sy_project *proj, const char *rec,
    const char *params, const char *claims, char **err)
{
	struct sy_endpoint	*ep;
	struct upreq_in		 in;
	char			*derr = NULL;
	int			 rc;

	if ((ep = endpoint_decode(rec, strlen(rec), &derr)) == NULL)
		fail_msg("endpoint_decode: %s", derr != NULL ? derr : "?");
	memset(&in, 0, sizeof(in));
	in.ep = ep;
	in.proj = proj;
	in.node_id = "node-1";
	in.params = params != NULL ? json_tokener_parse(params) : NULL;
	in.claims = claims != NULL ? json_tokener_parse(claims) : NULL;
	in.body = params != NULL ? params : "{}";
	in.body_len = strlen(in.body);
	in.reqid = "rid-1";
	in.header = client_headers;
	in.now = 1.7e9;
	rc = upreq_build(r, &in, err);
	json_object_put(in.params);
	json_object_put(in.claims);
	endpoint_unref(ep);
	return (rc);
}

/* The header lines, joined with '|', for comparison. */
static char *
joined(const struct upreq *r, int skip_sc)
{
	struct sybuf	b;
	size_t		i;

	sybuf_init(&b);
	for (i = 0; i < r->nlines; i++) {
		if (skip_sc && strncmp(r->lines[i], "X-SC-Token: ", 12) == 0)
			continue;
		sybuf_printf(&b, "%s%s", b.len > 0 ? "|" : "", r->lines[i]);
	}
	return (sybuf_detach(&b));
}

static void
test_order_and_operations(void **state)
{
	struct fixture	*f = *state;
	struct upreq	 r;
	char		*err = NULL, *h;

	assert_int_equal(build(&r, f->unsigned_proj, EP("POST",
	    "http://127.0.0.1:5000/base/users/{args.id}",
	    ",\"headers\":[{\"key\":\"X-A\",\"value\":\"1\",\"op\":\"set\"},"
	    "{\"key\":\"X-A\",\"value\":\"2\",\"op\":\"add\"},"
	    "{\"key\":\"X-U\",\"value\":\"auth.sub\",\"op\":\"set\"},"
	    "{\"key\":\"X-P\",\"value\":\"args.id\",\"op\":\"set\"},"
	    "{\"key\":\"Authorization\",\"value\":null,\"op\":\"del\"}],"
	    "\"forwardHeaders\":[\"X-F\",\"X-Missing\"]"),
	    "{\"id\":\"42\"}", "{\"sub\":\"u1\"}", &err), 0);
	assert_null(err);
	assert_string_equal(r.url.data,
	    "http://127.0.0.1:5000/base/users/42");
	h = joined(&r, 0);
	/* no primary secret: no X-SC-Token at all */
	assert_string_equal(h, "X-Request-Id: rid-1|"
	    "Content-Type: application/json|X-A: 1|X-A: 2|X-U: u1|X-P: 42|"
	    "X-F: forwarded");
	free(h);
	upreq_free(&r);
}

static void
test_token_and_sc_token(void **state)
{
	struct fixture	*f = *state;
	struct upreq	 r;
	char		*err = NULL, *h;

	assert_int_equal(build(&r, f->proj, EP("POST", "http://h/x",
	    ",\"token\":\"static\""), "{}", NULL, &err), 0);
	h = joined(&r, 1);
	assert_string_equal(h, "Authorization: Bearer static|"
	    "X-Request-Id: rid-1|Content-Type: application/json");
	free(h);
	assert_true(r.nlines == 4 &&
	    strncmp(r.lines[1], "X-SC-Token: Bearer ey", 21) == 0);
	upreq_free(&r);
	/* without a static token the caller's goes out unchanged */
	assert_int_equal(build(&r, f->proj, EP("POST", "http://h/x", ""),
	    "{}", NULL, &err), 0);
	assert_string_equal(r.lines[0], "Authorization: Bearer caller-token");
	upreq_free(&r);
}

/* The bound token's path claim is the request line's path. */
static void
test_bound_token_path(void **state)
{
	struct fixture		*f = *state;
	struct json_object	*claims, *path;
	struct upreq		 r;
	char			*err = NULL;
	const char		*tok, *dot1, *dot2;
	size_t			 plen;
	unsigned char		 dec[1024];

	assert_int_equal(build(&r, f->proj, EP("GET",
	    "http://h/base/{args.id}/profile",
	    ",\"scToken\":{\"bindRequest\":true}"), "{\"id\":\"..\",\"q\":1}",
	    NULL, &err), 0);
	assert_string_equal(r.url.data, "http://h/base/%2E%2E/profile?id=..&q=1");
	assert_string_equal(upreq_url_path(r.url.data, &plen),
	    "/base/%2E%2E/profile?id=..&q=1");
	assert_int_equal(plen, strlen("/base/%2E%2E/profile"));
	tok = strstr(r.lines[1], "Bearer ") + 7;
	dot1 = strchr(tok, '.');
	dot2 = strchr(dot1 + 1, '.');
	assert_true(b64url_decode(dec, sizeof(dec), dot1 + 1,
	    (size_t)(dot2 - dot1 - 1)) > 0);
	claims = json_tokener_parse((const char *)dec);
	assert_non_null(claims);
	assert_true(json_object_object_get_ex(claims, "path", &path));
	assert_string_equal(json_object_get_string(path),
	    "/base/%2E%2E/profile");
	json_object_put(claims);
	upreq_free(&r);
}

static void
test_get_query_and_errors(void **state)
{
	struct fixture	*f = *state;
	struct upreq	 r;
	char		*err = NULL;

	assert_int_equal(build(&r, f->unsigned_proj, EP("GET", "http://h/q",
	    ""), "{\"a\":\"x y\",\"n\":1.5,\"o\":{\"k\":1}}", NULL, &err), 0);
	assert_string_equal(r.url.data, "http://h/q?a=x%20y&n=1.5");
	assert_null(strstr(r.store.data, "Content-Type"));
	upreq_free(&r);

	assert_int_equal(build(&r, f->unsigned_proj, EP("POST",
	    "http://h/u/{args.id}", ""), "{}", NULL, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err, "is missing"));
	free(err);
	upreq_free(&r);

	err = NULL;
	assert_int_equal(build(&r, f->unsigned_proj, EP("POST", "http://h/u",
	    ",\"headers\":[{\"key\":\"X-U\",\"value\":\"args.obj\","
	    "\"op\":\"set\"}]"), "{\"obj\":{\"a\":1}}", NULL, &err), -1);
	assert_non_null(strstr(err, "header variable args.obj"));
	free(err);
	upreq_free(&r);
}

/*
 * The config refuses these names; a registry that holds them anyway
 * (written by hand, or by an older version) still never sends them.
 */
static void
test_forbidden_whatever_the_registry(void **state)
{
	struct fixture		*f = *state;
	struct sy_endpoint	*ep;
	struct upreq_in		 in;
	struct upreq		 r;
	const char		*rec = EP("POST", "http://h/x",
	    ",\"forwardHeaders\":[\"X-F\"]");
	char			*err = NULL, *h, **fwd;
	size_t			 i;

	ep = endpoint_decode(rec, strlen(rec), &err);
	assert_non_null(ep);
	/* what a hostile registry could hold */
	fwd = calloc(4, sizeof(*fwd));
	fwd[0] = strdup("X-SC-Token");
	fwd[1] = strdup("Content-Length");
	fwd[2] = strdup("Host");
	fwd[3] = strdup("X-F");
	for (i = 0; i < ep->nfwd_headers; i++)
		free(ep->fwd_headers[i]);
	free(ep->fwd_headers);
	ep->fwd_headers = fwd;
	ep->nfwd_headers = 4;
	for (i = 0; i < ep->nheaders; i++) {
		free(ep->headers[i].key);
		free(ep->headers[i].value);
	}
	free(ep->headers);
	ep->headers = calloc(2, sizeof(*ep->headers));
	ep->headers[0].op = EP_HDR_SET;
	ep->headers[0].key = strdup("Transfer-Encoding");
	ep->headers[0].value = strdup("chunked");
	ep->headers[0].is_var = 0;
	ep->headers[1].op = EP_HDR_SET;
	ep->headers[1].key = strdup("Host");
	ep->headers[1].value = strdup("args.host");
	ep->headers[1].is_var = 1;
	ep->nheaders = 2;
	memset(&in, 0, sizeof(in));
	in.ep = ep;
	in.proj = f->unsigned_proj;
	in.node_id = "n";
	in.body = "{}";
	in.body_len = 2;
	in.reqid = "rid";
	in.header = client_headers;
	assert_int_equal(upreq_build(&r, &in, &err), 0);
	h = joined(&r, 0);
	assert_string_equal(h, "Authorization: Bearer caller-token|"
	    "X-Request-Id: rid|Content-Type: application/json|"
	    "X-F: forwarded");
	free(h);
	upreq_free(&r);
	endpoint_unref(ep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_operations),
		cmocka_unit_test(test_token_and_sc_token),
		cmocka_unit_test(test_bound_token_path),
		cmocka_unit_test(test_get_query_and_errors),
		cmocka_unit_test(test_forbidden_whatever_the_registry),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, setup, teardown));
}
