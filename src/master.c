/*
 * master.c: the master process, after nginx's master cycle.  It parses
 * the config, binds the listening sockets, writes the compiled registry
 * into LMDB, forks the workers, reaps them and restarts the ones that
 * die (backoff.c decides how soon), reloads on HUP and stops on TERM,
 * QUIT and INT.  Between signals it serves the config API's frames from
 * the workers' control channels, one per turn (cfgapi.c applies them).
 *
 * Why about 900 lines: the master cycle, reload and worker supervision
 * are one state machine (nginx keeps them in one file too); its process
 * plumbing is in proc.c, its restart policy in backoff.c, the control
 * channels in mchan.c and the config API's writes in cfgapi.c.
 *
 * Invariants:
 * - It holds no event_base, curl, OpenSSL or LMDB state: registry.c
 *   opens the LMDB environment only inside registry_commit.
 * - Signals are blocked except inside ppoll() (mchan_poll); handlers
 *   only set flags, and all work happens in the loop.
 * - The config file, the store behind the config API and the registry
 *   agree: every configuration is loaded and committed through cfgapi.c.
 * - fflush(NULL) before every fork; no atexit(); only the master
 *   removes the pidfile.
 * - Workers share the read end of a pipe whose write end only the
 *   master holds: when the master dies, they see EOF and exit.
 * - A reload builds the new state completely (parse, bind, commit)
 *   before it touches the old; any failure keeps the old running.
 */
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"
#include "cfgapi.h"
#include "config.h"
#include "log.h"
#include "master.h"
#include "mchan.h"
#include "metrics.h"
#include "proc.h"
#include "registry.h"
#include "sock.h"
#include "util.h"
#include "worker.h"

#define MASTER_INT_GRACE	1.0	/* seconds INT waits before KILL */

struct wslot {
	pid_t		 pid;		/* 0: none */
	int		 mslot;		/* its metrics slot */
	double		 respawn_at;	/* > 0: start a worker then */
	struct backoff	 bo;
	struct mchan	 ch;		/* its control channel */
};

struct listener {
	char	*addr;
	int	 fd;
};

static volatile sig_atomic_t	sig_hup, sig_term, sig_int, sig_usr1,
				sig_chld, sig_alrm;

static struct {
	char			*cfgpath;
	struct sy_config	*cfg;
	int			 foreground;
	struct listener		*ls;
	size_t			 nls;
	int			*fds;		/* the ls[] fds, for workers */
	int			 live[2];
	struct wslot		*slots;
	size_t			 nslots;
	struct wslot		*retiring;	/* old workers draining */
	size_t			 nretiring;
	struct metrics		*metrics;
	int			 admin_fd;	/* -1: no admin listener */
	char			*admin_addr;
	char			*pidfile;	/* the one written; NULL */
	volatile pid_t		*ready;		/* shared with workers */
	uid_t			 uid;
	gid_t			 gid;
	int			 stopping;
	double			 stop_deadline;
	uint64_t		 gen;
	struct cfgapi		*api;		/* the config file and API */
	size_t			 rr;		/* next channel to serve */
} m;

static void
master_sighandler(int sig)
{
	switch (sig) {
	case SIGHUP:
		sig_hup = 1;
		break;
	case SIGTERM:
	case SIGQUIT:
		sig_term = 1;
		break;
	case SIGINT:
		sig_int = 1;
		break;
	case SIGUSR1:
		sig_usr1 = 1;
		break;
	case SIGCHLD:
		sig_chld = 1;
		break;
	case SIGALRM:
		sig_alrm = 1;
		break;
	}
}

static void
master_signals(sigset_t *old)
{
	static const int	 sigs[] = { SIGHUP, SIGTERM, SIGQUIT, SIGINT,
				    SIGUSR1, SIGCHLD, SIGALRM };
	struct sigaction	 sa;
	sigset_t		 set;
	size_t			 i;

	sigemptyset(&set);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = master_sighandler;
	sigfillset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaddset(&set, sigs[i]);
		sigaction(sigs[i], &sa, NULL);
	}
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_BLOCK, &set, old);
}

