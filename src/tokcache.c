/*
 * tokcache.c: the verified-token cache (see tokcache.h).  Direct-mapped:
 * a slot holds one entry and a new token that hashes to an occupied slot
 * replaces it, so memory is bounded by TOKCACHE_SLOTS entries of at most
 * TOKCACHE_MAX_TOKEN bytes.  The hash only picks the slot; a hit needs
 * the whole project name and token to match byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tokcache.h"

struct tc_ent {
	char			*te_key;	/* project NUL token */
	size_t			 te_keylen;
	struct json_object	*te_claims;
	double			 te_until;	/* Unix seconds */
	uint64_t		 te_gen;
};

struct tokcache {
	struct tc_ent	*tc_ents;
	size_t		 tc_mask;
};

struct tokcache *
tokcache_new(size_t slots)
{
	struct tokcache	*tc;
	size_t		 n = 1;

	while (n < slots)
		n <<= 1;
	if ((tc = calloc(1, sizeof(*tc))) == NULL)
		return (NULL);
	if ((tc->tc_ents = calloc(n, sizeof(*tc->tc_ents))) == NULL) {
		free(tc);
		return (NULL);
	}
	tc->tc_mask = n - 1;
	return (tc);
}

static void
tc_clear(struct tc_ent *e)
{
	free(e->te_key);
	json_object_put(e->te_claims);
	memset(e, 0, sizeof(*e));
}

void
tokcache_free(struct tokcache *tc)
{
	size_t	i;

	if (tc == NULL)
		return;
	for (i = 0; i <= tc->tc_mask; i++)
		tc_clear(&tc->tc_ents[i]);
	free(tc->tc_ents);
	free(tc);
}

/*
 * FNV-1a's multiply over 8 bytes at a time (a token is some hundred
 * bytes, hashed on every authenticated call), then byte by byte; the
 * shift folds the high bits down into the index bits.
 */
static uint64_t
tc_mix(uint64_t h, const char *p, size_t n)
{
	uint64_t	w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 1099511628211ULL;
		h ^= h >> 29;
	}
	for (; n > 0; p++, n--)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (h ^ (h >> 32));
}

/* Over project, its NUL, and the token. */
static uint64_t
tc_hash(const char *project, size_t plen, const char *token, size_t len)
{
	return (tc_mix(tc_mix(14695981039346656037ULL, project, plen + 1),
	    token, len));
}

static int
tc_match(const struct tc_ent *e, const char *project, size_t plen,
    const char *token, size_t len)
{
	return (e->te_key != NULL && e->te_keylen == plen + 1 + len &&
	    memcmp(e->te_key, project, plen + 1) == 0 &&
	    memcmp(e->te_key + plen + 1, token, len) == 0);
}

struct json_object *
tokcache_get(struct tokcache *tc, uint64_t gen, const char *project,
    const char *token, size_t len, double now)
{
	struct tc_ent	*e;
	size_t		 plen = strlen(project);

	e = &tc->tc_ents[tc_hash(project, plen, token, len) & tc->tc_mask];
	if (!tc_match(e, project, plen, token, len))
		return (NULL);
	if (e->te_gen != gen || now > e->te_until) {
		tc_clear(e);
		return (NULL);
	}
	return (e->te_claims);
}

void
tokcache_put(struct tokcache *tc, uint64_t gen, const char *project,
    const char *token, size_t len, struct json_object *claims, double exp,
    double now, double leeway)
{
	struct tc_ent	*e;
	size_t		 plen = strlen(project);
	double		 until = now + TOKCACHE_MAX_TTL;

	if (len > TOKCACHE_MAX_TOKEN)
		return;
	if (exp > 0 && exp + leeway < until)
		until = exp + leeway;
	e = &tc->tc_ents[tc_hash(project, plen, token, len) & tc->tc_mask];
	tc_clear(e);
	if ((e->te_key = malloc(plen + 1 + len)) == NULL)
		return;
	memcpy(e->te_key, project, plen + 1);
	memcpy(e->te_key + plen + 1, token, len);
	e->te_keylen = plen + 1 + len;
	e->te_claims = json_object_get(claims);
	e->te_until = until;
	e->te_gen = gen;
}
