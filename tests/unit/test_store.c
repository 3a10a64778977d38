/*
 * test_store.c: the config API's store (SPEC 9.5) on real files in a
 * temporary directory: drafts, the serialiser, the atomic rewrite and
 * its failures, and a crash at every step of a commit.
 */
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "config.h"
#include "store.h"
#include "util.h"

/* hand formatted, with numbers whose text must survive */
static const char SAMPLE[] =
    "{\n"
    "    \"server\": { \"listen\": [\"127.0.0.1:4122\"], \"workers\": 2,\n"
    "                \"shutdownTimeout\": 1.50,\n"
    "                \"limits\": { \"clientTimeout\": 1e3 },\n"
    "                \"log\": { \"error\": \"stderr\", \"access\": null } },\n"
    "    \"x-note\": \"caf\xc3\xa9 / tab\\t \\\"q\\\" \\u0001\",\n"
    "    \"projects\": {\n"
    "        \"demo\": {\n"
    "            \"secrets\": [ { \"alg\": \"HS256\", \"secret\": \"s\","
    " \"isPrimary\": true } ],\n"
    "            \"remoteServices\": {\n"
    "                \"arith\": { \"url\": \"http://127.0.0.1:5000\",\n"
    "                    \"endpoints\": { \"adder\": { \"method\": "
    "\"POST\", \"path\": \"/adder\", \"rule\": { \"rule\": \"allow\" },"
    " \"timeout\": 10 } } },\n"
    "                \"other\": { \"url\": \"http://127.0.0.1:5001\","
    " \"endpoints\": {} }\n"
    "            }\n"
    "        },\n"
    "        \"empty\": { \"aud\": [] }\n"
    "    }\n"
    "}\n";

static const char NEWSVC[] =
    "{\"id\": \"ignored\", \"url\": \"http://127.0.0.1:6000\", "
    "\"endpoints\": {\"e\": {\"path\": \"/e\", \"rule\": {\"rule\": "
    "\"allow\"}}}}";

struct fx {
	char	 dir[64];
	char	 file[128];
	char	 tmp[160];
	char	 bak[160];
};

