/*
 * ipfix_export: sessions, transports and timing around the pure encoder.
 *
 * Records wait in a per-session ring as structs, not bytes: a message's
 * sequence number and the templates it relies on belong to one transport
 * session, so records that wait out a TCP reconnection must be encoded for
 * the new session.  A pump timer turns waiting records into messages, a
 * bounded number per call so the event loop never stalls on export.  A TCP
 * session holds at most one partly written message; while the kernel's
 * socket buffer is full the pump waits for POLLOUT and records queue in the
 * ring.
 *
 * Each session is a store region: the waiting records, the sequence number,
 * the counters and the message last handed to the kernel.  A message's
 * records leave the ring in a transaction that commits before the message is
 * written, and it is counted as sent in one that commits after the kernel
 * took all of it.  So after a kill, nothing queued is lost and nothing sent
 * is sent again, except what no program can know: a message whose write the
 * kill interrupted at its very end is taken as written (a kill is delivered
 * as a system call returns).  A message the kernel had not taken (full
 * buffer, or only part of it over TCP) is sent again whole; over TCP with
 * the new connection's sequence number, after the templates.
 */
#include "ipfix_export.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base_log.h"
#include "ipfix_rec.h"

#include <stdio.h>

#define PUMP_MS 20
#define PUMP_MESSAGES 64 /* per session and pump call */
#define TCP_MSG_MAX 16384
#define MAX_TEMPLATES 8
#define RATE_MS 1000

/* A template's life on one session: announced, and how much it carried. */
struct tstate {
	int live;
	uint64_t records, sent_ms, since_ms;
};

/* The message handed to the kernel: written while len > off. */
struct out_state {
	uint32_t len, off;
	uint32_t blocked;            /* the kernel did not take all of it at once */
	uint32_t data;               /* data records in it, flow and options */
	uint64_t records, packets, octets; /* flow records and what they carry */
	uint64_t trecs[2 * MAX_TEMPLATES]; /* data records per template position */
};

/* What a session keeps across restarts (saved once per transaction). */
struct sess_hdr {
	uint32_t epoch;
	uint32_t head, count;        /* the ring of waiting records */
	uint32_t capacity;
	uint64_t drop_fill;          /* overflow: octets of the message being dropped */
	uint16_t local_port;         /* UDP: bound again after a restart */
	uint16_t pad[3];
	struct out_state out;        /* the message being written */
	struct out_state again;      /* one to send again, after the templates */
	struct ipfix_session_stats st;
};

#define SESS_HDR_BYTES ((sizeof(struct sess_hdr) + 63) & ~(size_t)63)
#define SESS_LAYOUT 1u

struct session {
	struct ipfix_exporter *x;
	struct ipfix_collector_cfg cfg;
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd, io;
	size_t msg_max;
	struct sess_hdr *h;          /* persistent: the header ... */
	uint8_t *out;                /* ... the message being written (TCP_MSG_MAX) ... */
	uint8_t *again;              /* ... one to send again (TCP_MSG_MAX) ... */
	struct ipfix_flowrec *ring;  /* ... and the ring */
	enum store_origin origin;
	struct tstate tmpl[2 * MAX_TEMPLATES]; /* by template position (template_at) */
	struct sockaddr_storage local;
	uint64_t rate_base;          /* octets at the last rate tick */
	uint64_t rate;               /* octets of the last second */
	uint64_t tcp_segs;           /* data segments of the TCP connections that ended */
	int need_templates, need_stats;
	size_t next_template;        /* announcing: the first template not yet sent */
	size_t nopt;                 /* options templates this session uses */
	uint64_t templates_due_ms, reconnect_at_ms;
	uint32_t backoff_ms;         /* wait before the next connection attempt */
	int was_up;                  /* the attempt that is ending had connected */
};

/* The exporter's own persistent counters; when they started, in realtime
 * (a monotonic time would mean nothing after a reboot). */
struct meter_hdr {
	uint32_t epoch;
	uint32_t pad;
	uint64_t start_real_ms;
	struct ipfix_metering m;
};

struct ipfix_exporter {
	struct ipfix_cfg cfg;
	struct loop *lp;
	struct store *st;
	struct ipfix_source src;
	struct session *s;
	size_t n;
	int t_pump, t_stats, t_rate;
	uint32_t epid;
	struct meter_hdr *meter;
	const struct ipfix_template *data_t[MAX_TEMPLATES], *opt_t[MAX_TEMPLATES];
	size_t ndata, nopt;
	uint8_t msg[65536];
};

