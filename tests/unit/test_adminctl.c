/*
 * test_adminctl.c: the control channel end to end, both sides: a
 * worker's adminctl.c on a libevent loop and the master's mchan.c on
 * plain poll (SPEC 9.5, 9.3's 503 row): requests arrive as whole frames,
 * answers reach the request they answer whatever their order, a
 * cancelled request is never called back, and a master that goes away
 * fails every pending request with no answer.
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "adminctl.h"
#include "ctl.h"
#include "mchan.h"
#include "util.h"

struct got {
	int		calls;
	int		nulls;
	uint32_t	status;
	char		body[64];
};

static void
got_cb(const struct ctl_answer *a, void *arg)
{
	struct got	*g = arg;

	g->calls++;
	if (a == NULL) {
		g->nulls++;
		return;
	}
	g->status = a->status;
	snprintf(g->body, sizeof(g->body), "%.*s", (int)a->bodylen,
	    a->body != NULL ? a->body : "");
}

/* Turn the worker's loop until cond or 200 turns. */
#define LOOP_UNTIL(base, cond) do {					\
	int	 _i;							\
	for (_i = 0; _i < 200 && !(cond); _i++)				\
		event_base_loop((base), EVLOOP_ONCE | EVLOOP_NONBLOCK);	\
} while (0)

/* Read on the master's side until a frame is there (bounded). */
static void
master_wait_frame(struct mchan *c)
{
	struct pollfd	pfd;
	int		i;

	for (i = 0; i < 100 && !c->has && c->fd != -1; i++) {
		pfd.fd = c->fd;
		pfd.events = mchan_events(c);
		pfd.revents = 0;
		if (poll(&pfd, 1, 20) > 0)
			mchan_input(c, pfd.revents);
	}
}

static void
answer(struct mchan *c, uint32_t id, uint32_t status, const char *body)
{
	struct ctl_answer	a;

	memset(&a, 0, sizeof(a));
	a.status = status;
	a.body = (char *)body;
	a.bodylen = strlen(body);
	assert_int_equal(ctl_pack_answer(&c->out, id, &a), 0);
	mchan_flush(c);
}

static void
test_roundtrip(void **state)
{
	struct event_base	*base = event_base_new();
	struct adminctl		*ac;
	struct mchan		 c;
	struct ctl_write	 w, got_w;
	struct ctl_login	 l, got_l;
	struct got		 g1, g2, g3;
	uint32_t		 id1, id2;
	int			 wfd;

	(void)state;
	memset(&g1, 0, sizeof(g1));
	memset(&g2, 0, sizeof(g2));
	memset(&g3, 0, sizeof(g3));
	assert_int_equal(mchan_open(&c, &wfd), 0);
	ac = adminctl_new(base, wfd);
	assert_non_null(ac);
	memset(&w, 0, sizeof(w));
	w.project = "demo";
	w.service = "billing";
	w.body = "{\"url\":\"http://x\"}";
	w.bodylen = strlen(w.body);
	w.client = "127.0.0.1:5";
	w.user = "admin";
	assert_non_null(adminctl_write(ac, CTL_SET_SERVICE, &w, got_cb, &g1));
	memset(&l, 0, sizeof(l));
	l.addr = "127.0.0.1";
	l.client = "127.0.0.1:6";
	l.user = "admin";
	l.ok = 1;
	assert_non_null(adminctl_login(ac, &l, got_cb, &g2));
	/* a cancelled request is never called back */
	adminctl_cancel(adminctl_write(ac, CTL_DELETE_SERVICE, &w, got_cb,
	    &g3));
	assert_int_equal(g1.calls + g2.calls + g3.calls, 0);

	master_wait_frame(&c);
	assert_true(c.has);
	assert_int_equal(c.msg.type, CTL_SET_SERVICE);
	id1 = c.msg.id;
	assert_int_equal(ctl_unpack_write(&c.msg, &got_w), 0);
	assert_string_equal(got_w.service, "billing");
	assert_int_equal(got_w.bodylen, w.bodylen);
	assert_null(got_w.if_match);
	ctl_write_free(&got_w);
	mchan_next(&c);
	master_wait_frame(&c);
	assert_int_equal(c.msg.type, CTL_LOGIN);
	id2 = c.msg.id;
	assert_int_equal(ctl_unpack_login(&c.msg, &got_l), 0);
	assert_int_equal(got_l.ok, 1);
	assert_string_equal(got_l.addr, "127.0.0.1");
	ctl_login_free(&got_l);
	mchan_next(&c);
	master_wait_frame(&c);
	assert_int_equal(c.msg.type, CTL_DELETE_SERVICE);
	mchan_next(&c);

	/* answers in another order reach their own request */
	answer(&c, id2, 429, "{\"b\":2}");
	answer(&c, id1, 200, "{}");
	LOOP_UNTIL(base, g1.calls && g2.calls);
	assert_int_equal(g1.calls, 1);
	assert_int_equal(g1.status, 200);
	assert_string_equal(g1.body, "{}");
	assert_int_equal(g2.calls, 1);
	assert_int_equal(g2.status, 429);
	assert_string_equal(g2.body, "{\"b\":2}");
	assert_int_equal(g3.calls, 0);

	/* the master goes away: pending requests get no answer, new fail */
	memset(&g1, 0, sizeof(g1));
	assert_non_null(adminctl_write(ac, CTL_SET_SERVICE, &w, got_cb, &g1));
	mchan_close(&c);
	LOOP_UNTIL(base, g1.calls);
	assert_int_equal(g1.calls, 1);
	assert_int_equal(g1.nulls, 1);
	assert_null(adminctl_write(ac, CTL_SET_SERVICE, &w, got_cb, &g2));
	adminctl_free(ac);
	event_base_free(base);
}

/* A worker that sends junk has its channel closed by the master. */
static void
test_master_closes_bad_stream(void **state)
{
	struct mchan	c;
	int		wfd;

	(void)state;
	assert_int_equal(mchan_open(&c, &wfd), 0);
	assert_int_equal(write(wfd, "\0\x63\0\0\0\0\0\1\0\0\0\0", 12), 12);
	master_wait_frame(&c);
	assert_false(c.has);
	assert_int_equal(c.fd, -1);
	assert_int_equal(mchan_events(&c), 0);
	close(wfd);
}

/* A worker that exits closes its end: the master's end is closed. */
static void
test_master_sees_eof(void **state)
{
	struct mchan	c;
	int		wfd;

	(void)state;
	assert_int_equal(mchan_open(&c, &wfd), 0);
	close(wfd);
	master_wait_frame(&c);
	assert_int_equal(c.fd, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_master_closes_bad_stream),
		cmocka_unit_test(test_master_sees_eof),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
