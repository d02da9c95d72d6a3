/*
 * agg_table: arena + chained hash + LRU list, all linked by 1-based uint32
 * indexes, so a row costs its counters, its key and 16 bytes of links
 * (three links and a bucket), well under 128 bytes even for IPv6 pairs.
 */
#include "agg_table.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agg_order.h"
#include "base_hash.h"
#include "base_prefetch.h"

/* The persistent part besides the rows. */
struct table_hdr {
	uint32_t fresh;     /* slots handed out so far */
	uint32_t epoch;
	uint64_t rows, inserts, evictions;
};

#define HDR_BYTES 64u
#define TABLE_LAYOUT 3u /* bump when struct agg_row or table_hdr change */

struct agg_row {
	struct agg_counters c;
	uint32_t lru_prev, lru_next, hnext; /* rebuilt at start */
	uint32_t epoch;   /* store epoch it was last saved in */
	uint8_t keylen;   /* 0 = slot unused */
	uint8_t key[];
};

struct agg_table {
	struct store *store;
	struct table_hdr *h;
	unsigned char *arena;
	size_t stride;
	size_t extra_off;            /* the owner's bytes in a row */
	uint32_t limit;
	uint32_t *buckets;
	uint32_t nbuckets;
	uint32_t lru_head, lru_tail; /* head = most recently updated */
	struct agg_order *order;
	uint8_t *ordered;            /* per row: in the ordered index */
	uint32_t *pending;           /* rows created since the last sync (may repeat) */
	uint32_t npending;
	uint64_t *baseline;          /* per row: octets at the last ranking */
	struct hash_key hk;
};

static struct agg_row *agg_table_row(const struct agg_table *t, uint32_t idx)
{
	return (struct agg_row *)(void *)(t->arena + (size_t)(idx - 1) * t->stride);
}

const struct agg_counters *agg_table_counters(const struct agg_table *t, uint32_t idx)
{
	return &agg_table_row(t, idx)->c;
}

const void *agg_table_extra(const struct agg_table *t, uint32_t idx)
{
	return (const unsigned char *)agg_table_row(t, idx) + t->extra_off;
}

void *agg_table_extra_of(const struct agg_table *t, struct agg_counters *c)
{
	return (unsigned char *)c + t->extra_off; /* c is the row's first member */
}

static void row_key(const struct agg_row *r, struct agg_key *key)
{
	*key = (struct agg_key){ 0 };
	key->len = r->keylen;
	memcpy(key->b, r->key, r->keylen);
}

void agg_table_key(const struct agg_table *t, uint32_t idx, struct agg_key *key)
{
	row_key(agg_table_row(t, idx), key);
}

size_t agg_table_save_max(const struct agg_table *t)
{
	return 2 * (t->stride + 32) + HDR_BYTES + 32;
}

/* Save the header (once per transaction) before it changes. */
static struct table_hdr *hdr_w(struct agg_table *t)
{
	uint32_t epoch = store_epoch(t->store);

	if (t->h->epoch != epoch) {
		store_save(t->store, t->h, sizeof(*t->h));
		t->h->epoch = epoch;
	}
	return t->h;
}

/* Save a row (once per transaction) before it changes. */
static void row_w(struct agg_table *t, struct agg_row *r)
{
	uint32_t epoch = store_epoch(t->store);

	if (r->epoch != epoch) {
		store_save(t->store, r, t->stride);
		r->epoch = epoch;
	}
}

static const char *rebuild(struct agg_table *t);

static int map_region(struct agg_table *t, const char *name, uint64_t sig,
		      enum store_origin *origin)
{
	unsigned char *p;

	sig ^= (uint64_t)TABLE_LAYOUT << 56 ^ (uint64_t)t->stride << 40 ^ t->limit;
	p = store_region(t->store, name, sig, HDR_BYTES + (size_t)t->limit * t->stride, origin);
	if (!p)
		return -1;
	t->h = (struct table_hdr *)(void *)p;
	t->arena = p + HDR_BYTES;
	return 0;
}

