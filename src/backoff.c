/*
 * backoff.c: the restart policy for dead workers (see backoff.h).  Pure
 * arithmetic on a small state, so that the master's loop stays simple
 * and the policy is unit tested on its own.
 */
#include "backoff.h"

void
backoff_init(struct backoff *b)
{
	b->failures = 0;
}

double
backoff_next(struct backoff *b, int was_ready, enum backoff_exit why)
{
	double		delay;
	unsigned	i;

	if (was_ready) {
		/* it had been serving: a one-off crash, replace it now */
		b->failures = 0;
		delay = 0;
	} else {
		b->failures++;
		delay = BACKOFF_FIRST;
		for (i = 1; i < b->failures && delay < BACKOFF_MAX; i++)
			delay *= 2;
		if (delay > BACKOFF_MAX)
			delay = BACKOFF_MAX;
	}
	if (why == BACKOFF_EXIT_RESOURCE && delay < BACKOFF_SLOW)
		delay = BACKOFF_SLOW;
	return (delay);
}
