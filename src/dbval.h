/*
 * dbval.h: PostgreSQL text-format values to JSON by type OID (SPEC 8.10).
 */
#ifndef SY_DBVAL_H
#define SY_DBVAL_H

#include <stddef.h>

struct json_object;

/* The JSON value of s (len bytes, NUL-terminated) of type oid; caller
   puts it.  NULL means JSON null (or no memory). */
struct json_object	*dbval_pg(unsigned oid, const char *s, size_t len);
/* An array literal "{...}" of element type elem, as a JSON array;
   falls back to the text when it does not parse.  Caller puts it. */
struct json_object	*dbval_pgarray(unsigned elem, const char *s);

#endif
