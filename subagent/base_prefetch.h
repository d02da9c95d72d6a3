#ifndef CTFLOWD_BASE_PREFETCH_H
#define CTFLOWD_BASE_PREFETCH_H
/*
 * base_prefetch: fetch an object for writing before a batch touches it.
 * Every cache line of it: an object of a few lines at an odd place spans
 * one more line than its size says, and naming only its first and last
 * byte misses the ones between.
 */
#include <stddef.h>

static inline void prefetch_span(const void *p, size_t len)
{
	const char *c = p;

	for (size_t off = 0; off < len; off += 64)
		__builtin_prefetch(c + off, 1);
	__builtin_prefetch(c + len - 1, 1);
}

#endif
