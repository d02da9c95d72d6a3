/*
 * test_ctparse: the netlink parser against messages captured from a real
 * kernel (tests/data/destroy.hex and dump.hex, recorded by tests/data/capture-fixtures.sh) and
 * compared field by field with conntrack's own decoding of the same events
 * (tests/data/destroy.txt); then truncated and malformed variants.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "kern_ctparse.h"
#include "tap.h"

#define TAP_NAME "test_ctparse"
#define MAX_MSGS 64

struct blob {
	size_t len;
	unsigned char *b; /* 8-byte aligned, as a recv buffer is */
};

static const char *data_dir = "tests/data";

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static size_t load_hex(const char *name, struct blob *out, size_t max)
{
	char path[512];
	static char line[65536 * 2 + 2];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	f = fopen(path, "r");
	if (!f) {
		printf("  # cannot open %s\n", path);
		return 0;
	}
	while (n < max && fgets(line, sizeof(line), f)) {
		size_t hl = strcspn(line, "\r\n");

		out[n].len = hl / 2;
		out[n].b = aligned_alloc(8, (out[n].len + 7) & ~(size_t)7);
		for (size_t i = 0; i < out[n].len; i++)
			out[n].b[i] = (unsigned char)(hexval(line[2 * i]) << 4 | hexval(line[2 * i + 1]));
		n++;
	}
	fclose(f);
	return n;
}

static void free_blobs(struct blob *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i].b);
}

/* One line of `conntrack -E -o extended,id`, decoded independently. */
struct expect {
	int family, proto;
	char src[2][64], dst[2][64];
	unsigned long sport[2], dport[2], type[2], code[2], icmp_id[2];
	unsigned long long pkts[2], bytes[2];
	unsigned long id;
};

static void parse_expect(char *line, struct expect *e)
{
	char *save = NULL, *tok;
	int field = 0, dir = -1, after_delta = 0, seen_src = 0;

	memset(e, 0, sizeof(*e));
	for (tok = strtok_r(line, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), field++) {
		char *eq = strchr(tok, '=');

		if (field == 1)
			e->family = strcmp(tok, "ipv6") == 0 ? AF_INET6 : AF_INET;
		if (field == 4)
			e->proto = atoi(tok);
		if (!eq)
			continue;
		*eq = '\0';
		const char *k = tok, *v = eq + 1;

		if (strcmp(k, "src") == 0)
			dir = seen_src++;
		if (strcmp(k, "delta-time") == 0)
			after_delta = 1;
		if (after_delta && strcmp(k, "id") == 0)
			e->id = strtoul(v, NULL, 10);
		if (dir < 0 || dir > 1 || after_delta)
			continue;
		if (strcmp(k, "src") == 0)
			snprintf(e->src[dir], sizeof(e->src[dir]), "%s", v);
		else if (strcmp(k, "dst") == 0)
			snprintf(e->dst[dir], sizeof(e->dst[dir]), "%s", v);
		else if (strcmp(k, "sport") == 0)
			e->sport[dir] = strtoul(v, NULL, 10);
		else if (strcmp(k, "dport") == 0)
			e->dport[dir] = strtoul(v, NULL, 10);
		else if (strcmp(k, "type") == 0)
			e->type[dir] = strtoul(v, NULL, 10);
		else if (strcmp(k, "code") == 0)
			e->code[dir] = strtoul(v, NULL, 10);
		else if (strcmp(k, "id") == 0)
			e->icmp_id[dir] = strtoul(v, NULL, 10);
		else if (strcmp(k, "packets") == 0)
			e->pkts[dir] = strtoull(v, NULL, 10);
		else if (strcmp(k, "bytes") == 0)
			e->bytes[dir] = strtoull(v, NULL, 10);
	}
}

static int addr_is(int family, const union ct_addr *a, const char *text)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(family, a->b, buf, sizeof(buf));
	return strcmp(buf, text) == 0;
}

static void check_against(const struct ct_flow *f, const struct expect *e)
{
	CHECK_EQ_U(f->family, e->family);
	CHECK_EQ_U(f->id, e->id);
	CHECK(f->has & CT_HAS_COUNTERS);
	for (int d = 0; d < 2; d++) {
		const struct ct_tuple *t = &f->tuple[d];

		CHECK_EQ_U(t->proto, e->proto);
		CHECK(addr_is(f->family, &t->src, e->src[d]));
		CHECK(addr_is(f->family, &t->dst, e->dst[d]));
		CHECK_EQ_U(f->pkts[d], e->pkts[d]);
		CHECK_EQ_U(f->bytes[d], e->bytes[d]);
		if (e->proto == 1 || e->proto == 58) {
			CHECK_EQ_U(t->icmp_type, e->type[d]);
			CHECK_EQ_U(t->icmp_code, e->code[d]);
			CHECK_EQ_U(t->icmp_id, e->icmp_id[d]);
		} else {
			CHECK_EQ_U(t->sport, e->sport[d]);
			CHECK_EQ_U(t->dport, e->dport[d]);
		}
	}
}

