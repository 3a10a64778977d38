/*
 * jwks.h: a worker's store of keys fetched from JWK_URL secrets.  Keys
 * are fetched asynchronously on the worker's curl multi handle, refreshed
 * as the answer's Cache-Control max-age says (default 24 h), fetched
 * again (at most every JWKS_MIN_INTERVAL seconds) when a token names an
 * unknown kid, and kept when a refresh fails.
 */
#ifndef SY_JWKS_H
#define SY_JWKS_H

struct auth_jwks;
struct event_base;
struct upstream;
struct jwks;

#define JWKS_MIN_INTERVAL	5.0	/* seconds between fetches of a URL */
#define JWKS_DEFAULT_MAX_AGE	86400.0
#define JWKS_RETRY		5.0	/* after a failed fetch */

/* Both are borrowed and must outlive the store. */
struct jwks		*jwks_new(struct event_base *, struct upstream *);
void			 jwks_free(struct jwks *);

/* Start fetching url unless it is known already. */
void			 jwks_want(struct jwks *, const char *url);
/* A token named a kid the keys of url lack: fetch again, rate-limited. */
void			 jwks_refresh(struct jwks *, const char *url);
/* A counter that moves whenever any URL's keys change (for caches). */
unsigned long		 jwks_epoch(const struct jwks *);
/* The keys of url, or NULL before the first successful fetch. */
const struct auth_jwks	*jwks_lookup(const char *url, void *jwks);

#endif
