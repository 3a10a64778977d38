/*
 * dbval.c: PostgreSQL's text output of a column value, converted to its
 * JSON value by the column's type OID (SPEC 8.10's typing table).  Pure:
 * the OIDs are PostgreSQL's fixed built-in ones (pg_type.dat), so no
 * libpq header is needed.  The session runs with TimeZone UTC and
 * DateStyle ISO (db.c sets both), which the date and time rules rely on.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "dbsql.h"
#include "dbval.h"
#include "util.h"

#define OID_BOOL	16
#define OID_BYTEA	17
#define OID_INT8	20
#define OID_INT2	21
#define OID_INT4	23
#define OID_JSON	114
#define OID_FLOAT4	700
#define OID_FLOAT8	701
#define OID_DATE	1082
#define OID_TIME	1083
#define OID_TIMESTAMP	1114
#define OID_TIMESTAMPTZ	1184
#define OID_NUMERIC	1700
#define OID_JSONB	3802

/* Array type OID -> element type OID, for the element types above. */
static const unsigned arrays[][2] = {
	{ 1000, OID_BOOL }, { 1001, OID_BYTEA }, { 1016, OID_INT8 },
	{ 1005, OID_INT2 }, { 1007, OID_INT4 }, { 199, OID_JSON },
	{ 1021, OID_FLOAT4 }, { 1022, OID_FLOAT8 }, { 1182, OID_DATE },
	{ 1183, OID_TIME }, { 1115, OID_TIMESTAMP }, { 1185, OID_TIMESTAMPTZ },
	{ 1231, OID_NUMERIC }, { 3807, OID_JSONB },
	{ 1009, 25 }, { 1015, 1043 }, { 1014, 1042 }, { 2951, 2950 },
	{ 1028, 26 }, { 1041, 869 }, { 1002, 18 }, { 1003, 19 },
};

static unsigned
elem_of(unsigned oid)
{
	size_t	 i;

	for (i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
		if (arrays[i][0] == oid)
			return (arrays[i][1]);
	return (0);
}

static struct json_object *
number(const char *s)
{
	char	*end;
	double	 d;

	if (strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 ||
	    strcmp(s, "-Infinity") == 0)
		return (json_object_new_string(s));
	d = strtod(s, &end);
	if (*end != '\0')
		return (json_object_new_string(s));
	/* keep PostgreSQL's digits: numeric may hold more than a double */
	return (json_object_new_double_s(d, s));
}

/* "\x0aff..." (bytea_output hex) as padded base64. */
static struct json_object *
bytea(const char *s, size_t len)
{
	struct json_object	*o;
	unsigned char		*b;
	char			*b64, hex[3] = { 0 };
	size_t			 i, n;

	if (len < 2 || s[0] != '\\' || s[1] != 'x' || len % 2 != 0)
		return (json_object_new_string_len(s, (int)len));
	n = (len - 2) / 2;
	if ((b = malloc(n ? n : 1)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		hex[0] = s[2 + 2 * i];
		hex[1] = s[3 + 2 * i];
		b[i] = (unsigned char)strtoul(hex, NULL, 16);
	}
	b64 = dbsql_base64(b, n);
	free(b);
	if (b64 == NULL)
		return (NULL);
	o = json_object_new_string(b64);
	free(b64);
	return (o);
}

/* "2024-01-02 03:04:05.5[+00]" -> "2024-01-02T03:04:05.5[Z]". */
static struct json_object *
timestamp(const char *s, size_t len, int tz)
{
	struct json_object	*o;
	char			*t;

	if ((t = malloc(len + 2)) == NULL)
		return (NULL);
	memcpy(t, s, len + 1);
	if (len > 10 && t[10] == ' ')
		t[10] = 'T';
	if (tz && len > 3 && strcmp(t + len - 3, "+00") == 0)
		strcpy(t + len - 3, "Z");
	o = json_object_new_string(t);
	free(t);
	return (o);
}

struct json_object *
dbval_pg(unsigned oid, const char *s, size_t len)
{
	unsigned	 elem;

	switch (oid) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		return (json_object_new_int64(strtoll(s, NULL, 10)));
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC:
		return (number(s));
	case OID_BOOL:
		return (json_object_new_boolean(s[0] == 't'));
	case OID_JSON:
	case OID_JSONB:
		return (json_tokener_parse(s));
	case OID_BYTEA:
		return (bytea(s, len));
	case OID_TIMESTAMP:
	case OID_TIMESTAMPTZ:
		return (timestamp(s, len, oid == OID_TIMESTAMPTZ));
	default:
		break;
	}
	if ((elem = elem_of(oid)) != 0)
		return (dbval_pgarray(elem, s));
	return (json_object_new_string_len(s, (int)len));
}

/* One element (quoted or not) of an array literal; *sp moves past it. */
static struct json_object *
array_elem(unsigned elem, const char **sp, int *err)
{
	struct json_object	*o;
	struct sybuf		 b;
	const char		*s = *sp;
	int			 quoted = *s == '"';

	sybuf_init(&b);
	if (quoted)
		s++;
	for (; *s != '\0'; s++) {
		if (quoted && *s == '"')
			break;
		if (!quoted && (*s == ',' || *s == '}'))
			break;
		if (quoted && *s == '\\' && s[1] != '\0')
			s++;
		if (sybuf_addc(&b, *s) == -1)
			*err = 1;
	}
	if (quoted && *s == '"')
		s++;
	*sp = s;
	if (!quoted && b.len == 4 && strcasecmp(b.data, "NULL") == 0) {
		sybuf_free(&b);
		return (NULL);
	}
	o = dbval_pg(elem, b.data ? b.data : "", b.len);
	sybuf_free(&b);
	return (o);
}

static struct json_object *
array_parse(unsigned elem, const char **sp, int depth, int *err)
{
	struct json_object	*a;
	const char		*s = *sp;

	if (*s != '{' || depth > 8) {
		*err = 1;
		return (NULL);
	}
	a = json_object_new_array();
	s++;
	while (*s != '\0' && *s != '}' && !*err) {
		if (*s == '{')
			json_object_array_add(a, array_parse(elem, &s,
			    depth + 1, err));
		else
			json_object_array_add(a, array_elem(elem, &s, err));
		if (*s == ',')
			s++;
	}
	if (*s != '}')
		*err = 1;
	else
		s++;
	*sp = s;
	return (a);
}

struct json_object *
dbval_pgarray(unsigned elem, const char *s)
{
	struct json_object	*a;
	const char		*p = s;
	int			 err = 0;

	if (*p == '[' && (p = strchr(p, '=')) != NULL)	/* [0:1]={...} */
		p++;
	if (p == NULL)
		return (json_object_new_string(s));
	a = array_parse(elem, &p, 0, &err);
	if (err) {
		json_object_put(a);
		return (json_object_new_string(s));
	}
	return (a);
}
