/*
 * fuzz_record.c: the registry record decoders (endpoint_decode, which
 * compiles the rule, and project_decode); a decoded endpoint's rule is
 * evaluated once with the input's params.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "endpoint.h"
#include "project.h"
#include "rule.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sy_endpoint	*ep;
	struct sy_project	*p;
	struct rule_env		 env;
	const char		*msg;
	char			*rec, *err = NULL;
	int			 ok[4] = { 1, 0, 1, 0 };

	if ((rec = malloc(size + 1)) == NULL)
		return (0);
	memcpy(rec, data, size);
	rec[size] = '\0';
	if ((ep = endpoint_decode(rec, size, &err)) != NULL) {
		memset(&env, 0, sizeof(env));
		env.params = json_tokener_parse(rec);
		env.auth = json_tokener_parse("{\"sub\":\"u\",\"role\":\"r\"}");
		env.token = "t";
		env.now = 1e9;
		env.webhook_ok = ok;
		env.nwebhooks = 4;
		rule_eval(ep->rule, &env, &msg);
		json_object_put(env.params);
		json_object_put(env.auth);
		endpoint_unref(ep);
	}
	free(err);
	err = NULL;
	if ((p = project_decode(rec, size, &err)) != NULL)
		project_unref(p);
	free(err);
	free(rec);
	return (0);
}
