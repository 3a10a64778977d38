/*
 * auth.c: caller tokens and the X-SC-Token (SPEC sections 4 and 5): key
 * sets, JWT verification and signing, JWKS documents.  Every
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
#include "crypto.h"
#include "jconf.h"
#include "util.h"

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

/* A keyset being built: where errors go and which secret is at hand. */
struct auth_build {
	struct syerrs	*ab_errs;
	const char	*ab_path;
	size_t		 ab_i;
	int		 ab_failed;
};

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

static void	 auth_err(struct auth_build *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

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
static unsigned char *
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
static int
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

/* A kid from the SHA-256 digest md: AUTH_KID_LEN hex digits, or NULL. */
static char *
auth_kid_hex(const unsigned char md[CRYPTO_SHA256_LEN])
{
	char	 hex[2 * CRYPTO_SHA256_LEN + 1];

	sy_hex(hex, md, CRYPTO_SHA256_LEN);
	return (strndup(hex, AUTH_KID_LEN));
}

/* A kid from the SHA-256 of key, or NULL. */
static char *
auth_kid_derive(const void *key, size_t len)
{
	unsigned char	 md[CRYPTO_SHA256_LEN];

	if (crypto_sha256(key, len, md) == -1)
		return (NULL);
	return (auth_kid_hex(md));
}

/* The derived kid of an RSA key: of its DER SubjectPublicKeyInfo. */
static char *
auth_kid_rsa(struct crypto_key *pk)
{
	unsigned char	 md[CRYPTO_SHA256_LEN];

	if (crypto_key_spki_sha256(pk, md) == -1)
		return (NULL);
	return (auth_kid_hex(md));
}

/*
 * Parse len bytes as one JSON object, strictly (RFC 8259, valid UTF-8):
 * nothing but white space may follow it.  NULL if it is anything else.
 */
static struct json_object *
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
static int
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
 * Compiling a keyset.
 */

/* Report a problem at path[i] or path[i].member. */
static void
auth_err(struct auth_build *ab, const char *member, const char *fmt, ...)
{
	va_list	 ap;
	char	*base;

	base = jconf_strf("%s[%zu]", ab->ab_path, ab->ab_i);
	va_start(ap, fmt);
	jconf_verr(ab->ab_errs, base != NULL ? base : ab->ab_path, member,
	    fmt, ap);
	va_end(ap);
	free(base);
	ab->ab_failed = 1;
}

/*
 * Member name of secret v as a non-empty string: 1 and *out, 0 when it is
 * missing, null or "" (Space Cloud writes "" for unset members), -1 when
 * it has another type (reported).
 */
static int
auth_member_str(struct auth_build *ab, struct json_object *v,
    const char *name, struct json_object **out)
{
	struct json_object	*m;

	*out = NULL;
	if ((m = jconf_get(v, name)) == NULL)
		return (0);
	if (!json_object_is_type(m, json_type_string)) {
		auth_err(ab, name, "must be a string");
		return (-1);
	}
	if (json_object_get_string_len(m) == 0)
		return (0);
	*out = m;
	return (1);
}

/* Member name ("aud", "iss"): an array of strings, or absent. */
static struct json_object *
auth_member_strv(struct auth_build *ab, struct json_object *v,
    const char *name)
{
	struct json_object	*m;
	char			 elem[32];
	size_t			 i, n;

	if ((m = jconf_get(v, name)) == NULL)
		return (NULL);
	if (!json_object_is_type(m, json_type_array)) {
		auth_err(ab, name, "must be an array of strings");
		return (NULL);
	}
	n = json_object_array_length(m);
	for (i = 0; i < n; i++) {
		if (json_object_is_type(json_object_array_get_idx(m, i),
		    json_type_string))
			continue;
		snprintf(elem, sizeof(elem), "%s[%zu]", name, i);
		auth_err(ab, elem, "must be a string");
		return (NULL);
	}
	return (n > 0 ? json_object_get(m) : NULL);
}

static void
auth_compile_hs256(struct auth_build *ab, struct json_object *v,
    struct auth_secret *s)
{
	struct json_object	*m;
	int			 rc;

	if ((rc = auth_member_str(ab, v, "secret", &m)) == 0)
		auth_err(ab, NULL, "missing \"secret\" (HS256 needs a "
		    "non-empty string)");
	if (rc != 1)
		return;
	s->as_hmaclen = (size_t)json_object_get_string_len(m);
	if ((s->as_hmac = malloc(s->as_hmaclen)) == NULL) {
		auth_err(ab, NULL, "out of memory");
		return;
	}
	memcpy(s->as_hmac, json_object_get_string(m), s->as_hmaclen);
	if (s->as_kid == NULL && (s->as_kid = auth_kid_derive(s->as_hmac,
	    s->as_hmaclen)) == NULL)
		auth_err(ab, NULL, "cannot derive a kid");
}

/* Load member name (a PEM key) of v into *pk.  0 / -1 (reported). */
static int
auth_compile_pem(struct auth_build *ab, struct json_object *m,
    const char *name, int private, struct crypto_key **pk)
{
	char	 why[256];

	if ((*pk = crypto_pem_load(json_object_get_string(m), private,
	    AUTH_MIN_RSA_BITS, why, sizeof(why))) == NULL) {
		auth_err(ab, name, "cannot load the PEM key: %s", why);
		return (-1);
	}
	return (0);
}

/* RS256: publicKey verifies, privateKey signs (and verifies if alone). */
static void
auth_compile_rs256(struct auth_build *ab, struct json_object *v,
    struct auth_secret *s)
{
	struct json_object	*pub, *priv = NULL;
	int			 rp, rk = 0;

	rp = auth_member_str(ab, v, "publicKey", &pub);
	if (s->as_alg == AUTH_ALG_RS256)
		rk = auth_member_str(ab, v, "privateKey", &priv);
	if (rp == 0 && rk == 0) {
		auth_err(ab, NULL, "%s", s->as_alg == AUTH_ALG_RS256 ?
		    "missing \"publicKey\" or \"privateKey\" (RS256 needs a "
		    "PEM key)" : "missing \"publicKey\" (RS256_PUBLIC needs "
		    "a PEM public key)");
		return;
	}
	if ((rp == 1 && auth_compile_pem(ab, pub, "publicKey", 0,
	    &s->as_pub) == -1) || (rk == 1 && auth_compile_pem(ab, priv,
	    "privateKey", 1, &s->as_priv) == -1) || rp == -1 || rk == -1)
		return;
	if (s->as_pub != NULL && s->as_priv != NULL &&
	    !crypto_key_eq(s->as_pub, s->as_priv)) {
		auth_err(ab, "publicKey", "does not match \"privateKey\"");
		return;
	}
	if (s->as_pub == NULL) {
		if ((s->as_pub = crypto_key_ref(s->as_priv)) == NULL) {
			auth_err(ab, NULL, "out of memory");
			return;
		}
	}
	if (s->as_kid == NULL && (s->as_kid = auth_kid_rsa(s->as_pub)) == NULL)
		auth_err(ab, NULL, "cannot derive a kid");
}

static void
auth_compile_jwk_url(struct auth_build *ab, struct json_object *v,
    struct auth_secret *s)
{
	struct json_object	*m;
	const char		*u;
	int			 rc;

	if ((rc = auth_member_str(ab, v, "jwkUrl", &m)) == 0)
		auth_err(ab, NULL, "missing \"jwkUrl\" (JWK_URL needs an "
		    "http(s) URL)");
	if (rc != 1)
		return;
	if ((u = jconf_str(m)) == NULL || jconf_url_problem(u) != NULL) {
		auth_err(ab, "jwkUrl", "must be an http:// or https:// URL");
		return;
	}
	if ((s->as_url = strdup(u)) == NULL)
		auth_err(ab, NULL, "out of memory");
}

/* The members every alg shares: kid, isPrimary, aud, iss. */
static void
auth_compile_common(struct auth_build *ab, struct json_object *v,
    struct auth_secret *s)
{
	struct json_object	*m;

	if (auth_member_str(ab, v, "kid", &m) == 1 &&
	    s->as_alg != AUTH_ALG_JWK_URL &&
	    (s->as_kid = strdup(json_object_get_string(m))) == NULL)
		auth_err(ab, NULL, "out of memory");
	if (json_object_object_get_ex(v, "isPrimary", &m) && m != NULL) {
		if (json_object_is_type(m, json_type_boolean))
			s->as_marked = json_object_get_boolean(m);
		else
			auth_err(ab, "isPrimary", "must be true or false");
	}
	s->as_aud = auth_member_strv(ab, v, "aud");
	s->as_iss = auth_member_strv(ab, v, "iss");
}

static void
auth_compile_secret(struct auth_build *ab, struct json_object *v,
    struct auth_secret *s)
{
	static const char *const	 names[] = { "HS256", "RS256",
					    "RS256_PUBLIC", "JWK_URL" };
	struct json_object		*alg;
	const char			*a;
	size_t				 i;

	if (!json_object_is_type(v, json_type_object)) {
		auth_err(ab, NULL, "must be an object");
		return;
	}
	if (!json_object_object_get_ex(v, "alg", &alg) ||
	    !json_object_is_type(alg, json_type_string)) {
		auth_err(ab, NULL, "missing \"alg\" (one of " AUTH_ALGS
		    ", JWK_URL)");
		return;
	}
	a = json_object_get_string(alg);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(a, names[i]) == 0)
			break;
	if (i == sizeof(names) / sizeof(names[0])) {
		auth_err(ab, NULL, "unknown alg \"%.64s\" (use " AUTH_ALGS
		    " or JWK_URL)", a);
		return;
	}
	s->as_alg = (enum auth_alg)i;
	auth_compile_common(ab, v, s);
	if (s->as_alg == AUTH_ALG_HS256)
		auth_compile_hs256(ab, v, s);
	else if (s->as_alg == AUTH_ALG_JWK_URL)
		auth_compile_jwk_url(ab, v, s);
	else
		auth_compile_rs256(ab, v, s);
}

