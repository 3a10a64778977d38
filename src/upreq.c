/*
 * upreq.c: builds the upstream request of one call (upreq.h) from the
 * endpoint, the principal, the params and the caller's headers.  Pure
 * computation on the request path: nothing here blocks, logs or aborts;
 * out of memory is -1.  Headers are kept as "Name: value" entries in
 * one buffer, in the contract's order; a deleted entry is skipped.
 * Headers that frame a message, belong to one hop, carry the gateway's
 * identity or name the Host are refused by the config and, whatever a
 * registry holds, never emitted from header operations or
 * forwardHeaders here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "endpoint.h"
#include "project.h"
#include "rule.h"
#include "tmpl.h"
#include "upreq.h"
#include "upstream.h"
#include "util.h"

#define UPREQ_GONE	((size_t)-1)
#define UPREQ_FIXED	4	/* Authorization, X-SC-Token, id, type */
#define UPREQ_URL_HINT	256	/* bytes reserved at once */
#define UPREQ_STORE_HINT 1024

int
upreq_needs_params(const struct sy_endpoint *ep)
{
	size_t	i;

	if (ep->url_vars || !ep->has_body || rule_needs_params(ep->rule))
		return (1);
	for (i = 0; i < ep->nheaders; i++)
		if (ep->headers[i].is_var &&
		    strncmp(ep->headers[i].value, "args.", 5) == 0)
			return (1);
	return (0);
}

/* The upstream URL: template expanded, plus the query for GET/HEAD. */
static int
upreq_url(struct upreq *r, const struct upreq_in *in, char **err)
{
	const struct sy_endpoint	*ep = in->ep;
	int				 rc = 0;

	if (ep->url_vars)
		rc = tmpl_expand(&r->url, ep->url, in->params, in->claims, err);
	else if (sybuf_addstr(&r->url, ep->url) == -1)
		rc = -1;
	if (rc == 0 && !ep->has_body && tmpl_query(&r->url, in->params) == -1)
		rc = -1;
	if (rc == -1 && *err == NULL)
		*err = strdup("out of memory");
	return (rc);
}

static int
upreq_is(const struct upreq *r, size_t i, const char *name)
{
	size_t	n = strlen(name);
	char	*e;

	if (r->off[i] == UPREQ_GONE)
		return (0);
	e = r->store.data + r->off[i];
	return (strncasecmp(e, name, n) == 0 && e[n] == ':');
}

static void
upreq_del(struct upreq *r, const char *name)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		if (upreq_is(r, i, name))
			r->off[i] = UPREQ_GONE;
}

static int
upreq_add(struct upreq *r, const char *name, const char *value)
{
	if (r->n == r->cap)
		return (-1);
	r->off[r->n++] = r->store.len;
	/* hot path: plain copies, no printf */
	if (sybuf_addstr(&r->store, name) == -1 ||
	    sybuf_add(&r->store, ": ", 2) == -1 ||
	    sybuf_add(&r->store, value, strlen(value) + 1) == -1)
		return (-1);
	return (0);
}

/* The value of a header operation; NULL with *err on a bad variable. */
static const char *
upreq_header_value(const struct ep_header *eh, const struct upreq_in *in,
    struct sybuf *tmp, char **err)
{
	struct json_object	*v;
	const char		*p = eh->value + 5;

	if (!eh->is_var)
		return (eh->value);
	/* args.X reads the params, auth.X the verified claims */
	v = tmpl_lookup(strncmp(eh->value, "args.", 5) == 0 ? in->params :
	    in->claims, p, strlen(p));
	sybuf_reset(tmp);
	if (v == NULL || tmpl_scalar_text(tmp, v) == -1 ||
	    strpbrk(tmp->data, "\r\n") != NULL) {
		if (asprintf(err, "header variable %s is missing, not a "
		    "scalar, or holds CR or LF", eh->value) == -1)
			*err = NULL;
		return (NULL);
	}
	return (tmp->data);
}

int
upreq_header_refused(const char *name)
{
	return (endpoint_header_forbidden(name) ||
	    strcasecmp(name, "Host") == 0);
}

static const char *
upreq_client(const struct upreq_in *in, const char *name)
{
	return (in->header != NULL ? in->header(in->header_arg, name) : NULL);
}

/* The endpoint's header operations, then forwardHeaders. */
static int
upreq_endpoint_headers(struct upreq *r, const struct upreq_in *in,
    struct sybuf *tmp, char **err)
{
	const struct sy_endpoint	*ep = in->ep;
	const struct ep_header		*eh;
	const char			*v;
	size_t				 i;

