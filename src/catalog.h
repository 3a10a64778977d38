/*
 * catalog.h: a worker's cache of compiled endpoints for the registry
 * generation it last saw.  Every lookup opens a short read transaction,
 * reads the generation, and drops the whole cache when it changed, so a
 * reload is served by the next request without restarting the worker.
 * Records are decoded only on a cache miss.
 */
#ifndef SY_CATALOG_H
#define SY_CATALOG_H

#include <stddef.h>
#include <stdint.h>

struct registry;
struct sy_endpoint;
struct sy_project;

enum catalog_status {
	CATALOG_OK = 0,
	CATALOG_NO_PROJECT,
	CATALOG_NO_SERVICE,
	CATALOG_NO_ENDPOINT,
	CATALOG_ERROR
};

struct catalog;

/* reg is borrowed and must outlive the catalog. */
struct catalog		*catalog_new(struct registry *reg);
void			 catalog_free(struct catalog *);

/*
 * Find the endpoint and, when proj is not NULL, its compiled project.
 * On CATALOG_OK *out (and *proj) are new references (caller releases
 * them with endpoint_unref and project_unref).  Names are NUL-terminated.
 * A project record that does not decode is CATALOG_ERROR.
 */
enum catalog_status	 catalog_lookup(struct catalog *, const char *project,
			    const char *service, const char *endpoint,
			    struct sy_endpoint **out, struct sy_project **proj);

/*
 * The compiled project (a new reference in *proj, released with
 * project_unref): CATALOG_OK, CATALOG_NO_PROJECT or CATALOG_ERROR.
 */
enum catalog_status	 catalog_find_project(struct catalog *,
			    const char *project, struct sy_project **proj);
/*
 * Call cb for every project of the current generation (compiled and
 * cached as a lookup would); the project is borrowed for the call.
 */
void			 catalog_each_project(struct catalog *,
			    void (*cb)(struct sy_project *, void *), void *arg);

/*
 * The config API's records (cfgapi.h), read raw in one read
 * transaction: the generation into *gen, the config document's hash
 * (key "#cfg", "" when absent) into sha, and cb for every key that
 * begins with prefix (none when NULL), borrowed for the call.  0 / -1.
 */
int			 catalog_raw(struct catalog *, const char *prefix,
			    void (*cb)(const char *key, size_t keylen,
			    const char *val, size_t vallen, void *arg),
			    void *arg, uint64_t *gen, char *sha,
			    size_t shasize);

/* The generation of the last lookup (0 before any). */
uint64_t		 catalog_generation(const struct catalog *);

#endif
