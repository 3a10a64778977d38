/*
 * gql_lex.c: the document arena and the lexer of the GraphQL parser
 * (gql_parse.c is the only user).  The lexer follows the October 2021
 * spec's lexical grammar, with graphql-js 16's error messages and error
 * positions.  The whole source is checked to be UTF-8 first, so the lexer
 * may assume that every byte >= 0x80 belongs to a valid Unicode scalar.
 *
 * The 2021 SourceCharacter excludes the C0 controls but tab, CR and LF:
 * they end a comment and are refused in strings.  \uXXXX takes exactly
 * four hex digits (\u{...} came after 2021).  A UTF-16 surrogate pair
 * written as two escapes becomes one UTF-8 code point; a lone surrogate
 * has no UTF-8 form and is refused, as graphql-js 16 refuses it.  Code
 * points above U+FFFF are accepted in strings and comments, as UTF-16
 * implementations of the 2021 spec accept them as surrogate pairs.
 *
 * Invariants: a token's decoded string lives in the arena and is never
 * longer than its source text; locations are computed by one cursor that
 * only moves forward, so locating every token costs one pass over the
 * source (errors are always at or after the current token's start).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gql_lex.h"
#include "util.h"

#define GQL_BLOCK_MIN	8192

struct gql_block {
	struct gql_block	*next;
	size_t			 used;
	size_t			 cap;
	max_align_t		 data[];
};

struct gql_arena {
	struct gql_block	*head;
	size_t			 total;
};

static int	 lex_utf8(struct gql_lexer *);
static void	 lex_locate(struct gql_lexer *, size_t, struct gql_loc *);
static void	 lex_print_cp(struct gql_lexer *, size_t, char *, size_t);
static size_t	 lex_skip(struct gql_lexer *, size_t);
static int	 lex_number(struct gql_lexer *, size_t);
static int	 lex_digits(struct gql_lexer *, size_t *);
static long	 lex_hex4(struct gql_lexer *, size_t);
static size_t	 lex_put(char *, uint32_t);
static int	 lex_escape(struct gql_lexer *, size_t, uint32_t *, size_t *);
static int	 lex_string(struct gql_lexer *, size_t);
static int	 lex_block(struct gql_lexer *, size_t);
static size_t	 lex_dedent(const char *, size_t, char *);

struct gql_arena *
gql_arena_new(void)
{
	return (calloc(1, sizeof(struct gql_arena)));
}

void *
gql_arena_alloc(struct gql_arena *a, size_t n)
{
	struct gql_block	*b = a->head;
	size_t			 cap;
	char			*p;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (n == 0)
		n = sizeof(max_align_t);
	if (b == NULL || b->cap - b->used < n) {
		cap = n > GQL_BLOCK_MIN ? n : GQL_BLOCK_MIN;
		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			return (NULL);
		b->used = 0;
		b->cap = cap;
		b->next = a->head;
		a->head = b;
		a->total += sizeof(*b) + cap;
	}
	p = (char *)b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return (p);
}

size_t
gql_arena_size(const struct gql_arena *a)
{
	return (sizeof(*a) + a->total);
}

void
gql_arena_free(struct gql_arena *a)
{
	struct gql_block	*b, *next;

	if (a == NULL)
		return;
	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

int
gql_lex_init(struct gql_lexer *lx, const char *src, size_t len,
    struct gql_arena *arena, size_t max_tokens, struct gql_error *err)
{
	memset(lx, 0, sizeof(*lx));
	lx->src = (const unsigned char *)src;
	lx->len = len;
	lx->arena = arena;
	lx->err = err;
	lx->max_tokens = max_tokens;
	lx->cur.line = lx->cur.column = 1;
	return (lex_utf8(lx));
}

/* Rejects overlong forms, surrogates and code points above U+10FFFF. */
static int
lex_utf8(struct gql_lexer *lx)
{
	const unsigned char	*s = lx->src;
	size_t			 i = 0, n, k;
	uint32_t		 cp, min;

	while (i < lx->len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			n = 1, cp = s[i] & 0x1f, min = 0x80;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			n = 2, cp = s[i] & 0x0f, min = 0x800;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 3, cp = s[i] & 0x07, min = 0x10000;
		} else
			return (gql_lex_error(lx, i,
			    "Syntax Error: Invalid UTF-8 byte 0x%02X.", s[i]));
		for (k = 1; k <= n; k++) {
			if (i + k >= lx->len || (s[i + k] & 0xc0) != 0x80)
				return (gql_lex_error(lx, i, "Syntax Error: "
				    "Invalid UTF-8 sequence."));
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (gql_lex_error(lx, i,
			    "Syntax Error: Invalid UTF-8 sequence."));
		i += n + 1;
	}
	return (0);
}

