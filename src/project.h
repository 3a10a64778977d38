/*
 * project.h: the compiled form of a project's registry record ("P/<p>"):
 * its secrets as an auth keyset, and the project's cached X-SC-Token.
 * Shared by reference count between the catalog and calls in flight.
 */
#ifndef SY_PROJECT_H
#define SY_PROJECT_H

#include <stddef.h>

#include "gqlconf.h"

struct auth_keyset;
struct json_object;

struct sy_project {
	int			 refcnt;
	char			*name;
	struct auth_keyset	*keys;
	char			*sc_token;	/* "Bearer <jwt>" or NULL */
	double			 sc_exp;	/* its exp, Unix seconds */
	int			 jwks_wanted;	/* JWKS fetches were asked for */
	struct gqlconf		 gql;		/* GraphQL limits (SPEC 8.8) */
	/* enabled databases: alias -> entry as written (SPEC 8.10); one
	   reference, or NULL; and the config file's directory or NULL */
	struct json_object	*dbs;
	char			*dbdir;
};

/*
 * Decode {"project","secrets","graphql","databases","dbBasedir"}.  NULL
 * with *err (caller frees).
 */
struct sy_project	*project_decode(const char *rec, size_t len,
			    char **err);
struct sy_project	*project_ref(struct sy_project *);
void			 project_unref(struct sy_project *);

#define PROJECT_SC_LIFETIME	1800.0	/* X-SC-Token exp - iat, seconds */
#define PROJECT_SC_REUSE	300.0	/* reuse while more than this left */
#define PROJECT_SC_BOUND_LIFE	60.0	/* a request-bound token's life */

/*
 * The project's X-SC-Token header value "Bearer <jwt>" (borrowed from
 * the project), minted again when 5 minutes or less remain; NULL when the
 * project has no secret that can sign.  now: Unix seconds.
 */
const char		*project_sc_token(struct sy_project *, const char *node_id,
			    double now);

/*
 * A token bound to one upstream request (scToken.bindRequest): also
 * carries aud (the service), method, path (without the query),
 * bodySha256 of the exact body bytes, a unique jti, and a 60 s exp.
 * Returns "Bearer <jwt>" (caller frees) or NULL.
 */
char			*project_bound_token(struct sy_project *,
			    const char *node_id, const char *service,
			    const char *method, const char *path, size_t pathlen,
			    const char *body, size_t bodylen, double now);

#endif
