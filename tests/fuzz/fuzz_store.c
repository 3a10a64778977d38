/*
 * fuzz_store.c: the config store's serialiser on any JSON object the
 * strict parser accepts: its output parses, and serialising that again
 * gives the same bytes (a file the store wrote reads back unchanged).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "store.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object	*a, *b;
	struct store_err	 e;
	char			*t1, *t2;
	size_t			 l1, l2;

	if (store_body_parse((const char *)data, size, &a, &e) == -1)
		return (0);
	if ((t1 = store_serialize(a, &l1)) == NULL)
		abort();
	if (store_body_parse(t1, l1, &b, &e) == -1)
		abort();
	if ((t2 = store_serialize(b, &l2)) == NULL)
		abort();
	if (l1 != l2 || memcmp(t1, t2, l1) != 0)
		abort();
	free(t1);
	free(t2);
	json_object_put(a);
	json_object_put(b);
	return (0);
}
