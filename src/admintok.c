/*
 * admintok.c: admin tokens for the config API (SPEC 9.6) on top of the
 * caller-token code of auth.c: the admin secret is compiled into a key
 * set of its own, {"alg":"HS256","kid":"sc-admin-kid","isPrimary":true},
 * so that signing, the constant-time HMAC check, the alg check (never
 * "none", never HS512) and exp with its 30 s leeway are the ones every
 * caller token goes through.  On top of that a token must carry an exp,
 * role "admin" and the configured user as id.
 *
 * Invariants: the admin key set is never a project's, and a project's
 * is never used here, so admin and caller tokens cannot stand in for
 * each other; the secret is wiped when the checker is freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "admintok.h"
#include "auth.h"
#include "crypto.h"
#include "util.h"

struct admintok {
	struct auth_keyset	*at_keys;
	char			*at_user;
	double			 at_lifetime;
	int			 at_console;
	int			 at_haskey;
	unsigned char		 at_user_md[CRYPTO_SHA256_LEN];
	unsigned char		 at_key_md[CRYPTO_SHA256_LEN];
};

struct admintok *
admintok_new(const char *user, const char *secret, double lifetime)
{
	struct admintok		*at;
	struct json_object	*arr, *s;
	struct syerrs		 errs;
	char			*sec;

	if ((at = calloc(1, sizeof(*at))) == NULL ||
	    (at->at_user = strdup(user)) == NULL) {
		free(at);
		return (NULL);
	}
	at->at_lifetime = lifetime;
	if (crypto_sha256(user, strlen(user), at->at_user_md) == -1) {
		admintok_free(at);
		return (NULL);
	}
	arr = json_object_new_array();
	s = json_object_new_object();
	json_object_object_add(s, "alg", json_object_new_string("HS256"));
	json_object_object_add(s, "secret", json_object_new_string(secret));
	json_object_object_add(s, "kid", json_object_new_string(
	    ADMINTOK_KID));
	json_object_object_add(s, "isPrimary", json_object_new_boolean(1));
	json_object_array_add(arr, s);
	syerrs_init(&errs);
	at->at_keys = auth_keyset_new(arr, "server.admin.secret", &errs);
	syerrs_free(&errs);
	/* json-c's copy of the secret is wiped before it is freed */
	sec = (char *)json_object_get_string(json_object_object_get(s,
	    "secret"));
	crypto_wipe(sec, strlen(sec));
	json_object_put(arr);
	if (at->at_keys == NULL) {
		admintok_free(at);
		return (NULL);
	}
	return (at);
}

void
admintok_free(struct admintok *at)
{
	if (at == NULL)
		return;
	auth_keyset_free(at->at_keys);
	free(at->at_user);
	crypto_wipe(at->at_key_md, sizeof(at->at_key_md));
	free(at);
}

static const char *
admintok_rec_str(struct json_object *o, const char *name)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return (NULL);
	return (json_object_get_string(v));
}

struct admintok *
admintok_from_record(const char *json, size_t len)
{
	struct json_object	*o, *v;
	struct json_tokener	*tok;
	struct admintok		*at = NULL;
	const char		*user, *md, *secret;
	double			 life = 0;
	size_t			 i;

	if ((tok = json_tokener_new()) == NULL)
		return (NULL);
	o = json_tokener_parse_ex(tok, json, (int)len);
	json_tokener_free(tok);
	user = admintok_rec_str(o, "user");
	md = admintok_rec_str(o, "keySha256");
	secret = admintok_rec_str(o, "secret");
	if (json_object_object_get_ex(o, "tokenLifetime", &v))
		life = json_object_get_double(v);
	if (user != NULL && md != NULL && strlen(md) == 2 *
	    CRYPTO_SHA256_LEN && secret != NULL && life > 0 &&
	    (at = admintok_new(user, secret, life)) != NULL) {
		for (i = 0; i < CRYPTO_SHA256_LEN; i++)
			at->at_key_md[i] = (unsigned char)(sy_hexval(md[2 *
			    i]) << 4 | sy_hexval(md[2 * i + 1]));
		at->at_haskey = 1;
		at->at_console = json_object_object_get_ex(o, "console", &v) &&
		    json_object_get_boolean(v);
	}
	if (secret != NULL)
		crypto_wipe((char *)secret, strlen(secret));
	json_object_put(o);
	return (at);
}

