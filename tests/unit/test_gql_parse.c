/*
 * test_gql_parse.c: the GraphQL document parser's API, locations, limits
 * and error messages.  tests/gql/differential.t compares whole ASTs with
 * graphql-core over a corpus; this file checks what a corpus cannot: the
 * C API, the limits, memory bounds and invalid UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gql_parse.h"

static struct gql_doc *
parse_ok(const char *s)
{
	struct gql_error	 err;
	struct gql_doc		*doc;

	if ((doc = gql_parse(s, strlen(s), NULL, &err)) == NULL)
		fail_msg("refused %s: %s at %u:%u", s, err.msg, err.loc.line,
		    err.loc.column);
	return (doc);
}

static void
assert_error(const char *s, size_t len, const struct gql_limits *lim,
    const char *msg, unsigned line, unsigned column)
{
	struct gql_error	 err;
	struct gql_doc		*doc;

	doc = gql_parse(s, len, lim, &err);
	if (doc != NULL) {
		gql_doc_free(doc);
		fail_msg("accepted %.60s", s);
	}
	if (strcmp(err.msg, msg) != 0 || err.loc.line != line ||
	    err.loc.column != column)
		fail_msg("%.60s: got \"%s\" at %u:%u, want \"%s\" at %u:%u",
		    s, err.msg, err.loc.line, err.loc.column, msg, line,
		    column);
}

static void
test_operations_and_fragments(void **state)
{
	struct gql_doc			*doc;
	const struct gql_operation	*op;
	const struct gql_fragment	*f;
	const struct gql_selection	*s;

	doc = parse_ok("query A { a }\nmutation B { b }\n"
	    "fragment F on User @d { id ...G }\n"
	    "subscription C { c }\nfragment G on User { name }");
	assert_int_equal(doc->nops, 3);
	assert_int_equal(doc->nfrags, 2);
	assert_null(gql_doc_operation(doc, NULL));	/* several */
	assert_null(gql_doc_operation(doc, "Z"));
	op = gql_doc_operation(doc, "B");
	assert_non_null(op);
	assert_int_equal(op->kind, GQL_OP_MUTATION);
	assert_string_equal(op->sel->name, "b");
	assert_int_equal(gql_doc_operation(doc, "C")->kind,
	    GQL_OP_SUBSCRIPTION);
	f = gql_doc_fragment(doc, "F");
	assert_non_null(f);
	assert_string_equal(f->type_cond, "User");
	assert_string_equal(f->dirs->name, "d");
	s = f->sel->next;
	assert_int_equal(s->kind, GQL_SEL_SPREAD);
	assert_string_equal(s->name, "G");
	assert_non_null(gql_doc_fragment(doc, s->name));
	assert_null(gql_doc_fragment(doc, "H"));
	gql_doc_free(doc);

	doc = parse_ok("{ a }");
	op = gql_doc_operation(doc, NULL);
	assert_non_null(op);
	assert_int_equal(op->kind, GQL_OP_QUERY);
	assert_null(op->name);
	assert_null(op->vars);
	assert_null(gql_doc_operation(doc, "a"));
	gql_doc_free(doc);
}

