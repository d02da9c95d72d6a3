/*
 * acct_track: what DESTROY events, dump rows and the sweep after a dump do
 * to the tracked flows (the entries themselves: acct_table.c), and the
 * slices they hand to aggregation and export.
 */
#include "acct_track_int.h"
#include "base_prefetch.h"

#include <string.h>

size_t track_save_max(void)
{
	/* an entry, the header, and the records' own headers */
	return 2 * sizeof(struct track_ent) + HDR_BYTES + 4 * 32;
}

static void tuple_ports(const struct ct_tuple *t, uint16_t *a, uint16_t *b)
{
	if (ct_is_icmp(t->proto)) {
		*a = t->icmp_id;
		*b = ct_icmp_port(t);
	} else {
		*a = t->sport;
		*b = t->dport;
	}
}

static void ident_from_flow(const struct ct_flow *f, struct flow_ident *k)
{
	const struct ct_tuple *t = &f->tuple[CT_ORIG];

	memset(k, 0, sizeof(*k));
	k->src = t->src;
	k->dst = t->dst;
	k->id = f->id;
	k->zone = f->zone;
	k->family = f->family;
	k->proto = t->proto;
	tuple_ports(t, &k->sport, &k->dport);
}

static uint64_t flow_start(const struct ct_flow *f)
{
	return (f->has & CT_HAS_START) ? f->start_ns : 0;
}

void track_prefetch(const struct track *tr, const struct ct_flow *f, int stage)
{
	struct flow_ident k;
	const uint32_t *b;

	ident_from_flow(f, &k);
	b = &tr->buckets[bucket_of(tr, &k)];
	if (stage == 0) {
		__builtin_prefetch(b);
	} else if (*b) {
		prefetch_span(ent_at(tr, *b), sizeof(struct track_ent));
	}
}

static void ent_remember(struct track_ent *e, const struct ct_flow *f)
{
	const struct ct_tuple *r = &f->tuple[CT_REPLY];

	if (f->has & CT_HAS_COUNTERS) {
		memcpy(e->pkts, f->pkts, sizeof(e->pkts));
		memcpy(e->bytes, f->bytes, sizeof(e->bytes));
	}
	e->rsrc = r->src;
	e->rdst = r->dst;
	tuple_ports(r, &e->rsport, &e->rdport);
	e->mark = f->mark;
}

/* Rebuild a flow from what we remember, for slices without a kernel message. */
static void flow_from_ent(const struct track_ent *e, struct ct_flow *f)
{
	struct ct_tuple *o = &f->tuple[CT_ORIG], *r = &f->tuple[CT_REPLY];

	memset(f, 0, sizeof(*f));
	f->family = e->key.family;
	f->kind = CT_MSG_FLOW_DESTROY;
	f->id = e->key.id;
	f->zone = e->key.zone;
	f->mark = e->mark;
	f->has = CT_HAS_COUNTERS | CT_HAS_MARK | (e->key.zone ? CT_HAS_ZONE : 0u) |
		 (e->start_ns ? CT_HAS_START : 0u);
	f->start_ns = e->start_ns;
	memcpy(f->pkts, e->pkts, sizeof(f->pkts));
	memcpy(f->bytes, e->bytes, sizeof(f->bytes));
	o->src = e->key.src;
	o->dst = e->key.dst;
	r->src = e->rsrc;
	r->dst = e->rdst;
	o->proto = r->proto = e->key.proto;
	if (ct_is_icmp(e->key.proto)) {
		o->icmp_id = e->key.sport;
		o->icmp_type = (uint8_t)(e->key.dport >> 8);
		o->icmp_code = (uint8_t)e->key.dport;
		r->icmp_id = e->rsport;
		r->icmp_type = (uint8_t)(e->rdport >> 8);
		r->icmp_code = (uint8_t)e->rdport;
	} else {
		o->sport = e->key.sport;
		o->dport = e->key.dport;
		r->sport = e->rsport;
		r->dport = e->rdport;
	}
}

/*
 * Growth from the remembered counters to the flow's.  If any counter went
 * backwards someone zeroed the entry (all four are zeroed together), so the
 * new values are the growth since then.  Without counters (accounting off)
 * there is no growth to report.
 */
static void slice_delta(struct track *tr, const struct track_ent *e, const struct ct_flow *f,
			struct slice *s)
{
	if (!(f->has & CT_HAS_COUNTERS))
		return;
	if (!e) {
		memcpy(s->pkts, f->pkts, sizeof(s->pkts));
		memcpy(s->bytes, f->bytes, sizeof(s->bytes));
		return;
	}
	int reset = 0;

	for (int d = 0; d < 2; d++)
		if (f->pkts[d] < e->pkts[d] || f->bytes[d] < e->bytes[d])
			reset = 1;
	if (reset)
		stats_w(tr)->counter_resets++;
	for (int d = 0; d < 2; d++) {
		s->pkts[d] = reset ? f->pkts[d] : f->pkts[d] - e->pkts[d];
		s->bytes[d] = reset ? f->bytes[d] : f->bytes[d] - e->bytes[d];
	}
}

static void emit(struct track *tr, const struct slice *s)
{
	if (!s->flags && !(s->pkts[0] | s->pkts[1] | s->bytes[0] | s->bytes[1]))
		return;
	stats_w(tr)->slices++;
	tr->sink.slice(tr->sink.arg, s);
}

static void slice_init(struct slice *s, const struct ct_flow *f, uint8_t flags, uint8_t reason,
		       uint64_t time_ns)
{
	memset(s, 0, sizeof(*s));
	s->flow = f;
	s->flags = flags;
	s->reason = reason;
	s->time_ns = time_ns;
}

