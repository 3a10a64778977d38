/*
 * route.h: the API path, /v1/api/{project}/services/{service}/{endpoint}.
 */
#ifndef SY_ROUTE_H
#define SY_ROUTE_H

#define ROUTE_PREFIX	"/v1/api/"
#define ROUTE_NAME_MAX	128	/* bytes in one name, [A-Za-z0-9_-] */

struct route {
	char	project[ROUTE_NAME_MAX + 1];
	char	service[ROUTE_NAME_MAX + 1];
	char	endpoint[ROUTE_NAME_MAX + 1];
};

/*
 * Split path (the request's path, NUL-terminated, not percent-decoded)
 * into r: 0, or -1 when it is not an API path with three valid names.
 */
int	 route_parse(const char *path, struct route *r);

#endif
