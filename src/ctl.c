/*
 * ctl.c: the control channel's frames (see ctl.h).  Encoding and
 * decoding are pure functions over byte buffers; the reader accepts
 * bytes in pieces of any size and yields whole frames, and refuses a
 * header it cannot trust (unknown type, reserved bits set, a length over
 * its bound) before buffering the payload, so that a confused or hostile
 * peer cannot make the master allocate without bound.  A bad stream
 * stays bad: frames have no resynchronisation marker.  Unpacking checks
 * every field against the payload's end and rejects trailing bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "util.h"

#define CTL_NOSTR	0xffffffffu

static void
ctl_be16(unsigned char *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void
ctl_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

static uint32_t
ctl_get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

int
ctl_encode(struct sybuf *out, uint16_t type, uint32_t id,
    const void *payload, size_t len)
{
	unsigned char	hdr[CTL_HDR_LEN];

	if (len > CTL_MAX_PAYLOAD)
		return (-1);
	ctl_be16(hdr, type);
	ctl_be16(hdr + 2, 0);
	ctl_be32(hdr + 4, id);
	ctl_be32(hdr + 8, (uint32_t)len);
	if (sybuf_add(out, hdr, sizeof(hdr)) == -1 ||
	    (len > 0 && sybuf_add(out, payload, len) == -1))
		return (-1);
	return (0);
}

/* Payload fields. */

static int
ctl_put32(struct sybuf *b, uint32_t v)
{
	unsigned char	p[4];

	ctl_be32(p, v);
	return (sybuf_add(b, p, 4));
}

static int
ctl_put64(struct sybuf *b, uint64_t v)
{
	if (ctl_put32(b, (uint32_t)(v >> 32)) == -1)
		return (-1);
	return (ctl_put32(b, (uint32_t)v));
}

static int
ctl_putstr(struct sybuf *b, const char *s, size_t len)
{
	if (s == NULL)
		return (ctl_put32(b, CTL_NOSTR));
	if (len >= CTL_NOSTR || ctl_put32(b, (uint32_t)len) == -1)
		return (-1);
	return (sybuf_add(b, s, len));
}

static int
ctl_puts(struct sybuf *b, const char *s)
{
	return (ctl_putstr(b, s, s ? strlen(s) : 0));
}

/* A read cursor over a payload. */
struct ctl_cur {
	const unsigned char	*p;
	size_t			 left;
	int			 bad;
};

static uint32_t
ctl_get32c(struct ctl_cur *c)
{
	uint32_t	v;

	if (c->bad || c->left < 4) {
		c->bad = 1;
		return (0);
	}
	v = ctl_get32(c->p);
	c->p += 4;
	c->left -= 4;
	return (v);
}

static uint64_t
ctl_get64c(struct ctl_cur *c)
{
	uint64_t	hi = ctl_get32c(c);

	return (hi << 32 | ctl_get32c(c));
}

/*
 * A string copy (NUL-terminated), NULL when absent.  With len, any
 * bytes and *len their count; without, a NUL inside is a fault (a C
 * string would silently lose what follows it).
 */
static char *
ctl_getstr(struct ctl_cur *c, size_t *len)
{
	uint32_t	 n = ctl_get32c(c);
	char		*s;

	if (len != NULL)
		*len = 0;
	if (c->bad || n == CTL_NOSTR)
		return (NULL);
	if (n > c->left || (len == NULL && memchr(c->p, '\0', n) != NULL) ||
	    (s = malloc((size_t)n + 1)) == NULL) {
		c->bad = 1;
		return (NULL);
	}
	memcpy(s, c->p, n);
	s[n] = '\0';
	c->p += n;
	c->left -= n;
	if (len != NULL)
		*len = n;
	return (s);
}

static void
ctl_cur_init(struct ctl_cur *c, const struct ctl_msg *m)
{
	c->p = (const unsigned char *)m->payload;
	c->left = m->len;
	c->bad = 0;
}

/* 0 when the cursor read the whole payload without a fault. */
static int
ctl_cur_done(const struct ctl_cur *c)
{
	return (c->bad || c->left != 0 ? -1 : 0);
}

