/*
 * jscan.c: a strict RFC 8259 JSON scanner over raw bytes (see jscan.h).
 * It builds no objects: the gateway uses it to
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
 *
 * A call body must not repeat a member name in any object at any depth
 * (SPEC section 4): the rule reads params with json-c, where the last
 * member wins, and an upstream may read the same bytes first-wins.  Names
 * are compared after decoding their escapes ("p\u0061rams" is "params"),
 * as any JSON parser reads them.  The names of the objects still open
 * are kept in one array of (offset, length, hash) entries that grows by
 * doubling (64 live in the struct, so a small body allocates nothing);
 * when an object closes, its entries are sorted by hash, then by decoded
 * bytes, and neighbours compared: O(n log n) whatever the names, so
 * neither a 100,000-member object nor names chosen to collide cost more
 * than a sort.  The memory is 12 bytes per member of the objects still
 * open (each member takes at least 5 bytes of body), at most doubled by
 * the growth: under five times the body, which maxBodyBytes bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"

#define JSCAN_ERR_INVALID	"request body is not valid JSON"
#define JSCAN_ERR_NOTOBJ	"request body is not a JSON object"
#define JSCAN_ERR_TIMEOUT	"timeout must be a number of milliseconds"
#define JSCAN_ERR_DUP		"request body has a duplicate member name"
#define JSCAN_ERR_NOMEM		"request body is too large to check"

/* Member names kept in the struct before the first allocation. */
#define JSCAN_NAMES_INLINE	64
/* Objects up to this many members are checked pair by pair. */
#define JSCAN_NAMES_PAIRWISE	8

/* Longest "timeout" number copied to the stack for strtod. */
#define JSCAN_NUMBUF		64

/* A member name: the bytes between its quotes, and a hash of them decoded. */
struct jscan_name {
	uint32_t		 off;	/* from jscan_names.base */
	uint32_t		 len;
	uint32_t		 hash;
};

enum jscan_names_error {
	JSCAN_NAMES_OK = 0,
	JSCAN_NAMES_DUP,
	JSCAN_NAMES_NOMEM
};

/* The names of the open objects of a call body, innermost last. */
struct jscan_names {
	const unsigned char	*base;
	struct jscan_name	*v;	/* inl, or allocated */
	size_t			 n;
	size_t			 cap;
	size_t			 start[JSCAN_MAX_DEPTH + 1]; /* by depth */
	enum jscan_names_error	 error;
	struct jscan_name	 inl[JSCAN_NAMES_INLINE];
};

/* A cursor that yields the bytes of a JSON string's contents decoded. */
struct jscan_dec {
	const unsigned char	*p;
	const unsigned char	*end;
	unsigned char		 buf[4];	/* UTF-8 of one \u escape */
	int			 i;
	int			 n;
};

struct jscan {
	const unsigned char	*p;
	const unsigned char	*end;
	struct jscan_names	*nm;	/* NULL: names are not checked */
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
static unsigned int jscan_hex4(const unsigned char *);
static int	 jscan_utf8(unsigned long, unsigned char *);
static int	 jscan_dec_next(struct jscan_dec *);
static void	 jscan_dec_init(struct jscan_dec *, const unsigned char *,
		    size_t);
static int	 jscan_dec_cmp(const unsigned char *, size_t,
		    const unsigned char *, size_t);
static uint32_t	 jscan_dec_hash(const unsigned char *, size_t);
static int	 jscan_name_cmp(const struct jscan_names *,
		    const struct jscan_name *, const struct jscan_name *);
static int	 jscan_names_push(struct jscan_names *,
		    const unsigned char *, size_t);
static void	 jscan_names_sift(const struct jscan_names *,
		    struct jscan_name *, size_t, size_t);
static void	 jscan_names_sort(const struct jscan_names *,
		    struct jscan_name *, size_t);
static void	 jscan_names_close(struct jscan_names *, size_t);
static int	 jscan_key(struct jscan *, const unsigned char **, size_t *);
static int	 jscan_next(struct jscan *, const unsigned char *, int, int *);
static int	 jscan_value(struct jscan *, int);
static int	 jscan_key_is(const unsigned char *, size_t, const char *);
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

/* The value of four hex digits that jscan_string has already checked. */
static unsigned int
jscan_hex4(const unsigned char *p)
{
	unsigned int	 v = 0;
	int		 i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (p[i] <= '9')
			v |= p[i] - '0';
		else
			v |= (p[i] | 0x20) - 'a' + 10;
	}
	return (v);
}

/* Code point cp as UTF-8 into buf (surrogates as three bytes). */
static int
jscan_utf8(unsigned long cp, unsigned char *buf)
{
	if (cp < 0x80) {
		buf[0] = cp;
		return (1);
	}
	if (cp < 0x800) {
		buf[0] = 0xc0 | (cp >> 6);
		buf[1] = 0x80 | (cp & 0x3f);
		return (2);
	}
	if (cp < 0x10000) {
		buf[0] = 0xe0 | (cp >> 12);
		buf[1] = 0x80 | ((cp >> 6) & 0x3f);
		buf[2] = 0x80 | (cp & 0x3f);
		return (3);
	}
	buf[0] = 0xf0 | (cp >> 18);
	buf[1] = 0x80 | ((cp >> 12) & 0x3f);
	buf[2] = 0x80 | ((cp >> 6) & 0x3f);
	buf[3] = 0x80 | (cp & 0x3f);
	return (4);
}

