/*
 * auth_int.h: what the files of the auth module share (auth.c: JWTs,
 * auth_keyset.c: key sets, auth_jwks.c: JWKS documents): the compiled
 * secrets and keys, and the strict base64url and JSON helpers.  Not for
 * other modules: they use auth.h.
 */
#ifndef SY_AUTH_INT_H
#define SY_AUTH_INT_H

#include <stddef.h>

#include "auth.h"
#include "crypto.h"
#include "util.h"

struct json_object;

#define AUTH_MIN_RSA_BITS	2048	/* shorter RSA keys are refused */
#define AUTH_MAX_RSA_BYTES	2048	/* a JWKS modulus longer is junk */
#define AUTH_JSON_DEPTH		32
#define AUTH_KID_LEN		16	/* hex digits of a derived kid */
#define AUTH_ALGS		"HS256, RS256, RS256_PUBLIC"

enum auth_alg {
	AUTH_ALG_HS256,
	AUTH_ALG_RS256,
	AUTH_ALG_RS256_PUBLIC,
	AUTH_ALG_JWK_URL
};

struct auth_secret {
	enum auth_alg		  as_alg;
	unsigned char		 *as_hmac;	/* HS256: the secret */
	size_t			  as_hmaclen;
	struct crypto_key *as_pub;	/* RS256*: verifies */
	struct crypto_key *as_priv;	/* RS256: signs */
	char			 *as_url;	/* JWK_URL */
	char			 *as_kid;	/* static secrets */
	struct json_object	 *as_aud;	/* array of strings or NULL */
	struct json_object	 *as_iss;
	int			  as_marked;	/* "isPrimary": true */
	int			  as_bad;	/* did not compile */
};

struct auth_keyset {
	struct auth_secret	 *ks_sec;
	size_t			  ks_n;
	struct auth_secret	 *ks_primary;	/* NULL: cannot sign */
	char			 *ks_header;	/* primary's, base64url */
	const char		**ks_urls;	/* of the JWK_URL secrets */
	size_t			  ks_nurls;
};

struct auth_jwk {
	char		*jk_kid;
	struct crypto_key *jk_key;
};

struct auth_jwks {
	struct auth_jwk	*jw_keys;
	size_t		 jw_n;
};

/* auth.c */
/* Append p as base64url without padding.  0 / -1. */
int	 auth_b64_encode(struct sybuf *b, const void *p, size_t len);
/* Strict base64url, a NUL-terminated copy (caller frees) or NULL. */
unsigned char *auth_b64_decode(const char *s, size_t len, size_t *outlen);
/* len bytes as exactly one JSON object (caller puts), strictly, or NULL. */
struct json_object *auth_json_object(const char *text, size_t len);
/* Two JSON strings, equal byte for byte. */
int	 auth_json_streq(struct json_object *a, struct json_object *b);

/* auth_jwks.c */
/* The key of jw with that kid (borrowed), or NULL. */
struct crypto_key *auth_jwks_find(const struct auth_jwks *jw,
	    const char *kid);

#endif
