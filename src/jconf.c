/*
 * jconf.c: the config-reading helpers shared by config.c, compile.c,
 * endpoint.c, rule.c, auth.c and cfsys.c (see jconf.h): format into new
 * memory, report a problem at a JSON path, read typed members, and the
 * one URL check that upstream URLs and webhooks both use.
 *
 * Invariant: nothing here aborts on a failed allocation (rules and
 * endpoints are compiled in workers too); formatters give NULL and
 * jconf_err degrades to "out of memory" at the base path.  syerrs_add
 * itself aborts, which util.c explains.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "jconf.h"
#include "util.h"

char *
jconf_vstrf(const char *fmt, va_list ap)
{
	va_list	 aq;
	char	*s;
	int	 n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return (NULL);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return (s);
}

char *
jconf_strf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = jconf_vstrf(fmt, ap);
	va_end(ap);
	return (s);
}

char *
jconf_cat(const char *s, ...)
{
	va_list		 ap;
	const char	*p;
	char		*out;
	size_t		 len, n;

	len = strlen(s);
	va_start(ap, s);
	while ((p = va_arg(ap, const char *)) != NULL)
		len += strlen(p);
	va_end(ap);
	if ((out = malloc(len + 1)) == NULL)
		return (NULL);
	n = strlen(s);
	memcpy(out, s, n);
	len = n;
	va_start(ap, s);
	while ((p = va_arg(ap, const char *)) != NULL) {
		n = strlen(p);
		memcpy(out + len, p, n);
		len += n;
	}
	va_end(ap);
	out[len] = '\0';
	return (out);
}

int
jconf_verr(struct syerrs *errs, const char *base, const char *member,
    const char *fmt, va_list ap)
{
	char	*msg, *path = NULL;

	msg = jconf_vstrf(fmt, ap);
	if (member != NULL &&
	    (path = jconf_cat(base, ".", member, (char *)NULL)) == NULL) {
		free(msg);
		msg = NULL;
	}
	if (msg == NULL)
		syerrs_add(errs, base, "out of memory");
	else
		syerrs_add(errs, path != NULL ? path : base, "%s", msg);
	free(path);
	free(msg);
	return (-1);
}

int
jconf_err(struct syerrs *errs, const char *base, const char *member,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	jconf_verr(errs, base, member, fmt, ap);
	va_end(ap);
	return (-1);
}

int
jconf_parse(const char *s, size_t len, struct json_object **out)
{
	struct json_tokener	*tok;
	int			 rc = 0;

	*out = NULL;
	if (len > INT32_MAX || (tok = json_tokener_new()) == NULL)
		return (-1);
	*out = json_tokener_parse_ex(tok, s, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    (size_t)json_tokener_get_parse_end(tok) != len) {
		json_object_put(*out);
		*out = NULL;
		rc = -1;
	}
	json_tokener_free(tok);
	return (rc);
}

struct json_object *
jconf_get(struct json_object *v, const char *key)
{
	struct json_object	*m;

	if (!json_object_object_get_ex(v, key, &m))
		return (NULL);
	return (m);	/* json-c gives NULL for a JSON null */
}

const char *
jconf_str(struct json_object *v)
{
	const char	*s;

	if (!json_object_is_type(v, json_type_string))
		return (NULL);
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return (NULL);
	return (s);
}

int
jconf_is_object(struct json_object *v)
{
	return (json_object_is_type(v, json_type_object));
}

int
jconf_is_string(struct json_object *v)
{
	return (json_object_is_type(v, json_type_string));
}

int
jconf_name_index(struct json_object *v, const char *const *names, size_t n)
{
	const char	*str;
	size_t		 len, i;

	if (!json_object_is_type(v, json_type_string))
		return (-1);
	str = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], str, len) == 0)
			return ((int)i);
	return (-1);
}

int
jconf_number(struct json_object *v, double min, int open, double max,
    double *out)
{
	double	d;

	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return (-1);
	d = json_object_get_double(v);
	if (!isfinite(d) || d < min || (open && d == min) || d > max)
		return (-1);
	*out = d;
	return (0);
}

int
jconf_integer(struct json_object *v, int64_t min, int64_t max, int64_t *out)
{
	int64_t	i;

	if (!json_object_is_type(v, json_type_int))
		return (-1);
	i = json_object_get_int64(v);
	if (i < min || i > max)
		return (-1);
	*out = i;
	return (0);
}

int
jconf_has_space(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return (1);
	return (0);
}

/* The optional ":port" between p and end; NULL or why it is bad. */
static const char *
jconf_url_port(const char *p, const char *end)
{
	long	port = 0;

	if (p == end)
		return (NULL);
	if (*p++ != ':' || p == end || end - p > 5)
		return ("it has a bad port");
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return ("it has a bad port");
		port = port * 10 + (*p - '0');
	}
	if (port < 1 || port > 65535)
		return ("its port is not from 1 to 65535");
	return (NULL);
}

const char *
jconf_url_problem(const char *url)
{
	const char	*p, *end, *host, *close;
	char		 v6[INET6_ADDRSTRLEN + 1];
	struct in6_addr	 a6;

	if (jconf_has_space(url, strlen(url)))
		return ("it contains a space or control character");
	if (strncasecmp(url, "http://", 7) == 0)
		p = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		p = url + 8;
	else
		return ("it does not begin with http:// or https://");
	end = p + strcspn(p, "/?#");
	for (host = end; host > p && host[-1] != '@'; host--)
		;
	if (host == end || *host == ':')
		return ("it has no host");
	if (*host == '[') {
		close = memchr(host, ']', end - host);
		if (close == NULL || (size_t)(close - host - 1) >= sizeof(v6))
			return ("it has a bad IPv6 address");
		memcpy(v6, host + 1, close - host - 1);
		v6[close - host - 1] = '\0';
		if (inet_pton(AF_INET6, v6, &a6) != 1)
			return ("it has a bad IPv6 address");
		return (jconf_url_port(close + 1, end));
	}
	for (p = host; p < end && *p != ':'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
		    *p == '_')
			continue;
		return ("its host name has a bad character");
	}
	return (jconf_url_port(p, end));
}
