/*
 * test_catalog.c: the worker's endpoint cache over a real LMDB registry
 * in a temporary directory.  Commits made while the catalog's registry
 * is open run in a forked child, as in the daemon where the master
 * writes and the workers read: LMDB forbids opening one environment
 * twice in the same process.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "catalog.h"
#include "config.h"
#include "endpoint.h"
#include "registry.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MANY		500

struct fixture {
	char			 dir[256];
	struct registry		*reg;
	struct catalog		*cat;
	struct sy_regentry	*ents;
	size_t			 nents;
};

static char	tmpbase[] = "/tmp/sy-test-catalog.XXXXXX";
static int	tmpseq;

/* rm -rf path, not following symbolic links. */
static int
rmtree(const char *path)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	char		 sub[1024];
	int		 rc = 0;

	if (lstat(path, &st) == -1)
		return (-1);
	if (S_ISDIR(st.st_mode)) {
		if ((d = opendir(path)) == NULL)
			return (-1);
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			if (rmtree(sub) == -1)
				rc = -1;
		}
		closedir(d);
	}
	if (remove(path) == -1)
		rc = -1;
	return (rc);
}

static void
ents_add(struct fixture *f, const char *key, const char *val)
{
	struct sy_regentry	*e;

	f->ents = realloc(f->ents, (f->nents + 1) * sizeof(*f->ents));
	assert_non_null(f->ents);
	e = &f->ents[f->nents++];
	assert_non_null(e->key = strdup(key));
	assert_non_null(e->val = strdup(val));
	e->vallen = strlen(val);
}

/* An endpoint record as config.c writes it. */
static void
ents_endpoint(struct fixture *f, const char *p, const char *s,
    const char *e, const char *url)
{
	char	key[256], rec[1024];

	snprintf(key, sizeof(key), "E/%s/%s/%s", p, s, e);
	snprintf(rec, sizeof(rec), "{\"project\":\"%s\",\"service\":\"%s\","
	    "\"endpoint\":\"%s\",\"kind\":\"internal\",\"method\":\"POST\","
	    "\"url\":\"%s\",\"timeout\":10,\"rule\":{\"rule\":\"allow\"},"
	    "\"headers\":[],\"token\":null,\"forwardHeaders\":[],"
	    "\"responseHeaders\":[],\"scToken\":{\"bindRequest\":false}}",
	    p, s, e, url);
	ents_add(f, key, rec);
}

static void
ents_clear(struct fixture *f)
{
	size_t	i;

	for (i = 0; i < f->nents; i++) {
		free(f->ents[i].key);
		free(f->ents[i].val);
	}
	free(f->ents);
	f->ents = NULL;
	f->nents = 0;
}

/* The registry of most tests, at version v of project p. */
static void
ents_base(struct fixture *f, int v)
{
	ents_clear(f);
	ents_add(f, "P/p", "{\"project\":\"p\"}");
	ents_add(f, "P/empty", "{\"project\":\"empty\"}");
	ents_add(f, "S/p/s", "{\"url\":\"http://127.0.0.1:5000\"}");
	ents_add(f, "S/p/noeps", "{\"url\":\"http://127.0.0.1:5000\"}");
	ents_endpoint(f, "p", "s", "adder", v == 1 ?
	    "http://127.0.0.1:5000/adder" : "http://127.0.0.1:6000/adder");
	ents_endpoint(f, "p", "s", "echo", "http://127.0.0.1:5000/echo");
	ents_add(f, "E/p/s/garbage", "this is not a record");
	ents_endpoint(f, "p", "s", "other", "http://127.0.0.1:5000/x");
	/* a record filed under the wrong key */
	ents_endpoint(f, "p", "s", "misfiled", "http://127.0.0.1:5000/x");
	f->ents[f->nents - 1].key[strlen(f->ents[f->nents - 1].key) - 1] = 'X';
}

