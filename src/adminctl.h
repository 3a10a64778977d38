/*
 * adminctl.h: a worker's end of the control channel (ctl.h) on its
 * event loop: config API writes and logins go to the master, and each
 * answer comes back to the request that asked, or a 503 when the master
 * is gone or does not answer within ADMINCTL_TIMEOUT seconds.
 */
#ifndef SY_ADMINCTL_H
#define SY_ADMINCTL_H

#include <stdint.h>

#include "ctl.h"

#define ADMINCTL_TIMEOUT	10	/* seconds: then 503 (SPEC 9.3) */

struct event_base;
struct adminctl;
struct adminctl_req;

/*
 * The answer to one request: a (borrowed for the call) is the master's,
 * or NULL when there is none (the master gone, the timeout, no memory).
 */
typedef void	 adminctl_cb(const struct ctl_answer *a, void *arg);

/* The channel on fd (taken: closed at adminctl_free).  NULL (logged). */
struct adminctl	*adminctl_new(struct event_base *, int fd);
void		 adminctl_free(struct adminctl *);
/*
 * Send a write (CTL_SET_SERVICE, CTL_DELETE_SERVICE) or a login; cb is
 * called exactly once, never from inside these calls.  Returns the
 * pending request, or NULL (cb not called) when it cannot be sent.
 */
struct adminctl_req *adminctl_write(struct adminctl *, uint16_t type,
		    const struct ctl_write *, adminctl_cb *, void *arg);
struct adminctl_req *adminctl_login(struct adminctl *,
		    const struct ctl_login *, adminctl_cb *, void *arg);
/* Forget r: its cb is never called (the HTTP request went away). */
void		 adminctl_cancel(struct adminctl_req *r);

#endif
