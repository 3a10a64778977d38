/*
 * gql_parse.c: the parser of GraphQL executable documents (see
 * gql_parse.h): a recursive-descent parser over gql_lex.c's tokens that
 * builds the AST in one arena per document.  The grammar and the error
 * messages follow the October 2021 spec and graphql-js 16; type-system
 * definitions, which graphql-js refuses only at validation, are a syntax
 * error here.
 *
 * Invariants: every recursion (selection sets, list and object values,
 * list types) goes through parse_enter(), so the C stack is bounded by
 * max_depth (clamped to GQL_DEPTH_CAP) whatever the input; the document
 * size and the token count are checked before any work that grows with
 * them.  On error the arena is freed and nothing leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gql_lex.h"
#include "gql_parse.h"

struct parser {
	struct gql_lexer	 lx;
	struct gql_arena	*a;
	unsigned		 depth;
	unsigned		 max_depth;
	struct gql_operation	**op_tail;	/* appends in O(1) */
	struct gql_fragment	**frag_tail;
};

static int	 parse_definition(struct parser *, struct gql_doc *);
static int	 parse_selection_set(struct parser *, struct gql_selection **);
static int	 parse_value(struct parser *, int, struct gql_value **);
static int	 parse_directives(struct parser *, int,
		    struct gql_directive **);
static int	 parse_args(struct parser *, int, struct gql_arg **);
static int	 parse_type(struct parser *, struct gql_type **);

static void *
palloc(struct parser *P, size_t n)
{
	void	*p;

	if ((p = gql_arena_alloc(P->a, n)) == NULL)
		gql_lex_error_at(&P->lx, &P->lx.tok, "Out of memory.");
	return (p);
}

static int
advance(struct parser *P)
{
	return (gql_lex_next(&P->lx));
}

static int
peek(struct parser *P, enum gql_tok k)
{
	return (P->lx.tok.kind == k);
}

static int
peek_keyword(struct parser *P, const char *kw)
{
	const struct gql_token	*t = &P->lx.tok;

	return (t->kind == GQL_T_NAME && t->len == strlen(kw) &&
	    memcmp(t->val, kw, t->len) == 0);
}

static int
unexpected(struct parser *P, const struct gql_token *t)
{
	char	 desc[96];

	gql_lex_desc(t, desc, sizeof(desc));
	return (gql_lex_error_at(&P->lx, t, "Syntax Error: Unexpected %s.",
	    desc));
}

static int
expect(struct parser *P, enum gql_tok k)
{
	char	 desc[96];

	if (P->lx.tok.kind == k)
		return (advance(P));
	gql_lex_desc(&P->lx.tok, desc, sizeof(desc));
	return (gql_lex_error_at(&P->lx, &P->lx.tok,
	    "Syntax Error: Expected %s, found %s.", gql_lex_kind_desc(k),
	    desc));
}

/* 1 and advances when the token is k, 0 when not, -1 on a lex error. */
static int
skip(struct parser *P, enum gql_tok k)
{
	if (P->lx.tok.kind != k)
		return (0);
	return (advance(P) == -1 ? -1 : 1);
}

static int
expect_keyword(struct parser *P, const char *kw)
{
	char	 desc[96];

	if (peek_keyword(P, kw))
		return (advance(P));
	gql_lex_desc(&P->lx.tok, desc, sizeof(desc));
	return (gql_lex_error_at(&P->lx, &P->lx.tok,
	    "Syntax Error: Expected \"%s\", found %s.", kw, desc));
}

/* A copy of the current token's text, NUL-terminated, in the arena. */
static char *
token_text(struct parser *P)
{
	char	*s;

	if ((s = palloc(P, P->lx.tok.len + 1)) != NULL)
		memcpy(s, P->lx.tok.val, P->lx.tok.len);
	return (s);
}

static int
parse_name(struct parser *P, const char **out)
{
	if (!peek(P, GQL_T_NAME))
		return (expect(P, GQL_T_NAME));
	if ((*out = token_text(P)) == NULL)
		return (-1);
	return (advance(P));
}

