/*
 * authn.c: the principal of a request (authn.h).  The Bearer prefix is
 * read case-insensitively; the token is verified by auth.c against the
 * project's static keys and the JWKS keys jwks.c has fetched; a verdict
 * is cached in the token cache under a key made of the registry
 * generation and the JWKS epoch, so it stands only for the keys that gave
 * it.  Tokens are never logged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "auth.h"
#include "authn.h"
#include "catalog.h"
#include "jwks.h"
#include "log.h"
#include "metrics.h"
#include "project.h"
#include "tokcache.h"

struct authn {
	struct catalog		 *an_cat;
	struct jwks		 *an_jwks;
	struct tokcache		 *an_tc;
	struct metrics_slot	**an_ms;	/* the worker's, set later */
	uint64_t		  an_gen;	/* generation prefetched */
};

struct authn *
authn_new(struct event_base *base, struct upstream *up, struct catalog *cat,
    struct metrics_slot **ms)
{
	struct authn	*an;

	if ((an = calloc(1, sizeof(*an))) == NULL ||
	    (an->an_tc = tokcache_new(TOKCACHE_SLOTS)) == NULL ||
	    (an->an_jwks = jwks_new(base, up)) == NULL) {
		authn_free(an);
		return (NULL);
	}
	an->an_cat = cat;
	an->an_ms = ms;
	return (an);
}

void
authn_free(struct authn *an)
{
	if (an == NULL)
		return;
	tokcache_free(an->an_tc);
	jwks_free(an->an_jwks);
	free(an);
}

void
principal_clear(struct principal *who)
{
	json_object_put(who->claims);
	memset(who, 0, sizeof(*who));
}

static double
authn_wall_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

void
authn_want_keys(struct authn *an, struct sy_project *p)
{
	size_t	i, n;

	if (p->jwks_wanted)
		return;
	p->jwks_wanted = 1;
	n = auth_keyset_njwks(p->keys);
	for (i = 0; i < n; i++)
		jwks_want(an->an_jwks, auth_keyset_jwks_url(p->keys, i));
}

static void
authn_prefetch_cb(struct sy_project *p, void *arg)
{
	authn_want_keys(arg, p);
}

/*
 * Fetch the JWK_URL keys of every project of a new registry generation
 * now, so that they are loaded before the project's first call.
 */
void
authn_prefetch(struct authn *an)
{
	uint64_t	gen = catalog_generation(an->an_cat);

	if (gen != 0 && gen == an->an_gen)
		return;
	catalog_each_project(an->an_cat, authn_prefetch_cb, an);
	an->an_gen = catalog_generation(an->an_cat);
}

static void
authn_fail(struct authn *an, int reason)
{
	if (an->an_ms != NULL && *an->an_ms != NULL)
		metrics_auth_failure(*an->an_ms, reason);
}

enum authn_result
authn_verify(struct authn *an, struct sy_project *p, const char *auth,
    struct principal *who, const char **why)
{
	struct json_object	*claims;
	enum auth_result	 r;
	const char		*tok, *url = NULL;
	double			 now = authn_wall_now(), exp = 0;
	size_t			 len;
	uint64_t		 gen;

	memset(who, 0, sizeof(*who));
	authn_want_keys(an, p);
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0 ||
	    auth[7] == '\0') {
		authn_fail(an, 0);
		*why = "this endpoint needs a bearer token";
		return (AUTHN_MISSING);
	}
	tok = auth + 7;
	len = strlen(tok);
	/* cached verdicts stand only for the keys that gave them */
	gen = (catalog_generation(an->an_cat) << 32) ^ jwks_epoch(an->an_jwks);
	if ((claims = tokcache_get(an->an_tc, gen, p->name, tok, len, now)) !=
	    NULL)
		claims = json_object_get(claims);
	else {
		r = auth_verify(p->keys, tok, len, now, jwks_lookup,
		    an->an_jwks, &claims, &exp, &url);
		if (url != NULL)
			jwks_refresh(an->an_jwks, url);
		if (r != AUTH_OK) {
			authn_fail(an, (int)r);
			*why = r == AUTH_NO_KEYS ? "the project's signing keys "
			    "are not loaded yet" : auth_result_str(r);
			return (r == AUTH_NO_KEYS ? AUTHN_KEYS_NOT_LOADED :
			    AUTHN_REFUSED);
		}
		tokcache_put(an->an_tc, gen, p->name, tok, len, claims, exp,
		    now, AUTH_LEEWAY);
	}
	who->token = tok;
	who->claims = claims;
	who->tokenlen = len;
	return (AUTHN_OK);
}

struct authn_ready_ctx {
	struct authn	*rc_an;
	char		*rc_why;
	size_t		 rc_len;
};

static void
authn_ready_cb(struct sy_project *p, void *arg)
{
	struct authn_ready_ctx	*rc = arg;
	const char		*url;
	size_t			 i, n = auth_keyset_njwks(p->keys);

	for (i = 0; i < n && rc->rc_why[0] == '\0'; i++) {
		url = auth_keyset_jwks_url(p->keys, i);
		if (jwks_lookup(url, rc->rc_an->an_jwks) == NULL)
			snprintf(rc->rc_why, rc->rc_len, "the JWKS keys of "
			    "project %s are not loaded yet", p->name);
	}
}

int
authn_ready(struct authn *an, char *why, size_t len)
{
	struct authn_ready_ctx	rc = { an, why, len };

	why[0] = '\0';
	catalog_each_project(an->an_cat, authn_ready_cb, &rc);
	return (why[0] == '\0');
}

const char *
authn_reason_label(int r)
{
	switch (r) {
	case 0: return ("missing");
	case AUTH_MALFORMED: return ("malformed");
	case AUTH_BAD_ALG: return ("bad_alg");
	case AUTH_UNKNOWN_KID: return ("unknown_kid");
	case AUTH_BAD_SIGNATURE: return ("bad_signature");
	case AUTH_EXPIRED: return ("expired");
	case AUTH_NOT_YET_VALID: return ("not_yet_valid");
	case AUTH_BAD_AUDIENCE: return ("bad_audience");
	case AUTH_BAD_ISSUER: return ("bad_issuer");
	case AUTH_NO_KEYS: return ("keys_not_loaded");
	default: return (NULL);
	}
}
