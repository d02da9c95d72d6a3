/*
 * acct_track: a chained hash table of tracked flows over one arena.
 *
 * The arena is a store region: a header (the counters, the dump generation,
 * how many slots were ever used) and the entries, addressed by 1-based uint32
 * indexes (0 = none) so the chain and free-list links cost 4 bytes.  Only
 * what is touched is backed by memory (and disk), so an idle daemon does not
 * hold the worst case.  The bucket array and the free list are rebuilt from
 * the entries at start; the bucket array doubles as entries are added and
 * halves again when they go, because every DESTROY looks a bucket up and a
 * larger array than the table needs costs a cache miss per event.
 *
 * Entries are hashed by id and tuple alone, so the incarnations of one tuple
 * share a chain: that is where a new incarnation is noticed (and counted).
 */
#include "acct_track.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base_hash.h"

enum ent_state { ENT_FREE = 0, ENT_LIVE, ENT_TOMB, ENT_ZOMBIE };

/* Hashed and compared as bytes: no padding (44 bytes, 4-byte aligned). */
struct flow_ident {
	union ct_addr src, dst;
	uint32_t id;
	uint16_t sport, dport; /* ICMP: echo id, type << 8 | code */
	uint16_t zone;
	uint8_t family, proto;
};

struct track_ent {
	struct flow_ident key;
	uint32_t next;          /* hash chain or free list (rebuilt at start) */
	uint64_t start_ns;      /* part of the identity; 0 when timestamps are off */
	uint64_t pkts[2], bytes[2];
	union ct_addr rsrc, rdst; /* reply tuple, kept for NAT in unobserved slices */
	uint16_t rsport, rdport;
	uint32_t mark;
	uint32_t gen;           /* LIVE/ZOMBIE: last dump generation that saw it */
	uint8_t state;
};

/* The persistent part besides the entries. */
struct track_hdr {
	uint32_t fresh;         /* slots handed out so far */
	uint32_t gen;           /* current dump generation */
	uint32_t epoch;         /* store epoch this header was last saved in */
	uint32_t pad;
	struct track_stats st;
};

#define HDR_BYTES ((sizeof(struct track_hdr) + 63) & ~(size_t)63)
#define TRACK_LAYOUT 2u /* bump when struct track_ent or track_hdr change */

struct track {
	struct slice_sink sink;
	struct store *store;
	struct hash_key hk;
	uint32_t *buckets;
	uint32_t nbuckets;     /* power of two */
	struct track_hdr *h;
	struct track_ent *ents;
	size_t limit;
	uint32_t free_head;
	uint32_t recovered_gen; /* entries seen by no dump after this were tracked before the start */
	int dumping;
	int sweep_pending;
	int sweep_closes;      /* the dump completed, so absence means gone */
	uint32_t sweep_pos;
};

size_t track_save_max(void)
{
	/* an entry, the header, and the records' own headers */
	return 2 * sizeof(struct track_ent) + HDR_BYTES + 4 * 32;
}

static int is_icmp(uint8_t proto)
{
	return proto == 1 || proto == 58;
}

static void tuple_ports(const struct ct_tuple *t, uint16_t *a, uint16_t *b)
{
	if (is_icmp(t->proto)) {
		*a = t->icmp_id;
		*b = ct_icmp_port(t);
	} else {
		*a = t->sport;
		*b = t->dport;
	}
}

static void ident_from_flow(const struct ct_flow *f, struct flow_ident *k)
{
	const struct ct_tuple *t = &f->tuple[CT_ORIG];

	memset(k, 0, sizeof(*k));
	k->src = t->src;
	k->dst = t->dst;
	k->id = f->id;
	k->zone = f->zone;
	k->family = f->family;
	k->proto = t->proto;
	tuple_ports(t, &k->sport, &k->dport);
}

static uint64_t flow_start(const struct ct_flow *f)
{
	return (f->has & CT_HAS_START) ? f->start_ns : 0;
}

static struct track_ent *ent_at(const struct track *tr, uint32_t idx)
{
	return &tr->ents[idx - 1];
}

static uint32_t bucket_of(const struct track *tr, const struct flow_ident *k)
{
	return (uint32_t)hash_bytes(&tr->hk, k, sizeof(*k)) & (tr->nbuckets - 1);
}

/* ---- journal: save before change ---- */

static struct track_stats *stats_w(struct track *tr)
{
	uint32_t epoch = store_epoch(tr->store);

	if (tr->h->epoch != epoch) {
		store_save(tr->store, tr->h, sizeof(*tr->h));
		tr->h->epoch = epoch;
	}
	return &tr->h->st;
}