static int
parse_enter(struct parser *P)
{
	if (++P->depth > P->max_depth)
		return (gql_lex_error_at(&P->lx, &P->lx.tok, "Syntax Error: "
		    "Document nesting is deeper than %u levels.",
		    P->max_depth));
	return (0);
}

static int
parse_document(struct parser *P, struct gql_doc *doc)
{
	if (advance(P) == -1)
		return (-1);
	do {
		if (parse_definition(P, doc) == -1)
			return (-1);
	} while (!peek(P, GQL_T_EOF));
	return (0);
}

static int
parse_vardefs(struct parser *P, struct gql_vardef **tail)
{
	struct gql_vardef	*v;
	int			 r;

	if ((r = skip(P, GQL_T_PAREN_L)) <= 0)
		return (r);
	do {
		if ((v = palloc(P, sizeof(*v))) == NULL)
			return (-1);
		v->loc = P->lx.tok.loc;
		if (expect(P, GQL_T_DOLLAR) == -1 ||
		    parse_name(P, &v->name) == -1 ||
		    expect(P, GQL_T_COLON) == -1 ||
		    parse_type(P, &v->type) == -1)
			return (-1);
		if ((r = skip(P, GQL_T_EQUALS)) == -1 ||
		    (r == 1 && parse_value(P, 1, &v->defval) == -1) ||
		    parse_directives(P, 1, &v->dirs) == -1)
			return (-1);
		*tail = v;
		tail = &v->next;
	} while ((r = skip(P, GQL_T_PAREN_R)) == 0);
	return (r == -1 ? -1 : 0);
}

static int
parse_operation(struct parser *P, struct gql_doc *doc)
{
	struct gql_operation	*op;

	if ((op = palloc(P, sizeof(*op))) == NULL)
		return (-1);
	op->loc = P->lx.tok.loc;
	op->kind = GQL_OP_QUERY;
	if (!peek(P, GQL_T_BRACE_L)) {
		if (peek_keyword(P, "mutation"))
			op->kind = GQL_OP_MUTATION;
		else if (peek_keyword(P, "subscription"))
			op->kind = GQL_OP_SUBSCRIPTION;
		if (advance(P) == -1 ||
		    (peek(P, GQL_T_NAME) && parse_name(P, &op->name) == -1) ||
		    parse_vardefs(P, &op->vars) == -1 ||
		    parse_directives(P, 0, &op->dirs) == -1)
			return (-1);
	}
	if (parse_selection_set(P, &op->sel) == -1)
		return (-1);
	*P->op_tail = op;
	P->op_tail = &op->next;
	doc->nops++;
	return (0);
}

static int
parse_fragment_name(struct parser *P, const char **out)
{
	if (peek_keyword(P, "on"))
		return (unexpected(P, &P->lx.tok));
	return (parse_name(P, out));
}

static int
parse_fragment(struct parser *P, struct gql_doc *doc)
{
	struct gql_fragment	*f;

	if ((f = palloc(P, sizeof(*f))) == NULL)
		return (-1);
	f->loc = P->lx.tok.loc;
	if (advance(P) == -1 || parse_fragment_name(P, &f->name) == -1 ||
	    expect_keyword(P, "on") == -1 ||
	    parse_name(P, &f->type_cond) == -1 ||
	    parse_directives(P, 0, &f->dirs) == -1 ||
	    parse_selection_set(P, &f->sel) == -1)
		return (-1);
	*P->frag_tail = f;
	P->frag_tail = &f->next;
	doc->nfrags++;
	return (0);
}

