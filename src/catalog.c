/*
 * catalog.c: a worker's cache of decoded endpoints (see catalog.h), a
 * chained hash table (FNV-1a, power-of-two size, doubled at 3/4 load)
 * from the registry key "E/<project>/<service>/<endpoint>" to an
 * endpoint.
 *
 * Invariants:
 * - Every entry belongs to generation cat_gen.  Each lookup reads the
 *   generation in its own short read transaction and drops the whole
 *   table when it changed, so a reload is seen by the next request.
 * - The table holds one reference on each endpoint; lookups hand out
 *   new ones, so requests in flight keep their endpoint alive across a
 *   flush.
 * - Registry values are copied out before the read transaction ends,
 *   and the transaction always ends before catalog_lookup returns.
 * - Not-found answers are not cached (they are three cheap B-tree
 *   lookups).  A record that does not decode is cached as an entry
 *   without an endpoint, so it is logged once per generation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "endpoint.h"
#include "log.h"
#include "project.h"
#include "registry.h"

#define CATALOG_MIN_SIZE	64
/* LMDB cannot store a key this long, so such a name is not registered */
#define CATALOG_KEY_MAX		512

struct catalog_ent {
	struct catalog_ent	*ce_next;
	uint32_t		 ce_hash;
	size_t			 ce_keylen;
	char			*ce_key;
	struct sy_endpoint	*ce_ep;		/* NULL: undecodable */
};

struct catalog_proj {
	struct catalog_proj	*cp_next;
	char			*cp_name;
	struct sy_project	*cp_proj;	/* NULL: undecodable */
};

struct catalog {
	struct registry		 *cat_reg;
	struct catalog_proj	 *cat_projs;	/* few: a list */
	struct catalog_ent	**cat_tab;
	size_t			  cat_size;	/* a power of two */
	size_t			  cat_count;
	uint64_t		  cat_gen;
};

static uint32_t	 catalog_hash(const char *, size_t);
static void	 catalog_flush(struct catalog *);
static void	 catalog_grow(struct catalog *);
static size_t	 catalog_key(char *, char, const char *, const char *,
		    const char *);
static struct catalog_ent *catalog_find(struct catalog *, const char *,
		    size_t, uint32_t);
static void	 catalog_insert(struct catalog *, const char *, size_t,
		    uint32_t, struct sy_endpoint *);
static struct sy_endpoint *catalog_decode(const char *, const char *,
		    size_t);
static enum catalog_status catalog_missing(struct catalog *, const char *,
		    const char *);
static enum catalog_status catalog_load(struct catalog *, const char *,
		    size_t, uint32_t, struct sy_endpoint **);

struct catalog *
catalog_new(struct registry *reg)
{
	struct catalog	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s: calloc", __func__);
		return (NULL);
	}
	c->cat_tab = calloc(CATALOG_MIN_SIZE, sizeof(*c->cat_tab));
	if (c->cat_tab == NULL) {
		log_warn("%s: calloc", __func__);
		free(c);
		return (NULL);
	}
	c->cat_size = CATALOG_MIN_SIZE;
	c->cat_reg = reg;
	return (c);
}

void
catalog_free(struct catalog *c)
{
	if (c == NULL)
		return;
	catalog_flush(c);
	free(c->cat_tab);
	free(c);
}

uint64_t
catalog_generation(const struct catalog *c)
{
	return (c->cat_gen);
}

static uint32_t
catalog_hash(const char *s, size_t len)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return (h);
}

/* Drop every entry; endpoints live on while requests hold them. */
static void
catalog_flush(struct catalog *c)
{
	struct catalog_ent	*ce, *next;
	struct catalog_proj	*cp;
	size_t			 i;

	for (i = 0; i < c->cat_size; i++) {
		for (ce = c->cat_tab[i]; ce != NULL; ce = next) {
			next = ce->ce_next;
			if (ce->ce_ep != NULL)
				endpoint_unref(ce->ce_ep);
			free(ce->ce_key);
			free(ce);
		}
		c->cat_tab[i] = NULL;
	}
	c->cat_count = 0;
	while ((cp = c->cat_projs) != NULL) {
		c->cat_projs = cp->cp_next;
		project_unref(cp->cp_proj);
		free(cp->cp_name);
		free(cp);
	}
}

