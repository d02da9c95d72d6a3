/*
 * test_ipfix: the IPFIX encoder and the conntrack mapping against bytes
 * written out by hand from RFC 7011 and RFC 5103, not computed by the code
 * under test.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "ipfix_check.h"
#include "ipfix_rec.h"
#include "tap.h"

#define TAP_NAME "test_ipfix"

static int same_bytes(const uint8_t *got, const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (got[i] != want[i]) {
			printf("  # byte %zu: got %02x, want %02x\n", i, got[i], want[i]);
			return 0;
		}
	}
	return 1;
}

/* A DNAT'd TCP flow: 10.0.0.1:40000 -> 192.0.2.1:8080, really 10.1.0.5:80. */
static struct ct_flow dnat_flow(void)
{
	struct ct_flow f;

	memset(&f, 0, sizeof(f));
	f.family = AF_INET;
	f.kind = CT_MSG_FLOW_DESTROY;
	f.id = 0x01020304;
	f.has = CT_HAS_COUNTERS | CT_HAS_START | CT_HAS_STOP | CT_HAS_TCP_STATE;
	f.tcp_state = 7; /* TIME_WAIT */
	inet_pton(AF_INET, "10.0.0.1", f.tuple[CT_ORIG].src.b);
	inet_pton(AF_INET, "192.0.2.1", f.tuple[CT_ORIG].dst.b);
	inet_pton(AF_INET, "10.1.0.5", f.tuple[CT_REPLY].src.b);
	inet_pton(AF_INET, "10.0.0.1", f.tuple[CT_REPLY].dst.b);
	f.tuple[CT_ORIG].proto = f.tuple[CT_REPLY].proto = 6;
	f.tuple[CT_ORIG].sport = 40000;
	f.tuple[CT_ORIG].dport = 8080;
	f.tuple[CT_REPLY].sport = 80;
	f.tuple[CT_REPLY].dport = 40000;
	f.start_ns = 1700000000123000000ull;
	f.stop_ns = 1700000005456000000ull;
	return f;
}

/* Its whole life as one slice: 0x1122334455 octets (above 2^32) in 7
 * packets one way, 300 in 5 the other. */
static void dnat_slice(const struct ct_flow *f, struct ipfix_flowrec *r)
{
	struct slice s;

	memset(&s, 0, sizeof(s));
	s.flow = f;
	s.flags = SLICE_START | SLICE_END;
	s.reason = SLICE_DESTROY;
	s.time_ns = f->stop_ns;
	s.bytes[0] = 0x1122334455ull;
	s.pkts[0] = 7;
	s.bytes[1] = 300;
	s.pkts[1] = 5;
	ipfix_rec_from_slice(&s, r);
}

static void dnat_flow_encodes_to_rfc_bytes(void)
{
	struct ct_flow f = dnat_flow();
	struct ipfix_flowrec r;
	struct ipfix_values v;
	struct ipfix_msg m;
	uint8_t buf[512];

	dnat_slice(&f, &r);
	CHECK_EQ_U(r.nat, 1);
	CHECK_EQ_U(r.reason, END_OF_FLOW);
	const struct ipfix_template *t = ipfix_rec_template(&r, 0, 0);

	CHECK_EQ_U(t->id, 257);
	memset(&v, 0, sizeof(v));
	ipfix_rec_values(&r, 0, &v);
	ipfix_msg_init(&m, buf, sizeof(buf));
	CHECK(ipfix_msg_record(&m, t, &v) == 0);
	size_t len = ipfix_msg_finish(&m, 0x65000000, 42, 7);
	static const uint8_t want[] = {
		0x00, 0x0a, 0x00, 0x65,             /* version 10, length 16 + 4 + 81 */
		0x65, 0x00, 0x00, 0x00,             /* export time */
		0x00, 0x00, 0x00, 0x2a,             /* sequence 42 */
		0x00, 0x00, 0x00, 0x07,             /* observation domain 7 */
		0x01, 0x01, 0x00, 0x55,             /* data set 257, length 4 + 81 */
		10, 0, 0, 1, 192, 0, 2, 1,          /* sourceIPv4Address, destinationIPv4Address */
		0x9c, 0x40, 0x1f, 0x90,             /* ports 40000, 8080 */
		6, 0x00, 0x00,                      /* protocolIdentifier, icmpTypeCodeIPv4 */
		0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, /* octetDeltaCount */
		0, 0, 0, 0, 0, 0, 0, 7,             /* packetDeltaCount */
		0, 0, 0, 0, 0, 0, 0x01, 0x2c,       /* reverse octetDeltaCount (300) */
		0, 0, 0, 0, 0, 0, 0, 5,             /* reverse packetDeltaCount */
		0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b, /* flowStartMilliseconds 1700000000123 */
		0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x7d, 0x50, /* flowEndMilliseconds 1700000005456 */
		3,                                  /* flowEndReason: end of flow detected */
		0x01, 0x02, 0x03, 0x04,             /* flowId = conntrack id, reduced to 4 */
		1,                                  /* biflowDirection: initiator */
		10, 0, 0, 1, 10, 1, 0, 5,           /* postNATSource/DestinationIPv4Address */
		0x9c, 0x40, 0x00, 0x50,             /* postNAPT ports 40000, 80 */
	};
	CHECK_EQ_U(len, sizeof(want));
	CHECK(len == sizeof(want) && same_bytes(buf, want, len));
	CHECK_EQ_U(m.records, 1);
}

