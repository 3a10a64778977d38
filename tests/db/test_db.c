/*
 * test_db.c: the database layer (db.h) against a real SQLite file and a
 * real PostgreSQL server, both prepared by tests/db/db.t, which passes
 * them in the environment:
 *   SY_DB_SQLITE  the SQLite file (tests/db/schema.sql, schema_lite.sql)
 *   SY_PG_DIR, SY_PG_PORT, SY_PG_PASSWORD, SY_PG_LOG, SY_PGSERVER
 *                 the server made by tests/lib/pgserver; its role "app"
 *                 has the password, and the log has every statement
 * The same cases run against both databases; PostgreSQL adds the typing
 * table, cancellation, and a server stopped and restarted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "db.h"
#include "dbconf.h"
#include "util.h"

#define MAXSETS		128
#define HOSTILE_JSON	"a\\\"; DROP TABLE x; --"

/* What one read answered, per argument set. */
struct out {
	struct event_base *base;		/* broken out of when done */
	int		 done;
	int		 ncb;
	int		 seen[MAXSETS];
	char		*json[MAXSETS];		/* rows, or NULL */
	enum db_code	 code[MAXSETS];
	char		 msg[MAXSETS][256];
};

struct fx {
	struct event_base	*base;
	struct dbconf		 conf;
	struct db		*db;
	int			 pg;
};

static char *
env(const char *name)
{
	char	*v = getenv(name);

	if (v == NULL || *v == '\0')
		fail_msg("%s is not set (run tests/db/db.t)", name);
	return (v);
}

/* A db from a config entry; %s in tables_json is the table list. */
static void
fx_open(struct fx *f, int pg, const char *extra)
{
	struct json_object	*o;
	struct syerrs		 errs;
	char			 buf[2048];

	memset(f, 0, sizeof(*f));
	f->pg = pg;
	f->base = event_base_new();
	if (pg)
		snprintf(buf, sizeof(buf), "{\"type\":\"postgres\",\"conn\":"
		    "\"postgresql://app:%s@127.0.0.1:%s/postgres\"%s,",
		    env("SY_PG_PASSWORD"), env("SY_PG_PORT"), extra);
	else
		snprintf(buf, sizeof(buf), "{\"conn\":\"%s\"%s,",
		    env("SY_DB_SQLITE"), extra);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
	    "\"tables\":{\"trainer\":{},\"pokemon\":{\"columns\":"
	    "[\"trainer_id\",\"id\",\"name\",\"power\",\"" HOSTILE_JSON "\"]},"
	    "\"pokeview\":{},\"ghost\":{},\"types\":{},\"slow\":{},"
	    "\"nap\":{},\"session\":{},"
	    "\"big\":{}}}");
	o = json_tokener_parse(buf);
	assert_non_null(o);
	syerrs_init(&errs);
	if (dbconf_parse(&f->conf, "db", o, "db", &errs) != 0)
		fail_msg("config: %s", errs.msg[0]);
	json_object_put(o);
	f->db = db_new(f->base, &f->conf, "/nonexistent");
	assert_non_null(f->db);
}

static void
fx_close(struct fx *f)
{
	db_free(f->db);
	dbconf_free(&f->conf);
	event_base_free(f->base);
}

static void
out_free(struct out *o)
{
	int	 i;

	for (i = 0; i < MAXSETS; i++)
		free(o->json[i]);
	memset(o, 0, sizeof(*o));
}

static void
collect(const struct db_result *res, void *arg)
{
	struct out	*o = arg;
	size_t		 k, i;

	o->ncb++;
	for (k = 0; k < res->nsets; k++) {
		i = res->sets[k];
		assert_true(i < MAXSETS);
		assert_false(o->seen[i]);
		o->seen[i] = 1;
		o->code[i] = res->errs[k].code;
		snprintf(o->msg[i], sizeof(o->msg[i]), "%s", res->errs[k].msg);
		if (res->rows[k] != NULL)
			o->json[i] = strdup(json_object_to_json_string_ext(
			    res->rows[k], JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE));
		else
			assert_int_not_equal(o->code[i], DB_OK);
	}
	if (res->last) {
		o->done = 1;
		if (o->base != NULL)
			event_base_loopbreak(o->base);
	}
}

/* Run the loop until o is done, at most secs seconds. */
static void
wait_done(struct fx *f, struct out *o, double secs)
{
	struct timeval	 tick = { 0, 10000 };
	double		 end = sy_now() + secs;

	while (!o->done) {
		if (sy_now() > end)
			fail_msg("read not answered within %.0f s", secs);
		event_base_loopexit(f->base, &tick);
		event_base_dispatch(f->base);
	}
}

/* Run the loop for secs seconds (a loopexit left over may end a turn
   early, so turn until the time is up). */
