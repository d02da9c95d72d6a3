/*
 * alarm_thresh: watched rows live in an arena per threshold (a free list,
 * a list of rows in use for the once-a-second pass, hash chains for lookup
 * by key).  The arena grows as rows are watched, by doubling, up to the
 * threshold's max_rows and while the set's budget of rows allows: what a
 * manager may configure costs memory only once traffic fills it.  A row's window is `nslots` slots of `slot_s` seconds,
 * each holding what arrived in it; the rate is their sum over the window.
 * Rows over the threshold are also kept in key order for the alarm table.
 */
#include "alarm_thresh.h"

#include <stdlib.h>
#include <string.h>

#include "alarm_thresh_int.h"
#include "base_hash.h"

/* ---- set-up ---- */

static void thresh_release(struct thresh *t)
{
	free(t->rows);
	free(t->buckets);
	free(t->over);
	memset(t, 0, sizeof(*t));
}

static int thresh_init(struct thresh *t, const struct thresh_def *d)
{
	memset(t, 0, sizeof(*t));
	t->def = *d;
	if (t->def.window_s < 1)
		t->def.window_s = 1;
	if (t->def.max_rows < 1)
		t->def.max_rows = 1;
	/* at most SLOTS_MAX slots: a long window moves in steps of slot_s */
	t->slot_s = (t->def.window_s + SLOTS_MAX - 1) / SLOTS_MAX;
	t->nslots = (t->def.window_s + t->slot_s - 1) / t->slot_s;
	t->buckets = calloc(ROWS_FIRST, sizeof(*t->buckets));
	if (!t->buckets)
		return -1;
	t->mask = ROWS_FIRST - 1;
	hash_key_random(&t->hk);
	t->tokens = t->def.notify_per_min;
	return 0;
}

struct thresh_set *thresh_set_new(const struct thresh_def *defs, size_t n)
{
	struct thresh_set *ts = calloc(1, sizeof(*ts));

	if (!ts)
		return NULL;
	ts->budget = THRESH_ROWS_MAX;
	for (size_t i = 0; i < n; i++) {
		uint32_t index = defs[i].index ? defs[i].index : (uint32_t)i + 1;

		if (thresh_put(ts, index, &defs[i], !defs[i].inactive) < 0) {
			thresh_set_free(ts);
			return NULL;
		}
	}
	return ts;
}

void thresh_set_free(struct thresh_set *ts)
{
	if (!ts)
		return;
	for (size_t i = 0; i < ts->n; i++)
		thresh_release(&ts->t[i]);
	free(ts);
}

void thresh_set_budget(struct thresh_set *ts, uint64_t rows)
{
	ts->budget = rows;
}

uint64_t thresh_rows_held(const struct thresh_set *ts)
{
	return ts ? ts->held : 0;
}

/* Give a threshold's arena back to the budget, and free it. */
static void thresh_drop(struct thresh_set *ts, struct thresh *t)
{
	ts->held -= t->cap;
	thresh_release(t);
}

