/*
 * endpoint.c: the endpoint record, worker side, and the checks both
 * sides share.  endpoint_decode turns a record (written by
 * endpoint_enc.c at config time, with every default filled in) back into
 * a struct sy_endpoint; the header name and value checks here are the
 * ones the encoder applied, so a record that did not come from it is
 * refused the same way.
 *
 * Decoding runs in workers on a cache miss: it trusts nothing in the
 * record (the registry is a file on disk, and the decoder is fuzzed),
 * never aborts, and leaves nothing allocated when it fails.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "endpoint.h"
#include "endpoint_int.h"
#include "jconf.h"
#include "jpath.h"
#include "rule.h"
#include "util.h"

const char *const endpoint_methods[EP_NMETHODS] = {
	"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"
};
/* indexed by enum ep_hdr_op */
const char *const endpoint_ops[EP_NOPS] = { "set", "add", "del" };

/*
 * Checks shared by both directions.
 */

/* A header name: RFC 9110 token characters, at least one. */
int
endpoint_is_token(const char *s, size_t len)
{
	size_t	i;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9'))
			continue;
		if (s[i] == '\0' || strchr("!#$%&'*+-.^_`|~", s[i]) == NULL)
			return (0);
	}
	return (1);
}

/*
 * Headers no endpoint setting may name (SPEC section 3): hop-by-hop and
 * framing headers, which let a caller or an upstream frame messages on a
 * shared connection, and switchyard's own signed token.  "Proxy-*" is a
 * prefix.
 */
static const char *const ep_forbidden[] = {
	"Connection", "Keep-Alive", "TE", "Trailer", "Transfer-Encoding",
	"Upgrade", "Content-Length", "X-SC-Token"
};

int
endpoint_header_forbidden(const char *name)
{
	size_t	i;

	if (strncasecmp(name, "Proxy-", 6) == 0)
		return (1);
	for (i = 0; i < sizeof(ep_forbidden) / sizeof(ep_forbidden[0]); i++)
		if (strcasecmp(name, ep_forbidden[i]) == 0)
			return (1);
	return (0);
}

/* Why a setting may not name header name (a valid token), or NULL. */
const char *
endpoint_name_problem(const char *name)
{
	if (strcasecmp(name, "X-SC-Token") == 0)
		return ("is the token switchyard signs itself");
	if (endpoint_header_forbidden(name))
		return ("is a hop-by-hop or framing header, which switchyard "
		    "sets itself");
	return (NULL);
}

/* A header value naming a variable: "auth." or "args." then a path. */
int
endpoint_is_var(const char *s)
{
	if (strncmp(s, "auth.", 5) != 0 && strncmp(s, "args.", 5) != 0)
		return (0);
	return (jpath_valid(s + 5, strlen(s + 5)));
}

/*
 * Why a header value cannot be sent, or NULL.  HTAB is the only control
 * character a field value may hold; CR and LF would split the request.
 */
const char *
endpoint_value_problem(const char *s, size_t len)
{
	size_t	i;
	int	ctl = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			return ("must not contain CR or LF");
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			ctl = 1;
	}
	return (ctl ? "must not contain control characters" : NULL);
}

const char *
endpoint_check_url(const char *url)
{
	return (jconf_url_problem(url));
}

/*
 * Decoding: in workers.  Every failure leaves a message in *err (when
 * it can be allocated) and returns -1; the caller unrefs the partial
 * endpoint, which frees whatever was filled in.
 */

static int __attribute__((format(printf, 2, 3)))
ed_fail(char **err, const char *fmt, ...)
{
	struct sybuf	 b;
	va_list		 ap;
	char		*msg;

	if (err == NULL || *err != NULL)
		return (-1);
	va_start(ap, fmt);
	msg = jconf_vstrf(fmt, ap);
	va_end(ap);
	sybuf_init(&b);
	if (msg != NULL && sybuf_printf(&b, "endpoint record: %s", msg) == 0)
		*err = sybuf_detach(&b);
	sybuf_free(&b);
	free(msg);
	return (-1);
}

static int
ed_dup(struct json_object *s, char **out, char **err)
{
	if ((*out = strdup(json_object_get_string(s))) == NULL)
		return (ed_fail(err, "out of memory"));
	return (0);
}

/* A string member without NUL bytes; NULL when optional and absent. */
static int
ed_str(struct json_object *root, const char *key, int required, char **out,
    char **err)
{
	struct json_object	*s = jconf_get(root, key);

	*out = NULL;
	if (s == NULL)
		return (required ? ed_fail(err, "missing \"%s\"", key) : 0);
	if (!jconf_is_string(s) || strlen(json_object_get_string(s)) !=
	    (size_t)json_object_get_string_len(s))
		return (ed_fail(err, "\"%s\" is not a string", key));
	return (ed_dup(s, out, err));
}