static void
spin(struct fx *f, double secs)
{
	struct timeval	 tv;
	double		 end = sy_now() + secs, left;

	while ((left = end - sy_now()) > 0) {
		tv.tv_sec = (time_t)left;
		tv.tv_usec = (suseconds_t)((left - (time_t)left) * 1e6);
		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
}

/*
 * Read table with the argument sets given as JSON objects
 * {"where","sort","limit","skip","op"}; every set must be answered once.
 */
static void
read_sets(struct fx *f, const char *table, const char *const *sel,
    size_t nsel, const char *const *sets, size_t n, struct out *o)
{
	struct json_object	*js[MAXSETS];
	struct dbsql_args	 a[MAXSETS];
	struct db_read		 rd;
	size_t			 i;

	memset(o, 0, sizeof(*o));
	o->base = f->base;
	assert_true(n <= MAXSETS);
	for (i = 0; i < n; i++) {
		if ((js[i] = json_tokener_parse(sets[i])) == NULL)
			fail_msg("bad test JSON %s", sets[i]);
		a[i].where = json_object_object_get(js[i], "where");
		a[i].sort = json_object_object_get(js[i], "sort");
		a[i].limit = json_object_object_get(js[i], "limit");
		a[i].skip = json_object_object_get(js[i], "skip");
		a[i].op = json_object_object_get(js[i], "op");
	}
	memset(&rd, 0, sizeof(rd));
	rd.table = table;
	rd.select = sel;
	rd.nselect = nsel;
	rd.args = a;
	rd.nargs = n;
	assert_non_null(db_read(f->db, &rd, collect, o));
	for (i = 0; i < n; i++)
		json_object_put(js[i]);	/* the read holds its own refs */
	assert_int_equal(o->done, 0);	/* never answered inside db_read */
	wait_done(f, o, 20);
	for (i = 0; i < n; i++)
		if (!o->seen[i])
			fail_msg("set %zu not answered", i);
}

/* The "id" members of a rows array, as "1,2,3". */
static char *
ids(const char *json)
{
	struct json_object	*a = json_tokener_parse(json), *id;
	static char		 buf[512];
	size_t			 i;

	buf[0] = '\0';
	for (i = 0; a != NULL && i < json_object_array_length(a); i++) {
		id = json_object_object_get(json_object_array_get_idx(a, i),
		    "id");
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
		    i ? "," : "", json_object_to_json_string(id));
	}
	json_object_put(a);
	return (buf);
}

/* Statements the server logged for user app so far. */
static int
pg_logged(const char *needle)
{
	FILE	*fp;
	char	 line[8192];
	int	 n = 0;

	if ((fp = fopen(env("SY_PG_LOG"), "r")) == NULL)
		fail_msg("cannot open %s", env("SY_PG_LOG"));
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "app LOG:  execute", 17) == 0 &&
		    (needle == NULL || strstr(line, needle) != NULL))
			n++;
	fclose(fp);
	return (n);
}

/* Read "{}" from table of a database made from a config entry. */
static void
read_with(const char *entry, const char *basedir, const char *table,
    struct out *o)
{
	const char		*set = "{}";
	struct json_object	*c = json_tokener_parse(entry);
	struct syerrs		 errs;
	struct dbconf		 conf;
	struct fx		 f;

	assert_non_null(c);
	syerrs_init(&errs);
	assert_int_equal(dbconf_parse(&conf, "db", c, "db", &errs), 0);
	json_object_put(c);
	memset(&f, 0, sizeof(f));
	f.base = event_base_new();
	f.db = db_new(f.base, &conf, basedir);
	assert_non_null(f.db);
	read_sets(&f, table, NULL, 0, &set, 1, o);
	db_free(f.db);
	dbconf_free(&conf);
	event_base_free(f.base);
}

/*
 * Read the n sets (c[i][0], or sets[i] when given) in one batch: each
 * must give the ids c[i][1], all in exactly one statement.
 */
static void
expect_ids(struct fx *f, const char *const (*c)[2], const char **sets,
    size_t n, struct out *o)
{
	unsigned long	 before;
	size_t		 i;
	int		 logged = 0;

	read_sets(f, "pokemon", NULL, 0, sets, 1, o);	/* introspect */
	out_free(o);
	before = db_statements(f->db);
	if (f->pg)
		logged = pg_logged(NULL);
	read_sets(f, "pokemon", NULL, 0, sets, n, o);
	for (i = 0; i < n; i++) {
		if (o->code[i] != DB_OK)
			fail_msg("%s: %s", c[i][0], o->msg[i]);
		if (strcmp(ids(o->json[i]), c[i][1]) != 0)
			fail_msg("%s: got %s, want %s", c[i][0],
			    ids(o->json[i]), c[i][1]);
	}
	assert_int_equal(o->ncb, 1);
	assert_int_equal(db_statements(f->db) - before, 1);
	if (f->pg)
		assert_int_equal(pg_logged(NULL) - logged, 1);
}

