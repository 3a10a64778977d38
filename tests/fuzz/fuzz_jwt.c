/*
 * fuzz_jwt.c: the JWT parser and verifier (auth_verify) against a fixed
 * keyset with an HS256 and a JWK_URL secret, and the JWKS parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "auth.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct auth_keyset	*ks;
static struct auth_jwks		*jk;

static const struct auth_jwks *
lookup(const char *url, void *arg)
{
	return (jk);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object	*claims = NULL;
	struct syerrs		 errs;
	struct auth_jwks	*j;
	const char		*url;
	char			*err = NULL;
	double			 exp;

	if (ks == NULL) {
		struct json_object *v = json_tokener_parse("[{\"alg\":\"HS256\","
		    "\"secret\":\"fuzz-secret\",\"isPrimary\":true},{\"alg\":"
		    "\"JWK_URL\",\"jwkUrl\":\"http://127.0.0.1:1/jwks\"}]");
		syerrs_init(&errs);
		ks = auth_keyset_new(v, "secrets", &errs);
		syerrs_free(&errs);
		json_object_put(v);
		if (ks == NULL)
			abort();
	}
	if (auth_verify(ks, (const char *)data, size, 1e9, lookup, NULL,
	    &claims, &exp, &url) == AUTH_OK)
		json_object_put(claims);
	if ((j = auth_jwks_parse((const char *)data, size, &err)) != NULL)
		auth_jwks_free(j);
	free(err);
	return (0);
}
