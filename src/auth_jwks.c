/*
 * auth_jwks.c: JWKS documents (RFC 7517) fetched from a JWK_URL, parsed
 * into RSA verification keys by kid.  A document is untrusted input: it
 * is parsed strictly, keys that are not RS256 signing keys, that repeat
 * a kid or whose modulus is junk are skipped, and nothing aborts.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "auth.h"
#include "auth_int.h"
#include "crypto.h"
#include "util.h"

/*
 * JWKS documents.
 */

/* A JWK member: base64url, where JWKS publishers sometimes pad. */
static unsigned char *
auth_jwk_bytes(struct json_object *k, const char *name, size_t *len)
{
	struct json_object	*m;
	const char		*s;
	size_t			 n;

	if (!json_object_object_get_ex(k, name, &m) ||
	    !json_object_is_type(m, json_type_string))
		return (NULL);
	s = json_object_get_string(m);
	n = (size_t)json_object_get_string_len(m);
	while (n > 0 && s[n - 1] == '=')
		n--;
	return (auth_b64_decode(s, n, len));
}

/* Member name of k is absent or the string want. */
static int
auth_jwk_is(struct json_object *k, const char *name, const char *want)
{
	struct json_object	*m;

	if (!json_object_object_get_ex(k, name, &m))
		return (1);
	return (json_object_is_type(m, json_type_string) &&
	    strcmp(json_object_get_string(m), want) == 0);
}

/* The RSA signing key k, or NULL to skip it. */
static struct crypto_key *
auth_jwk_key(struct json_object *k)
{
	struct json_object	*kty;
	unsigned char		*n = NULL, *e = NULL;
	size_t			 nlen, elen;
	struct crypto_key	*pk = NULL;

	if (!json_object_is_type(k, json_type_object) ||
	    !json_object_object_get_ex(k, "kty", &kty) ||
	    !auth_jwk_is(k, "kty", "RSA") || !auth_jwk_is(k, "use", "sig") ||
	    !auth_jwk_is(k, "alg", "RS256"))
		return (NULL);
	if ((n = auth_jwk_bytes(k, "n", &nlen)) != NULL &&
	    (e = auth_jwk_bytes(k, "e", &elen)) != NULL)
		pk = crypto_rsa_from_ne(n, nlen, e, elen, AUTH_MIN_RSA_BITS,
		    AUTH_MAX_RSA_BYTES);
	free(n);
	free(e);
	return (pk);
}

/* The kid of JWK k, if it is a non-empty string not yet in jw. */
static const char *
auth_jwk_kid(const struct auth_jwks *jw, struct json_object *k)
{
	struct json_object	*m;
	const char		*kid;
	size_t			 i;

	if (!json_object_is_type(k, json_type_object) ||
	    !json_object_object_get_ex(k, "kid", &m) ||
	    !json_object_is_type(m, json_type_string) ||
	    *(kid = json_object_get_string(m)) == '\0')
		return (NULL);
	for (i = 0; i < jw->jw_n; i++)
		if (strcmp(jw->jw_keys[i].jk_kid, kid) == 0)
			return (NULL);
	return (kid);
}

static void
auth_jwks_add(struct auth_jwks *jw, struct json_object *keys)
{
	struct json_object	*k;
	struct auth_jwk		*jk;
	const char		*kid;
	size_t			 i;

	for (i = 0; i < json_object_array_length(keys); i++) {
		k = json_object_array_get_idx(keys, i);
		if ((kid = auth_jwk_kid(jw, k)) == NULL)
			continue;
		jk = &jw->jw_keys[jw->jw_n];
		if ((jk->jk_key = auth_jwk_key(k)) == NULL)
			continue;
		if ((jk->jk_kid = strdup(kid)) == NULL) {
			crypto_key_free(jk->jk_key);
			continue;
		}
		jw->jw_n++;
	}
}

struct auth_jwks *
auth_jwks_parse(const char *json, size_t len, char **err)
{
	struct json_object	*doc, *keys;
	struct auth_jwks	*jw = NULL;
	const char		*why = NULL;

	*err = NULL;
	if ((doc = auth_json_object(json, len)) == NULL)
		why = "not a JSON object";
	else if (!json_object_object_get_ex(doc, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array))
		why = "no \"keys\" array";
	else if ((jw = calloc(1, sizeof(*jw))) == NULL ||
	    (jw->jw_keys = calloc(json_object_array_length(keys) + 1,
	    sizeof(*jw->jw_keys))) == NULL)
		why = "out of memory";
	else {
		auth_jwks_add(jw, keys);
		if (jw->jw_n == 0)
			why = "no usable key (an RSA signing key with \"kid\", "
			    "\"n\" and \"e\", of at least 2048 bits)";
	}
	json_object_put(doc);
	if (why == NULL)
		return (jw);
	auth_jwks_free(jw);
	*err = strdup(why);
	return (NULL);
}

void
auth_jwks_free(struct auth_jwks *jw)
{
	size_t	i;

	if (jw == NULL)
		return;
	for (i = 0; i < jw->jw_n; i++) {
		free(jw->jw_keys[i].jk_kid);
		crypto_key_free(jw->jw_keys[i].jk_key);
	}
	free(jw->jw_keys);
	free(jw);
}

size_t
auth_jwks_count(const struct auth_jwks *jw)
{
	return (jw != NULL ? jw->jw_n : 0);
}

struct crypto_key *
auth_jwks_find(const struct auth_jwks *jw, const char *kid)
{
	size_t	i;

	for (i = 0; i < jw->jw_n; i++)
		if (strcmp(jw->jw_keys[i].jk_kid, kid) == 0)
			return (jw->jw_keys[i].jk_key);
	return (NULL);
}