/* Every where operator, all sets in one statement. */
static void
where_cases(int pg)
{
	static const char *const c[][2] = {
		{ "{}", "1,2,3,4,5,6,7,8,9,10" },
		{ "{\"trainer_id\":1}", "1,2,3,4" },
		{ "{\"trainer_id\":\"1\"}", "1,2,3,4" },
		{ "{\"trainer_id\":null}", "9" },
		{ "{\"power\":{\"_eq\":null}}", "5" },
		{ "{\"power\":{\"_eq\":49}}", "2" },
		{ "{\"power\":{\"_ne\":null}}", "1,2,3,4,6,7,8,9,10" },
		{ "{\"power\":{\"_ne\":55}}", "2,3,4,6,7,8,9,10" },
		{ "{\"power\":{\"_gt\":50}}", "1,3,6,9" },
		{ "{\"power\":{\"_gte\":52}}", "1,3,6,9" },
		{ "{\"power\":{\"_lt\":45}}", "8,10" },
		{ "{\"power\":{\"_lte\":45}}", "7,8,10" },
		{ "{\"power\":{\"_gt\":null}}", "" },
		{ "{\"power\":{\"_lte\":null}}", "" },
		{ "{\"power\":{\"_in\":[48,49,1000]}}", "2,4" },
		{ "{\"power\":{\"_in\":[]}}", "" },
		{ "{\"power\":{\"_nin\":[]}}", "1,2,3,4,5,6,7,8,9,10" },
		{ "{\"power\":{\"_nin\":[55,48]}}", "2,3,6,7,8,9,10" },
		{ "{\"power\":{\"_in\":[55,null]}}", "1,5" },
		{ "{\"power\":{\"_nin\":[55,null]}}", "2,3,4,6,7,8,9,10" },
		{ "{\"power\":{\"_gt\":40,\"_lt\":50}}", "2,4,7" },
		{ "{\"_or\":[]}", "" },
		{ "{\"_or\":[{\"id\":1},{\"trainer_id\":3,\"power\":"
		    "{\"_gt\":15}}]}", "1,7,10" },
		{ "{\"name\":\"pikachu\",\"power\":55}", "1" },
		{ "{\"name\":\"x' OR '1'='1\"}", "" },
		{ "{\"name\":{\"_in\":[\"'; DROP TABLE pokemon; --\"]}}", "" },
		{ "{\"" HOSTILE_JSON "\":\"h1\"}", "1" },
	};
	const char	*sets[MAXSETS];
	char		 buf[sizeof(c) / sizeof(c[0])][256];
	struct fx	 f;
	struct out	 o;
	size_t		 i, n = sizeof(c) / sizeof(c[0]);

	fx_open(&f, pg, "");
	for (i = 0; i < n; i++) {
		snprintf(buf[i], sizeof(buf[i]), "{\"where\":%s,\"sort\":"
		    "[\"id\"]}", c[i][0]);
		sets[i] = buf[i];
	}
	expect_ids(&f, c, sets, n, &o);
	/* every exposed column in table order, not the config's order */
	assert_string_equal(o.json[23], "[{\"id\":1,\"name\":\"pikachu\","
	    "\"power\":55,\"trainer_id\":1,\"a\\\"; DROP TABLE x; --\":"
	    "\"h1\"}]");
	out_free(&o);
	fx_close(&f);
}

static void
test_where_sqlite(void **state)
{
	where_cases(0);
}

static void
test_where_pg(void **state)
{
	where_cases(1);
}

/* Sort: NULL lowest, strings by bytes; per-parent sort/limit/skip. */
static void
sort_cases(int pg)
{
	static const char *const c[][2] = {
		{ "{\"sort\":[\"name\"]}", "8,2,10,3,7,1,4,6,5,9" },
		{ "{\"sort\":[\"-name\"]}", "9,5,6,4,1,7,3,10,2,8" },
		{ "{\"sort\":[\"power\",\"id\"]}", "5,8,10,7,4,2,3,1,9,6" },
		{ "{\"sort\":\"-power\"}", "6,9,1,3,2,4,7,10,8,5" },
		{ "{\"sort\":[\"trainer_id\",\"-id\"],\"limit\":3}", "9,4,3" },
		{ "{\"where\":{\"trainer_id\":1},\"sort\":[\"-power\"],"
		    "\"limit\":2,\"skip\":1}", "3,2" },
		{ "{\"where\":{\"trainer_id\":2},\"sort\":[\"-power\"],"
		    "\"limit\":2,\"skip\":1}", "5" },
		{ "{\"where\":{\"trainer_id\":3},\"sort\":[\"-power\"],"
		    "\"limit\":2,\"skip\":1}", "10,8" },
		{ "{\"where\":{\"trainer_id\":4},\"sort\":[\"-power\"],"
		    "\"limit\":2,\"skip\":1}", "" },
		{ "{\"where\":{\"trainer_id\":1},\"sort\":[\"-power\"],"
		    "\"limit\":2,\"skip\":1}", "3,2" },
		{ "{\"where\":{\"trainer_id\":3},\"sort\":[\"id\"],"
		    "\"op\":\"one\"}", "7" },
		{ "{\"sort\":[\"id\"],\"skip\":8}", "9,10" },
		{ "{\"sort\":[\"id\"],\"limit\":0}", "" },
	};
	const char	*sets[MAXSETS];
	struct fx	 f;
	struct out	 o;
	size_t		 i, n = sizeof(c) / sizeof(c[0]);

	fx_open(&f, pg, ",\"maxRows\":50");
	for (i = 0; i < n; i++)
		sets[i] = c[i][0];
	expect_ids(&f, c, sets, n, &o);
	out_free(&o);
	fx_close(&f);
}

