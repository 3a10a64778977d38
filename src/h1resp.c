/*
 * h1resp.c: upstream responses parsed by Debian's libhttp-parser for
 * the native HTTP/1.1 client (h1client.c), from bytes, never sockets.
 * The callbacks skip 1xx interim responses, count the header block as
 * libcurl does (status line and header lines with their CRLF) against
 * max_headers, refuse a body over max_body (by its Content-Length at
 * once, else as it arrives), keep the wanted headers as "Name: value",
 * and pause the parser at the end of the response so that bytes after
 * it can be seen (the connection is then not reused).  HEAD, 204 and
 * 304 answers have no body, whatever their headers say.
 *
 * Debian's parser is built lenient (HTTP_PARSER_STRICT 0): it accepts
 * a mistyped "HTTP" name, which libcurl would not, so the first bytes
 * are checked here.  What libcurl refuses is refused alike, with its
 * words: a reply without "HTTP/" is "Received HTTP/0.9 when not
 * allowed", one header line over libcurl's 100 KiB is refused even
 * under a larger max_headers.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "h1resp.h"
#include "util.h"

static int
h1_hdr_count(struct h1resp *r, size_t n)
{
	if ((r->hdrbytes += n) > r->maxhdr) {
		r->hdrbig = 1;
		return (-1);
	}
	return (0);
}

/* One header line, as libcurl limits it (CRLF and ": " counted). */
static int
h1_line_count(struct h1resp *r, size_t n)
{
	if ((r->linebytes += n) > UPSTREAM_LINE_MAX) {
		r->linebig = 1;
		return (-1);
	}
	return (0);
}

static int
h1_on_begin(http_parser *p)
{
	struct h1resp	*r = p->data;

	/* a new message: after a 1xx, start the header count again */
	r->hdrbytes = 0;
	r->statusline = 0;
	r->curstate = 0;
	sybuf_reset(&r->got);
	r->ngot = 0;
	return (0);
}

static int
h1_on_status(http_parser *p, const char *at, size_t len)
{
	struct h1resp	*r = p->data;

	/* "HTTP/1.1 200 " and the CRLF, as libcurl counts a line */
	if (r->hdrbytes == 0 && h1_hdr_count(r, 15) == -1)
		return (-1);
	return (h1_hdr_count(r, len));
}

static int
h1_wanted(const struct h1resp *r, const char *name, size_t len)
{
	const char	*w = r->want->data;
	size_t		 i, n;

	for (i = 0; i < r->nwant; i++, w += n + 1) {
		n = strlen(w);
		if (n == len && strncasecmp(w, name, n) == 0)
			return (1);
	}
	return (0);
}

/* The end of a header line: keep it when its name is wanted. */
static int
h1_hdr_end(struct h1resp *r)
{
	if (r->curstate == 2 && r->curwant) {
		if (sybuf_add(&r->got, r->cur.data, r->cur.len + 1) == -1)
			return (-1);
		r->ngot++;
	}
	r->curstate = 0;
	return (0);
}

static int
h1_on_field(http_parser *p, const char *at, size_t len)
{
	struct h1resp	*r = p->data;

	r->statusline = 1;
	if (h1_hdr_count(r, r->curstate != 1 ? len + 4 : len) == -1)
		return (-1);
	if (r->curstate != 1)
		r->linebytes = 4;
	if (h1_line_count(r, len) == -1)
		return (-1);
	if (r->curstate == 2 && h1_hdr_end(r) == -1)
		return (-1);
	if (r->curstate == 0) {
		sybuf_reset(&r->cur);
		r->curstate = 1;
	}
	if (r->nwant > 0 && sybuf_add(&r->cur, at, len) == -1)
		return (-1);
	return (0);
}

static int
h1_on_value(http_parser *p, const char *at, size_t len)
{
	struct h1resp	*r = p->data;

	if (h1_hdr_count(r, len) == -1 || h1_line_count(r, len) == -1)
		return (-1);
	if (r->curstate == 1) {
		r->curwant = r->nwant > 0 &&
		    h1_wanted(r, r->cur.data, r->cur.len);
		r->curstate = 2;
		if (r->curwant && sybuf_add(&r->cur, ": ", 2) == -1)
			return (-1);
	}
	if (r->curwant && sybuf_add(&r->cur, at, len) == -1)
		return (-1);
	return (0);
}

