/*
 * h1host.c: the upstream hosts of the native HTTP/1.1 client (part of
 * the h1client module): http:// URLs split into host, port and the
 * path sent as is, one entry per "host:port" (as the URL spells it) in
 * a hash table, with its pre-built Host line, and its address.
 * Numeric addresses and localhost are known at once; other names are
 * resolved by evdns on the worker's loop (resolv.conf and /etc/hosts,
 * or only a given hosts file) and kept H1HOST_DNS_TTL seconds.  The
 * outcome of a resolution goes to the owner's callback, which may run
 * from inside h1host_resolve.  Entries live until h1host_free; their
 * pools and queues belong to h1client.c.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "h1host.h"
#include "util.h"

#define H1HOST_DNS_TTL	30

/* Split an http:// URL; *path points into url.  -1 when malformed. */
static int
h1host_url(const char *url, const char **host, size_t *hlen,
    unsigned short *port, const char **path)
{
	const char	*h, *e, *p;
	unsigned long	 n;
	char		*end;

	if (strncasecmp(url, "http://", 7) != 0)
		return (-1);
	h = url + 7;
	if (*h == '[') {
		if ((e = strchr(h, ']')) == NULL)
			return (-1);
		*host = h + 1;
		*hlen = e - h - 1;
		e++;
	} else {
		e = h + strcspn(h, ":/?#@");
		*host = h;
		*hlen = e - h;
	}
	if (*hlen == 0 || *e == '@' || memchr(*host, '@', *hlen) != NULL)
		return (-1);
	*port = 80;
	if (*e == ':') {
		n = strtoul(e + 1, &end, 10);
		if (end == e + 1 || n == 0 || n > 65535)
			return (-1);
		*port = n;
		e = end;
	}
	if (*e != '\0' && *e != '/' && *e != '?' && *e != '#')
		return (-1);
	p = e;
	*path = p;
	return (0);
}

static unsigned
h1host_hash(const char *s, size_t len)
{
	unsigned	h = 2166136261u;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return (h % H1HOST_NBUCKET);
}

/* Numeric addresses and localhost need no resolver. */
static int
h1host_numeric(struct h1host *hs)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&hs->addr;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&hs->addr;

	memset(&hs->addr, 0, sizeof(hs->addr));
	if (strcasecmp(hs->name, "localhost") == 0 ||
	    inet_pton(AF_INET, hs->name, &sin->sin_addr) == 1) {
		if (hs->name[0] == 'l' || hs->name[0] == 'L')
			sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_family = AF_INET;
		sin->sin_port = htons(hs->port);
		hs->alen = sizeof(*sin);
		return (0);
	}
	if (inet_pton(AF_INET6, hs->name, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(hs->port);
		hs->alen = sizeof(*sin6);
		return (0);
	}
	return (-1);
}

struct h1host *
h1host_get(struct h1hosts *hh, const char *url, const char **path)
{
	struct h1host	*hs;
	const char	*h;
	size_t		 hlen, klen;
	unsigned short	 port;
	unsigned	 b;

	if (h1host_url(url, &h, &hlen, &port, path) == -1)
		return (NULL);
	klen = *path - (url + 7);	/* "name:port" as in the URL */
	b = h1host_hash(url + 7, klen);
	LIST_FOREACH(hs, &hh->b[b], entry) {
		if (strlen(hs->key) == klen &&
		    memcmp(hs->key, url + 7, klen) == 0)
			return (hs);
	}
	if ((hs = calloc(1, sizeof(*hs))) == NULL)
		return (NULL);
	hs->hh = hh;
	hs->cl = hh->owner;
	hs->port = port;
	TAILQ_INIT(&hs->idle);
	TAILQ_INIT(&hs->queue);
	sybuf_init(&hs->hosthdr);
	if ((hs->name = strndup(h, hlen)) == NULL ||
	    (hs->key = strndup(url + 7, klen)) == NULL ||
	    sybuf_addstr(&hs->hosthdr, "Host: ") == -1 ||
	    sybuf_add(&hs->hosthdr, url + 7, klen) == -1 ||
	    sybuf_addstr(&hs->hosthdr, "\r\n") == -1) {
		free(hs->name);
		free(hs->key);
		sybuf_free(&hs->hosthdr);
		free(hs);
		return (NULL);
	}
	if (h1host_numeric(hs) == 0)
		hs->resolved = -1;
	LIST_INSERT_HEAD(&hh->b[b], hs, entry);
	return (hs);
}

