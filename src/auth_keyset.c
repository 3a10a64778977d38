/*
 * auth_keyset.c: a project's "secrets" array compiled into a key set
 * (SPEC section 3 and 5): HMAC secrets copied, PEM keys loaded through
 * crypto.c, kids derived, the primary secret chosen and its JWT header
 * written once.  Every problem is reported with its JSON path; a key set
 * does not change once built.  Runs in the master (checking only) and
 * in workers, so nothing aborts.
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
#include "jconf.h"
#include "util.h"

/* A keyset being built: where errors go and which secret is at hand. */
struct auth_build {
	struct syerrs	*ab_errs;
	const char	*ab_path;
	size_t		 ab_i;
	int		 ab_failed;
};

static void	 auth_err(struct auth_build *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

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
