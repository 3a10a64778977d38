/*
 * test_config.c: config file validation (every error kind, each reported
 * with its JSON path, all of them at once), the defaults, and the
 * registry entries a valid config compiles to.
 */
#include <sys/stat.h>

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
#include "log.h"
#include "util.h"

/* A config with one project "p", service "s", endpoint "e" = EP. */
#define ONE_EP(ep)							\
	"{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"		\
	"\"url\":\"http://127.0.0.1:5000\",\"endpoints\":{\"e\":"	\
	ep "}}}}}}"
#define EP_PATH	"projects.p.remoteServices.s.endpoints.e"

static struct sy_config *
parse(const char *text, struct syerrs *errs)
{
	syerrs_init(errs);
	return (config_parse(text, strlen(text), errs));
}

static int
has_msg(const struct syerrs *errs, const char *msg)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		if (strcmp(errs->msg[i], msg) == 0)
			return (1);
	return (0);
}

static void
dump(const struct syerrs *errs)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		print_message("# got: %s\n", errs->msg[i]);
}

/* text is invalid, with exactly the one message msg. */
static void
expect_one(const char *text, const char *msg)
{
	struct syerrs		 errs;
	struct sy_config	*cf;

	cf = parse(text, &errs);
	if (cf != NULL || errs.n != 1 || strcmp(errs.msg[0], msg) != 0) {
		print_message("# input: %s\n# want: %s\n", text, msg);
		dump(&errs);
	}
	assert_null(cf);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], msg);
	syerrs_free(&errs);
}

/* text is valid; returns the config (caller frees). */
static struct sy_config *
expect_ok(const char *text)
{
	struct syerrs		 errs;
	struct sy_config	*cf;

	cf = parse(text, &errs);
	if (cf == NULL) {
		print_message("# input: %s\n", text);
		dump(&errs);
	}
	assert_non_null(cf);
	assert_int_equal(errs.n, 0);
	syerrs_free(&errs);
	return (cf);
}

static const char *
entry(const struct sy_config *cf, const char *key)
{
	size_t	i;

	for (i = 0; i < cf->nents; i++)
		if (strcmp(cf->ents[i].key, key) == 0)
			return (cf->ents[i].val);
	return (NULL);
}

static void
test_defaults(void **state)
{
	struct sy_config	*cf = expect_ok("{}");
	const struct sy_server	*s = &cf->srv;

	assert_int_equal(s->nlisten, 1);
	assert_string_equal(s->listen[0], "127.0.0.1:4122");
	assert_int_equal(s->workers, 0);
	assert_true(strncmp(s->node_id, "switchyard", 10) == 0);
	assert_string_equal(s->registry_path, SY_DEFAULT_REGISTRY);
	assert_string_equal(s->pid_file, SY_DEFAULT_PIDFILE);
	assert_null(s->user);
	assert_null(s->group);
	assert_true(s->shutdown_timeout == 10.0);
	assert_string_equal(s->log_error, "syslog");
	assert_int_equal(s->log_level, LOG_LEVEL_INFO);
	assert_null(s->log_access);
	assert_int_equal(s->max_body_bytes, 1048576);
	assert_int_equal(s->max_header_bytes, 16384);
	assert_true(s->client_timeout == 60.0);
	assert_int_equal(s->max_response_bytes, 8388608);
	assert_int_equal(s->ncors_origins, 1);
	assert_string_equal(s->cors_origins[0], "*");
	assert_string_equal(s->admin_listen, "127.0.0.1:4123");
	assert_int_equal(s->upstream_curl, 0);
	assert_int_equal(cf->nents, 0);
	assert_int_equal(cf->nprojects, 0);
	config_free(cf);
}

static void
test_server_full(void **state)
{
	struct sy_config	*cf;
	const struct sy_server	*s;

	cf = expect_ok("{\"server\":{\"listen\":[\"127.0.0.1:8080\","
	    "\"[::1]:8080\",\":9000\",\"*:9001\",\"localhost:1\"],"
	    "\"workers\":256,\"nodeId\":\"gw-1\",\"registryPath\":\"/r\","
	    "\"pidFile\":\"/p.pid\",\"user\":\"u\",\"group\":\"g\","
	    "\"shutdownTimeout\":0.5,\"log\":{\"error\":\"stderr\","
	    "\"level\":\"DEBUG\",\"access\":\"/tmp/a.log\"},"
	    "\"limits\":{\"maxBodyBytes\":10,\"maxHeaderBytes\":20,"
	    "\"clientTimeout\":1.5,\"maxResponseBytes\":30},"
	    "\"cors\":{\"allowOrigins\":[\"https://a.example\","
	    "\"https://b.example\"]},\"admin\":{\"listen\":\"[::1]:9\"}}}");
	s = &cf->srv;
	assert_int_equal(s->nlisten, 5);
	assert_string_equal(s->listen[1], "[::1]:8080");
	assert_string_equal(s->listen[3], "*:9001");
	assert_int_equal(s->workers, 256);
	assert_string_equal(s->node_id, "gw-1");
	assert_string_equal(s->registry_path, "/r");
	assert_string_equal(s->pid_file, "/p.pid");
	assert_string_equal(s->user, "u");
	assert_string_equal(s->group, "g");
	assert_true(s->shutdown_timeout == 0.5);
	assert_string_equal(s->log_error, "stderr");
	assert_int_equal(s->log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(s->log_access, "/tmp/a.log");
	assert_int_equal(s->max_body_bytes, 10);
	assert_int_equal(s->max_header_bytes, 20);
	assert_true(s->client_timeout == 1.5);
	assert_int_equal(s->max_response_bytes, 30);
	assert_int_equal(s->ncors_origins, 2);
	assert_string_equal(s->cors_origins[1], "https://b.example");
	assert_string_equal(s->admin_listen, "[::1]:9");
	config_free(cf);
}

static void
test_server_nulls(void **state)
{
	struct sy_config	*cf;

	cf = expect_ok("{\"server\":{\"admin\":null,\"user\":null,"
	    "\"log\":{\"access\":null,\"level\":\"error\"},"
	    "\"workers\":null,\"listen\":\"0.0.0.0:80\","
	    "\"cors\":{\"allowOrigins\":[]}}}");
	assert_null(cf->srv.admin_listen);
	assert_null(cf->srv.user);
	assert_null(cf->srv.log_access);
	assert_int_equal(cf->srv.log_level, LOG_LEVEL_ERROR);
	assert_int_equal(cf->srv.workers, 0);
	assert_int_equal(cf->srv.nlisten, 1);
	assert_string_equal(cf->srv.listen[0], "0.0.0.0:80");
	assert_int_equal(cf->srv.ncors_origins, 0);
	config_free(cf);

	cf = expect_ok("{\"server\":{\"admin\":{\"listen\":null}}}");
	assert_null(cf->srv.admin_listen);
	config_free(cf);
	cf = expect_ok("{\"server\":{\"admin\":{}},\"projects\":null}");
	assert_string_equal(cf->srv.admin_listen, "127.0.0.1:4123");
	config_free(cf);
}

static void
test_server_bad_types(void **state)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} t[] = {
	{ "{\"server\":[]}", "server: must be an object" },
	{ "{\"server\":{\"workers\":\"2\"}}",
	  "server.workers: must be an integer from 0 to 256" },
	{ "{\"server\":{\"workers\":257}}",
	  "server.workers: must be an integer from 0 to 256" },
	{ "{\"server\":{\"workers\":-1}}",
	  "server.workers: must be an integer from 0 to 256" },
	{ "{\"server\":{\"workers\":2.5}}",
	  "server.workers: must be an integer from 0 to 256" },
	{ "{\"server\":{\"nodeId\":5}}",
	  "server.nodeId: must be a non-empty string" },
	{ "{\"server\":{\"nodeId\":\"\"}}",
	  "server.nodeId: must be a non-empty string" },
	{ "{\"server\":{\"registryPath\":[]}}",
	  "server.registryPath: must be a non-empty string" },
	{ "{\"server\":{\"pidFile\":true}}",
	  "server.pidFile: must be a non-empty string" },
	{ "{\"server\":{\"user\":1}}",
	  "server.user: must be a non-empty string or null" },
	{ "{\"server\":{\"group\":\"\"}}",
	  "server.group: must be a non-empty string or null" },
	{ "{\"server\":{\"shutdownTimeout\":-1}}",
	  "server.shutdownTimeout: must be a number of seconds from 0 to "
	  "86400" },
	{ "{\"server\":{\"shutdownTimeout\":\"10\"}}",
	  "server.shutdownTimeout: must be a number of seconds from 0 to "
	  "86400" },
	{ "{\"server\":{\"upstreamClient\":\"libcurl\"}}",
	  "server.upstreamClient: must be \"native\" or \"curl\"" },
	{ "{\"server\":{\"upstreamClient\":true}}",
	  "server.upstreamClient: must be \"native\" or \"curl\"" },
	{ "{\"server\":{\"log\":\"stderr\"}}",
	  "server.log: must be an object" },
	{ "{\"server\":{\"log\":{\"error\":1}}}",
	  "server.log.error: must be a non-empty string" },
	{ "{\"server\":{\"log\":{\"level\":\"loud\"}}}",
	  "server.log.level: must be \"error\", \"warn\", \"info\" or "
	  "\"debug\"" },
	{ "{\"server\":{\"log\":{\"access\":false}}}",
	  "server.log.access: must be a non-empty string or null" },
	{ "{\"server\":{\"limits\":7}}", "server.limits: must be an object" },
	{ "{\"server\":{\"limits\":{\"maxBodyBytes\":0}}}",
	  "server.limits.maxBodyBytes: must be a positive integer" },
	{ "{\"server\":{\"limits\":{\"maxHeaderBytes\":1.5}}}",
	  "server.limits.maxHeaderBytes: must be a positive integer" },
	{ "{\"server\":{\"limits\":{\"maxResponseBytes\":\"1\"}}}",
	  "server.limits.maxResponseBytes: must be a positive integer" },
	{ "{\"server\":{\"limits\":{\"clientTimeout\":0}}}",
	  "server.limits.clientTimeout: must be a number of seconds greater "
	  "than 0 and at most 86400" },
	{ "{\"server\":{\"cors\":{\"allowOrigins\":\"*\"}}}",
	  "server.cors.allowOrigins: must be an array of origins such as "
	  "[\"*\"]" },
	{ "{\"server\":{\"cors\":{\"allowOrigins\":[\"*\",\"a b\"]}}}",
	  "server.cors.allowOrigins: entry 1 must be an origin such as "
	  "\"https://app.example.com\" or \"*\"" },
	{ "{\"server\":{\"admin\":5}}",
	  "server.admin: must be an object or null" },
	{ "{\"server\":{\"admin\":{\"listen\":4123}}}",
	  "server.admin.listen: must be a string such as "
	  "\"127.0.0.1:4122\"" },
	{ "{\"server\":{\"listen\":[]}}",
	  "server.listen: must be an array of 1 to 16 addresses" },
	{ "{\"server\":{\"listen\":5}}",
	  "server.listen: must be an array of 1 to 16 addresses" },
	{ "{\"server\":{\"listen\":[5]}}",
	  "server.listen[0]: must be a string such as \"127.0.0.1:4122\"" },
	{ "{\"server\":{\"lisen\":[]}}", "server: unknown member \"lisen\"" },
	{ "{\"server\":{\"log\":{\"file\":\"x\"}}}",
	  "server.log: unknown member \"file\"" },
	{ "{\"server\":{\"limits\":{\"maxBody\":1}}}",
	  "server.limits: unknown member \"maxBody\"" },
	{ "{\"projects\":[]}",
	  "projects: must be an object of project id to project" },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		expect_one(t[i].text, t[i].msg);
}

