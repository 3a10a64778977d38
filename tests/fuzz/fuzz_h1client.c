/*
 * fuzz_h1client.c: hostile upstream responses for the native HTTP/1.1
 * client's parser (h1resp_parse_buf: libhttp-parser and the client's
 * callbacks: 1xx, header capture and limits, body limits, EOF).  The
 * first byte picks the method and the limits, the second the size of
 * the pieces the response arrives in; the rest is the response.
 * Whether the response is accepted, and its status, must not depend on
 * how the bytes were split (which of two faults is met first may: a
 * limit is checked as the data arrives, a bad byte where it is).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "h1resp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum upstream_result	 whole, split;
	const char		*method;
	size_t			 maxhdr, maxbody, chunk;
	long			 s1, s2;

	if (size < 2)
		return (0);
	method = (data[0] & 1) ? "HEAD" : "GET";
	maxhdr = (data[0] & 2) ? 64 : 16384;
	maxbody = (data[0] & 4) ? 8 : 65536;
	chunk = data[1] % 17 + 1;
	whole = h1resp_parse_buf((const char *)data + 2, size - 2, 0,
	    method, maxhdr, maxbody, &s1);
	split = h1resp_parse_buf((const char *)data + 2, size - 2, chunk,
	    method, maxhdr, maxbody, &s2);
	if (whole > UPSTREAM_FAILED || split > UPSTREAM_FAILED ||
	    (whole == UPSTREAM_OK) != (split == UPSTREAM_OK))
		abort();
	if (whole == UPSTREAM_OK && (s1 < 100 || s1 > 999 || s1 != s2))
		abort();
	return (0);
}
