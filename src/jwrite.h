/*
 * jwrite.h: the one JSON writer.  Text is appended to a sybuf exactly as
 * json-c writes it with JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE: compact, '/' not escaped, the other
 * characters JSON requires escaped ("\u00xx" in lower case), UTF-8 as
 * it is.  Every function returns 0, or -1 when out of memory (the
 * buffer then holds a partial text the caller drops).
 */
#ifndef SY_JWRITE_H
#define SY_JWRITE_H

#include <stddef.h>

#include "util.h"

struct json_object;

#define JWRITE_FLAGS \
	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* s[0..len) escaped for the inside of a JSON string (no quotes). */
int	 jwrite_esc(struct sybuf *b, const char *s, size_t len);
/* s[0..len) as a JSON string, quotes included. */
int	 jwrite_str(struct sybuf *b, const char *s, size_t len);
/* v (NULL: null) as JSON text. */
int	 jwrite_value(struct sybuf *b, struct json_object *v);

#endif
