/*
 * test_agg: key specs, prefix keys, the host profile's two endpoints, NAT
 * views, ICMP service keys, LRU eviction and the per-row memory budget.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agg_profile.h"
#include "flow4.h"
#include "tap.h"

#define TAP_NAME "test_agg"

/* Tables live in store regions; the tests' own is anonymous (no files), and
 * every table gets a name of its own. */
static struct store *mem(void)
{
	static struct store *st;
	char err[200];

	if (!st)
		st = store_open("", 1 << 20, 4096, err, sizeof(err));
	return st;
}

static struct agg_table *new_table(size_t key_max, size_t limit)
{
	static unsigned n;
	char name[32];
	enum store_origin o;

	snprintf(name, sizeof(name), "table-%u", ++n);
	return agg_table_new(key_max, 0, limit, mem(), name, 0, &o);
}

static struct slice slice_of(const struct ct_flow *f)
{
	struct slice s;

	memset(&s, 0, sizeof(s));
	s.flow = f;
	s.flags = SLICE_START | SLICE_END;
	s.reason = SLICE_DESTROY;
	s.time_ns = 1700000000ull * 1000000000ull;
	memcpy(s.pkts, f->pkts, sizeof(s.pkts));
	memcpy(s.bytes, f->bytes, sizeof(s.bytes));
	return s;
}

static struct agg_set *one_profile(const char *key, int view, size_t rows)
{
	struct agg_profile_def def;
	char err[200];

	static unsigned n;

	memset(&def, 0, sizeof(def));
	snprintf(def.name, sizeof(def.name), "t%u", ++n);
	if (agg_keyspec_parse(key, &def.spec, err, sizeof(err)) < 0) {
		printf("  # %s: %s\n", key, err);
		return NULL;
	}
	def.spec.view = (uint8_t)view;
	def.rows = rows;
	return agg_set_new(&def, 1, mem(), NULL, NULL);
}

/* Find the row whose first address field decodes to `addr` (and port if != 0). */
static const struct agg_counters *row_for(struct agg_set *set, const char *addr)
{
	const struct agg_profile *p = agg_set_profile(set, 0);

	for (uint32_t i = agg_table_next(p->tab, 0); i; i = agg_table_next(p->tab, i)) {
		const struct agg_counters *r = agg_table_counters(p->tab, i);
		struct agg_key k;
		struct agg_key_fields kf;
		char buf[64];

		agg_table_key(p->tab, i, &k);
		if (agg_key_decode(&p->spec, &k, &kf) < 0)
			continue;
		inet_ntop(kf.family == 2 ? AF_INET6 : AF_INET, kf.addr[0].b, buf, sizeof(buf));
		if (strcmp(buf, addr) == 0)
			return r;
	}
	return NULL;
}

static void keyspec_parses_and_formats(void)
{
	struct agg_keyspec ks;
	char err[200], txt[200];

	CHECK(agg_keyspec_parse("src/24/64, dst proto,port", &ks, err, sizeof(err)) == 0);
	CHECK_EQ_U(ks.nfields, 4);
	CHECK_EQ_U(ks.f[0].plen4, 24);
	CHECK_EQ_U(ks.f[0].plen6, 64);
	CHECK_EQ_U(ks.f[1].plen4, 32);
	agg_keyspec_format(&ks, txt, sizeof(txt));
	CHECK(strcmp(txt, "src/24/64,dst,proto,port") == 0);
	CHECK_EQ_U(agg_keyspec_maxlen(&ks), 1 + 16 + 16 + 1 + 2);
	CHECK(agg_keyspec_parse("zone,mark", &ks, err, sizeof(err)) == 0);
	CHECK_EQ_U(agg_keyspec_maxlen(&ks), 6);
}

static void keyspec_errors_say_why(void)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "empty key" },
		{ "source", "unknown key field 'source'" },
		{ "src/33", "bad prefix" },
		{ "src/24/129", "bad prefix" },
		{ "src/x", "bad prefix length" },
		{ "proto/8", "takes no prefix" },
		{ "host,src", "cannot be combined" },
		{ "dst,dst", "given twice" },
	};
	struct agg_keyspec ks;
	char err[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		CHECK(agg_keyspec_parse(bad[i].text, &ks, err, sizeof(err)) < 0);
		if (!strstr(err, bad[i].why))
			printf("  # '%s' gave '%s', expected '%s'\n", bad[i].text, err, bad[i].why);
		CHECK(strstr(err, bad[i].why) != NULL);
	}
}

