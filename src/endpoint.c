/*
 * endpoint.c: the endpoint record, both ways.  endpoint_encode checks one
 * endpoint of the config (SPEC section 3) and writes its registry record
 * with every default filled in, so that workers never apply defaults of
 * their own; endpoint_decode turns a record back into a struct
 * sy_endpoint.  Keeping both directions here keeps the record format in
 * one file.
 *
 * Encoding runs in the master at config time and may abort on a failed
 * allocation (xmalloc).  Decoding runs in workers on a cache miss: it
 * trusts nothing in the record (the registry is a file on disk, and the
 * decoder is fuzzed), never aborts, and leaves nothing allocated when it
 * fails.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "endpoint.h"
#include "jconf.h"
#include "jpath.h"
#include "jwrite.h"
#include "rule.h"
#include "util.h"

#define EP_TIMEOUT_DEF	"60"	/* seconds, as record text */
#define EP_TIMEOUT_MAX	86400.0

static const char *const ep_methods[] = {
	"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"
};
/* indexed by enum ep_hdr_op */
static const char *const ep_ops[] = { "set", "add", "del" };

#define EP_NMETHODS	(sizeof(ep_methods) / sizeof(ep_methods[0]))
#define EP_NOPS		(sizeof(ep_ops) / sizeof(ep_ops[0]))
/* append a string literal to the record */
#define EP_PUT_LIT(b, s)	ep_put((b), (s), sizeof(s) - 1)

/*
 * Checks shared by both directions.
 */

/* A header name: RFC 9110 token characters, at least one. */
static int
ep_is_token(const char *s, size_t len)
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
static const char *
ep_name_problem(const char *name)
{
	if (strcasecmp(name, "X-SC-Token") == 0)
		return ("is the token switchyard signs itself");
	if (endpoint_header_forbidden(name))
		return ("is a hop-by-hop or framing header, which switchyard "
		    "sets itself");
	return (NULL);
}

/* A header value naming a variable: "auth." or "args." then a path. */
static int
ep_is_var(const char *s)
{
	if (strncmp(s, "auth.", 5) != 0 && strncmp(s, "args.", 5) != 0)
		return (0);
	return (jpath_valid(s + 5, strlen(s + 5)));
}

/*
 * Why a header value cannot be sent, or NULL.  HTAB is the only control
 * character a field value may hold; CR and LF would split the request.
 */
static const char *
ep_value_problem(const char *s, size_t len)
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
 * Encoding: config time, in the master.
 */

/*
 * The record is written as text while the endpoint is checked, member
 * by member in the order endpoint.h gives, exactly as json-c writes it
 * with JWRITE_FLAGS (jwrite.c).  When a check fails the text is
 * dropped, so only a record without errors needs to be well formed.
 */

/* Config time: a failed allocation aborts, as in xmalloc. */
static void __attribute__((noreturn))
ep_oom(const char *what)
{
	fprintf(stderr, "switchyard: %s: out of memory\n", what);
	abort();
}

/* Append to the record. */
static void
ep_put(struct sybuf *b, const char *s, size_t len)
{
	if (sybuf_add(b, s, len) == -1)
		ep_oom(__func__);
}

static void
ep_put_esc(struct sybuf *b, const char *s, size_t len)
{
	if (jwrite_esc(b, s, len) == -1)
		ep_oom(__func__);
}

static void
ep_put_str(struct sybuf *b, const char *s, size_t len)
{
	if (jwrite_str(b, s, len) == -1)
		ep_oom(__func__);
}

/* Append v (NULL: null) as json-c writes it. */
static void
ep_put_json(struct sybuf *b, struct json_object *v)
{
	if (jwrite_value(b, v) == -1)
		ep_oom(__func__);
}

/* Returns the kind, or -1 when it is bad. */
static int
ep_enc_kind(struct json_object *v, const char *path, struct sybuf *rec,
    struct syerrs *errs)
{
	struct json_object	*k = jconf_get(v, "kind");
	const char		*s;
	int			 kind = EP_KIND_INTERNAL;