/* ---- transactions ---- */

/* Begin one unless the caller holds one (the event path does): 1 if begun. */
static int x_begin(struct ipfix_exporter *x)
{
	if (store_epoch(x->st))
		return 0;
	store_begin(x->st);
	return 1;
}

static void x_end(struct ipfix_exporter *x, int began)
{
	if (began)
		store_commit(x->st);
}

/* The session's header, saved once per transaction before it changes. */
static struct sess_hdr *hw(struct session *s)
{
	uint32_t epoch = store_epoch(s->x->st);

	if (s->h->epoch != epoch) {
		store_save(s->x->st, s->h, sizeof(*s->h));
		s->h->epoch = epoch;
	}
	return s->h;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void count_drop(struct session *s, uint64_t flows, uint64_t pkts, uint64_t octets)
{
	uint64_t t = now_ms();
	struct ipfix_session_stats *st = &hw(s)->st;

	st->notsent_flows += flows;
	st->notsent_packets += pkts;
	st->notsent_octets += octets;
	if (!st->first_drop_ms)
		st->first_drop_ms = t;
	st->last_drop_ms = t;
}

/* ---- the ring of waiting records ---- */

/*
 * A record that will never be sent.  Beside the records, the messages they
 * would have made are counted as discarded (ipfixTransportSessionDiscarded-
 * Messages: "could not be sent due to internal buffer overflows"): packed as
 * the pump packs them, a new one begins when the last is full, and the
 * packing starts afresh after the next message really sent.
 */
static void drop_record(struct session *s, const struct ipfix_flowrec *r)
{
	size_t len = ipfix_record_len(ipfix_rec_template(r, s->x->cfg.enterprise_ies));
	size_t cap = s->msg_max - IPFIX_HDR_LEN - IPFIX_SET_HDR_LEN;
	struct sess_hdr *h = hw(s);

	count_drop(s, 1, r->packets[0] + r->packets[1], r->octets[0] + r->octets[1]);
	if (!h->drop_fill || h->drop_fill + len > cap) {
		h->st.discarded_messages++;
		h->drop_fill = 0;
	}
	h->drop_fill += len;
}

static void ring_push(struct session *s, const struct ipfix_flowrec *r)
{
	struct sess_hdr *h = hw(s);

	if (h->count == h->capacity) {
		drop_record(s, r);
		return;
	}
	s->ring[(h->head + h->count) % h->capacity] = *r;
	h->count++;
	if (h->count > h->st.buffered_max)
		h->st.buffered_max = h->count;
}

static const struct ipfix_flowrec *ring_peek(const struct session *s)
{
	return s->h->count ? &s->ring[s->h->head] : NULL;
}

static void ring_pop(struct session *s)
{
	struct sess_hdr *h = hw(s);

	h->head = (h->head + 1) % h->capacity;
	h->count--;
}

/* ---- transport ---- */

static void on_io(void *arg, short revents);

/* The message in `out` is done with: sent, or lost (counted by the caller). */
static void out_clear(struct session *s)
{
	memset(&hw(s)->out, 0, sizeof(s->h->out));
}

/* The message in `out` did not get through whole: keep it to send again
 * (send_again); its records were never sent, so the sequence number they
 * took is given back. */
static void keep_for_again(struct session *s)
{
	struct sess_hdr *h = hw(s);

	memcpy(s->again, s->out, h->out.len);
	h->again = h->out;
	h->st.seq -= h->out.data;
	out_clear(s);
}

/* Data segments this TCP connection has sent so far (the kernel counts them). */
static uint64_t tcp_segs_now(const struct session *s)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (!s->cfg.tcp || s->fd < 0 || s->h->st.state != IPFIX_UP ||
	    getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return 0;
	return ti.tcpi_data_segs_out;
}

static void session_close(struct session *s)
{
	int began = x_begin(s->x);
	struct sess_hdr *h = hw(s);

	s->tcp_segs += tcp_segs_now(s);
	if (s->io >= 0)
		loop_io_del(s->x->lp, s->io);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = s->io = -1;
	h->st.state = IPFIX_DOWN;
	if (h->out.len > h->out.off) {
		/* a collector drops a message cut short: over TCP it goes again,
		 * whole, on the next connection */
		if (s->cfg.tcp) {
			keep_for_again(s);
		} else {
			h->st.discarded_messages++;
			count_drop(s, h->out.records, h->out.packets, h->out.octets);
			out_clear(s);
		}
	}
	x_end(s->x, began);
	/* the collector forgets a session's templates with the session */
	for (size_t i = 0; i < 2 * MAX_TEMPLATES; i++)
		s->tmpl[i].live = 0;
	/* a collector that refuses or times out is retried less and less often */
	if (s->was_up)
		s->backoff_ms = s->cfg.reconnect_ms;
	else if (s->backoff_ms < s->cfg.reconnect_max_ms / 2)
		s->backoff_ms *= 2;
	else
		s->backoff_ms = s->cfg.reconnect_max_ms;
	s->was_up = 0;
	s->reconnect_at_ms = now_ms() + s->backoff_ms;
}

/* A new transport session: templates first; sequence numbers from 0 on a
 * new TCP connection, where they continue over UDP (the same socket, bound
 * to the same port after a restart, is the same session to the collector). */
static void session_up(struct session *s)
{
	int began = x_begin(s->x);
	struct sess_hdr *h = hw(s);
	socklen_t len = sizeof(s->local);

	h->st.state = IPFIX_UP;
	s->was_up = 1;
	if (s->cfg.tcp)
		h->st.seq = 0;
	h->st.connects++;
	h->st.session_start_ms = now_ms();
	if (getsockname(s->fd, (struct sockaddr *)&s->local, &len) < 0)
		memset(&s->local, 0, sizeof(s->local));
	if (s->local.ss_family == AF_INET)
		h->local_port = ntohs(((struct sockaddr_in *)&s->local)->sin_port);
	else if (s->local.ss_family == AF_INET6)
		h->local_port = ntohs(((struct sockaddr_in6 *)&s->local)->sin6_port);
	x_end(s->x, began);
	s->need_templates = 1;
	s->next_template = 0;
	s->need_stats = s->nopt > 0;
	s->templates_due_ms = 0;
	loop_io_events(s->x->lp, s->io, POLLIN);
}

/* UDP after a restart: the port the collector knows this session by. */
static void bind_same_port(struct session *s)
{
	struct sockaddr_storage b;

	if (s->cfg.tcp || !s->h->local_port)
		return;
	memset(&b, 0, sizeof(b));
	b.ss_family = s->sa.ss_family;
	if (b.ss_family == AF_INET)
		((struct sockaddr_in *)&b)->sin_port = htons(s->h->local_port);
	else
		((struct sockaddr_in6 *)&b)->sin6_port = htons(s->h->local_port);
	/* taken meanwhile: any port will do, the collector sees a new session */
	(void)!bind(s->fd, (struct sockaddr *)&b,
		    b.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
}

static void session_connect(struct session *s)
{
	int type = s->cfg.tcp ? SOCK_STREAM : SOCK_DGRAM;

	s->fd = socket(s->sa.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		s->reconnect_at_ms = now_ms() + s->backoff_ms;
		return;
	}
	s->io = loop_io_add(s->x->lp, s->fd, POLLOUT, on_io, s);
	if (s->io < 0) {
		session_close(s);
		return;
	}
	bind_same_port(s);
	/* UDP: connect() only fixes the peer (and lets ICMP errors surface) */
	if (connect(s->fd, (struct sockaddr *)&s->sa, s->salen) == 0) {
		session_up(s);
	} else if (errno == EINPROGRESS) {
		int began = x_begin(s->x);

		hw(s)->st.state = IPFIX_CONNECTING;
		x_end(s->x, began);
	} else {
		session_close(s);
	}
}

/* The message in `out` has gone out in full: count it as sent. */
static void out_sent(struct session *s)
{
	int began = x_begin(s->x);
	struct sess_hdr *h = hw(s);

	h->st.messages++;
	h->st.octets += h->out.len;
	h->st.records += h->out.records;
	h->st.data_records += h->out.data;
	for (size_t i = 0; i < 2 * MAX_TEMPLATES; i++)
		s->tmpl[i].records += h->out.trecs[i];
	h->drop_fill = 0;
	out_clear(s);
	x_end(s->x, began);
}

/* A message the kernel would not take: counted as lost. */
static void out_lost(struct session *s)
{
	int began = x_begin(s->x);
	struct sess_hdr *h = hw(s);

	h->st.discarded_messages++;
	count_drop(s, h->out.records, h->out.packets, h->out.octets);
	out_clear(s);
	x_end(s->x, began);
}

/* UDP: one datagram.  A full socket buffer keeps it for POLLOUT; an ICMP error
 * left by an earlier datagram is reported on this send (the datagram itself
 * was not sent), so it is tried once more; anything else loses it. */
static int flush_udp(struct session *s)
{
	struct out_state *o = &s->h->out;

	for (int attempt = 0; attempt < 2; attempt++) {
		ssize_t w = send(s->fd, s->out, o->len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w == (ssize_t)o->len) {
			o->off = o->len;
			return 1;
		}
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			o->blocked = 1;
			loop_io_events(s->x->lp, s->io, POLLIN | POLLOUT);
			return 0;
		}
		if (!(w < 0 && (errno == ECONNREFUSED || errno == EINTR)))
			break;
	}
	out_lost(s);
	loop_io_events(s->x->lp, s->io, POLLIN);
	return 1;
}

/* Write what is pending; 1 when nothing is left.  (o->off and o->blocked
 * are single stores outside any transaction: what the kernel took.) */
static int flush_out(struct session *s)
{
	struct out_state *o = &s->h->out;

	if (!s->cfg.tcp && o->len > o->off && !flush_udp(s))
		return 0;
	while (o->off < o->len && s->cfg.tcp) {
		ssize_t w = send(s->fd, s->out + o->off, o->len - o->off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			o->blocked = 1;
			loop_io_events(s->x->lp, s->io, POLLIN | POLLOUT);
			return 0;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			session_close(s);
			return 0;
		}
		o->off += (uint32_t)w;
	}
	if (o->len)
		out_sent(s);
	loop_io_events(s->x->lp, s->io, POLLIN);
	return 1;
}

/* What a finished message carries. */
struct out_counts {
	uint64_t records, packets, octets;  /* flow records and what they carry */
	uint64_t data;                      /* data records, flow and options */
	uint64_t trecs[2 * MAX_TEMPLATES];  /* data records per template position */
};

/* Hand a finished message over: recorded in `out` within the transaction
 * that built it (begun by the caller, committed here), then written. */
static void emit(struct session *s, const uint8_t *msg, size_t len, const struct out_counts *c,
		 int began)
{
	struct sess_hdr *h = hw(s);

	memcpy(s->out, msg, len);
	memset(&h->out, 0, sizeof(h->out));
	h->out.len = (uint32_t)len;
	if (c) {
		h->out.records = c->records;
		h->out.packets = c->packets;
		h->out.octets = c->octets;
		h->out.data = (uint32_t)c->data;
		memcpy(h->out.trecs, c->trecs, sizeof(h->out.trecs));
	}
	x_end(s->x, began);
	flush_out(s);
}

static void on_io(void *arg, short revents)
{
	struct session *s = arg;
	int err = 0;
	socklen_t len = sizeof(err);
	char sink[512];

	if (s->h->st.state == IPFIX_CONNECTING) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
			session_close(s);
			return;
		}
		session_up(s);
		return;
	}
	if (revents & POLLIN) {
		/* collectors send nothing: readable means closed, or an ICMP error (UDP) */
		ssize_t r = recv(s->fd, sink, sizeof(sink), MSG_DONTWAIT);

		if (s->cfg.tcp && (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))) {
			session_close(s);
			return;
		}
	}
	if (revents & (POLLERR | POLLHUP)) {
		if (s->cfg.tcp) {
			session_close(s);
			return;
		}
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len); /* UDP: clear an ICMP error */
	}
	if (revents & POLLOUT)
		flush_out(s);
}

