/*
 * fuzz_gql.c: the GraphQL document parser.  The input is the document;
 * its first byte also picks small limits half of the time, so that the
 * depth and token limits are reached often.  An accepted document is
 * walked completely, so that every node the parser built is read.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gql_parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t	walk_sels(const struct gql_selection *, unsigned);

static size_t
walk_value(const struct gql_value *v, unsigned depth)
{
	const struct gql_value	*i;
	const struct gql_arg	*a;
	size_t			 n = 1;

	if (depth > GQL_DEPTH_CAP + 1)
		__builtin_trap();
	if (v->str != NULL && strlen(v->str) > v->len)
		__builtin_trap();
	for (i = v->items; i != NULL; i = i->next)
		n += walk_value(i, depth + 1);
	for (a = v->fields; a != NULL; a = a->next)
		n += walk_value(a->value, depth + 1);
	return (n);
}

static size_t
walk_args(const struct gql_arg *a, const struct gql_directive *d,
    unsigned depth)
{
	size_t	 n = 0;

	for (; a != NULL; a = a->next)
		n += strlen(a->name) + walk_value(a->value, depth);
	for (; d != NULL; d = d->next)
		n += walk_args(d->args, NULL, depth);
	return (n);
}

static size_t
walk_sels(const struct gql_selection *s, unsigned depth)
{
	size_t	 n = 0;

	if (depth > GQL_DEPTH_CAP + 1)
		__builtin_trap();
	for (; s != NULL; s = s->next) {
		if (s->loc.line == 0 || s->loc.column == 0)
			__builtin_trap();
		n += walk_args(s->args, s->dirs, depth);
		n += walk_sels(s->sel, depth + 1);
	}
	return (n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gql_limits		 lim = { 0, 0, 0 };
	struct gql_error		 err;
	struct gql_doc			*doc;
	const struct gql_operation	*op;
	const struct gql_fragment	*f;
	const struct gql_vardef		*v;

	if (size > 0 && (data[0] & 1)) {
		lim.max_tokens = 1 + data[0] * 4;
		lim.max_depth = 1 + (data[0] >> 4);
	}
	if ((doc = gql_parse((const char *)data, size, &lim, &err)) == NULL) {
		if (err.msg[0] == '\0' || err.loc.line == 0 ||
		    err.loc.column == 0)
			__builtin_trap();
		return (0);
	}
	for (op = doc->ops; op != NULL; op = op->next) {
		if (op->sel == NULL)
			__builtin_trap();
		for (v = op->vars; v != NULL; v = v->next)
			if (v->defval != NULL)
				walk_value(v->defval, 0);
		walk_args(NULL, op->dirs, 0);
		walk_sels(op->sel, 0);
		if (op->name != NULL &&
		    gql_doc_operation(doc, op->name) == NULL)
			__builtin_trap();
	}
	for (f = doc->frags; f != NULL; f = f->next)
		if (gql_doc_fragment(doc, f->name) == NULL ||
		    walk_sels(f->sel, 0) == (size_t)-1)
			__builtin_trap();
	gql_doc_free(doc);
	return (0);
}
