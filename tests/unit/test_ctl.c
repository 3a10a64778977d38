/*
 * test_ctl.c: the control channel's frames: round trips of every
 * message, decoding from pieces of every size, the bounds, and the fd
 * helpers over a non-blocking socketpair.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl.h"
#include "util.h"

static const char BODY[] = "{\"url\": \"http://x\", \"nul\": \"a\0b\"}";

static void
pack_three(struct sybuf *b)
{
	struct ctl_write	w = { "acc", "billing", (char *)BODY,
				    sizeof(BODY) - 1, "\"g7-abc\"",
				    "127.0.0.1:5123", "admin" };
	struct ctl_login	l = { "::1", "[::1]:80", "root", 0 };
	struct ctl_answer	a = { 200, 0, 8, "\"g8-def\"", "{}", 2 };

	assert_int_equal(ctl_pack_write(b, CTL_SET_SERVICE, 1, &w), 0);
	assert_int_equal(ctl_pack_login(b, 2, &l), 0);
	assert_int_equal(ctl_pack_answer(b, 3, &a), 0);
}

static void
check_three(struct ctl_reader *r)
{
	struct ctl_msg		m;
	struct ctl_write	w;
	struct ctl_login	l;
	struct ctl_answer	a;

	assert_int_equal(ctl_reader_next(r, &m), 1);
	assert_int_equal(m.type, CTL_SET_SERVICE);
	assert_int_equal(m.id, 1);
	assert_int_equal(ctl_unpack_login(&m, &l), -1);
	assert_int_equal(ctl_unpack_write(&m, &w), 0);
	assert_string_equal(w.project, "acc");
	assert_string_equal(w.service, "billing");
	assert_int_equal(w.bodylen, sizeof(BODY) - 1);
	assert_memory_equal(w.body, BODY, sizeof(BODY) - 1);
	assert_string_equal(w.if_match, "\"g7-abc\"");
	assert_string_equal(w.client, "127.0.0.1:5123");
	assert_string_equal(w.user, "admin");
	ctl_write_free(&w);
	assert_int_equal(ctl_reader_next(r, &m), 1);
	assert_int_equal(m.id, 2);
	assert_int_equal(ctl_unpack_login(&m, &l), 0);
	assert_string_equal(l.addr, "::1");
	assert_string_equal(l.user, "root");
	assert_int_equal(l.ok, 0);
	ctl_login_free(&l);
	assert_int_equal(ctl_reader_next(r, &m), 1);
	assert_int_equal(m.id, 3);
	assert_int_equal(ctl_unpack_answer(&m, &a), 0);
	assert_int_equal(a.status, 200);
	assert_int_equal(a.generation, 8);
	assert_string_equal(a.etag, "\"g8-def\"");
	assert_int_equal(a.bodylen, 2);
	assert_string_equal(a.body, "{}");
	ctl_answer_free(&a);
	assert_int_equal(ctl_reader_next(r, &m), 0);
}

static void
test_roundtrip(void **state)
{
	struct sybuf		b;
	struct ctl_reader	r;

	(void)state;
	sybuf_init(&b);
	pack_three(&b);
	ctl_reader_init(&r, 1024);
	assert_int_equal(ctl_reader_feed(&r, b.data, b.len), 0);
	check_three(&r);
	ctl_reader_free(&r);
	sybuf_free(&b);
}

/* every split of the stream into two reads, and one byte at a time */
static void
test_partial_reads(void **state)
{
	struct sybuf		b;
	struct ctl_reader	r;
	struct ctl_msg		m;
	size_t			cut, i, n;

	(void)state;
	sybuf_init(&b);
	pack_three(&b);
	for (cut = 0; cut <= b.len; cut++) {
		ctl_reader_init(&r, 1024);
		assert_int_equal(ctl_reader_feed(&r, b.data, cut), 0);
		n = 0;
		while (ctl_reader_next(&r, &m) == 1)
			n++;
		assert_int_equal(ctl_reader_feed(&r, b.data + cut,
		    b.len - cut), 0);
		while (ctl_reader_next(&r, &m) == 1)
			n++;
		assert_int_equal(n, 3);
		ctl_reader_free(&r);
	}
	ctl_reader_init(&r, 1024);
	for (i = 0; i < b.len; i++)
		assert_int_equal(ctl_reader_feed(&r, b.data + i, 1), 0);
	check_three(&r);
	ctl_reader_free(&r);
	sybuf_free(&b);
}

static void
test_bounds(void **state)
{
	static const unsigned char	big[] = { 0, 4, 0, 0, 0, 0, 0, 9,
					    0, 0, 4, 1 };
	static const unsigned char	type0[] = { 0, 0, 0, 0, 0, 0, 0, 9,
					    0, 0, 0, 0 };
	static const unsigned char	type9[] = { 0, 9, 0, 0, 0, 0, 0, 9,
					    0, 0, 0, 0 };
	static const unsigned char	resv[] = { 0, 4, 0, 1, 0, 0, 0, 9,
					    0, 0, 0, 0 };
	const unsigned char		*bad[] = { big, type0, type9, resv };
	struct ctl_reader		 r;
	struct ctl_msg			 m;
	struct sybuf			 b;
	size_t				 i;
	char				 pay[1025];

	(void)state;
	for (i = 0; i < 4; i++) {
		ctl_reader_init(&r, 1024);
		/* refused on the header alone, before any payload */
		assert_int_equal(ctl_reader_feed(&r, bad[i], CTL_HDR_LEN), 0);
		assert_int_equal(ctl_reader_next(&r, &m), -1);
		assert_int_equal(ctl_reader_next(&r, &m), -1);	/* stays */
		ctl_reader_free(&r);
	}
	/* exactly the bound is fine */
	memset(pay, 'x', sizeof(pay));
	sybuf_init(&b);
	assert_int_equal(ctl_encode(&b, CTL_ANSWER, 5, pay, 1024), 0);
	ctl_reader_init(&r, 1024);
	assert_int_equal(ctl_reader_feed(&r, b.data, b.len), 0);
	assert_int_equal(ctl_reader_next(&r, &m), 1);
	assert_int_equal(m.len, 1024);
	ctl_reader_free(&r);
	sybuf_free(&b);
	assert_int_equal(ctl_encode(&b, CTL_ANSWER, 5, pay,
	    (size_t)CTL_MAX_PAYLOAD + 1), -1);
	sybuf_free(&b);
}

