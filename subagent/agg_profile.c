/*
 * agg_profile: applying slices to every profile's table.
 */
#include "agg_profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A key of a flow in one profile, with its hash in that profile's table. */
struct key_h {
	uint64_t hash;
	struct agg_key k;
};

struct agg_set {
	agg_observer *observe;
	void *observe_arg;
	/*
	 * The batch being applied: each flow's keys (profile by profile, source
	 * side then destination side), built and hashed once when the batch is
	 * prefetched and used again when its slices are applied.  A slice
	 * finds its flow's keys by the flow's address (flows of the batch are
	 * applied in order; a flow may give no slice).
	 */
	const struct ct_flow *prep_flows;
	size_t nprep, cursor;
	struct key_h *prep;          /* AGG_BATCH_MAX x n x 2 */
	size_t n;
	struct agg_profile p[];
};

void agg_set_observe(struct agg_set *set, agg_observer *fn, void *arg)
{
	set->observe = fn;
	set->observe_arg = arg;
}

/* What gives a profile's rows their meaning: a region written under another
 * definition is not used. */
static uint64_t profile_sig(const struct agg_profile_def *d)
{
	const unsigned char *b = (const unsigned char *)&d->spec;
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < sizeof(d->spec); i++)
		h = (h ^ b[i]) * 1099511628211ull;
	b = (const unsigned char *)&d->usage;
	for (size_t i = 0; d->usage.n && i < sizeof(d->usage); i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static int same_definition(const struct agg_profile_def *d, const struct agg_profile *p)
{
	struct agg_table_stats st;

	agg_table_get_stats(p->tab, &st);
	return strcmp(d->name, p->name) == 0 && memcmp(&d->spec, &p->spec, sizeof(d->spec)) == 0 &&
	       d->top == p->top_size && d->rows == st.limit &&
	       memcmp(&d->usage, &p->usage, sizeof(d->usage)) == 0;
}

/* Take old's table for this definition, if it has one: 1 when taken. */
static int take_over(struct agg_profile *p, const struct agg_profile_def *d, struct agg_set *old)
{
	for (size_t j = 0; old && j < old->n; j++) {
		struct agg_profile *q = &old->p[j];

		if (q->tab && same_definition(d, q)) {
			*p = *q;
			q->tab = NULL;
			q->top = NULL;
			return 1;
		}
	}
	return 0;
}

/* The region is named after the profile and its definition: a changed
 * definition gets a region of its own, and the old one goes with the old
 * table (or, at start, as a region nobody asked for). */
static int profile_init(struct agg_profile *p, const struct agg_profile_def *d, struct store *st)
{
	char region[STORE_NAME_MAX];

	memcpy(p->name, d->name, sizeof(p->name));
	p->spec = d->spec;
	p->usage = d->usage;
	snprintf(region, sizeof(region), "profile-%s-%016llx", d->name,
		 (unsigned long long)(profile_sig(d) ^ d->rows));
	p->tab = agg_table_new(agg_keyspec_maxlen(&p->spec), usage_row_bytes(&p->usage), d->rows, st,
			       region, profile_sig(d), &p->origin);
	p->top_size = d->top;
	p->top = calloc(p->top_size ? p->top_size : 1, sizeof(*p->top));
	return p->tab && p->top ? 0 : -1;
}

struct agg_set *agg_set_new(const struct agg_profile_def *defs, size_t n, struct store *st,
			    struct agg_set *old, size_t *kept)
{
	struct agg_set *set = calloc(1, sizeof(*set) + n * sizeof(set->p[0]));

	if (kept)
		*kept = 0;
	if (!set)
		return NULL;
	set->n = n;
	/* without it, keys are built at apply time: slower, the same result */
	set->prep = n ? calloc((size_t)AGG_BATCH_MAX * n * 2, sizeof(set->prep[0])) : NULL;
	for (size_t i = 0; i < n; i++) {
		if (take_over(&set->p[i], &defs[i], old) && kept)
			(*kept)++;
	}
	for (size_t i = 0; i < n; i++) {
		if (set->p[i].tab)
			continue;
		if (profile_init(&set->p[i], &defs[i], st) < 0)
			goto fail;
	}
	return set;
fail:
	/* what was taken over goes back, so the running set stays whole */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; old && j < old->n && set->p[i].tab; j++) {
			if (!old->p[j].tab && strcmp(old->p[j].name, set->p[i].name) == 0) {
				old->p[j] = set->p[i];
				set->p[i].tab = NULL;
				set->p[i].top = NULL;
			}
		}
	}
	agg_set_free(set);
	return NULL;
}

