/*
 * util.h: small helpers shared by every module: a growable byte buffer
 * and a list of error messages.
 */
#ifndef SY_UTIL_H
#define SY_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A growable, always NUL-terminated byte buffer. */
struct sybuf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	 sybuf_init(struct sybuf *);
int	 sybuf_add(struct sybuf *, const void *, size_t);	/* 0 / -1 */
int	 sybuf_addstr(struct sybuf *, const char *);
int	 sybuf_addc(struct sybuf *, char);
int	 sybuf_reserve(struct sybuf *, size_t);	/* room for n more */
int	 sybuf_printf(struct sybuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 sybuf_reset(struct sybuf *);	/* len = 0, keeps memory */
void	 sybuf_truncate(struct sybuf *, size_t);	/* back to len */
void	 sybuf_free(struct sybuf *);
char	*sybuf_detach(struct sybuf *);	/* caller frees; buffer emptied */

/* A list of "json.path: problem" messages collected during validation. */
struct syerrs {
	char	**msg;
	size_t	 n;
};

void	 syerrs_init(struct syerrs *);
void	 syerrs_add(struct syerrs *, const char *path, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 syerrs_free(struct syerrs *);

/* Abort-on-failure allocation, used only at start-up and in config. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* Free the n strings of v and v itself (NULL v: nothing). */
void	 sy_strv_free(char **v, size_t n);
/* calloc that glibc serves from its per-thread cache; NULL: no memory */
void	*sy_zalloc(size_t, size_t);
/* p itself, or abort as xmalloc does when it is NULL (out of memory). */
void	*sy_must(void *p);

/* Monotonic clock in seconds. */
double	 sy_now(void);

/* Overwrite the NUL-terminated s with zeros, then free it (NULL: no-op). */
void	 sy_wipe_free(char *s);

/* The value of hex digit c (either case), or -1. */
int	 sy_hexval(int c);

/* n bytes of p as lower-case hex into out (2n+1 bytes with the NUL). */
void	 sy_hex(char *out, const void *p, size_t n);

/*
 * The whole file path into *text (caller frees; NUL-terminated, *len
 * bytes before the NUL), refusing more than max bytes (EFBIG).
 * 0 / -1 with errno.
 */
int	 sy_read_file(const char *path, size_t max, char **text,
	    size_t *len);

#endif