	if (k != NULL && !jconf_is_string(k)) {
		jconf_err(errs, path, "kind",
		    "must be \"internal\" or \"external\"");
		return (-1);
	}
	s = k ? json_object_get_string(k) : "";
	if (strcasecmp(s, "external") == 0)
		kind = EP_KIND_EXTERNAL;
	else if (*s != '\0' && strcasecmp(s, "internal") != 0) {
		jconf_err(errs, path, "kind", "unknown kind \"%s\" (expected "
		    "\"internal\" or \"external\")", s);
		return (-1);
	}
	if (kind == EP_KIND_INTERNAL)
		EP_PUT_LIT(rec, ",\"kind\":\"internal\"");
	else
		EP_PUT_LIT(rec, ",\"kind\":\"external\"");
	return (kind);
}

static void
ep_enc_method(struct json_object *v, const char *path, struct sybuf *rec,
    struct syerrs *errs)
{
	struct json_object	*m = jconf_get(v, "method");
	const char		*s;
	size_t			 i;

	if (m != NULL && !jconf_is_string(m)) {
		jconf_err(errs, path, "method", "must be a string such as "
		    "\"POST\"");
		return;
	}
	s = m ? json_object_get_string(m) : "";
	if (*s == '\0')
		s = "POST";
	for (i = 0; i < EP_NMETHODS; i++) {
		if (strcasecmp(s, ep_methods[i]) == 0) {
			EP_PUT_LIT(rec, ",\"method\":");
			ep_put_str(rec, ep_methods[i], strlen(ep_methods[i]));
			return;
		}
	}
	jconf_err(errs, path, "method", "unknown method \"%s\" (expected GET, "
	    "POST, PUT, PATCH, DELETE, HEAD or OPTIONS)", s);
}

/*
 * The "url" member: the service url without trailing '/', then path
 * with a leading '/'.
 */
static void
ep_put_join(struct sybuf *rec, const char *base, const char *path,
    size_t plen)
{
	size_t	blen = strlen(base);

	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	EP_PUT_LIT(rec, ",\"url\":\"");
	ep_put_esc(rec, base, blen);
	if (path[0] != '/')
		EP_PUT_LIT(rec, "/");
	ep_put_esc(rec, path, plen);
	EP_PUT_LIT(rec, "\"");
}

/* Returns 1 when "url" went into rec. */
static int
ep_enc_url(struct json_object *v, const char *path, int kind,
    const char *svc_url, struct sybuf *rec, struct syerrs *errs)
{
	struct json_object	*p = jconf_get(v, "path");
	const char		*s, *why;
	size_t			 len;

	if (p == NULL) {
		jconf_err(errs, path, NULL, "missing \"path\"");
		return (0);
	}
	if (!jconf_is_string(p)) {
		jconf_err(errs, path, "path", "must be a string");
		return (0);
	}
	s = json_object_get_string(p);
	len = json_object_get_string_len(p);
	if (jconf_has_space(s, len)) {
		jconf_err(errs, path, "path", "must not contain spaces or "
		    "control characters");
		return (0);
	}
	if (kind == -1)
		return (0);
	if (kind == EP_KIND_EXTERNAL) {
		if ((why = endpoint_check_url(s)) != NULL) {
			jconf_err(errs, path, "path", "malformed URL "
			    "\"%s\" (%s; an external endpoint's path is a "
			    "full http:// or https:// URL)", s, why);
			return (0);
		}
		EP_PUT_LIT(rec, ",\"url\":");
		ep_put_str(rec, s, len);
		return (1);
	}
	if (strncasecmp(s, "http://", 7) == 0 ||
	    strncasecmp(s, "https://", 8) == 0) {
		jconf_err(errs, path, "path", "is a full URL (add \"kind\": "
		    "\"external\" to call it)");
		return (0);
	}
	if (svc_url == NULL)
		return (0);
	ep_put_join(rec, svc_url, s, len);
	return (1);
}

static void
ep_enc_timeout(struct json_object *v, const char *path, struct sybuf *rec,
    struct syerrs *errs)
{
	struct json_object	*t = jconf_get(v, "timeout");
	double			 d;