static void
test_sort_sqlite(void **state)
{
	sort_cases(0);
}

static void
test_sort_pg(void **state)
{
	sort_cases(1);
}

/* batchSize 2: five distinct sets (seven given) take three statements. */
static void
batch_cases(int pg)
{
	static const char *const sets[] = {
		"{\"where\":{\"id\":1}}", "{\"where\":{\"id\":2}}",
		"{\"where\":{\"id\":{\"_eq\":1}}}", "{\"where\":{\"id\":3}}",
		"{\"where\":{\"id\":4}}", "{\"where\":{\"id\":5}}",
		"{\"where\":{\"id\":5}}",
	};
	const char *const	 sel[] = { "name" };
	struct fx		 f;
	struct out		 o;
	unsigned long		 before;
	int			 logged = 0;

	fx_open(&f, pg, ",\"batchSize\":2");
	read_sets(&f, "pokemon", sel, 1, sets, 1, &o);
	out_free(&o);
	before = db_statements(f.db);
	if (pg)
		logged = pg_logged(NULL);
	read_sets(&f, "pokemon", sel, 1, sets, 7, &o);
	assert_int_equal(db_statements(f.db) - before, 3);
	if (pg)
		assert_int_equal(pg_logged(NULL) - logged, 3);
	assert_int_equal(o.ncb, 3);
	assert_string_equal(o.json[0], "[{\"name\":\"pikachu\"}]");
	assert_string_equal(o.json[2], "[{\"name\":\"pikachu\"}]");
	assert_string_equal(o.json[6], "[{\"name\":\"staryu\"}]");
	assert_string_equal(o.json[4], "[{\"name\":\"squirtle\"}]");
	out_free(&o);
	fx_close(&f);
}

static void
test_batch_sqlite(void **state)
{
	batch_cases(0);
}

static void
test_batch_pg(void **state)
{
	batch_cases(1);
}

/*
 * The batched shape against one statement per set: 100 distinct sets
 * (per-set where, sort, limit and skip), answered the same either way.
 */
static void
batch_figure(int pg)
{
	static char	 buf[100][128];
	const char	*sets[100];
	struct out	*one, all;
	struct fx	 f;
	double		 t_all = 0, t_one = 0;
	size_t		 i, k;

	fx_open(&f, pg, "");
	for (i = 0; i < 100; i++) {
		snprintf(buf[i], sizeof(buf[i]), "{\"where\":{\"id\":{\"_gte\":"
		    "%zu}},\"sort\":[\"-power\",\"id\"],\"limit\":3,\"skip\":"
		    "%zu}", i % 10, i / 10 % 4);
		sets[i] = buf[i];
	}
	read_sets(&f, "pokemon", NULL, 0, sets, 1, &all); /* introspect */
	out_free(&all);
	one = calloc(100, sizeof(*one));
	for (k = 0; k < 2; k++) {	/* the first round warms caches */
		for (i = 0; i < 100; i++)
			out_free(&one[i]);
		out_free(&all);
		t_one = sy_now();
		for (i = 0; i < 100; i++)
			read_sets(&f, "pokemon", NULL, 0, sets + i, 1,
			    &one[i]);
		t_one = sy_now() - t_one;
		t_all = sy_now();
		read_sets(&f, "pokemon", NULL, 0, sets, 100, &all);
		t_all = sy_now() - t_all;
	}
	for (i = 0; i < 100; i++) {
		assert_int_equal(all.code[i], DB_OK);
		assert_string_equal(all.json[i], one[i].json[0]);
		out_free(&one[i]);
	}
	print_message("# %s: 100 sets (40 distinct), one batched statement "
	    "%.2f ms, 100 statements one after another %.2f ms\n",
	    pg ? "postgres" : "sqlite", t_all * 1e3, t_one * 1e3);
	out_free(&all);
	free(one);
	fx_close(&f);
}

static void
test_batch_figure(void **state)
{
	batch_figure(0);
	batch_figure(1);
}

static void
expect_code(struct fx *f, const char *table, const char *const *sel,
    size_t nsel, const char *set, enum db_code code)
{
	struct out	 o;

	read_sets(f, table, sel, nsel, &set, 1, &o);
	if (o.code[0] != code)
		fail_msg("%s %s: code %d (%s), want %d", table, set,
		    o.code[0], o.msg[0], code);
	assert_null(o.json[0]);
	assert_true(o.msg[0][0] != '\0');
	out_free(&o);
}

