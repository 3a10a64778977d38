/*
 * endpoint.h: the compiled form of one registered endpoint, decoded from
 * its registry record once per registry generation and shared, by
 * reference count, between the worker's cache and its requests in flight.
 *
 * The record is the JSON text that endpoint_encode writes for config.c,
 * with every default filled in:
 *   {"project","service","endpoint","kind","method","url","timeout",
 *    "rule","headers","token","forwardHeaders","responseHeaders","scToken"}
 * where "url" is the complete upstream URL template (service url joined
 * with path for internal endpoints, path itself for external ones),
 * then "upstreamClient" and "caFile" when the service has them.
 */
#ifndef SY_ENDPOINT_H
#define SY_ENDPOINT_H

#include <stddef.h>

struct json_object;
struct rule;
struct sybuf;
struct syerrs;

enum ep_kind {
	EP_KIND_INTERNAL = 0,
	EP_KIND_EXTERNAL
};

enum ep_hdr_op {
	EP_HDR_SET = 0,
	EP_HDR_ADD,
	EP_HDR_DEL
};

/* The service's "upstreamClient": which client calls http:// URLs. */
enum ep_client {
	EP_CLIENT_DEFAULT = 0,	/* the server's upstreamClient */
	EP_CLIENT_NATIVE,	/* h1client.c */
	EP_CLIENT_CURL		/* libcurl */
};

struct ep_header {
	enum ep_hdr_op	 op;
	char		*key;
	char		*value;		/* NULL for del */
	int		 is_var;	/* value names auth.X or args.X */
};

struct sy_endpoint {
	int		 refcnt;
	char		*project;
	char		*service;
	char		*name;
	enum ep_kind	 kind;
	char		*method;	/* upper case, e.g. "POST" */
	int		 has_body;	/* method is not GET or HEAD */
	char		*url;		/* URL template */
	int		 url_vars;	/* url holds {args.X} or {auth.X} */
	double		 timeout;	/* seconds */
	struct rule	*rule;
	struct ep_header *headers;
	size_t		 nheaders;
	char		*token;		/* static upstream bearer token or NULL */
	char		**fwd_headers;
	size_t		 nfwd_headers;
	char		**resp_headers;
	size_t		 nresp_headers;
	int		 bind_token;	/* scToken.bindRequest */
	enum ep_client	 client;	/* the service's upstreamClient */
	char		*ca_file;	/* the service's caFile or NULL */
};

/*
 * Validate endpoint object v of the config, found at JSON path `path`,
 * and write its registry record (compact JSON text) into rec, replacing
 * what rec held, so that one buffer serves a whole config.  svc_url is
 * the service's validated "url", or NULL when it has none or it is
 * malformed: the caller reports that once for the service, and an
 * internal endpoint then gets no record.  Returns 0, or -1 when there
 * is no record (rec then holds nothing useful), with every problem
 * appended to errs.  Members switchyard does not know are ignored
 * (Space Cloud configs carry more).  A failed allocation aborts.
 */
int			 endpoint_encode(struct json_object *v,
			    const char *path, const char *project,
			    const char *service, const char *name,
			    const char *svc_url, struct sybuf *rec,
			    struct syerrs *errs);

/*
 * An "upstreamClient" value: "native" or "curl" (EP_CLIENT_NATIVE or
 * EP_CLIENT_CURL); -1 for anything else, null included.
 */
int			 endpoint_client_parse(struct json_object *v);

/*
 * Append "upstreamClient" to a record that endpoint_encode wrote (rec
 * ends with its closing brace).  EP_CLIENT_DEFAULT appends nothing.
 */
void			 endpoint_encode_client(struct sybuf *rec,
			    enum ep_client client);

/*
 * Append "caFile" (the absolute path of a PEM file of CA certificates,
 * compile.c checked it) to a record that endpoint_encode wrote; NULL
 * appends nothing.
 */
void			 endpoint_encode_ca(struct sybuf *rec,
			    const char *ca_file);

/*
 * NULL when url is "http://" or "https://" (any case), an optional
 * "user@", a host name or address ("[v6]" in brackets), an optional
 * ":port" (1-65535), then anything without spaces or control characters.
 * Otherwise a short reason, e.g. "it has no host" (static string).
 */
const char		*endpoint_check_url(const char *url);

/*
 * 1 when no endpoint setting ("headers", "forwardHeaders",
 * "responseHeaders") may name header name, in any letter case: the
 * hop-by-hop and framing headers Connection, Keep-Alive, Proxy-* (any
 * name that starts so), TE, Trailer, Transfer-Encoding, Upgrade,
 * Content-Length, and X-SC-Token (SPEC section 3).  0 otherwise.  Host is
 * not among them: it may be set in "headers" to a literal, and in no
 * other way; callers check it themselves.
 */
int			 endpoint_header_forbidden(const char *name);

/*
 * Decode a registry record.  Returns an endpoint with refcnt 1 (caller
 * releases it with endpoint_unref), or NULL with *err set to a message
 * the caller frees (NULL when even that allocation failed).  "headers",
 * "token", "forwardHeaders", "responseHeaders", "scToken",
 * "upstreamClient" and "caFile" may be missing or null (defaults); every other
 * member is required.  Any bytes are safe to pass.
 */
struct sy_endpoint	*endpoint_decode(const char *rec, size_t len, char **err);
/* Take another reference; returns its argument. */
struct sy_endpoint	*endpoint_ref(struct sy_endpoint *);
/* Drop a reference; the last one frees everything.  NULL is ignored. */
void			 endpoint_unref(struct sy_endpoint *);

#endif
