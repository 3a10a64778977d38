/*
 * worker.h: one worker process.  It is started by the master with fork
 * and never returns.
 */
#ifndef SY_WORKER_H
#define SY_WORKER_H

#include <stddef.h>
#include <sys/types.h>

struct metrics;
struct sy_config;

/* Worker exit codes, read by the master. */
#define WORKER_EXIT_OK		0	/* normal stop */
#define WORKER_EXIT_RUNTIME	1	/* failure: restart */
#define WORKER_EXIT_FATAL	2	/* do not restart */
#define WORKER_EXIT_RESOURCE	3	/* shortage: restart slowly */

struct worker_args {
	const struct sy_config	*cfg;
	const int		*fds;		/* listening sockets */
	size_t			 nfds;
	int			 live_fd;	/* EOF when the master dies */
	volatile pid_t		*ready;		/* shared: our pid once serving */
	int			 slot;
	uid_t			 uid;		/* (uid_t)-1: keep */
	gid_t			 gid;
	struct metrics		*metrics;	/* shared with all processes */
	int			 mslot;		/* ours; -1: none */
	int			 admin_fd;	/* -1: no admin listener */
	int			 ctl_fd;	/* the control channel */
};

void	 worker_main(const struct worker_args *) __attribute__((noreturn));

#endif
