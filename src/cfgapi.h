/*
 * cfgapi.h: the master's side of the config API (SPEC 9.4 to 9.8): the
 * config document behind a store (store.h), the failed-login table
 * (lockout.h), and the one place where a worker's write becomes a new
 * config file, a new registry generation and an answer.  The master
 * loads and commits every configuration through it, so that the file,
 * the store and the registry always agree.
 */
#ifndef SY_CFGAPI_H
#define SY_CFGAPI_H

#include <stdint.h>

#include "ctl.h"
#include "util.h"

struct sy_config;
struct cfgapi;

/* NULL when out of memory.  Free with cfgapi_free. */
struct cfgapi	*cfgapi_new(void);
void		 cfgapi_free(struct cfgapi *);

/*
 * Read the config file at path (real path) once, into a new store, and
 * compile that very text: the config (caller frees) or NULL with every
 * problem in errs.  The new store waits for cfgapi_commit (it becomes
 * the current one) or cfgapi_abort (it is dropped).
 */
struct sy_config *cfgapi_load(struct cfgapi *, const char *path,
		    struct syerrs *errs);
/*
 * Commit cfg's registry (its entries, the stored services' JSON and the
 * document's hash: the records the config API reads in workers) in one
 * LMDB transaction; *gen is the new generation.  The loaded store
 * becomes the current one.  0 / -1 (logged; nothing changed).
 */
int		 cfgapi_commit(struct cfgapi *, const struct sy_config *cfg,
		    uint64_t *gen);
void		 cfgapi_abort(struct cfgapi *);
/* Take cfg's lockout settings; warn when writes cannot succeed. */
void		 cfgapi_configure(struct cfgapi *, const struct sy_config *);

/*
 * Serve one frame m from a worker, in the master: a login is counted,
 * a write is applied (validated, written to the file, committed to the
 * registry) or refused; the CTL_ANSWER is appended to out.  When a
 * write was applied, *newcfg is the new config (caller takes it) and
 * *gen its generation; else *newcfg is NULL.  -1 when the frame is not
 * a request (the channel is to be closed).
 */
int		 cfgapi_handle(struct cfgapi *, const struct ctl_msg *m,
		    struct sybuf *out, struct sy_config **newcfg,
		    uint64_t *gen);

/*
 * Registry keys of the config API's records, next to compile.h's:
 *   "#cfg"              hex SHA-256 of the config document (the ETag;
 *                       REGISTRY_KEY_CFG)
 *   "#adm"              the API's credentials (cfadmin_record), absent
 *                       when it is off (REGISTRY_KEY_ADMIN)
 *   "R/<project>"       "{}": a project of the document
 *   "R/<project>/<id>"  a service as stored, without "id"
 */

#endif
