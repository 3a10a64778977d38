/*
 * console.h: the web console's static files (SPEC 9.9) on the admin
 * listener: "/" and "/console/NAME" from the console directory, with
 * the console's Content-Security-Policy.
 */
#ifndef SY_CONSOLE_H
#define SY_CONSOLE_H

struct admin_api;
struct evhttp_request;

/*
 * Serve req when it is a GET or HEAD of the console's and the console
 * is on (admin_api_console; api borrowed).  Returns 1 when req was
 * answered, 0 when it is not the console's.
 */
int		 console_serve(struct admin_api *api,
		    struct evhttp_request *req);

#endif
