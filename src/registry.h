/*
 * registry.h: the service registry in LMDB, the one shared-memory copy
 * that all workers read.  The master writes it whole, in one write
 * transaction that also bumps the generation number, opening the
 * environment only for that write.  Each worker opens its own read-only
 * environment after fork and reads with short read transactions that
 * never span an event-loop turn.
 */
#ifndef SY_REGISTRY_H
#define SY_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sy_regentry;

#define REGISTRY_KEY_GEN	"#gen"		/* value: uint64_t, host order */
#define REGISTRY_KEY_CFG	"#cfg"		/* the config API's hash */
#define REGISTRY_KEY_ADMIN	"#adm"		/* its credentials */
#define REGISTRY_MAPSIZE	((size_t)1 << 32)

enum registry_status {
	REGISTRY_FOUND = 0,
	REGISTRY_NOTFOUND,
	REGISTRY_ERROR
};

/*
 * Create dir when missing (mode 0750, chowned to uid/gid unless they are
 * (uid_t)-1) and check that an LMDB environment can be opened there for
 * writing.  An existing dir, data.mdb or lock.mdb that group or others
 * may write is refused, with the chmod that fixes it in *err.  Returns 0,
 * or -1 with *err set (caller frees).
 */
int	 registry_prepare(const char *dir, uid_t uid, gid_t gid, char **err);

/*
 * Master: replace the whole registry with ents in one write transaction
 * and set the generation to the previous one plus one (1 for a new
 * registry).  Clears stale reader slots first (mdb_reader_check).  Opens
 * and closes the environment.  Returns 0 and *gen, or -1 (logged).
 */
int	 registry_commit(const char *dir, const struct sy_regentry *ents,
	    size_t n, uint64_t *gen);

struct registry;

/* Worker: open the environment read-only.  NULL on failure (logged). */
struct registry	*registry_open(const char *dir);
void		 registry_close(struct registry *);

/* Begin (renew) the read transaction and read the generation: 0 / -1. */
int		 registry_read_begin(struct registry *, uint64_t *gen);

/*
 * Within a read transaction: look key up.  *val is borrowed until
 * registry_read_end(): copy it out before that.
 */
enum registry_status registry_get(struct registry *, const char *key,
		    size_t keylen, const char **val, size_t *vallen);

/*
 * Within a read transaction: call cb for every key that begins with
 * prefix, in key order.  Keys and values are borrowed for the call only.
 * 0 / -1 (logged).
 */
int		 registry_scan(struct registry *, const char *prefix,
		    void (*cb)(const char *key, size_t keylen, const char *val,
		    size_t vallen, void *arg), void *arg);

/* End (reset) the read transaction. */
void		 registry_read_end(struct registry *);

#endif
