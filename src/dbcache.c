/*
 * dbcache.c: a worker's open databases (see dbcache.h), a short list
 * keyed by project and alias (a project has few databases).
 *
 * Invariants:
 * - The list holds one reference on each entry; a holder (a GraphQL
 *   request reading from it) holds another until it ends, so an entry
 *   replaced by a reload stays open until its last read has finished.
 * - An entry is current while the entry text of the project record and
 *   its basedir (joined by a newline, which plain JSON text never holds)
 *   equal the text it was made from; the connection string is part of
 *   that text and is never logged.
 * - The database (db.c) borrows conf: it is freed before conf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "db.h"
#include "dbcache.h"
#include "log.h"
#include "rule.h"
#include "util.h"

struct dbcache {
	struct event_base	*base;
	struct dbcache_db	*head;
};

struct dbcache *
dbcache_new(struct event_base *base)
{
	struct dbcache	*dc;

	if ((dc = calloc(1, sizeof(*dc))) == NULL)
		return (NULL);
	dc->base = base;
	return (dc);
}

void
dbcache_free(struct dbcache *dc)
{
	struct dbcache_db	*d, *next;

	if (dc == NULL)
		return;
	for (d = dc->head; d != NULL; d = next) {
		next = d->next;
		dbcache_put(d);
	}
	free(dc);
}

void
dbcache_put(struct dbcache_db *d)
{
	size_t	i;

	if (d == NULL || --d->refcnt > 0)
		return;
	if (d->db != NULL)
		db_free(d->db);
	for (i = 0; d->rules != NULL && i < d->conf.ntables; i++)
		rule_free(d->rules[i]);
	free(d->rules);
	dbconf_free(&d->conf);
	free(d->key);
	free(d->text);
	free(d);
}

/* The read rules of d's tables; 0, or -1 (logged). */
static int
dbcache_rules(struct dbcache_db *d)
{
	struct syerrs	 errs;
	size_t		 i;
	int		 rc = 0;

	if ((d->rules = calloc(d->conf.ntables + 1, sizeof(*d->rules))) ==
	    NULL)
		return (-1);
	syerrs_init(&errs);
	for (i = 0; i < d->conf.ntables; i++) {
		if (d->conf.tables[i].read_rule == NULL)
			continue;
		d->rules[i] = rule_compile(d->conf.tables[i].read_rule,
		    "rules.read", &errs);
		if (d->rules[i] == NULL)
			rc = -1;
	}
	if (rc == -1)
		log_warnx("%s: database %s: %s", __func__, d->conf.alias,
		    errs.n > 0 ? errs.msg[0] : "out of memory");
	syerrs_free(&errs);
	return (rc);
}

/* A new entry (one reference) for key made from entry; NULL: logged. */
static struct dbcache_db *
dbcache_open(struct dbcache *dc, const char *key, size_t keylen,
    const char *alias, struct json_object *entry, const char *text,
    const char *basedir)
{
	struct dbcache_db	*d;
	struct syerrs		 errs;

	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->key = malloc(keylen)) == NULL ||
	    (d->text = strdup(text)) == NULL) {
		if (d != NULL)
			free(d->key);
		free(d);
		return (NULL);
	}
	d->refcnt = 1;
	memcpy(d->key, key, keylen);
	d->keylen = keylen;
	syerrs_init(&errs);
	if (dbconf_parse(&d->conf, alias, entry, alias, &errs) == -1)
		log_warnx("%s: database %s: %s", __func__, alias,
		    errs.n > 0 ? errs.msg[0] : "does not read");
	else if (dbcache_rules(d) == 0 &&
	    (d->db = db_new(dc->base, &d->conf, basedir)) == NULL)
		log_warnx("%s: database %s: cannot be opened", __func__,
		    alias);
	syerrs_free(&errs);
	if (d->db == NULL) {
		dbcache_put(d);
		return (NULL);
	}
	return (d);
}

struct dbcache_db *
dbcache_get(struct dbcache *dc, const char *project, const char *alias,
    struct json_object *entry, const char *basedir)
{
	struct dbcache_db	*d, **pp;
	struct sybuf		 k, t;

	sybuf_init(&k);
	sybuf_init(&t);
	d = NULL;
	if (sybuf_addstr(&k, project) == -1 || sybuf_addc(&k, '\0') == -1 ||
	    sybuf_addstr(&k, alias) == -1 || sybuf_addstr(&t,
	    json_object_to_json_string_ext(entry, JSON_C_TO_STRING_PLAIN)) ==
	    -1 || sybuf_addc(&t, '\n') == -1 || (basedir != NULL &&
	    sybuf_addstr(&t, basedir) == -1) || sybuf_addc(&t, '\0') == -1)
		goto out;
	for (pp = &dc->head; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->keylen == k.len &&
		    memcmp((*pp)->key, k.data, k.len) == 0)
			break;
	if ((d = *pp) != NULL && strcmp(d->text, t.data) == 0)
		goto out;
	if (d != NULL) {	/* changed by a reload: holders keep it */
		*pp = d->next;
		dbcache_put(d);
	}
	if ((d = dbcache_open(dc, k.data, k.len, alias, entry, t.data,
	    basedir)) != NULL) {
		d->next = dc->head;
		dc->head = d;
	}
out:
	sybuf_free(&k);
	sybuf_free(&t);
	if (d != NULL)
		d->refcnt++;
	return (d);
}

int
dbcache_rule(const struct dbcache_db *d, const char *table,
    const struct rule **rule)
{
	size_t	i;

	*rule = NULL;
	for (i = 0; i < d->conf.ntables; i++)
		if (strcmp(d->conf.tables[i].name, table) == 0) {
			*rule = d->rules[i];
			return (1);
		}
	return (0);
}