/* Double the table; when memory is short, keep the longer chains. */
static void
catalog_grow(struct catalog *c)
{
	struct catalog_ent	**tab, *ce, *next;
	size_t			  i, size = c->cat_size * 2;

	if ((tab = calloc(size, sizeof(*tab))) == NULL)
		return;
	for (i = 0; i < c->cat_size; i++) {
		for (ce = c->cat_tab[i]; ce != NULL; ce = next) {
			next = ce->ce_next;
			ce->ce_next = tab[ce->ce_hash & (size - 1)];
			tab[ce->ce_hash & (size - 1)] = ce;
		}
	}
	free(c->cat_tab);
	c->cat_tab = tab;
	c->cat_size = size;
}

/*
 * Write the registry key of the given type ('P', 'S' or 'E', using the
 * first one, two or three names) into buf (CATALOG_KEY_MAX bytes).
 * Returns its length, or 0 when a name is empty or holds a '/' (so it
 * cannot name anything) or the key would not fit (so LMDB cannot hold
 * it).
 */
static size_t
catalog_key(char *buf, char type, const char *p, const char *s,
    const char *e)
{
	const char	*names[3];
	size_t		 i, n, len, off = 0;

	names[0] = p;
	names[1] = s;
	names[2] = e;
	n = type == 'P' ? 1 : type == 'S' ? 2 : 3;
	buf[off++] = type;
	for (i = 0; i < n; i++) {
		len = strlen(names[i]);
		if (len == 0 || memchr(names[i], '/', len) != NULL ||
		    len > CATALOG_KEY_MAX - off - 2)
			return (0);
		buf[off++] = '/';
		memcpy(buf + off, names[i], len);
		off += len;
	}
	buf[off] = '\0';
	return (off);
}

static struct catalog_ent *
catalog_find(struct catalog *c, const char *key, size_t len, uint32_t h)
{
	struct catalog_ent	*ce;

	for (ce = c->cat_tab[h & (c->cat_size - 1)]; ce != NULL;
	    ce = ce->ce_next)
		if (ce->ce_hash == h && ce->ce_keylen == len &&
		    memcmp(ce->ce_key, key, len) == 0)
			return (ce);
	return (NULL);
}

/* Cache ep (taking over its reference) or, when out of memory, drop it. */
static void
catalog_insert(struct catalog *c, const char *key, size_t len, uint32_t h,
    struct sy_endpoint *ep)
{
	struct catalog_ent	*ce;

	if (c->cat_count >= c->cat_size / 4 * 3)
		catalog_grow(c);
	if ((ce = calloc(1, sizeof(*ce))) == NULL ||
	    (ce->ce_key = malloc(len + 1)) == NULL) {
		log_warn("%s: malloc", __func__);
		free(ce);
		if (ep != NULL)
			endpoint_unref(ep);
		return;
	}
	memcpy(ce->ce_key, key, len + 1);
	ce->ce_keylen = len;
	ce->ce_hash = h;
	ce->ce_ep = ep;
	ce->ce_next = c->cat_tab[h & (c->cat_size - 1)];
	c->cat_tab[h & (c->cat_size - 1)] = ce;
	c->cat_count++;
}

static int
catalog_same(const char *a, const char *b, size_t blen)
{
	return (a != NULL && strlen(a) == blen && memcmp(a, b, blen) == 0);
}

/*
 * Decode the record of key (borrowed from the read txn: copied first,
 * NUL-terminated).  Returns the endpoint or NULL, logged.
 */
static struct sy_endpoint *
catalog_decode(const char *key, const char *val, size_t vallen)
{
	struct sy_endpoint	*ep;
	const char		*p, *s, *e;
	char			*rec, *err = NULL;

	if ((rec = malloc(vallen + 1)) == NULL) {
		log_warn("%s: malloc", __func__);
		return (NULL);
	}
	memcpy(rec, val, vallen);
	rec[vallen] = '\0';
	ep = endpoint_decode(rec, vallen, &err);
	free(rec);
	if (ep == NULL) {
		log_warnx("%s: %s: %s", __func__, key,
		    err != NULL ? err : "cannot decode record");
		free(err);
		return (NULL);
	}
	/* key is "E/p/s/e" with no other '/' */
	p = key + 2;
	s = strchr(p, '/') + 1;
	e = strchr(s, '/') + 1;
	if (!catalog_same(ep->project, p, s - p - 1) ||
	    !catalog_same(ep->service, s, e - s - 1) ||
	    !catalog_same(ep->name, e, strlen(e))) {
		log_warnx("%s: %s: record names another endpoint", __func__,
		    key);
		endpoint_unref(ep);
		return (NULL);
	}
	return (ep);
}

