/*
 * storeint.h: what store.c shares with its backends (storefile.c), not
 * for other modules.
 */
#ifndef SY_STOREINT_H
#define SY_STOREINT_H

#include <stddef.h>

#include "store.h"

struct store {
	const struct store_backend	*be;
	char				*given;	/* the path as configured */
	char				*path;	/* the real file */
	char				*text;	/* last loaded or written */
	size_t				 len;
	struct json_object		*doc;
	char				 sha[65];
};

void	 store_seterr(struct store_err *, enum store_status, const char *,
	    ...) __attribute__((format(printf, 3, 4)));
/* Strict JSON text to *out (caller puts).  0 / -1. */
int	 store_parse_text(const char *, size_t, struct json_object **);
/* Make text and doc (both taken) the store's, and hash the text. */
void	 store_install(struct store *, char *, size_t, struct json_object *);
void	 store_hash(const char *, size_t, char[65]);
/* Tests: the step after which a file commit stops (0: never). */
extern int	store_crash_step;

#endif
