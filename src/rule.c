/*
 * rule.c: Space Cloud's security rules (SPEC section 6), compiled from
 * the rule's JSON object.  This version implements "allow" and "deny"
 * only.  The other rule names Space Cloud knows are refused with a
 * message that says they are not supported yet, so that a config written
 * for Space Cloud fails loudly instead of exposing an endpoint; any other
 * name is an unknown rule.  Compilation runs both in the master (config
 * validation) and in workers (record decoding), so it never aborts on a
 * failed allocation: it reports "out of memory" instead.
 */
#include <stdlib.h>
#include <string.h>

#include "rule.h"

/* Space Cloud rule names that a later version will implement. */
static const char *const rule_later[] = {
	"authenticated", "match", "and", "or", "force", "remove",
	"webhook", "query", "func"
};

static int
rule_name_is(struct json_object *s, const char *name)
{
	size_t	len = strlen(name);

	return ((size_t)json_object_get_string_len(s) == len &&
	    memcmp(json_object_get_string(s), name, len) == 0);
}

static int
rule_type_of(struct json_object *name, const char *path,
    struct syerrs *errs, enum rule_type *type)
{
	size_t	i;

	if (rule_name_is(name, "allow")) {
		*type = RULE_ALLOW;
		return (0);
	}
	if (rule_name_is(name, "deny")) {
		*type = RULE_DENY;
		return (0);
	}
	for (i = 0; i < sizeof(rule_later) / sizeof(rule_later[0]); i++) {
		if (rule_name_is(name, rule_later[i])) {
			syerrs_add(errs, path, "rule \"%s\" is not supported "
			    "yet (this version supports \"allow\" and "
			    "\"deny\")", rule_later[i]);
			return (-1);
		}
	}
	syerrs_add(errs, path, "unknown rule \"%s\"",
	    json_object_get_string(name));
	return (-1);
}

struct rule *
rule_compile(struct json_object *v, const char *path, struct syerrs *errs)
{
	struct json_object	*name, *msg = NULL;
	struct rule		*r;
	enum rule_type		 type;

	if (!json_object_is_type(v, json_type_object)) {
		syerrs_add(errs, path, "must be an object such as "
		    "{\"rule\": \"allow\"}");
		return (NULL);
	}
	if (!json_object_object_get_ex(v, "rule", &name)) {
		syerrs_add(errs, path, "missing the \"rule\" member, as in "
		    "{\"rule\": \"allow\"}");
		return (NULL);
	}
	if (!json_object_is_type(name, json_type_string)) {
		syerrs_add(errs, path, "\"rule\" must be a string");
		return (NULL);
	}
	if (rule_type_of(name, path, errs, &type) == -1)
		return (NULL);
	if (json_object_object_get_ex(v, "error", &msg) &&
	    !json_object_is_type(msg, json_type_null) &&
	    !json_object_is_type(msg, json_type_string)) {
		syerrs_add(errs, path, "\"error\" must be a string");
		return (NULL);
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto nomem;
	r->type = type;
	if (json_object_is_type(msg, json_type_string) &&
	    (r->error = strdup(json_object_get_string(msg))) == NULL) {
		free(r);
		goto nomem;
	}
	return (r);
 nomem:
	syerrs_add(errs, path, "out of memory");
	return (NULL);
}

void
rule_free(struct rule *r)
{
	if (r == NULL)
		return;
	free(r->error);
	free(r);
}

int
rule_needs_token(const struct rule *r)
{
	/* fail closed: no rule at all is treated as needing a token */
	return (r == NULL || r->type != RULE_ALLOW);
}
