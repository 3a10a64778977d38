/*
 * dbsql.h: the pure half of the database layer (SPEC 8.10, 8.6): errors,
 * a table's exposed columns, and the compiler that turns a batch of
 * GraphQL argument sets (where, sort, limit, skip, op) into batched SQL
 * statements with bound parameters.  No database header is included
 * here; db.h runs what this file builds.
 */
#ifndef SY_DBSQL_H
#define SY_DBSQL_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

/* The GraphQL error codes a database field can fail with (SPEC 8.2). */
enum db_code {
	DB_OK = 0,
	DB_BAD_USER_INPUT,
	DB_NOT_FOUND,
	DB_NOT_SUPPORTED,
	DB_DATABASE_ERROR
};

struct db_error {
	enum db_code	 code;
	char		 msg[256];	/* never a connection string */
};

/* "BAD_USER_INPUT", ...; "" for DB_OK. */
const char	*dbsql_code_name(enum db_code);
/* Sets code and a printf-formatted message (truncated to fit). */
void		 dbsql_seterr(struct db_error *, enum db_code,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

enum dbsql_dialect {
	DBSQL_SQLITE,
	DBSQL_POSTGRES
};

/* One exposed column, as introspection found it. */
struct dbsql_col {
	char	*name;
	char	*type;		/* declared type, informative */
	int	 collate;	/* PostgreSQL: the type is collatable */
};

/* A table and its exposed columns in table order.  Owned strings. */
struct dbsql_table {
	char		*schema;	/* PostgreSQL; NULL for SQLite */
	char		*name;
	struct dbsql_col *cols;
	size_t		 ncols;
};

/* Frees the members. */
void	 dbsql_table_free(struct dbsql_table *);

/*
 * One argument set of a DB field instance, references already resolved.
 * Every member is borrowed and NULL when the argument is absent.  sort
 * is a list of "col"/"-col" strings (a single string counts as a list of
 * one), limit and skip are integers, op is "all" or "one".
 */
struct dbsql_args {
	struct json_object	*where;
	struct json_object	*sort;
	struct json_object	*limit;
	struct json_object	*skip;
	struct json_object	*op;
};

enum dbsql_pkind {
	DBSQL_PNULL,
	DBSQL_PINT,
	DBSQL_PREAL,
	DBSQL_PTEXT,
	DBSQL_PBOOL
};

/* A bound parameter value. */
struct dbsql_param {
	enum dbsql_pkind kind;
	int64_t		 i;	/* PINT, PBOOL (0/1) */
	double		 d;	/* PREAL */
	char		*s;	/* PTEXT, owned, NUL-free */
	char		*text;	/* PostgreSQL text; NULL: null */
};

/*
 * One SQL statement.  Its result columns are "__set" (the distinct set
 * index), "__n" (the row's rank within its set), then the plan's columns;
 * rows come ordered by __set, then __n.
 */
struct dbsql_stmt {
	char			*sql;
	struct dbsql_param	*params;
	size_t			 nparams;
	size_t			*sets;		/* distinct sets */
	size_t			 nsets;
};

/*
 * A batch compiled: input set i is distinct set map[i]; distinct set d
 * either failed (errs[d].code != DB_OK, no SQL for it) or is answered by
 * exactly one statement.
 */
struct dbsql_plan {
	char			**cols;		/* selected, owned */
	size_t			 ncols;
	size_t			 nsets;
	size_t			*map;
	size_t			 ndistinct;
	struct db_error		*errs;		/* per distinct */
	int			*one;	/* op "one", per distinct */
	struct dbsql_stmt	*stmts;
	size_t			 nstmts;
};

/*
 * Compile nargs argument sets against table t.  select (nselect names)
 * lists the selected columns; NULL/0 means every exposed column in
 * table order.  maxrows is the default and largest limit, batchsize the
 * most distinct sets per statement.  Errors of one set go to its
 * plan->errs entry; an error of the whole batch (an unknown selected
 * column, memory) returns -1 with err set and p empty.  The caller frees
 * p with dbsql_plan_free, also after -1.
 */
int	 dbsql_plan(struct dbsql_plan *p, enum dbsql_dialect,
	    const struct dbsql_table *t, const char *const *select,
	    size_t nselect, const struct dbsql_args *args, size_t nargs,
	    int64_t maxrows, size_t batchsize, struct db_error *err);
void	 dbsql_plan_free(struct dbsql_plan *);

/*
 * The introspection query for a table: result rows (name, type,
 * collatable) in table order, none when the table does not exist or is
 * not a base table.  Fills st (caller frees with dbsql_stmt_free).
 */
int	 dbsql_introspect(struct dbsql_stmt *st, enum dbsql_dialect,
	    const char *schema, const char *table);
void	 dbsql_stmt_free(struct dbsql_stmt *);

/* Append ident as a double-quoted SQL identifier.  0 / -1. */
struct sybuf;
int	 dbsql_quote(struct sybuf *, const char *ident);

/* RFC 4648 base64 with padding; caller frees; NULL on no memory. */
char	*dbsql_base64(const unsigned char *, size_t);

#endif