static void ent_w(struct track *tr, struct track_ent *e)
{
	store_save(tr->store, e, sizeof(*e));
}

void track_prefetch(const struct track *tr, const struct ct_flow *f, int stage)
{
	struct flow_ident k;
	const uint32_t *b;

	ident_from_flow(f, &k);
	b = &tr->buckets[bucket_of(tr, &k)];
	if (stage == 0)
		__builtin_prefetch(b);
	else if (*b)
		__builtin_prefetch(ent_at(tr, *b), 1);
}

#define MIN_BUCKETS 1024u

static void rehash(struct track *tr, uint32_t nb)
{
	uint32_t *b = calloc(nb, sizeof(*b));

	if (!b)
		return; /* keep the old array: longer chains, still correct */
	free(tr->buckets);
	tr->buckets = b;
	tr->nbuckets = nb;
	for (uint32_t idx = 1; idx <= tr->h->fresh; idx++) {
		struct track_ent *e = ent_at(tr, idx);

		if (e->state == ENT_FREE)
			continue;
		uint32_t h = bucket_of(tr, &e->key);

		e->next = b[h];
		b[h] = idx;
	}
}

/* Double the bucket array when entries outnumber buckets (load factor 1). */
static void maybe_grow(struct track *tr)
{
	if (tr->h->st.tracked >= tr->nbuckets && tr->nbuckets < tr->limit)
		rehash(tr, tr->nbuckets * 2);
}

/* Halve it again when a quarter full, e.g. after a dump's tombstones are gone. */
static void maybe_shrink(struct track *tr)
{
	uint32_t nb = tr->nbuckets;

	while (nb > MIN_BUCKETS && tr->h->st.tracked < nb / 4)
		nb /= 2;
	if (nb != tr->nbuckets)
		rehash(tr, nb);
}

static uint32_t ent_alloc(struct track *tr)
{
	uint32_t idx = tr->free_head;

	if (idx) {
		tr->free_head = ent_at(tr, idx)->next;
		return idx;
	}
	if (tr->h->fresh >= tr->limit)
		return 0;
	stats_w(tr);
	return ++tr->h->fresh;
}

static struct track_ent *ent_insert(struct track *tr, const struct flow_ident *k,
				    uint64_t start, uint8_t state)
{
	uint32_t idx;

	maybe_grow(tr);
	idx = ent_alloc(tr);
	if (!idx) {
		stats_w(tr)->full_refusals++;
		return NULL;
	}
	struct track_ent *e = ent_at(tr, idx);
	uint32_t b = bucket_of(tr, k);

	ent_w(tr, e);
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->start_ns = start;
	e->state = state;
	e->next = tr->buckets[b];
	tr->buckets[b] = idx;
	stats_w(tr)->tracked++;
	return e;
}

/* The entry of this incarnation; *sibling says whether another incarnation
 * of the same id and tuple is tracked. */
static struct track_ent *ent_find(const struct track *tr, const struct flow_ident *k,
				  uint64_t start, int *sibling)
{
	*sibling = 0;
	for (uint32_t idx = tr->buckets[bucket_of(tr, k)]; idx; idx = ent_at(tr, idx)->next) {
		struct track_ent *e = ent_at(tr, idx);

		if (memcmp(&e->key, k, sizeof(*k)) != 0)
			continue;
		if (e->start_ns == start)
			return e;
		*sibling = 1;
	}
	return NULL;
}

static void ent_remove(struct track *tr, struct track_ent *e)
{
	uint32_t *link = &tr->buckets[bucket_of(tr, &e->key)];

	while (*link && ent_at(tr, *link) != e)
		link = &ent_at(tr, *link)->next;
	if (!*link)
		return;
	uint32_t idx = *link;

	*link = e->next;
	ent_w(tr, e);
	e->state = ENT_FREE;
	e->next = tr->free_head;
	tr->free_head = idx;
	stats_w(tr)->tracked--;
}

static void ent_remember(struct track_ent *e, const struct ct_flow *f)
{
	const struct ct_tuple *r = &f->tuple[CT_REPLY];

	if (f->has & CT_HAS_COUNTERS) {
		memcpy(e->pkts, f->pkts, sizeof(e->pkts));
		memcpy(e->bytes, f->bytes, sizeof(e->bytes));
	}
	e->rsrc = r->src;
	e->rdst = r->dst;
	tuple_ports(r, &e->rsport, &e->rdport);
	e->mark = f->mark;
}

