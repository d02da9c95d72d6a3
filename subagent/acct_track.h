/*
 * acct_track: turns DESTROY events and periodic dump rows into flow *slices*,
 * so that each byte the kernel counted enters the aggregates exactly once.
 *
 * A tracked flow remembers the counters it had when last accounted.  A dump
 * row accounts the growth since then (an interim slice); DESTROY accounts the
 * remainder (the final slice).  A flow never seen before is accounted from
 * zero.  The kernel's counters are only read, never zeroed.
 *
 * Identity is one incarnation of a connection: conntrack id + original tuple
 * + zone + start timestamp.  The kernel reuses ids (it derives them from the
 * entry's address and tuple), so a client that reconnects from the same port
 * gets the same id again; only the start time tells the incarnations apart,
 * and each has an entry of its own, whatever order their rows and events
 * arrive in.  (With nf_conntrack_timestamp off every start is 0: incarnations
 * of one tuple that overlap in time cannot be told apart.)
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
 * A dump row carrying a stop time is a connection the kernel is destroying:
 * its DESTROY is queued (or already applied).  Such a row accounts growth of
 * a LIVE entry, and is otherwise left to the DESTROY, so that a row the dump
 * copied just before or after the DESTROY was read can never start a flow.
 *
 * When the table is full a new flow is simply not tracked: its DESTROY then
 * accounts it from zero, which is still exact, only later.  Tracked entries
 * are never evicted, because that would make their DESTROY count twice.
 *
 * The entries live in a store region: after a restart (or a kill) they are
 * there again with the counters already accounted, so a connection still
 * alive continues from them, and one that ended meanwhile is closed as ended
 * unobserved by the first complete dump.  Every change is saved to the
 * store's journal first; the caller brackets work in transactions.
 */
#ifndef CTFLOWD_ACCT_TRACK_H
#define CTFLOWD_ACCT_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "base_store.h"
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

/* Counters (all since the state was created, kept across restarts) and
 * gauges (tracked, limit, bytes_used). */
struct track_stats {
	uint64_t tracked;          /* entries in use now (all states) */
	uint64_t limit;
	uint64_t bytes_used;       /* memory held by the table */
	uint64_t full_refusals;    /* flows not tracked because the table was full */
	uint64_t counter_resets;   /* counters went backwards (someone zeroed them) */
	uint64_t ended_unobserved; /* closed because they vanished without DESTROY */
	uint64_t ended_while_down; /* of those: tracked before a restart, gone after it */
	uint64_t late_destroys;    /* DESTROY arriving after an unobserved close */
	uint64_t incarnations;     /* a new incarnation of a tracked id + tuple */
	uint64_t duplicate_destroys; /* a DESTROY for an incarnation already destroyed */
	uint64_t stale_rows;       /* dump rows older than the DESTROY already applied */
	uint64_t dying_rows;       /* dump rows of untracked flows being destroyed */
	uint64_t destroys;
	uint64_t dump_rows;
	uint64_t sweeps;
	uint64_t slices;
	uint64_t no_counters;      /* events without counters: accounting is off */
	uint64_t recovered;        /* entries found in the state at the last start */
};

struct track;

/*
 * limit: maximum entries.  The entries are the store region "track" (kept
 * from the last run when its layout matches; *origin says).  The store must
 * be in a transaction whenever a function below changes the table.
 */
struct track *track_new(size_t limit, const struct slice_sink *sink, struct store *st,
			enum store_origin *origin);
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

/* The bytes of journal one call of track_destroy/dump_row/sweep(1) may save. */
size_t track_save_max(void);

#endif
