/*
 * ipfix_pump: building a session's messages (templates first, a message
 * cut short again, options records when due, then data) and handing them to
 * the transport, at most one not taken whole at a time.
 */
#include "ipfix_session_int.h"

#include <string.h>

/* Write what is pending of `out`.  (off and blocked are single stores
 * outside any transaction: what the kernel took.) */
static enum ipfix_pump flush(struct ipfix_session *s, const struct ipfix_link *l)
{
	struct ipfix_out *o = &s->h->out;

	while (o->off < o->len) {
		long w = l->write(l->arg, s->out + o->off, o->len - o->off);

		if (w == IPFIX_LINK_WAIT) {
			o->blocked = 1;
			return IPFIX_PUMP_BLOCKED;
		}
		if (w == IPFIX_LINK_LOST) {
			sess_out_lost(s);
			return IPFIX_PUMP_IDLE;
		}
		if (w < 0)
			return IPFIX_PUMP_BROKEN;
		o->off += (uint32_t)w;
	}
	if (o->len)
		sess_out_done(s);
	return IPFIX_PUMP_IDLE;
}

/* What a finished message carries. */
struct counts {
	uint64_t records, packets, octets;
	uint32_t data;
	uint32_t trecs[2 * IPFIX_TEMPLATES_MAX];
};

/* Hand a finished message over: recorded in `out` within the transaction
 * that built it (begun by the caller, committed here), then written. */
static enum ipfix_pump emit(struct ipfix_session *s, const struct ipfix_link *l, size_t len,
			    const struct counts *c, int began)
{
	struct ipfix_sess_hdr *h = hw(s);

	memcpy(s->out, s->c->msg, len);
	memset(&h->out, 0, sizeof(h->out));
	h->out.len = (uint32_t)len;
	if (c) {
		h->out.records = c->records;
		h->out.packets = c->packets;
		h->out.octets = c->octets;
		h->out.data = c->data;
		memcpy(h->out.trecs, c->trecs, sizeof(h->out.trecs));
	}
	t_end(s, began);
	return flush(s, l);
}

/* ---- building messages ---- */

const struct ipfix_template *ipfix_session_template(const struct ipfix_session *s, size_t i)
{
	const struct ipfix_common *c = s->c;

	unsigned mode = ipfix_cfg_mode(&s->cfg);
	size_t nd = c->ndata[mode];

	return i < nd ? c->data_t[mode][i] : i < nd + s->nopt ? c->opt_t[i - nd] : NULL;
}

/* The position of a data template (the options templates follow them). */
static size_t data_pos(const struct ipfix_session *s, const struct ipfix_template *t)
{
	unsigned mode = ipfix_cfg_mode(&s->cfg);
	const struct ipfix_template *const *d = s->c->data_t[mode];
	size_t i = 0;

	while (i + 1 < s->c->ndata[mode] && d[i] != t)
		i++;
	return i;
}

/*
 * A slice's data records: one biflow record, or in uniflow one per
 * direction, all of them or none (a slice is never split across messages,
 * so a collector never sees half of it).  The number added, or -1.
 */
static int add_slice(const struct ipfix_session *s, struct ipfix_msg *m,
		     const struct ipfix_flowrec *r, const struct ipfix_template *t)
{
	struct ipfix_msg before = *m;
	unsigned dirs = s->cfg.uniflow ? ipfix_rec_uni_dirs(r) : 1u;
	struct ipfix_values v;
	int n = 0;

	memset(&v, 0, sizeof(v));
	for (int d = 0; d < 2; d++) {
		if (!(dirs & (1u << d)))
			continue;
		ipfix_rec_values(r, d, &v);
		if (ipfix_msg_record(m, t, &v) < 0) {
			*m = before;
			return -1;
		}
		n++;
	}
	return n;
}

/* Announced: the template is in use on this session from now on. */
static void template_sent(struct ipfix_session *s, size_t pos)
{
	struct ipfix_tstate *ts = &s->tmpl[pos];

	if (!ts->live) {
		ts->live = 1;
		ts->records = 0;
		ts->since_ms = clock_mono_ms();
	}
	ts->sent_ms = real_ms();
}