/* No endpoint record: say which of the three names is unknown. */
static enum catalog_status
catalog_missing(struct catalog *c, const char *project, const char *service)
{
	char		 key[CATALOG_KEY_MAX];
	const char	*val;
	size_t		 len, vallen;

	if ((len = catalog_key(key, 'S', project, service, NULL)) != 0) {
		switch (registry_get(c->cat_reg, key, len, &val, &vallen)) {
		case REGISTRY_FOUND:
			return (CATALOG_NO_ENDPOINT);
		case REGISTRY_NOTFOUND:
			break;
		default:
			return (CATALOG_ERROR);
		}
	}
	if ((len = catalog_key(key, 'P', project, NULL, NULL)) != 0) {
		switch (registry_get(c->cat_reg, key, len, &val, &vallen)) {
		case REGISTRY_FOUND:
			return (CATALOG_NO_SERVICE);
		case REGISTRY_NOTFOUND:
			break;
		default:
			return (CATALOG_ERROR);
		}
	}
	return (CATALOG_NO_PROJECT);
}

/* A cache miss on key: read, decode and cache the endpoint record. */
static enum catalog_status
catalog_load(struct catalog *c, const char *key, size_t len, uint32_t h,
    struct sy_endpoint **out)
{
	struct sy_endpoint	*ep;
	const char		*val;
	size_t			 vallen;

	switch (registry_get(c->cat_reg, key, len, &val, &vallen)) {
	case REGISTRY_FOUND:
		break;
	case REGISTRY_NOTFOUND:
		return (CATALOG_NO_ENDPOINT);
	default:
		return (CATALOG_ERROR);
	}
	ep = catalog_decode(key, val, vallen);
	if (ep != NULL)
		*out = endpoint_ref(ep);
	catalog_insert(c, key, len, h, ep);
	return (ep != NULL ? CATALOG_OK : CATALOG_ERROR);
}

/* The compiled project, from the cache or its record; NULL if broken. */
static struct sy_project *
catalog_project(struct catalog *c, const char *project)
{
	struct catalog_proj	*cp;
	char			 key[CATALOG_KEY_MAX], *rec, *err = NULL;
	const char		*val;
	size_t			 len, vallen;

	for (cp = c->cat_projs; cp != NULL; cp = cp->cp_next)
		if (strcmp(cp->cp_name, project) == 0)
			return (cp->cp_proj);
	if ((len = catalog_key(key, 'P', project, NULL, NULL)) == 0 ||
	    registry_get(c->cat_reg, key, len, &val, &vallen) !=
	    REGISTRY_FOUND)
		return (NULL);
	if ((cp = calloc(1, sizeof(*cp))) == NULL ||
	    (cp->cp_name = strdup(project)) == NULL ||
	    (rec = malloc(vallen + 1)) == NULL) {
		if (cp != NULL)
			free(cp->cp_name);
		free(cp);
		return (NULL);
	}
	memcpy(rec, val, vallen);
	rec[vallen] = '\0';
	if ((cp->cp_proj = project_decode(rec, vallen, &err)) == NULL) {
		log_warnx("%s: %s: %s", __func__, key, err != NULL ? err :
		    "cannot decode record");
		free(err);
	}
	free(rec);
	cp->cp_next = c->cat_projs;
	c->cat_projs = cp;
	return (cp->cp_proj);
}

