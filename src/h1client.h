/*
 * h1client.h: the native HTTP/1.1 client for plain http:// upstreams,
 * on the worker's libevent loop, with pools of kept-alive connections
 * per host:port.  Same call semantics as upstream.h: the request is
 * copied, the callback runs exactly once from the event loop and never
 * from inside h1client_start, and a cancelled call gets no callback.
 */
#ifndef SY_H1CLIENT_H
#define SY_H1CLIENT_H

#include <stddef.h>

#include "upstream.h"

struct event_base;
struct h1client;
struct h1client_call;

struct h1client_conf {
	size_t		 max_idle;	/* idle connections kept per host */
	size_t		 max_conns;	/* connections per host, 0: no limit */
	unsigned	 keepalive_requests;	/* then the connection closes */
	long		 idle_timeout_ms;	/* an idle connection closes */
	const char	*hosts_file;	/* NULL: resolv.conf and /etc/hosts;
					   else only this hosts file */
};

/* Counters for tests and metrics. */
struct h1client_stats {
	unsigned long	 connects;	/* connections opened */
	unsigned long	 reuses;	/* requests on a kept-alive one */
	unsigned long	 retries;	/* resent on a fresh connection */
	size_t		 idle;		/* idle connections now */
	size_t		 open;		/* open connections now */
};

/* Defaults: 32 idle, no maximum, 1000 requests, 4000 ms, system DNS. */
void			 h1client_conf_default(struct h1client_conf *);

/*
 * base is borrowed; conf is copied (NULL: defaults), its hosts_file
 * borrowed for the life of the client.  NULL on failure.
 */
struct h1client		*h1client_new(struct event_base *base,
			    const struct h1client_conf *conf);
/* Cancels every call (no callbacks), closes every connection, frees. */
void			 h1client_free(struct h1client *);

/*
 * Start a call to an http:// URL.  Everything in req is copied.  cb
 * runs exactly once, from the event loop, unless the call is cancelled.
 * NULL only when memory runs out.
 */
struct h1client_call	*h1client_start(struct h1client *,
			    const struct upstream_request *req, upstream_cb cb,
			    void *arg);
/* Abandon a call: no callback; its connection is closed, not pooled. */
void			 h1client_cancel(struct h1client_call *);
size_t			 h1client_active(const struct h1client *);
void			 h1client_stats(const struct h1client *,
			    struct h1client_stats *);

#endif
