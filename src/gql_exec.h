/*
 * gql_exec.h: one GraphQL request (SPEC 8), executed on the worker's
 * event loop over the call core: the document parsed (gql_parse.c) and
 * normalized (gql_norm.c), each service field instance a call through
 * call.c, identical calls made once, results shaped by the selections,
 * the request deadline and the limits of 8.8 applied.  Nothing here
 * knows HTTP servers: the transport (http_gql.c) reads the request and
 * writes the body this produces.
 */
#ifndef SY_GQL_EXEC_H
#define SY_GQL_EXEC_H

#include <stddef.h>

#include "upreq.h"

struct authn;
struct call_ctx;
struct catalog;
struct json_object;
struct sy_project;

struct gql_exec;

struct gql_exec_in {
	const char		*query;		/* borrowed during start */
	size_t			 query_len;
	const char		*opname;	/* or NULL; borrowed */
	struct json_object	*variables;	/* or NULL; one ref taken */
	struct sy_project	*proj;		/* one ref taken */
	struct catalog		*cat;		/* borrowed, outlives */
	struct authn		*authn;		/* borrowed, outlives */
	const char		*authorization;	/* or NULL; borrowed */
	double			 start;		/* monotonic: request read */
	const char		*reqid;		/* copied */
	upreq_header_fn		 header;	/* the client's headers */
	void			*header_arg;	/* borrowed */
	size_t			 max_doc;	/* document bytes */
};

struct gql_exec_result {
	int		 request_error;	/* no data: 200 or 400 by media type */
	const char	*body;		/* JSON text, borrowed */
	size_t		 len;
	size_t		 calls;		/* upstream calls made */
	size_t		 statements;	/* SQL statements */
	size_t		 field_errors;
};

typedef void (*gql_exec_cb)(const struct gql_exec_result *, void *arg);

/*
 * Start a request.  cb runs exactly once, from the event loop and never
 * from inside gql_exec_start, unless the request is freed first.  NULL
 * when out of memory (no callback then).
 */
struct gql_exec	*gql_exec_start(struct call_ctx *, const struct gql_exec_in *,
		    gql_exec_cb cb, void *arg);

/* Free the request; what still runs is cancelled, no callback runs. */
void		 gql_exec_free(struct gql_exec *);

#endif
