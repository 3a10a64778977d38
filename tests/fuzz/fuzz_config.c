/*
 * fuzz_config.c: config parsing and validation (config_parse), which
 * also compiles every rule and secret and encodes every record.
 */
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "log.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct syerrs	 errs;
	struct sy_config *cf;

	syerrs_init(&errs);
	cf = config_parse((const char *)data, size, &errs);
	config_free(cf);
	syerrs_free(&errs);
	return (0);
}