/* Frame the payload built in p and free it. */
static int
ctl_frame(struct sybuf *out, uint16_t type, uint32_t id, struct sybuf *p,
    int rc)
{
	if (rc == 0)
		rc = ctl_encode(out, type, id, p->data, p->len);
	sybuf_free(p);
	return (rc);
}

int
ctl_pack_write(struct sybuf *out, uint16_t type, uint32_t id,
    const struct ctl_write *w)
{
	struct sybuf	p;
	int		rc;

	if (type != CTL_SET_SERVICE && type != CTL_DELETE_SERVICE)
		return (-1);
	sybuf_init(&p);
	rc = (ctl_puts(&p, w->project) == -1 ||
	    ctl_puts(&p, w->service) == -1 ||
	    ctl_putstr(&p, w->body, w->bodylen) == -1 ||
	    ctl_puts(&p, w->if_match) == -1 ||
	    ctl_puts(&p, w->client) == -1 ||
	    ctl_puts(&p, w->user) == -1) ? -1 : 0;
	return (ctl_frame(out, type, id, &p, rc));
}

int
ctl_unpack_write(const struct ctl_msg *m, struct ctl_write *w)
{
	struct ctl_cur	c;

	memset(w, 0, sizeof(*w));
	if (m->type != CTL_SET_SERVICE && m->type != CTL_DELETE_SERVICE)
		return (-1);
	ctl_cur_init(&c, m);
	w->project = ctl_getstr(&c, NULL);
	w->service = ctl_getstr(&c, NULL);
	w->body = ctl_getstr(&c, &w->bodylen);
	w->if_match = ctl_getstr(&c, NULL);
	w->client = ctl_getstr(&c, NULL);
	w->user = ctl_getstr(&c, NULL);
	if (ctl_cur_done(&c) == -1 || w->project == NULL ||
	    w->service == NULL ||
	    (m->type == CTL_SET_SERVICE && w->body == NULL)) {
		ctl_write_free(w);
		return (-1);
	}
	return (0);
}

void
ctl_write_free(struct ctl_write *w)
{
	free(w->project);
	free(w->service);
	free(w->body);
	free(w->if_match);
	free(w->client);
	free(w->user);
	memset(w, 0, sizeof(*w));
}

int
ctl_pack_login(struct sybuf *out, uint32_t id, const struct ctl_login *l)
{
	struct sybuf	p;
	int		rc;

	sybuf_init(&p);
	rc = (ctl_puts(&p, l->addr) == -1 || ctl_puts(&p, l->client) == -1 ||
	    ctl_puts(&p, l->user) == -1 || ctl_put32(&p, l->ok) == -1) ?
	    -1 : 0;
	return (ctl_frame(out, CTL_LOGIN, id, &p, rc));
}

int
ctl_unpack_login(const struct ctl_msg *m, struct ctl_login *l)
{
	struct ctl_cur	c;

	memset(l, 0, sizeof(*l));
	if (m->type != CTL_LOGIN)
		return (-1);
	ctl_cur_init(&c, m);
	l->addr = ctl_getstr(&c, NULL);
	l->client = ctl_getstr(&c, NULL);
	l->user = ctl_getstr(&c, NULL);
	l->ok = ctl_get32c(&c);
	if (ctl_cur_done(&c) == -1 || l->addr == NULL || l->ok > 1) {
		ctl_login_free(l);
		return (-1);
	}
	return (0);
}

void
ctl_login_free(struct ctl_login *l)
{
	free(l->addr);
	free(l->client);
	free(l->user);
	memset(l, 0, sizeof(*l));
}

int
ctl_pack_answer(struct sybuf *out, uint32_t id, const struct ctl_answer *a)
{
	struct sybuf	p;
	int		rc;

	sybuf_init(&p);
	rc = (ctl_put32(&p, a->status) == -1 ||
	    ctl_put32(&p, a->retry_after) == -1 ||
	    ctl_put64(&p, a->generation) == -1 ||
	    ctl_puts(&p, a->etag) == -1 ||
	    ctl_putstr(&p, a->body, a->bodylen) == -1) ? -1 : 0;
	return (ctl_frame(out, CTL_ANSWER, id, &p, rc));
}

