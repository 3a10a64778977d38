/*
 * auth.h: tokens (SPEC section 5 and the X-SC-Token of section 4): JWT
 * parsing, HS256/RS256 verification with constant-time comparison,
 * HS256/RS256 signing, PEM and JWKS keys, SHA-256.  The cryptography
 * itself is crypto.c's, the only user of OpenSSL.
 */
#ifndef SY_AUTH_H
#define SY_AUTH_H

#include <stddef.h>

struct json_object;
struct syerrs;

enum auth_result {
	AUTH_OK = 0,
	AUTH_MALFORMED,		/* not three base64url parts of JSON, ... */
	AUTH_BAD_ALG,		/* "none", or not the secret's alg */
	AUTH_UNKNOWN_KID,	/* no secret or JWKS key with that kid */
	AUTH_BAD_SIGNATURE,
	AUTH_EXPIRED,		/* exp + leeway passed */
	AUTH_NOT_YET_VALID,	/* nbf - leeway in the future */
	AUTH_BAD_AUDIENCE,
	AUTH_BAD_ISSUER,
	AUTH_NO_KEYS		/* JWK_URL keys not loaded yet */
};

#define AUTH_LEEWAY		30	/* seconds of clock skew for exp/nbf */
#define AUTH_MAX_TOKEN		8192	/* longer tokens are malformed */

/* A project's secrets, compiled: keys loaded, kids derived. */
struct auth_keyset;
/* Keys fetched from a JWK_URL (a JWKS document), parsed. */
struct auth_jwks;

/*
 * Compile a project's "secrets" array (SPEC section 3) found at JSON path
 * `path` (e.g. "projects.p.secrets").  Every problem is appended to errs
 * with its path (unknown alg, missing secret/publicKey/privateKey/jwkUrl,
 * a PEM key that does not load, aud/iss not arrays of strings, more than
 * one isPrimary, a primary secret that cannot sign: RS256_PUBLIC or
 * JWK_URL).  NULL on error.  v may be NULL (no secrets).  Caller frees.
 */
struct auth_keyset	*auth_keyset_new(struct json_object *v, const char *path,
			    struct syerrs *errs);
void			 auth_keyset_free(struct auth_keyset *);

/* 1 when a primary secret can sign the X-SC-Token. */
int			 auth_keyset_can_sign(const struct auth_keyset *);
/* The number of JWK_URL secrets, and the i-th one's URL (borrowed). */
size_t			 auth_keyset_njwks(const struct auth_keyset *);
const char		*auth_keyset_jwks_url(const struct auth_keyset *,
			    size_t i);

/* Parse a JWKS document (RSA keys with "kid", "n", "e").  NULL + *err. */
struct auth_jwks	*auth_jwks_parse(const char *json, size_t len,
			    char **err);
void			 auth_jwks_free(struct auth_jwks *);
size_t			 auth_jwks_count(const struct auth_jwks *);

/*
 * Returns the parsed keys currently known for a JWK_URL (borrowed), or
 * NULL when none have been loaded.
 */
typedef const struct auth_jwks *(*auth_jwks_lookup)(const char *url,
			    void *arg);

/*
 * Verify a caller token (the part after "Bearer ") at time now (Unix
 * seconds).  The header's alg must equal the verifying secret's alg
 * (RS256_PUBLIC and JWK_URL verify "RS256"); with a kid only the secret
 * or JWKS key with that kid is tried, without one every static secret in
 * turn.  exp/nbf with AUTH_LEEWAY; aud/iss when the secret lists them.
 * On AUTH_OK, *claims is the parsed claims object (caller puts) and *exp
 * its exp (0 when absent).  *unknown_kid_url is set (borrowed) to the
 * JWK_URL that was missing the token's kid, so that the caller can
 * refresh it; else NULL.
 */
enum auth_result	 auth_verify(const struct auth_keyset *, const char *token,
			    size_t len, double now, auth_jwks_lookup lookup,
			    void *lookup_arg, struct json_object **claims,
			    double *exp, const char **unknown_kid_url);
const char		*auth_result_str(enum auth_result);

/*
 * Sign claims (a JSON object's text) with the primary secret: HS256 or
 * RS256, header {"alg","typ":"JWT","kid"} where kid is the secret's kid
 * or, when it has none, the first 16 hex digits of the SHA-256 of the key
 * (the HMAC secret, or the DER public key).  Returns "h.p.s" (caller
 * frees) or NULL.
 */
char			*auth_sign(const struct auth_keyset *, const char *claims,
			    size_t len);

/* Lower-case hex SHA-256 of buf into out (65 bytes with the NUL). */
void			 auth_sha256_hex(const void *buf, size_t len,
			    char out[65]);
/* A 64-bit hash of buf (first 8 bytes of its SHA-256), for caches. */
unsigned long long	 auth_hash64(const void *buf, size_t len);
/* n random bytes as hex into out (2n+1 bytes). 0 / -1. */
int			 auth_random_hex(char *out, size_t n);

#endif
