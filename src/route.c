/*
 * route.c: the API path parser.  Names are taken as they stand in the
 * path: a percent-encoded byte is not a name byte, so such a path is
 * refused rather than decoded.
 */
#include <string.h>

#include "route.h"

static int
route_name_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > ROUTE_NAME_MAX)
		return (0);
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return (0);
	return (1);
}

/* Copy the name at *p up to the next '/' or the end into dst; advance. */
static int
route_segment(const char **p, char *dst)
{
	const char	*s = *p, *e;

	e = strchr(s, '/');
	if (e == NULL)
		e = s + strlen(s);
	if (!route_name_ok(s, e - s))
		return (-1);
	memcpy(dst, s, e - s);
	dst[e - s] = '\0';
	*p = *e == '/' ? e + 1 : e;
	return (0);
}

int
route_parse(const char *path, struct route *r)
{
	const char	*p;

	if (path == NULL || strncmp(path, ROUTE_PREFIX,
	    sizeof(ROUTE_PREFIX) - 1) != 0)
		return (-1);
	p = path + sizeof(ROUTE_PREFIX) - 1;
	if (route_segment(&p, r->project) == -1 ||
	    strncmp(p, "services/", 9) != 0)
		return (-1);
	p += 9;
	if (route_segment(&p, r->service) == -1 || p[-1] != '/' ||
	    strchr(p, '/') != NULL || route_segment(&p, r->endpoint) == -1)
		return (-1);
	return (0);
}
