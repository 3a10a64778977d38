/*
 * compile.c: a project's JSON -> registry records (see compile.h).  The
 * "projects" tree has Space Cloud's shape and is open: members
 * switchyard does not know are ignored, so that Space Cloud configs load
 * unchanged.  Project and service records are written here, endpoint
 * records by endpoint.c, and key sets are compiled by auth.c only to be
 * checked.  Every problem is reported with its JSON path; records are
 * kept even when there are problems, and the caller drops them all.
 * This runs in the master only, so allocations abort on failure.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth.h"
#include "cfsplit.h"
#include "compile.h"
#include "dbconf.h"
#include "endpoint.h"
#include "gqlconf.h"
#include "jconf.h"
#include "proc.h"
#include "rule.h"
#include "util.h"

#define CP_JSON_FLAGS \
	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
/* a name's length limit keeps "E/p/s/e" under LMDB's 511-byte keys */
#define CP_MAX_NAME	128
/* the master only: out of memory aborts (sy_must) */
#define CP_PATHF(...)	((char *)sy_must(jconf_strf(__VA_ARGS__)))
#define CP_CAT(...)	((char *)sy_must(jconf_cat(__VA_ARGS__)))

/*
 * A service's "endpoints" member v (NULL when missing or null) into *out
 * (caller puts): in split mode v is the number of the piece to parse.
 * -1 when that piece does not parse (the file then takes the plain
 * parse).
 */
static int
cp_endpoints_value(struct compile *st, struct json_object *v,
    struct json_object **out)
{
	int64_t	i;

	*out = NULL;
	if (st->sp == NULL || v == NULL) {
		*out = json_object_get(v);
		return (0);
	}
	i = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || i < 0 ||
	    (uint64_t)i >= st->sp->npieces) {
		st->sp->failed = 1;
		return (-1);
	}
	return (cf_split_piece(st->sp, (size_t)i, out));
}

/*
 * The "projects" tree and the registry.
 */

/* Takes ownership of key and val. */
static void
cp_add_text(struct compile *st, char *key, char *val)
{
	compile_entry_push(&st->ents, &st->nents, &st->cap, key, val);
}

/* Takes ownership of key; rec is put. */
static void
cp_add_record(struct compile *st, char *key, struct json_object *rec)
{
	cp_add_text(st, key,
	    xstrdup(json_object_to_json_string_ext(rec, CP_JSON_FLAGS)));
	json_object_put(rec);
}

/* An "R/" record: key and val are taken (see struct compile). */
static void
cp_add_raw(struct compile *st, char *key, char *val)
{
	compile_entry_push(&st->raw, &st->nraw, &st->rawcap, key, val);
}

/*
 * The service's "R/" record: sv as the config API stores and serves it.
 * With a split parse sv's "endpoints" holds a piece number, so the
 * parsed piece eps stands in for it while sv is written.
 */
static void
cp_service_raw(struct compile *st, struct json_object *sv,
    struct json_object *eps, const char *pid, const char *sid)
{
	struct json_object	*held = jconf_get(sv, "endpoints");
	int			 swap = held != NULL && eps != NULL &&
				    held != eps;

	if (!st->want_raw)
		return;
	if (swap) {
		json_object_get(held);
		json_object_object_add(sv, "endpoints", json_object_get(eps));
	}
	cp_add_raw(st, CP_PATHF("R/%s/%s", pid, sid),
	    xstrdup(json_object_to_json_string_ext(sv, CP_JSON_FLAGS)));
	if (swap)
		json_object_object_add(sv, "endpoints", held);
}

/* Report an id outside [A-Za-z0-9_-]{1,128}; 1 when it is good. */
static int
cp_name_ok(const char *name, const char *path, const char *what,
    struct syerrs *errs)
{
	const char	*p;

	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			break;
	if (*p == '\0' && p > name && p - name <= CP_MAX_NAME)
		return (1);
	syerrs_add(errs, path, "bad %s \"%s\" (use 1 to %d of A-Z, a-z, 0-9, "
	    "\"_\" and \"-\")", what, name, CP_MAX_NAME);
	return (0);
}

