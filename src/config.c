/*
 * config.c: the configuration file (SPEC section 3): reading it, the
 * closed "server" section, and handing the "projects" tree to compile.c.
 * The file is parsed with json-c in strict mode, one service's endpoints
 * at a time (see cf_split), and every problem is collected with its JSON
 * path instead of stopping at the first, so that one "switchyard -t"
 * shows them all.  The "server" section is closed: an unknown member
 * there is a typo, and an error.
 *
 * A valid file gives a struct sy_server with every default filled in
 * (JSON null for a member means its default, or "off" where the member
 * can be off), and the registry records compile.c made, sorted by key.
 * A file with any problem gives nothing at all, so a reload never
 * applies half a config.  This runs in the master only, so allocations
 * abort on failure.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cfadmin.h"
#include "cfsplit.h"
#include "cfsys.h"
#include "compile.h"
#include "config.h"
#include "endpoint.h"
#include "jconf.h"
#include "log.h"
#include "proc.h"
#include "util.h"

#define CF_MAX_FILE	(64 * 1024 * 1024)
#define CF_MAX_SECONDS	86400.0
/* config.c runs in the master only: out of memory aborts (sy_must) */
#define CF_PATHF(...)	((char *)sy_must(jconf_strf(__VA_ARGS__)))
#define CF_CAT(...)	((char *)sy_must(jconf_cat(__VA_ARGS__)))
typedef void	 cf_member_fn(struct sy_server *, struct json_object *,
		    const char *, struct syerrs *);

/* How a member of "server" is checked and stored. */
enum cf_kind {
	CF_FN,		/* by fn */
	CF_STR,		/* a non-empty string */
	CF_STR_NULL,	/* a non-empty string, or null for "off" */
	CF_SIZE,	/* a positive integer */
	CF_SECS,	/* seconds, 0 or more */
	CF_SECS_POS,	/* seconds, more than 0 */
	CF_OBJ		/* an object with the members in sub */
};

struct cf_member {
	const char		*name;
	enum cf_kind		 kind;
	size_t			 off;	/* in struct sy_server */
	cf_member_fn		*fn;
	const struct cf_member	*sub;
	size_t			 nsub;
};

#define CF_M(name, kind, field) \
	{ name, kind, offsetof(struct sy_server, field), NULL, NULL, 0 }
#define CF_F(name, fn)	{ name, CF_FN, 0, fn, NULL, 0 }
#define CF_O(name, tab) \
	{ name, CF_OBJ, 0, NULL, tab, sizeof(tab) / sizeof(tab[0]) }

static void	 cf_members(struct sy_server *, struct json_object *,
		    const char *, const struct cf_member *, size_t,
		    struct syerrs *);

/*
 * Small helpers.
 */

static int
cf_strv_equal(char **a, size_t na, char **b, size_t nb)
{
	size_t	i;

	if (na != nb)
		return (0);
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return (0);
	return (1);
}

static int
cf_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/*
 * The "server" section.  Each member handler gets the value (NULL for
 * JSON null) and its path, and leaves the default alone on error.
 */

/* A non-empty string; with nullable, null sets NULL. */
static void
cf_set_string(struct json_object *v, const char *path, int nullable,
    char **out, struct syerrs *errs)
{
	const char	*s;

	if (v == NULL && nullable) {
		free(*out);
		*out = NULL;
		return;
	}
	if (v == NULL)
		return;
	if ((s = jconf_str(v)) == NULL || *s == '\0') {
		syerrs_add(errs, path, "must be a non-empty string%s",
		    nullable ? " or null" : "");
		return;
	}
	free(*out);
	*out = xstrdup(s);
}

/*
 * Why a listen address is bad, or NULL: "host:port", "[v6]:port",
 * ":port" or "*:port".
 */
