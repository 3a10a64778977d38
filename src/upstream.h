/*
 * upstream.h: calls to upstream services over HTTP with libcurl's multi
 * interface, driven by the worker's libevent loop (hiperfifo style).
 * The multi handle keeps upstream connections alive and reuses them, and
 * finished easy handles are kept for reuse, so that a steady call rate
 * opens no new connections and allocates little.
 */
#ifndef SY_UPSTREAM_H
#define SY_UPSTREAM_H

#include <stddef.h>

struct event_base;
struct upstream;
struct upstream_call;

enum upstream_result {
	UPSTREAM_OK = 0,
	UPSTREAM_REFUSED,	/* could not connect or resolve */
	UPSTREAM_TIMEOUT,	/* the deadline passed */
	UPSTREAM_TOOBIG,	/* body over max_response */
	UPSTREAM_HDRS_TOOBIG,	/* header block over max_headers */
	UPSTREAM_FAILED		/* reset, bad response, anything else */
};

/*
 * Error texts both clients give (upstream_response.error), in libcurl's
 * words where libcurl has some: a header block over max_headers, a body
 * over max_response (by its Content-Length or as it came), and one
 * header line longer than libcurl accepts (100 KiB, which only matters
 * when max_headers is larger).
 */
#define UPSTREAM_ERR_HDRS	"response headers over %zu bytes"
#define UPSTREAM_ERR_BODY	"Maximum file size exceeded"
#define UPSTREAM_LINE_MAX	(100 * 1024)
#define UPSTREAM_ERR_LINE	"a response header line over 102400 bytes"

struct upstream_request {
	const char		*url;
	const char		*method;	/* "GET", "POST", ... */
	const char		*body;		/* used when has_body */
	size_t			 body_len;
	int			 has_body;
	const char *const	*headers;	/* "Name: value" lines */
	size_t			 nheaders;
	long			 timeout_ms;
	size_t			 max_response;	/* body bytes */
	size_t			 max_headers;	/* header block bytes */
	const char *const	*resp_headers;	/* names to hand back */
	size_t			 nresp_headers;
	int			 native;	/* http:// by h1client.c */
	const char		*ca_file;	/* NULL: curl's default CAs */
};

struct upstream_response {
	enum upstream_result	 result;
	long			 status;
	const char		*body;		/* borrowed during the callback */
	size_t			 body_len;
	const char		*error;		/* detail for rawError, or "" */
	const char *const	*headers;	/* "Name: value", borrowed */
	size_t			 nheaders;
};

typedef void (*upstream_cb)(const struct upstream_response *, void *);

/* base is borrowed and must outlive the upstream.  NULL on failure. */
struct upstream		*upstream_new(struct event_base *base);
/* Cancels every call in flight (no callbacks) and frees everything. */
void			 upstream_free(struct upstream *);

/*
 * Start a call.  Everything in req is copied.  cb runs exactly once,
 * from the event loop and never from inside upstream_start, unless the
 * call is cancelled first.  NULL when the call cannot be started.
 */
struct upstream_call	*upstream_start(struct upstream *,
			    const struct upstream_request *req, upstream_cb cb,
			    void *arg);

/* Abandon a call: no callback will run; the transfer is stopped. */
void			 upstream_cancel(struct upstream_call *);

/* Calls in flight. */
size_t			 upstream_active(const struct upstream *);

#endif