int
admintok_login_ok(const struct admintok *at, const char *user, size_t ulen,
    const char *key, size_t klen)
{
	unsigned char	u[CRYPTO_SHA256_LEN], k[CRYPTO_SHA256_LEN], d = 0;
	size_t		i;

	if (!at->at_haskey || crypto_sha256(user, ulen, u) == -1 ||
	    crypto_sha256(key, klen, k) == -1)
		return (0);
	for (i = 0; i < CRYPTO_SHA256_LEN; i++)
		d |= (u[i] ^ at->at_user_md[i]) | (k[i] ^ at->at_key_md[i]);
	crypto_wipe(k, sizeof(k));
	return (d == 0);
}

const char *
admintok_user(const struct admintok *at)
{
	return (at->at_user);
}

int
admintok_console(const struct admintok *at)
{
	return (at->at_console);
}

char *
admintok_issue(const struct admintok *at, double now)
{
	struct json_object	*c;
	const char		*text;
	char			*tok;
	long long		 iat = (long long)now;

	c = json_object_new_object();
	json_object_object_add(c, "id", json_object_new_string(at->at_user));
	json_object_object_add(c, "role", json_object_new_string("admin"));
	json_object_object_add(c, "iat", json_object_new_int64(iat));
	json_object_object_add(c, "exp", json_object_new_int64(iat +
	    (long long)at->at_lifetime));
	text = json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	tok = text != NULL ? auth_sign(at->at_keys, text, strlen(text)) :
	    NULL;
	json_object_put(c);
	return (tok);
}

static const char *
admintok_claim_str(struct json_object *claims, const char *name)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(claims, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return (NULL);
	return (json_object_get_string(v));
}

enum admintok_result
admintok_check(const struct admintok *at, const char *token, size_t len,
    double now)
{
	struct json_object	*claims = NULL;
	const char		*url, *role, *id;
	double			 exp;
	enum admintok_result	 r = ADMINTOK_OK;

	switch (auth_verify(at->at_keys, token, len, now, NULL, NULL,
	    &claims, &exp, &url)) {
	case AUTH_OK:
		break;
	case AUTH_BAD_ALG:
		return (ADMINTOK_BAD_ALG);
	case AUTH_BAD_SIGNATURE:
	case AUTH_UNKNOWN_KID:
		return (ADMINTOK_BAD_SIGNATURE);
	case AUTH_EXPIRED:
	case AUTH_NOT_YET_VALID:
		return (ADMINTOK_EXPIRED);
	default:
		return (ADMINTOK_MALFORMED);
	}
	role = admintok_claim_str(claims, "role");
	id = admintok_claim_str(claims, "id");
	if (exp == 0)
		r = ADMINTOK_EXPIRED;
	else if (role == NULL || strcmp(role, "admin") != 0 || id == NULL ||
	    strcmp(id, at->at_user) != 0)
		r = ADMINTOK_NOT_ADMIN;
	json_object_put(claims);
	return (r);
}

const char *
admintok_result_str(enum admintok_result r)
{
	switch (r) {
	case ADMINTOK_OK:
		return ("ok");
	case ADMINTOK_MALFORMED:
		return ("malformed token");
	case ADMINTOK_BAD_ALG:
		return ("wrong alg");
	case ADMINTOK_BAD_SIGNATURE:
		return ("bad signature");
	case ADMINTOK_EXPIRED:
		return ("expired token");
	case ADMINTOK_NOT_ADMIN:
		return ("not an admin token");
	}
	return ("bad token");
}