/* Errors; nothing unexposed or unquoted reaches the database. */
static void
error_cases(int pg)
{
	const char *const	 nope[] = { "nope" };
	const char *const	 secret[] = { "id", "secret" };
	const char *const	 inj[] = { "id\"; DROP TABLE x; --" };
	struct fx		 f;
	struct out		 o;
	const char		*two[] = { "{\"where\":{\"id\":1}}",
	    "{\"where\":{\"_foo\":1}}", "{\"where\":{\"secret\":\"s1\"}}" };

	fx_open(&f, pg, "");
	expect_code(&f, "hidden", NULL, 0, "{}", DB_NOT_FOUND);
	expect_code(&f, "pokeview", NULL, 0, "{}", DB_NOT_FOUND);
	expect_code(&f, "ghost", NULL, 0, "{}", DB_NOT_FOUND);
	expect_code(&f, "pokemon\"; DROP TABLE trainer; --", NULL, 0, "{}",
	    DB_NOT_FOUND);
	expect_code(&f, "pokemon", nope, 1, "{}", DB_NOT_FOUND);
	expect_code(&f, "pokemon", secret, 2, "{}", DB_NOT_FOUND);
	expect_code(&f, "pokemon", inj, 1, "{}", DB_NOT_FOUND);
	expect_code(&f, "pokemon", NULL, 0,
	    "{\"where\":{\"secret\":\"s1\"}}", DB_NOT_FOUND);
	expect_code(&f, "pokemon", NULL, 0,
	    "{\"sort\":[\"id; DROP TABLE trainer\"]}", DB_NOT_FOUND);
	expect_code(&f, "pokemon", NULL, 0,
	    "{\"where\":{\"id\":{\"_like\":1}}}", DB_BAD_USER_INPUT);
	expect_code(&f, "pokemon", NULL, 0, "{\"limit\":-1}",
	    DB_BAD_USER_INPUT);
	if (pg)		/* SQLite compares "abc" with 1 without error */
		expect_code(&f, "pokemon", NULL, 0,
		    "{\"where\":{\"id\":\"abc\"}}", DB_BAD_USER_INPUT);
	/* one bad set fails alone */
	read_sets(&f, "pokemon", NULL, 0, two, 3, &o);
	assert_int_equal(o.code[0], DB_OK);
	assert_string_equal(ids(o.json[0]), "1");
	assert_int_equal(o.code[1], DB_BAD_USER_INPUT);
	assert_int_equal(o.code[2], DB_NOT_FOUND);
	out_free(&o);
	/* a value PostgreSQL cannot convert fails only its own set */
	if (pg) {
		const char *conv[] = { "{\"where\":{\"id\":1}}",
		    "{\"where\":{\"id\":\"abc\"}}",
		    "{\"where\":{\"id\":2}}" };
		unsigned long before = db_statements(f.db);

		read_sets(&f, "pokemon", NULL, 0, conv, 3, &o);
		assert_int_equal(o.code[0], DB_OK);
		assert_string_equal(ids(o.json[0]), "1");
		assert_int_equal(o.code[1], DB_BAD_USER_INPUT);
		assert_non_null(strstr(o.msg[1], "invalid input syntax"));
		assert_int_equal(o.code[2], DB_OK);
		assert_string_equal(ids(o.json[2]), "2");
		/* the batch, then each set alone */
		assert_int_equal(db_statements(f.db) - before, 4);
		out_free(&o);
	}
	/* the tables are all still there */
	expect_code(&f, "trainer", NULL, 0, "{\"limit\":\"1\"}",
	    DB_BAD_USER_INPUT);
	read_sets(&f, "trainer", NULL, 0, two, 1, &o);
	assert_string_equal(o.json[0], "[{\"id\":1,\"name\":\"ash\"}]");
	out_free(&o);
	fx_close(&f);
}

static void
test_errors_sqlite(void **state)
{
	error_cases(0);
}

static void
test_errors_pg(void **state)
{
	error_cases(1);
}

/*
 * The session is read-only and in UTC: table "session" shows its row
 * only to such sessions (a row-level security policy).  SQLite: a URI
 * that asks for write access is refused; a relative path is resolved
 * against the base directory.
 */
static void
test_readonly(void **state)
{
	const char	*set = "{}";
	char		 buf[1024];
	struct fx	 f;
	struct out	 o;
	int		 i;

	fx_open(&f, 1, "");
	read_sets(&f, "session", NULL, 0, &set, 1, &o);
	assert_int_equal(o.code[0], DB_OK);
	assert_string_equal(o.json[0], "[{\"id\":1}]");
	out_free(&o);
	fx_close(&f);
	for (i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "{\"conn\":\"%s\",\"tables\":"
		    "{\"trainer\":{}}}", i == 0 ? "app.sqlite3" : i == 1 ?
		    "file:app.sqlite3?mode=ro" : "file:app.sqlite3?mode=rw");
		read_with(buf, env("SY_DB_DIR"), "trainer", &o);
		if (i < 2 && o.code[0] != DB_OK)
			fail_msg("%s: %s", buf, o.msg[0]);
		if (i == 2)
			assert_int_equal(o.code[0], DB_DATABASE_ERROR);
		out_free(&o);
	}
}

