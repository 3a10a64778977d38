/*
 * gqlconf.c: a project's GraphQL limits (gqlconf.h).  The compiler reads
 * them from the config and writes them, every member resolved, into the
 * project record; workers read that record back with the same function,
 * so that the defaults live in one place.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "gqlconf.h"
#include "jconf.h"
#include "util.h"

#define GQLCONF_MAX_SECONDS	86400.0
#define GQLCONF_MAX_INT		1000000
#define GQLCONF_NINTS		(sizeof(gqlconf_ints) / sizeof(gqlconf_ints[0]))

static const struct {
	const char	*name;
	size_t		 off;
} gqlconf_ints[] = {
	{ "maxDepth", offsetof(struct gqlconf, max_depth) },
	{ "maxFields", offsetof(struct gqlconf, max_fields) },
	{ "maxFanOut", offsetof(struct gqlconf, max_fanout) },
	{ "maxCalls", offsetof(struct gqlconf, max_calls) },
	{ "maxConcurrency", offsetof(struct gqlconf, max_concurrency) },
};

void
gqlconf_defaults(struct gqlconf *c)
{
	c->timeout = GQLCONF_TIMEOUT;
	c->max_depth = GQLCONF_MAX_DEPTH;
	c->max_fields = GQLCONF_MAX_FIELDS;
	c->max_fanout = GQLCONF_MAX_FANOUT;
	c->max_calls = GQLCONF_MAX_CALLS;
	c->max_concurrency = GQLCONF_MAX_CONCURRENCY;
}

static int
gqlconf_timeout(struct gqlconf *c, struct json_object *v, const char *path,
    const char *member, struct syerrs *errs)
{
	if (jconf_number(v, 0, 1, GQLCONF_MAX_SECONDS, &c->timeout) == 0)
		return (0);
	c->timeout = GQLCONF_TIMEOUT;
	if (errs != NULL)
		jconf_err(errs, path, member, "must be a number of seconds "
		    "greater than 0 and at most %.0f", GQLCONF_MAX_SECONDS);
	return (-1);
}

int
gqlconf_parse(struct gqlconf *c, struct json_object *pv, const char *path,
    struct syerrs *errs)
{
	struct json_object	*g, *v;
	char			*gpath;
	size_t			 i;
	int			 rc = 0;

	gqlconf_defaults(c);
	g = jconf_get(pv, "graphql");
	if (g != NULL && !jconf_is_object(g)) {
		if (errs != NULL)
			jconf_err(errs, path, "graphql", "%s", "must be an "
			    "object of limits");
		return (-1);
	}
	if ((gpath = jconf_cat(path, ".graphql", (char *)NULL)) == NULL)
		return (-1);
	if ((v = jconf_get(g, "timeout")) != NULL)
		rc |= gqlconf_timeout(c, v, gpath, "timeout", errs);
	else if ((v = jconf_get(pv, "contextTimeGraphQL")) != NULL)
		rc |= gqlconf_timeout(c, v, path, "contextTimeGraphQL", errs);
	for (i = 0; g != NULL && i < GQLCONF_NINTS; i++) {
		if ((v = jconf_get(g, gqlconf_ints[i].name)) == NULL)
			continue;
		if (jconf_integer(v, 1, GQLCONF_MAX_INT, (int64_t *)(void *)
		    ((char *)c + gqlconf_ints[i].off)) == 0)
			continue;
		rc = -1;
		if (errs != NULL)
			jconf_err(errs, gpath, gqlconf_ints[i].name, "must be "
			    "an integer from 1 to %d", GQLCONF_MAX_INT);
	}
	free(gpath);
	return (rc);
}

struct json_object *
gqlconf_record(const struct gqlconf *c)
{
	struct json_object	*o;
	size_t			 i;

	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	json_object_object_add(o, "timeout", json_object_new_double(
	    c->timeout));
	for (i = 0; i < GQLCONF_NINTS; i++)
		json_object_object_add(o, gqlconf_ints[i].name,
		    json_object_new_int64(*(const int64_t *)(const void *)
		    ((const char *)c + gqlconf_ints[i].off)));
	return (o);
}
