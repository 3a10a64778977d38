/*
 * console.c: the web console's static files (SPEC 9.9), served by the
 * admin listener (admin.c) for GET and HEAD of "/" (index.html) and
 * "/console/NAME".  The files are read from the console directory at
 * each request: $SWITCHYARD_CONSOLE_DIR when set, otherwise the
 * directory "make install" fills ($(datadir)/switchyard/console).  Pure
 * of the transport: it maps a path to a file and a reply; admin.c, a
 * transport file, writes that reply and the headers.
 *
 * Invariants:
 * - Only a flat NAME of [a-z0-9-] and one known extension is served, so
 *   no request reaches outside the directory ("..", "/", "%2f" and
 *   hidden files never match).
 * - Every answer of the console, errors included, carries the
 *   Content-Security-Policy of 9.9 (its connect-src names the origin of
 *   the public API, for "try it"), X-Content-Type-Options: nosniff and
 *   the Content-Type of the file's extension.
 * - Nothing here runs when the API or server.admin.console is off:
 *   then "/" is admin.c's 404.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "log.h"
#include "util.h"

#ifndef SY_DEFAULT_CONSOLE
#define SY_DEFAULT_CONSOLE	"/usr/local/share/switchyard/console"
#endif

#define CONSOLE_PREFIX	"/console/"
#define CONSOLE_NAMEMAX	64
#define CONSOLE_MAXFILE	(1024 * 1024)

static const struct {
	const char	*ext;
	const char	*type;
} console_types[] = {
	{ ".html",	"text/html; charset=utf-8" },
	{ ".css",	"text/css; charset=utf-8" },
	{ ".js",	"text/javascript; charset=utf-8" },
	{ ".png",	"image/png" },
	{ ".svg",	"image/svg+xml" },
};

/* $SWITCHYARD_CONSOLE_DIR, or where make install put the files. */
static const char *
console_dir(void)
{
	const char	*d = getenv("SWITCHYARD_CONSOLE_DIR");

	return (d != NULL && d[0] != '\0' ? d : SY_DEFAULT_CONSOLE);
}

/* The Content-Type of a flat name, or NULL when it is not one we serve. */
static const char *
console_type(const char *name)
{
	const char	*dot, *p;
	size_t		 i;

	if ((dot = strchr(name, '.')) == NULL || dot == name ||
	    strlen(name) > CONSOLE_NAMEMAX)
		return (NULL);
	for (p = name; p < dot; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-'))
			return (NULL);
	for (i = 0; i < sizeof(console_types) / sizeof(console_types[0]); i++)
		if (strcmp(dot, console_types[i].ext) == 0)
			return (console_types[i].type);
	return (NULL);
}

void
console_csp(const char *public_url, char *dst, size_t size)
{
	snprintf(dst, size, "default-src 'self'; connect-src 'self' %s; "
	    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
	    public_url);
}

const char *
console_name(const char *path)
{
	if (path == NULL)
		return (NULL);
	if (strcmp(path, "/") == 0)
		return ("index.html");
	if (strncmp(path, CONSOLE_PREFIX, strlen(CONSOLE_PREFIX)) == 0)
		return (path + strlen(CONSOLE_PREFIX));
	return (NULL);
}

static int
console_text(struct console_reply *r, int status, const char *text)
{
	r->status = status;
	r->type = "text/plain; charset=utf-8";
	r->len = strlen(text);
	return ((r->body = strdup(text)) == NULL ? -1 : 0);
}

int
console_read(const char *name, struct console_reply *r)
{
	const char	*type;
	char		 path[1024], msg[1200];

	memset(r, 0, sizeof(*r));
	if ((type = console_type(name)) == NULL)
		return (console_text(r, 404, "not found\n"));
	snprintf(path, sizeof(path), "%s/%s", console_dir(), name);
	if (sy_read_file(path, CONSOLE_MAXFILE, &r->body, &r->len) == 0) {
		r->status = 200;
		r->type = type;
		return (0);
	}
	if (errno == ENOENT && strcmp(name, "index.html") != 0)
		return (console_text(r, 404, "not found\n"));
	/* a missing index.html is an installation problem: say which */
	snprintf(msg, sizeof(msg), "console: %s: %s\n", path,
	    strerror(errno));
	log_warnx("%.*s", (int)strlen(msg) - 1, msg);
	return (console_text(r, 500, msg));
}
