/*
 * cfsplit.c: the split parse of the config file.  A json-c tree takes
 * about 2 kB per endpoint, and building one for 100,000 endpoints,
 * walking it and freeing it costs more in page faults and cache misses
 * than the parsing itself.  So
 * cf_split cuts the value of each service's "endpoints" (projects.P.
 * remoteServices.S.endpoints) out of the text and leaves its number in
 * its place; json-c parses that skeleton, and each service's endpoints
 * are parsed when cf_service reaches them and freed once their records
 * are written.
 *
 * Every byte still goes through json-c, each piece with the nesting
 * depth it has in the file, and replacing a value with a number changes
 * nothing else, so the config is the one the plain parse would give.
 * When the text is not as the splitter expects (a member name with
 * escapes, a syntax error) or a piece does not parse, the whole file
 * takes the plain parse, which also gives a syntax error its place.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cfsplit.h"
#include "util.h"

/* The members down to the value cut out; NULL: every member. */
static const char *const cf_sp_path[] = {
	"projects", NULL, "remoteServices", NULL, "endpoints"
};

/* each step is a member of an object around the value cut out */
#define CF_SP_LEVELS	(sizeof(cf_sp_path) / sizeof(cf_sp_path[0]))

static int
cf_is_ws(char c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

static void
cf_sp_ws(struct cf_split *sp)
{
	while (sp->pos < sp->len && cf_is_ws(sp->text[sp->pos]))
		sp->pos++;
}

/* The byte at pos, or NUL at the end. */
static char
cf_sp_peek(const struct cf_split *sp)
{
	return (sp->pos < sp->len ? sp->text[sp->pos] : '\0');
}

/* Skip the string at pos. */
static int
cf_sp_string(struct cf_split *sp)
{
	char	c;

	sp->pos++;
	while (sp->pos < sp->len) {
		c = sp->text[sp->pos++];
		if (c == '\\')
			sp->pos++;
		else if (c == '"')
			return (0);
	}
	return (-1);
}

/* Skip the value at pos without checking it: json-c does that. */
static int
cf_sp_skip(struct cf_split *sp)
{
	size_t	depth = 0;
	char	c;

	while (sp->pos < sp->len) {
		c = sp->text[sp->pos];
		if (c == '"') {
			if (cf_sp_string(sp) == -1)
				return (-1);
		} else if (c == '{' || c == '[') {
			depth++;
			sp->pos++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return (0);	/* a number or literal ends */
			depth--;
			sp->pos++;
		} else if (depth == 0 && (c == ',' || cf_is_ws(c)))
			return (0);
		else
			sp->pos++;
		if (depth == 0 && (c == '"' || c == '}' || c == ']'))
			return (0);
	}
	return (-1);
}

/* A member name without escapes and its ':'. */
static int
cf_sp_name(struct cf_split *sp, const char **name, size_t *len)
{
	size_t	start = sp->pos + 1;

	if (cf_sp_peek(sp) != '"' || cf_sp_string(sp) == -1)
		return (-1);
	*name = sp->text + start;
	*len = sp->pos - 1 - start;
	if (memchr(*name, '\\', *len) != NULL)
		return (-1);
	cf_sp_ws(sp);
	if (cf_sp_peek(sp) != ':')
		return (-1);
	sp->pos++;
	cf_sp_ws(sp);
	return (0);
}

/* Cut the value at pos out of the skeleton, leaving its number. */
static int
cf_sp_cut(struct cf_split *sp)
{
	struct cf_piece	*p;
	char		 num[24];
	size_t		 start = sp->pos, ncap;
	int		 n;

	if (cf_sp_skip(sp) == -1)
		return (-1);
	if (sp->npieces == sp->cap) {
		ncap = sp->cap ? sp->cap * 2 : 64;
		if ((p = realloc(sp->pieces, ncap * sizeof(*p))) == NULL)
			return (-1);
		sp->pieces = p;
		sp->cap = ncap;
	}
	p = &sp->pieces[sp->npieces];
	p->off = start;
	p->len = sp->pos - start;
	p->used = 0;
	n = snprintf(num, sizeof(num), "%zu", sp->npieces++);
	if (sybuf_add(&sp->skel, sp->text + sp->copied,
	    start - sp->copied) == -1 ||
	    sybuf_add(&sp->skel, num, (size_t)n) == -1)
		return (-1);
	sp->copied = sp->pos;
	return (0);
}

/*
 * The object at pos, level steps down cf_sp_path: follow the members
 * the path names into objects, and cut out the value at its end.
 */
static int
cf_sp_object(struct cf_split *sp, size_t level)
{
	const char	*name, *want = cf_sp_path[level];
	size_t		 len;
	int		 rc, match;
	char		 c;

	sp->pos++;
	cf_sp_ws(sp);
	if (cf_sp_peek(sp) == '}') {
		sp->pos++;
		return (0);
	}
	for (;;) {
		if (cf_sp_name(sp, &name, &len) == -1)
			return (-1);
		match = want == NULL ||
		    (len == strlen(want) && memcmp(name, want, len) == 0);
		if (match && level + 1 == CF_SP_LEVELS)
			rc = cf_sp_cut(sp);
		else if (match && cf_sp_peek(sp) == '{')
			rc = cf_sp_object(sp, level + 1);
		else
			rc = cf_sp_skip(sp);
		if (rc == -1)
			return (-1);
		cf_sp_ws(sp);
		c = cf_sp_peek(sp);
		sp->pos++;
		if (c == '}')
			return (0);
		if (c != ',')
			return (-1);
		cf_sp_ws(sp);
	}
}

struct json_object *
cf_split(struct cf_split *sp, const char *text, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*root;

	memset(sp, 0, sizeof(*sp));
	sp->text = text;
	sp->len = len;
	sybuf_init(&sp->skel);
	cf_sp_ws(sp);
	if (len > INT_MAX || cf_sp_peek(sp) != '{' ||
	    cf_sp_object(sp, 0) == -1 ||
	    sybuf_add(&sp->skel, text + sp->copied, len - sp->copied) == -1)
		return (NULL);
	sp->tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH -
	    (int)CF_SP_LEVELS);
	if (sp->tok == NULL || (tok = json_tokener_new()) == NULL)
		return (NULL);
	json_tokener_set_flags(sp->tok, CF_TOKENER_FLAGS);
	json_tokener_set_flags(tok, CF_TOKENER_FLAGS);
	root = json_tokener_parse_ex(tok, sp->skel.data, (int)sp->skel.len);
	if (root != NULL && json_tokener_get_parse_end(tok) != sp->skel.len) {
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tok);
	sybuf_free(&sp->skel);
	return (root);
}

void
cf_split_free(struct cf_split *sp)
{
	sybuf_free(&sp->skel);
	free(sp->pieces);
	if (sp->tok != NULL)
		json_tokener_free(sp->tok);
}

int
cf_split_piece(struct cf_split *sp, size_t i, struct json_object **out)
{
	struct cf_piece	*p = &sp->pieces[i];

	p->used = 1;
	json_tokener_reset(sp->tok);
	*out = json_tokener_parse_ex(sp->tok, sp->text + p->off, (int)p->len);
	if (json_tokener_get_error(sp->tok) == json_tokener_success &&
	    json_tokener_get_parse_end(sp->tok) == p->len)
		return (0);
	json_object_put(*out);
	*out = NULL;
	sp->failed = 1;
	return (-1);
}

void
cf_split_check_unused(struct cf_split *sp)
{
	struct json_object	*v;
	size_t			 i;

	for (i = 0; i < sp->npieces && !sp->failed; i++) {
		if (sp->pieces[i].used)
			continue;
		if (cf_split_piece(sp, i, &v) == 0)
			json_object_put(v);
	}
}
