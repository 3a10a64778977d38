/*
 * tmpl.h: the upstream request line: URL templates with {args.X} and
 * {auth.X}, RFC 3986 percent-encoding, and GET/HEAD query strings.
 */
#ifndef SY_TMPL_H
#define SY_TMPL_H

#include <stddef.h>

#include <json-c/json.h>

#include "util.h"

/* 1 when s holds a "{args." or "{auth." variable, else 0. */
int	 tmpl_has_vars(const char *s);

/*
 * Append s percent-encoded to out: RFC 3986 unreserved characters
 * (ALPHA DIGIT - . _ ~) are kept, every other byte becomes %XX (upper
 * case hex).  Returns 0 / -1 (out of memory).
 */
int	 tmpl_pct_encode(struct sybuf *out, const char *s, size_t len);

/*
 * Look up a dotted path ("user.id", "items.0.name": numeric segments
 * index arrays) in obj.  Returns a borrowed object, or NULL when a
 * segment is missing.  NULL obj gives NULL.
 */
struct json_object *tmpl_lookup(struct json_object *obj, const char *path,
	    size_t pathlen);

/*
 * Render a scalar JSON value as text for a URL or header: strings as they
 * are, numbers, true/false/null as their JSON text.  Returns 0, or -1 for
 * objects and arrays.  The result is appended to out unencoded.
 */
int	 tmpl_scalar_text(struct sybuf *out, struct json_object *v);

/*
 * Expand tmpl into out, replacing each {args.X} with the percent-encoded
 * value at path X in args, and each {auth.X} likewise from auth.  Text
 * outside braces is copied as it is.  A path segment that values made
 * "." or ".." is sent as %2E or %2E%2E, so that a value never adds,
 * removes or climbs a segment.  Returns 0, or -1 with *err set to a
 * message (caller frees) such as "path variable args.id is missing" or
 * "... is not a scalar".
 */
int	 tmpl_expand(struct sybuf *out, const char *tmpl, struct json_object *args,
	    struct json_object *auth, char **err);

/*
 * Append the query string for a GET or HEAD call: when params is an
 * object, each top-level scalar member becomes key=value (both
 * percent-encoded; space as %20), joined with '&' and introduced with '?'
 * (or '&' when the URL in out already has a '?').  Objects and arrays are
 * skipped.  Nothing is appended when there are no scalar members.
 * Returns 0 / -1.
 */
int	 tmpl_query(struct sybuf *out, struct json_object *params);

/*
 * The URL of an internal endpoint: base without trailing '/' characters,
 * then path with a leading '/' added when missing.  Caller frees.
 */
char	*tmpl_join_url(const char *base, const char *path);

#endif
