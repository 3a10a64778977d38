/*
 * cfsplit.h: the config file parsed one service's endpoints at a time
 * (see cfsplit.c).
 */
#ifndef SY_CFSPLIT_H
#define SY_CFSPLIT_H

#include <stddef.h>

#include "util.h"

struct json_object;
struct json_tokener;

#define CF_TOKENER_FLAGS \
	(JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8)

/* A service's "endpoints" value cut out of the file (see cf_split). */
struct cf_piece {
	size_t		 off;
	size_t		 len;
	int		 used;
};

struct cf_split {
	const char		*text;
	size_t			 len;
	size_t			 pos;
	size_t			 copied;	/* text before it is in skel */
	struct sybuf		 skel;		/* text with pieces cut out */
	struct cf_piece		*pieces;
	size_t			 npieces;
	size_t			 cap;
	struct json_tokener	*tok;		/* parses the pieces */
	int			 failed;	/* a piece did not parse */
};

/*
 * Split text: the parsed skeleton, in which each service's "endpoints"
 * value is the number of its piece, or NULL (take the plain parse).
 * cf_split_free(sp) either way.
 */
struct json_object	*cf_split(struct cf_split *sp, const char *text,
			    size_t len);
void			 cf_split_free(struct cf_split *sp);
/* Parse piece i into *out (caller puts; NULL for null).  0 / -1. */
int			 cf_split_piece(struct cf_split *sp, size_t i,
			    struct json_object **out);
/* Pieces the skeleton dropped (a member given twice) must parse too. */
void			 cf_split_check_unused(struct cf_split *sp);

#endif
