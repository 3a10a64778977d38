/*
 * gql_args.c: GraphQL argument values as JSON (SPEC 8.4), with
 * variables and references, and the canonical form of a JSON value that
 * de-duplication compares (8.6).
 *
 * A String or Enum literal is a reference when, with every "__" read as
 * ".", it is a dotted path of two or more non-empty segments without
 * white space, whose first segment is the key of an enclosing field (the
 * innermost wins) or "vars".  Everything else passes through as written.
 * Variables are never references.  Values are built fresh; a reference
 * or a variable shares the JSON it found (one more reference).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "gql_int.h"

#define GA_MAX_SEGS	64

static int
ga_space(char c)
{
	return (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\f' || c == '\v');
}

/* Split s into path segments in buf; the count, or 0: not a path. */
static size_t
ga_split(const char *s, size_t len, char *buf, const char **seg)
{
	size_t	i, o = 0, n = 0;

	seg[n++] = buf;
	for (i = 0; i < len; i++) {
		if (s[i] == '\0' || ga_space(s[i]))
			return (0);
		if (s[i] == '.' || (s[i] == '_' && i + 1 < len &&
		    s[i + 1] == '_')) {
			if (s[i] == '_')
				i++;
			if (&buf[o] == seg[n - 1] || n == GA_MAX_SEGS)
				return (0);	/* an empty segment */
			buf[o++] = '\0';
			seg[n++] = &buf[o];
			continue;
		}
		buf[o++] = s[i];
	}
	buf[o] = '\0';
	if (n < 2 || &buf[o] == seg[n - 1])
		return (0);
	return (n);
}

/* Follow seg[1..n) from v; NULL when the path finds nothing. */
static struct json_object *
ga_walk(struct json_object *v, const char **seg, size_t n)
{
	const char	*p;
	char		*end;
	size_t		 i;
	unsigned long	 idx;

	for (i = 1; i < n && v != NULL; i++) {
		if (json_object_is_type(v, json_type_object)) {
			if (!json_object_object_get_ex(v, seg[i], &v))
				return (NULL);
			continue;
		}
		if (!json_object_is_type(v, json_type_array))
			return (NULL);
		for (p = seg[i]; *p >= '0' && *p <= '9'; p++)
			;
		if (*p != '\0' || p - seg[i] > 9)
			return (NULL);
		idx = strtoul(seg[i], &end, 10);
		if (idx >= json_object_array_length(v))
			return (NULL);
		v = json_object_array_get_idx(v, idx);
	}
	return (v);
}

/* 1 with *out (a reference's value) when s is a reference, else 0. */
static int
ga_ref(const char *s, size_t len, const struct gscope *sc,
    struct json_object *vars, struct json_object **out)
{
	const char		*seg[GA_MAX_SEGS];
	char			 small[256], *buf;
	size_t			 n;
	int			 rc = 0;

	if (len < 3 || (sc == NULL && vars == NULL))
		return (0);
	buf = len < sizeof(small) ? small : malloc(len + 1);
	if (buf == NULL)
		return (0);
	if ((n = ga_split(s, len, buf, seg)) == 0)
		goto out;
	for (; sc != NULL; sc = sc->up)
		if (strcmp(sc->key, seg[0]) == 0)
			break;
	if (sc != NULL) {
		*out = json_object_get(ga_walk(sc->val, seg, n));
		rc = 1;
	} else if (vars != NULL && strcmp(seg[0], "vars") == 0) {
		*out = json_object_get(ga_walk(vars, seg, n));
		rc = 1;
	}
out:
	if (buf != small)
		free(buf);
	return (rc);
}

int
gql_value_json(const struct gql_value *v, const struct gscope *sc,
    struct json_object *vars, struct json_object **out, const char **err)
{
	const struct gql_value	*x;
	struct json_object	*o, *item;
	int64_t			 i;
	char			*end;
	int			 r;

