/*
 * dbconf.c: reads one "databases" entry of the config (SPEC 8.10) into a
 * struct dbconf, reporting every problem with its JSON path: a problem
 * with a member at the member's path, a missing member at its parent's.
 * The read rules are kept as opaque json-c references: compiling them
 * (section 6, and the ban on force/remove) is the rule module's job, and
 * an alias equal to a service id can only be seen by the project.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "dbconf.h"
#include "util.h"

/* A GraphQL Name: a letter or _, then letters, digits or _. */
static int
is_name(const char *s)
{
	size_t	 i;

	if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
		return (0);
	for (i = 0; s[i] != '\0'; i++)
		if (!(s[i] == '_' || (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z')))
			return (0);
	return (1);
}

static char *
join(const char *path, const char *key)
{
	struct sybuf	 b;

	sybuf_init(&b);
	if (sybuf_printf(&b, "%s.%s", path, key) == -1)
		abort();
	return (sybuf_detach(&b));
}

/* A positive integer member, or def when absent. */
static void
pos_int(struct json_object *obj, const char *key, const char *path,
    int64_t def, int64_t *out, struct syerrs *errs)
{
	struct json_object	*v;
	char			*p;

	*out = def;
	if (!json_object_object_get_ex(obj, key, &v))
		return;
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) <= 0) {
		p = join(path, key);
		syerrs_add(errs, p, "must be a positive integer");
		free(p);
		return;
	}
	*out = json_object_get_int64(v);
}

static void
parse_columns(struct dbconf_table *t, struct json_object *v,
    const char *path, struct syerrs *errs)
{
	struct sybuf	 b;
	size_t		 i, n;

	if (!json_object_is_type(v, json_type_array)) {
		syerrs_add(errs, path, "must be an array of column names");
		return;
	}
	n = json_object_array_length(v);
	t->columns = xcalloc(n ? n : 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string)) {
			sybuf_init(&b);
			if (sybuf_printf(&b, "%s.%zu", path, i) == -1)
				abort();
			syerrs_add(errs, b.data, "must be a string");
			sybuf_free(&b);
			continue;
		}
		t->columns[t->ncolumns++] = xstrdup(json_object_get_string(e));
	}
}

static void
parse_table(struct dbconf_table *t, const char *name, struct json_object *v,
    const char *path, struct syerrs *errs)
{
	struct json_object	*m, *r;
	char			*p;

	t->name = xstrdup(name);
	if (!json_object_is_type(v, json_type_object)) {
		syerrs_add(errs, path, "must be an object");
		return;
	}
	if (json_object_object_get_ex(v, "columns", &m)) {
		p = join(path, "columns");
		parse_columns(t, m, p, errs);
		free(p);
	}
	if (!json_object_object_get_ex(v, "rules", &m))
		return;
	if (!json_object_is_type(m, json_type_object)) {
		p = join(path, "rules");
		syerrs_add(errs, p, "must be an object");
		free(p);
		return;
	}
	if (json_object_object_get_ex(m, "read", &r) && r != NULL)
		t->read_rule = json_object_get(r);
}

static void
parse_tables(struct dbconf *c, struct json_object *obj, const char *path,
    struct syerrs *errs)
{
	struct json_object	*v;
	char			*p, *tp;

	if (!json_object_object_get_ex(obj, "tables", &v))
		return;
	p = join(path, "tables");
	if (!json_object_is_type(v, json_type_object)) {
		syerrs_add(errs, p, "must be an object");
		free(p);
		return;
	}
	c->tables = xcalloc(json_object_object_length(v) + 1,
	    sizeof(*c->tables));
	json_object_object_foreach(v, name, tv) {
		tp = join(p, name);
		parse_table(&c->tables[c->ntables++], name, tv, tp, errs);
		free(tp);
	}
	free(p);
}

/* type, conn and schema. */
static void
parse_conn(struct dbconf *c, struct json_object *obj, const char *path,
    struct syerrs *errs)
{
	struct json_object	*v;
	const char		*s;
	char			*p;

	if (json_object_object_get_ex(obj, "type", &v)) {
		s = json_object_is_type(v, json_type_string) ?
		    json_object_get_string(v) : "";
		if (strcmp(s, "postgres") == 0)
			c->type = DBCONF_POSTGRES;
		else if (strcmp(s, "sqlite") != 0) {
			p = join(path, "type");
			syerrs_add(errs, p, "unknown type (expected \"sqlite\" "
			    "or \"postgres\")");
			free(p);
		}
	}
	if (!json_object_object_get_ex(obj, "conn", &v))
		syerrs_add(errs, path, "missing \"conn\"");
	else if (!json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0) {
		p = join(path, "conn");
		syerrs_add(errs, p, "must be a non-empty string");
		free(p);
	} else
		c->conn = xstrdup(json_object_get_string(v));
	if (!json_object_object_get_ex(obj, "schema", &v))
		return;
	p = join(path, "schema");
	if (c->type == DBCONF_SQLITE)
		syerrs_add(errs, p, "only a postgres database has a schema");
	else if (!json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0)
		syerrs_add(errs, p, "must be a non-empty string");
	else {
		free(c->schema);
		c->schema = xstrdup(json_object_get_string(v));
	}
	free(p);
}

int
dbconf_parse(struct dbconf *c, const char *alias, struct json_object *obj,
    const char *path, struct syerrs *errs)
{
	struct json_object	*v;
	size_t			 before = errs->n;
	char			*p;

	memset(c, 0, sizeof(*c));
	c->alias = xstrdup(alias);
	c->schema = xstrdup("public");
	c->enabled = 1;
	c->max_rows = DBCONF_MAX_ROWS;
	c->batch_size = DBCONF_BATCH_SIZE;
	c->max_conns = DBCONF_MAX_CONNS;
	if (!is_name(alias))
		syerrs_add(errs, path, "the alias \"%s\" is not a GraphQL name",
		    alias);
	if (!json_object_is_type(obj, json_type_object)) {
		syerrs_add(errs, path, "must be an object");
		return (-1);
	}
	parse_conn(c, obj, path, errs);
	if (json_object_object_get_ex(obj, "enabled", &v)) {
		if (json_object_is_type(v, json_type_boolean))
			c->enabled = json_object_get_boolean(v);
		else {
			p = join(path, "enabled");
			syerrs_add(errs, p, "must be true or false");
			free(p);
		}
	}
	pos_int(obj, "maxRows", path, DBCONF_MAX_ROWS, &c->max_rows, errs);
	pos_int(obj, "batchSize", path, DBCONF_BATCH_SIZE, &c->batch_size,
	    errs);
	pos_int(obj, "maxConnections", path, DBCONF_MAX_CONNS, &c->max_conns,
	    errs);
	parse_tables(c, obj, path, errs);
	return (errs->n == before ? 0 : -1);
}

void
dbconf_free(struct dbconf *c)
{
	size_t	 i, j;

	for (i = 0; i < c->ntables; i++) {
		for (j = 0; j < c->tables[i].ncolumns; j++)
			free(c->tables[i].columns[j]);
		free(c->tables[i].columns);
		free(c->tables[i].name);
		json_object_put(c->tables[i].read_rule);
	}
	free(c->tables);
	free(c->alias);
	free(c->conn);
	free(c->schema);
	memset(c, 0, sizeof(*c));
}

const struct dbconf_table *
dbconf_table(const struct dbconf *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < c->ntables; i++)
		if (strcmp(c->tables[i].name, name) == 0)
			return (&c->tables[i]);
	return (NULL);
}
