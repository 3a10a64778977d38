/*
 * call.h: one service call, whichever way it came in (the REST API now,
 * GraphQL fields next): the endpoint's rule with its webhooks, the
 * upstream request, the upstream call, and exactly one completion that
 * says how it ended, each outcome with one status and one metric.
 * Nothing here knows HTTP servers: the caller looks the endpoint up,
 * authenticates, sets the deadline and turns the result into its reply.
 */
#ifndef SY_CALL_H
#define SY_CALL_H

#include <stddef.h>

#include "upreq.h"

struct dbcache;
struct event_base;
struct metrics_slot;
struct principal;
struct sy_endpoint;
struct sy_project;
struct sy_server;
struct upstream;

/* The worker's parts a call uses; borrowed, they outlive every call. */
struct call_ctx {
	struct event_base	 *base;
	const struct sy_server	 *srv;
	struct upstream		 *up;
	struct metrics_slot	**ms;
	struct dbcache		 *dbs;	/* open databases (SPEC 8.10) */
};

enum call_outcome {
	CALL_ANSWERED = 0,	/* the upstream's own status and JSON body */
	CALL_BAD_REQUEST,	/* 400: a variable missing or not a scalar */
	CALL_UNAUTHENTICATED,	/* 401: the rule needs a caller, none given */
	CALL_FORBIDDEN,		/* 403: the rule denies */
	CALL_NO_MEMORY,		/* 503 */
	CALL_DEADLINE,		/* 504: the deadline passed in the webhooks */
	CALL_UP_REFUSED,	/* 502 */
	CALL_UP_TIMEOUT,	/* 504: the upstream deadline passed */
	CALL_UP_TOOBIG,		/* 502: body over maxResponseBytes */
	CALL_UP_HDRS_TOOBIG,	/* 502: headers over maxHeaderBytes */
	CALL_UP_FAILED,		/* 502: reset, cut short, unparsable */
	CALL_UP_BAD_ANSWER,	/* 502: unusable status, or not JSON */
	CALL_NOT_STARTED	/* 502: the upstream call could not start */
};

struct call_in {
	struct sy_endpoint	*ep;		/* the call takes references */
	struct sy_project	*proj;
	const char		*params;	/* JSON bytes, or NULL: {} */
	size_t			 params_len;
	const struct principal	*who;		/* or NULL; borrowed */
	double			 deadline;	/* monotonic seconds */
	const char		*reqid;		/* copied */
	upreq_header_fn		 header;	/* the caller's headers */
	void			*header_arg;	/* borrowed */
};

struct call_result {
	enum call_outcome	 outcome;
	int			 status;	/* the HTTP status to answer */
	const char		*error;		/* NULL when CALL_ANSWERED */
	const char		*raw;		/* detail for rawError, or "" */
	long			 upstatus;	/* the upstream's, or 0 */
	const char		*body;		/* CALL_ANSWERED: its body */
	size_t			 body_len;
	const char *const	*headers;	/* responseHeaders lines */
	size_t			 nheaders;
};

/* Everything in the result is borrowed for the callback's duration. */
typedef void (*call_cb)(const struct call_result *, void *arg);

/*
 * Start a call.  params, who and header_arg are borrowed until the
 * callback has run or the call is cancelled.  cb runs exactly once, from
 * the event loop and never from inside call_start, unless the call is
 * cancelled first.  NULL when out of memory (no callback then).
 */
struct call	*call_start(struct call_ctx *, const struct call_in *,
		    call_cb cb, void *arg);

/* Abandon a call, its webhooks and upstream transfer: no callback. */
void		 call_cancel(struct call *);

/* The HTTP status of an outcome (CALL_ANSWERED: 0, the upstream's). */
int		 call_status(enum call_outcome);

#endif
