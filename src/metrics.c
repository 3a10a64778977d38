/*
 * metrics.c: the shared-memory counters behind GET /metrics (see
 * metrics.h).
 *
 * Invariants:
 * - One writer per slot: the master hands a slot to one live worker at a
 *   time (metrics_slot_claim after the previous owner was reaped).
 * - Writers use relaxed atomic adds; a table entry is published by
 *   storing its "used" flag last (release), and readers load it with
 *   acquire, so a reader never sees a half-written key.
 * - Nothing here allocates on the hot path; rendering (a scrape)
 *   allocates freely.
 */
#include <sys/mman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

struct m_req {
	uint32_t	used;
	uint32_t	status;
	char		key[METRICS_KEY];	/* "project/service/endpoint" */
	uint64_t	count;
};

struct m_svc {
	uint32_t	used;
	uint32_t	pad;
	char		key[METRICS_KEY];	/* "project/service" */
	uint64_t	count;
	uint64_t	sum_us;
	uint64_t	bucket[METRICS_NBUCKETS];	/* not cumulative */
	uint64_t	err[METRICS_UP_NKINDS];
};

struct metrics_slot {
	pid_t		pid;		/* 0: free */
	uint32_t	pad;
	int64_t		conns;
	uint64_t	dropped;	/* table full: not recorded */
	uint64_t	auth[METRICS_NAUTH];
	struct m_req	req[METRICS_REQS];
	struct m_svc	svc[METRICS_SVCS];
	struct m_req	gql[METRICS_GQL];	/* status: family << 16 | n */
};

struct metrics {
	uint64_t		restarts;
	uint64_t		reloads_ok;
	uint64_t		reloads_failed;
	uint64_t		generation;
	struct metrics_slot	slot[METRICS_SLOTS];
};

static const double m_bounds[METRICS_NBUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5
};

static const char *const m_uperr[METRICS_UP_NKINDS] = {
	"refused", "timeout", "reset", "bad_response", "too_large"
};

#define M_ADD(p, n)	__atomic_fetch_add((p), (n), __ATOMIC_RELAXED)
#define M_LOAD(p)	__atomic_load_n((p), __ATOMIC_RELAXED)

struct metrics *
metrics_create(void)
{
	void	*p;

	/* pages are only backed once a worker touches them */
	p = mmap(NULL, sizeof(struct metrics), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return (p == MAP_FAILED ? NULL : p);
}

int
metrics_slot_claim(struct metrics *m, pid_t pid)
{
	int	i;

	for (i = 0; i < METRICS_SLOTS; i++) {
		if (m->slot[i].pid == 0) {
			m->slot[i].pid = pid;
			return (i);
		}
	}
	return (-1);
}

void
metrics_slot_owner(struct metrics *m, int slot, pid_t pid)
{
	if (slot >= 0 && slot < METRICS_SLOTS)
		m->slot[slot].pid = pid;
}

void
metrics_slot_release(struct metrics *m, int slot)
{
	if (slot >= 0 && slot < METRICS_SLOTS) {
		m->slot[slot].conns = 0;
		m->slot[slot].pid = 0;
	}
}

void
metrics_worker_restarted(struct metrics *m)
{
	M_ADD(&m->restarts, 1);
}

void
metrics_reload(struct metrics *m, int ok, uint64_t gen)
{
	if (ok) {
		M_ADD(&m->reloads_ok, 1);
		__atomic_store_n(&m->generation, gen, __ATOMIC_RELAXED);
	} else
		M_ADD(&m->reloads_failed, 1);
}

void
metrics_generation(struct metrics *m, uint64_t gen)
{
	__atomic_store_n(&m->generation, gen, __ATOMIC_RELAXED);
}

struct metrics_slot *
metrics_slot(struct metrics *m, int slot)
{
	if (m == NULL || slot < 0 || slot >= METRICS_SLOTS)
		return (NULL);
	return (&m->slot[slot]);
}

static uint32_t
m_hash(const char *s, uint32_t seed)
{
	uint32_t	h = 2166136261u ^ seed;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h);
}

