/*
 * cfsys.c: the server settings checked against the system (see cfsys.h).
 * They run where the rest of the config is checked, so that
 * "switchyard -t", start-up and a reload refuse the same files.
 *
 * Relative paths are taken relative to the config file's directory, as
 * nginx takes them relative to its prefix: the daemon runs in "/" once it
 * has detached, and "-t" runs wherever the admin is, so the current
 * directory would mean something different to each.
 *
 * Two listening addresses overlap when they have the same port and the
 * same address, or one of them is the wildcard of the other's family
 * (the sockets are IPV6_V6ONLY, so 0.0.0.0 and [::] do not collide).
 * Host names are not resolved here (a check must not wait for DNS):
 * "localhost" stands for both 127.0.0.1 and ::1, and other names overlap
 * only when written alike.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfsys.h"
#include "config.h"
#include "jconf.h"
#include "proc.h"
#include "util.h"

/* One address a listen string may stand for. */
struct cfsys_addr {
	int		 family;	/* AF_INET, AF_INET6, 0 for a name */
	unsigned char	 a[16];
	int		 any;
	const char	*name;		/* family 0: the host as written */
	size_t		 namelen;
};

/* What a listen string may stand for: a port and one or two addresses. */
struct cfsys_listen {
	long			 port;
	struct cfsys_addr	 addr[2];
	size_t			 n;
};

/* dir + "/" + *path, replacing *path, when *path is relative. */
static void
cfsys_resolve(char **path, const char *dir)
{
	char	*abs;

	if (*path == NULL || (*path)[0] == '/' || (*path)[0] == '\0')
		return;
	/* the master at config time: out of memory aborts */
	abs = sy_must(jconf_cat(dir, "/", *path, (char *)NULL));
	free(*path);
	*path = abs;
}

static void
cfsys_paths(struct sy_server *srv, const char *file, struct syerrs *errs)
{
	char	*dir, *slash;

	if ((dir = realpath(file, NULL)) == NULL) {
		syerrs_add(errs, file, "cannot find its directory to resolve "
		    "relative paths against");
		return;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';	/* a config file in "/" */
	else if (slash != NULL)
		*slash = '\0';
	cfsys_resolve(&srv->registry_path, dir);
	cfsys_resolve(&srv->pid_file, dir);
	cfsys_resolve(&srv->admin_key_file, dir);
	cfsys_resolve(&srv->admin_secret_file, dir);
	if (srv->log_error != NULL && strcmp(srv->log_error, "syslog") != 0 &&
	    strcmp(srv->log_error, "stderr") != 0)
		cfsys_resolve(&srv->log_error, dir);
	cfsys_resolve(&srv->log_access, dir);
	free(dir);
}

static void
cfsys_pidfile(const struct sy_server *srv, struct syerrs *errs)
{
	const char	*why;

	if ((why = proc_pidfile_problem(srv->pid_file)) != NULL)
		syerrs_add(errs, "server.pidFile", "\"%s\" %s; switchyard "
		    "never writes over such a file", srv->pid_file, why);
}

static void
cfsys_numeric(struct cfsys_addr *a, int family, const void *addr, int any)
{
	a->family = family;
	memset(a->a, 0, sizeof(a->a));
	memcpy(a->a, addr, family == AF_INET ? 4 : 16);
	a->any = any;
}

/* Parse s, already checked by config.c: -1 when it still makes no sense. */
static int
cfsys_parse(const char *s, struct cfsys_listen *l)
{
	char		 host[INET6_ADDRSTRLEN + 1];
	const char	*colon, *h = s, *he;
	struct in_addr	 a4;
	struct in6_addr	 a6;
	size_t		 hlen;

	if ((colon = strrchr(s, ':')) == NULL)
		return (-1);
	he = colon;
	if (s[0] == '[') {
		h = s + 1;
		he = colon - 1;		/* the ']' */
	}
	hlen = he > h ? (size_t)(he - h) : 0;
	l->port = strtol(colon + 1, NULL, 10);
	l->n = 1;
	if (hlen == 0 || (hlen == 1 && *h == '*')) {
		a4.s_addr = htonl(INADDR_ANY);
		cfsys_numeric(&l->addr[0], AF_INET, &a4, 1);
		return (0);
	}
	if (hlen < sizeof(host)) {
		memcpy(host, h, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, &a4) == 1) {
			cfsys_numeric(&l->addr[0], AF_INET, &a4,
			    a4.s_addr == htonl(INADDR_ANY));
			return (0);
		}
		if (inet_pton(AF_INET6, host, &a6) == 1) {
			cfsys_numeric(&l->addr[0], AF_INET6, &a6,
			    IN6_IS_ADDR_UNSPECIFIED(&a6));
			return (0);
		}
	}
	if (hlen == 9 && strncasecmp(h, "localhost", 9) == 0) {
		a4.s_addr = htonl(INADDR_LOOPBACK);
		cfsys_numeric(&l->addr[0], AF_INET, &a4, 0);
		cfsys_numeric(&l->addr[1], AF_INET6, &in6addr_loopback, 0);
		l->n = 2;
		return (0);
	}
	l->addr[0].family = 0;
	l->addr[0].name = h;
	l->addr[0].namelen = hlen;
	return (0);
}

static int
cfsys_addr_overlap(const struct cfsys_addr *x, const struct cfsys_addr *y)
{
	if (x->family == 0 || y->family == 0)
		return (x->family == y->family && x->namelen == y->namelen &&
		    strncasecmp(x->name, y->name, x->namelen) == 0);
	if (x->family != y->family)
		return (0);
	return (x->any || y->any || memcmp(x->a, y->a, sizeof(x->a)) == 0);
}

/* 1 when listening on a and on b would collide. */
static int
cfsys_overlap(const char *a, const char *b)
{
	struct cfsys_listen	 x, y;
	size_t			 i, j;

	if (cfsys_parse(a, &x) == -1 || cfsys_parse(b, &y) == -1 ||
	    x.port != y.port)
		return (0);
	for (i = 0; i < x.n; i++)
		for (j = 0; j < y.n; j++)
			if (cfsys_addr_overlap(&x.addr[i], &y.addr[j]))
				return (1);
	return (0);
}

static void
cfsys_listen(const struct sy_server *srv, struct syerrs *errs)
{
	char	 path[64];
	size_t	 i, j;

	/* identical entries are config.c's "listed twice" */
	for (i = 1; i < srv->nlisten; i++) {
		for (j = 0; j < i; j++) {
			if (strcmp(srv->listen[i], srv->listen[j]) == 0 ||
			    !cfsys_overlap(srv->listen[i], srv->listen[j]))
				continue;
			snprintf(path, sizeof(path), "server.listen[%zu]", i);
			syerrs_add(errs, path, "\"%s\" overlaps server.listen"
			    "[%zu] \"%s\"", srv->listen[i], j, srv->listen[j]);
			break;
		}
	}
	if (srv->admin_listen == NULL)
		return;
	for (i = 0; i < srv->nlisten; i++) {
		if (!cfsys_overlap(srv->admin_listen, srv->listen[i]))
			continue;
		syerrs_add(errs, "server.admin.listen", "\"%s\" overlaps "
		    "server.listen[%zu] \"%s\": the config API needs an "
		    "address of its own", srv->admin_listen, i,
		    srv->listen[i]);
		break;
	}
}

void
cfsys_check(struct sy_server *srv, const char *file, struct syerrs *errs)
{
	if (file != NULL)
		cfsys_paths(srv, file, errs);
	cfsys_pidfile(srv, errs);
	cfsys_listen(srv, errs);
}