static int
auth_can_sign(const struct auth_secret *s)
{
	return (s->as_alg == AUTH_ALG_HS256 ||
	    (s->as_alg == AUTH_ALG_RS256 && s->as_priv != NULL));
}

/*
 * Choose the primary secret: the one marked, which must be able to sign;
 * when none is marked, the first that can sign (Space Cloud always marks
 * one, so this only serves hand-written configs).
 */
static void
auth_choose_primary(struct auth_build *ab, struct auth_keyset *ks)
{
	struct auth_secret	*s;
	size_t			 i, first = SIZE_MAX;

	for (i = 0; i < ks->ks_n; i++) {
		s = &ks->ks_sec[i];
		if (!s->as_marked)
			continue;
		ab->ab_i = i;
		if (first != SIZE_MAX)
			auth_err(ab, "isPrimary", "only one secret may be "
			    "primary (%s[%zu] is)", ab->ab_path, first);
		else if (!s->as_bad && !auth_can_sign(s))
			auth_err(ab, "isPrimary", "%s", s->as_alg ==
			    AUTH_ALG_RS256 ? "an RS256 secret without "
			    "\"privateKey\" cannot sign" : "RS256_PUBLIC and "
			    "JWK_URL secrets cannot sign; make an HS256 or "
			    "RS256 secret primary");
		else
			ks->ks_primary = s;
		if (first == SIZE_MAX)
			first = i;
	}
	for (i = 0; first == SIZE_MAX && i < ks->ks_n; i++)
		if (!ks->ks_sec[i].as_bad && auth_can_sign(&ks->ks_sec[i])) {
			ks->ks_primary = &ks->ks_sec[i];
			break;
		}
}

