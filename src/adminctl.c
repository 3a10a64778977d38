/*
 * adminctl.c: a worker's end of the control channel (adminctl.h).  The
 * socketpair is non-blocking; frames to the master queue in one buffer
 * written as the socket takes them, answers are matched to the pending
 * requests by id.  Each pending request has its own timer.
 *
 * Invariants: a request's callback runs once, from the event loop (an
 * answer, its timer, or the channel's end), and the request is freed
 * right after it; once the channel broke every new request is refused
 * and every pending one has been answered with NULL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "adminctl.h"
#include "ctl.h"
#include "log.h"
#include "util.h"

struct adminctl_req {
	struct adminctl		*r_ac;
	uint32_t		 r_id;
	adminctl_cb		*r_cb;
	void			*r_arg;
	struct event		*r_timer;
	struct adminctl_req	*r_next;
};

struct adminctl {
	struct event_base	*ac_base;
	int			 ac_fd;
	struct event		*ac_rev;
	struct event		*ac_wev;
	struct ctl_reader	 ac_rd;
	struct sybuf		 ac_out;
	size_t			 ac_off;
	uint32_t		 ac_nextid;
	struct adminctl_req	*ac_pending;
	int			 ac_broken;
};

static void
adminctl_unlink(struct adminctl_req *r)
{
	struct adminctl_req	**pp;

	for (pp = &r->r_ac->ac_pending; *pp != NULL; pp = &(*pp)->r_next)
		if (*pp == r) {
			*pp = r->r_next;
			break;
		}
}

static void
adminctl_done(struct adminctl_req *r, const struct ctl_answer *a)
{
	adminctl_unlink(r);
	event_free(r->r_timer);
	r->r_cb(a, r->r_arg);
	free(r);
}

/* The channel broke: answer everything pending with NULL. */
static void
adminctl_break(struct adminctl *ac, const char *why)
{
	if (!ac->ac_broken)
		log_warnx("control channel: %s: config API writes and logins "
		    "answer 503", why);
	ac->ac_broken = 1;
	event_del(ac->ac_rev);
	event_del(ac->ac_wev);
	while (ac->ac_pending != NULL)
		adminctl_done(ac->ac_pending, NULL);
}

static void
adminctl_answer(struct adminctl *ac, const struct ctl_msg *m)
{
	struct adminctl_req	*r;
	struct ctl_answer	 a;

	if (m->type != CTL_ANSWER || ctl_unpack_answer(m, &a) == -1) {
		log_warnx("control channel: unexpected frame type %u",
		    (unsigned)m->type);
		return;
	}
	for (r = ac->ac_pending; r != NULL; r = r->r_next)
		if (r->r_id == m->id)
			break;
	if (r != NULL)		/* else: timed out or cancelled before */
		adminctl_done(r, &a);
	ctl_answer_free(&a);
}

static void
adminctl_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct adminctl	*ac = arg;
	struct ctl_msg	 m;
	enum ctl_io	 io;
	int		 rc;

	io = ctl_read_fd(fd, &ac->ac_rd);
	while ((rc = ctl_reader_next(&ac->ac_rd, &m)) == 1)
		adminctl_answer(ac, &m);
	if (rc == -1)
		adminctl_break(ac, "bad frame from the master");
	else if (io == CTL_IO_EOF)
		adminctl_break(ac, "the master closed it");
	else if (io == CTL_IO_ERR)
		adminctl_break(ac, strerror(errno));
}

/* Write what the socket takes.  0, or -1 when the channel broke. */
static int
adminctl_flush(struct adminctl *ac)
{
	switch (ctl_write_fd(ac->ac_fd, &ac->ac_out, &ac->ac_off)) {
	case CTL_IO_DONE:
		event_del(ac->ac_wev);
		return (0);
	case CTL_IO_AGAIN:
		event_add(ac->ac_wev, NULL);
		return (0);
	default:
		return (-1);
	}
}

static void
adminctl_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct adminctl	*ac = arg;

	if (adminctl_flush(ac) == -1)
		adminctl_break(ac, strerror(errno));
}

