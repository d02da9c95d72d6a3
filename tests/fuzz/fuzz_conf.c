/*
 * fuzz_conf: libFuzzer target for the configuration parser.  Any input must
 * give either a configuration or a "file:line: reason" error (cross-field
 * ones included), nothing else.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctflowd_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf c;
	char err[1024];

	conf_defaults(&c);
	err[0] = 0;
	if (conf_parse_buffer(&c, "f.conf", (const char *)data, size, err, sizeof(err)) < 0) {
		size_t n = strncmp(err, "f.conf:", 7) == 0 ? strspn(err + 7, "0123456789") : 0;

		if (n == 0 || strncmp(err + 7 + n, ": ", 2) != 0)
			abort(); /* every error names the file and the line */
	} else if (c.nprofiles == 0 || c.nprofiles > CONF_MAX_PROFILES) {
		abort();
	}
	return 0;
}
