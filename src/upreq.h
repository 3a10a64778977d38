/*
 * upreq.h: the upstream request of one call, built from the endpoint,
 * the caller's principal and the params (SPEC section 4, "The upstream
 * request"): URL (template expanded, GET/HEAD query), headers in the
 * contract's order (Authorization, X-SC-Token, X-Request-Id,
 * Content-Type, the endpoint's header operations, forwardHeaders).
 * Pure: no event loop, no transport; the caller's request headers are
 * read through an accessor, so REST and GraphQL build alike.
 */
#ifndef SY_UPREQ_H
#define SY_UPREQ_H

#include <stddef.h>

#include "util.h"

struct json_object;
struct sy_endpoint;
struct sy_project;
struct upstream_request;

/* A header of the caller's request by name, or NULL.  Borrowed. */
typedef const char *(*upreq_header_fn)(void *arg, const char *name);

struct upreq_in {
	const struct sy_endpoint *ep;
	struct sy_project	*proj;		/* signs the X-SC-Token */
	const char		*node_id;
	struct json_object	*params;	/* parsed, or NULL when unused */
	struct json_object	*claims;	/* verified, or NULL */
	const char		*body;		/* upstream body bytes */
	size_t			 body_len;
	const char		*reqid;
	upreq_header_fn		 header;	/* may be NULL: no headers */
	void			*header_arg;
	double			 now;		/* wall clock, for tokens */
};

struct upreq {
	struct sybuf	  url;
	struct sybuf	  store;	/* "Name: value\0" entries */
	size_t		 *off;		/* entry offsets; UPREQ_GONE: deleted */
	size_t		  n;
	size_t		  cap;
	const char	**lines;	/* the live entries, for upstream_start */
	size_t		  nlines;
	char		 *sc_owned;	/* a request-bound X-SC-Token */
};

/*
 * Whether building the request needs the params as JSON values (a URL
 * template, a GET query, a header variable from args), not just bytes.
 */
int	 upreq_needs_params(const struct sy_endpoint *);

/*
 * Build into r (initialized here; upreq_free it in every case).  0, or
 * -1 with *err (caller frees; NULL when even that failed): a path or
 * header variable missing or not a scalar (the caller's fault: 400).
 */
int	 upreq_build(struct upreq *r, const struct upreq_in *in, char **err);
void	 upreq_free(struct upreq *r);

/*
 * Whether forwardHeaders and responseHeaders never pass a header on:
 * one that frames a message or belongs to one hop, X-SC-Token, Host.
 */
int	 upreq_header_refused(const char *name);

/*
 * A rule webhook's request (SPEC 6), for REST and GraphQL calls alike:
 * a POST of body (JSON) with Content-Type and the request's id, at most
 * max_response body and max_headers header bytes; the URL and timeout
 * are the caller's to set.  hdr (two lines) and rid (ridsize bytes, for
 * the X-Request-Id line) are the caller's storage; rq borrows them and
 * body.
 */
void	 upreq_webhook(struct upstream_request *rq, const char *hdr[2],
	    char *rid, size_t ridsize, const char *reqid, const char *body,
	    size_t max_response, size_t max_headers);

/* The path of url, after the authority and before any query. */
const char *upreq_url_path(const char *url, size_t *len);

#endif