static void template_set_is_rfc_bytes(void)
{
	static const struct ipfix_field f[] = {
		{ 8, 4, 0, 0, IPFIX_BYTES, 1 }, { 1, 4, 0, 1, IPFIX_UINT, 0 },
		{ 1, 8, IPFIX_PEN_REVERSE, 2, IPFIX_UINT, 0 },
	};
	const struct ipfix_template t = { 300, 3, 0, f };
	struct ipfix_msg m;
	uint8_t buf[128];
	static const uint8_t want[] = {
		0x00, 0x0a, 0x00, 0x28, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x02, 0x00, 0x18,             /* template set, length 4 + 4 + 16 */
		0x01, 0x2c, 0x00, 0x03,             /* template 300, 3 fields */
		0x00, 0x08, 0x00, 0x04,             /* sourceIPv4Address, 4 */
		0x00, 0x01, 0x00, 0x04,             /* octetDeltaCount, reduced to 4 */
		0x80, 0x01, 0x00, 0x08, 0x00, 0x00, 0x72, 0x79, /* reverse octetDeltaCount, PEN 29305 */
	};

	ipfix_msg_init(&m, buf, sizeof(buf));
	CHECK(ipfix_msg_template(&m, &t) == 0);
	CHECK_EQ_U(ipfix_msg_finish(&m, 1, 0, 0), sizeof(want));
	CHECK(same_bytes(buf, want, sizeof(want)));
	CHECK_EQ_U(m.records, 0); /* templates do not count in the sequence */
}

static void reduced_size_keeps_the_low_octets(void)
{
	static const struct ipfix_field f[] = { { 1, 4, 0, 0, IPFIX_UINT, 0 } };
	const struct ipfix_template t = { 400, 1, 0, f };
	struct ipfix_values v;
	struct ipfix_msg m;
	uint8_t buf[64];

	memset(&v, 0, sizeof(v));
	v.u[0] = 0xdeadbeefu;
	ipfix_msg_init(&m, buf, sizeof(buf));
	CHECK(ipfix_msg_record(&m, &t, &v) == 0);
	ipfix_msg_finish(&m, 0, 0, 0);
	CHECK(buf[20] == 0xde && buf[21] == 0xad && buf[22] == 0xbe && buf[23] == 0xef);
}

static void options_templates_get_a_set_each_without_padding(void)
{
	const struct ipfix_template *opt[4];
	size_t n = ipfix_opt_templates(opt, 4);
	struct ipfix_msg m;
	uint8_t buf[1024];
	struct known_template known[8];
	size_t nknown = 0;
	uint32_t nrec;

	CHECK_EQ_U(n, 3);
	ipfix_msg_init(&m, buf, sizeof(buf));
	for (size_t i = 0; i < n; i++)
		CHECK(ipfix_msg_template(&m, opt[i]) == 0);
	size_t len = ipfix_msg_finish(&m, 0, 0, 0);
	size_t off = 16, sets = 0;

	while (off < len) {
		uint16_t slen = get16(buf + off + 2);

		CHECK_EQ_U(get16(buf + off), 3);
		/* exactly one options template record, no padding */
		CHECK_EQ_U(slen, 4 + ipfix_template_len(opt[sets]));
		CHECK(get16(buf + off + 8) >= 1); /* scope field count */
		off += slen;
		sets++;
	}
	CHECK_EQ_U(sets, 3);
	CHECK(ipfix_check(buf, len, known, &nknown, 8, &nrec) == 0);
	CHECK_EQ_U(nknown, 3);
}

