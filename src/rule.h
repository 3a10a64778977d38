/*
 * rule.h: Space Cloud's security rules, compiled once when a registry
 * record is decoded.  This version knows "allow" and "deny"; every other
 * rule type is refused at config time with a message saying so.
 */
#ifndef SY_RULE_H
#define SY_RULE_H

#include <json-c/json.h>

#include "util.h"

enum rule_type {
	RULE_ALLOW = 0,
	RULE_DENY
};

struct rule {
	enum rule_type	 type;
	char		*error;		/* the rule's "error" message or NULL */
};

/*
 * Compile rule object v found at JSON path `path`.  On error, appends
 * each problem to errs (with its path) and returns NULL.  Caller frees
 * with rule_free().
 */
struct rule	*rule_compile(struct json_object *v, const char *path,
		    struct syerrs *errs);
void		 rule_free(struct rule *);

/* 1 when the rule needs a verified caller token (all but "allow"). */
int		 rule_needs_token(const struct rule *);

#endif
