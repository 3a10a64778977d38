/*
 * cfgapi.c: the master's side of the config API (cfgapi.h).  Writes
 * arrive one frame at a time and are applied in that order, each to the
 * result of the one before: 9.5's checks and the file commit are
 * store_write's, the validator is config_parse on the new text (the -t
 * code), and only after the file is in place is the new registry
 * committed to LMDB and the 200 answered.  Logins are counted here, so
 * that the lockout holds across workers.  Every login and every write
 * leaves one audit line (9.8).
 *
 * Invariants:
 * - The current store holds exactly the text the registry was compiled
 *   from: a load compiles the text the store read, and a store only
 *   becomes current with the registry committed from it.
 * - No key, secret or token passes through here (a login frame carries
 *   only whether the worker found the key right).
 * - Tests only: SWITCHYARD_TEST_CRASH_AFTER=k kills the master with
 *   SIGKILL after step k of a write (1 to 5: store.h's steps of the file
 *   commit, 6: the file written, the registry not yet committed).
 */
#include <ctype.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cfadmin.h"
#include "cfgapi.h"
#include "compile.h"
#include "config.h"
#include "ctl.h"
#include "lockout.h"
#include "log.h"
#include "registry.h"
#include "store.h"
#include "util.h"

#define CFGAPI_LOCKOUT_ADDRS	4096
#define CFGAPI_USER_LOG		64

struct cfgapi {
	struct store	*st;		/* current; NULL: none loaded */
	struct store	*next;		/* loaded, not committed */
	struct lockout	*lk;
	uint64_t	 gen;
	int		 on;		/* the API is on */
	int		 crash_after;	/* tests */
};

struct cfgapi *
cfgapi_new(void)
{
	struct cfgapi	*api;
	const char	*s;

	if ((api = calloc(1, sizeof(*api))) == NULL)
		return (NULL);
	if ((s = getenv("SWITCHYARD_TEST_CRASH_AFTER")) != NULL) {
		api->crash_after = atoi(s);
		if (api->crash_after >= 1 && api->crash_after <= 5)
			store_test_crash_after(api->crash_after);
	}
	return (api);
}

void
cfgapi_free(struct cfgapi *api)
{
	if (api == NULL)
		return;
	store_close(api->st);
	store_close(api->next);
	lockout_free(api->lk);
	free(api);
}

struct sy_config *
cfgapi_load(struct cfgapi *api, const char *path, struct syerrs *errs)
{
	struct store_err	 e;
	struct sy_config	*cfg;
	const char		*text;
	size_t			 len;

	store_close(api->next);
	if ((api->next = store_open_file(path, &e)) == NULL) {
		/* config_load says best what is wrong with the file */
		if ((cfg = config_load(path, errs)) != NULL) {
			syerrs_add(errs, path, "%s", e.msg);
			config_free(cfg);
		}
		return (NULL);
	}
	text = store_text(api->next, &len);
	if ((cfg = config_parse_file(text, len, path, errs)) == NULL) {
		store_close(api->next);
		api->next = NULL;
	}
	return (cfg);
}

void
cfgapi_abort(struct cfgapi *api)
{
	store_close(api->next);
	api->next = NULL;
}

/* Registry records being gathered (keys and values owned). */
struct cfgapi_recs {
	struct sy_regentry	*e;
	size_t			 n;
	size_t			 cap;
};

static void
cfgapi_rec(struct cfgapi_recs *r, char *key, const char *val)
{
	compile_entry_push(&r->e, &r->n, &r->cap, key, xstrdup(val));
}

static int
cfgapi_key_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct sy_regentry *)a)->key,
	    ((const struct sy_regentry *)b)->key));
}

/* cfg's entries and st's records, committed together. */
static int
cfgapi_registry(const struct sy_config *cfg, struct store *st,
    uint64_t *gen)
{
	struct cfgapi_recs	 r;
	char			*adm;
	size_t			 i, own;
	int			 rc;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < cfg->nents; i++)
		cfgapi_rec(&r, xstrdup(cfg->ents[i].key), cfg->ents[i].val);
	own = r.n;
	if ((adm = cfadmin_record(&cfg->srv)) != NULL) {
		cfgapi_rec(&r, xstrdup(REGISTRY_KEY_ADMIN), adm);
		explicit_bzero(adm, strlen(adm));
		free(adm);
	}
	if (st != NULL) {
		/* the documents as the config parse wrote them (compile.c) */
		cfgapi_rec(&r, xstrdup(REGISTRY_KEY_CFG), store_sha256(st));
		for (i = 0; i < cfg->nraw; i++)
			cfgapi_rec(&r, xstrdup(cfg->raw[i].key),
			    cfg->raw[i].val);
	}
	if (r.n > own)
		qsort(r.e, r.n, sizeof(*r.e), cfgapi_key_cmp);
	rc = registry_commit(cfg->srv.registry_path, r.e, r.n, gen);
	if (st != NULL) {
		/* the tree is parsed again for the next write */
		store_doc_release(st);
		malloc_trim(0);
	}
	for (i = 0; i < r.n; i++) {
		if (strcmp(r.e[i].key, REGISTRY_KEY_ADMIN) == 0)
			explicit_bzero(r.e[i].val, r.e[i].vallen);
		free(r.e[i].key);
		free(r.e[i].val);
	}
	free(r.e);
	return (rc);
}

