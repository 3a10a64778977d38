/*
 * store.c: the configuration document behind the config API (SPEC 9.5),
 * in the master.  The store keeps the document as last loaded or
 * written: its exact text, the SHA-256 of that text and the parsed
 * json-c tree, whose objects keep their members in file order.  A write
 * never touches that tree: it is applied to a deep copy (a draft), the
 * draft is serialised, the caller validates the text with config_parse,
 * and only a successful commit through the backend makes the draft the
 * store's document.  Everything here but the backend is independent of
 * where the document lives; the config file backend is in storefile.c.
 *
 * The serialiser writes two-space indented JSON with members in their
 * order, so that a document it wrote reads back and serialises to the
 * same bytes.  Numbers keep their text where json-c keeps it (doubles:
 * "1.50", "1e3"); integers are json-c's 64-bit values, so "-0" becomes
 * "0" and an integer beyond 64 bits is clamped by json-c at parse time
 * (config_parse sees the same clamped value).  Strings keep their UTF-8
 * and "/" as they are; control characters, '"' and '\\' are escaped.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "auth.h"
#include "store.h"
#include "storeint.h"
#include "util.h"

#define STORE_TOKENER_FLAGS \
	(JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8)
#define STORE_ID_MAX	64

void
store_seterr(struct store_err *e, enum store_status status,
    const char *fmt, ...)
{
	va_list	ap;

	if (e == NULL)
		return;
	e->status = status;
	va_start(ap, fmt);
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

int
store_parse_text(const char *text, size_t len, struct json_object **out)
{
	struct json_tokener	*tok;
	struct json_object	*root;
	size_t			 end;

	*out = NULL;
	if (len > INT_MAX || (tok = json_tokener_new()) == NULL)
		return (-1);
	json_tokener_set_flags(tok, STORE_TOKENER_FLAGS);
	root = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (root == NULL || end != len) {
		json_object_put(root);
		return (-1);
	}
	*out = root;
	return (0);
}

void
store_hash(const char *text, size_t len, char out[65])
{
	auth_sha256_hex(text, len, out);
}

/* Install a loaded or written text and its document (both taken). */
void
store_install(struct store *st, char *text, size_t len,
    struct json_object *doc)
{
	free(st->text);
	json_object_put(st->doc);
	st->text = text;
	st->len = len;
	st->doc = doc;
	store_hash(text, len, st->sha);
}

int
store_reload(struct store *st, struct store_err *e)
{
	return (st->be->load(st, e));
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->be->close != NULL)
		st->be->close(st);
	free(st->text);
	json_object_put(st->doc);
	free(st->given);
	free(st->path);
	free(st);
}

const char *
store_path(const struct store *st)
{
	return (st->path);
}

const char *
store_sha256(const struct store *st)
{
	return (st->sha);
}

const char *
store_text(const struct store *st, size_t *len)
{
	if (len != NULL)
		*len = st->len;
	return (st->text);
}

struct json_object *
store_doc(struct store *st)
{
	if (st->doc == NULL && st->text != NULL &&
	    store_parse_text(st->text, st->len, &st->doc) == -1)
		st->doc = NULL;
	return (st->doc);
}

void
store_doc_release(struct store *st)
{
	json_object_put(st->doc);
	st->doc = NULL;
}

int
store_changed(struct store *st, struct store_err *e)
{
	return (st->be->changed(st, e));
}

int
store_writable(struct store *st, struct store_err *e)
{
	return (st->be->writable(st, e));
}

int
store_body_parse(const char *text, size_t len, struct json_object **out,
    struct store_err *e)
{
	if (store_parse_text(text, len, out) == -1) {
		store_seterr(e, STORE_BAD, "request body is not valid JSON");
		return (-1);
	}
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		store_seterr(e, STORE_BAD, "request body is not a JSON "
		    "object");
		return (-1);
	}
	return (0);
}

