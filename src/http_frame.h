/*
 * http_frame.h: a strict, streaming check of the framing of the HTTP/1.1
 * requests on one client connection, run on the bytes as they arrive and
 * before evhttp parses them.  evhttp 2.1 is lenient where leniency lets
 * a second, hidden request through (SPEC section 4, "Connections and
 * framing"); this check refuses what it would read differently from a
 * strict peer.  It keeps no copy of the stream: a few bytes of state.
 */
#ifndef SY_HTTP_FRAME_H
#define SY_HTTP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_FRAME_NAME_MAX	24	/* long enough for every name tested */
#define HTTP_FRAME_VALUE_MAX	32

struct http_frame {
	int		 fr_state;
	uint64_t	 fr_off;	/* stream bytes fed so far */
	uint64_t	 fr_unit;	/* stream offset of the current line */
	uint64_t	 fr_left;	/* body or chunk bytes still to skip */
	uint64_t	 fr_clen;	/* Content-Length */
	int		 fr_has_clen;
	int		 fr_has_te;
	int		 fr_body_ok;	/* the method may carry a body */
	int		 fr_trailer;	/* reading trailers, not headers */
	int		 fr_want;	/* this header's value is read: which */
	size_t		 fr_nmethod;
	size_t		 fr_nname;
	size_t		 fr_nvalue;
	size_t		 fr_ndigits;
	char		 fr_method[8];
	char		 fr_name[HTTP_FRAME_NAME_MAX];
	char		 fr_value[HTTP_FRAME_VALUE_MAX];
	const char	*fr_reason;	/* set with the first violation */
};

void	 http_frame_init(struct http_frame *);

/*
 * Feed the next n bytes of the stream.  0 while the framing is sound;
 * -1 at the first violation, with fr_reason (a static message) and
 * fr_unit, the stream offset where the offending line (or the bytes that
 * should have ended a chunk) begins: nothing before it is affected, and
 * nothing from it on may be read as a request.  After a violation every
 * call returns -1.  1 when a request whose method has no body in evhttp
 * carries one: the stream ends at fr_unit (where that body begins), the
 * request is to be answered on its head and the connection closed, and
 * every later call returns 1.
 */
int	 http_frame_feed(struct http_frame *, const char *p, size_t n);

#endif
