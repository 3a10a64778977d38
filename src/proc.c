/*
 * proc.c: daemonizing, the pidfile, signalling a running master, and
 * dropping privileges.  The daemonized child reports success or the
 * start-up error through a pipe, so that the command that started it
 * exits non-zero with the reason on the terminal.
 *
 * The pidfile is only ever written over when it is one already: a file
 * that holds nothing but a process id (and a newline), or nothing at
 * all.  It is opened with O_NOFOLLOW, and checked and truncated through
 * the same descriptor, so neither a symbolic link nor a file that changed
 * since "switchyard -t" can make the daemon truncate something else.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

/* A pidfile is shorter: at most 19 digits and a newline. */
#define PROC_PIDFILE_MAX	24
/* the workers' user when root starts us and server.user is not set */
#define PROC_DEFAULT_USER	"nobody"
#define PROC_PIDFILE_SYMLINK	"is a symbolic link (name the file itself)"

static char *
proc_err(const char *fmt, const char *a, const char *b)
{
	char	*s;

	if (asprintf(&s, fmt, a, b) == -1)
		return (NULL);
	return (s);
}

int
proc_daemonize(int *notify_fd)
{
	int	 p[2];
	pid_t	 pid;
	char	 buf[1024];
	ssize_t	 n, len = 0;

	if (pipe(p) == -1)
		return (-1);
	fflush(NULL);
	if ((pid = fork()) == -1)
		return (-1);
	if (pid != 0) {
		close(p[1]);
		while (len < (ssize_t)sizeof(buf) - 1 && (n = read(p[0],
		    buf + len, sizeof(buf) - 1 - len)) != 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1)
				break;
			len += n;
		}
		buf[len] = '\0';
		if (len == 3 && strcmp(buf, "ok\n") == 0)
			_exit(0);
		fprintf(stderr, "switchyard: %s\n", len > 0 ? buf :
		    "the daemon exited during start-up");
		_exit(1);
	}
	close(p[0]);
	setsid();
	if (chdir("/") == -1)
		return (-1);
	*notify_fd = p[1];
	return (0);
}

void
proc_notify(int fd, const char *err)
{
	const char	*msg = err != NULL ? err : "ok\n";
	int		 null;

	if (write(fd, msg, strlen(msg)) == -1) {
		/* the starter is gone: nothing to tell */
	}
	close(fd);
	if (err == NULL && (null = open("/dev/null", O_RDWR)) != -1) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
}

/* Why the open file fd is not a pidfile, or NULL. */
static const char *
proc_pidfile_fd_problem(int fd)
{
	struct stat	 st;
	char		 buf[PROC_PIDFILE_MAX + 1];
	ssize_t		 n;
	size_t		 i;

	if (fstat(fd, &st) == -1)
		return (strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ("is not a regular file");
	if ((n = pread(fd, buf, sizeof(buf), 0)) == -1)
		return (strerror(errno));
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	for (i = 0; i < (size_t)n; i++)
		if (buf[i] < '0' || buf[i] > '9')
			break;
	if (i != (size_t)n || n >= PROC_PIDFILE_MAX)
		return ("is not a pidfile (it holds more than a process id)");
	return (NULL);
}

const char *
proc_pidfile_problem(const char *path)
{
	const char	*why;
	int		 fd;

	/*
	 * Only what is known to be wrong: a file this process may not open
	 * (-t run by another user) is for proc_pidfile_write to report.
	 */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return (errno == ELOOP ? PROC_PIDFILE_SYMLINK : NULL);
	why = proc_pidfile_fd_problem(fd);
	close(fd);
	return (why);
}

int
proc_pidfile_write(const char *path, char **err)
{
	const char	*why;
	char		 buf[32];
	int		 fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0644);
	if (fd == -1) {
		*err = proc_err("cannot write pidfile %s: %s", path,
		    errno == ELOOP ? PROC_PIDFILE_SYMLINK : strerror(errno));
		return (-1);
	}
	if ((why = proc_pidfile_fd_problem(fd)) != NULL) {
		*err = proc_err("will not write pidfile %s: it %s", path, why);
		close(fd);
		return (-1);
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, n, 0) != n) {
		*err = proc_err("cannot write pidfile %s: %s", path,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

void
proc_pidfile_remove(const char *path)
{
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("%s: unlink %s", __func__, path);
}

static int
proc_signo(const char *name)
{
	if (strcmp(name, "reload") == 0)
		return (SIGHUP);
	if (strcmp(name, "stop") == 0)
		return (SIGTERM);
	if (strcmp(name, "quit") == 0)
		return (SIGQUIT);
	if (strcmp(name, "reopen") == 0)
		return (SIGUSR1);
	return (-1);
}

int
proc_signal(const char *pidfile, const char *name, char **err)
{
	FILE	*f;
	long	 pid = 0;
	int	 sig;

	if ((sig = proc_signo(name)) == -1) {
		*err = proc_err("unknown signal \"%s\"%s (use reload, stop, "
		    "quit or reopen)", name, "");
		return (-1);
	}
	if ((f = fopen(pidfile, "r")) == NULL) {
		*err = proc_err("cannot read pidfile %s: %s", pidfile,
		    strerror(errno));
		return (-1);
	}
	if (fscanf(f, "%ld", &pid) != 1 || pid <= 1) {
		fclose(f);
		*err = proc_err("pidfile %s holds no pid%s", pidfile, "");
		return (-1);
	}
	fclose(f);
	if (kill((pid_t)pid, sig) == -1) {
		*err = proc_err("cannot signal the master named in %s: %s",
		    pidfile, strerror(errno));
		return (-1);
	}
	return (0);
}

int
proc_resolve_user(const char *user, const char *group, uid_t *uid,
    gid_t *gid, char **err)
{
	struct passwd	*pw;
	struct group	*gr;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (user != NULL) {
		if ((pw = getpwnam(user)) == NULL) {
			*err = proc_err("unknown user \"%s\"%s", user, "");
			return (-1);
		}
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	}
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL) {
			*err = proc_err("unknown group \"%s\"%s", group, "");
			return (-1);
		}
		*gid = gr->gr_gid;
	}
	return (0);
}

