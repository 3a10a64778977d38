/*
 * mcache.c: a worker's cache of freed small blocks, for libevent's own
 * allocations (event_set_mem_functions).
 *
 * Why: evhttp allocates and frees about forty small blocks for every
 * request it serves (the request, its header lists, every header name
 * and value, the URI, buffers and their chains).  Many have one size,
 * so glibc's per-size cache of seven blocks overflows in every request
 * and most frees take the long path (_int_free, consolidation): about
 * 7,000 of a call's 60,000 instructions (scripts/bench --profile).  A
 * block freed here goes on a list per size class and the next request
 * takes it back in a few instructions, as nginx's per-request pools and
 * memcached's slabs keep memory of one size for reuse.
 *
 * Invariants:
 * - Every block has a 16-byte header before the caller's pointer: its
 *   class (or MC_LARGE), a magic number, and the free-list link while
 *   cached.  mcache_free and mcache_realloc refuse, loudly, a pointer
 *   without the magic: libevent must not hand back memory it got from
 *   another allocator, so mcache is installed before the worker's first
 *   libevent call (worker_base) and never uninstalled.
 * - Classes are 16-byte steps up to 1 KiB and 2, 4, 8, 16 KiB; larger
 *   blocks go to malloc and back to free with their header.
 * - Each class caches at most MC_CLASS_BYTES (at least MC_CLASS_MIN
 *   blocks); beyond that a freed block goes back to libc, so a burst of
 *   connections does not pin memory for ever.  At most about 5 MiB stay
 *   cached per worker (4 MiB in the small classes, 1 MiB in the others).
 * - Not thread-safe: only the worker's loop thread calls libevent (the
 *   database threads of db.c never do).
 * - Under AddressSanitizer a cached block is poisoned until it is handed
 *   out again, so a use after free is still caught.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcache.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define MC_POISON(p, n)		ASAN_POISON_MEMORY_REGION((p), (n))
#define MC_UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define MC_POISON(p, n)		((void)(p), (void)(n))
#define MC_UNPOISON(p, n)	((void)(p), (void)(n))
#endif

#define MC_MAGIC	0x5377796eU
#define MC_STEP		16
#define MC_SMALL_MAX	1024			/* 16-byte steps up to here */
#define MC_NSMALL	(MC_SMALL_MAX / MC_STEP)	/* classes 1..64 */
#define MC_NCLASS	(MC_NSMALL + 4)		/* + 2, 4, 8, 16 KiB */
#define MC_LARGE	0
#define MC_CLASS_BYTES	(64 * 1024)
#define MC_CLASS_MIN	32

struct mc_head {
	uint32_t	 cls;		/* class index, or MC_LARGE */
	uint32_t	 magic;
	struct mc_head	*next;		/* free-list link while cached */
};

struct mc_class {
	struct mc_head	*free;
	size_t		 nfree;
	size_t		 max;
};

static struct mc_class	 mc_classes[MC_NCLASS + 1];
static struct mcache_stats mc_stats;

_Static_assert(sizeof(struct mc_head) == 16, "header keeps 16-byte alignment");

static size_t
mc_class_size(uint32_t cls)
{
	if (cls <= MC_NSMALL)
		return ((size_t)cls * MC_STEP);
	return ((size_t)MC_SMALL_MAX << (cls - MC_NSMALL));
}

/* The smallest class that holds n bytes; MC_LARGE when none does. */
static uint32_t
mc_class_of(size_t n)
{
	uint32_t	cls;

	if (n <= MC_SMALL_MAX)
		return (n == 0 ? 1 : (uint32_t)((n + MC_STEP - 1) / MC_STEP));
	for (cls = MC_NSMALL + 1; cls <= MC_NCLASS; cls++)
		if (n <= mc_class_size(cls))
			return (cls);
	return (MC_LARGE);
}

static struct mc_head *
mc_head_of(void *p, const char *fn)
{
	struct mc_head	*h = (struct mc_head *)p - 1;

	if (h->magic != MC_MAGIC || h->cls > MC_NCLASS) {
		/* a foreign or corrupted block: continuing would spread it */
		fprintf(stderr, "%s: %p is not an mcache block\n", fn, p);
		abort();
	}
	return (h);
}

void *
mcache_malloc(size_t n)
{
	struct mc_class	*c;
	struct mc_head	*h;
	uint32_t	 cls = mc_class_of(n);

	if (cls != MC_LARGE && (h = (c = &mc_classes[cls])->free) != NULL) {
		MC_UNPOISON(h + 1, mc_class_size(cls));
		c->free = h->next;
		c->nfree--;
		mc_stats.hits++;
		h->next = NULL;
		return (h + 1);
	}
	if (n > SIZE_MAX - sizeof(*h) - MC_SMALL_MAX)
		return (NULL);
	if ((h = malloc(sizeof(*h) + (cls == MC_LARGE ? n :
	    mc_class_size(cls)))) == NULL)
		return (NULL);
	mc_stats.misses++;
	if (cls != MC_LARGE && (c = &mc_classes[cls])->max == 0) {
		/* the class's bound, set once, before its first free */
		c->max = MC_CLASS_BYTES / (mc_class_size(cls) + sizeof(*h));
		if (c->max < MC_CLASS_MIN)
			c->max = MC_CLASS_MIN;
	}
	h->cls = cls;
	h->magic = MC_MAGIC;
	h->next = NULL;
	return (h + 1);
}

void
mcache_free(void *p)
{
	struct mc_class	*c;
	struct mc_head	*h;

	if (p == NULL)
		return;
	h = mc_head_of(p, __func__);
	if (h->cls == MC_LARGE) {
		h->magic = 0;
		free(h);
		return;
	}
	c = &mc_classes[h->cls];
	if (c->nfree >= c->max) {
		h->magic = 0;
		free(h);
		mc_stats.released++;
		return;
	}
	h->next = c->free;
	c->free = h;
	c->nfree++;
	MC_POISON(p, mc_class_size(h->cls));
}

void *
mcache_realloc(void *p, size_t n)
{
	struct mc_head	*h;
	void		*q;

	if (p == NULL)
		return (mcache_malloc(n));
	if (n == 0) {
		mcache_free(p);
		return (NULL);
	}
	h = mc_head_of(p, __func__);
	if (h->cls == MC_LARGE) {
		if (n > SIZE_MAX - sizeof(*h) ||
		    (h = realloc(h, sizeof(*h) + n)) == NULL)
			return (NULL);
		return (h + 1);
	}
	if (n <= mc_class_size(h->cls))
		return (p);
	if ((q = mcache_malloc(n)) == NULL)
		return (NULL);
	memcpy(q, p, mc_class_size(h->cls));
	mcache_free(p);
	return (q);
}

void
mcache_stats(struct mcache_stats *st)
{
	size_t	i;

	*st = mc_stats;
	st->cached_blocks = st->cached_bytes = 0;
	for (i = 1; i <= MC_NCLASS; i++) {
		st->cached_blocks += mc_classes[i].nfree;
		st->cached_bytes += mc_classes[i].nfree *
		    (mc_class_size((uint32_t)i) + sizeof(struct mc_head));
	}
}