/* An array of header names; empty when absent. */
static int
ed_names(struct json_object *root, const char *key, char ***out, size_t *n,
    char **err)
{
	struct json_object	*a = jconf_get(root, key), *s;
	size_t			 i, len;

	if (a == NULL)
		return (0);
	if (!json_object_is_type(a, json_type_array))
		return (ed_fail(err, "\"%s\" is not an array", key));
	if ((len = json_object_array_length(a)) == 0)
		return (0);
	if ((*out = calloc(len, sizeof(**out))) == NULL)
		return (ed_fail(err, "out of memory"));
	for (i = 0; i < len; i++) {
		s = json_object_array_get_idx(a, i);
		if (!jconf_is_string(s) ||
		    !endpoint_is_token(json_object_get_string(s),
		    json_object_get_string_len(s)))
			return (ed_fail(err, "\"%s\" holds a bad name", key));
		*n = i + 1;	/* before filling it, as in ed_headers */
		if (ed_dup(s, &(*out)[i], err) == -1)
			return (-1);
	}
	return (0);
}

static int
ed_target(struct json_object *root, struct sy_endpoint *ep, char **err)
{
	struct json_object	*t;
	char			*kind;
	size_t			 i;
	int			 rc;

	if (ed_str(root, "kind", 1, &kind, err) == -1)
		return (-1);
	rc = 0;
	if (strcmp(kind, "external") == 0)
		ep->kind = EP_KIND_EXTERNAL;
	else if (strcmp(kind, "internal") != 0)
		rc = ed_fail(err, "bad \"kind\"");
	free(kind);
	if (rc == -1 || ed_str(root, "method", 1, &ep->method, err) == -1)
		return (-1);
	for (i = 0; i < EP_NMETHODS; i++)
		if (strcmp(ep->method, endpoint_methods[i]) == 0)
			break;
	if (i == EP_NMETHODS)
		return (ed_fail(err, "bad \"method\""));
	ep->has_body = strcmp(ep->method, "GET") != 0 &&
	    strcmp(ep->method, "HEAD") != 0;
	if (ed_str(root, "url", 1, &ep->url, err) == -1)
		return (-1);
	if (endpoint_check_url(ep->url) != NULL)
		return (ed_fail(err, "bad \"url\""));
	ep->url_vars = strstr(ep->url, "{args.") != NULL ||
	    strstr(ep->url, "{auth.") != NULL;
	t = jconf_get(root, "timeout");
	if ((!json_object_is_type(t, json_type_int) &&
	    !json_object_is_type(t, json_type_double)))
		return (ed_fail(err, "missing or bad \"timeout\""));
	ep->timeout = json_object_get_double(t);
	if (!isfinite(ep->timeout) || ep->timeout <= 0 ||
	    ep->timeout > EP_TIMEOUT_MAX)
		return (ed_fail(err, "bad \"timeout\""));
	return (0);
}

static int
ed_rule(struct json_object *root, struct sy_endpoint *ep, char **err)
{
	struct json_object	*r = jconf_get(root, "rule");
	struct syerrs		 errs;

	if (r == NULL)
		return (ed_fail(err, "missing \"rule\""));
	syerrs_init(&errs);
	ep->rule = rule_compile(r, "rule", &errs);
	if (ep->rule == NULL)
		ed_fail(err, "%s", errs.n > 0 ? errs.msg[0] : "bad rule");
	syerrs_free(&errs);
	return (ep->rule == NULL ? -1 : 0);
}

static int
ed_header(struct json_object *h, struct ep_header *eh, char **err)
{
	char	*op;
	size_t	 i;

	if (!json_object_is_type(h, json_type_object))
		return (ed_fail(err, "a header is not an object"));
	if (ed_str(h, "op", 1, &op, err) == -1)
		return (-1);
	for (i = 0; i < EP_NOPS; i++)
		if (strcmp(op, endpoint_ops[i]) == 0)
			break;
	free(op);
	if (i == EP_NOPS)
		return (ed_fail(err, "a header has a bad \"op\""));
	eh->op = (enum ep_hdr_op)i;
	if (ed_str(h, "key", 1, &eh->key, err) == -1)
		return (-1);
	if (!endpoint_is_token(eh->key, strlen(eh->key)))
		return (ed_fail(err, "a header has a bad \"key\""));
	if (eh->op == EP_HDR_DEL)
		return (0);
	if (ed_str(h, "value", 1, &eh->value, err) == -1)
		return (-1);
	eh->is_var = endpoint_is_var(eh->value);
	if (!eh->is_var && endpoint_value_problem(eh->value,
	    strlen(eh->value)) != NULL)
		return (ed_fail(err, "a header has a bad \"value\""));
	return (0);
}

