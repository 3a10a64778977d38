/*
 * cfadmin.c: the members of server.admin that configure the config API
 * and the web console (SPEC 9.1): the admin user, key and token secret
 * (inline, from a file, or from the master's environment, which wins),
 * the token lifetime and the login lockout, and the two switches.  The
 * API is on when user, key and secret are all known and off when none
 * is; anything between is a config error.
 *
 * Invariant: a key or a secret never appears in an error message or a
 * log line; a message names the member, never its value.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "auth.h"
#include "cfadmin.h"
#include "config.h"
#include "crypto.h"
#include "jconf.h"
#include "log.h"
#include "util.h"

#define CFA_KEY_MIN	12
#define CFA_SECRET_MIN	32
#define CFA_FILE_MAX	65536

static void
cfa_set(char **dst, const char *s)
{
	free(*dst);
	*dst = s != NULL ? xstrdup(s) : NULL;
}

/* A string member; 0 and an error otherwise. */
static int
cfa_str(struct json_object *v, const char *path, struct syerrs *errs,
    char **dst)
{
	const char	*s;

	if ((s = jconf_str(v)) == NULL || *s == '\0') {
		syerrs_add(errs, path, "must be a non-empty string");
		return (0);
	}
	cfa_set(dst, s);
	return (1);
}

static int
cfa_num(struct json_object *v, const char *path, struct syerrs *errs,
    double lo, double hi, int integer, double *dst)
{
	double	d;

	if (v == NULL || (!json_object_is_type(v, json_type_int) &&
	    (integer || !json_object_is_type(v, json_type_double))) ||
	    (d = json_object_get_double(v)) < lo || d > hi) {
		syerrs_add(errs, path, "must be %s from %g to %g",
		    integer ? "a whole number" : "a number of seconds", lo, hi);
		return (0);
	}
	*dst = d;
	return (1);
}

static int
cfa_bool(struct json_object *v, const char *path, struct syerrs *errs,
    int *dst)
{
	if (v == NULL || !json_object_is_type(v, json_type_boolean)) {
		syerrs_add(errs, path, "must be true or false");
		return (0);
	}
	*dst = json_object_get_boolean(v);
	return (1);
}

int
cfadmin_member(struct sy_server *srv, const char *name, struct json_object *v,
    const char *path, struct syerrs *errs)
{
	double	d;

	if (strcmp(name, "user") == 0)
		cfa_str(v, path, errs, &srv->admin_user);
	else if (strcmp(name, "key") == 0)
		cfa_str(v, path, errs, &srv->admin_key);
	else if (strcmp(name, "keyFile") == 0)
		cfa_str(v, path, errs, &srv->admin_key_file);
	else if (strcmp(name, "secret") == 0)
		cfa_str(v, path, errs, &srv->admin_secret);
	else if (strcmp(name, "secretFile") == 0)
		cfa_str(v, path, errs, &srv->admin_secret_file);
	else if (strcmp(name, "tokenLifetime") == 0)
		cfa_num(v, path, errs, 60, 604800, 0,
		    &srv->admin_token_lifetime);
	else if (strcmp(name, "maxLoginFailures") == 0) {
		if (cfa_num(v, path, errs, 1, 1000, 1, &d))
			srv->admin_max_failures = (int)d;
	} else if (strcmp(name, "loginLockout") == 0)
		cfa_num(v, path, errs, 1, 86400, 0, &srv->admin_lockout);
	else if (strcmp(name, "console") == 0)
		cfa_bool(v, path, errs, &srv->admin_console);
	else if (strcmp(name, "servePublic") == 0)
		cfa_bool(v, path, errs, &srv->admin_serve_public);
	else
		return (0);
	return (1);
}

void
cfadmin_defaults(struct sy_server *srv)
{
	srv->admin_token_lifetime = 3600;
	srv->admin_max_failures = 5;
	srv->admin_lockout = 60;
	srv->admin_console = 1;
	srv->admin_serve_public = 0;
}

void
cfadmin_free(struct sy_server *srv)
{
	sy_wipe_free(srv->admin_key);
	sy_wipe_free(srv->admin_secret);
	free(srv->admin_user);
	free(srv->admin_key_file);
	free(srv->admin_secret_file);
	srv->admin_user = srv->admin_key = srv->admin_secret = NULL;
	srv->admin_key_file = srv->admin_secret_file = NULL;
}

/*
 * *dst from a credential file (one trailing newline stripped); a file
 * that others than its owner may read is worth a warning, not an error.
 */
static void
cfa_read(const char *file, const char *path, struct syerrs *errs, char **dst)
{
	struct stat	 st;
	char		*text;
	size_t		 len;

	if (sy_read_file(file, CFA_FILE_MAX, &text, &len) == -1) {
		syerrs_add(errs, path, "cannot read %s: %s", file,
		    strerror(errno));
		return;
	}
	if (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	if (strlen(text) != len) {
		syerrs_add(errs, path, "%s holds a NUL byte", file);
		sy_wipe_free(text);
		return;
	}
	if (stat(file, &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)))
		log_warnx("%s: %s can be read by others than its owner; "
		    "chmod 0600 it", path, file);
	sy_wipe_free(*dst);
	*dst = text;
}