static void
master_print_errors(struct syerrs *errs)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "switchyard: %s\n", errs->msg[i]);
}

static void
master_close_listeners(struct listener *ls, size_t n, struct listener *keep,
    size_t nkeep)
{
	size_t	i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < nkeep; j++)
			if (keep[j].fd == ls[i].fd)
				break;
		if (j == nkeep)
			close(ls[i].fd);
		free(ls[i].addr);
	}
	free(ls);
}

/*
 * Bind every address of cfg, reusing an already bound socket with the
 * same address from old.  NULL with *err set on failure.
 */
static struct listener *
master_bind(const struct sy_config *cfg, struct listener *old, size_t nold,
    char **err)
{
	struct listener	*ls;
	size_t		 i, j;

	ls = xcalloc(cfg->srv.nlisten, sizeof(*ls));
	for (i = 0; i < cfg->srv.nlisten; i++) {
		ls[i].addr = xstrdup(cfg->srv.listen[i]);
		ls[i].fd = -1;
		for (j = 0; j < nold; j++)
			if (strcmp(old[j].addr, ls[i].addr) == 0)
				ls[i].fd = old[j].fd;
		if (ls[i].fd == -1 &&
		    (ls[i].fd = sock_listen(ls[i].addr, err)) == -1) {
			master_close_listeners(ls, i + 1, old, nold);
			return (NULL);
		}
	}
	return (ls);
}

static size_t
master_nworkers(const struct sy_config *cfg)
{
	long	n;

	if (cfg->srv.workers > 0)
		return ((size_t)cfg->srv.workers);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > CONFIG_MAX_WORKERS)
		n = CONFIG_MAX_WORKERS;
	return ((size_t)n);
}

static void
master_use_listeners(struct listener *ls)
{
	size_t	i;

	m.ls = ls;
	m.nls = m.cfg->srv.nlisten;
	free(m.fds);
	m.fds = xcalloc(m.nls, sizeof(int));
	for (i = 0; i < m.nls; i++)
		m.fds[i] = ls[i].fd;
}

static void
master_spawn(size_t i)
{
	struct worker_args	 wa;
	struct wslot		*s = &m.slots[i];
	pid_t			 pid;
	size_t			 k;
	int			 wfd;

	s->respawn_at = 0;
	m.ready[i] = 0;
	mchan_close(&s->ch);
	if (mchan_open(&s->ch, &wfd) == -1) {
		s->respawn_at = sy_now() + 1;
		return;
	}
	/* the slot is ours from now on; the pid is filled in below */
	if ((s->mslot = metrics_slot_claim(m.metrics, 1)) == -1)
		log_warnx("no free metrics slot: worker %zu is not counted", i);
	fflush(NULL);
	if ((pid = fork()) == -1) {
		log_warn("%s: fork", __func__);
		metrics_slot_release(m.metrics, s->mslot);
		mchan_close(&s->ch);
		close(wfd);
		s->respawn_at = sy_now() + 1;
		return;
	}
	if (pid == 0) {
		close(m.live[1]);
		/* only the master holds the master's ends */
		for (k = 0; k < m.nslots; k++)
			if (m.slots[k].ch.fd != -1)
				close(m.slots[k].ch.fd);
		for (k = 0; k < m.nretiring; k++)
			if (m.retiring[k].ch.fd != -1)
				close(m.retiring[k].ch.fd);
		memset(&wa, 0, sizeof(wa));
		wa.cfg = m.cfg;
		wa.fds = m.fds;
		wa.nfds = m.nls;
		wa.live_fd = m.live[0];
		wa.ready = &m.ready[i];
		wa.slot = (int)i;
		wa.uid = m.uid;
		wa.gid = m.gid;
		wa.metrics = m.metrics;
		wa.mslot = s->mslot;
		wa.admin_fd = m.admin_fd;
		wa.ctl_fd = wfd;
		worker_main(&wa);
	}
	close(wfd);
	s->pid = pid;
	metrics_slot_owner(m.metrics, s->mslot, pid);
	log_debug("worker %zu started, pid %ld", i, (long)pid);
}

