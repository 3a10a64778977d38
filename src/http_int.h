/*
 * http_int.h: what the worker's HTTP transport files (http.c,
 * http_conn.c) share and nothing else sees: the server's state, a REST
 * request in flight, and the one table of client connections.
 */
#ifndef SY_HTTP_INT_H
#define SY_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event_struct.h>

#include "authn.h"
#include "call.h"
#include "http_frame.h"
#include "route.h"

#define HTTP_REQID_MAX		128
#define HTTP_HEAD_MAX		320	/* header lines in the status line: keeps
					   struct rest within tcache (1032) */
#define HTTP_CC_BUCKETS		4096
#define HTTP_READ_SLACK		16384	/* input beyond one largest request */

struct bufferevent;
struct evbuffer;
struct evbuffer_cb_entry;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_connection;
struct evhttp_request;
struct gql_exec;

struct http {
	struct event_base		*h_base;
	struct evhttp			*h_http;
	const struct sy_server		*h_srv;
	struct catalog			*h_cat;
	struct upstream			*h_up;
	struct authn			*h_authn;
	struct call_ctx			 h_call;
	struct metrics			*h_metrics;
	struct metrics_slot		*h_ms;
	struct admin			*h_admin;
	struct admin_api		*h_cfgapi;	/* NULL: none */
	struct cconn			**h_ccs;	/* by bufferevent */
	size_t				 h_nccs;	/* open client sockets */
	struct event			*h_sweep;	/* deadlines, every 1 s */
	struct event			*h_refuse;	/* a sweep, soon */
	struct evhttp_bound_socket	**h_socks;
	size_t				 h_nsocks;
	size_t				 h_inflight;	/* requests */
	size_t				 h_unflushed;	/* replies being sent */
	int				 h_draining;
	void				(*h_done)(void *);
	void				*h_done_arg;
	uint64_t			 h_idprefix;
	uint64_t			 h_idcount;
	time_t				 h_date_sec;	/* of h_date */
	char				 h_date[40];	/* Date: value */
};

/* A REST request, from its arrival to its one answer (http.c). */
struct rest {
	struct http			*r_h;
	struct evhttp_request		*r_req;
	struct cconn			*r_conn;
	struct sy_endpoint		*r_ep;
	struct sy_project		*r_proj;
	struct call			*r_call;	/* in flight, or NULL */
	struct principal		 r_who;
	int				 r_has_who;
	struct route			*r_route;	/* NULL: not an API path */
	struct route			 r_routebuf;
	double				 r_start;	/* monotonic */
	long				 r_upstatus;	/* 0: no upstream answer */
	struct gql_exec			*r_gql;		/* GraphQL, or NULL */
	int				 r_is_gql;	/* the GraphQL route */
	int				 r_gql_media;	/* graphql-response+json */
	size_t				 r_gql_calls;
	size_t				 r_gql_statements;
	size_t				 r_gql_errors;
	char				 r_reqid[HTTP_REQID_MAX + 1];
	const char			*r_auth;	/* client's Authorization */
	const char			*r_origin;	/* client's Origin */
	size_t				 r_headlen;
	char				 r_head[HTTP_HEAD_MAX];	/* http_head_add */
};

/*
 * Every accepted client connection (http_conn.c).  switchyard makes its
 * bufferevent and holds a reference on it: libevent 2.1's evhttp has no
 * hook for a connection's start, and the reference lets the sweep see
 * (its event callback cleared) when evhttp has freed it.  Its evhttp
 * connection is known from its first request on, and its close callback
 * then ends the request in flight and the replies never written.
 */
struct cconn {
	struct cconn		*cc_next;
	struct http		*cc_h;
	struct bufferevent	*cc_bev;
	struct evhttp_connection *cc_evcon;	/* NULL until a request */
	struct rest		*cc_rest;	/* in flight, or NULL */
	size_t			 cc_unflushed;	/* replies being sent */
	struct evbuffer_cb_entry *cc_outcb;
	struct evbuffer_cb_entry *cc_incb;
	struct http_frame	 cc_frame;	/* the requests' framing so far */
	const char		*cc_framing;	/* refused: why, else NULL */
	int			 cc_last;	/* answer, then close: no more */
	int			 cc_injecting;	/* http_cc_cut at work */
	int			 cc_throttled;	/* reading held by a watermark */
	double			 cc_deadline;	/* request must be in; 0: none */
	int			 cc_refuse;	/* over maxConnections */
	int			 cc_errpage;	/* 400, 413: evhttp's page? */
	struct event		 cc_watch;	/* the socket, for EOF */
	int			 cc_watch_set;	/* cc_watch assigned */
	int			 cc_seen;	/* bytes read since its last run */
};

/* http.c */
void			 http_check_drained(struct http *);
void			 http_common_headers(struct rest *, int json, int reqid);
/* One header line of the reply (http_send writes it). */
void			 http_head_add(struct rest *, const char *name,
			    const char *value);
/* 204 to a CORS preflight, allowing methods. */
void			 http_preflight(struct rest *, const char *methods);
/* The one place that answers a request; body may be NULL. */
void			 http_send(struct rest *, int status, struct evbuffer *);
/* The client's request header name, or NULL (an upreq_header_fn). */
const char		*http_client_header(void *rest, const char *name);
int			 http_cors_any(const struct http *);
void			 http_new_reqid(struct http *, char *dst);
void			 http_rest_end(struct rest *);

/* http_gql.c: 1 when path is not the GraphQL route; 0 started; -1 answered */
int			 http_gql_admit(struct rest *, const char *path);

/* http_conn.c */
struct bufferevent	*http_cc_new(struct event_base *, void *http);
struct cconn		*http_cc_of(struct http *, struct evhttp_request *);
/* Write the reply just queued now rather than an iteration later. */
void			 http_cc_flush(struct cconn *);
/* The request's connection, its close callback set; NULL: not tracked. */
struct cconn		*http_cc_attach(struct http *, struct evhttp_request *);
void			 http_sweep(evutil_socket_t, short, void *http);
void			 http_cc_release_all(struct http *);

#endif