/*
 * The next decoded byte of a string that jscan_string accepted, or -1 at
 * its end.  A \uD8xx\uDCxx pair is one code point, as in a raw UTF-8
 * name; an unpaired surrogate stands for itself.
 */
static int
jscan_dec_next(struct jscan_dec *d)
{
	unsigned long	 cp, lo;
	unsigned char	 c;

	if (d->i < d->n)
		return (d->buf[d->i++]);
	if (d->p == d->end)
		return (-1);
	if ((c = *d->p++) != '\\')
		return (c);
	switch ((c = *d->p++)) {
	case 'b':
		return ('\b');
	case 'f':
		return ('\f');
	case 'n':
		return ('\n');
	case 'r':
		return ('\r');
	case 't':
		return ('\t');
	case 'u':
		break;
	default:
		return (c);	/* '"', '\\' or '/' */
	}
	cp = jscan_hex4(d->p);
	d->p += 4;
	if (cp >= 0xd800 && cp <= 0xdbff && d->end - d->p >= 6 &&
	    d->p[0] == '\\' && d->p[1] == 'u' &&
	    (lo = jscan_hex4(d->p + 2)) >= 0xdc00 && lo <= 0xdfff) {
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		d->p += 6;
	}
	d->n = jscan_utf8(cp, d->buf);
	d->i = 1;
	return (d->buf[0]);
}

static void
jscan_dec_init(struct jscan_dec *d, const unsigned char *p, size_t len)
{
	d->p = p;
	d->end = p + len;
	d->i = d->n = 0;
}

/* Decoded names a and b compared as bytes: <0, 0 or >0. */
static int
jscan_dec_cmp(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
	struct jscan_dec	 x, y;
	int			 c, d;

	jscan_dec_init(&x, a, alen);
	jscan_dec_init(&y, b, blen);
	do {
		c = jscan_dec_next(&x);
		d = jscan_dec_next(&y);
	} while (c == d && c != -1);
	return (c - d);
}

/* FNV-1a of the decoded name: only a sort key, so collisions are harmless. */
static uint32_t
jscan_dec_hash(const unsigned char *p, size_t len)
{
	struct jscan_dec	 d;
	uint32_t		 h = 2166136261u;
	int			 c;

	jscan_dec_init(&d, p, len);
	while ((c = jscan_dec_next(&d)) != -1)
		h = (h ^ (uint32_t)c) * 16777619u;
	return (h);
}

static int
jscan_name_cmp(const struct jscan_names *nm, const struct jscan_name *a,
    const struct jscan_name *b)
{
	if (a->hash != b->hash)
		return (a->hash < b->hash ? -1 : 1);
	return (jscan_dec_cmp(nm->base + a->off, a->len, nm->base + b->off,
	    b->len));
}

/* Record a member name of the innermost open object. */
static int
jscan_names_push(struct jscan_names *nm, const unsigned char *key,
    size_t len)
{
	struct jscan_name	*v;
	size_t			 cap;

	if (nm->n == nm->cap) {
		cap = nm->cap * 2;
		if (nm->v == nm->inl) {
			if ((v = malloc(cap * sizeof(*v))) != NULL)
				memcpy(v, nm->inl, sizeof(nm->inl));
		} else
			v = reallocarray(nm->v, cap, sizeof(*v));
		if (v == NULL) {
			nm->error = JSCAN_NAMES_NOMEM;
			return (-1);
		}
		nm->v = v;
		nm->cap = cap;
	}
	nm->v[nm->n].off = (uint32_t)(key - nm->base);
	nm->v[nm->n].len = (uint32_t)len;
	nm->v[nm->n].hash = jscan_dec_hash(key, len);
	nm->n++;
	return (0);
}

/* Heap sort: no allocation, and O(n log n) for any input. */
static void
jscan_names_sift(const struct jscan_names *nm, struct jscan_name *v,
    size_t i, size_t n)
{
	struct jscan_name	 t;
	size_t			 c;

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && jscan_name_cmp(nm, &v[c], &v[c + 1]) < 0)
			c++;
		if (jscan_name_cmp(nm, &v[i], &v[c]) >= 0)
			return;
		t = v[i];
		v[i] = v[c];
		v[c] = t;
		i = c;
	}
}

static void
jscan_names_sort(const struct jscan_names *nm, struct jscan_name *v,
    size_t n)
{
	struct jscan_name	 t;
	size_t			 i;

	for (i = n / 2; i > 0; i--)
		jscan_names_sift(nm, v, i - 1, n);
	for (i = n; i > 1; i--) {
		t = v[0];
		v[0] = v[i - 1];
		v[i - 1] = t;
		jscan_names_sift(nm, v, 0, i - 1);
	}
}