static void records_never_overflow_the_message(void)
{
	const struct ipfix_template *tt[8];
	size_t nt = ipfix_rec_templates(1, 0, tt, 8);
	struct ipfix_values v;
	struct ipfix_msg m;
	uint8_t buf[1472];
	struct known_template known[16];
	int bad = 0;

	memset(&v, 0, sizeof(v));
	for (size_t cap = 16; cap <= sizeof(buf); cap += 37) {
		size_t nknown = 0;
		uint32_t nrec;
		size_t added = 0;

		ipfix_msg_init(&m, buf, cap);
		for (size_t i = 0; i < nt; i++)
			ipfix_msg_template(&m, tt[i]);
		for (int i = 0; i < 100; i++)
			added += ipfix_msg_record(&m, tt[i % nt], &v) == 0;
		size_t len = ipfix_msg_finish(&m, 0, 0, 0);

		if (len > cap || ipfix_check(buf, len, known, &nknown, 16, &nrec) != 0 ||
		    nrec != m.records || nrec != added)
			bad++;
	}
	CHECK_EQ_U(bad, 0);
}

static void unobserved_and_interim_slices_carry_their_end_reason(void)
{
	struct ct_flow f = dnat_flow();
	struct slice s;
	struct ipfix_flowrec r;

	memset(&s, 0, sizeof(s));
	s.flow = &f;
	s.time_ns = f.stop_ns;
	s.reason = SLICE_INTERIM;
	ipfix_rec_from_slice(&s, &r);
	CHECK_EQ_U(r.reason, END_ACTIVE);
	s.reason = SLICE_UNOBSERVED;
	ipfix_rec_from_slice(&s, &r);
	CHECK_EQ_U(r.reason, END_LACK_OF_RESOURCES);
	f.tuple[CT_ORIG].proto = 17;
	s.reason = SLICE_DESTROY;
	ipfix_rec_from_slice(&s, &r);
	CHECK_EQ_U(r.reason, END_IDLE);
}

static void plain_ipv6_icmp_uses_the_v6_template(void)
{
	struct ct_flow f;
	struct slice s;
	struct ipfix_flowrec r;

	memset(&f, 0, sizeof(f));
	f.family = AF_INET6;
	inet_pton(AF_INET6, "fd00::1", f.tuple[CT_ORIG].src.b);
	inet_pton(AF_INET6, "fd00::2", f.tuple[CT_ORIG].dst.b);
	f.tuple[CT_REPLY].src = f.tuple[CT_ORIG].dst;
	f.tuple[CT_REPLY].dst = f.tuple[CT_ORIG].src;
	f.tuple[CT_ORIG].proto = 58;
	f.tuple[CT_ORIG].icmp_type = 128;
	memset(&s, 0, sizeof(s));
	s.flow = &f;
	ipfix_rec_from_slice(&s, &r);
	CHECK_EQ_U(r.nat, 0);
	CHECK_EQ_U(r.icmp, 128 << 8);
	CHECK_EQ_U(ipfix_rec_template(&r, 0, 0)->id, 258);
	CHECK_EQ_U(ipfix_rec_template(&r, 1, 0)->id, 262);
}

/*
 * Uniflow: the DNAT'd flow as two records of template 265 (standard IEs
 * only), the reply direction's with the tuples turned around: the server's
 * answer from 192.0.2.1:8080 (really 10.1.0.5:80) to 10.0.0.1:40000.
 */