/* payloads that lie about their fields are refused */
static void
test_malformed_payloads(void **state)
{
	static const unsigned char	longstr[] = { 0, 0, 0, 200, 'a' };
	static const unsigned char	trailing[] = {
	    0, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'x' };
	static const unsigned char	status[] = {
	    0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const unsigned char	ok[] = {
	    0, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct ctl_msg		 m;
	struct ctl_answer	 a;
	struct ctl_write	 w;

	(void)state;
	m.type = CTL_ANSWER;
	m.id = 1;
	m.payload = (const char *)longstr;
	m.len = sizeof(longstr);
	assert_int_equal(ctl_unpack_answer(&m, &a), -1);
	m.payload = (const char *)trailing;
	m.len = sizeof(trailing);
	assert_int_equal(ctl_unpack_answer(&m, &a), -1);
	m.payload = (const char *)status;
	m.len = sizeof(status);
	assert_int_equal(ctl_unpack_answer(&m, &a), -1);
	m.payload = (const char *)ok;
	m.len = sizeof(ok);
	assert_int_equal(ctl_unpack_answer(&m, &a), 0);
	assert_null(a.etag);
	assert_null(a.body);
	ctl_answer_free(&a);
	/* a set without a body is refused, a delete without one is not */
	m.type = CTL_SET_SERVICE;
	m.payload = "\0\0\0\1p\0\0\0\1s\377\377\377\377\377\377\377\377"
	    "\377\377\377\377\377\377\377\377";
	m.len = 26;
	assert_int_equal(ctl_unpack_write(&m, &w), -1);
	m.type = CTL_DELETE_SERVICE;
	assert_int_equal(ctl_unpack_write(&m, &w), 0);
	assert_string_equal(w.project, "p");
	assert_null(w.body);
	ctl_write_free(&w);
	m.len = 25;
	assert_int_equal(ctl_unpack_write(&m, &w), -1);
	/* a NUL inside a name would cut it short: refused */
	m.payload = "\0\0\0\3p\0q\0\0\0\1s\377\377\377\377\377\377\377"
	    "\377\377\377\377\377\377\377\377\377";
	m.len = 28;
	assert_int_equal(ctl_unpack_write(&m, &w), -1);
}

static void
test_fd_helpers(void **state)
{
	struct ctl_reader	 r;
	struct ctl_msg		 m;
	struct sybuf		 out;
	char			*pay;
	size_t			 off = 0, len = 3 * 1024 * 1024;
	int			 sv[2], i, n = 0;
	enum ctl_io		 io;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(fcntl(sv[i], F_SETFL, O_NONBLOCK), 0);
	pay = malloc(len);
	assert_non_null(pay);
	memset(pay, 'y', len);
	sybuf_init(&out);
	/* larger than the socket buffer: writes block part way */
	assert_int_equal(ctl_encode(&out, CTL_ANSWER, 9, pay, len), 0);
	assert_int_equal(ctl_encode(&out, CTL_LOGIN, 10, "", 0), 0);
	ctl_reader_init(&r, len);
	assert_int_equal(ctl_read_fd(sv[1], &r), CTL_IO_AGAIN);
	for (i = 0; i < 100000 && n < 2; i++) {
		io = ctl_write_fd(sv[0], &out, &off);
		assert_true(io == CTL_IO_DONE || io == CTL_IO_AGAIN);
		io = ctl_read_fd(sv[1], &r);
		assert_true(io == CTL_IO_DONE || io == CTL_IO_AGAIN);
		while (ctl_reader_next(&r, &m) == 1) {
			assert_int_equal(m.id, n == 0 ? 9 : 10);
			assert_int_equal(m.len, n == 0 ? len : 0);
			n++;
		}
	}
	assert_int_equal(n, 2);
	assert_int_equal(off, 0);
	assert_int_equal(out.len, 0);
	close(sv[0]);
	assert_int_equal(ctl_read_fd(sv[1], &r), CTL_IO_EOF);
	assert_int_equal(ctl_write_fd(sv[1], &out, &off), CTL_IO_DONE);
	assert_int_equal(ctl_encode(&out, CTL_LOGIN, 11, "", 0), 0);
	assert_int_equal(ctl_write_fd(sv[1], &out, &off), CTL_IO_ERR);
	assert_int_equal(errno, EPIPE);
	close(sv[1]);
	ctl_reader_free(&r);
	sybuf_free(&out);
	free(pay);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_partial_reads),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_malformed_payloads),
		cmocka_unit_test(test_fd_helpers),
	};

	signal(SIGPIPE, SIG_IGN);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