	for (i = 0; i < ep->nheaders; i++) {
		eh = &ep->headers[i];
		if (endpoint_header_forbidden(eh->key) ||
		    (strcasecmp(eh->key, "Host") == 0 &&
		    (eh->op != EP_HDR_SET || eh->is_var)))
			continue;
		if (eh->op != EP_HDR_ADD)
			upreq_del(r, eh->key);
		if (eh->op == EP_HDR_DEL)
			continue;
		if ((v = upreq_header_value(eh, in, tmp, err)) == NULL ||
		    upreq_add(r, eh->key, v) == -1)
			return (-1);
	}
	for (i = 0; i < ep->nfwd_headers; i++) {
		/* the gateway's own identity header is never the caller's */
		if (upreq_header_refused(ep->fwd_headers[i]) ||
		    (v = upreq_client(in, ep->fwd_headers[i])) == NULL)
			continue;
		if (upreq_add(r, ep->fwd_headers[i], v) == -1)
			return (-1);
	}
	return (0);
}

const char *
upreq_url_path(const char *url, size_t *len)
{
	const char	*p, *q;

	p = strstr(url, "://");
	p = p != NULL ? p + 3 : url;
	if ((p = strchr(p, '/')) == NULL) {
		*len = 1;
		return ("/");
	}
	q = strchr(p, '?');
	*len = q != NULL ? (size_t)(q - p) : strlen(p);
	return (p);
}

/* The X-SC-Token value for this call, or NULL (none, or no memory). */
static const char *
upreq_sc_token(struct upreq *r, const struct upreq_in *in)
{
	const struct sy_endpoint	*ep = in->ep;
	const char			*path;
	size_t				 plen;

	if (!ep->bind_token)
		return (project_sc_token(in->proj, in->node_id, in->now));
	path = upreq_url_path(r->url.data, &plen);
	r->sc_owned = project_bound_token(in->proj, in->node_id, ep->service,
	    ep->method, path, plen, ep->has_body ? in->body : "",
	    ep->has_body ? in->body_len : 0, in->now);
	return (r->sc_owned);
}

static int
upreq_headers(struct upreq *r, const struct upreq_in *in, char **err)
{
	const struct sy_endpoint	*ep = in->ep;
	struct sybuf			 tmp;
	const char			*auth, *sc;
	int				 rc = -1;

	sybuf_init(&tmp);
	if (ep->token != NULL) {
		if (sybuf_printf(&tmp, "%s%s", strncasecmp(ep->token,
		    "Bearer ", 7) == 0 ? "" : "Bearer ", ep->token) == -1 ||
		    upreq_add(r, "Authorization", tmp.data) == -1)
			goto out;
	} else if ((auth = upreq_client(in, "Authorization")) != NULL &&
	    upreq_add(r, "Authorization", auth) == -1)
		goto out;
	if ((sc = upreq_sc_token(r, in)) != NULL &&
	    upreq_add(r, "X-SC-Token", sc) == -1)
		goto out;
	if (upreq_add(r, "X-Request-Id", in->reqid) == -1 ||
	    (ep->has_body &&
	    upreq_add(r, "Content-Type", "application/json") == -1))
		goto out;
	rc = upreq_endpoint_headers(r, in, &tmp, err);
out:
	sybuf_free(&tmp);
	if (rc == -1 && *err == NULL)
		*err = strdup("cannot build the upstream headers");
	return (rc);
}

int
upreq_build(struct upreq *r, const struct upreq_in *in, char **err)
{
	size_t	i;

	memset(r, 0, sizeof(*r));
	sybuf_init(&r->url);
	sybuf_init(&r->store);
	*err = NULL;
	r->cap = UPREQ_FIXED + in->ep->nheaders + in->ep->nfwd_headers;
	/*
	 * One block for the offsets and the lines, and room for a typical
	 * request up front (two tokens, an id): no realloc while building.
	 */
	if ((r->off = sy_zalloc(r->cap, sizeof(*r->off) +
	    sizeof(*r->lines))) == NULL ||
	    sybuf_reserve(&r->url, UPREQ_URL_HINT) == -1 ||
	    sybuf_reserve(&r->store, UPREQ_STORE_HINT) == -1) {
		*err = strdup("out of memory");
		return (-1);
	}
	r->lines = (const char **)(void *)(r->off + r->cap);
	if (upreq_url(r, in, err) == -1 || upreq_headers(r, in, err) == -1)
		return (-1);
	for (i = 0; i < r->n; i++)
		if (r->off[i] != UPREQ_GONE)
			r->lines[r->nlines++] = r->store.data + r->off[i];
	return (0);
}

void
upreq_free(struct upreq *r)
{
	sybuf_free(&r->url);
	sybuf_free(&r->store);
	free(r->off);		/* and the lines, in the same block */
	free(r->sc_owned);
	memset(r, 0, sizeof(*r));
}

void
upreq_webhook(struct upstream_request *rq, const char *hdr[2], char *rid,
    size_t ridsize, const char *reqid, const char *body, size_t max_response,
    size_t max_headers)
{
	snprintf(rid, ridsize, "X-Request-Id: %s", reqid);
	hdr[0] = "Content-Type: application/json";
	hdr[1] = rid;
	memset(rq, 0, sizeof(*rq));
	rq->method = "POST";
	rq->has_body = 1;
	rq->body = body;
	rq->body_len = strlen(body);
	rq->headers = hdr;
	rq->nheaders = 2;
	rq->max_response = max_response;
	rq->max_headers = max_headers;
}
