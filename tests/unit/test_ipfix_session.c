/*
 * test_ipfix_session: one IPFIX session's logic without sockets, against a
 * fake transport that takes what it is told to (all, part, nothing), loses
 * datagrams, breaks connections, and acknowledges bytes as told.  The fake
 * collector reassembles the byte stream of each connection and reads only
 * what was acknowledged, so what it holds is what a collector can have read.
 *
 * Checked: templates come first on every transport session; sequence
 * numbers count the data records before each message, from 0 on each TCP
 * connection; a message cut by a broken connection goes again, whole, with
 * the new connection's sequence number; what was written but never
 * acknowledged when a connection breaks is counted as not sent; and at
 * every step records generated = sent + not sent + waiting, while the
 * collector has read exactly the records counted as sent.
 */
#include <stdlib.h>
#include <string.h>

#include "ipfix_check.h"
#include "ipfix_session.h"
#include "tap.h"

#define TAP_NAME "test_ipfix_session"

enum mode { TAKE_ALL, TAKE_PART, TAKE_NONE, LOSE, BREAK };

/* The transport, and the collector at its far end. */
struct fake {
	enum mode mode;
	int tcp;
	uint8_t stream[1 << 22];     /* what this connection carried */
	size_t len;                  /* bytes written on this connection */
	size_t read;                 /* bytes the collector parsed */
	uint64_t records;            /* flow records the collector read, all connections */
	uint32_t next_seq;           /* the sequence number it expects */
	int seq_ok, templates_first, saw_template;
	struct known_template known[16];
	size_t nknown;
	int bad;
	int odd;                     /* flow messages with an odd number of records */
};

static long fake_write(void *arg, const uint8_t *p, size_t len)
{
	struct fake *f = arg;
	size_t n = len;

	switch (f->mode) {
	case TAKE_NONE: return IPFIX_LINK_WAIT;
	case LOSE: return IPFIX_LINK_LOST;
	case BREAK: return IPFIX_LINK_BROKEN;
	case TAKE_PART: n = f->tcp && len > 10 ? len / 2 : len; break;
	default: break;
	}
	if (f->len + n > sizeof(f->stream))
		return IPFIX_LINK_WAIT;
	memcpy(f->stream + f->len, p, n);
	f->len += n;
	return (long)n;
}

/* The collector reads the messages whose bytes were acknowledged. */
static void collector_read(struct fake *f, size_t acked)
{
	while (f->read + 16 <= acked) {
		const uint8_t *m = f->stream + f->read;
		size_t mlen = get16(m + 2);
		uint32_t nrec = 0, seq = (uint32_t)m[8] << 24 | m[9] << 16 | m[10] << 8 | m[11];

		if (mlen < 16 || f->read + mlen > acked)
			return;
		if (ipfix_check(m, mlen, f->known, &f->nknown, 16, &nrec) < 0)
			f->bad++;
		if (seq != f->next_seq)
			f->seq_ok = 0;
		/* a message of data records before any template: broken */
		if (nrec && !f->saw_template)
			f->templates_first = 0;
		if (get16(m + 16) == 2)
			f->saw_template = 1;
		f->next_seq += nrec;
		/* flow records: those of data sets of a data template (not 300-303) */
		if (get16(m + 16) >= 256 && (get16(m + 16) < 300 || get16(m + 16) > 303)) {
			f->records += nrec;
			f->odd += nrec % 2;
		}
		f->read += mlen;
	}
}

/* A new connection: the collector starts afresh (templates, sequence). */
static void fake_connect(struct fake *f)
{
	f->len = f->read = 0;
	f->next_seq = 0;
	f->nknown = 0;
	f->saw_template = 0;
}

static struct ipfix_common common;
static struct store *st;
static uint8_t *region;
static int uniflow;       /* the next setup's export format */
static int reduced;       /* ... and encoding */
static int both_ways;     /* push()'s records carry a reply */