static void
master_signal_workers(int sig)
{
	size_t	i;

	for (i = 0; i < m.nslots; i++)
		if (m.slots[i].pid > 0)
			kill(m.slots[i].pid, sig);
	for (i = 0; i < m.nretiring; i++)
		kill(m.retiring[i].pid, sig);
}

static size_t
master_live_workers(void)
{
	size_t	i, n = m.nretiring;

	for (i = 0; i < m.nslots; i++)
		if (m.slots[i].pid > 0)
			n++;
	return (n);
}

static int
master_forget_retiring(pid_t pid)
{
	size_t	i;

	for (i = 0; i < m.nretiring; i++) {
		if (m.retiring[i].pid == pid) {
			metrics_slot_release(m.metrics, m.retiring[i].mslot);
			mchan_close(&m.retiring[i].ch);
			m.retiring[i] = m.retiring[--m.nretiring];
			return (0);
		}
	}
	return (-1);
}

static void
master_worker_died(size_t i, int status)
{
	struct wslot		*s = &m.slots[i];
	enum backoff_exit	 why = BACKOFF_EXIT_CRASH;
	int			 was_ready = m.ready[i] == s->pid;
	int			 code = -1;
	double			 delay;

	if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
		if (code == WORKER_EXIT_RESOURCE)
			why = BACKOFF_EXIT_RESOURCE;
	}
	metrics_slot_release(m.metrics, s->mslot);
	s->mslot = -1;
	mchan_close(&s->ch);
	if (m.stopping) {
		log_debug("worker %zu (pid %ld) exited", i, (long)s->pid);
		s->pid = 0;
		return;
	}
	if (WIFSIGNALED(status))
		log_warnx("worker %zu (pid %ld) killed by signal %d", i,
		    (long)s->pid, WTERMSIG(status));
	else
		log_warnx("worker %zu (pid %ld) exited with status %d", i,
		    (long)s->pid, code);
	s->pid = 0;
	if (code == WORKER_EXIT_FATAL) {
		log_warnx("worker %zu hit a fatal error: not restarting it", i);
		return;
	}
	delay = backoff_next(&s->bo, was_ready, why);
	metrics_worker_restarted(m.metrics);
	if (delay > 0)
		log_warnx("worker %zu died before it was ready: restarting it "
		    "in %.1f s", i, delay);
	s->respawn_at = sy_now() + delay;
}

static void
master_reap(void)
{
	pid_t	pid;
	int	status;
	size_t	i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (master_forget_retiring(pid) == 0)
			continue;
		for (i = 0; i < m.nslots; i++)
			if (m.slots[i].pid == pid)
				break;
		if (i < m.nslots)
			master_worker_died(i, status);
	}
}

static void
master_respawn_due(void)
{
	double	now = sy_now();
	size_t	i;

	if (m.stopping)
		return;
	for (i = 0; i < m.nslots; i++)
		if (m.slots[i].pid == 0 && m.slots[i].respawn_at > 0 &&
		    m.slots[i].respawn_at <= now)
			master_spawn(i);
}

