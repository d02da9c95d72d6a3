/*
 * agg_table: arena + chained hash + LRU list, all linked by 1-based uint32
 * indexes, so a row costs its counters, its key and 16 bytes of links
 * (three links and a bucket), well under 128 bytes even for IPv6 pairs.
 */
#include "agg_table.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base_hash.h"

struct agg_table {
	unsigned char *arena;
	size_t stride;
	uint32_t limit;
	uint32_t fresh;     /* slots handed out so far */
	uint32_t *buckets;
	uint32_t nbuckets;
	uint32_t lru_head, lru_tail; /* head = most recently updated */
	struct hash_key hk;
	struct agg_table_stats st;
};

struct agg_row *agg_table_row(const struct agg_table *t, uint32_t idx)
{
	return (struct agg_row *)(void *)(t->arena + (size_t)(idx - 1) * t->stride);
}

struct agg_table *agg_table_new(size_t key_max, size_t limit)
{
	struct agg_table *t;
	uint32_t nb = 64;

	if (limit == 0 || limit > UINT32_MAX / 2 || key_max == 0 || key_max > AGG_KEY_MAX)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	while (nb < limit)
		nb <<= 1;
	t->stride = (offsetof(struct agg_row, key) + key_max + 7) & ~(size_t)7;
	t->limit = (uint32_t)limit;
	t->nbuckets = nb;
	/* calloc'd pages are only backed once rows are written to them */
	t->arena = calloc(limit, t->stride);
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->arena || !t->buckets) {
		agg_table_free(t);
		return NULL;
	}
	hash_key_random(&t->hk);
	t->st.limit = limit;
	t->st.row_bytes = (uint32_t)t->stride;
	return t;
}

void agg_table_free(struct agg_table *t)
{
	if (!t)
		return;
	free(t->arena);
	free(t->buckets);
	free(t);
}

static uint32_t bucket_of(const struct agg_table *t, const uint8_t *key, size_t len)
{
	return (uint32_t)hash_bytes(&t->hk, key, len) & (t->nbuckets - 1);
}

static int row_is(const struct agg_row *r, const struct agg_key *key)
{
	return r->keylen == key->len && memcmp(r->key, key->b, key->len) == 0;
}

static uint32_t find_idx(const struct agg_table *t, const struct agg_key *key)
{
	uint32_t idx = t->buckets[bucket_of(t, key->b, key->len)];

	while (idx && !row_is(agg_table_row(t, idx), key))
		idx = agg_table_row(t, idx)->hnext;
	return idx;
}

void agg_table_prefetch(const struct agg_table *t, const struct agg_key *key, int stage)
{
	const uint32_t *b = &t->buckets[bucket_of(t, key->b, key->len)];

	if (stage == 0) {
		__builtin_prefetch(b);
		return;
	}
	if (*b) {
		const char *r = (const char *)agg_table_row(t, *b);

		__builtin_prefetch(r, 1);
		__builtin_prefetch(r + t->stride - 1, 1); /* rows span two cache lines */
	}
}

struct agg_row *agg_table_find(const struct agg_table *t, const struct agg_key *key)
{
	uint32_t idx = find_idx(t, key);

	return idx ? agg_table_row(t, idx) : NULL;
}

static void lru_unlink(struct agg_table *t, uint32_t idx)
{
	struct agg_row *r = agg_table_row(t, idx);

	if (r->lru_prev)
		agg_table_row(t, r->lru_prev)->lru_next = r->lru_next;
	else
		t->lru_head = r->lru_next;
	if (r->lru_next)
		agg_table_row(t, r->lru_next)->lru_prev = r->lru_prev;
	else
		t->lru_tail = r->lru_prev;
	r->lru_prev = r->lru_next = 0;
}

static void lru_push_head(struct agg_table *t, uint32_t idx)
{
	struct agg_row *r = agg_table_row(t, idx);

	r->lru_prev = 0;
	r->lru_next = t->lru_head;
	if (t->lru_head)
		agg_table_row(t, t->lru_head)->lru_prev = idx;
	t->lru_head = idx;
	if (!t->lru_tail)
		t->lru_tail = idx;
}

static void hash_unlink(struct agg_table *t, uint32_t idx)
{
	struct agg_row *r = agg_table_row(t, idx);
	uint32_t *link = &t->buckets[bucket_of(t, r->key, r->keylen)];

	while (*link && *link != idx)
		link = &agg_table_row(t, *link)->hnext;
	if (*link)
		*link = r->hnext;
}

/* A slot for a new row: a fresh one, or the least recently updated row. */
static uint32_t take_slot(struct agg_table *t)
{
	if (t->fresh < t->limit) {
		t->st.rows++;
		return ++t->fresh;
	}
	uint32_t victim = t->lru_tail;

	lru_unlink(t, victim);
	hash_unlink(t, victim);
	t->st.evictions++;
	return victim;
}

struct agg_row *agg_table_upsert(struct agg_table *t, const struct agg_key *key, uint32_t now)
{
	uint32_t idx = find_idx(t, key);
	struct agg_row *r;

	if (idx) {
		r = agg_table_row(t, idx);
		/*
		 * Rows keep their last update in whole seconds, so the list only
		 * needs to move a row when that second changes: the tail is still
		 * a row with the oldest `last`, and a busy row does not rewrite its
		 * two list neighbours (two more cache misses) on every update.
		 */
		if (r->last != now && t->lru_head != idx) {
			lru_unlink(t, idx);
			lru_push_head(t, idx);
		}
		r->last = now;
		return r;
	}
	idx = take_slot(t);
	r = agg_table_row(t, idx);
	memset(r, 0, t->stride);
	r->keylen = key->len;
	memcpy(r->key, key->b, key->len);
	r->first = r->last = r->created = now;
	uint32_t b = bucket_of(t, key->b, key->len);

	r->hnext = t->buckets[b];
	t->buckets[b] = idx;
	lru_push_head(t, idx);
	t->st.inserts++;
	return r;
}

uint32_t agg_table_next(const struct agg_table *t, uint32_t idx)
{
	while (++idx <= t->fresh)
		if (agg_table_row(t, idx)->keylen)
			return idx;
	return 0;
}

void agg_row_key(const struct agg_row *r, struct agg_key *key)
{
	key->len = r->keylen;
	memcpy(key->b, r->key, r->keylen);
}

void agg_table_get_stats(const struct agg_table *t, struct agg_table_stats *st)
{
	*st = t->st;
	st->bytes_used = (uint64_t)t->fresh * t->stride + (uint64_t)t->nbuckets * sizeof(uint32_t);
}
