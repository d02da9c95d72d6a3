/*
 * agg_profile: the configured profiles and how a flow slice updates them.
 *
 * Each profile owns one agg_table.  A slice adds its packet and byte deltas
 * and flow start/end counts to the row of its key; for "host" profiles to the
 * rows of both endpoints, each seeing the flow from its own side.
 */
#ifndef CTFLOWD_AGG_PROFILE_H
#define CTFLOWD_AGG_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "acct_track.h"
#include "agg_key.h"
#include "agg_table.h"
#include "agg_usage.h"

#define AGG_NAME_MAX 32

#define AGG_TOP_MAX 1000

struct agg_profile_def {
	char name[AGG_NAME_MAX + 1];
	struct agg_keyspec spec;
	size_t rows;
	size_t top;          /* rows ranked by agg_set_rank() */
	struct usage_def usage; /* periods kept per row (usage.n = 0: none) */
};

struct agg_profile {
	char name[AGG_NAME_MAX + 1];
	struct agg_keyspec spec;
	struct agg_table *tab;
	enum store_origin origin; /* the rows are the last run's (STORE_KEPT) */
	struct agg_rank *top; /* the last ranking, top_size slots */
	size_t top_size, ntop;
	uint32_t top_time;   /* realtime seconds of the last ranking */
	uint32_t top_window; /* seconds it covered */
	struct usage_def usage;
	struct usage_clock clock; /* the event thread's */
	uint64_t usage_late; /* slices older than the kept periods (this run) */
};

struct agg_set;

/* What one row gained from one slice: [0] its forward direction, [1] reverse. */
struct agg_growth {
	uint64_t pkts[2], bytes[2];
	uint64_t flows_started;
	/* the row's period of each kind the slice counted in (NULL: none) */
	const struct usage_bucket *cur[USAGE_KINDS_MAX];
};

/* Told of every row update (the thresholds watch rows this way). */
typedef void agg_observer(void *arg, size_t profile, const struct agg_keyspec *spec,
			  const struct usage_def *usage, const struct agg_key *key,
			  const struct agg_growth *g, uint32_t now);

/*
 * The profiles of defs, each with its table in the store region
 * "profile-NAME" (the last run's rows when its definition is the same).  On
 * a reload, `old` is the running set: a profile whose definition did not
 * change (name, key, row limit, top size) takes over the running table with
 * its rows, counters and ranking (*kept counts them); a changed one starts
 * afresh (periods are part of the definition).  agg_set_retire(old) then drops what the new set did not take.
 */
struct agg_set *agg_set_new(const struct agg_profile_def *defs, size_t n, struct store *st,
			    struct agg_set *old, size_t *kept);
void agg_set_observe(struct agg_set *set, agg_observer *fn, void *arg);
/* Free the set; the tables' regions stay for the next run. */
void agg_set_free(struct agg_set *set);
/* Free the set and drop the regions of the tables still in it. */
void agg_set_retire(struct agg_set *set);
/* The most bytes of journal applying one slice may save. */
size_t agg_set_save_max(const struct agg_set *set);

void agg_set_apply(struct agg_set *set, const struct slice *s, uint32_t now);
/* Move up to budget new rows of each profile into its ordered index; returns
 * how many are still waiting in all. */
size_t agg_set_order_sync(struct agg_set *set, size_t budget);
/* The earliest period boundary after t of all profiles (INT64_MAX: none). */
int64_t agg_set_next_boundary(const struct agg_set *set, int64_t t);
/* Re-rank every profile's rows by their growth since the last ranking. */
void agg_set_rank(struct agg_set *set, uint32_t now);
/*
 * A batch of flows whose slices are about to be applied (the first
 * AGG_BATCH_MAX of them count): stage 0 builds and hashes their keys once
 * and prefetches the buckets, stage 1 prefetches the rows.  Slices of these
 * flows (slice.flow pointing into flows) are then applied with the keys
 * already built, until agg_set_batch_done; the flows must not change before.
 */
#define AGG_BATCH_MAX 64
void agg_set_prefetch(struct agg_set *set, const struct ct_flow *flows, size_t n, int stage);
void agg_set_batch_done(struct agg_set *set);

size_t agg_set_count(const struct agg_set *set);
struct agg_profile *agg_set_profile(struct agg_set *set, size_t i);

/* The three profiles used when the configuration names none. */
size_t agg_default_profiles(struct agg_profile_def *defs, size_t max);

#endif