static int
h1_on_headers(http_parser *p)
{
	struct h1resp	*r = p->data;

	r->statusline = 1;
	if (h1_hdr_count(r, 2) == -1 || h1_hdr_end(r) == -1)
		return (-1);
	if (memcmp(r->pfx, "HTTP/", sizeof(r->pfx)) != 0) {
		r->http09 = 1;
		return (-1);
	}
	if (p->status_code < 100 || p->status_code == 101) {
		r->badstatus = 1;
		return (-1);
	}
	if (p->status_code / 100 == 1)
		return (1);	/* an interim response: no body */
	r->hdrdone = 1;
	/* no body, whatever the headers say (RFC 9112 section 6.3) */
	if (r->head || p->status_code == 204 || p->status_code == 304)
		return (1);	/* F_SKIPBODY */
	r->cl = (p->flags & F_CONTENTLENGTH) ? p->content_length :
	    UINT64_MAX;
	if (r->cl != UINT64_MAX && r->cl > r->maxbody) {
		r->toobig = 1;
		return (-1);
	}
	return (0);
}

static int
h1_on_body(http_parser *p, const char *at, size_t len)
{
	struct h1resp	*r = p->data;

	if (r->body.len + len > r->maxbody) {
		r->toobig = 1;
		return (-1);
	}
	return (sybuf_add(&r->body, at, len));
}

static int
h1_on_complete(http_parser *p)
{
	struct h1resp	*r = p->data;

	if (!r->hdrdone)	/* a 1xx interim response: skip it */
		return (0);
	r->done = 1;
	http_parser_pause(p, 1);
	return (0);
}

static const http_parser_settings h1_settings = {
	.on_message_begin = h1_on_begin,
	.on_status = h1_on_status,
	.on_header_field = h1_on_field,
	.on_header_value = h1_on_value,
	.on_headers_complete = h1_on_headers,
	.on_body = h1_on_body,
	.on_message_complete = h1_on_complete,
};

void
h1resp_init(struct h1resp *r, int head, size_t maxhdr, size_t maxbody,
    const struct sybuf *want, size_t nwant)
{
	http_parser_init(&r->p, HTTP_RESPONSE);
	r->p.data = r;
	r->head = head;
	r->maxhdr = maxhdr;
	r->maxbody = maxbody;
	r->hdrbytes = r->rx = 0;
	r->done = r->hdrbig = r->toobig = r->hdrdone = r->badstatus = 0;
	r->linebig = r->http09 = r->gotline = r->statusline = 0;
	r->linebytes = 0;
	memset(r->pfx, 0, sizeof(r->pfx));
	r->cl = UINT64_MAX;
	r->curstate = r->curwant = 0;
	r->ngot = 0;
	sybuf_reset(&r->body);
	sybuf_reset(&r->got);
	r->want = want;
	r->nwant = nwant;
}

void
h1resp_free(struct h1resp *r)
{
	sybuf_free(&r->body);
	sybuf_free(&r->cur);
	sybuf_free(&r->got);
}

/*
 * Why the response failed, in libcurl's words where libcurl has some;
 * e is the parser's error (HPE_OK: the stream ended early).
 */
