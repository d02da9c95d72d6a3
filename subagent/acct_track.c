/*
 * acct_track: a chained hash table of tracked flows over a chunked arena.
 *
 * Entries are addressed by 1-based uint32 indexes (0 = none) so the chain and
 * free-list links cost 4 bytes.  The arena grows 4096 entries at a time up to
 * the configured limit and the bucket array doubles as entries are added, so
 * an idle daemon does not hold the worst case, and every DESTROY's lookup
 * touches a bucket array sized to the flows actually tracked (a 4 MiB array
 * for a mostly empty table costs a cache miss per event).
 */
#include "acct_track.h"

#include <stdlib.h>
#include <string.h>

#include "base_hash.h"

#define CHUNK_SHIFT 12
#define CHUNK_SIZE (1u << CHUNK_SHIFT)

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
	uint32_t next;          /* hash chain or free list */
	uint64_t start_ns;      /* 0 when timestamps are off */
	uint64_t pkts[2], bytes[2];
	union ct_addr rsrc, rdst; /* reply tuple, kept for NAT in unobserved slices */
	uint16_t rsport, rdport;
	uint32_t mark;
	uint32_t gen;           /* LIVE/ZOMBIE: last dump generation that saw it */
	uint8_t state;
};

struct track {
	struct slice_sink sink;
	struct hash_key hk;
	uint32_t *buckets;
	uint32_t nbuckets; /* power of two */
	struct track_ent **chunks;
	size_t nchunks;
	size_t limit;
	uint32_t fresh;     /* entries handed out from the arena so far */
	uint32_t free_head;
	uint32_t gen;       /* current dump generation */
	int dumping;
	int sweep_pending;
	int sweep_closes;   /* the dump completed, so absence means gone */
	uint32_t sweep_pos;
	struct track_stats st;
};

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

static struct track_ent *ent_at(const struct track *tr, uint32_t idx)
{
	uint32_t i = idx - 1;

	return &tr->chunks[i >> CHUNK_SHIFT][i & (CHUNK_SIZE - 1)];
}

