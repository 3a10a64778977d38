/*
 * test_http_frame.c: the streaming framing check of client requests.
 * Every case is also fed one byte at a time and split at every offset:
 * the verdict and the offset of the offending line must not depend on
 * how the bytes arrive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_frame.h"

#define POSTH	"POST /v1/api/p/services/s/e HTTP/1.1\r\nHost: x\r\n"
#define HIDDEN	"GET /admin HTTP/1.1\r\nHost: x\r\n\r\n"

/* Feed s in pieces of step bytes (0: at once); -1, 0 or 1, *unit, *why. */
static int
feed(const char *s, size_t len, size_t step, uint64_t *unit,
    const char **why)
{
	struct http_frame	f;
	size_t			i, k;
	int			rc;

	http_frame_init(&f);
	for (i = 0; i < len; i += k) {
		k = step == 0 || len - i < step ? len - i : step;
		if ((rc = http_frame_feed(&f, s + i, k)) != 0) {
			*unit = f.fr_unit;
			*why = f.fr_reason;
			/* the verdict stands for the rest of the stream */
			assert_int_equal(http_frame_feed(&f, "x", 1), rc);
			return (rc);
		}
	}
	*unit = f.fr_off;
	*why = NULL;
	assert_int_equal(f.fr_off, len);
	return (0);
}

/* Fed at once, byte by byte and split in two anywhere: one verdict. */
static void
check(const char *s, int want, const char *why_part, const char *unit_at)
{
	uint64_t	 unit, unit2;
	const char	*why, *why2;
	size_t		 len = strlen(s), cut;
	struct http_frame f;
	int		 rc;

	assert_int_equal(feed(s, len, 0, &unit, &why), want);
	if (want != 0) {
		assert_non_null(why);
		if (strstr(why, why_part) == NULL)
			fail_msg("reason \"%s\" lacks \"%s\"", why, why_part);
		if (unit_at != NULL)
			assert_int_equal(unit, (uint64_t)(strstr(s, unit_at) -
			    s));
	}
	assert_int_equal(feed(s, len, 1, &unit2, &why2), want);
	assert_int_equal(unit2, unit);
	for (cut = 1; cut < len; cut++) {
		http_frame_init(&f);
		if ((rc = http_frame_feed(&f, s, cut)) == 0)
			rc = http_frame_feed(&f, s + cut, len - cut);
		assert_int_equal(rc, want);
		if (want != 0)
			assert_int_equal(f.fr_unit, unit);
	}
}

static void
test_sound(void **state)
{
	check(POSTH "Content-Length: 2\r\n\r\n{}", 0, NULL, NULL);
	check(POSTH "Content-Length: 2\r\n\r\n{}" POSTH
	    "Content-Length: 0\r\n\r\n" HIDDEN, 0, NULL, NULL);
	check(POSTH "content-length:\t02 \r\n\r\n{}", 0, NULL, NULL);
	check(POSTH "Transfer-Encoding: chunked\r\n\r\n"
	    "2\r\n{}\r\n0\r\n\r\n" HIDDEN, 0, NULL, NULL);
	check(POSTH "Transfer-Encoding: CHUNKED\r\n\r\n"
	    "1\r\n{\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n", 0, NULL,
	    NULL);
	/* bare LF line ends, as evhttp reads them */
	check("POST / HTTP/1.1\nContent-Length: 1\n\nx" HIDDEN, 0, NULL, NULL);
	check("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n" HIDDEN, 0, NULL,
	    NULL);
	check("OPTIONS / HTTP/1.1\r\nOrigin: http://a\r\n\r\n" HIDDEN, 0,
	    NULL, NULL);
	check("PUT / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
	    "PATCH / HTTP/1.1\r\nContent-Length: 1\r\n\r\nz", 0, NULL, NULL);
	/* a request still arriving is not a violation */
	check(POSTH "Content-Length: 100\r\n\r\n{\"a\":", 0, NULL, NULL);
	check(POSTH "Transfer-En", 0, NULL, NULL);
}

static void
test_content_length(void **state)
{
	check(POSTH "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}"
	    HIDDEN, -1, "two Content-Length", "Content-Length: 40");
	check(POSTH "Content-Length: 2\r\ncontent-length: 2\r\n\r\n{}", -1,
	    "two Content-Length", "content-length: 2");
	check(POSTH "Content-Length: +2\r\n\r\n{}", -1, "plain decimal",
	    "Content-Length: +2");
	check(POSTH "Content-Length: 2, 2\r\n\r\n{}", -1, "plain decimal",
	    "Content-Length");
	check(POSTH "Content-Length: -1\r\n\r\n", -1, "plain decimal", NULL);
	check(POSTH "Content-Length: 0x10\r\n\r\n", -1, "plain decimal",
	    NULL);
	check(POSTH "Content-Length:\r\n\r\n", -1, "plain decimal", NULL);
	check(POSTH "Content-Length: 1234567890123456789012\r\n\r\n", -1,
	    "plain decimal", NULL);
}