enum catalog_status
catalog_lookup(struct catalog *c, const char *project, const char *service,
    const char *endpoint, struct sy_endpoint **out, struct sy_project **proj)
{
	struct catalog_ent	*ce;
	enum catalog_status	 st;
	char			 key[CATALOG_KEY_MAX];
	size_t			 len;
	uint64_t		 gen;
	uint32_t		 h;

	*out = NULL;
	if (proj != NULL)
		*proj = NULL;
	if (registry_read_begin(c->cat_reg, &gen) == -1)
		return (CATALOG_ERROR);
	if (gen != c->cat_gen) {
		catalog_flush(c);
		c->cat_gen = gen;
	}
	if ((len = catalog_key(key, 'E', project, service, endpoint)) == 0)
		st = CATALOG_NO_ENDPOINT;
	else {
		h = catalog_hash(key, len);
		if ((ce = catalog_find(c, key, len, h)) == NULL)
			st = catalog_load(c, key, len, h, out);
		else if (ce->ce_ep == NULL)
			st = CATALOG_ERROR;
		else {
			*out = endpoint_ref(ce->ce_ep);
			st = CATALOG_OK;
		}
	}
	if (st == CATALOG_NO_ENDPOINT)
		st = catalog_missing(c, project, service);
	if (st == CATALOG_OK && proj != NULL) {
		if ((*proj = catalog_project(c, project)) != NULL)
			project_ref(*proj);
		else {
			endpoint_unref(*out);
			*out = NULL;
			st = CATALOG_ERROR;
		}
	}
	registry_read_end(c->cat_reg);
	return (st);
}

enum catalog_status
catalog_find_project(struct catalog *c, const char *project,
    struct sy_project **proj)
{
	enum catalog_status	 st = CATALOG_OK;
	uint64_t		 gen;

	*proj = NULL;
	if (registry_read_begin(c->cat_reg, &gen) == -1)
		return (CATALOG_ERROR);
	if (gen != c->cat_gen) {
		catalog_flush(c);
		c->cat_gen = gen;
	}
	if ((*proj = catalog_project(c, project)) != NULL)
		project_ref(*proj);
	else if ((st = catalog_missing(c, project, "")) != CATALOG_NO_PROJECT)
		st = CATALOG_ERROR;
	registry_read_end(c->cat_reg);
	return (st);
}

struct catalog_scan {
	struct catalog	*cs_cat;
	void		(*cs_cb)(struct sy_project *, void *);
	void		*cs_arg;
};

static void
catalog_scan_cb(const char *key, size_t keylen, const char *val,
    size_t vallen, void *arg)
{
	struct catalog_scan	*cs = arg;
	struct sy_project	*p;
	char			 name[CATALOG_KEY_MAX];

	/* "P/<project>" */
	if (keylen < 3 || keylen - 2 >= sizeof(name))
		return;
	memcpy(name, key + 2, keylen - 2);
	name[keylen - 2] = '\0';
	if ((p = catalog_project(cs->cs_cat, name)) != NULL)
		cs->cs_cb(p, cs->cs_arg);
}

void
catalog_each_project(struct catalog *c, void (*cb)(struct sy_project *,
    void *), void *arg)
{
	struct catalog_scan	cs;
	uint64_t		gen;

	if (registry_read_begin(c->cat_reg, &gen) == -1)
		return;
	if (gen != c->cat_gen) {
		catalog_flush(c);
		c->cat_gen = gen;
	}
	cs.cs_cat = c;
	cs.cs_cb = cb;
	cs.cs_arg = arg;
	registry_scan(c->cat_reg, "P/", catalog_scan_cb, &cs);
	registry_read_end(c->cat_reg);
}

int
catalog_raw(struct catalog *c, const char *prefix, void (*cb)(const char *,
    size_t, const char *, size_t, void *), void *arg, uint64_t *gen,
    char *sha, size_t shasize)
{
	const char	*val;
	size_t		 vallen;
	int		 rc = 0;

	if (registry_read_begin(c->cat_reg, gen) == -1)
		return (-1);
	sha[0] = '\0';
	switch (registry_get(c->cat_reg, REGISTRY_KEY_CFG,
	    strlen(REGISTRY_KEY_CFG), &val, &vallen)) {
	case REGISTRY_FOUND:
		if (vallen < shasize) {
			memcpy(sha, val, vallen);
			sha[vallen] = '\0';
		}
		break;
	case REGISTRY_NOTFOUND:
		break;
	default:
		rc = -1;
	}
	if (rc == 0 && prefix != NULL)
		rc = registry_scan(c->cat_reg, prefix, cb, arg);
	registry_read_end(c->cat_reg);
	return (rc);
}
