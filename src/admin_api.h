/*
 * admin_api.h: Space Cloud's config API for remote services (SPEC 9.3,
 * 9.6), served by a worker: login and tokens, reads from the registry
 * (the records cfgapi.h commits), writes handed to the master over the
 * control channel (adminctl.h), and Space Cloud's health check.
 */
#ifndef SY_ADMIN_API_H
#define SY_ADMIN_API_H

#include <stddef.h>

struct adminctl;
struct catalog;
struct evhttp_request;
struct sy_server;

struct admin_api;

/*
 * The API of srv (borrowed, as cat and ctl, which may be NULL: every
 * write and login then answers 503).  NULL when out of memory.
 */
struct admin_api	*admin_api_new(const struct sy_server *srv,
			    struct catalog *cat, struct adminctl *ctl);
void			 admin_api_free(struct admin_api *);
/*
 * Serve req when it is the API's: /v1/config/... (on a public listener,
 * public = 1, only with servePublic) and GET /v1/api/health-check.
 * Returns 1 when req was taken (it is answered now or later), 0 when it
 * is not the API's.
 */
int			 admin_api_serve(struct admin_api *,
			    struct evhttp_request *req, int public);
/*
 * 1 when the console is served (SPEC 9.9): the API on and
 * server.admin.console true, as of the registry's generation.
 */
int			 admin_api_console(struct admin_api *);
/*
 * publicURL of /v1/config/env into url: "http://" and the first
 * server.listen address, a wildcard given as loopback.
 */
void			 admin_api_public_url(const struct admin_api *,
			    char *url, size_t size);
/* A graceful stop: new requests answer 503. */
void			 admin_api_drain(struct admin_api *);

#endif
