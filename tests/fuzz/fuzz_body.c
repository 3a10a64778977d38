/*
 * fuzz_body.c: what the gateway reads from a request: the API path
 * (route_parse) and the body (jscan_body, jscan_validate).  The input is
 * "path\nbody"; without a newline it is all body.  The two scanners must
 * agree: a body jscan_body accepts is valid JSON (or all white space), and
 * one it refuses for a duplicate member name is valid JSON all the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "route.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
all_space(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
		    s[i] != '\n')
			return (0);
	return (1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jscan_body	 b;
	struct route		 r;
	const uint8_t		*nl;
	const char		*body, *err;
	char			*path;
	size_t			 len;
	int			 valid;

	body = (const char *)data;
	len = size;
	if ((nl = memchr(data, '\n', size)) != NULL) {
		if ((path = malloc(nl - data + 1)) == NULL)
			abort();
		memcpy(path, data, nl - data);
		path[nl - data] = '\0';
		if (route_parse(path, &r) == 0 && (strlen(r.project) == 0 ||
		    strlen(r.service) == 0 || strlen(r.endpoint) == 0))
			abort();
		free(path);
		body = (const char *)nl + 1;
		len = size - (nl - data) - 1;
	}
	valid = jscan_validate(body, len) == 0;
	err = NULL;
	if (jscan_body(body, len, &b, &err) == 0) {
		if (b.params != NULL && jscan_validate(b.params,
		    b.params_len) == -1)
			abort();
		if (!valid && !all_space(body, len))
			abort();
	} else if (strstr(err, "duplicate") != NULL && !valid)
		abort();
	return (0);
}
