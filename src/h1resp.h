/*
 * h1resp.h: the response side of the native HTTP/1.1 client (part of
 * the h1client module, with h1client.c): an upstream response parsed
 * by libhttp-parser from bytes, without sockets, so that it can be
 * tested and fuzzed alone.  Only h1resp.c and this header name
 * http_parser; h1client.c uses the functions below.
 */
#ifndef SY_H1RESP_H
#define SY_H1RESP_H

#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

#include "upstream.h"
#include "util.h"

#define H1RESP_ERRLEN	256

/* The parse state of one response: one per call, reset per attempt. */
struct h1resp {
	http_parser		 p;
	int			 head;		/* HEAD: no body */
	size_t			 maxhdr, maxbody, hdrbytes;
	int			 done, hdrbig, toobig, hdrdone, badstatus;
	int			 linebig;	/* over libcurl's limit */
	int			 http09;	/* no "HTTP/" name */
	int			 gotline;	/* a whole line came */
	int			 statusline;	/* it came whole */
	size_t			 linebytes;	/* this header line's */
	size_t			 rx;		/* bytes received */
	char			 pfx[5];	/* the first bytes */
	uint64_t		 cl;		/* Content-Length, or -1 */
	struct sybuf		 body;
	struct sybuf		 cur;		/* a wanted "Name: value" */
	int			 curstate;	/* 0 none, 1 name, 2 value */
	int			 curwant;
	struct sybuf		 got;		/* lines, NUL-separated */
	size_t			 ngot;
	const struct sybuf	*want;		/* names, NUL-separated */
	size_t			 nwant;
};

/* Once per process: the header limit is max_headers, counted here. */
void	h1resp_setup(void);
/* want (names, NUL-separated) is borrowed; buffers are kept by init. */
void	h1resp_init(struct h1resp *, int head, size_t max_headers,
	    size_t max_body, const struct sybuf *want, size_t nwant);
void	h1resp_free(struct h1resp *);
/*
 * Feed bytes (n == 0: the end of the stream).  0: more wanted; 1: the
 * response is complete (*extra: bytes followed it); -1: failed, with
 * *res and the reason in err.
 */
int	h1resp_feed(struct h1resp *, const char *buf, size_t n, int *extra,
	    enum upstream_result *res, char *err, size_t errlen);
/* After a complete response: may the connection carry another? */
int	h1resp_keepalive(const struct h1resp *);
/* The status, once its line came whole and was accepted; else 0. */
long	h1resp_status(const struct h1resp *);

/*
 * For fuzzing and tests: parse buf as the answer to a call of method,
 * fed in pieces of at most chunk bytes (0: at once), then the end of
 * the stream, keeping Content-Type and X-Request-Id.  Returns the
 * result; *status is set.
 */
enum upstream_result	h1resp_parse_buf(const char *buf, size_t len,
			    size_t chunk, const char *method,
			    size_t max_headers, size_t max_body, long *status);

#endif