static void destroy_events_match_conntracks_own_decoding(void)
{
	struct blob m[MAX_MSGS];
	size_t n = load_hex("destroy.hex", m, MAX_MSGS), lines = 0;
	char path[512], line[2048];
	FILE *f;
	int protos_seen = 0;

	snprintf(path, sizeof(path), "%s/destroy.txt", data_dir);
	f = fopen(path, "r");
	CHECK(f != NULL);
	CHECK(n >= 8);
	while (f && lines < n && fgets(line, sizeof(line), f)) {
		struct ct_flow fl;
		struct expect e;

		CHECK_EQ_U(ct_parse_msg(m[lines].b, m[lines].len, &fl), CT_PARSE_OK);
		parse_expect(line, &e);
		CHECK_EQ_U(fl.kind, CT_MSG_FLOW_DESTROY);
		CHECK((fl.has & (CT_HAS_START | CT_HAS_STOP)) == (CT_HAS_START | CT_HAS_STOP));
		CHECK(fl.stop_ns >= fl.start_ns);
		check_against(&fl, &e);
		/* conntrack printed TIME_WAIT for every TCP flow of the fixture */
		if (e.proto == 6)
			CHECK((fl.has & CT_HAS_TCP_STATE) && fl.tcp_state == 7);
		protos_seen |= 1 << (e.proto == 58 ? 5 : e.proto == 17 ? 4 : e.proto == 6 ? 3 : e.proto);
		protos_seen |= e.family == AF_INET6 ? 1 << 7 : 0;
		lines++;
	}
	if (f)
		fclose(f);
	CHECK_EQ_U(lines, n);
	/* ICMP, TCP, UDP, ICMPv6 and IPv6 all present in the fixture */
	CHECK((protos_seen & 0xba) == 0xba);
	free_blobs(m, n);
}

static const struct ct_flow *find_flow(struct ct_flow *all, size_t n, int proto, uint16_t dport)
{
	for (size_t i = 0; i < n; i++)
		if (all[i].tuple[CT_ORIG].proto == proto && all[i].tuple[CT_ORIG].dport == dport)
			return &all[i];
	return NULL;
}

static void nat_shows_in_reply_tuple(void)
{
	struct blob m[MAX_MSGS];
	struct ct_flow all[MAX_MSGS];
	size_t n = load_hex("destroy.hex", m, MAX_MSGS);

	for (size_t i = 0; i < n; i++)
		CHECK_EQ_U(ct_parse_msg(m[i].b, m[i].len, &all[i]), CT_PARSE_OK);
	/* DNAT 10.201.1.1:8080 -> 10.201.2.2:80 */
	const struct ct_flow *d = find_flow(all, n, 6, 8080);

	CHECK(d != NULL);
	if (d) {
		CHECK(addr_is(AF_INET, &d->tuple[CT_ORIG].dst, "10.201.1.1"));
		CHECK(addr_is(AF_INET, &d->tuple[CT_REPLY].src, "10.201.2.2"));
		CHECK_EQ_U(d->tuple[CT_REPLY].sport, 80);
	}
	/* SNAT (masquerade) towards 10.201.2.3: replies go to the router */
	int snat = 0;

	for (size_t i = 0; i < n; i++)
		if (addr_is(AF_INET, &all[i].tuple[CT_ORIG].dst, "10.201.2.3") &&
		    addr_is(AF_INET, &all[i].tuple[CT_REPLY].dst, "10.201.2.1"))
			snat++;
	CHECK_EQ_U(snat, 1);
	free_blobs(m, n);
}

static void dump_rows_are_live_flows(void)
{
	struct blob m[MAX_MSGS];
	size_t n = load_hex("dump.hex", m, MAX_MSGS);

	CHECK(n >= 1);
	for (size_t i = 0; i < n; i++) {
		struct ct_flow fl;

		CHECK_EQ_U(ct_parse_msg(m[i].b, m[i].len, &fl), CT_PARSE_OK);
		CHECK_EQ_U(fl.kind, CT_MSG_FLOW_NEW);
		CHECK(fl.has & CT_HAS_COUNTERS);
		CHECK(fl.has & CT_HAS_START);
		CHECK(!(fl.has & CT_HAS_STOP));
	}
	free_blobs(m, n);
}

/* Every prefix of every message: never a crash, never an out-of-bounds read
 * (the ASan build runs this), and a short buffer is never accepted. */