/* The base64url header the primary secret signs with.  0 / -1. */
static int
auth_make_header(struct auth_keyset *ks)
{
	struct json_object	*h;
	struct sybuf		 b;
	const char		*text;
	int			 rc = -1;

	if ((h = json_object_new_object()) == NULL)
		return (-1);
	if (json_object_object_add(h, "alg", json_object_new_string(
	    ks->ks_primary->as_alg == AUTH_ALG_HS256 ? "HS256" : "RS256")) ||
	    json_object_object_add(h, "typ", json_object_new_string("JWT")) ||
	    json_object_object_add(h, "kid",
	    json_object_new_string(ks->ks_primary->as_kid)) ||
	    (text = json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL) {
		json_object_put(h);
		return (-1);
	}
	sybuf_init(&b);
	if (auth_b64_encode(&b, text, strlen(text)) == 0 && b.data != NULL) {
		ks->ks_header = sybuf_detach(&b);
		rc = 0;
	}
	sybuf_free(&b);
	json_object_put(h);
	return (rc);
}

/* Compile every element of the secrets array v into ks. */
static void
auth_compile_all(struct auth_build *ab, struct auth_keyset *ks,
    struct json_object *v)
{
	struct auth_secret	*s;
	size_t			 i;
	int			 failed;

	for (i = 0; i < ks->ks_n; i++) {
		s = &ks->ks_sec[i];
		failed = ab->ab_failed;
		ab->ab_failed = 0;
		ab->ab_i = i;
		auth_compile_secret(ab, json_object_array_get_idx(v, i), s);
		s->as_bad = ab->ab_failed;
		ab->ab_failed |= failed;
		if (!s->as_bad && s->as_alg == AUTH_ALG_JWK_URL)
			ks->ks_urls[ks->ks_nurls++] = s->as_url;
	}
}

struct auth_keyset *
auth_keyset_new(struct json_object *v, const char *path,
    struct syerrs *errs)
{
	struct auth_build	 ab;
	struct auth_keyset	*ks;
	size_t			 n = 0;

	if (v != NULL && !json_object_is_type(v, json_type_array)) {
		syerrs_add(errs, path, "must be an array of objects");
		return (NULL);
	}
	if (v != NULL)
		n = json_object_array_length(v);
	ab.ab_errs = errs;
	ab.ab_path = path;
	ab.ab_i = 0;
	ab.ab_failed = 0;
	if ((ks = calloc(1, sizeof(*ks))) == NULL ||
	    (ks->ks_sec = calloc(n + 1, sizeof(*ks->ks_sec))) == NULL ||
	    (ks->ks_urls = calloc(n + 1, sizeof(*ks->ks_urls))) == NULL) {
		syerrs_add(errs, path, "out of memory");
		auth_keyset_free(ks);
		return (NULL);
	}
	ks->ks_n = n;
	auth_compile_all(&ab, ks, v);
	auth_choose_primary(&ab, ks);
	if (!ab.ab_failed && ks->ks_primary != NULL &&
	    auth_make_header(ks) == -1)
		syerrs_add(errs, path, "out of memory");
	else if (!ab.ab_failed)
		return (ks);
	auth_keyset_free(ks);
	return (NULL);
}

void
auth_keyset_free(struct auth_keyset *ks)
{
	struct auth_secret	*s;
	size_t			 i;

	if (ks == NULL)
		return;
	for (i = 0; ks->ks_sec != NULL && i < ks->ks_n; i++) {
		s = &ks->ks_sec[i];
		if (s->as_hmac != NULL)
			crypto_wipe(s->as_hmac, s->as_hmaclen);
		free(s->as_hmac);
		crypto_key_free(s->as_pub);
		crypto_key_free(s->as_priv);
		free(s->as_url);
		free(s->as_kid);
		json_object_put(s->as_aud);
		json_object_put(s->as_iss);
	}
	free(ks->ks_sec);
	free(ks->ks_urls);
	free(ks->ks_header);
	free(ks);
}

int
auth_keyset_can_sign(const struct auth_keyset *ks)
{
	return (ks != NULL && ks->ks_primary != NULL);
}

size_t
auth_keyset_njwks(const struct auth_keyset *ks)
{
	return (ks != NULL ? ks->ks_nurls : 0);
}

const char *
auth_keyset_jwks_url(const struct auth_keyset *ks, size_t i)
{
	return (ks != NULL && i < ks->ks_nurls ? ks->ks_urls[i] : NULL);
}

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

static struct crypto_key *
auth_jwks_find(const struct auth_jwks *jw, const char *kid)
{
	size_t	i;

	for (i = 0; i < jw->jw_n; i++)
		if (strcmp(jw->jw_keys[i].jk_kid, kid) == 0)
			return (jw->jw_keys[i].jk_key);
	return (NULL);
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