/* Rebuild a flow from what we remember, for slices without a kernel message. */
static void flow_from_ent(const struct track_ent *e, struct ct_flow *f)
{
	struct ct_tuple *o = &f->tuple[CT_ORIG], *r = &f->tuple[CT_REPLY];

	memset(f, 0, sizeof(*f));
	f->family = e->key.family;
	f->kind = CT_MSG_FLOW_DESTROY;
	f->id = e->key.id;
	f->zone = e->key.zone;
	f->mark = e->mark;
	f->has = CT_HAS_COUNTERS | CT_HAS_MARK | (e->key.zone ? CT_HAS_ZONE : 0u) |
		 (e->start_ns ? CT_HAS_START : 0u);
	f->start_ns = e->start_ns;
	memcpy(f->pkts, e->pkts, sizeof(f->pkts));
	memcpy(f->bytes, e->bytes, sizeof(f->bytes));
	o->src = e->key.src;
	o->dst = e->key.dst;
	r->src = e->rsrc;
	r->dst = e->rdst;
	o->proto = r->proto = e->key.proto;
	if (is_icmp(e->key.proto)) {
		o->icmp_id = e->key.sport;
		o->icmp_type = (uint8_t)(e->key.dport >> 8);
		o->icmp_code = (uint8_t)e->key.dport;
		r->icmp_id = e->rsport;
		r->icmp_type = (uint8_t)(e->rdport >> 8);
		r->icmp_code = (uint8_t)e->rdport;
	} else {
		o->sport = e->key.sport;
		o->dport = e->key.dport;
		r->sport = e->rsport;
		r->dport = e->rdport;
	}
}

/*
 * Growth from the remembered counters to the flow's.  If any counter went
 * backwards someone zeroed the entry (all four are zeroed together), so the
 * new values are the growth since then.  Without counters (accounting off)
 * there is no growth to report.
 */
static void slice_delta(struct track *tr, const struct track_ent *e, const struct ct_flow *f,
			struct slice *s)
{
	if (!(f->has & CT_HAS_COUNTERS))
		return;
	if (!e) {
		memcpy(s->pkts, f->pkts, sizeof(s->pkts));
		memcpy(s->bytes, f->bytes, sizeof(s->bytes));
		return;
	}
	int reset = 0;

	for (int d = 0; d < 2; d++)
		if (f->pkts[d] < e->pkts[d] || f->bytes[d] < e->bytes[d])
			reset = 1;
	if (reset)
		stats_w(tr)->counter_resets++;
	for (int d = 0; d < 2; d++) {
		s->pkts[d] = reset ? f->pkts[d] : f->pkts[d] - e->pkts[d];
		s->bytes[d] = reset ? f->bytes[d] : f->bytes[d] - e->bytes[d];
	}
}

static void emit(struct track *tr, const struct slice *s)
{
	if (!s->flags && !(s->pkts[0] | s->pkts[1] | s->bytes[0] | s->bytes[1]))
		return;
	stats_w(tr)->slices++;
	tr->sink.slice(tr->sink.arg, s);
}

static void slice_init(struct slice *s, const struct ct_flow *f, uint8_t flags, uint8_t reason,
		       uint64_t time_ns)
{
	memset(s, 0, sizeof(*s));
	s->flow = f;
	s->flags = flags;
	s->reason = reason;
	s->time_ns = time_ns;
}

/* A LIVE entry leaves without DESTROY: account it as ended, no more growth known. */
static void close_unobserved(struct track *tr, struct track_ent *e, uint64_t now_ns)
{
	struct ct_flow f;
	struct slice s;
	struct track_stats *st = stats_w(tr);

	flow_from_ent(e, &f);
	slice_init(&s, &f, SLICE_END, SLICE_UNOBSERVED, now_ns);
	st->ended_unobserved++;
	if (e->gen <= tr->recovered_gen)
		st->ended_while_down++;
	emit(tr, &s);
}

/* The entry of f's incarnation, counting a new incarnation of a tracked tuple. */
static struct track_ent *lookup(struct track *tr, const struct ct_flow *f,
				struct flow_ident *k, int *sibling)
{
	ident_from_flow(f, k);
	return ent_find(tr, k, flow_start(f), sibling);
}