int
store_id_valid(const char *id)
{
	size_t	n;

	n = strspn(id, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
	return (n > 0 && n <= STORE_ID_MAX && id[n] == '\0');
}

static int
store_check_id(const char *id, struct store_err *e)
{
	if (store_id_valid(id))
		return (0);
	store_seterr(e, STORE_BAD, "invalid service id (use 1 to 64 of A-Z, "
	    "a-z, 0-9, _ and -)");
	return (-1);
}

/* projects.P of doc (borrowed), or NULL with the 404 in e. */
static struct json_object *
store_project(struct json_object *doc, const char *project,
    struct store_err *e)
{
	struct json_object	*projects, *p;

	if (json_object_object_get_ex(doc, "projects", &projects) &&
	    json_object_object_get_ex(projects, project, &p) &&
	    json_object_is_type(p, json_type_object))
		return (p);
	store_seterr(e, STORE_NOTFOUND, "project (%s) not found", project);
	return (NULL);
}

/*
 * A copy of the document and, in *rs, its projects.P.remoteServices
 * (created when absent or null when create is set; NULL when absent
 * and create is not set).  NULL with e set when P is unknown.
 */
static struct json_object *
store_copy_services(struct store *st, const char *project, int create,
    struct json_object **rs, struct store_err *e)
{
	struct json_object	*copy = NULL, *p;

	*rs = NULL;
	if (store_project(store_doc(st), project, e) == NULL)
		return (NULL);
	if (json_object_deep_copy(st->doc, &copy, NULL) != 0) {
		store_seterr(e, STORE_IO, "out of memory");
		return (NULL);
	}
	p = store_project(copy, project, e);
	if (json_object_object_get_ex(p, "remoteServices", rs) &&
	    *rs != NULL && !json_object_is_type(*rs, json_type_object)) {
		store_seterr(e, STORE_BAD, "projects.%s.remoteServices: must "
		    "be an object", project);
		json_object_put(copy);
		return (NULL);
	}
	if (*rs == NULL && create) {
		*rs = json_object_new_object();
		/* replaces a null in place, or adds the member last */
		if (*rs == NULL || json_object_object_add(p, "remoteServices",
		    *rs) != 0) {
			json_object_put(copy);
			store_seterr(e, STORE_IO, "out of memory");
			return (NULL);
		}
	}
	return (copy);
}

static int
store_draft_finish(struct json_object *copy, struct store_draft *d,
    struct store_err *e)
{
	d->doc = copy;
	if ((d->text = store_serialize(copy, &d->len)) == NULL) {
		store_draft_free(d);
		store_seterr(e, STORE_IO, "out of memory");
		return (-1);
	}
	return (0);
}

int
store_draft_set(struct store *st, const char *project, const char *id,
    struct json_object *body, struct store_draft *d, struct store_err *e)
{
	struct json_object	*copy, *rs, *svc = NULL;

	memset(d, 0, sizeof(*d));
	if (store_check_id(id, e) == -1)
		return (-1);
	if (!json_object_is_type(body, json_type_object)) {
		store_seterr(e, STORE_BAD, "request body is not a JSON "
		    "object");
		return (-1);
	}
	if ((copy = store_copy_services(st, project, 1, &rs, e)) == NULL)
		return (-1);
	if (json_object_deep_copy(body, &svc, NULL) != 0 ||
	    json_object_object_add(rs, id, svc) != 0) {
		json_object_put(svc);
		json_object_put(copy);
		store_seterr(e, STORE_IO, "out of memory");
		return (-1);
	}
	/* the path's id is the id; a body "id" is not stored (9.3) */
	json_object_object_del(svc, "id");
	return (store_draft_finish(copy, d, e));
}

int
store_draft_delete(struct store *st, const char *project, const char *id,
    struct store_draft *d, struct store_err *e)
{
	struct json_object	*copy, *rs;

	memset(d, 0, sizeof(*d));
	if (store_check_id(id, e) == -1)
		return (-1);
	if ((copy = store_copy_services(st, project, 0, &rs, e)) == NULL)
		return (-1);
	if (rs != NULL)
		json_object_object_del(rs, id);
	return (store_draft_finish(copy, d, e));
}

void
store_draft_free(struct store_draft *d)
{
	json_object_put(d->doc);
	free(d->text);
	memset(d, 0, sizeof(*d));
}

int
store_commit(struct store *st, struct store_draft *d, struct store_err *e)
{
	if (d->doc == NULL || d->text == NULL) {
		store_seterr(e, STORE_IO, "nothing to commit");
		return (-1);
	}
	if (st->be->commit(st, d->text, d->len, e) == -1)
		return (-1);
	store_install(st, d->text, d->len, d->doc);
	d->text = NULL;
	d->doc = NULL;
	d->len = 0;
	return (0);
}

static int
store_validate(struct store *st, const struct store_req *rq,
    struct store_draft *d, store_validate_fn *validate, void *arg,
    struct syerrs *errs, struct store_err *e)
{
	size_t	nerr = errs->n;

	if (!rq->del)
		(void)store_check_compat(rq->body, rq->project, rq->id, errs);
	if ((rq->del ? store_draft_delete(st, rq->project, rq->id, d, e) :
	    store_draft_set(st, rq->project, rq->id, rq->body, d, e)) == -1)
		return (-1);
	if (validate(d->text, d->len, errs, arg) == 0 && errs->n == nerr)
		return (0);
	store_seterr(e, STORE_BAD, "invalid configuration: %s",
	    errs->n > nerr ? errs->msg[nerr] : "rejected by the validator");
	store_draft_free(d);
	return (-1);
}

int
store_write(struct store *st, const struct store_req *rq,
    store_validate_fn *validate, void *arg, struct syerrs *errs,
    struct store_err *e)
{
	struct store_draft	 d;
	int			 rc;

	if (store_check_id(rq->id, e) == -1)
		return (-1);
	if (!rq->del && !json_object_is_type(rq->body, json_type_object)) {
		store_seterr(e, STORE_BAD, "request body is not a JSON "
		    "object");
		return (-1);
	}
	if (store_project(store_doc(st), rq->project, e) == NULL)
		return (-1);
	if (rq->if_match != NULL && !store_etag_match(rq->if_match,
	    rq->etag)) {
		store_seterr(e, STORE_CONFLICT, "If-Match does not match the "
		    "current ETag %s", rq->etag);
		return (-1);
	}
	if ((rc = store_changed(st, e)) != 0)
		return (-1);
	if (store_validate(st, rq, &d, validate, arg, errs, e) == -1)
		return (-1);
	/* nothing to write (a delete of no service, the same service) */
	if (d.len == st->len && memcmp(d.text, st->text, d.len) == 0) {
		store_draft_free(&d);
		return (1);
	}
	rc = store_commit(st, &d, e);
	store_draft_free(&d);
	return (rc);
}

/* Serialiser. */

static int
store_put_string(struct sybuf *b, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 c;
	size_t			 i, run = 0;
	char			 esc[7];

	if (sybuf_addc(b, '"') == -1)
		return (-1);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		if (sybuf_add(b, s + run, i - run) == -1)
			return (-1);
		run = i + 1;
		esc[0] = '\\';
		esc[2] = '\0';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			esc[6] = '\0';
		}
		if (sybuf_addstr(b, esc) == -1)
			return (-1);
	}
	if (sybuf_add(b, s + run, len - run) == -1)
		return (-1);
	return (sybuf_addc(b, '"'));
}

