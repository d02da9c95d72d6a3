/*
 * fuzz_ctparse: libFuzzer target for the netlink parser.  The input is one
 * datagram as recv() would return it; every parsed flow is read completely
 * so that a bad length shows up as an out-of-bounds read under ASan.
 * Seeds: the captured kernel messages in tests/data.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kern_ctparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t sink;

static int touch(void *arg, enum ct_item item, const struct ct_flow *f, int err)
{
	(void)arg;
	sink += (uint64_t)item + (uint64_t)err;
	if (f) {
		const unsigned char *p = (const unsigned char *)f;

		for (size_t i = 0; i < sizeof(*f); i++)
			sink += p[i];
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* recv buffers are aligned; keep that property, not the fuzzer's */
	unsigned char *buf = aligned_alloc(8, (size + 8) & ~(size_t)7);
	const struct ct_walk_cb cb = { touch, NULL };
	struct ct_flow f;

	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	ct_parse_walk(buf, size, &cb);
	if (ct_parse_msg(buf, size, &f) == CT_PARSE_OK)
		touch(NULL, CT_ITEM_FLOW, &f, 0);
	free(buf);
	return 0;
}
