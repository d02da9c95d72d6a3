/*
 * snmp_index: encoding goes through agg_key_decode; decoding rebuilds the
 * key field by field and rejects everything that is not the canonical index
 * of some key, so a GET can never answer for an alias (an octet above 255,
 * a wrong length, stray prefix bits).
 */
#include "snmp_index.h"

#include <string.h>

static subid_t *put_addr(subid_t *p, const struct agg_key_fields *kf, int slot)
{
	size_t alen = kf->family == 2 ? 16 : 4;

	if (!kf->has_addr[slot]) {
		*p++ = 0; /* unknown(0) */
		*p++ = 0; /* zero-length address */
		*p++ = 0; /* prefix */
		return p;
	}
	*p++ = kf->family;
	*p++ = alen;
	for (size_t i = 0; i < alen; i++)
		*p++ = kf->addr[slot].b[i];
	*p++ = kf->plen[slot];
	return p;
}

size_t aggidx_encode(const struct agg_keyspec *ks, const struct agg_key *key, subid_t *out)
{
	struct agg_key_fields kf;
	subid_t *p = out;

	if (agg_key_decode(ks, key, &kf) < 0)
		return 0;
	p = put_addr(p, &kf, 0);
	p = put_addr(p, &kf, 1);
	*p++ = kf.proto;
	*p++ = kf.port;
	*p++ = kf.zone;
	*p++ = kf.mark;
	return (size_t)(p - out);
}

int subid_cmp(const subid_t *a, size_t alen, const subid_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* A cursor over the request's sub-ids; any read past the end fails. */
struct cursor {
	const subid_t *p, *end;
	int bad;
};

static subid_t take(struct cursor *c, subid_t max)
{
	if (c->p >= c->end || *c->p > max) {
		c->bad = 1;
		return 0;
	}
	return *c->p++;
}

static void expect(struct cursor *c, subid_t v)
{
	if (take(c, v) != v)
		c->bad = 1;
}

static int is_addr(int f)
{
	return f == AGG_SRC || f == AGG_DST || f == AGG_HOST;
}

/* The spec's field for address slot 0 (src or host) or 1 (dst), or NULL. */
static const struct agg_field_spec *slot_field(const struct agg_keyspec *ks, int slot)
{
	for (unsigned i = 0; i < ks->nfields; i++) {
		int f = ks->f[i].field;

		if (is_addr(f) && (f == AGG_DST) == (slot == 1))
			return &ks->f[i];
	}
	return NULL;
}

/* Bits beyond the prefix must be zero: the row stores masked addresses. */
static int masked(const uint8_t *a, size_t alen, unsigned plen)
{
	for (size_t i = 0; i < alen; i++) {
		unsigned bit = (unsigned)i * 8;
		uint8_t keep = bit >= plen ? 0 : bit + 8 <= plen ? 0xff : (uint8_t)(0xff00u >> (plen - bit));

		if (a[i] & ~keep)
			return 0;
	}
	return 1;
}

/* One address slot; *family is set by the first address and checked by the second. */
static void take_addr(struct cursor *c, const struct agg_field_spec *fs, int *family,
		      uint8_t **out)
{
	if (!fs) {
		expect(c, 0);
		expect(c, 0);
		expect(c, 0);
		return;
	}
	int fam = (int)take(c, 2);
	size_t alen = fam == 2 ? 16 : 4;
	unsigned plen = fam == 2 ? fs->plen6 : fs->plen4;
	uint8_t *start = *out;

	if (fam == 0 || (*family && fam != *family))
		c->bad = 1;
	*family = fam;
	expect(c, alen);
	for (size_t i = 0; i < alen && !c->bad; i++)
		*(*out)++ = (uint8_t)take(c, 255);
	expect(c, plen);
	if (!c->bad && !masked(start, alen, plen))
		c->bad = 1;
}

static void put_number(struct cursor *c, int present, subid_t max, unsigned bytes, uint8_t **out)
{
	subid_t v = present ? take(c, max) : (expect(c, 0), 0);

	for (unsigned i = 0; present && i < bytes; i++)
		*(*out)++ = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

int aggidx_decode(const struct agg_keyspec *ks, const subid_t *idx, size_t len,
		  struct agg_key *key)
{
	struct cursor c = { idx, idx + len, 0 };
	uint8_t addrs[32], *a = addrs;
	uint8_t nums[9], *n = nums;
	unsigned m = 0;
	int family = 0;

	for (unsigned i = 0; i < ks->nfields; i++)
		m |= 1u << ks->f[i].field;
	take_addr(&c, slot_field(ks, 0), &family, &a);
	take_addr(&c, slot_field(ks, 1), &family, &a);
	put_number(&c, m & (1u << AGG_PROTO), 255, 1, &n);
	put_number(&c, m & (1u << AGG_PORT), 65535, 2, &n);
	put_number(&c, m & (1u << AGG_ZONE), 65535, 2, &n);
	put_number(&c, m & (1u << AGG_MARK), 0xffffffffUL, 4, &n);
	if (c.bad || c.p != c.end)
		return -1;
	memset(key, 0, sizeof(*key));
	uint8_t *k = key->b;

	if (ks->has_addr)
		*k++ = (uint8_t)family;
	memcpy(k, addrs, (size_t)(a - addrs));
	k += a - addrs;
	memcpy(k, nums, (size_t)(n - nums));
	k += n - nums;
	key->len = (uint8_t)(k - key->b);
	return 0;
}
