/*
 * store.h: the one store interface of SPEC 9.5: the configuration
 * document the config API reads and writes, in the master.  The config
 * file is its backend today; a shared store (etcd) can sit behind the
 * same functions later (struct store_backend).
 *
 * A write, in the master: store_write() runs 9.5's checks in order
 * (id, project, If-Match, on-disk, Space Cloud members, the -t
 * validator given as a callback) and commits; then the master commits
 * the registry, bumps the generation and answers with
 * store_etag(generation, store_sha256(st)).  The pieces (store_changed,
 * store_draft_*, store_commit) are exported for other orders.
 */
#ifndef SY_STORE_H
#define SY_STORE_H

#include <stddef.h>

#include "util.h"

struct json_object;
struct store;

/* What failed, as the HTTP status of 9.3 and a message for "error". */
enum store_status {
	STORE_OK = 0,
	STORE_BAD = 400,	/* body not a JSON object, bad id */
	STORE_NOTFOUND = 404,	/* project (P) not found */
	STORE_CONFLICT = 409,	/* changed on disk; If-Match */
	STORE_IO = 500		/* cannot read or write: names the file */
};

struct store_err {
	enum store_status	 status;
	char			 msg[768];
};

/* A new document and its text, not yet committed. */
struct store_draft {
	struct json_object	*doc;	/* owned */
	char			*text;	/* owned, NUL-terminated */
	size_t			 len;
};

/*
 * A backend: load the document, tell whether the source changed since
 * it was loaded or written, commit a new text, tell whether a commit can
 * succeed.  0 / -1 with e filled in; changed is 1 / 0 / -1.
 */
struct store_backend {
	const char	*name;
	int		(*load)(struct store *, struct store_err *);
	int		(*changed)(struct store *, struct store_err *);
	int		(*commit)(struct store *, const char *, size_t,
			    struct store_err *);
	int		(*writable)(struct store *, struct store_err *);
	void		(*close)(struct store *);
};

/*
 * Open the config file path (symlinks resolved to the real file) and
 * load it.  Returns the store (store_close frees) or NULL with e set.
 */
struct store	*store_open_file(const char *path, struct store_err *e);
/* Load again (SIGHUP): the document, text and hash are replaced. */
int		 store_reload(struct store *, struct store_err *);
void		 store_close(struct store *);

/* The real file path (borrowed). */
const char	*store_path(const struct store *);
/* Hex SHA-256 of the text last loaded or written (borrowed). */
const char	*store_sha256(const struct store *);
/* The text last loaded or written, NUL-terminated (borrowed). */
const char	*store_text(const struct store *, size_t *len);
/*
 * The parsed document (borrowed until the next load, commit or
 * store_doc_release), parsed from the text when needed: between writes
 * the master keeps only the text, not a tree many times its size that
 * every forked worker would share.  NULL when out of memory.
 */
struct json_object *store_doc(struct store *);
/* Drop the parsed document (store_doc parses it again when asked). */
void		 store_doc_release(struct store *);

/*
 * 1 when the source no longer holds what was last loaded or written
 * (content compared by SHA-256; a touch is no change), with the 409
 * message in e; 0 when it does; -1 when it cannot be read (500).
 */
int		 store_changed(struct store *, struct store_err *);
/*
 * 0 when a commit can create files next to the source (the directory
 * is writable and no FILE.tmp is in the way), -1 with the reason in e:
 * the start-up and reload warning of 9.5.
 */
int		 store_writable(struct store *, struct store_err *);

/*
 * A request body: a JSON object (strict JSON, UTF-8).  *out is the
 * parsed object (caller puts), or -1 with a 400 in e.
 */
int		 store_body_parse(const char *text, size_t len,
		    struct json_object **out, struct store_err *e);
/* 1 when id is a service id: [A-Za-z0-9_-], 1 to 64 characters. */
int		 store_id_valid(const char *id);
/*
 * The current document with projects.P.remoteServices.ID replaced by
 * body (borrowed; copied) minus its "id", or added last; or removed
 * (absent is no error).  d is filled in (store_draft_free), or -1 with
 * 404 "project (P) not found", 400 for a bad id, or 500.
 */
int		 store_draft_set(struct store *, const char *project,
		    const char *id, struct json_object *body,
		    struct store_draft *d, struct store_err *e);
int		 store_draft_delete(struct store *, const char *project,
		    const char *id, struct store_draft *d,
		    struct store_err *e);
void		 store_draft_free(struct store_draft *);
/*
 * Write d through the backend (file: FILE.tmp, FILE.bak, rename, 9.5).
 * On success the store takes d's document and text (d is emptied) and
 * its hash changes; on failure nothing changed and d is kept.
 */
int		 store_commit(struct store *, struct store_draft *d,
		    struct store_err *e);

/*
 * One write of the config API, after the token (9.5's order): body and
 * id (400), project (404), If-Match against etag, the current ETag
 * (409), the file on disk (409), Space Cloud's members and the
 * validator (400, every problem in errs), the commit (500).  validate
 * is the -t validator on the new text (config_parse), 0 when it finds
 * nothing; arg is passed through (e.g. to keep the compiled config for
 * the registry commit).  Returns 0 when committed, 1 when the new
 * document is the current one byte for byte (nothing written: a delete
 * of no service succeeds even where the file cannot be written), or -1
 * with e set.
 */
struct store_req {
	int			 del;		/* 1: delete, 0: set */
	const char		*project;
	const char		*id;
	struct json_object	*body;		/* set: borrowed */
	const char		*if_match;	/* NULL: none */
	const char		*etag;		/* the current ETag */
};
typedef int	 store_validate_fn(const char *text, size_t len,
		    struct syerrs *errs, void *arg);
int		 store_write(struct store *, const struct store_req *,
		    store_validate_fn *validate, void *arg,
		    struct syerrs *errs, struct store_err *e);

/*
 * The document as text: two-space indent, "key": value, members in
 * their order, a final newline.  Returns the text (caller frees) and
 * its length in *len, or NULL when out of memory.
 */
char		*store_serialize(struct json_object *, size_t *len);

/*
 * The ETag of a version: "\"g<generation>-<first 12 hex of sha>\"",
 * quotes included, into out (STORE_ETAG_MAX bytes).  Every worker
 * computes the same value from the same generation and hash.
 */
#define STORE_ETAG_MAX	48
void		 store_etag(char out[STORE_ETAG_MAX],
		    unsigned long long generation, const char *sha256_hex);
/* 1 when the If-Match value matches etag ("*", or one of a list). */
int		 store_etag_match(const char *if_match, const char *etag);

/*
 * Space Cloud's Service members (9.3) in a body for service id of
 * project: requestTemplate, responseTemplate, graphTemplate, claims and
 * cacheOptions holding anything but null, "", [] or {} are appended to
 * errs at their config path.  Returns the number of problems found.
 */
size_t		 store_check_compat(struct json_object *body,
		    const char *project, const char *id, struct syerrs *errs);
/*
 * errs ("path: message" lines, as -t prints them) as 9.4's "errors"
 * array of {"path", "message"} (caller puts).
 */
struct json_object *store_errors_json(const struct syerrs *errs);

/*
 * Tests only: make the next file commits stop, as if the process died,
 * right after step k (1 FILE.tmp written, 2 FILE.tmp fsynced, 3 FILE.bak
 * written, 4 renamed, 5 directory fsynced); 0: off.
 */
void		 store_test_crash_after(int k);

#endif