/* Moves the cursor forward to off: \r\n, \r and \n end a line. */
static void
lex_locate(struct gql_lexer *lx, size_t off, struct gql_loc *loc)
{
	unsigned char	 c;

	while (lx->cur_off < off && lx->cur_off < lx->len) {
		c = lx->src[lx->cur_off++];
		if (c == '\r' || (c == '\n' && !lx->cur_cr)) {
			lx->cur.line++;
			lx->cur.column = 1;
		} else if (c != '\n' && (c & 0xc0) != 0x80)
			lx->cur.column++;
		lx->cur_cr = c == '\r';
	}
	*loc = lx->cur;
}

int
gql_lex_error(struct gql_lexer *lx, size_t off, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(lx->err->msg, sizeof(lx->err->msg), fmt, ap);
	va_end(ap);
	lex_locate(lx, off, &lx->err->loc);
	return (-1);
}

int
gql_lex_error_at(struct gql_lexer *lx, const struct gql_token *t,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(lx->err->msg, sizeof(lx->err->msg), fmt, ap);
	va_end(ap);
	lx->err->loc = t->loc;
	return (-1);
}

const char *
gql_lex_kind_desc(enum gql_tok k)
{
	static const char *const desc[] = {
		"<EOF>", "\"!\"", "\"$\"", "\"&\"", "\"(\"", "\")\"",
		"\"...\"", "\":\"", "\"=\"", "\"@\"", "\"[\"", "\"]\"",
		"\"{\"", "\"|\"", "\"}\"", "Name", "Int", "Float",
		"String", "BlockString"
	};

	return (desc[k]);
}

void
gql_lex_desc(const struct gql_token *t, char *buf, size_t size)
{
	size_t	 n;

	if (t->val == NULL) {
		snprintf(buf, size, "%s", gql_lex_kind_desc(t->kind));
		return;
	}
	/* Keep messages short: cut long values at a code point boundary. */
	n = t->len > 64 ? 64 : t->len;
	while (n < t->len && n > 0 && ((unsigned char)t->val[n] & 0xc0) == 0x80)
		n--;
	snprintf(buf, size, "%s \"%.*s%s\"", gql_lex_kind_desc(t->kind),
	    (int)n, t->val, n < t->len ? "..." : "");
}

