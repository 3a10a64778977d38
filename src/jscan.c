/*
 * jscan.c: a strict RFC 8259 JSON scanner over raw bytes (see jscan.h).
 * It allocates nothing and builds no objects: the gateway uses it to
 * check that an upstream answer is JSON before passing it on byte for
 * byte, and to find the spans of "params" and "timeout" in a call body
 * so that the client's own bytes can be forwarded untouched.
 *
 * Nesting is handled with a loop and a fixed stack of JSCAN_MAX_DEPTH
 * bytes, never with recursion, so hostile input (a megabyte of '[')
 * costs a bounded amount of stack and is rejected at the depth limit.
 * A value nested exactly JSCAN_MAX_DEPTH containers deep is accepted.
 *
 * Deliberate leniencies, both harmless for a forwarding gateway:
 * - bytes >= 0x80 inside strings are accepted without UTF-8 validation
 *   (as json-c and Go's encoding/json accept them);
 * - \uXXXX escapes are checked for four hex digits only, so unpaired
 *   UTF-16 surrogates pass.
 * Member names in a call body are compared as raw bytes: a key written
 * with escapes, such as "p\u0061rams", is not recognised as "params".
 */
#include <stdlib.h>
#include <string.h>

#include "jscan.h"

#define JSCAN_ERR_INVALID	"request body is not valid JSON"
#define JSCAN_ERR_NOTOBJ	"request body is not a JSON object"
#define JSCAN_ERR_TIMEOUT	"timeout must be a number of milliseconds"

/* Longest "timeout" number copied to the stack for strtod. */
#define JSCAN_NUMBUF		64

struct jscan {
	const unsigned char	*p;
	const unsigned char	*end;
};

/* A member value as the client wrote it; p is NULL when absent. */
struct jscan_span {
	const char		*p;
	size_t			 len;
};

static void	 jscan_ws(struct jscan *);
static int	 jscan_hex(unsigned char);
static int	 jscan_string(struct jscan *);
static size_t	 jscan_digits(struct jscan *);
static int	 jscan_number(struct jscan *);
static int	 jscan_literal(struct jscan *, const char *, size_t);
static int	 jscan_scalar(struct jscan *);
static int	 jscan_key(struct jscan *, const unsigned char **, size_t *);
static int	 jscan_next(struct jscan *, const unsigned char *, int *);
static int	 jscan_value(struct jscan *, int);
static int	 jscan_members(struct jscan *, struct jscan_span *,
		    struct jscan_span *);
static int	 jscan_timeout(const struct jscan_span *, struct jscan_body *);

static void
jscan_ws(struct jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* Not isxdigit(3): that one depends on the locale. */
static int
jscan_hex(unsigned char c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F'));
}

/* s->p is at the opening quote; leaves it after the closing one. */
static int
jscan_string(struct jscan *s)
{
	unsigned char	 c;
	int		 i;

	s->p++;
	while (s->p < s->end) {
		c = *s->p++;
		if (c == '"')
			return (0);
		if (c < 0x20)
			return (-1);
		if (c != '\\')
			continue;
		if (s->p == s->end)
			return (-1);
		c = *s->p++;
		if (c == 'u') {
			if (s->end - s->p < 4)
				return (-1);
			for (i = 0; i < 4; i++)
				if (!jscan_hex(*s->p++))
					return (-1);
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
			return (-1);
	}
	return (-1);
}

static size_t
jscan_digits(struct jscan *s)
{
	const unsigned char	*start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return ((size_t)(s->p - start));
}

/* number = [ minus ] int [ frac ] [ exp ], RFC 8259 section 6. */
static int
jscan_number(struct jscan *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p == s->end)
		return (-1);
	if (*s->p == '0')
		s->p++;
	else if (jscan_digits(s) == 0)
		return (-1);
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (jscan_digits(s) == 0)
			return (-1);
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (jscan_digits(s) == 0)
			return (-1);
	}
	return (0);
}

static int
jscan_literal(struct jscan *s, const char *lit, size_t len)
{
	if ((size_t)(s->end - s->p) < len || memcmp(s->p, lit, len) != 0)
		return (-1);
	s->p += len;
	return (0);
}

/* A string, number or literal at s->p (which is before s->end). */
static int
jscan_scalar(struct jscan *s)
{
	switch (*s->p) {
	case '"':
		return (jscan_string(s));
	case 't':
		return (jscan_literal(s, "true", 4));
	case 'f':
		return (jscan_literal(s, "false", 5));
	case 'n':
		return (jscan_literal(s, "null", 4));
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return (jscan_number(s));
	default:
		return (-1);
	}
}

/* ws string ws ':' -- the raw key bytes, without quotes, go to key. */
static int
jscan_key(struct jscan *s, const unsigned char **key, size_t *keylen)
{
	const unsigned char	*start;

	jscan_ws(s);
	if (s->p == s->end || *s->p != '"')
		return (-1);
	start = s->p;
	if (jscan_string(s) == -1)
		return (-1);
	if (key != NULL) {
		*key = start + 1;
		*keylen = (size_t)(s->p - start) - 2;
	}
	jscan_ws(s);
	if (s->p == s->end || *s->p != ':')
		return (-1);
	s->p++;
	return (0);
}

/*
 * After a value: close finished containers and step over a ','.
 * Returns 1 when another value follows, 0 when the outermost value
 * is complete, -1 on a syntax error.
 */