static const char *
cf_listen_problem(const char *s)
{
	const char	*colon, *p, *close;
	char		 v6[INET6_ADDRSTRLEN + 1];
	struct in6_addr	 a6;
	long		 port = 0;

	if (s[0] == '[') {
		if ((close = strchr(s, ']')) == NULL ||
		    (size_t)(close - s - 1) >= sizeof(v6))
			return ("bad IPv6 address");
		memcpy(v6, s + 1, close - s - 1);
		v6[close - s - 1] = '\0';
		if (inet_pton(AF_INET6, v6, &a6) != 1)
			return ("bad IPv6 address");
		if (*(colon = close + 1) != ':')
			return ("missing \":port\"");
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return ("missing \":port\"");
		if (memchr(s, ':', colon - s) != NULL)
			return ("an IPv6 address must be in brackets, as in "
			    "\"[::1]:4122\"");
		/* ":port" and "*:port" are every address */
		p = colon == s + 1 && s[0] == '*' ? colon : s;
		for (; p < colon; p++)
			if (!((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
				return ("bad character in the host");
	}
	for (p = colon + 1; *p >= '0' && *p <= '9' && p - colon <= 5; p++)
		port = port * 10 + (*p - '0');
	if (*p != '\0' || p == colon + 1 || port < 1 || port > 65535)
		return ("the port must be from 1 to 65535");
	return (NULL);
}

static int
cf_listen_ok(struct json_object *v, const char *path, struct syerrs *errs)
{
	const char	*s, *why;

	if ((s = jconf_str(v)) == NULL) {
		syerrs_add(errs, path, "must be a string such as "
		    "\"127.0.0.1:4122\"");
		return (0);
	}
	if ((why = cf_listen_problem(s)) != NULL) {
		syerrs_add(errs, path, "bad address \"%s\": %s (expected "
		    "\"host:port\", \"[ipv6]:port\" or \":port\")", s, why);
		return (0);
	}
	return (1);
}

static void
cf_srv_listen(struct sy_server *srv, struct json_object *v,
    const char *path, struct syerrs *errs)
{
	char	**list, *epath;
	size_t	  i, j, n, bad = 0;

	if (v == NULL)
		return;
	if (json_object_is_type(v, json_type_string)) {
		if (cf_listen_ok(v, path, errs)) {
			sy_strv_free(srv->listen, srv->nlisten);
			srv->listen = xcalloc(1, sizeof(*srv->listen));
			srv->listen[0] = xstrdup(jconf_str(v));
			srv->nlisten = 1;
		}
		return;
	}
	n = json_object_is_type(v, json_type_array) ?
	    json_object_array_length(v) : 0;
	if (n == 0 || n > CONFIG_MAX_LISTEN) {
		syerrs_add(errs, path, "must be an array of 1 to %d "
		    "addresses", CONFIG_MAX_LISTEN);
		return;
	}
	list = xcalloc(n, sizeof(*list));
	for (i = 0; i < n; i++) {
		epath = CF_PATHF("%s[%zu]", path, i);
		if (!cf_listen_ok(json_object_array_get_idx(v, i), epath,
		    errs)) {
			bad++;
			list[i] = xstrdup("");
		} else
			list[i] = xstrdup(jconf_str(json_object_array_get_idx(v,
			    i)));
		for (j = 0; j < i && *list[i] != '\0'; j++)
			if (strcmp(list[i], list[j]) == 0) {
				syerrs_add(errs, epath, "\"%s\" is listed "
				    "twice", list[i]);
				bad++;
				break;
			}
		free(epath);
	}
	if (bad > 0) {
		sy_strv_free(list, n);
		return;
	}
	sy_strv_free(srv->listen, srv->nlisten);
	srv->listen = list;
	srv->nlisten = n;
}

static void
cf_srv_workers(struct sy_server *srv, struct json_object *v,
    const char *path, struct syerrs *errs)
{
	int64_t	i;

	if (v == NULL)
		return;
	if (jconf_integer(v, 0, CONFIG_MAX_WORKERS, &i) == -1) {
		syerrs_add(errs, path, "must be an integer from 0 to %d",
		    CONFIG_MAX_WORKERS);
		return;
	}
	srv->workers = (int)i;
}

/* Seconds in [0, max] or, with positive, in (0, max]. */
static void
cf_set_secs(struct json_object *v, const char *path, int positive,
    double *out, struct syerrs *errs)
{
	if (v == NULL || jconf_number(v, 0, positive, CF_MAX_SECONDS, out) == 0)
		return;
	if (positive)
		syerrs_add(errs, path, "must be a number of seconds greater "
		    "than 0 and at most %g", CF_MAX_SECONDS);
	else
		syerrs_add(errs, path, "must be a number of seconds from 0 "
		    "to %g", CF_MAX_SECONDS);
}

static void
cf_set_size(struct json_object *v, const char *path, size_t *out,
    struct syerrs *errs)
{
	int64_t	i;

	if (v == NULL)
		return;
	if (jconf_integer(v, 1, INT64_MAX, &i) == -1) {
		syerrs_add(errs, path, "must be a positive integer");
		return;
	}
	*out = (size_t)i;
}

static void
cf_member_set(struct sy_server *srv, const struct cf_member *m,
    struct json_object *v, const char *path, struct syerrs *errs)
{
	void	*field = (char *)srv + m->off;

	switch (m->kind) {
	case CF_FN:
		m->fn(srv, v, path, errs);
		break;
	case CF_STR:
	case CF_STR_NULL:
		cf_set_string(v, path, m->kind == CF_STR_NULL, field, errs);
		break;
	case CF_SIZE:
		cf_set_size(v, path, field, errs);
		break;
	case CF_SECS:
	case CF_SECS_POS:
		cf_set_secs(v, path, m->kind == CF_SECS_POS, field, errs);
		break;
	case CF_OBJ:
		if (v != NULL && !jconf_is_object(v))
			syerrs_add(errs, path, "must be an object");
		else if (v != NULL)
			cf_members(srv, v, path, m->sub, m->nsub, errs);
		break;
	}
}

/* Call the handler of each member of object v, at path; unknown: error. */
static void
cf_members(struct sy_server *srv, struct json_object *v, const char *path,
    const struct cf_member *tab, size_t ntab, struct syerrs *errs)
{
	struct json_object_iterator	 it, end;
	const char			*name;
	char				*mpath;
	size_t				 i;

	it = json_object_iter_begin(v);
	end = json_object_iter_end(v);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		name = json_object_iter_peek_name(&it);
		for (i = 0; i < ntab; i++)
			if (strcmp(name, tab[i].name) == 0)
				break;
		if (i == ntab) {
			syerrs_add(errs, path, "unknown member \"%s\"", name);
			continue;
		}
		mpath = CF_PATHF("%s.%s", path, name);
		cf_member_set(srv, &tab[i], json_object_iter_peek_value(&it),
		    mpath, errs);
		free(mpath);
	}
}

static void
cf_log_level(struct sy_server *srv, struct json_object *v, const char *path,
    struct syerrs *errs)
{
	static const char *const names[] = { "error", "warn", "info",
	    "debug" };	/* indexed by enum log_level */
	const char	*s;
	int		 i;

	if (v == NULL)
		return;
	s = jconf_str(v);
	for (i = 0; s != NULL && i <= LOG_LEVEL_DEBUG; i++) {
		if (strcasecmp(s, names[i]) == 0) {
			srv->log_level = i;
			return;
		}
	}
	syerrs_add(errs, path, "must be \"error\", \"warn\", \"info\" or "
	    "\"debug\"");
}

static void
cf_cors_origins(struct sy_server *srv, struct json_object *v,
    const char *path, struct syerrs *errs)
{
	const char	*s;
	char		**list;
	size_t		  i, n;

	if (v == NULL)
		return;
	if (!json_object_is_type(v, json_type_array)) {
		syerrs_add(errs, path, "must be an array of origins such as "
		    "[\"*\"]");
		return;
	}
	n = json_object_array_length(v);
	list = xcalloc(n, sizeof(*list));
	for (i = 0; i < n; i++) {
		s = jconf_str(json_object_array_get_idx(v, i));
		if (s == NULL || *s == '\0' || jconf_has_space(s, strlen(s))) {
			syerrs_add(errs, path, "entry %zu must be an origin "
			    "such as \"https://app.example.com\" or \"*\"", i);
			sy_strv_free(list, i);
			return;
		}
		list[i] = xstrdup(s);
	}
	sy_strv_free(srv->cors_origins, srv->ncors_origins);
	srv->cors_origins = list;
	srv->ncors_origins = n;
}

static void
cf_admin_listen(struct sy_server *srv, struct json_object *v,
    const char *path, struct syerrs *errs)
{
	if (v != NULL && !cf_listen_ok(v, path, errs))
		return;
	free(srv->admin_listen);
	srv->admin_listen = v ? xstrdup(jconf_str(v)) : NULL;
}

static void
cf_srv_admin(struct sy_server *srv, struct json_object *v, const char *path,
    struct syerrs *errs)
{
	if (v == NULL) {
		/* "admin": null turns the admin listener off */
		free(srv->admin_listen);
		srv->admin_listen = NULL;
		return;
	}
	if (!jconf_is_object(v)) {
		syerrs_add(errs, path, "must be an object or null");
		return;
	}
	json_object_object_foreach(v, name, mv) {
		char	*mpath;

		if (strcmp(name, "listen") == 0) {
			mpath = CF_PATHF("%s.listen", path);
			cf_admin_listen(srv, mv, mpath, errs);
		} else {
			mpath = CF_PATHF("%s.%s", path, name);
			if (!cfadmin_member(srv, name, mv, mpath, errs))
				syerrs_add(errs, path, "unknown member \"%s\"",
				    name);
		}
		free(mpath);
	}
}

/* "upstreamClient": null is the default, native. */
static void
cf_srv_client(struct sy_server *srv, struct json_object *v,
    const char *path, struct syerrs *errs)
{
	int	c = EP_CLIENT_NATIVE;

	if (v != NULL && (c = endpoint_client_parse(v)) == -1) {
		syerrs_add(errs, path, "must be \"native\" or \"curl\"");
		return;
	}
	srv->upstream_curl = c == EP_CLIENT_CURL;
}

static const struct cf_member cf_log_members[] = {
	CF_M("error", CF_STR, log_error),
	CF_F("level", cf_log_level),
	CF_M("access", CF_STR_NULL, log_access),
};

static const struct cf_member cf_limits_members[] = {
	CF_M("maxBodyBytes", CF_SIZE, max_body_bytes),
	CF_M("maxHeaderBytes", CF_SIZE, max_header_bytes),
	CF_M("clientTimeout", CF_SECS_POS, client_timeout),
	CF_M("maxResponseBytes", CF_SIZE, max_response_bytes),
	CF_M("maxConnections", CF_SIZE, max_connections),
};

static const struct cf_member cf_cors_members[] = {
	CF_F("allowOrigins", cf_cors_origins),
};

static const struct cf_member cf_server_members[] = {
	CF_F("listen", cf_srv_listen),
	CF_F("workers", cf_srv_workers),
	CF_M("nodeId", CF_STR, node_id),
	CF_M("registryPath", CF_STR, registry_path),
	CF_M("pidFile", CF_STR, pid_file),
	CF_M("user", CF_STR_NULL, user),
	CF_M("group", CF_STR_NULL, group),
	CF_M("shutdownTimeout", CF_SECS, shutdown_timeout),
	CF_F("upstreamClient", cf_srv_client),
	CF_O("log", cf_log_members),
	CF_O("limits", cf_limits_members),
	CF_O("cors", cf_cors_members),
	CF_F("admin", cf_srv_admin),
};

static void
cf_defaults(struct sy_server *srv)
{
	char	host[256];

	srv->listen = xcalloc(1, sizeof(*srv->listen));
	srv->listen[0] = xstrdup("127.0.0.1:4122");
	srv->nlisten = 1;
	srv->workers = 0;
	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
		srv->node_id = xstrdup("switchyard");
	else {
		host[sizeof(host) - 1] = '\0';
		srv->node_id = CF_PATHF("switchyard-%s", host);
	}
	srv->registry_path = xstrdup(SY_DEFAULT_REGISTRY);
	srv->pid_file = xstrdup(SY_DEFAULT_PIDFILE);
	srv->shutdown_timeout = 10;
	srv->log_error = xstrdup("syslog");
	srv->log_level = LOG_LEVEL_INFO;
	srv->max_body_bytes = 1048576;
	srv->max_header_bytes = 16384;
	srv->client_timeout = 60;
	srv->max_response_bytes = 8388608;
	srv->max_connections = 10000;
	srv->cors_origins = xcalloc(1, sizeof(*srv->cors_origins));
	srv->cors_origins[0] = xstrdup("*");
	srv->ncors_origins = 1;
	srv->admin_listen = xstrdup("127.0.0.1:4123");
	cfadmin_defaults(srv);
}

/*
 * The file as a whole.
 */

/* Report a syntax error at byte off as file:line:col (or line, column). */
static void
cf_syntax_error(const char *text, size_t off, const char *file,
    const char *what, struct syerrs *errs)
{
	size_t	 i, line = 1, col = 1;
	char	*where;

	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	if (file != NULL)
		where = CF_PATHF("%s:%zu:%zu", file, line, col);
	else
		where = CF_PATHF("line %zu, column %zu", line, col);
	syerrs_add(errs, where, "invalid JSON: %s", what);
	free(where);
}

/* Whether text[0..len) is only white space (text need not end in NUL). */
static int
cf_all_space(const char *text, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (strchr(" \t\r\n", text[i]) == NULL || text[i] == '\0')
			return (0);
	return (1);
}

/* The document, or NULL with the syntax error reported. */
static struct json_object *
cf_tokenize(const char *text, size_t len, const char *file,
    struct syerrs *errs)
{
	struct json_tokener	*tok;
	struct json_object	*root;
	enum json_tokener_error	 jerr;
	size_t			 end;

	if (len > INT_MAX || (tok = json_tokener_new()) == NULL) {
		syerrs_add(errs, file, "file too large or out of memory");
		return (NULL);
	}
	json_tokener_set_flags(tok, CF_TOKENER_FLAGS);
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (root != NULL && end == len)
		return (root);
	json_object_put(root);
	if (root != NULL)	/* stopped early: a NUL byte */
		cf_syntax_error(text, end, file, "unexpected character",
		    errs);
	else if (jerr == json_tokener_continue && end == len &&
	    cf_all_space(text, len))
		cf_syntax_error(text, end, file, "empty document (expected "
		    "an object)", errs);
	else if (jerr == json_tokener_continue)
		cf_syntax_error(text, end, file, "unexpected end of data",
		    errs);
	else
		cf_syntax_error(text, end, file,
		    json_tokener_error_desc(jerr), errs);
	return (NULL);
}

/* Move the compiled records of c into cf; c is left empty. */
static void
cf_take(struct sy_config *cf, struct compile *c)
{
	cf->ents = c->ents;
	cf->nents = c->nents;
	cf->nprojects = c->nprojects;
	cf->nservices = c->nservices;
	cf->nendpoints = c->nendpoints;
	cf->nosign = c->nosign;
	cf->nnosign = c->nnosign;
	cf->raw = c->raw;
	cf->nraw = c->nraw;
	c->raw = NULL;
	c->nraw = 0;
	c->ents = NULL;
	c->nents = 0;
	c->nosign = NULL;
	c->nnosign = 0;
	compile_free(c);
}

/* The absolute directory of file (caller frees), or NULL. */
static char *
cf_basedir(const char *file)
{
	char	*rp, *slash;

	if (file == NULL || (rp = realpath(file, NULL)) == NULL)
		return (NULL);
	if ((slash = strrchr(rp, '/')) != NULL)
		slash[slash == rp] = '\0';
	return (rp);
}

/*
 * The workers' ids into c, to check that they can read each caFile; an
 * unknown user is not checked here (starting refuses it anyway).
 */
static void
cf_workers_ids(const struct sy_server *srv, struct compile *c)
{
	char	*err = NULL;

	if (proc_workers_ids(srv->user, srv->group, &c->uid, &c->gid,
	    &err) == -1) {
		c->uid = (uid_t)-1;
		c->gid = (gid_t)-1;
	}
	free(err);
}

/*
 * The config from the parsed document root, which is put; sp, when not
 * NULL, is the split parse (see compile_init).
 */
static struct sy_config *
cf_build(struct json_object *root, struct cf_split *sp, const char *file,
    int raw, struct syerrs *errs)
{
	struct json_object	*v;
	struct sy_config	*cf;
	struct compile		 c;
	char			*dir;
	size_t			 nerr = errs->n;

	if (!jconf_is_object(root)) {
		syerrs_add(errs, file ? file : "(top level)", "must be a JSON "
		    "object");
		json_object_put(root);
		return (NULL);
	}
	cf = xcalloc(1, sizeof(*cf));
	cf_defaults(&cf->srv);
	/* unknown top-level members are ignored, as Space Cloud has more */
	if ((v = jconf_get(root, "server")) != NULL) {
		if (jconf_is_object(v))
			cf_members(&cf->srv, v, "server", cf_server_members,
			    sizeof(cf_server_members) /
			    sizeof(cf_server_members[0]), errs);
		else
			syerrs_add(errs, "server", "must be an object");
	}
	cfsys_check(&cf->srv, file, errs);
	cfadmin_check(&cf->srv, jconf_get(root, "projects"), errs);
	compile_init(&c, errs, sp);
	c.want_raw = raw;
	c.basedir = dir = cf_basedir(file);
	cf_workers_ids(&cf->srv, &c);
	if ((v = jconf_get(root, "projects")) != NULL)
		compile_projects(&c, v);
	free(dir);
	json_object_put(root);
	if (sp != NULL)
		cf_split_check_unused(sp);
	if (errs->n != nerr || (sp != NULL && sp->failed)) {
		compile_free(&c);
		config_free(cf);
		return (NULL);
	}
	compile_sort(&c);
	cf_take(cf, &c);
	return (cf);
}

static struct sy_config *
cf_parse(const char *text, size_t len, const char *file, int raw,
    struct syerrs *errs)
{
	struct cf_split		 sp;
	struct json_object	*root;
	struct sy_config	*cf = NULL;
	size_t			 nerr = errs->n;
	int			 split = 0;

	if ((root = cf_split(&sp, text, len)) != NULL) {
		cf = cf_build(root, &sp, file, raw, errs);
		split = !sp.failed;
	}
	cf_split_free(&sp);
	if (split)
		return (cf);
	/* the plain parse, whose problems are the ones to report */
	while (errs->n > nerr)
		free(errs->msg[--errs->n]);
	if ((root = cf_tokenize(text, len, file, errs)) == NULL)
		return (NULL);
	return (cf_build(root, NULL, file, raw, errs));
}

struct sy_config *
config_parse(const char *text, size_t len, struct syerrs *errs)
{
	return (cf_parse(text, len, NULL, 0, errs));
}

struct sy_config *
config_parse_file(const char *text, size_t len, const char *file,
    struct syerrs *errs)
{
	return (cf_parse(text, len, file, 1, errs));
}

struct sy_config *
config_load(const char *file, struct syerrs *errs)
{
	struct sy_config	*cf;
	char			*text;
	size_t			 len;

	if (sy_read_file(file, CF_MAX_FILE, &text, &len) == -1) {
		syerrs_add(errs, file, "%s", strerror(errno));
		return (NULL);
	}
	cf = cf_parse(text, len, file, 0, errs);
	free(text);
	return (cf);
}

void
config_drop_registry(struct sy_config *cf)
{
	compile_entries_free(cf->ents, cf->nents);
	cf->ents = NULL;
	cf->nents = 0;
	compile_entries_free(cf->raw, cf->nraw);
	cf->raw = NULL;
	cf->nraw = 0;
}

void
config_free(struct sy_config *cf)
{
	struct sy_server	*srv;

	if (cf == NULL)
		return;
	srv = &cf->srv;
	sy_strv_free(srv->listen, srv->nlisten);
	free(srv->node_id);
	free(srv->registry_path);
	free(srv->pid_file);
	free(srv->user);
	free(srv->group);
	free(srv->log_error);
	free(srv->log_access);
	sy_strv_free(srv->cors_origins, srv->ncors_origins);
	free(srv->admin_listen);
	cfadmin_free(srv);
	config_drop_registry(cf);
	sy_strv_free(cf->nosign, cf->nnosign);
	free(cf);
}

int
config_process_changed(const struct sy_config *a, const struct sy_config *b)
{
	const struct sy_server	*x = &a->srv, *y = &b->srv;

	/* workers inherit all of these at fork; only the pidfile is not */
	return (!cf_strv_equal(x->listen, x->nlisten, y->listen, y->nlisten) ||
	    x->workers != y->workers ||
	    !cf_streq(x->user, y->user) || !cf_streq(x->group, y->group) ||
	    x->max_body_bytes != y->max_body_bytes ||
	    x->max_header_bytes != y->max_header_bytes ||
	    x->client_timeout != y->client_timeout ||
	    x->max_response_bytes != y->max_response_bytes ||
	    x->max_connections != y->max_connections ||
	    !cf_strv_equal(x->cors_origins, x->ncors_origins,
	    y->cors_origins, y->ncors_origins) ||
	    !cf_streq(x->admin_listen, y->admin_listen) ||
	    x->admin_serve_public != y->admin_serve_public ||
	    !cf_streq(x->node_id, y->node_id) ||
	    !cf_streq(x->registry_path, y->registry_path) ||
	    x->shutdown_timeout != y->shutdown_timeout ||
	    x->upstream_curl != y->upstream_curl ||
	    !cf_streq(x->log_error, y->log_error) ||
	    x->log_level != y->log_level ||
	    !cf_streq(x->log_access, y->log_access));
}