static int
parse_definition(struct parser *P, struct gql_doc *doc)
{
	static const char *const typesys[] = { "schema", "scalar", "type",
	    "interface", "union", "enum", "input", "directive", "extend" };
	size_t	 i;

	if (peek(P, GQL_T_BRACE_L) || peek_keyword(P, "query") ||
	    peek_keyword(P, "mutation") || peek_keyword(P, "subscription"))
		return (parse_operation(P, doc));
	if (peek_keyword(P, "fragment"))
		return (parse_fragment(P, doc));
	for (i = 0; i < sizeof(typesys) / sizeof(typesys[0]); i++) {
		if (peek_keyword(P, typesys[i]))
			return (gql_lex_error_at(&P->lx, &P->lx.tok,
			    "Syntax Error: Unexpected Name \"%s\": type system "
			    "definitions are not allowed in an executable "
			    "document.", typesys[i]));
	}
	return (unexpected(P, &P->lx.tok));
}

/* A field: [alias:] name [args] [directives] [selection set]. */
static int
parse_field(struct parser *P, struct gql_selection *s)
{
	int	 r;

	s->kind = GQL_SEL_FIELD;
	if (parse_name(P, &s->name) == -1 ||
	    (r = skip(P, GQL_T_COLON)) == -1)
		return (-1);
	if (r == 1) {
		s->alias = s->name;
		if (parse_name(P, &s->name) == -1)
			return (-1);
	}
	if (parse_args(P, 0, &s->args) == -1 ||
	    parse_directives(P, 0, &s->dirs) == -1)
		return (-1);
	if (peek(P, GQL_T_BRACE_L))
		return (parse_selection_set(P, &s->sel));
	return (0);
}

/* After "...": a fragment spread or an inline fragment. */
static int
parse_spread(struct parser *P, struct gql_selection *s)
{
	int	 on;

	if (advance(P) == -1)
		return (-1);
	if ((on = peek_keyword(P, "on")) && advance(P) == -1)
		return (-1);
	if (!on && peek(P, GQL_T_NAME)) {
		s->kind = GQL_SEL_SPREAD;
		return (parse_name(P, &s->name) == -1 ? -1 :
		    parse_directives(P, 0, &s->dirs));
	}
	s->kind = GQL_SEL_INLINE;
	if ((on && parse_name(P, &s->type_cond) == -1) ||
	    parse_directives(P, 0, &s->dirs) == -1)
		return (-1);
	return (parse_selection_set(P, &s->sel));
}

static int
parse_selection_set(struct parser *P, struct gql_selection **tail)
{
	struct gql_selection	*s;
	int			 r;

	if (parse_enter(P) == -1 || expect(P, GQL_T_BRACE_L) == -1)
		return (-1);
	do {
		if ((s = palloc(P, sizeof(*s))) == NULL)
			return (-1);
		s->loc = P->lx.tok.loc;
		if (peek(P, GQL_T_SPREAD))
			r = parse_spread(P, s);
		else
			r = parse_field(P, s);
		if (r == -1)
			return (-1);
		*tail = s;
		tail = &s->next;
	} while ((r = skip(P, GQL_T_BRACE_R)) == 0);
	P->depth--;
	return (r == -1 ? -1 : 0);
}

/* ( name: value ... ) for arguments; { name: value ... } for objects. */
static int
parse_arg_list(struct parser *P, int isconst, enum gql_tok close,
    int nonempty, struct gql_arg **tail)
{
	struct gql_arg	*a;
	int		 r;

	if (advance(P) == -1)
		return (-1);
	if (!nonempty && (r = skip(P, close)) != 0)
		return (r == -1 ? -1 : 0);
	do {
		if ((a = palloc(P, sizeof(*a))) == NULL)
			return (-1);
		a->loc = P->lx.tok.loc;
		if (parse_name(P, &a->name) == -1 ||
		    expect(P, GQL_T_COLON) == -1 ||
		    parse_value(P, isconst, &a->value) == -1)
			return (-1);
		*tail = a;
		tail = &a->next;
	} while ((r = skip(P, close)) == 0);
	return (r == -1 ? -1 : 0);
}

static int
parse_args(struct parser *P, int isconst, struct gql_arg **tail)
{
	if (!peek(P, GQL_T_PAREN_L))
		return (0);
	return (parse_arg_list(P, isconst, GQL_T_PAREN_R, 1, tail));
}

