/*
 * http_frame.c: the framing check of http_frame.h, one state machine fed
 * a client connection's bytes in whatever pieces they arrive.
 *
 * It reads requests exactly as far as framing goes (the request line's
 * method, each header line's name and, for Content-Length and
 * Transfer-Encoding, its value; then the body by its length or its
 * chunks) and refuses every message that evhttp 2.1 would frame one way
 * and a strict peer another:
 * - two Content-Length headers (evhttp takes the first), a Content-Length
 *   that is not plain decimal digits ("+2", "2, 2");
 * - Content-Length together with Transfer-Encoding, more than one
 *   Transfer-Encoding, or one other than "chunked";
 * - a header name with white space in it or before its colon (evhttp
 *   keeps "Transfer-Encoding " as a different name), a name with a byte
 *   that is not a token character, a line without a colon, obs-fold
 *   continuation lines;
 * - a chunk size that is not plain hexadecimal digits (evhttp's strtoll
 *   takes "0x2", "+2", "-0"), chunk data not followed by CRLF;
 * and it ends the stream after a request whose method evhttp 2.1.12 reads
 * without a body (HEAD, TRACE and methods it does not know; measured, not
 * documented: GET, DELETE, OPTIONS and CONNECT do have one) but that
 * carries one: evhttp would read that body as the next request, so the
 * request is answered on its head alone and the connection closed.
 * Line ends are CRLF or a bare LF, as evhttp reads them.  The request
 * line itself is left to evhttp, which refuses what it cannot parse.
 *
 * Invariant: the bytes of a line are only ever judged once the line is
 * known to be bad or complete, and fr_unit is where that line starts, so
 * a caller that cuts the stream there cuts before anything evhttp can
 * already have consumed (evhttp consumes whole lines and whole chunks).
 */
#include <string.h>
#include <strings.h>

#include "http_frame.h"
#include "util.h"

enum {
	FR_REQLINE = 0,	/* the request line; fr_nmethod < 8: in the method */
	FR_HSTART,	/* first byte of a header or trailer line */
	FR_HEND_CR,	/* "\r" of the empty line that ends the head */
	FR_HNAME,
	FR_HVALUE,
	FR_BODY,	/* fr_left bytes of a Content-Length body */
	FR_CSIZE,	/* a chunk-size line */
	FR_CSIZE_CR,
	FR_CDATA,	/* fr_left bytes of chunk data */
	FR_CDATA_CR,	/* the CRLF after chunk data */
	FR_CDATA_LF,
	FR_BAD,
	FR_END		/* the stream ends at fr_unit: no more requests */
};

#define FR_METHOD_DONE	((size_t)-1)
#define FR_WANT_CLEN	1		/* fr_want: which header's value */
#define FR_WANT_TE	2
#define FR_CHUNK_DIGITS	15		/* below 2^60: no overflow */

static void
fr_next_request(struct http_frame *f)
{
	f->fr_state = FR_REQLINE;
	f->fr_has_clen = f->fr_has_te = f->fr_body_ok = f->fr_trailer = 0;
	f->fr_clen = 0;
	f->fr_nmethod = 0;
}

void
http_frame_init(struct http_frame *f)
{
	memset(f, 0, sizeof(*f));
	fr_next_request(f);
}

static int
fr_bad(struct http_frame *f, const char *why)
{
	f->fr_state = FR_BAD;
	f->fr_reason = why;
	return (-1);
}