static void setup(struct ipfix_session *s, int tcp, uint32_t buffer)
{
	struct ipfix_collector_cfg c;
	char err[128];

	if (!st)
		st = store_open("", 1 << 20, 4096, err, sizeof(err));
	memset(&common, 0, sizeof(common));
	common.st = st;
	common.domain = 7;
	for (unsigned mode = 0; mode < IPFIX_MODES; mode++)
		common.ndata[mode] = ipfix_rec_templates(0, mode, common.data_t[mode],
							 IPFIX_TEMPLATES_MAX);
	common.nopt = ipfix_opt_templates(common.opt_t, IPFIX_TEMPLATES_MAX);
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "t");
	snprintf(c.address, sizeof(c.address), "192.0.2.1");
	c.tcp = tcp;
	c.buffer = buffer;
	c.mtu = 1500;
	c.template_refresh_ms = 600000;
	c.uniflow = uniflow;
	c.reduced = reduced;
	free(region);
	region = calloc(1, ipfix_session_region_size(buffer));
	ipfix_session_attach(s, &common, &c, tcp ? IPFIX_MSG_MAX : 1472, region, 0);
}

static void push(struct ipfix_session *s, unsigned n)
{
	static uint32_t id;
	struct ipfix_flowrec r;

	store_begin(st);
	for (unsigned i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		r.family = 2;
		r.proto = 17;
		r.src.w[0] = 0x0100000a;
		r.dst.w[0] = 0x0200000a;
		r.sport = (uint16_t)(1000 + i);
		r.dport = 53;
		r.packets[0] = 1;
		r.octets[0] = 60;
		r.packets[1] = both_ways ? 1u : 0u;
		r.octets[1] = both_ways ? 90u : 0u;
		r.id = ++id;
		ipfix_session_push(s, &r);
	}
	store_commit(st);
}

/* Pump until the session has nothing more to write right now. */
static void pump_all(struct ipfix_session *s, const struct ipfix_link *l)
{
	while (ipfix_session_pump(s, l, 64) == IPFIX_PUMP_MORE)
		;
}

static void templates_then_data_with_sequence_numbers(void)
{
	struct ipfix_session s;
	struct fake *f = calloc(1, sizeof(*f));
	const struct ipfix_link l = { fake_write, f };
	struct ipfix_session_stats ss;

	setup(&s, 0, 1000);
	f->tcp = 0;
	f->seq_ok = f->templates_first = 1;
	push(&s, 300);
	ipfix_session_up(&s);
	pump_all(&s, &l);
	collector_read(f, f->len);
	ipfix_session_get_stats(&s, &ss);
	CHECK_EQ_U(f->bad, 0);
	CHECK(f->seq_ok && f->templates_first);
	CHECK_EQ_U(f->records, 300);
	CHECK_EQ_U(ss.records, 300);
	CHECK(ss.templates >= 1);
	/* a lost datagram: counted as discarded, its records as not sent */
	push(&s, 10);
	f->mode = LOSE;
	ipfix_session_pump(&s, &l, 64);
	ipfix_session_get_stats(&s, &ss);
	CHECK_EQ_U(ss.notsent_flows, 10);
	CHECK(ss.discarded_messages >= 1);
	free(f);
}

/*
 * UDP after a restart, on the state kept: the collector may have lost every
 * template meanwhile (it restarted, or its templates timed out), so the
 * first datagrams announce them all before any data, and the records that
 * waited across the restart follow, with the sequence numbers going on.
 * In the reduced encoding (12 data templates) the announcement may take two
 * datagrams: data still waits for both.
 */
static void udp_announces_templates_first_after_a_restart(void)
{
	struct ipfix_session s;
	struct fake *f = calloc(1, sizeof(*f)), *g = calloc(1, sizeof(*g));
	const struct ipfix_link lf = { fake_write, f }, lg = { fake_write, g };
	struct ipfix_collector_cfg c;

	reduced = 1;
	setup(&s, 0, 1000);
	c = s.cfg;
	f->seq_ok = f->templates_first = 1;
	push(&s, 50);
	ipfix_session_up(&s);
	pump_all(&s, &lf);
	collector_read(f, f->len);
	CHECK(f->seq_ok && f->templates_first);
	CHECK_EQ_U(f->records, 50);
	CHECK_EQ_U(f->nknown, 12);
	push(&s, 20); /* they wait: the restart comes first */
	ipfix_session_attach(&s, &common, &c, 1472, region, 1);
	g->seq_ok = g->templates_first = 1;
	g->next_seq = f->next_seq;
	ipfix_session_up(&s);
	pump_all(&s, &lg);
	collector_read(g, g->len);
	CHECK_EQ_U(g->bad, 0);
	CHECK(g->templates_first && g->seq_ok);
	CHECK_EQ_U(g->nknown, 12);
	CHECK_EQ_U(g->records, 20);
	CHECK(g->len > 16 && get16(g->stream + 16) == 2); /* a template set first */
	reduced = 0;
	free(f);
	free(g);
}