static void
adminctl_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct adminctl_req	*r = arg;

	log_warnx("control channel: the master did not answer within %d s",
	    ADMINCTL_TIMEOUT);
	adminctl_done(r, NULL);
}

struct adminctl *
adminctl_new(struct event_base *base, int fd)
{
	struct adminctl	*ac;

	if ((ac = calloc(1, sizeof(*ac))) == NULL)
		return (NULL);
	ac->ac_base = base;
	ac->ac_fd = fd;
	ctl_reader_init(&ac->ac_rd, CTL_MAX_PAYLOAD);
	sybuf_init(&ac->ac_out);
	ac->ac_rev = event_new(base, fd, EV_READ | EV_PERSIST,
	    adminctl_read_cb, ac);
	ac->ac_wev = event_new(base, fd, EV_WRITE | EV_PERSIST,
	    adminctl_write_cb, ac);
	if (ac->ac_rev == NULL || ac->ac_wev == NULL ||
	    event_add(ac->ac_rev, NULL) == -1) {
		log_warnx("%s: cannot watch the control channel", __func__);
		adminctl_free(ac);
		return (NULL);
	}
	return (ac);
}

void
adminctl_free(struct adminctl *ac)
{
	struct adminctl_req	*r;

	if (ac == NULL)
		return;
	while ((r = ac->ac_pending) != NULL) {
		ac->ac_pending = r->r_next;
		event_free(r->r_timer);
		free(r);
	}
	if (ac->ac_rev != NULL)
		event_free(ac->ac_rev);
	if (ac->ac_wev != NULL)
		event_free(ac->ac_wev);
	ctl_reader_free(&ac->ac_rd);
	sybuf_free(&ac->ac_out);
	close(ac->ac_fd);
	free(ac);
}

/* A new pending request whose frame the caller appends to ac_out. */
static struct adminctl_req *
adminctl_req_new(struct adminctl *ac, adminctl_cb *cb, void *arg)
{
	struct adminctl_req	*r;
	struct timeval		 tv = { ADMINCTL_TIMEOUT, 0 };

	if (ac->ac_broken || (r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	if ((r->r_timer = evtimer_new(ac->ac_base, adminctl_timeout_cb,
	    r)) == NULL || evtimer_add(r->r_timer, &tv) == -1) {
		if (r->r_timer != NULL)
			event_free(r->r_timer);
		free(r);
		return (NULL);
	}
	r->r_ac = ac;
	r->r_id = ++ac->ac_nextid;
	r->r_cb = cb;
	r->r_arg = arg;
	return (r);
}

static struct adminctl_req *
adminctl_queued(struct adminctl *ac, struct adminctl_req *r, int packed)
{
	if (packed == -1) {
		event_free(r->r_timer);
		free(r);
		return (NULL);
	}
	r->r_next = ac->ac_pending;
	ac->ac_pending = r;
	/* a broken channel answers r from the loop, never from here */
	if (adminctl_flush(ac) == -1)
		event_active(ac->ac_wev, EV_WRITE, 1);
	return (r);
}

struct adminctl_req *
adminctl_write(struct adminctl *ac, uint16_t type,
    const struct ctl_write *w, adminctl_cb *cb, void *arg)
{
	struct adminctl_req	*r;

	if ((r = adminctl_req_new(ac, cb, arg)) == NULL)
		return (NULL);
	return (adminctl_queued(ac, r, ctl_pack_write(&ac->ac_out, type,
	    r->r_id, w)));
}

struct adminctl_req *
adminctl_login(struct adminctl *ac, const struct ctl_login *l,
    adminctl_cb *cb, void *arg)
{
	struct adminctl_req	*r;

	if ((r = adminctl_req_new(ac, cb, arg)) == NULL)
		return (NULL);
	return (adminctl_queued(ac, r, ctl_pack_login(&ac->ac_out, r->r_id,
	    l)));
}

void
adminctl_cancel(struct adminctl_req *r)
{
	if (r == NULL)
		return;
	adminctl_unlink(r);
	event_free(r->r_timer);
	free(r);
}
