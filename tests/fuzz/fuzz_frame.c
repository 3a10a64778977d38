/*
 * fuzz_frame.c: the streaming framing check of client requests
 * (http_frame.c).  The first input byte chooses how the rest is cut into
 * pieces; the verdict, the reason and the offset of the offending line
 * must be the same as when the whole input is fed at once.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "http_frame.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_frame	 whole, parts;
	const char		*p;
	size_t			 step, i, k, n;
	int			 a, b = 0;

	if (size == 0)
		return (0);
	step = data[0] % 17 + 1;
	p = (const char *)data + 1;
	n = size - 1;
	http_frame_init(&whole);
	http_frame_init(&parts);
	a = http_frame_feed(&whole, p, n);
	for (i = 0; i < n && b == 0; i += k) {
		k = n - i < step ? n - i : step;
		b = http_frame_feed(&parts, p + i, k);
	}
	if (a != b || whole.fr_reason != parts.fr_reason ||
	    (a != 0 && whole.fr_unit != parts.fr_unit) ||
	    (a != 0 && whole.fr_unit > whole.fr_off) ||
	    (a == 0 && whole.fr_off != n))
		abort();
	return (0);
}