size_t thresh_pos(const struct thresh_set *ts, uint32_t index)
{
	size_t lo = 0, hi = ts ? ts->n : 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ts->t[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t thresh_index_at(const struct thresh_set *ts, size_t pos)
{
	return ts && pos < ts->n ? ts->t[pos].index : 0;
}

int thresh_active_at(const struct thresh_set *ts, size_t pos)
{
	return ts && pos < ts->n && ts->t[pos].active;
}

int thresh_put(struct thresh_set *ts, uint32_t index, const struct thresh_def *d, int active)
{
	size_t at = thresh_pos(ts, index);
	struct thresh fresh;

	if (at < ts->n && ts->t[at].index == index) {
		/* the same settings: only the state changes, the rows stay watched */
		if (memcmp(&ts->t[at].def, d, sizeof(*d)) == 0) {
			ts->t[at].active = active;
			return 0;
		}
		if (thresh_init(&fresh, d) < 0)
			return -1;
		thresh_drop(ts, &ts->t[at]);
	} else {
		if (ts->n == THRESH_MAX || thresh_init(&fresh, d) < 0)
			return -1;
		memmove(&ts->t[at + 1], &ts->t[at], (ts->n - at) * sizeof(ts->t[0]));
		ts->n++;
	}
	fresh.index = index;
	fresh.active = active;
	ts->t[at] = fresh;
	return 0;
}

void thresh_remove(struct thresh_set *ts, uint32_t index)
{
	size_t at = thresh_pos(ts, index);

	if (at >= ts->n || ts->t[at].index != index)
		return;
	thresh_drop(ts, &ts->t[at]);
	memmove(&ts->t[at], &ts->t[at + 1], (ts->n - at - 1) * sizeof(ts->t[0]));
	ts->n--;
}

size_t thresh_count(const struct thresh_set *ts)
{
	return ts ? ts->n : 0;
}

const struct thresh_def *thresh_get(const struct thresh_set *ts, size_t i)
{
	return ts && i < ts->n ? &ts->t[i].def : NULL;
}

/* ---- rows ---- */

static uint32_t bucket_of(const struct thresh *t, const struct agg_key *k)
{
	return (uint32_t)hash_bytes(&t->hk, k->b, k->len) & t->mask;
}

uint32_t thr_row_find(const struct thresh *t, const struct agg_key *k)
{
	for (uint32_t i = t->buckets[bucket_of(t, k)]; i; i = t->rows[i].hnext)
		if (agg_key_cmp(&t->rows[i].key, k) == 0)
			return i;
	return 0;
}

/* Chains for `nb` buckets (a power of two), every row in use rehashed. */
static int rehash(struct thresh *t, uint32_t nb)
{
	uint32_t *b = calloc(nb, sizeof(*b));

	if (!b)
		return -1;
	free(t->buckets);
	t->buckets = b;
	t->mask = nb - 1;
	for (uint32_t i = t->used_head; i; i = t->rows[i].next) {
		uint32_t k = bucket_of(t, &t->rows[i].key);

		t->rows[i].hnext = b[k];
		b[k] = i;
	}
	return 0;
}

/* More rows for the arena: twice as many, within max_rows and the budget. */
static int grow(struct thresh_set *ts, struct thresh *t)
{
	uint64_t room = ts->budget > ts->held ? ts->budget - ts->held : 0;
	uint32_t want = t->cap ? t->cap * 2 : ROWS_FIRST;

	if (want > t->def.max_rows)
		want = t->def.max_rows;
	if (want - t->cap > room)
		want = t->cap + (uint32_t)room;
	if (want <= t->cap)
		return -1;
	struct wrow *rows = realloc(t->rows, ((size_t)want + 1) * sizeof(*rows));

	if (!rows)
		return -1;
	t->rows = rows;
	uint32_t *over = realloc(t->over, (size_t)want * sizeof(*over));

	if (!over)
		return -1;
	t->over = over;
	if (want > t->mask + 1) {
		uint32_t nb = t->mask + 1;

		while (nb < want)
			nb <<= 1;
		if (rehash(t, nb) < 0)
			return -1;
	}
	for (uint32_t i = want; i > t->cap; i--) {
		t->rows[i].hnext = t->free_head;
		t->free_head = i;
	}
	ts->held += want - t->cap;
	t->cap = want;
	return 0;
}

uint32_t thr_row_add(struct thresh_set *ts, struct thresh *t, const struct agg_key *k,
			uint32_t slot)
{
	if (!t->free_head && grow(ts, t) < 0)
		return 0;
	uint32_t i = t->free_head, b = bucket_of(t, k);
	struct wrow *r = &t->rows[i];

	t->free_head = r->hnext;
	memset(r, 0, sizeof(*r));
	r->key = *k;
	r->slot = slot;
	r->hnext = t->buckets[b];
	t->buckets[b] = i;
	r->next = t->used_head;
	if (t->used_head)
		t->rows[t->used_head].prev = i;
	t->used_head = i;
	t->st.watched++;
	return i;
}

void thr_row_drop(struct thresh *t, uint32_t i)
{
	struct wrow *r = &t->rows[i];
	uint32_t *p = &t->buckets[bucket_of(t, &r->key)];

	while (*p != i)
		p = &t->rows[*p].hnext;
	*p = r->hnext;
	if (r->prev)
		t->rows[r->prev].next = r->next;
	else
		t->used_head = r->next;
	if (r->next)
		t->rows[r->next].prev = r->prev;
	r->hnext = t->free_head;
	t->free_head = i;
	t->st.watched--;
}

/* Slide the window to `slot`; slots that passed are emptied. */
static void row_advance(struct thresh *t, struct wrow *r, uint32_t slot)
{
	if (slot <= r->slot)
		return;
	if (slot - r->slot >= t->nslots) {
		memset(r->sums, 0, sizeof(r->sums));
		r->total = 0;
	} else {
		for (uint32_t s = r->slot + 1; s <= slot; s++) {
			r->total -= r->sums[s % t->nslots];
			r->sums[s % t->nslots] = 0;
		}
	}
	r->slot = slot;
	r->rate = r->total / ((uint64_t)t->nslots * t->slot_s);
}

/* ---- the alarm table's order ---- */

/* Position of the first over-row whose key is >= k (or > k). */
static size_t over_bound(const struct thresh *t, const struct agg_key *k, int strict)
{
	size_t lo = 0, hi = t->nover;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = agg_key_cmp(&t->rows[t->over[mid]].key, k);

		if (c < 0 || (strict && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void thr_over_insert(struct thresh *t, uint32_t i)
{
	size_t at = over_bound(t, &t->rows[i].key, 0);

	memmove(&t->over[at + 1], &t->over[at], (t->nover - at) * sizeof(*t->over));
	t->over[at] = i;
	t->nover++;
}

void thr_over_remove(struct thresh *t, uint32_t i)
{
	size_t at = over_bound(t, &t->rows[i].key, 0);

	if (at < t->nover && t->over[at] == i) {
		memmove(&t->over[at], &t->over[at + 1], (t->nover - at - 1) * sizeof(*t->over));
		t->nover--;
	}
}

/* ---- events ---- */

/* A notification token (notify_per_min a minute, bursts up to that many). */
static int take_token(struct thresh *t, uint32_t now)
{
	double per_s = t->def.notify_per_min / 60.0;

	if (!t->def.notify_per_min)
		return 1;
	if (now > t->token_time)
		t->tokens += (now - t->token_time) * per_s;
	t->token_time = now;
	if (t->tokens > t->def.notify_per_min)
		t->tokens = t->def.notify_per_min;
	if (t->tokens < 1.0)
		return 0;
	t->tokens -= 1.0;
	return 1;
}

void thr_raise_event(struct thresh_set *ts, size_t ti, const struct wrow *r, uint8_t kind,
			uint32_t now)
{
	struct thresh *t = &ts->t[ti];

	if (kind == ALARM_RISING)
		t->st.rising++;
	else
		t->st.falling++;
	if (!take_token(t, now)) {
		t->st.suppressed++;
		return;
	}
	if (ts->ev_count == EVENTS_MAX) { /* the oldest goes: it is the least current */
		ts->ev_head = (ts->ev_head + 1) % EVENTS_MAX;
		ts->ev_count--;
		ts->ev_dropped++;
	}
	struct alarm_event *e = &ts->ev[(ts->ev_head + ts->ev_count++) % EVENTS_MAX];

	e->kind = kind;
	e->thresh = t->index;
	e->key = r->key;
	e->rate = r->rate;
	e->value = kind == ALARM_RISING ? t->def.rising : t->def.falling;
	e->window_s = t->def.period ? 0 : t->def.window_s; /* 0: a period's total */
	e->time = now;
}

static void check_rising(struct thresh_set *ts, size_t ti, uint32_t i, uint32_t now)
{
	struct thresh *t = &ts->t[ti];
	struct wrow *r = &t->rows[i];

	if (r->rate > r->peak)
		r->peak = r->rate;
	if (r->over || r->rate < t->def.rising)
		return;
	r->over = 1;
	r->since = now;
	r->peak = r->rate;
	thr_over_insert(t, i);
	t->st.over++;
	thr_raise_event(ts, ti, r, ALARM_RISING, now);
}

/* ---- the two entry points ---- */

void thresh_update(struct thresh_set *ts, size_t profile, const struct agg_keyspec *spec,
		   const struct agg_key *key, const uint64_t pkts[2], const uint64_t bytes[2],
		   uint64_t flows, uint32_t now)
{
	struct thresh_key view = { spec, key, 0, { 0 } };

	for (size_t ti = 0; ts && ti < ts->n; ti++) {
		struct thresh *t = &ts->t[ti];

		if (!t->active || t->def.period || t->def.profile != profile ||
		    !thresh_def_matches(&t->def, &view))
			continue;
		uint64_t v = thresh_def_amount(&t->def, pkts, bytes, flows);
		uint32_t slot = now / t->slot_s;
		uint32_t i = thr_row_find(t, key);

		if (!v && !i)
			continue;
		if (!i && !(i = thr_row_add(ts, t, key, slot))) {
			t->st.refused++;
			continue;
		}
		struct wrow *r = &t->rows[i];

		row_advance(t, r, slot);
		r->sums[slot % t->nslots] += v;
		r->total += v;
		r->rate = r->total / ((uint64_t)t->nslots * t->slot_s);
		check_rising(ts, ti, i, now);
	}
}

void thresh_tick(struct thresh_set *ts, uint32_t now)
{
	for (size_t ti = 0; ts && ti < ts->n; ti++) {
		struct thresh *t = &ts->t[ti];
		uint32_t slot = now / t->slot_s;

		if (!t->active)
			continue;
		if (t->def.period) {
			thresh_period_tick(t, now);
			continue;
		}
		for (uint32_t i = t->used_head, next; i; i = next) {
			struct wrow *r = &t->rows[i];

			next = r->next;
			row_advance(t, r, slot);
			if (r->over && r->rate <= t->def.falling) {
				r->over = 0;
				thr_over_remove(t, i);
				t->st.over--;
				thr_raise_event(ts, ti, r, ALARM_FALLING, now);
			}
			if (!r->over && r->total == 0)
				thr_row_drop(t, i);
		}
	}
}

size_t thresh_events_pending(const struct thresh_set *ts)
{
	return ts ? ts->ev_count : 0;
}

size_t thresh_take_events(struct thresh_set *ts, struct alarm_event *out, size_t max)
{
	size_t n = 0;

	while (ts && n < max && ts->ev_count) {
		out[n++] = ts->ev[ts->ev_head];
		ts->ev_head = (ts->ev_head + 1) % EVENTS_MAX;
		ts->ev_count--;
	}
	return n;
}

void thresh_get_stats(const struct thresh_set *ts, size_t i, struct thresh_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (ts && i < ts->n)
		*st = ts->t[i].st;
}

int thresh_alarm_find(const struct thresh_set *ts, size_t i, const struct agg_key *key, int next,
		      struct alarm_row *out)
{
	const struct thresh *t;
	size_t at;

	if (!ts || i >= ts->n)
		return 0;
	t = &ts->t[i];
	at = key ? over_bound(t, key, next) : 0;
	if (at >= t->nover)
		return 0;
	const struct wrow *r = &t->rows[t->over[at]];

	if (!next && (!key || agg_key_cmp(&r->key, key) != 0))
		return 0;
	*out = (struct alarm_row){ r->key, r->since, r->rate, r->peak };
	return 1;
}

uint64_t thresh_events_dropped(const struct thresh_set *ts)
{
	return ts ? ts->ev_dropped : 0;
}

int thresh_alarm_at(const struct thresh_set *ts, size_t i, size_t pos, struct alarm_row *out)
{
	if (!ts || i >= ts->n || pos >= ts->t[i].nover)
		return 0;
	const struct wrow *r = &ts->t[i].rows[ts->t[i].over[pos]];

	*out = (struct alarm_row){ r->key, r->since, r->rate, r->peak };
	return 1;
}
