/*
 * base_store: what ctflowd knows, in memory that outlives the process.
 *
 * Each owner of state that must survive a restart (the tracking table, each
 * profile's rows, each IPFIX session, the daemon's counters) asks for a named
 * region.  With a state directory a region is a file there, mapped shared:
 * writes cost what writes to memory cost, and what the process wrote stays in
 * the page cache if it is killed at any instant.  Without one a region is
 * plain anonymous memory and nothing below costs more than a branch.
 *
 * Crash consistency comes from a journal (its own region) in which
 *   - every transaction first saves the bytes it is about to change (undo),
 *     tagged with the transaction's epoch; a transaction commits with one
 *     8-byte store, so after a kill the changes of the one transaction in
 *     flight are rolled back when the regions are mapped again;
 *   - the event receive area lives, so the DESTROY events the kernel handed
 *     over in a recvmmsg() whose transaction did not commit are still there
 *     to be applied again (redo): a kill at any instant loses no event.
 *
 * A region whose file is truncated, corrupt, from another format, another
 * layout (its owner's signature) or another network namespace is refused:
 * the file is renamed aside, the reason kept for the log, and the owner
 * starts fresh.  So is one left unclean by a machine that rebooted since (its
 * pages may have reached the disk in any order).
 */
#ifndef CTFLOWD_BASE_STORE_H
#define CTFLOWD_BASE_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_NAME_MAX 96
#define STORE_NOTE_MAX 256

enum store_origin {
	STORE_FRESH = 0, /* new, zero-filled */
	STORE_KEPT = 1,  /* the previous contents, consistent */
};

struct store;

/*
 * dir: the state directory ("" = no persistence).  journal_bytes: the
 * journal's undo area (bounded; see store_room).  rx_bytes: the receive area
 * handed out by store_rx().  NULL with a reason in err.
 */
struct store *store_open(const char *dir, size_t journal_bytes, size_t rx_bytes, char *err,
			 size_t errlen);
/* After an orderly stop, before the owners let go: sync every region to disk
 * and mark it closed cleanly (such a region is used even after a reboot). */
void store_seal(struct store *st);
/* Unmaps what is still mapped and lets the state directory go. */
void store_close(struct store *st);
int store_persistent(const struct store *st);

/*
 * A region of `size` bytes named `name` (letters, digits, '-', '_', '.'),
 * whose layout is identified by sig (the owner's version, record sizes,
 * configuration that shapes it).  *origin says whether it holds the previous
 * contents.  The undo records of an uncommitted transaction are applied to
 * it before it is returned.  NULL (errno) when it cannot be mapped at all, or
 * (EBUSY) when it is mapped already.
 */
void *store_region(struct store *st, const char *name, uint64_t sig, size_t size,
		   enum store_origin *origin);
/* The owner lets its region go (its contents stay for the next run, in the
 * file; anonymous ones are gone). */
void store_region_release(struct store *st, void *base);
/* The owner found the kept contents unusable (why): the file is put aside
 * like a refused one and the region starts afresh.  The new base, or NULL. */
void *store_region_reset(struct store *st, void *base, const char *why);
/* Drop a region (and its file): its owner is gone, e.g. a profile removed. */
void store_region_drop(struct store *st, void *base);
/* Regions that were refused, one line each ("" when none), for the log. */
size_t store_notes(const struct store *st, char notes[][STORE_NOTE_MAX], size_t max);
/* Regions of the state directory no owner asked for since store_open
 * (e.g. of a profile that is no longer configured) are deleted. */
void store_sweep_unused(struct store *st);

/* ---- transactions ---- */

/* Begin a transaction (one at a time). */
void store_begin(struct store *st);
/* Before changing [p, p + len) of a region: keep its bytes for a rollback.
 * Saving the same bytes twice is harmless.  p outside every region: ignored. */
void store_save(struct store *st, const void *p, size_t len);
/* Whether `len` more bytes of saves fit in this transaction; when not, the
 * caller commits and begins a new one. */
int store_room(const struct store *st, size_t len);
/* Commit.  store_commit_rx also records that the first `done` items of the
 * receive area are applied (store_rx_done). */
void store_commit(struct store *st);
void store_commit_rx(struct store *st, uint32_t done);
/* The current epoch: a stamp owners use to save a header once per
 * transaction (compare, save, stamp). */
uint32_t store_epoch(const struct store *st);

/* ---- the receive area (redo) ---- */

/* rx_bytes of persistent memory for the event receiver's buffers. */
void *store_rx(struct store *st);
/* Items of the receive area applied by committed transactions since it was
 * last refilled (what store_commit recorded), and whether it was filled by a
 * receive that may not be fully applied (to redo at start). */
uint32_t store_rx_done(const struct store *st);
/* The receive area is about to be refilled: nothing in it is pending. */
void store_rx_reset(struct store *st);

/*
 * For tests: apply the undo records of the transaction in progress now, as a
 * restart would, and end it (what a kill followed by a start does to the
 * regions).  And a fault hook, called before the n-th save from now (n = 0:
 * none), from which a test may longjmp out to simulate a kill there.
 */
void store_abort(struct store *st);
void store_fault_at(struct store *st, uint64_t n, void (*fn)(void *arg), void *arg);

/* Counters of the journal, for the bench and the tests. */
struct store_stats {
	uint64_t commits, saves, save_bytes;
	uint64_t rolled_back;   /* undo records applied at start */
	uint64_t unguarded;     /* saves outside a transaction: a bug, tests assert 0 */
	uint32_t regions, refused;
};
void store_get_stats(const struct store *st, struct store_stats *out);

#endif
