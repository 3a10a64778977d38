/*
 * mchan.c: the master's end of a worker's control channel (mchan.h),
 * with plain ppoll(2) and no event library, as the master holds none;
 * ppoll is also where the master's signals are let in.
 *
 * Invariants: c->msg points into c->rd's buffer, so nothing is fed to
 * the reader while c->has is set (mchan_events asks for no input then);
 * a closed channel has fd -1 and holds no memory.
 */
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "mchan.h"
#include "util.h"

#define MCHAN_MAX	512	/* channels one poll watches */

int
mchan_open(struct mchan *c, int *worker_fd)
{
	int	sv[2];

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1) {
		log_warn("%s: socketpair", __func__);
		return (-1);
	}
	c->fd = sv[0];
	*worker_fd = sv[1];
	ctl_reader_init(&c->rd, CTL_MAX_PAYLOAD);
	sybuf_init(&c->out);
	return (0);
}

void
mchan_close(struct mchan *c)
{
	if (c->fd == -1)
		return;
	close(c->fd);
	ctl_reader_free(&c->rd);
	sybuf_free(&c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

short
mchan_events(const struct mchan *c)
{
	short	ev = 0;

	if (c->fd == -1)
		return (0);
	if (!c->has)
		ev |= POLLIN;
	if (c->out.len > c->off)
		ev |= POLLOUT;
	return (ev);
}

void
mchan_next(struct mchan *c)
{
	int	rc;

	c->has = 0;
	if (c->fd == -1)
		return;
	if ((rc = ctl_reader_next(&c->rd, &c->msg)) == 1)
		c->has = 1;
	else if (rc == -1) {
		log_warnx("control channel: a bad frame from a worker: closed");
		mchan_close(c);
	}
}

void
mchan_input(struct mchan *c, short revents)
{
	enum ctl_io	io;

	if (c->fd == -1 || c->has || (revents & (POLLIN | POLLHUP |
	    POLLERR)) == 0)
		return;
	io = ctl_read_fd(c->fd, &c->rd);
	mchan_next(c);
	if (c->has)
		return;
	/* a worker that exits closes its end; nothing to say then */
	if (io == CTL_IO_EOF)
		mchan_close(c);
	else if (io == CTL_IO_ERR) {
		log_warn("control channel: read");
		mchan_close(c);
	}
}

void
mchan_flush(struct mchan *c)
{
	if (c->fd == -1 || c->out.len <= c->off)
		return;
	if (ctl_write_fd(c->fd, &c->out, &c->off) == CTL_IO_ERR) {
		if (errno != EPIPE)
			log_warn("control channel: write");
		mchan_close(c);
	}
}

void
mchan_poll(struct mchan **cs, size_t n, const sigset_t *mask, int busy)
{
	struct pollfd	 pfd[MCHAN_MAX];
	struct timespec	 zero = { 0, 0 };
	size_t		 k;

	if (n > MCHAN_MAX)
		n = MCHAN_MAX;
	for (k = 0; k < n; k++) {
		pfd[k].fd = cs[k]->fd;
		pfd[k].events = mchan_events(cs[k]);
		pfd[k].revents = 0;
		busy |= cs[k]->has;
	}
	if (ppoll(pfd, n, busy ? &zero : NULL, mask) <= 0)
		return;
	for (k = 0; k < n; k++) {
		if (pfd[k].revents & POLLOUT)
			mchan_flush(cs[k]);
		mchan_input(cs[k], pfd[k].revents);
	}
}

struct mchan *
mchan_pick(struct mchan **cs, size_t n, size_t *rr)
{
	size_t	j, k;

	for (j = 0; j < n; j++) {
		k = (*rr + j) % n;
		if (cs[k]->has) {
			*rr = k + 1;
			return (cs[k]);
		}
	}
	return (NULL);
}
