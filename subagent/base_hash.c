/*
 * base_hash: a keyed hash for short keys built on the folded 64x64->128-bit
 * multiply (the construction of wyhash and ahash's fallback): each 16-byte
 * block is mixed with the secret key by one wide multiply whose halves are
 * XORed together.  It costs a few nanoseconds for the 5-44 byte keys of our
 * tables, against about 40 for SipHash, which matters because every event
 * hashes five keys, twice when prefetching.  A per-table random key keeps
 * bucket placement unpredictable to whoever chooses addresses and ports.
 */
#include "base_hash.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t fold_mul(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t load64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The last 1..16 bytes as two words, without reading past the end. */
static void load_tail(const unsigned char *p, size_t n, uint64_t *a, uint64_t *b)
{
	if (n >= 8) {
		*a = load64(p);
		*b = load64(p + n - 8);
	} else if (n >= 4) {
		uint32_t x, y;

		memcpy(&x, p, 4);
		memcpy(&y, p + n - 4, 4);
		*a = x;
		*b = y;
	} else {
		*a = (uint64_t)p[0] << 16 | (uint64_t)p[n / 2] << 8 | p[n - 1];
		*b = 0;
	}
}

#define P0 0xa0761d6478bd642fULL
#define P1 0xe7037ed1a0b428dbULL

uint64_t hash_bytes(const struct hash_key *k, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = k->k0 ^ fold_mul(len ^ P0, k->k1);
	uint64_t a = 0, b = 0;

	while (len > 16) {
		h = fold_mul(load64(p) ^ k->k1 ^ P1, load64(p + 8) ^ h);
		p += 16;
		len -= 16;
	}
	if (len)
		load_tail(p, len, &a, &b);
	return fold_mul(a ^ P1 ^ k->k0, b ^ h ^ k->k1) ^ h;
}

void hash_key_random(struct hash_key *k)
{
	if (getrandom(k, sizeof(*k), GRND_NONBLOCK) == (ssize_t)sizeof(*k))
		return;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	k->k0 = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	k->k1 = (uint64_t)ts.tv_sec * 0xbf58476d1ce4e5b9ULL ^ (uint64_t)(uintptr_t)k;
}
