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

struct session {
	struct ipfix_exporter *x;
	struct ipfix_collector_cfg cfg;
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd, io;
	size_t msg_max;
	struct ipfix_flowrec *ring;
	uint32_t head, count;
	uint8_t *out;                /* TCP: the message being written */
	size_t out_len, out_off;
	uint64_t out_records, out_packets, out_octets;
	uint64_t out_data;           /* data records in `out`, flow and options */
	uint64_t out_trecs[2 * MAX_TEMPLATES]; /* ... per template position */
	struct tstate tmpl[2 * MAX_TEMPLATES]; /* by template position (template_at) */
	struct sockaddr_storage local;
	uint64_t rate_base;          /* octets at the last rate tick */
	uint64_t tcp_segs;           /* data segments of the TCP connections that ended */
	size_t drop_fill;            /* overflow: octets of the message being dropped */
	int need_templates, need_stats;
	size_t next_template;        /* announcing: the first template not yet sent */
	size_t nopt;                 /* options templates this session uses */
	uint64_t templates_due_ms, reconnect_at_ms;
	uint32_t backoff_ms;         /* wait before the next connection attempt */
	int was_up;                  /* the attempt that is ending had connected */
	struct ipfix_session_stats st;
};

struct ipfix_exporter {
	struct ipfix_cfg cfg;
	struct loop *lp;
	struct ipfix_source src;
	struct session *s;
	size_t n;
	int t_pump, t_stats, t_rate;
	uint32_t epid;
	struct ipfix_metering meter;
	const struct ipfix_template *data_t[MAX_TEMPLATES], *opt_t[MAX_TEMPLATES];
	size_t ndata, nopt;
	uint8_t msg[65536];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void count_drop(struct session *s, uint64_t flows, uint64_t pkts, uint64_t octets)
{
	uint64_t t = now_ms();

	s->st.notsent_flows += flows;
	s->st.notsent_packets += pkts;
	s->st.notsent_octets += octets;
	if (!s->st.first_drop_ms)
		s->st.first_drop_ms = t;
	s->st.last_drop_ms = t;
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

	count_drop(s, 1, r->packets[0] + r->packets[1], r->octets[0] + r->octets[1]);
	if (!s->drop_fill || s->drop_fill + len > cap) {
		s->st.discarded_messages++;
		s->drop_fill = 0;
	}
	s->drop_fill += len;
}

static void ring_push(struct session *s, const struct ipfix_flowrec *r)
{
	if (s->count == s->cfg.buffer) {
		drop_record(s, r);
		return;
	}
	s->ring[(s->head + s->count) % s->cfg.buffer] = *r;
	s->count++;
	if (s->count > s->st.buffered_max)
		s->st.buffered_max = s->count;
}

static const struct ipfix_flowrec *ring_peek(const struct session *s)
{
	return s->count ? &s->ring[s->head] : NULL;
}

static void ring_pop(struct session *s)
{
	s->head = (s->head + 1) % s->cfg.buffer;
	s->count--;
}

/* ---- transport ---- */

static void on_io(void *arg, short revents);

/* The message in `out` is done with: sent, or lost (counted by the caller). */
static void out_clear(struct session *s)
{
	s->out_len = s->out_off = 0;
	s->out_records = s->out_packets = s->out_octets = s->out_data = 0;
	memset(s->out_trecs, 0, sizeof(s->out_trecs));
}

/* Data segments this TCP connection has sent so far (the kernel counts them). */
static uint64_t tcp_segs_now(const struct session *s)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (!s->cfg.tcp || s->fd < 0 || s->st.state != IPFIX_UP ||
	    getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return 0;
	return ti.tcpi_data_segs_out;
}

static void session_close(struct session *s)
{
	s->tcp_segs += tcp_segs_now(s);
	if (s->io >= 0)
		loop_io_del(s->x->lp, s->io);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = s->io = -1;
	s->st.state = IPFIX_DOWN;
	if (s->out_len > s->out_off) { /* a message cut short is lost to the collector */
		s->st.discarded_messages++;
		count_drop(s, s->out_records, s->out_packets, s->out_octets);
	}
	out_clear(s);
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

/* A new transport session: templates first, sequence numbers from 0. */
static void session_up(struct session *s)
{
	s->st.state = IPFIX_UP;
	s->was_up = 1;
	s->st.seq = 0;
	s->st.connects++;
	s->st.session_start_ms = now_ms();
	socklen_t len = sizeof(s->local);

	if (getsockname(s->fd, (struct sockaddr *)&s->local, &len) < 0)
		memset(&s->local, 0, sizeof(s->local));
	s->need_templates = 1;
	s->next_template = 0;
	s->need_stats = s->nopt > 0;
	s->templates_due_ms = 0;
	loop_io_events(s->x->lp, s->io, POLLIN);
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
	/* UDP: connect() only fixes the peer (and lets ICMP errors surface) */
	if (connect(s->fd, (struct sockaddr *)&s->sa, s->salen) == 0) {
		session_up(s);
	} else if (errno == EINPROGRESS) {
		s->st.state = IPFIX_CONNECTING;
	} else {
		session_close(s);
	}
}

/* UDP: one datagram.  A full socket buffer keeps it for POLLOUT; an ICMP error
 * left by an earlier datagram is reported on this send (the datagram itself
 * was not sent), so it is tried once more; anything else loses it. */
static int flush_udp(struct session *s)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		ssize_t w = send(s->fd, s->out, s->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w == (ssize_t)s->out_len) {
			s->out_off = s->out_len;
			return 1;
		}
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			loop_io_events(s->x->lp, s->io, POLLIN | POLLOUT);
			return 0;
		}
		if (!(w < 0 && (errno == ECONNREFUSED || errno == EINTR)))
			break;
	}
	s->st.discarded_messages++;
	count_drop(s, s->out_records, s->out_packets, s->out_octets);
	out_clear(s);
	loop_io_events(s->x->lp, s->io, POLLIN);
	return 1;
}