int
cfgapi_commit(struct cfgapi *api, const struct sy_config *cfg,
    uint64_t *gen)
{
	if (cfgapi_registry(cfg, api->next, gen) == -1)
		return (-1);
	if (api->next != NULL) {
		store_close(api->st);
		api->st = api->next;
		api->next = NULL;
	}
	api->gen = *gen;
	return (0);
}

void
cfgapi_configure(struct cfgapi *api, const struct sy_config *cfg)
{
	const struct sy_server	*srv = &cfg->srv;
	struct store_err	 e;

	api->on = srv->admin_api && (srv->admin_listen != NULL ||
	    srv->admin_serve_public);
	if (api->lk == NULL)
		api->lk = lockout_new((unsigned)srv->admin_max_failures,
		    (unsigned)srv->admin_lockout, CFGAPI_LOCKOUT_ADDRS);
	else
		lockout_configure(api->lk, (unsigned)srv->admin_max_failures,
		    (unsigned)srv->admin_lockout);
	if (api->lk == NULL)
		fatal("%s: out of memory", __func__);
	if (api->on && api->st != NULL && store_writable(api->st, &e) == -1)
		log_warnx("config API writes will fail: %s", e.msg);
}

/* Answers and audit lines. */

/* What the validator callback needs and keeps. */
struct cfgapi_val {
	const char		*path;
	struct sy_config	*cfg;	/* the last text's, or NULL */
};

/* s fit for a log line: printable ASCII, at most CFGAPI_USER_LOG. */
static void
cfgapi_clean(char *dst, size_t size, const char *s)
{
	size_t	i;

	if (s == NULL)
		s = "";
	for (i = 0; s[i] != '\0' && i + 1 < size && i < CFGAPI_USER_LOG; i++)
		dst[i] = isprint((unsigned char)s[i]) && s[i] != '"' ?
		    s[i] : '?';
	dst[i] = '\0';
}

static int
cfgapi_answer(struct sybuf *out, uint32_t id, uint32_t status,
    uint32_t retry_after, const char *etag, struct json_object *body)
{
	struct ctl_answer	 a;
	const char		*text;
	int			 rc;

	memset(&a, 0, sizeof(a));
	a.status = status;
	a.retry_after = retry_after;
	a.etag = (char *)etag;
	text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	a.body = (char *)text;
	a.bodylen = strlen(text);
	rc = ctl_pack_answer(out, id, &a);
	json_object_put(body);
	return (rc);
}

/* Space Cloud's error shape, with 9.4's "errors" when there are any. */
static struct json_object *
cfgapi_error(const char *msg, const struct syerrs *errs)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "rawError", json_object_new_string(""));
	if (errs != NULL && errs->n > 0)
		json_object_object_add(o, "errors", store_errors_json(errs));
	return (o);
}

static int
cfgapi_login(struct cfgapi *api, const struct ctl_msg *m, struct sybuf *out)
{
	struct ctl_login	 l;
	enum lockout_verdict	 v;
	unsigned		 ra = 0;
	char			 user[CFGAPI_USER_LOG + 1];
	int			 rc;

	if (ctl_unpack_login(m, &l) == -1)
		return (-1);
	cfgapi_clean(user, sizeof(user), l.user);
	if (!api->on) {
		rc = cfgapi_answer(out, m->id, 404, 0, NULL,
		    cfgapi_error("not found", NULL));
		ctl_login_free(&l);
		return (rc);
	}
	v = lockout_attempt(api->lk, l.addr, l.ok != 0, sy_now(), &ra);
	switch (v) {
	case LOCKOUT_OK:
		log_info("admin: %s user \"%s\" login (200)", l.client, user);
		rc = cfgapi_answer(out, m->id, 200, 0, NULL,
		    json_object_new_object());
		break;
	case LOCKOUT_FAILED:
		log_info("admin: %s user \"%s\" login failed (401)", l.client,
		    user);
		rc = cfgapi_answer(out, m->id, 401, 0, NULL, cfgapi_error(
		    "Invalid username or password provided", NULL));
		break;
	default:
		log_info("admin: %s login locked out (429)", l.client);
		rc = cfgapi_answer(out, m->id, 429, ra, NULL, cfgapi_error(
		    "too many failed logins: try again later", NULL));
		break;
	}
	ctl_login_free(&l);
	return (rc);
}

/* The -t validator; the config it compiled is kept for the registry. */
static int
cfgapi_validate(const char *text, size_t len, struct syerrs *errs,
    void *arg)
{
	struct cfgapi_val	*v = arg;

	config_free(v->cfg);
	v->cfg = config_parse_file(text, len, v->path, errs);
	return (v->cfg == NULL ? -1 : 0);
}