static void uniflow_reply_record_is_the_turned_tuple(void)
{
	struct ct_flow f = dnat_flow();
	struct ipfix_flowrec r;
	struct ipfix_values v;
	struct ipfix_msg m;
	uint8_t buf[512];

	dnat_slice(&f, &r);
	const struct ipfix_template *t = ipfix_rec_template(&r, 0, 1);

	CHECK_EQ_U(t->id, 265);
	for (unsigned i = 0; i < t->nfields; i++)
		CHECK(t->f[i].pen == 0 && t->f[i].ie != 239); /* no enterprise IE, no biflowDirection */
	CHECK_EQ_U(ipfix_rec_uni_dirs(&r), 3);
	CHECK_EQ_U(ipfix_rec_wire_len(&r, 0, 1), 2 * ipfix_record_len(t));
	CHECK_EQ_U(ipfix_rec_wire_len(&r, 0, 0), ipfix_record_len(ipfix_rec_template(&r, 0, 0)));
	memset(&v, 0, sizeof(v));
	ipfix_rec_values(&r, 1, &v);
	ipfix_msg_init(&m, buf, sizeof(buf));
	CHECK(ipfix_msg_record(&m, t, &v) == 0);
	size_t len = ipfix_msg_finish(&m, 0x65000000, 42, 7);
	static const uint8_t want[] = {
		0x00, 0x0a, 0x00, 0x54,             /* version 10, length 16 + 4 + 64 */
		0x65, 0x00, 0x00, 0x00,             /* export time */
		0x00, 0x00, 0x00, 0x2a,             /* sequence 42 */
		0x00, 0x00, 0x00, 0x07,             /* observation domain 7 */
		0x01, 0x09, 0x00, 0x44,             /* data set 265, length 4 + 64 */
		192, 0, 2, 1, 10, 0, 0, 1,          /* source: the original destination */
		0x1f, 0x90, 0x9c, 0x40,             /* ports 8080, 40000 */
		6, 0x00, 0x00,                      /* protocolIdentifier, icmpTypeCodeIPv4 */
		0, 0, 0, 0, 0, 0, 0x01, 0x2c,       /* octetDeltaCount: the reply's 300 */
		0, 0, 0, 0, 0, 0, 0, 5,             /* packetDeltaCount: 5 */
		0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b, /* flowStartMilliseconds */
		0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x7d, 0x50, /* flowEndMilliseconds */
		3,                                  /* flowEndReason */
		0x01, 0x02, 0x03, 0x04,             /* flowId: the same as the original's */
		10, 1, 0, 5, 10, 0, 0, 1,           /* postNAT source 10.1.0.5, destination 10.0.0.1 */
		0x00, 0x50, 0x9c, 0x40,             /* postNAPT ports 80, 40000 */
	};
	CHECK_EQ_U(len, sizeof(want));
	CHECK(len == sizeof(want) && same_bytes(buf, want, len));

	/* only the reply carried traffic: one record, the reply's; none did: the original's */
	r.octets[0] = r.packets[0] = 0;
	CHECK_EQ_U(ipfix_rec_uni_dirs(&r), 2);
	CHECK_EQ_U(ipfix_rec_wire_len(&r, 0, 1), ipfix_record_len(t));
	r.octets[1] = r.packets[1] = 0;
	CHECK_EQ_U(ipfix_rec_uni_dirs(&r), 1);
	/* every uniflow template has an id of its own, none a biflow one */
	const struct ipfix_template *bi[8], *uni[8];
	size_t nb = ipfix_rec_templates(1, 0, bi, 8), nu = ipfix_rec_templates(1, 1, uni, 8);

	CHECK_EQ_U(nb, nu);
	for (size_t i = 0; i < nu; i++)
		for (size_t j = 0; j < nb; j++)
			CHECK(uni[i]->id != bi[j]->id);
}

/* RFC 7011 8.1: withdrawals are template records with no field; data
 * templates share a template set, options ones an options template set. */
static void withdrawal_of_templates_is_rfc_bytes(void)
{
	const struct ipfix_template *d[8], *o[8];
	struct ipfix_msg m;
	uint8_t buf[64];

	ipfix_rec_templates(0, 0, d, 8);
	ipfix_opt_templates(o, 8);
	ipfix_msg_init(&m, buf, sizeof(buf));
	CHECK(ipfix_msg_withdraw(&m, d[0]) == 0 && ipfix_msg_withdraw(&m, d[1]) == 0);
	CHECK(ipfix_msg_withdraw(&m, o[0]) == 0);
	size_t len = ipfix_msg_finish(&m, 0x65000000, 9, 7);
	static const uint8_t want[] = {
		0x00, 0x0a, 0x00, 0x24, 0x65, 0x00, 0x00, 0x00, /* version, length 36, time */
		0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x07, /* sequence 9 (unchanged), domain */
		0x00, 0x02, 0x00, 0x0c,                         /* template set, length 12 */
		0x01, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, /* 256 and 257, no field */
		0x00, 0x03, 0x00, 0x08, 0x01, 0x2c, 0x00, 0x00, /* options set: 300, no field */
	};
	CHECK_EQ_U(len, sizeof(want));
	CHECK(len == sizeof(want) && same_bytes(buf, want, len));
	CHECK_EQ_U(m.records, 0);
	ipfix_msg_init(&m, buf, 16 + 4);
	CHECK(ipfix_msg_withdraw(&m, d[0]) < 0); /* no room */
}