/* The message in `out` has gone out in full. */
static void out_sent(struct session *s)
{
	s->st.messages++;
	s->st.octets += s->out_len;
	s->st.records += s->out_records;
	s->st.data_records += s->out_data;
	for (size_t i = 0; i < 2 * MAX_TEMPLATES; i++)
		s->tmpl[i].records += s->out_trecs[i];
	s->drop_fill = 0;
	out_clear(s);
}

/* Write what is pending; 1 when nothing is left. */
static int flush_out(struct session *s)
{
	if (!s->cfg.tcp && s->out_len && !flush_udp(s))
		return 0;
	while (s->out_off < s->out_len && s->cfg.tcp) {
		ssize_t w = send(s->fd, s->out + s->out_off, s->out_len - s->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			loop_io_events(s->x->lp, s->io, POLLIN | POLLOUT);
			return 0;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			session_close(s);
			return 0;
		}
		s->out_off += (size_t)w;
	}
	if (s->out_len)
		out_sent(s);
	loop_io_events(s->x->lp, s->io, POLLIN);
	return 1;
}

/* One finished message, queued and written: TCP as a byte stream (possibly
 * in pieces), UDP as one datagram. */
struct out_counts {
	uint64_t records, packets, octets;  /* flow records and what they carry */
	uint64_t data;                      /* data records, flow and options */
	uint64_t trecs[2 * MAX_TEMPLATES];  /* data records per template position */
};

static void emit(struct session *s, const uint8_t *msg, size_t len, const struct out_counts *c)
{
	memcpy(s->out, msg, len);
	s->out_len = len;
	s->out_off = 0;
	if (c) {
		s->out_records = c->records;
		s->out_packets = c->packets;
		s->out_octets = c->octets;
		s->out_data = c->data;
		memcpy(s->out_trecs, c->trecs, sizeof(s->out_trecs));
	}
	flush_out(s);
}