struct agg_table *agg_table_new(size_t key_max, size_t extra, size_t limit, struct store *st,
				const char *name, uint64_t sig, enum store_origin *origin)
{
	struct agg_table *t;
	uint32_t nb = 64;
	const char *why;

	if (limit == 0 || limit > UINT32_MAX / 2 || key_max == 0 || key_max > AGG_KEY_MAX)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	while (nb < limit)
		nb <<= 1;
	t->store = st;
	t->extra_off = (offsetof(struct agg_row, key) + key_max + 7) & ~(size_t)7;
	t->stride = t->extra_off + ((extra + 7) & ~(size_t)7);
	t->limit = (uint32_t)limit;
	t->nbuckets = nb;
	t->buckets = calloc(nb, sizeof(*t->buckets));
	t->baseline = calloc(limit + 1, sizeof(*t->baseline));
	t->ordered = calloc(limit + 1, sizeof(*t->ordered));
	t->pending = calloc(limit, sizeof(*t->pending));
	t->order = agg_order_new((uint32_t)limit);
	hash_key_random(&t->hk);
	if (!t->buckets || !t->baseline || !t->ordered || !t->pending || !t->order ||
	    map_region(t, name, sig, origin) < 0) {
		agg_table_free(t);
		return NULL;
	}
	if (*origin == STORE_KEPT && (why = rebuild(t)) != NULL) {
		unsigned char *p = store_region_reset(st, t->h, why);

		memset(t->buckets, 0, (size_t)nb * sizeof(*t->buckets));
		t->lru_head = t->lru_tail = 0;
		t->npending = 0;
		*origin = STORE_FRESH;
		if (!p) {
			t->h = NULL;
			agg_table_free(t);
			return NULL;
		}
		t->h = (struct table_hdr *)(void *)p;
		t->arena = p + HDR_BYTES;
	}
	t->h->epoch = 0;
	return t;
}

void agg_table_free(struct agg_table *t)
{
	if (!t)
		return;
	if (t->h)
		store_region_release(t->store, t->h);
	free(t->buckets);
	free(t->baseline);
	free(t->ordered);
	free(t->pending);
	agg_order_free(t->order);
	free(t);
}

void agg_table_retire(struct agg_table *t)
{
	if (t && t->h) {
		store_region_drop(t->store, t->h);
		t->h = NULL;
	}
	agg_table_free(t);
}

static int row_key_cmp(const struct agg_row *a, const struct agg_row *b)
{
	size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
	int c = memcmp(a->key, b->key, n);

	return c ? c : (int)a->keylen - (int)b->keylen;
}

static int order_cmp(void *ctx, uint32_t a, uint32_t b)
{
	const struct agg_table *t = ctx;

	return row_key_cmp(agg_table_row(t, a), agg_table_row(t, b));
}

static uint32_t slot_of(const struct agg_table *t, uint64_t hash)
{
	return (uint32_t)hash & (t->nbuckets - 1);
}

static uint32_t bucket_of(const struct agg_table *t, const uint8_t *key, size_t len)
{
	return slot_of(t, hash_bytes(&t->hk, key, len));
}

uint64_t agg_table_hash(const struct agg_table *t, const struct agg_key *key)
{
	return hash_bytes(&t->hk, key->b, key->len);
}

/* Short keys: compared inline, without a library call per candidate row. */
static int row_is(const struct agg_row *r, const struct agg_key *key)
{
	if (r->keylen != key->len)
		return 0;
	for (size_t i = 0; i < key->len; i++)
		if (r->key[i] != key->b[i])
			return 0;
	return 1;
}

static uint32_t find_hashed(const struct agg_table *t, const struct agg_key *key, uint64_t hash)
{
	uint32_t idx = t->buckets[slot_of(t, hash)];

	while (idx && !row_is(agg_table_row(t, idx), key))
		idx = agg_table_row(t, idx)->hnext;
	return idx;
}

static uint32_t find_idx(const struct agg_table *t, const struct agg_key *key)
{
	return find_hashed(t, key, agg_table_hash(t, key));
}

void agg_table_prefetch(const struct agg_table *t, uint64_t hash, int stage)
{
	const uint32_t *b = &t->buckets[slot_of(t, hash)];

	if (stage == 0) {
		__builtin_prefetch(b);
		return;
	}
	/* the row proper; a period bucket in the owner's bytes is fetched when used */
	if (*b)
		prefetch_span(agg_table_row(t, *b), t->extra_off);
}

uint32_t agg_table_lookup(const struct agg_table *t, const struct agg_key *key)
{
	return find_idx(t, key);
}