static void
test_listen_forms(void **state)
{
	static const char *const good[] = {
		"127.0.0.1:1", ":4122", "*:4122", "[::1]:65535", "[::]:80",
		"localhost:80", "gw.example-1.org:8080",
	};
	static const struct {
		const char	*addr;
		const char	*why;
	} bad[] = {
		{ "127.0.0.1", "missing \":port\"" },
		{ "::1:80", "an IPv6 address must be in brackets, as in "
		  "\"[::1]:4122\"" },
		{ "[::1", "bad IPv6 address" },
		{ "[zz::]:80", "bad IPv6 address" },
		{ "[::1]80", "missing \":port\"" },
		{ "host:0", "the port must be from 1 to 65535" },
		{ "host:65536", "the port must be from 1 to 65535" },
		{ "host:", "the port must be from 1 to 65535" },
		{ "host:8o", "the port must be from 1 to 65535" },
		{ "host:0000080", "the port must be from 1 to 65535" },
		{ "a b:80", "bad character in the host" },
		{ "**:80", "bad character in the host" },
	};
	char			 text[256], msg[512];
	struct sy_config	*cf;
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		/* port 9 is none of theirs: no overlap */
		snprintf(text, sizeof(text), "{\"server\":{\"listen\":"
		    "[\"%s\"],\"admin\":{\"listen\":\"127.0.0.9:9\"}}}",
		    good[i]);
		cf = expect_ok(text);
		assert_string_equal(cf->srv.listen[0], good[i]);
		config_free(cf);
		snprintf(text, sizeof(text), "{\"server\":{\"listen\":"
		    "[\"127.0.0.9:9\"],\"admin\":{\"listen\":\"%s\"}}}",
		    good[i]);
		cf = expect_ok(text);
		assert_string_equal(cf->srv.admin_listen, good[i]);
		config_free(cf);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "{\"server\":{\"listen\":"
		    "[\"127.0.0.1:1\",\"%s\"]}}", bad[i].addr);
		snprintf(msg, sizeof(msg), "server.listen[1]: bad address "
		    "\"%s\": %s (expected \"host:port\", \"[ipv6]:port\" or "
		    "\":port\")", bad[i].addr, bad[i].why);
		expect_one(text, msg);
	}
	expect_one("{\"server\":{\"listen\":[\":80\",\"1.2.3.4:9\",\":80\"]}}",
	    "server.listen[2]: \":80\" is listed twice");
	expect_one("{\"server\":{\"listen\":[\":1\",\":2\",\":3\",\":4\","
	    "\":5\",\":6\",\":7\",\":8\",\":9\",\":10\",\":11\",\":12\","
	    "\":13\",\":14\",\":15\",\":16\",\":17\"]}}",
	    "server.listen: must be an array of 1 to 16 addresses");
}

/* SPEC section 3: listen and admin.listen must not share an address. */
static void
test_listen_overlap(void **state)
{
	static const struct {
		const char	*listen;
		const char	*admin;
	} clash[] = {
		{ "127.0.0.1:4122", "127.0.0.1:4122" },
		{ "0.0.0.0:4122", "127.0.0.1:4122" },
		{ "127.0.0.1:4122", "0.0.0.0:4122" },
		{ ":4122", "127.0.0.1:4122" },
		{ "*:4122", "10.1.2.3:4122" },
		{ "127.0.0.1:4122", ":4122" },
		{ "[::]:4122", "[::1]:4122" },
		{ "[::1]:4122", "[0:0::1]:4122" },
		{ "localhost:4122", "127.0.0.1:4122" },
		{ "[::1]:4122", "LocalHost:4122" },
		{ "gw.example:4122", "GW.example:4122" },
	};
	static const struct {
		const char	*listen;
		const char	*admin;
	} apart[] = {
		{ "127.0.0.1:4122", "127.0.0.1:4123" },
		{ "127.0.0.1:4122", "127.0.0.2:4122" },
		{ "0.0.0.0:4122", "[::1]:4122" },
		{ "[::]:4122", "127.0.0.1:4122" },
		{ "localhost:4122", "10.0.0.1:4122" },
		{ "gw.example:4122", "127.0.0.1:4122" },
		{ "gw.example:4122", "gw.example:4123" },
	};
	char			 text[256], msg[256];
	size_t			 i;

	for (i = 0; i < sizeof(clash) / sizeof(clash[0]); i++) {
		snprintf(text, sizeof(text), "{\"server\":{\"listen\":"
		    "[\"127.0.0.9:9\",\"%s\"],\"admin\":{\"listen\":\"%s\"}}}",
		    clash[i].listen, clash[i].admin);
		snprintf(msg, sizeof(msg), "server.admin.listen: \"%s\" "
		    "overlaps server.listen[1] \"%s\": the config API needs an "
		    "address of its own", clash[i].admin, clash[i].listen);
		expect_one(text, msg);
	}
	for (i = 0; i < sizeof(apart) / sizeof(apart[0]); i++) {
		snprintf(text, sizeof(text), "{\"server\":{\"listen\":"
		    "[\"%s\"],\"admin\":{\"listen\":\"%s\"}}}", apart[i].listen,
		    apart[i].admin);
		config_free(expect_ok(text));
	}
	/* the defaults: listen 127.0.0.1:4122 */
	expect_one("{\"server\":{\"admin\":{\"listen\":\"0.0.0.0:4122\"}}}",
	    "server.admin.listen: \"0.0.0.0:4122\" overlaps server.listen[0] "
	    "\"127.0.0.1:4122\": the config API needs an address of its own");
	config_free(expect_ok("{\"server\":{\"listen\":\"127.0.0.1:4123\","
	    "\"admin\":null}}"));
	/* listen addresses among themselves */
	expect_one("{\"server\":{\"listen\":[\"0.0.0.0:80\",\"127.0.0.1:80\"],"
	    "\"admin\":null}}", "server.listen[1]: \"127.0.0.1:80\" overlaps "
	    "server.listen[0] \"0.0.0.0:80\"");
	config_free(expect_ok("{\"server\":{\"listen\":[\"0.0.0.0:80\","
	    "\"[::]:80\",\"127.0.0.1:81\"],\"admin\":null}}"));
}