/* A LIVE entry leaves without DESTROY: account it as ended, no more growth known. */
static void close_unobserved(struct track *tr, struct track_ent *e, uint64_t now_ns)
{
	struct ct_flow f;
	struct slice s;
	struct track_stats *st = stats_w(tr);

	flow_from_ent(e, &f);
	slice_init(&s, &f, SLICE_END, SLICE_UNOBSERVED, now_ns);
	st->ended_unobserved++;
	if (e->gen <= tr->recovered_gen)
		st->ended_while_down++;
	emit(tr, &s);
}

/* The entry of f's incarnation, counting a new incarnation of a tracked tuple. */
static struct track_ent *lookup(struct track *tr, const struct ct_flow *f,
				struct flow_ident *k, int *sibling)
{
	ident_from_flow(f, k);
	return ent_find(tr, k, flow_start(f), sibling);
}

void track_destroy(struct track *tr, const struct ct_flow *f, uint64_t now_ns)
{
	struct flow_ident k;
	int sibling;
	struct track_ent *e = lookup(tr, f, &k, &sibling);
	uint64_t when = (f->has & CT_HAS_STOP) ? f->stop_ns : now_ns;
	struct track_stats *st = stats_w(tr);
	struct slice s;

	st->destroys++;
	if (!(f->has & CT_HAS_COUNTERS))
		st->no_counters++;
	if (e && e->state == ENT_TOMB) {
		st->duplicate_destroys++;
		return;
	}
	if (!e) {
		slice_init(&s, f, SLICE_START | SLICE_END, SLICE_DESTROY, when);
		st->incarnations += (uint64_t)sibling;
	} else if (e->state == ENT_LIVE) {
		slice_init(&s, f, SLICE_END, SLICE_DESTROY, when);
	} else {
		slice_init(&s, f, 0, SLICE_LATE_DESTROY, when);
		st->late_destroys++;
	}
	slice_delta(tr, e, f, &s);
	emit(tr, &s);
	if (!tr->dumping) {
		if (e)
			ent_remove(tr, e);
		return;
	}
	/* A dump is running and may still deliver an older copy of this flow. */
	if (!e)
		e = ent_insert(tr, &k, flow_start(f), ENT_TOMB);
	if (e) {
		ent_w(tr, e);
		e->state = ENT_TOMB;
	}
}

/*
 * A sweep still pending from the previous cycle is abandoned: entries it would
 * have closed keep their old generation and are caught by the next sweep, and
 * tombstones keep swallowing rows of flows that are dead anyway.
 */
void track_dump_begin(struct track *tr)
{
	stats_w(tr);
	tr->h->gen++;
	tr->dumping = 1;
	tr->sweep_pending = 0;
}

void track_dump_row(struct track *tr, const struct ct_flow *f, uint64_t now_ns)
{
	struct flow_ident k;
	int sibling;
	struct track_ent *e = lookup(tr, f, &k, &sibling);
	struct track_stats *st = stats_w(tr);
	struct slice s;

	st->dump_rows++;
	if (!(f->has & CT_HAS_COUNTERS))
		st->no_counters++;
	if (e && e->state == ENT_TOMB) {
		st->stale_rows++;
		return;
	}
	if (!e) {
		/* being destroyed: its DESTROY (queued, or applied already) counts it */
		if (f->has & CT_HAS_STOP) {
			st->dying_rows++;
			return;
		}
		e = ent_insert(tr, &k, flow_start(f), ENT_LIVE);
		if (!e)
			return; /* untracked: its DESTROY will account it from zero */
		st->incarnations += (uint64_t)sibling;
		slice_init(&s, f, SLICE_START, SLICE_INTERIM, now_ns);
		slice_delta(tr, NULL, f, &s);
	} else {
		ent_w(tr, e);
		slice_init(&s, f, 0, SLICE_INTERIM, now_ns);
		slice_delta(tr, e, f, &s);
	}
	ent_remember(e, f);
	e->gen = tr->h->gen;
	emit(tr, &s);
}

void track_dump_end(struct track *tr, int ok)
{
	tr->dumping = 0;
	/* Even a failed dump must clear its tombstones; it just closes nothing. */
	tr->sweep_pending = 1;
	tr->sweep_closes = ok;
	tr->sweep_pos = 0;
}

int track_sweep_pending(const struct track *tr)
{
	return tr->sweep_pending;
}

static void sweep_one(struct track *tr, struct track_ent *e, uint64_t now_ns)
{
	int complete = tr->sweep_closes;
	uint32_t gen = tr->h->gen;

	switch (e->state) {
	case ENT_TOMB:
		ent_remove(tr, e);
		break;
	case ENT_LIVE:
		if (complete && e->gen != gen) {
			close_unobserved(tr, e, now_ns);
			ent_w(tr, e);
			e->state = ENT_ZOMBIE;
			e->gen = gen;
		}
		break;
	case ENT_ZOMBIE:
		if (complete && e->gen != gen)
			ent_remove(tr, e);
		break;
	default:
		break;
	}
}

int track_sweep(struct track *tr, size_t budget, uint64_t now_ns)
{
	if (!tr->sweep_pending)
		return 0;
	while (budget-- > 0 && tr->sweep_pos < tr->h->fresh) {
		struct track_ent *e = ent_at(tr, ++tr->sweep_pos);

		sweep_one(tr, e, now_ns);
	}
	if (tr->sweep_pos < tr->h->fresh)
		return 1;
	tr->sweep_pending = 0;
	stats_w(tr)->sweeps++;
	ent_shrink(tr);
	return 0;
}

void track_get_stats(const struct track *tr, struct track_stats *st)
{
	*st = tr->h->st;
	st->limit = tr->limit;
	st->bytes_used = (uint64_t)tr->h->fresh * sizeof(struct track_ent) +
			 (uint64_t)tr->nbuckets * sizeof(uint32_t);
}