/* ---- messages ---- */

static uint32_t export_time(void)
{
	return (uint32_t)time(NULL);
}

static const struct ipfix_template *template_at(const struct ipfix_exporter *x,
					       const struct session *s, size_t i)
{
	return i < x->ndata ? x->data_t[i] : i < x->ndata + s->nopt ? x->opt_t[i - x->ndata] : NULL;
}

/* The position of a data template (the options templates follow them). */
static size_t data_pos(const struct ipfix_exporter *x, const struct ipfix_template *t)
{
	size_t i = 0;

	while (i + 1 < x->ndata && x->data_t[i] != t)
		i++;
	return i;
}

/* Announced: the template is in use on this session from now on. */
static void template_sent(struct session *s, size_t pos)
{
	struct tstate *ts = &s->tmpl[pos];

	if (!ts->live) {
		ts->live = 1;
		ts->records = 0;
		ts->since_ms = loop_now(s->x->lp);
	}
	ts->sent_ms = now_ms();
}

/* One message of templates, as many as fit (a small UDP MTU takes several). */
static void send_templates(struct ipfix_exporter *x, struct session *s)
{
	const struct ipfix_template *t;
	struct ipfix_msg m;
	int began = x_begin(x);
	struct sess_hdr *h = hw(s);

	ipfix_msg_init(&m, x->msg, s->msg_max);
	while ((t = template_at(x, s, s->next_template)) != NULL) {
		if (ipfix_msg_template(&m, t) < 0)
			break;
		if (t->scope)
			h->st.opt_templates++;
		else
			h->st.templates++;
		template_sent(s, s->next_template);
		s->next_template++;
	}
	if (!template_at(x, s, s->next_template)) {
		s->need_templates = 0;
		s->next_template = 0;
		s->templates_due_ms = now_ms() + s->cfg.template_refresh_ms;
	}
	emit(s, x->msg, ipfix_msg_finish(&m, export_time(), h->st.seq, x->cfg.domain), NULL, began);
}

