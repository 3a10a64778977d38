/*
 * rule.h: Space Cloud's security rules (SPEC section 6), compiled once
 * when a registry record is decoded and evaluated per call against
 *   {"args": {"auth": <claims>, "params": <params>, "token": <raw>}},
 * or, for a database read rule, with "find", "op" and "opts" in place
 * of "params" (rule_env.read).
 *
 * Webhook rules need network calls, which this module does not make: the
 * caller asks for the list of webhooks (rule_webhooks), makes the calls
 * (all of them, in parallel, with the caller's params), and passes their
 * outcomes to rule_eval, which is then synchronous.
 */
#ifndef SY_RULE_H
#define SY_RULE_H

#include <stddef.h>

struct json_object;
struct syerrs;

struct rule;

struct rule_webhook {
	const char	*url;		/* borrowed from the rule */
	double		 timeout;	/* seconds */
};

struct rule_env {
	struct json_object	*auth;		/* claims (borrowed) or NULL */
	struct json_object	*params;	/* owned by the caller; force and
						   remove change it in place */
	const char		*token;		/* raw token or NULL */
	double			 now;		/* Unix time, for utils.now() */
	const int		*webhook_ok;	/* per rule_webhooks() index */
	size_t			 nwebhooks;
	/* a database read's {"find","op","opts"} (SPEC 8.10), or NULL */
	struct json_object	*read;
};

enum rule_verdict {
	RULE_PASS = 0,
	RULE_FAIL
};

/*
 * Compile rule object v found at JSON path `path`.  Every problem is
 * appended to errs with its path (unknown rule name, missing members,
 * bad operator or type, a field of force/remove not under args.params,
 * a webhook url that is not http(s)).  NULL on error.  Caller frees.
 */
struct rule	*rule_compile(struct json_object *v, const char *path,
		    struct syerrs *errs);
void		 rule_free(struct rule *);

/* 1 when the rule needs a verified caller token (all but "allow"). */
int		 rule_needs_token(const struct rule *);
/* 1 when evaluation reads or changes args.params (parse them first). */
int		 rule_needs_params(const struct rule *);
/* 1 when evaluation may change params (force or remove present). */
int		 rule_changes_params(const struct rule *);

/* The webhooks of the rule, in a fixed order; *out is borrowed. */
size_t		 rule_webhooks(const struct rule *,
		    const struct rule_webhook **out);

/*
 * Evaluate.  On RULE_FAIL, *error is the message of the failing rule
 * ("error" member of the innermost failing rule that has one), or NULL;
 * borrowed from the rule.  env->params may be NULL (no params); force
 * then creates an object (the new object is stored in env->params and
 * owned by the caller).
 */
enum rule_verdict rule_eval(const struct rule *, struct rule_env *env,
		    const char **error);

#endif