static void
test_fields_and_values(void **state)
{
	struct gql_doc			*doc;
	const struct gql_selection	*s, *in;
	const struct gql_arg		*a;
	const struct gql_value		*v;

	doc = parse_ok("{ k: add(i: -0, f: 1.5e3, "
	    "s: \"a\\u0000b\\uD83D\\uDE00\","
	    " b: true, n: null, e: RED, v: $x, l: [1, [2]],"
	    " o: {p: \"\"\"\n  x\n\"\"\"}) @svc(func: \"f\") { sum }"
	    " ... on T @skip(if: false) { t } ... { u } }");
	s = doc->ops->sel;
	assert_int_equal(s->kind, GQL_SEL_FIELD);
	assert_string_equal(s->alias, "k");
	assert_string_equal(s->name, "add");
	assert_string_equal(s->dirs->name, "svc");
	assert_string_equal(gql_arg_find(s->dirs->args, "func")->value->str,
	    "f");
	assert_string_equal(s->sel->name, "sum");
	assert_null(s->sel->sel);
	v = gql_arg_find(s->args, "i")->value;
	assert_int_equal(v->kind, GQL_VAL_INT);
	assert_string_equal(v->str, "-0");
	v = gql_arg_find(s->args, "f")->value;
	assert_int_equal(v->kind, GQL_VAL_FLOAT);
	assert_string_equal(v->str, "1.5e3");
	v = gql_arg_find(s->args, "s")->value;
	assert_int_equal(v->kind, GQL_VAL_STRING);
	assert_int_equal(v->len, 7);
	assert_memory_equal(v->str, "a\0b\xf0\x9f\x98\x80", 8);
	assert_false(v->block);
	v = gql_arg_find(s->args, "b")->value;
	assert_true(v->kind == GQL_VAL_BOOLEAN && v->boolean);
	assert_int_equal(gql_arg_find(s->args, "n")->value->kind,
	    GQL_VAL_NULL);
	v = gql_arg_find(s->args, "e")->value;
	assert_true(v->kind == GQL_VAL_ENUM && strcmp(v->str, "RED") == 0);
	v = gql_arg_find(s->args, "v")->value;
	assert_true(v->kind == GQL_VAL_VARIABLE && strcmp(v->str, "x") == 0);
	v = gql_arg_find(s->args, "l")->value;
	assert_int_equal(v->kind, GQL_VAL_LIST);
	assert_string_equal(v->items->str, "1");
	assert_int_equal(v->items->next->kind, GQL_VAL_LIST);
	assert_string_equal(v->items->next->items->str, "2");
	assert_null(v->items->next->next);
	v = gql_arg_find(s->args, "o")->value;
	assert_int_equal(v->kind, GQL_VAL_OBJECT);
	a = gql_arg_find(v->fields, "p");
	assert_true(a->value->block);
	assert_string_equal(a->value->str, "x");
	assert_null(gql_arg_find(s->args, "zz"));
	in = s->next;
	assert_int_equal(in->kind, GQL_SEL_INLINE);
	assert_string_equal(in->type_cond, "T");
	assert_string_equal(in->dirs->name, "skip");
	assert_int_equal(in->dirs->args->value->boolean, 0);
	in = in->next;
	assert_int_equal(in->kind, GQL_SEL_INLINE);
	assert_null(in->type_cond);
	assert_string_equal(in->sel->name, "u");
	gql_doc_free(doc);
}

static void
test_variables(void **state)
{
	struct gql_doc		*doc;
	const struct gql_vardef	*v;

	doc = parse_ok("query Q($a: [Int!]! = [1], $b: S @d, $c: In = "
	    "{x: null}) { f }");
	v = doc->ops->vars;
	assert_string_equal(v->name, "a");
	assert_int_equal(v->type->kind, GQL_TYPE_NONNULL);
	assert_int_equal(v->type->of->kind, GQL_TYPE_LIST);
	assert_int_equal(v->type->of->of->kind, GQL_TYPE_NONNULL);
	assert_int_equal(v->type->of->of->of->kind, GQL_TYPE_NAMED);
	assert_string_equal(v->type->of->of->of->name, "Int");
	assert_int_equal(v->defval->kind, GQL_VAL_LIST);
	v = v->next;
	assert_string_equal(v->name, "b");
	assert_null(v->defval);
	assert_string_equal(v->dirs->name, "d");
	v = v->next;
	assert_int_equal(v->defval->fields->value->kind, GQL_VAL_NULL);
	assert_null(v->next);
	gql_doc_free(doc);
}

static void
test_locations(void **state)
{
	struct gql_doc			*doc;
	const struct gql_selection	*s;

	/* \r\n, \r and \n each end one line; columns count code points */
	doc = parse_ok("query {\r\n  a\r  b(x: \"\xc3\xa9\xf0\x9f\x98\x80\") c"
	    "\n\t  d: e { f }\n}");
	s = doc->ops->sel;
	assert_int_equal(doc->ops->loc.line, 1);
	assert_int_equal(doc->ops->loc.column, 1);
	assert_int_equal(s->loc.line, 2);
	assert_int_equal(s->loc.column, 3);
	s = s->next;
	assert_int_equal(s->loc.line, 3);
	assert_int_equal(s->loc.column, 3);
	s = s->next;
	assert_string_equal(s->name, "c");
	assert_int_equal(s->loc.line, 3);
	assert_int_equal(s->loc.column, 14);
	s = s->next;
	assert_int_equal(s->loc.line, 4);
	assert_int_equal(s->loc.column, 4);	/* the alias */
	assert_int_equal(s->sel->loc.line, 4);
	assert_int_equal(s->sel->loc.column, 11);
	gql_doc_free(doc);
}

