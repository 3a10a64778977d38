/*
 * gql_out.c: a GraphQL response's errors and text (SPEC 8.2).  Field
 * errors are kept as small records in the request's arena, not as JSON
 * objects, so that a field failing for each of many list elements costs
 * little; they are sorted into document order of their paths (depth
 * first, list indexes ascending; a key compares by its position in the
 * selection set) only when the response is written.  The arena also
 * holds gql_out's bump allocator.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "gql_int.h"
#include "jwrite.h"

#define GARENA_FIRST	2048		/* the first chunk; then doubling */
#define GARENA_CHUNK	(64 * 1024)	/* the largest regular chunk */

struct gchunk {
	struct gchunk	*next;
	size_t		 size, off;
	/* then the bytes, 16-aligned */
};

void *
garena_alloc(struct garena *a, size_t n)
{
	struct gchunk	*c = a->head;
	size_t		 hdr = (sizeof(*c) + 15) & ~(size_t)15, sz;
	void		*p;

	n = (n + 15) & ~(size_t)15;
	if (c == NULL || c->size - c->off < n) {
		sz = c == NULL ? GARENA_FIRST : c->size < GARENA_CHUNK ?
		    c->size * 2 : GARENA_CHUNK;
		if (n > sz / 4 && n > GARENA_FIRST)
			sz = n;		/* a big block of its own */
		else if (sz < n)
			sz = n;
		if ((c = malloc(hdr + sz)) == NULL)
			return (NULL);
		c->size = sz;
		c->off = 0;
		if (sz == n && a->head != NULL) {
			/* keep filling the current chunk */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = (char *)c + hdr + c->off;
	c->off += n;
	a->used += n;
	memset(p, 0, n);
	return (p);
}

char *
garena_strdup(struct garena *a, const char *s)
{
	size_t	 n = strlen(s) + 1;
	char	*p;

	if ((p = garena_alloc(a, n)) != NULL)
		memcpy(p, s, n);
	return (p);
}

void
garena_free(struct garena *a)
{
	struct gchunk	*c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = 0;
}

int
gql_err_add(struct gerrs *es, struct garena *a, const char *code,
    int status, const char *msg, const struct gnode *node,
    const struct gpath *path)
{
	struct gerr	*e;

	if ((e = garena_alloc(a, sizeof(*e))) == NULL ||
	    (e->msg = garena_strdup(a, msg)) == NULL)
		return (-1);
	e->code = code;
	e->status = status;
	e->loc = node->loc;
	e->path = path;
	if (es->tail != NULL)
		es->tail->next = e;
	else
		es->head = e;
	es->tail = e;
	es->n++;
	return (0);
}

void
gql_errs_free(struct gerrs *es)
{
	struct gerr	*e;

	for (e = es->head; e != NULL; e = e->next)
		json_object_put(e->upbody);
	memset(es, 0, sizeof(*es));
}

/* The sort key of segment i (from the root) of path p. */
static size_t
go_seg(const struct gpath *p, unsigned i)
{
	while (p->len > i + 1)
		p = p->up;
	return (p->node != NULL ? p->node->pos : p->index);
}

static int
go_cmp(const void *x, const void *y)
{
	const struct gerr	*a = *(const struct gerr *const *)x;
	const struct gerr	*b = *(const struct gerr *const *)y;
	unsigned		 i, n;
	size_t			 sa, sb;

	n = a->path->len < b->path->len ? a->path->len : b->path->len;
	for (i = 0; i < n; i++) {
		sa = go_seg(a->path, i);
		sb = go_seg(b->path, i);
		if (sa != sb)
			return (sa < sb ? -1 : 1);
	}
	if (a->path->len != b->path->len)
		return (a->path->len < b->path->len ? -1 : 1);
	return (a < b ? -1 : a > b);
}

static int
go_path(struct sybuf *b, const struct gpath *p)
{
	if (p->up != NULL && (go_path(b, p->up) == -1 || sybuf_addc(b, ',') ==
	    -1))
		return (-1);
	if (p->node != NULL)
		return (jwrite_str(b, p->node->key, strlen(p->node->key)));
	return (sybuf_printf(b, "%zu", p->index));
}

static int
go_loc(struct sybuf *b, const struct gql_loc *l)
{
	if (l->line == 0)
		return (0);
	return (sybuf_printf(b, ",\"locations\":[{\"line\":%u,\"column\":%u}]",
	    l->line, l->column));
}

static int
go_err(struct sybuf *b, const struct gerr *e)
{
	if (sybuf_addstr(b, "{\"message\":") == -1 ||
	    jwrite_str(b, e->msg, strlen(e->msg)) == -1 ||
	    go_loc(b, &e->loc) == -1 ||
	    sybuf_addstr(b, ",\"path\":[") == -1 || go_path(b, e->path) == -1 ||
	    sybuf_printf(b, "],\"extensions\":{\"code\":\"%s\",\"status\":%d",
	    e->code, e->status) == -1)
		return (-1);
	if (e->upstatus != 0 && (sybuf_printf(b, ",\"upstreamStatus\":%ld,"
	    "\"upstreamBody\":", e->upstatus) == -1 ||
	    jwrite_value(b, e->upbody) == -1))
		return (-1);
	return (sybuf_addstr(b, "}}"));
}

int
gql_out_write(struct sybuf *b, struct json_object *data, struct gerrs *es)
{
	struct gerr	**v, *e;
	size_t		  i;
	int		  rc = 0;

	if (sybuf_addstr(b, "{\"data\":") == -1 || jwrite_value(b, data) == -1)
		return (-1);
	if (es->n == 0)
		return (sybuf_addc(b, '}'));
	if ((v = calloc(es->n, sizeof(*v))) == NULL)
		return (-1);
	for (i = 0, e = es->head; e != NULL && i < es->n; e = e->next)
		v[i++] = e;
	qsort(v, i, sizeof(*v), go_cmp);
	rc = sybuf_addstr(b, ",\"errors\":[");
	for (i = 0; rc == 0 && i < es->n; i++) {
		if (i > 0)
			rc = sybuf_addc(b, ',');
		if (rc == 0)
			rc = go_err(b, v[i]);
	}
	free(v);
	return (rc == 0 ? sybuf_addstr(b, "]}") : -1);
}

int
gql_out_reqerr(struct sybuf *b, const struct greqerr *e)
{
	if (sybuf_addstr(b, "{\"errors\":[{\"message\":") == -1 ||
	    jwrite_str(b, e->msg, strlen(e->msg)) == -1 ||
	    go_loc(b, &e->loc) == -1 ||
	    sybuf_printf(b, ",\"extensions\":{\"code\":\"%s\"}}]}", e->code) ==
	    -1)
		return (-1);
	return (0);
}