/* TCP: written is not sent until acknowledged; a break loses what was not. */
static void unacknowledged_messages_are_not_sent(void)
{
	struct ipfix_session s;
	struct fake *f = calloc(1, sizeof(*f));
	const struct ipfix_link l = { fake_write, f };
	struct ipfix_session_stats ss;

	setup(&s, 1, 100000);
	f->tcp = 1;
	f->seq_ok = f->templates_first = 1;
	ipfix_session_up(&s);
	push(&s, 5000);
	pump_all(&s, &l);
	ipfix_session_get_stats(&s, &ss);
	CHECK_EQ_U(ss.records, 0);            /* all written, none acknowledged */
	CHECK_EQ_U(ipfix_session_pending(&s) >= 1, 1);
	size_t half = f->len / 2;

	ipfix_session_acked(&s, half);
	collector_read(f, half);
	ipfix_session_get_stats(&s, &ss);
	CHECK_EQ_U(ss.records, f->records);   /* sent = what the collector can read */
	CHECK(f->records > 0 && f->records < 5000);
	/* the collector resets: the rest was never acknowledged */
	ipfix_session_down(&s, half);
	ipfix_session_get_stats(&s, &ss);
	CHECK_EQ_U(ss.records + ss.notsent_flows, 5000);
	CHECK_EQ_U(ss.notsent_flows, 5000 - f->records);
	CHECK_EQ_U(f->bad, 0);
	CHECK(f->seq_ok && f->templates_first);
	free(f);
}

/* Any mix of partial writes, waits, breaks and acknowledgements: the books
 * balance at every step, and in the end the collector read what was sent. */
static void the_books_balance_under_any_transport(void)
{
	struct ipfix_session s;
	struct fake *f = calloc(1, sizeof(*f));
	const struct ipfix_link l = { fake_write, f };
	struct ipfix_session_stats ss;
	uint64_t generated = 0;
	int up = 0;

	srand(7);
	setup(&s, 1, 2000);
	f->tcp = 1;
	f->seq_ok = f->templates_first = 1;
	for (int step = 0; step < 4000; step++) {
		int r = rand() % 100;

		if (r < 50) {
			unsigned n = (unsigned)(rand() % 300);

			push(&s, n);
			generated += n;
		}
		if (!up && r % 7 == 0) {
			fake_connect(f);
			ipfix_session_up(&s);
			up = 1;
		}
		f->mode = r < 60 ? TAKE_ALL : r < 80 ? TAKE_PART : r < 92 ? TAKE_NONE : BREAK;
		if (up) {
			enum ipfix_pump rc = ipfix_session_pump(&s, &l, 2);
			size_t ack = f->read + (size_t)rand() % (f->len - f->read + 1);

			ipfix_session_acked(&s, ack);
			collector_read(f, ack);
			if (rc == IPFIX_PUMP_BROKEN) {
				ipfix_session_down(&s, ack);
				up = 0;
			}
		}
		ipfix_session_get_stats(&s, &ss);
		if (ss.records + ss.notsent_flows + ipfix_session_records_held(&s) != generated) {
			CHECK_EQ_U(ss.records + ss.notsent_flows + ipfix_session_records_held(&s),
				   generated);
			break;
		}
		/* and what counts as sent is what the collector read */
		if (ss.records != f->records) {
			CHECK_EQ_U(ss.records, f->records);
			break;
		}
	}
	/* a connection that takes everything, acknowledged */
	if (!up) {
		fake_connect(f);
		ipfix_session_up(&s);
	}
	f->mode = TAKE_ALL;
	for (int i = 0; i < 1000 && ipfix_session_pending(&s); i++) {
		ipfix_session_pump(&s, &l, 64);
		ipfix_session_acked(&s, f->len);
		collector_read(f, f->len);
	}
	ipfix_session_get_stats(&s, &ss);
	CHECK_EQ_U(ipfix_session_pending(&s), 0);
	CHECK_EQ_U(ss.records + ss.notsent_flows, generated);
	CHECK_EQ_U(ss.records, f->records);
	CHECK_EQ_U(f->bad, 0);
	CHECK(f->seq_ok && f->templates_first);
	printf("  # %llu generated: %llu sent and read, %llu not sent (%llu connections)\n",
	       (unsigned long long)generated, (unsigned long long)ss.records,
	       (unsigned long long)ss.notsent_flows, (unsigned long long)ss.connects);
	free(f);
}

