/*
 * registry.c: the service registry in LMDB (see registry.h).  The master
 * side (registry_prepare, registry_commit) opens an environment only for
 * the duration of one call and closes it before returning, so the master
 * never holds an MDB_env across fork() (LMDB caveat: an environment must
 * not be used in a process other than the one that opened it).  A commit
 * empties the main database and writes every record and the new
 * generation in a single write transaction, so a reader sees either the
 * whole old registry or the whole new one.
 *
 * The worker side opens its own read-only environment after fork, with
 * MDB_NOTLS so that the one read transaction it keeps is tied to the
 * handle and not to a thread.  That transaction is reset whenever the
 * worker is not between registry_read_begin and registry_read_end, so no
 * snapshot is held across event-loop turns and old pages can be reused
 * by the next commit.  Values returned by registry_get point into the
 * map and are valid only until registry_read_end.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "config.h"
#include "log.h"
#include "registry.h"

/*
 * Reader slots in the lock file, which its first opener (the master)
 * sizes: one per worker (CONFIG_MAX_WORKERS), twice over for old and new
 * workers during a reload, plus slots of dead workers until the next
 * mdb_reader_check.  LMDB's default is 126.
 */
#define REGISTRY_MAXREADERS	1024

struct registry {
	MDB_env		*reg_env;
	MDB_txn		*reg_txn;	/* reset when idle */
	MDB_dbi		 reg_dbi;
	int		 reg_active;	/* in read_begin .. read_end */
	size_t		 reg_txnid;	/* snapshot reg_gen was read in; 0 */
	uint64_t	 reg_gen;
};

static void	 registry_errf(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	 registry_mkdirs(const char *, char **);
static int	 registry_mode(const char *, const char *, mode_t, int,
		    char **);
static int	 registry_perms(const char *, char **);
static int	 registry_check(const char *, char **);
static int	 registry_chown(const char *, uid_t, gid_t, char **);
static MDB_env	*registry_env_open(const char *, unsigned int,
		    const char *);
static int	 registry_gen_read(MDB_txn *, MDB_dbi, uint64_t *,
		    const char *);
static int	 registry_sorted(const struct sy_regentry *, size_t);
static int	 registry_write(MDB_txn *, MDB_dbi,
		    const struct sy_regentry *, size_t, uint64_t);

static void
registry_errf(char **err, const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	*err = strdup(buf);
}

/*
 * mkdir -p: create the missing parents with mode 0755 and dir itself
 * with mode 0750 (chmod'ed, so the umask does not matter).  An existing
 * dir is left as it is, but it must be a directory.
 */
static int
registry_mkdirs(const char *dir, char **err)
{
	struct stat	 st;
	char		*p, *s;
	size_t		 len;

	if ((p = strdup(dir)) == NULL) {
		registry_errf(err, "registry %s: %s", dir, strerror(errno));
		return (-1);
	}
	len = strlen(p);
	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	for (s = p + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST) {
			registry_errf(err, "registry %s: mkdir %s: %s", dir, p,
			    strerror(errno));
			free(p);
			return (-1);
		}
		*s = '/';
	}
	if (mkdir(p, 0750) == 0) {
		if (chmod(p, 0750) == -1) {
			registry_errf(err, "registry %s: chmod: %s", dir,
			    strerror(errno));
			free(p);
			return (-1);
		}
	} else if (errno != EEXIST) {
		registry_errf(err, "registry %s: mkdir: %s", dir,
		    strerror(errno));
		free(p);
		return (-1);
	} else if (stat(p, &st) == -1 || !S_ISDIR(st.st_mode)) {
		registry_errf(err, "registry %s: not a directory", dir);
		free(p);
		return (-1);
	}
	free(p);
	return (0);
}

/*
 * path (dir itself, or a file in it) must not be writable by group or
 * others: whoever can write the registry rewrites every rule.  A file
 * that does not exist yet is fine (LMDB creates it 0640).
 */
static int
registry_mode(const char *dir, const char *path, mode_t want, int is_dir,
    char **err)
{
	struct stat	 st;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT && !is_dir)
			return (0);
		registry_errf(err, "registry %s: stat %s: %s", dir, path,
		    strerror(errno));
		return (-1);
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) == 0)
		return (0);
	registry_errf(err, "registry %s %s is writable by group or others "
	    "(mode %04o): switchyard refuses it; run \"chmod %04o %s\"",
	    is_dir ? "directory" : "file", path,
	    (unsigned int)(st.st_mode & 07777), (unsigned int)want, path);
	return (-1);
}