/* The environment wins over the file; *File members are read now. */
static void
cfa_sources(struct sy_server *srv, struct syerrs *errs)
{
	const char	*e;

	if (srv->admin_key != NULL && srv->admin_key_file != NULL)
		syerrs_add(errs, "server.admin", "\"key\" and \"keyFile\" are "
		    "both set: give one of them");
	if (srv->admin_secret != NULL && srv->admin_secret_file != NULL)
		syerrs_add(errs, "server.admin", "\"secret\" and \"secretFile\" "
		    "are both set: give one of them");
	if ((e = getenv("SWITCHYARD_ADMIN_USER")) != NULL && *e != '\0')
		cfa_set(&srv->admin_user, e);
	if ((e = getenv("SWITCHYARD_ADMIN_KEY")) != NULL && *e != '\0')
		cfa_set(&srv->admin_key, e);
	else if (srv->admin_key_file != NULL)
		cfa_read(srv->admin_key_file, "server.admin.keyFile", errs,
		    &srv->admin_key);
	if ((e = getenv("SWITCHYARD_ADMIN_SECRET")) != NULL && *e != '\0')
		cfa_set(&srv->admin_secret, e);
	else if (srv->admin_secret_file != NULL)
		cfa_read(srv->admin_secret_file, "server.admin.secretFile", errs,
		    &srv->admin_secret);
}

/* The admin secret must sign nothing a project secret verifies. */
static void
cfa_not_a_project_secret(const struct sy_server *srv,
    struct json_object *projects, struct syerrs *errs)
{
	struct json_object	*secrets, *s;
	size_t			 i, n;
	const char		*v;

	if (projects == NULL || !jconf_is_object(projects))
		return;
	json_object_object_foreach(projects, pid, pv) {
		if (!jconf_is_object(pv) ||
		    (secrets = jconf_get(pv, "secrets")) == NULL ||
		    !json_object_is_type(secrets, json_type_array))
			continue;
		n = json_object_array_length(secrets);
		for (i = 0; i < n; i++) {
			s = json_object_array_get_idx(secrets, i);
			if (jconf_is_object(s) &&
			    (v = jconf_str(jconf_get(s, "secret"))) != NULL &&
			    strcmp(v, srv->admin_secret) == 0)
				syerrs_add(errs, "server.admin.secret", "must "
				    "not be a project's secret (projects.%s."
				    "secrets[%zu])", pid, i);
		}
	}
}

void
cfadmin_check(struct sy_server *srv, struct json_object *projects,
    struct syerrs *errs)
{
	int	n;

	cfa_sources(srv, errs);
	/* a named file counts as given: one that cannot be read says so */
	n = (srv->admin_user != NULL) + (srv->admin_key != NULL ||
	    srv->admin_key_file != NULL) + (srv->admin_secret != NULL ||
	    srv->admin_secret_file != NULL);
	srv->admin_api = srv->admin_user != NULL && srv->admin_key != NULL &&
	    srv->admin_secret != NULL;
	if (n == 3 && !srv->admin_api)
		return;
	if (n == 0 || n == 3) {
		if (n == 3 && strlen(srv->admin_key) < CFA_KEY_MIN)
			syerrs_add(errs, "server.admin.key", "must be at least "
			    "%d characters", CFA_KEY_MIN);
		if (n == 3 && strlen(srv->admin_secret) < CFA_SECRET_MIN)
			syerrs_add(errs, "server.admin.secret", "must be at "
			    "least %d bytes", CFA_SECRET_MIN);
		if (n == 3)
			cfa_not_a_project_secret(srv, projects, errs);
		return;
	}
	syerrs_add(errs, "server.admin", "%s is set but no %s",
	    srv->admin_user != NULL ? "\"user\"" : srv->admin_key != NULL ||
	    srv->admin_key_file != NULL ? "\"key\"" : "\"secret\"",
	    srv->admin_user == NULL ? "\"user\"" : srv->admin_key == NULL &&
	    srv->admin_key_file == NULL ? "\"key\"" : "\"secret\"");
	srv->admin_api = 0;
}

char *
cfadmin_record(const struct sy_server *srv)
{
	struct json_object	*o;
	char			 md[65], *text;

	if (!srv->admin_api)
		return (NULL);
	auth_sha256_hex(srv->admin_key, strlen(srv->admin_key), md);
	o = json_object_new_object();
	json_object_object_add(o, "user",
	    json_object_new_string(srv->admin_user));
	json_object_object_add(o, "keySha256", json_object_new_string(md));
	json_object_object_add(o, "secret",
	    json_object_new_string(srv->admin_secret));
	json_object_object_add(o, "tokenLifetime",
	    json_object_new_double(srv->admin_token_lifetime));
	json_object_object_add(o, "console",
	    json_object_new_boolean(srv->admin_console));
	text = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	/* json-c's copies of the secret and digest are wiped before free */
	crypto_wipe((char *)json_object_get_string(json_object_object_get(o,
	    "secret")), strlen(srv->admin_secret));
	crypto_wipe(md, sizeof(md));
	json_object_put(o);
	return (text);
}