static enum upstream_result
h1_failure(const struct h1resp *r, enum http_errno e, char *err,
    size_t errlen)
{
	size_t	npfx = r->rx < sizeof(r->pfx) ? r->rx : sizeof(r->pfx);

	if (r->hdrbig) {
		snprintf(err, errlen, UPSTREAM_ERR_HDRS, r->maxhdr);
		return (UPSTREAM_HDRS_TOOBIG);
	}
	if (r->toobig && !r->linebig && !r->http09) {
		snprintf(err, errlen, "%s", UPSTREAM_ERR_BODY);
		return (UPSTREAM_TOOBIG);
	}
	if (r->linebig)
		snprintf(err, errlen, "%s", UPSTREAM_ERR_LINE);
	else if (r->http09 || (e != HPE_OK && r->p.status_code == 0 &&
	    memcmp(r->pfx, "HTTP/", npfx) != 0))
		snprintf(err, errlen, "Received HTTP/0.9 when not allowed");
	else if (r->badstatus)
		snprintf(err, errlen, "Unsupported response code in HTTP "
		    "response");
	else if (e == HPE_INVALID_CHUNK_SIZE)
		snprintf(err, errlen, "Illegal or missing hexadecimal "
		    "sequence in chunked-encoding");
	else if (e == HPE_HEADER_OVERFLOW)
		snprintf(err, errlen, "Weird server reply: header overflow");
	else if (e != HPE_OK && e != HPE_INVALID_EOF_STATE)
		snprintf(err, errlen, "Weird server reply (%s)",
		    http_errno_description(e));
	else if (r->rx == 0 || !r->gotline)
		/* libcurl's words for less than a whole status line, too */
		snprintf(err, errlen, "Empty reply from server");
	else if (r->hdrdone && r->cl != UINT64_MAX)
		snprintf(err, errlen, "transfer closed with %llu bytes "
		    "remaining to read",
		    (unsigned long long)(r->cl - r->body.len));
	else if (r->hdrdone)
		snprintf(err, errlen, "transfer closed with outstanding "
		    "read data remaining");
	else
		snprintf(err, errlen, "Recv failure: connection closed in "
		    "the response headers");
	return (UPSTREAM_FAILED);
}

int
h1resp_feed(struct h1resp *r, const char *buf, size_t n, int *extra,
    enum upstream_result *res, char *err, size_t errlen)
{
	size_t			 done;
	enum http_errno		 e;

	if (!r->gotline && n > 0 && memchr(buf, '\n', n) != NULL)
		r->gotline = 1;
	if (n > 0 && r->rx < sizeof(r->pfx))
		memcpy(r->pfx + r->rx, buf, n < sizeof(r->pfx) - r->rx ? n :
		    sizeof(r->pfx) - r->rx);
	r->rx += n;
	done = http_parser_execute(&r->p, &h1_settings, buf, n);
	e = HTTP_PARSER_ERRNO(&r->p);
	if (r->done) {
		*extra = done < n;
		return (1);
	}
	if (e == HPE_OK && n > 0)
		return (0);
	*res = h1_failure(r, e, err, errlen);
	return (-1);
}

enum upstream_result
h1resp_parse_buf(const char *buf, size_t len, size_t chunk,
    const char *method, size_t max_headers, size_t max_body, long *status)
{
	static const char	 names[] = "Content-Type\0X-Request-Id";
	struct sybuf		 want;
	struct h1resp		 r;
	enum upstream_result	 res = UPSTREAM_OK;
	size_t			 off = 0, n;
	int			 rc = 0, extra;
	char			 err[H1RESP_ERRLEN];

	h1resp_setup();
	want.data = (char *)names;
	want.len = want.cap = sizeof(names);
	memset(&r, 0, sizeof(r));
	h1resp_init(&r, strcmp(method, "HEAD") == 0, max_headers, max_body,
	    &want, 2);
	if (chunk == 0)
		chunk = len;
	while (rc == 0 && off < len) {
		n = len - off < chunk ? len - off : chunk;
		rc = h1resp_feed(&r, buf + off, n, &extra, &res, err,
		    sizeof(err));
		off += n;
	}
	if (rc == 0)
		rc = h1resp_feed(&r, NULL, 0, &extra, &res, err, sizeof(err));
	*status = r.p.status_code;
	h1resp_free(&r);
	return (rc == 1 ? UPSTREAM_OK : res);
}

void
h1resp_setup(void)
{
	http_parser_set_max_header_size(UINT32_MAX);
}

int
h1resp_keepalive(const struct h1resp *r)
{
	return (http_should_keep_alive(&r->p));
}

long
h1resp_status(const struct h1resp *r)
{
	/* as libcurl: a status once its line came whole and was taken */
	return (r->statusline && !r->http09 && !r->badstatus ?
	    r->p.status_code : 0);
}