/* A file under dir holding text (NULL: a directory); caller frees. */
static char *
make_file(const char *dir, const char *name, const char *text)
{
	char	*path;
	int	 fd;

	assert_true(asprintf(&path, "%s/%s", dir, name) != -1);
	if (text == NULL) {
		assert_int_equal(mkdir(path, 0700), 0);
		return (path);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return (path);
}

/* SPEC section 3: a pidFile naming a file other than a pidfile. */
static void
test_pidfile(void **state)
{
	static const struct {
		const char	*name;
		const char	*text;
		const char	*why;	/* NULL: fine */
	} t[] = {
		{ "absent", "", NULL },
		{ "empty", "", NULL },
		{ "pid", "4122\n", NULL },
		{ "pid-no-newline", "4122", NULL },
		{ "passwd", "root:x:0:0:root:/root:/bin/bash\n",
		  "is not a pidfile (it holds more than a process id)" },
		{ "two-lines", "4122\n\n", "is not a pidfile (it holds more "
		  "than a process id)" },
		{ "spaced", " 4122\n", "is not a pidfile (it holds more than a "
		  "process id)" },
		{ "long", "1234567890123456789012345", "is not a pidfile (it "
		  "holds more than a process id)" },
		{ "dir", NULL, "is not a regular file" },
	};
	char			 dir[] = "/tmp/test_config.XXXXXX";
	char			*path, *link, text[512], msg[512];
	struct sy_config	*cf;
	size_t			 i;

	assert_non_null(mkdtemp(dir));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (i == 0)
			assert_true(asprintf(&path, "%s/absent", dir) != -1);
		else
			path = make_file(dir, t[i].name, t[i].text);
		snprintf(text, sizeof(text), "{\"server\":{\"pidFile\":"
		    "\"%s\"}}", path);
		if (t[i].why == NULL) {
			cf = expect_ok(text);
			assert_string_equal(cf->srv.pid_file, path);
			config_free(cf);
		} else {
			snprintf(msg, sizeof(msg), "server.pidFile: \"%s\" %s; "
			    "switchyard never writes over such a file", path,
			    t[i].why);
			expect_one(text, msg);
		}
		if (t[i].text == NULL)
			rmdir(path);
		else
			unlink(path);
		free(path);
	}
	/* a symbolic link, even to a pidfile */
	path = make_file(dir, "real.pid", "77\n");
	assert_true(asprintf(&link, "%s/link.pid", dir) != -1);
	assert_int_equal(symlink(path, link), 0);
	snprintf(text, sizeof(text), "{\"server\":{\"pidFile\":\"%s\"}}", link);
	snprintf(msg, sizeof(msg), "server.pidFile: \"%s\" is a symbolic link "
	    "(name the file itself); switchyard never writes over such a file",
	    link);
	expect_one(text, msg);
	unlink(link);
	unlink(path);
	free(link);
	free(path);
	rmdir(dir);
}

/* Relative paths are the config file's directory's. */
static void
test_relative_paths(void **state)
{
	char			 dir[] = "/tmp/test_config.XXXXXX";
	char			*file, *want;
	struct sy_config	*cf;
	struct syerrs		 errs;

	assert_non_null(mkdtemp(dir));
	file = make_file(dir, "sy.json", "{\"server\":{\"registryPath\":"
	    "\"reg/lmdb\",\"pidFile\":\"sy.pid\",\"log\":{\"error\":"
	    "\"./err.log\",\"access\":\"acc.log\"}}}");
	syerrs_init(&errs);
	cf = config_load(file, &errs);
	assert_non_null(cf);
	assert_true(asprintf(&want, "%s/reg/lmdb", dir) != -1);
	assert_string_equal(cf->srv.registry_path, want);
	free(want);
	assert_true(asprintf(&want, "%s/sy.pid", dir) != -1);
	assert_string_equal(cf->srv.pid_file, want);
	free(want);
	assert_true(asprintf(&want, "%s/./err.log", dir) != -1);
	assert_string_equal(cf->srv.log_error, want);
	free(want);
	assert_true(asprintf(&want, "%s/acc.log", dir) != -1);
	assert_string_equal(cf->srv.log_access, want);
	free(want);
	config_free(cf);
	unlink(file);
	free(file);

	/* absolute paths and the log keywords stay as they are */
	file = make_file(dir, "abs.json", "{\"server\":{\"registryPath\":"
	    "\"/var/lib/sy\",\"pidFile\":\"/nonexistent/sy.pid\",\"log\":"
	    "{\"error\":\"syslog\",\"access\":null}}}");
	cf = config_load(file, &errs);
	assert_non_null(cf);
	assert_string_equal(cf->srv.registry_path, "/var/lib/sy");
	assert_string_equal(cf->srv.pid_file, "/nonexistent/sy.pid");
	assert_string_equal(cf->srv.log_error, "syslog");
	assert_null(cf->srv.log_access);
	config_free(cf);
	unlink(file);
	free(file);

	/* a relative pidFile is checked where it resolves to */
	free(make_file(dir, "notpid", "hello\n"));
	file = make_file(dir, "bad.json", "{\"server\":{\"pidFile\":"
	    "\"notpid\"}}");
	assert_null(config_load(file, &errs));
	assert_int_equal(errs.n, 1);
	assert_true(asprintf(&want, "server.pidFile: \"%s/notpid\" is not a "
	    "pidfile (it holds more than a process id); switchyard never "
	    "writes over such a file", dir) != -1);
	assert_string_equal(errs.msg[0], want);
	free(want);
	syerrs_free(&errs);
	unlink(file);
	free(file);
	assert_true(asprintf(&want, "%s/notpid", dir) != -1);
	unlink(want);
	free(want);
	rmdir(dir);
}

static void
test_bad_ids(void **state)
{
	char	text[512], msg[512], longname[130];

	expect_one("{\"projects\":{\"my project\":{}}}",
	    "projects.my project: bad project id \"my project\" (use 1 to "
	    "128 of A-Z, a-z, 0-9, \"_\" and \"-\")");
	expect_one("{\"projects\":{\"\":{}}}",
	    "projects.: bad project id \"\" (use 1 to 128 of A-Z, a-z, 0-9, "
	    "\"_\" and \"-\")");
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"a.b\":{"
	    "\"endpoints\":{}}}}}}",
	    "projects.p.remoteServices.a.b: bad service id \"a.b\" (use 1 to "
	    "128 of A-Z, a-z, 0-9, \"_\" and \"-\")");
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"url\":\"http://h\",\"endpoints\":{\"x/y\":{\"path\":\"/\","
	    "\"rule\":{\"rule\":\"allow\"}}}}}}}}",
	    "projects.p.remoteServices.s.endpoints.x/y: bad endpoint name "
	    "\"x/y\" (use 1 to 128 of A-Z, a-z, 0-9, \"_\" and \"-\")");
	memset(longname, 'a', 129);
	longname[129] = '\0';
	snprintf(text, sizeof(text), "{\"projects\":{\"%s\":{}}}", longname);
	snprintf(msg, sizeof(msg), "projects.%s: bad project id \"%s\" (use "
	    "1 to 128 of A-Z, a-z, 0-9, \"_\" and \"-\")", longname, longname);
	expect_one(text, msg);
	longname[128] = '\0';
	snprintf(text, sizeof(text), "{\"projects\":{\"%s\":{}}}", longname);
	config_free(expect_ok(text));
}

static void
bad_url(const char *url, const char *why)
{
	char	text[256], msg[256];

	snprintf(text, sizeof(text), "{\"projects\":{\"p\":{"
	    "\"remoteServices\":{\"s\":{\"url\":\"%s\"}}}}}", url);
	snprintf(msg, sizeof(msg), "projects.p.remoteServices.s.url: "
	    "malformed URL \"%s\" (%s)", url, why);
	expect_one(text, msg);
}

static void
test_service_url(void **state)
{
	struct sy_config	*cf;

	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"endpoints\":{\"e\":{\"path\":\"/e\",\"rule\":{\"rule\":"
	    "\"allow\"}}}}}}}}",
	    "projects.p.remoteServices.s: missing \"url\" (internal endpoint "
	    "\"e\" needs it)");
	bad_url("ftp://h", "it does not begin with http:// or https://");
	bad_url("http://", "it has no host");
	bad_url("http://:80/", "it has no host");
	bad_url("http://h:99999", "its port is not from 1 to 65535");
	bad_url("http://h/a?b=1", "a service url has no query or fragment");
	bad_url("http://h/#x", "a service url has no query or fragment");
	bad_url("http://h /", "it contains a space or control character");
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"url\":5}}}}}",
	    "projects.p.remoteServices.s.url: must be a string such as "
	    "\"http://127.0.0.1:5000\"");
	/* a bad url is reported once, not again as missing */
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"url\":\"h\",\"endpoints\":{\"e\":{\"path\":\"/e\","
	    "\"rule\":{\"rule\":\"allow\"}}}}}}}}",
	    "projects.p.remoteServices.s.url: malformed URL \"h\" (it does "
	    "not begin with http:// or https://)");
	/* only external endpoints: no url needed */
	cf = expect_ok("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"endpoints\":{\"e\":{\"kind\":\"external\",\"path\":"
	    "\"https://api.example.com/v1/{args.id}?k=1\",\"rule\":{\"rule\":"
	    "\"allow\"}}}}}}}}");
	assert_string_equal(entry(cf, "S/p/s"),
	    "{\"project\":\"p\",\"service\":\"s\",\"url\":null}");
	assert_non_null(strstr(entry(cf, "E/p/s/e"), "\"url\":"
	    "\"https://api.example.com/v1/{args.id}?k=1\""));
	config_free(cf);
	cf = expect_ok("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"url\":\"HTTPS://user@[::1]:8443/base\"}}}}}");
	config_free(cf);
}

/*
 * A webhook's URL is checked as strictly as a service URL: no host and
 * a port out of range is an error at the webhook's JSON path.
 */
