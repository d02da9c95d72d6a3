/*
 * alarm_thresh_int: the threshold set's insides, shared by its two files:
 * alarm_thresh.c (rates over windows, the set, events) and alarm_period.c
 * (totals of a period: quota levels).
 */
#ifndef CTFLOWD_ALARM_THRESH_INT_H
#define CTFLOWD_ALARM_THRESH_INT_H

#include "alarm_thresh.h"
#include "base_hash.h"

#define SLOTS_MAX 30
#define EVENTS_MAX 1024
#define ROWS_FIRST 16      /* the arena's first size */

struct wrow {
	struct agg_key key;
	uint32_t hnext;            /* hash chain, or free list; 0 = end */
	uint32_t prev, next;       /* rows in use */
	uint32_t slot;             /* absolute slot of the last update; period: its tag */
	uint32_t until;            /* period thresholds: realtime end of the period */
	uint8_t over;
	uint32_t since;
	uint64_t total, rate, peak;
	uint64_t sums[SLOTS_MAX];
};

struct thresh {
	struct thresh_def def;
	uint32_t index;            /* its ctflowThresholdIndex */
	int active;                /* evaluated (RowStatus active) */
	uint32_t nslots, slot_s;
	struct wrow *rows;         /* [1..cap]; 0 means none */
	uint32_t cap;              /* rows allocated (<= max_rows) */
	uint32_t *buckets, mask;
	uint32_t free_head, used_head;
	uint32_t *over;            /* [cap]: rows over, by key */
	size_t nover;
	struct hash_key hk;
	double tokens;
	uint32_t token_time;
	struct thresh_stats st;
};

struct thresh_set {
	struct thresh t[THRESH_MAX];   /* in index order */
	size_t n;
	struct alarm_event ev[EVENTS_MAX];
	size_t ev_head, ev_count;
	uint64_t ev_dropped;
	uint64_t budget;               /* rows all arenas together may hold */
	uint64_t held;                 /* rows they hold */
};

/* Watched rows of one threshold, and the alarm table's order of them. */
uint32_t thr_row_find(const struct thresh *t, const struct agg_key *k);
uint32_t thr_row_add(struct thresh_set *ts, struct thresh *t, const struct agg_key *k,
		     uint32_t slot);
void thr_row_drop(struct thresh *t, uint32_t i);
void thr_over_insert(struct thresh *t, uint32_t i);
void thr_over_remove(struct thresh *t, uint32_t i);
/* An event of threshold ti about row r (counted, rate-limited, queued). */
void thr_raise_event(struct thresh_set *ts, size_t ti, const struct wrow *r, uint8_t kind,
		     uint32_t now);

/* alarm_period.c: rows whose period ended leave (thresh_tick calls it). */
void thresh_period_tick(struct thresh *t, uint32_t now);

#endif
