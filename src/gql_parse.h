/*
 * gql_parse.h: a strict, bounded parser for GraphQL executable documents
 * (October 2021 edition): operations, variable definitions, fragments,
 * selections, directives and values.  Type-system definitions are refused.
 *
 * Ownership: gql_parse() returns one struct gql_doc; every node, name and
 * string reachable from it lives in that document's arena and is freed by
 * the single gql_doc_free() call.  Nothing points into the caller's source
 * buffer, which may be freed as soon as gql_parse() returns.
 *
 * Lists are singly linked through `next`, in document order.  Names are
 * NUL-terminated.  Locations are 1-based lines and columns counted in
 * Unicode code points; \r\n, \n and \r each end a line.
 */
#ifndef SY_GQL_PARSE_H
#define SY_GQL_PARSE_H

#include <stddef.h>

#define GQL_MAX_BYTES	(1024 * 1024)	/* default document size */
#define GQL_MAX_TOKENS	100000		/* default token count */
#define GQL_MAX_DEPTH	128		/* default nesting depth */
#define GQL_DEPTH_CAP	1000		/* larger max_depth is clamped */
#define GQL_ERR_MAX	256

/* Zero members take the defaults above. */
struct gql_limits {
	size_t		 max_bytes;
	size_t		 max_tokens;
	unsigned	 max_depth;	/* one count: selection sets, list and
					   object values, list types */
};

struct gql_loc {
	unsigned	 line;
	unsigned	 column;
};

/* msg is in graphql-js's style: "Syntax Error: Expected Name, found <EOF>." */
struct gql_error {
	char		 msg[GQL_ERR_MAX];
	struct gql_loc	 loc;
};

enum gql_value_kind {
	GQL_VAL_VARIABLE,	/* str: the name, without '$' */
	GQL_VAL_INT,		/* str: the source text, e.g. "-0", "123" */
	GQL_VAL_FLOAT,		/* str: the source text, e.g. "1.5e3" */
	GQL_VAL_STRING,		/* str/len: decoded UTF-8 (may hold NUL) */
	GQL_VAL_BOOLEAN,	/* boolean */
	GQL_VAL_NULL,
	GQL_VAL_ENUM,		/* str: the name */
	GQL_VAL_LIST,		/* items */
	GQL_VAL_OBJECT		/* fields */
};

struct gql_arg;

struct gql_value {
	enum gql_value_kind	 kind;
	struct gql_loc		 loc;
	const char		*str;	/* NUL-terminated; see the kinds */
	size_t			 len;	/* bytes in str */
	int			 boolean;
	int			 block;	/* a STRING written as """block""" */
	struct gql_value	*items;	/* LIST: first element */
	struct gql_arg		*fields;/* OBJECT: first field, as written */
	struct gql_value	*next;	/* next element of the enclosing LIST */
};

/* An argument of a field or directive, or a field of an object value. */
struct gql_arg {
	const char		*name;
	struct gql_loc		 loc;
	struct gql_value	*value;
	struct gql_arg		*next;
};

struct gql_directive {
	const char		*name;	/* without '@' */
	struct gql_loc		 loc;	/* of the '@' */
	struct gql_arg		*args;
	struct gql_directive	*next;
};

enum gql_type_kind {
	GQL_TYPE_NAMED,		/* name */
	GQL_TYPE_LIST,		/* [of] */
	GQL_TYPE_NONNULL	/* of! (of is NAMED or LIST) */
};

struct gql_type {
	enum gql_type_kind	 kind;
	const char		*name;
	struct gql_type		*of;
};

struct gql_vardef {
	const char		*name;	/* without '$' */
	struct gql_loc		 loc;	/* of the '$' */
	struct gql_type		*type;
	struct gql_value	*defval;/* const value, or NULL when none */
	struct gql_directive	*dirs;
	struct gql_vardef	*next;
};

enum gql_sel_kind {
	GQL_SEL_FIELD,		/* alias, name, args, dirs, sel */
	GQL_SEL_SPREAD,		/* ...name dirs */
	GQL_SEL_INLINE		/* ... on type_cond dirs sel */
};

struct gql_selection {
	enum gql_sel_kind	 kind;
	struct gql_loc		 loc;	/* field: its first name; else "..." */
	const char		*alias;	/* NULL when none */
	const char		*name;	/* field name or fragment name */
	const char		*type_cond;	/* INLINE: NULL when none */
	struct gql_arg		*args;
	struct gql_directive	*dirs;
	struct gql_selection	*sel;	/* first child; NULL: no selections */
	struct gql_selection	*next;
};

enum gql_op_kind {
	GQL_OP_QUERY,		/* also the shorthand { ... } */
	GQL_OP_MUTATION,
	GQL_OP_SUBSCRIPTION
};

struct gql_operation {
	enum gql_op_kind	 kind;
	const char		*name;	/* NULL when anonymous */
	struct gql_loc		 loc;
	struct gql_vardef	*vars;
	struct gql_directive	*dirs;
	struct gql_selection	*sel;	/* never NULL */
	struct gql_operation	*next;
};

struct gql_fragment {
	const char		*name;
	const char		*type_cond;
	struct gql_loc		 loc;
	struct gql_directive	*dirs;
	struct gql_selection	*sel;	/* never NULL */
	struct gql_fragment	*next;
};

struct gql_doc {
	struct gql_operation	*ops;	/* in document order */
	size_t			 nops;
	struct gql_fragment	*frags;	/* in document order */
	size_t			 nfrags;
	struct gql_arena	*arena;	/* private */
};

/*
 * Parse len bytes of UTF-8 source (no NUL needed).  lim may be NULL for
 * the defaults.  Returns the document (caller frees with gql_doc_free), or
 * NULL with *err filled: a syntax error, a limit, or out of memory.
 */
struct gql_doc	*gql_parse(const char *src, size_t len,
		    const struct gql_limits *lim, struct gql_error *err);
void		 gql_doc_free(struct gql_doc *);

/* Bytes the document's arena holds (for memory bounds). */
size_t		 gql_doc_mem(const struct gql_doc *);

/*
 * The operation called name; with name NULL, the only operation of the
 * document.  NULL when there is none, or (name NULL) several.  Borrowed.
 */
const struct gql_operation *gql_doc_operation(const struct gql_doc *,
		    const char *name);
/* The first fragment called name, or NULL.  Borrowed. */
const struct gql_fragment *gql_doc_fragment(const struct gql_doc *,
		    const char *name);
/* The first argument (or object field) called name in list, or NULL. */
const struct gql_arg *gql_arg_find(const struct gql_arg *list,
		    const char *name);

#endif