/* Join names with '/' into key; -1 when it does not fit. */
static int
m_key(char *key, const char *a, const char *b, const char *c)
{
	const char	*part[3] = { a, b, c };
	size_t		 i, n, off = 0;

	for (i = 0; i < 3 && part[i] != NULL; i++) {
		n = strlen(part[i]);
		if (off + (i > 0) + n >= METRICS_KEY)
			return (-1);
		if (i > 0)
			key[off++] = '/';
		memcpy(key + off, part[i], n);
		off += n;
	}
	key[off] = '\0';
	return (0);
}

/* Count one (key, status) in a table of n entries (a power of 2). */
static void
m_count(struct metrics_slot *ms, struct m_req *tab, uint32_t n,
    const char *key, uint32_t status)
{
	struct m_req	*r;
	uint32_t	 h, i;

	h = m_hash(key, status);
	for (i = 0; i < n; i++) {
		r = &tab[(h + i) & (n - 1)];
		if (!__atomic_load_n(&r->used, __ATOMIC_ACQUIRE)) {
			memcpy(r->key, key, METRICS_KEY);
			r->status = status;
			__atomic_store_n(&r->used, 1, __ATOMIC_RELEASE);
		} else if (r->status != status || strcmp(r->key, key) != 0)
			continue;
		M_ADD(&r->count, 1);
		return;
	}
	M_ADD(&ms->dropped, 1);
}

void
metrics_request(struct metrics_slot *ms, const char *p, const char *s,
    const char *e, int status)
{
	char	key[METRICS_KEY];

	if (ms == NULL)
		return;
	if (m_key(key, p, s, e) == -1) {
		M_ADD(&ms->dropped, 1);
		return;
	}
	m_count(ms, ms->req, METRICS_REQS, key, (uint32_t)status);
}

/* GraphQL's counters: family f, labels joined as in m_key. */
static void
m_gql(struct metrics_slot *ms, uint32_t f, const char *a, const char *b,
    const char *c, uint32_t n)
{
	char	key[METRICS_KEY];

	if (ms == NULL)
		return;
	if (m_key(key, a, b, c) == -1) {
		M_ADD(&ms->dropped, 1);
		return;
	}
	m_count(ms, ms->gql, METRICS_GQL, key, f << 16 | (n & 0xffff));
}

void
metrics_graphql_request(struct metrics_slot *ms, const char *p, int status)
{
	m_gql(ms, 1, p, NULL, NULL, (uint32_t)status);
}

void
metrics_gql_field_error(struct metrics_slot *ms, const char *p,
    const char *code)
{
	m_gql(ms, 2, p, code, NULL, 0);
}

void
metrics_db_statement(struct metrics_slot *ms, const char *p, const char *db,
    const char *outcome)
{
	m_gql(ms, 3, p, db, outcome, 0);
}

static struct m_svc *
m_svc_find(struct metrics_slot *ms, const char *key)
{
	struct m_svc	*v;
	uint32_t	 h = m_hash(key, 0), i;

	for (i = 0; i < METRICS_SVCS; i++) {
		v = &ms->svc[(h + i) & (METRICS_SVCS - 1)];
		if (!__atomic_load_n(&v->used, __ATOMIC_ACQUIRE)) {
			memcpy(v->key, key, METRICS_KEY);
			__atomic_store_n(&v->used, 1, __ATOMIC_RELEASE);
			return (v);
		}
		if (strcmp(v->key, key) == 0)
			return (v);
	}
	return (NULL);
}