static int
store_put_indent(struct sybuf *b, int depth)
{
	int	i;

	if (sybuf_addc(b, '\n') == -1)
		return (-1);
	for (i = 0; i < depth; i++)
		if (sybuf_add(b, "  ", 2) == -1)
			return (-1);
	return (0);
}

static int	store_put_value(struct sybuf *, struct json_object *, int);

static int
store_put_object(struct sybuf *b, struct json_object *o, int depth)
{
	int	n = 0;

	if (sybuf_addc(b, '{') == -1)
		return (-1);
	json_object_object_foreach(o, key, val) {
		if ((n++ > 0 && sybuf_addc(b, ',') == -1) ||
		    store_put_indent(b, depth + 1) == -1 ||
		    store_put_string(b, key, strlen(key)) == -1 ||
		    sybuf_add(b, ": ", 2) == -1 ||
		    store_put_value(b, val, depth + 1) == -1)
			return (-1);
	}
	if (n > 0 && store_put_indent(b, depth) == -1)
		return (-1);
	return (sybuf_addc(b, '}'));
}

static int
store_put_array(struct sybuf *b, struct json_object *a, int depth)
{
	size_t	i, n = json_object_array_length(a);

	if (sybuf_addc(b, '[') == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		if ((i > 0 && sybuf_addc(b, ',') == -1) ||
		    store_put_indent(b, depth + 1) == -1 ||
		    store_put_value(b, json_object_array_get_idx(a, i),
		    depth + 1) == -1)
			return (-1);
	}
	if (n > 0 && store_put_indent(b, depth) == -1)
		return (-1);
	return (sybuf_addc(b, ']'));
}

