/*
 * gql_int.h: what the GraphQL executor's files share and nothing else
 * sees.  gql_norm.c turns the parsed document into a tree of gnodes (the
 * operation's fields, fragments expanded, @skip/@include applied,
 * duplicate keys merged, limits checked); gql_args.c turns a field's
 * arguments into JSON params (variables, references); gql_out.c keeps
 * the field errors and writes the response; gql_exec.c runs the calls.
 * Everything of one request lives in its arena (struct garena), freed
 * at once with the request.
 */
#ifndef SY_GQL_INT_H
#define SY_GQL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "authn.h"
#include "gql_exec.h"
#include "gql_parse.h"
#include "util.h"

struct call_ctx;
struct catalog;
struct event;
struct json_object;

/* A bump allocator: everything is freed by garena_free. */
struct garena {
	struct gchunk	*head;
	size_t		 used;		/* bytes handed out, for limits */
};

void	*garena_alloc(struct garena *, size_t);	/* zeroed; NULL: no memory */
char	*garena_strdup(struct garena *, const char *);
void	 garena_free(struct garena *);

enum gnode_kind {
	GN_PLAIN,	/* selects from its parent's value */
	GN_TYPENAME,	/* __typename */
	GN_CALL,	/* a source directive: a service or database field */
	GN_INTROSPECT	/* root __schema / __type: NOT_SUPPORTED */
};

struct ginst;

/* A field of the operation after normalization. */
struct gnode {
	enum gnode_kind			 kind;
	const char			*key;	/* alias, else name */
	const char			*name;
	struct gql_loc			 loc;
	const struct gql_arg		*args;
	const struct gql_directive	*src;	/* the source directive */
	struct gnode			**kids;	/* selection order */
	size_t				 nkids;
	int				 has_sel;
	int				 calls_below;	/* a GN_CALL under it */
	unsigned			 pos;	/* index in the parent's kids */
	unsigned			 depth;	/* root fields: 1 */
	struct gnode			*up;	/* NULL at the root */
	/* GN_CALL: the call fields whose nearest call ancestor this is */
	struct gnode			**occ;
	size_t				 nocc;
	/* GN_CALL, per request: instances and their progress */
	struct ginst			*insts, *insts_tail;
	size_t				 ninsts;
	size_t				 pending;
	int				 done;
};

/* The normalized operation. */
struct gop {
	struct gnode		*root;	/* kids: the root fields */
	struct json_object	*vars;	/* effective variables (owned) */
	size_t			 nfields;
};

/* A request error: code and message (GQL_ERR_MAX), with a location. */
struct greqerr {
	const char	*code;
	char		 msg[GQL_ERR_MAX];
	struct gql_loc	 loc;	/* line 0: none */
};

struct gnorm_limits {
	int64_t		 max_depth;
	int64_t		 max_fields;
};

/*
 * Pick the operation (name may be NULL), apply the variables (a JSON
 * object, or NULL), expand and merge the selections into op.  0, or -1
 * with *err filled: a request error (8.2).
 */
int	gql_norm(const struct gql_doc *, const char *name,
	    struct json_object *vars, const struct gnorm_limits *,
	    struct garena *, struct gop *op, struct greqerr *err);

/* The enclosing fields' values, innermost first, for references. */
struct gscope {
	const struct gscope	*up;
	const char		*key;
	struct json_object	*val;	/* borrowed */
};

/*
 * A field's arguments as a JSON object (new reference in *out), in the
 * order written.  -1 with *err (static) on a bad value: an Int out of
 * the 64-bit range.
 */
int	gql_args_json(const struct gql_arg *, const struct gscope *,
	    struct json_object *vars, struct json_object **out,
	    const char **err);
/* One value (a directive's argument): 1 with *out, 0 when absent. */
int	gql_value_json(const struct gql_value *, const struct gscope *,
	    struct json_object *vars, struct json_object **out,
	    const char **err);
/*
 * The de-duplication key of JSON value v: equal JSON values (members in
 * any order, numbers by value) give equal bytes.  0 / -1 (no memory).
 */
int	gql_canon(struct sybuf *, struct json_object *v);

/* A response path, shared by prefix: a key (node) or a list index. */
struct gpath {
	const struct gpath	*up;
	const struct gnode	*node;	/* NULL: an index */
	size_t			 index;
	unsigned		 len;	/* segments up to here */
};