	if (t == NULL) {
		EP_PUT_LIT(rec, ",\"timeout\":" EP_TIMEOUT_DEF);
		return;
	}
	d = json_object_get_double(t);
	if ((!json_object_is_type(t, json_type_int) &&
	    !json_object_is_type(t, json_type_double)) || !isfinite(d) ||
	    d <= 0 || d > EP_TIMEOUT_MAX) {
		jconf_err(errs, path, "timeout", "must be a number of seconds "
		    "greater than 0 and at most %g", EP_TIMEOUT_MAX);
		return;
	}
	EP_PUT_LIT(rec, ",\"timeout\":");
	ep_put_json(rec, t);
}

static void
ep_enc_rule(struct json_object *v, const char *path, struct sybuf *rec,
    struct syerrs *errs)
{
	struct json_object	*r = jconf_get(v, "rule");
	char			*rpath;
	size_t			 len = strlen(path);

	if (r == NULL) {
		jconf_err(errs, path, NULL, "missing \"rule\" (use "
		    "{\"rule\": \"allow\"} to make the endpoint public)");
		return;
	}
	/* "<path>.rule" */
	rpath = xmalloc(len + sizeof(".rule"));
	memcpy(rpath, path, len);
	memcpy(rpath + len, ".rule", sizeof(".rule"));
	rule_free(rule_compile(r, rpath, errs));
	free(rpath);
	/* the record carries the rule as written; workers compile it */
	EP_PUT_LIT(rec, ",\"rule\":");
	ep_put_json(rec, r);
}

/* Returns the op, or -1 when it is bad. */
static int
ep_enc_op(struct json_object *h, const char *hpath, struct syerrs *errs)
{
	struct json_object	*o = jconf_get(h, "op");
	const char		*s;
	size_t			 i;

	if (o == NULL)
		return (EP_HDR_SET);
	if (!jconf_is_string(o)) {
		jconf_err(errs, hpath, "op", "must be \"set\", \"add\" or "
		    "\"del\"");
		return (-1);
	}
	s = json_object_get_string(o);
	if (*s == '\0')
		return (EP_HDR_SET);
	for (i = 0; i < EP_NOPS; i++)
		if (strcasecmp(s, ep_ops[i]) == 0)
			return ((int)i);
	jconf_err(errs, hpath, "op", "unknown op \"%s\" (expected \"set\", "
	    "\"add\" or \"del\")", s);
	return (-1);
}

/*
 * The header operation h names header name: it must not be forbidden,
 * and Host may only be set, to a literal (a name-based virtual host).
 */
static void
ep_enc_header_name(struct json_object *h, const char *name, int op,
    const char *hpath, struct syerrs *errs)
{
	struct json_object	*val;
	const char		*why;

	if ((why = ep_name_problem(name)) != NULL) {
		jconf_err(errs, hpath, "key", "\"%s\" %s", name, why);
		return;
	}
	if (strcasecmp(name, "Host") != 0)
		return;
	if (op == EP_HDR_ADD || op == EP_HDR_DEL)
		jconf_err(errs, hpath, "op", "\"%s\" may only be \"set\" (to a "
		    "literal host name)", name);
	else if (op == EP_HDR_SET && (val = jconf_get(h, "value")) != NULL &&
	    jconf_is_string(val) && ep_is_var(json_object_get_string(val)))
		jconf_err(errs, hpath, "value", "\"%s\" may only be set to a "
		    "literal host name, not to a variable", name);
}

/* Check header h and append it to the "headers" array in rec. */
static void
ep_enc_header(struct json_object *h, const char *hpath, struct sybuf *rec,
    struct syerrs *errs)
{
	struct json_object	*k, *val;
	const char		*why;
	int			 op;