static int
store_put_value(struct sybuf *b, struct json_object *v, int depth)
{
	const char	*s;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return (sybuf_addstr(b, "null"));
	case json_type_object:
		return (store_put_object(b, v, depth));
	case json_type_array:
		return (store_put_array(b, v, depth));
	case json_type_string:
		return (store_put_string(b, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)));
	default:
		/* booleans and numbers: a parsed double keeps its text */
		s = json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		return (s == NULL ? -1 : sybuf_addstr(b, s));
	}
}

char *
store_serialize(struct json_object *doc, size_t *len)
{
	struct sybuf	b;

	sybuf_init(&b);
	if (store_put_value(&b, doc, 0) == -1 || sybuf_addc(&b, '\n') == -1) {
		sybuf_free(&b);
		return (NULL);
	}
	*len = b.len;
	return (sybuf_detach(&b));
}

/* Versions. */

void
store_etag(char out[STORE_ETAG_MAX], unsigned long long generation,
    const char *sha256_hex)
{
	(void)snprintf(out, STORE_ETAG_MAX, "\"g%llu-%.12s\"", generation,
	    sha256_hex);
}

int
store_etag_match(const char *if_match, const char *etag)
{
	const char	*p = if_match, *end;
	size_t		 n = strlen(etag), len;

	for (;;) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			return (0);
		end = p + strcspn(p, ",");
		len = end - p;
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if ((len == 1 && *p == '*') ||
		    (len == n && memcmp(p, etag, n) == 0))
			return (1);
		p = end;
	}
}

/* Space Cloud compatibility and error answers. */

static int
store_is_empty(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return (1);
	case json_type_string:
		return (json_object_get_string_len(v) == 0);
	case json_type_array:
		return (json_object_array_length(v) == 0);
	case json_type_object:
		return (json_object_object_length(v) == 0);
	default:
		return (0);
	}
}

size_t
store_check_compat(struct json_object *body, const char *project,
    const char *id, struct syerrs *errs)
{
	static const char *const unsupported[] = {
		"requestTemplate", "responseTemplate", "graphTemplate",
		"claims", "cacheOptions"
	};
	struct json_object	*eps, *v;
	char			 path[768];
	size_t			 i, n = 0;

	if (!json_object_object_get_ex(body, "endpoints", &eps) ||
	    !json_object_is_type(eps, json_type_object))
		return (0);	/* the validator's to report */
	json_object_object_foreach(eps, name, ep) {
		if (!json_object_is_type(ep, json_type_object))
			continue;
		for (i = 0; i < sizeof(unsupported) / sizeof(*unsupported);
		    i++) {
			if (!json_object_object_get_ex(ep, unsupported[i],
			    &v) || store_is_empty(v))
				continue;
			(void)snprintf(path, sizeof(path), "projects.%s."
			    "remoteServices.%s.endpoints.%s.%s", project, id,
			    name, unsupported[i]);
			syerrs_add(errs, path, "switchyard cannot honour "
			    "\"%s\" (leave it empty or remove it)",
			    unsupported[i]);
			n++;
		}
	}
	return (n);
}

struct json_object *
store_errors_json(const struct syerrs *errs)
{
	struct json_object	*a, *o;
	const char		*m, *sep;
	size_t			 i;

	if ((a = json_object_new_array()) == NULL)
		return (NULL);
	for (i = 0; i < errs->n; i++) {
		m = errs->msg[i];
		if ((o = json_object_new_object()) == NULL)
			break;
		sep = strstr(m, ": ");
		json_object_object_add(o, "path", sep == NULL ?
		    json_object_new_string("") :
		    json_object_new_string_len(m, (int)(sep - m)));
		json_object_object_add(o, "message",
		    json_object_new_string(sep == NULL ? m : sep + 2));
		json_object_array_add(a, o);
	}
	return (a);
}
