/*
 * fuzz_tmpl.c: URL templates and query strings.  The input is a
 * template, a NUL byte, then the params JSON.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tmpl.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object	*params;
	struct sybuf		 out;
	char			*buf, *json, *err = NULL;
	size_t			 n;

	if ((buf = malloc(size + 2)) == NULL)
		return (0);
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = '\0';
	n = strlen(buf);
	json = buf + n + 1 <= buf + size ? buf + n + 1 : buf + size + 1;
	params = json_tokener_parse(json);
	sybuf_init(&out);
	if (tmpl_expand(&out, buf, params, params, &err) == 0)
		tmpl_query(&out, params);
	free(err);
	tmpl_pct_encode(&out, buf, n);
	tmpl_has_vars(buf);
	free(tmpl_join_url(buf, json));
	sybuf_free(&out);
	json_object_put(params);
	free(buf);
	return (0);
}
