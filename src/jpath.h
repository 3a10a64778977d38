/*
 * jpath.h: the one variable-path grammar and resolver.  A path is one or
 * more non-empty segments separated by '.' ("user.tags.0"); on an object
 * a segment names a member, on an array a segment of decimal digits (any
 * length, as long as the value fits a size_t) is an element index.  Rules
 * (args.auth.X, args.params.X), URL templates ({args.X}, {auth.X}),
 * header values and GraphQL references all resolve through here.
 *
 * json-c keeps JSON null as a NULL pointer: jpath_find says "found" with
 * *out NULL for a null member, "missing" with 0.
 */
#ifndef SY_JPATH_H
#define SY_JPATH_H

#include <stddef.h>

struct json_object;

/* One segment of a compiled path. */
struct jpath_seg {
	char	*key;		/* NUL-terminated copy of the segment */
	size_t	 len;
	size_t	 idx;		/* when is_idx */
	int	 is_idx;	/* decimal digits fitting a size_t */
};

/* A compiled path: the segments of the text it was made from. */
struct jpath {
	struct jpath_seg	*seg;
	size_t			 nseg;
	char			*buf;	/* the segments' storage */
};

/*
 * 1 when s[0..len) is a path whose segments are names of [A-Za-z0-9_-]
 * (the form a header value must have to be read as a variable), else 0.
 */
int	 jpath_valid(const char *s, size_t len);

/* 1 and *idx when seg[0..len) is decimal digits fitting a size_t. */
int	 jpath_index(const char *seg, size_t len, size_t *idx);

/*
 * Compile s[0..len) (any bytes but '.' and NUL in a segment) into p.
 * Returns 0, -1 when a segment is empty or holds a NUL, -2 when out of
 * memory; free with jpath_free either way.
 */
int	 jpath_compile(struct jpath *p, const char *s, size_t len);
void	 jpath_free(struct jpath *p);

/*
 * One step from cur along seg: 1 and *next (borrowed; NULL for JSON
 * null) when cur is an object with that member or an array with that
 * element, else 0.
 */
int	 jpath_step(struct json_object *cur, const struct jpath_seg *seg,
	    struct json_object **next);

/* Resolve a compiled path from root; 1 and *out (borrowed) / 0. */
int	 jpath_get(struct json_object *root, const struct jpath *p,
	    struct json_object **out);

/*
 * Resolve the path text path[0..len) from root without compiling it
 * (nothing is allocated); 1 and *out (borrowed) / 0 when missing, when
 * root is NULL or when a segment is empty.
 */
int	 jpath_find(struct json_object *root, const char *path, size_t len,
	    struct json_object **out);

#endif
