/*
 * ipfix_session: a session's books: the ring, the message being written,
 * the flight, what was sent and what was not, the transport's state, the
 * region.  Every change to the header happens in a store transaction: the
 * caller's (the event path holds one), or one of its own.  Building and
 * writing messages is ipfix_pump.c.
 */
#include "ipfix_session_int.h"

#include <string.h>

/* ---- counting ---- */

static void count_drop(struct ipfix_session *s, uint64_t flows, uint64_t pkts, uint64_t octets)
{
	uint64_t t = real_ms();
	struct ipfix_session_stats *st = &hw(s)->st;

	st->notsent_flows += flows;
	st->notsent_packets += pkts;
	st->notsent_octets += octets;
	if (!st->first_drop_ms)
		st->first_drop_ms = t;
	st->last_drop_ms = t;
}

/* A message that will not be sent. */
static void count_lost(struct ipfix_session *s, const struct ipfix_out *m)
{
	hw(s)->st.discarded_messages++;
	count_drop(s, m->records, m->packets, m->octets);
}

/* A message the collector has (TCP: acknowledged; UDP: the kernel took it). */
static void count_sent(struct ipfix_session *s, const struct ipfix_out *m)
{
	struct ipfix_sess_hdr *h = hw(s);

	h->st.messages++;
	h->st.octets += m->len;
	h->st.records += m->records;
	h->st.data_records += m->data;
	for (size_t i = 0; i < 2 * IPFIX_TEMPLATES_MAX; i++)
		s->tmpl[i].records += m->trecs[i];
}

/* ---- the ring of waiting records ---- */

/*
 * A record that will never be sent.  Beside the records, the messages they
 * would have made are counted as discarded (ipfixTransportSessionDiscarded-
 * Messages: "could not be sent due to internal buffer overflows"): packed as
 * the pump packs them, a new one begins when the last is full, and the
 * packing starts afresh after the next message really sent.
 */
static void drop_record(struct ipfix_session *s, const struct ipfix_flowrec *r)
{
	size_t len = ipfix_rec_wire_len(r, s->c->enterprise_ies, ipfix_cfg_mode(&s->cfg));
	size_t cap = s->msg_max - IPFIX_HDR_LEN - IPFIX_SET_HDR_LEN;
	struct ipfix_sess_hdr *h = hw(s);

	/* notSentFlowTotalCount counts the flow records that were not sent */
	uint64_t recs = s->cfg.uniflow && ipfix_rec_uni_dirs(r) == 3u ? 2 : 1;

	count_drop(s, recs, r->packets[0] + r->packets[1], r->octets[0] + r->octets[1]);
	if (!h->drop_fill || h->drop_fill + len > cap) {
		h->st.discarded_messages++;
		h->drop_fill = 0;
	}
	h->drop_fill += len;
}

void ipfix_session_push(struct ipfix_session *s, const struct ipfix_flowrec *r)
{
	struct ipfix_sess_hdr *h = hw(s);

	if (h->count == h->capacity) {
		drop_record(s, r);
		return;
	}
	s->ring[(h->head + h->count) % h->capacity] = *r;
	h->count++;
	if (h->count > h->st.buffered_max)
		h->st.buffered_max = h->count;
}

const struct ipfix_flowrec *sess_ring_peek(const struct ipfix_session *s)
{
	return s->h->count ? &s->ring[s->h->head] : NULL;
}

void sess_ring_pop(struct ipfix_session *s)
{
	struct ipfix_sess_hdr *h = hw(s);

	h->head = (h->head + 1) % h->capacity;
	h->count--;
}

/* ---- the flight (TCP) ---- */

static void flight_push(struct ipfix_session *s, const struct ipfix_out *m)
{
	struct ipfix_sess_hdr *h = hw(s);
	/* (a slot past the count: nothing to save, the count rolls back) */
	struct ipfix_flight *f = &s->flight[(h->fl_head + h->fl_count) % IPFIX_FLIGHT_MAX];

	h->written += m->len;
	f->end = h->written;
	f->m = *m;
	h->fl_count++;
}

/* The oldest in flight leaves: sent (acknowledged) or not. */
static void flight_pop(struct ipfix_session *s, int sent)
{
	struct ipfix_sess_hdr *h = hw(s);
	const struct ipfix_out *m = &s->flight[h->fl_head].m;

	if (sent)
		count_sent(s, m);
	else
		count_lost(s, m);
	h->fl_head = (h->fl_head + 1) % IPFIX_FLIGHT_MAX;
	h->fl_count--;
}

