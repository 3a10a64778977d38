/*
 * test_util.c: the growable buffer, the error list, the x* allocators
 * and the monotonic clock.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "util.h"

static void
test_sybuf_init_empty(void **state)
{
	struct sybuf	 b;

	b.data = (char *)1;
	b.len = b.cap = 99;
	sybuf_init(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	sybuf_free(&b);
	assert_null(b.data);
}

static void
test_sybuf_add(void **state)
{
	struct sybuf	 b;

	sybuf_init(&b);
	assert_int_equal(sybuf_add(&b, "abc", 3), 0);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.data, "abc");
	assert_true(b.cap > b.len);
	assert_int_equal(sybuf_addstr(&b, "def"), 0);
	assert_int_equal(sybuf_addc(&b, 'g'), 0);
	assert_string_equal(b.data, "abcdefg");
	assert_int_equal(b.len, 7);
	sybuf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void
test_sybuf_add_empty_allocates(void **state)
{
	struct sybuf	 b;

	sybuf_init(&b);
	assert_int_equal(sybuf_add(&b, "", 0), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	sybuf_free(&b);
}

static void
test_sybuf_binary(void **state)
{
	struct sybuf	 b;
	const char	 bin[] = { 'a', '\0', 'b', '\0' };

	sybuf_init(&b);
	assert_int_equal(sybuf_add(&b, bin, sizeof(bin)), 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, bin, 4);
	assert_int_equal(b.data[4], '\0');
	sybuf_free(&b);
}

static void
test_sybuf_grow_large(void **state)
{
	struct sybuf	 b;
	size_t		 i;

	sybuf_init(&b);
	for (i = 0; i < 100000; i++)
		assert_int_equal(sybuf_addc(&b, (char)('a' + i % 26)), 0);
	assert_int_equal(b.len, 100000);
	assert_int_equal(strlen(b.data), 100000);
	for (i = 0; i < 100000; i++)
		assert_int_equal(b.data[i], 'a' + i % 26);
	assert_true(b.cap > b.len);
	sybuf_free(&b);
}

static void
test_sybuf_printf(void **state)
{
	struct sybuf	 b;
	char		 big[1000];
	size_t		 i;

	sybuf_init(&b);
	assert_int_equal(sybuf_printf(&b, "%d-%s", 42, "x"), 0);
	assert_string_equal(b.data, "42-x");
	assert_int_equal(b.len, 4);
	assert_int_equal(sybuf_printf(&b, "%s", ""), 0);
	assert_int_equal(b.len, 4);
	/* longer than the spare room: forces the second attempt */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sybuf_printf(&b, "[%s]", big), 0);
	assert_int_equal(b.len, 4 + 2 + 999);
	assert_int_equal(strlen(b.data), b.len);
	assert_memory_equal(b.data, "42-x[z", 6);
	assert_int_equal(b.data[b.len - 1], ']');
	for (i = 5; i < b.len - 1; i++)
		assert_int_equal(b.data[i], 'z');
	sybuf_free(&b);
}

static void
test_sybuf_printf_on_empty(void **state)
{
	struct sybuf	 b;

	sybuf_init(&b);
	assert_int_equal(sybuf_printf(&b, "%s", ""), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	sybuf_free(&b);
}

static void
test_sybuf_reset(void **state)
{
	struct sybuf	 b;
	size_t		 cap;

	sybuf_init(&b);
	sybuf_reset(&b);
	assert_null(b.data);
	assert_int_equal(sybuf_addstr(&b, "hello"), 0);
	cap = b.cap;
	sybuf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, cap);
	assert_string_equal(b.data, "");
	assert_int_equal(sybuf_addstr(&b, "hi"), 0);
	assert_string_equal(b.data, "hi");
	sybuf_free(&b);
}

static void
test_sybuf_detach(void **state)
{
	struct sybuf	 b;
	char		*s;

	sybuf_init(&b);
	assert_int_equal(sybuf_addstr(&b, "kept"), 0);
	s = sybuf_detach(&b);
	assert_string_equal(s, "kept");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	free(s);

	/* never written: still a string the caller can free */
	s = sybuf_detach(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

static void
test_sybuf_overflow_keeps_buffer(void **state)
{
	struct sybuf	 b;

	sybuf_init(&b);
	assert_int_equal(sybuf_addstr(&b, "abc"), 0);
	assert_int_equal(sybuf_add(&b, "x", SIZE_MAX), -1);
	assert_int_equal(sybuf_add(&b, "x", SIZE_MAX - 3), -1);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.data, "abc");
	assert_int_equal(sybuf_addc(&b, 'd'), 0);
	assert_string_equal(b.data, "abcd");
	sybuf_free(&b);
}

static void
test_syerrs(void **state)
{
	struct syerrs	 e;

	syerrs_init(&e);
	assert_int_equal(e.n, 0);
	assert_null(e.msg);
	syerrs_add(&e, "projects.p.remoteServices.s", "missing \"%s\"", "url");
	syerrs_add(&e, NULL, "no projects");
	syerrs_add(&e, "", "%d problems", 3);
	syerrs_add(&e, "a.b", "%s", "");
	assert_int_equal(e.n, 4);
	assert_string_equal(e.msg[0],
	    "projects.p.remoteServices.s: missing \"url\"");
	assert_string_equal(e.msg[1], "no projects");
	assert_string_equal(e.msg[2], "3 problems");
	assert_string_equal(e.msg[3], "a.b: ");
	syerrs_free(&e);
	assert_int_equal(e.n, 0);
	assert_null(e.msg);
	/* usable again after free */
	syerrs_add(&e, "x", "y");
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0], "x: y");
	syerrs_free(&e);
}

