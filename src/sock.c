/*
 * sock.c: binds the listening sockets.  Only the master calls it; the
 * descriptors it returns are inherited across fork by the workers, which
 * all accept on them.  Sockets are non-blocking so that a worker woken
 * for a connection another worker took does not block in accept().
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sock.h"

#define SOCK_BACKLOG	511

static char *
sock_err(const char *addr, const char *what, const char *why)
{
	char	*s;

	if (asprintf(&s, "cannot listen on %s: %s%s%s", addr, what,
	    *what != '\0' ? ": " : "", why) == -1)
		return (NULL);
	return (s);
}

/* Split addr into host (NULL = any) and port. */
static int
sock_split(const char *addr, char *host, size_t hostlen, const char **port)
{
	const char	*colon, *h = addr, *he;

	if (addr[0] == '[') {
		if ((he = strchr(addr, ']')) == NULL || he[1] != ':')
			return (-1);
		h = addr + 1;
		colon = he + 1;
	} else {
		if ((colon = strrchr(addr, ':')) == NULL)
			return (-1);
		he = colon;
	}
	if ((size_t)(he - h) >= hostlen)
		return (-1);
	memcpy(host, h, he - h);
	host[he - h] = '\0';
	*port = colon + 1;
	return (**port == '\0' ? -1 : 0);
}

static int
sock_open(const struct addrinfo *ai)
{
	int	fd, on = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return (-1);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, SOCK_BACKLOG) == -1) {
		int saved = errno;
		close(fd);
		errno = saved;
		return (-1);
	}
	return (fd);
}

int
sock_listen(const char *addr, char **err)
{
	struct addrinfo	 hints, *res;
	const char	*port;
	char		 host[256];
	int		 fd, rc;

	if (sock_split(addr, host, sizeof(host), &port) == -1) {
		*err = sock_err(addr, "", "expected host:port");
		return (-1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (host[0] == '\0' || strcmp(host, "*") == 0) {
		hints.ai_family = AF_INET;
		rc = getaddrinfo(NULL, port, &hints, &res);
	} else
		rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		*err = sock_err(addr, "getaddrinfo", gai_strerror(rc));
		return (-1);
	}
	fd = sock_open(res);
	if (fd == -1)
		*err = sock_err(addr, "", strerror(errno));
	freeaddrinfo(res);
	return (fd);
}
