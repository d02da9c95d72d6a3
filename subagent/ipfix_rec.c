/*
 * ipfix_rec: the templates as arrays of field specifiers, and the mapping of
 * conntrack's view of a flow onto IANA information elements
 * (ipfix-protocol digest, section 12): forward = original direction,
 * reverse = reply direction (RFC 5103, biflowDirection = initiator),
 * post-NAT source = reply destination, post-NAT destination = reply source.
 */
#include "ipfix_rec.h"

#include <string.h>
#include <sys/socket.h>

enum src {
	V_SRC, V_DST, V_SPORT, V_DPORT, V_PROTO, V_ICMP, V_OCT, V_PKT, V_ROCT, V_RPKT, V_START,
	V_END, V_REASON, V_FLOWID, V_BIDIR, V_NSRC, V_NDST, V_NSPORT, V_NDPORT, V_ZONE, V_MARK,
	V_LABELS,
	/* options records */
	V_ODID, V_EPID, V_X_MSGS, V_X_RECS, V_X_OCTS, V_EV_LOST, V_OVERRUNS, V_UNOBS,
	V_REJECTED, V_NOW, V_NS_FLOWS, V_NS_PKTS, V_NS_OCTS, V_T_FIRST, V_T_LAST,
	V_INCARN, V_DUPS, V_STALE, V_DYING, V_LATE, V_DOWN, V_RESETS, V_REFUSED,
};

#define U IPFIX_UINT
#define B IPFIX_BYTES
#define REV IPFIX_PEN_REVERSE
#define OWN IPFIX_PEN_CTFLOWD

/* the original tuple: conntrack's flow key */
#define KEYS4 { 8, 4, 0, V_SRC, B, 1 }, { 12, 4, 0, V_DST, B, 1 }, \
	{ 7, 2, 0, V_SPORT, U, 1 }, { 11, 2, 0, V_DPORT, U, 1 }, { 4, 1, 0, V_PROTO, U, 1 }, \
	{ 32, 2, 0, V_ICMP, U, 1 }
#define KEYS6 { 27, 16, 0, V_SRC, B, 1 }, { 28, 16, 0, V_DST, B, 1 }, \
	{ 7, 2, 0, V_SPORT, U, 1 }, { 11, 2, 0, V_DPORT, U, 1 }, { 4, 1, 0, V_PROTO, U, 1 }, \
	{ 139, 2, 0, V_ICMP, U, 1 }
/* the counters in `lo` (octets) and `lp` (packets) octets: reduced-size
 * encoding (RFC 7011 6.2) picks the narrowest set that holds a slice */
#define COUNTERS(lo, lp) { 1, lo, 0, V_OCT, U, 0 }, { 2, lp, 0, V_PKT, U, 0 }, \
	{ 1, lo, REV, V_ROCT, U, 0 }, { 2, lp, REV, V_RPKT, U, 0 }
#define UCOUNTERS(lo, lp) { 1, lo, 0, V_OCT, U, 0 }, { 2, lp, 0, V_PKT, U, 0 }
/* flowId (unsigned64) in 4 octets: the conntrack id is 32 bits (reduced size) */
#define UTIMES { 152, 8, 0, V_START, U, 0 }, { 153, 8, 0, V_END, U, 0 }, \
	{ 136, 1, 0, V_REASON, U, 0 }, { 148, 4, 0, V_FLOWID, U, 0 }
#define TIMES UTIMES, { 239, 1, 0, V_BIDIR, U, 0 }
#define NAT4 { 225, 4, 0, V_NSRC, B, 0 }, { 226, 4, 0, V_NDST, B, 0 }, \
	{ 227, 2, 0, V_NSPORT, U, 0 }, { 228, 2, 0, V_NDPORT, U, 0 }
#define NAT6 { 281, 16, 0, V_NSRC, B, 0 }, { 282, 16, 0, V_NDST, B, 0 }, \
	{ 227, 2, 0, V_NSPORT, U, 0 }, { 228, 2, 0, V_NDPORT, U, 0 }
/* the zone is part of conntrack's key, mark and labels are not */
#define CTX { CT_IE_ZONE, 2, OWN, V_ZONE, U, 1 }, { CT_IE_MARK, 4, OWN, V_MARK, U, 0 }, \
	{ CT_IE_LABELS, 16, OWN, V_LABELS, B, 0 }