static void prefixes_mask_addresses(void)
{
	struct agg_set *set = one_profile("src/20/60", AGG_VIEW_ORIGINAL, 16);
	struct ct_flow f = flow4("10.1.47.3", "10.9.9.9", 6, 1000, 80);
	struct ct_flow g = flow4("10.1.33.200", "10.9.9.9", 6, 1001, 80);
	struct ct_flow h;
	struct slice s;

	s = slice_of(&f);
	agg_set_apply(set, &s, 1);
	s = slice_of(&g);
	agg_set_apply(set, &s, 1);
	const struct agg_counters *r = row_for(set, "10.1.32.0");

	CHECK(r != NULL);
	if (r)
		CHECK_EQ_U(r->bytes[0], 2000);
	/* IPv6 /60 */
	memset(&h, 0, sizeof(h));
	h.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1:2fff::1", h.tuple[CT_ORIG].src.b);
	inet_pton(AF_INET6, "2001:db8::9", h.tuple[CT_ORIG].dst.b);
	h.tuple[CT_REPLY].src = h.tuple[CT_ORIG].dst;
	h.tuple[CT_REPLY].dst = h.tuple[CT_ORIG].src;
	h.pkts[0] = 1, h.bytes[0] = 77;
	s = slice_of(&h);
	agg_set_apply(set, &s, 1);
	r = row_for(set, "2001:db8:1:2ff0::");
	CHECK(r != NULL);
	if (r)
		CHECK_EQ_U(r->bytes[0], 77);
	agg_set_free(set);
}

static void host_profile_counts_each_endpoint_from_its_side(void)
{
	struct agg_set *set = one_profile("host", AGG_VIEW_ORIGINAL, 16);
	struct ct_flow f = flow4("10.0.0.1", "10.0.0.2", 6, 1000, 80);
	struct slice s = slice_of(&f);

	agg_set_apply(set, &s, 1);
	const struct agg_counters *a = row_for(set, "10.0.0.1"), *b = row_for(set, "10.0.0.2");

	CHECK(a && b);
	if (!a || !b)
		return;
	CHECK_EQ_U(a->pkts[0], 10);   /* sent by the client */
	CHECK_EQ_U(a->bytes[1], 500); /* received by the client */
	CHECK_EQ_U(b->bytes[0], 500); /* sent by the server */
	CHECK_EQ_U(b->pkts[1], 10);
	CHECK_EQ_U(a->flows_started, 1);
	CHECK_EQ_U(b->flows_ended, 1);
	agg_set_free(set);
}

static void host_prefix_with_both_ends_inside_counts_flow_once(void)
{
	struct agg_set *set = one_profile("host/8", AGG_VIEW_ORIGINAL, 16);
	struct ct_flow f = flow4("10.0.0.1", "10.0.0.2", 17, 1000, 53);
	struct slice s = slice_of(&f);

	agg_set_apply(set, &s, 1);
	const struct agg_counters *r = row_for(set, "10.0.0.0");

	CHECK(r != NULL);
	if (r) {
		CHECK_EQ_U(r->bytes[0], 1500);
		CHECK_EQ_U(r->bytes[1], 1500);
		CHECK_EQ_U(r->flows_started, 1);
	}
	CHECK_EQ_U(agg_set_profile(set, 0)->tab ? 1 : 0, 1);
	agg_set_free(set);
}