static void send_stats(struct ipfix_exporter *x, struct session *s)
{
	struct ipfix_stats_in in;
	struct ipfix_loss loss;
	struct ipfix_values v;
	struct ipfix_msg m;
	struct out_counts c;
	int began = x_begin(x);
	struct sess_hdr *h = hw(s);

	memset(&loss, 0, sizeof(loss));
	if (x->src.loss)
		x->src.loss(x->src.arg, &loss);
	memset(&in, 0, sizeof(in));
	in.odid = x->cfg.domain;
	in.exporting_process_id = x->epid;
	in.messages = h->st.messages;
	in.records = h->st.records;
	in.octets = h->st.octets;
	in.notsent_flows = h->st.notsent_flows;
	in.notsent_packets = h->st.notsent_packets;
	in.notsent_octets = h->st.notsent_octets;
	in.first_drop_ms = h->st.first_drop_ms;
	in.last_drop_ms = h->st.last_drop_ms;
	in.events_lost = loss.events_lost;
	in.overruns = loss.overruns;
	in.ended_unobserved = loss.ended_unobserved;
	in.rejected = loss.rejected;
	in.incarnations = loss.incarnations;
	in.duplicate_destroys = loss.duplicate_destroys;
	in.stale_rows = loss.stale_rows;
	in.dying_rows = loss.dying_rows;
	in.late_destroys = loss.late_destroys;
	in.ended_while_down = loss.ended_while_down;
	in.counter_resets = loss.counter_resets;
	in.tracking_refused = loss.tracking_refused;
	in.now_ms = now_ms();
	memset(&v, 0, sizeof(v));
	ipfix_opt_values(&in, &v);
	memset(&c, 0, sizeof(c));
	ipfix_msg_init(&m, x->msg, s->msg_max);
	for (size_t i = 0; i < s->nopt; i++)
		if (ipfix_msg_record(&m, x->opt_t[i], &v) == 0)
			c.trecs[x->ndata + i]++;
	uint32_t recs = m.records, seq = h->st.seq;

	/* not flow records (exportedFlowRecordTotalCount counts those), but data
	 * records all the same: they advance the sequence number */
	c.data = recs;
	h->st.seq += recs;
	s->need_stats = 0;
	emit(s, x->msg, ipfix_msg_finish(&m, export_time(), seq, x->cfg.domain), &c, began);
}