static int
jscan_next(struct jscan *s, const unsigned char *stack, int *d)
{
	unsigned char	 open;

	while (*d > 0) {
		open = stack[*d - 1];
		jscan_ws(s);
		if (s->p == s->end)
			return (-1);
		if (*s->p == ',') {
			s->p++;
			if (open == '{' && jscan_key(s, NULL, NULL) == -1)
				return (-1);
			return (1);
		}
		if (*s->p != (open == '{' ? '}' : ']'))
			return (-1);
		s->p++;
		(*d)--;
	}
	return (0);
}

/*
 * Scan one value (after optional white space), already nested base
 * containers deep.  Leaves s->p just after the value.
 */
static int
jscan_value(struct jscan *s, int base)
{
	unsigned char	 stack[JSCAN_MAX_DEPTH];
	unsigned char	 c;
	int		 d = 0, rc;

	for (;;) {
		jscan_ws(s);
		if (s->p == s->end)
			return (-1);
		c = *s->p;
		if (c == '[' || c == '{') {
			if (base + d >= JSCAN_MAX_DEPTH)
				return (-1);
			stack[d++] = c;
			s->p++;
			jscan_ws(s);
			if (s->p == s->end)
				return (-1);
			if (*s->p != (c == '{' ? '}' : ']')) {
				if (c == '{' && jscan_key(s, NULL, NULL) == -1)
					return (-1);
				continue;
			}
			s->p++;
			d--;
		} else if (jscan_scalar(s) == -1)
			return (-1);
		if ((rc = jscan_next(s, stack, &d)) != 1)
			return (rc);
	}
}

int
jscan_validate(const char *buf, size_t len)
{
	struct jscan	 s;

	if (buf == NULL)
		return (-1);
	s.p = (const unsigned char *)buf;
	s.end = s.p + len;
	if (jscan_value(&s, 0) == -1)
		return (-1);
	jscan_ws(&s);
	return (s.p == s.end ? 0 : -1);
}

/*
 * The members of the top-level object at s->p ('{'), recording the last
 * "params" and "timeout" values.  Leaves s->p after the '}'.
 */
static int
jscan_members(struct jscan *s, struct jscan_span *params,
    struct jscan_span *timeout)
{
	const unsigned char	*key, *val;
	size_t			 keylen;

	s->p++;
	jscan_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return (0);
	}
	for (;;) {
		if (jscan_key(s, &key, &keylen) == -1)
			return (-1);
		jscan_ws(s);
		val = s->p;
		if (jscan_value(s, 1) == -1)
			return (-1);
		if (keylen == 6 && memcmp(key, "params", 6) == 0) {
			params->p = (const char *)val;
			params->len = (size_t)(s->p - val);
		} else if (keylen == 7 && memcmp(key, "timeout", 7) == 0) {
			timeout->p = (const char *)val;
			timeout->len = (size_t)(s->p - val);
		}
		jscan_ws(s);
		if (s->p == s->end)
			return (-1);
		if (*s->p == '}') {
			s->p++;
			return (0);
		}
		if (*s->p++ != ',')
			return (-1);
	}
}

/*
 * Turn a valid "timeout" value into out's fields: null is ignored, a
 * number is read with strtod (C locale assumed, as the daemon never
 * calls setlocale), anything else is an error.
 */
static int
jscan_timeout(const struct jscan_span *t, struct jscan_body *out)
{
	char	 num[JSCAN_NUMBUF];

	if (t->p == NULL || t->p[0] == 'n')
		return (0);
	if (t->p[0] != '-' && (t->p[0] < '0' || t->p[0] > '9'))
		return (-1);
	out->has_timeout = 1;
	if (t->len < sizeof(num)) {
		memcpy(num, t->p, t->len);
		num[t->len] = '\0';
		out->timeout_ms = strtod(num, NULL);
	} else {
		/*
		 * An absurdly long but valid number: strtod may read the
		 * body itself, because the enclosing object was validated
		 * and a '}' follows the number inside the buffer.
		 */
		out->timeout_ms = strtod(t->p, NULL);
	}
	return (0);
}

int
jscan_body(const char *buf, size_t len, struct jscan_body *out,
    const char **err)
{
	struct jscan		 s;
	struct jscan_span	 params = { NULL, 0 }, timeout = { NULL, 0 };

	memset(out, 0, sizeof(*out));
	out->params = NULL;
	if (buf == NULL || len == 0)
		return (0);
	s.p = (const unsigned char *)buf;
	s.end = s.p + len;
	jscan_ws(&s);
	if (s.p == s.end)
		return (0);
	if (*s.p != '{') {
		*err = jscan_validate(buf, len) == 0 ? JSCAN_ERR_NOTOBJ :
		    JSCAN_ERR_INVALID;
		return (-1);
	}
	if (jscan_members(&s, &params, &timeout) == -1)
		goto invalid;
	jscan_ws(&s);
	if (s.p != s.end)
		goto invalid;
	if (jscan_timeout(&timeout, out) == -1) {
		*err = JSCAN_ERR_TIMEOUT;
		return (-1);
	}
	out->params = params.p;
	out->params_len = params.len;
	return (0);
invalid:
	*err = JSCAN_ERR_INVALID;
	return (-1);
}
