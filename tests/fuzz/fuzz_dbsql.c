/*
 * fuzz_dbsql.c: the where/sort compiler (dbsql.h).  Input: JSON, one
 * argument set {"where","sort","limit","skip","op"} or an array of them.
 * Each input is compiled for both dialects with a small batch size, and
 * every statement is checked: outside double-quoted identifiers the SQL
 * holds only the compiler's own characters (so no caller text escaped
 * its quotes), quotes balance, and the placeholders match the bound
 * parameters one to one.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "dbsql.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_MAXSETS	64

static struct dbsql_col cols[] = {
	{ "id", "integer", 0 },
	{ "name", "text", 1 },
	{ "a\"; DROP TABLE x; --", "text", 1 },
	{ "$1?", "text", 1 },
};

/* Outside "..." only these; placeholders counted. */
static void
check_sql(const struct dbsql_stmt *st, enum dbsql_dialect d)
{
	static const char	 ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_ ,().=<>*";
	const char		*s = st->sql;
	size_t			 nph = 0, max = 0, n;

	while (*s != '\0') {
		if (*s == '"') {
			for (s++; *s != '\0'; s++)
				if (*s == '"' && *++s != '"')
					break;
			if (s[-1] != '"')
				abort();	/* unterminated */
			continue;
		}
		if (*s == '?' && d == DBSQL_SQLITE) {
			nph++;
			s++;
			continue;
		}
		if (*s == '$' && d == DBSQL_POSTGRES) {
			n = strtoul(s + 1, (char **)&s, 10);
			if (n == 0 || n > st->nparams)
				abort();
			max = n > max ? n : max;
			nph++;
			continue;
		}
		if (strchr(ok, *s) == NULL)
			abort();	/* caller text outside quotes */
		s++;
	}
	if (nph != st->nparams || (d == DBSQL_POSTGRES && max != nph))
		abort();
}

static void
run(enum dbsql_dialect d, struct dbsql_args *a, size_t n)
{
	struct dbsql_table	 t = { d == DBSQL_POSTGRES ? "s\"x" : NULL,
	    "t\"; --", cols, 4 };
	struct dbsql_plan	 p;
	struct db_error		 err;
	size_t			 i, covered = 0;

	if (dbsql_plan(&p, d, &t, NULL, 0, a, n, 100, 3, &err) == 0) {
		for (i = 0; i < p.nstmts; i++) {
			check_sql(&p.stmts[i], d);
			covered += p.stmts[i].nsets;
			if (p.stmts[i].nsets > 3)
				abort();
		}
		for (i = 0; i < p.ndistinct; i++)
			covered += p.errs[i].code != DB_OK;
		for (i = 0; i < n; i++)
			if (p.map[i] >= p.ndistinct)
				abort();
		if (covered != p.ndistinct)
			abort();
	}
	dbsql_plan_free(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener	*tok;
	struct json_object	*v, *e;
	struct dbsql_args	 a[FUZZ_MAXSETS];
	size_t			 i, n;

	if (size > 65536 || (tok = json_tokener_new()) == NULL)
		return (0);
	v = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	if (v == NULL)
		return (0);
	n = json_object_is_type(v, json_type_array) ?
	    json_object_array_length(v) : 1;
	if (n > FUZZ_MAXSETS)
		n = FUZZ_MAXSETS;
	for (i = 0; i < n; i++) {
		e = json_object_is_type(v, json_type_array) ?
		    json_object_array_get_idx(v, i) : v;
		a[i].where = json_object_object_get(e, "where");
		a[i].sort = json_object_object_get(e, "sort");
		a[i].limit = json_object_object_get(e, "limit");
		a[i].skip = json_object_object_get(e, "skip");
		a[i].op = json_object_object_get(e, "op");
	}
	run(DBSQL_SQLITE, a, n);
	run(DBSQL_POSTGRES, a, n);
	json_object_put(v);
	return (0);
}
