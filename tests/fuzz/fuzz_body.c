/*
 * fuzz_body.c: the request body scanner (jscan_body, jscan_validate).
 */
#include <stddef.h>
#include <stdint.h>

#include "jscan.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jscan_body	 b;
	const char		*err;

	jscan_validate((const char *)data, size);
	if (jscan_body((const char *)data, size, &b, &err) == 0 &&
	    b.params != NULL)
		jscan_validate(b.params, b.params_len);
	return (0);
}
