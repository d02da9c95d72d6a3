/*
 * agg_table: one profile's bounded table of aggregate rows.
 *
 * Rows live in one arena with a stride fitted to the profile's longest key
 * and are addressed by stable 1-based indexes until evicted.  A keyed hash
 * finds them; an LRU list ordered by last update picks the victim when the
 * table is full; an ordered index (agg_order) keeps them in key order for
 * walks; a per-row baseline of octets lets agg_table_rank() find the rows
 * that grew most since the last ranking.  The table knows nothing of flows
 * or OIDs: it stores keys and counters.
 *
 * The arena is a store region: the rows, their counters and creation times
 * and the table's own counters survive a restart; the hash, the LRU list
 * (rebuilt from each row's last update) and the ordered index are rebuilt
 * from the rows at start.  A row is saved to the store's journal the first
 * time a transaction touches it (agg_table_upsert), so the caller must hold
 * a transaction while it changes the table.
 *
 * New rows join the ordered index later, not on the event path: inserting
 * into a million-row tree is some 30 dependent cache misses (580 ns against
 * 300 ns for the rest of creating a row), enough to fall behind a kernel
 * flush.  They wait in a pending list that agg_table_order_sync() drains in
 * bounded batches, and every ordered query drains it completely first, so
 * walks always see every row.
 */
#ifndef CTFLOWD_AGG_TABLE_H
#define CTFLOWD_AGG_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "agg_key.h"
#include "base_store.h"

/* [0] is the forward direction (original packets; for host keys: sent by the
 * host), [1] the reverse (reply packets; for host keys: received). */
/* What a row counts: all its readers see (the links that file it are the
 * table's own).  Packed to 60 bytes, so the table's own 4-byte links follow
 * without padding: a worst-case row stays within two cache lines. */
struct __attribute__((packed, aligned(4))) agg_counters {
	uint64_t pkts[2], bytes[2];
	uint64_t flows_started, flows_ended;
	uint32_t first;   /* realtime seconds: earliest flow start counted here */
	uint32_t last;    /* realtime seconds: last update */
	uint32_t created; /* realtime seconds: row (and its counters) created */
};

struct agg_table_stats {
	uint64_t rows, limit, inserts, evictions, bytes_used;
	uint64_t index_bytes; /* of bytes_used: ordered index and ranking baselines */
	uint32_t row_bytes;   /* stride: bytes per row including its key */
};

struct agg_table;

/*
 * The region `name` of st (its layout: key_max, extra, limit, and `sig`,
 * which the owner derives from what gives the rows their meaning).  Each row
 * has `extra` bytes of the owner's beside its counters (zero when the row is
 * created, saved and kept with it).  *origin says
 * whether the rows are the previous run's.  NULL on failure.
 */
struct agg_table *agg_table_new(size_t key_max, size_t extra, size_t limit, struct store *st,
				const char *name, uint64_t sig, enum store_origin *origin);
/* Frees the table; its region stays (retire: it goes too). */
void agg_table_free(struct agg_table *t);
void agg_table_retire(struct agg_table *t);
/* The bytes of journal one upsert may save. */
size_t agg_table_save_max(const struct agg_table *t);

/* Find or create the row for key and record `now` (seconds) as its last
 * update.  When the table is full, a row with the oldest last update is
 * evicted first (least recently updated, at one-second resolution). */
struct agg_counters *agg_table_upsert(struct agg_table *t, const struct agg_key *key, uint32_t now);
/* The same with key's hash already worked out (agg_table_hash). */
struct agg_counters *agg_table_upsert_hashed(struct agg_table *t, const struct agg_key *key,
					     uint64_t hash, uint32_t now);
/* The hash of key in this table (each table has its own hash key). */
uint64_t agg_table_hash(const struct agg_table *t, const struct agg_key *key);
const struct agg_counters *agg_table_find(const struct agg_table *t, const struct agg_key *key);
/* The row number of key, or 0. */
uint32_t agg_table_lookup(const struct agg_table *t, const struct agg_key *key);

/*
 * Prefetch what a lookup of the key with this hash will touch: stage 0 its
 * bucket, stage 1 (once the bucket is likely cached) the row it points to.
 * Called for a whole batch of events before processing it, so the cache
 * misses overlap.
 */
void agg_table_prefetch(const struct agg_table *t, uint64_t hash, int stage);

/* Iteration in arena order: idx = agg_table_next(t, 0) ... until 0. */
uint32_t agg_table_next(const struct agg_table *t, uint32_t idx);
const struct agg_counters *agg_table_counters(const struct agg_table *t, uint32_t idx);
/* A row's extra bytes, by number or by the counters upsert returned. */
const void *agg_table_extra(const struct agg_table *t, uint32_t idx);
void *agg_table_extra_of(const struct agg_table *t, struct agg_counters *c);
void agg_table_key(const struct agg_table *t, uint32_t idx, struct agg_key *key);

void agg_table_get_stats(const struct agg_table *t, struct agg_table_stats *st);

/* Move up to budget pending rows into the ordered index; returns how many
 * are still pending. */
size_t agg_table_order_sync(struct agg_table *t, size_t budget);

/* The row with the smallest key, or 0. */
uint32_t agg_table_first_ordered(struct agg_table *t);
/*
 * The row with the smallest key for which probe() > 0 (probe compares a row
 * with the point searched for: <0 before, 0 at, >0 after), or 0.  O(log n)
 * probes.  With a probe that returns >0 for rows after a given key, this is
 * the key's successor.
 */
uint32_t agg_table_seek(struct agg_table *t,
			int (*probe)(void *ctx, const struct agg_key *key), void *ctx);

/* One ranked row: octets (both directions) it gained in the window. */
struct agg_rank {
	uint32_t row;
	uint64_t octets;
	struct agg_key key;
};

/*
 * Rank the rows by octets gained since the previous call (or since their
 * creation), keep the n largest in out[] in descending order and start a new
 * window.  Rows that did not grow are left out.  Returns how many were kept.
 */
size_t agg_table_rank(struct agg_table *t, struct agg_rank *out, size_t n);

#endif