/* Tests: die here, as a kill -9 at this step would. */
static void
cfgapi_crash_point(struct cfgapi *api, int step)
{
	if (api->crash_after == step) {
		log_warnx("test hook: killing the master after step %d",
		    step);
		raise(SIGKILL);
	}
}

/*
 * The write w, applied to the store.  Returns the status and fills
 * *body; on 200 *newcfg and *gen are the new state (*newcfg NULL when
 * the document did not change).
 */
static uint32_t
cfgapi_apply(struct cfgapi *api, uint16_t type, const struct ctl_write *w,
    struct json_object **body, struct sy_config **newcfg, uint64_t *gen,
    struct syerrs *errs)
{
	struct store_req	 rq;
	struct store_err	 e;
	struct cfgapi_val	 v;
	char			 etag[STORE_ETAG_MAX];
	int			 rc;

	memset(&rq, 0, sizeof(rq));
	memset(&v, 0, sizeof(v));
	rq.del = type == CTL_DELETE_SERVICE;
	rq.project = w->project;
	rq.id = w->service;
	rq.if_match = w->if_match;
	store_etag(etag, api->gen, store_sha256(api->st));
	rq.etag = etag;
	if (!rq.del && store_body_parse(w->body, w->bodylen, &rq.body,
	    &e) == -1) {
		*body = cfgapi_error(e.msg, NULL);
		return (e.status);
	}
	v.path = store_path(api->st);
	rc = store_write(api->st, &rq, cfgapi_validate, &v, errs, &e);
	json_object_put(rq.body);
	if (rc == -1) {
		if (e.status == STORE_IO && strstr(e.msg, "simulated crash"))
			cfgapi_crash_point(api, api->crash_after);
		config_free(v.cfg);
		*body = cfgapi_error(e.msg, errs);
		return (e.status);
	}
	if (rc == 1) {		/* the same document: nothing to commit */
		config_free(v.cfg);
		*body = json_object_new_object();
		*gen = api->gen;
		return (200);
	}
	cfgapi_crash_point(api, 6);
	if (cfgapi_registry(v.cfg, api->st, gen) == -1) {
		config_free(v.cfg);
		*body = cfgapi_error("the config file was written but the "
		    "registry could not be committed: a reload serves it", NULL);
		return (500);
	}
	api->gen = *gen;
	config_drop_registry(v.cfg);
	*newcfg = v.cfg;
	*body = json_object_new_object();
	return (200);
}

static int
cfgapi_write(struct cfgapi *api, const struct ctl_msg *m, struct sybuf *out,
    struct sy_config **newcfg, uint64_t *gen)
{
	struct ctl_write	 w;
	struct json_object	*body = NULL;
	struct syerrs		 errs;
	char			 user[CFGAPI_USER_LOG + 1], etag[STORE_ETAG_MAX];
	char			 proj[CFGAPI_USER_LOG + 1], sid[CFGAPI_USER_LOG + 1];
	const char		*what;
	uint32_t		 status;
	int			 rc;

	if (ctl_unpack_write(m, &w) == -1)
		return (-1);
	syerrs_init(&errs);
	if (!api->on) {
		status = 404;
		body = cfgapi_error("not found", NULL);
	} else if (api->st == NULL) {
		status = 500;
		body = cfgapi_error("the config file is not loaded", NULL);
	} else
		status = cfgapi_apply(api, m->type, &w, &body, newcfg, gen,
		    &errs);
	cfgapi_clean(user, sizeof(user), w.user);
	cfgapi_clean(proj, sizeof(proj), w.project);
	cfgapi_clean(sid, sizeof(sid), w.service);
	what = m->type == CTL_SET_SERVICE ? "set" : "delete";
	if (status == 200) {
		log_info("admin: %s user \"%s\" %s remote service %s/%s (200, "
		    "generation %llu)", w.client, user, what, proj, sid,
		    (unsigned long long)api->gen);
		store_etag(etag, api->gen, store_sha256(api->st));
	} else
		log_info("admin: %s user \"%s\" %s remote service %s/%s "
		    "(%u%s%s)", w.client, user, what, proj, sid,
		    (unsigned)status, status >= 500 ? ": " : "",
		    status >= 500 ? json_object_get_string(
		    json_object_object_get(body, "error")) : "");
	rc = cfgapi_answer(out, m->id, status, 0, status == 200 ? etag : NULL,
	    body);
	syerrs_free(&errs);
	ctl_write_free(&w);
	return (rc);
}

int
cfgapi_handle(struct cfgapi *api, const struct ctl_msg *m, struct sybuf *out,
    struct sy_config **newcfg, uint64_t *gen)
{
	*newcfg = NULL;
	switch (m->type) {
	case CTL_LOGIN:
		return (cfgapi_login(api, m, out));
	case CTL_SET_SERVICE:
	case CTL_DELETE_SERVICE:
		return (cfgapi_write(api, m, out, newcfg, gen));
	default:
		return (-1);
	}
}
