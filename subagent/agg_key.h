/*
 * agg_key: what a profile's rows are keyed by, as data.
 *
 * A key spec is a list of fields (src, dst, host, proto, port, zone, mark),
 * addresses with optional IPv4 and IPv6 prefix lengths.  A key is the fields'
 * values encoded big-endian in a canonical order (first address = src or
 * host, second = dst, then proto, port, zone, mark), preceded by the address
 * family (1 = IPv4, 2 = IPv6, as InetAddressType) when the spec has an
 * address, so comparing keys as bytes orders them the way their SNMP index
 * will.  "host" makes a flow count for each of its two endpoints.
 */
#ifndef CTFLOWD_AGG_KEY_H
#define CTFLOWD_AGG_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "kern_ctparse.h"

enum agg_field { AGG_SRC, AGG_DST, AGG_HOST, AGG_PROTO, AGG_PORT, AGG_ZONE, AGG_MARK, AGG_NFIELDS };

/* Which tuple the addresses and port come from. */
enum agg_view {
	AGG_VIEW_ORIGINAL,   /* as the initiator sent it: pre-NAT */
	AGG_VIEW_TRANSLATED, /* as it left the box: post-SNAT source, post-DNAT destination */
};

#define AGG_MAX_FIELDS AGG_NFIELDS
#define AGG_KEY_MAX 44

struct agg_field_spec {
	uint8_t field;   /* enum agg_field */
	uint8_t plen4;   /* 0..32 */
	uint8_t plen6;   /* 0..128 */
};

struct agg_keyspec {
	uint8_t nfields;
	uint8_t has_addr;
	uint8_t host;    /* contains AGG_HOST */
	uint8_t view;    /* enum agg_view */
	struct agg_field_spec f[AGG_MAX_FIELDS];
};

struct agg_key {
	uint8_t len;
	uint8_t b[AGG_KEY_MAX];
};

/*
 * Parse "src/24/64, dst, proto, port" (comma or space separated).  On error
 * returns -1 and writes a reason into err.
 */
int agg_keyspec_parse(const char *text, struct agg_keyspec *ks, char *err, size_t errlen);
/* Canonical text of a spec, e.g. "src/24/64,dst,proto". */
void agg_keyspec_format(const struct agg_keyspec *ks, char *buf, size_t len);
/* Longest key this spec produces. */
size_t agg_keyspec_maxlen(const struct agg_keyspec *ks);

/* Endpoint a key is built for: the flow's source side or destination side. */
enum agg_side { AGG_SIDE_SRC = 0, AGG_SIDE_DST = 1 };

/*
 * Build the key of `f` as seen from `side` (only meaningful for host specs;
 * other specs ignore it).
 */
void agg_key_build(const struct agg_keyspec *ks, const struct ct_flow *f, enum agg_side side,
		   struct agg_key *key);

/*
 * Decoded view of a key, for output layers (JSON, SNMP indexes and columns).
 */
struct agg_key_fields {
	uint8_t family;         /* 0 (no address), 1 = IPv4, 2 = IPv6 */
	union ct_addr addr[2];  /* [0] src or host, [1] dst */
	uint8_t has_addr[2];
	uint8_t plen[2];
	uint8_t proto;
	uint16_t port, zone;
	uint32_t mark;
};

int agg_key_decode(const struct agg_keyspec *ks, const struct agg_key *key,
		   struct agg_key_fields *out);

/* The key as text, "host 10.1.2.3" or "src 10.1.0.0/16 proto 6 port 443";
 * -1 if it does not decode or fit.  AGG_KEY_TEXT_MAX holds the longest,
 * "src <IPv6>/127 dst <IPv6>/127 proto 255 port 65535 zone 65535 mark
 * 4294967295" (143 characters), and its NUL. */
#define AGG_KEY_TEXT_MAX 160
int agg_key_format(const struct agg_keyspec *ks, const struct agg_key *key, char *buf, size_t len);

/*
 * "any", or ADDRESS[/LENGTH] (a whole address without LENGTH): which keys a
 * threshold watches.  family 0 for any, else 1 = IPv4, 2 = IPv6 as in keys.
 * 0, AGG_PREFIX_EADDR (neither any nor an address) or AGG_PREFIX_ELEN (the
 * length is not 0..32 or 0..128; *family says which).
 */
enum { AGG_PREFIX_EADDR = -1, AGG_PREFIX_ELEN = -2 };
#define AGG_PREFIX_TEXT_MAX 56  /* an IPv6 address, "/128" and the NUL, rounded up */
int agg_prefix_parse(const char *text, uint8_t *family, union ct_addr *addr, uint8_t *plen);
/* The text agg_prefix_parse reads back: "any" or "ADDRESS/LENGTH". */
void agg_prefix_format(uint8_t family, const union ct_addr *addr, uint8_t plen, char *buf,
		       size_t len);

/* Key order: bytes, then length (shorter first); the order of SNMP indexes. */
int agg_key_cmp(const struct agg_key *a, const struct agg_key *b);

#endif
