/*
 * http.h: the worker's HTTP front end: the unified API
 * POST /v1/api/{project}/services/{service}/{endpoint}, its CORS
 * preflight, and the mapping of upstream outcomes to the contract's
 * status codes.
 */
#ifndef SY_HTTP_H
#define SY_HTTP_H

#include <stddef.h>

struct catalog;
struct evbuffer;
struct event_base;
struct evhttp_request;
struct metrics;
struct sy_server;
struct upstream;

struct http;

/*
 * Serve on the inherited, bound, listening sockets fds.  Everything
 * passed is borrowed and must outlive the http.  NULL on failure
 * (logged).
 */
struct http	*http_new(struct event_base *, const struct sy_server *,
		    const int *fds, size_t nfds, struct catalog *,
		    struct upstream *);

/*
 * Count into metrics slot mslot, and serve the admin API (GET /healthz,
 * /readyz, /metrics) on admin_fd when it is not -1.  0 / -1 (logged).
 */
int		 http_metrics(struct http *, struct metrics *, int mslot,
		    int admin_fd);

/*
 * Serve the config API (borrowed) on the admin listener, and on the
 * public ones with servePublic; Space Cloud's health check everywhere.
 */
struct admin_api;
void		 http_config_api(struct http *, struct admin_api *);

/*
 * Start fetching the JWK_URL keys of every project of the registry's
 * current generation (done again by itself when the generation changes).
 */
void		 http_prefetch(struct http *);

/*
 * Graceful stop: stop accepting, answer new requests on open connections
 * with 503 and "Connection: close", and call done(arg) once no request is
 * in flight (at once when there is none).
 */
void		 http_drain(struct http *, void (*done)(void *), void *arg);
size_t		 http_inflight(const struct http *);
void		 http_free(struct http *);

/* For the transport files (admin.c): the pieces every answer shares. */
const char	*http_reason(int status);		/* "Not Found" */
void		 http_json_str(struct evbuffer *, const char *s);
/* No further request is read on the connection until this is answered. */
void		 http_hold_reading(struct evhttp_request *);

#endif
