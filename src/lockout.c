/*
 * lockout.c: failed logins per client address (SPEC 9.6).  An entry
 * counts consecutive failures; the max_failures-th failure is answered
 * 401 like the others and starts a lockout of lockout_secs from that
 * failure, during which every attempt, right or wrong, is LOCKED and
 * neither counted nor extending it.  Once the lockout has passed the
 * entry starts over from zero; a success removes it.  The table is a
 * bounded array scanned linearly: logins are rare, and the bound keeps
 * a flood from many addresses from growing the master.
 */
#include <stdlib.h>
#include <string.h>

#include "lockout.h"

#define LOCKOUT_ADDR_MAX	64	/* an IPv6 text address fits */

struct lockout_ent {
	char		 addr[LOCKOUT_ADDR_MAX];
	unsigned	 failures;
	double		 last;		/* time of the last failure */
	double		 until;		/* locked before this; 0: not */
};

struct lockout {
	struct lockout_ent	*ents;
	size_t			 n;
	size_t			 cap;
	unsigned		 max;
	unsigned		 secs;
};

struct lockout *
lockout_new(unsigned max_failures, unsigned lockout_secs, size_t capacity)
{
	struct lockout	*lk;

	if (capacity == 0 || (lk = calloc(1, sizeof(*lk))) == NULL)
		return (NULL);
	if ((lk->ents = calloc(capacity, sizeof(*lk->ents))) == NULL) {
		free(lk);
		return (NULL);
	}
	lk->cap = capacity;
	lockout_configure(lk, max_failures, lockout_secs);
	return (lk);
}

void
lockout_configure(struct lockout *lk, unsigned max_failures,
    unsigned lockout_secs)
{
	lk->max = max_failures > 0 ? max_failures : 1;
	lk->secs = lockout_secs;
}

void
lockout_free(struct lockout *lk)
{
	if (lk == NULL)
		return;
	free(lk->ents);
	free(lk);
}

static struct lockout_ent *
lockout_find(const struct lockout *lk, const char *addr)
{
	size_t	i;

	for (i = 0; i < lk->n; i++)
		if (strcmp(lk->ents[i].addr, addr) == 0)
			return (&lk->ents[i]);
	return (NULL);
}

static void
lockout_remove(struct lockout *lk, struct lockout_ent *e)
{
	*e = lk->ents[--lk->n];
}

/* A free entry: a new one, or the one it is best to forget. */
static struct lockout_ent *
lockout_slot(struct lockout *lk, double now)
{
	struct lockout_ent	*e, *best = NULL;
	size_t			 i;

	if (lk->n < lk->cap)
		return (&lk->ents[lk->n++]);
	/* an unlocked entry that failed longest ago, else the first to end */
	for (i = 0; i < lk->cap; i++) {
		e = &lk->ents[i];
		if (e->until <= now) {
			if (best == NULL || best->until > now ||
			    e->last < best->last)
				best = e;
		} else if (best == NULL || (best->until > now &&
		    e->until < best->until))
			best = e;
	}
	return (best);
}

enum lockout_verdict
lockout_attempt(struct lockout *lk, const char *addr, int ok, double now,
    unsigned *retry_after)
{
	struct lockout_ent	*e = lockout_find(lk, addr);

	if (e != NULL && e->until > now) {
		/* rounded up: a client that waits that long is let in */
		*retry_after = (unsigned)(e->until - now);
		if (*retry_after < e->until - now || *retry_after == 0)
			(*retry_after)++;
		return (LOCKOUT_LOCKED);
	}
	if (e != NULL && e->until != 0) {
		/* the lockout has passed: start over */
		e->failures = 0;
		e->until = 0;
	}
	if (ok) {
		if (e != NULL)
			lockout_remove(lk, e);
		return (LOCKOUT_OK);
	}
	if (e == NULL) {
		e = lockout_slot(lk, now);
		memset(e, 0, sizeof(*e));
		strncpy(e->addr, addr, sizeof(e->addr) - 1);
	}
	e->last = now;
	if (++e->failures >= lk->max)
		e->until = now + lk->secs;
	return (LOCKOUT_FAILED);
}

unsigned
lockout_failures(const struct lockout *lk, const char *addr)
{
	const struct lockout_ent	*e = lockout_find(lk, addr);

	return (e != NULL ? e->failures : 0);
}