static void
test_webhook_url(void **state)
{
	char	text[1024];

	(void)state;
	snprintf(text, sizeof(text), ONE_EP("%s"), "{\"path\":\"/a\","
	    "\"rule\":{\"rule\":\"and\",\"clauses\":[{\"rule\":"
	    "\"webhook\",\"url\":\"http://:99999\"}]}}");
	expect_one(text, EP_PATH ".rule.clauses[0].url: must be an http:// "
	    "or https:// URL without spaces or control characters");
}

/* an endpoint with a path, a rule and the members m */
#define HDR_EP(m)	"{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"}," m "}"

static void
test_endpoint_errors(void **state)
{
	static const struct {
		const char	*ep;
		const char	*msg;
	} t[] = {
	{ "5", EP_PATH ": must be an object" },
	{ "{\"kind\":\"prepared\",\"path\":\"/a\",\"rule\":{\"rule\":"
	  "\"allow\"}}", EP_PATH ".kind: unknown kind \"prepared\" (expected "
	  "\"internal\" or \"external\")" },
	{ "{\"kind\":1,\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"}}",
	  EP_PATH ".kind: must be \"internal\" or \"external\"" },
	{ "{\"method\":\"FETCH\",\"path\":\"/a\",\"rule\":{\"rule\":"
	  "\"allow\"}}", EP_PATH ".method: unknown method \"FETCH\" (expected "
	  "GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS)" },
	{ "{\"method\":[],\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"}}",
	  EP_PATH ".method: must be a string such as \"POST\"" },
	{ "{\"rule\":{\"rule\":\"allow\"}}", EP_PATH ": missing \"path\"" },
	{ "{\"path\":7,\"rule\":{\"rule\":\"allow\"}}",
	  EP_PATH ".path: must be a string" },
	{ "{\"path\":\"/a b\",\"rule\":{\"rule\":\"allow\"}}",
	  EP_PATH ".path: must not contain spaces or control characters" },
	{ "{\"path\":\"http://x/a\",\"rule\":{\"rule\":\"allow\"}}",
	  EP_PATH ".path: is a full URL (add \"kind\": \"external\" to call "
	  "it)" },
	{ "{\"kind\":\"external\",\"path\":\"/a\",\"rule\":{\"rule\":"
	  "\"allow\"}}", EP_PATH ".path: malformed URL \"/a\" (it does not "
	  "begin with http:// or https://; an external endpoint's path is a "
	  "full http:// or https:// URL)" },
	{ "{\"kind\":\"external\",\"path\":\"http://{args.host}/\","
	  "\"rule\":{\"rule\":\"allow\"}}", EP_PATH ".path: malformed URL "
	  "\"http://{args.host}/\" (its host name has a bad character; an "
	  "external endpoint's path is a full http:// or https:// URL)" },
	{ "{\"path\":\"/a\"}", EP_PATH ": missing \"rule\" (use "
	  "{\"rule\": \"allow\"} to make the endpoint public)" },
	{ "{\"path\":\"/a\",\"rule\":null}", EP_PATH ": missing \"rule\" "
	  "(use {\"rule\": \"allow\"} to make the endpoint public)" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"xyz\"}}",
	  EP_PATH ".rule: unknown rule \"xyz\"" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"match\",\"type\":"
	  "\"string\",\"eval\":\"==\",\"f1\":\"a\"}}",
	  EP_PATH ".rule: missing \"f2\"" },
	{ "{\"path\":\"/a\",\"rule\":\"allow\"}", EP_PATH ".rule: must be an "
	  "object such as {\"rule\": \"allow\"}" },
	{ "{\"path\":\"/a\",\"rule\":{\"error\":\"x\"}}", EP_PATH ".rule: "
	  "missing the \"rule\" member, as in {\"rule\": \"allow\"}" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"timeout\":0}",
	  EP_PATH ".timeout: must be a number of seconds greater than 0 and "
	  "at most 86400" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"timeout\":-2}",
	  EP_PATH ".timeout: must be a number of seconds greater than 0 and "
	  "at most 86400" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"timeout\":\"9\"}",
	  EP_PATH ".timeout: must be a number of seconds greater than 0 and "
	  "at most 86400" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"timeout\":1e9}",
	  EP_PATH ".timeout: must be a number of seconds greater than 0 and "
	  "at most 86400" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"headers\":{}}",
	  EP_PATH ".headers: must be an array of {\"key\", \"value\", \"op\"} "
	  "objects" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"headers\":"
	  "[{\"key\":\"X\",\"value\":\"1\",\"op\":\"put\"}]}",
	  EP_PATH ".headers[0].op: unknown op \"put\" (expected \"set\", "
	  "\"add\" or \"del\")" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"headers\":"
	  "[{\"key\":\"X\",\"value\":\"1\"},{\"key\":\"X A\","
	  "\"value\":\"1\"}]}",
	  EP_PATH ".headers[1].key: must be a header name" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"headers\":"
	  "[{\"value\":\"1\"}]}", EP_PATH ".headers[0]: missing \"key\"" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"headers\":"
	  "[{\"key\":\"X\"}]}", EP_PATH ".headers[0]: missing \"value\"" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"headers\":"
	  "[{\"key\":\"X\",\"value\":\"a\\r\\nEvil: 1\"}]}",
	  EP_PATH ".headers[0].value: a literal header value must not "
	  "contain CR or LF" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"headers\":"
	  "[{\"key\":\"X\",\"value\":\"a\\nb\"}]}",
	  EP_PATH ".headers[0].value: a literal header value must not "
	  "contain CR or LF" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"headers\":"
	  "[{\"key\":\"X\",\"value\":\"a\\u0001\"}]}",
	  EP_PATH ".headers[0].value: a literal header value must not "
	  "contain control characters" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"headers\":[1]}",
	  EP_PATH ".headers[0]: must be an object with \"key\", \"value\" and "
	  "\"op\"" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"token\":5}",
	  EP_PATH ".token: must be a string without control characters" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"token\":\"a\\nb\"}",
	  EP_PATH ".token: must be a string without control characters" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"forwardHeaders\":"
	  "\"X\"}", EP_PATH ".forwardHeaders: must be an array of header "
	  "names" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"responseHeaders\":"
	  "[\"X-Ok\",\"bad:name\"]}", EP_PATH ".responseHeaders[1]: must be a "
	  "header name" },
	/* SPEC section 3: headers no setting may name */
	{ HDR_EP("\"headers\":[{\"key\":\"Content-Length\",\"value\":"
	  "\"args.len\"}]"), EP_PATH ".headers[0].key: \"Content-Length\" is "
	  "a hop-by-hop or framing header, which switchyard sets itself" },
	{ HDR_EP("\"headers\":[{\"key\":\"X\",\"value\":\"1\"},{\"key\":"
	  "\"transfer-ENCODING\",\"value\":\"chunked\",\"op\":\"add\"}]"),
	  EP_PATH ".headers[1].key: \"transfer-ENCODING\" is a hop-by-hop or "
	  "framing header, which switchyard sets itself" },
	{ HDR_EP("\"headers\":[{\"key\":\"connection\",\"op\":\"del\"}]"),
	  EP_PATH ".headers[0].key: \"connection\" is a hop-by-hop or framing "
	  "header, which switchyard sets itself" },
	{ HDR_EP("\"headers\":[{\"key\":\"Proxy-Authorization\",\"value\":"
	  "\"auth.p\"}]"), EP_PATH ".headers[0].key: \"Proxy-Authorization\" "
	  "is a hop-by-hop or framing header, which switchyard sets itself" },
	{ HDR_EP("\"headers\":[{\"key\":\"x-sc-token\",\"value\":\"Bearer "
	  "x\"}]"), EP_PATH ".headers[0].key: \"x-sc-token\" is the token "
	  "switchyard signs itself" },
	{ HDR_EP("\"headers\":[{\"key\":\"Host\",\"value\":\"a\",\"op\":"
	  "\"add\"}]"), EP_PATH ".headers[0].op: \"Host\" may only be \"set\" "
	  "(to a literal host name)" },
	{ HDR_EP("\"headers\":[{\"key\":\"HOST\",\"op\":\"del\"}]"),
	  EP_PATH ".headers[0].op: \"HOST\" may only be \"set\" (to a literal "
	  "host name)" },
	{ HDR_EP("\"headers\":[{\"key\":\"host\",\"value\":\"args.h\"}]"),
	  EP_PATH ".headers[0].value: \"host\" may only be set to a literal "
	  "host name, not to a variable" },
	{ HDR_EP("\"forwardHeaders\":[\"Cookie\",\"Content-length\"]"),
	  EP_PATH ".forwardHeaders[1]: \"Content-length\" is a hop-by-hop or "
	  "framing header, which switchyard sets itself" },
	{ HDR_EP("\"forwardHeaders\":[\"Host\"]"), EP_PATH
	  ".forwardHeaders[0]: \"Host\" cannot be passed on (set it in "
	  "\"headers\" to a literal host name)" },
	{ HDR_EP("\"forwardHeaders\":[\"X-SC-Token\"]"),
	  EP_PATH ".forwardHeaders[0]: \"X-SC-Token\" is the token switchyard "
	  "signs itself" },
	{ HDR_EP("\"forwardHeaders\":[\"Upgrade\"]"), EP_PATH
	  ".forwardHeaders[0]: \"Upgrade\" is a hop-by-hop or framing header, "
	  "which switchyard sets itself" },
	{ HDR_EP("\"responseHeaders\":[\"ETag\",\"Transfer-Encoding\"]"),
	  EP_PATH ".responseHeaders[1]: \"Transfer-Encoding\" is a hop-by-hop "
	  "or framing header, which switchyard sets itself" },
	{ HDR_EP("\"responseHeaders\":[\"content-length\"]"), EP_PATH
	  ".responseHeaders[0]: \"content-length\" is a hop-by-hop or framing "
	  "header, which switchyard sets itself" },
	{ HDR_EP("\"responseHeaders\":[\"Keep-Alive\"]"), EP_PATH
	  ".responseHeaders[0]: \"Keep-Alive\" is a hop-by-hop or framing "
	  "header, which switchyard sets itself" },
	{ HDR_EP("\"responseHeaders\":[\"TE\"]"), EP_PATH
	  ".responseHeaders[0]: \"TE\" is a hop-by-hop or framing header, "
	  "which switchyard sets itself" },
	{ HDR_EP("\"responseHeaders\":[\"trailer\"]"), EP_PATH
	  ".responseHeaders[0]: \"trailer\" is a hop-by-hop or framing header, "
	  "which switchyard sets itself" },
	{ HDR_EP("\"responseHeaders\":[\"Host\"]"), EP_PATH
	  ".responseHeaders[0]: \"Host\" cannot be passed on (set it in "
	  "\"headers\" to a literal host name)" },
	{ HDR_EP("\"responseHeaders\":[\"X-A\\r\\nX-B\"]"), EP_PATH
	  ".responseHeaders[0]: must be a header name" },
	{ HDR_EP("\"forwardHeaders\":[\"\"]"), EP_PATH
	  ".forwardHeaders[0]: must be a header name" },
	{ HDR_EP("\"headers\":[{\"key\":\"X(A)\",\"value\":\"1\"}]"), EP_PATH
	  ".headers[0].key: must be a header name" },
	{ HDR_EP("\"headers\":[{\"key\":\"Host\",\"value\":\"a\\r\\nb\"}]"),
	  EP_PATH ".headers[0].value: a literal header value must not contain "
	  "CR or LF" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"scToken\":true}",
	  EP_PATH ".scToken: must be an object such as {\"bindRequest\": "
	  "true}" },
	{ "{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"scToken\":"
	  "{\"bindRequest\":1}}", EP_PATH ".scToken.bindRequest: must be true "
	  "or false" },
	};
	char	text[1024];
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), ONE_EP("%s"), t[i].ep);
		expect_one(text, t[i].msg);
	}
}