static void send_data(struct ipfix_exporter *x, struct session *s)
{
	struct ipfix_values v;
	struct ipfix_msg m;
	const struct ipfix_flowrec *r;
	struct out_counts c;
	int began = x_begin(x);
	struct sess_hdr *h = hw(s);

	memset(&c, 0, sizeof(c));
	memset(&v, 0, sizeof(v));
	ipfix_msg_init(&m, x->msg, s->msg_max);
	while ((r = ring_peek(s)) != NULL) {
		const struct ipfix_template *t = ipfix_rec_template(r, x->cfg.enterprise_ies);

		ipfix_rec_values(r, &v);
		if (ipfix_msg_record(&m, t, &v) < 0)
			break;
		c.packets += r->packets[0] + r->packets[1];
		c.octets += r->octets[0] + r->octets[1];
		c.trecs[data_pos(x, t)]++;
		ring_pop(s);
	}
	uint32_t recs = m.records, seq = h->st.seq;

	c.records = c.data = recs;
	h->st.seq += recs;
	emit(s, x->msg, ipfix_msg_finish(&m, export_time(), seq, x->cfg.domain), &c, began);
}

/*
 * A message the last connection (or the last run) did not get through whole
 * goes again, once the connection has its templates, with the sequence
 * number and export time of now written into its header.
 */
static void send_again(struct ipfix_exporter *x, struct session *s)
{
	int began = x_begin(x);
	struct sess_hdr *h = hw(s);
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
	x_end(x, began);
	flush_out(s);
}