static void
test_transfer_encoding(void **state)
{
	check(POSTH "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n", -1, "both Content-Length and Transfer-Encoding",
	    "\r\n0\r\n\r\n");
	check(POSTH "Transfer-Encoding: gzip, chunked\r\n\r\n", -1,
	    "other than chunked", "Transfer-Encoding");
	check(POSTH "Transfer-Encoding: identity\r\n\r\n", -1,
	    "other than chunked", NULL);
	check(POSTH "Transfer-Encoding: chunked\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n", -1, "more than one", NULL);
	check(POSTH "Transfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n"
	    "0\r\n\r\n", -1, "white space in a header name",
	    "Transfer-Encoding :");
	check(POSTH "Transfer-Encoding\t: chunked\r\n\r\n", -1,
	    "white space in a header name", NULL);
	check(POSTH "X-A: b\r\n Transfer-Encoding: chunked\r\n\r\n", -1,
	    "obs-fold", " Transfer-Encoding");
	check(POSTH "X-A: b\r\n\tc\r\n\r\n", -1, "obs-fold", NULL);
	check(POSTH "Bad[name]: b\r\n\r\n", -1, "malformed header", NULL);
	check(POSTH "no colon here\r\n\r\n", -1, "white space", NULL);
	check(POSTH "nocolon\r\n\r\n", -1, "malformed header", NULL);
	check(POSTH ": empty name\r\n\r\n", -1, "malformed header", NULL);
	check(POSTH "\rX: y\r\n\r\n", -1, "malformed header", NULL);
}

static void
test_chunks(void **state)
{
	const char	*te = POSTH "Transfer-Encoding: chunked\r\n\r\n";
	char		 buf[512];

	snprintf(buf, sizeof(buf), "%s0x2\r\n{}\r\n0\r\n\r\n" HIDDEN, te);
	check(buf, -1, "not plain hexadecimal", "0x2");
	snprintf(buf, sizeof(buf), "%s+2\r\n{}\r\n0\r\n\r\n", te);
	check(buf, -1, "not plain hexadecimal", "+2");
	snprintf(buf, sizeof(buf), "%s2 \r\n{}\r\n0\r\n\r\n", te);
	check(buf, -1, "not plain hexadecimal", "2 ");
	snprintf(buf, sizeof(buf), "%s2;ext=1\r\n{}\r\n0\r\n\r\n", te);
	check(buf, -1, "not plain hexadecimal", "2;ext");
	snprintf(buf, sizeof(buf), "%s\r\n2\r\n{}\r\n0\r\n\r\n", te);
	check(buf, -1, "not plain hexadecimal", NULL);
	snprintf(buf, sizeof(buf), "%s2\r\n{}XX0\r\n\r\n", te);
	check(buf, -1, "not followed by CRLF", "XX0");
	snprintf(buf, sizeof(buf), "%s2\r\n{}\r\r0\r\n\r\n", te);
	check(buf, -1, "not followed by CRLF", "\r\r0");
	snprintf(buf, sizeof(buf), "%s10000000000000000\r\n", te);
	check(buf, -1, "too large", "10000000000000000");
	snprintf(buf, sizeof(buf), "%s0\r\n X: folded trailer\r\n\r\n", te);
	check(buf, -1, "obs-fold", " X: folded");
}

/*
 * A body on a method that evhttp reads without one ends the stream where
 * the body begins: the head is answered, the rest never read (1).
 */
static void
test_bodyless_methods(void **state)
{
	check("HEAD / HTTP/1.1\r\nContent-Length: 33\r\n\r\n" HIDDEN, 1,
	    "a body on a request whose method has none", HIDDEN);
	check("TRACE / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
	    "\r\n", 1, "method has none", "0\r\n");
	/* evhttp 2.1.12 reads a body on these */
	check("GET / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}" HIDDEN, 0,
	    NULL, NULL);
	check("DELETE / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
	    "\r\n" HIDDEN, 0, NULL, NULL);
	check("OPTIONS / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx" HIDDEN, 0,
	    NULL, NULL);
	check("CONNECT h:1 HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", 0,
	    NULL, NULL);
	check("post / HTTP/1.1\nContent-Length: 1\n\nx", 1,
	    "method has none", "x");
	check("POSTX / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", 1,
	    "method has none", "x");
	check("LONGMETHOD / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", 1,
	    "method has none", "x");
	/* a head still arriving: nothing decided yet */
	check("GET / HTTP/1.1\r\nContent-Length: 1\r\n", 0, NULL, NULL);
}

/* The offending request is found after a sound one on the same stream. */
static void
test_pipelined(void **state)
{
	check(POSTH "Content-Length: 2\r\n\r\n{}" POSTH "Content-Length: 1\r\n"
	    "Content-Length: 3\r\n\r\n{}", -1, "two Content-Length",
	    "Content-Length: 3");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sound),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_transfer_encoding),
		cmocka_unit_test(test_chunks),
		cmocka_unit_test(test_bodyless_methods),
		cmocka_unit_test(test_pipelined),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