/*
 * Uniflow: a slice with traffic both ways is two records, in the same
 * message always (the pair never split), counted as two flow records in
 * the statistics and in the sequence numbers; one way only, one record.
 */
static void uniflow_sends_a_record_per_direction(void)
{
	struct ipfix_session s;
	struct fake *f = calloc(1, sizeof(*f));
	const struct ipfix_link l = { fake_write, f };
	struct ipfix_session_stats ss;

	uniflow = both_ways = 1;
	setup(&s, 0, 1000);
	f->seq_ok = f->templates_first = 1;
	push(&s, 301); /* more than a datagram holds: the pairs must not split */
	ipfix_session_up(&s);
	pump_all(&s, &l);
	collector_read(f, f->len);
	ipfix_session_get_stats(&s, &ss);
	CHECK_EQ_U(f->bad, 0);
	CHECK(f->seq_ok && f->templates_first);
	CHECK_EQ_U(f->records, 602);
	CHECK_EQ_U(f->odd, 0);
	CHECK_EQ_U(ss.records, 602);
	CHECK_EQ_U(ipfix_session_template(&s, 0)->id, 264);
	both_ways = 0;
	push(&s, 5);
	pump_all(&s, &l);
	collector_read(f, f->len);
	CHECK_EQ_U(f->records, 607);
	/* a lost datagram: its flow records, two a slice, not sent */
	both_ways = 1;
	push(&s, 10);
	f->mode = LOSE;
	ipfix_session_pump(&s, &l, 64);
	ipfix_session_get_stats(&s, &ss);
	CHECK_EQ_U(ss.notsent_flows, 20);
	uniflow = both_ways = 0;
	free(f);
}

/* TCP, at an orderly end: one message withdrawing every template, after
 * the data; the templates are no longer live (IPFIX-MIB drops their rows).
 * UDP: none (RFC 7011 8.1: withdrawals are for reliable transports). */
static void templates_are_withdrawn_at_an_orderly_tcp_end(void)
{
	struct ipfix_session s;
	struct fake *f = calloc(1, sizeof(*f));
	const struct ipfix_link l = { fake_write, f };
	struct ipfix_session_stats ss;

	setup(&s, 1, 1000);
	f->tcp = 1;
	f->seq_ok = f->templates_first = 1;
	ipfix_session_up(&s);
	push(&s, 20);
	pump_all(&s, &l);
	size_t before = f->len;

	CHECK(s.tmpl[0].live);
	size_t live = 0;

	for (size_t p = 0; ipfix_session_template(&s, p); p++)
		live += s.tmpl[p].live != 0;
	CHECK(ipfix_session_withdraw(&s, &l) == 0);
	/* header and one set withdrawing the live data templates (no options
	 * template was announced: this session sends no statistics) */
	CHECK_EQ_U(f->len - before, 20 + 4 * live);
	CHECK_EQ_U(get16(f->stream + before + 16), 2);
	CHECK_EQ_U(get16(f->stream + before + 20), 256);
	collector_read(f, f->len);
	ipfix_session_get_stats(&s, &ss);
	CHECK_EQ_U(f->bad, 0);
	CHECK(f->seq_ok);
	CHECK_EQ_U(f->nknown, 0); /* the collector forgot them */
	CHECK(!s.tmpl[0].live);
	free(f);

	f = calloc(1, sizeof(*f));
	const struct ipfix_link lu = { fake_write, f };

	setup(&s, 0, 1000);
	ipfix_session_up(&s);
	CHECK(ipfix_session_withdraw(&s, &lu) < 0);
	CHECK_EQ_U(f->len, 0);
	free(f);
}

int main(void)
{
	RUN(templates_then_data_with_sequence_numbers);
	RUN(udp_announces_templates_first_after_a_restart);
	RUN(unacknowledged_messages_are_not_sent);
	RUN(the_books_balance_under_any_transport);
	RUN(uniflow_sends_a_record_per_direction);
	RUN(templates_are_withdrawn_at_an_orderly_tcp_end);
	free(region);
	store_close(st);
	TAP_DONE();
}