const struct agg_counters *agg_table_find(const struct agg_table *t, const struct agg_key *key)
{
	uint32_t idx = find_idx(t, key);

	return idx ? &agg_table_row(t, idx)->c : NULL;
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
	if (t->h->fresh < t->limit) {
		hdr_w(t)->rows++;
		return ++t->h->fresh;
	}
	uint32_t victim = t->lru_tail;

	lru_unlink(t, victim);
	hash_unlink(t, victim);
	if (t->ordered[victim]) /* out of the tree while its key is intact */
		agg_order_remove(t->order, victim, order_cmp, t);
	t->ordered[victim] = 0;
	hdr_w(t)->evictions++;
	return victim;
}

struct agg_counters *agg_table_upsert(struct agg_table *t, const struct agg_key *key, uint32_t now)
{
	return agg_table_upsert_hashed(t, key, agg_table_hash(t, key), now);
}

struct agg_counters *agg_table_upsert_hashed(struct agg_table *t, const struct agg_key *key,
					     uint64_t hash, uint32_t now)
{
	uint32_t idx = find_hashed(t, key, hash);
	struct agg_row *r;

	if (idx) {
		r = agg_table_row(t, idx);
		row_w(t, r);
		/*
		 * Rows keep their last update in whole seconds, so the list only
		 * needs to move a row when that second changes: the tail is still
		 * a row with the oldest `last`, and a busy row does not rewrite its
		 * two list neighbours (two more cache misses) on every update.
		 */
		if (r->c.last != now && t->lru_head != idx) {
			lru_unlink(t, idx);
			lru_push_head(t, idx);
		}
		r->c.last = now;
		return &r->c;
	}
	idx = take_slot(t);
	r = agg_table_row(t, idx);
	store_save(t->store, r, t->stride);
	memset(r, 0, t->stride);
	r->epoch = store_epoch(t->store);
	r->keylen = key->len;
	memcpy(r->key, key->b, key->len);
	r->c.first = r->c.last = r->c.created = now;
	uint32_t b = slot_of(t, hash);

	r->hnext = t->buckets[b];
	t->buckets[b] = idx;
	lru_push_head(t, idx);
	if (t->npending == t->limit) /* only after as many evictions as rows */
		agg_table_order_sync(t, SIZE_MAX);
	t->pending[t->npending++] = idx;
	t->baseline[idx] = 0;
	hdr_w(t)->inserts++;
	return &r->c;
}

uint32_t agg_table_next(const struct agg_table *t, uint32_t idx)
{
	while (++idx <= t->h->fresh)
		if (agg_table_row(t, idx)->keylen)
			return idx;
	return 0;
}

void agg_table_get_stats(const struct agg_table *t, struct agg_table_stats *st)
{
	uint32_t fresh = t->h->fresh;

	memset(st, 0, sizeof(*st));
	st->rows = t->h->rows;
	st->limit = t->limit;
	st->inserts = t->h->inserts;
	st->evictions = t->h->evictions;
	st->row_bytes = (uint32_t)t->stride;
	st->index_bytes = (uint64_t)fresh * (sizeof(*t->baseline) + sizeof(*t->ordered) +
					      sizeof(*t->pending)) +
			  agg_order_bytes(t->order, fresh);
	st->bytes_used = (uint64_t)fresh * t->stride + st->index_bytes +
			 (uint64_t)t->nbuckets * sizeof(uint32_t);
}

size_t agg_table_order_sync(struct agg_table *t, size_t budget)
{
	while (budget > 0 && t->npending > 0) {
		uint32_t idx = t->pending[--t->npending];

		if (t->ordered[idx]) /* listed twice: evicted and reused before a sync */
			continue;
		agg_order_insert(t->order, idx, order_cmp, t);
		t->ordered[idx] = 1;
		budget--;
	}
	return t->npending;
}

uint32_t agg_table_first_ordered(struct agg_table *t)
{
	agg_table_order_sync(t, SIZE_MAX);
	return agg_order_first(t->order);
}

struct seek_ctx {
	const struct agg_table *t;
	int (*probe)(void *ctx, const struct agg_key *key);
	void *ctx;
};

static int seek_probe(void *arg, uint32_t row)
{
	struct seek_ctx *sc = arg;
	struct agg_key key;

	row_key(agg_table_row(sc->t, row), &key);
	return sc->probe(sc->ctx, &key);
}

