/*
 * log.c: every message the daemon writes goes through here.  The
 * destination is stderr (foreground), syslog with the daemon facility,
 * or a file opened in append mode that USR1 reopens so that logrotate
 * can move it away.  Messages are lower case without a trailing period;
 * callers never pass tokens, keys or secrets.  Not async-signal-safe:
 * never call from a signal handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum log_dest {
	LOG_DEST_STDERR = 0,
	LOG_DEST_SYSLOG,
	LOG_DEST_FILE
};

static enum log_dest	 log_dest = LOG_DEST_STDERR;
static int		 log_lvl = LOG_LEVEL_INFO;
static int		 log_fd = -1;
static char		*log_path;
static char		 log_prefix[64];
static char		 log_ident[32] = "switchyard";
static int		 log_fatal_code = 1;
static int		 log_acc_fd = -1;
static char		*log_acc_path;

static const char *const log_names[] = { "error", "warn", "info", "debug" };
static const int log_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

int
log_level_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcmp(s, log_names[i]) == 0)
			return ((int)i);
	return (-1);
}

static int
log_open_file(void)
{
	int	fd;

	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return (-1);
	if (log_fd != -1)
		close(log_fd);
	log_fd = fd;
	return (0);
}

int
log_init(const char *dest, int level, const char *ident)
{
	log_close();
	log_lvl = level;
	if (ident != NULL)
		snprintf(log_ident, sizeof(log_ident), "%s", ident);
	if (dest == NULL || strcmp(dest, "stderr") == 0) {
		log_dest = LOG_DEST_STDERR;
		return (0);
	}
	if (strcmp(dest, "syslog") == 0) {
		log_dest = LOG_DEST_SYSLOG;
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		return (0);
	}
	log_path = strdup(dest);
	if (log_path == NULL || log_open_file() == -1) {
		log_dest = LOG_DEST_STDERR;
		free(log_path);
		log_path = NULL;
		return (-1);
	}
	log_dest = LOG_DEST_FILE;
	return (0);
}

void
log_set_prefix(const char *p)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s", p ? p : "");
}

void
log_set_fatal_code(int code)
{
	log_fatal_code = code;
}

static int
log_access_reopen(void)
{
	int	fd;

	if (log_acc_path == NULL)
		return (0);
	fd = open(log_acc_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640);
	if (fd == -1)
		return (-1);
	if (log_acc_fd != -1)
		close(log_acc_fd);
	log_acc_fd = fd;
	return (0);
}

int
log_access_open(const char *path)
{
	if (log_acc_fd != -1)
		close(log_acc_fd);
	log_acc_fd = -1;
	free(log_acc_path);
	log_acc_path = NULL;
	if (path == NULL)
		return (0);
	if ((log_acc_path = strdup(path)) == NULL)
		return (-1);
	return (log_access_reopen());
}

int
log_access_enabled(void)
{
	return (log_acc_fd != -1);
}

void
log_access(const char *fmt, ...)
{
	char		 line[1024], ts[40];
	struct timespec	 now;
	struct tm	 tm;
	va_list		 ap;
	int		 n, m;

	if (log_acc_fd == -1)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	n = (int)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03ld", now.tv_nsec / 1000000);
	n = snprintf(line, sizeof(line), "%s ", ts);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(log_acc_fd, line, n) == -1) {
		/* a full disk must not stop the gateway */
	}
}

int
log_reopen(void)
{
	int	rc = 0;

	if (log_access_reopen() == -1)
		rc = -1;
	if (log_dest == LOG_DEST_FILE && log_open_file() == -1)
		rc = -1;
	return (rc);
}

void
log_close(void)
{
	if (log_dest == LOG_DEST_SYSLOG)
		closelog();
	if (log_fd != -1)
		close(log_fd);
	log_fd = -1;
	free(log_path);
	log_path = NULL;
	log_dest = LOG_DEST_STDERR;
}

static void
log_vwrite(int lvl, const char *fmt, va_list ap, int with_errno)
{
	char		 msg[2048], line[2200], ts[32];
	int		 saved = errno, n;
	struct tm	 tm;
	time_t		 now;

	if (lvl > log_lvl)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	if (log_dest == LOG_DEST_SYSLOG) {
		if (log_prefix[0] != '\0')
			syslog(log_prio[lvl], "%s: %s", log_prefix, msg);
		else
			syslog(log_prio[lvl], "%s", msg);
		errno = saved;
		return;
	}
	now = time(NULL);
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S%z", &tm);
	n = snprintf(line, sizeof(line), "%s %s[%ld] %s: %s%s%s\n", ts,
	    log_ident, (long)getpid(), log_names[lvl], log_prefix,
	    log_prefix[0] != '\0' ? ": " : "", msg);
	if (n > (int)sizeof(line) - 1)
		n = sizeof(line) - 1;
	/* one write(2) per line keeps lines from several processes whole */
	if (write(log_dest == LOG_DEST_FILE ? log_fd : STDERR_FILENO,
	    line, n) == -1) {
		/* nowhere left to report it */
	}
	errno = saved;
}

#define LOG_FN(name, lvl, err)						\
void									\
name(const char *fmt, ...)						\
{									\
	va_list	ap;							\
									\
	va_start(ap, fmt);						\
	log_vwrite(lvl, fmt, ap, err);					\
	va_end(ap);							\
}

LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap, 1);
	va_end(ap);
	exit(log_fatal_code);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap, 0);
	va_end(ap);
	exit(log_fatal_code);
}
