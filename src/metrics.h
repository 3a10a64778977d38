/*
 * metrics.h: counters in one shared anonymous mapping that the master
 * creates before it forks.  Each worker writes only its own slot, with
 * relaxed atomic adds and no locks; whoever serves GET /metrics sums
 * all slots.  A slot outlives its worker: the replacement continues its
 * counts, so Prometheus counters never go down.
 */
#ifndef SY_METRICS_H
#define SY_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

#define METRICS_SLOTS		512	/* worker processes at once, at most */
#define METRICS_REQS		512	/* (endpoint, status) pairs per slot */
#define METRICS_SVCS		128	/* services per slot */
#define METRICS_GQL		256	/* GraphQL series per slot */
#define METRICS_KEY		124
#define METRICS_NBUCKETS	12
#define METRICS_NAUTH		16	/* auth failure reasons */

enum metrics_uperr {
	METRICS_UP_REFUSED = 0,
	METRICS_UP_TIMEOUT,
	METRICS_UP_RESET,
	METRICS_UP_BAD_RESPONSE,
	METRICS_UP_TOO_LARGE,
	METRICS_UP_NKINDS
};

struct metrics;
struct metrics_slot;

/* Master, before forking: the shared mapping.  NULL on failure. */
struct metrics		*metrics_create(void);
/* Master: a free slot for a new worker (its index), or -1. */
int			 metrics_slot_claim(struct metrics *, pid_t pid);
/* Master: the pid of the worker that got the slot. */
void			 metrics_slot_owner(struct metrics *, int slot, pid_t);
/* Master: the worker of that slot is gone (its counts stay). */
void			 metrics_slot_release(struct metrics *, int slot);
void			 metrics_worker_restarted(struct metrics *);
void			 metrics_reload(struct metrics *, int ok, uint64_t gen);
void			 metrics_generation(struct metrics *, uint64_t gen);

/* Worker: its slot. */
struct metrics_slot	*metrics_slot(struct metrics *, int slot);
void			 metrics_request(struct metrics_slot *, const char *p,
			    const char *s, const char *e, int status);
/* One upstream call of service p/s: seconds, and err (-1: none). */
void			 metrics_upstream(struct metrics_slot *, const char *p,
			    const char *s, double seconds, int err);
/* SPEC 8.11's counters. */
void			 metrics_graphql_request(struct metrics_slot *,
			    const char *p, int status);
void			 metrics_gql_field_error(struct metrics_slot *,
			    const char *p, const char *code);
void			 metrics_db_statement(struct metrics_slot *,
			    const char *p, const char *db, const char *outcome);
void			 metrics_auth_failure(struct metrics_slot *, int reason);
void			 metrics_connections(struct metrics_slot *, int delta);

/*
 * Append the Prometheus text exposition of everything, summed over all
 * slots, to out.  auth_reason(i) names auth failure reason i (NULL: not
 * a reason).  0 / -1 (no memory).
 */
int			 metrics_render(struct metrics *, struct sybuf *out,
			    const char *(*auth_reason)(int));

#endif