void track_destroy(struct track *tr, const struct ct_flow *f, uint64_t now_ns)
{
	struct flow_ident k;
	int sibling;
	struct track_ent *e = lookup(tr, f, &k, &sibling);
	uint64_t when = (f->has & CT_HAS_STOP) ? f->stop_ns : now_ns;
	struct track_stats *st = stats_w(tr);
	struct slice s;

	st->destroys++;
	if (!(f->has & CT_HAS_COUNTERS))
		st->no_counters++;
	if (e && e->state == ENT_TOMB) {
		st->duplicate_destroys++;
		return;
	}
	if (!e) {
		slice_init(&s, f, SLICE_START | SLICE_END, SLICE_DESTROY, when);
		st->incarnations += (uint64_t)sibling;
	} else if (e->state == ENT_LIVE) {
		slice_init(&s, f, SLICE_END, SLICE_DESTROY, when);
	} else {
		slice_init(&s, f, 0, SLICE_LATE_DESTROY, when);
		st->late_destroys++;
	}
	slice_delta(tr, e, f, &s);
	emit(tr, &s);
	if (!tr->dumping) {
		if (e)
			ent_remove(tr, e);
		return;
	}
	/* A dump is running and may still deliver an older copy of this flow. */
	if (!e)
		e = ent_insert(tr, &k, flow_start(f), ENT_TOMB);
	if (e) {
		ent_w(tr, e);
		e->state = ENT_TOMB;
	}
}

/*
 * A sweep still pending from the previous cycle is abandoned: entries it would
 * have closed keep their old generation and are caught by the next sweep, and
 * tombstones keep swallowing rows of flows that are dead anyway.
 */
void track_dump_begin(struct track *tr)
{
	stats_w(tr);
	tr->h->gen++;
	tr->dumping = 1;
	tr->sweep_pending = 0;
}

void track_dump_row(struct track *tr, const struct ct_flow *f, uint64_t now_ns)
{
	struct flow_ident k;
	int sibling;
	struct track_ent *e = lookup(tr, f, &k, &sibling);
	struct track_stats *st = stats_w(tr);
	struct slice s;

	st->dump_rows++;
	if (!(f->has & CT_HAS_COUNTERS))
		st->no_counters++;
	if (e && e->state == ENT_TOMB) {
		st->stale_rows++;
		return;
	}
	if (!e) {
		/* being destroyed: its DESTROY (queued, or applied already) counts it */
		if (f->has & CT_HAS_STOP) {
			st->dying_rows++;
			return;
		}
		e = ent_insert(tr, &k, flow_start(f), ENT_LIVE);
		if (!e)
			return; /* untracked: its DESTROY will account it from zero */
		st->incarnations += (uint64_t)sibling;
		slice_init(&s, f, SLICE_START, SLICE_INTERIM, now_ns);
		slice_delta(tr, NULL, f, &s);
	} else {
		ent_w(tr, e);
		slice_init(&s, f, 0, SLICE_INTERIM, now_ns);
		slice_delta(tr, e, f, &s);
	}
	ent_remember(e, f);
	e->gen = tr->h->gen;
	emit(tr, &s);
}

void track_dump_end(struct track *tr, int ok)
{
	tr->dumping = 0;
	/* Even a failed dump must clear its tombstones; it just closes nothing. */
	tr->sweep_pending = 1;
	tr->sweep_closes = ok;
	tr->sweep_pos = 0;
}

int track_sweep_pending(const struct track *tr)
{
	return tr->sweep_pending;
}

static void sweep_one(struct track *tr, struct track_ent *e, uint64_t now_ns)
{
	int complete = tr->sweep_closes;
	uint32_t gen = tr->h->gen;

	switch (e->state) {
	case ENT_TOMB:
		ent_remove(tr, e);
		break;
	case ENT_LIVE:
		if (complete && e->gen != gen) {
			close_unobserved(tr, e, now_ns);
			ent_w(tr, e);
			e->state = ENT_ZOMBIE;
			e->gen = gen;
		}
		break;
	case ENT_ZOMBIE:
		if (complete && e->gen != gen)
			ent_remove(tr, e);
		break;
	default:
		break;
	}
}

int track_sweep(struct track *tr, size_t budget, uint64_t now_ns)
{
	if (!tr->sweep_pending)
		return 0;
	while (budget-- > 0 && tr->sweep_pos < tr->h->fresh) {
		struct track_ent *e = ent_at(tr, ++tr->sweep_pos);

		sweep_one(tr, e, now_ns);
	}
	if (tr->sweep_pos < tr->h->fresh)
		return 1;
	tr->sweep_pending = 0;
	stats_w(tr)->sweeps++;
	maybe_shrink(tr);
	return 0;
}

void track_get_stats(const struct track *tr, struct track_stats *st)
{
	*st = tr->h->st;
	st->limit = tr->limit;
	st->bytes_used = (uint64_t)tr->h->fresh * sizeof(struct track_ent) +
			 (uint64_t)tr->nbuckets * sizeof(uint32_t);
}

