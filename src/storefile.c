/*
 * storefile.c: the config file as the store's backend (SPEC 9.5).  FILE
 * is the configured path with its symlinks resolved when it is loaded;
 * a commit replaces that real file and leaves the symlinks alone.
 *
 * A commit is: FILE.tmp created with O_EXCL (an existing FILE.tmp is
 * someone else's and makes the write fail: it is never overwritten or
 * removed), given FILE's mode and owner, written and fsynced; FILE
 * copied to FILE.bak (replaced, same mode and owner, fsynced); FILE.tmp
 * renamed over FILE; the directory fsynced.  Up to the rename FILE is
 * untouched and a failure removes the FILE.tmp this commit created; the
 * rename is the commit point, so a crash at any step leaves FILE either
 * the old or the new complete document.  A failed directory fsync after
 * the rename cannot be undone and is only logged: the new file is in
 * place and is what the caller goes on to serve.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "storeint.h"
#include "util.h"

#define SF_MAX_FILE	(64 * 1024 * 1024)

int	store_crash_step;

void
store_test_crash_after(int k)
{
	store_crash_step = k;
}

static int
sf_load(struct store *st, struct store_err *e)
{
	char			*real, *text;
	size_t			 len;

	if ((real = realpath(st->given, NULL)) == NULL) {
		store_seterr(e, STORE_IO, "%s: %s", st->given,
		    strerror(errno));
		return (-1);
	}
	if (sy_read_file(real, SF_MAX_FILE, &text, &len) == -1) {
		store_seterr(e, STORE_IO, "%s: %s", real, strerror(errno));
		free(real);
		return (-1);
	}
	/*
	 * Only the text is kept: a write parses it (store_doc).  The one
	 * loader, cfgapi_load, parses the same text as the config, which
	 * refuses anything but a valid config object, and a full parse
	 * here was 40% of the start-up with a large config.
	 */
	free(st->path);
	st->path = real;
	store_install(st, text, len, NULL);
	return (0);
}

static int
sf_changed(struct store *st, struct store_err *e)
{
	char	*text, sha[65];
	size_t	 len;

	/* through the configured path: a re-pointed symlink is a change */
	if (sy_read_file(st->given, SF_MAX_FILE, &text, &len) == -1) {
		store_seterr(e, STORE_IO, "cannot read the config file %s: "
		    "%s", st->given, strerror(errno));
		return (-1);
	}
	store_hash(text, len, sha);
	free(text);
	if (strcmp(sha, st->sha) == 0)
		return (0);
	store_seterr(e, STORE_CONFLICT, "the config file %s changed on disk "
	    "since it was loaded; reload first", st->given);
	return (1);
}

static char *
sf_dir(const char *path)
{
	const char	*slash = strrchr(path, '/');

	if (slash == NULL)
		return (strdup("."));
	if (slash == path)
		return (strdup("/"));
	return (strndup(path, slash - path));
}

static int
sf_writable(struct store *st, struct store_err *e)
{
	char	*dir, *tmp;
	int	 rc = 0;

	if ((dir = sf_dir(st->path)) == NULL) {
		store_seterr(e, STORE_IO, "out of memory");
		return (-1);
	}
	if (access(dir, W_OK | X_OK) == -1) {
		store_seterr(e, STORE_IO, "cannot write in %s, the directory "
		    "of the config file: %s", dir, strerror(errno));
		rc = -1;
	} else if (asprintf(&tmp, "%s.tmp", st->path) == -1) {
		store_seterr(e, STORE_IO, "out of memory");
		rc = -1;
	} else {
		/* never removed by a commit that did not create it */
		if (access(tmp, F_OK) == 0) {
			store_seterr(e, STORE_IO, "%s exists (left by a "
			    "crash?): config API writes fail until it is "
			    "removed", tmp);
			rc = -1;
		}
		free(tmp);
	}
	free(dir);
	return (rc);
}

static int
sf_write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += n;
		len -= n;
	}
	return (0);
}

/* fd gets sb's owner and mode; 0 / -1 with errno. */
static int
sf_own(int fd, const struct stat *sb)
{
	struct stat	now;

	if (fstat(fd, &now) == -1)
		return (-1);
	if ((now.st_uid != sb->st_uid || now.st_gid != sb->st_gid) &&
	    fchown(fd, sb->st_uid, sb->st_gid) == -1)
		return (-1);
	return (fchmod(fd, sb->st_mode & 07777));
}