static uint32_t bucket_of(const struct track *tr, const struct flow_ident *k)
{
	return (uint32_t)hash_bytes(&tr->hk, k, sizeof(*k)) & (tr->nbuckets - 1);
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

struct track *track_new(size_t limit, const struct slice_sink *sink)
{
	struct track *tr;
	uint32_t nb = MIN_BUCKETS;

	if (limit == 0 || limit > UINT32_MAX / 2)
		return NULL;
	tr = calloc(1, sizeof(*tr));
	if (!tr)
		return NULL;
	tr->buckets = calloc(nb, sizeof(*tr->buckets));
	tr->chunks = calloc((limit + CHUNK_SIZE - 1) / CHUNK_SIZE, sizeof(*tr->chunks));
	if (!tr->buckets || !tr->chunks) {
		track_free(tr);
		return NULL;
	}
	tr->nbuckets = nb;
	tr->limit = limit;
	tr->sink = *sink;
	hash_key_random(&tr->hk);
	tr->st.limit = limit;
	return tr;
}

void track_free(struct track *tr)
{
	if (!tr)
		return;
	for (size_t i = 0; i < tr->nchunks; i++)
		free(tr->chunks[i]);
	free(tr->chunks);
	free(tr->buckets);
	free(tr);
}

static uint32_t ent_alloc(struct track *tr)
{
	uint32_t idx = tr->free_head;

	if (idx) {
		tr->free_head = ent_at(tr, idx)->next;
		return idx;
	}
	if (tr->fresh >= tr->limit)
		return 0;
	if ((tr->fresh >> CHUNK_SHIFT) >= tr->nchunks) {
		struct track_ent *c = calloc(CHUNK_SIZE, sizeof(*c));

		if (!c)
			return 0;
		tr->chunks[tr->nchunks++] = c;
	}
	return ++tr->fresh;
}

static void rehash(struct track *tr, uint32_t nb)
{
	uint32_t *b = calloc(nb, sizeof(*b));

	if (!b)
		return; /* keep the old array: longer chains, still correct */
	free(tr->buckets);
	tr->buckets = b;
	tr->nbuckets = nb;
	for (uint32_t idx = 1; idx <= tr->fresh; idx++) {
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
	if (tr->st.tracked >= tr->nbuckets && tr->nbuckets < tr->limit)
		rehash(tr, tr->nbuckets * 2);
}

/*
 * Halve it again when a quarter full, e.g. after a dump's tombstones are
 * gone: every DESTROY looks a bucket up, and a larger array than the table
 * needs costs a cache miss per event.
 */
static void maybe_shrink(struct track *tr)
{
	uint32_t nb = tr->nbuckets;

	while (nb > MIN_BUCKETS && tr->st.tracked < nb / 4)
		nb /= 2;
	if (nb != tr->nbuckets)
		rehash(tr, nb);
}

static struct track_ent *ent_insert(struct track *tr, const struct flow_ident *k, uint8_t state)
{
	uint32_t idx;

	maybe_grow(tr);
	idx = ent_alloc(tr);

	if (!idx) {
		tr->st.full_refusals++;
		return NULL;
	}
	struct track_ent *e = ent_at(tr, idx);
	uint32_t b = bucket_of(tr, k);

	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->state = state;
	e->next = tr->buckets[b];
	tr->buckets[b] = idx;
	tr->st.tracked++;
	return e;
}

static struct track_ent *ent_find(const struct track *tr, const struct flow_ident *k,
				  uint32_t *idx_out)
{
	for (uint32_t idx = tr->buckets[bucket_of(tr, k)]; idx; idx = ent_at(tr, idx)->next) {
		struct track_ent *e = ent_at(tr, idx);

		if (memcmp(&e->key, k, sizeof(*k)) == 0) {
			if (idx_out)
				*idx_out = idx;
			return e;
		}
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
	e->state = ENT_FREE;
	e->next = tr->free_head;
	tr->free_head = idx;
	tr->st.tracked--;
}

static void ent_remember(struct track_ent *e, const struct ct_flow *f)
{
	const struct ct_tuple *r = &f->tuple[CT_REPLY];

	if (f->has & CT_HAS_COUNTERS) {
		memcpy(e->pkts, f->pkts, sizeof(e->pkts));
		memcpy(e->bytes, f->bytes, sizeof(e->bytes));
	}
	if (f->has & CT_HAS_START)
		e->start_ns = f->start_ns;
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
		tr->st.counter_resets++;
	for (int d = 0; d < 2; d++) {
		s->pkts[d] = reset ? f->pkts[d] : f->pkts[d] - e->pkts[d];
		s->bytes[d] = reset ? f->bytes[d] : f->bytes[d] - e->bytes[d];
	}
}

static void emit(struct track *tr, const struct slice *s)
{
	if (!s->flags && !(s->pkts[0] | s->pkts[1] | s->bytes[0] | s->bytes[1]))
		return;
	tr->st.slices++;
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

	flow_from_ent(e, &f);
	slice_init(&s, &f, SLICE_END, SLICE_UNOBSERVED, now_ns);
	tr->st.ended_unobserved++;
	emit(tr, &s);
}

/*
 * Find the entry for f.  An entry with the same id and tuple but another
 * start time belongs to an earlier incarnation: it is closed (if still LIVE)
 * and removed, and NULL is returned.
 */
static struct track_ent *lookup(struct track *tr, const struct ct_flow *f, uint64_t now_ns)
{
	struct flow_ident k;
	struct track_ent *e;

	ident_from_flow(f, &k);
	e = ent_find(tr, &k, NULL);
	if (!e || !e->start_ns || !(f->has & CT_HAS_START) || e->start_ns == f->start_ns)
		return e;
	tr->st.incarnations++;
	if (e->state == ENT_LIVE)
		close_unobserved(tr, e, now_ns);
	ent_remove(tr, e);
	return NULL;
}

void track_destroy(struct track *tr, const struct ct_flow *f, uint64_t now_ns)
{
	struct track_ent *e = lookup(tr, f, now_ns);
	uint64_t when = (f->has & CT_HAS_STOP) ? f->stop_ns : now_ns;
	struct slice s;

	tr->st.destroys++;
	if (!(f->has & CT_HAS_COUNTERS))
		tr->st.no_counters++;
	if (e && e->state == ENT_TOMB) {
		tr->st.duplicate_destroys++;
		return;
	}
	if (!e)
		slice_init(&s, f, SLICE_START | SLICE_END, SLICE_DESTROY, when);
	else if (e->state == ENT_LIVE)
		slice_init(&s, f, SLICE_END, SLICE_DESTROY, when);
	else {
		slice_init(&s, f, 0, SLICE_LATE_DESTROY, when);
		tr->st.late_destroys++;
	}
	slice_delta(tr, e, f, &s);
	emit(tr, &s);
	if (!tr->dumping) {
		if (e)
			ent_remove(tr, e);
		return;
	}
	/* A dump is running and may still deliver an older copy of this flow. */
	if (!e) {
		struct flow_ident k;

		ident_from_flow(f, &k);
		e = ent_insert(tr, &k, ENT_TOMB);
	}
	if (e)
		e->state = ENT_TOMB;
}

/*
 * A sweep still pending from the previous cycle is abandoned: entries it would
 * have closed keep their old generation and are caught by the next sweep, and
 * tombstones keep swallowing rows of flows that are dead anyway.
 */
void track_dump_begin(struct track *tr)
{
	tr->gen++;
	tr->dumping = 1;
	tr->sweep_pending = 0;
}

void track_dump_row(struct track *tr, const struct ct_flow *f, uint64_t now_ns)
{
	struct track_ent *e = lookup(tr, f, now_ns);
	struct slice s;

	tr->st.dump_rows++;
	if (!(f->has & CT_HAS_COUNTERS))
		tr->st.no_counters++;
	if (e && e->state == ENT_TOMB)
		return;
	if (!e) {
		struct flow_ident k;

		ident_from_flow(f, &k);
		e = ent_insert(tr, &k, ENT_LIVE);
		if (!e)
			return; /* untracked: its DESTROY will account it from zero */
		slice_init(&s, f, SLICE_START, SLICE_INTERIM, now_ns);
		slice_delta(tr, NULL, f, &s);
	} else {
		slice_init(&s, f, 0, SLICE_INTERIM, now_ns);
		slice_delta(tr, e, f, &s);
	}
	ent_remember(e, f);
	e->gen = tr->gen;
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
	uint32_t gen = tr->gen;

	switch (e->state) {
	case ENT_TOMB:
		ent_remove(tr, e);
		break;
	case ENT_LIVE:
		if (complete && e->gen != gen) {
			close_unobserved(tr, e, now_ns);
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
	while (budget-- > 0 && tr->sweep_pos < tr->fresh) {
		struct track_ent *e = ent_at(tr, ++tr->sweep_pos);

		sweep_one(tr, e, now_ns);
	}
	if (tr->sweep_pos < tr->fresh)
		return 1;
	tr->sweep_pending = 0;
	tr->st.sweeps++;
	maybe_shrink(tr);
	return 0;
}

void track_get_stats(const struct track *tr, struct track_stats *st)
{
	*st = tr->st;
	st->bytes_used = tr->nchunks * CHUNK_SIZE * sizeof(struct track_ent) +
			 (uint64_t)tr->nbuckets * sizeof(uint32_t);
}
