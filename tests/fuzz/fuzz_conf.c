/*
 * fuzz_conf: libFuzzer target for the configuration parser.  Any input must
 * give either a configuration or a "file:line: reason" error, nothing else.
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
		if (strncmp(err, "f.conf", 6) != 0)
			abort(); /* every error names the file */
	} else if (c.nprofiles == 0 || c.nprofiles > CONF_MAX_PROFILES) {
		abort();
	}
	return 0;
}