static void truncated_messages_never_crash(void)
{
	struct blob m[MAX_MSGS];
	size_t n = load_hex("destroy.hex", m, MAX_MSGS);

	for (size_t i = 0; i < n; i++) {
		for (size_t len = 0; len < m[i].len; len++) {
			unsigned char *copy = malloc(len ? len : 1);
			struct ct_flow fl;

			memcpy(copy, m[i].b, len);
			CHECK(ct_parse_msg(copy, len, &fl) != CT_PARSE_OK);
			if (len >= sizeof(struct nlmsghdr)) {
				/* the header agrees with the short length */
				((struct nlmsghdr *)(void *)copy)->nlmsg_len = (uint32_t)len;
				(void)ct_parse_msg(copy, len, &fl);
			}
			free(copy);
		}
	}
	free_blobs(m, n);
}

/* ---- synthetic messages, built with libmnl ---- */

static char sbuf[8192] __attribute__((aligned(8)));

struct synth {
	int family;
	int with_id, dup_id, id_len3, no_orig, v6_addrs_in_v4, counters32, trailing;
	uint16_t type;
};

static void put_tuple(struct nlmsghdr *nlh, int attr, const struct synth *s)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, attr), *ip, *pr;
	unsigned char a6[16] = { 0xfd, 1 };
	uint32_t a4 = htonl(0x0a000001);

	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (s->family == AF_INET6 || s->v6_addrs_in_v4) {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, a6);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, a6);
	} else {
		mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, &a4);
		mnl_attr_put(nlh, CTA_IP_V4_DST, 4, &a4);
	}
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, 17);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(1234));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(53));
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, t);
}

static void put_counters(struct nlmsghdr *nlh, int attr, const struct synth *s, uint64_t v)
{
	struct nlattr *c = mnl_attr_nest_start(nlh, attr);

	if (s->counters32) {
		mnl_attr_put_u32(nlh, CTA_COUNTERS32_PACKETS, htonl((uint32_t)v));
		mnl_attr_put_u32(nlh, CTA_COUNTERS32_BYTES, htonl((uint32_t)v * 100));
	} else {
		mnl_attr_put_u64(nlh, CTA_COUNTERS_PACKETS, htobe64(v));
		mnl_attr_put_u64(nlh, CTA_COUNTERS_BYTES, htobe64(v * 100));
	}
	mnl_attr_nest_end(nlh, c);
}

static size_t synth_build(const struct synth *s)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(sbuf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = s->type ? s->type : (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)s->family;
	if (!s->no_orig)
		put_tuple(nlh, CTA_TUPLE_ORIG, s);
	put_tuple(nlh, CTA_TUPLE_REPLY, s);
	put_counters(nlh, CTA_COUNTERS_ORIG, s, 5);
	put_counters(nlh, CTA_COUNTERS_REPLY, s, 7);
	if (s->id_len3)
		mnl_attr_put(nlh, CTA_ID, 3, "abc");
	else if (s->with_id)
		mnl_attr_put_u32(nlh, CTA_ID, htonl(42));
	if (s->dup_id)
		mnl_attr_put_u32(nlh, CTA_ID, htonl(43));
	if (s->trailing) {
		memset((char *)nlh + nlh->nlmsg_len, 0xee, 2);
		nlh->nlmsg_len += 2;
	}
	return nlh->nlmsg_len;
}

static int synth_parse(const struct synth *s, struct ct_flow *fl)
{
	size_t len = synth_build(s);

	return ct_parse_msg(sbuf, len, fl);
}

static void synthetic_message_parses(void)
{
	struct ct_flow fl;
	struct synth s = { .family = AF_INET, .with_id = 1 };

	CHECK_EQ_U(synth_parse(&s, &fl), CT_PARSE_OK);
	CHECK_EQ_U(fl.id, 42);
	CHECK_EQ_U(fl.pkts[CT_ORIG], 5);
	CHECK_EQ_U(fl.bytes[CT_REPLY], 700);
	CHECK_EQ_U(fl.tuple[CT_ORIG].dport, 53);
	s.family = AF_INET6;
	CHECK_EQ_U(synth_parse(&s, &fl), CT_PARSE_OK);
	CHECK_EQ_U(fl.tuple[CT_REPLY].src.b[0], 0xfd);
}

static void old_32bit_counters_are_accepted(void)
{
	struct ct_flow fl;
	struct synth s = { .family = AF_INET, .with_id = 1, .counters32 = 1 };

	CHECK_EQ_U(synth_parse(&s, &fl), CT_PARSE_OK);
	CHECK_EQ_U(fl.pkts[CT_REPLY], 7);
	CHECK_EQ_U(fl.bytes[CT_ORIG], 500);
}