/* Arm SIGALRM for the nearest pending respawn or the stop deadline. */
static void
master_arm_timer(void)
{
	struct itimerval	 it;
	double			 next = 0, now = sy_now(), d;
	size_t			 i;

	for (i = 0; i < m.nslots; i++)
		if (m.slots[i].pid == 0 && m.slots[i].respawn_at > 0 &&
		    (next == 0 || m.slots[i].respawn_at < next))
			next = m.slots[i].respawn_at;
	if (m.stopping && (next == 0 || m.stop_deadline < next))
		next = m.stop_deadline;
	memset(&it, 0, sizeof(it));
	if (next > 0) {
		d = next - now;
		if (d < 0.001)
			d = 0.001;
		it.it_value.tv_sec = (time_t)d;
		it.it_value.tv_usec = (suseconds_t)((d - (double)(time_t)d) *
		    1e6);
		if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
			it.it_value.tv_usec = 1000;
	}
	setitimer(ITIMER_REAL, &it, NULL);
}

/* n new slots, each with a worker starting. */
static void
master_new_slots(size_t n)
{
	size_t	i;

	m.slots = xcalloc(n, sizeof(*m.slots));
	m.nslots = n;
	for (i = 0; i < n; i++) {
		m.slots[i].ch.fd = -1;
		backoff_init(&m.slots[i].bo);
	}
	for (i = 0; i < n; i++)
		master_spawn(i);
}

/* A new worker set for process-level changes; the old one drains. */
static void
master_replace_workers(size_t n)
{
	size_t	i;

	for (i = 0; i < m.nslots; i++) {
		if (m.slots[i].pid <= 0)
			continue;
		kill(m.slots[i].pid, SIGQUIT);
		m.retiring = realloc(m.retiring, (m.nretiring + 1) *
		    sizeof(*m.retiring));
		if (m.retiring == NULL)
			fatal("%s: realloc", __func__);
		m.retiring[m.nretiring++] = m.slots[i];
	}
	free(m.slots);
	master_new_slots(n);
}

/* The admin socket of cfg: the bound one when the address is the same. */
static int
master_admin_bind(const struct sy_config *cfg, int *fd, char **err)
{
	*fd = -1;
	if (cfg->srv.admin_listen == NULL)
		return (0);
	if (m.admin_addr != NULL &&
	    strcmp(m.admin_addr, cfg->srv.admin_listen) == 0) {
		*fd = m.admin_fd;
		return (0);
	}
	*fd = sock_listen(cfg->srv.admin_listen, err);
	return (*fd == -1 ? -1 : 0);
}

static void
master_use_admin(const struct sy_config *cfg, int fd)
{
	if (m.admin_fd != -1 && m.admin_fd != fd)
		close(m.admin_fd);
	free(m.admin_addr);
	m.admin_fd = fd;
	m.admin_addr = cfg->srv.admin_listen != NULL ?
	    xstrdup(cfg->srv.admin_listen) : NULL;
}

/* Everything that can fail, before anything of the old state changes. */
static int
master_prepare(struct sy_config *cfg, struct listener **ls, uid_t *uid,
    gid_t *gid, uint64_t *gen, int *admin_fd)
{
	char	*err = NULL;

	*ls = NULL;
	*admin_fd = -1;
	if (proc_workers_ids(cfg->srv.user, cfg->srv.group, uid, gid,
	    &err) == -1 ||
	    ((*ls = master_bind(cfg, m.ls, m.nls, &err)) == NULL) ||
	    master_admin_bind(cfg, admin_fd, &err) == -1 ||
	    registry_prepare(cfg->srv.registry_path, *uid, *gid, &err) == -1 ||
	    (*uid != (uid_t)-1 && *uid != 0 && proc_can_reach(
	    cfg->srv.registry_path, *uid, *gid, &err) == -1)) {
		log_warnx("%s", err != NULL ? err : "out of memory");
		free(err);
		goto fail;
	}
	if (cfgapi_commit(m.api, cfg, gen) == -1) {
		log_warnx("cannot write the registry in %s",
		    cfg->srv.registry_path);
		goto fail;
	}
	config_drop_registry(cfg);
	/* give the parse's memory back before workers fork from us */
	malloc_trim(0);
	return (0);
fail:
	cfgapi_abort(m.api);
	if (*ls != NULL)
		master_close_listeners(*ls, cfg->srv.nlisten, m.ls, m.nls);
	if (*admin_fd != -1 && *admin_fd != m.admin_fd)
		close(*admin_fd);
	*ls = NULL;
	return (-1);
}

