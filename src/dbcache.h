/*
 * dbcache.h: a worker's open databases (SPEC 8.10), one per project and
 * alias, made on first use from the entry in the project's record and
 * kept across requests.  When a reload changes an entry, the next
 * lookup makes a new one; reads in flight finish on the old one, which
 * is freed with its last reference.
 */
#ifndef SY_DBCACHE_H
#define SY_DBCACHE_H

#include <stddef.h>

#include "dbconf.h"

struct db;
struct event_base;
struct json_object;
struct rule;
struct dbcache;

/* One open database; members are read-only for holders. */
struct dbcache_db {
	int			 refcnt;
	char			*key;		/* project NUL alias */
	size_t			 keylen;
	char			*text;		/* entry \n basedir */
	struct dbconf		 conf;
	struct db		*db;
	struct rule		**rules;	/* per conf.tables; NULL: deny */
	struct dbcache_db	*next;
};

/* base is borrowed and must outlive the cache.  NULL: no memory. */
struct dbcache		*dbcache_new(struct event_base *base);
/* Drop the cache's references; databases nobody holds are freed. */
void			 dbcache_free(struct dbcache *);

/*
 * The database of project's alias whose record entry is entry (and
 * basedir, or NULL): a new reference (dbcache_put), or NULL when the
 * entry does not read (logged) or memory is short.
 */
struct dbcache_db	*dbcache_get(struct dbcache *, const char *project,
			    const char *alias, struct json_object *entry,
			    const char *basedir);
/* Release a reference; the last one frees it (never from its callback). */
void			 dbcache_put(struct dbcache_db *);

/*
 * The read rule of table: 1 and *rule (NULL: no read rule, deny) when
 * the table is listed, else 0.
 */
int			 dbcache_rule(const struct dbcache_db *,
			    const char *table, const struct rule **rule);

#endif