static void on_io(void *arg, short revents)
{
	struct session *s = arg;
	int err = 0;
	socklen_t len = sizeof(err);
	char sink[512];

	if (s->st.state == IPFIX_CONNECTING) {
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

	ipfix_msg_init(&m, x->msg, s->msg_max);
	while ((t = template_at(x, s, s->next_template)) != NULL) {
		if (ipfix_msg_template(&m, t) < 0)
			break;
		if (t->scope)
			s->st.opt_templates++;
		else
			s->st.templates++;
		template_sent(s, s->next_template);
		s->next_template++;
	}
	emit(s, x->msg, ipfix_msg_finish(&m, export_time(), s->st.seq, x->cfg.domain), NULL);
	if (template_at(x, s, s->next_template))
		return;
	s->need_templates = 0;
	s->next_template = 0;
	s->templates_due_ms = now_ms() + s->cfg.template_refresh_ms;
}

static void send_stats(struct ipfix_exporter *x, struct session *s)
{
	struct ipfix_stats_in in;
	struct ipfix_loss loss = { 0, 0, 0, 0 };
	struct ipfix_values v;
	struct ipfix_msg m;

	if (x->src.loss)
		x->src.loss(x->src.arg, &loss);
	memset(&in, 0, sizeof(in));
	in.odid = x->cfg.domain;
	in.exporting_process_id = x->epid;
	in.messages = s->st.messages;
	in.records = s->st.records;
	in.octets = s->st.octets;
	in.notsent_flows = s->st.notsent_flows;
	in.notsent_packets = s->st.notsent_packets;
	in.notsent_octets = s->st.notsent_octets;
	in.first_drop_ms = s->st.first_drop_ms;
	in.last_drop_ms = s->st.last_drop_ms;
	in.events_lost = loss.events_lost;
	in.overruns = loss.overruns;
	in.ended_unobserved = loss.ended_unobserved;
	in.rejected = loss.rejected;
	in.now_ms = now_ms();
	memset(&v, 0, sizeof(v));
	ipfix_opt_values(&in, &v);
	struct out_counts c;

	memset(&c, 0, sizeof(c));
	ipfix_msg_init(&m, x->msg, s->msg_max);
	for (size_t i = 0; i < s->nopt; i++)
		if (ipfix_msg_record(&m, x->opt_t[i], &v) == 0)
			c.trecs[x->ndata + i]++;
	uint32_t recs = m.records;

	/* not flow records (exportedFlowRecordTotalCount counts those), but data
	 * records all the same: they advance the sequence number */
	c.data = recs;
	emit(s, x->msg, ipfix_msg_finish(&m, export_time(), s->st.seq, x->cfg.domain), &c);
	s->st.seq += recs;
	s->need_stats = 0;
}

static void send_data(struct ipfix_exporter *x, struct session *s)
{
	struct ipfix_values v;
	struct ipfix_msg m;
	const struct ipfix_flowrec *r;
	struct out_counts c;

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
	uint32_t recs = m.records;

	c.records = c.data = recs;
	emit(s, x->msg, ipfix_msg_finish(&m, export_time(), s->st.seq, x->cfg.domain), &c);
	s->st.seq += recs;
}

/* 1 when the session has more to send right now. */
static int session_pump(struct ipfix_exporter *x, struct session *s, uint64_t now)
{
	if (s->st.state == IPFIX_DOWN && now >= s->reconnect_at_ms)
		session_connect(s);
	if (s->st.state != IPFIX_UP || !flush_out(s))
		return 0;
	if (!s->cfg.tcp && now >= s->templates_due_ms)
		s->need_templates = 1;
	for (int i = 0; i < PUMP_MESSAGES && s->st.state == IPFIX_UP; i++) {
		if (s->need_templates)
			send_templates(x, s);
		else if (s->need_stats)
			send_stats(x, s);
		else if (s->count)
			send_data(x, s);
		else
			break;
		if (s->out_len) /* socket buffer full: wait for POLLOUT */
			return 0;
	}
	return s->st.state == IPFIX_UP && (s->need_templates || s->need_stats || s->count);
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

		s->st.rate = s->st.octets - s->rate_base;
		s->rate_base = s->st.octets;
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
	s->ring = calloc(s->cfg.buffer, sizeof(*s->ring));
	s->out = malloc(TCP_MSG_MAX);
	return s->ring && s->out ? 0 : -1;
}

struct ipfix_exporter *ipfix_exporter_new(const struct ipfix_cfg *cfg, struct loop *lp,
					  const struct ipfix_source *src)
{
	struct ipfix_exporter *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->cfg = *cfg;
	x->lp = lp;
	if (src)
		x->src = *src;
	x->epid = (uint32_t)getpid();
	x->ndata = ipfix_rec_templates(cfg->enterprise_ies, x->data_t, MAX_TEMPLATES);
	x->nopt = ipfix_opt_templates(x->opt_t, MAX_TEMPLATES);
	x->s = calloc(cfg->ncollectors ? cfg->ncollectors : 1, sizeof(*x->s));
	x->t_pump = loop_timer_add(lp, on_pump, x);
	x->t_stats = loop_timer_add(lp, on_stats, x);
	x->t_rate = loop_timer_add(lp, on_rate, x);
	x->meter.start_ms = loop_now(lp);
	if (!x->s || x->t_pump < 0 || x->t_stats < 0 || x->t_rate < 0)
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

		if (s->st.state == IPFIX_UP)
			session_pump(x, s, now_ms()); /* best effort, never blocks */
		if (s->fd >= 0) {
			if (s->io >= 0)
				loop_io_del(x->lp, s->io);
			close(s->fd);
		}
		free(s->ring);
		free(s->out);
	}
	if (x->t_pump >= 0)
		loop_timer_disarm(x->lp, x->t_pump);
	if (x->t_stats >= 0)
		loop_timer_disarm(x->lp, x->t_stats);
	if (x->t_rate >= 0)
		loop_timer_disarm(x->lp, x->t_rate);
	free(x->s);
	free(x);
}

void ipfix_exporter_slice(struct ipfix_exporter *x, const struct slice *s)
{
	struct ipfix_flowrec r;

	ipfix_rec_from_slice(s, &r);
	x->meter.records++;
	x->meter.packets += r.packets[0] + r.packets[1];
	for (size_t i = 0; i < x->n; i++)
		ring_push(&x->s[i], &r);
}

uint64_t ipfix_exporter_pending(const struct ipfix_exporter *x)
{
	uint64_t n = 0;

	for (size_t i = 0; i < x->n; i++)
		if (x->s[i].st.state == IPFIX_UP)
			n += x->s[i].count + x->s[i].out_records + (x->s[i].out_len > 0);
	return n;
}

void ipfix_exporter_abandon(struct ipfix_exporter *x)
{
	for (size_t i = 0; i < x->n; i++) {
		struct session *s = &x->s[i];
		const struct ipfix_flowrec *r;
		uint64_t n = s->count;

		while ((r = ring_peek(s)) != NULL) {
			drop_record(s, r);
			ring_pop(s);
		}
		if (n)
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

	*out = s->st;
	out->buffered = s->count;
	out->packets = s->cfg.tcp ? s->tcp_segs + tcp_segs_now(s) : s->st.messages;
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
	if (x)
		*out = x->meter;
	else
		memset(out, 0, sizeof(*out));
}