static void
master_log_config(const struct sy_config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->nnosign; i++)
		log_info("project %s has no primary secret that can sign: its "
		    "calls carry no X-SC-Token", cfg->nosign[i]);
}

/*
 * A reload that names another pidFile: write it, then remove the old one.
 * Only the file the master wrote is ever removed, so a pidFile changed
 * to some other file is never deleted at the stop.
 */
static void
master_move_pidfile(const char *path)
{
	char	*err = NULL;

	if (m.pidfile == NULL || strcmp(m.pidfile, path) == 0)
		return;
	if (proc_pidfile_write(path, &err) == -1) {
		log_warnx("%s: keeping pidfile %s", err != NULL ? err :
		    "out of memory", m.pidfile);
		free(err);
		return;
	}
	proc_pidfile_remove(m.pidfile);
	free(m.pidfile);
	m.pidfile = xstrdup(path);
}

static void
master_reload(void)
{
	struct sy_config	*cfg;
	struct syerrs		 errs;
	struct listener		*ls;
	uid_t			 uid;
	gid_t			 gid;
	uint64_t		 gen;
	size_t			 i, oldnls;
	int			 proc, afd;

	syerrs_init(&errs);
	if ((cfg = cfgapi_load(m.api, m.cfgpath, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			log_warnx("reload: %s", errs.msg[i]);
		log_warnx("reload failed: keeping the running configuration");
		metrics_reload(m.metrics, 0, m.gen);
		syerrs_free(&errs);
		return;
	}
	syerrs_free(&errs);
	if (master_prepare(cfg, &ls, &uid, &gid, &gen, &afd) == -1) {
		log_warnx("reload failed: keeping the running configuration");
		metrics_reload(m.metrics, 0, m.gen);
		config_free(cfg);
		return;
	}
	proc = config_process_changed(m.cfg, cfg) || uid != m.uid ||
	    gid != m.gid;
	oldnls = m.nls;
	master_close_listeners(m.ls, oldnls, ls, cfg->srv.nlisten);
	config_free(m.cfg);
	m.cfg = cfg;
	m.uid = uid;
	m.gid = gid;
	m.gen = gen;
	master_use_listeners(ls);
	master_use_admin(cfg, afd);
	metrics_reload(m.metrics, 1, gen);
	cfgapi_configure(m.api, cfg);
	if (!m.foreground && log_init(cfg->srv.log_error, cfg->srv.log_level,
	    "switchyard") == -1)
		log_warn("cannot open log %s", cfg->srv.log_error);
	master_move_pidfile(cfg->srv.pid_file);
	if (proc)
		master_replace_workers(master_nworkers(cfg));
	else {
		/* a good reload also ends a crash loop's wait */
		for (i = 0; i < m.nslots; i++) {
			backoff_init(&m.slots[i].bo);
			if (m.slots[i].pid == 0)
				m.slots[i].respawn_at = sy_now();
		}
	}
	log_info("reloaded: registry generation %llu, %zu endpoints%s",
	    (unsigned long long)gen, cfg->nendpoints,
	    proc ? ", new workers started" : "");
	master_log_config(cfg);
}

static void
master_begin_stop(int sig, double grace)
{
	if (!m.stopping)
		log_info("%s: stopping", sig == SIGINT ? "interrupt" :
		    "graceful stop");
	m.stopping = 1;
	m.stop_deadline = sy_now() + grace;
	master_signal_workers(sig);
	/* once the workers close theirs too, new connections are refused */
	master_close_listeners(m.ls, m.nls, NULL, 0);
	m.ls = NULL;
	m.nls = 0;
	master_use_admin(m.cfg, -1);
}

/* Every worker's channel, slots first, into cs; their number. */
static size_t
master_chans(struct mchan **cs, size_t max)
{
	size_t	k, n = 0;

	for (k = 0; k < m.nslots && n < max; k++)
		cs[n++] = &m.slots[k].ch;
	for (k = 0; k < m.nretiring && n < max; k++)
		cs[n++] = &m.retiring[k].ch;
	return (n);
}

/*
 * Wait for a signal or a control frame (signals are unblocked only
 * inside the wait), then serve at most one frame, so that a signal (a
 * SIGHUP) is handled between two writes.
 */
static void
master_wait_serve(const sigset_t *waitmask)
{
	struct mchan		*cs[2 * CONFIG_MAX_WORKERS], *c;
	struct sy_config	*cfg;
	uint64_t		 gen;
	size_t			 n;

	n = master_chans(cs, sizeof(cs) / sizeof(cs[0]));
	mchan_poll(cs, n, waitmask, sig_hup || sig_term || sig_int ||
	    sig_usr1 || sig_chld || sig_alrm);
	if ((c = mchan_pick(cs, n, &m.rr)) == NULL)
		return;
	if (cfgapi_handle(m.api, &c->msg, &c->out, &cfg, &gen) == -1) {
		log_warnx("control channel: unexpected frame type %u: closed",
		    (unsigned)c->msg.type);
		mchan_close(c);
		return;
	}
	if (cfg != NULL) {
		/* a write changes only projects: the workers stay */
		config_free(m.cfg);
		m.cfg = cfg;
		m.gen = gen;
		metrics_generation(m.metrics, gen);
	}
	mchan_next(c);
	mchan_flush(c);
}

static void
master_loop(const sigset_t *waitmask)
{
	for (;;) {
		master_arm_timer();
		master_wait_serve(waitmask);
		sig_alrm = 0;
		if (sig_chld) {
			sig_chld = 0;
			master_reap();
		}
		if (sig_int) {
			sig_int = 0;
			master_begin_stop(SIGINT, MASTER_INT_GRACE);
		}
		if (sig_term) {
			sig_term = 0;
			if (!m.stopping)
				master_begin_stop(SIGQUIT,
				    m.cfg->srv.shutdown_timeout);
		}
		if (m.stopping) {
			if (master_live_workers() == 0)
				return;
			if (sy_now() >= m.stop_deadline) {
				log_warnx("shutdownTimeout passed: killing "
				    "%zu workers", master_live_workers());
				master_signal_workers(SIGKILL);
				m.stop_deadline = sy_now() + 5;
			}
			continue;
		}
		if (sig_hup) {
			sig_hup = 0;
			master_reload();
		}
		if (sig_usr1) {
			sig_usr1 = 0;
			if (log_reopen() == -1)
				log_warn("cannot reopen the log file");
			master_signal_workers(SIGUSR1);
		}
		master_respawn_due();
	}
}

static struct sy_config *
master_load(const char *cfgpath)
{
	struct sy_config	*cfg;
	struct syerrs		 errs;

	syerrs_init(&errs);
	cfg = config_load(cfgpath, &errs);
	if (cfg == NULL)
		master_print_errors(&errs);
	syerrs_free(&errs);
	return (cfg);
}

static int
master_setup(const char *cfgpath, int foreground)
{
	char		 path[PATH_MAX];
	struct listener	*ls;
	struct syerrs	 errs;
	int		 afd;

	if (realpath(cfgpath, path) == NULL) {
		fprintf(stderr, "switchyard: %s: %s\n", cfgpath,
		    strerror(errno));
		return (-1);
	}
	m.cfgpath = xstrdup(path);
	m.foreground = foreground;
	if ((m.api = cfgapi_new()) == NULL)
		return (-1);
	syerrs_init(&errs);
	m.cfg = cfgapi_load(m.api, m.cfgpath, &errs);
	master_print_errors(&errs);
	syerrs_free(&errs);
	if (m.cfg == NULL)
		return (-1);
	log_init("stderr", m.cfg->srv.log_level, "switchyard");
	m.admin_fd = -1;
	if (master_prepare(m.cfg, &ls, &m.uid, &m.gid, &m.gen, &afd) == -1)
		return (-1);
	master_use_listeners(ls);
	master_use_admin(m.cfg, afd);
	cfgapi_configure(m.api, m.cfg);
	if ((m.metrics = metrics_create()) == NULL) {
		log_warn("%s: cannot map the metrics", __func__);
		return (-1);
	}
	metrics_generation(m.metrics, m.gen);
	m.ready = mmap(NULL, CONFIG_MAX_WORKERS * sizeof(pid_t),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m.ready == MAP_FAILED || pipe2(m.live, O_CLOEXEC) == -1) {
		log_warn("%s: cannot set up worker state", __func__);
		return (-1);
	}
	return (0);
}

static int
master_daemonize(void)
{
	char	*err = NULL;
	int	 fd = -1;

	if (!m.foreground) {
		if (proc_daemonize(&fd) == -1) {
			log_warn("cannot daemonize");
			return (-1);
		}
		if (log_init(m.cfg->srv.log_error, m.cfg->srv.log_level,
		    "switchyard") == -1)
			log_warn("cannot open log %s", m.cfg->srv.log_error);
	}
	if (proc_pidfile_write(m.cfg->srv.pid_file, &err) == -1) {
		log_warnx("%s", err);
		if (fd != -1)
			proc_notify(fd, err);
		free(err);
		return (-1);
	}
	m.pidfile = xstrdup(m.cfg->srv.pid_file);
	if (fd != -1)
		proc_notify(fd, NULL);
	return (0);
}

int
master_run(const char *cfgpath, int foreground)
{
	sigset_t	waitmask;

	master_signals(&waitmask);
	if (master_setup(cfgpath, foreground) == -1 ||
	    master_daemonize() == -1)
		return (1);
	log_info("started: registry generation %llu, %zu endpoints",
	    (unsigned long long)m.gen, m.cfg->nendpoints);
	master_log_config(m.cfg);
	m.nslots = master_nworkers(m.cfg);
	master_new_slots(m.nslots);
	master_loop(&waitmask);
	proc_pidfile_remove(m.pidfile);
	free(m.pidfile);
	log_info("stopped");
	master_close_listeners(m.ls, m.nls, NULL, 0);
	free(m.fds);
	free(m.slots);
	free(m.retiring);
	free(m.cfgpath);
	config_free(m.cfg);
	cfgapi_free(m.api);
	log_close();
	return (0);
}

int
master_check(const char *cfgpath)
{
	struct sy_config	*cfg;
	char			*err = NULL;
	uid_t			 uid;
	gid_t			 gid;
	int			 rc = 0;

	if ((cfg = master_load(cfgpath)) == NULL)
		return (1);
	if (proc_workers_ids(cfg->srv.user, cfg->srv.group, &uid, &gid,
	    &err) == -1 ||
	    registry_prepare(cfg->srv.registry_path, uid, gid, &err) == -1 ||
	    (uid != (uid_t)-1 && uid != 0 && proc_can_reach(
	    cfg->srv.registry_path, uid, gid, &err) == -1)) {
		fprintf(stderr, "switchyard: %s\n", err);
		rc = 1;
	} else
		printf("configuration ok\n");
	free(err);
	config_free(cfg);
	return (rc);
}

int
master_signal(const char *cfgpath, const char *name)
{
	struct sy_config	*cfg;
	char			*err = NULL;
	int			 rc = 0;

	if ((cfg = master_load(cfgpath)) == NULL)
		return (1);
	if (proc_signal(cfg->srv.pid_file, name, &err) == -1) {
		fprintf(stderr, "switchyard: %s\n", err);
		rc = 1;
	}
	free(err);
	config_free(cfg);
	return (rc);
}
