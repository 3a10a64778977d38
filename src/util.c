/*
 * util.c: the small helpers every module shares (see util.h).
 *
 * A sybuf is either empty and unallocated (data NULL, len 0, cap 0, as
 * sybuf_init leaves it) or allocated, in which case data[len] is always
 * NUL and len < cap.  Every function that grows the buffer either
 * succeeds or returns -1 with the buffer exactly as it was, so that the
 * request path can answer 500 and still free it in one place.
 *
 * The x* allocators and syerrs abort the process on allocation failure:
 * they serve start-up and config validation, where a half-built config
 * or a silently dropped error message would be worse than a crash.  The
 * message goes to stderr because this file sits below log.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define SYBUF_MINCAP	64

static void	 util_oom(const char *, size_t) __attribute__((noreturn));
static int	 sybuf_grow(struct sybuf *, size_t);
static int	 sybuf_vprintf(struct sybuf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));

static void
util_oom(const char *what, size_t n)
{
	fprintf(stderr, "switchyard: %s: out of memory (%zu bytes)\n",
	    what, n);
	abort();
}

void
sybuf_init(struct sybuf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Make room for need more bytes plus the NUL.  0 / -1, b untouched. */
static int
sybuf_grow(struct sybuf *b, size_t need)
{
	size_t	 want, ncap;
	char	*p;

	if (need > SIZE_MAX - b->len - 1) {
		errno = ENOMEM;
		return (-1);
	}
	want = b->len + need + 1;
	if (want <= b->cap)
		return (0);
	ncap = b->cap < SYBUF_MINCAP ? SYBUF_MINCAP : b->cap;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2) {
			ncap = want;
			break;
		}
		ncap *= 2;
	}
	if ((p = realloc(b->data, ncap)) == NULL)
		return (-1);
	if (b->data == NULL)
		p[0] = '\0';
	b->data = p;
	b->cap = ncap;
	return (0);
}

int
sybuf_add(struct sybuf *b, const void *p, size_t n)
{
	if (sybuf_grow(b, n) == -1)
		return (-1);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return (0);
}

int
sybuf_reserve(struct sybuf *b, size_t n)
{
	return (sybuf_grow(b, n));
}

int
sybuf_addstr(struct sybuf *b, const char *s)
{
	return (sybuf_add(b, s, strlen(s)));
}

int
sybuf_addc(struct sybuf *b, char c)
{
	return (sybuf_add(b, &c, 1));
}

/* vprintf into b; 0 / -1 with b as it was. */
static int
sybuf_vprintf(struct sybuf *b, const char *fmt, va_list ap)
{
	va_list	 ap2;
	size_t	 room;
	int	 n;

	/* first try in the space we already have, if any */
	room = b->cap > b->len ? b->cap - b->len : 0;
	va_copy(ap2, ap);
	n = vsnprintf(room > 0 ? b->data + b->len : NULL, room, fmt, ap2);
	va_end(ap2);
	if (n >= 0 && (size_t)n >= room) {
		if (sybuf_grow(b, (size_t)n) == -1)
			n = -1;
		else
			n = vsnprintf(b->data + b->len, b->cap - b->len, fmt,
			    ap);
	}
	if (n < 0) {
		/* a failed attempt may have written into the spare room */
		if (b->data != NULL)
			b->data[b->len] = '\0';
		return (-1);
	}
	b->len += n;
	return (0);
}

int
sybuf_printf(struct sybuf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, fmt);
	rc = sybuf_vprintf(b, fmt, ap);
	va_end(ap);
	return (rc);
}

void
sybuf_reset(struct sybuf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
sybuf_truncate(struct sybuf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

void
sybuf_free(struct sybuf *b)
{
	free(b->data);
	sybuf_init(b);
}

char *
sybuf_detach(struct sybuf *b)
{
	char	*s;

	if (b->data == NULL)
		return (strdup(""));
	s = b->data;
	sybuf_init(b);
	return (s);
}

void
syerrs_init(struct syerrs *e)
{
	e->msg = NULL;
	e->n = 0;
}

void
syerrs_add(struct syerrs *e, const char *path, const char *fmt, ...)
{
	struct sybuf	 b;
	va_list		 ap;
	char		**nmsg;
	int		 rc;

	sybuf_init(&b);
	if (path != NULL && *path != '\0') {
		if (sybuf_addstr(&b, path) == -1 ||
		    sybuf_addstr(&b, ": ") == -1)
			util_oom(__func__, b.len);
	}
	va_start(ap, fmt);
	rc = sybuf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc == -1)
		util_oom(__func__, b.len);

	if (e->n >= SIZE_MAX / sizeof(*e->msg) - 1)
		util_oom(__func__, SIZE_MAX);
	nmsg = realloc(e->msg, (e->n + 1) * sizeof(*e->msg));
	if (nmsg == NULL)
		util_oom(__func__, (e->n + 1) * sizeof(*e->msg));
	e->msg = nmsg;
	e->msg[e->n++] = sybuf_detach(&b);
}

void
syerrs_free(struct syerrs *e)
{
	size_t	 i;

	for (i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	syerrs_init(e);
}

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		util_oom(__func__, n);
	return (p);
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = calloc(nmemb, size)) == NULL)
		util_oom(__func__, nmemb * size);
	return (p);
}

/*
 * calloc for the blocks a worker takes and gives back on every request:
 * glibc's calloc never serves from its per-thread cache (tcache), so
 * each one took the long path through _int_malloc, and the free that
 * followed found the cache full.  NULL when out of memory.
 */
void *
sy_zalloc(size_t nmemb, size_t size)
{
	/* through a volatile pointer, or gcc makes malloc+memset a calloc */
	static void	*(*volatile zero)(void *, int, size_t) = memset;
	void		*p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		return (NULL);
	if ((p = malloc(nmemb * size)) != NULL)
		zero(p, 0, nmemb * size);
	return (p);
}

char *
xstrdup(const char *s)
{
	return (xstrndup(s, strlen(s)));
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	n = strnlen(s, n);
	if (n == SIZE_MAX)
		util_oom(__func__, n);
	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return (p);
}

void
sy_strv_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n && v != NULL; i++)
		free(v[i]);
	free(v);
}

void *
sy_must(void *p)
{
	if (p == NULL)
		util_oom(__func__, 0);
	return (p);
}

double
sy_now(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return (0.0);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

void
sy_hex(char *out, const void *p, size_t n)
{
	static const char	 digits[] = "0123456789abcdef";
	const unsigned char	*b = p;
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int
sy_read_file(const char *path, size_t max, char **text, size_t *len)
{
	struct sybuf	 b;
	char		 chunk[8192];
	ssize_t		 n;
	int		 fd, serrno;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	sybuf_init(&b);
	for (;;) {
		if ((n = read(fd, chunk, sizeof(chunk))) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (b.len + n > max) {
			n = -1;
			errno = EFBIG;
			break;
		}
		if (sybuf_add(&b, chunk, n) == -1) {
			n = -1;
			errno = ENOMEM;
			break;
		}
	}
	serrno = errno;
	close(fd);
	if (n != 0) {
		sybuf_free(&b);
		errno = serrno;
		return (-1);
	}
	*len = b.len;
	*text = b.data != NULL ? sybuf_detach(&b) : strdup("");
	return (*text == NULL ? -1 : 0);
}

int
sy_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

void
sy_wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