static int
proc_mode_allows(const struct stat *st, uid_t uid, gid_t gid, mode_t bits)
{
	if (st->st_uid == uid)
		return ((st->st_mode & (bits << 6)) == (bits << 6));
	if (st->st_gid == gid)
		return ((st->st_mode & (bits << 3)) == (bits << 3));
	return ((st->st_mode & bits) == bits);
}

/*
 * Walk path's ancestors, each to be searchable by uid/gid, and path
 * itself to allow last (mode bits of the "other" class); verb says what
 * path could not be used for.
 */
static int
proc_walk(const char *path0, uid_t uid, gid_t gid, mode_t last,
    const char *verb, const char *fix, char **err)
{
	struct stat	 st;
	char		 path[PATH_MAX];
	char		*slash;
	mode_t		 need;

	if (realpath(path0, path) == NULL) {
		*err = proc_err("%s: %s", path0, strerror(errno));
		return (-1);
	}
	slash = path;
	for (;;) {
		slash = strchr(slash + 1, '/');
		if (slash != NULL)
			*slash = '\0';
		need = slash != NULL ? S_IXOTH : last;
		if (stat(path[0] != '\0' ? path : "/", &st) == -1 ||
		    !proc_mode_allows(&st, uid, gid, need)) {
			if (asprintf(err, "the workers' user cannot %s %s (set "
			    "server.user, or change the %s's owner or mode)",
			    slash != NULL ? "search" : verb, path, slash !=
			    NULL ? "directory" : fix) == -1)
				*err = NULL;
			return (-1);
		}
		if (slash == NULL)
			return (0);
		*slash = '/';
	}
}

int
proc_can_reach(const char *dir, uid_t uid, gid_t gid, char **err)
{
	return (proc_walk(dir, uid, gid, S_IXOTH | S_IWOTH, "write in",
	    "directory", err));
}

int
proc_can_read(const char *file, uid_t uid, gid_t gid, char **err)
{
	return (proc_walk(file, uid, gid, S_IROTH, "read", "file", err));
}

int
proc_workers_ids(const char *user, const char *group, uid_t *uid,
    gid_t *gid, char **err)
{
	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (geteuid() != 0)
		return (0);
	if (user == NULL)
		user = PROC_DEFAULT_USER;
	return (proc_resolve_user(user, group, uid, gid, err));
}

int
proc_drop_privileges(uid_t uid, gid_t gid)
{
	if (geteuid() != 0)
		return (0);
	if (gid != (gid_t)-1 && (setgroups(1, &gid) == -1 ||
	    setresgid(gid, gid, gid) == -1)) {
		log_warn("%s: setresgid %ld", __func__, (long)gid);
		return (-1);
	}
	if (uid != (uid_t)-1 && setresuid(uid, uid, uid) == -1) {
		log_warn("%s: setresuid %ld", __func__, (long)uid);
		return (-1);
	}
	return (0);
}