static void icmp_service_key_is_type_and_code(void)
{
	struct agg_set *set = one_profile("proto,port", AGG_VIEW_ORIGINAL, 16);
	struct ct_flow f = flow4("10.0.0.1", "10.0.0.2", 1, 0, 0);
	struct slice s;
	struct agg_key k;
	struct agg_key_fields kf;

	f.tuple[CT_ORIG].icmp_type = 8;
	f.tuple[CT_REPLY].icmp_type = 0;
	s = slice_of(&f);
	agg_set_apply(set, &s, 1);
	const struct agg_profile *p = agg_set_profile(set, 0);
	uint32_t i = agg_table_next(p->tab, 0);

	CHECK(i != 0);
	agg_table_key(p->tab, i, &k);
	CHECK(agg_key_decode(&p->spec, &k, &kf) == 0);
	CHECK_EQ_U(kf.proto, 1);
	CHECK_EQ_U(kf.port, 8 << 8);
	agg_set_free(set);
}

static void translated_view_keys_post_nat_addresses(void)
{
	/* DNAT: client 10.0.0.1 -> 192.0.2.1:8080, really 10.1.0.5:80 */
	struct agg_set *set = one_profile("dst,port", AGG_VIEW_TRANSLATED, 16);
	struct agg_set *orig = one_profile("dst,port", AGG_VIEW_ORIGINAL, 16);
	struct ct_flow f = flow4("10.0.0.1", "192.0.2.1", 6, 1000, 8080);
	struct slice s;
	struct agg_key k;
	struct agg_key_fields kf;

	inet_pton(AF_INET, "10.1.0.5", f.tuple[CT_REPLY].src.b);
	f.tuple[CT_REPLY].sport = 80;
	s = slice_of(&f);
	agg_set_apply(set, &s, 1);
	agg_set_apply(orig, &s, 1);
	const struct agg_profile *p = agg_set_profile(set, 0);

	agg_table_key(p->tab, agg_table_next(p->tab, 0), &k);
	CHECK(agg_key_decode(&p->spec, &k, &kf) == 0);
	CHECK_EQ_U(kf.port, 80);
	CHECK_EQ_U(kf.addr[1].b[3], 5);
	p = agg_set_profile(orig, 0);
	agg_table_key(p->tab, agg_table_next(p->tab, 0), &k);
	CHECK(agg_key_decode(&p->spec, &k, &kf) == 0);
	CHECK_EQ_U(kf.port, 8080);
	CHECK_EQ_U(kf.addr[1].b[0], 192);
	agg_set_free(set);
	agg_set_free(orig);
}

static void full_table_evicts_least_recently_updated(void)
{
	struct agg_table *t = new_table(4, 3);
	struct agg_key k[4];
	struct agg_table_stats st;

	for (int i = 0; i < 4; i++) {
		k[i].len = 4;
		memset(k[i].b, 0, sizeof(k[i].b));
		k[i].b[3] = (uint8_t)(i + 1);
	}
	agg_table_upsert(t, &k[0], 1)->bytes[0] = 1;
	agg_table_upsert(t, &k[1], 2)->bytes[0] = 2;
	agg_table_upsert(t, &k[2], 3)->bytes[0] = 3;
	agg_table_upsert(t, &k[0], 4);          /* k0 is now the most recent */
	agg_table_upsert(t, &k[3], 5)->bytes[0] = 4; /* evicts k1 */
	CHECK(agg_table_find(t, &k[0]) != NULL);
	CHECK(agg_table_find(t, &k[1]) == NULL);
	CHECK(agg_table_find(t, &k[2]) != NULL);
	CHECK(agg_table_find(t, &k[3]) != NULL);
	CHECK(agg_table_find(t, &k[3])->bytes[0] == 4);
	CHECK(agg_table_find(t, &k[0])->bytes[0] == 1);
	agg_table_get_stats(t, &st);
	CHECK_EQ_U(st.evictions, 1);
	CHECK_EQ_U(st.rows, 3);
	agg_table_free(t);
}

static void hundred_thousand_rows_all_findable(void)
{
	struct agg_table *t = new_table(16, 100000);
	struct agg_key k;
	int missing = 0;

	k.len = 16;
	memset(k.b, 0, sizeof(k.b));
	for (uint32_t i = 0; i < 100000; i++) {
		memcpy(k.b + 12, &i, 4);
		agg_table_upsert(t, &k, 1)->pkts[0] = i;
	}
	for (uint32_t i = 0; i < 100000; i++) {
		memcpy(k.b + 12, &i, 4);
		const struct agg_counters *r = agg_table_find(t, &k);

		if (!r || r->pkts[0] != i)
			missing++;
	}
	CHECK_EQ_U(missing, 0);
	agg_table_free(t);
}