size_t agg_set_save_max(const struct agg_set *set)
{
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++)
		n += agg_table_save_max(set->p[i].tab);
	return n;
}

void agg_set_free(struct agg_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++) {
		agg_table_free(set->p[i].tab);
		free(set->p[i].top);
	}
	free(set->prep);
	free(set);
}

void agg_set_retire(struct agg_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++) {
		agg_table_retire(set->p[i].tab);
		set->p[i].tab = NULL;
	}
	agg_set_free(set);
}

size_t agg_set_count(const struct agg_set *set)
{
	return set->n;
}

struct agg_profile *agg_set_profile(struct agg_set *set, size_t i)
{
	return i < set->n ? &set->p[i] : NULL;
}

size_t agg_set_order_sync(struct agg_set *set, size_t budget)
{
	size_t left = 0;

	for (size_t i = 0; i < set->n; i++)
		left += agg_table_order_sync(set->p[i].tab, budget);
	return left;
}

static uint32_t flow_first_seen(const struct slice *s)
{
	const struct ct_flow *f = s->flow;
	uint64_t ns = (f->has & CT_HAS_START) ? f->start_ns : s->time_ns;

	return (uint32_t)(ns / 1000000000u);
}

/* Add the slice to a row; `fwd` is the flow direction that is this row's forward. */
static void row_add(struct agg_counters *r, const struct slice *s, int fwd)
{
	r->pkts[0] += s->pkts[fwd];
	r->bytes[0] += s->bytes[fwd];
	r->pkts[1] += s->pkts[!fwd];
	r->bytes[1] += s->bytes[!fwd];
}

static void row_count(struct agg_counters *r, const struct slice *s)
{
	uint32_t first = flow_first_seen(s);

	if (s->flags & SLICE_START)
		r->flows_started++;
	if (s->flags & SLICE_END)
		r->flows_ended++;
	if (first && first < r->first)
		r->first = first;
}

/* What a row gained from the slice; `fwd` as for row_add, both = the row is
 * both endpoints. */
static void growth_of(const struct slice *s, int fwd, int both, struct agg_growth *g)
{
	g->pkts[0] = s->pkts[fwd] + (both ? s->pkts[!fwd] : 0);
	g->pkts[1] = s->pkts[!fwd] + (both ? s->pkts[fwd] : 0);
	g->bytes[0] = s->bytes[fwd] + (both ? s->bytes[!fwd] : 0);
	g->bytes[1] = s->bytes[!fwd] + (both ? s->bytes[fwd] : 0);
	g->flows_started = (s->flags & SLICE_START) ? 1 : 0;
}

/* The row's periods take the growth, counted in the slice's period. */
static void row_usage(struct agg_profile *p, struct agg_counters *r, const struct slice *s,
		      struct agg_growth *g, uint32_t now)
{
	memset(g->cur, 0, sizeof(g->cur));
	if (!p->usage.n)
		return;
	p->usage_late += usage_add(&p->clock, &p->usage, agg_table_extra_of(p->tab, r),
				   (int64_t)(s->time_ns / 1000000000u), now, g->pkts, g->bytes,
				   g->flows_started, g->cur);
}

/* One row takes the slice: counters, periods, and the observer is told. */
static void row_take(struct agg_set *set, size_t pi, const struct agg_key *k,
		     struct agg_counters *r, const struct slice *s, int fwd, int both, uint32_t now)
{
	struct agg_profile *p = &set->p[pi];
	struct agg_growth g;

	if (!p->usage.n && !set->observe)
		return;
	growth_of(s, fwd, both, &g);
	row_usage(p, r, s, &g, now);
	if (set->observe)
		set->observe(set->observe_arg, pi, &p->spec, &p->usage, k, &g, now);
}

static void key_of(const struct agg_profile *p, const struct ct_flow *f, enum agg_side side,
		   struct key_h *out)
{
	agg_key_build(&p->spec, f, side, &out->k);
	out->hash = agg_table_hash(p->tab, &out->k);
}

/* A flow's keys in one profile: kh[0] its source side, kh[1] (host keys only) its destination. */
static void profile_keys(const struct agg_profile *p, const struct ct_flow *f, struct key_h *kh)
{
	key_of(p, f, AGG_SIDE_SRC, &kh[0]);
	if (p->spec.host)
		key_of(p, f, AGG_SIDE_DST, &kh[1]);
}

