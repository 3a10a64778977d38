/*
 * admin.h: the admin listener (SPEC section 7): GET /healthz, /readyz
 * (the registry loaded and every JWKS) and /metrics (Prometheus text,
 * summed over every worker), served by each worker on the inherited
 * admin socket.  The config API of SPEC section 9 joins it here.
 */
#ifndef SY_ADMIN_H
#define SY_ADMIN_H

struct authn;
struct catalog;
struct event_base;
struct metrics;

struct admin;

/* Serve on the listening socket fd; all borrowed.  NULL (logged). */
struct admin	*admin_new(struct event_base *, int fd, struct catalog *,
		    struct authn *, struct metrics *);
/* Stop accepting (a graceful stop); answers in flight are sent. */
void		 admin_stop(struct admin *);
void		 admin_free(struct admin *);

#endif