/* ---- start: the region, checked and indexed ---- */

/* NULL when the entries of a kept region are sound; else what is wrong. */
static const char *check_entries(const struct track *tr)
{
	uint64_t used = 0;

	if (tr->h->fresh > tr->limit)
		return "more entries than the table holds";
	for (uint32_t idx = 1; idx <= tr->h->fresh; idx++) {
		const struct track_ent *e = ent_at(tr, idx);

		if (e->state == ENT_FREE)
			continue;
		if (e->state > ENT_ZOMBIE)
			return "an entry in an unknown state";
		if (e->key.family != AF_INET && e->key.family != AF_INET6)
			return "an entry of an unknown address family";
		if (e->gen > tr->h->gen)
			return "an entry from a later dump than the table's";
		used++;
	}
	if (used != tr->h->st.tracked)
		return "its entry count does not match its entries";
	return NULL;
}

/* Index what the region holds: chains, free list; tombstones of a dump that
 * ended with the last run go (its rows never come).  A duplicate incarnation
 * is a corrupt table. */
static const char *index_entries(struct track *tr)
{
	uint32_t nb = MIN_BUCKETS;

	for (uint32_t idx = 1; idx <= tr->h->fresh; idx++) {
		struct track_ent *e = ent_at(tr, idx);

		if (e->state == ENT_TOMB) {
			e->state = ENT_FREE;
			tr->h->st.tracked--;
		}
	}
	while (nb < tr->h->st.tracked && nb < tr->limit)
		nb *= 2;
	if (nb != tr->nbuckets) {
		uint32_t *b = calloc(nb, sizeof(*b));

		if (!b)
			return "no memory for its index";
		free(tr->buckets);
		tr->buckets = b;
		tr->nbuckets = nb;
	}
	tr->free_head = 0;
	for (uint32_t idx = tr->h->fresh; idx >= 1; idx--) {
		struct track_ent *e = ent_at(tr, idx);
		int sibling;

		if (e->state == ENT_FREE) {
			e->next = tr->free_head;
			tr->free_head = idx;
			continue;
		}
		if (ent_find(tr, &e->key, e->start_ns, &sibling))
			return "the same connection twice";
		uint32_t b = bucket_of(tr, &e->key);

		e->next = tr->buckets[b];
		tr->buckets[b] = idx;
	}
	return NULL;
}

static int map_region(struct track *tr, enum store_origin *origin)
{
	size_t size = HDR_BYTES + tr->limit * sizeof(struct track_ent);
	uint64_t sig = (uint64_t)TRACK_LAYOUT << 56 ^ (uint64_t)sizeof(struct track_ent) << 40 ^
		       (uint64_t)HDR_BYTES << 32 ^ tr->limit;
	unsigned char *p = store_region(tr->store, "track", sig, size, origin);

	if (!p)
		return -1;
	tr->h = (struct track_hdr *)(void *)p;
	tr->ents = (struct track_ent *)(void *)(p + HDR_BYTES);
	return 0;
}

struct track *track_new(size_t limit, const struct slice_sink *sink, struct store *st,
			enum store_origin *origin)
{
	struct track *tr;
	const char *why;

	if (limit == 0 || limit > UINT32_MAX / 2)
		return NULL;
	tr = calloc(1, sizeof(*tr));
	if (!tr)
		return NULL;
	tr->limit = limit;
	tr->sink = *sink;
	tr->store = st;
	tr->nbuckets = MIN_BUCKETS;
	tr->buckets = calloc(tr->nbuckets, sizeof(*tr->buckets));
	hash_key_random(&tr->hk);
	if (!tr->buckets || map_region(tr, origin) < 0) {
		track_free(tr);
		return NULL;
	}
	if (*origin == STORE_KEPT && ((why = check_entries(tr)) || (why = index_entries(tr)))) {
		void *p = store_region_reset(st, tr->h, why);

		if (!p) {
			track_free(tr);
			return NULL;
		}
		tr->h = p;
		tr->ents = (struct track_ent *)(void *)((unsigned char *)p + HDR_BYTES);
		memset(tr->buckets, 0, tr->nbuckets * sizeof(*tr->buckets));
		*origin = STORE_FRESH;
	}
	tr->recovered_gen = tr->h->gen;
	tr->h->st.recovered = tr->h->st.tracked;
	tr->h->epoch = 0;
	return tr;
}

void track_free(struct track *tr)
{
	if (!tr)
		return;
	if (tr->h)
		store_region_release(tr->store, tr->h);
	free(tr->buckets);
	free(tr);
}
