/*
 * http_gql.c: the GraphQL route of the worker's HTTP front end,
 * POST|GET|OPTIONS /v1/api/{project}/graphql (SPEC 8.1, 8.2): method,
 * project, the request's members from a JSON body or the URL's query,
 * the response media type, then one request of the executor
 * (gql_exec.c) whose body becomes the reply.
 *
 * A GraphQL request is a struct rest like a REST one (http_int.h), so
 * that the connection table, the client watch and the one answer path
 * (http_send) serve both; r_gql is the executor's request, freed with
 * the rest in http_rest_end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>

#include "catalog.h"
#include "config.h"
#include "gql_exec.h"
#include "http.h"
#include "http_int.h"
#include "jconf.h"
#include "jwrite.h"
#include "log.h"
#include "metrics.h"
#include "project.h"
#include "util.h"

#define GQL_MEDIA	"application/graphql-response+json"

/* 0 and the project when path is /v1/api/{project}/graphql, else -1. */
static int
hg_route(const char *path, char *project)
{
	const char	*p, *slash;
	size_t		 n, i;

	if (strncmp(path, ROUTE_PREFIX, strlen(ROUTE_PREFIX)) != 0)
		return (-1);
	p = path + strlen(ROUTE_PREFIX);
	if ((slash = strchr(p, '/')) == NULL || strcmp(slash, "/graphql") != 0)
		return (-1);
	if ((n = (size_t)(slash - p)) == 0 || n > ROUTE_NAME_MAX)
		return (-1);
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' &&
		    p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
		    p[i] == '_' || p[i] == '-'))
			return (-1);
	memcpy(project, p, n);
	project[n] = '\0';
	return (0);
}

/* Whether Accept lists application/graphql-response+json, q > 0. */
static int
hg_wants_gql(const char *accept)
{
	const char	*p, *end, *q;
	size_t		 n = strlen(GQL_MEDIA);
	double		 qv;

	for (p = accept; p != NULL && *p != '\0'; p = end) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) < n || strncasecmp(p, GQL_MEDIA, n) != 0 ||
		    (p + n < end && p[n] != ';' && p[n] != ' ' &&
		    p[n] != '\t'))
			continue;
		qv = 1;
		for (q = p + n; q < end; q++)
			if (*q == ';') {
				while (q + 1 < end && (q[1] == ' ' ||
				    q[1] == '\t'))
					q++;
				if (q + 2 < end && (q[1] == 'q' ||
				    q[1] == 'Q') && q[2] == '=')
					qv = strtod(q + 3, NULL);
			}
		if (qv > 0)
			return (1);
	}
	return (0);
}

static void
hg_reply(struct rest *r, int status, const char *body, size_t len)
{
	struct evbuffer	*b;

	http_common_headers(r, 0, 1);
	http_head_add(r, "Content-Type", r->r_gql_media ?
	    GQL_MEDIA "; charset=utf-8" : "application/json");
	if (status == 405)
		http_head_add(r, "Allow", "GET, POST, OPTIONS");
	if ((b = evbuffer_new()) == NULL || evbuffer_add(b, body, len) == -1)
		evhttp_send_error(r->r_req, 500, NULL);
	else
		http_send(r, status, b);
	if (b != NULL)
		evbuffer_free(b);
}

/* An answer with errors only: {"errors":[{"message","extensions"}]}. */
static void
hg_error(struct rest *r, int status, const char *code, const char *msg)
{
	struct sybuf	b;

	sybuf_init(&b);
	if (sybuf_addstr(&b, "{\"errors\":[{\"message\":") == -1 ||
	    jwrite_str(&b, msg, strlen(msg)) == -1 ||
	    sybuf_printf(&b, ",\"extensions\":{\"code\":\"%s\"}}]}", code) ==
	    -1)
		evhttp_send_error(r->r_req, 500, NULL);
	else
		hg_reply(r, status, b.data, b.len);
	sybuf_free(&b);
}

