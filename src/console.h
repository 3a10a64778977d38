/*
 * console.h: the web console's static files (SPEC 9.9) on the admin
 * listener: "/" and "/console/NAME" from the console directory, with
 * the console's Content-Security-Policy.  admin.c answers with them.
 */
#ifndef SY_CONSOLE_H
#define SY_CONSOLE_H

#include <stddef.h>

struct console_reply {
	int		 status;	/* 200, 404 or 500 */
	const char	*type;		/* Content-Type, static */
	char		*body;		/* caller frees */
	size_t		 len;
};

/* The file a request path asks for ("/": index.html), or NULL. */
const char	*console_name(const char *path);

/*
 * The reply for file name of the console directory: the file, 404 for a
 * name that is not served or not there, 500 naming a missing
 * index.html.  0, or -1 when out of memory.
 */
int		 console_read(const char *name, struct console_reply *);

/* The Content-Security-Policy of 9.9, connect-src naming public_url. */
void		 console_csp(const char *public_url, char *dst, size_t size);

#endif
