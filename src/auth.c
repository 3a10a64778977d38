/*
 * auth.c: caller tokens and the X-SC-Token (SPEC sections 4 and 5): JWT
 * parsing, verification against a key set and signing, with the strict
 * base64url and JSON helpers the auth module shares.  Key sets are
 * built in auth_keyset.c and JWKS documents parsed in auth_jwks.c; every
 * cryptographic operation goes through crypto.c, the only user of
 * OpenSSL.
 *
 * A keyset is a project's "secrets" array compiled once: HMAC secrets
 * copied, PEM keys loaded, the kid of every static secret fixed (its
 * "kid", or the first 16 hex digits of the SHA-256 of the HMAC secret or
 * of the DER public key) and the primary secret chosen: the one marked
 * "isPrimary", or when none is marked the first secret that can sign.
 * A keyset does not change once built.  The master builds one only to
 * validate the config and frees it at once, so it holds no OpenSSL
 * object when it forks; each worker builds its own from the project
 * record (OpenSSL's RNG reseeds itself in a forked child).
 *
 * Space Cloud writes "" for unset members, so "" counts as absent.  An
 * RS256_PUBLIC secret ignores "privateKey" and a JWK_URL secret "kid"
 * (its keys carry their own).  RSA keys shorter than AUTH_MIN_RSA_BITS
 * are refused, in PEM and in JWKS documents alike.
 *
 * Verification trusts the token's header only to choose which secret to
 * try: the header's alg must equal the secret's (so a public key is never
 * used as an HMAC secret and "none" never verifies), HMACs are compared
 * in constant time, base64url is decoded strictly (no padding, unused
 * bits zero: one encoding per token) and nothing is decoded before the
 * length is checked against AUTH_MAX_TOKEN.  Claims are checked only
 * after a signature verified.  Nothing here logs, and no error message
 * carries a token, a secret or a key: config errors name a JSON path.
 *
 * Keysets are built in the master (config validation, where allocation
 * failure may abort) and in workers, so this file uses the checked
 * allocators throughout and reports failure instead of aborting.
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

/* A token split and decoded; the signed input points into the token. */
struct auth_jwt {
	struct json_object	*aj_hdr;
	struct json_object	*aj_claims;
	enum auth_alg		 aj_alg;	/* HS256 or RS256 */
	const char		*aj_kid;	/* borrowed from aj_hdr */
	const char		*aj_input;	/* "header.claims" */
	size_t			 aj_inputlen;
	unsigned char		*aj_sig;
	size_t			 aj_siglen;
};

static const char	 auth_b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * Encoding helpers.
 */

static int
auth_b64val(unsigned char c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(auth_b64chars, c)) == NULL)
		return (-1);
	return ((int)(p - auth_b64chars));
}

/*
 * Strict base64url (RFC 7515 section 2): no padding, nothing outside the
 * alphabet, unused trailing bits zero.  A NUL-terminated copy (caller
 * frees) or NULL.
 */
unsigned char *
auth_b64_decode(const char *s, size_t len, size_t *outlen)
{
	unsigned char	*out;
	uint32_t	 acc = 0;
	size_t		 i, n = 0;
	int		 v, bits = 0;

	if (len % 4 == 1 || (out = malloc(len / 4 * 3 + 3)) == NULL)
		return (NULL);
	for (i = 0; i < len; i++) {
		if ((v = auth_b64val((unsigned char)s[i])) == -1) {
			free(out);
			return (NULL);
		}
		acc = (acc << 6) | (uint32_t)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (acc >> bits) & 0xff;
		}
	}
	if ((acc & ((1U << bits) - 1)) != 0) {
		free(out);
		return (NULL);
	}
	out[n] = '\0';
	*outlen = n;
	return (out);
}

