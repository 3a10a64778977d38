/*
 * worker.c: a worker process.  After fork it drops privileges, then
 * builds its own event_base, LMDB reader, curl multi handle and evhttp
 * server on the inherited sockets, so that nothing with event, curl,
 * TLS or LMDB state crosses a fork (libevent's event_reinit comment,
 * LMDB's "do not use an env across fork" caveat).
 *
 * Signals arrive blocked from the master; they are unblocked only after
 * the evsignal events are installed.  TERM and QUIT drain gracefully,
 * INT exits at once, USR1 reopens log files, HUP is the master's
 * business.  EOF on the liveness pipe means the master died: drain and
 * exit, bounded by shutdownTimeout.
 */
#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "admin_api.h"
#include "adminctl.h"
#include "catalog.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "mcache.h"
#include "proc.h"
#include "registry.h"
#include "upstream.h"
#include "worker.h"

struct worker {
	struct event_base	*w_base;
	const struct sy_config	*w_cfg;
	struct registry		*w_reg;
	struct catalog		*w_cat;
	struct upstream		*w_up;
	struct http		*w_http;
	struct adminctl		*w_ctl;
	struct admin_api	*w_api;
	struct event		*w_sig[5];
	struct event		*w_live;
	struct event		*w_force;
	int			 w_stopping;
};

static void
worker_drained(void *arg)
{
	struct worker	*w = arg;

	event_base_loopexit(w->w_base, NULL);
}

static void
worker_force_cb(evutil_socket_t fd, short what, void *arg)
{
	log_warnx("requests still in flight after shutdownTimeout, exiting");
	exit(WORKER_EXIT_OK);
}

static void
worker_stop(struct worker *w, const char *why)
{
	struct timeval	tv;
	double		t = w->w_cfg->srv.shutdown_timeout;

	if (w->w_stopping)
		return;
	w->w_stopping = 1;
	log_debug("%s: draining %zu requests", why, http_inflight(w->w_http));
	tv.tv_sec = (time_t)t;
	tv.tv_usec = (suseconds_t)((t - (double)tv.tv_sec) * 1e6);
	w->w_force = evtimer_new(w->w_base, worker_force_cb, w);
	if (w->w_force != NULL)
		evtimer_add(w->w_force, &tv);
	http_drain(w->w_http, worker_drained, w);
}

static void
worker_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct worker	*w = arg;

	switch (sig) {
	case SIGTERM:
	case SIGQUIT:
		worker_stop(w, "stop signal");
		break;
	case SIGINT:
		exit(WORKER_EXIT_OK);
	case SIGUSR1:
		if (log_reopen() == -1)
			log_warn("cannot reopen the log file");
		break;
	default:
		break;
	}
}

static void
worker_live_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	char		 buf[16];
	ssize_t		 n;

	n = read(fd, buf, sizeof(buf));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0)
		return;
	event_del(w->w_live);
	worker_stop(w, "the master is gone");
}

static void
worker_signals(struct worker *w, int live_fd)
{
	static const int	 sigs[] = { SIGTERM, SIGQUIT, SIGINT, SIGUSR1,
				    SIGHUP };
	sigset_t		 set;
	size_t			 i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		w->w_sig[i] = evsignal_new(w->w_base, sigs[i],
		    worker_signal_cb, w);
		if (w->w_sig[i] == NULL || evsignal_add(w->w_sig[i], NULL) == -1)
			fatalx("cannot install signal events");
	}
	/* handlers the master installed that mean nothing here */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	w->w_live = event_new(w->w_base, live_fd, EV_READ | EV_PERSIST,
	    worker_live_cb, w);
	if (w->w_live == NULL || event_add(w->w_live, NULL) == -1)
		fatalx("cannot watch the master");
	/* only now may signals be delivered (STYLE: fork and signals) */
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

/*
 * The event base and its allocator.  curl asks for a socket to be
 * watched, unwatched and watched again around every reused upstream
 * connection; with epoll's changelist those changes within one loop turn
 * are merged into at most one epoll_ctl.  (Its caveat is dup()ed
 * descriptors, which this process never watches.)  libevent's blocks
 * come from mcache.c, which serves evhttp's many small blocks per request
 * from per-size free lists.
 */
static struct event_base *
worker_base(void)
{
	struct event_config	*ec;
	struct event_base	*base;

	/*
	 * libevent's blocks come from mcache; this is the worker's first
	 * libevent call, as event_set_mem_functions requires.
	 */
	event_set_mem_functions(mcache_malloc, mcache_realloc, mcache_free);
	if ((ec = event_config_new()) == NULL)
		return (NULL);
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return (base);
}

static void
worker_init(struct worker *w, const struct worker_args *wa)
{
	const struct sy_config	*cfg = wa->cfg;

	if (proc_drop_privileges(wa->uid, wa->gid) == -1)
		exit(WORKER_EXIT_FATAL);
	if (log_access_open(cfg->srv.log_access) == -1)
		log_warn("cannot open the access log %s", cfg->srv.log_access);
	if ((w->w_base = worker_base()) == NULL) {
		log_warnx("%s: event_base_new failed", __func__);
		exit(WORKER_EXIT_RESOURCE);
	}
	worker_signals(w, wa->live_fd);
	if ((w->w_reg = registry_open(cfg->srv.registry_path)) == NULL)
		exit(WORKER_EXIT_RUNTIME);
	if ((w->w_cat = catalog_new(w->w_reg)) == NULL ||
	    (w->w_up = upstream_new(w->w_base)) == NULL)
		exit(WORKER_EXIT_RESOURCE);
	w->w_http = http_new(w->w_base, &cfg->srv, wa->fds, wa->nfds,
	    w->w_cat, w->w_up);
	if (w->w_http != NULL && http_metrics(w->w_http, wa->metrics,
	    wa->mslot, wa->admin_fd) == -1)
		exit(WORKER_EXIT_RESOURCE);
	if (w->w_http == NULL)
		exit(WORKER_EXIT_RESOURCE);
	/* the config API; a channel that cannot be watched answers 503 */
	w->w_ctl = adminctl_new(w->w_base, wa->ctl_fd);
	if ((w->w_api = admin_api_new(&cfg->srv, w->w_cat, w->w_ctl)) ==
	    NULL)
		exit(WORKER_EXIT_RESOURCE);
	http_config_api(w->w_http, w->w_api);
	http_prefetch(w->w_http);
}

void
worker_main(const struct worker_args *wa)
{
	struct worker	w;
	char		prefix[32];
	size_t		i;

	memset(&w, 0, sizeof(w));
	w.w_cfg = wa->cfg;
	snprintf(prefix, sizeof(prefix), "worker %d", wa->slot);
	log_set_prefix(prefix);
	log_set_fatal_code(WORKER_EXIT_FATAL);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	worker_init(&w, wa);
	*wa->ready = getpid();
	log_debug("serving");
	event_base_dispatch(w.w_base);

	log_debug("stopped");
	http_free(w.w_http);
	admin_api_free(w.w_api);
	adminctl_free(w.w_ctl);
	upstream_free(w.w_up);
	catalog_free(w.w_cat);
	registry_close(w.w_reg);
	for (i = 0; i < sizeof(w.w_sig) / sizeof(w.w_sig[0]); i++)
		event_free(w.w_sig[i]);
	event_free(w.w_live);
	if (w.w_force != NULL)
		event_free(w.w_force);
	event_base_free(w.w_base);
	exit(WORKER_EXIT_OK);
}
