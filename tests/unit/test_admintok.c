/*
 * test_admintok.c: admin tokens of the config API, against SPEC 9.6:
 * the header and claims, the lifetime, and every token that must be
 * refused (another secret, alg none, HS512, expired past the leeway,
 * another user, another role, a project's caller token).
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

#include "admintok.h"
#include "auth.h"
#include "cfadmin.h"
#include "config.h"
#include "auth_int.h"
#include "crypto.h"
#include "util.h"

#define SECRET	"0123456789abcdef0123456789abcdef-admin"
#define NOW	1700000000.0

static char *
b64(const char *s)
{
	struct sybuf	b;

	sybuf_init(&b);
	assert_int_equal(auth_b64_encode(&b, s, strlen(s)), 0);
	assert_int_equal(sybuf_addc(&b, '\0'), 0);
	return (sybuf_detach(&b));
}

static struct json_object *
part(const char *tok, int n)
{
	const char		*p = tok, *end;
	unsigned char		*dec;
	size_t			 len;
	struct json_object	*o;

	while (n-- > 0)
		p = strchr(p, '.') + 1;
	end = strchr(p, '.');
	dec = auth_b64_decode(p, (size_t)(end - p), &len);
	assert_non_null(dec);
	o = json_tokener_parse((char *)dec);
	free(dec);
	assert_non_null(o);
	return (o);
}

/* A token with any header and claims, HS256-signed with secret. */
static char *
forge(const char *hdr, const char *claims, const char *secret)
{
	char		*h = b64(hdr), *c = b64(claims), *si, *out;
	unsigned char	*sig;
	size_t		 siglen;
	struct sybuf	 b;

	assert_true(asprintf(&si, "%s.%s", h, c) > 0);
	assert_int_equal(crypto_hs256_sign(secret, strlen(secret), si,
	    strlen(si), &sig, &siglen), 0);
	sybuf_init(&b);
	sybuf_addstr(&b, si);
	sybuf_addc(&b, '.');
	auth_b64_encode(&b, sig, siglen);
	sybuf_addc(&b, '\0');
	out = sybuf_detach(&b);
	free(h);
	free(c);
	free(si);
	free(sig);
	return (out);
}

static enum admintok_result
check(struct admintok *at, const char *tok, double now)
{
	return (admintok_check(at, tok, strlen(tok), now));
}

static void
test_issue(void **state)
{
	struct admintok		*at = admintok_new("admin", SECRET, 3600);
	struct json_object	*h, *c;
	char			*tok;

	(void)state;
	tok = admintok_issue(at, NOW + 0.7);
	assert_non_null(tok);
	h = part(tok, 0);
	c = part(tok, 1);
	assert_string_equal(json_object_to_json_string_ext(h,
	    JSON_C_TO_STRING_PLAIN),
	    "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"sc-admin-kid\"}");
	assert_string_equal(json_object_to_json_string_ext(c,
	    JSON_C_TO_STRING_PLAIN), "{\"id\":\"admin\",\"role\":\"admin\","
	    "\"iat\":1700000000,\"exp\":1700003600}");
	assert_int_equal(check(at, tok, NOW), ADMINTOK_OK);
	/* 30 s of leeway past exp, not more */
	assert_int_equal(check(at, tok, NOW + 3600 + 29), ADMINTOK_OK);
	assert_int_equal(check(at, tok, NOW + 3600 + 60), ADMINTOK_EXPIRED);
	json_object_put(h);
	json_object_put(c);
	free(tok);
	admintok_free(at);
}

