/*
 * alarm_period: thresholds on a period's total (quota levels).  Their rows
 * are the threshold's watched rows, but only while over: a row is added by
 * the update that reaches the level (or finds it reached) and leaves when
 * its period ends.  Nothing to remember per row below the level, so no
 * budget is spent on the rows that never reach it.
 */
#include "alarm_thresh_int.h"

#include <string.h>

/* A row of a period threshold is over from the update that reaches the
 * level (or finds it reached) to the end of that period. */
static void period_over(struct thresh_set *ts, size_t ti, const struct agg_key *key,
			const struct usage_def *u, const struct usage_bucket *b, uint64_t v,
			uint32_t now)
{
	struct thresh *t = &ts->t[ti];
	const uint64_t pkts[2] = { b->pkts[0], b->pkts[1] }, bytes[2] = { b->bytes[0], b->bytes[1] };
	uint64_t after = thresh_def_amount(&t->def, pkts, bytes, b->flows);
	uint32_t i;

	if (after < t->def.rising)
		return;
	i = thr_row_find(t, key);
	if (i && t->rows[i].slot > b->tag) {
		/* a period's closing read, the row already listed for the next
		 * period: the level, if this reached it, is notified, the listing
		 * stays the current period's */
		if (after - v < t->def.rising) {
			struct wrow late = t->rows[i];

			late.rate = after;
			thr_raise_event(ts, ti, &late, ALARM_RISING, now);
		}
		return;
	}
	if (!i && !(i = thr_row_add(ts, t, key, 0))) {
		t->st.refused++;
		return;
	}
	struct wrow *r = &t->rows[i];

	if (r->slot != b->tag) { /* a new period: the last one's alarm is over */
		int64_t start, end;

		if (r->over) {
			thr_over_remove(t, i);
			t->st.over--;
			r->over = 0;
		}
		r->slot = b->tag;
		usage_bounds(u, t->def.period - 1u, b->tag - 1, &start, &end);
		r->until = (uint32_t)end;
	}
	r->rate = r->total = after;
	if (after > r->peak)
		r->peak = after;
	if (r->over)
		return;
	r->over = 1;
	r->since = now;
	r->peak = after;
	thr_over_insert(t, i);
	t->st.over++;
	if (after - v < t->def.rising)
		thr_raise_event(ts, ti, r, ALARM_RISING, now);
}

void thresh_usage(struct thresh_set *ts, size_t profile, const struct agg_keyspec *spec,
		  const struct usage_def *u, const struct agg_key *key,
		  const struct agg_growth *g, uint32_t now)
{
	struct thresh_key view = { spec, key, 0, { 0 } };

	for (size_t ti = 0; ts && ti < ts->n; ti++) {
		struct thresh *t = &ts->t[ti];
		const struct usage_bucket *b;

		if (!t->active || !t->def.period || t->def.profile != profile ||
		    t->def.period > u->n || !(b = g->cur[t->def.period - 1]) ||
		    !thresh_def_matches(&t->def, &view))
			continue;
		period_over(ts, ti, key, u, b,
			    thresh_def_amount(&t->def, g->pkts, g->bytes, g->flows_started), now);
	}
}

/* Rows whose period ended leave. */
void thresh_period_tick(struct thresh *t, uint32_t now)
{
	for (uint32_t i = t->used_head, next; i; i = next) {
		struct wrow *r = &t->rows[i];

		next = r->next;
		if (now < r->until)
			continue;
		if (r->over) {
			thr_over_remove(t, i);
			t->st.over--;
		}
		thr_row_drop(t, i);
	}
}
