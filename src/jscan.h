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
 * number or null when present; other members are ignored.  A duplicate
 * member: the last one wins.  Returns 0, or -1 with *err set to a static
 * message.
 */
int	 jscan_body(const char *buf, size_t len, struct jscan_body *out,
	    const char **err);

#endif
