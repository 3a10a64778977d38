/*
 * endpoint_int.h: what the two halves of the endpoint module share
 * (endpoint_enc.c writes records at config time, endpoint.c reads them
 * in workers): the names of methods and header operations, and the
 * checks both apply to header names and values.  Not for other modules.
 */
#ifndef SY_ENDPOINT_INT_H
#define SY_ENDPOINT_INT_H

#include <stddef.h>

#define EP_NMETHODS	7
#define EP_NOPS		3
#define EP_TIMEOUT_MAX	86400.0

/* "GET", ..., "OPTIONS"; and "set", "add", "del" by enum ep_hdr_op. */
extern const char *const endpoint_methods[EP_NMETHODS];
extern const char *const endpoint_ops[EP_NOPS];

/* 1 when s[0..len) is a header name: RFC 9110 token characters. */
int	 endpoint_is_token(const char *s, size_t len);
/* Why a setting may not name header name (a valid token), or NULL. */
const char *endpoint_name_problem(const char *name);
/* 1 when a header value names a variable: "auth." or "args." + path. */
int	 endpoint_is_var(const char *s);
/* Why a header value cannot be sent, or NULL. */
const char *endpoint_value_problem(const char *s, size_t len);

#endif