/* The sixteen field lists of one counter width: [uniflow][enterprise][v6][nat]. */
#define FIELD_SET(w, lo, lp) \
	static const struct ipfix_field f_v4##w[] = { KEYS4, COUNTERS(lo, lp), TIMES }; \
	static const struct ipfix_field f_v4nat##w[] = { KEYS4, COUNTERS(lo, lp), TIMES, NAT4 }; \
	static const struct ipfix_field f_v6##w[] = { KEYS6, COUNTERS(lo, lp), TIMES }; \
	static const struct ipfix_field f_v6nat##w[] = { KEYS6, COUNTERS(lo, lp), TIMES, NAT6 }; \
	static const struct ipfix_field f_v4x##w[] = { KEYS4, COUNTERS(lo, lp), TIMES, CTX }; \
	static const struct ipfix_field f_v4natx##w[] = { KEYS4, COUNTERS(lo, lp), TIMES, NAT4, CTX }; \
	static const struct ipfix_field f_v6x##w[] = { KEYS6, COUNTERS(lo, lp), TIMES, CTX }; \
	static const struct ipfix_field f_v6natx##w[] = { KEYS6, COUNTERS(lo, lp), TIMES, NAT6, CTX }; \
	static const struct ipfix_field u_v4##w[] = { KEYS4, UCOUNTERS(lo, lp), UTIMES }; \
	static const struct ipfix_field u_v4nat##w[] = { KEYS4, UCOUNTERS(lo, lp), UTIMES, NAT4 }; \
	static const struct ipfix_field u_v6##w[] = { KEYS6, UCOUNTERS(lo, lp), UTIMES }; \
	static const struct ipfix_field u_v6nat##w[] = { KEYS6, UCOUNTERS(lo, lp), UTIMES, NAT6 }; \
	static const struct ipfix_field u_v4x##w[] = { KEYS4, UCOUNTERS(lo, lp), UTIMES, CTX }; \
	static const struct ipfix_field u_v4natx##w[] = { KEYS4, UCOUNTERS(lo, lp), UTIMES, NAT4, CTX }; \
	static const struct ipfix_field u_v6x##w[] = { KEYS6, UCOUNTERS(lo, lp), UTIMES, CTX }; \
	static const struct ipfix_field u_v6natx##w[] = { KEYS6, UCOUNTERS(lo, lp), UTIMES, NAT6, CTX };

FIELD_SET(_w, 8, 8) /* any slice */
FIELD_SET(_m, 4, 4) /* counters up to 2^32 - 1 */
FIELD_SET(_c, 2, 1) /* octets up to 65535, packets up to 255: most slices */

#define N(a) (uint16_t)(sizeof(a) / sizeof((a)[0]))
#define T(id, f) { id, N(f), 0, f }

