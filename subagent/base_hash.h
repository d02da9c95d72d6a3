/*
 * base_hash: a fast keyed hash for the hash tables.
 *
 * Aggregation keys (addresses, ports) are chosen by whoever sends traffic
 * through the box, so an unkeyed hash would let them pile every flow into one
 * bucket.  The key is drawn from getrandom() once per table.
 */
#ifndef CTFLOWD_BASE_HASH_H
#define CTFLOWD_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash_key {
	uint64_t k0, k1;
};

/* Fill with random bytes; falls back to a time-based seed if getrandom fails. */
void hash_key_random(struct hash_key *k);
uint64_t hash_bytes(const struct hash_key *k, const void *data, size_t len);

#endif