	*out = NULL;
	*err = NULL;
	switch (v->kind) {
	case GQL_VAL_VARIABLE:
		if (vars == NULL ||
		    !json_object_object_get_ex(vars, v->str, &o))
			return (0);
		*out = json_object_get(o);
		return (1);
	case GQL_VAL_INT:
		errno = 0;
		i = strtoll(v->str, &end, 10);
		if (errno != 0 || *end != '\0') {
			*err = "an Int argument is outside the signed 64-bit "
			    "range";
			return (-1);
		}
		*out = json_object_new_int64(i);
		return (1);
	case GQL_VAL_FLOAT:
		*out = json_object_new_double_s(strtod(v->str, NULL), v->str);
		return (1);
	case GQL_VAL_BOOLEAN:
		*out = json_object_new_boolean(v->boolean);
		return (1);
	case GQL_VAL_NULL:
		return (1);
	case GQL_VAL_STRING:
	case GQL_VAL_ENUM:
		if (ga_ref(v->str, v->len, sc, vars, out))
			return (1);
		*out = json_object_new_string_len(v->str, (int)v->len);
		return (1);
	case GQL_VAL_LIST:
		if ((o = json_object_new_array()) == NULL)
			return (1);
		for (x = v->items; x != NULL; x = x->next) {
			if ((r = gql_value_json(x, sc, vars, &item, err)) ==
			    -1) {
				json_object_put(o);
				return (-1);
			}
			json_object_array_add(o, item);
		}
		*out = o;
		return (1);
	case GQL_VAL_OBJECT:
		return (gql_args_json(v->fields, sc, vars, out, err) == -1 ?
		    -1 : 1);
	}
	return (0);
}

int
gql_args_json(const struct gql_arg *a, const struct gscope *sc,
    struct json_object *vars, struct json_object **out, const char **err)
{
	struct json_object	*o, *v;
	int			 r;

	*err = NULL;
	if ((*out = o = json_object_new_object()) == NULL)
		return (0);
	for (; a != NULL; a = a->next) {
		if ((r = gql_value_json(a->value, sc, vars, &v, err)) == -1) {
			json_object_put(o);
			*out = NULL;
			return (-1);
		}
		if (r == 1)
			json_object_object_add(o, a->name, v);
	}
	return (0);
}

static int
ga_keycmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

static int
ga_canon_str(struct sybuf *b, char tag, const char *s, size_t len)
{
	return (sybuf_printf(b, "%c%zu:", tag, len) == -1 ||
	    sybuf_add(b, s, len) == -1 ? -1 : 0);
}

static int
ga_canon_obj(struct sybuf *b, struct json_object *v)
{
	struct json_object_iterator	 it, end;
	const char			**keys;
	struct json_object		*m;
	size_t				 n = 0, i;
	int				 rc = 0;

	n = (size_t)json_object_object_length(v);
	if ((keys = calloc(n + 1, sizeof(*keys))) == NULL)
		return (-1);
	it = json_object_iter_begin(v);
	end = json_object_iter_end(v);
	for (i = 0; i < n && !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it))
		keys[i++] = json_object_iter_peek_name(&it);
	qsort(keys, i, sizeof(*keys), ga_keycmp);
	rc = sybuf_addc(b, '{');
	for (n = i, i = 0; rc == 0 && i < n; i++) {
		json_object_object_get_ex(v, keys[i], &m);
		rc = ga_canon_str(b, 'k', keys[i], strlen(keys[i]));
		if (rc == 0)
			rc = gql_canon(b, m);
	}
	free(keys);
	return (rc == 0 ? sybuf_addc(b, '}') : -1);
}

int
gql_canon(struct sybuf *b, struct json_object *v)
{
	double	d;
	size_t	i, n;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return (sybuf_addc(b, 'n'));
	case json_type_boolean:
		return (sybuf_addc(b, json_object_get_boolean(v) ? 't' : 'f'));
	case json_type_int:
		if (json_object_get_int64(v) == INT64_MAX)	/* maybe u64 */
			return (sybuf_printf(b, "i%llu;", (unsigned long long)
			    json_object_get_uint64(v)));
		return (sybuf_printf(b, "i%lld;",
		    (long long)json_object_get_int64(v)));
	case json_type_double:
		d = json_object_get_double(v);
		if (d >= -9.2e18 && d <= 9.2e18 && d == (double)(int64_t)d)
			return (sybuf_printf(b, "i%lld;", (long long)d));
		return (sybuf_printf(b, "d%.17g;", d));
	case json_type_string:
		return (ga_canon_str(b, 's', json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)));
	case json_type_array:
		if (sybuf_addc(b, '[') == -1)
			return (-1);
		n = json_object_array_length(v);
		for (i = 0; i < n; i++)
			if (gql_canon(b, json_object_array_get_idx(v, i)) == -1)
				return (-1);
		return (sybuf_addc(b, ']'));
	case json_type_object:
		return (ga_canon_obj(b, v));
	}
	return (-1);
}
