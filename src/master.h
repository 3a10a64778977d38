/*
 * master.h: the master process: start-up, the signal loop, workers,
 * reload and stop; and the -t check.
 */
#ifndef SY_MASTER_H
#define SY_MASTER_H

/*
 * Load cfgpath, bind, write the registry, daemonize unless foreground,
 * run the workers until stopped.  Returns the process exit status.
 */
int	 master_run(const char *cfgpath, int foreground);

/* -t: validate cfgpath and the registry directory.  Exit status. */
int	 master_check(const char *cfgpath);

/* -s: signal the running master named by cfgpath's pidFile. */
int	 master_signal(const char *cfgpath, const char *name);

#endif