int
h1host_need_name(const struct h1host *hs)
{
	return (hs->resolved == 0 || (hs->resolved != -1 &&
	    time(NULL) - hs->resolved > H1HOST_DNS_TTL));
}

static void
h1host_dns_cb(int rc, struct evutil_addrinfo *ai, void *arg)
{
	struct h1host	*hs = arg;

	if (rc == EVUTIL_EAI_CANCEL)
		return;
	hs->resolving = 0;
	hs->dnsreq = NULL;
	if (rc == 0 && ai != NULL && ai->ai_addrlen <= sizeof(hs->addr)) {
		memcpy(&hs->addr, ai->ai_addr, ai->ai_addrlen);
		hs->alen = ai->ai_addrlen;
		if (hs->addr.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&hs->addr)->sin6_port =
			    htons(hs->port);
		else
			((struct sockaddr_in *)&hs->addr)->sin_port =
			    htons(hs->port);
		hs->resolved = time(NULL);
		evutil_freeaddrinfo(ai);
		hs->hh->cb(hs, 0);
		return;
	}
	if (ai != NULL)
		evutil_freeaddrinfo(ai);
	hs->hh->cb(hs, rc != 0 ? rc : EVUTIL_EAI_FAIL);
}

void
h1host_resolve(struct h1host *hs)
{
	struct h1hosts			*hh = hs->hh;
	struct evutil_addrinfo		 hints;
	struct evdns_getaddrinfo_request *rq;

	if (hs->resolving)
		return;
	if (hh->dns == NULL && (hh->dns = evdns_base_new(hh->base,
	    hh->hosts_file == NULL ? EVDNS_BASE_INITIALIZE_NAMESERVERS :
	    0)) != NULL && hh->hosts_file != NULL &&
	    evdns_base_load_hosts(hh->dns, hh->hosts_file) != 0) {
		evdns_base_free(hh->dns, 0);
		hh->dns = NULL;
	}
	if (hh->dns == NULL) {
		h1host_dns_cb(EVUTIL_EAI_FAIL, NULL, hs);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	hs->resolving = 1;
	rq = evdns_getaddrinfo(hh->dns, hs->name, NULL, &hints, h1host_dns_cb,
	    hs);
	if (!hs->resolving)	/* the callback ran already */
		return;
	if (hh->hosts_file == NULL) {
		hs->dnsreq = rq;
		return;
	}
	/* only the hosts file, and evdns answers it at once: not there */
	if (rq != NULL)
		evdns_getaddrinfo_cancel(rq);
	h1host_dns_cb(EVUTIL_EAI_NONAME, NULL, hs);
}

void
h1host_init(struct h1hosts *hh, struct event_base *base,
    struct h1client *owner, const char *hosts_file, h1host_cb cb)
{
	size_t	i;

	memset(hh, 0, sizeof(*hh));
	hh->base = base;
	hh->owner = owner;
	hh->hosts_file = hosts_file;
	hh->cb = cb;
	for (i = 0; i < H1HOST_NBUCKET; i++)
		LIST_INIT(&hh->b[i]);
}

void
h1host_addr(const struct h1host *hs, char *buf, size_t len)
{
	if (hs->addr.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&hs->addr)->
		    sin6_addr, buf, len);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&hs->addr)->
		    sin_addr, buf, len);
}

void
h1host_free(struct h1hosts *hh, void (*gone)(struct h1host *))
{
	struct h1host	*hs;
	size_t		 i;

	for (i = 0; i < H1HOST_NBUCKET; i++) {
		while ((hs = LIST_FIRST(&hh->b[i])) != NULL) {
			LIST_REMOVE(hs, entry);
			if (hs->dnsreq != NULL)
				evdns_getaddrinfo_cancel(hs->dnsreq);
			gone(hs);
			free(hs->name);
			free(hs->key);
			sybuf_free(&hs->hosthdr);
			free(hs);
		}
	}
	if (hh->dns != NULL)
		evdns_base_free(hh->dns, 0);
	hh->dns = NULL;
}