/* Every statement the server saw: hostile text only as parameters. */
static void
test_pg_log_injection(void **state)
{
	FILE	*fp;
	char	 line[8192];
	int	 nexec = 0;

	if ((fp = fopen(env("SY_PG_LOG"), "r")) == NULL)
		fail_msg("cannot open the server log");
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "app ", 4) != 0)
			continue;
		if (strncmp(line, "app LOG:  execute", 17) == 0)
			nexec++;
		if ((strstr(line, "OR '1'='1") != NULL ||
		    strstr(line, "DROP TABLE pokemon") != NULL ||
		    strstr(line, "DROP TABLE trainer") != NULL) &&
		    strncmp(line, "app DETAIL:  parameters:", 24) != 0)
			fail_msg("hostile text outside parameters: %s", line);
		if (strstr(line, "DROP TABLE x") != NULL &&
		    strncmp(line, "app DETAIL:  parameters:", 24) != 0 &&
		    strstr(line, "\"a\"\"; DROP TABLE x; --\"") == NULL)
			fail_msg("hostile identifier unquoted: %s", line);
	}
	fclose(fp);
	assert_true(nexec > 10);
}

/* One row of every type, read whole. */
static void
typing(int pg, const char *want)
{
	struct fx	 f;
	struct out	 o;
	const char	*set = "{}";

	fx_open(&f, pg, "");
	read_sets(&f, "types", NULL, 0, &set, 1, &o);
	if (o.code[0] != DB_OK)
		fail_msg("%s", o.msg[0]);
	assert_string_equal(o.json[0], want);
	out_free(&o);
	fx_close(&f);
}

static void
test_typing_sqlite(void **state)
{
	typing(0, "[{\"i\":9007199254740993,\"r\":1.5,"
	    "\"t\":\"h\xc3\xa9llo\",\"b\":\"AP8Q\",\"n\":null,\"dyn\":5}]");
}

static void
test_typing_pg(void **state)
{
	typing(1, "[{\"i2\":-32768,\"i4\":2147483647,"
	    "\"i8\":9223372036854775807,\"f4\":1.5,\"f8\":0.1,"
	    "\"num\":12345678901234567890.125,\"nan\":\"NaN\","
	    "\"inf\":\"Infinity\",\"ninf\":\"-Infinity\",\"b\":true,"
	    "\"j\":{\"a\":[1,2]},\"jb\":{\"b\":null},\"d\":\"2024-02-29\","
	    "\"ts\":\"2024-01-02T03:04:05.12\",\"ts0\":\"2024-01-02T03:04:05\","
	    "\"tstz\":\"2024-01-02T01:04:05.5Z\",\"t\":\"13:14:15.25\","
	    "\"by\":\"AP8Q\",\"ai\":[1,null,3],\"at\":[\"a b\",\"c\\\"d\","
	    "null],\"ab\":[true,false],\"anull\":null,"
	    "\"u\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\",\"tx\":\"text\","
	    "\"vc\":\"vc\",\"n\":null}]");
}

/* One number from psql on the test server. */
static int
pg_query_int(const char *sql)
{
	char	 cmd[1024], buf[64];
	FILE	*fp;
	int	 n = -1;

	snprintf(cmd, sizeof(cmd), "%s psql %s -At -c \"%s\"",
	    env("SY_PGSERVER"), env("SY_PG_DIR"), sql);
	if ((fp = popen(cmd, "r")) == NULL)
		fail_msg("popen %s", cmd);
	if (fgets(buf, sizeof(buf), fp) != NULL)
		n = atoi(buf);
	if (pclose(fp) != 0)
		fail_msg("failed: %s", cmd);
	return (n);
}

static void
pgserver(const char *what)
{
	char	 cmd[1024];

	snprintf(cmd, sizeof(cmd), "%s %s %s", env("SY_PGSERVER"), what,
	    env("SY_PG_DIR"));
	if (system(cmd) != 0)
		fail_msg("failed: %s", cmd);
}

#define ACTIVE_SLOW	"SELECT count(*) FROM pg_stat_activity WHERE " \
	"usename = 'app' AND state = 'active' AND query LIKE '%%slow%%'"

