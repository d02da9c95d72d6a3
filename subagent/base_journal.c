/*
 * base_journal: the store's transactions.  An undo record is written whole
 * before the fill that publishes it, and before the bytes it protects
 * change; a commit is one 8-byte store.  Between the process and the page
 * cache nothing else is needed: a killed process's stores are all there, in
 * program order, so compiler barriers suffice (no msync on the hot path).
 * At the next start, the records of a transaction that did not commit roll
 * each region back as it is mapped.
 */
#include "base_store_int.h"

#include <stdlib.h>
#include <string.h>

/* Roll back, in reverse order, what the transaction cut short did to one
 * region.  Records are walked forward once to find them. */
void journal_roll_back(struct store *st, const struct region *r)
{
	size_t *offs = NULL, n = 0, cap = 0, pos = 0;

	while (pos + sizeof(struct undo_rec) <= st->pending_len) {
		const struct undo_rec *u = (const void *)(st->pending + pos);
		size_t step = (sizeof(*u) + (size_t)u->len + UNDO_ALIGN - 1) & ~(size_t)(UNDO_ALIGN - 1);

		if (step > st->pending_len - pos)
			break;
		if (u->epoch == st->pending_epoch && u->region == r->key && u->off <= r->size &&
		    u->len <= r->size - u->off) {
			if (n == cap) {
				size_t *o = realloc(offs, (cap = cap ? 2 * cap : 256) * sizeof(*offs));

				if (!o)
					break;
				offs = o;
			}
			offs[n++] = pos;
		}
		pos += step;
	}
	while (n-- > 0) {
		const struct undo_rec *u = (const void *)(st->pending + offs[n]);

		memcpy(r->base + u->off, u + 1, u->len);
		st->stats.rolled_back++;
	}
	free(offs);
}

/* ---- transactions ---- */

uint32_t store_epoch(const struct store *st)
{
	return st->open_epoch;
}

void store_begin(struct store *st)
{
	st->open_epoch = (uint32_t)atomic_load_explicit(&st->jh->committed, memory_order_relaxed) + 1;
	if (st->open_epoch == 0) /* 0 means "none" to owners' stamps */
		st->open_epoch = 1;
	st->jh->undo_used = 0;
	store_barrier();
}

static const struct region *find_region(const struct store *st, const void *p)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < st->n; i++)
		if (b >= st->r[i].base && b < st->r[i].base + st->r[i].size)
			return &st->r[i];
	return NULL;
}

int store_room(const struct store *st, size_t len)
{
	return !st->persistent ||
	       st->jh->undo_used + len + 64 * sizeof(struct undo_rec) <= st->jh->undo_size;
}

void store_save(struct store *st, const void *p, size_t len)
{
	const struct region *r;
	struct undo_rec *u;
	size_t step;

	if (!st->persistent || !(r = find_region(st, p)))
		return;
	if (!st->open_epoch) {
		st->stats.unguarded++;
		return;
	}
	if (st->fault_in && --st->fault_in == 0)
		st->fault(st->fault_arg);
	step = (sizeof(*u) + len + UNDO_ALIGN - 1) & ~(size_t)(UNDO_ALIGN - 1);
	if (st->jh->undo_used + step > st->jh->undo_size)
		abort(); /* callers check store_room: a bug, and rolling on would corrupt */
	u = (struct undo_rec *)(void *)(st->undo + st->jh->undo_used);
	u->epoch = st->open_epoch;
	u->len = (uint32_t)len;
	u->region = r->key;
	u->off = (uint64_t)((const unsigned char *)p - r->base);
	memcpy(u + 1, p, len);
	store_barrier();
	st->jh->undo_used += step;
	store_barrier();
	st->stats.saves++;
	st->stats.save_bytes += len;
}

static void commit(struct store *st, uint64_t done)
{
	store_barrier();
	atomic_store_explicit(&st->jh->committed, done << 32 | st->open_epoch, memory_order_relaxed);
	store_barrier();
	st->open_epoch = 0;
	st->stats.commits++;
}

void store_commit(struct store *st)
{
	commit(st, atomic_load_explicit(&st->jh->committed, memory_order_relaxed) >> 32);
}

void store_commit_rx(struct store *st, uint32_t done)
{
	commit(st, done);
}

void *store_rx(struct store *st)
{
	return st->rx;
}

uint32_t store_rx_done(const struct store *st)
{
	return (uint32_t)(atomic_load(&st->jh->committed) >> 32);
}

void store_rx_reset(struct store *st)
{
	uint64_t c = atomic_load_explicit(&st->jh->committed, memory_order_relaxed);

	atomic_store_explicit(&st->jh->committed, c & 0xffffffffu, memory_order_relaxed);
	store_barrier();
}

void store_abort(struct store *st)
{
	size_t used = st->jh->undo_used;

	if (!st->open_epoch)
		return;
	if (st->persistent && used) {
		free(st->pending);
		st->pending = malloc(used);
		if (st->pending) {
			memcpy(st->pending, st->undo, used);
			st->pending_len = used;
			st->pending_epoch = st->open_epoch;
			for (size_t i = 0; i < st->n; i++)
				journal_roll_back(st, &st->r[i]);
		}
		free(st->pending);
		st->pending = NULL;
		st->pending_len = 0;
	}
	st->open_epoch = 0;
}

void store_fault_at(struct store *st, uint64_t n, void (*fn)(void *arg), void *arg)
{
	st->fault_in = n;
	st->fault = fn;
	st->fault_arg = arg;
}

void store_get_stats(const struct store *st, struct store_stats *out)
{
	*out = st->stats;
}