/* Create name with O_EXCL or truncate it; write text; fsync. */
static int
sf_put(const char *name, int excl, const struct stat *sb, const char *text,
    size_t len, int *created)
{
	int	fd, flags, serrno;

	flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
	    (excl ? O_EXCL : O_TRUNC);
	if ((fd = open(name, flags, 0600)) == -1)
		return (-1);
	if (created != NULL)
		*created = 1;
	if (sf_own(fd, sb) == -1 || sf_write_all(fd, text, len) == -1 ||
	    (store_crash_step != 1 && fsync(fd) == -1)) {
		serrno = errno;
		close(fd);
		errno = serrno;
		return (-1);
	}
	return (close(fd));
}

static int
sf_fsync_dir(const char *dir)
{
	int	fd, rc, serrno;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	rc = fsync(fd);
	serrno = errno;
	close(fd);
	errno = serrno;
	return (rc);
}

struct sf_names {
	char	*tmp;
	char	*bak;
	char	*dir;
	char	*old;	/* FILE's current content */
	size_t	 oldlen;
};

static void
sf_names_free(struct sf_names *n)
{
	free(n->tmp);
	free(n->bak);
	free(n->dir);
	free(n->old);
}

static int
sf_names(struct sf_names *n, const char *path)
{
	memset(n, 0, sizeof(*n));
	if (asprintf(&n->tmp, "%s.tmp", path) == -1)
		n->tmp = NULL;
	if (asprintf(&n->bak, "%s.bak", path) == -1)
		n->bak = NULL;
	n->dir = sf_dir(path);
	return (n->tmp && n->bak && n->dir ? 0 : -1);
}

/* Steps 1 to 4: FILE.tmp, FILE.bak, the rename.  0 / -1 with errno. */
static int
sf_replace(const char *path, struct sf_names *n, const char *text,
    size_t len, const char **failed, int *created)
{
	struct stat	sb;

	*failed = path;
	if (stat(path, &sb) == -1 ||
	    sy_read_file(path, SF_MAX_FILE, &n->old, &n->oldlen) == -1)
		return (-1);
	*failed = n->tmp;
	if (sf_put(n->tmp, 1, &sb, text, len, created) == -1)
		return (-1);
	if (store_crash_step == 1 || store_crash_step == 2)
		return (1);
	*failed = n->bak;
	if (sf_put(n->bak, 0, &sb, n->old, n->oldlen, NULL) == -1)
		return (-1);
	if (store_crash_step == 3)
		return (1);
	*failed = n->tmp;
	if (rename(n->tmp, path) == -1)
		return (-1);
	*created = 0;
	return (store_crash_step == 4 ? 1 : 0);
}

static int
sf_commit(struct store *st, const char *text, size_t len,
    struct store_err *e)
{
	struct sf_names	 n;
	const char	*failed = st->path;
	int		 created = 0, rc, serrno;

	if (sf_names(&n, st->path) == -1) {
		sf_names_free(&n);
		store_seterr(e, STORE_IO, "out of memory");
		return (-1);
	}
	if ((rc = sf_replace(st->path, &n, text, len, &failed,
	    &created)) == 1) {
		/* tests: the process "died" here, nothing cleaned up */
		store_seterr(e, STORE_IO, "simulated crash after step %d",
		    store_crash_step);
		sf_names_free(&n);
		return (-1);
	}
	if (rc == -1) {
		serrno = errno;
		if (created)
			(void)unlink(n.tmp);
		store_seterr(e, STORE_IO, "cannot write the config file %s: "
		    "%s: %s", st->path, failed, strerror(serrno));
		sf_names_free(&n);
		return (-1);
	}
	if (sf_fsync_dir(n.dir) == -1)
		log_warn("%s: fsync %s", __func__, n.dir);
	sf_names_free(&n);
	if (store_crash_step == 5) {
		store_seterr(e, STORE_IO, "simulated crash after step 5");
		return (-1);
	}
	return (0);
}

static const struct store_backend store_file_backend = {
	"file", sf_load, sf_changed, sf_commit, sf_writable, NULL
};

/* path made absolute (caller frees), or NULL with errno. */
static char *
sf_absolute(const char *path)
{
	char	 cwd[PATH_MAX], *abs;

	if (path[0] == '/')
		return (strdup(path));
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return (NULL);
	if (asprintf(&abs, "%s/%s", cwd, path) == -1) {
		errno = ENOMEM;
		return (NULL);
	}
	return (abs);
}

struct store *
store_open_file(const char *path, struct store_err *e)
{
	struct store	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		store_seterr(e, STORE_IO, "out of memory");
		return (NULL);
	}
	/* absolute: the master may chdir("/") after opening the store */
	if ((st->given = sf_absolute(path)) == NULL) {
		store_seterr(e, STORE_IO, "%s: %s", path, strerror(errno));
		free(st);
		return (NULL);
	}
	st->be = &store_file_backend;
	if (sf_load(st, e) == -1) {
		free(st->given);
		free(st);
		return (NULL);
	}
	return (st);
}