/* The directory 0750 at most, its files 0640 at most, as created. */
static int
registry_perms(const char *dir, char **err)
{
	static const char *const files[] = { "/data.mdb", "/lock.mdb" };
	char	path[4096];
	size_t	i;

	if (registry_mode(dir, dir, 0750, 1, err) == -1)
		return (-1);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s", dir,
		    files[i]) >= sizeof(path)) {
			registry_errf(err, "registry %s: path too long", dir);
			return (-1);
		}
		if (registry_mode(dir, path, 0640, 0, err) == -1)
			return (-1);
	}
	return (0);
}

/* Open the environment for writing and start a write txn, then undo. */
static int
registry_check(const char *dir, char **err)
{
	MDB_env	*env;
	MDB_txn	*txn;
	int	 rc;

	if ((rc = mdb_env_create(&env)) != 0) {
		registry_errf(err, "registry %s: mdb_env_create: %s", dir,
		    mdb_strerror(rc));
		return (-1);
	}
	if ((rc = mdb_env_set_mapsize(env, REGISTRY_MAPSIZE)) != 0 ||
	    (rc = mdb_env_set_maxreaders(env, REGISTRY_MAXREADERS)) != 0) {
		registry_errf(err, "registry %s: mdb_env_set: %s", dir,
		    mdb_strerror(rc));
		goto fail;
	}
	if ((rc = mdb_env_open(env, dir, 0, 0640)) != 0) {
		registry_errf(err, "registry %s: mdb_env_open: %s", dir,
		    mdb_strerror(rc));
		goto fail;
	}
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
		registry_errf(err, "registry %s: mdb_txn_begin: %s", dir,
		    mdb_strerror(rc));
		goto fail;
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return (0);
fail:
	mdb_env_close(env);
	return (-1);
}

/*
 * The workers open the lock file read-write even in MDB_RDONLY mode, so
 * the directory and both files must belong to the user they run as.
 */
static int
registry_chown(const char *dir, uid_t uid, gid_t gid, char **err)
{
	static const char *const files[] = { "", "/data.mdb", "/lock.mdb" };
	char	path[4096];
	size_t	i;

	if (uid == (uid_t)-1 && gid == (gid_t)-1)
		return (0);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s", dir,
		    files[i]) >= sizeof(path)) {
			registry_errf(err, "registry %s: path too long", dir);
			return (-1);
		}
		if (chown(path, uid, gid) == -1) {
			registry_errf(err, "registry %s: chown %s: %s", dir,
			    path, strerror(errno));
			return (-1);
		}
	}
	return (0);
}

int
registry_prepare(const char *dir, uid_t uid, gid_t gid, char **err)
{
	*err = NULL;
	if (dir == NULL || *dir == '\0') {
		registry_errf(err, "registry path is empty");
		return (-1);
	}
	if (registry_mkdirs(dir, err) == -1)
		return (-1);
	if (registry_perms(dir, err) == -1 || registry_check(dir, err) == -1)
		return (-1);
	return (registry_chown(dir, uid, gid, err));
}

/* Create and open an environment; log against caller's name. */
static MDB_env *
registry_env_open(const char *dir, unsigned int flags, const char *fn)
{
	MDB_env	*env;
	int	 rc;

	if ((rc = mdb_env_create(&env)) != 0) {
		log_warnx("%s: mdb_env_create: %s", fn, mdb_strerror(rc));
		return (NULL);
	}
	if ((rc = mdb_env_set_maxreaders(env, REGISTRY_MAXREADERS)) != 0) {
		log_warnx("%s: mdb_env_set_maxreaders: %s", fn,
		    mdb_strerror(rc));
		mdb_env_close(env);
		return (NULL);
	}
	if ((flags & MDB_RDONLY) == 0 &&
	    (rc = mdb_env_set_mapsize(env, REGISTRY_MAPSIZE)) != 0) {
		log_warnx("%s: mdb_env_set_mapsize: %s", fn, mdb_strerror(rc));
		mdb_env_close(env);
		return (NULL);
	}
	if ((rc = mdb_env_open(env, dir, flags, 0640)) != 0) {
		log_warnx("%s: mdb_env_open %s: %s", fn, dir, mdb_strerror(rc));
		mdb_env_close(env);
		return (NULL);
	}
	return (env);
}

/* Read the generation within txn: 0 when missing, -1 when malformed. */
static int
registry_gen_read(MDB_txn *txn, MDB_dbi dbi, uint64_t *gen, const char *fn)
{
	MDB_val	k, v;
	int	rc;

	k.mv_size = strlen(REGISTRY_KEY_GEN);
	k.mv_data = (void *)REGISTRY_KEY_GEN;
	rc = mdb_get(txn, dbi, &k, &v);
	if (rc == MDB_NOTFOUND) {
		*gen = 0;
		return (0);
	}
	if (rc != 0) {
		log_warnx("%s: mdb_get: %s", fn, mdb_strerror(rc));
		return (-1);
	}
	if (v.mv_size != sizeof(*gen)) {
		log_warnx("%s: generation record has %zu bytes", fn,
		    v.mv_size);
		return (-1);
	}
	memcpy(gen, v.mv_data, sizeof(*gen));
	return (0);
}