static void
test_project_errors(void **state)
{
	expect_one("{\"projects\":{\"p\":5}}", "projects.p: must be an object");
	expect_one("{\"projects\":{\"p\":{\"secrets\":{}}}}",
	    "projects.p.secrets: must be an array of objects");
	expect_one("{\"projects\":{\"p\":{\"secrets\":[{\"alg\":"
	    "\"HS256\",\"secret\":\"k\"},1]}}}",
	    "projects.p.secrets[1]: must be an object");
	expect_one("{\"projects\":{\"p\":{\"secrets\":[{}]}}}",
	    "projects.p.secrets[0]: missing \"alg\" (one of HS256, RS256, "
	    "RS256_PUBLIC, JWK_URL)");
	expect_one("{\"projects\":{\"p\":{\"secrets\":[{\"alg\":"
	    "\"none\"}]}}}", "projects.p.secrets[0]: unknown alg \"none\" "
	    "(use HS256, RS256, RS256_PUBLIC or JWK_URL)");
	expect_one("{\"projects\":{\"p\":{\"secrets\":[{\"alg\":"
	    "\"HS256\",\"isPrimary\":true}]}}}", "projects.p.secrets[0]: "
	    "missing \"secret\" (HS256 needs a non-empty string)");
	expect_one("{\"projects\":{\"p\":{\"secrets\":[{\"alg\":"
	    "\"HS256\",\"secret\":\"k\"},{\"alg\":\"RS256_PUBLIC\","
	    "\"publicKey\":\"-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYI"
	    "KoZIzj0DAQcDQgAE+lk0z5gQecD7tbfMgf70sd7lDzZr\\nTkkFfGMhd6Z5iz2ovwb"
	    "+hTs55oTWyKF99CFZXQdJRpPgADUOfKWySUGRpQ==\\n-----END PUBLIC "
	    "KEY-----\\n\"}]}}}", "projects.p.secrets[1].publicKey: cannot "
	    "load the PEM key: not an RSA key (RS256 needs one)");
	expect_one("{\"projects\":{\"p\":{\"secrets\":[{\"alg\":"
	    "\"RS256\",\"privateKey\":\"key\"}]}}}",
	    "projects.p.secrets[0].privateKey: cannot load the PEM key: no "
	    "\"-----BEGIN\" line");
	expect_one("{\"projects\":{\"p\":{\"secrets\":[{\"alg\":"
	    "\"HS256\",\"secret\":\"a\",\"isPrimary\":true},{\"alg\":"
	    "\"HS256\",\"secret\":\"b\",\"isPrimary\":true}]}}}",
	    "projects.p.secrets[1].isPrimary: only one secret may be primary "
	    "(projects.p.secrets[0] is)");
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":[]}}}",
	    "projects.p.remoteServices: must be an object of service id to "
	    "service");
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":[]}}}}",
	    "projects.p.remoteServices.s: must be an object");
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"endpoints\":[]}}}}}",
	    "projects.p.remoteServices.s.endpoints: must be an object of "
	    "endpoint name to endpoint");
}

static void
test_invalid_json(void **state)
{
	expect_one("{\n  \"server\": {,}\n}",
	    "line 2, column 14: invalid JSON: quoted object property name "
	    "expected");
	expect_one("{\"a\":1} x", "line 1, column 9: invalid JSON: unexpected "
	    "character");
	expect_one("{\"a\":1,}", "line 1, column 8: invalid JSON: unexpected "
	    "character");
	expect_one("{\n\"a\":", "line 2, column 5: invalid JSON: unexpected "
	    "end of data");
	expect_one(" \n ", "line 2, column 2: invalid JSON: empty document "
	    "(expected an object)");
	expect_one("", "line 1, column 1: invalid JSON: empty document "
	    "(expected an object)");
	expect_one("[1]", "(top level): must be a JSON object");
	expect_one("{\"a\" 1}", "line 1, column 6: invalid JSON: object "
	    "property name separator ':' expected");
}

static void
test_invalid_json_nul(void **state)
{
	static const char	text[] = "{}\0{}";
	struct syerrs		errs;
	struct sy_config	*cf;

	syerrs_init(&errs);
	cf = config_parse(text, sizeof(text) - 1, &errs);
	assert_null(cf);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0],
	    "line 1, column 3: invalid JSON: unexpected character");
	syerrs_free(&errs);
}

static char *
write_temp(const char *text)
{
	char	*path = strdup("/tmp/test_config.XXXXXX");
	int	 fd;

	assert_non_null(path);
	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return (path);
}

static void
test_load(void **state)
{
	struct syerrs		 errs;
	struct sy_config	*cf;
	char			*path, msg[256];

	path = write_temp("{\"server\":{\"workers\":3}}");
	syerrs_init(&errs);
	cf = config_load(path, &errs);
	assert_non_null(cf);
	assert_int_equal(cf->srv.workers, 3);
	config_free(cf);
	unlink(path);
	free(path);

	path = write_temp("{\n\n  \"server\": x\n}\n");
	cf = config_load(path, &errs);
	assert_null(cf);
	assert_int_equal(errs.n, 1);
	snprintf(msg, sizeof(msg), "%s:3:13: invalid JSON: unexpected "
	    "character", path);
	assert_string_equal(errs.msg[0], msg);
	syerrs_free(&errs);
	unlink(path);
	free(path);
}

static void
test_load_unreadable(void **state)
{
	struct syerrs	errs;

	syerrs_init(&errs);
	assert_null(config_load("/nonexistent/switchyard.json", &errs));
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0],
	    "/nonexistent/switchyard.json: No such file or directory");
	syerrs_free(&errs);
	assert_null(config_load("/tmp", &errs));
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], "/tmp: Is a directory");
	syerrs_free(&errs);
}

static void
test_many_errors(void **state)
{
	static const char *const want[] = {
		"server.workers: must be an integer from 0 to 256",
		"server: unknown member \"bogus\"",
		"server.log.level: must be \"error\", \"warn\", \"info\" or "
		"\"debug\"",
		"projects.p.remoteServices.s.endpoints.a: missing \"rule\" "
		"(use {\"rule\": \"allow\"} to make the endpoint public)",
		"projects.p.remoteServices.s.endpoints.a.method: unknown "
		"method \"FETCH\" (expected GET, POST, PUT, PATCH, DELETE, "
		"HEAD or OPTIONS)",
		"projects.p.remoteServices.s.endpoints.b.rule: unknown rule "
		"\"nope\"",
		"projects.p.remoteServices.s.endpoints.b: missing \"path\"",
		"projects.p.remoteServices.t.url: malformed URL \"x\" (it "
		"does not begin with http:// or https://)",
		"projects.q!: bad project id \"q!\" (use 1 to 128 of A-Z, a-z, "
		"0-9, \"_\" and \"-\")",
	};
	struct syerrs		 errs;
	struct sy_config	*cf;
	size_t			 i;

	cf = parse("{\"server\":{\"workers\":-5,\"bogus\":1,\"log\":"
	    "{\"level\":\"x\"}},\"projects\":{\"p\":{\"remoteServices\":{"
	    "\"s\":{\"url\":\"http://h\",\"endpoints\":{"
	    "\"a\":{\"method\":\"FETCH\",\"path\":\"/a\"},"
	    "\"b\":{\"rule\":{\"rule\":\"nope\"}}}},"
	    "\"t\":{\"url\":\"x\"}}},\"q!\":{}}}", &errs);
	assert_null(cf);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!has_msg(&errs, want[i])) {
			print_message("# missing: %s\n", want[i]);
			dump(&errs);
		}
		assert_true(has_msg(&errs, want[i]));
	}
	assert_int_equal(errs.n, sizeof(want) / sizeof(want[0]));
	syerrs_free(&errs);
}

