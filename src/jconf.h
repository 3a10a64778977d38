/*
 * jconf.h: the helpers every config reader shares (config.c, compile
 * time of endpoints, rules and key sets): strings formatted into new
 * memory, problems reported at a JSON path, typed member getters, and
 * the one check of an http(s) URL.
 *
 * Out of memory: nothing here aborts.  A formatter gives NULL, and
 * jconf_err still records the problem (as "out of memory" at the base
 * path when the message cannot be built), because rules and endpoints
 * are also compiled in workers, where an allocation failure must answer
 * 5xx, not kill the process.  Callers that run only in the master and
 * want the abort wrap the result in sy_must().
 */
#ifndef SY_JCONF_H
#define SY_JCONF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct json_object;

/* fmt formatted into new memory (caller frees), NULL when out of memory. */
char	*jconf_strf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
char	*jconf_vstrf(const char *fmt, va_list)
	    __attribute__((format(printf, 1, 0)));
/* The strings up to a NULL, joined (caller frees); NULL: out of memory. */
char	*jconf_cat(const char *s, ...) __attribute__((sentinel));

/*
 * Report "base.member: message" (base alone when member is NULL) to errs.
 * Always returns -1, so that "return (jconf_err(...));" reads well.
 */
int	 jconf_err(struct syerrs *errs, const char *base, const char *member,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int	 jconf_verr(struct syerrs *errs, const char *base, const char *member,
	    const char *fmt, va_list) __attribute__((format(printf, 4, 0)));

/*
 * Parse len bytes that must be one whole JSON text (nothing after it).
 * The value (a new reference; NULL for JSON null), or -1 when it does not
 * parse or out of memory.
 */
int	 jconf_parse(const char *s, size_t len, struct json_object **out);
/* Member key of object v (borrowed), NULL when missing or JSON null. */
struct json_object *jconf_get(struct json_object *v, const char *key);
/* The string v without NUL bytes (borrowed), or NULL. */
const char *jconf_str(struct json_object *v);
int	 jconf_is_object(struct json_object *v);
int	 jconf_is_string(struct json_object *v);
/* Index of the string v in names[n], or -1. */
int	 jconf_name_index(struct json_object *v, const char *const *names,
	    size_t n);
/* 0 and *out when v is a number in [min, max] (min excluded if open). */
int	 jconf_number(struct json_object *v, double min, int open, double max,
	    double *out);
/* 0 and *out when v is an integer in [min, max]. */
int	 jconf_integer(struct json_object *v, int64_t min, int64_t max,
	    int64_t *out);
/* 1 when s[0..len) holds a space, a control character or a NUL. */
int	 jconf_has_space(const char *s, size_t len);

/*
 * Why url is not an http:// or https:// URL switchyard can call (a
 * static string such as "it has no host"), or NULL when it is good.
 */
const char *jconf_url_problem(const char *url);

#endif