/* The budget is 128 bytes per aggregate row, the worst key included. */
static void rows_fit_in_128_bytes(void)
{
	struct agg_set *set = one_profile("src,dst,proto,port,zone,mark", AGG_VIEW_ORIGINAL, 1 << 16);
	struct agg_table_stats st;

	agg_table_get_stats(agg_set_profile(set, 0)->tab, &st);
	printf("  # worst-case row: %u bytes + 4 bytes of hash bucket\n", st.row_bytes);
	CHECK(st.row_bytes + 4 <= 128);
	agg_set_free(set);
}

static void zone_and_mark_are_key_fields(void)
{
	struct agg_set *set = one_profile("zone,mark", AGG_VIEW_ORIGINAL, 16);
	struct ct_flow f = flow4("10.0.0.1", "10.0.0.2", 6, 1, 2);
	struct slice s;
	struct agg_key k;
	struct agg_key_fields kf;

	f.zone = 7;
	f.mark = 0xdeadbeef;
	s = slice_of(&f);
	agg_set_apply(set, &s, 1);
	const struct agg_profile *p = agg_set_profile(set, 0);

	agg_table_key(p->tab, agg_table_next(p->tab, 0), &k);
	CHECK(agg_key_decode(&p->spec, &k, &kf) == 0);
	CHECK_EQ_U(kf.zone, 7);
	CHECK_EQ_U(kf.mark, 0xdeadbeef);
	CHECK_EQ_U(kf.family, 0);
	agg_set_free(set);
}