static void
test_projects_only(void **state)
{
	struct sy_config	*cf;

	cf = expect_ok("{\"projects\":{}}");
	assert_int_equal(cf->nents, 0);
	assert_string_equal(cf->srv.listen[0], "127.0.0.1:4122");
	config_free(cf);

	cf = expect_ok("{\"projects\":{\"p\":{}}}");
	assert_int_equal(cf->nents, 1);
	assert_int_equal(cf->nprojects, 1);
	assert_string_equal(cf->ents[0].key, "P/p");
	assert_string_equal(cf->ents[0].val,
	    "{\"project\":\"p\",\"secrets\":[],"
	    "\"graphql\":{\"timeout\":10.0,\"maxDepth\":10,\"maxFields\":500,\"maxFanOut\":100,\"maxCalls\":500,\"maxConcurrency\":16}}");
	config_free(cf);
}

static void
test_registry_entries(void **state)
{
	static const char *const keys[] = {
		"E/p/s/a", "E/p/s/b", "E/p/t/x", "E/q/s/z", "P/p", "P/q",
		"S/p/s", "S/p/t", "S/q/s",
	};
	struct sy_config	*cf;
	size_t			 i;

	cf = expect_ok("{\"id\":\"ignored\",\"projects\":{"
	    "\"q\":{\"remoteServices\":{\"s\":{\"url\":\"http://q\","
	    "\"endpoints\":{\"z\":{\"path\":\"z\",\"rule\":{\"rule\":"
	    "\"allow\"}}}}}},"
	    "\"p\":{\"id\":\"p\",\"secrets\":[{\"alg\":\"HS256\",\"secret\":"
	    "\"k/1\",\"isPrimary\":true}],\"remoteServices\":{"
	    "\"t\":{\"url\":\"http://t:81/\",\"endpoints\":{\"x\":{\"path\":"
	    "\"/x\",\"rule\":{\"rule\":\"allow\"}}}},"
	    "\"s\":{\"id\":\"s\",\"url\":\"http://127.0.0.1:5000/base//\","
	    "\"endpoints\":{"
	    "\"b\":{\"path\":\"/b\",\"rule\":{\"rule\":\"deny\",\"error\":"
	    "\"no\"}},"
	    "\"a\":{\"kind\":\"internal\",\"method\":\"get\",\"path\":"
	    "\"add/{args.id}\",\"timeout\":2.5,\"rule\":{\"rule\":\"allow\"},"
	    "\"headers\":[{\"key\":\"X-A\",\"value\":\"1\"},{\"key\":\"X-U\","
	    "\"value\":\"auth.sub\",\"op\":\"add\"},{\"key\":\"X-D\",\"op\":"
	    "\"DEL\",\"value\":\"ignored\"}],\"token\":\"tok\","
	    "\"forwardHeaders\":[\"X-F\"],\"responseHeaders\":[\"X-R\"],"
	    "\"scToken\":{\"bindRequest\":true},\"tmpl\":\"go\","
	    "\"requestTemplate\":\"x\",\"outputFormat\":\"yaml\","
	    "\"claims\":\"c\",\"cacheOptions\":[\"a\"]}}}}}}}");
	assert_int_equal(cf->nents, sizeof(keys) / sizeof(keys[0]));
	for (i = 0; i < cf->nents; i++) {
		assert_string_equal(cf->ents[i].key, keys[i]);
		assert_int_equal(cf->ents[i].vallen, strlen(cf->ents[i].val));
	}
	assert_int_equal(cf->nprojects, 2);
	assert_int_equal(cf->nservices, 3);
	assert_int_equal(cf->nendpoints, 4);
	assert_string_equal(entry(cf, "P/p"), "{\"project\":\"p\",\"secrets\":"
	    "[{\"alg\":\"HS256\",\"secret\":\"k/1\",\"isPrimary\":true}],"
	    "\"graphql\":{\"timeout\":10.0,\"maxDepth\":10,\"maxFields\":500,\"maxFanOut\":100,\"maxCalls\":500,\"maxConcurrency\":16}}");
	assert_string_equal(entry(cf, "S/p/t"), "{\"project\":\"p\","
	    "\"service\":\"t\",\"url\":\"http://t:81/\"}");
	assert_string_equal(entry(cf, "E/p/s/a"), "{\"project\":\"p\","
	    "\"service\":\"s\",\"endpoint\":\"a\",\"kind\":\"internal\","
	    "\"method\":\"GET\",\"url\":\"http://127.0.0.1:5000/base/add/"
	    "{args.id}\",\"timeout\":2.5,\"rule\":{\"rule\":\"allow\"},"
	    "\"headers\":[{\"key\":\"X-A\",\"value\":\"1\",\"op\":\"set\"},"
	    "{\"key\":\"X-U\",\"value\":\"auth.sub\",\"op\":\"add\"},"
	    "{\"key\":\"X-D\",\"value\":null,\"op\":\"del\"}],"
	    "\"token\":\"tok\","
	    "\"forwardHeaders\":[\"X-F\"],\"responseHeaders\":[\"X-R\"],"
	    "\"scToken\":{\"bindRequest\":true}}");
	assert_string_equal(entry(cf, "E/p/s/b"), "{\"project\":\"p\","
	    "\"service\":\"s\",\"endpoint\":\"b\",\"kind\":\"internal\","
	    "\"method\":\"POST\",\"url\":\"http://127.0.0.1:5000/base/b\","
	    "\"timeout\":60,\"rule\":{\"rule\":\"deny\",\"error\":\"no\"},"
	    "\"headers\":[],\"token\":null,\"forwardHeaders\":[],"
	    "\"responseHeaders\":[],\"scToken\":{\"bindRequest\":false}}");
	assert_non_null(strstr(entry(cf, "E/p/t/x"),
	    "\"url\":\"http://t:81/x\""));
	assert_non_null(strstr(entry(cf, "E/q/s/z"), "\"url\":\"http://q/z\""));
	config_free(cf);
}

/*
 * upstreamClient: the server's default (native; null too), and a
 * service's, which goes into its endpoint records only when set.
 */
static void
test_upstream_client(void **state)
{
	struct sy_config	*cf;

	(void)state;
	cf = expect_ok("{\"server\":{\"upstreamClient\":\"curl\"}}");
	assert_int_equal(cf->srv.upstream_curl, 1);
	config_free(cf);
	cf = expect_ok("{\"server\":{\"upstreamClient\":null}}");
	assert_int_equal(cf->srv.upstream_curl, 0);
	config_free(cf);
	cf = expect_ok("{\"server\":{\"upstreamClient\":\"native\"},"
	    "\"projects\":{\"p\":{\"remoteServices\":{"
	    "\"c\":{\"url\":\"http://h\",\"upstreamClient\":\"curl\","
	    "\"endpoints\":{\"e\":" HDR_EP("\"method\":\"GET\"") "}},"
	    "\"n\":{\"url\":\"http://h\",\"upstreamClient\":\"native\","
	    "\"endpoints\":{\"e\":" HDR_EP("\"method\":\"GET\"") "}},"
	    "\"d\":{\"url\":\"http://h\",\"upstreamClient\":null,"
	    "\"endpoints\":{\"e\":" HDR_EP("\"method\":\"GET\"") "}}}}}}");
	assert_int_equal(cf->srv.upstream_curl, 0);
	assert_non_null(strstr(entry(cf, "E/p/c/e"),
	    ",\"scToken\":{\"bindRequest\":false},"
	    "\"upstreamClient\":\"curl\"}"));
	assert_non_null(strstr(entry(cf, "E/p/n/e"),
	    ",\"upstreamClient\":\"native\"}"));
	assert_null(strstr(entry(cf, "E/p/d/e"), "upstreamClient"));
	config_free(cf);
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"url\":\"http://h\",\"upstreamClient\":\"Curl\"}}}}}",
	    "projects.p.remoteServices.s.upstreamClient: must be \"native\" "
	    "or \"curl\" (or null: the server's upstreamClient)");
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"url\":\"http://h\",\"upstreamClient\":[]}}}}}",
	    "projects.p.remoteServices.s.upstreamClient: must be \"native\" "
	    "or \"curl\" (or null: the server's upstreamClient)");
}

/*
 * caFile (tests/integration/tls.t has the files that load): what is
 * refused with its JSON path, and null, which is no caFile.
 */
