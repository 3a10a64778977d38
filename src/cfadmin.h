/*
 * cfadmin.h: server.admin's config API and console members (SPEC 9.1),
 * read by config.c: credentials, token and lockout limits, switches.
 */
#ifndef SY_CFADMIN_H
#define SY_CFADMIN_H

struct json_object;
struct sy_server;
struct syerrs;

/* Defaults: tokenLifetime 3600, maxLoginFailures 5, loginLockout 60,
 * console on, servePublic off; no credentials (the API off). */
void	 cfadmin_defaults(struct sy_server *);

/* One member of server.admin other than "listen": 1, or 0 if unknown. */
int	 cfadmin_member(struct sy_server *, const char *name,
	    struct json_object *v, const char *path, struct syerrs *errs);

/*
 * Once the server section is read and its paths resolved: take the
 * credentials from the environment or their files, decide whether the
 * API is on, and check them (lengths, all or none, the secret not a
 * project's).  projects is the config's "projects" member, or NULL.
 */
void	 cfadmin_check(struct sy_server *, struct json_object *projects,
	    struct syerrs *errs);

/*
 * What workers need of the config API's credentials, for the registry
 * (cfgapi.h's "#adm" record), so that a reload changes them in place:
 * {"user", "keySha256" (hex SHA-256 of the key), "secret",
 * "tokenLifetime", "console"}, or NULL when the API is off.  The text
 * holds the secret: the caller wipes it (explicit_bzero) and frees it.
 */
char	*cfadmin_record(const struct sy_server *);

/* Free the credentials, wiping the key and the secret. */
void	 cfadmin_free(struct sy_server *);

#endif
