/*
 * authn.h: a request's principal: the caller's bearer token verified
 * against the project's keys, once per request however many calls it
 * makes (SPEC section 5).  Verdicts are cached per worker (tokcache.c)
 * for the keys that gave them, and the JWK_URL keys of every project are
 * fetched (jwks.c) as soon as a registry generation names them.
 */
#ifndef SY_AUTHN_H
#define SY_AUTHN_H

#include <stddef.h>

struct catalog;
struct event_base;
struct json_object;
struct metrics_slot;
struct sy_project;
struct upstream;

struct authn;

/*
 * The verified caller: claims (one reference, dropped by
 * principal_clear) and the raw token, borrowed from the Authorization
 * value it was read from.
 */
struct principal {
	struct json_object	*claims;
	const char		*token;
	size_t			 tokenlen;
};

enum authn_result {
	AUTHN_OK = 0,
	AUTHN_MISSING,		/* no bearer token: 401 */
	AUTHN_REFUSED,		/* malformed, bad signature, expired...: 401 */
	AUTHN_KEYS_NOT_LOADED,	/* the project's JWKS is not in yet: 503 */
};

/* Everything is borrowed and must outlive the authn.  NULL: no memory. */
struct authn		*authn_new(struct event_base *, struct upstream *,
			    struct catalog *, struct metrics_slot **ms);
void			 authn_free(struct authn *);

/*
 * Verify the Authorization header value (NULL when absent) for project
 * p.  AUTHN_OK fills *who (principal_clear frees it); otherwise *why is
 * a static message for the caller.  Failures are counted in metrics.
 */
enum authn_result	 authn_verify(struct authn *, struct sy_project *p,
			    const char *authorization, struct principal *who,
			    const char **why);
void			 principal_clear(struct principal *);

/* Ask for the project's JWK_URL keys (once per compiled project). */
void			 authn_want_keys(struct authn *, struct sy_project *);

/* Fetch every project's keys when the registry generation changed. */
void			 authn_prefetch(struct authn *);

/*
 * Whether every project's JWKS is loaded: 1, or 0 with the reason in
 * why (for /readyz).
 */
int			 authn_ready(struct authn *, char *why, size_t len);

/* The metrics label of an auth failure reason (metrics_auth_failure). */
const char		*authn_reason_label(int reason);

#endif
