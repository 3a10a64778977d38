/*
 * backoff.h: when to restart a worker that died.  A worker that was
 * serving (it reached "ready") is replaced at once; one that died before
 * it got ready is in a crash loop and waits twice as long each time, up
 * to BACKOFF_MAX, so that it cannot spin the CPU.
 */
#ifndef SY_BACKOFF_H
#define SY_BACKOFF_H

#define BACKOFF_FIRST	0.5	/* seconds, first delay in a crash loop */
#define BACKOFF_MAX	30.0
#define BACKOFF_SLOW	5.0	/* at least this after a resource shortage */

struct backoff {
	unsigned	failures;	/* deaths before ready, in a row */
};

enum backoff_exit {
	BACKOFF_EXIT_CRASH = 0,		/* signal, or exit status 1 */
	BACKOFF_EXIT_RESOURCE		/* exit status 3 */
};

void	 backoff_init(struct backoff *);
/* Seconds to wait before starting the replacement. */
double	 backoff_next(struct backoff *, int was_ready, enum backoff_exit);

#endif
