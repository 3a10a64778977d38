/*
 * jpath.c: the one variable-path grammar and resolver (see jpath.h).
 * Rules compile their paths once (jpath_compile) and step along the
 * segments; templates, header values and GraphQL references resolve the
 * text as it stands (jpath_find), which allocates nothing.  Both reach
 * members through json-c's hash (json_object_object_get_ex) and elements
 * by index, so that a path resolves the same way wherever it is written.
 *
 * Everything here runs on the request path: nothing aborts, and json-c
 * objects are only borrowed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jpath.h"

/* member names up to this long are looked up without allocating */
#define JPATH_KEY_MAX	256

int
jpath_valid(const char *s, size_t len)
{
	size_t	i, seg = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (seg == 0)
				return (0);
			seg = 0;
		} else if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-')
			seg++;
		else
			return (0);
	}
	return (seg > 0);
}

int
jpath_index(const char *seg, size_t len, size_t *idx)
{
	size_t	 i, v = 0;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++) {
		if (seg[i] < '0' || seg[i] > '9')
			return (0);
		if (v > (SIZE_MAX - 9) / 10)
			return (0);
		v = v * 10 + (size_t)(seg[i] - '0');
	}
	*idx = v;
	return (1);
}

int
jpath_compile(struct jpath *p, const char *s, size_t len)
{
	size_t	 i, n = 1;
	char	*q, *dot;

	memset(p, 0, sizeof(*p));
	if (memchr(s, '\0', len) != NULL)
		return (-1);
	for (i = 0; i < len; i++)
		n += s[i] == '.';
	if ((p->buf = malloc(len + 1)) == NULL ||
	    (p->seg = calloc(n, sizeof(*p->seg))) == NULL)
		return (-2);
	memcpy(p->buf, s, len);
	p->buf[len] = '\0';
	for (q = p->buf, i = 0; i < n; i++, q = dot + 1) {
		if ((dot = strchr(q, '.')) == NULL)
			dot = q + strlen(q);
		*dot = '\0';
		p->seg[i].key = q;
		p->seg[i].len = (size_t)(dot - q);
		if (p->seg[i].len == 0)
			return (-1);
		p->seg[i].is_idx = jpath_index(q, p->seg[i].len,
		    &p->seg[i].idx);
	}
	p->nseg = n;
	return (0);
}

void
jpath_free(struct jpath *p)
{
	free(p->buf);
	free(p->seg);
	memset(p, 0, sizeof(*p));
}

int
jpath_step(struct json_object *cur, const struct jpath_seg *seg,
    struct json_object **next)
{
	if (json_object_is_type(cur, json_type_object))
		return (json_object_object_get_ex(cur, seg->key, next));
	if (json_object_is_type(cur, json_type_array) && seg->is_idx &&
	    seg->idx < json_object_array_length(cur)) {
		*next = json_object_array_get_idx(cur, seg->idx);
		return (1);
	}
	return (0);
}

int
jpath_get(struct json_object *root, const struct jpath *p,
    struct json_object **out)
{
	struct json_object	*cur = root;
	size_t			 i;

	if (root == NULL)
		return (0);
	for (i = 0; i < p->nseg; i++)
		if (!jpath_step(cur, &p->seg[i], &cur))
			return (0);
	*out = cur;
	return (1);
}

/* A member named by s[0..len) (not NUL-terminated); 1 / 0. */
static int
jpath_member(struct json_object *obj, const char *s, size_t len,
    struct json_object **next)
{
	char	key[JPATH_KEY_MAX + 1];

	if (memchr(s, '\0', len) != NULL)
		return (0);	/* no json-c member name holds a NUL */
	if (len <= JPATH_KEY_MAX) {
		memcpy(key, s, len);
		key[len] = '\0';
		return (json_object_object_get_ex(obj, key, next));
	}
	json_object_object_foreach(obj, k, val) {
		if (strlen(k) == len && memcmp(k, s, len) == 0) {
			*next = val;
			return (1);
		}
	}
	return (0);
}

int
jpath_find(struct json_object *root, const char *path, size_t len,
    struct json_object **out)
{
	struct jpath_seg	 seg;
	struct json_object	*cur = root;
	const char		*s, *dot, *end = path + len;

	*out = NULL;
	if (root == NULL || path == NULL)
		return (0);
	for (s = path;; s = dot + 1) {
		if ((dot = memchr(s, '.', (size_t)(end - s))) == NULL)
			dot = end;
		if (dot == s)
			return (0);
		if (json_object_is_type(cur, json_type_object)) {
			if (!jpath_member(cur, s, (size_t)(dot - s), &cur))
				return (0);
		} else {
			seg.key = NULL;
			seg.is_idx = jpath_index(s, (size_t)(dot - s),
			    &seg.idx);
			if (!jpath_step(cur, &seg, &cur))
				return (0);
		}
		if (dot == end)
			break;
	}
	*out = cur;
	return (1);
}
