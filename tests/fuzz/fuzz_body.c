/*
 * fuzz_body.c: what the gateway reads from a request: the API path
 * (route_parse) and the body (jscan_body, jscan_validate).  The input is
 * "path\nbody"; without a newline it is all body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "route.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jscan_body	 b;
	struct route		 r;
	const uint8_t		*nl;
	const char		*body, *err;
	char			*path;
	size_t			 len;

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
	jscan_validate(body, len);
	if (jscan_body(body, len, &b, &err) == 0 && b.params != NULL)
		jscan_validate(b.params, b.params_len);
	return (0);
}
