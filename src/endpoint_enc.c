/*
 * endpoint_enc.c: the endpoint record, config side.  endpoint_encode
 * checks one endpoint of the config (SPEC section 3) and writes its
 * registry record with every default filled in, so that workers never
 * apply defaults of their own (endpoint.c decodes it).  Runs in the
 * master at config time and aborts on a failed allocation, as xmalloc.
 */
#include <inttypes.h>
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
#include "jwrite.h"
#include "rule.h"
#include "util.h"

#define EP_TIMEOUT_DEF	"60"	/* seconds, as record text */
/* append a string literal to the record */
#define EP_PUT_LIT(b, s)	ep_put((b), (s), sizeof(s) - 1)

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
		if (strcasecmp(s, endpoint_methods[i]) == 0) {
			EP_PUT_LIT(rec, ",\"method\":");
			ep_put_str(rec, endpoint_methods[i],
			    strlen(endpoint_methods[i]));
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
		if (strcasecmp(s, endpoint_ops[i]) == 0)
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

	if ((why = endpoint_name_problem(name)) != NULL) {
		jconf_err(errs, hpath, "key", "\"%s\" %s", name, why);
		return;
	}
	if (strcasecmp(name, "Host") != 0)
		return;
	if (op == EP_HDR_ADD || op == EP_HDR_DEL)
		jconf_err(errs, hpath, "op", "\"%s\" may only be \"set\" (to a "
		    "literal host name)", name);
	else if (op == EP_HDR_SET && (val = jconf_get(h, "value")) != NULL &&
	    jconf_is_string(val) &&
	    endpoint_is_var(json_object_get_string(val)))
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
	else if (!jconf_is_string(k) ||
	    !endpoint_is_token(json_object_get_string(k),
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
	else if (!endpoint_is_var(json_object_get_string(val)) &&
	    (why = endpoint_value_problem(json_object_get_string(val),
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
	ep_put_str(rec, endpoint_ops[op], strlen(endpoint_ops[op]));
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
	    endpoint_value_problem(json_object_get_string(t),
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
		    !endpoint_is_token(json_object_get_string(s),
		    json_object_get_string_len(s)))
			syerrs_add(errs, npath, "must be a header name");
		else if ((why = endpoint_name_problem(
		    json_object_get_string(s))) != NULL)
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

int
endpoint_client_parse(struct json_object *v)
{
	const char	*s;

	if (!jconf_is_string(v))
		return (-1);
	s = json_object_get_string(v);
	if (strcmp(s, "native") == 0)
		return (EP_CLIENT_NATIVE);
	if (strcmp(s, "curl") == 0)
		return (EP_CLIENT_CURL);
	return (-1);
}

void
endpoint_encode_client(struct sybuf *rec, enum ep_client client)
{
	if (client == EP_CLIENT_DEFAULT || rec->len == 0)
		return;
	rec->len--;		/* the closing brace */
	if (client == EP_CLIENT_CURL)
		EP_PUT_LIT(rec, ",\"upstreamClient\":\"curl\"}");
	else
		EP_PUT_LIT(rec, ",\"upstreamClient\":\"native\"}");
}

void
endpoint_encode_ca(struct sybuf *rec, const char *ca_file)
{
	if (ca_file == NULL || rec->len == 0)
		return;
	rec->len--;		/* the closing brace */
	EP_PUT_LIT(rec, ",\"caFile\":");
	ep_put_str(rec, ca_file, strlen(ca_file));
	EP_PUT_LIT(rec, "}");
}
