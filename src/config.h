/*
 * config.h: the configuration file (SPEC section 3).  config_load reads
 * and validates the whole file, reporting every problem with its JSON
 * path, and compiles the registry: one record per project, service and
 * endpoint, ready for registry_commit().
 */
#ifndef SY_CONFIG_H
#define SY_CONFIG_H

#include <stddef.h>

#include "compile.h"
#include "util.h"

#ifndef SY_DEFAULT_CONFIG
#define SY_DEFAULT_CONFIG	"/etc/switchyard/switchyard.json"
#endif
#ifndef SY_DEFAULT_REGISTRY
#define SY_DEFAULT_REGISTRY	"/var/lib/switchyard"
#endif
#ifndef SY_DEFAULT_PIDFILE
#define SY_DEFAULT_PIDFILE	"/run/switchyard.pid"
#endif

#define CONFIG_MAX_WORKERS	256
#define CONFIG_MAX_LISTEN	16

struct sy_server {
	char		**listen;	/* "host:port", "[v6]:port" */
	size_t		  nlisten;
	int		  workers;	/* 0 = one per CPU */
	char		 *node_id;
	char		 *registry_path;
	char		 *pid_file;
	char		 *user;		/* NULL: do not change user */
	char		 *group;
	double		  shutdown_timeout;
	int		  upstream_curl;	/* upstreamClient "curl" */
	char		 *log_error;	/* "syslog", "stderr" or a path */
	int		  log_level;	/* enum log_level */
	char		 *log_access;	/* NULL: off */
	size_t		  max_body_bytes;
	size_t		  max_header_bytes;
	double		  client_timeout;
	size_t		  max_response_bytes;
	size_t		  max_connections;	/* per worker */
	char		**cors_origins;
	size_t		  ncors_origins;
	char		 *admin_listen;	/* NULL: off */
	/* the config API and console (cfadmin.c); key and secret secret */
	char		 *admin_user;
	char		 *admin_key;
	char		 *admin_key_file;
	char		 *admin_secret;
	char		 *admin_secret_file;
	double		  admin_token_lifetime;	/* seconds */
	int		  admin_max_failures;
	double		  admin_lockout;	/* seconds */
	int		  admin_console;
	int		  admin_serve_public;
	int		  admin_api;	/* on: user, key and secret known */
};

struct sy_config {
	struct sy_server	 srv;
	struct sy_regentry	*ents;
	size_t			 nents;
	size_t			 nprojects;
	size_t			 nservices;
	size_t			 nendpoints;
	char			**nosign;	/* projects without a secret
						   that can sign X-SC-Tokens */
	size_t			 nnosign;
	struct sy_regentry	*raw;		/* the config API's "R/"
						   records (compile.h);
						   config_parse_file only */
	size_t			 nraw;
};

/*
 * Read, parse and validate file.  Returns the config (caller frees with
 * config_free) or NULL with every problem appended to errs as
 * "json.path: problem", "file:line:column: invalid JSON: reason" for a
 * syntax error, or "file: reason" when it cannot be read.  config_parse
 * is the same for text in memory; its syntax errors read "line L, column
 * C: invalid JSON: reason".  Registry entries come sorted by key.
 */
struct sy_config	*config_load(const char *file, struct syerrs *errs);
struct sy_config	*config_parse(const char *text, size_t len,
			    struct syerrs *errs);
/*
 * config_parse of the text of file (the config API's store read it):
 * its paths resolve and errors name it as config_load's do.
 */
struct sy_config	*config_parse_file(const char *text, size_t len,
			    const char *file, struct syerrs *errs);
void			 config_free(struct sy_config *);
/*
 * Free the registry entries once they are committed: the workers read
 * the registry from LMDB, and every page the master keeps is a page each
 * forked worker maps too.
 */
void			 config_drop_registry(struct sy_config *);

/*
 * 1 when a and b differ in a setting that needs new worker processes:
 * listen addresses, worker count, user, group, limits, cors, and also
 * everything else workers take over at fork (admin listener, nodeId,
 * registryPath, shutdownTimeout, upstreamClient, log settings).  Only
 * pidFile and the registry entries never need new workers.
 */
int			 config_process_changed(const struct sy_config *a,
			    const struct sy_config *b);

#endif