/* One message of templates, as many as fit (a small UDP MTU takes several). */
static enum ipfix_pump send_templates(struct ipfix_session *s, const struct ipfix_link *l)
{
	struct ipfix_common *c = s->c;
	const struct ipfix_template *t;
	struct ipfix_msg m;
	int began = t_begin(s);
	struct ipfix_sess_hdr *h = hw(s);

	ipfix_msg_init(&m, c->msg, s->msg_max);
	while ((t = ipfix_session_template(s, s->next_template)) != NULL) {
		if (ipfix_msg_template(&m, t) < 0)
			break;
		if (t->scope)
			h->st.opt_templates++;
		else
			h->st.templates++;
		template_sent(s, s->next_template);
		s->next_template++;
	}
	if (!ipfix_session_template(s, s->next_template)) {
		s->need_templates = 0;
		s->next_template = 0;
		s->templates_due_ms = real_ms() + s->cfg.template_refresh_ms;
	}
	return emit(s, l, ipfix_msg_finish(&m, export_time(), h->st.seq, c->domain), NULL, began);
}

/*
 * The counts an options record carries.  Over TCP the messages in flight
 * come before the record in the stream: a collector that reads the record
 * has read them, so they count as exported there (and as not sent, later,
 * if the connection fails before the collector has them).
 */
static void stats_in(const struct ipfix_session *s, struct ipfix_stats_in *in)
{
	const struct ipfix_sess_hdr *h = s->h;
	const struct ipfix_session_stats *st = &h->st;
	struct ipfix_loss loss;

	memset(&loss, 0, sizeof(loss));
	if (s->c->src.loss)
		s->c->src.loss(s->c->src.arg, &loss);
	memset(in, 0, sizeof(*in));
	in->odid = s->c->domain;
	in->exporting_process_id = s->c->epid;
	in->messages = st->messages + h->fl_count;
	in->records = st->records;
	in->octets = st->octets;
	for (uint32_t i = 0; i < h->fl_count; i++) {
		const struct ipfix_out *m = &s->flight[(h->fl_head + i) % IPFIX_FLIGHT_MAX].m;

		in->records += m->records;
		in->octets += m->len;
	}
	in->notsent_flows = st->notsent_flows;
	in->notsent_packets = st->notsent_packets;
	in->notsent_octets = st->notsent_octets;
	in->first_drop_ms = st->first_drop_ms;
	in->last_drop_ms = st->last_drop_ms;
	in->events_lost = loss.events_lost;
	in->overruns = loss.overruns;
	in->ended_unobserved = loss.ended_unobserved;
	in->rejected = loss.rejected;
	in->incarnations = loss.incarnations;
	in->duplicate_destroys = loss.duplicate_destroys;
	in->stale_rows = loss.stale_rows;
	in->dying_rows = loss.dying_rows;
	in->late_destroys = loss.late_destroys;
	in->ended_while_down = loss.ended_while_down;
	in->counter_resets = loss.counter_resets;
	in->tracking_refused = loss.tracking_refused;
	in->now_ms = real_ms();
}

static enum ipfix_pump send_stats(struct ipfix_session *s, const struct ipfix_link *l)
{
	struct ipfix_common *c = s->c;
	struct ipfix_stats_in in;
	struct ipfix_values v;
	struct ipfix_msg m;
	struct counts k;
	int began = t_begin(s);
	struct ipfix_sess_hdr *h = hw(s);

	stats_in(s, &in);
	memset(&v, 0, sizeof(v));
	ipfix_opt_values(&in, &v);
	memset(&k, 0, sizeof(k));
	ipfix_msg_init(&m, c->msg, s->msg_max);
	for (size_t i = 0; i < s->nopt; i++)
		if (ipfix_msg_record(&m, c->opt_t[i], &v) == 0)
			k.trecs[c->ndata[ipfix_cfg_mode(&s->cfg)] + i]++;
	uint32_t recs = m.records, seq = h->st.seq;

	/* not flow records (exportedFlowRecordTotalCount counts those), but data
	 * records all the same: they advance the sequence number */
	k.data = recs;
	h->st.seq += recs;
	s->need_stats = 0;
	return emit(s, l, ipfix_msg_finish(&m, export_time(), seq, c->domain), &k, began);
}

static enum ipfix_pump send_data(struct ipfix_session *s, const struct ipfix_link *l)
{
	struct ipfix_common *c = s->c;
	struct ipfix_msg m;
	const struct ipfix_flowrec *r;
	struct counts k;
	int began = t_begin(s);
	struct ipfix_sess_hdr *h = hw(s);