/* graphql-js's printCodePointAt(). */
static void
lex_print_cp(struct gql_lexer *lx, size_t off, char *buf, size_t size)
{
	const unsigned char	*s = lx->src + off;
	uint32_t		 cp;

	if (off >= lx->len) {
		snprintf(buf, size, "<EOF>");
		return;
	}
	if (s[0] >= 0x20 && s[0] <= 0x7e) {
		snprintf(buf, size, s[0] == '"' ? "'\"'" : "\"%c\"", s[0]);
		return;
	}
	if (s[0] < 0x80)
		cp = s[0];
	else if (s[0] < 0xe0)
		cp = (s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	else if (s[0] < 0xf0)
		cp = (s[0] & 0x0f) << 12 | (s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	else
		cp = (uint32_t)(s[0] & 0x07) << 18 | (s[1] & 0x3f) << 12 |
		    (s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	snprintf(buf, size, "U+%04X", (unsigned)cp);
}

/* Skips white space, line terminators, commas, BOMs and comments. */
static size_t
lex_skip(struct gql_lexer *lx, size_t p)
{
	const unsigned char	*s = lx->src;

	while (p < lx->len) {
		if (s[p] == ' ' || s[p] == '\t' || s[p] == ',' ||
		    s[p] == '\n' || s[p] == '\r')
			p++;
		else if (s[p] == 0xef && p + 2 < lx->len && s[p + 1] == 0xbb &&
		    s[p + 2] == 0xbf)
			p += 3;
		else if (s[p] == '#') {
			while (p < lx->len && s[p] != '\n' && s[p] != '\r' &&
			    (s[p] >= 0x20 || s[p] == '\t'))
				p++;
		} else
			break;
	}
	return (p);
}

static int
lex_name_start(int c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_');
}

static int
lex_digit(int c)
{
	return (c >= '0' && c <= '9');
}

int
gql_lex_next(struct gql_lexer *lx)
{
	static const char	 punct[] = "!$&()...:=@[]{|}";
	const unsigned char	*s = lx->src;
	struct gql_token	*t = &lx->tok;
	const char		*q;
	char			 cp[16];
	size_t			 p;

	p = lex_skip(lx, lx->pos);
	memset(t, 0, sizeof(*t));
	t->start = p;
	lex_locate(lx, p, &t->loc);
	if (p >= lx->len) {
		t->kind = GQL_T_EOF;
		lx->pos = p;
		return (0);
	}
	if (lx->max_tokens > 0 && ++lx->ntokens > lx->max_tokens)
		return (gql_lex_error(lx, p, "Syntax Error: Document contains "
		    "more than %zu tokens. Parsing aborted.", lx->max_tokens));
	if (s[p] == '.') {
		if (p + 2 < lx->len && s[p + 1] == '.' && s[p + 2] == '.') {
			t->kind = GQL_T_SPREAD;
			lx->pos = p + 3;
			return (0);
		}
	} else if (s[p] != 0 && (q = strchr(punct, s[p])) != NULL) {
		/* the table has "..." so that the indexes match enum gql_tok */
		t->kind = (enum gql_tok)(q - punct - (q > punct + 5 ? 2 : 0)) +
		    GQL_T_BANG;
		lx->pos = p + 1;
		return (0);
	} else if (lex_name_start(s[p])) {
		t->kind = GQL_T_NAME;
		t->val = (const char *)s + p;
		while (p < lx->len && (lex_name_start(s[p]) || lex_digit(s[p])))
			p++;
		t->len = p - t->start;
		lx->pos = p;
		return (0);
	} else if (lex_digit(s[p]) || s[p] == '-')
		return (lex_number(lx, p));
	else if (s[p] == '"') {
		if (p + 2 < lx->len && s[p + 1] == '"' && s[p + 2] == '"')
			return (lex_block(lx, p));
		return (lex_string(lx, p));
	}
	if (s[p] == '\'')
		return (gql_lex_error(lx, p, "Syntax Error: Unexpected single "
		    "quote character ('), did you mean to use a double quote "
		    "(\")?"));
	lex_print_cp(lx, p, cp, sizeof(cp));
	return (gql_lex_error(lx, p, "Syntax Error: Unexpected character: "
	    "%s.", cp));
}

/* Reads [0-9]+ at *p. */
static int
lex_digits(struct gql_lexer *lx, size_t *p)
{
	char	 cp[16];

	if (*p >= lx->len || !lex_digit(lx->src[*p])) {
		lex_print_cp(lx, *p, cp, sizeof(cp));
		return (gql_lex_error(lx, *p, "Syntax Error: Invalid number, "
		    "expected digit but got: %s.", cp));
	}
	while (*p < lx->len && lex_digit(lx->src[*p]))
		(*p)++;
	return (0);
}

/* IntValue and FloatValue; neither may be followed by '.' or a name. */
static int
lex_number(struct gql_lexer *lx, size_t p)
{
	const unsigned char	*s = lx->src;
	struct gql_token	*t = &lx->tok;
	char			 cp[16];
	int			 c;

	t->kind = GQL_T_INT;
	if (s[p] == '-')
		p++;
	if (p < lx->len && s[p] == '0') {
		p++;
		if (p < lx->len && lex_digit(s[p])) {
			lex_print_cp(lx, p, cp, sizeof(cp));
			return (gql_lex_error(lx, p, "Syntax Error: Invalid "
			    "number, unexpected digit after 0: %s.", cp));
		}
	} else if (lex_digits(lx, &p) == -1)
		return (-1);
	if (p < lx->len && s[p] == '.') {
		t->kind = GQL_T_FLOAT;
		p++;
		if (lex_digits(lx, &p) == -1)
			return (-1);
	}
	if (p < lx->len && (s[p] == 'e' || s[p] == 'E')) {
		t->kind = GQL_T_FLOAT;
		p++;
		if (p < lx->len && (s[p] == '+' || s[p] == '-'))
			p++;
		if (lex_digits(lx, &p) == -1)
			return (-1);
	}
	c = p < lx->len ? s[p] : -1;
	if (c == '.' || lex_name_start(c)) {
		lex_print_cp(lx, p, cp, sizeof(cp));
		return (gql_lex_error(lx, p, "Syntax Error: Invalid number, "
		    "expected digit but got: %s.", cp));
	}
	t->val = (const char *)s + t->start;
	t->len = p - t->start;
	lx->pos = p;
	return (0);
}


/* Four hex digits at p, or -1. */
static long
lex_hex4(struct gql_lexer *lx, size_t p)
{
	long	 v = 0;
	int	 i, h;

	for (i = 0; i < 4; i++) {
		if (p + i >= lx->len || (h = sy_hexval(lx->src[p + i])) < 0)
			return (-1);
		v = v << 4 | h;
	}
	return (v);
}

static size_t
lex_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return (1);
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return (2);
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return (3);
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return (4);
}

static int
lex_scalar(long cp)
{
	return ((cp >= 0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0x10ffff));
}

/* The escape's source text in a message: n code points from p. */
static int
lex_bad_escape(struct gql_lexer *lx, size_t p, size_t n, const char *what)
{
	size_t	 e = p;

	while (n > 0 && e < lx->len) {
		e++;
		while (e < lx->len && (lx->src[e] & 0xc0) == 0x80)
			e++;
		n--;
	}
	return (gql_lex_error(lx, p, "Syntax Error: Invalid %s escape "
	    "sequence: \"%.*s\".", what, (int)(e - p), lx->src + p));
}

/*
 * The escape at p (a backslash): *cp is the code point and *size its
 * source length.  Surrogate pairs as graphql-js 16 reads them.
 */
static int
lex_escape(struct gql_lexer *lx, size_t p, uint32_t *cp, size_t *size)
{
	static const char	 from[] = "\"\\/bfnrt";
	static const char	 to[] = "\"\\/\b\f\n\r\t";
	const unsigned char	*s = lx->src;
	const char		*q;
	long			 hi, lo;

	if (p + 1 < lx->len && s[p + 1] != 'u' && s[p + 1] != 0 &&
	    (q = strchr(from, s[p + 1])) != NULL) {
		*cp = (unsigned char)to[q - from];
		*size = 2;
		return (0);
	}
	if (p + 1 >= lx->len || s[p + 1] != 'u')
		return (lex_bad_escape(lx, p, 2, "character"));
	hi = lex_hex4(lx, p + 2);
	if (lex_scalar(hi)) {
		*cp = (uint32_t)hi;
		*size = 6;
		return (0);
	}
	if (hi >= 0xd800 && hi <= 0xdbff && p + 7 < lx->len &&
	    s[p + 6] == '\\' && s[p + 7] == 'u') {
		lo = lex_hex4(lx, p + 8);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			*cp = 0x10000 + ((uint32_t)(hi - 0xd800) << 10) +
			    (uint32_t)(lo - 0xdc00);
			*size = 12;
			return (0);
		}
	}
	return (lex_bad_escape(lx, p, 6, "Unicode"));
}

static int
lex_bad_char(struct gql_lexer *lx, size_t p)
{
	return (gql_lex_error(lx, p, "Syntax Error: Invalid character within "
	    "String: U+%04X.", lx->src[p]));
}

/* "...": pass 1 finds the end and the errors, pass 2 decodes. */
static int
lex_string(struct gql_lexer *lx, size_t start)
{
	const unsigned char	*s = lx->src;
	struct gql_token	*t = &lx->tok;
	char			*out = NULL;
	size_t			 p, n = 0, size = 0;
	uint32_t		 cp = 0;
	int			 pass;

	for (pass = 0; pass < 2; pass++) {
		for (p = start + 1; p < lx->len && s[p] != '"';) {
			if (s[p] == '\n' || s[p] == '\r')
				break;
			if (s[p] < 0x20 && s[p] != '\t')
				return (lex_bad_char(lx, p));
			if (s[p] != '\\') {
				if (out != NULL)
					out[n++] = (char)s[p];
				p++;
				continue;
			}
			if (lex_escape(lx, p, &cp, &size) == -1)
				return (-1);
			if (out != NULL)
				n += lex_put(out + n, cp);
			p += size;
		}
		if (p >= lx->len || s[p] != '"')
			return (gql_lex_error(lx, p,
			    "Syntax Error: Unterminated string."));
		if (pass == 0 && (out = gql_arena_alloc(lx->arena,
		    p - start)) == NULL)
			return (gql_lex_error(lx, start, "Out of memory."));
	}
	t->kind = GQL_T_STRING;
	t->val = out;
	t->len = n;
	out[n] = '\0';
	lx->pos = p + 1;
	return (0);
}

/* """...""": the raw value (\""" read as """), then BlockStringValue(). */
static int
lex_block(struct gql_lexer *lx, size_t start)
{
	const unsigned char	*s = lx->src;
	struct gql_token	*t = &lx->tok;
	char			*raw, *out;
	size_t			 p, n = 0;

	for (p = start + 3; p < lx->len; p++) {
		if (s[p] == '"' && p + 2 < lx->len && s[p + 1] == '"' &&
		    s[p + 2] == '"')
			break;
		if (s[p] == '\\' && p + 3 < lx->len && s[p + 1] == '"' &&
		    s[p + 2] == '"' && s[p + 3] == '"')
			p += 3;
		else if (s[p] < 0x20 && s[p] != '\t' && s[p] != '\n' &&
		    s[p] != '\r')
			return (lex_bad_char(lx, p));
	}
	if (p >= lx->len)
		return (gql_lex_error(lx, p, "Syntax Error: Unterminated "
		    "string."));
	if ((raw = gql_arena_alloc(lx->arena, p - start)) == NULL ||
	    (out = gql_arena_alloc(lx->arena, p - start)) == NULL)
		return (gql_lex_error(lx, start, "Out of memory."));
	lx->pos = p + 3;
	for (p = start + 3; p < lx->pos - 3; p++) {
		if (s[p] == '\\' && s[p + 1] == '"' && s[p + 2] == '"' &&
		    s[p + 3] == '"')
			continue;
		raw[n++] = (char)s[p];
	}
	t->kind = GQL_T_BLOCK_STRING;
	t->len = lex_dedent(raw, n, out);
	t->val = out;
	out[t->len] = '\0';
	return (0);
}

/* Length of the line at raw + i, and the offset of the next one. */
static size_t
lex_line(const char *raw, size_t len, size_t i, size_t *next, size_t *indent)
{
	size_t	 e = i;

	while (e < len && raw[e] != '\n' && raw[e] != '\r')
		e++;
	*next = e < len && raw[e] == '\r' && e + 1 < len &&
	    raw[e + 1] == '\n' ? e + 2 : e + 1;
	for (*indent = 0; i + *indent < e && (raw[i + *indent] == ' ' ||
	    raw[i + *indent] == '\t'); (*indent)++)
		;
	return (e - i);
}

/* The spec's BlockStringValue(): common indent, blank first/last lines. */
static size_t
lex_dedent(const char *raw, size_t len, char *out)
{
	size_t	 i, next, n, indent, line, common = SIZE_MAX;
	size_t	 first = SIZE_MAX, last = 0, o = 0, cut;

	for (i = 0, line = 0; i <= len; i = next, line++) {
		n = lex_line(raw, len, i, &next, &indent);
		if (indent == n)
			continue;
		if (first == SIZE_MAX)
			first = line;
		last = line;
		if (line != 0 && indent < common)
			common = indent;
	}
	if (first == SIZE_MAX)
		return (0);
	for (i = 0, line = 0; i <= len && line <= last; i = next, line++) {
		n = lex_line(raw, len, i, &next, &indent);
		if (line < first)
			continue;
		cut = line == 0 ? 0 : (common < n ? common : n);
		if (line > first)
			out[o++] = '\n';
		memcpy(out + o, raw + i + cut, n - cut);
		o += n - cut;
	}
	return (o);
}
