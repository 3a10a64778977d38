/*
 * gql-dump.c: reads a GraphQL document on stdin and prints its AST as
 * canonical JSON on stdout (the format tests/gql/differential.t builds
 * from graphql-core's AST too), or {"error": msg, "line": L, "column": C}
 * and exits 1.  The limits may be given as arguments: bytes tokens depth.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gql_parse.h"

static void	 dump_value(const struct gql_value *);
static void	 dump_sels(const struct gql_selection *);

static void
dump_str(const char *s, size_t len)
{
	size_t		 i;
	unsigned char	 c;

	putchar('"');
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
dump_name(const char *s)
{
	if (s == NULL)
		fputs("null", stdout);
	else
		dump_str(s, strlen(s));
}

static void
dump_args(const struct gql_arg *a)
{
	putchar('[');
	for (; a != NULL; a = a->next) {
		fputs("{\"name\":", stdout);
		dump_name(a->name);
		fputs(",\"value\":", stdout);
		dump_value(a->value);
		printf("}%s", a->next ? "," : "");
	}
	putchar(']');
}

static void
dump_value(const struct gql_value *v)
{
	static const char *const kind[] = { "variable", "int", "float",
	    "string", "boolean", "null", "enum", "list", "object" };
	const struct gql_value	*i;

	printf("{\"kind\":\"%s\"", kind[v->kind]);
	switch (v->kind) {
	case GQL_VAL_VARIABLE:
		fputs(",\"name\":", stdout);
		dump_str(v->str, v->len);
		break;
	case GQL_VAL_STRING:
		fputs(",\"value\":", stdout);
		dump_str(v->str, v->len);
		printf(",\"block\":%s", v->block ? "true" : "false");
		break;
	case GQL_VAL_BOOLEAN:
		printf(",\"value\":%s", v->boolean ? "true" : "false");
		break;
	case GQL_VAL_NULL:
		break;
	case GQL_VAL_LIST:
		fputs(",\"values\":[", stdout);
		for (i = v->items; i != NULL; i = i->next) {
			dump_value(i);
			if (i->next != NULL)
				putchar(',');
		}
		putchar(']');
		break;
	case GQL_VAL_OBJECT:
		fputs(",\"fields\":", stdout);
		dump_args(v->fields);
		break;
	default:
		fputs(",\"value\":", stdout);
		dump_str(v->str, v->len);
	}
	putchar('}');
}

static void
dump_dirs(const struct gql_directive *d)
{
	putchar('[');
	for (; d != NULL; d = d->next) {
		fputs("{\"name\":", stdout);
		dump_name(d->name);
		fputs(",\"arguments\":", stdout);
		dump_args(d->args);
		printf("}%s", d->next ? "," : "");
	}
	putchar(']');
}

static void
dump_type(const struct gql_type *t)
{
	if (t->kind == GQL_TYPE_NAMED) {
		fputs("{\"kind\":\"named\",\"name\":", stdout);
		dump_name(t->name);
	} else {
		printf("{\"kind\":\"%s\",\"type\":",
		    t->kind == GQL_TYPE_LIST ? "list" : "nonnull");
		dump_type(t->of);
	}
	putchar('}');
}

static void
dump_sel(const struct gql_selection *s)
{
	if (s->kind == GQL_SEL_FIELD) {
		fputs("{\"kind\":\"field\",\"alias\":", stdout);
		dump_name(s->alias);
		fputs(",\"name\":", stdout);
		dump_name(s->name);
		printf(",\"line\":%u,\"column\":%u,\"arguments\":",
		    s->loc.line, s->loc.column);
		dump_args(s->args);
	} else if (s->kind == GQL_SEL_SPREAD) {
		fputs("{\"kind\":\"spread\",\"name\":", stdout);
		dump_name(s->name);
	} else {
		fputs("{\"kind\":\"inline\",\"on\":", stdout);
		dump_name(s->type_cond);
	}
	fputs(",\"directives\":", stdout);
	dump_dirs(s->dirs);
	if (s->kind != GQL_SEL_SPREAD) {
		fputs(",\"selections\":", stdout);
		dump_sels(s->sel);
	}
	putchar('}');
}

static void
dump_sels(const struct gql_selection *s)
{
	if (s == NULL) {
		fputs("null", stdout);
		return;
	}
	putchar('[');
	for (; s != NULL; s = s->next) {
		dump_sel(s);
		if (s->next != NULL)
			putchar(',');
	}
	putchar(']');
}

static void
dump_vars(const struct gql_vardef *v)
{
	putchar('[');
	for (; v != NULL; v = v->next) {
		fputs("{\"name\":", stdout);
		dump_name(v->name);
		fputs(",\"type\":", stdout);
		dump_type(v->type);
		fputs(",\"default\":", stdout);
		if (v->defval != NULL)
			dump_value(v->defval);
		else
			fputs("null", stdout);
		fputs(",\"directives\":", stdout);
		dump_dirs(v->dirs);
		printf("}%s", v->next ? "," : "");
	}
	putchar(']');
}

static void
dump_doc(const struct gql_doc *doc)
{
	static const char *const opk[] = { "query", "mutation",
	    "subscription" };
	const struct gql_operation	*op;
	const struct gql_fragment	*f;

	fputs("{\"operations\":[", stdout);
	for (op = doc->ops; op != NULL; op = op->next) {
		printf("{\"operation\":\"%s\",\"name\":", opk[op->kind]);
		dump_name(op->name);
		fputs(",\"variables\":", stdout);
		dump_vars(op->vars);
		fputs(",\"directives\":", stdout);
		dump_dirs(op->dirs);
		fputs(",\"selections\":", stdout);
		dump_sels(op->sel);
		printf("}%s", op->next ? "," : "");
	}
	fputs("],\"fragments\":[", stdout);
	for (f = doc->frags; f != NULL; f = f->next) {
		fputs("{\"name\":", stdout);
		dump_name(f->name);
		fputs(",\"on\":", stdout);
		dump_name(f->type_cond);
		fputs(",\"directives\":", stdout);
		dump_dirs(f->dirs);
		fputs(",\"selections\":", stdout);
		dump_sels(f->sel);
		printf("}%s", f->next ? "," : "");
	}
	fputs("]}\n", stdout);
}

int
main(int argc, char *argv[])
{
	struct gql_limits	 lim = { 0, 0, 0 };
	struct gql_error	 err;
	struct gql_doc		*doc;
	char			*buf = NULL;
	size_t			 len = 0, cap = 0, n;

	if (argc > 1)
		lim.max_bytes = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		lim.max_tokens = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		lim.max_depth = strtoul(argv[3], NULL, 10);
	do {
		if (len == cap && (buf = realloc(buf, cap = cap * 2 + 65536))
		    == NULL)
			return (2);
		n = fread(buf + len, 1, cap - len, stdin);
		len += n;
	} while (n > 0);
	if ((doc = gql_parse(buf, len, &lim, &err)) == NULL) {
		fputs("{\"error\":", stdout);
		dump_str(err.msg, strlen(err.msg));
		printf(",\"line\":%u,\"column\":%u}\n", err.loc.line,
		    err.loc.column);
		free(buf);
		return (1);
	}
	dump_doc(doc);
	gql_doc_free(doc);
	free(buf);
	return (0);
}