/* A statement cancelled at the deadline is gone from the server. */
static void
test_pg_cancel(void **state)
{
	const char	*set = "{}";
	struct db_read	 rd = { "slow", NULL, 0, NULL, 1, 0 };
	struct dbsql_args a = { NULL, NULL, NULL, NULL, NULL };
	struct db_req	*r;
	struct fx	 f;
	struct out	 o;
	double		 end;

	fx_open(&f, 1, ",\"maxConnections\":1");
	read_sets(&f, "slow", NULL, 0, &set, 0, &o);	/* introspect */
	out_free(&o);
	rd.args = &a;
	r = db_read(f.db, &rd, collect, &o);
	spin(&f, 1.0);
	assert_int_equal(pg_query_int(ACTIVE_SLOW), 1);
	db_cancel(r);
	for (end = sy_now() + 5; pg_query_int(ACTIVE_SLOW) != 0;)
		if (sy_now() > end)
			fail_msg("the statement still runs 5 s after cancel");
	spin(&f, 0.2);
	assert_int_equal(o.ncb, 0);
	/* the single connection went back to the pool */
	read_sets(&f, "trainer", NULL, 0, &set, 1, &o);
	assert_int_equal(o.code[0], DB_OK);
	out_free(&o);
	assert_int_equal(pg_query_int("SELECT count(*) FROM pg_stat_activity "
	    "WHERE usename = 'app'"), 1);
	fx_close(&f);
}

/* Server gone mid-statement, down, then back: DATABASE_ERROR, then ok. */
static void
test_pg_restart(void **state)
{
	const char	*set = "{}", *pw = env("SY_PG_PASSWORD");
	struct db_read	 rd = { "slow", NULL, 0, NULL, 1, 0 };
	struct dbsql_args a = { NULL, NULL, NULL, NULL, NULL };
	struct fx	 f;
	struct out	 o;

	fx_open(&f, 1, "");
	read_sets(&f, "trainer", NULL, 0, &set, 1, &o);
	out_free(&o);
	rd.args = &a;
	memset(&o, 0, sizeof(o));
	assert_non_null(db_read(f.db, &rd, collect, &o));
	spin(&f, 0.5);
	pgserver("stop");
	wait_done(&f, &o, 10);
	assert_int_equal(o.code[0], DB_DATABASE_ERROR);
	assert_null(strstr(o.msg[0], pw));
	assert_null(strstr(o.msg[0], "postgresql://"));
	out_free(&o);
	read_sets(&f, "trainer", NULL, 0, &set, 1, &o);
	assert_int_equal(o.code[0], DB_DATABASE_ERROR);
	assert_null(strstr(o.msg[0], pw));
	assert_null(strstr(o.msg[0], "127.0.0.1"));
	out_free(&o);
	pgserver("start");
	read_sets(&f, "trainer", NULL, 0, &set, 1, &o);
	if (o.code[0] != DB_OK)
		fail_msg("after restart: %s", o.msg[0]);
	assert_int_equal(strlen(ids(o.json[0])), strlen("1,2,3,4"));
	out_free(&o);
	fx_close(&f);
}

/*
 * maxConnections 2: six reads queue for two connections and all finish;
 * a queued read cancelled never reaches the server.
 */
static void
test_pg_pool(void **state)
{
	struct dbsql_args a = { NULL, NULL, NULL, NULL, NULL };
	struct db_read	 rd = { "nap", NULL, 0, NULL, 1, 0 };
	struct db_req	*r[7];
	struct out	 o[7];
	struct fx	 f;
	const char	*set = "{}";
	double		 t0;
	int		 i, before;

	fx_open(&f, 1, ",\"maxConnections\":2");
	read_sets(&f, "nap", NULL, 0, &set, 0, &o[0]);	/* introspect */
	rd.args = &a;
	before = pg_logged("\"nap\"");
	t0 = sy_now();
	for (i = 0; i < 7; i++) {
		memset(&o[i], 0, sizeof(o[i]));
		r[i] = db_read(f.db, &rd, collect, &o[i]);
	}
	db_cancel(r[6]);
	spin(&f, 0.15);
	assert_int_equal(pg_query_int("SELECT count(*) FROM pg_stat_activity "
	    "WHERE usename = 'app'"), 2);
	for (i = 0; i < 6; i++) {
		wait_done(&f, &o[i], 10);
		assert_int_equal(o[i].code[0], DB_OK);
		assert_string_equal(o[i].json[0], "[{\"id\":1}]");
		out_free(&o[i]);
	}
	t0 = sy_now() - t0;
	print_message("# pool of 2: six 0.3 s reads in %.2f s\n", t0);
	assert_true(t0 > 0.85);		/* at most two at a time */
	spin(&f, 0.1);
	assert_int_equal(o[6].ncb, 0);
	assert_int_equal(pg_logged("\"nap\"") - before, 6);
	fx_close(&f);
}

/*
 * Nothing listening, and a connection string that does not parse (its
 * error would quote the password): DATABASE_ERROR, and no password in
 * the message or the log (db.t checks the log).
 */
static void
test_pg_bad_conn(void **state)
{
	static const char *const conns[] = {
		"postgresql://app:%s@127.0.0.1:1/postgres",
		"host=127.0.0.1 port=1 %s",
		"postgresql://app:%s@127.0.0.1:1/postgres?bogus=1",
	};
	const char	*pw = env("SY_PG_PASSWORD");
	char		 conn[512], buf[1024];
	struct out	 o;
	size_t		 i;

	for (i = 0; i < sizeof(conns) / sizeof(conns[0]); i++) {
		snprintf(conn, sizeof(conn), conns[i], pw);
		snprintf(buf, sizeof(buf), "{\"type\":\"postgres\",\"conn\":"
		    "\"%s\",\"tables\":{\"trainer\":{}}}", conn);
		read_with(buf, NULL, "trainer", &o);
		assert_int_equal(o.code[0], DB_DATABASE_ERROR);
		assert_null(strstr(o.msg[0], pw));
		out_free(&o);
	}
}

