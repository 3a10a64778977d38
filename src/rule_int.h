/*
 * rule_int.h: what the three files of the rules module share: the
 * compiled rule tree (rule.c builds it, rule_eval.c walks it) and the
 * RFC 3339 date helpers (rule_date.c).  Not for other modules: they use
 * rule.h.
 */
#ifndef SY_RULE_INT_H
#define SY_RULE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "jpath.h"
#include "rule.h"

#define RULE_F_PARAMS		0x1	/* reads or writes params */
#define RULE_F_CHANGES		0x2	/* writes args.params */

enum rule_kind {
	RULE_ALLOW, RULE_DENY, RULE_AUTHENTICATED, RULE_MATCH, RULE_AND,
	RULE_OR, RULE_FORCE, RULE_REMOVE, RULE_WEBHOOK
};

enum rule_type { RULE_T_STRING, RULE_T_NUMBER, RULE_T_BOOL, RULE_T_DATE };

enum rule_op {
	RULE_EQ, RULE_NE, RULE_LT, RULE_LE, RULE_GT, RULE_GE, RULE_IN,
	RULE_NOTIN
};

enum rule_src { RULE_SRC_AUTH, RULE_SRC_PARAMS, RULE_SRC_TOKEN, RULE_SRC_NOW,
	RULE_SRC_READ };
enum rule_fn { RULE_FN_NONE, RULE_FN_EXISTS, RULE_FN_LENGTH };

/*
 * args.auth.a.0, args.params.x, args.token, utils.now(), utils.f(X);
 * args.find.x, args.op, args.opts.x (a database read, RULE_SRC_READ:
 * the path then starts with find, op or opts)
 */
struct rule_var {
	enum rule_src	 src;
	enum rule_fn	 fn;
	struct jpath	 path;	/* after args.auth / args.params */
};

/* A value converted to the match type. */
struct rule_val {
	const char	*s;
	size_t		 len;
	double		 d;
	int64_t		 sec;
	long		 nsec;
	int		 b;
};

struct rule_operand {
	int			 is_var;
	struct rule_var		 var;
	struct json_object	*lit;	/* owned copy; NULL: JSON null */
	struct rule_val		 val;	/* lit converted (scalar) */
	struct rule_val		*vals;	/* same, for in/notIn */
	size_t			 nvals;
};

struct rule {
	enum rule_kind		 kind;
	char			*error;
	int			 flags;
	enum rule_type		 type;		/* match */
	enum rule_op		 op;
	struct rule_operand	 f1, f2;
	struct rule		**clauses;	/* and, or */
	size_t			 nclauses;
	struct rule		*clause;	/* force, remove */
	struct rule_var		*fields;
	size_t			 nfields;
	struct rule_operand	 value;		/* force */
	char			*url;		/* webhook */
	double			 timeout;
	size_t			 hook;
	struct rule_webhook	*hooks;		/* top level only */
	size_t			 nhooks;
};

/* rule_date.c */
/* An RFC 3339 date of len bytes into *sec and *nsec; 0 / -1. */
int	 rule_date_parse(const char *s, size_t len, int64_t *sec, long *nsec);
/* Unix time t as whole seconds and nanoseconds. */
void	 rule_split_time(double t, int64_t *sec, long *nsec);
/* Unix time t as a new RFC 3339 UTC JSON string (caller puts), or NULL. */
struct json_object *rule_date_json(double t);

/* rule.c */
/* Convert JSON value o to type t; 0 / -1 (wrong type). */
int	 rule_json_val(struct json_object *o, enum rule_type t,
	    struct rule_val *v);

#endif
