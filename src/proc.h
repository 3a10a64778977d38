/*
 * proc.h: process plumbing of a Unix daemon: daemonizing with a report
 * back to the terminal, the pidfile, -s signals, and privileges.
 */
#ifndef SY_PROC_H
#define SY_PROC_H

#include <sys/types.h>

/*
 * Detach from the terminal.  The original process waits until the
 * daemon calls proc_notify() and exits 0 (ready) or 1 after printing the
 * daemon's error to stderr.  Returns in the daemon with *notify_fd set,
 * or -1 when fork fails.
 */
int	 proc_daemonize(int *notify_fd);
/* From the daemon: err NULL = started.  Closes fd and detaches stdio. */
void	 proc_notify(int fd, const char *err);

/*
 * Why path cannot be the pidfile, or NULL when it can: it does not exist,
 * or it is a regular file (not a symbolic link) that is empty or holds
 * only a process id, optionally followed by a newline.  The reason is a
 * static string that follows the path, e.g. "is not a regular file".
 * NULL too when path cannot be opened for another reason (permissions):
 * proc_pidfile_write reports that.
 */
const char *proc_pidfile_problem(const char *path);
/*
 * Write our pid to path, which must pass proc_pidfile_problem (checked
 * again on the descriptor that is written, opened with O_NOFOLLOW): 0,
 * or -1 with *err set (caller frees).
 */
int	 proc_pidfile_write(const char *path, char **err);
void	 proc_pidfile_remove(const char *path);

/*
 * -s: send reload|stop|quit|reopen to the master named by pidfile.
 * 0, or -1 with *err set (caller frees).
 */
int	 proc_signal(const char *pidfile, const char *name, char **err);

/*
 * Look up user and group (either may be NULL: keep ours; a NULL group
 * with a user means the user's primary group).  0, or -1 with *err set.
 */
int	 proc_resolve_user(const char *user, const char *group, uid_t *uid,
	    gid_t *gid, char **err);
/*
 * Whether a process running as uid/gid could reach dir: every ancestor
 * directory searchable and dir itself searchable and writable by the
 * mode bits.  0, or -1 with *err naming the directory in the way.
 */
int	 proc_can_reach(const char *dir, uid_t uid, gid_t gid, char **err);
/*
 * Whether a process running as uid/gid could read file: every ancestor
 * directory searchable and file readable by the mode bits.  0, or -1
 * with *err (caller frees; NULL when out of memory) naming what is in
 * the way.
 */
int	 proc_can_read(const char *file, uid_t uid, gid_t gid, char **err);
/*
 * The ids the workers run as.  Only root can switch: then user, or
 * "nobody" when it is NULL (as nginx does), and group; anyone else keeps
 * their own ids, (uid_t)-1 and (gid_t)-1.  0, or -1 with *err set
 * (caller frees).
 */
int	 proc_workers_ids(const char *user, const char *group, uid_t *uid,
	    gid_t *gid, char **err);

/* Switch to uid/gid when running as root; -1 on failure (logged). */
int	 proc_drop_privileges(uid_t uid, gid_t gid);

#endif
