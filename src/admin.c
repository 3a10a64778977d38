/*
 * admin.c: the admin listener (admin.h) on evhttp: /healthz, /readyz and
 * /metrics, GET or HEAD only, the config API (admin_api.c) and the
 * console's files (console.c).  It is a transport file (event2/http.h) and
 * shares the reply helpers of http.c; it holds no request state beyond
 * the one answer it writes at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "admin.h"
#include "admin_api.h"
#include "authn.h"
#include "catalog.h"
#include "console.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

struct admin {
	struct evhttp			*a_http;
	struct evhttp_bound_socket	*a_sock;
	struct catalog			*a_cat;
	struct authn			*a_authn;
	struct metrics			*a_metrics;
	struct admin_api		*a_api;		/* NULL: none */
};

/* /readyz: 200 when the registry is loaded and every JWKS is. */
static int
admin_readyz(struct admin *a, struct evbuffer *b)
{
	char	why[256];

	if (catalog_generation(a->a_cat) == 0)
		snprintf(why, sizeof(why), "no registry loaded");
	else
		authn_ready(a->a_authn, why, sizeof(why));
	if (why[0] != '\0') {
		evbuffer_add_printf(b, "{\"status\":\"not ready\",\"reason\":");
		http_json_str(b, why);
		evbuffer_add_printf(b, "}\n");
		return (503);
	}
	evbuffer_add_printf(b, "{\"status\":\"ready\",\"generation\":%llu}\n",
	    (unsigned long long)catalog_generation(a->a_cat));
	return (200);
}

/*
 * A GET or HEAD of the console's (console.c) while it is on: 1 when
 * answered, with the headers every console answer carries.
 */
static int
admin_console(struct admin *a, struct evhttp_request *req)
{
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct console_reply	 r;
	struct evbuffer		*b;
	const char		*name;
	char			 url[160], csp[320];

	if ((cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) ||
	    (name = console_name(evhttp_uri_get_path(
	    evhttp_request_get_evhttp_uri(req)))) == NULL ||
	    !admin_api_console(a->a_api))
		return (0);
	if (console_read(name, &r) == -1 ||
	    (b = evbuffer_new()) == NULL) {
		free(r.body);
		evhttp_send_error(req, 503, NULL);
		return (1);
	}
	admin_api_public_url(a->a_api, url, sizeof(url));
	console_csp(url, csp, sizeof(csp));
	evhttp_add_header(out, "Content-Security-Policy", csp);
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_add_header(out, "Content-Type", r.type);
	evbuffer_add(b, r.body, r.len);
	evhttp_send_reply(req, r.status, http_reason(r.status), b);
	evbuffer_free(b);
	free(r.body);
	return (1);
}

static void
admin_cb(struct evhttp_request *req, void *arg)
{
	struct admin		*a = arg;
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*b;
	struct sybuf		 text;
	const char		*path;
	int			 status = 200;

	http_hold_reading(req);
	if (a->a_api != NULL && admin_api_serve(a->a_api, req, 0))
		return;
	if (a->a_api != NULL && admin_console(a, req))
		return;
	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		status = 405;
		evhttp_add_header(out, "Allow", "GET, HEAD");
		evbuffer_add_printf(b, "{\"error\":\"method not allowed\"}\n");
	} else if (path != NULL && strcmp(path, "/healthz") == 0)
		evbuffer_add_printf(b, "{\"status\":\"ok\"}\n");
	else if (path != NULL && strcmp(path, "/readyz") == 0)
		status = admin_readyz(a, b);
	else if (path != NULL && strcmp(path, "/metrics") == 0) {
		sybuf_init(&text);
		if (metrics_render(a->a_metrics, &text, authn_reason_label) == -1)
			status = 503;
		else
			evbuffer_add(b, text.data, text.len);
		sybuf_free(&text);
		evhttp_add_header(out, "Content-Type",
		    "text/plain; version=0.0.4; charset=utf-8");
	} else {
		status = 404;
		evbuffer_add_printf(b, "{\"error\":\"not found\"}\n");
	}
	if (evhttp_find_header(out, "Content-Type") == NULL)
		evhttp_add_header(out, "Content-Type", "application/json");
	evhttp_send_reply(req, status, http_reason(status), b);
	evbuffer_free(b);
}

struct admin *
admin_new(struct event_base *base, int fd, struct catalog *cat,
    struct authn *an, struct metrics *m)
{
	struct admin	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->a_http = evhttp_new(base)) == NULL ||
	    (a->a_sock = evhttp_accept_socket_with_handle(a->a_http, fd)) ==
	    NULL) {
		log_warnx("%s: cannot serve the admin listener", __func__);
		admin_free(a);
		return (NULL);
	}
	a->a_cat = cat;
	a->a_authn = an;
	a->a_metrics = m;
	evhttp_set_allowed_methods(a->a_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE);
	evhttp_set_timeout(a->a_http, 10);
	evhttp_set_gencb(a->a_http, admin_cb, a);
	return (a);
}

void
admin_set_api(struct admin *a, struct admin_api *api, size_t max_body)
{
	if (a == NULL)
		return;
	a->a_api = api;
	evhttp_set_max_body_size(a->a_http, max_body);
}

void
admin_stop(struct admin *a)
{
	if (a == NULL || a->a_sock == NULL)
		return;
	evhttp_del_accept_socket(a->a_http, a->a_sock);
	a->a_sock = NULL;
}

void
admin_free(struct admin *a)
{
	if (a == NULL)
		return;
	if (a->a_http != NULL)
		evhttp_free(a->a_http);
	free(a);
}
