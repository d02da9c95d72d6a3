/*
 * acct_table: the tracked flows' entries, a chained hash table over one
 * arena.
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
#include "acct_track_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
void ent_shrink(struct track *tr)
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

struct track_ent *ent_insert(struct track *tr, const struct flow_ident *k,
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

struct track_ent *ent_find(const struct track *tr, const struct flow_ident *k,
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

void ent_remove(struct track *tr, struct track_ent *e)
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