static void malformed_messages_are_rejected_with_a_reason(void)
{
	struct ct_flow fl;
	struct synth s = { .family = AF_INET, .with_id = 1 };

	s.id_len3 = 1;
	CHECK_EQ_U(synth_parse(&s, &fl), CT_PARSE_EATTR);
	s.id_len3 = 0, s.dup_id = 1;
	CHECK_EQ_U(synth_parse(&s, &fl), CT_PARSE_EATTR);
	s.dup_id = 0, s.trailing = 1;
	CHECK_EQ_U(synth_parse(&s, &fl), CT_PARSE_EATTR);
	s.trailing = 0, s.v6_addrs_in_v4 = 1;
	CHECK_EQ_U(synth_parse(&s, &fl), CT_PARSE_EFAMILY);
	s.v6_addrs_in_v4 = 0, s.family = 7;
	CHECK_EQ_U(synth_parse(&s, &fl), CT_PARSE_EFAMILY);
	s.family = AF_INET, s.no_orig = 1;
	CHECK_EQ_U(synth_parse(&s, &fl), CT_PARSE_EMISSING);
	s.no_orig = 0, s.with_id = 0;
	CHECK_EQ_U(synth_parse(&s, &fl), CT_PARSE_EMISSING);
	s.with_id = 1, s.type = (NFNL_SUBSYS_CTNETLINK_EXP << 8) | 0;
	CHECK_EQ_U(synth_parse(&s, &fl), CT_PARSE_ETYPE);
	CHECK(strcmp(ct_parse_strerror(CT_PARSE_EATTR), "malformed attribute") == 0);
	CHECK(strcmp(ct_parse_strerror(99), "unknown error") == 0);
}

static void nested_length_beyond_parent_is_rejected(void)
{
	struct ct_flow fl;
	struct synth s = { .family = AF_INET, .with_id = 1 };
	size_t len = synth_build(&s);
	/* first top-level attribute is CTA_TUPLE_ORIG: make its first child overflow it */
	struct nlattr *orig = (struct nlattr *)(void *)(sbuf + MNL_NLMSG_HDRLEN +
							 MNL_ALIGN(sizeof(struct nfgenmsg)));
	struct nlattr *child = mnl_attr_get_payload(orig);

	child->nla_len = (uint16_t)(orig->nla_len + 8);
	CHECK(ct_parse_msg(sbuf, len, &fl) != CT_PARSE_OK);
}

struct walk_log {
	int items[16];
	int errs[16];
	int n;
};

static int log_item(void *arg, enum ct_item item, const struct ct_flow *f, int err)
{
	struct walk_log *w = arg;

	(void)f;
	if (w->n < 16) {
		w->items[w->n] = item;
		w->errs[w->n++] = err;
	}
	return 0;
}

static void walk_reports_flows_done_errors_and_fragments(void)
{
	static char buf[16384] __attribute__((aligned(8)));
	struct synth s = { .family = AF_INET, .with_id = 1 };
	size_t len = synth_build(&s), off;
	struct walk_log w = { { 0 }, { 0 }, 0 };
	struct ct_walk_cb cb = { log_item, &w };
	struct nlmsghdr *nlh;

	memcpy(buf, sbuf, len);
	off = MNL_ALIGN(len);
	nlh = mnl_nlmsg_put_header(buf + off);
	nlh->nlmsg_type = NLMSG_DONE;
	off += MNL_ALIGN(nlh->nlmsg_len);
	nlh = mnl_nlmsg_put_header(buf + off);
	nlh->nlmsg_type = NLMSG_ERROR;
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	e->error = -EBUSY;
	off += MNL_ALIGN(nlh->nlmsg_len);
	memset(buf + off, 0, 6); /* a fragment shorter than a header */
	off += 6;
	CHECK_EQ_U(ct_parse_walk(buf, off, &cb), 4);
	CHECK_EQ_U(w.n, 4);
	CHECK_EQ_U(w.items[0], CT_ITEM_FLOW);
	CHECK_EQ_U(w.items[1], CT_ITEM_DONE);
	CHECK_EQ_U(w.items[2], CT_ITEM_ERROR);
	CHECK_EQ_U(w.errs[2], EBUSY);
	CHECK_EQ_U(w.items[3], CT_ITEM_BAD);
	CHECK_EQ_U(w.errs[3], CT_PARSE_ETRUNC);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		data_dir = argv[1];
	RUN(destroy_events_match_conntracks_own_decoding);
	RUN(nat_shows_in_reply_tuple);
	RUN(dump_rows_are_live_flows);
	RUN(truncated_messages_never_crash);
	RUN(synthetic_message_parses);
	RUN(old_32bit_counters_are_accepted);
	RUN(malformed_messages_are_rejected_with_a_reason);
	RUN(nested_length_beyond_parent_is_rejected);
	RUN(walk_reports_flows_done_errors_and_fragments);
	TAP_DONE();
}
