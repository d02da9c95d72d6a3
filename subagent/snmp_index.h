/*
 * snmp_index: CTFLOW-MIB index encoding of aggregation keys.  Pure: no
 * net-snmp headers, no I/O, so it is unit-tested and fuzzed alone.
 *
 * The index of ctflowAggTable after the profile number is
 *   addr1 type, addr1 length, addr1 bytes..., addr1 prefix,
 *   addr2 type, addr2 length, addr2 bytes..., addr2 prefix,
 *   proto, port, zone, mark
 * (RFC 4001 InetAddressType/InetAddress/InetAddressPrefixLength; an unused
 * address is type 0, length 0, prefix 0; an unused number is 0).  Because
 * agg_key lays fields out in this same order, rows sorted by key bytes are
 * sorted by index OID, and the ordered row index needs no OID copy.
 */
#ifndef CTFLOWD_SNMP_INDEX_H
#define CTFLOWD_SNMP_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "agg_key.h"

/* net-snmp's `oid` is an unsigned long on Linux; sub-identifiers as received. */
typedef unsigned long subid_t;

/* Longest index after the profile number: 2 * (1 + 1 + 16 + 1) + 4. */
#define AGGIDX_MAX 42

/* Encode a key's index (after the profile number); returns the sub-id count. */
size_t aggidx_encode(const struct agg_keyspec *ks, const struct agg_key *key, subid_t *out);

/*
 * Decode an index (after the profile number) that must be exactly the index
 * of a possible row of this profile: right length, address types and
 * lengths that agree, every byte at most 255, the profile's prefix lengths,
 * no address bits set beyond the prefix, zeros where the profile has no
 * field, nothing left over.  Returns 0 and fills key, or -1.
 */
int aggidx_decode(const struct agg_keyspec *ks, const subid_t *idx, size_t len,
		  struct agg_key *key);

/* Lexicographic OID comparison (a proper prefix sorts first). */
int subid_cmp(const subid_t *a, size_t alen, const subid_t *b, size_t blen);

#endif