/* RFC 9110 section 5.6.2 tchar: one table lookup per header-name byte. */
static const unsigned char fr_tchars[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

static int
fr_tchar(unsigned char c)
{
	return (fr_tchars[c]);
}


static int
fr_name_is(const struct http_frame *f, const char *name)
{
	return (f->fr_nname == strlen(name) &&
	    strncasecmp(f->fr_name, name, f->fr_nname) == 0);
}

/* A request-line byte; the method decides whether a body may follow. */
static void
fr_reqline(struct http_frame *f, unsigned char c)
{
	if (c == '\n') {
		f->fr_body_ok = f->fr_nmethod == FR_METHOD_DONE;
		f->fr_state = FR_HSTART;
		return;
	}
	if (f->fr_nmethod == FR_METHOD_DONE || f->fr_nmethod > 7)
		return;
	if (c != ' ') {
		if (f->fr_nmethod < 7)
			f->fr_method[f->fr_nmethod] = (char)c;
		f->fr_nmethod++;	/* 8: longer than any method evhttp knows */
		return;
	}
	f->fr_method[f->fr_nmethod < 7 ? f->fr_nmethod : 7] = '\0';
	/* evhttp_method_may_have_body() of 2.1.12, names case-sensitive */
	if (strcmp(f->fr_method, "HEAD") == 0 ||
	    strcmp(f->fr_method, "TRACE") == 0 ||
	    (strcmp(f->fr_method, "GET") != 0 &&
	    strcmp(f->fr_method, "POST") != 0 &&
	    strcmp(f->fr_method, "PUT") != 0 &&
	    strcmp(f->fr_method, "DELETE") != 0 &&
	    strcmp(f->fr_method, "OPTIONS") != 0 &&
	    strcmp(f->fr_method, "PATCH") != 0 &&
	    strcmp(f->fr_method, "CONNECT") != 0))
		f->fr_nmethod = 8;
	else
		f->fr_nmethod = FR_METHOD_DONE;
}

/* A whole header line has been read: its name and trimmed value. */
static int
fr_header(struct http_frame *f)
{
	size_t	i;

	while (f->fr_nvalue > 0 && f->fr_nvalue <= HTTP_FRAME_VALUE_MAX &&
	    strchr(" \t\r", f->fr_value[f->fr_nvalue - 1]) != NULL)
		f->fr_nvalue--;
	f->fr_state = FR_HSTART;
	if (f->fr_trailer)
		return (0);
	/* the name was matched at its colon (fr_head_byte) */
	if (f->fr_want == FR_WANT_CLEN) {
		if (f->fr_has_clen)
			return (fr_bad(f, "two Content-Length headers"));
		f->fr_has_clen = 1;
		if (f->fr_nvalue == 0 || f->fr_nvalue > 18)
			return (fr_bad(f, "a Content-Length that is not a "
			    "plain decimal number"));
		for (i = 0; i < f->fr_nvalue; i++) {
			if (f->fr_value[i] < '0' || f->fr_value[i] > '9')
				return (fr_bad(f, "a Content-Length that is "
				    "not a plain decimal number"));
			f->fr_clen = f->fr_clen * 10 + (f->fr_value[i] - '0');
		}
	} else if (f->fr_want == FR_WANT_TE) {
		if (f->fr_has_te)
			return (fr_bad(f, "more than one Transfer-Encoding "
			    "header"));
		f->fr_has_te = 1;
		if (f->fr_nvalue != 7 ||
		    strncasecmp(f->fr_value, "chunked", 7) != 0)
			return (fr_bad(f, "a Transfer-Encoding other than "
			    "chunked"));
	}
	return (0);
}

/* The empty line: the head (or the trailers) is complete. */
static int
fr_end_of_head(struct http_frame *f)
{
	if (f->fr_trailer) {
		fr_next_request(f);
		return (0);
	}
	if (f->fr_has_clen && f->fr_has_te)
		return (fr_bad(f, "both Content-Length and Transfer-Encoding"));
	if (!f->fr_body_ok && (f->fr_has_te || f->fr_clen > 0)) {
		/* the '\n' at fr_off is the head's last byte */
		f->fr_state = FR_END;
		f->fr_reason = "a body on a request whose method has none";
		f->fr_unit = f->fr_off + 1;
		return (1);
	}
	if (f->fr_has_te) {
		f->fr_state = FR_CSIZE;
		f->fr_left = 0;
		f->fr_ndigits = 0;
	} else if (f->fr_clen > 0) {
		f->fr_state = FR_BODY;
		f->fr_left = f->fr_clen;
	} else
		fr_next_request(f);
	return (0);
}

/* A byte of a header line (or of the line that ends the head). */
static int
fr_head_byte(struct http_frame *f, unsigned char c)
{
	switch (f->fr_state) {
	case FR_HSTART:
		if (c == '\r') {
			f->fr_state = FR_HEND_CR;
			return (0);
		}
		if (c == '\n')
			return (fr_end_of_head(f));
		if (c == ' ' || c == '\t')
			return (fr_bad(f, "an obs-fold header continuation "
			    "line"));
		f->fr_nname = 0;
		f->fr_state = FR_HNAME;
		/* FALLTHROUGH */
	case FR_HNAME:
		if (c == ':' && f->fr_nname == 0)
			return (fr_bad(f, "a malformed header line"));
		if (c == ':') {
			f->fr_nvalue = 0;
			f->fr_state = FR_HVALUE;
			/* only these values matter; the others are skipped */
			f->fr_want = f->fr_trailer ? 0 :
			    fr_name_is(f, "content-length") ? FR_WANT_CLEN :
			    fr_name_is(f, "transfer-encoding") ? FR_WANT_TE : 0;
		} else if (c == ' ' || c == '\t')
			return (fr_bad(f, "white space in a header name or "
			    "before its colon"));
		else if (!fr_tchar(c))
			return (fr_bad(f, "a malformed header line"));
		else if (f->fr_nname < HTTP_FRAME_NAME_MAX)
			f->fr_name[f->fr_nname++] = (char)c;
		else
			f->fr_nname = HTTP_FRAME_NAME_MAX + 1;
		return (0);
	case FR_HEND_CR:
		if (c != '\n')
			return (fr_bad(f, "a malformed header line"));
		return (fr_end_of_head(f));
	case FR_HVALUE:
		if (c == '\n')
			return (fr_header(f));
		if (f->fr_nvalue == 0 && (c == ' ' || c == '\t'))
			return (0);
		if (f->fr_nvalue < HTTP_FRAME_VALUE_MAX)
			f->fr_value[f->fr_nvalue++] = (char)c;
		else
			f->fr_nvalue = HTTP_FRAME_VALUE_MAX + 1;
		return (0);
	}
	return (fr_bad(f, "internal framing state"));
}

/* A byte of a chunk-size line or of the CRLF after chunk data. */
static int
fr_chunk_byte(struct http_frame *f, unsigned char c)
{
	int	v;

	switch (f->fr_state) {
	case FR_CSIZE:
		if ((v = sy_hexval(c)) >= 0) {
			if (++f->fr_ndigits > FR_CHUNK_DIGITS)
				return (fr_bad(f, "a chunk size too large"));
			f->fr_left = f->fr_left * 16 + (uint64_t)v;
			return (0);
		}
		if (f->fr_ndigits == 0 || (c != '\r' && c != '\n'))
			return (fr_bad(f, "a chunk size that is not plain "
			    "hexadecimal digits"));
		if (c == '\r') {
			f->fr_state = FR_CSIZE_CR;
			return (0);
		}
		break;
	case FR_CSIZE_CR:
		if (c != '\n')
			return (fr_bad(f, "a chunk size that is not plain "
			    "hexadecimal digits"));
		break;
	case FR_CDATA_CR:
		if (c == '\r') {
			f->fr_state = FR_CDATA_LF;
			return (0);
		}
		/* FALLTHROUGH */
	case FR_CDATA_LF:
		if (c != '\n')
			return (fr_bad(f, "chunk data not followed by CRLF"));
		f->fr_state = FR_CSIZE;
		f->fr_left = 0;
		f->fr_ndigits = 0;
		return (0);
	default:
		return (fr_bad(f, "internal framing state"));
	}
	/* the chunk-size line is complete */
	if (f->fr_left == 0) {
		f->fr_trailer = 1;
		f->fr_state = FR_HSTART;
	} else
		f->fr_state = FR_CDATA;
	return (0);
}

/* Whether state s begins a new line (or unit) at the next byte. */
static int
fr_at_unit_start(const struct http_frame *f, int prev)
{
	switch (f->fr_state) {
	case FR_HSTART:
	case FR_CDATA_CR:
		return (1);
	case FR_REQLINE:
	case FR_CSIZE:
		return (prev != f->fr_state);
	default:
		return (0);
	}
}

/*
 * The run of token bytes that continues a header name, kept as
 * fr_head_byte keeps them one by one; the byte after it (if any) is
 * left to fr_head_byte.
 */
static size_t
fr_name_run(struct http_frame *f, const unsigned char *p, size_t n)
{
	size_t	k = 0, room;

	while (k < n && fr_tchars[p[k]])
		k++;
	if (k == 0)
		return (0);
	room = f->fr_nname < HTTP_FRAME_NAME_MAX ?
	    HTTP_FRAME_NAME_MAX - f->fr_nname : 0;
	if (k > room) {
		f->fr_nname = HTTP_FRAME_NAME_MAX + 1;
		return (k);
	}
	memcpy(f->fr_name + f->fr_nname, p, k);
	f->fr_nname += k;
	return (k);
}

/* Bytes before the next '\n' (all n when there is none). */
static size_t
fr_line_rest(const unsigned char *p, size_t n)
{
	const unsigned char	*q = memchr(p, '\n', n);

	return (q != NULL ? (size_t)(q - p) : n);
}

int
http_frame_feed(struct http_frame *f, const char *buf, size_t n)
{
	const unsigned char	*p = (const unsigned char *)buf;
	size_t			 i = 0, k;
	int			 prev, rc = 0;

	if (f->fr_state == FR_BAD || f->fr_state == FR_END)
		return (f->fr_state == FR_BAD ? -1 : 1);
	while (i < n) {
		if ((f->fr_state == FR_REQLINE && f->fr_nmethod > 7) ||
		    (f->fr_state == FR_HVALUE && !f->fr_want)) {
			/* nothing in the rest of this line matters: find its end */
			k = fr_line_rest(p + i, n - i);
			i += k;
			f->fr_off += k;
			if (i == n)
				break;
		}
		if (f->fr_state == FR_HNAME) {
			k = fr_name_run(f, p + i, n - i);
			i += k;
			f->fr_off += k;
			if (i == n)
				break;
		}
		if (f->fr_state == FR_BODY || f->fr_state == FR_CDATA) {
			k = n - i < f->fr_left ? n - i : (size_t)f->fr_left;
			i += k;
			f->fr_off += k;
			if ((f->fr_left -= k) > 0)
				break;
			if (f->fr_state == FR_BODY)
				fr_next_request(f);
			else
				f->fr_state = FR_CDATA_CR;
			f->fr_unit = f->fr_off;
			continue;
		}
		prev = f->fr_state;
		if (f->fr_state == FR_REQLINE)
			fr_reqline(f, p[i]);
		else if (f->fr_state >= FR_CSIZE)
			rc = fr_chunk_byte(f, p[i]);
		else
			rc = fr_head_byte(f, p[i]);
		if (rc == -1)
			return (-1);
		i++;
		f->fr_off++;
		if (rc == 1)
			return (1);
		if (f->fr_state != prev && fr_at_unit_start(f, prev))
			f->fr_unit = f->fr_off;
	}
	return (0);
}