int
ctl_unpack_answer(const struct ctl_msg *m, struct ctl_answer *a)
{
	struct ctl_cur	c;

	memset(a, 0, sizeof(*a));
	if (m->type != CTL_ANSWER)
		return (-1);
	ctl_cur_init(&c, m);
	a->status = ctl_get32c(&c);
	a->retry_after = ctl_get32c(&c);
	a->generation = ctl_get64c(&c);
	a->etag = ctl_getstr(&c, NULL);
	a->body = ctl_getstr(&c, &a->bodylen);
	if (ctl_cur_done(&c) == -1 || a->status < 100 || a->status > 599) {
		ctl_answer_free(a);
		return (-1);
	}
	return (0);
}

void
ctl_answer_free(struct ctl_answer *a)
{
	free(a->etag);
	free(a->body);
	memset(a, 0, sizeof(*a));
}

/* The reader. */

void
ctl_reader_init(struct ctl_reader *r, size_t max_payload)
{
	sybuf_init(&r->buf);
	r->off = 0;
	r->max = max_payload < CTL_MAX_PAYLOAD ? max_payload :
	    CTL_MAX_PAYLOAD;
	r->broken = 0;
}

void
ctl_reader_free(struct ctl_reader *r)
{
	sybuf_free(&r->buf);
	r->off = 0;
}

int
ctl_reader_feed(struct ctl_reader *r, const void *p, size_t len)
{
	/* drop consumed frames before growing */
	if (r->off > 0) {
		memmove(r->buf.data, r->buf.data + r->off, r->buf.len - r->off);
		r->buf.len -= r->off;
		r->off = 0;
	}
	return (sybuf_add(&r->buf, p, len));
}

int
ctl_reader_next(struct ctl_reader *r, struct ctl_msg *m)
{
	const unsigned char	*h;
	size_t			 avail = r->buf.len - r->off;
	uint32_t		 len;
	uint16_t		 type;

	if (r->broken)
		return (-1);
	if (avail < CTL_HDR_LEN)
		return (0);
	h = (const unsigned char *)r->buf.data + r->off;
	type = (uint16_t)(h[0] << 8 | h[1]);
	len = ctl_get32(h + 8);
	if (type == 0 || type > CTL_TYPE_MAX || h[2] != 0 || h[3] != 0 ||
	    len > r->max) {
		r->broken = 1;
		return (-1);
	}
	if (avail - CTL_HDR_LEN < len)
		return (0);
	m->type = type;
	m->id = ctl_get32(h + 4);
	m->payload = (const char *)h + CTL_HDR_LEN;
	m->len = len;
	r->off += CTL_HDR_LEN + len;
	return (1);
}

enum ctl_io
ctl_read_fd(int fd, struct ctl_reader *r)
{
	char		 chunk[16384];
	ssize_t		 n;
	int		 got = 0;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return (got ? CTL_IO_DONE : CTL_IO_AGAIN);
		if (n == -1)
			return (CTL_IO_ERR);
		if (n == 0)
			return (got ? CTL_IO_DONE : CTL_IO_EOF);
		if (ctl_reader_feed(r, chunk, (size_t)n) == -1) {
			errno = ENOMEM;
			return (CTL_IO_ERR);
		}
		got = 1;
		/* a short read: the fd is drained or blocking */
		if ((size_t)n < sizeof(chunk))
			return (CTL_IO_DONE);
	}
}

enum ctl_io
ctl_write_fd(int fd, struct sybuf *out, size_t *off)
{
	ssize_t	n;

	while (*off < out->len) {
		n = write(fd, out->data + *off, out->len - *off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return (CTL_IO_AGAIN);
		if (n == -1)
			return (CTL_IO_ERR);
		*off += (size_t)n;
	}
	sybuf_reset(out);
	*off = 0;
	return (CTL_IO_DONE);
}
