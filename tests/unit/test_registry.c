/*
 * test_registry.c: the LMDB registry, on real environments in a
 * temporary directory.  Commits made while a reader is open in this
 * process run in a forked child, as in the daemon where the master
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

#include "config.h"
#include "registry.h"

static char	tmpbase[] = "/tmp/sy-test-registry.XXXXXX";
static int	tmpseq;

#define ENT(k, v)	{ (char *)(k), (char *)(v), sizeof(v) - 1 }

static struct sy_regentry ents1[] = {
	ENT("E/p/s/a", "{\"endpoint\":\"a\"}"),
	ENT("E/p/s/b", "{\"endpoint\":\"b\"}"),
	ENT("P/p", "{\"project\":\"p\"}"),
	ENT("S/p/s", "{\"url\":\"http://127.0.0.1:5000\"}"),
};

/* b is gone, a has changed, c is new */
static struct sy_regentry ents2[] = {
	ENT("E/p/s/a", "{\"endpoint\":\"a\",\"v\":2}"),
	ENT("E/p/s/c", "{\"endpoint\":\"c\"}"),
	ENT("P/p", "{\"project\":\"p\"}"),
	ENT("S/p/s", "{\"url\":\"http://127.0.0.1:5000\"}"),
};

/* not sorted: committed with plain puts */
static struct sy_regentry unsorted[] = {
	ENT("S/q/t", "{\"url\":\"http://x\"}"),
	ENT("E/q/t/z", "{\"endpoint\":\"z\"}"),
	ENT("P/q", "{\"project\":\"q\"}"),
	ENT("E/q/t/y", "{}"),
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define NREADERS	300

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

/* Each test gets a fresh path (not created) in *state. */
static int
test_setup(void **state)
{
	char	*dir;

	if ((dir = malloc(256)) == NULL)
		return (-1);
	snprintf(dir, 256, "%s/t%d/reg", tmpbase, ++tmpseq);
	*state = dir;
	return (0);
}

static int
test_teardown(void **state)
{
	free(*state);
	return (0);
}

/* Commit from a child process; returns the new generation or 0. */
static uint64_t
commit_child(const char *dir, const struct sy_regentry *e, size_t n)
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
		if (registry_commit(dir, e, n, &gen) == -1)
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

static void
prepare_ok(const char *dir)
{
	char	*err = NULL;

	assert_int_equal(registry_prepare(dir, (uid_t)-1, (gid_t)-1, &err), 0);
	assert_null(err);
}

/* Look every entry up within the current read txn. */
static void
expect_all(struct registry *r, const struct sy_regentry *e, size_t n)
{
	const char	*val;
	size_t		 i, len;

	for (i = 0; i < n; i++) {
		assert_int_equal(registry_get(r, e[i].key, strlen(e[i].key),
		    &val, &len), REGISTRY_FOUND);
		assert_int_equal(len, e[i].vallen);
		assert_memory_equal(val, e[i].val, len);
	}
}

static void
expect_missing(struct registry *r, const char *key)
{
	const char	*val;
	size_t		 len;

	assert_int_equal(registry_get(r, key, strlen(key), &val, &len),
	    REGISTRY_NOTFOUND);
}

static void
test_prepare_creates_dir(void **state)
{
	const char	*dir = *state;
	struct stat	 st;
	char		 path[512];

	prepare_ok(dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(stat(path, &st), 0);
	/* an existing directory is fine too */
	prepare_ok(dir);
}

static void
test_prepare_chown(void **state)
{
	const char	*dir = *state;
	const char	*files[] = { "", "/data.mdb", "/lock.mdb" };
	struct stat	 st;
	char		 path[512], *err = NULL;
	size_t		 i;

	if (geteuid() != 0)
		skip();
	assert_int_equal(registry_prepare(dir, 65534, 65534, &err), 0);
	assert_null(err);
	for (i = 0; i < NELEM(files); i++) {
		snprintf(path, sizeof(path), "%s%s", dir, files[i]);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(st.st_gid, 65534);
	}
}

/* SPEC section 3: a registry group or others may write is refused. */
static void
test_prepare_loose_modes(void **state)
{
	static const struct {
		const char	*file;		/* "" for the directory */
		mode_t		 mode;
		mode_t		 fix;
	} t[] = {
		{ "", 0777, 0750 }, { "", 0770, 0750 }, { "", 0752, 0750 },
		{ "", 01777, 0750 },
		{ "/data.mdb", 0666, 0640 }, { "/data.mdb", 0660, 0640 },
		{ "/data.mdb", 0642, 0640 },
		{ "/lock.mdb", 0666, 0640 }, { "/lock.mdb", 0620, 0640 },
	};
	const char	*dir = *state;
	struct stat	 st;
	char		 path[512], want[1200], *err;
	size_t		 i;

	prepare_ok(dir);
	for (i = 0; i < NELEM(t); i++) {
		snprintf(path, sizeof(path), "%s%s", dir, t[i].file);
		assert_int_equal(chmod(path, t[i].mode), 0);
		err = NULL;
		assert_int_equal(registry_prepare(dir, (uid_t)-1, (gid_t)-1,
		    &err), -1);
		snprintf(want, sizeof(want), "registry %s %s is writable by "
		    "group or others (mode %04o): switchyard refuses it; run "
		    "\"chmod %04o %s\"", *t[i].file == '\0' ? "directory" :
		    "file", path, (unsigned int)t[i].mode,
		    (unsigned int)t[i].fix, path);
		assert_non_null(err);
		assert_string_equal(err, want);
		free(err);
		/* the mode is left alone: the admin decides */
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, t[i].mode);
		assert_int_equal(chmod(path, t[i].fix), 0);
		prepare_ok(dir);
	}
	/* stricter than created is fine */
	assert_int_equal(chmod(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(chmod(path, 0600), 0);
	prepare_ok(dir);
	/* and new files come out 0640 at most whatever the umask */
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0022, 0);
}

static void
test_prepare_impossible(void **state)
{
	char	 file[512], path[600], *err = NULL;
	FILE	*fp;

	snprintf(file, sizeof(file), "%s/plainfile%d", tmpbase, ++tmpseq);
	assert_non_null(fp = fopen(file, "w"));
	fclose(fp);

	/* a directory under a regular file */
	snprintf(path, sizeof(path), "%s/reg", file);
	assert_int_equal(registry_prepare(path, (uid_t)-1, (gid_t)-1, &err),
	    -1);
	assert_non_null(err);
	assert_non_null(strstr(err, "Not a directory"));
	free(err);

	/* the registry path itself is a regular file */
	err = NULL;
	assert_int_equal(registry_prepare(file, (uid_t)-1, (gid_t)-1, &err),
	    -1);
	assert_non_null(err);
	assert_non_null(strstr(err, "not a directory"));
	free(err);

	err = NULL;
	assert_int_equal(registry_prepare("", (uid_t)-1, (gid_t)-1, &err), -1);
	assert_non_null(err);
	free(err);
}

static void
test_commit_read_back(void **state)
{
	const char	*dir = *state;
	struct registry	*r;
	uint64_t	 gen = 0;

	prepare_ok(dir);
	assert_int_equal(registry_commit(dir, ents1, NELEM(ents1), &gen), 0);
	assert_int_equal(gen, 1);

	assert_non_null(r = registry_open(dir));
	gen = 0;
	assert_int_equal(registry_read_begin(r, &gen), 0);
	assert_int_equal(gen, 1);
	expect_all(r, ents1, NELEM(ents1));
	expect_missing(r, "E/p/s/zz");
	expect_missing(r, "E/p/s");
	registry_read_end(r);
	registry_close(r);
}

struct scan_seen {
	char	keys[8][32];
	size_t	n;
};

static void
scan_cb(const char *key, size_t keylen, const char *val, size_t vallen,
    void *arg)
{
	struct scan_seen	*ss = arg;

	assert_true(ss->n < 8 && keylen < sizeof(ss->keys[0]));
	assert_true(vallen > 0 && val[0] == '{');
	memcpy(ss->keys[ss->n], key, keylen);
	ss->keys[ss->n++][keylen] = '\0';
}

static void
test_scan_prefix(void **state)
{
	const char		*dir = *state;
	struct registry		*r;
	struct scan_seen	 ss;
	uint64_t		 gen = 0;

	prepare_ok(dir);
	assert_int_equal(registry_commit(dir, ents1, NELEM(ents1), &gen), 0);
	assert_non_null(r = registry_open(dir));
	assert_int_equal(registry_read_begin(r, &gen), 0);
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(registry_scan(r, "E/", scan_cb, &ss), 0);
	assert_int_equal(ss.n, 2);
	assert_string_equal(ss.keys[0], "E/p/s/a");
	assert_string_equal(ss.keys[1], "E/p/s/b");
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(registry_scan(r, "P/", scan_cb, &ss), 0);
	assert_int_equal(ss.n, 1);
	assert_string_equal(ss.keys[0], "P/p");
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(registry_scan(r, "X/", scan_cb, &ss), 0);
	assert_int_equal(ss.n, 0);
	registry_read_end(r);
	/* outside a read transaction it refuses */
	assert_int_equal(registry_scan(r, "E/", scan_cb, &ss), -1);
	registry_close(r);
}

static void
test_generation_increments(void **state)
{
	const char	*dir = *state;
	uint64_t	 gen = 0;

	prepare_ok(dir);
	assert_int_equal(registry_commit(dir, ents1, NELEM(ents1), &gen), 0);
	assert_int_equal(gen, 1);
	assert_int_equal(registry_commit(dir, ents2, NELEM(ents2), &gen), 0);
	assert_int_equal(gen, 2);
	assert_int_equal(registry_commit(dir, NULL, 0, &gen), 0);
	assert_int_equal(gen, 3);
}

static void
test_commit_removes_stale(void **state)
{
	const char	*dir = *state;
	struct registry	*r;
	uint64_t	 gen = 0;

	prepare_ok(dir);
	assert_int_equal(registry_commit(dir, ents1, NELEM(ents1), &gen), 0);
	assert_int_equal(registry_commit(dir, ents2, NELEM(ents2), &gen), 0);
	assert_non_null(r = registry_open(dir));
	assert_int_equal(registry_read_begin(r, &gen), 0);
	assert_int_equal(gen, 2);
	expect_all(r, ents2, NELEM(ents2));
	expect_missing(r, "E/p/s/b");
	registry_read_end(r);
	registry_close(r);
}

static void
test_unsorted_entries(void **state)
{
	const char	*dir = *state;
	struct registry	*r;
	uint64_t	 gen = 0;

	prepare_ok(dir);
	assert_int_equal(registry_commit(dir, unsorted, NELEM(unsorted), &gen),
	    0);
	assert_non_null(r = registry_open(dir));
	assert_int_equal(registry_read_begin(r, &gen), 0);
	expect_all(r, unsorted, NELEM(unsorted));
	registry_read_end(r);
	registry_close(r);
}

static void
test_reader_sees_new_generation(void **state)
{
	const char	*dir = *state;
	struct registry	*r;
	uint64_t	 gen = 0;

	prepare_ok(dir);
	assert_int_equal(commit_child(dir, ents1, NELEM(ents1)), 1);
	assert_non_null(r = registry_open(dir));
	assert_int_equal(registry_read_begin(r, &gen), 0);
	assert_int_equal(gen, 1);
	expect_all(r, ents1, NELEM(ents1));
	registry_read_end(r);
	/* no commit since: the generation comes from the last read */
	gen = 0;
	assert_int_equal(registry_read_begin(r, &gen), 0);
	assert_int_equal(gen, 1);
	registry_read_end(r);

	assert_int_equal(commit_child(dir, ents2, NELEM(ents2)), 2);
	assert_int_equal(registry_read_begin(r, &gen), 0);
	assert_int_equal(gen, 2);
	registry_read_end(r);
	assert_int_equal(registry_read_begin(r, &gen), 0);
	assert_int_equal(gen, 2);
	expect_all(r, ents2, NELEM(ents2));
	expect_missing(r, "E/p/s/b");
	registry_read_end(r);
	registry_close(r);
}

/* A commit during a read txn does not change what that txn sees. */
static void
test_snapshot_isolation(void **state)
{
	const char	*dir = *state;
	struct registry	*r;
	uint64_t	 gen = 0;

	prepare_ok(dir);
	assert_int_equal(commit_child(dir, ents1, NELEM(ents1)), 1);
	assert_non_null(r = registry_open(dir));
	assert_int_equal(registry_read_begin(r, &gen), 0);
	assert_int_equal(commit_child(dir, ents2, NELEM(ents2)), 2);
	expect_all(r, ents1, NELEM(ents1));
	registry_read_end(r);
	assert_int_equal(registry_read_begin(r, &gen), 0);
	assert_int_equal(gen, 2);
	expect_all(r, ents2, NELEM(ents2));
	registry_read_end(r);
	registry_close(r);
}

static void
test_get_edge_cases(void **state)
{
	const char	*dir = *state;
	struct registry	*r;
	const char	*val;
	char		 big[2048];
	size_t		 len;
	uint64_t	 gen = 0;

	prepare_ok(dir);
	assert_int_equal(registry_commit(dir, ents1, NELEM(ents1), &gen), 0);
	assert_non_null(r = registry_open(dir));
	/* outside a read transaction */
	assert_int_equal(registry_get(r, "P/p", 3, &val, &len),
	    REGISTRY_ERROR);
	assert_int_equal(registry_read_begin(r, &gen), 0);
	/* keys LMDB cannot hold are simply not there */
	memset(big, 'x', sizeof(big));
	assert_int_equal(registry_get(r, big, sizeof(big), &val, &len),
	    REGISTRY_NOTFOUND);
	assert_int_equal(registry_get(r, "", 0, &val, &len),
	    REGISTRY_NOTFOUND);
	/* a key is its bytes: a prefix does not match */
	assert_int_equal(registry_get(r, "P/pp", 3, &val, &len),
	    REGISTRY_FOUND);
	registry_read_end(r);
	registry_read_end(r);	/* harmless when idle */
	registry_close(r);
}

static void
test_open_missing(void **state)
{
	const char	*dir = *state;
	struct registry	*r;
	uint64_t	 gen = 99;

	assert_null(registry_open(dir));
	/* an empty but prepared registry has generation 0 */
	prepare_ok(dir);
	assert_non_null(r = registry_open(dir));
	assert_int_equal(registry_read_begin(r, &gen), 0);
	assert_int_equal(gen, 0);
	registry_read_end(r);
	registry_close(r);
}

static void
test_commit_fails_cleanly(void **state)
{
	const char		*dir = *state;
	uint64_t		 gen = 0;
	struct sy_regentry	 bad[] = { ENT("#gen", "x") };

	/* no such directory */
	assert_int_equal(registry_commit(dir, ents1, NELEM(ents1), &gen), -1);
	prepare_ok(dir);
	assert_int_equal(registry_commit(dir, ents1, NELEM(ents1), &gen), 0);
	/* the reserved key is refused and the old registry kept */
	assert_int_equal(registry_commit(dir, bad, NELEM(bad), &gen), -1);
	assert_int_equal(gen, 1);
	assert_int_equal(registry_commit(dir, ents1, NELEM(ents1), &gen), 0);
	assert_int_equal(gen, 2);
}

/*
 * More readers than LMDB's default of 126 slots and than the most
 * workers a config may ask for, each in its own process with a read
 * transaction open at the same time.
 */
static void
test_many_readers(void **state)
{
	const char	*dir = *state;
	struct registry	*r;
	uint64_t	 gen;
	pid_t		 pids[NREADERS];
	char		 c;
	int		 i, ok = 0, status, up[2], hold[2];

	prepare_ok(dir);
	assert_int_equal(registry_commit(dir, ents1, NELEM(ents1), &gen), 0);
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(hold), 0);
	fflush(NULL);
	for (i = 0; i < NREADERS; i++) {
		assert_int_not_equal(pids[i] = fork(), -1);
		if (pids[i] != 0)
			continue;
		close(up[0]);
		close(hold[1]);
		c = (r = registry_open(dir)) != NULL &&
		    registry_read_begin(r, &gen) == 0 && gen == 1 ? 'y' : 'n';
		if (write(up[1], &c, 1) != 1 || read(hold[0], &c, 1) != 0)
			_exit(1);
		_exit(0);	/* the slot stays taken until here */
	}
	close(up[1]);
	close(hold[0]);
	for (i = 0; i < NREADERS; i++)
		if (read(up[0], &c, 1) == 1 && c == 'y')
			ok++;
	close(hold[1]);		/* all of them at once held a txn */
	close(up[0]);
	for (i = 0; i < NREADERS; i++)
		waitpid(pids[i], &status, 0);
	assert_int_equal(ok, NREADERS);
	/* the writer is not held up by them, nor by their dead slots */
	assert_int_equal(registry_commit(dir, ents2, NELEM(ents2), &gen), 0);
	assert_int_equal(gen, 2);
}

#define T(f)	\
	cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_prepare_creates_dir),
		T(test_prepare_chown),
		T(test_prepare_impossible),
		T(test_prepare_loose_modes),
		T(test_commit_read_back),
		T(test_scan_prefix),
		T(test_generation_increments),
		T(test_commit_removes_stale),
		T(test_unsorted_entries),
		T(test_reader_sees_new_generation),
		T(test_snapshot_isolation),
		T(test_get_edge_cases),
		T(test_open_missing),
		T(test_commit_fails_cleanly),
		T(test_many_readers),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, group_setup, group_teardown));
}