void ipfix_session_acked(struct ipfix_session *s, uint64_t acked)
{
	int began;

	if (!s->h->fl_count || s->flight[s->h->fl_head].end > acked)
		return;
	began = t_begin(s);
	while (s->h->fl_count && s->flight[s->h->fl_head].end <= acked)
		flight_pop(s, 1);
	t_end(s, began);
}

uint64_t ipfix_session_drop_flight(struct ipfix_session *s)
{
	int began = t_begin(s);
	uint64_t n = 0;

	while (s->h->fl_count) {
		n += s->flight[s->h->fl_head].m.records;
		flight_pop(s, 0);
	}
	t_end(s, began);
	return n;
}

/* ---- the message being written ---- */

static void out_clear(struct ipfix_session *s)
{
	memset(&hw(s)->out, 0, sizeof(s->h->out));
}

/* The message in `out` did not get through whole: keep it to send again
 * (send_again); its records were never sent, so the sequence number they
 * took is given back. */
static void keep_for_again(struct ipfix_session *s)
{
	struct ipfix_sess_hdr *h = hw(s);

	memcpy(s->again, s->out, h->out.len);
	h->again = h->out;
	h->st.seq -= h->out.data;
	out_clear(s);
}

/* The transport took all of `out`. */
void sess_out_done(struct ipfix_session *s)
{
	int began = t_begin(s);
	struct ipfix_sess_hdr *h = hw(s);

	if (s->cfg.tcp)
		flight_push(s, &h->out);
	else
		count_sent(s, &h->out);
	h->drop_fill = 0;
	out_clear(s);
	t_end(s, began);
}

void sess_out_lost(struct ipfix_session *s)
{
	int began = t_begin(s);

	count_lost(s, &s->h->out);
	out_clear(s);
	t_end(s, began);
}

/* ---- the transport's state ---- */

void ipfix_session_connecting(struct ipfix_session *s)
{
	int began = t_begin(s);

	hw(s)->st.state = IPFIX_CONNECTING;
	t_end(s, began);
}

void ipfix_session_up(struct ipfix_session *s)
{
	int began = t_begin(s);
	struct ipfix_sess_hdr *h = hw(s);

	h->st.state = IPFIX_UP;
	if (s->cfg.tcp)
		h->st.seq = 0;
	h->written = 0;
	h->st.connects++;
	h->st.session_start_ms = real_ms();
	t_end(s, began);
	s->need_templates = 1;
	s->next_template = 0;
	s->need_stats = s->nopt > 0;
	s->templates_due_ms = 0;
}

void ipfix_session_down(struct ipfix_session *s, uint64_t acked)
{
	int began = t_begin(s);
	struct ipfix_sess_hdr *h = hw(s);

	h->st.state = IPFIX_DOWN;
	if (s->cfg.tcp) {
		ipfix_session_acked(s, acked);
		ipfix_session_drop_flight(s);
		h->written = 0;
	}
	if (h->out.len > h->out.off) {
		/* a collector drops a message cut short: over TCP it goes again,
		 * whole, on the next connection */
		if (s->cfg.tcp) {
			keep_for_again(s);
		} else {
			count_lost(s, &h->out);
			out_clear(s);
		}
	}
	t_end(s, began);
	/* the collector forgets a session's templates with the session */
	for (size_t i = 0; i < 2 * IPFIX_TEMPLATES_MAX; i++)
		s->tmpl[i].live = 0;
}

int ipfix_session_is_up(const struct ipfix_session *s)
{
	return s->h->st.state == IPFIX_UP;
}

void ipfix_session_stats_due(struct ipfix_session *s)
{
	s->need_stats = s->nopt > 0;
}

void ipfix_session_rate_tick(struct ipfix_session *s)
{
	s->rate = s->h->st.octets - s->rate_base;
	s->rate_base = s->h->st.octets;
}

/* ---- set-up ---- */

size_t ipfix_session_region_size(uint32_t buffer)
{
	return HDR_BYTES + 2 * IPFIX_MSG_MAX + FLIGHT_BYTES +
	       (size_t)buffer * sizeof(struct ipfix_flowrec);
}

size_t ipfix_session_save_max(void)
{
	return sizeof(struct ipfix_sess_hdr) + 64;
}

uint64_t ipfix_session_layout(void)
{
	return (uint64_t)LAYOUT << 56 ^ (uint64_t)sizeof(struct ipfix_sess_hdr) << 40 ^
	       (uint64_t)sizeof(struct ipfix_flowrec) << 32 ^ sizeof(struct ipfix_flight);
}

