/*
 * fuzz_rule.c: the rule compiler and evaluator (rule.h).  Input: a rule
 * as JSON [NUL params-JSON].  A rule that compiles is evaluated against
 * fixed claims and the input's params (or fixed ones), with every second
 * webhook failing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "rule.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_AUTH	"{\"sub\":\"u1\",\"role\":\"admin\",\"age\":30," \
	"\"verified\":true,\"groups\":[\"a\",\"b\"],\"exp\":1795698000," \
	"\"org\":{\"id\":7}}"
#define FUZZ_PARAMS	"{\"id\":\"u1\",\"n\":5,\"x\":2.5,\"flag\":false," \
	"\"list\":[1,2,3],\"names\":[\"ann\",\"bob\"],\"nested\":{\"a\":" \
	"[{\"b\":\"deep\"}]},\"when\":\"2026-11-26T12:00:00Z\",\"nul\":null}"

/* Parse exactly len bytes as one JSON value; NULL when invalid. */
static struct json_object *
parse(const char *buf, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*v;

	if (len > 0x7fffffff || (tok = json_tokener_new()) == NULL)
		return (NULL);
	v = json_tokener_parse_ex(tok, buf, (int)len);
	json_tokener_free(tok);
	return (v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json_object	*auth;
	const struct rule_webhook	*hooks;
	struct json_object		*v;
	struct syerrs			 errs;
	struct rule			*r;
	struct rule_env			 env;
	const char			*buf = (const char *)data, *nul, *msg;
	size_t				 rlen, i, nhooks;
	int				*ok;

	if (auth == NULL && (auth = json_tokener_parse(FUZZ_AUTH)) == NULL)
		abort();
	nul = memchr(buf, '\0', size);
	rlen = nul != NULL ? (size_t)(nul - buf) : size;
	if ((v = parse(buf, rlen)) == NULL)
		return (0);
	syerrs_init(&errs);
	r = rule_compile(v, "fuzz.rule", &errs);
	json_object_put(v);
	if (r == NULL) {
		if (errs.n == 0)
			abort();
		syerrs_free(&errs);
		return (0);
	}
	syerrs_free(&errs);

	(void)rule_needs_token(r);
	(void)rule_needs_params(r);
	(void)rule_changes_params(r);
	nhooks = rule_webhooks(r, &hooks);
	if ((ok = calloc(nhooks + 1, sizeof(*ok))) == NULL)
		abort();
	for (i = 0; i < nhooks; i++) {
		if (hooks[i].url == NULL)
			abort();
		ok[i] = i % 2 == 0;
	}

	memset(&env, 0, sizeof(env));
	env.auth = auth;
	env.params = nul != NULL ? parse(nul + 1, size - rlen - 1) :
	    json_tokener_parse(FUZZ_PARAMS);
	env.token = "hdr.claims.sig";
	env.now = 1795694400.0;
	env.webhook_ok = ok;
	env.nwebhooks = nhooks;
	msg = NULL;
	if (rule_eval(r, &env, &msg) == RULE_PASS && msg != NULL)
		abort();
	json_object_put(env.params);

	/* Again without claims or params: an anonymous caller. */
	memset(&env, 0, sizeof(env));
	env.now = 1795694400.0;
	env.webhook_ok = ok;
	env.nwebhooks = nhooks;
	(void)rule_eval(r, &env, &msg);
	json_object_put(env.params);

	free(ok);
	rule_free(r);
	return (0);
}