static void
test_ca_file(void **state)
{
	struct sy_config	*cf;

	(void)state;
	cf = expect_ok("{\"projects\":{\"p\":{\"remoteServices\":{"
	    "\"s\":{\"url\":\"https://h\",\"caFile\":null,"
	    "\"endpoints\":{\"e\":" HDR_EP("\"method\":\"GET\"") "}}}}}}");
	assert_null(strstr(entry(cf, "E/p/s/e"), "caFile"));
	config_free(cf);
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"url\":\"http://h\",\"caFile\":\"/etc/ca.pem\"}}}}}",
	    "projects.p.remoteServices.s.caFile: applies to https:// URLs "
	    "only, and the service url is \"http://h\"");
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"caFile\":\"/etc/ca.pem\"}}}}}",
	    "projects.p.remoteServices.s.caFile: applies to https:// URLs "
	    "only, and the service has no url");
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"url\":\"https://h\",\"caFile\":1}}}}}",
	    "projects.p.remoteServices.s.caFile: must be the path of a PEM "
	    "file of CA certificates (a string)");
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"url\":\"https://h\",\"caFile\":\"/nonexistent/ca.pem\"}}}}}",
	    "projects.p.remoteServices.s.caFile: \"/nonexistent/ca.pem\": "
	    "No such file or directory");
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"url\":\"https://h\",\"caFile\":\"/dev/null\"}}}}}",
	    "projects.p.remoteServices.s.caFile: \"/dev/null\": not a "
	    "regular file");
}

static void
test_space_cloud_empties(void **state)
{
	struct sy_config	*cf;
	const char		*rec;

	/* Space Cloud writes "" for unset kind, method and token */
	cf = expect_ok(ONE_EP("{\"kind\":\"\",\"method\":\"\",\"token\":\"\","
	    "\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},\"headers\":null,"
	    "\"template\":\"\",\"graphTemplate\":\"\","
	    "\"responseTemplate\":\"\"}"));
	rec = entry(cf, "E/p/s/e");
	assert_non_null(rec);
	assert_non_null(strstr(rec,
	    "\"kind\":\"internal\",\"method\":\"POST\""));
	assert_non_null(strstr(rec, "\"token\":null"));
	config_free(cf);
}

static void
test_process_changed(void **state)
{
	static const char *const changes[] = {
		"{\"server\":{\"listen\":[\"127.0.0.1:4999\"]}}",
		"{\"server\":{\"workers\":3}}",
		"{\"server\":{\"user\":\"nobody\"}}",
		"{\"server\":{\"group\":\"nogroup\"}}",
		"{\"server\":{\"limits\":{\"maxBodyBytes\":5}}}",
		"{\"server\":{\"limits\":{\"clientTimeout\":5}}}",
		"{\"server\":{\"cors\":{\"allowOrigins\":[\"https://x\"]}}}",
		"{\"server\":{\"admin\":null}}",
		"{\"server\":{\"log\":{\"level\":\"debug\"}}}",
		"{\"server\":{\"upstreamClient\":\"curl\"}}",
	};
	struct sy_config	*a, *b;
	size_t			 i;

	a = expect_ok("{}");
	b = expect_ok("{\"projects\":{\"p\":{}},\"server\":{\"pidFile\":"
	    "\"/tmp/other.pid\"}}");
	assert_int_equal(config_process_changed(a, b), 0);
	assert_int_equal(config_process_changed(a, a), 0);
	config_free(b);
	for (i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		b = expect_ok(changes[i]);
		assert_int_equal(config_process_changed(a, b), 1);
		assert_int_equal(config_process_changed(b, a), 1);
		config_free(b);
	}
	config_free(a);
}

/*
 * Found by fuzz_config: a document of white space only was checked with
 * strspn, reading past a buffer without a NUL.  Exactly len bytes here,
 * so ASan (CI) catches a read beyond them.
 */
static void
test_unterminated_space(void **state)
{
	struct syerrs	 errs;
	char		*buf;

	buf = malloc(1);
	assert_non_null(buf);
	buf[0] = ' ';
	syerrs_init(&errs);
	assert_null(config_parse(buf, 1, &errs));
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msg[0], "empty document"));
	syerrs_free(&errs);
	free(buf);
}

/*
 * Each service's endpoints are parsed on their own (cf_split), which
 * must not change what a file means: names written with escapes, a
 * member given twice, syntax errors inside the endpoints and the
 * nesting limit all come out as from one parse of the whole file.
 */
static void
test_split_parse(void **state)
{
	static const char	 open[] = "[[[[[[[[[[[[[[[[[[[[[[[[[[";
	static const char	 close[] = "]]]]]]]]]]]]]]]]]]]]]]]]]]";
	struct sy_config	*cf;
	char			 text[512];

	cf = expect_ok("{\"proj\\u0065cts\":{\"p\":{\"remoteServices\":{\"s\":"
	    "{\"url\":\"http://h\",\"endp\\u006fints\":{\"\\u0065\":{\"path\":"
	    "\"/a\",\"rule\":{\"rule\":\"allow\"}}}}}}}}");
	assert_non_null(entry(cf, "E/p/s/e"));
	config_free(cf);

	/* the last "endpoints" counts, but the first must be JSON too */
	cf = expect_ok("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"url\":\"http://h\",\"endpoints\":{\"a\":{}},\"endpoints\":{"
	    "\"b\":{\"path\":\"/b\",\"rule\":{\"rule\":\"allow\"}}}}}}}}");
	assert_null(entry(cf, "E/p/s/a"));
	assert_non_null(entry(cf, "E/p/s/b"));
	config_free(cf);
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"url\":\"http://h\",\"endpoints\":{\"a\":[}},"
	    "\"endpoints\":{}}}}}}",
	    "line 1, column 77: invalid JSON: unexpected character");

	expect_one(ONE_EP("{\"path\":\"/a\",\"rule\":{\"rule\":\"allow\"},}"),
	    "line 1, column 126: invalid JSON: unexpected character");
	expect_one("{\"projects\":{\"p\":{\"remoteServices\":{\"s\":{"
	    "\"url\":\"http://h\",\"endpoints\":5}}}}}",
	    "projects.p.remoteServices.s.endpoints: must be an object of "
	    "endpoint name to endpoint");

	/* json-c nests 32 deep: the 7 around "x" leave 25 for its value */
	snprintf(text, sizeof(text), ONE_EP("{\"path\":\"/a\",\"rule\":{"
	    "\"rule\":\"allow\"},\"x\":%.25s%.25s}"), open, close);
	config_free(expect_ok(text));
	snprintf(text, sizeof(text), ONE_EP("{\"path\":\"/a\",\"rule\":{"
	    "\"rule\":\"allow\"},\"x\":%s%s}"), open, close);
	expect_one(text, "line 1, column 155: invalid JSON: nesting too deep");
}

static void
test_sample_config(void **state)
{
	struct syerrs		 errs;
	struct sy_config	*cf;
	const char		*src = getenv("SY_SRCDIR");
	char			 path[1024];

	snprintf(path, sizeof(path), "%s/etc/switchyard.json",
	    src ? src : ".");
	syerrs_init(&errs);
	cf = config_load(path, &errs);
	if (cf == NULL)
		dump(&errs);
	assert_non_null(cf);
	assert_int_equal(cf->srv.workers, 2);
	assert_null(cf->srv.admin_listen);
	assert_int_equal(cf->nendpoints, 6);
	assert_non_null(strstr(entry(cf, "E/demo/arith/private"),
	    "\"rule\":{\"rule\":\"deny\",\"error\":\"this endpoint is "
	    "private\"}"));
	/* the demo's database goes into the project record (SPEC 8.10) */
	assert_non_null(strstr(entry(cf, "P/demo"),
	    "\"databases\":{\"pokedex\":{\"conn\":"));
	assert_non_null(strstr(entry(cf, "P/demo"), "\"dbBasedir\":\""));
	config_free(cf);
	syerrs_free(&errs);
}

#define ADM_KEY	"a-long-admin-key"
#define ADM_SEC	"at-least-32-bytes-of-hmac-secret"
#define ADMIN(members)	"{\"server\":{\"admin\":{" members "}}}"