const char *ipfix_session_check(const void *region, uint32_t buffer)
{
	const struct ipfix_sess_hdr *h = region;

	if (h->capacity != buffer || h->head >= buffer || h->count > buffer)
		return "its record ring is inconsistent";
	if (h->out.len > IPFIX_MSG_MAX || h->out.off > h->out.len || h->again.len > IPFIX_MSG_MAX)
		return "its pending message is inconsistent";
	if (h->fl_head >= IPFIX_FLIGHT_MAX || h->fl_count > IPFIX_FLIGHT_MAX)
		return "its messages in flight are inconsistent";
	return NULL;
}

/*
 * The last run's message in `out`: if the kernel had it all (or the kill
 * came as the write returned: the write was tried and did not block), it
 * is done; else it goes again, whole, after this run's templates.  What
 * was in flight the kernel delivers on its own: sent.
 */
static void settle_last_run(struct ipfix_session *s)
{
	const struct ipfix_out *o = &s->h->out;
	int began = t_begin(s);

	hw(s)->st.state = IPFIX_DOWN;
	if (o->len && (o->off == o->len || (o->off == 0 && !o->blocked)))
		sess_out_done(s);
	else if (o->len)
		keep_for_again(s);
	while (s->h->fl_count)
		flight_pop(s, 1);
	hw(s)->written = 0;
	t_end(s, began);
}

void ipfix_session_attach(struct ipfix_session *s, struct ipfix_common *c,
			  const struct ipfix_collector_cfg *cfg, size_t msg_max, void *region,
			  int kept)
{
	unsigned char *p = region;

	memset(s, 0, sizeof(*s));
	s->c = c;
	s->cfg = *cfg;
	s->msg_max = msg_max;
	s->nopt = cfg->statistics ? c->nopt : 0;
	s->h = (struct ipfix_sess_hdr *)(void *)p;
	s->out = p + HDR_BYTES;
	s->again = s->out + IPFIX_MSG_MAX;
	s->flight = (struct ipfix_flight *)(void *)(s->again + IPFIX_MSG_MAX);
	s->ring = (struct ipfix_flowrec *)(void *)((unsigned char *)s->flight + FLIGHT_BYTES);
	s->h->capacity = cfg->buffer;
	s->h->epoch = 0;
	(void)kept; /* a fresh region is zero: nothing to settle */
	settle_last_run(s);
	s->rate_base = s->h->st.octets;
}

/* ---- leaving ---- */

uint64_t ipfix_session_pending(const struct ipfix_session *s)
{
	const struct ipfix_sess_hdr *h = s->h;

	return h->count + h->out.records + (h->out.len > 0) + (h->again.len > 0) + h->fl_count;
}

uint64_t ipfix_session_waiting(const struct ipfix_session *s)
{
	return s->h->count;
}

uint64_t ipfix_session_records_held(const struct ipfix_session *s)
{
	const struct ipfix_sess_hdr *h = s->h;
	uint64_t n = h->count + h->out.records + h->again.records;

	for (uint32_t i = 0; i < h->fl_count; i++)
		n += s->flight[(h->fl_head + i) % IPFIX_FLIGHT_MAX].m.records;
	return n;
}

uint64_t ipfix_session_drop_all(struct ipfix_session *s)
{
	const struct ipfix_flowrec *r;
	int began = t_begin(s);
	struct ipfix_sess_hdr *h = hw(s);
	uint64_t n = h->count + h->out.records + h->again.records;

	while ((r = sess_ring_peek(s)) != NULL) {
		drop_record(s, r);
		sess_ring_pop(s);
	}
	if (h->out.len) {
		count_lost(s, &h->out);
		out_clear(s);
	}
	if (h->again.len) {
		count_lost(s, &h->again);
		memset(&h->again, 0, sizeof(h->again));
	}
	t_end(s, began);
	return n + ipfix_session_drop_flight(s);
}

void ipfix_session_drop_again(struct ipfix_session *s)
{
	int began;

	if (!s->h->again.len)
		return;
	began = t_begin(s);
	count_lost(s, &s->h->again);
	memset(&hw(s)->again, 0, sizeof(s->h->again));
	t_end(s, began);
}

void ipfix_session_get_stats(const struct ipfix_session *s, struct ipfix_session_stats *out)
{
	*out = s->h->st;
	out->rate = s->rate;
	out->buffered = s->h->count;
	out->held = ipfix_session_records_held(s);
}

uint16_t ipfix_session_port(const struct ipfix_session *s)
{
	return s->h->local_port;
}

void ipfix_session_set_port(struct ipfix_session *s, uint16_t port)
{
	int began;

	if (s->h->local_port == port)
		return;
	began = t_begin(s);
	hw(s)->local_port = port;
	t_end(s, began);
}
