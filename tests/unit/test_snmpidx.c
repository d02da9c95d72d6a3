/*
 * test_snmpidx: the CTFLOW-MIB index codec.  Round trips for every kind of
 * profile, index order equal to key order, and rejection of every
 * malformed index a manager could send (short, long, octets above 255,
 * wrong type/length pairs, wrong prefix, stray bits, values out of range).
 */
#include <string.h>
#include <sys/socket.h>

#include "snmp_index.h"
#include "tap.h"

#define TAP_NAME "test_snmpidx"

static const char *const specs[] = {
	"host", "src,dst", "src/24/64,dst/16/48", "proto,port", "zone,mark", "dst",
	"host/8,proto,port", "src,dst,proto,port,zone,mark",
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static struct agg_keyspec spec(size_t i)
{
	struct agg_keyspec ks;
	char err[128];

	agg_keyspec_parse(specs[i], &ks, err, sizeof(err));
	return ks;
}

/* A key built from a random flow, so it is canonical (masked, ordered). */
static struct agg_key random_key(const struct agg_keyspec *ks)
{
	struct ct_flow f;
	struct agg_key k = { 0 };

	memset(&f, 0, sizeof(f));
	f.family = rnd() % 2 ? AF_INET6 : AF_INET;
	for (int d = 0; d < 2; d++) {
		for (int i = 0; i < 16; i++) {
			f.tuple[d].src.b[i] = (uint8_t)(rnd() % 3 * 100);
			f.tuple[d].dst.b[i] = (uint8_t)(rnd() % 3 * 100);
		}
		f.tuple[d].proto = (uint8_t)(rnd() % 3 ? 6 : 17);
		f.tuple[d].sport = (uint16_t)(rnd() % 3 * 1000);
		f.tuple[d].dport = (uint16_t)(rnd() % 3 * 30000);
	}
	if (f.family == AF_INET)
		for (int d = 0; d < 2; d++) {
			memset(f.tuple[d].src.b + 4, 0, 12);
			memset(f.tuple[d].dst.b + 4, 0, 12);
		}
	f.zone = (uint16_t)(rnd() % 3);
	f.mark = rnd() % 2 ? 0xffffffffu : rnd() % 5;
	agg_key_build(ks, &f, rnd() % 2 ? AGG_SIDE_SRC : AGG_SIDE_DST, &k);
	return k;
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void every_profile_kind_round_trips(void)
{
	int bad = 0;

	for (size_t s = 0; s < NSPECS; s++) {
		struct agg_keyspec ks = spec(s);

		for (int i = 0; i < 2000; i++) {
			struct agg_key k = random_key(&ks), back;
			subid_t idx[AGGIDX_MAX];
			size_t n = aggidx_encode(&ks, &k, idx);

			if (n == 0 || n > AGGIDX_MAX || aggidx_decode(&ks, idx, n, &back) < 0 ||
			    agg_key_cmp(&k, &back) != 0)
				bad++;
		}
	}
	CHECK_EQ_U(bad, 0);
}

static void index_order_is_key_order(void)
{
	int bad = 0;

	for (size_t s = 0; s < NSPECS; s++) {
		struct agg_keyspec ks = spec(s);

		for (int i = 0; i < 5000; i++) {
			struct agg_key a = random_key(&ks), b = random_key(&ks);
			subid_t ia[AGGIDX_MAX], ib[AGGIDX_MAX];
			size_t na = aggidx_encode(&ks, &a, ia), nb = aggidx_encode(&ks, &b, ib);

			if (sign(agg_key_cmp(&a, &b)) != sign(subid_cmp(ia, na, ib, nb)))
				bad++;
		}
	}
	CHECK_EQ_U(bad, 0);
}

static void ipv4_host_index_is_rfc4001(void)
{
	struct agg_keyspec ks = spec(0);
	struct agg_key k = { 5, { 1, 10, 0, 0, 7 } };
	subid_t idx[AGGIDX_MAX];
	const subid_t want[] = { 1, 4, 10, 0, 0, 7, 32, 0, 0, 0, 0, 0, 0, 0 };

	CHECK_EQ_U(aggidx_encode(&ks, &k, idx), sizeof(want) / sizeof(want[0]));
	CHECK(memcmp(idx, want, sizeof(want)) == 0);
}

/* Each malformed variant of a valid index must be refused. */
static void malformed_indexes_are_refused(void)
{
	/* src/24/64,dst/16/48: 1.4.10.1.2.0.24 . 1.4.10.9.0.0.16 . 0.0.0.0 */
	struct agg_keyspec ks = spec(2);
	const subid_t good[] = { 1, 4, 10, 1, 2, 0, 24, 1, 4, 10, 9, 0, 0, 16, 0, 0, 0, 0 };
	const size_t n = sizeof(good) / sizeof(good[0]);
	struct agg_key k;
	subid_t v[32];

	CHECK(aggidx_decode(&ks, good, n, &k) == 0);
	CHECK(aggidx_decode(&ks, good, n - 1, &k) < 0); /* too short */
	memcpy(v, good, sizeof(good));
	v[n] = 0;
	CHECK(aggidx_decode(&ks, v, n + 1, &k) < 0); /* too long */
	CHECK(aggidx_decode(&ks, v, 0, &k) < 0);     /* empty */
	static const struct {
		size_t at;
		subid_t val;
		const char *what;
	} bad[] = {
		{ 2, 256, "octet above 255" },
		{ 2, 266, "448-style octet" },
		{ 1, 16, "IPv4 type with IPv6 length" },
		{ 0, 2, "IPv6 type with IPv4 length" },
		{ 0, 3, "address type 3" },
		{ 0, 0, "unknown type for a used address" },
		{ 7, 2, "second address of the other family" },
		{ 6, 32, "prefix other than the profile's" },
		{ 5, 1, "bits set beyond the /24 prefix" },
		{ 12, 1, "bits set beyond the /16 prefix" },
		{ 14, 6, "protocol in a profile without it" },
		{ 17, 1, "mark in a profile without it" },
		{ 3, 4294967296UL, "sub-id above 32 bits" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(v, good, sizeof(good));
		v[bad[i].at] = bad[i].val;
		if (aggidx_decode(&ks, v, n, &k) == 0) {
			printf("  # accepted: %s\n", bad[i].what);
			CHECK(0);
		}
	}
}

static void numbers_are_range_checked(void)
{
	struct agg_keyspec ks = spec(7); /* src,dst,proto,port,zone,mark */
	subid_t v[AGGIDX_MAX];
	struct agg_key k;
	struct agg_key good = random_key(&ks);
	size_t n = aggidx_encode(&ks, &good, v);

	CHECK(aggidx_decode(&ks, v, n, &k) == 0);
	v[n - 4] = 256; /* proto */
	CHECK(aggidx_decode(&ks, v, n, &k) < 0);
	n = aggidx_encode(&ks, &good, v);
	v[n - 3] = 65536; /* port */
	CHECK(aggidx_decode(&ks, v, n, &k) < 0);
	n = aggidx_encode(&ks, &good, v);
	v[n - 2] = 65536; /* zone */
	CHECK(aggidx_decode(&ks, v, n, &k) < 0);
	n = aggidx_encode(&ks, &good, v);
	v[n - 1] = 0xffffffffUL; /* the largest mark is fine */
	CHECK(aggidx_decode(&ks, v, n, &k) == 0);
	v[n - 1] = 0x100000000UL;
	CHECK(aggidx_decode(&ks, v, n, &k) < 0);
}

static void oid_comparison_is_lexicographic(void)
{
	const subid_t a[] = { 1, 2, 3 }, b[] = { 1, 2, 4 }, c[] = { 1, 2 };

	CHECK(subid_cmp(a, 3, b, 3) < 0);
	CHECK(subid_cmp(b, 3, a, 3) > 0);
	CHECK(subid_cmp(c, 2, a, 3) < 0);
	CHECK(subid_cmp(a, 3, a, 3) == 0);
	CHECK(subid_cmp(a, 0, c, 0) == 0);
}

int main(void)
{
	RUN(every_profile_kind_round_trips);
	RUN(index_order_is_key_order);
	RUN(ipv4_host_index_is_rfc4001);
	RUN(malformed_indexes_are_refused);
	RUN(numbers_are_range_checked);
	RUN(oid_comparison_is_lexicographic);
	TAP_DONE();
}
