/*
 * acct_track: turns DESTROY events and periodic dump rows into flow *slices*,
 * so that each byte the kernel counted enters the aggregates exactly once.
 *
 * A tracked flow remembers the counters it had when last accounted.  A dump
 * row accounts the growth since then (an interim slice); DESTROY accounts the
 * remainder (the final slice).  A flow never seen before is accounted from
 * zero.  The kernel's counters are only read, never zeroed.
 *
 * Identity is conntrack id + original tuple + zone; ids are reused, so when
 * both sides carry a start timestamp a differing one means a new incarnation.
 *
 * Entry states:
 *   LIVE    seen in a dump, not yet destroyed.
 *   TOMB    destroyed while a dump was running: the dump may still hold an
 *           older copy of the row, which must not be accounted again.
 *   ZOMBIE  vanished from a dump without DESTROY (event lost): closed as
 *           "ended unobserved" with its last counters, kept one more dump
 *           cycle so that a late DESTROY (reliable mode redelivery) accounts
 *           the remainder instead of the whole flow again.
 *
 * When the table is full a new flow is simply not tracked: its DESTROY then
 * accounts it from zero, which is still exact, only later.  Tracked entries
 * are never evicted, because that would make their DESTROY count twice.
 */
#ifndef CTFLOWD_ACCT_TRACK_H
#define CTFLOWD_ACCT_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "kern_ctparse.h"

enum slice_flags {
	SLICE_START = 1u << 0, /* first slice of this flow: count it as started */
	SLICE_END = 1u << 1,   /* last slice: count it as ended */
};

enum slice_reason {
	SLICE_INTERIM,       /* growth seen by a periodic dump (active timeout) */
	SLICE_DESTROY,       /* the kernel's DESTROY event */
	SLICE_UNOBSERVED,    /* vanished from a dump without DESTROY */
	SLICE_LATE_DESTROY,  /* DESTROY for a flow already closed as unobserved */
};

struct slice {
	const struct ct_flow *flow;
	uint64_t pkts[2], bytes[2]; /* deltas, [CT_ORIG] and [CT_REPLY] */
	uint8_t flags;              /* enum slice_flags */
	uint8_t reason;             /* enum slice_reason */
	uint64_t time_ns;           /* realtime: stop timestamp for DESTROY, else now */
};

struct slice_sink {
	void (*slice)(void *arg, const struct slice *s);
	void *arg;
};

struct track_stats {
	uint64_t tracked;          /* entries in use now (all states) */
	uint64_t limit;
	uint64_t bytes_used;       /* memory held by the table */
	uint64_t full_refusals;    /* flows not tracked because the table was full */
	uint64_t counter_resets;   /* counters went backwards (someone zeroed them) */
	uint64_t ended_unobserved; /* closed because they vanished without DESTROY */
	uint64_t late_destroys;    /* DESTROY arriving after an unobserved close */
	uint64_t incarnations;     /* id+tuple reused by a new flow (start time differs) */
	uint64_t duplicate_destroys;
	uint64_t destroys;
	uint64_t dump_rows;
	uint64_t sweeps;
	uint64_t slices;
	uint64_t no_counters;      /* events without counters: accounting is off */
};

struct track;

/* limit: maximum entries; memory grows in chunks up to it. */
struct track *track_new(size_t limit, const struct slice_sink *sink);
void track_free(struct track *tr);

void track_destroy(struct track *tr, const struct ct_flow *f, uint64_t now_ns);
/* Prefetch (stage 0: bucket, 1: entry) what looking f up will touch. */
void track_prefetch(const struct track *tr, const struct ct_flow *f, int stage);

/* A dump cycle: begin, rows, end.  end(ok=0) abandons the cycle (no sweep). */
void track_dump_begin(struct track *tr);
void track_dump_row(struct track *tr, const struct ct_flow *f, uint64_t now_ns);
void track_dump_end(struct track *tr, int ok);

/*
 * After a successful dump_end, and only once every event queued before the
 * dump finished has been read, sweep the table: close vanished flows, drop
 * tombstones and old zombies.  Does at most `budget` entries per call;
 * returns 1 while more remains, 0 when the sweep is complete.
 */
int track_sweep_pending(const struct track *tr);
int track_sweep(struct track *tr, size_t budget, uint64_t now_ns);

void track_get_stats(const struct track *tr, struct track_stats *st);

#endif