/* Append p as base64url without padding.  0 / -1. */
int
auth_b64_encode(struct sybuf *b, const void *p, size_t len)
{
	const unsigned char	*s = p;
	char			 q[4];
	uint32_t		 v;
	size_t			 i, k;

	for (i = 0; i < len; i += 3) {
		k = len - i < 3 ? len - i : 3;
		v = (uint32_t)s[i] << 16;
		if (k > 1)
			v |= (uint32_t)s[i + 1] << 8;
		if (k > 2)
			v |= s[i + 2];
		q[0] = auth_b64chars[(v >> 18) & 63];
		q[1] = auth_b64chars[(v >> 12) & 63];
		q[2] = auth_b64chars[(v >> 6) & 63];
		q[3] = auth_b64chars[v & 63];
		if (sybuf_add(b, q, k + 1) == -1)
			return (-1);
	}
	return (0);
}

/*
 * Parse len bytes as one JSON object, strictly (RFC 8259, valid UTF-8):
 * nothing but white space may follow it.  NULL if it is anything else.
 */
struct json_object *
auth_json_object(const char *text, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*v;
	size_t			 end;

	if (len > INT_MAX ||
	    (tok = json_tokener_new_ex(AUTH_JSON_DEPTH)) == NULL)
		return (NULL);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	v = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (json_tokener_get_error(tok) != json_tokener_success)
		end = 0;
	json_tokener_free(tok);
	while (v != NULL && end < len && text[end] != '\0' &&
	    strchr(" \t\r\n", text[end]) != NULL)
		end++;
	if (v == NULL || end != len ||
	    !json_object_is_type(v, json_type_object)) {
		json_object_put(v);
		return (NULL);
	}
	return (v);
}

/* Two JSON strings, equal byte for byte (they may hold NULs). */
int
auth_json_streq(struct json_object *a, struct json_object *b)
{
	int	 n;

	if (!json_object_is_type(a, json_type_string) ||
	    !json_object_is_type(b, json_type_string))
		return (0);
	n = json_object_get_string_len(a);
	return (n == json_object_get_string_len(b) &&
	    memcmp(json_object_get_string(a), json_object_get_string(b),
	    (size_t)n) == 0);
}

/*
 * Verification.
 */

static void
auth_jwt_clear(struct auth_jwt *t)
{
	json_object_put(t->aj_hdr);
	json_object_put(t->aj_claims);
	free(t->aj_sig);
}

/* Decode one base64url segment holding a JSON object. */
static struct json_object *
auth_segment_json(const char *s, size_t len)
{
	struct json_object	*v;
	unsigned char		*raw;
	size_t			 n;

	if ((raw = auth_b64_decode(s, len, &n)) == NULL)
		return (NULL);
	v = auth_json_object((const char *)raw, n);
	free(raw);
	return (v);
}

/* The header's alg and kid; "crit" names extensions we do not know. */
static enum auth_result
auth_jwt_header(struct auth_jwt *t)
{
	struct json_object	*alg, *kid;
	const char		*a;

	if (!json_object_object_get_ex(t->aj_hdr, "alg", &alg) ||
	    !json_object_is_type(alg, json_type_string) ||
	    json_object_object_get_ex(t->aj_hdr, "crit", NULL))
		return (AUTH_MALFORMED);
	a = json_object_get_string(alg);
	if (strcmp(a, "HS256") == 0)
		t->aj_alg = AUTH_ALG_HS256;
	else if (strcmp(a, "RS256") == 0)
		t->aj_alg = AUTH_ALG_RS256;
	else
		return (AUTH_BAD_ALG);
	if (json_object_object_get_ex(t->aj_hdr, "kid", &kid) &&
	    kid != NULL) {
		if (!json_object_is_type(kid, json_type_string))
			return (AUTH_MALFORMED);
		t->aj_kid = json_object_get_string(kid);
	}
	return (AUTH_OK);
}

