/*
 * fuzz_creds: libFuzzer target for the SNMP credentials file.  Any input
 * gives either credentials within their limits, whose every line can be
 * asked about, or an error naming the file (and the line), nothing else.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snmp_creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct snmp_creds c;
	static const struct creds_oid served = { { 1, 3, 6, 1, 4, 1, 32473 }, 7 };
	static const uint32_t o[] = { 1, 3, 6, 1, 4, 1, 32473, 1, 3 };
	char err[1024];

	err[0] = 0;
	if (snmp_creds_parse(&c, "f.creds", (const char *)data, size, err, sizeof(err)) < 0) {
		if (strncmp(err, "f.creds:", 8) != 0)
			abort();
		return 0;
	}
	if (c.naccess > CREDS_MAX_ACCESS || c.nviews > CREDS_MAX_VIEWS || c.nlines > CREDS_MAX_LINES)
		abort();
	for (size_t i = 0; i < c.naccess; i++) {
		const struct creds_access *a = &c.access[i];
		struct creds_request rq = { a->user, a->name, strlen(a->name), a->level, a->family,
					    a->addr, 0 };
		enum creds_verdict v;

		if (!creds_match(&c, &rq, &v))
			abort(); /* a line always admits its own name, source and level */
		for (size_t n = 0; n <= sizeof(o) / sizeof(o[0]); n++)
			(void)creds_in_view(&c, a, o, n, (int)(n & 1), &served, 1);
	}
	return 0;
}
