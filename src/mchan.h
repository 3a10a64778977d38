/*
 * mchan.h: the master's end of one worker's control channel (ctl.h):
 * a non-blocking socketpair end, the frames read from it, and the
 * answers waiting to be written.  The master polls every channel in its
 * loop and serves at most one frame per turn (master.c).
 */
#ifndef SY_MCHAN_H
#define SY_MCHAN_H

#include <signal.h>
#include <stddef.h>

#include "ctl.h"
#include "util.h"

struct mchan {
	int			 fd;	/* -1: closed */
	struct ctl_reader	 rd;
	struct sybuf		 out;
	size_t			 off;
	int			 has;	/* msg holds a frame to serve */
	struct ctl_msg		 msg;	/* borrowed from rd */
};

/* A new pair: *worker_fd is the worker's end; c gets the master's. */
int	 mchan_open(struct mchan *c, int *worker_fd);
void	 mchan_close(struct mchan *c);
/* The poll events c waits for (0 when closed or a frame is waiting). */
short	 mchan_events(const struct mchan *c);
/*
 * After poll: read what came and take the next frame, if any, into
 * c->msg (c->has).  A channel whose worker closed it, or that sent a
 * bad stream, is closed (logged).
 */
void	 mchan_input(struct mchan *c, short revents);
/* The frame in c->msg was served: take the next one if it is there. */
void	 mchan_next(struct mchan *c);
/* Write the queued answers (c->out) as far as the socket takes them. */
void	 mchan_flush(struct mchan *c);

/*
 * Wait with ppoll(2), signals unblocked by mask only inside it, for the
 * n channels cs to be readable or writable (not at all when busy), then
 * read and write what they can.
 */
void	 mchan_poll(struct mchan **cs, size_t n, const sigset_t *mask,
	    int busy);
/* The next channel with a frame waiting, in turn from *rr, or NULL. */
struct mchan *mchan_pick(struct mchan **cs, size_t n, size_t *rr);

#endif