/* Commit f->ents from a child process; returns the generation or 0. */
static uint64_t
commit_child(struct fixture *f)
{
	uint64_t	gen = 0;
	pid_t		pid;
	int		fds[2], status;

	if (pipe(fds) == -1)
		return (0);
	fflush(NULL);
	if ((pid = fork()) == -1)
		return (0);
	if (pid == 0) {
		close(fds[0]);
		if (registry_commit(f->dir, f->ents, f->nents, &gen) == -1)
			_exit(1);
		_exit(write(fds[1], &gen, sizeof(gen)) == sizeof(gen) ? 0 : 1);
	}
	close(fds[1]);
	if (read(fds[0], &gen, sizeof(gen)) != sizeof(gen))
		gen = 0;
	close(fds[0]);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		gen = 0;
	return (gen);
}

/* No read transaction may be left open after a lookup. */
static void
expect_txn_ended(struct fixture *f)
{
	const char	*val;
	size_t		 len;

	assert_int_equal(registry_get(f->reg, "P/p", 3, &val, &len),
	    REGISTRY_ERROR);
}

static int
group_setup(void **state)
{
	return (mkdtemp(tmpbase) == NULL ? -1 : 0);
}

static int
group_teardown(void **state)
{
	return (rmtree(tmpbase));
}

/* A registry holding ents_base(1), and a catalog over it. */
static int
test_setup(void **state)
{
	struct fixture	*f;
	char		*err = NULL;
	uint64_t	 gen;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (-1);
	*state = f;
	snprintf(f->dir, sizeof(f->dir), "%s/t%d", tmpbase, ++tmpseq);
	ents_base(f, 1);
	if (registry_prepare(f->dir, (uid_t)-1, (gid_t)-1, &err) == -1 ||
	    registry_commit(f->dir, f->ents, f->nents, &gen) == -1 ||
	    (f->reg = registry_open(f->dir)) == NULL ||
	    (f->cat = catalog_new(f->reg)) == NULL) {
		free(err);
		return (-1);
	}
	return (0);
}

static int
test_teardown(void **state)
{
	struct fixture	*f = *state;

	catalog_free(f->cat);
	registry_close(f->reg);
	ents_clear(f);
	free(f);
	return (0);
}

static void
test_found(void **state)
{
	struct fixture		*f = *state;
	struct sy_endpoint	*ep = NULL;

	assert_int_equal(catalog_generation(f->cat), 0);
	assert_int_equal(catalog_lookup(f->cat, "p", "s", "adder", &ep, NULL),
	    CATALOG_OK);
	assert_non_null(ep);
	assert_string_equal(ep->project, "p");
	assert_string_equal(ep->service, "s");
	assert_string_equal(ep->name, "adder");
	assert_string_equal(ep->method, "POST");
	assert_string_equal(ep->url, "http://127.0.0.1:5000/adder");
	assert_int_equal(catalog_generation(f->cat), 1);
	expect_txn_ended(f);
	endpoint_unref(ep);
	/* and from the cache */
	assert_int_equal(catalog_lookup(f->cat, "p", "s", "adder", &ep, NULL),
	    CATALOG_OK);
	expect_txn_ended(f);
	endpoint_unref(ep);
}

static void
test_not_found(void **state)
{
	struct fixture		*f = *state;
	struct sy_endpoint	*ep = (struct sy_endpoint *)&ep;

	assert_int_equal(catalog_lookup(f->cat, "p", "s", "nope", &ep, NULL),
	    CATALOG_NO_ENDPOINT);
	assert_null(ep);
	assert_int_equal(catalog_lookup(f->cat, "p", "noeps", "adder", &ep, NULL),
	    CATALOG_NO_ENDPOINT);
	assert_int_equal(catalog_lookup(f->cat, "p", "nope", "adder", &ep, NULL),
	    CATALOG_NO_SERVICE);
	assert_int_equal(catalog_lookup(f->cat, "empty", "s", "adder", &ep, NULL),
	    CATALOG_NO_SERVICE);
	assert_int_equal(catalog_lookup(f->cat, "nope", "s", "adder", &ep, NULL),
	    CATALOG_NO_PROJECT);
	assert_null(ep);
	expect_txn_ended(f);
	/* a miss is not cached: the same question gets the same answer */
	assert_int_equal(catalog_lookup(f->cat, "p", "s", "nope", &ep, NULL),
	    CATALOG_NO_ENDPOINT);
}