/* 1 when the session has more to send right now. */
static int session_pump(struct ipfix_exporter *x, struct session *s, uint64_t now)
{
	if (s->h->st.state == IPFIX_DOWN && now >= s->reconnect_at_ms)
		session_connect(s);
	if (s->h->st.state != IPFIX_UP || !flush_out(s))
		return 0;
	if (!s->cfg.tcp && now >= s->templates_due_ms)
		s->need_templates = 1;
	for (int i = 0; i < PUMP_MESSAGES && s->h->st.state == IPFIX_UP; i++) {
		if (s->need_templates)
			send_templates(x, s);
		else if (s->h->again.len)
			send_again(x, s);
		else if (s->need_stats)
			send_stats(x, s);
		else if (s->h->count)
			send_data(x, s);
		else
			break;
		if (s->h->out.len) /* socket buffer full: wait for POLLOUT */
			return 0;
	}
	return s->h->st.state == IPFIX_UP &&
	       (s->need_templates || s->need_stats || s->h->count || s->h->again.len);
}

static void on_pump(void *arg)
{
	struct ipfix_exporter *x = arg;
	uint64_t now = now_ms();
	int more = 0;

	for (size_t i = 0; i < x->n; i++)
		more |= session_pump(x, &x->s[i], now);
	/* a backlog is worked off at once, in slices, between the loop's other work */
	loop_timer_arm(x->lp, x->t_pump, more ? 0 : PUMP_MS);
}

/* ipfixTransportSessionRate: octets of the last second. */
static void on_rate(void *arg)
{
	struct ipfix_exporter *x = arg;

	for (size_t i = 0; i < x->n; i++) {
		struct session *s = &x->s[i];

		s->rate = s->h->st.octets - s->rate_base;
		s->rate_base = s->h->st.octets;
	}
	loop_timer_arm(x->lp, x->t_rate, RATE_MS);
}

static void on_stats(void *arg)
{
	struct ipfix_exporter *x = arg;

	for (size_t i = 0; i < x->n; i++)
		x->s[i].need_stats = x->s[i].nopt > 0;
	loop_timer_arm(x->lp, x->t_stats, x->cfg.stats_interval_ms);
}

/* ---- set-up ---- */

static int resolve(const struct ipfix_collector_cfg *c, struct sockaddr_storage *sa,
		   socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, c->address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(c->port);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, c->address, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(c->port);
		*len = sizeof(*v6);
		return 0;
	}
	errno = EINVAL;
	return -1;
}

/* What identifies a session's state: where it goes, how, and its ring. */
static uint64_t session_sig(const struct ipfix_collector_cfg *c)
{
	uint64_t h = 14695981039346656037ull;
	const char *a = c->address;

	while (*a)
		h = (h ^ (uint8_t)*a++) * 1099511628211ull;
	h = (h ^ c->port) * 1099511628211ull;
	h = (h ^ (uint64_t)c->tcp) * 1099511628211ull;
	return (h ^ c->buffer) * 1099511628211ull;
}

/* NULL when a kept header is sound. */
static const char *check_session(const struct sess_hdr *h, uint32_t capacity)
{
	if (h->capacity != capacity || h->head >= capacity || h->count > capacity)
		return "its record ring is inconsistent";
	if (h->out.len > TCP_MSG_MAX || h->out.off > h->out.len || h->again.len > TCP_MSG_MAX)
		return "its pending message is inconsistent";
	return NULL;
}

static int map_session(struct ipfix_exporter *x, struct session *s)
{
	char name[STORE_NAME_MAX];
	size_t ring = (size_t)s->cfg.buffer * sizeof(struct ipfix_flowrec);
	uint64_t sig = session_sig(&s->cfg);
	unsigned char *p;
	const char *why;

	snprintf(name, sizeof(name), "ipfix-%s-%016llx", s->cfg.name, (unsigned long long)sig);
	sig ^= (uint64_t)SESS_LAYOUT << 56 ^ sizeof(struct sess_hdr) << 40 ^
	       sizeof(struct ipfix_flowrec) << 32;
	p = store_region(x->st, name, sig, SESS_HDR_BYTES + 2 * TCP_MSG_MAX + ring, &s->origin);
	if (p && s->origin == STORE_KEPT &&
	    (why = check_session((const struct sess_hdr *)(void *)p, s->cfg.buffer)) != NULL) {
		p = store_region_reset(x->st, p, why);
		s->origin = STORE_FRESH;
	}
	if (!p)
		return -1;
	s->h = (struct sess_hdr *)(void *)p;
	s->out = p + SESS_HDR_BYTES;
	s->again = s->out + TCP_MSG_MAX;
	s->ring = (struct ipfix_flowrec *)(void *)(s->again + TCP_MSG_MAX);
	s->h->capacity = s->cfg.buffer;
	s->h->epoch = 0;
	return 0;
}