static void
test_syerrs_many(void **state)
{
	struct syerrs	 e;
	size_t		 i;
	char		 want[32];

	syerrs_init(&e);
	for (i = 0; i < 1000; i++)
		syerrs_add(&e, "p", "error %zu", i);
	assert_int_equal(e.n, 1000);
	for (i = 0; i < 1000; i++) {
		snprintf(want, sizeof(want), "p: error %zu", i);
		assert_string_equal(e.msg[i], want);
	}
	syerrs_free(&e);
}

static void
test_xalloc(void **state)
{
	char	*p, *q;
	int	*z;
	size_t	 i;

	p = xmalloc(16);
	memset(p, 'a', 16);
	free(p);
	p = xmalloc(0);
	assert_non_null(p);
	free(p);

	z = xcalloc(10, sizeof(*z));
	for (i = 0; i < 10; i++)
		assert_int_equal(z[i], 0);
	free(z);
	z = xcalloc(0, 4);
	assert_non_null(z);
	free(z);
	/* sy_zalloc zeroes a reused block, and refuses an overflow */
	z = sy_zalloc(10, sizeof(*z));
	assert_non_null(z);
	memset(z, 0xff, 10 * sizeof(*z));
	free(z);
	z = sy_zalloc(10, sizeof(*z));
	assert_non_null(z);
	for (i = 0; i < 10; i++)
		assert_int_equal(z[i], 0);
	free(z);
	assert_null(sy_zalloc(SIZE_MAX / 2, 4));

	p = xstrdup("hello");
	assert_string_equal(p, "hello");
	q = xstrdup("");
	assert_string_equal(q, "");
	free(p);
	free(q);

	p = xstrndup("hello", 3);
	assert_string_equal(p, "hel");
	free(p);
	p = xstrndup("hi", 10);
	assert_string_equal(p, "hi");
	free(p);
	p = xstrndup("hello", 0);
	assert_string_equal(p, "");
	free(p);
}

static void
test_sy_now(void **state)
{
	double	 a, b;
	int	 i;

	a = sy_now();
	assert_true(a > 0.0);
	for (i = 0; i < 1000; i++) {
		b = sy_now();
		assert_true(b >= a);
		a = b;
	}
}

static void
test_sy_read_file(void **state)
{
	char	 path[] = "/tmp/test_util.XXXXXX", *text = NULL;
	size_t	 len = 99;
	int	 fd;

	(void)state;
	assert_int_not_equal(fd = mkstemp(path), -1);
	assert_int_equal(sy_read_file(path, 10, &text, &len), 0);
	assert_string_equal(text, "");
	assert_int_equal(len, 0);
	free(text);
	assert_int_equal(write(fd, "ab\0cd", 5), 5);
	close(fd);
	assert_int_equal(sy_read_file(path, 5, &text, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(text, "ab\0cd", 6);
	free(text);
	text = NULL;
	assert_int_equal(sy_read_file(path, 4, &text, &len), -1);
	assert_int_equal(errno, EFBIG);
	assert_null(text);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(sy_read_file(path, 4, &text, &len), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_sy_hex(void **state)
{
	const unsigned char	 b[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char			 out[2 * sizeof(b) + 1];

	memset(out, 'x', sizeof(out));
	sy_hex(out, b, sizeof(b));
	assert_string_equal(out, "00017f80abff");
	sy_hex(out, b, 0);
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sybuf_init_empty),
		cmocka_unit_test(test_sybuf_add),
		cmocka_unit_test(test_sybuf_add_empty_allocates),
		cmocka_unit_test(test_sybuf_binary),
		cmocka_unit_test(test_sybuf_grow_large),
		cmocka_unit_test(test_sybuf_printf),
		cmocka_unit_test(test_sybuf_printf_on_empty),
		cmocka_unit_test(test_sybuf_reset),
		cmocka_unit_test(test_sybuf_detach),
		cmocka_unit_test(test_sybuf_overflow_keeps_buffer),
		cmocka_unit_test(test_syerrs),
		cmocka_unit_test(test_syerrs_many),
		cmocka_unit_test(test_xalloc),
		cmocka_unit_test(test_sy_now),
		cmocka_unit_test(test_sy_read_file),
		cmocka_unit_test(test_sy_hex),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