/* Name of the first endpoint that needs the service url, or NULL. */
static const char *
cp_first_internal(struct json_object *eps)
{
	struct json_object_iterator	 it, end;
	struct json_object		*ev, *k;

	if (!jconf_is_object(eps))
		return (NULL);
	it = json_object_iter_begin(eps);
	end = json_object_iter_end(eps);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		ev = json_object_iter_peek_value(&it);
		if (!jconf_is_object(ev))
			continue;
		k = jconf_get(ev, "kind");
		if (k == NULL || (json_object_is_type(k, json_type_string) &&
		    (json_object_get_string_len(k) == 0 ||
		    strcasecmp(json_object_get_string(k), "internal") == 0)))
			return (json_object_iter_peek_name(&it));
	}
	return (NULL);
}

/*
 * The service url: NULL when missing, "" or bad (bad is reported here,
 * missing by the caller, which knows whether an endpoint needs it).
 */
static const char *
cp_service_url(struct json_object *sv, const char *path, int *bad,
    struct syerrs *errs)
{
	struct json_object	*u = jconf_get(sv, "url");
	const char		*s, *why;
	char			*upath;

	*bad = 0;
	if (u == NULL)
		return (NULL);
	*bad = 1;
	if ((s = jconf_str(u)) == NULL) {
		jconf_err(errs, path, "url", "%s", "must be a string such as "
		    "\"http://127.0.0.1:5000\"");
		return (NULL);
	}
	/* Space Cloud's "" for a service of external endpoints: missing */
	if (*s == '\0') {
		*bad = 0;
		return (NULL);
	}
	if ((why = endpoint_check_url(s)) == NULL &&
	    strpbrk(s, "?#") != NULL)
		why = "a service url has no query or fragment";
	if (why != NULL) {
		upath = CP_PATHF("%s.url", path);
		syerrs_add(errs, upath, "malformed URL \"%s\" (%s)", s, why);
		free(upath);
		return (NULL);
	}
	*bad = 0;
	return (s);
}

/*
 * The service's "upstreamClient" (EP_CLIENT_DEFAULT when missing or
 * null; a bad value is reported here).
 */
static enum ep_client
cp_service_client(struct json_object *sv, const char *path,
    struct syerrs *errs)
{
	struct json_object	*v = jconf_get(sv, "upstreamClient");
	int			 c;

	if (v == NULL)
		return (EP_CLIENT_DEFAULT);
	if ((c = endpoint_client_parse(v)) == -1) {
		jconf_err(errs, path, "upstreamClient", "%s", "must be "
		    "\"native\" or \"curl\" (or null: the server's "
		    "upstreamClient)");
		return (EP_CLIENT_DEFAULT);
	}
	return (c);
}

/*
 * Why file cannot serve as a caFile (a static string, or one from *own
 * that the caller frees), or NULL: it must be a regular file this
 * process can open, holding at least one PEM certificate, and readable
 * by the workers' ids.
 */
