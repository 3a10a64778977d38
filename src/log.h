/*
 * log.h: the daemon's only way to say anything (relayd's log.c style).
 */
#ifndef SY_LOG_H
#define SY_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

/*
 * dest is "stderr", "syslog" or a file path.  Returns 0 or -1 (and
 * keeps logging to stderr) when the file cannot be opened.
 */
int	 log_init(const char *dest, int level, const char *ident);
int	 log_level_parse(const char *);	/* -1 when unknown */
void	 log_set_prefix(const char *);	/* "worker 3" etc; copied */
int	 log_reopen(void);		/* USR1: reopen a file destination */
void	 log_close(void);

void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
/*
 * The access log: one line per request, "TIME " then the caller's text,
 * each written with one write(2) in append mode.  path NULL: off.
 */
int	 log_access_open(const char *path);	/* 0 / -1 */
int	 log_access_enabled(void);
void	 log_access(const char *, ...) __attribute__((format(printf, 1, 2)));

/* exit code used by fatal()/fatalx(); workers set it to 2 (no respawn) */
void	 log_set_fatal_code(int);

#endif
