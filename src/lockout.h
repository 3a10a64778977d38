/*
 * lockout.h: failed-login counting per client address (SPEC 9.6), kept
 * by the master so that it holds across workers.  Pure data: the caller
 * passes the time (monotonic seconds).
 */
#ifndef SY_LOCKOUT_H
#define SY_LOCKOUT_H

#include <stddef.h>

enum lockout_verdict {
	LOCKOUT_OK = 0,		/* right user and key: 200, count reset */
	LOCKOUT_FAILED,		/* wrong: 401, counted */
	LOCKOUT_LOCKED		/* locked out: 429, not counted */
};

struct lockout;

/*
 * A table for at most capacity addresses (the least recently failed
 * unlocked one is forgotten when it is full).  Caller frees with
 * lockout_free.  NULL when out of memory.
 */
struct lockout	*lockout_new(unsigned max_failures, unsigned lockout_secs,
		    size_t capacity);
/* New settings (a reload); counts and running lockouts are kept. */
void		 lockout_configure(struct lockout *, unsigned max_failures,
		    unsigned lockout_secs);
/*
 * A login attempt from addr whose credentials were ok or not, at time
 * now.  LOCKOUT_LOCKED sets *retry_after (whole seconds, at least 1).
 */
enum lockout_verdict lockout_attempt(struct lockout *, const char *addr,
		    int ok, double now, unsigned *retry_after);
/* Consecutive failures counted for addr (tests, logs). */
unsigned	 lockout_failures(const struct lockout *, const char *addr);
void		 lockout_free(struct lockout *);

#endif
