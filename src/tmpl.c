/*
 * tmpl.c: builds the upstream request line (see tmpl.h): expands
 * {args.X} and {auth.X} in endpoint paths, percent-encodes per RFC 3986,
 * appends GET/HEAD query strings and joins a service URL with a path.
 *
 * Everything here runs on the request path, so nothing aborts: out of
 * memory is reported as -1 (or NULL), and a function that fails leaves
 * the caller's buffer as it found it.  json-c objects passed in are only
 * borrowed; nothing here takes or drops a reference.
 *
 * Paths resolve through jpath.c, the one grammar and resolver.  json-c
 * stores JSON null as a NULL pointer, so tmpl_lookup cannot tell a null
 * value from a missing one.  tmpl_expand uses jpath_find, which can,
 * so that {args.x} with "x": null renders "null" while a missing "x" is
 * an error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jpath.h"
#include "tmpl.h"
#include "util.h"

#define TMPL_ARGS	"{args."
#define TMPL_AUTH	"{auth."
#define TMPL_PFXLEN	6

static int	 tmpl_unreserved(unsigned char);
static int	 tmpl_double_text(struct sybuf *, struct json_object *);
static int	 tmpl_var(struct sybuf *, const char **, struct json_object *,
		    struct json_object *, char **);
static int	 tmpl_pair(struct sybuf *, const char *,
		    struct json_object *);

int
tmpl_has_vars(const char *s)
{
	if (s == NULL)
		return (0);
	return (strstr(s, TMPL_ARGS) != NULL || strstr(s, TMPL_AUTH) != NULL);
}

/* RFC 3986 section 2.3; not isalnum(3), which depends on the locale. */
static int
tmpl_unreserved(unsigned char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~');
}

int
tmpl_pct_encode(struct sybuf *out, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 oldlen = out->len, i, run;
	char			 esc[3];

	for (i = 0; i < len; i += run) {
		for (run = 0; i + run < len && tmpl_unreserved(p[i + run]);
		    run++)
			;
		if (run > 0) {
			if (sybuf_add(out, p + i, run) == -1)
				goto fail;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[p[i] >> 4];
		esc[2] = hex[p[i] & 0x0f];
		if (sybuf_add(out, esc, sizeof(esc)) == -1)
			goto fail;
		run = 1;
	}
	return (0);
fail:
	sybuf_truncate(out, oldlen);
	return (-1);
}

struct json_object *
tmpl_lookup(struct json_object *obj, const char *path, size_t pathlen)
{
	struct json_object	*v;

	if (!jpath_find(obj, path, pathlen, &v))
		return (NULL);
	return (v);
}

/*
 * A double parsed by json-c keeps the client's text, which is what we
 * want ("1.5" stays "1.5").  One built in memory does not, and json-c
 * would print 0.1 as "0.10000000000000001" and 42 as "42.0": print the
 * shortest text that reads back to the same value instead.
 */
static int
tmpl_double_text(struct sybuf *out, struct json_object *v)
{
	char	 num[32];
	double	 d;
	int	 prec;

	d = json_object_get_double(v);
	if (json_object_get_userdata(v) != NULL || !isfinite(d))
		return (sybuf_addstr(out, json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN)));
	for (prec = 1; prec <= 17; prec++) {
		snprintf(num, sizeof(num), "%.*g", prec, d);
		if (strtod(num, NULL) == d)
			break;
	}
	return (sybuf_addstr(out, num));
}

int
tmpl_scalar_text(struct sybuf *out, struct json_object *v)
{
	const char	*s;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return (sybuf_addstr(out, "null"));
	case json_type_boolean:
		return (sybuf_addstr(out,
		    json_object_get_boolean(v) ? "true" : "false"));
	case json_type_string:
		return (sybuf_add(out, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)));
	case json_type_double:
		return (tmpl_double_text(out, v));
	case json_type_int:
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		return (s == NULL ? -1 : sybuf_addstr(out, s));
	default:
		return (-1);
	}
}

/*
 * Expand the variable at *tp ("{args." or "{auth."), moving *tp past its
 * '}'.  Returns 0, or -1 with *err allocated (NULL when even that fails).
 */
static int
tmpl_var(struct sybuf *out, const char **tp, struct json_object *args,
    struct json_object *auth, char **err)
{
	struct json_object	*root, *v;
	struct sybuf		 text, msg;
	const char		*var = *tp, *path, *close;
	int			 rc = -1;

	root = var[1] == 'a' && var[2] == 'r' ? args : auth;
	path = var + TMPL_PFXLEN;
	sybuf_init(&text);
	sybuf_init(&msg);
	if ((close = strchr(path, '}')) == NULL)
		sybuf_printf(&msg, "path variable %s is not terminated", var);
	else if (!jpath_find(root, path, (size_t)(close - path), &v))
		sybuf_printf(&msg, "path variable %.*s is missing",
		    (int)(close - var + 1), var);
	else if (tmpl_scalar_text(&text, v) == -1) {
		if (json_object_is_type(v, json_type_object) ||
		    json_object_is_type(v, json_type_array))
			sybuf_printf(&msg, "path variable %.*s is not a scalar",
			    (int)(close - var + 1), var);
		else
			sybuf_addstr(&msg, "out of memory");
	} else if (tmpl_pct_encode(out, text.data, text.len) == -1)
		sybuf_addstr(&msg, "out of memory");
	else {
		*tp = close + 1;
		rc = 0;
	}
	sybuf_free(&text);
	if (rc == -1)
		*err = msg.data;	/* NULL if even the message failed */
	return (rc);
}