void
metrics_upstream(struct metrics_slot *ms, const char *p, const char *s,
    double seconds, int err)
{
	struct m_svc	*v;
	char		 key[METRICS_KEY];
	int		 b;

	if (ms == NULL)
		return;
	if (m_key(key, p, s, NULL) == -1 || (v = m_svc_find(ms, key)) ==
	    NULL) {
		M_ADD(&ms->dropped, 1);
		return;
	}
	if (err >= 0 && err < METRICS_UP_NKINDS) {
		M_ADD(&v->err[err], 1);
		return;
	}
	for (b = 0; b < METRICS_NBUCKETS && seconds > m_bounds[b]; b++)
		;
	if (b < METRICS_NBUCKETS)
		M_ADD(&v->bucket[b], 1);
	M_ADD(&v->count, 1);
	M_ADD(&v->sum_us, (uint64_t)(seconds * 1e6));
}

void
metrics_auth_failure(struct metrics_slot *ms, int reason)
{
	if (ms != NULL && reason >= 0 && reason < METRICS_NAUTH)
		M_ADD(&ms->auth[reason], 1);
}

void
metrics_connections(struct metrics_slot *ms, int delta)
{
	if (ms != NULL)
		M_ADD(&ms->conns, delta);
}

/* Rendering: sum the slots' tables into one list, then print. */

struct m_sum {
	char		 key[METRICS_KEY];
	uint32_t	 status;
	uint64_t	 count;
	uint64_t	 sum_us;
	uint64_t	 bucket[METRICS_NBUCKETS];
	uint64_t	 err[METRICS_UP_NKINDS];
};

struct m_list {
	struct m_sum	*v;
	size_t		 n;
	size_t		 cap;
};

static struct m_sum *
m_list_get(struct m_list *l, const char *key, uint32_t status)
{
	struct m_sum	*v;
	size_t		 i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].status == status && strcmp(l->v[i].key, key) == 0)
			return (&l->v[i]);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((v = realloc(l->v, l->cap * sizeof(*v))) == NULL)
			return (NULL);
		l->v = v;
	}
	v = &l->v[l->n++];
	memset(v, 0, sizeof(*v));
	memcpy(v->key, key, METRICS_KEY);
	v->status = status;
	return (v);
}

static int
m_collect(struct metrics *m, struct m_list *reqs, struct m_list *svcs,
    struct m_list *gql)
{
	struct metrics_slot	*ms;
	struct m_sum		*t;
	size_t			 i, j, b;

	for (i = 0; i < METRICS_SLOTS; i++) {
		ms = &m->slot[i];
		for (j = 0; j < METRICS_REQS; j++) {
			if (!__atomic_load_n(&ms->req[j].used,
			    __ATOMIC_ACQUIRE))
				continue;
			if ((t = m_list_get(reqs, ms->req[j].key,
			    ms->req[j].status)) == NULL)
				return (-1);
			t->count += M_LOAD(&ms->req[j].count);
		}
		for (j = 0; j < METRICS_GQL; j++) {
			if (!__atomic_load_n(&ms->gql[j].used,
			    __ATOMIC_ACQUIRE))
				continue;
			if ((t = m_list_get(gql, ms->gql[j].key,
			    ms->gql[j].status)) == NULL)
				return (-1);
			t->count += M_LOAD(&ms->gql[j].count);
		}
		for (j = 0; j < METRICS_SVCS; j++) {
			if (!__atomic_load_n(&ms->svc[j].used,
			    __ATOMIC_ACQUIRE))
				continue;
			if ((t = m_list_get(svcs, ms->svc[j].key, 0)) == NULL)
				return (-1);
			t->count += M_LOAD(&ms->svc[j].count);
			t->sum_us += M_LOAD(&ms->svc[j].sum_us);
			for (b = 0; b < METRICS_NBUCKETS; b++)
				t->bucket[b] += M_LOAD(&ms->svc[j].bucket[b]);
			for (b = 0; b < METRICS_UP_NKINDS; b++)
				t->err[b] += M_LOAD(&ms->svc[j].err[b]);
		}
	}
	return (0);
}

