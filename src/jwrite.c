/*
 * jwrite.c: the one JSON writer (see jwrite.h): string escaping and
 * json-c values written into a sybuf, byte for byte as json-c writes
 * them with JWRITE_FLAGS, without building json-c's own string copy.
 * Endpoint records are written with it, so a record can be compared
 * with json-c's output of the same object.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "jwrite.h"
#include "util.h"

#define JW_LIT(b, s)	sybuf_add((b), (s), sizeof(s) - 1)

/* The escape for byte c, or NULL when c stands as it is. */
static const char *
jw_escape(unsigned char c, char u[7])
{
	switch (c) {
	case '"':
		return ("\\\"");
	case '\\':
		return ("\\\\");
	case '\b':
		return ("\\b");
	case '\f':
		return ("\\f");
	case '\n':
		return ("\\n");
	case '\r':
		return ("\\r");
	case '\t':
		return ("\\t");
	}
	if (c >= 0x20)
		return (NULL);
	memcpy(u, "\\u00", 4);
	sy_hex(u + 4, &c, 1);
	return (u);
}

int
jwrite_esc(struct sybuf *b, const char *s, size_t len)
{
	char		 u[7];
	const char	*e;
	size_t		 i, start = 0;

	for (i = 0; i < len; i++) {
		if ((e = jw_escape((unsigned char)s[i], u)) == NULL)
			continue;
		if (sybuf_add(b, s + start, i - start) == -1 ||
		    sybuf_addstr(b, e) == -1)
			return (-1);
		start = i + 1;
	}
	return (sybuf_add(b, s + start, len - start));
}

int
jwrite_str(struct sybuf *b, const char *s, size_t len)
{
	if (JW_LIT(b, "\"") == -1 || jwrite_esc(b, s, len) == -1)
		return (-1);
	return (JW_LIT(b, "\""));
}

static int
jw_int(struct sybuf *b, struct json_object *v)
{
	int64_t	i = json_object_get_int64(v);

	/* json-c holds integers above INT64_MAX as uint64_t */
	if (i == INT64_MAX)
		return (sybuf_printf(b, "%" PRIu64,
		    json_object_get_uint64(v)));
	return (sybuf_printf(b, "%" PRId64, i));
}

static int
jw_array(struct sybuf *b, struct json_object *v)
{
	size_t	i, n;

	if (JW_LIT(b, "[") == -1)
		return (-1);
	n = json_object_array_length(v);
	for (i = 0; i < n; i++)
		if ((i > 0 && JW_LIT(b, ",") == -1) ||
		    jwrite_value(b, json_object_array_get_idx(v, i)) == -1)
			return (-1);
	return (JW_LIT(b, "]"));
}

static int
jw_object(struct sybuf *b, struct json_object *v)
{
	struct json_object_iterator	 it, end;
	const char			*s;
	size_t				 i;

	if (JW_LIT(b, "{") == -1)
		return (-1);
	it = json_object_iter_begin(v);
	end = json_object_iter_end(v);
	for (i = 0; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it), i++) {
		s = json_object_iter_peek_name(&it);
		if ((i > 0 && JW_LIT(b, ",") == -1) ||
		    jwrite_str(b, s, strlen(s)) == -1 || JW_LIT(b, ":") == -1 ||
		    jwrite_value(b, json_object_iter_peek_value(&it)) == -1)
			return (-1);
	}
	return (JW_LIT(b, "}"));
}

int
jwrite_value(struct sybuf *b, struct json_object *v)
{
	const char	*s;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return (JW_LIT(b, "null"));
	case json_type_boolean:
		if (json_object_get_boolean(v))
			return (JW_LIT(b, "true"));
		return (JW_LIT(b, "false"));
	case json_type_int:
		return (jw_int(b, v));
	case json_type_double:
		/* a parsed number keeps its text: 2.5 stays 2.5 */
		if ((s = json_object_to_json_string_ext(v, JWRITE_FLAGS)) ==
		    NULL)
			return (-1);
		return (sybuf_addstr(b, s));
	case json_type_string:
		return (jwrite_str(b, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)));
	case json_type_array:
		return (jw_array(b, v));
	case json_type_object:
		return (jw_object(b, v));
	}
	return (-1);
}