	if (!json_object_is_type(h, json_type_object)) {
		syerrs_add(errs, hpath, "must be an object with \"key\", "
		    "\"value\" and \"op\"");
		return;
	}
	op = ep_enc_op(h, hpath, errs);
	if ((k = jconf_get(h, "key")) == NULL)
		syerrs_add(errs, hpath, "missing \"key\"");
	else if (!jconf_is_string(k) || !ep_is_token(json_object_get_string(k),
	    json_object_get_string_len(k)))
		jconf_err(errs, hpath, "key", "must be a header name");
	else
		ep_enc_header_name(h, json_object_get_string(k), op, hpath,
		    errs);
	val = jconf_get(h, "value");
	if (op == EP_HDR_DEL)
		val = NULL;	/* "del" needs no value; any is ignored */
	else if (val == NULL)
		syerrs_add(errs, hpath, "missing \"value\"");
	else if (!jconf_is_string(val))
		jconf_err(errs, hpath, "value", "must be a string");
	else if (!ep_is_var(json_object_get_string(val)) &&
	    (why = ep_value_problem(json_object_get_string(val),
	    json_object_get_string_len(val))) != NULL)
		jconf_err(errs, hpath, "value", "a literal header value %s",
		    why);
	if (op == -1 || k == NULL)
		return;
	EP_PUT_LIT(rec, "{\"key\":");
	ep_put_json(rec, k);
	EP_PUT_LIT(rec, ",\"value\":");
	ep_put_json(rec, val);
	EP_PUT_LIT(rec, ",\"op\":");
	ep_put_str(rec, ep_ops[op], strlen(ep_ops[op]));
	EP_PUT_LIT(rec, "}");
}

static void
ep_enc_headers(struct json_object *v, const char *path, struct sybuf *rec,
    struct syerrs *errs)
{
	struct json_object	*h = jconf_get(v, "headers");
	char			*hpath;
	size_t			 i;

	EP_PUT_LIT(rec, ",\"headers\":[");
	if (h != NULL && !json_object_is_type(h, json_type_array)) {
		jconf_err(errs, path, "headers", "must be an array of "
		    "{\"key\", \"value\", \"op\"} objects");
		return;
	}
	for (i = 0; h != NULL && i < json_object_array_length(h); i++) {
		if (i > 0)
			EP_PUT_LIT(rec, ",");
		hpath = sy_must(jconf_strf("%s.headers[%zu]", path, i));
		ep_enc_header(json_object_array_get_idx(h, i), hpath, rec,
		    errs);
		free(hpath);
	}
	EP_PUT_LIT(rec, "]");
}

static void
ep_enc_token(struct json_object *v, const char *path, struct sybuf *rec,
    struct syerrs *errs)
{
	struct json_object	*t = jconf_get(v, "token");

	/* Space Cloud writes "" for no token */
	if (t != NULL && jconf_is_string(t) &&
	    json_object_get_string_len(t) == 0)
		t = NULL;
	if (t != NULL && (!jconf_is_string(t) ||
	    ep_value_problem(json_object_get_string(t),
	    json_object_get_string_len(t)) != NULL)) {
		jconf_err(errs, path, "token", "must be a string without "
		    "control characters");
		return;
	}
	EP_PUT_LIT(rec, ",\"token\":");
	ep_put_json(rec, t);
}

static void
ep_enc_names(struct json_object *v, const char *path, const char *member,
    struct sybuf *rec, struct syerrs *errs)
{
	struct json_object	*a = jconf_get(v, member), *s;
	const char		*why;
	char			*npath;
	size_t			 i;

	if (a != NULL && !json_object_is_type(a, json_type_array)) {
		jconf_err(errs, path, member,
		    "must be an array of header names");
		return;
	}
	for (i = 0; a != NULL && i < json_object_array_length(a); i++) {
		s = json_object_array_get_idx(a, i);
		npath = sy_must(jconf_strf("%s.%s[%zu]", path, member, i));
		if (!jconf_is_string(s) ||
		    !ep_is_token(json_object_get_string(s),
		    json_object_get_string_len(s)))
			syerrs_add(errs, npath, "must be a header name");
		else if ((why = ep_name_problem(json_object_get_string(s))) !=
		    NULL)
			syerrs_add(errs, npath, "\"%s\" %s",
			    json_object_get_string(s), why);
		else if (strcasecmp(json_object_get_string(s), "Host") == 0)
			syerrs_add(errs, npath, "\"%s\" cannot be passed on "
			    "(set it in \"headers\" to a literal host name)",
			    json_object_get_string(s));
		free(npath);
	}
	EP_PUT_LIT(rec, ",");
	ep_put_str(rec, member, strlen(member));
	EP_PUT_LIT(rec, ":");
	if (a != NULL)
		ep_put_json(rec, a);
	else
		EP_PUT_LIT(rec, "[]");
}