	memset(&k, 0, sizeof(k));
	ipfix_msg_init(&m, c->msg, s->msg_max);
	while ((r = sess_ring_peek(s)) != NULL) {
		const struct ipfix_template *t =
			ipfix_rec_template(r, c->enterprise_ies, ipfix_cfg_mode(&s->cfg));
		int n = add_slice(s, &m, r, t);

		if (n < 0)
			break;
		k.packets += r->packets[0] + r->packets[1];
		k.octets += r->octets[0] + r->octets[1];
		k.trecs[data_pos(s, t)] += (uint32_t)n;
		sess_ring_pop(s);
	}
	uint32_t recs = m.records, seq = h->st.seq;

	k.records = k.data = recs;
	h->st.seq += recs;
	return emit(s, l, ipfix_msg_finish(&m, export_time(), seq, c->domain), &k, began);
}

int ipfix_session_withdraw(struct ipfix_session *s, const struct ipfix_link *l)
{
	struct ipfix_common *c = s->c;
	struct ipfix_sess_hdr *h = s->h;
	const struct ipfix_template *t;
	struct ipfix_msg m;
	size_t len;

	if (!s->cfg.tcp || !ipfix_session_is_up(s) || h->out.off < h->out.len)
		return -1;
	ipfix_msg_init(&m, c->msg, s->msg_max);
	for (size_t p = 0; (t = ipfix_session_template(s, p)) != NULL; p++)
		if (s->tmpl[p].live && ipfix_msg_withdraw(&m, t) < 0)
			return -1;
	if (!m.len)
		return -1; /* nothing announced */
	/* not a data record: the sequence number stays */
	len = ipfix_msg_finish(&m, export_time(), h->st.seq, c->domain);
	if (l->write(l->arg, c->msg, len) != (long)len)
		return -1;
	for (size_t p = 0; ipfix_session_template(s, p); p++)
		s->tmpl[p].live = 0;
	return 0;
}

/*
 * A message the last connection (or the last run) did not get through whole
 * goes again, once the connection has its templates, with the sequence
 * number and export time of now written into its header.
 */
static enum ipfix_pump send_again(struct ipfix_session *s, const struct ipfix_link *l)
{
	int began = t_begin(s);
	struct ipfix_sess_hdr *h = hw(s);
	uint32_t seq = h->st.seq, t = export_time();
	uint8_t *b = s->again;

	b[4] = (uint8_t)(t >> 24), b[5] = (uint8_t)(t >> 16), b[6] = (uint8_t)(t >> 8);
	b[7] = (uint8_t)t;
	b[8] = (uint8_t)(seq >> 24), b[9] = (uint8_t)(seq >> 16), b[10] = (uint8_t)(seq >> 8);
	b[11] = (uint8_t)seq;
	h->st.seq += h->again.data;
	memcpy(s->out, s->again, h->again.len);
	h->out = h->again;
	h->out.off = 0;
	h->out.blocked = 0;
	memset(&h->again, 0, sizeof(h->again));
	t_end(s, began);
	return flush(s, l);
}

static int has_work(const struct ipfix_session *s)
{
	return s->need_templates || s->h->again.len || s->need_stats || s->h->count;
}

enum ipfix_pump ipfix_session_pump(struct ipfix_session *s, const struct ipfix_link *l,
				   int budget)
{
	enum ipfix_pump rc = flush(s, l);

	if (rc != IPFIX_PUMP_IDLE)
		return rc;
	if (!s->cfg.tcp && real_ms() >= s->templates_due_ms)
		s->need_templates = 1;
	for (int i = 0; i < budget && has_work(s); i++) {
		/* the flight full: the collector is that far behind, wait for it */
		if (s->cfg.tcp && s->h->fl_count == IPFIX_FLIGHT_MAX)
			return IPFIX_PUMP_IDLE;
		if (s->need_templates)
			rc = send_templates(s, l);
		else if (s->h->again.len)
			rc = send_again(s, l);
		else if (s->need_stats)
			rc = send_stats(s, l);
		else
			rc = send_data(s, l);
		if (rc != IPFIX_PUMP_IDLE)
			return rc;
	}
	return has_work(s) ? IPFIX_PUMP_MORE : IPFIX_PUMP_IDLE;
}