/* "a/b/c" as n1="a",n2="b",n3="c" with the names given. */
static void
m_labels_named(struct sybuf *out, const char *key, const char *const *names,
    size_t n)
{
	const char	*p = key, *slash;
	size_t		 i;

	for (i = 0; i < n && p != NULL; i++) {
		slash = i + 1 < n ? strchr(p, '/') : NULL;
		sybuf_printf(out, "%s%s=\"%.*s\"", i ? "," : "", names[i],
		    (int)(slash ? (size_t)(slash - p) : strlen(p)), p);
		p = slash ? slash + 1 : NULL;
	}
}

/* "p/s/e" as project="p",service="s"[,endpoint="e"] */
static void
m_labels(struct sybuf *out, const char *key)
{
	static const char *const names[] = { "project", "service",
	    "endpoint" };

	m_labels_named(out, key, names, 3);
}

static void
m_head(struct sybuf *out, const char *name, const char *type,
    const char *help)
{
	sybuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

static void
m_render_services(struct sybuf *out, struct m_list *svcs)
{
	struct m_sum	*t;
	uint64_t	 cum;
	size_t		 i, b;

	m_head(out, "switchyard_upstream_duration_seconds", "histogram",
	    "Upstream calls that got an answer, by service.");
	for (i = 0; i < svcs->n; i++) {
		t = &svcs->v[i];
		for (cum = 0, b = 0; b < METRICS_NBUCKETS; b++) {
			cum += t->bucket[b];
			sybuf_addstr(out,
			    "switchyard_upstream_duration_seconds_bucket{");
			m_labels(out, t->key);
			sybuf_printf(out, ",le=\"%g\"} %llu\n", m_bounds[b],
			    (unsigned long long)cum);
		}
		sybuf_addstr(out, "switchyard_upstream_duration_seconds_bucket{");
		m_labels(out, t->key);
		sybuf_printf(out, ",le=\"+Inf\"} %llu\n",
		    (unsigned long long)t->count);
		sybuf_addstr(out, "switchyard_upstream_duration_seconds_sum{");
		m_labels(out, t->key);
		sybuf_printf(out, "} %.6f\n", (double)t->sum_us / 1e6);
		sybuf_addstr(out, "switchyard_upstream_duration_seconds_count{");
		m_labels(out, t->key);
		sybuf_printf(out, "} %llu\n", (unsigned long long)t->count);
	}
	m_head(out, "switchyard_upstream_errors_total", "counter",
	    "Upstream calls that failed, by service and kind.");
	for (i = 0; i < svcs->n; i++) {
		for (b = 0; b < METRICS_UP_NKINDS; b++) {
			sybuf_addstr(out, "switchyard_upstream_errors_total{");
			m_labels(out, svcs->v[i].key);
			sybuf_printf(out, ",kind=\"%s\"} %llu\n", m_uperr[b],
			    (unsigned long long)svcs->v[i].err[b]);
		}
	}
}

static void
m_render_process(struct metrics *m, struct sybuf *out,
    const char *(*auth_reason)(int))
{
	uint64_t	auth[METRICS_NAUTH], dropped = 0;
	int64_t		conns = 0, workers = 0;
	size_t		i, r;

	memset(auth, 0, sizeof(auth));
	for (i = 0; i < METRICS_SLOTS; i++) {
		for (r = 0; r < METRICS_NAUTH; r++)
			auth[r] += M_LOAD(&m->slot[i].auth[r]);
		dropped += M_LOAD(&m->slot[i].dropped);
		if (m->slot[i].pid != 0) {
			workers++;
			conns += M_LOAD(&m->slot[i].conns);
		}
	}
	m_head(out, "switchyard_auth_failures_total", "counter",
	    "Calls refused because of their token, by reason.");
	for (r = 0; r < METRICS_NAUTH; r++)
		if (auth_reason(r) != NULL)
			sybuf_printf(out, "switchyard_auth_failures_total{reason="
			    "\"%s\"} %llu\n", auth_reason(r),
			    (unsigned long long)auth[r]);
	m_head(out, "switchyard_worker_restarts_total", "counter",
	    "Workers started again after one died.");
	sybuf_printf(out, "switchyard_worker_restarts_total %llu\n",
	    (unsigned long long)M_LOAD(&m->restarts));
	m_head(out, "switchyard_reloads_total", "counter",
	    "Configuration reloads, by result.");
	sybuf_printf(out, "switchyard_reloads_total{result=\"ok\"} %llu\n"
	    "switchyard_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)M_LOAD(&m->reloads_ok),
	    (unsigned long long)M_LOAD(&m->reloads_failed));
	m_head(out, "switchyard_registry_generation", "gauge",
	    "Generation of the registry being served.");
	sybuf_printf(out, "switchyard_registry_generation %llu\n",
	    (unsigned long long)M_LOAD(&m->generation));
	m_head(out, "switchyard_open_connections", "gauge",
	    "Client connections open.");
	sybuf_printf(out, "switchyard_open_connections %lld\n",
	    (long long)(conns < 0 ? 0 : conns));
	m_head(out, "switchyard_workers", "gauge", "Worker processes.");
	sybuf_printf(out, "switchyard_workers %lld\n", (long long)workers);
	m_head(out, "switchyard_metrics_dropped_total", "counter",
	    "Observations not recorded because a metrics table was full.");
	sybuf_printf(out, "switchyard_metrics_dropped_total %llu\n",
	    (unsigned long long)dropped);
}

static void
m_render_graphql(struct sybuf *out, const struct m_list *gql)
{
	static const char *const n1[] = { "project" };
	static const char *const n2[] = { "project", "code" };
	static const char *const n3[] = { "project", "database", "outcome" };
	static const struct {
		const char		*name, *help;
		const char *const	*labels;
		size_t			 nlabels;
	} fam[] = {
		{ "switchyard_graphql_requests_total",
		    "GraphQL requests answered, by project and status.", n1, 1 },
		{ "switchyard_graphql_field_errors_total",
		    "GraphQL field errors, by project and code.", n2, 2 },
		{ "switchyard_db_statements_total",
		    "SQL statements of GraphQL database fields, by outcome.",
		    n3, 3 },
	};
	size_t	f, i;

	for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		m_head(out, fam[f].name, "counter", fam[f].help);
		for (i = 0; i < gql->n; i++) {
			if (gql->v[i].status >> 16 != f + 1)
				continue;
			sybuf_printf(out, "%s{", fam[f].name);
			m_labels_named(out, gql->v[i].key, fam[f].labels,
			    fam[f].nlabels);
			if (f == 0)
				sybuf_printf(out, ",status=\"%u\"",
				    gql->v[i].status & 0xffff);
			sybuf_printf(out, "} %llu\n",
			    (unsigned long long)gql->v[i].count);
		}
	}
}

int
metrics_render(struct metrics *m, struct sybuf *out,
    const char *(*auth_reason)(int))
{
	struct m_list	reqs, svcs, gql;
	size_t		i;
	int		rc = -1;

	memset(&reqs, 0, sizeof(reqs));
	memset(&svcs, 0, sizeof(svcs));
	memset(&gql, 0, sizeof(gql));
	if (m_collect(m, &reqs, &svcs, &gql) == -1)
		goto out;
	m_head(out, "switchyard_requests_total", "counter",
	    "Calls answered, by project, service, endpoint and status.");
	for (i = 0; i < reqs.n; i++) {
		sybuf_addstr(out, "switchyard_requests_total{");
		m_labels(out, reqs.v[i].key);
		sybuf_printf(out, ",status=\"%u\"} %llu\n", reqs.v[i].status,
		    (unsigned long long)reqs.v[i].count);
	}
	m_render_services(out, &svcs);
	m_render_graphql(out, &gql);
	m_render_process(m, out, auth_reason);
	rc = 0;
out:
	free(reqs.v);
	free(svcs.v);
	free(gql.v);
	return (rc);
}