static void
test_errors(void **state)
{
	static const struct {
		const char	*doc;
		const char	*msg;
		unsigned	 line, column;
	} t[] = {
		{ "", "Syntax Error: Unexpected <EOF>.", 1, 1 },
		{ "{ a", "Syntax Error: Expected Name, found <EOF>.", 1, 4 },
		{ "{ a } }", "Syntax Error: Unexpected \"}\".", 1, 7 },
		{ "{\n  f(a: \"x\n}", "Syntax Error: Unterminated string.",
		    2, 10 },
		{ "{ f(a 1) }",
		    "Syntax Error: Expected \":\", found Int \"1\".", 1, 7 },
		{ "{ f(a: 01) }", "Syntax Error: Invalid number, unexpected "
		    "digit after 0: \"1\".", 1, 9 },
		{ "{ f(a: 123abc) }", "Syntax Error: Invalid number, expected "
		    "digit but got: \"a\".", 1, 11 },
		{ "{ f(a: \"\\x\") }", "Syntax Error: Invalid character "
		    "escape sequence: \"\\x\".", 1, 9 },
		{ "{ f(a: \"\\uD800\") }", "Syntax Error: Invalid Unicode "
		    "escape sequence: \"\\uD800\".", 1, 9 },
		{ "query Q($a: Int = $b) { f }", "Syntax Error: Unexpected "
		    "variable \"$b\" in constant value.", 1, 19 },
		{ "fragment on on T { a }", "Syntax Error: Unexpected Name "
		    "\"on\".", 1, 10 },
		{ "type T { a: Int }", "Syntax Error: Unexpected Name "
		    "\"type\": type system definitions are not allowed in an "
		    "executable document.", 1, 1 },
		{ "{ a }\n\n  extend type T", "Syntax Error: Unexpected Name "
		    "\"extend\": type system definitions are not allowed in an "
		    "executable document.", 3, 3 },
		{ "{ \xc3\xa9 }", "Syntax Error: Unexpected character: "
		    "U+00E9.", 1, 3 },
		{ "{ f(a: 'x') }", "Syntax Error: Unexpected single quote "
		    "character ('), did you mean to use a double quote "
		    "(\")?", 1, 8 },
		/* 2021: no C0 controls but tab, CR, LF; no \u{...} */
		{ "{ f(a: \"a\x01\") }", "Syntax Error: Invalid character "
		    "within String: U+0001.", 1, 10 },
		{ "{ f(a: \"\"\"\n\x1f\"\"\") }", "Syntax Error: Invalid "
		    "character within String: U+001F.", 2, 1 },
		{ "# a\x07\n{ a }", "Syntax Error: Unexpected character: "
		    "U+0007.", 1, 4 },
		{ "{ f(a: \"\\u{41}\") }", "Syntax Error: Invalid Unicode "
		    "escape sequence: \"\\u{41}\".", 1, 9 },
		/* invalid UTF-8 anywhere, even in a comment */
		{ "# \xff\n{ a }", "Syntax Error: Invalid UTF-8 byte 0xFF.",
		    1, 3 },
		{ "{ a }\n# \xc0\x80", "Syntax Error: Invalid UTF-8 byte "
		    "0xC0.", 2, 3 },
		{ "{ f(a: \"\xed\xa0\x80\") }", "Syntax Error: Invalid "
		    "UTF-8 sequence.", 1, 9 },
		{ "{ f(a: \"\xe4\xb8\") }", "Syntax Error: Invalid UTF-8 "
		    "sequence.", 1, 9 },
		{ "{ a } \xf4\x90\x80\x80", "Syntax Error: Invalid UTF-8 "
		    "sequence.", 1, 7 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_error(t[i].doc, strlen(t[i].doc), NULL, t[i].msg,
		    t[i].line, t[i].column);
	/* a NUL byte is a character, not the end of the document */
	assert_error("{ a \0 }", 7, NULL, "Syntax Error: Unexpected "
	    "character: U+0000.", 1, 5);
}

/* n copies of open, then mid, then n copies of close. */
static char *
nest(const char *pre, const char *open, const char *mid, const char *close,
    const char *post, size_t n, size_t *len)
{
	size_t	 lo = strlen(open), lc = strlen(close), i, o = 0;
	char	*s;

	s = malloc(strlen(pre) + n * (lo + lc) + strlen(mid) + strlen(post) +
	    1);
	assert_non_null(s);
	o += (size_t)sprintf(s, "%s", pre);
	for (i = 0; i < n; i++, o += lo)
		memcpy(s + o, open, lo);
	o += (size_t)sprintf(s + o, "%s", mid);
	for (i = 0; i < n; i++, o += lc)
		memcpy(s + o, close, lc);
	o += (size_t)sprintf(s + o, "%s", post);
	*len = o;
	return (s);
}

static void
test_depth(void **state)
{
	struct gql_limits	 big = { 4 << 20, 0, 1000000 };
	struct gql_limits	 small = { 0, 0, 3 };
	struct gql_error	 err;
	struct gql_doc		*doc;
	char			*s, msg[GQL_ERR_MAX];
	size_t			 len;

	snprintf(msg, sizeof(msg), "Syntax Error: Document nesting is "
	    "deeper than %u levels.", GQL_MAX_DEPTH);
	/* 10,000 nested selection sets: refused at level 129 */
	s = nest("{ ", "a { ", "b", " }", " }", 10000, &len);
	assert_error(s, len, NULL, msg, 1, 4 * GQL_MAX_DEPTH + 1);
	/* a larger limit is clamped, the stack still bounded */
	snprintf(msg, sizeof(msg), "Syntax Error: Document nesting is "
	    "deeper than %u levels.", GQL_DEPTH_CAP);
	assert_error(s, len, &big, msg, 1, 4 * GQL_DEPTH_CAP + 1);
	free(s);
	s = nest("{ f(a: ", "[", "1", "]", ") }", 10000, &len);
	assert_error(s, len, &big, msg, 1, 8 + GQL_DEPTH_CAP - 1);
	free(s);
	s = nest("{ f(a: ", "{a: ", "1", "}", ") }", 10000, &len);
	assert_error(s, len, &big, msg, 1, 8 + 4 * (GQL_DEPTH_CAP - 1));
	free(s);
	s = nest("query Q($a: ", "[", "Int", "]", ") { a }", 10000, &len);
	assert_error(s, len, &big, msg, 1, 13 + GQL_DEPTH_CAP);
	free(s);
	/* unclosed: a megabyte of '[' */
	s = nest("{ f(a: ", "[", "", "", "", 1024 * 1024, &len);
	assert_error(s, len, &big, msg, 1, 8 + GQL_DEPTH_CAP - 1);
	free(s);
	/* exactly at the limit is accepted */
	assert_non_null(doc = gql_parse("{ a { b { c } } }", 17, &small,
	    &err));
	gql_doc_free(doc);
	assert_error("{ a { b { c { d } } } }", 23, &small, "Syntax Error: "
	    "Document nesting is deeper than 3 levels.", 1, 13);
}

static void
test_size_limits(void **state)
{
	struct gql_limits	 bytes = { 10, 0, 0 }, toks = { 0, 5, 0 };
	struct gql_error	 err;
	struct gql_doc		*doc;

	assert_error("{ abcdefghij }", 14, &bytes, "Syntax Error: Document "
	    "is larger than 10 bytes.", 1, 1);
	assert_non_null(doc = gql_parse("{ abcdef }", 10, &bytes, &err));
	gql_doc_free(doc);
	assert_non_null(doc = gql_parse("{ a b c }", 9, &toks, &err));
	gql_doc_free(doc);
	assert_error("{ a b c d }", 11, &toks, "Syntax Error: Document "
	    "contains more than 5 tokens. Parsing aborted.", 1, 11);
}

/* 10,000 aliases of one field in a 1 MiB document: memory stays bounded. */
static void
test_many_aliases(void **state)
{
	struct gql_error		 err;
	struct gql_doc			*doc;
	const struct gql_selection	*s;
	size_t				 cap = 1024 * 1024, len = 0, n = 0;
	char				*buf;
	int				 i;

	buf = malloc(cap);
	assert_non_null(buf);
	buf[len++] = '{';
	for (i = 0; i < 10000; i++)
		len += (size_t)snprintf(buf + len, cap - len, " a%05d: "
		    "adder(note: \"%076d\")", i, i);
	assert_true(len < cap - 2);
	while (len < cap - 2)
		buf[len++] = ' ';
	buf[len++] = '}';
	assert_int_equal(len, cap - 1);
	doc = gql_parse(buf, len, NULL, &err);
	if (doc == NULL)
		fail_msg("%s at %u:%u", err.msg, err.loc.line, err.loc.column);
	for (s = doc->ops->sel; s != NULL; s = s->next, n++)
		assert_string_equal(s->name, "adder");
	assert_int_equal(n, 10000);
	/* the AST holds a copy of every name and string: a few times len */
	print_message("# arena: %zu bytes for a %zu byte document\n",
	    gql_doc_mem(doc), len);
	if (gql_doc_mem(doc) > 4 * len)
		fail_msg("arena %zu bytes for a %zu byte document",
		    gql_doc_mem(doc), len);
	gql_doc_free(doc);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_operations_and_fragments),
		cmocka_unit_test(test_fields_and_values),
		cmocka_unit_test(test_variables),
		cmocka_unit_test(test_locations),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_many_aliases),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