static void
ep_enc_sctoken(struct json_object *v, const char *path, struct sybuf *rec,
    struct syerrs *errs)
{
	struct json_object	*t = jconf_get(v, "scToken"), *b = NULL;

	if (t != NULL && !json_object_is_type(t, json_type_object)) {
		jconf_err(errs, path, "scToken", "must be an object such as "
		    "{\"bindRequest\": true}");
		return;
	}
	if (t != NULL && (b = jconf_get(t, "bindRequest")) != NULL &&
	    !json_object_is_type(b, json_type_boolean)) {
		jconf_err(errs, path, "scToken.bindRequest", "must be true or "
		    "false");
		return;
	}
	if (b != NULL && json_object_get_boolean(b))
		EP_PUT_LIT(rec, ",\"scToken\":{\"bindRequest\":true}");
	else
		EP_PUT_LIT(rec, ",\"scToken\":{\"bindRequest\":false}");
}

int
endpoint_encode(struct json_object *v, const char *path, const char *project,
    const char *service, const char *name, const char *svc_url,
    struct sybuf *rec, struct syerrs *errs)
{
	size_t	nerr = errs->n;
	int	kind, has_url;

	sybuf_reset(rec);
	if (!json_object_is_type(v, json_type_object)) {
		syerrs_add(errs, path, "must be an object");
		return (-1);
	}
	EP_PUT_LIT(rec, "{\"project\":");
	ep_put_str(rec, project, strlen(project));
	EP_PUT_LIT(rec, ",\"service\":");
	ep_put_str(rec, service, strlen(service));
	EP_PUT_LIT(rec, ",\"endpoint\":");
	ep_put_str(rec, name, strlen(name));
	kind = ep_enc_kind(v, path, rec, errs);
	ep_enc_method(v, path, rec, errs);
	has_url = ep_enc_url(v, path, kind, svc_url, rec, errs);
	ep_enc_timeout(v, path, rec, errs);
	ep_enc_rule(v, path, rec, errs);
	ep_enc_headers(v, path, rec, errs);
	ep_enc_token(v, path, rec, errs);
	ep_enc_names(v, path, "forwardHeaders", rec, errs);
	ep_enc_names(v, path, "responseHeaders", rec, errs);
	ep_enc_sctoken(v, path, rec, errs);
	EP_PUT_LIT(rec, "}");
	/*
	 * Space Cloud members that switchyard cannot honour yet ("tmpl",
	 * "requestTemplate", "responseTemplate", "graphTemplate", "claims",
	 * "outputFormat" other than "json", "cacheOptions") are ignored like
	 * every unknown member; whether to warn about them is still open.
	 */
	return (has_url && errs->n == nerr ? 0 : -1);
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
		    !ep_is_token(json_object_get_string(s),
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
		if (strcmp(ep->method, ep_methods[i]) == 0)
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
		if (strcmp(op, ep_ops[i]) == 0)
			break;
	free(op);
	if (i == EP_NOPS)
		return (ed_fail(err, "a header has a bad \"op\""));
	eh->op = (enum ep_hdr_op)i;
	if (ed_str(h, "key", 1, &eh->key, err) == -1)
		return (-1);
	if (!ep_is_token(eh->key, strlen(eh->key)))
		return (ed_fail(err, "a header has a bad \"key\""));
	if (eh->op == EP_HDR_DEL)
		return (0);
	if (ed_str(h, "value", 1, &eh->value, err) == -1)
		return (-1);
	eh->is_var = ep_is_var(eh->value);
	if (!eh->is_var && ep_value_problem(eh->value,
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
	    ep_value_problem(ep->token, strlen(ep->token)) != NULL)
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
	    ed_extras(root, ep, err) == -1) {
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

static void
ep_free_names(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
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
	ep_free_names(ep->fwd_headers, ep->nfwd_headers);
	ep_free_names(ep->resp_headers, ep->nresp_headers);
	free(ep);
}