/* kh: the flow's two keys in this profile (the second one for host keys only). */
static void apply_profile(struct agg_set *set, size_t pi, const struct slice *s, uint32_t now,
			  const struct key_h *kh)
{
	const struct agg_profile *p = &set->p[pi];
	const struct agg_key *ka = &kh[0].k, *kb = &kh[1].k;
	struct agg_counters *r;

	r = agg_table_upsert_hashed(p->tab, ka, kh[0].hash, now);
	row_add(r, s, CT_ORIG);
	row_count(r, s);
	if (!p->spec.host) {
		row_take(set, pi, ka, r, s, CT_ORIG, 0, now);
		return;
	}
	if (kb->len == ka->len && memcmp(kb->b, ka->b, ka->len) == 0) {
		/* both endpoints map to one row: it sent and received everything */
		row_add(r, s, CT_REPLY);
		row_take(set, pi, ka, r, s, CT_ORIG, 1, now);
		return;
	}
	row_take(set, pi, ka, r, s, CT_ORIG, 0, now);
	r = agg_table_upsert_hashed(p->tab, kb, kh[1].hash, now);
	row_add(r, s, CT_REPLY);
	row_count(r, s);
	row_take(set, pi, kb, r, s, CT_REPLY, 0, now);
}

void agg_set_prefetch(struct agg_set *set, const struct ct_flow *flows, size_t n, int stage)
{
	if (!set->prep)
		return;
	n = n < AGG_BATCH_MAX ? n : AGG_BATCH_MAX;
	if (stage == 0) {
		set->prep_flows = flows;
		set->nprep = n;
		set->cursor = 0;
	}
	for (size_t j = 0; j < n; j++) {
		for (size_t i = 0; i < set->n; i++) {
			const struct agg_profile *p = &set->p[i];
			struct key_h *kh = &set->prep[(j * set->n + i) * 2];

			if (stage == 0)
				profile_keys(p, &flows[j], kh);
			agg_table_prefetch(p->tab, kh[0].hash, stage);
			if (p->spec.host)
				agg_table_prefetch(p->tab, kh[1].hash, stage);
		}
	}
}

void agg_set_batch_done(struct agg_set *set)
{
	set->prep_flows = NULL;
	set->nprep = set->cursor = 0;
}

/* The prepared keys of the slice's flow, or NULL (not from the batch). */
static const struct key_h *prepared(struct agg_set *set, const struct ct_flow *f)
{
	for (size_t j = set->cursor; set->prep_flows && j < set->nprep; j++) {
		if (&set->prep_flows[j] == f) {
			set->cursor = j;
			return &set->prep[j * set->n * 2];
		}
	}
	return NULL;
}

void agg_set_apply(struct agg_set *set, const struct slice *s, uint32_t now)
{
	const struct key_h *kh = prepared(set, s->flow);

	for (size_t i = 0; i < set->n; i++) {
		struct key_h own[2];

		if (kh) {
			apply_profile(set, i, s, now, &kh[i * 2]);
			continue;
		}
		profile_keys(&set->p[i], s->flow, own);
		apply_profile(set, i, s, now, own);
	}
}

int64_t agg_set_next_boundary(const struct agg_set *set, int64_t t)
{
	int64_t best = INT64_MAX;

	for (size_t i = 0; i < set->n; i++) {
		int64_t b = set->p[i].usage.n ? usage_next_boundary(&set->p[i].usage, t) : INT64_MAX;

		if (b < best)
			best = b;
	}
	return best;
}

void agg_set_rank(struct agg_set *set, uint32_t now)
{
	for (size_t i = 0; i < set->n; i++) {
		struct agg_profile *p = &set->p[i];

		p->ntop = agg_table_rank(p->tab, p->top, p->top_size);
		p->top_window = p->top_time ? now - p->top_time : 0;
		p->top_time = now;
	}
}

size_t agg_default_profiles(struct agg_profile_def *defs, size_t max)
{
	static const struct {
		const char *name, *key;
		size_t rows;
	} dflt[] = {
		{ "host", "host", 65536 },
		{ "service", "proto,port", 16384 },
		{ "pair", "src,dst", 262144 },
	};
	size_t n = 0;
	char err[128];

	for (size_t i = 0; i < sizeof(dflt) / sizeof(dflt[0]) && n < max; i++) {
		memset(&defs[n], 0, sizeof(defs[n]));
		snprintf(defs[n].name, sizeof(defs[n].name), "%s", dflt[i].name);
		if (agg_keyspec_parse(dflt[i].key, &defs[n].spec, err, sizeof(err)) < 0)
			continue;
		defs[n].top = 10;
		defs[n++].rows = dflt[i].rows;
	}
	return n;
}
