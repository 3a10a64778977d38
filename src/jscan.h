/*
 * jscan.h: a strict RFC 8259 JSON scanner that validates bytes without
 * building objects, so that the gateway can check an upstream answer and
 * find the "params" and "timeout" members of a request body while
 * forwarding the client's own bytes untouched.
 */
#ifndef SY_JSCAN_H
#define SY_JSCAN_H

#include <stddef.h>

#define JSCAN_MAX_DEPTH	512

/*
 * 0 when buf holds exactly one JSON value (any type), with optional
 * white space around it; -1 otherwise.
 */
int	 jscan_validate(const char *buf, size_t len);

struct jscan_body {
	const char	*params;	/* points into the body; NULL if absent */
	size_t		 params_len;
	int		 has_timeout;	/* a numeric "timeout" member was given */
	double		 timeout_ms;
};

/*
 * Parse a call body.  An empty (or all white space) body is {}.  The body
 * must be one JSON object; "params" may be any value; "timeout" must be a
 * number or null when present; other members are ignored.  Member names
 * are read decoded ("p\u0061rams" is "params").  No object, at any depth,
 * may name a member twice (the names compared decoded): that is an error,
 * so that no two JSON parsers can read different values from the body.
 * Returns 0, or -1 with *err set to a static message.  Allocates only for
 * objects with many members, and frees before returning.
 */
int	 jscan_body(const char *buf, size_t len, struct jscan_body *out,
	    const char **err);

#endif
