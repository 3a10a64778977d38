/*
 * gql_lex.h: internal to the GraphQL parser (gql_lex.c, gql_parse.c):
 * the document arena and the lexer.  Not for other modules.
 */
#ifndef SY_GQL_LEX_H
#define SY_GQL_LEX_H

#include <stddef.h>

#include "gql_parse.h"

struct gql_arena;

struct gql_arena *gql_arena_new(void);		/* NULL: out of memory */
void		*gql_arena_alloc(struct gql_arena *, size_t);	/* zeroed */
size_t		 gql_arena_size(const struct gql_arena *);
void		 gql_arena_free(struct gql_arena *);

enum gql_tok {
	GQL_T_EOF,
	GQL_T_BANG,
	GQL_T_DOLLAR,
	GQL_T_AMP,
	GQL_T_PAREN_L,
	GQL_T_PAREN_R,
	GQL_T_SPREAD,
	GQL_T_COLON,
	GQL_T_EQUALS,
	GQL_T_AT,
	GQL_T_BRACKET_L,
	GQL_T_BRACKET_R,
	GQL_T_BRACE_L,
	GQL_T_PIPE,
	GQL_T_BRACE_R,
	GQL_T_NAME,
	GQL_T_INT,
	GQL_T_FLOAT,
	GQL_T_STRING,
	GQL_T_BLOCK_STRING
};

/*
 * NAME, INT and FLOAT: val points into the source (not NUL-terminated);
 * STRING and BLOCK_STRING: val is the decoded value in the arena, with a
 * NUL after len bytes.  Other kinds: val is NULL.
 */
struct gql_token {
	enum gql_tok	 kind;
	size_t		 start;
	struct gql_loc	 loc;
	const char	*val;
	size_t		 len;
};

struct gql_lexer {
	const unsigned char	*src;
	size_t			 len;
	size_t			 pos;	/* after the current token */
	struct gql_arena	*arena;
	struct gql_error	*err;
	size_t			 ntokens;
	size_t			 max_tokens;
	size_t			 cur_off;	/* location cursor */
	struct gql_loc		 cur;
	int			 cur_cr;
	struct gql_token	 tok;
};

/* 0 when src is valid UTF-8; else -1 with the error set. */
int	 gql_lex_init(struct gql_lexer *, const char *, size_t,
	    struct gql_arena *, size_t, struct gql_error *);
/* Reads the next token into lx->tok: 0, or -1 with the error set. */
int	 gql_lex_next(struct gql_lexer *);
/* Sets the error at a byte offset (never before the current token). */
int	 gql_lex_error(struct gql_lexer *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Sets the error at a token's location. */
int	 gql_lex_error_at(struct gql_lexer *, const struct gql_token *,
	    const char *, ...) __attribute__((format(printf, 3, 4)));
/* "Name \"x\"", "\"}\"", "<EOF>": a token as graphql-js describes it. */
void	 gql_lex_desc(const struct gql_token *, char *, size_t);
const char *gql_lex_kind_desc(enum gql_tok);

#endif
