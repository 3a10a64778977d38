/*
 * db.h: reading a configured database (SPEC 8.10) from a worker's event
 * loop: SQLite on a per-database thread, PostgreSQL through libpq's
 * asynchronous API with a small per-database connection pool.  A read
 * is a batch of argument sets for one table (one DB field occurrence,
 * SPEC 8.6); dbsql.h compiles it, this module introspects the table,
 * runs the statements and hands back rows per argument set.
 */
#ifndef SY_DB_H
#define SY_DB_H

#include <stddef.h>

#include "dbconf.h"
#include "dbsql.h"

struct event_base;
struct json_object;
struct db;
struct db_req;

/* One read: table, selected columns, and the argument sets. */
struct db_read {
	const char		*table;
	const char *const	*select;	/* NULL: all exposed */
	size_t			 nselect;
	const struct dbsql_args	*args;		/* nargs sets */
	size_t			 nargs;
	/* 1: select is only checked (NOT_FOUND for an unknown column);
	   rows hold every exposed column */
	int			 check_select;
};

/*
 * Part of a read's answer.  Every argument set of the read appears in
 * exactly one db_result: sets[k] is its index in db_read.args; rows[k]
 * a JSON array of row objects (members in the selected order), or NULL
 * when errs[k].code is not DB_OK.  Sets read by one statement, and sets
 * that failed before any SQL ran, come together.  All of it is borrowed
 * for the callback only (json_object_get what you keep; identical sets
 * share one array).  last is 1 on the read's final callback.
 */
struct db_result {
	size_t				 nsets;
	const size_t			*sets;
	struct json_object *const	*rows;
	const struct db_error		*errs;
	int				 last;
	int				 stmt;	/* 1: a statement's answer */
};

typedef void (*db_cb)(const struct db_result *, void *arg);

/*
 * A database for one worker, made after fork (SQLite starts its thread
 * here).  base and conf are borrowed and must outlive it; basedir
 * (copied) resolves a relative SQLite path.  No file is opened and no
 * connection made until the first read.  NULL on failure.
 */
struct db	*db_new(struct event_base *base, const struct dbconf *conf,
		    const char *basedir);
/* Cancel every read (no callbacks) and free everything. */
void		 db_free(struct db *);

/*
 * Start a read.  rd and what it points to are copied (JSON values by
 * reference).  cb runs once per statement, plus once for the sets that
 * failed before SQL, always from the event loop, never from inside
 * db_read; the read is freed after the callback with last set.  (A
 * PostgreSQL batch that fails on a value, SQLSTATE class 22, is run
 * again set by set, each set its own statement and callback, so that
 * only the sets at fault fail.)  Do not call db_free from a callback.
 * NULL only when out of memory.
 */
struct db_req	*db_read(struct db *, const struct db_read *rd, db_cb cb,
		    void *arg);
/*
 * Abandon a read (e.g. at the request deadline): no more callbacks; a
 * running statement is cancelled on the server.  Allowed inside its
 * callback, not after the last one.
 */
void		 db_cancel(struct db_req *);

/* Statements sent to the database so far (introspection included). */
unsigned long	 db_statements(const struct db *);

#endif
