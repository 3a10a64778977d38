/*
 * gqlconf.h: a project's "graphql" limits (SPEC 8.8), read from the
 * config by the compiler (which reports every problem with its JSON
 * path) and again from the project record by the workers.
 */
#ifndef SY_GQLCONF_H
#define SY_GQLCONF_H

#include <stdint.h>

struct json_object;
struct syerrs;

struct gqlconf {
	double		 timeout;	/* seconds, > 0 */
	int64_t		 max_depth;
	int64_t		 max_fields;
	int64_t		 max_fanout;
	int64_t		 max_calls;
	int64_t		 max_concurrency;
};

#define GQLCONF_TIMEOUT		10.0
#define GQLCONF_MAX_DEPTH	10
#define GQLCONF_MAX_FIELDS	500
#define GQLCONF_MAX_FANOUT	100
#define GQLCONF_MAX_CALLS	500
#define GQLCONF_MAX_CONCURRENCY	16

/* The defaults above. */
void	gqlconf_defaults(struct gqlconf *);

/*
 * Read the project object pv (at JSON path path): its "graphql" member,
 * and Space Cloud's "contextTimeGraphQL" when graphql.timeout is absent.
 * Problems go to errs (may be NULL); 0 when there were none, else -1
 * (c then holds the defaults where a member was bad).
 */
int	gqlconf_parse(struct gqlconf *c, struct json_object *pv,
	    const char *path, struct syerrs *errs);

/* The resolved limits as a "graphql" object for the project record. */
struct json_object *gqlconf_record(const struct gqlconf *);

#endif
