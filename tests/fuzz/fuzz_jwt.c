/*
 * fuzz_jwt.c: the JWT parser and verifier (auth_verify) and the JWKS
 * parser, against a fixed keyset: an HS256 secret with audiences and
 * issuers, and a JWK_URL secret.
 *
 * The first byte picks what the rest is:
 *   even: a token as it would arrive, and a JWKS document;
 *   odd:  "header\0claims", two JSON texts that are base64url-encoded
 *         and signed with the HS256 secret, so that the header and claim
 *         checks behind the signature are reached.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "util.h"

#define FUZZ_SECRET	"fuzz-secret"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct auth_keyset	*ks;
static struct auth_jwks		*jk;

static const struct auth_jwks *
lookup(const char *url, void *arg)
{
	return (jk);
}

static void
setup(void)
{
	struct json_object	*v;
	struct syerrs		 errs;
	static const char	 jwks[] = "{\"keys\":[{\"kty\":\"oct\","
	    "\"kid\":\"k1\",\"k\":\"c2VjcmV0\"}]}";
	char			*err = NULL;

	v = json_tokener_parse("[{\"alg\":\"HS256\",\"secret\":\""
	    FUZZ_SECRET "\",\"isPrimary\":true,\"aud\":[\"a1\",\"a2\"],"
	    "\"iss\":[\"i1\"]},{\"alg\":\"JWK_URL\","
	    "\"jwkUrl\":\"http://127.0.0.1:1/jwks\"}]");
	syerrs_init(&errs);
	ks = auth_keyset_new(v, "secrets", &errs);
	syerrs_free(&errs);
	json_object_put(v);
	if (ks == NULL)
		abort();
	jk = auth_jwks_parse(jwks, sizeof(jwks) - 1, &err);
	free(err);
}

/* Append the base64url form of buf (no padding) at out; return its end. */
static char *
b64url(char *out, const unsigned char *buf, size_t len)
{
	int	n;
	char	*p;

	n = EVP_EncodeBlock((unsigned char *)out, buf, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	for (p = out; p < out + n; p++)
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	return (out + n);
}

static void
verify(const char *tok, size_t len)
{
	struct json_object	*claims = NULL;
	const char		*url;
	double			 exp;

	if (auth_verify(ks, tok, len, 1.7e9, lookup, NULL, &claims, &exp,
	    &url) == AUTH_OK)
		json_object_put(claims);
}

static void
signed_token(const uint8_t *data, size_t size)
{
	const uint8_t	*nul;
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen;
	char		*tok, *p;
	size_t		 hlen;

	if ((nul = memchr(data, '\0', size)) == NULL)
		return;
	hlen = nul - data;
	if ((tok = malloc(size / 3 * 4 + 128)) == NULL)
		abort();
	p = b64url(tok, data, hlen);
	*p++ = '.';
	p = b64url(p, nul + 1, size - hlen - 1);
	HMAC(EVP_sha256(), FUZZ_SECRET, sizeof(FUZZ_SECRET) - 1,
	    (unsigned char *)tok, p - tok, mac, &maclen);
	*p++ = '.';
	p = b64url(p, mac, maclen);
	verify(tok, p - tok);
	free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_jwks	*j;
	char			*err = NULL;

	if (ks == NULL)
		setup();
	if (size == 0)
		return (0);
	if (data[0] & 1) {
		signed_token(data + 1, size - 1);
		return (0);
	}
	verify((const char *)data + 1, size - 1);
	if ((j = auth_jwks_parse((const char *)data + 1, size - 1,
	    &err)) != NULL)
		auth_jwks_free(j);
	free(err);
	return (0);
}
