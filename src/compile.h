/*
 * compile.h: a project's JSON -> registry records (SPEC section 3),
 * callable on its own: config.c compiles every project of the file, and
 * the config API compiles one service at a time, the master committing
 * the result.  Every problem goes to the error list with its JSON path.
 */
#ifndef SY_COMPILE_H
#define SY_COMPILE_H

#include <sys/types.h>

#include <stddef.h>

#include "util.h"

struct cf_split;
struct json_object;

/*
 * Registry keys:
 *   "P/<project>"                        project record  {"project":...}
 *   "S/<project>/<service>"              service record  {"url":...}
 *   "E/<project>/<service>/<endpoint>"   endpoint record (endpoint.h)
 * Names are restricted to [A-Za-z0-9_-], so '/' cannot be ambiguous.
 */
struct sy_regentry {
	char		*key;		/* NUL-terminated */
	char		*val;		/* NUL-terminated JSON text */
	size_t		 vallen;
};

/* The records compiled so far, and what compiling needs. */
struct compile {
	struct sy_regentry	*ents;		/* in compile order */
	size_t			 nents;
	size_t			 cap;
	size_t			 nprojects;
	size_t			 nservices;
	size_t			 nendpoints;
	char			**nosign;	/* projects without a secret
						   that can sign X-SC-Tokens */
	size_t			 nnosign;
	struct syerrs		*errs;		/* borrowed */
	struct sybuf		 rec;		/* endpoint_encode's buffer */
	struct cf_split		*sp;		/* borrowed; NULL: plain */
	/* the config file's directory, for relative SQLite paths (SPEC
	   8.10); borrowed, NULL: unknown (relative to the cwd) */
	const char		*basedir;
	/* who must be able to read a service's caFile: the workers' ids
	   (proc_workers_ids); (uid_t)-1: not checked */
	uid_t			 uid;
	gid_t			 gid;
	/* want_raw: also the config API's "R/" records (cfgapi.c):
	   "R/<project>" as {} and "R/<project>/<service>", the service's
	   JSON as the file has it, in compile order */
	int			 want_raw;
	struct sy_regentry	*raw;
	size_t			 nraw;
	size_t			 rawcap;
};

/*
 * Start compiling into c, reporting to errs (no caFile read check for
 * other ids until the caller sets uid and gid).  sp, when not NULL, is the
 * split parse of the file (config.c): "endpoints" members then hold the
 * number of the piece to parse.  Free with compile_free.
 */
void	 compile_init(struct compile *c, struct syerrs *errs,
	    struct cf_split *sp);
/* The "projects" member of a config: every project in it. */
void	 compile_projects(struct compile *c, struct json_object *projects);
/* One project pv named pid, at JSON path "projects.<pid>". */
void	 compile_project(struct compile *c, struct json_object *pv,
	    const char *pid);
/*
 * One service sv named sid of project pid, at JSON path
 * "projects.<pid>.remoteServices.<sid>": its "S/" record and the "E/"
 * records of its endpoints.  Returns 0, or -1 when a problem was
 * reported (the records are then not to be committed).
 */
int	 compile_service(struct compile *c, struct json_object *sv,
	    const char *pid, const char *sid);
/* Sort the records by key, as LMDB appends sorted keys fastest. */
void	 compile_sort(struct compile *c);
/* Free the records still in c and its buffer. */
void	 compile_free(struct compile *c);
/* Append key and val (taken) to the n entries of *e, of room *cap. */
void	 compile_entry_push(struct sy_regentry **e, size_t *n, size_t *cap,
	    char *key, char *val);
/* Free n entries' keys and values, and e. */
void	 compile_entries_free(struct sy_regentry *e, size_t n);

#endif
