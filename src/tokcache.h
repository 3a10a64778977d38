/*
 * tokcache.h: a worker's cache of verified caller tokens, so that a
 * signature is checked once per token rather than once per call.  A
 * fixed number of slots (direct-mapped by a hash of project and token)
 * bounds its memory; an entry never outlives the token's exp (plus the
 * clock-skew leeway), TOKCACHE_MAX_TTL, or the registry generation whose
 * keys verified it.
 */
#ifndef SY_TOKCACHE_H
#define SY_TOKCACHE_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct tokcache;

#define TOKCACHE_SLOTS		4096
#define TOKCACHE_MAX_TOKEN	2048	/* longer tokens are not cached */
#define TOKCACHE_MAX_TTL	300.0	/* seconds an entry lives at most */

struct tokcache		*tokcache_new(size_t slots);
void			 tokcache_free(struct tokcache *);

/*
 * The claims of a cached, still valid token (borrowed: take a reference
 * to keep them), or NULL.  now is Unix seconds.
 */
struct json_object	*tokcache_get(struct tokcache *, uint64_t gen,
			    const char *project, const char *token, size_t len,
			    double now);

/*
 * Remember a verified token.  claims: a reference is taken.  exp is the
 * token's exp claim (0 when absent); leeway the seconds it may be late.
 */
void			 tokcache_put(struct tokcache *, uint64_t gen,
			    const char *project, const char *token, size_t len,
			    struct json_object *claims, double exp, double now,
			    double leeway);

#endif
