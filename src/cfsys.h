/*
 * cfsys.h: the checks of the "server" section that look at the system
 * rather than at the JSON (SPEC section 3): relative paths, the pidfile,
 * and listening addresses that would collide.
 */
#ifndef SY_CFSYS_H
#define SY_CFSYS_H

struct sy_server;
struct syerrs;

/*
 * Resolve srv's relative paths (registryPath, pidFile, and log.error and
 * log.access when they name files) against the directory of the config
 * file, when file is not NULL; then report, with the member's JSON path,
 * a pidFile that names an existing file other than a pidfile, and
 * listening addresses that overlap (server.listen among themselves and
 * with server.admin.listen).  Resolves no host names: names other than
 * "localhost" are compared as written.  A failed allocation aborts.
 */
void	 cfsys_check(struct sy_server *srv, const char *file,
	    struct syerrs *errs);

#endif