/* The longest gap between 1 ms ticks while a read runs. */
struct stall {
	double	 last;
	double	 worst;
	struct event *ev;
};

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct stall	*s = arg;
	double		 now = sy_now();

	if (now - s->last > s->worst)
		s->worst = now - s->last;
	s->last = now;
}

/* CPU seconds of the calling thread (the loop's). */
static double
thread_cpu(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* SQLite runs off the loop; the loop stays responsive. */
static void
test_sqlite_slow(void **state)
{
	const char *const sets[] = { "{\"where\":{\"v\":{\"_gt\":\"0\"}},"
	    "\"sort\":[\"-v\",\"id\"],\"limit\":1000}" };
	struct timeval	 ms = { 0, 1000 };
	struct stall	 st = { 0, 0, NULL };
	struct db_read	 rd = { "big", NULL, 0, NULL, 1, 0 };
	struct dbsql_args a = { NULL, NULL, NULL, NULL, NULL };
	struct db_req	*r;
	struct json_object *w;
	struct fx	 f;
	struct out	 o;
	double		 t0, idle, cpu;

	fx_open(&f, 0, "");
	read_sets(&f, "big", NULL, 0, sets, 0, &o);	/* introspect */
	out_free(&o);
	st.ev = event_new(f.base, -1, EV_PERSIST, tick, &st);
	event_add(st.ev, &ms);
	st.last = sy_now();
	spin(&f, 0.3);			/* the machine's own jitter */
	idle = st.worst;
	st.worst = 0;
	st.last = t0 = sy_now();
	cpu = thread_cpu();
	read_sets(&f, "big", NULL, 0, sets, 1, &o);
	cpu = thread_cpu() - cpu;
	t0 = sy_now() - t0;
	assert_int_equal(o.code[0], DB_OK);
	print_message("# sqlite: 300000-row scan+sort, 1000 rows back, "
	    "%.1f ms; longest gap between 1 ms ticks %.2f ms (idle loop: "
	    "%.2f ms); loop thread CPU %.2f ms\n", t0 * 1e3, st.worst * 1e3,
	    idle * 1e3, cpu * 1e3);
	/* the statement was slow, the loop was not held up by it */
	assert_true(t0 > 0.05);
	assert_true(st.worst < t0 / 5);
	assert_true(cpu < t0 / 5);
	out_free(&o);
	/* cancelled while running: no callback, the next read works */
	w = json_tokener_parse("{\"v\":{\"_gt\":\"8\"}}");
	a.where = w;
	a.sort = json_object_new_string("-v");
	rd.args = &a;
	memset(&o, 0, sizeof(o));
	r = db_read(f.db, &rd, collect, &o);
	spin(&f, 0.005);
	db_cancel(r);
	json_object_put(w);
	json_object_put(a.sort);
	spin(&f, 0.3);
	assert_int_equal(o.ncb, 0);
	read_sets(&f, "trainer", NULL, 0, sets + 0, 0, &o);
	out_free(&o);
	event_free(st.ev);
	fx_close(&f);
}

/* A missing SQLite file fails the read, and is never created. */
static void
test_sqlite_missing(void **state)
{
	struct out	 out;
	char		 path[512];

	read_with("{\"conn\":\"no-such.sqlite3\",\"tables\":{\"t\":{}}}",
	    env("SY_DB_DIR"), "t", &out);
	assert_int_equal(out.code[0], DB_DATABASE_ERROR);
	out_free(&out);
	snprintf(path, sizeof(path), "%s/no-such.sqlite3", env("SY_DB_DIR"));
	assert_int_equal(access(path, F_OK), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_where_sqlite),
		cmocka_unit_test(test_where_pg),
		cmocka_unit_test(test_sort_sqlite),
		cmocka_unit_test(test_sort_pg),
		cmocka_unit_test(test_batch_sqlite),
		cmocka_unit_test(test_batch_pg),
		cmocka_unit_test(test_batch_figure),
		cmocka_unit_test(test_errors_sqlite),
		cmocka_unit_test(test_errors_pg),
		cmocka_unit_test(test_typing_sqlite),
		cmocka_unit_test(test_typing_pg),
		cmocka_unit_test(test_pg_log_injection),
		cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_sqlite_slow),
		cmocka_unit_test(test_sqlite_missing),
		cmocka_unit_test(test_pg_bad_conn),
		cmocka_unit_test(test_pg_pool),
		cmocka_unit_test(test_pg_cancel),
		cmocka_unit_test(test_pg_restart),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