/* One width's templates, ids id .. id + 15: [uniflow][enterprise][v6][nat]. */
#define TEMPLATE_SET(w, id) \
	{ { { { T(id, f_v4##w), T(id + 1, f_v4nat##w) }, { T(id + 2, f_v6##w), T(id + 3, f_v6nat##w) } }, \
	    { { T(id + 4, f_v4x##w), T(id + 5, f_v4natx##w) }, \
	      { T(id + 6, f_v6x##w), T(id + 7, f_v6natx##w) } } }, \
	  { { { T(id + 8, u_v4##w), T(id + 9, u_v4nat##w) }, \
	      { T(id + 10, u_v6##w), T(id + 11, u_v6nat##w) } }, \
	    { { T(id + 12, u_v4x##w), T(id + 13, u_v4natx##w) }, \
	      { T(id + 14, u_v6x##w), T(id + 15, u_v6natx##w) } } } }

enum width { W_FULL, W_MID, W_COMPACT, W_N };

/* [width][uniflow][enterprise][v6][nat].  The 64-bit counters keep the ids
 * they always had; a collector never sees an id change content. */
static const struct ipfix_template data_templates[W_N][2][2][2][2] = {
	TEMPLATE_SET(_w, 256), TEMPLATE_SET(_m, 320), TEMPLATE_SET(_c, 336),
};

/* RFC 7011 4.1 Metering Process Statistics */
static const struct ipfix_field o_metering[] = {
	{ 149, 4, 0, V_ODID, U, 0 }, { 41, 8, 0, V_X_MSGS, U, 0 }, { 42, 8, 0, V_X_RECS, U, 0 },
	{ 40, 8, 0, V_X_OCTS, U, 0 },
};
/* ctflowd's metering reliability: what the kernel side lost, and every
 * suspicious event the accounting saw (the same counters as CTFLOW-MIB's) */
static const struct ipfix_field o_loss[] = {
	{ 149, 4, 0, V_ODID, U, 0 }, { CT_IE_EVENTS_LOST, 8, OWN, V_EV_LOST, U, 0 },
	{ CT_IE_OVERRUNS, 8, OWN, V_OVERRUNS, U, 0 }, { CT_IE_ENDED_UNOBSERVED, 8, OWN, V_UNOBS, U, 0 },
	{ CT_IE_REJECTED, 8, OWN, V_REJECTED, U, 0 },
	{ CT_IE_INCARNATIONS, 8, OWN, V_INCARN, U, 0 },
	{ CT_IE_DUPLICATE_DESTROYS, 8, OWN, V_DUPS, U, 0 },
	{ CT_IE_STALE_ROWS, 8, OWN, V_STALE, U, 0 }, { CT_IE_DYING_ROWS, 8, OWN, V_DYING, U, 0 },
	{ CT_IE_LATE_DESTROYS, 8, OWN, V_LATE, U, 0 },
	{ CT_IE_ENDED_WHILE_DOWN, 8, OWN, V_DOWN, U, 0 },
	{ CT_IE_COUNTER_RESETS, 8, OWN, V_RESETS, U, 0 },
	{ CT_IE_TRACKING_REFUSED, 8, OWN, V_REFUSED, U, 0 }, { 323, 8, 0, V_NOW, U, 0 },
};
/* RFC 7011 4.3 Exporting Process Reliability Statistics */
static const struct ipfix_field o_export[] = {
	{ 144, 4, 0, V_EPID, U, 0 }, { 166, 8, 0, V_NS_FLOWS, U, 0 }, { 167, 8, 0, V_NS_PKTS, U, 0 },
	{ 168, 8, 0, V_NS_OCTS, U, 0 }, { 323, 8, 0, V_T_FIRST, U, 0 }, { 323, 8, 0, V_T_LAST, U, 0 },
};

static const struct ipfix_template opt_templates[] = {
	{ 300, N(o_metering), 1, o_metering }, /* in ascending id: IPFIX-MIB lists them so */
	{ 302, N(o_export), 1, o_export },
	{ 303, N(o_loss), 1, o_loss },
};

static uint8_t end_reason(const struct slice *s)
{
	const struct ct_flow *f = s->flow;

	switch (s->reason) {
	case SLICE_INTERIM:
		return END_ACTIVE;
	case SLICE_UNOBSERVED:
		return END_LACK_OF_RESOURCES; /* its end was lost: the event or its buffer */
	default:
		/* FIN_WAIT (4) .. CLOSE (8): the connection was closed, not idle */
		if (f->tuple[CT_ORIG].proto == 6 && (f->has & CT_HAS_TCP_STATE) &&
		    f->tcp_state >= 4 && f->tcp_state <= 8)
			return END_OF_FLOW;
		return END_IDLE;
	}
}

void ipfix_rec_from_slice(const struct slice *s, struct ipfix_flowrec *r)
{
	const struct ct_flow *f = s->flow;
	const struct ct_tuple *o = &f->tuple[CT_ORIG], *rp = &f->tuple[CT_REPLY];

	memset(r, 0, sizeof(*r));
	r->family = f->family;
	r->proto = o->proto;
	r->src = o->src;
	r->dst = o->dst;
	r->nsrc = rp->dst;
	r->ndst = rp->src;
	if (ct_is_icmp(o->proto)) {
		r->icmp = ct_icmp_port(o);
	} else {
		r->sport = o->sport;
		r->dport = o->dport;
		r->nsport = rp->dport;
		r->ndport = rp->sport;
	}
	r->nat = memcmp(&r->nsrc, &r->src, sizeof(r->src)) != 0 ||
		 memcmp(&r->ndst, &r->dst, sizeof(r->dst)) != 0 || r->nsport != r->sport ||
		 r->ndport != r->dport;
	for (int d = 0; d < 2; d++) {
		r->octets[d] = s->bytes[d];
		r->packets[d] = s->pkts[d];
	}
	r->start_ms = ((f->has & CT_HAS_START) ? f->start_ns : s->time_ns) / 1000000u;
	r->end_ms = s->time_ns / 1000000u;
	if (r->end_ms < r->start_ms)
		r->end_ms = r->start_ms;
	r->reason = end_reason(s);
	r->id = f->id;
	r->mark = f->mark;
	r->zone = f->zone;
	memcpy(r->labels, f->labels, f->labels_len);
}

/* The narrowest counter width that holds every counter of the slice. */
static enum width width_of(const struct ipfix_flowrec *r)
{
	uint64_t o = r->octets[0] > r->octets[1] ? r->octets[0] : r->octets[1];
	uint64_t p = r->packets[0] > r->packets[1] ? r->packets[0] : r->packets[1];

	if (o <= 0xffffu && p <= 0xffu)
		return W_COMPACT;
	return o <= 0xffffffffu && p <= 0xffffffffu ? W_MID : W_FULL;
}

const struct ipfix_template *ipfix_rec_template(const struct ipfix_flowrec *r, int enterprise,
						unsigned mode)
{
	enum width w = (mode & IPFIX_MODE_REDUCED) ? width_of(r) : W_FULL;

	return &data_templates[w][mode & IPFIX_MODE_UNIFLOW][!!enterprise][r->family == AF_INET6]
			      [r->nat];
}

size_t ipfix_rec_templates(int enterprise, unsigned mode, const struct ipfix_template **out,
			   size_t max)
{
	size_t n = 0;
	int widths = (mode & IPFIX_MODE_REDUCED) ? W_N : 1;

	for (int w = 0; w < widths; w++)
		for (int v6 = 0; v6 < 2; v6++)
			for (int nat = 0; nat < 2 && n < max; nat++)
				out[n++] = &data_templates[w][mode & IPFIX_MODE_UNIFLOW][!!enterprise][v6][nat];
	return n;
}

unsigned ipfix_rec_uni_dirs(const struct ipfix_flowrec *r)
{
	unsigned dirs = (r->packets[0] || r->octets[0] ? 1u : 0u) |
			(r->packets[1] || r->octets[1] ? 2u : 0u);

	return dirs ? dirs : 1u;
}

size_t ipfix_rec_wire_len(const struct ipfix_flowrec *r, int enterprise, unsigned mode)
{
	size_t len = ipfix_record_len(ipfix_rec_template(r, enterprise, mode));

	return (mode & IPFIX_MODE_UNIFLOW) && ipfix_rec_uni_dirs(r) == 3u ? 2 * len : len;
}

void ipfix_rec_values(const struct ipfix_flowrec *r, int dir, struct ipfix_values *v)
{
	/* the reply direction's record: the original tuple turned around, and
	 * the translated one too (post-NAT source: where the reply went) */
	int d = dir != 0;

	v->p[V_SRC] = d ? r->dst.b : r->src.b;
	v->p[V_DST] = d ? r->src.b : r->dst.b;
	v->p[V_NSRC] = d ? r->ndst.b : r->nsrc.b;
	v->p[V_NDST] = d ? r->nsrc.b : r->ndst.b;
	v->p[V_LABELS] = r->labels;
	v->u[V_SPORT] = d ? r->dport : r->sport;
	v->u[V_DPORT] = d ? r->sport : r->dport;
	v->u[V_NSPORT] = d ? r->ndport : r->nsport;
	v->u[V_NDPORT] = d ? r->nsport : r->ndport;
	v->u[V_PROTO] = r->proto;
	v->u[V_ICMP] = r->icmp;
	v->u[V_OCT] = r->octets[d];
	v->u[V_PKT] = r->packets[d];
	v->u[V_ROCT] = r->octets[1];
	v->u[V_RPKT] = r->packets[1];
	v->u[V_START] = r->start_ms;
	v->u[V_END] = r->end_ms;
	v->u[V_REASON] = r->reason;
	v->u[V_FLOWID] = r->id;
	v->u[V_BIDIR] = 1; /* initiator: the original direction is the Biflow Source */
	v->u[V_ZONE] = r->zone;
	v->u[V_MARK] = r->mark;
}

size_t ipfix_opt_templates(const struct ipfix_template **out, size_t max)
{
	size_t n = 0;

	for (; n < N(opt_templates) && n < max; n++)
		out[n] = &opt_templates[n];
	return n;
}

void ipfix_opt_values(const struct ipfix_stats_in *in, struct ipfix_values *v)
{
	v->u[V_ODID] = in->odid;
	v->u[V_EPID] = in->exporting_process_id;
	v->u[V_X_MSGS] = in->messages;
	v->u[V_X_RECS] = in->records;
	v->u[V_X_OCTS] = in->octets;
	v->u[V_EV_LOST] = in->events_lost;
	v->u[V_OVERRUNS] = in->overruns;
	v->u[V_UNOBS] = in->ended_unobserved;
	v->u[V_REJECTED] = in->rejected;
	v->u[V_INCARN] = in->incarnations;
	v->u[V_DUPS] = in->duplicate_destroys;
	v->u[V_STALE] = in->stale_rows;
	v->u[V_DYING] = in->dying_rows;
	v->u[V_LATE] = in->late_destroys;
	v->u[V_DOWN] = in->ended_while_down;
	v->u[V_RESETS] = in->counter_resets;
	v->u[V_REFUSED] = in->tracking_refused;
	v->u[V_NOW] = in->now_ms;
	v->u[V_NS_FLOWS] = in->notsent_flows;
	v->u[V_NS_PKTS] = in->notsent_packets;
	v->u[V_NS_OCTS] = in->notsent_octets;
	v->u[V_T_FIRST] = in->first_drop_ms;
	v->u[V_T_LAST] = in->last_drop_ms;
}