static enum auth_result
auth_jwt_parse(const char *tok, size_t len, struct auth_jwt *t)
{
	const char	*d1, *d2, *end = tok + len;

	memset(t, 0, sizeof(*t));
	if (tok == NULL || len == 0 || len > AUTH_MAX_TOKEN ||
	    (d1 = memchr(tok, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', (size_t)(end - d1 - 1))) == NULL ||
	    memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) != NULL)
		return (AUTH_MALFORMED);
	if ((t->aj_hdr = auth_segment_json(tok, (size_t)(d1 - tok))) == NULL ||
	    (t->aj_claims = auth_segment_json(d1 + 1,
	    (size_t)(d2 - d1 - 1))) == NULL ||
	    (t->aj_sig = auth_b64_decode(d2 + 1, (size_t)(end - d2 - 1),
	    &t->aj_siglen)) == NULL)
		return (AUTH_MALFORMED);
	t->aj_input = tok;
	t->aj_inputlen = (size_t)(d2 - tok);
	return (auth_jwt_header(t));
}

static int
auth_hs256_ok(const struct auth_jwt *t, const struct auth_secret *s)
{
	return (crypto_hs256_verify(s->as_hmac, s->as_hmaclen, t->aj_input,
	    t->aj_inputlen, t->aj_sig, t->aj_siglen));
}

static int
auth_rs256_ok(const struct auth_jwt *t, struct crypto_key *pk)
{
	return (crypto_rs256_verify(pk, t->aj_input, t->aj_inputlen,
	    t->aj_sig, t->aj_siglen));
}

/* Static secret s on t: AUTH_OK, AUTH_BAD_ALG or AUTH_BAD_SIGNATURE. */
static enum auth_result
auth_try_secret(const struct auth_jwt *t, const struct auth_secret *s)
{
	int	 ok;

	if (s->as_alg == AUTH_ALG_JWK_URL)
		return (AUTH_BAD_ALG);
	if (t->aj_alg != (s->as_alg == AUTH_ALG_HS256 ? AUTH_ALG_HS256 :
	    AUTH_ALG_RS256))
		return (AUTH_BAD_ALG);
	if (s->as_alg == AUTH_ALG_HS256)
		ok = auth_hs256_ok(t, s);
	else
		ok = auth_rs256_ok(t, s->as_pub);
	return (ok ? AUTH_OK : AUTH_BAD_SIGNATURE);
}

/* Keep the more telling failure: bad signature, bad alg, then kid. */
static enum auth_result
auth_worst(enum auth_result best, enum auth_result r)
{
	if (best == AUTH_BAD_SIGNATURE || r == AUTH_BAD_SIGNATURE)
		return (AUTH_BAD_SIGNATURE);
	if (best == AUTH_BAD_ALG || r == AUTH_BAD_ALG)
		return (AUTH_BAD_ALG);
	return (best);
}

/*
 * A token with a kid: only the static secrets with that kid and the
 * JWKS keys with it.  *url: the first JWK_URL whose keys lack the kid.
 */
static enum auth_result
auth_verify_kid(const struct auth_keyset *ks, const struct auth_jwt *t,
    auth_jwks_lookup lookup, void *arg, const struct auth_secret **by,
    const char **url)
{
	const struct auth_secret	*s;
	const struct auth_jwks		*jw;
	enum auth_result		 r, best = AUTH_UNKNOWN_KID;
	struct crypto_key		*pk;
	size_t				 i;
	int				 unloaded = 0;

	for (i = 0; i < ks->ks_n; i++) {
		s = &ks->ks_sec[i];
		if (s->as_alg != AUTH_ALG_JWK_URL) {
			if (strcmp(s->as_kid, t->aj_kid) != 0)
				continue;
			r = auth_try_secret(t, s);
		} else if ((jw = lookup != NULL ? lookup(s->as_url, arg) :
		    NULL) == NULL) {
			unloaded = 1;
			continue;
		} else if ((pk = auth_jwks_find(jw, t->aj_kid)) == NULL) {
			if (*url == NULL)
				*url = s->as_url;
			continue;
		} else if (t->aj_alg != AUTH_ALG_RS256)
			r = AUTH_BAD_ALG;
		else
			r = auth_rs256_ok(t, pk) ? AUTH_OK : AUTH_BAD_SIGNATURE;
		if (r == AUTH_OK) {
			*by = s;
			return (AUTH_OK);
		}
		best = auth_worst(best, r);
	}
	if (best == AUTH_UNKNOWN_KID && unloaded)
		return (AUTH_NO_KEYS);
	return (best);
}

/* A token without a kid: each static secret of its alg in turn. */
static enum auth_result
auth_verify_any(const struct auth_keyset *ks, const struct auth_jwt *t,
    const struct auth_secret **by)
{
	enum auth_result	 r, best = AUTH_BAD_ALG;
	size_t			 i;
	int			 jwk = 0;

	for (i = 0; i < ks->ks_n; i++) {
		if (ks->ks_sec[i].as_alg == AUTH_ALG_JWK_URL) {
			jwk = 1;
			continue;
		}
		if ((r = auth_try_secret(t, &ks->ks_sec[i])) == AUTH_OK) {
			*by = &ks->ks_sec[i];
			return (AUTH_OK);
		}
		best = auth_worst(best, r);
	}
	/* JWKS keys are found by kid only */
	if (best == AUTH_BAD_ALG && jwk && t->aj_alg == AUTH_ALG_RS256)
		return (AUTH_UNKNOWN_KID);
	return (best);
}

/* Claim name is absent (0), a number (1, *v) or something else (-1). */
static int
auth_claim_time(struct json_object *c, const char *name, double *v)
{
	struct json_object	*m;

	if (!json_object_object_get_ex(c, name, &m))
		return (0);
	if (!json_object_is_type(m, json_type_int) &&
	    !json_object_is_type(m, json_type_double))
		return (-1);
	*v = json_object_get_double(m);
	return (1);
}

/* Claim name (a string or an array of them) names one of allowed. */
static int
auth_claim_match(struct json_object *c, const char *name,
    struct json_object *allowed)
{
	struct json_object	*m, *x;
	size_t			 i, j, n;

	if (allowed == NULL)
		return (1);
	if (!json_object_object_get_ex(c, name, &m))
		return (0);
	n = json_object_is_type(m, json_type_array) ?
	    json_object_array_length(m) : 1;
	for (i = 0; i < n; i++) {
		x = json_object_is_type(m, json_type_array) ?
		    json_object_array_get_idx(m, i) : m;
		for (j = 0; j < json_object_array_length(allowed); j++)
			if (auth_json_streq(x,
			    json_object_array_get_idx(allowed, j)))
				return (1);
	}
	return (0);
}

static enum auth_result
auth_check_claims(struct json_object *c, const struct auth_secret *s,
    double now, double *exp)
{
	double	 v = 0;
	int	 rc;

	if ((rc = auth_claim_time(c, "exp", &v)) == -1)
		return (AUTH_MALFORMED);
	if (rc == 1 && now > v + AUTH_LEEWAY)
		return (AUTH_EXPIRED);
	*exp = rc == 1 ? v : 0;
	if ((rc = auth_claim_time(c, "nbf", &v)) == -1)
		return (AUTH_MALFORMED);
	if (rc == 1 && now < v - AUTH_LEEWAY)
		return (AUTH_NOT_YET_VALID);
	if (!auth_claim_match(c, "aud", s->as_aud))
		return (AUTH_BAD_AUDIENCE);
	if (!auth_claim_match(c, "iss", s->as_iss))
		return (AUTH_BAD_ISSUER);
	return (AUTH_OK);
}

enum auth_result
auth_verify(const struct auth_keyset *ks, const char *token, size_t len,
    double now, auth_jwks_lookup lookup, void *lookup_arg,
    struct json_object **claims, double *exp, const char **unknown_kid_url)
{
	static const struct auth_keyset	 none;
	const struct auth_secret	*by = NULL;
	struct auth_jwt			 t;
	enum auth_result		 r;
	const char			*url = NULL;
	double				 e = 0;

	*claims = NULL;
	*exp = 0;
	if (unknown_kid_url != NULL)
		*unknown_kid_url = NULL;
	if (ks == NULL)
		ks = &none;
	if ((r = auth_jwt_parse(token, len, &t)) == AUTH_OK)
		r = t.aj_kid != NULL ? auth_verify_kid(ks, &t, lookup,
		    lookup_arg, &by, &url) : auth_verify_any(ks, &t, &by);
	if (r == AUTH_OK && (r = auth_check_claims(t.aj_claims, by, now,
	    &e)) == AUTH_OK) {
		*claims = t.aj_claims;
		t.aj_claims = NULL;
		*exp = e;
	}
	if ((r == AUTH_UNKNOWN_KID || r == AUTH_NO_KEYS) &&
	    unknown_kid_url != NULL)
		*unknown_kid_url = url;
	auth_jwt_clear(&t);
	return (r);
}

const char *
auth_result_str(enum auth_result r)
{
	switch (r) {
	case AUTH_OK:
		return ("ok");
	case AUTH_MALFORMED:
		return ("malformed token");
	case AUTH_BAD_ALG:
		return ("token alg not accepted");
	case AUTH_UNKNOWN_KID:
		return ("unknown token kid");
	case AUTH_BAD_SIGNATURE:
		return ("bad token signature");
	case AUTH_EXPIRED:
		return ("token expired");
	case AUTH_NOT_YET_VALID:
		return ("token not yet valid");
	case AUTH_BAD_AUDIENCE:
		return ("token audience not accepted");
	case AUTH_BAD_ISSUER:
		return ("token issuer not accepted");
	case AUTH_NO_KEYS:
		return ("signing keys not loaded yet");
	}
	return ("unknown token error");
}

/*
 * Signing and hashing.
 */

/*
 * The signature of in with the primary secret s into *sig (caller frees)
 * and *siglen.  0 / -1.
 */
static int
auth_sign_bytes(const struct auth_secret *s, const char *in, size_t len,
    unsigned char **sig, size_t *siglen)
{
	if (s->as_alg == AUTH_ALG_HS256)
		return (crypto_hs256_sign(s->as_hmac, s->as_hmaclen, in, len,
		    sig, siglen));
	return (crypto_rs256_sign(s->as_priv, in, len, sig, siglen));
}

char *
auth_sign(const struct auth_keyset *ks, const char *claims, size_t len)
{
	struct sybuf	 b;
	unsigned char	*sig = NULL;
	size_t		 siglen = 0;
	int		 rc;

	if (ks == NULL || ks->ks_primary == NULL)
		return (NULL);
	sybuf_init(&b);
	rc = sybuf_addstr(&b, ks->ks_header) == -1 ||
	    sybuf_addc(&b, '.') == -1 ||
	    auth_b64_encode(&b, claims, len) == -1 ||
	    auth_sign_bytes(ks->ks_primary, b.data, b.len, &sig,
	    &siglen) == -1 ||
	    sybuf_addc(&b, '.') == -1 ||
	    auth_b64_encode(&b, sig, siglen) == -1 ? -1 : 0;
	if (sig != NULL) {
		crypto_wipe(sig, siglen);
		free(sig);
	}
	if (rc == -1) {
		sybuf_free(&b);
		return (NULL);
	}
	return (sybuf_detach(&b));
}

void
auth_sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char	 md[CRYPTO_SHA256_LEN];

	if (crypto_sha256(buf, len, md) == -1) {
		out[0] = '\0';
		return;
	}
	sy_hex(out, md, sizeof(md));
}

unsigned long long
auth_hash64(const void *buf, size_t len)
{
	unsigned char		 md[CRYPTO_SHA256_LEN];
	unsigned long long	 h = 0;
	size_t			 i;

	if (crypto_sha256(buf, len, md) == -1)
		return (0);
	for (i = 0; i < 8; i++)
		h = (h << 8) | md[i];
	return (h);
}

int
auth_random_hex(char *out, size_t n)
{
	unsigned char	 buf[32];
	size_t		 k, off = 0;

	out[0] = '\0';
	while (n > 0) {
		k = n < sizeof(buf) ? n : sizeof(buf);
		if (crypto_random(buf, k) == -1) {
			out[0] = '\0';
			return (-1);
		}
		sy_hex(out + off, buf, k);
		off += 2 * k;
		n -= k;
	}
	crypto_wipe(buf, sizeof(buf));
	return (0);
}