static int
parse_directives(struct parser *P, int isconst, struct gql_directive **tail)
{
	struct gql_directive	*d;

	while (peek(P, GQL_T_AT)) {
		if ((d = palloc(P, sizeof(*d))) == NULL)
			return (-1);
		d->loc = P->lx.tok.loc;
		if (advance(P) == -1 || parse_name(P, &d->name) == -1 ||
		    parse_args(P, isconst, &d->args) == -1)
			return (-1);
		*tail = d;
		tail = &d->next;
	}
	return (0);
}

static int
parse_type(struct parser *P, struct gql_type **out)
{
	struct gql_type	*t, *nn;
	int		 r;

	if (parse_enter(P) == -1 || (t = palloc(P, sizeof(*t))) == NULL ||
	    (r = skip(P, GQL_T_BRACKET_L)) == -1)
		return (-1);
	if (r == 1) {
		t->kind = GQL_TYPE_LIST;
		if (parse_type(P, &t->of) == -1 ||
		    expect(P, GQL_T_BRACKET_R) == -1)
			return (-1);
	} else {
		t->kind = GQL_TYPE_NAMED;
		if (parse_name(P, &t->name) == -1)
			return (-1);
	}
	if ((r = skip(P, GQL_T_BANG)) == -1)
		return (-1);
	if (r == 1) {
		if ((nn = palloc(P, sizeof(*nn))) == NULL)
			return (-1);
		nn->kind = GQL_TYPE_NONNULL;
		nn->of = t;
		t = nn;
	}
	*out = t;
	P->depth--;
	return (0);
}

/* List and object values: one nesting level each. */
static int
parse_compound(struct parser *P, int isconst, struct gql_value *v)
{
	struct gql_value	**tail = &v->items;
	int			 r;

	if (parse_enter(P) == -1)
		return (-1);
	if (peek(P, GQL_T_BRACE_L)) {
		v->kind = GQL_VAL_OBJECT;
		if (parse_arg_list(P, isconst, GQL_T_BRACE_R, 0,
		    &v->fields) == -1)
			return (-1);
		P->depth--;
		return (0);
	}
	v->kind = GQL_VAL_LIST;
	if (advance(P) == -1)
		return (-1);
	while ((r = skip(P, GQL_T_BRACKET_R)) == 0) {
		if (parse_value(P, isconst, tail) == -1)
			return (-1);
		tail = &(*tail)->next;
	}
	P->depth--;
	return (r == -1 ? -1 : 0);
}

static int
parse_variable(struct parser *P, int isconst, struct gql_value *v)
{
	struct gql_token	 dollar = P->lx.tok;

	if (advance(P) == -1)
		return (-1);
	if (isconst) {
		if (!peek(P, GQL_T_NAME))
			return (unexpected(P, &dollar));
		return (gql_lex_error_at(&P->lx, &dollar, "Syntax Error: "
		    "Unexpected variable \"$%.*s\" in constant value.",
		    (int)(P->lx.tok.len > 64 ? 64 : P->lx.tok.len),
		    P->lx.tok.val));
	}
	v->kind = GQL_VAL_VARIABLE;
	if (parse_name(P, &v->str) == -1)
		return (-1);
	v->len = strlen(v->str);
	return (0);
}