/* application/x-www-form-urlencoded: '+' is a space, then %XX. */
static char *
hg_form_decode(const char *s, size_t n)
{
	char	*out, *o;
	size_t	 i;
	int	 hi, lo;

	if ((o = out = malloc(n + 1)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] == '%' && i + 2 < n &&
		    (hi = sy_hexval(s[i + 1])) != -1 &&
		    (lo = sy_hexval(s[i + 2])) != -1) {
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return (out);
}

/* The first value of name in the query string q (caller frees). */
static char *
hg_query_param(const char *q, const char *name)
{
	const char	*p, *end, *eq;
	size_t		 n = strlen(name);

	for (p = q; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		if ((end = strchr(p, '&')) == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL) {
			if ((size_t)(end - p) == n && memcmp(p, name, n) == 0)
				return (strdup(""));
			continue;
		}
		if ((size_t)(eq - p) == n && memcmp(p, name, n) == 0)
			return (hg_form_decode(eq + 1, (size_t)(end - eq - 1)));
	}
	return (NULL);
}

static struct json_object *
hg_parse_json(const char *s, size_t len)
{
	struct json_object	*v;

	return (jconf_parse(s, len, &v) == 0 ? v : NULL);
}

/* The request's three members; -1 when answered (400). */
struct hg_members {
	struct json_object	*body;		/* POST: the whole body */
	char			*get_query, *get_op, *get_vars;
	const char		*query;
	size_t			 query_len;
	const char		*opname;
	struct json_object	*vars;		/* borrowed or owned */
	int			 vars_owned;
};

static void
hg_members_free(struct hg_members *m)
{
	json_object_put(m->body);
	free(m->get_query);
	free(m->get_op);
	free(m->get_vars);
	if (m->vars_owned)
		json_object_put(m->vars);
}

static const char *
hg_post_members(struct rest *r, struct hg_members *m)
{
	struct evbuffer		*in;
	struct json_object	*q, *op, *vars;

	in = evhttp_request_get_input_buffer(r->r_req);
	if ((m->body = hg_parse_json((const char *)evbuffer_pullup(in, -1),
	    evbuffer_get_length(in))) == NULL)
		return ("the request body is not JSON");
	if (!json_object_is_type(m->body, json_type_object))
		return ("the request body is not a JSON object");
	if (!json_object_object_get_ex(m->body, "query", &q) ||
	    !json_object_is_type(q, json_type_string))
		return ("\"query\" is missing or not a string");
	m->query = json_object_get_string(q);
	m->query_len = (size_t)json_object_get_string_len(q);
	if (json_object_object_get_ex(m->body, "operationName", &op) &&
	    op != NULL) {
		if (!json_object_is_type(op, json_type_string))
			return ("\"operationName\" is not a string or null");
		m->opname = json_object_get_string(op);
	}
	if (json_object_object_get_ex(m->body, "variables", &vars) &&
	    vars != NULL) {
		if (!json_object_is_type(vars, json_type_object))
			return ("\"variables\" is not an object or null");
		m->vars = vars;
	}
	return (NULL);
}

static const char *
hg_get_members(struct rest *r, struct hg_members *m)
{
	const char	*qs;

	qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->r_req));
	if (qs == NULL || (m->get_query = hg_query_param(qs, "query")) ==
	    NULL)
		return ("the query parameter \"query\" is missing");
	m->query = m->get_query;
	m->query_len = strlen(m->get_query);
	if ((m->get_op = hg_query_param(qs, "operationName")) != NULL &&
	    m->get_op[0] != '\0')
		m->opname = m->get_op;
	if ((m->get_vars = hg_query_param(qs, "variables")) != NULL &&
	    m->get_vars[0] != '\0') {
		m->vars = hg_parse_json(m->get_vars, strlen(m->get_vars));
		m->vars_owned = 1;
		if (m->vars == NULL && strcmp(m->get_vars, "null") != 0)
			return ("the query parameter \"variables\" is not "
			    "JSON");
		if (m->vars != NULL &&
		    !json_object_is_type(m->vars, json_type_object))
			return ("\"variables\" is not an object or null");
	}
	return (NULL);
}

