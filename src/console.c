/*
 * console.c: the web console's static files (SPEC 9.9), served by the
 * admin listener (admin.c) for GET and HEAD of "/" (index.html) and
 * "/console/NAME".  The files are read from the console directory at
 * each request: $SWITCHYARD_CONSOLE_DIR when set, otherwise the
 * directory "make install" fills ($(datadir)/switchyard/console).  Like
 * admin_api.c it is a transport file next to admin.c (event2/http.h).
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

#include <event2/buffer.h>
#include <event2/http.h>

#include "admin_api.h"
#include "console.h"
#include "http.h"
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

static void
console_csp(const char *public_url, char *dst, size_t size)
{
	snprintf(dst, size, "default-src 'self'; connect-src 'self' %s; "
	    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
	    public_url);
}

static void
console_headers(struct admin_api *api, struct evhttp_request *req,
    const char *type)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	char			 url[160], csp[320];

	admin_api_public_url(api, url, sizeof(url));
	console_csp(url, csp, sizeof(csp));
	evhttp_add_header(out, "Content-Security-Policy", csp);
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_add_header(out, "Content-Type", type);
}

static void
console_send(struct evhttp_request *req, int status, const char *data,
    size_t len)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	evbuffer_add(b, data, len);
	evhttp_send_reply(req, status, http_reason(status), b);
	evbuffer_free(b);
}

/* Answer with the file name of the console directory. */
static void
console_file(struct admin_api *api, struct evhttp_request *req,
    const char *name, const char *type)
{
	char	 path[1024], msg[1200], *text = NULL;
	size_t	 len = 0;

	snprintf(path, sizeof(path), "%s/%s", console_dir(), name);
	if (sy_read_file(path, CONSOLE_MAXFILE, &text, &len) == 0) {
		console_headers(api, req, type);
		console_send(req, 200, text, len);
		free(text);
		return;
	}
	if (errno == ENOENT && strcmp(name, "index.html") != 0) {
		console_headers(api, req, "text/plain; charset=utf-8");
		console_send(req, 404, "not found\n", 10);
		return;
	}
	/* a missing index.html is an installation problem: say which */
	snprintf(msg, sizeof(msg), "console: %s: %s\n", path,
	    strerror(errno));
	log_warnx("%.*s", (int)strlen(msg) - 1, msg);
	console_headers(api, req, "text/plain; charset=utf-8");
	console_send(req, 500, msg, strlen(msg));
}

int
console_serve(struct admin_api *api, struct evhttp_request *req)
{
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	const char		*path, *name, *type;

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD)
		return (0);
	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL)
		return (0);
	if (strcmp(path, "/") == 0)
		name = "index.html";
	else if (strncmp(path, CONSOLE_PREFIX, strlen(CONSOLE_PREFIX)) == 0)
		name = path + strlen(CONSOLE_PREFIX);
	else
		return (0);
	if (!admin_api_console(api))
		return (0);
	if ((type = console_type(name)) == NULL) {
		console_headers(api, req, "text/plain; charset=utf-8");
		console_send(req, 404, "not found\n", 10);
		return (1);
	}
	console_file(api, req, name, type);
	return (1);
}