/*
 * A path segment that a value made "." or ".." (alone, next to another
 * value or to a literal dot) would add or climb a segment once the
 * upstream or libcurl resolved it: its dots go out as %2E instead, so
 * the upstream path has exactly the template's segments.  start is the
 * segment's offset in out.
 */
static int
tmpl_seal_segment(struct sybuf *out, size_t start)
{
	size_t	n = out->len - start;

	if ((n != 1 && n != 2) || strspn(out->data + start, ".") != n)
		return (0);
	sybuf_truncate(out, start);
	return (sybuf_addstr(out, n == 1 ? "%2E" : "%2E%2E"));
}

/*
 * Append the literal text [p, end) of a template, sealing each segment
 * that a value touched as it ends.  *seg is the current segment's start,
 * *valued whether a value is in it (-1: past the path, in the query).
 */
static int
tmpl_literal(struct sybuf *out, const char *p, const char *end, size_t *seg,
    int *valued)
{
	const char	*q;

	for (; p < end; p = q + 1) {
		for (q = p; q < end && *q != '/' && *q != '?' && *q != '#'; q++)
			;
		if (sybuf_add(out, p, (size_t)(q - p)) == -1)
			return (-1);
		if (q == end)
			break;
		if (*valued == 1 && tmpl_seal_segment(out, *seg) == -1)
			return (-1);
		if (sybuf_addc(out, *q) == -1)
			return (-1);
		*seg = out->len;
		*valued = *q == '/' && *valued != -1 ? 0 : -1;
	}
	return (0);
}

int
tmpl_expand(struct sybuf *out, const char *tmpl, struct json_object *args,
    struct json_object *auth, char **err)
{
	const char	*p = tmpl, *brace;
	size_t		 oldlen = out->len, seg = out->len;
	int		 valued = 0;

	*err = NULL;
	while (*p != '\0') {
		brace = strchr(p, '{');
		if (brace == NULL)
			brace = p + strlen(p);
		if (tmpl_literal(out, p, brace, &seg, &valued) == -1)
			goto oom;
		p = brace;
		if (*p == '\0')
			break;
		if (strncmp(p, TMPL_ARGS, TMPL_PFXLEN) != 0 &&
		    strncmp(p, TMPL_AUTH, TMPL_PFXLEN) != 0) {
			/* "{foo}" and lone braces are plain text */
			if (sybuf_addc(out, *p++) == -1)
				goto oom;
			continue;
		}
		if (tmpl_var(out, &p, args, auth, err) == -1)
			goto fail;
		if (valued != -1)
			valued = 1;
	}
	if (valued == 1 && tmpl_seal_segment(out, seg) == -1)
		goto oom;
	/* an empty template still yields an allocated "" */
	if (out->data == NULL && sybuf_add(out, "", 0) == -1)
		goto oom;
	return (0);
oom:
	*err = strdup("out of memory");
fail:
	sybuf_truncate(out, oldlen);
	return (-1);
}

/* Append "key=value", both encoded; v must be a scalar. */
static int
tmpl_pair(struct sybuf *out, const char *key, struct json_object *v)
{
	struct sybuf	 text;
	int		 rc;

	sybuf_init(&text);
	rc = tmpl_scalar_text(&text, v);
	if (rc == 0)
		rc = tmpl_pct_encode(out, key, strlen(key));
	if (rc == 0)
		rc = sybuf_addc(out, '=');
	if (rc == 0)
		rc = tmpl_pct_encode(out, text.data, text.len);
	sybuf_free(&text);
	return (rc);
}

int
tmpl_query(struct sybuf *out, struct json_object *params)
{
	size_t	 oldlen = out->len;
	char	 sep, last;

	if (params == NULL || !json_object_is_type(params, json_type_object))
		return (0);
	sep = out->data != NULL && strchr(out->data, '?') != NULL ? '&' : '?';
	json_object_object_foreach(params, key, val) {
		if (json_object_is_type(val, json_type_object) ||
		    json_object_is_type(val, json_type_array))
			continue;
		/* "/x?" or "/x?a=1&" already end with a separator */
		last = out->len > 0 ? out->data[out->len - 1] : '\0';
		if (!(sep == '&' && (last == '?' || last == '&')) &&
		    sybuf_addc(out, sep) == -1)
			goto fail;
		if (tmpl_pair(out, key, val) == -1)
			goto fail;
		sep = '&';
	}
	return (0);
fail:
	sybuf_truncate(out, oldlen);
	return (-1);
}

char *
tmpl_join_url(const char *base, const char *path)
{
	struct sybuf	 b;
	size_t		 blen;

	if (base == NULL)
		base = "";
	if (path == NULL)
		path = "";
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	sybuf_init(&b);
	if (sybuf_add(&b, base, blen) == -1 ||
	    (path[0] != '/' && sybuf_addc(&b, '/') == -1) ||
	    sybuf_addstr(&b, path) == -1) {
		sybuf_free(&b);
		return (NULL);
	}
	return (sybuf_detach(&b));
}