/*
 * The object whose names start at index start has closed: its names are
 * forgotten, and when two of them are equal nm->error says so.  The scan
 * goes on, so that a body that is not JSON at all is reported as such.
 */
static void
jscan_names_close(struct jscan_names *nm, size_t start)
{
	struct jscan_name	*v = nm->v + start;
	size_t			 i, j, k = nm->n - start;

	nm->n = start;
	if (nm->error != JSCAN_NAMES_OK)
		return;
	if (k <= JSCAN_NAMES_PAIRWISE) {
		for (i = 0; i < k; i++)
			for (j = i + 1; j < k; j++)
				if (jscan_name_cmp(nm, &v[i], &v[j]) == 0)
					nm->error = JSCAN_NAMES_DUP;
		return;
	}
	jscan_names_sort(nm, v, k);
	for (i = 1; i < k; i++)
		if (jscan_name_cmp(nm, &v[i - 1], &v[i]) == 0)
			nm->error = JSCAN_NAMES_DUP;
}

/*
 * ws string ws ':' -- the raw key bytes, without quotes, go to key, and
 * to the open object's names when they are checked.
 */
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
	if (s->nm != NULL && jscan_names_push(s->nm, start + 1,
	    (size_t)(s->p - start) - 2) == -1)
		return (-1);
	jscan_ws(s);
	if (s->p == s->end || *s->p != ':')
		return (-1);
	s->p++;
	return (0);
}

/*
 * After a value: close finished containers and step over a ','.
 * Returns 1 when another value follows, 0 when the outermost value
 * is complete, -1 on a syntax error.  base is as in jscan_value.
 */
static int
jscan_next(struct jscan *s, const unsigned char *stack, int base, int *d)
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
		if (open == '{' && s->nm != NULL)
			jscan_names_close(s->nm, s->nm->start[base + *d]);
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
			if (s->nm != NULL)
				s->nm->start[base + d] = s->nm->n;
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
		if ((rc = jscan_next(s, stack, base, &d)) != 1)
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
	s.nm = NULL;
	if (jscan_value(&s, 0) == -1)
		return (-1);
	jscan_ws(&s);
	return (s.p == s.end ? 0 : -1);
}

/* 1 when the raw key, decoded, is the NUL-terminated name. */
static int
jscan_key_is(const unsigned char *key, size_t keylen, const char *name)
{
	return (jscan_dec_cmp(key, keylen, (const unsigned char *)name,
	    strlen(name)) == 0);
}

/*
 * The members of the top-level object at s->p ('{'), recording the
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
		if (jscan_key_is(key, keylen, "params")) {
			params->p = (const char *)val;
			params->len = (size_t)(s->p - val);
		} else if (jscan_key_is(key, keylen, "timeout")) {
			timeout->p = (const char *)val;
			timeout->len = (size_t)(s->p - val);
		}
		jscan_ws(s);
		if (s->p == s->end)
			return (-1);
		if (*s->p == '}') {
			s->p++;
			jscan_names_close(s->nm, 0);
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
	struct jscan_names	 nm;
	struct jscan_span	 params = { NULL, 0 }, timeout = { NULL, 0 };
	int			 rc;

	memset(out, 0, sizeof(*out));
	out->params = NULL;
	if (buf == NULL || len == 0)
		return (0);
	s.p = (const unsigned char *)buf;
	s.end = s.p + len;
	s.nm = NULL;
	jscan_ws(&s);
	if (s.p == s.end)
		return (0);
	if (*s.p != '{') {
		*err = jscan_validate(buf, len) == 0 ? JSCAN_ERR_NOTOBJ :
		    JSCAN_ERR_INVALID;
		return (-1);
	}
	if (len > UINT32_MAX) {
		*err = JSCAN_ERR_NOMEM;	/* names hold 32-bit offsets */
		return (-1);
	}
	nm.base = (const unsigned char *)buf;
	nm.v = nm.inl;
	nm.n = 0;
	nm.cap = JSCAN_NAMES_INLINE;
	nm.error = JSCAN_NAMES_OK;
	s.nm = &nm;
	rc = jscan_members(&s, &params, &timeout);
	if (nm.v != nm.inl)
		free(nm.v);
	jscan_ws(&s);
	if (rc == -1 || s.p != s.end) {
		*err = nm.error == JSCAN_NAMES_NOMEM ? JSCAN_ERR_NOMEM :
		    JSCAN_ERR_INVALID;
		return (-1);
	}
	if (nm.error == JSCAN_NAMES_DUP) {
		*err = JSCAN_ERR_DUP;
		return (-1);
	}
	if (jscan_timeout(&timeout, out) == -1) {
		*err = JSCAN_ERR_TIMEOUT;
		return (-1);
	}
	out->params = params.p;
	out->params_len = params.len;
	return (0);
}