uint32_t agg_table_seek(struct agg_table *t,
			int (*probe)(void *ctx, const struct agg_key *key), void *ctx)
{
	struct seek_ctx sc = { t, probe, ctx };

	agg_table_order_sync(t, SIZE_MAX);
	return agg_order_seek(t->order, seek_probe, &sc);
}

/* out[0..n) is a min-heap on octets while ranking. */
static void heap_down(struct agg_rank *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && h[l].octets < h[m].octets)
			m = l;
		if (r < n && h[r].octets < h[m].octets)
			m = r;
		if (m == i)
			return;
		struct agg_rank tmp = h[i];

		h[i] = h[m];
		h[m] = tmp;
		i = m;
	}
}

static void heap_up(struct agg_rank *h, size_t i)
{
	while (i > 0 && h[(i - 1) / 2].octets > h[i].octets) {
		struct agg_rank tmp = h[i];

		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = tmp;
		i = (i - 1) / 2;
	}
}

static int rank_desc(const void *a, const void *b)
{
	const struct agg_rank *x = a, *y = b;

	if (x->octets != y->octets)
		return x->octets > y->octets ? -1 : 1;
	return agg_key_cmp(&x->key, &y->key);
}

size_t agg_table_rank(struct agg_table *t, struct agg_rank *out, size_t n)
{
	size_t k = 0;

	for (uint32_t idx = agg_table_next(t, 0); idx; idx = agg_table_next(t, idx)) {
		const struct agg_row *r = agg_table_row(t, idx);
		uint64_t total = r->c.bytes[0] + r->c.bytes[1];
		uint64_t grew = total - t->baseline[idx];

		t->baseline[idx] = total;
		if (grew == 0 || n == 0 || (k == n && grew <= out[0].octets))
			continue;
		struct agg_rank e = { idx, grew, { 0, { 0 } } };

		row_key(r, &e.key);
		if (k < n) {
			out[k] = e;
			heap_up(out, k++);
		} else {
			out[0] = e;
			heap_down(out, k, 0);
		}
	}
	qsort(out, k, sizeof(*out), rank_desc);
	return k;
}

/* ---- start: the rows of the last run, checked and indexed ---- */

static int by_last(const void *a, const void *b, void *ctx)
{
	const struct agg_table *t = ctx;
	uint32_t la = agg_table_row(t, *(const uint32_t *)a)->c.last;
	uint32_t lb = agg_table_row(t, *(const uint32_t *)b)->c.last;

	return la < lb ? -1 : la > lb;
}

/*
 * Check every row, index it (hash), rebuild the LRU list in order of last
 * update (oldest at the tail), queue every row for the ordered index, and
 * start the ranking window from the counters as they are.  NULL, or what is
 * wrong with the rows (the region is then refused).
 */
static const char *rebuild(struct agg_table *t)
{
	uint32_t fresh = t->h->fresh, *order;
	/* the key's room ends where the owner's extra bytes begin */
	size_t key_max = t->extra_off - offsetof(struct agg_row, key);

	if (key_max > AGG_KEY_MAX)
		key_max = AGG_KEY_MAX;

	if (fresh > t->limit || t->h->rows != fresh)
		return "its row count does not match its rows";
	for (uint32_t idx = 1; idx <= fresh; idx++) {
		struct agg_row *r = agg_table_row(t, idx);
		struct agg_key k;

		if (r->keylen == 0 || r->keylen > key_max)
			return "a row with a key of impossible length";
		row_key(r, &k);
		if (find_idx(t, &k))
			return "the same key in two rows";
		uint32_t b = bucket_of(t, r->key, r->keylen);

		r->hnext = t->buckets[b];
		t->buckets[b] = idx;
		t->pending[t->npending++] = idx;
		t->baseline[idx] = r->c.bytes[0] + r->c.bytes[1];
	}
	order = malloc((fresh ? fresh : 1) * sizeof(*order));
	if (!order)
		return "no memory to index it";
	for (uint32_t i = 0; i < fresh; i++)
		order[i] = i + 1;
	qsort_r(order, fresh, sizeof(*order), by_last, t);
	for (uint32_t i = 0; i < fresh; i++)
		lru_push_head(t, order[i]);
	free(order);
	return NULL;
}