static const char *
cp_ca_problem(const struct compile *st, const char *file, char **own)
{
	struct stat	 sb;
	FILE		*f;
	X509		*x;

	*own = NULL;
	if ((f = fopen(file, "r")) == NULL)
		return (strerror(errno));
	if (fstat(fileno(f), &sb) == -1 || !S_ISREG(sb.st_mode)) {
		fclose(f);
		return ("not a regular file");
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (x == NULL)
		return ("it holds no PEM certificate (\"-----BEGIN "
		    "CERTIFICATE-----\")");
	X509_free(x);
	if (st->uid != (uid_t)-1 && st->uid != 0 &&
	    proc_can_read(file, st->uid, st->gid, own) == -1)
		return (*own != NULL ? *own : "out of memory");
	return (NULL);
}

/*
 * The service's "caFile": NULL when missing or null, or when a problem
 * was reported here; else its path (caller frees), a relative one
 * joined to the config file's directory.  url is the service's good
 * url or NULL (bad: it was reported).
 */
static char *
cp_service_ca(struct compile *st, struct json_object *sv, const char *url,
    int bad, const char *path)
{
	struct json_object	*v = jconf_get(sv, "caFile");
	const char		*s, *why;
	char			*file, *cpath, *own;

	if (v == NULL)
		return (NULL);
	cpath = CP_PATHF("%s.caFile", path);
	file = NULL;
	if ((s = jconf_str(v)) == NULL || *s == '\0')
		syerrs_add(st->errs, cpath, "must be the path of a PEM file "
		    "of CA certificates (a string)");
	else if (url == NULL && !bad)
		syerrs_add(st->errs, cpath, "applies to https:// URLs only, "
		    "and the service has no url");
	else if (url != NULL && strncasecmp(url, "https://", 8) != 0)
		syerrs_add(st->errs, cpath, "applies to https:// URLs only, "
		    "and the service url is \"%s\"", url);
	else if (url != NULL) {
		file = s[0] == '/' || st->basedir == NULL ? xstrdup(s) :
		    CP_CAT(st->basedir, "/", s, (char *)NULL);
		if ((why = cp_ca_problem(st, file, &own)) != NULL) {
			syerrs_add(st->errs, cpath, "\"%s\": %s", file, why);
			free(file);
			file = NULL;
		}
		free(own);
	}
	free(cpath);
	return (file);
}

static void
cp_endpoints(struct compile *st, struct json_object *eps, const char *pid,
    const char *sid, const char *url, enum ep_client client,
    const char *ca, const char *path)
{
	struct json_object_iterator	 it, end;
	const char			*name;
	char				*epath;
	int				 rc;

	it = json_object_iter_begin(eps);
	end = json_object_iter_end(eps);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		name = json_object_iter_peek_name(&it);
		epath = CP_CAT(path, ".endpoints.", name, (char *)NULL);
		cp_name_ok(name, epath, "endpoint name", st->errs);
		rc = endpoint_encode(json_object_iter_peek_value(&it), epath,
		    pid, sid, name, url, &st->rec, st->errs);
		free(epath);
		if (rc == -1)
			continue;
		endpoint_encode_client(&st->rec, client);
		endpoint_encode_ca(&st->rec, ca);
		cp_add_text(st, CP_CAT("E/", pid, "/", sid, "/", name,
		    (char *)NULL), xstrndup(st->rec.data, st->rec.len));
		st->nendpoints++;
	}
}

static void
cp_service(struct compile *st, struct json_object *sv, const char *pid,
    const char *sid, const char *path)
{
	struct json_object	*v, *eps, *rec;
	const char		*url, *need;
	enum ep_client		 client;
	char			*ca;
	int			 bad;

	if (!jconf_is_object(sv)) {
		syerrs_add(st->errs, path, "must be an object");
		return;
	}
	url = cp_service_url(sv, path, &bad, st->errs);
	client = cp_service_client(sv, path, st->errs);
	if (cp_endpoints_value(st, jconf_get(sv, "endpoints"), &v) == -1)
		return;
	ca = cp_service_ca(st, sv, url, bad, path);
	if ((eps = v) != NULL && !jconf_is_object(eps)) {
		jconf_err(st->errs, path, "endpoints", "%s", "must be an "
		    "object of endpoint name to endpoint");
		eps = NULL;
	}
	if (url == NULL && !bad && (need = cp_first_internal(eps)) != NULL)
		syerrs_add(st->errs, path, "missing \"url\" (internal "
		    "endpoint \"%s\" needs it)", need);
	if (eps != NULL)
		cp_endpoints(st, eps, pid, sid, url, client, ca, path);
	cp_service_raw(st, sv, v, pid, sid);
	json_object_put(v);
	free(ca);
	rec = json_object_new_object();
	json_object_object_add(rec, "project", json_object_new_string(pid));
	json_object_object_add(rec, "service", json_object_new_string(sid));
	json_object_object_add(rec, "url",
	    url ? json_object_new_string(url) : NULL);
	cp_add_record(st, CP_PATHF("S/%s/%s", pid, sid), rec);
	st->nservices++;
}

