/*
 * fuzz_snmpidx: libFuzzer target for the CTFLOW-MIB index decoder, the code
 * that reads indexes managers send in GET requests.  The first byte picks a
 * profile shape; every following byte becomes one sub-identifier, with 0xff
 * standing for a huge one.  Invariant: an index the decoder accepts must
 * encode back to exactly the same sub-identifiers (no aliases).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snmp_index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const specs[] = {
	"host", "src,dst", "src/24/64,dst/16/48", "proto,port", "zone,mark", "dst",
	"host/8,proto,port", "src,dst,proto,port,zone,mark",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agg_keyspec ks;
	struct agg_key key;
	subid_t idx[64], back[AGGIDX_MAX];
	char err[128];
	size_t n = 0;

	if (size < 1)
		return 0;
	agg_keyspec_parse(specs[data[0] % (sizeof(specs) / sizeof(specs[0]))], &ks, err,
			  sizeof(err));
	for (size_t i = 1; i < size && n < 64; i++)
		idx[n++] = data[i] == 0xff ? 0x100000000UL + data[i] : data[i];
	if (aggidx_decode(&ks, idx, n, &key) == 0) {
		size_t m = aggidx_encode(&ks, &key, back);

		if (m != n || memcmp(back, idx, n * sizeof(idx[0])) != 0)
			abort();
	}
	return 0;
}