/* 1 when the keys are strictly increasing in LMDB's default order. */
static int
registry_sorted(const struct sy_regentry *ents, size_t n)
{
	size_t	i, la, lb;
	int	c;

	for (i = 1; i < n; i++) {
		la = strlen(ents[i - 1].key);
		lb = strlen(ents[i].key);
		c = memcmp(ents[i - 1].key, ents[i].key, la < lb ? la : lb);
		if (c > 0 || (c == 0 && la >= lb))
			return (0);
	}
	return (1);
}

/* Replace the contents of dbi with ents and generation gen. */
static int
registry_write(MDB_txn *txn, MDB_dbi dbi, const struct sy_regentry *ents,
    size_t n, uint64_t gen)
{
	MDB_val		k, v;
	unsigned int	flags;
	size_t		i;
	int		rc;

	if ((rc = mdb_drop(txn, dbi, 0)) != 0) {
		log_warnx("%s: mdb_drop: %s", __func__, mdb_strerror(rc));
		return (-1);
	}
	flags = registry_sorted(ents, n) ? MDB_APPEND : 0;
	for (i = 0; i < n; i++) {
		if (strcmp(ents[i].key, REGISTRY_KEY_GEN) == 0) {
			log_warnx("%s: reserved key %s", __func__,
			    REGISTRY_KEY_GEN);
			return (-1);
		}
		k.mv_size = strlen(ents[i].key);
		k.mv_data = ents[i].key;
		v.mv_size = ents[i].vallen;
		v.mv_data = ents[i].val;
		if ((rc = mdb_put(txn, dbi, &k, &v, flags)) != 0) {
			log_warnx("%s: mdb_put %s: %s", __func__, ents[i].key,
			    mdb_strerror(rc));
			return (-1);
		}
	}
	/* "#gen" sorts before every record key: no MDB_APPEND here */
	k.mv_size = strlen(REGISTRY_KEY_GEN);
	k.mv_data = (void *)REGISTRY_KEY_GEN;
	v.mv_size = sizeof(gen);
	v.mv_data = &gen;
	if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0) {
		log_warnx("%s: mdb_put %s: %s", __func__, REGISTRY_KEY_GEN,
		    mdb_strerror(rc));
		return (-1);
	}
	return (0);
}

int
registry_commit(const char *dir, const struct sy_regentry *ents, size_t n,
    uint64_t *gen)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	uint64_t	 old;
	int		 rc, dead;

	if ((env = registry_env_open(dir, 0, __func__)) == NULL)
		return (-1);
	/* slots of workers that died in a read txn would pin old pages */
	if ((rc = mdb_reader_check(env, &dead)) != 0)
		log_warnx("%s: mdb_reader_check: %s", __func__,
		    mdb_strerror(rc));
	else if (dead > 0)
		log_debug("%s: cleared %d stale reader slots", __func__, dead);
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
		log_warnx("%s: mdb_txn_begin: %s", __func__, mdb_strerror(rc));
		goto fail;
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0) {
		log_warnx("%s: mdb_dbi_open: %s", __func__, mdb_strerror(rc));
		mdb_txn_abort(txn);
		goto fail;
	}
	if (registry_gen_read(txn, dbi, &old, __func__) == -1)
		old = 0;	/* logged; the commit repairs it */
	if (registry_write(txn, dbi, ents, n, old + 1) == -1) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		log_warnx("%s: mdb_txn_commit: %s", __func__, mdb_strerror(rc));
		goto fail;
	}
	mdb_env_close(env);
	*gen = old + 1;
	return (0);
fail:
	mdb_env_close(env);
	return (-1);
}