static int
parse_value(struct parser *P, int isconst, struct gql_value **out)
{
	struct gql_token	*t = &P->lx.tok;
	struct gql_value	*v;

	if ((v = *out = palloc(P, sizeof(*v))) == NULL)
		return (-1);
	v->loc = t->loc;
	switch (t->kind) {
	case GQL_T_BRACKET_L:
	case GQL_T_BRACE_L:
		return (parse_compound(P, isconst, v));
	case GQL_T_DOLLAR:
		return (parse_variable(P, isconst, v));
	case GQL_T_INT:
	case GQL_T_FLOAT:
		v->kind = t->kind == GQL_T_INT ? GQL_VAL_INT : GQL_VAL_FLOAT;
		break;
	case GQL_T_STRING:
	case GQL_T_BLOCK_STRING:
		v->kind = GQL_VAL_STRING;
		v->block = t->kind == GQL_T_BLOCK_STRING;
		v->str = t->val;	/* already decoded into the arena */
		v->len = t->len;
		return (advance(P));
	case GQL_T_NAME:
		if (peek_keyword(P, "true") || peek_keyword(P, "false")) {
			v->kind = GQL_VAL_BOOLEAN;
			v->boolean = peek_keyword(P, "true");
		} else if (peek_keyword(P, "null"))
			v->kind = GQL_VAL_NULL;
		else
			v->kind = GQL_VAL_ENUM;
		break;
	default:
		return (unexpected(P, t));
	}
	if (v->kind != GQL_VAL_BOOLEAN && v->kind != GQL_VAL_NULL) {
		if ((v->str = token_text(P)) == NULL)
			return (-1);
		v->len = t->len;
	}
	return (advance(P));
}

struct gql_doc *
gql_parse(const char *src, size_t len, const struct gql_limits *lim,
    struct gql_error *err)
{
	struct parser	 P;
	struct gql_doc	*doc;
	size_t		 max_bytes = GQL_MAX_BYTES, max_tokens = GQL_MAX_TOKENS;

	memset(err, 0, sizeof(*err));
	err->loc.line = err->loc.column = 1;
	memset(&P, 0, sizeof(P));
	P.max_depth = GQL_MAX_DEPTH;
	if (lim != NULL) {
		if (lim->max_bytes > 0)
			max_bytes = lim->max_bytes;
		if (lim->max_tokens > 0)
			max_tokens = lim->max_tokens;
		if (lim->max_depth > 0)
			P.max_depth = lim->max_depth;
	}
	if (P.max_depth > GQL_DEPTH_CAP)
		P.max_depth = GQL_DEPTH_CAP;
	if (len > max_bytes) {
		snprintf(err->msg, sizeof(err->msg), "Syntax Error: Document "
		    "is larger than %zu bytes.", max_bytes);
		return (NULL);
	}
	if ((P.a = gql_arena_new()) == NULL ||
	    (doc = gql_arena_alloc(P.a, sizeof(*doc))) == NULL) {
		snprintf(err->msg, sizeof(err->msg), "Out of memory.");
		gql_arena_free(P.a);
		return (NULL);
	}
	doc->arena = P.a;
	P.op_tail = &doc->ops;
	P.frag_tail = &doc->frags;
	if (gql_lex_init(&P.lx, src, len, P.a, max_tokens, err) == -1 ||
	    parse_document(&P, doc) == -1) {
		gql_arena_free(P.a);
		return (NULL);
	}
	return (doc);
}

void
gql_doc_free(struct gql_doc *doc)
{
	if (doc != NULL)
		gql_arena_free(doc->arena);
}

size_t
gql_doc_mem(const struct gql_doc *doc)
{
	return (gql_arena_size(doc->arena));
}

const struct gql_operation *
gql_doc_operation(const struct gql_doc *doc, const char *name)
{
	const struct gql_operation	*op;

	if (name == NULL)
		return (doc->nops == 1 ? doc->ops : NULL);
	for (op = doc->ops; op != NULL; op = op->next)
		if (op->name != NULL && strcmp(op->name, name) == 0)
			return (op);
	return (NULL);
}

const struct gql_fragment *
gql_doc_fragment(const struct gql_doc *doc, const char *name)
{
	const struct gql_fragment	*f;

	for (f = doc->frags; f != NULL; f = f->next)
		if (strcmp(f->name, name) == 0)
			return (f);
	return (NULL);
}

const struct gql_arg *
gql_arg_find(const struct gql_arg *a, const char *name)
{
	for (; a != NULL; a = a->next)
		if (strcmp(a->name, name) == 0)
			return (a);
	return (NULL);
}
