/*
 * mcache.h: a worker's cache of freed small blocks, installed as
 * libevent's allocator (see mcache.c).
 */
#ifndef SY_MCACHE_H
#define SY_MCACHE_H

#include <stddef.h>

struct mcache_stats {
	size_t	hits;		/* blocks handed out again from the cache */
	size_t	misses;		/* blocks taken from libc */
	size_t	released;	/* freed blocks given back: class full */
	size_t	cached_blocks;
	size_t	cached_bytes;	/* headers included */
};

void	*mcache_malloc(size_t);
void	*mcache_realloc(void *, size_t);
void	 mcache_free(void *);
void	 mcache_stats(struct mcache_stats *);

#endif
