/*
 * alarm_thresh: rising/falling thresholds on aggregation rows, with RMON
 * alarm semantics (RFC 2819 alarmTable): a row's rate over a sliding window
 * crossing the rising value raises one rising event; no other rising event
 * for that row until its rate has fallen to the falling value, which raises
 * one falling event, and so on.
 *
 * Cost follows the rows that change: a row is watched from its first update
 * that matches a threshold, its window is kept as per-slot sums, a rising
 * check runs at each update and a falling check once a second, only for rows
 * with something in their window.  A row with an empty window that is not
 * over the threshold is forgotten.  Watched rows are bounded per threshold
 * (max_rows) and for the whole set (a budget); memory is taken as rows are
 * watched, never for the bound up front.  Rows beyond either bound are not
 * watched and are counted.  Pure: no clock of
 * its own (callers pass realtime seconds), no I/O.
 */
#ifndef CTFLOWD_ALARM_THRESH_H
#define CTFLOWD_ALARM_THRESH_H

#include <stddef.h>
#include <stdint.h>

#include "agg_key.h"
#include "alarm_def.h"

enum alarm_kind { ALARM_RISING = 1, ALARM_FALLING = 2 };

struct alarm_event {
	uint8_t kind;              /* enum alarm_kind */
	uint32_t thresh;           /* the threshold's index */
	struct agg_key key;
	uint64_t rate;             /* per second over the window */
	uint64_t value;            /* the rising or falling value crossed */
	uint32_t window_s;
	uint32_t time;             /* realtime seconds */
};

struct thresh_stats {
	uint64_t watched;          /* rows watched now */
	uint64_t over;             /* rows over the threshold now (rising sent, falling not yet) */
	uint64_t rising, falling;  /* events raised */
	uint64_t suppressed;       /* events over notify_per_min: state kept, no notification */
	uint64_t refused;          /* updates of rows not watched: max_rows or the budget */
};

/* One row over a threshold, for the alarm table. */
struct alarm_row {
	struct agg_key key;
	uint32_t since;            /* realtime seconds of the rising event */
	uint64_t rate;             /* last rate computed */
	uint64_t peak;             /* highest rate since */
};

struct thresh_set;

/*
 * Thresholds are kept in the order of their index (ctflowThresholdIndex);
 * the functions below that take `i` take a position in that order.
 * thresh_set_new: indexes 1..n, all active.  NULL on memory failure.  The
 * definitions are copied.
 */
struct thresh_set *thresh_set_new(const struct thresh_def *defs, size_t n);
void thresh_set_free(struct thresh_set *ts);
/* The rows all thresholds together may hold (THRESH_ROWS_MAX until set). */
void thresh_set_budget(struct thresh_set *ts, uint64_t rows);
/* The rows they hold now: allocated as watched, never above the budget. */
uint64_t thresh_rows_held(const struct thresh_set *ts);
size_t thresh_count(const struct thresh_set *ts);
const struct thresh_def *thresh_get(const struct thresh_set *ts, size_t i);
/* The position of the first threshold whose index is >= index. */
size_t thresh_pos(const struct thresh_set *ts, uint32_t index);
uint32_t thresh_index_at(const struct thresh_set *ts, size_t i);
int thresh_active_at(const struct thresh_set *ts, size_t i);
/* Create or replace the threshold `index` (a changed definition starts its
 * rows afresh); inactive ones are kept but not evaluated.  -1: no memory,
 * or THRESH_MAX thresholds already. */
int thresh_put(struct thresh_set *ts, uint32_t index, const struct thresh_def *d, int active);
void thresh_remove(struct thresh_set *ts, uint32_t index);

/*
 * A row of `profile` grew: packets and bytes in its forward [0] and reverse
 * [1] direction, flows started.  `spec` is the profile's key spec.
 */
void thresh_update(struct thresh_set *ts, size_t profile, const struct agg_keyspec *spec,
		   const struct agg_key *key, const uint64_t pkts[2], const uint64_t bytes[2],
		   uint64_t flows, uint32_t now);
/*
 * The same update for period thresholds (quota levels): g->cur holds the
 * row's current period totals after it.  A level is reached when an update
 * carries the total from below it to it or above: one rising event per
 * level, row and period, also across restarts (the totals are kept).  A row
 * already above it (reached before a restart or before the threshold
 * existed) is listed from its next update on, without a notification.  The
 * alarm ends with the period, without a notification.
 */
void thresh_usage(struct thresh_set *ts, size_t profile, const struct agg_keyspec *spec,
		  const struct usage_def *u, const struct agg_key *key,
		  const struct agg_growth *g, uint32_t now);
/* Once a second: windows move on, falling checks, periods end. */
void thresh_tick(struct thresh_set *ts, uint32_t now);

/* Events raised and not taken yet. */
size_t thresh_events_pending(const struct thresh_set *ts);
/* Take up to max events raised since the last call, oldest first. */
size_t thresh_take_events(struct thresh_set *ts, struct alarm_event *out, size_t max);

void thresh_get_stats(const struct thresh_set *ts, size_t i, struct thresh_stats *st);
/* Notifications lost because more events were raised than the queue holds. */
uint64_t thresh_events_dropped(const struct thresh_set *ts);
/* The pos-th row over threshold i, in key order (pos < its stats' over). */
int thresh_alarm_at(const struct thresh_set *ts, size_t i, size_t pos, struct alarm_row *out);
/* The row of threshold i over it with the smallest key > key (key NULL: the
 * first); next = 0: exactly key.  1 and *out, or 0. */
int thresh_alarm_find(const struct thresh_set *ts, size_t i, const struct agg_key *key, int next,
		      struct alarm_row *out);

#endif
