/*
 * h1host.h: the upstream hosts of the native HTTP/1.1 client, part of
 * the h1client module (see h1host.c).  Internal to the module.
 */
#ifndef SY_H1HOST_H
#define SY_H1HOST_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stddef.h>
#include <time.h>

#include "util.h"

#define H1HOST_NBUCKET	64

struct event_base;
struct evdns_base;
struct evdns_getaddrinfo_request;
struct h1client;
struct h1client_call;
struct h1_conn;

struct h1hosts;

struct h1host {
	struct h1hosts		*hh;
	struct h1client		*cl;		/* the owner */
	char			*name;		/* no brackets */
	char			*key;		/* "name:port" */
	unsigned short		 port;
	struct sybuf		 hosthdr;	/* "Host: ...\r\n" */
	struct sockaddr_storage	 addr;
	socklen_t		 alen;
	time_t			 resolved;	/* 0: never, -1: forever */
	int			 resolving;
	struct evdns_getaddrinfo_request *dnsreq;
	/* h1client.c's: idle connections and waiting calls */
	TAILQ_HEAD(h1_conn_head, h1_conn) idle;
	size_t			 nidle, nconns;
	TAILQ_HEAD(, h1client_call) queue;
	LIST_ENTRY(h1host)	 entry;
};

/* A resolution's outcome: rc 0, or an EVUTIL_EAI_* code. */
typedef void	(*h1host_cb)(struct h1host *, int rc);

struct h1hosts {
	struct event_base	*base;
	struct evdns_base	*dns;		/* made on first use */
	struct h1client		*owner;
	const char		*hosts_file;	/* NULL: the system's */
	h1host_cb		 cb;
	LIST_HEAD(, h1host)	 b[H1HOST_NBUCKET];
};

void		 h1host_init(struct h1hosts *, struct event_base *,
		    struct h1client *owner, const char *hosts_file,
		    h1host_cb cb);
/* Calls gone(host) before freeing each host; then frees the resolver. */
void		 h1host_free(struct h1hosts *,
		    void (*gone)(struct h1host *));
/*
 * The host of an http:// URL, made on first use; *path points into url
 * (the path and query, maybe empty).  NULL: malformed, or no memory.
 */
struct h1host	*h1host_get(struct h1hosts *, const char *url,
		    const char **path);
/* A new connection needs the name resolved first. */
int		 h1host_need_name(const struct h1host *);
/* Resolve; the outcome goes to the callback, maybe before returning. */
void		 h1host_resolve(struct h1host *);
/* The address as text. */
void		 h1host_addr(const struct h1host *, char *, size_t);

#endif
