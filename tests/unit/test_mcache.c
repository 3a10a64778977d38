/*
 * test_mcache.c: the worker's cache of freed small blocks, alone and as
 * libevent's allocator.
 */
#include <sys/wait.h>

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

#include <event2/buffer.h>
#include <event2/event.h>

#include "mcache.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

static void
test_reuse_by_class(void **state)
{
	struct mcache_stats	 a, b;
	void			*p, *q, *r;

	(void)state;
	p = mcache_malloc(40);
	assert_non_null(p);
	mcache_free(p);
	mcache_stats(&a);
	q = mcache_malloc(33);		/* the same 48-byte class */
	assert_ptr_equal(q, p);
	r = mcache_malloc(49);		/* the next class: not that block */
	assert_ptr_not_equal(r, p);
	mcache_stats(&b);
	assert_int_equal(b.hits, a.hits + 1);
	assert_int_equal(b.cached_blocks, a.cached_blocks - 1);
	mcache_free(q);
	mcache_free(r);
	mcache_free(NULL);
}

static void
test_sizes_and_alignment(void **state)
{
	static const size_t	 sizes[] = { 0, 1, 15, 16, 17, 1000, 1024,
	    1025, 2048, 2049, 4096, 8192, 8193, 100000 };
	void			*p[sizeof(sizes) / sizeof(sizes[0])];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p[i] = mcache_malloc(sizes[i]);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		memset(p[i], 0xa5, sizes[i]);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		mcache_free(p[i]);
}

static void
test_realloc_keeps_contents(void **state)
{
	char	*p, *q;
	size_t	 i;

	(void)state;
	assert_null(mcache_realloc(mcache_malloc(10), 0));
	p = mcache_realloc(NULL, 20);
	assert_non_null(p);
	for (i = 0; i < 20; i++)
		p[i] = (char)i;
	q = mcache_realloc(p, 30);	/* still its 32-byte class */
	assert_ptr_equal(q, p);
	q = mcache_realloc(p, 5000);	/* small -> 8 KiB class */
	assert_non_null(q);
	for (i = 0; i < 20; i++)
		assert_int_equal(q[i], (char)i);
	memset(q + 20, 'x', 5000 - 20);
	p = mcache_realloc(q, 50000);	/* -> larger than any class */
	assert_non_null(p);
	for (i = 0; i < 20; i++)
		assert_int_equal(p[i], (char)i);
	assert_int_equal(p[4999], 'x');
	memset(p + 5000, 'y', 50000 - 5000);
	q = mcache_realloc(p, 200000);	/* large -> large */
	assert_non_null(q);
	assert_int_equal(q[0], 0);
	assert_int_equal(q[19], 19);
	assert_int_equal(q[49999], 'y');
	q = mcache_realloc(q, 100);	/* shrinking a large block */
	assert_non_null(q);
	assert_int_equal(q[19], 19);
	mcache_free(q);
	assert_null(mcache_malloc(SIZE_MAX - 8));
	p = mcache_malloc(3000);
	assert_null(mcache_realloc(p, SIZE_MAX - 8));	/* p stays */
	p[2999] = 'z';
	mcache_free(p);
}

/* A freed burst is cached only up to the class's bound. */
static void
test_cache_is_bounded(void **state)
{
	enum { N = 20000 };
	struct mcache_stats	 a, b;
	void			**v;
	size_t			 i;

	(void)state;
	v = calloc(N, sizeof(*v));
	assert_non_null(v);
	mcache_stats(&a);
	for (i = 0; i < N; i++)
		assert_non_null(v[i] = mcache_malloc(100));
	for (i = 0; i < N; i++)
		mcache_free(v[i]);
	mcache_stats(&b);
	/* 64 KiB of 112+16-byte blocks stay; the rest went back to libc */
	assert_true(b.cached_blocks - a.cached_blocks <= 65536 / 128);
	assert_true(b.cached_blocks > a.cached_blocks);
	assert_true(b.released - a.released >= N - 65536 / 128);
	assert_true(b.cached_bytes <= 70 * 65536);
	free(v);
}

/* Freeing memory that mcache did not hand out stops the process. */
static void
test_foreign_pointer_aborts(void **state)
{
	pid_t	pid;
	int	status;

	(void)state;
	if ((pid = fork()) == 0) {
		char	*p = calloc(1, 64);

		/* stderr stays quiet in the TAP output */
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(3);
		mcache_free(p + 16);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

#if defined(__SANITIZE_ADDRESS__)
/* Under ASan a cached block is poisoned until it is handed out again. */
static void
test_cached_block_is_poisoned(void **state)
{
	char	*p;

	(void)state;
	p = mcache_malloc(200);
	p[0] = 1;
	mcache_free(p);
	assert_true(__asan_address_is_poisoned(p));
	assert_true(__asan_address_is_poisoned(p + 199));
	assert_ptr_equal(mcache_malloc(200), p);
	assert_false(__asan_address_is_poisoned(p + 199));
	mcache_free(p);
}
#endif

/*
 * As the worker installs it: libevent's buffers take their blocks from
 * mcache and give them back, and the second round is served from the
 * cache.
 */
static void
test_libevent_allocator(void **state)
{
	struct mcache_stats	 a, b, c;
	struct evbuffer		*buf;
	int			 i, round;

	(void)state;
	event_set_mem_functions(mcache_malloc, mcache_realloc, mcache_free);
	for (round = 0; round < 2; round++) {
		mcache_stats(&a);
		buf = evbuffer_new();
		assert_non_null(buf);
		for (i = 0; i < 100; i++)
			assert_int_equal(evbuffer_add_printf(buf,
			    "line %d of a buffer that grows\r\n", i) > 0, 1);
		assert_true(evbuffer_get_length(buf) > 3000);
		evbuffer_free(buf);
		mcache_stats(&b);
		if (round == 0)
			assert_true(b.misses + b.hits > a.misses + a.hits);
		else
			assert_true(b.hits > a.hits);
		c = b;
	}
	assert_true(c.cached_blocks > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse_by_class),
		cmocka_unit_test(test_sizes_and_alignment),
		cmocka_unit_test(test_realloc_keeps_contents),
		cmocka_unit_test(test_cache_is_bounded),
		cmocka_unit_test(test_foreign_pointer_aborts),
#if defined(__SANITIZE_ADDRESS__)
		cmocka_unit_test(test_cached_block_is_poisoned),
#endif
		cmocka_unit_test(test_libevent_allocator),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