/*
 * The last run's message in `out`: if the kernel had it all (or the kill
 * came as the write returned: the write was tried and did not block), it
 * is sent; else it goes again, whole, after this run's templates.
 */
static void settle_pending(struct session *s)
{
	const struct out_state *o = &s->h->out;

	s->h->st.state = IPFIX_DOWN;
	if (!o->len)
		return;
	if (o->off == o->len || (o->off == 0 && !o->blocked)) {
		out_sent(s);
	} else {
		int began = x_begin(s->x);

		keep_for_again(s);
		x_end(s->x, began);
	}
}

static int session_init(struct ipfix_exporter *x, struct session *s,
			const struct ipfix_collector_cfg *c)
{
	s->x = x;
	s->cfg = *c;
	s->fd = s->io = -1;
	if (s->cfg.buffer == 0)
		s->cfg.buffer = 1;
	s->nopt = c->statistics ? x->nopt : 0;
	s->backoff_ms = c->reconnect_ms / 2; /* the first failure doubles it to reconnect */
	if (s->backoff_ms == 0)
		s->backoff_ms = 1;
	if (resolve(c, &s->sa, &s->salen) < 0)
		return -1;
	/* UDP: the whole message must fit the path MTU after the IP and UDP headers */
	s->msg_max = c->tcp ? TCP_MSG_MAX
			    : c->mtu - (s->sa.ss_family == AF_INET6 ? 40u : 20u) - 8u;
	if (map_session(x, s) < 0)
		return -1;
	settle_pending(s);
	s->rate_base = s->h->st.octets;
	return 0;
}

static int map_meter(struct ipfix_exporter *x)
{
	enum store_origin o;

	x->meter = store_region(x->st, "ipfix-meter", sizeof(struct meter_hdr), sizeof(*x->meter), &o);
	if (!x->meter)
		return -1;
	if (o == STORE_FRESH)
		x->meter->start_real_ms = now_ms();
	x->meter->epoch = 0;
	return 0;
}

struct ipfix_exporter *ipfix_exporter_new(const struct ipfix_cfg *cfg, struct loop *lp,
					  const struct ipfix_source *src, struct store *st)
{
	struct ipfix_exporter *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->cfg = *cfg;
	x->lp = lp;
	x->st = st;
	if (src)
		x->src = *src;
	x->epid = (uint32_t)getpid();
	x->ndata = ipfix_rec_templates(cfg->enterprise_ies, x->data_t, MAX_TEMPLATES);
	x->nopt = ipfix_opt_templates(x->opt_t, MAX_TEMPLATES);
	x->s = calloc(cfg->ncollectors ? cfg->ncollectors : 1, sizeof(*x->s));
	x->t_pump = loop_timer_add(lp, on_pump, x);
	x->t_stats = loop_timer_add(lp, on_stats, x);
	x->t_rate = loop_timer_add(lp, on_rate, x);
	if (!x->s || x->t_pump < 0 || x->t_stats < 0 || x->t_rate < 0 || map_meter(x) < 0)
		goto fail;
	for (size_t i = 0; i < cfg->ncollectors; i++) {
		x->n = i + 1;
		if (session_init(x, &x->s[i], &cfg->collectors[i]) < 0)
			goto fail;
	}
	loop_timer_arm(lp, x->t_pump, 0);
	loop_timer_arm(lp, x->t_stats, cfg->stats_interval_ms);
	loop_timer_arm(lp, x->t_rate, RATE_MS);
	return x;
fail:
	ipfix_exporter_free(x);
	return NULL;
}

void ipfix_exporter_free(struct ipfix_exporter *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n; i++) {
		struct session *s = &x->s[i];

		if (s->fd >= 0) {
			if (s->io >= 0)
				loop_io_del(x->lp, s->io);
			close(s->fd);
		}
		if (s->h)
			store_region_release(x->st, s->h);
	}
	if (x->meter)
		store_region_release(x->st, x->meter);
	if (x->t_pump >= 0)
		loop_timer_disarm(x->lp, x->t_pump);
	if (x->t_stats >= 0)
		loop_timer_disarm(x->lp, x->t_stats);
	if (x->t_rate >= 0)
		loop_timer_disarm(x->lp, x->t_rate);
	free(x->s);
	free(x);
}

