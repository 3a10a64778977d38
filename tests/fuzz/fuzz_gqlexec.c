/*
 * fuzz_gqlexec.c: the GraphQL executor's pure parts: normalization
 * (operation, variables, fragments, @skip/@include, merging, limits) and
 * argument resolution with references (gql_norm.c, gql_args.c), and the
 * canonical de-duplication key.  The input is a JSON value, a NUL byte,
 * then a document.  The JSON value is the variables (when an object)
 * and the value of every enclosing field "p" and "q" that references
 * may name.  Every call field's arguments are resolved against it, and
 * the canonical key must be the same for a value and its re-parsed
 * serialization.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "gql_int.h"
#include "gql_parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_canon(struct json_object *v)
{
	struct json_object	*again;
	struct sybuf		 a, b;

	sybuf_init(&a);
	sybuf_init(&b);
	again = json_tokener_parse(json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PLAIN));
	if (gql_canon(&a, v) == 0 && again != NULL &&
	    gql_canon(&b, again) == 0 && (a.len != b.len ||
	    memcmp(a.data, b.data, a.len) != 0))
		__builtin_trap();
	json_object_put(again);
	sybuf_free(&a);
	sybuf_free(&b);
}

static void
walk(const struct gnode *n, const struct gscope *sc, struct json_object *vars,
    unsigned depth)
{
	struct json_object		*params, *v;
	const struct gql_arg		*a;
	const char			*err;
	size_t				 i;

	if (depth > 64)
		__builtin_trap();
	if (n->kind == GN_CALL) {
		if (gql_args_json(n->args, sc, vars, &params, &err) == 0) {
			check_canon(params);
			json_object_put(params);
		} else if (err == NULL)
			__builtin_trap();
		for (a = n->src->args; a != NULL; a = a->next)
			if (gql_value_json(a->value, NULL, vars, &v, &err) == 1)
				json_object_put(v);
	}
	for (i = 0; i < n->nkids; i++) {
		if (n->kids[i]->up != n || n->kids[i]->pos != i)
			__builtin_trap();
		walk(n->kids[i], sc, vars, depth + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*nul;
	struct json_object	*val, *vars;
	struct gql_doc		*doc;
	struct gql_error	 perr;
	struct gql_limits	 lim = { 4096, 2000, 32 };
	struct gnorm_limits	 nl = { 12, 300 };
	struct garena		 a = { NULL, 0 };
	struct greqerr		 rerr;
	struct gop		 op;
	struct gscope		 s1, s2;

	if ((nul = memchr(data, '\0', size)) == NULL)
		return (0);
	val = json_tokener_parse((const char *)data);
	vars = json_object_is_type(val, json_type_object) ? val : NULL;
	doc = gql_parse(nul + 1, size - (size_t)(nul + 1 - (const char *)data),
	    &lim, &perr);
	if (doc != NULL) {
		if (gql_norm(doc, NULL, vars, &nl, &a, &op, &rerr) == 0) {
			s1.up = NULL;
			s1.key = "p";
			s1.val = val;
			s2.up = &s1;
			s2.key = "q";
			s2.val = vars != NULL ? vars : val;
			if (op.nfields > (size_t)nl.max_fields)
				__builtin_trap();
			walk(op.root, &s2, op.vars, 0);
			json_object_put(op.vars);
		} else if (rerr.code == NULL || rerr.msg[0] == '\0')
			__builtin_trap();
		gql_doc_free(doc);
	}
	garena_free(&a);
	json_object_put(val);
	return (0);
}