/*
 * auth.c compiles the secrets to check them (known alg, keys that load,
 * at most one primary, one that can sign) and the result is dropped at
 * once: the master holds no OpenSSL object when it forks, and each worker
 * compiles the secrets again from the project record, which carries them
 * unchanged.
 */
static int
cp_secrets(struct json_object *v, const char *path, struct syerrs *errs)
{
	struct auth_keyset	*ks;
	char			*spath;
	int			 can_sign;

	spath = CP_PATHF("%s.secrets", path);
	ks = auth_keyset_new(v, spath, errs);
	can_sign = ks != NULL && auth_keyset_can_sign(ks);
	auth_keyset_free(ks);
	free(spath);
	return (can_sign);
}

static void
cp_services(struct compile *st, struct json_object *rs, const char *pid,
    const char *path)
{
	struct json_object_iterator	 it, end;
	const char			*sid;
	char				*spath;

	it = json_object_iter_begin(rs);
	end = json_object_iter_end(rs);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		sid = json_object_iter_peek_name(&it);
		spath = CP_PATHF("%s.remoteServices.%s", path, sid);
		cp_name_ok(sid, spath, "service id", st->errs);
		cp_service(st, json_object_iter_peek_value(&it), pid, sid,
		    spath);
		free(spath);
	}
}

/* One database's tables: each read rule is a rule of section 6. */
static void
cp_db_rules(struct compile *st, const struct dbconf *c, const char *apath)
{
	struct rule	*r;
	char		*rpath;
	size_t		 i;

	for (i = 0; i < c->ntables; i++) {
		if (c->tables[i].read_rule == NULL)
			continue;	/* no read rule: every read denied */
		rpath = CP_PATHF("%s.tables.%s.rules.read", apath,
		    c->tables[i].name);
		r = rule_compile(c->tables[i].read_rule, rpath, st->errs);
		if (r != NULL && rule_changes_params(r))
			syerrs_add(st->errs, rpath, "a read rule cannot use "
			    "\"force\" or \"remove\"");
		rule_free(r);
		free(rpath);
	}
}

/*
 * The project's databases (SPEC 8.10): each entry checked as dbconf.c
 * reads it, its alias against the project's service ids, and each read
 * rule compiled.  The enabled entries, as written, go into rec's
 * "databases" member (workers parse them again with dbconf.c).
 */
static void
cp_databases(struct compile *st, struct json_object *dbs,
    struct json_object *rs, const char *path, struct json_object *rec)
{
	struct json_object_iterator	 it, end;
	struct dbconf			 c;
	const char			*alias;
	char				*apath;

	if (!jconf_is_object(dbs)) {
		jconf_err(st->errs, path, "databases", "%s", "must be an "
		    "object of database alias to database");
		return;
	}
	it = json_object_iter_begin(dbs);
	end = json_object_iter_end(dbs);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		alias = json_object_iter_peek_name(&it);
		apath = CP_PATHF("%s.databases.%s", path, alias);
		memset(&c, 0, sizeof(c));
		dbconf_parse(&c, alias, json_object_iter_peek_value(&it), apath,
		    st->errs);
		if (rs != NULL && jconf_is_object(rs) &&
		    jconf_get(rs, alias) != NULL)
			syerrs_add(st->errs, apath, "the database alias \"%s\" "
			    "is also a service id of the project", alias);
		cp_db_rules(st, &c, apath);
		if (c.enabled)
			json_object_object_add(rec, alias, json_object_get(
			    json_object_iter_peek_value(&it)));
		dbconf_free(&c);
		free(apath);
	}
}