static void
test_refused(void **state)
{
	struct admintok	*at = admintok_new("admin", SECRET, 3600);
	struct admintok	*other = admintok_new("admin", SECRET "2", 3600);
	struct admintok	*root = admintok_new("root", SECRET, 3600);
	const char	*hdr = "{\"alg\":\"HS256\",\"typ\":\"JWT\","
			    "\"kid\":\"sc-admin-kid\"}";
	char		*tok;

	(void)state;
	/* another secret; another user (a changed user) */
	tok = admintok_issue(other, NOW);
	assert_int_equal(check(at, tok, NOW), ADMINTOK_BAD_SIGNATURE);
	free(tok);
	tok = admintok_issue(root, NOW);
	assert_int_equal(check(at, tok, NOW), ADMINTOK_NOT_ADMIN);
	free(tok);
	/* a caller-shaped token with the right secret: no role admin */
	tok = forge(hdr, "{\"id\":\"admin\",\"role\":\"user\",\"exp\":"
	    "1700003600}", SECRET);
	assert_int_equal(check(at, tok, NOW), ADMINTOK_NOT_ADMIN);
	free(tok);
	/* no exp */
	tok = forge(hdr, "{\"id\":\"admin\",\"role\":\"admin\"}", SECRET);
	assert_int_equal(check(at, tok, NOW), ADMINTOK_EXPIRED);
	free(tok);
	/* HS512 and none in the header */
	tok = forge("{\"alg\":\"HS512\",\"kid\":\"sc-admin-kid\"}",
	    "{\"id\":\"admin\",\"role\":\"admin\",\"exp\":1700003600}",
	    SECRET);
	assert_int_equal(check(at, tok, NOW), ADMINTOK_BAD_ALG);
	free(tok);
	tok = forge("{\"alg\":\"none\"}",
	    "{\"id\":\"admin\",\"role\":\"admin\",\"exp\":1700003600}",
	    SECRET);
	assert_int_not_equal(check(at, tok, NOW), ADMINTOK_OK);
	free(tok);
	assert_int_equal(check(at, "not-a-token", NOW), ADMINTOK_MALFORMED);
	admintok_free(at);
	admintok_free(other);
	admintok_free(root);
}

/*
 * The credentials travel to workers in the registry (cfadmin_record):
 * what comes back checks logins in full and signs the same tokens.
 */
static void
test_record(void **state)
{
	struct sy_server	 srv;
	struct admintok		*at, *ref;
	char			*rec, *tok;

	(void)state;
	memset(&srv, 0, sizeof(srv));
	assert_null(cfadmin_record(&srv));
	srv.admin_api = 1;
	srv.admin_user = "admin";
	srv.admin_key = "a-long-admin-key";
	srv.admin_secret = SECRET;
	srv.admin_token_lifetime = 600;
	srv.admin_console = 1;
	rec = cfadmin_record(&srv);
	assert_non_null(rec);
	assert_null(strstr(rec, "a-long-admin-key"));
	at = admintok_from_record(rec, strlen(rec));
	assert_non_null(at);
	assert_string_equal(admintok_user(at), "admin");
	assert_int_equal(admintok_console(at), 1);
	assert_int_equal(admintok_login_ok(at, "admin", 5,
	    "a-long-admin-key", 16), 1);
	assert_int_equal(admintok_login_ok(at, "admin", 5,
	    "a-long-admin-kez", 16), 0);
	assert_int_equal(admintok_login_ok(at, "admin", 5,
	    "a-long-admin-key-", 17), 0);
	assert_int_equal(admintok_login_ok(at, "admim", 5,
	    "a-long-admin-key", 16), 0);
	assert_int_equal(admintok_login_ok(at, "", 0, "", 0), 0);
	/* the same tokens as a checker made from the settings */
	ref = admintok_new("admin", SECRET, 600);
	tok = admintok_issue(at, NOW);
	assert_int_equal(check(ref, tok, NOW + 599), ADMINTOK_OK);
	assert_int_equal(check(ref, tok, NOW + 700), ADMINTOK_EXPIRED);
	free(tok);
	/* a checker without a key never lets a login in */
	assert_int_equal(admintok_login_ok(ref, "admin", 5,
	    "a-long-admin-key", 16), 0);
	admintok_free(ref);
	admintok_free(at);
	explicit_bzero(rec, strlen(rec));
	free(rec);
	assert_null(admintok_from_record("{\"user\":\"a\"}", 12));
	assert_null(admintok_from_record("junk", 4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_record),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