static void	hg_done(const struct gql_exec_result *, void *);

/* Read the request, start the executor: 0, or -1 when answered. */
static int
hg_start(struct rest *r)
{
	struct hg_members	 m;
	struct gql_exec_in	 in;
	const char		*why;

	memset(&m, 0, sizeof(m));
	why = evhttp_request_get_command(r->r_req) == EVHTTP_REQ_POST ?
	    hg_post_members(r, &m) : hg_get_members(r, &m);
	if (why != NULL) {
		hg_members_free(&m);
		hg_error(r, 400, "BAD_REQUEST", why);
		return (-1);
	}
	memset(&in, 0, sizeof(in));
	in.query = m.query;
	in.query_len = m.query_len;
	in.opname = m.opname;
	in.variables = m.vars;
	in.proj = r->r_proj;
	in.cat = r->r_h->h_cat;
	in.authn = r->r_h->h_authn;
	in.authorization = r->r_auth;
	in.start = r->r_start;
	in.reqid = r->r_reqid;
	in.header = http_client_header;
	in.header_arg = r;
	in.max_doc = evhttp_request_get_command(r->r_req) == EVHTTP_REQ_POST ?
	    r->r_h->h_srv->max_body_bytes : r->r_h->h_srv->max_header_bytes;
	r->r_gql = gql_exec_start(&r->r_h->h_call, &in, hg_done, r);
	hg_members_free(&m);
	if (r->r_gql == NULL) {
		hg_error(r, 503, "INTERNAL", "out of memory");
		return (-1);
	}
	return (0);
}

static void
hg_done(const struct gql_exec_result *res, void *arg)
{
	struct rest	*r = arg;

	r->r_gql_calls = res->calls;
	r->r_gql_statements = res->statements;
	r->r_gql_errors = res->field_errors;
	hg_reply(r, res->request_error && r->r_gql_media ? 400 : 200,
	    res->body, res->len);
	http_rest_end(r);
}

int
http_gql_admit(struct rest *r, const char *path)
{
	struct http	*h = r->r_h;
	char		 msg[ROUTE_NAME_MAX + 64];

	if (hg_route(path, r->r_routebuf.project) == -1)
		return (1);
	r->r_is_gql = 1;
	r->r_route = &r->r_routebuf;
	snprintf(r->r_routebuf.service, sizeof(r->r_routebuf.service),
	    "graphql");
	r->r_gql_media = hg_wants_gql(evhttp_find_header(
	    evhttp_request_get_input_headers(r->r_req), "Accept"));
	switch (evhttp_request_get_command(r->r_req)) {
	case EVHTTP_REQ_OPTIONS:
		http_preflight(r, "GET, POST");
		return (-1);
	case EVHTTP_REQ_POST:
	case EVHTTP_REQ_GET:
		break;
	default:
		hg_error(r, 405, "BAD_REQUEST", "method not allowed: use GET "
		    "or POST");
		return (-1);
	}
	if (h->h_draining) {
		hg_error(r, 503, "SHUTTING_DOWN", "shutting down");
		return (-1);
	}
	switch (catalog_find_project(h->h_cat, r->r_routebuf.project,
	    &r->r_proj)) {
	case CATALOG_OK:
		break;
	case CATALOG_NO_PROJECT:
		snprintf(msg, sizeof(msg), "project %s not found",
		    r->r_routebuf.project);
		hg_error(r, 404, "NOT_FOUND", msg);
		return (-1);
	default:
		hg_error(r, 500, "INTERNAL", "registry lookup failed");
		return (-1);
	}
	authn_prefetch(h->h_authn);
	if ((r->r_conn = http_cc_attach(h, r->r_req)) != NULL)
		r->r_conn->cc_rest = r;
	return (hg_start(r));
}