static void
put_file(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The whole file (caller frees), NULL when it does not exist. */
static char *
get_file(const char *path)
{
	char	buf[65536];
	FILE	*f = fopen(path, "r");
	size_t	 n;

	if (f == NULL)
		return (NULL);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (strdup(buf));
}

static void
assert_file(const char *path, const char *want)
{
	char	*got = get_file(path);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static int
setup(void **state)
{
	struct fx	*fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	strcpy(fx->dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	assert_int_equal(chmod(fx->dir, 0755), 0);
	snprintf(fx->file, sizeof(fx->file), "%s/sw.json", fx->dir);
	snprintf(fx->tmp, sizeof(fx->tmp), "%s.tmp", fx->file);
	snprintf(fx->bak, sizeof(fx->bak), "%s.bak", fx->file);
	put_file(fx->file, SAMPLE);
	*state = fx;
	return (0);
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;
	char		 cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return (0);
}

static struct store *
open_ok(const char *path)
{
	struct store_err	 e;
	struct store		*st = store_open_file(path, &e);

	if (st == NULL)
		fail_msg("store_open_file: %s", e.msg);
	return (st);
}

/* The -t validator on a draft; returns the number of problems. */
static size_t
validate(const char *text, size_t len, struct syerrs *errs)
{
	struct sy_config	*cf;

	syerrs_init(errs);
	cf = config_parse(text, len, errs);
	config_free(cf);
	return (cf == NULL ? (errs->n ? errs->n : 1) : 0);
}

static void
draft_new(struct store *st, struct store_draft *d)
{
	struct json_object	*body;
	struct store_err	 e;

	assert_int_equal(store_body_parse(NEWSVC, strlen(NEWSVC), &body, &e),
	    0);
	assert_int_equal(store_draft_set(st, "demo", "zz", body, d, &e), 0);
	json_object_put(body);
}

static void
test_roundtrip(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = open_ok(fx->file), *st2;
	struct syerrs		 errs;
	char			*t1, *t2;
	size_t			 l1, l2, len;

	assert_string_equal(store_text(st, &len), SAMPLE);
	assert_int_equal(len, strlen(SAMPLE));
	t1 = store_serialize(store_doc(st), &l1);
	assert_non_null(t1);
	assert_int_equal(validate(t1, l1, &errs), 0);
	syerrs_free(&errs);
	/* the values of an unrelated member are kept as written */
	assert_non_null(strstr(t1, "\n  \"server\": {\n    \"listen\": [\n"
	    "      \"127.0.0.1:4122\"\n    ],\n    \"workers\": 2,\n"
	    "    \"shutdownTimeout\": 1.50,\n    \"limits\": {\n"
	    "      \"clientTimeout\": 1e3\n    },\n"));
	assert_non_null(strstr(t1, "\"x-note\": \"caf\xc3\xa9 / tab\\t "
	    "\\\"q\\\" \\u0001\",\n"));
	assert_non_null(strstr(t1, "\"url\": \"http://127.0.0.1:5000\""));
	assert_non_null(strstr(t1, "\"endpoints\": {}\n"));
	assert_non_null(strstr(t1, "\"aud\": []\n"));
	assert_int_equal(t1[l1 - 1], '\n');
	assert_true(strstr(t1, "\"server\"") < strstr(t1, "\"x-note\"") &&
	    strstr(t1, "\"x-note\"") < strstr(t1, "\"projects\"") &&
	    strstr(t1, "\"arith\"") < strstr(t1, "\"other\""));
	/* a file the serialiser wrote reads back to the same bytes */
	put_file(fx->file, t1);
	st2 = open_ok(fx->file);
	t2 = store_serialize(store_doc(st2), &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(t1, t2, l1);
	free(t1);
	free(t2);
	store_close(st);
	store_close(st2);
}

static void
test_set_new_commit(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = open_ok(fx->file);
	struct store_draft	 d;
	struct store_err	 e;
	struct syerrs		 errs;
	char			 sha[65], *text;

	strcpy(sha, store_sha256(st));
	draft_new(st, &d);
	assert_int_equal(validate(d.text, d.len, &errs), 0);
	syerrs_free(&errs);
	/* added last, without the body's id */
	assert_non_null(strstr(d.text, "\"other\": {"));
	assert_true(strstr(d.text, "\"zz\": {") > strstr(d.text, "\"other\""));
	assert_null(strstr(d.text, "ignored"));
	/* the copy keeps the text of the numbers it did not touch */
	assert_non_null(strstr(d.text, "\"shutdownTimeout\": 1.50,\n"));
	assert_non_null(strstr(d.text, "\"clientTimeout\": 1e3\n"));
	assert_non_null(strstr(d.text, "\"zz\": {\n          \"url\": "
	    "\"http://127.0.0.1:6000\",\n          \"endpoints\": {\n"));
	text = strdup(d.text);
	assert_int_equal(store_commit(st, &d, &e), 0);
	assert_null(d.text);
	assert_file(fx->file, text);
	assert_file(fx->bak, SAMPLE);
	assert_int_equal(access(fx->tmp, F_OK), -1);
	assert_string_not_equal(sha, store_sha256(st));
	assert_string_equal(store_text(st, NULL), text);
	assert_int_equal(store_changed(st, &e), 0);
	free(text);
	store_close(st);
}

static void
test_replace_and_delete(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = open_ok(fx->file);
	struct store_draft	 d;
	struct store_err	 e;
	struct json_object	*body;
	const char		*b = "{\"url\": \"http://127.0.0.1:7000\", "
	    "\"endpoints\": {}}";
	char			*before;
	size_t			 len;

	assert_int_equal(store_body_parse(b, strlen(b), &body, &e), 0);
	assert_int_equal(store_draft_set(st, "demo", "arith", body, &d, &e),
	    0);
	json_object_put(body);
	/* replaced as a whole, in its place */
	assert_null(strstr(d.text, "adder"));
	assert_true(strstr(d.text, "\"arith\"") < strstr(d.text, "\"other\""));
	assert_non_null(strstr(d.text, "7000"));
	assert_int_equal(store_commit(st, &d, &e), 0);
	assert_int_equal(store_draft_delete(st, "demo", "arith", &d, &e), 0);
	assert_null(strstr(d.text, "\"arith\""));
	assert_non_null(strstr(d.text, "\"other\""));
	store_draft_free(&d);
	/* deleting what is not there changes nothing */
	before = store_serialize(store_doc(st), &len);
	assert_int_equal(store_draft_delete(st, "demo", "nosuch", &d, &e), 0);
	assert_string_equal(d.text, before);
	store_draft_free(&d);
	assert_int_equal(store_draft_delete(st, "empty", "x", &d, &e), 0);
	store_draft_free(&d);
	free(before);
	store_close(st);
}

static void
test_not_found_and_bad(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = open_ok(fx->file);
	struct store_draft	 d;
	struct store_err	 e;
	struct json_object	*body = NULL;
	char			 id[66];

	assert_int_equal(store_draft_delete(st, "nope", "x", &d, &e), -1);
	assert_int_equal(e.status, STORE_NOTFOUND);
	assert_string_equal(e.msg, "project (nope) not found");
	assert_int_equal(store_body_parse("[1]", 3, &body, &e), -1);
	assert_int_equal(e.status, STORE_BAD);
	assert_null(body);
	assert_int_equal(store_body_parse("{\"a\":", 5, &body, &e), -1);
	assert_int_equal(e.status, STORE_BAD);
	assert_int_equal(store_body_parse("{}", 2, &body, &e), 0);
	assert_int_equal(store_draft_set(st, "nope", "x", body, &d, &e), -1);
	assert_int_equal(e.status, STORE_NOTFOUND);
	assert_int_equal(store_draft_set(st, "demo", "a/b", body, &d, &e), -1);
	assert_int_equal(e.status, STORE_BAD);
	json_object_put(body);
	assert_true(store_id_valid("a-Z_09"));
	assert_false(store_id_valid(""));
	assert_false(store_id_valid("a.b"));
	memset(id, 'a', 64);
	id[64] = '\0';
	assert_true(store_id_valid(id));
	id[64] = 'a';
	id[65] = '\0';
	assert_false(store_id_valid(id));
	store_close(st);
}

static void
test_invalid_service(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = open_ok(fx->file);
	struct store_draft	 d;
	struct store_err	 e;
	struct json_object	*body, *errs_json, *first, *v;
	struct syerrs		 errs;
	const char		*b = "{\"url\": \"http://x\", \"endpoints\": "
	    "{\"e\": {\"path\": \"/e\"}}}";

	assert_int_equal(store_body_parse(b, strlen(b), &body, &e), 0);
	assert_int_equal(store_draft_set(st, "demo", "new", body, &d, &e), 0);
	assert_int_not_equal(validate(d.text, d.len, &errs), 0);
	errs_json = store_errors_json(&errs);
	assert_int_equal(json_object_array_length(errs_json), errs.n);
	first = json_object_array_get_idx(errs_json, 0);
	assert_true(json_object_object_get_ex(first, "path", &v));
	assert_string_equal(json_object_get_string(v),
	    "projects.demo.remoteServices.new.endpoints.e");
	assert_true(json_object_object_get_ex(first, "message", &v));
	assert_non_null(strstr(json_object_get_string(v), "missing \"rule\""));
	json_object_put(errs_json);
	syerrs_free(&errs);
	store_draft_free(&d);
	json_object_put(body);
	assert_file(fx->file, SAMPLE);
	store_close(st);
}

static void
test_changed_on_disk(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = open_ok(fx->file);
	struct store_err	 e;

	assert_int_equal(store_changed(st, &e), 0);
	/* a touch is no change */
	assert_int_equal(utimes(fx->file, NULL), 0);
	assert_int_equal(store_changed(st, &e), 0);
	put_file(fx->file, "{\"projects\": {}}\n");
	assert_int_equal(store_changed(st, &e), 1);
	assert_int_equal(e.status, STORE_CONFLICT);
	assert_non_null(strstr(e.msg, fx->file));
	assert_non_null(strstr(e.msg, "changed on disk since it was loaded; "
	    "reload first"));
	assert_int_equal(store_reload(st, &e), 0);
	assert_int_equal(store_changed(st, &e), 0);
	assert_int_equal(unlink(fx->file), 0);
	assert_int_equal(store_changed(st, &e), -1);
	assert_int_equal(e.status, STORE_IO);
	store_close(st);
}

static void
test_tmp_exists(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = open_ok(fx->file);
	struct store_draft	 d;
	struct store_err	 e;

	assert_int_equal(store_writable(st, &e), 0);
	put_file(fx->tmp, "someone else's\n");
	assert_int_equal(store_writable(st, &e), -1);
	assert_non_null(strstr(e.msg, fx->tmp));
	draft_new(st, &d);
	assert_int_equal(store_commit(st, &d, &e), -1);
	assert_int_equal(e.status, STORE_IO);
	assert_non_null(strstr(e.msg, fx->tmp));
	assert_non_null(strstr(e.msg, strerror(EEXIST)));
	assert_non_null(d.text);
	assert_file(fx->tmp, "someone else's\n");
	assert_file(fx->file, SAMPLE);
	assert_int_equal(access(fx->bak, F_OK), -1);
	assert_string_equal(store_text(st, NULL), SAMPLE);
	store_draft_free(&d);
	store_close(st);
}

/* FILE.bak that cannot be written: the FILE.tmp this write made goes */
static void
test_bak_fails(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = open_ok(fx->file);
	struct store_draft	 d;
	struct store_err	 e;

	assert_int_equal(mkdir(fx->bak, 0755), 0);
	draft_new(st, &d);
	assert_int_equal(store_commit(st, &d, &e), -1);
	assert_int_equal(e.status, STORE_IO);
	assert_non_null(strstr(e.msg, fx->bak));
	assert_non_null(strstr(e.msg, strerror(EISDIR)));
	assert_int_equal(access(fx->tmp, F_OK), -1);
	assert_file(fx->file, SAMPLE);
	assert_int_equal(store_changed(st, &e), 0);
	assert_int_equal(rmdir(fx->bak), 0);
	assert_int_equal(store_commit(st, &d, &e), 0);
	assert_file(fx->bak, SAMPLE);
	store_close(st);
}

/* In a child that is not root: every write in fx->dir is refused. */
static int
unwritable_child(struct fx *fx)
{
	struct store		*st;
	struct store_draft	 d;
	struct store_err	 e;

	if (setgid(65534) == -1 || setuid(65534) == -1 || getuid() == 0)
		return (10);
	if ((st = store_open_file(fx->file, &e)) == NULL)
		return (11);
	if (store_writable(st, &e) != -1 ||
	    strstr(e.msg, strerror(EACCES)) == NULL)
		return (12);
	draft_new(st, &d);
	if (store_commit(st, &d, &e) != -1 || e.status != STORE_IO ||
	    strstr(e.msg, fx->tmp) == NULL ||
	    strstr(e.msg, strerror(EACCES)) == NULL)
		return (13);
	store_draft_free(&d);
	store_close(st);
	return (0);
}

static void
test_unwritable_dir(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = open_ok(fx->file);
	struct store_err	 e;
	pid_t			 pid;
	int			 status;

	/* root writes anywhere: the refusal is tested as "nobody" */
	assert_int_equal(store_writable(st, &e), 0);
	store_close(st);
	assert_int_equal(getuid(), 0);
	fflush(NULL);
	pid = fork();
	assert_int_not_equal(pid, -1);
	if (pid == 0)
		_exit(unwritable_child(fx));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_file(fx->file, SAMPLE);
	assert_int_equal(access(fx->tmp, F_OK), -1);
	assert_int_equal(access(fx->bak, F_OK), -1);
}

static void
test_symlink(void **state)
{
	struct fx		*fx = *state;
	struct store		*st;
	struct store_draft	 d;
	struct store_err	 e;
	struct stat		 sb;
	char			 real[160], link[160], path[200], *text;

	snprintf(real, sizeof(real), "%s/etc", fx->dir);
	assert_int_equal(mkdir(real, 0755), 0);
	strcat(real, "/real.json");
	put_file(real, SAMPLE);
	snprintf(link, sizeof(link), "%s/link.json", fx->dir);
	assert_int_equal(symlink("etc/real.json", link), 0);
	/* a relative path is taken from the directory it was opened in */
	assert_int_equal(chdir(fx->dir), 0);
	st = open_ok("link.json");
	assert_int_equal(chdir("/"), 0);
	assert_string_equal(store_path(st), real);
	assert_int_equal(store_changed(st, &e), 0);
	draft_new(st, &d);
	text = strdup(d.text);
	assert_int_equal(store_commit(st, &d, &e), 0);
	assert_int_equal(lstat(link, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	assert_file(real, text);
	assert_file(link, text);
	snprintf(path, sizeof(path), "%s.bak", real);
	assert_file(path, SAMPLE);
	snprintf(path, sizeof(path), "%s.bak", link);
	assert_int_equal(access(path, F_OK), -1);
	free(text);
	store_close(st);
}

static void
test_mode_owner(void **state)
{
	struct fx		*fx = *state;
	struct store		*st;
	struct store_draft	 d;
	struct store_err	 e;
	struct stat		 sb;

	assert_int_equal(chmod(fx->file, 0640), 0);
	assert_int_equal(chown(fx->file, 65534, 65534), 0);
	st = open_ok(fx->file);
	draft_new(st, &d);
	assert_int_equal(store_commit(st, &d, &e), 0);
	assert_int_equal(stat(fx->file, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_int_equal(sb.st_uid, 65534);
	assert_int_equal(sb.st_gid, 65534);
	assert_int_equal(stat(fx->bak, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_int_equal(sb.st_uid, 65534);
	store_close(st);
}

/* A crash after each step leaves FILE the old or the new document. */
static void
test_crash_steps(void **state)
{
	struct fx		*fx = *state;
	struct store		*st;
	struct store_draft	 d;
	struct store_err	 e;
	struct syerrs		 errs;
	char			*new, *got;
	int			 k;

	for (k = 1; k <= 5; k++) {
		put_file(fx->file, SAMPLE);
		(void)unlink(fx->tmp);
		(void)unlink(fx->bak);
		st = open_ok(fx->file);
		draft_new(st, &d);
		new = strdup(d.text);
		store_test_crash_after(k);
		assert_int_equal(store_commit(st, &d, &e), -1);
		store_test_crash_after(0);
		store_draft_free(&d);
		store_close(st);
		got = get_file(fx->file);
		assert_non_null(got);
		if (strcmp(got, k < 4 ? SAMPLE : new) != 0)
			fail_msg("step %d: FILE is neither old nor new", k);
		assert_int_equal(validate(got, strlen(got), &errs), 0);
		syerrs_free(&errs);
		/* a FILE.tmp left by the crash blocks writes until removed */
		st = open_ok(fx->file);
		draft_new(st, &d);
		assert_int_equal(store_commit(st, &d, &e), k < 4 ? -1 : 0);
		if (k < 4) {
			assert_int_equal(unlink(fx->tmp), 0);
			assert_int_equal(store_commit(st, &d, &e), 0);
		}
		store_draft_free(&d);
		store_close(st);
		free(got);
		free(new);
	}
}

static void
test_etag(void **state)
{
	char	tag[STORE_ETAG_MAX];
	const char *sha =
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

	(void)state;
	store_etag(tag, 7, sha);
	assert_string_equal(tag, "\"g7-0123456789ab\"");
	store_etag(tag, 18446744073709551615ULL, sha);
	assert_string_equal(tag, "\"g18446744073709551615-0123456789ab\"");
	store_etag(tag, 7, sha);
	assert_true(store_etag_match("*", tag));
	assert_true(store_etag_match("\"g7-0123456789ab\"", tag));
	assert_true(store_etag_match(" \"x\" , \"g7-0123456789ab\" ", tag));
	assert_false(store_etag_match("\"g8-0123456789ab\"", tag));
	assert_false(store_etag_match("W/\"g7-0123456789ab\"", tag));
	assert_false(store_etag_match("g7-0123456789ab", tag));
	assert_false(store_etag_match("", tag));
}

/* Mission Control's Service and space-cli's apply body, as they send. */
static void
test_space_cloud_bodies(void **state)
{
	static const char mc[] = "{\"id\": \"mc\", \"url\": "
	    "\"http://127.0.0.1:5000\", \"endpoints\": {\"adder\": {"
	    "\"kind\": \"internal\", \"template\": \"go\", "
	    "\"requestTemplate\": \"\", \"responseTemplate\": \"\", "
	    "\"graphTemplate\": \"\", \"outputFormat\": \"yaml\", "
	    "\"requestPayloadFormat\": \"json\", \"token\": \"\", "
	    "\"claims\": \"\", \"method\": \"POST\", \"path\": \"/adder\", "
	    "\"rule\": {\"rule\": \"allow\"}, \"headers\": [], "
	    "\"timeout\": 60, \"cacheOptions\": []}}}";
	static const char cli[] = "{\"url\": \"http://127.0.0.1:5000\", "
	    "\"endpoints\": {\"adder\": {\"method\": \"POST\", \"path\": "
	    "\"/adder\", \"rule\": {\"rule\": \"allow\"}, "
	    "\"cacheOptions\": null}}}";
	static const char bad[] = "{\"url\": \"http://127.0.0.1:5000\", "
	    "\"endpoints\": {\"a\": {\"requestTemplate\": \"{{.args}}\", "
	    "\"claims\": \"{}\", \"cacheOptions\": [\"args.id\"], "
	    "\"graphTemplate\": {}, \"responseTemplate\": null}}}";
	static const char mcnull[] = "{\"id\": \"mc\", \"url\": "
	    "\"http://127.0.0.1:5000\", \"endpoints\": {\"adder\": {"
	    "\"kind\": \"\", \"template\": \"\", \"requestTemplate\": "
	    "null, \"graphTemplate\": null, \"claims\": null, \"token\": "
	    "null, \"headers\": null, \"cacheOptions\": null, "
	    "\"outputFormat\": \"\", \"method\": \"GET\", \"path\": "
	    "\"/adder\", \"rule\": {\"rule\": \"allow\"}}}}";
	const char		*bodies[] = { mc, cli, mcnull };
	struct fx		*fx = *state;
	struct store		*st = open_ok(fx->file);
	struct store_draft	 d;
	struct store_err	 e;
	struct json_object	*body;
	struct syerrs		 errs;
	size_t			 i;

	for (i = 0; i < 3; i++) {
		assert_int_equal(store_body_parse(bodies[i],
		    strlen(bodies[i]), &body, &e), 0);
		syerrs_init(&errs);
		assert_int_equal(store_check_compat(body, "demo", "mc",
		    &errs), 0);
		syerrs_free(&errs);
		assert_int_equal(store_draft_set(st, "demo", "mc", body, &d,
		    &e), 0);
		if (validate(d.text, d.len, &errs) != 0)
			fail_msg("body %zu: %s", i, errs.msg[0]);
		syerrs_free(&errs);
		/* stored as given: Space Cloud's members are kept */
		assert_true(i != 0 || strstr(d.text, "\"outputFormat\": "
		    "\"yaml\"") != NULL);
		store_draft_free(&d);
		json_object_put(body);
	}
	assert_int_equal(store_body_parse(bad, strlen(bad), &body, &e), 0);
	syerrs_init(&errs);
	assert_int_equal(store_check_compat(body, "demo", "s", &errs), 3);
	assert_string_equal(errs.msg[0], "projects.demo.remoteServices.s."
	    "endpoints.a.requestTemplate: switchyard cannot honour "
	    "\"requestTemplate\" (leave it empty or remove it)");
	assert_non_null(strstr(errs.msg[1], ".endpoints.a.claims: "));
	assert_non_null(strstr(errs.msg[2], ".endpoints.a.cacheOptions: "));
	syerrs_free(&errs);
	json_object_put(body);
	store_close(st);
}

static int
validate_cb(const char *text, size_t len, struct syerrs *errs, void *arg)
{
	struct sy_config	*cf = config_parse(text, len, errs);

	*(int *)arg += 1;
	config_free(cf);
	return (cf == NULL ? -1 : 0);
}

/* store_write: 9.5's checks in their order, the first failure decides */
static void
test_write_order(void **state)
{
	struct fx		*fx = *state;
	struct store		*st = open_ok(fx->file);
	struct store_req	 rq;
	struct store_err	 e;
	struct syerrs		 errs;
	struct json_object	*good, *bad, *tmpl;
	const char		*b = "{\"url\": \"http://x\", \"endpoints\": "
	    "{\"e\": {\"path\": \"/e\"}}}";
	const char		*t = "{\"url\": \"http://x\", \"endpoints\": "
	    "{\"e\": {\"path\": \"/e\", \"rule\": {\"rule\": "
	    "\"allow\"}, \"requestTemplate\": \"x\"}}}";
	char			 etag[STORE_ETAG_MAX];
	int			 calls = 0;

	assert_int_equal(store_body_parse(NEWSVC, strlen(NEWSVC), &good, &e),
	    0);
	assert_int_equal(store_body_parse(b, strlen(b), &bad, &e), 0);
	assert_int_equal(store_body_parse(t, strlen(t), &tmpl, &e), 0);
	store_etag(etag, 3, store_sha256(st));
	syerrs_init(&errs);
	memset(&rq, 0, sizeof(rq));
	rq.project = "nope";
	rq.id = "a.b";
	rq.body = good;
	rq.if_match = "\"old\"";
	rq.etag = etag;
	put_file(fx->file, "{}\n");	/* changed on disk */
	assert_int_equal(store_write(st, &rq, validate_cb, &calls, &errs,
	    &e), -1);
	assert_int_equal(e.status, STORE_BAD);
	rq.id = "zz";
	assert_int_equal(store_write(st, &rq, validate_cb, &calls, &errs,
	    &e), -1);
	assert_int_equal(e.status, STORE_NOTFOUND);
	rq.project = "demo";
	assert_int_equal(store_write(st, &rq, validate_cb, &calls, &errs,
	    &e), -1);
	assert_int_equal(e.status, STORE_CONFLICT);
	assert_non_null(strstr(e.msg, "If-Match"));
	rq.if_match = "*";
	assert_int_equal(store_write(st, &rq, validate_cb, &calls, &errs,
	    &e), -1);
	assert_int_equal(e.status, STORE_CONFLICT);
	assert_non_null(strstr(e.msg, "changed on disk"));
	assert_int_equal(calls, 0);
	put_file(fx->file, SAMPLE);
	rq.body = bad;
	assert_int_equal(store_write(st, &rq, validate_cb, &calls, &errs,
	    &e), -1);
	assert_int_equal(e.status, STORE_BAD);
	assert_string_equal(e.msg, "invalid configuration: projects.demo."
	    "remoteServices.zz.endpoints.e: missing \"rule\" (use "
	    "{\"rule\": \"allow\"} to make the endpoint public)");
	assert_int_equal(errs.n, 1);
	syerrs_free(&errs);
	rq.body = tmpl;
	assert_int_equal(store_write(st, &rq, validate_cb, &calls, &errs,
	    &e), -1);
	assert_int_equal(e.status, STORE_BAD);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msg[0], ".endpoints.e.requestTemplate: "));
	syerrs_free(&errs);
	assert_int_equal(calls, 2);
	assert_file(fx->file, SAMPLE);
	rq.body = good;
	rq.if_match = etag;
	assert_int_equal(store_write(st, &rq, validate_cb, &calls, &errs,
	    &e), 0);
	assert_int_equal(errs.n, 0);
	assert_file(fx->bak, SAMPLE);
	assert_non_null(strstr(store_text(st, NULL), "\"zz\""));
	rq.del = 1;
	rq.if_match = NULL;
	assert_int_equal(store_write(st, &rq, validate_cb, &calls, &errs,
	    &e), 0);
	assert_null(strstr(store_text(st, NULL), "\"zz\""));
	assert_file(fx->file, store_text(st, NULL));
	/* again: nothing to write, so not even an unwritable file matters */
	put_file(fx->tmp, "in the way\n");
	assert_int_equal(store_write(st, &rq, validate_cb, &calls, &errs,
	    &e), 1);
	assert_file(fx->file, store_text(st, NULL));
	json_object_put(good);
	json_object_put(bad);
	json_object_put(tmpl);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_set_new_commit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_replace_and_delete, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_found_and_bad, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_invalid_service, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_changed_on_disk, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tmp_exists, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bak_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_owner, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_steps, setup,
		    teardown),
		cmocka_unit_test(test_etag),
		cmocka_unit_test_setup_teardown(test_write_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_space_cloud_bodies, setup,
		    teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
