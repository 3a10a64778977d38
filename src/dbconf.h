/*
 * dbconf.h: one entry of a project's "databases" (SPEC 8.10) as the
 * database layer needs it, read from the config's JSON.  No database
 * header is included here.
 */
#ifndef SY_DBCONF_H
#define SY_DBCONF_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct syerrs;

enum dbconf_type {
	DBCONF_SQLITE,
	DBCONF_POSTGRES
};

struct dbconf_table {
	char			*name;
	char			**columns;	/* allowed; NULL: all */
	size_t			 ncolumns;
	/* rules.read, one reference held; NULL: deny */
	struct json_object	*read_rule;
};

struct dbconf {
	char			*alias;
	enum dbconf_type	 type;
	char			*conn;	/* secret: not logged */
	char			*schema;	/* PostgreSQL; "public" */
	int			 enabled;
	int64_t			 max_rows;	/* 1000 */
	int64_t			 batch_size;	/* 100 */
	int64_t			 max_conns;	/* 4 */
	struct dbconf_table	*tables;
	size_t			 ntables;
};

#define DBCONF_MAX_ROWS		1000
#define DBCONF_BATCH_SIZE	100
#define DBCONF_MAX_CONNS	4

/*
 * Read the entry obj of databases.<alias>, found at JSON path path (e.g.
 * "projects.p.databases.db"), into c.  Every problem is added to errs
 * with its path; returns 0 when none was found, else -1.  c is filled as
 * far as possible either way and the caller frees it with dbconf_free.
 */
int			 dbconf_parse(struct dbconf *c, const char *alias,
			    struct json_object *obj, const char *path,
			    struct syerrs *errs);
void			 dbconf_free(struct dbconf *);
/* The table entry named name, or NULL when it is not listed. */
const struct dbconf_table *dbconf_table(const struct dbconf *,
			    const char *name);

#endif
