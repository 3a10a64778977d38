/*
 * admin.h: the admin listener (SPEC section 7): GET /healthz, /readyz
 * (the registry loaded and every JWKS) and /metrics (Prometheus text,
 * summed over every worker), served by each worker on the inherited
 * admin socket.  The config API of SPEC section 9 joins it here.
 */
#ifndef SY_ADMIN_H
#define SY_ADMIN_H

#include <stddef.h>

struct authn;
struct catalog;
struct event_base;
struct metrics;

struct admin;
struct admin_api;

/* Serve on the listening socket fd; all borrowed.  NULL (logged). */
struct admin	*admin_new(struct event_base *, int fd, struct catalog *,
		    struct authn *, struct metrics *);
/*
 * Serve the config API (admin_api.h; borrowed) here too, with request
 * bodies up to max_body bytes.
 */
void		 admin_set_api(struct admin *, struct admin_api *,
		    size_t max_body);
/* Stop accepting (a graceful stop); answers in flight are sent. */
void		 admin_stop(struct admin *);
void		 admin_free(struct admin *);

#endif
