/*
 * test_proc.c: the pidfile is only ever written over when it is one
 * (SPEC section 3): never a file with other contents, never through a
 * symbolic link.
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

#include "proc.h"

static char	 dir[] = "/tmp/test_proc.XXXXXX";

static char *
path_of(const char *name)
{
	char	*p;

	assert_true(asprintf(&p, "%s/%s", dir, name) != -1);
	return (p);
}

static void
put(const char *path, const char *text)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The whole file, NUL-terminated (caller frees). */
static char *
get(const char *path)
{
	char	*buf;
	ssize_t	 n;
	int	 fd;

	buf = calloc(1, 4096);
	assert_non_null(buf);
	fd = open(path, O_RDONLY);
	assert_true(fd != -1);
	n = read(fd, buf, 4095);
	assert_true(n >= 0);
	close(fd);
	return (buf);
}

static char *
our_pid(void)
{
	char	*s;

	assert_true(asprintf(&s, "%ld\n", (long)getpid()) != -1);
	return (s);
}

static void
test_write_pidfiles(void **state)
{
	static const char *const old[] = { NULL, "", "1\n", "99999", "0\n" };
	char	*path, *got, *want, *err;
	size_t	 i;

	want = our_pid();
	for (i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		path = path_of("sy.pid");
		if (old[i] != NULL)
			put(path, old[i]);
		assert_null(proc_pidfile_problem(path));
		err = NULL;
		assert_int_equal(proc_pidfile_write(path, &err), 0);
		assert_null(err);
		got = get(path);
		assert_string_equal(got, want);
		free(got);
		unlink(path);
		free(path);
	}
	free(want);
}

static void
test_refuse_others(void **state)
{
	static const char	 passwd[] = "root:x:0:0:root:/root:/bin/bash\n";
	char			*path, *link, *got, *err = NULL;

	/* a file with other contents is neither truncated nor written */
	path = path_of("passwd");
	put(path, passwd);
	assert_string_equal(proc_pidfile_problem(path),
	    "is not a pidfile (it holds more than a process id)");
	assert_int_equal(proc_pidfile_write(path, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not a pidfile"));
	free(err);
	got = get(path);
	assert_string_equal(got, passwd);
	free(got);

	/* a symbolic link, to a pidfile or to anything else */
	link = path_of("link.pid");
	assert_int_equal(symlink(path, link), 0);
	assert_string_equal(proc_pidfile_problem(link),
	    "is a symbolic link (name the file itself)");
	err = NULL;
	assert_int_equal(proc_pidfile_write(link, &err), -1);
	assert_non_null(strstr(err, "symbolic link"));
	free(err);
	got = get(path);
	assert_string_equal(got, passwd);
	free(got);
	unlink(path);
	put(path, "12\n");
	err = NULL;
	assert_int_equal(proc_pidfile_write(link, &err), -1);
	free(err);
	got = get(path);
	assert_string_equal(got, "12\n");
	free(got);
	/* a dangling link is not followed to create its target either */
	unlink(path);
	err = NULL;
	assert_int_equal(proc_pidfile_write(link, &err), -1);
	free(err);
	assert_int_equal(access(path, F_OK), -1);
	unlink(link);
	free(link);
	free(path);

	/* a directory */
	path = path_of("d");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_string_equal(proc_pidfile_problem(path),
	    "is not a regular file");
	err = NULL;
	assert_int_equal(proc_pidfile_write(path, &err), -1);
	free(err);
	rmdir(path);
	free(path);
}

static int
setup(void **state)
{
	return (mkdtemp(dir) == NULL ? -1 : 0);
}

static int
teardown(void **state)
{
	return (rmdir(dir));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_pidfiles),
		cmocka_unit_test(test_refuse_others),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, setup, teardown));
}