/* ---- ordered index and ranking ---- */

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint32_t rnd32(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

static void random_key(struct agg_key *k)
{
	memset(k, 0, sizeof(*k));
	k->len = (uint8_t)(1 + rnd32() % 6); /* short keys: plenty of shared prefixes */
	for (unsigned i = 0; i < k->len; i++)
		k->b[i] = (uint8_t)(rnd32() % 4);
}

static int key_qsort(const void *a, const void *b)
{
	return agg_key_cmp(a, b);
}

static int after_key(void *ctx, const struct agg_key *k)
{
	return agg_key_cmp(k, ctx) > 0 ? 1 : -1;
}

/* The keys in the table, sorted: the reference the ordered walk must match. */
static size_t sorted_keys(const struct agg_table *t, struct agg_key *out)
{
	size_t n = 0;

	for (uint32_t i = agg_table_next(t, 0); i; i = agg_table_next(t, i))
		agg_table_key(t, i, &out[n++]);
	qsort(out, n, sizeof(*out), key_qsort);
	return n;
}

static void ordered_walk_matches_sorted_keys_through_evictions(void)
{
	enum { LIMIT = 3000 };
	struct agg_table *t = new_table(8, LIMIT);
	static struct agg_key ref[LIMIT], k;
	int bad = 0;

	for (uint32_t i = 0; i < 30000; i++) {
		random_key(&k);
		agg_table_upsert(t, &k, i / 10);
		if (i % 7 == 0) /* partial syncs between evictions, as the loop does */
			agg_table_order_sync(t, 5);
	}
	size_t n = sorted_keys(t, ref), walked = 0;
	uint32_t idx = agg_table_first_ordered(t);

	while (idx && walked < n + 1) {
		agg_table_key(t, idx, &k);
		if (agg_key_cmp(&k, &ref[walked]) != 0)
			bad++;
		walked++;
		idx = agg_table_seek(t, after_key, &k);
	}
	CHECK_EQ_U(walked, n);
	CHECK_EQ_U(bad, 0);
	agg_table_free(t);
}

static void seek_finds_the_successor_of_any_point(void)
{
	enum { LIMIT = 2000 };
	struct agg_table *t = new_table(8, LIMIT);
	static struct agg_key ref[LIMIT];
	struct agg_key k, probe;
	int bad = 0;

	for (uint32_t i = 0; i < 5000; i++) {
		random_key(&k);
		agg_table_upsert(t, &k, i);
	}
	size_t n = sorted_keys(t, ref);

	for (int q = 0; q < 5000; q++) {
		random_key(&probe);
		uint32_t idx = agg_table_seek(t, after_key, &probe);
		size_t j = 0;

		while (j < n && agg_key_cmp(&ref[j], &probe) <= 0)
			j++;
		if (j == n) {
			bad += idx != 0;
			continue;
		}
		if (!idx) {
			bad++;
			continue;
		}
		agg_table_key(t, idx, &k);
		bad += agg_key_cmp(&k, &ref[j]) != 0;
	}
	CHECK_EQ_U(bad, 0);
	agg_table_free(t);
}

static void ranking_orders_rows_by_growth_in_the_window(void)
{
	struct agg_table *t = new_table(4, 100);
	struct agg_rank top[3];
	struct agg_key k = { 4, { 0 } };

	for (int i = 1; i <= 10; i++) {
		k.b[3] = (uint8_t)i;
		struct agg_counters *r = agg_table_upsert(t, &k, 1);

		r->bytes[0] = (uint64_t)i * 100;
		r->bytes[1] = (uint64_t)i;
	}
	CHECK_EQ_U(agg_table_rank(t, top, 3), 3);
	CHECK_EQ_U(top[0].octets, 1010);
	CHECK_EQ_U(top[0].key.b[3], 10);
	CHECK_EQ_U(top[2].key.b[3], 8);
	CHECK_EQ_U(agg_table_rank(t, top, 3), 0); /* nothing grew since */
	k.b[3] = 2;
	agg_table_upsert(t, &k, 2)->bytes[0] += 5000;
	CHECK_EQ_U(agg_table_rank(t, top, 3), 1);
	CHECK_EQ_U(top[0].octets, 5000);
	CHECK_EQ_U(top[0].key.b[3], 2);
	agg_table_free(t);
}

static struct agg_key key4(uint8_t last)
{
	struct agg_key k = { 4, { 10, 0, 0, last } };

	return k;
}

/*
 * A table in a state directory: its rows, counters and creation times are
 * there after a restart, the least recently updated row is still the one
 * evicted, a transaction that did not commit is rolled back, and rows that
 * cannot be right make the region be refused (kept aside), not trusted.
 */
static void rows_survive_a_restart(void)
{
	char dir[] = "/tmp/ctflowd-test-agg.XXXXXX", err[200], cmd[100];
	struct store *st;
	struct agg_table *t;
	struct agg_key k[4] = { key4(1), key4(2), key4(3), key4(4) };
	struct agg_table_stats ts;
	enum store_origin o;

	CHECK(mkdtemp(dir) != NULL);
	st = store_open(dir, 1 << 20, 4096, err, sizeof(err));
	t = agg_table_new(4, 0, 3, st, "rows", 7, &o);
	CHECK(o == STORE_FRESH);
	store_begin(st);
	for (int i = 0; i < 3; i++)
		agg_table_upsert(t, &k[i], (uint32_t)(i + 1))->bytes[0] = (uint64_t)(i + 1);
	store_commit(st);
	agg_table_free(t);
	t = agg_table_new(4, 0, 3, st, "rows", 7, &o);
	CHECK(o == STORE_KEPT);
	CHECK(agg_table_find(t, &k[0]) && agg_table_find(t, &k[0])->bytes[0] == 1);
	CHECK(agg_table_find(t, &k[0]) && agg_table_find(t, &k[0])->created == 1);
	store_begin(st);
	agg_table_upsert(t, &k[3], 5)->bytes[0] = 4; /* evicts k0: last update 1 */
	store_commit(st);
	CHECK(agg_table_find(t, &k[0]) == NULL);
	agg_table_get_stats(t, &ts);
	CHECK_EQ_U(ts.evictions, 1);
	/* killed in the middle of a transaction */
	store_begin(st);
	agg_table_upsert(t, &k[1], 6)->bytes[0] = 99;
	agg_table_upsert(t, &k[0], 6); /* evicts k2 */
	agg_table_free(t);
	store_close(st);
	st = store_open(dir, 1 << 20, 4096, err, sizeof(err));
	t = agg_table_new(4, 0, 3, st, "rows", 7, &o);
	CHECK(o == STORE_KEPT);
	CHECK(agg_table_find(t, &k[1]) && agg_table_find(t, &k[1])->bytes[0] == 2);
	CHECK(agg_table_find(t, &k[2]) != NULL);
	CHECK(agg_table_find(t, &k[0]) == NULL);
	agg_table_get_stats(t, &ts);
	CHECK_EQ_U(ts.rows, 3);
	CHECK_EQ_U(ts.evictions, 1);
	/* a row with an impossible key: the region is refused */
	store_begin(st);
	agg_table_upsert(t, &k[1], 7);
	store_commit(st);
	{ /* a bit flip past the counters, where the row's key length is */
		unsigned char *row = (unsigned char *)(uintptr_t)agg_table_find(t, &k[1]);

		agg_table_get_stats(t, &ts);
		memset(row + sizeof(struct agg_counters), 0xff,
		       ts.row_bytes - sizeof(struct agg_counters));
	}
	agg_table_free(t);
	t = agg_table_new(4, 0, 3, st, "rows", 7, &o);
	CHECK(o == STORE_FRESH);
	agg_table_get_stats(t, &ts);
	CHECK_EQ_U(ts.rows, 0);
	char notes[4][STORE_NOTE_MAX];

	CHECK_EQ_U(store_notes(st, notes, 4), 1);
	CHECK(strstr(notes[0], "impossible length") != NULL);
	agg_table_free(t);
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

/* Reload: a profile whose definition did not change keeps its table (rows,
 * counters); a changed one starts empty; the old set's leftovers go. */
static void reload_keeps_unchanged_profiles(void)
{
	struct agg_profile_def defs[2];
	char err[200];
	size_t kept;

	memset(defs, 0, sizeof(defs));
	snprintf(defs[0].name, sizeof(defs[0].name), "keep");
	snprintf(defs[1].name, sizeof(defs[1].name), "change");
	agg_keyspec_parse("host", &defs[0].spec, err, sizeof(err));
	agg_keyspec_parse("proto,port", &defs[1].spec, err, sizeof(err));
	defs[0].rows = defs[1].rows = 16;
	struct agg_set *a = agg_set_new(defs, 2, mem(), NULL, NULL);
	struct ct_flow f = flow4("10.0.0.1", "10.0.0.2", 6, 1000, 80);
	struct slice s = slice_of(&f);

	agg_set_apply(a, &s, 1);
	agg_keyspec_parse("proto", &defs[1].spec, err, sizeof(err));
	struct agg_set *b = agg_set_new(defs, 2, mem(), a, &kept);

	CHECK(b != NULL);
	CHECK_EQ_U(kept, 1);
	struct agg_table_stats st0, st1;

	agg_table_get_stats(agg_set_profile(b, 0)->tab, &st0);
	agg_table_get_stats(agg_set_profile(b, 1)->tab, &st1);
	CHECK_EQ_U(st0.rows, 2);
	CHECK_EQ_U(st1.rows, 0);
	agg_set_retire(a);
	agg_set_free(b);
}

int main(void)
{
	RUN(keyspec_parses_and_formats);
	RUN(keyspec_errors_say_why);
	RUN(prefixes_mask_addresses);
	RUN(host_profile_counts_each_endpoint_from_its_side);
	RUN(host_prefix_with_both_ends_inside_counts_flow_once);
	RUN(icmp_service_key_is_type_and_code);
	RUN(translated_view_keys_post_nat_addresses);
	RUN(full_table_evicts_least_recently_updated);
	RUN(hundred_thousand_rows_all_findable);
	RUN(rows_fit_in_128_bytes);
	RUN(zone_and_mark_are_key_fields);
	RUN(ordered_walk_matches_sorted_keys_through_evictions);
	RUN(seek_finds_the_successor_of_any_point);
	RUN(ranking_orders_rows_by_growth_in_the_window);
	RUN(rows_survive_a_restart);
	RUN(reload_keeps_unchanged_profiles);
	TAP_DONE();
}