size_t ipfix_exporter_save_max(const struct ipfix_exporter *x)
{
	return x ? (x->n + 1) * (sizeof(struct sess_hdr) + 64) : 0;
}

void ipfix_exporter_slice(struct ipfix_exporter *x, const struct slice *s)
{
	struct ipfix_flowrec r;
	uint32_t epoch = store_epoch(x->st);

	ipfix_rec_from_slice(s, &r);
	if (x->meter->epoch != epoch) {
		store_save(x->st, x->meter, sizeof(*x->meter));
		x->meter->epoch = epoch;
	}
	x->meter->m.records++;
	x->meter->m.packets += r.packets[0] + r.packets[1];
	for (size_t i = 0; i < x->n; i++)
		ring_push(&x->s[i], &r);
}

uint64_t ipfix_exporter_pending(const struct ipfix_exporter *x)
{
	uint64_t n = 0;

	for (size_t i = 0; i < x->n; i++) {
		const struct sess_hdr *h = x->s[i].h;

		if (h->st.state == IPFIX_UP)
			n += h->count + h->out.records + (h->out.len > 0) + (h->again.len > 0);
	}
	return n;
}

void ipfix_exporter_abandon(struct ipfix_exporter *x)
{
	for (size_t i = 0; i < x->n; i++) {
		struct session *s = &x->s[i];
		const struct ipfix_flowrec *r;
		uint64_t n = s->h->count;
		int began;

		if (!n)
			continue;
		if (store_persistent(x->st)) {
			/* they wait in the state directory for the next start */
			log_info("ipfix: collector %s: %llu records kept for the next start",
				 s->cfg.name, (unsigned long long)n);
			continue;
		}
		began = x_begin(x);
		while ((r = ring_peek(s)) != NULL) {
			drop_record(s, r);
			ring_pop(s);
		}
		x_end(x, began);
		log_warnx("ipfix: collector %s: %llu records not sent at exit", s->cfg.name,
			  (unsigned long long)n);
	}
}

size_t ipfix_exporter_sessions(const struct ipfix_exporter *x)
{
	return x ? x->n : 0;
}

const struct ipfix_collector_cfg *ipfix_exporter_collector(const struct ipfix_exporter *x,
							   size_t i)
{
	return x && i < x->n ? &x->s[i].cfg : NULL;
}

void ipfix_exporter_stats(const struct ipfix_exporter *x, size_t i,
			  struct ipfix_session_stats *out)
{
	if (!x || i >= x->n) {
		memset(out, 0, sizeof(*out));
		return;
	}
	const struct session *s = &x->s[i];

	*out = s->h->st;
	out->rate = s->rate;
	out->buffered = s->h->count;
	out->packets = s->cfg.tcp ? s->tcp_segs + tcp_segs_now(s) : s->h->st.messages;
}

static void addr_port(const struct sockaddr_storage *ss, uint8_t *addr, uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;

		memcpy(addr, &v4->sin_addr, 4);
		*port = ntohs(v4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;

		memcpy(addr, &v6->sin6_addr, 16);
		*port = ntohs(v6->sin6_port);
	}
}

void ipfix_exporter_session_info(const struct ipfix_exporter *x, size_t i,
				 struct ipfix_session_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!x || i >= x->n)
		return;
	out->family = x->s[i].sa.ss_family;
	addr_port(&x->s[i].sa, out->remote, &out->remote_port);
	addr_port(&x->s[i].local, out->local, &out->local_port);
}

int ipfix_exporter_template(const struct ipfix_exporter *x, size_t i, uint32_t tid,
			    struct ipfix_template_row *out)
{
	const struct ipfix_template *t;

	if (!x || i >= x->n)
		return 0;
	/* positions are in ascending template id: data templates, then options */
	for (size_t p = 0; (t = template_at(x, &x->s[i], p)) != NULL; p++) {
		const struct tstate *ts = &x->s[i].tmpl[p];

		if (ts->live && t->id >= tid) {
			*out = (struct ipfix_template_row){ t, ts->records, ts->sent_ms, ts->since_ms };
			return 1;
		}
	}
	return 0;
}

void ipfix_exporter_metering(const struct ipfix_exporter *x, struct ipfix_metering *out)
{
	uint64_t ago, now;

	if (!x) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = x->meter->m;
	/* as loop time: how long ago, back from now (0: before this boot) */
	now = loop_now(x->lp);
	ago = now_ms() - x->meter->start_real_ms;
	out->start_ms = ago < now ? now - ago : 0;
}