static void
test_bad_names(void **state)
{
	struct fixture		*f = *state;
	struct sy_endpoint	*ep = NULL;
	char			 big[700];

	/* "p/s" + "adder" must not reach "E/p/s/adder" */
	assert_int_equal(catalog_lookup(f->cat, "p/s", "adder", "x", &ep, NULL),
	    CATALOG_NO_PROJECT);
	assert_int_equal(catalog_lookup(f->cat, "p", "s/adder", "x", &ep, NULL),
	    CATALOG_NO_SERVICE);
	assert_int_equal(catalog_lookup(f->cat, "p", "s", "adder/", &ep, NULL),
	    CATALOG_NO_ENDPOINT);
	assert_int_equal(catalog_lookup(f->cat, "", "s", "adder", &ep, NULL),
	    CATALOG_NO_PROJECT);
	assert_int_equal(catalog_lookup(f->cat, "p", "", "adder", &ep, NULL),
	    CATALOG_NO_SERVICE);
	assert_int_equal(catalog_lookup(f->cat, "p", "s", "", &ep, NULL),
	    CATALOG_NO_ENDPOINT);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(catalog_lookup(f->cat, "p", "s", big, &ep, NULL),
	    CATALOG_NO_ENDPOINT);
	assert_int_equal(catalog_lookup(f->cat, big, "s", "adder", &ep, NULL),
	    CATALOG_NO_PROJECT);
	assert_null(ep);
	/* and the registry is still usable */
	assert_int_equal(catalog_lookup(f->cat, "p", "s", "adder", &ep, NULL),
	    CATALOG_OK);
	endpoint_unref(ep);
}

static void
test_cache_hit(void **state)
{
	struct fixture		*f = *state;
	struct sy_endpoint	*a = NULL, *b = NULL, *c = NULL;

	assert_int_equal(catalog_lookup(f->cat, "p", "s", "adder", &a, NULL),
	    CATALOG_OK);
	assert_int_equal(catalog_lookup(f->cat, "p", "s", "adder", &b, NULL),
	    CATALOG_OK);
	assert_ptr_equal(a, b);
	/* the cache's reference and ours */
	assert_int_equal(a->refcnt, 3);
	assert_int_equal(catalog_lookup(f->cat, "p", "s", "echo", &c, NULL),
	    CATALOG_OK);
	assert_ptr_not_equal(a, c);
	assert_string_equal(c->name, "echo");
	endpoint_unref(a);
	endpoint_unref(b);
	endpoint_unref(c);
}

static void
test_reload(void **state)
{
	struct fixture		*f = *state;
	struct sy_endpoint	*old = NULL, *new = NULL, *echo = NULL;

	assert_int_equal(catalog_lookup(f->cat, "p", "s", "adder", &old, NULL),
	    CATALOG_OK);
	assert_string_equal(old->url, "http://127.0.0.1:5000/adder");
	assert_int_equal(catalog_generation(f->cat), 1);

	ents_base(f, 2);
	assert_int_equal(commit_child(f), 2);
	assert_int_equal(catalog_lookup(f->cat, "p", "s", "adder", &new, NULL),
	    CATALOG_OK);
	assert_int_equal(catalog_generation(f->cat), 2);
	assert_ptr_not_equal(old, new);
	assert_string_equal(new->url, "http://127.0.0.1:6000/adder");
	/* the cache let go of the old one: only our reference is left */
	assert_int_equal(old->refcnt, 1);
	assert_string_equal(old->url, "http://127.0.0.1:5000/adder");
	endpoint_unref(old);

	/* an endpoint removed by a reload is gone at once */
	ents_clear(f);
	ents_add(f, "P/p", "{\"project\":\"p\"}");
	ents_add(f, "S/p/s", "{\"url\":\"http://127.0.0.1:5000\"}");
	assert_int_equal(commit_child(f), 3);
	assert_int_equal(catalog_lookup(f->cat, "p", "s", "echo", &echo, NULL),
	    CATALOG_NO_ENDPOINT);
	assert_int_equal(catalog_generation(f->cat), 3);
	assert_int_equal(new->refcnt, 1);
	endpoint_unref(new);
}