/* No id means two things: every template ctflowd can send, in any
 * configuration (biflow, uniflow, full or reduced counters, with or
 * without enterprise IEs), has an id of its own (a reload or an upgrade
 * never redefines an id a collector knows). */
static void every_template_id_has_one_content(void)
{
	const struct ipfix_template *all[120];
	size_t n = 0, distinct = 0;

	for (int e = 0; e < 2; e++)
		for (unsigned mode = 0; mode < IPFIX_MODES; mode++)
			n += ipfix_rec_templates(e, mode, all + n, 16);
	n += ipfix_opt_templates(all + n, 8);
	CHECK_EQ_U(n, 2 * (4 + 4 + 12 + 12) + 3);
	for (size_t i = 0; i < n; i++) {
		int first = 1;

		for (size_t j = 0; j < i; j++) {
			CHECK(all[i]->id != all[j]->id || all[i] == all[j]);
			first &= all[i] != all[j];
		}
		distinct += first;
	}
	CHECK_EQ_U(distinct, 3 * 16 + 3);
}

/* Reduced-size encoding: a slice's counters in the narrowest width that
 * holds all of them, each width with its own templates; the values are the
 * same, only shorter on the wire. */
static void reduced_counters_take_the_narrowest_width(void)
{
	struct ipfix_flowrec r;
	const unsigned red = IPFIX_MODE_REDUCED;

	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.octets[0] = 65535, r.octets[1] = 40, r.packets[0] = 255, r.packets[1] = 1;
	const struct ipfix_template *c = ipfix_rec_template(&r, 0, red);
	const struct ipfix_template *w = ipfix_rec_template(&r, 0, 0);

	CHECK_EQ_U(c->id, 336);
	CHECK_EQ_U(w->id, 256);
	CHECK_EQ_U(ipfix_record_len(w) - ipfix_record_len(c), 4 * 8 - (2 + 1 + 2 + 1));
	CHECK_EQ_U(ipfix_rec_template(&r, 0, red | IPFIX_MODE_UNIFLOW)->id, 344);
	r.packets[1] = 256; /* a packet counter over 255: 4 octets */
	CHECK_EQ_U(ipfix_rec_template(&r, 0, red)->id, 320);
	r.packets[1] = 1, r.octets[1] = 65536;
	CHECK_EQ_U(ipfix_rec_template(&r, 1, red)->id, 324);
	r.octets[1] = 1ull << 32; /* a fast flow's slice */
	CHECK_EQ_U(ipfix_rec_template(&r, 0, red)->id, 256);
	CHECK_EQ_U(ipfix_rec_templates(0, red, (const struct ipfix_template *[16]){ 0 }, 16), 12);

	/* the compact record: octetDeltaCount 65535 in 2 octets, packets 255 in 1 */
	struct ipfix_values v;
	struct ipfix_msg m;
	uint8_t buf[256];

	r.octets[1] = 40;
	memset(&v, 0, sizeof(v));
	ipfix_rec_values(&r, 0, &v);
	ipfix_msg_init(&m, buf, sizeof(buf));
	CHECK(ipfix_msg_record(&m, c, &v) == 0);
	size_t len = ipfix_msg_finish(&m, 0, 0, 0);
	/* header 16, set header 4, then src 4, dst 4, ports 2 + 2, proto 1, icmp 2 */
	const uint8_t *p = buf + 16 + 4 + 15;

	CHECK_EQ_U(len, 16 + 4 + ipfix_record_len(c));
	CHECK(p[0] == 0xff && p[1] == 0xff && p[2] == 0xff); /* 65535, 255 */
	CHECK(p[3] == 0 && p[4] == 40 && p[5] == 1);           /* reverse: 40, 1 */
}

int main(void)
{
	RUN(dnat_flow_encodes_to_rfc_bytes);
	RUN(template_set_is_rfc_bytes);
	RUN(reduced_size_keeps_the_low_octets);
	RUN(reduced_counters_take_the_narrowest_width);
	RUN(options_templates_get_a_set_each_without_padding);
	RUN(records_never_overflow_the_message);
	RUN(unobserved_and_interim_slices_carry_their_end_reason);
	RUN(plain_ipv6_icmp_uses_the_v6_template);
	RUN(uniflow_reply_record_is_the_turned_tuple);
	RUN(withdrawal_of_templates_is_rfc_bytes);
	RUN(every_template_id_has_one_content);
	TAP_DONE();
}