static void
cp_project(struct compile *st, struct json_object *pv, const char *pid,
    const char *path)
{
	struct json_object	*secrets, *rs, *rec, *dbs, *dbrec;
	struct gqlconf		 gc;

	if (!jconf_is_object(pv)) {
		syerrs_add(st->errs, path, "must be an object");
		return;
	}
	if (st->want_raw)
		cp_add_raw(st, CP_PATHF("R/%s", pid), xstrdup("{}"));
	secrets = jconf_get(pv, "secrets");
	if (!cp_secrets(secrets, path, st->errs)) {
		st->nosign = realloc(st->nosign,
		    (st->nnosign + 1) * sizeof(char *));
		if (st->nosign == NULL)
			abort();
		st->nosign[st->nnosign++] = xstrdup(pid);
	}
	if ((rs = jconf_get(pv, "remoteServices")) != NULL) {
		if (jconf_is_object(rs))
			cp_services(st, rs, pid, path);
		else
			jconf_err(st->errs, path, "remoteServices",
			    "%s", "must be an object of service id to service");
	}
	dbrec = json_object_new_object();
	if ((dbs = jconf_get(pv, "databases")) != NULL)
		cp_databases(st, dbs, rs, path, dbrec);
	gqlconf_parse(&gc, pv, path, st->errs);
	rec = json_object_new_object();
	json_object_object_add(rec, "project", json_object_new_string(pid));
	json_object_object_add(rec, "secrets", secrets ?
	    json_object_get(secrets) : json_object_new_array());
	json_object_object_add(rec, "graphql", gqlconf_record(&gc));
	if (json_object_object_length(dbrec) > 0) {
		json_object_object_add(rec, "databases", dbrec);
		if (st->basedir != NULL)
			json_object_object_add(rec, "dbBasedir",
			    json_object_new_string(st->basedir));
	} else
		json_object_put(dbrec);
	cp_add_record(st, CP_PATHF("P/%s", pid), rec);
	st->nprojects++;
}

void
compile_projects(struct compile *st, struct json_object *v)
{
	struct json_object_iterator	 it, end;

	if (!jconf_is_object(v)) {
		syerrs_add(st->errs, "projects", "must be an object of "
		    "project id to project");
		return;
	}
	it = json_object_iter_begin(v);
	end = json_object_iter_end(v);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		compile_project(st, json_object_iter_peek_value(&it),
		    json_object_iter_peek_name(&it));
	}
}

static int
cp_key_cmp(const void *a, const void *b)
{
	const struct sy_regentry	*x = a, *y = b;

	return (strcmp(x->key, y->key));
}

void
compile_init(struct compile *c, struct syerrs *errs, struct cf_split *sp)
{
	memset(c, 0, sizeof(*c));
	c->errs = errs;
	c->sp = sp;
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	sybuf_init(&c->rec);
}

void
compile_project(struct compile *c, struct json_object *pv, const char *pid)
{
	char	*path;

	path = CP_PATHF("projects.%s", pid);
	cp_name_ok(pid, path, "project id", c->errs);
	cp_project(c, pv, pid, path);
	free(path);
}

int
compile_service(struct compile *c, struct json_object *sv, const char *pid,
    const char *sid)
{
	char	*path;
	size_t	 nerr = c->errs->n;

	path = CP_PATHF("projects.%s.remoteServices.%s", pid, sid);
	cp_name_ok(pid, path, "project id", c->errs);
	cp_name_ok(sid, path, "service id", c->errs);
	cp_service(c, sv, pid, sid, path);
	free(path);
	return (c->errs->n == nerr ? 0 : -1);
}

void
compile_sort(struct compile *c)
{
	if (c->nents > 1)
		qsort(c->ents, c->nents, sizeof(*c->ents), cp_key_cmp);
}

void
compile_entry_push(struct sy_regentry **e, size_t *n, size_t *cap, char *key,
    char *val)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*e = sy_must(reallocarray(*e, *cap, sizeof(**e)));
	}
	(*e)[*n].key = key;
	(*e)[*n].val = val;
	(*e)[*n].vallen = strlen(val);
	(*n)++;
}

void
compile_entries_free(struct sy_regentry *e, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(e[i].key);
		free(e[i].val);
	}
	free(e);
}

void
compile_free(struct compile *c)
{
	compile_entries_free(c->ents, c->nents);
	compile_entries_free(c->raw, c->nraw);
	sy_strv_free(c->nosign, c->nnosign);
	sybuf_free(&c->rec);
	memset(c, 0, sizeof(*c));
}