static void
test_undecodable(void **state)
{
	struct fixture		*f = *state;
	struct sy_endpoint	*ep = NULL;

	assert_int_equal(catalog_lookup(f->cat, "p", "s", "garbage", &ep, NULL),
	    CATALOG_ERROR);
	assert_null(ep);
	expect_txn_ended(f);
	/* the second time from the cache, still an error */
	assert_int_equal(catalog_lookup(f->cat, "p", "s", "garbage", &ep, NULL),
	    CATALOG_ERROR);
	assert_null(ep);
	/* a record for "misfiled" stored under "misfileX" */
	assert_int_equal(catalog_lookup(f->cat, "p", "s", "misfileX", &ep, NULL),
	    CATALOG_ERROR);
	assert_null(ep);
	assert_int_equal(catalog_lookup(f->cat, "p", "s", "other", &ep, NULL),
	    CATALOG_OK);
	endpoint_unref(ep);

	/* a reload that fixes the record is picked up */
	ents_clear(f);
	ents_add(f, "P/p", "{\"project\":\"p\"}");
	ents_add(f, "S/p/s", "{\"url\":\"http://127.0.0.1:5000\"}");
	ents_endpoint(f, "p", "s", "garbage", "http://127.0.0.1:5000/g");
	assert_int_equal(commit_child(f), 2);
	assert_int_equal(catalog_lookup(f->cat, "p", "s", "garbage", &ep, NULL),
	    CATALOG_OK);
	assert_string_equal(ep->url, "http://127.0.0.1:5000/g");
	endpoint_unref(ep);
}

/* Enough entries to make the table grow, each found under its name. */
static void
test_many(void **state)
{
	struct fixture		*f = *state;
	struct sy_endpoint	*eps[MANY], *ep;
	char			 name[32];
	int			 i;

	ents_clear(f);
	ents_add(f, "P/m", "{\"project\":\"m\"}");
	ents_add(f, "S/m/s", "{\"url\":\"http://127.0.0.1:5000\"}");
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "ep%d", i);
		ents_endpoint(f, "m", "s", name, "http://127.0.0.1:5000/x");
	}
	assert_int_equal(commit_child(f), 2);
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "ep%d", i);
		assert_int_equal(catalog_lookup(f->cat, "m", "s", name,
		    &eps[i], NULL), CATALOG_OK);
		assert_string_equal(eps[i]->name, name);
	}
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "ep%d", i);
		assert_int_equal(catalog_lookup(f->cat, "m", "s", name, &ep, NULL),
		    CATALOG_OK);
		assert_ptr_equal(ep, eps[i]);
		endpoint_unref(ep);
		endpoint_unref(eps[i]);
	}
	assert_int_equal(catalog_lookup(f->cat, "p", "s", "adder", &ep, NULL),
	    CATALOG_NO_PROJECT);
}

#define T(f)	\
	cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_found),
		T(test_not_found),
		T(test_bad_names),
		T(test_cache_hit),
		T(test_reload),
		T(test_undecodable),
		T(test_many),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, group_setup, group_teardown));
}