static int
ed_headers(struct json_object *root, struct sy_endpoint *ep, char **err)
{
	struct json_object	*a = jconf_get(root, "headers");
	size_t			 i, len;

	if (a == NULL)
		return (0);
	if (!json_object_is_type(a, json_type_array))
		return (ed_fail(err, "\"headers\" is not an array"));
	if ((len = json_object_array_length(a)) == 0)
		return (0);
	if ((ep->headers = calloc(len, sizeof(*ep->headers))) == NULL)
		return (ed_fail(err, "out of memory"));
	for (i = 0; i < len; i++) {
		/* count it first, so that unref frees a half-filled one */
		ep->nheaders = i + 1;
		if (ed_header(json_object_array_get_idx(a, i),
		    &ep->headers[i], err) == -1)
			return (-1);
	}
	return (0);
}

static int
ed_extras(struct json_object *root, struct sy_endpoint *ep, char **err)
{
	struct json_object	*t, *b = NULL;

	if (ed_str(root, "token", 0, &ep->token, err) == -1)
		return (-1);
	if (ep->token != NULL &&
	    endpoint_value_problem(ep->token, strlen(ep->token)) != NULL)
		return (ed_fail(err, "bad \"token\""));
	if (ed_names(root, "forwardHeaders", &ep->fwd_headers,
	    &ep->nfwd_headers, err) == -1 ||
	    ed_names(root, "responseHeaders", &ep->resp_headers,
	    &ep->nresp_headers, err) == -1)
		return (-1);
	if ((t = jconf_get(root, "scToken")) == NULL)
		return (0);
	if (!json_object_is_type(t, json_type_object) ||
	    ((b = jconf_get(t, "bindRequest")) != NULL &&
	    !json_object_is_type(b, json_type_boolean)))
		return (ed_fail(err, "bad \"scToken\""));
	ep->bind_token = b != NULL && json_object_get_boolean(b);
	return (0);
}

/* "upstreamClient": missing is the server's default. */
static int
ed_client(struct json_object *root, struct sy_endpoint *ep, char **err)
{
	struct json_object	*v;
	int			 c;

	if ((v = jconf_get(root, "upstreamClient")) == NULL)
		return (0);
	if ((c = endpoint_client_parse(v)) == -1)
		return (ed_fail(err, "bad \"upstreamClient\""));
	ep->client = c;
	return (0);
}

/* "caFile": missing is the system's trust store. */
static int
ed_ca(struct json_object *root, struct sy_endpoint *ep, char **err)
{
	return (ed_str(root, "caFile", 0, &ep->ca_file, err));
}

/* The record as a JSON object, or NULL: exactly one object, nothing after. */
static struct json_object *
ed_parse(const char *rec, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*root;

	if (rec == NULL || len > INT_MAX || (tok = json_tokener_new()) == NULL)
		return (NULL);
	json_tokener_set_flags(tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, rec, (int)len);
	if (root != NULL && (json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(root, json_type_object))) {
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tok);
	return (root);
}

struct sy_endpoint *
endpoint_decode(const char *rec, size_t len, char **err)
{
	struct json_object	*root;
	struct sy_endpoint	*ep;

	if (err != NULL)
		*err = NULL;
	if ((root = ed_parse(rec, len)) == NULL) {
		ed_fail(err, "not a JSON object");
		return (NULL);
	}
	if ((ep = calloc(1, sizeof(*ep))) == NULL) {
		json_object_put(root);
		ed_fail(err, "out of memory");
		return (NULL);
	}
	ep->refcnt = 1;
	if (ed_str(root, "project", 1, &ep->project, err) == -1 ||
	    ed_str(root, "service", 1, &ep->service, err) == -1 ||
	    ed_str(root, "endpoint", 1, &ep->name, err) == -1 ||
	    ed_target(root, ep, err) == -1 ||
	    ed_rule(root, ep, err) == -1 ||
	    ed_headers(root, ep, err) == -1 ||
	    ed_extras(root, ep, err) == -1 ||
	    ed_client(root, ep, err) == -1 ||
	    ed_ca(root, ep, err) == -1) {
		endpoint_unref(ep);
		ep = NULL;
	}
	json_object_put(root);
	return (ep);
}

struct sy_endpoint *
endpoint_ref(struct sy_endpoint *ep)
{
	ep->refcnt++;
	return (ep);
}

void
endpoint_unref(struct sy_endpoint *ep)
{
	size_t	i;

	if (ep == NULL || --ep->refcnt > 0)
		return;
	free(ep->project);
	free(ep->service);
	free(ep->name);
	free(ep->method);
	free(ep->url);
	rule_free(ep->rule);
	for (i = 0; i < ep->nheaders; i++) {
		free(ep->headers[i].key);
		free(ep->headers[i].value);
	}
	free(ep->headers);
	free(ep->token);
	free(ep->ca_file);
	sy_strv_free(ep->fwd_headers, ep->nfwd_headers);
	sy_strv_free(ep->resp_headers, ep->nresp_headers);
	free(ep);
}