/* SPEC 9.1: the config API's credentials, limits and switches. */
static void
test_admin_api(void **state)
{
	struct sy_config	*cf;
	struct syerrs		 errs;
	char			 dir[] = "/tmp/sytest-adminXXXXXX", path[256],
				 text[1024];
	FILE			*f;

	(void)state;
	cf = expect_ok("{}");
	assert_false(cf->srv.admin_api);
	assert_true(cf->srv.admin_console);
	assert_false(cf->srv.admin_serve_public);
	assert_true(cf->srv.admin_token_lifetime == 3600);
	assert_int_equal(cf->srv.admin_max_failures, 5);
	assert_true(cf->srv.admin_lockout == 60);
	config_free(cf);
	cf = expect_ok(ADMIN("\"listen\":\"127.0.0.1:4999\",\"user\":\"admin\","
	    "\"key\":\"" ADM_KEY "\",\"secret\":\"" ADM_SEC "\","
	    "\"tokenLifetime\":60,\"maxLoginFailures\":1000,"
	    "\"loginLockout\":0.5e1,\"console\":false,\"servePublic\":true"));
	assert_true(cf->srv.admin_api);
	assert_string_equal(cf->srv.admin_key, ADM_KEY);
	assert_false(cf->srv.admin_console);
	assert_true(cf->srv.admin_serve_public);
	assert_int_equal(cf->srv.admin_max_failures, 1000);
	assert_true(cf->srv.admin_lockout == 5);
	config_free(cf);
	/* some but not all */
	expect_one(ADMIN("\"user\":\"admin\""),
	    "server.admin: \"user\" is set but no \"key\"");
	expect_one(ADMIN("\"user\":\"admin\",\"key\":\"" ADM_KEY "\""),
	    "server.admin: \"user\" is set but no \"secret\"");
	expect_one(ADMIN("\"secret\":\"" ADM_SEC "\""),
	    "server.admin: \"secret\" is set but no \"user\"");
	/* lengths, ranges, types; the value is never in the message */
	expect_one(ADMIN("\"user\":\"a\",\"key\":\"short\",\"secret\":\""
	    ADM_SEC "\""), "server.admin.key: must be at least 12 characters");
	expect_one(ADMIN("\"user\":\"a\",\"key\":\"" ADM_KEY "\","
	    "\"secret\":\"too-short\""),
	    "server.admin.secret: must be at least 32 bytes");
	expect_one(ADMIN("\"tokenLifetime\":59"), "server.admin.tokenLifetime: "
	    "must be a number of seconds from 60 to 604800");
	expect_one(ADMIN("\"maxLoginFailures\":2.5"),
	    "server.admin.maxLoginFailures: must be a whole number from 1 to "
	    "1000");
	expect_one(ADMIN("\"loginLockout\":86401"), "server.admin.loginLockout: "
	    "must be a number of seconds from 1 to 86400");
	expect_one(ADMIN("\"console\":\"yes\""),
	    "server.admin.console: must be true or false");
	expect_one(ADMIN("\"nope\":1"), "server.admin: unknown member \"nope\"");
	/* never a project's secret */
	expect_one("{\"server\":{\"admin\":{\"user\":\"a\",\"key\":\"" ADM_KEY
	    "\",\"secret\":\"" ADM_SEC "\"}},\"projects\":{\"p\":{\"secrets\":"
	    "[{\"alg\":\"HS256\",\"secret\":\"" ADM_SEC "\",\"isPrimary\":true}]"
	    "}}}", "server.admin.secret: must not be a project's secret "
	    "(projects.p.secrets[0])");
	/* from files (one trailing newline stripped), one source each */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(ADM_KEY "\n", f);
	fclose(f);
	snprintf(text, sizeof(text), ADMIN("\"user\":\"a\",\"keyFile\":\"%s\","
	    "\"secret\":\"" ADM_SEC "\""), path);
	cf = expect_ok(text);
	assert_string_equal(cf->srv.admin_key, ADM_KEY);
	config_free(cf);
	snprintf(text, sizeof(text), ADMIN("\"user\":\"a\",\"keyFile\":\"%s\","
	    "\"key\":\"" ADM_KEY "\",\"secret\":\"" ADM_SEC "\""), path);
	expect_one(text, "server.admin: \"key\" and \"keyFile\" are both set: "
	    "give one of them");
	snprintf(text, sizeof(text), ADMIN("\"user\":\"a\",\"keyFile\":\"%s/"
	    "none\",\"secret\":\"" ADM_SEC "\""), dir);
	cf = parse(text, &errs);
	assert_null(cf);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msg[0], "server.admin.keyFile: cannot "
	    "read "));
	syerrs_free(&errs);
	unlink(path);
	rmdir(dir);
	/* the environment wins over the file */
	setenv("SWITCHYARD_ADMIN_USER", "envuser", 1);
	setenv("SWITCHYARD_ADMIN_KEY", "an-environment-key", 1);
	setenv("SWITCHYARD_ADMIN_SECRET", ADM_SEC "-env", 1);
	cf = expect_ok(ADMIN("\"user\":\"a\""));
	assert_true(cf->srv.admin_api);
	assert_string_equal(cf->srv.admin_user, "envuser");
	assert_string_equal(cf->srv.admin_key, "an-environment-key");
	config_free(cf);
	unsetenv("SWITCHYARD_ADMIN_USER");
	unsetenv("SWITCHYARD_ADMIN_KEY");
	unsetenv("SWITCHYARD_ADMIN_SECRET");
	/* admin: null turns it all off */
	cf = expect_ok("{\"server\":{\"admin\":null}}");
	assert_false(cf->srv.admin_api);
	assert_null(cf->srv.admin_listen);
	config_free(cf);
}

/*
 * The config API's "R/" records come from the config parse (split into
 * one piece per service's endpoints): each must be byte for byte what a
 * whole-document parse and json-c's writer give, as the store wrote them
 * before, for numbers kept as written, escapes, UTF-8, member order, and
 * "endpoints" anywhere in the service.
 */
static void
test_raw_records(void **state)
{
	static const char text[] =
	    "{\"server\":{\"listen\":[\"127.0.0.1:4122\"]},\"projects\":{"
	    "\"p\":{\"secrets\":[{\"alg\":\"HS256\",\"secret\":\"k\","
	    "\"isPrimary\":true}],\"remoteServices\":{"
	    "\"zeta\":{\"url\":\"http://127.0.0.1:5000\",\"endpoints\":{"
	    "\"e\":{\"path\":\"/a\\/b\",\"method\":\"POST\",\"rule\":{"
	    "\"rule\":\"allow\"}}},\"nums\":[1.50,1e3,-0.0,2.0E-3],"
	    "\"id\":\"zeta\",\"note\":"
	    "\"caf\\u00e9 \xc3\xa9 \\ud83d\\ude00 \\\"q\\\" \\t\"},"
	    "\"alpha\":{\"endpoints\":{\"x\":{\"path\":\"/x\",\"rule\":{"
	    "\"rule\":\"allow\"}},\"y\":{\"path\":\"/y\",\"headers\":[],"
	    "\"rule\":{\"rule\":\"deny\"}}},\"url\":\"http://127.0.0.1:5001\","
	    "\"big\":12345678901234567890,\"n\":null,\"t\":[true,false,[]]}}},"
	    "\"q\":{\"secrets\":[{\"alg\":\"HS256\",\"secret\":\"k2\","
	    "\"isPrimary\":true}]}}}";
	struct syerrs		 errs;
	struct sy_config	*cf;
	struct json_object	*doc, *rs;
	const char		*want;
	char			 key[64], file[64];
	size_t			 i, n = 0;
	int			 fd;

	(void)state;
	snprintf(file, sizeof(file), "/tmp/test_config.XXXXXX");
	if ((fd = mkstemp(file)) == -1)
		fail_msg("mkstemp");
	close(fd);
	syerrs_init(&errs);
	cf = config_parse_file(text, sizeof(text) - 1, file, &errs);
	unlink(file);
	if (cf == NULL)
		fail_msg("%s", errs.n ? errs.msg[0] : "?");
	doc = json_tokener_parse(text);
	assert_non_null(doc);
	for (i = 0; i < cf->nraw; i++) {
		if (strcmp(cf->raw[i].key, "R/p") == 0 ||
		    strcmp(cf->raw[i].key, "R/q") == 0) {
			assert_string_equal(cf->raw[i].val, "{}");
			n++;
			continue;
		}
		assert_true(json_object_object_get_ex(json_object_object_get(
		    json_object_object_get(doc, "projects"), "p"),
		    "remoteServices", &rs));
		assert_int_equal(strncmp(cf->raw[i].key, "R/p/", 4), 0);
		want = json_object_to_json_string_ext(json_object_object_get(rs,
		    cf->raw[i].key + 4), JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE);
		assert_string_equal(cf->raw[i].val, want);
		assert_int_equal(cf->raw[i].vallen, strlen(want));
		n++;
	}
	assert_int_equal(n, 4);	/* R/p, R/p/zeta, R/p/alpha, R/q */
	snprintf(key, sizeof(key), "%s", cf->raw[1].key);
	assert_string_equal(key, "R/p/zeta");	/* in the file's order */
	json_object_put(doc);
	config_free(cf);
	/* config_load and config_parse (-t, -s) make none */
	cf = parse(text, &errs);
	assert_non_null(cf);
	assert_int_equal(cf->nraw, 0);
	config_free(cf);
	syerrs_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admin_api),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_upstream_client),
		cmocka_unit_test(test_ca_file),
		cmocka_unit_test(test_server_full),
		cmocka_unit_test(test_server_nulls),
		cmocka_unit_test(test_server_bad_types),
		cmocka_unit_test(test_listen_forms),
		cmocka_unit_test(test_listen_overlap),
		cmocka_unit_test(test_pidfile),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_bad_ids),
		cmocka_unit_test(test_service_url),
		cmocka_unit_test(test_endpoint_errors),
		cmocka_unit_test(test_webhook_url),
		cmocka_unit_test(test_project_errors),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_invalid_json_nul),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_unreadable),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_projects_only),
		cmocka_unit_test(test_registry_entries),
		cmocka_unit_test(test_space_cloud_empties),
		cmocka_unit_test(test_process_changed),
		cmocka_unit_test(test_unterminated_space),
		cmocka_unit_test(test_split_parse),
		cmocka_unit_test(test_sample_config),
		cmocka_unit_test(test_raw_records),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