/* A field error (8.2) waiting to be written. */
struct gerr {
	const char		*code;
	int			 status;
	const char		*msg;		/* arena */
	struct gql_loc		 loc;
	const struct gpath	*path;
	long			 upstatus;	/* UPSTREAM_STATUS: the status */
	struct json_object	*upbody;	/* its body, one reference */
	struct gerr		*next;
};

struct gerrs {
	struct gerr	*head, *tail;
	size_t		 n;
};

/* Record a field error (msg is copied).  -1: out of memory. */
int	gql_err_add(struct gerrs *, struct garena *, const char *code,
	    int status, const char *msg, const struct gnode *,
	    const struct gpath *);
void	gql_errs_free(struct gerrs *);

/*
 * The response body: {"data":data,"errors":[...]} (data NULL: left out;
 * errors sorted into document order).  0 / -1 (no memory).
 */
int	gql_out_write(struct sybuf *, struct json_object *data,
	    struct gerrs *);
/* A request error's body: {"errors":[{message,locations?,extensions}]}. */
int	gql_out_reqerr(struct sybuf *, const struct greqerr *);

/*
 * The executor's request and instance, shared by gql_exec.c (service
 * fields, shaping, the request's life) and gql_db.c (database fields).
 */
#define GX_BUCKETS		128
#define GX_REQID_MAX		128

struct gcall;
struct gdbread;

/* One instance of a call field: a place in the response to fill. */
struct ginst {
	struct gnode		*node;
	struct json_object	*slot;	/* the object holding node->key */
	const struct gpath	*path;
	const struct gscope	*scope;	/* the enclosing fields' values */
	struct gkey		*key;	/* set by the batch */
	const char		*err;	/* BAD_USER_INPUT from its args */
	struct ginst		*next;	/* the occurrence's */
	struct ginst		*wnext;	/* the call's waiters */
	int			 done;
};


struct gql_exec {
	struct call_ctx		*ctx;
	struct catalog		*cat;
	struct authn		*authn;
	struct sy_project	*proj;
	const char		*authorization;
	char			 reqid[GX_REQID_MAX + 1];
	upreq_header_fn		 header;
	void			*header_arg;
	double			 deadline;
	struct garena		 a;
	struct gql_doc		*doc;
	struct gop		 op;
	struct json_object	*vars;		/* as given */
	struct json_object	*data;
	struct gerrs		 errs;
	struct greqerr		 reqerr;
	int			 has_reqerr;
	struct gcall		*tab[GX_BUCKETS];
	struct gcall		*qhead, *qtail;
	struct gcall		*all;
	struct gdbread		*dbreads;	/* gql_db.c's, every one */
	size_t			 running;
	size_t			 ncalls;		/* calls + statements */
	size_t			 nstmts;		/* SQL statements */
	size_t			 nvalues;
	size_t			 open_occ;
	int			 who_state;	/* 0 not yet, 1 ok, 2 refused */
	struct principal	 who;
	const char		*who_why;
	struct event		*timer;
	int			 finishing;
	gql_exec_cb		 cb;
	void			*arg;
	struct sybuf		 out;
};


/* gql_exec.c, for gql_db.c: an instance fails with a field error, */
void	gql_inst_fail(struct gql_exec *, struct ginst *, const char *code,
	    int status, const char *msg);
/* gets value v (borrowed) shaped by its field's selection, */
void	gql_inst_value(struct gql_exec *, struct ginst *,
	    struct json_object *v);
/* or the occurrence's batch lets its hold go. */
void	gql_pending_dec(struct gql_exec *, struct gnode *);
/* The caller's principal, verified at most once: 0 / -1 (x->who_why). */
int	gql_who(struct gql_exec *);

/*
 * gql_db.c: run occurrence n as a database field when its source
 * directive names a database alias of the project: 0 (n is handled,
 * its batch hold released), or -1 (not a database: a service field).
 */
int	gql_db_batch(struct gql_exec *, struct gnode *n);
/* Cancel every database read still running (the deadline passed). */
void	gql_db_cancel(struct gql_exec *);
/* Free what the request's database reads hold. */
void	gql_db_free(struct gql_exec *);

#endif
