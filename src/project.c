/*
 * project.c: decodes a project record into its compiled form.  The
 * secrets were validated when the config was loaded; they are compiled
 * again here because OpenSSL keys cannot cross the fork from the master
 * (which holds none) and are per worker.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "auth.h"
#include "project.h"
#include "util.h"

struct sy_project *
project_decode(const char *rec, size_t len, char **err)
{
	struct json_object	*v, *name, *secrets = NULL, *dbs, *dir;
	struct sy_project	*p;
	struct syerrs		 errs;

	*err = NULL;
	if ((v = json_tokener_parse(rec)) == NULL ||
	    !json_object_is_type(v, json_type_object) ||
	    !json_object_object_get_ex(v, "project", &name) ||
	    !json_object_is_type(name, json_type_string)) {
		json_object_put(v);
		*err = strdup("project record is not {\"project\",...}");
		return (NULL);
	}
	json_object_object_get_ex(v, "secrets", &secrets);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		json_object_put(v);
		return (NULL);
	}
	p->refcnt = 1;
	p->name = strdup(json_object_get_string(name));
	syerrs_init(&errs);
	p->keys = auth_keyset_new(secrets, "secrets", &errs);
	if (p->keys == NULL || p->name == NULL) {
		*err = strdup(errs.n > 0 ? errs.msg[0] : "out of memory");
		syerrs_free(&errs);
		json_object_put(v);
		project_unref(p);
		return (NULL);
	}
	syerrs_free(&errs);
	gqlconf_parse(&p->gql, v, "", NULL);
	if (json_object_object_get_ex(v, "databases", &dbs) &&
	    json_object_is_type(dbs, json_type_object))
		p->dbs = json_object_get(dbs);
	if (json_object_object_get_ex(v, "dbBasedir", &dir) &&
	    json_object_is_type(dir, json_type_string))
		p->dbdir = strdup(json_object_get_string(dir));
	json_object_put(v);
	return (p);
}

struct sy_project *
project_ref(struct sy_project *p)
{
	p->refcnt++;
	return (p);
}

void
project_unref(struct sy_project *p)
{
	if (p == NULL || --p->refcnt > 0)
		return;
	auth_keyset_free(p->keys);
	json_object_put(p->dbs);
	free(p->dbdir);
	free(p->sc_token);
	free(p->name);
	free(p);
}

/* Sign claims (taking over the object) into "Bearer <jwt>". */
static char *
project_sign(struct sy_project *p, struct json_object *claims)
{
	const char	*text;
	char		*jwt, *out = NULL;
	size_t		 len;

	text = json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN);
	jwt = auth_sign(p->keys, text, strlen(text));
	json_object_put(claims);
	if (jwt == NULL)
		return (NULL);
	len = strlen(jwt) + 8;
	if ((out = malloc(len)) != NULL)
		snprintf(out, len, "Bearer %s", jwt);
	free(jwt);
	return (out);
}

static struct json_object *
project_claims(const char *node_id, double now, double life)
{
	struct json_object	*c;

	if ((c = json_object_new_object()) == NULL)
		return (NULL);
	json_object_object_add(c, "id", json_object_new_string(node_id));
	json_object_object_add(c, "role", json_object_new_string("SpaceCloud"));
	json_object_object_add(c, "iat", json_object_new_int64((int64_t)now));
	json_object_object_add(c, "exp",
	    json_object_new_int64((int64_t)now + (int64_t)life));
	return (c);
}

const char *
project_sc_token(struct sy_project *p, const char *node_id, double now)
{
	struct json_object	*claims;
	char			*tok;

	if (!auth_keyset_can_sign(p->keys))
		return (NULL);
	if (p->sc_token != NULL && p->sc_exp - now > PROJECT_SC_REUSE)
		return (p->sc_token);
	if ((claims = project_claims(node_id, now, PROJECT_SC_LIFETIME)) ==
	    NULL || (tok = project_sign(p, claims)) == NULL)
		return (p->sc_token);	/* the old one, while it lasts */
	free(p->sc_token);
	p->sc_token = tok;
	p->sc_exp = (double)(int64_t)now + PROJECT_SC_LIFETIME;
	return (p->sc_token);
}

char *
project_bound_token(struct sy_project *p, const char *node_id,
    const char *service, const char *method, const char *path,
    size_t pathlen, const char *body, size_t bodylen, double now)
{
	struct json_object	*c;
	char			 sha[65], jti[33];

	if (!auth_keyset_can_sign(p->keys) ||
	    auth_random_hex(jti, 16) == -1 ||
	    (c = project_claims(node_id, now, PROJECT_SC_BOUND_LIFE)) == NULL)
		return (NULL);
	auth_sha256_hex(body, bodylen, sha);
	json_object_object_add(c, "aud", json_object_new_string(service));
	json_object_object_add(c, "method", json_object_new_string(method));
	json_object_object_add(c, "path",
	    json_object_new_string_len(path, (int)pathlen));
	json_object_object_add(c, "bodySha256", json_object_new_string(sha));
	json_object_object_add(c, "jti", json_object_new_string(jti));
	return (project_sign(p, c));
}