struct registry *
registry_open(const char *dir)
{
	struct registry	*r;
	MDB_txn		*txn;
	int		 rc;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_warn("%s: calloc", __func__);
		return (NULL);
	}
	/* mapsize left at 0: adopt the size the master gave the map */
	r->reg_env = registry_env_open(dir, MDB_RDONLY | MDB_NOTLS, __func__);
	if (r->reg_env == NULL)
		goto fail;
	/* a handle opened in a committed txn stays valid in the env */
	if ((rc = mdb_txn_begin(r->reg_env, NULL, MDB_RDONLY, &txn)) != 0) {
		log_warnx("%s: mdb_txn_begin: %s", __func__, mdb_strerror(rc));
		goto fail;
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &r->reg_dbi)) != 0) {
		log_warnx("%s: mdb_dbi_open: %s", __func__, mdb_strerror(rc));
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		log_warnx("%s: mdb_txn_commit: %s", __func__, mdb_strerror(rc));
		goto fail;
	}
	rc = mdb_txn_begin(r->reg_env, NULL, MDB_RDONLY, &r->reg_txn);
	if (rc != 0) {
		log_warnx("%s: mdb_txn_begin: %s", __func__, mdb_strerror(rc));
		goto fail;
	}
	mdb_txn_reset(r->reg_txn);
	return (r);
fail:
	registry_close(r);
	return (NULL);
}

void
registry_close(struct registry *r)
{
	if (r == NULL)
		return;
	if (r->reg_txn != NULL)
		mdb_txn_abort(r->reg_txn);
	if (r->reg_env != NULL)
		mdb_env_close(r->reg_env);
	free(r);
}

int
registry_read_begin(struct registry *r, uint64_t *gen)
{
	int	rc;

	if (r->reg_active) {
		/* a missing read_end: never keep an old snapshot */
		log_warnx("%s: read transaction was still open", __func__);
		registry_read_end(r);
	}
	rc = mdb_txn_renew(r->reg_txn);
	if (rc == MDB_MAP_RESIZED) {
		/* another process grew the map: adopt its size, retry */
		if ((rc = mdb_env_set_mapsize(r->reg_env, 0)) != 0) {
			log_warnx("%s: mdb_env_set_mapsize: %s", __func__,
			    mdb_strerror(rc));
			return (-1);
		}
		rc = mdb_txn_renew(r->reg_txn);
	}
	if (rc != 0) {
		log_warnx("%s: mdb_txn_renew: %s", __func__, mdb_strerror(rc));
		return (-1);
	}
	r->reg_active = 1;
	/*
	 * The same snapshot as last time (no commit since) has the same
	 * generation: skip the B-tree read, which costs cache misses on
	 * every call when the registry is large.
	 */
	if (mdb_txn_id(r->reg_txn) == r->reg_txnid && r->reg_txnid != 0) {
		*gen = r->reg_gen;
		return (0);
	}
	if (registry_gen_read(r->reg_txn, r->reg_dbi, gen, __func__) == -1) {
		registry_read_end(r);
		return (-1);
	}
	r->reg_txnid = mdb_txn_id(r->reg_txn);
	r->reg_gen = *gen;
	return (0);
}

enum registry_status
registry_get(struct registry *r, const char *key, size_t keylen,
    const char **val, size_t *vallen)
{
	MDB_val	k, v;
	int	rc;

	if (!r->reg_active) {
		log_warnx("%s: no read transaction", __func__);
		return (REGISTRY_ERROR);
	}
	/* a key LMDB could not store cannot be there */
	if (keylen == 0 || keylen > (size_t)mdb_env_get_maxkeysize(r->reg_env))
		return (REGISTRY_NOTFOUND);
	k.mv_size = keylen;
	k.mv_data = (void *)key;
	rc = mdb_get(r->reg_txn, r->reg_dbi, &k, &v);
	if (rc == MDB_NOTFOUND)
		return (REGISTRY_NOTFOUND);
	if (rc != 0) {
		log_warnx("%s: mdb_get: %s", __func__, mdb_strerror(rc));
		return (REGISTRY_ERROR);
	}
	*val = v.mv_data;
	*vallen = v.mv_size;
	return (REGISTRY_FOUND);
}

int
registry_scan(struct registry *r, const char *prefix,
    void (*cb)(const char *key, size_t keylen, const char *val,
    size_t vallen, void *arg), void *arg)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 plen = strlen(prefix);
	int		 rc;

	if (!r->reg_active) {
		log_warnx("%s: no read transaction", __func__);
		return (-1);
	}
	if ((rc = mdb_cursor_open(r->reg_txn, r->reg_dbi, &cur)) != 0) {
		log_warnx("%s: mdb_cursor_open: %s", __func__, mdb_strerror(rc));
		return (-1);
	}
	k.mv_size = plen;
	k.mv_data = (void *)prefix;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size >= plen &&
	    memcmp(k.mv_data, prefix, plen) == 0) {
		cb(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg);
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		log_warnx("%s: mdb_cursor_get: %s", __func__, mdb_strerror(rc));
		return (-1);
	}
	return (0);
}

void
registry_read_end(struct registry *r)
{
	if (!r->reg_active)
		return;
	mdb_txn_reset(r->reg_txn);
	r->reg_active = 0;
}
