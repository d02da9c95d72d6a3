/*
 * ctlisten: the floors the benchmark compares ctflowd's event path with.
 *
 * The bare DESTROY listener does what any consumer must and nothing else: a
 * big receive buffer, recvmmsg(64) batches with the same 5 ms wakeup
 * coalescing as ctflowd, and a count.  No parsing, no accounting.
 *
 * The least exporter ("least") is the least an exact accounting exporter
 * does with each event on top of that: it reads the original tuple and both
 * directions' counters, adds them to the three default profiles' keys
 * (source host, destination host, protocol and port, host pair) in
 * open-addressing tables of the default sizes, and, given a collector,
 * writes one fixed 37-octet record per event into IPFIX-sized datagrams
 * (1472 octets) sent over a connected UDP socket: counters in 4 octets and
 * times in seconds (RFC 7011 6.2 reduced-size encoding; the benchmark's
 * flows fit), fewer octets than ctflowd's reduced encoding (43).  A batch's keys are
 * hashed and their rows prefetched before any is updated.  No validation
 * beyond bounds, no tracking of dumped flows, no persistent state, no
 * ordered index, no thresholds, no usage periods: what ctflowd spends above
 * it is the cost of what it keeps and promises beyond the bare counts.
 *
 *   ctlisten RCVBUF_BYTES [least [ADDRESS PORT]]
 *       runs until SIGTERM, then prints "events N drops D records R"
 */
#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/sock_diag.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

#define BATCH 64
#define BUFSZ 4096
#define DGRAM 1472
#define REC 37

struct flow {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t proto;
	uint64_t pk[2], by[2];
	uint64_t start, stop;
};

struct row {
	uint8_t key[33];
	uint8_t used;
	uint64_t pk[2], by[2];
};

struct table {
	struct row *rows;
	size_t mask;
};

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* Words at a time: the keys are 3, 16 and 32 octets. */
static uint64_t hash(const uint8_t *k, size_t n)
{
	uint64_t h = n * 0x9e3779b97f4a7c15ull;

	for (; n >= 8; n -= 8, k += 8) {
		uint64_t w;

		memcpy(&w, k, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	for (; n; n--, k++)
		h = (h ^ *k) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

/* Add a flow to the key's row, found from slot i on (linear probing; a full
 * table drops the add). */
static void add_at(struct table *t, size_t i, const uint8_t *key, size_t n, const struct flow *f)
{
	for (size_t probes = 0; probes <= t->mask; probes++, i = (i + 1) & t->mask) {
		struct row *r = &t->rows[i];

		if (!r->used) {
			r->used = 1;
			memcpy(r->key, key, n);
		} else if (memcmp(r->key, key, n) != 0) {
			continue;
		}
		for (int d = 0; d < 2; d++) {
			r->pk[d] += f->pk[d];
			r->by[d] += f->by[d];
		}
		return;
	}
}

static const struct nlattr *next_attr(const struct nlattr *a)
{
	return (const struct nlattr *)((const char *)a + MNL_ALIGN(a->nla_len));
}

#define FOR_ATTRS(a, p, len) \
	for (const struct nlattr *a = (const void *)(p); \
	     (const char *)a + sizeof(*a) <= (const char *)(p) + (len) && a->nla_len >= sizeof(*a) && \
	     (const char *)a + a->nla_len <= (const char *)(p) + (len); \
	     a = next_attr(a))

static const void *data(const struct nlattr *a)
{
	return (const char *)a + MNL_ATTR_HDRLEN;
}

static size_t dlen(const struct nlattr *a)
{
	return a->nla_len - MNL_ATTR_HDRLEN;
}

static uint64_t be64(const struct nlattr *a)
{
	uint64_t v = 0;

	if (dlen(a) >= 8)
		memcpy(&v, data(a), 8);
	return be64toh(v);
}

static void tuple(const struct nlattr *t, struct flow *f)
{
	FOR_ATTRS(a, data(t), dlen(t)) {
		unsigned type = a->nla_type & NLA_TYPE_MASK;

		if (type == CTA_TUPLE_IP) {
			FOR_ATTRS(b, data(a), dlen(a)) {
				unsigned bt = b->nla_type & NLA_TYPE_MASK;
				size_t n = dlen(b) < 16 ? dlen(b) : 16;

				if (bt == CTA_IP_V4_SRC || bt == CTA_IP_V6_SRC)
					memcpy(f->src, data(b), n);
				else if (bt == CTA_IP_V4_DST || bt == CTA_IP_V6_DST)
					memcpy(f->dst, data(b), n);
			}
		} else if (type == CTA_TUPLE_PROTO) {
			FOR_ATTRS(b, data(a), dlen(a)) {
				unsigned bt = b->nla_type & NLA_TYPE_MASK;

				if (bt == CTA_PROTO_NUM && dlen(b) >= 1)
					f->proto = *(const uint8_t *)data(b);
				else if (bt == CTA_PROTO_SRC_PORT && dlen(b) >= 2)
					memcpy(&f->sport, data(b), 2);
				else if (bt == CTA_PROTO_DST_PORT && dlen(b) >= 2)
					memcpy(&f->dport, data(b), 2);
			}
		}
	}
}

static void counters(const struct nlattr *c, struct flow *f, int dir)
{
	FOR_ATTRS(a, data(c), dlen(c)) {
		unsigned type = a->nla_type & NLA_TYPE_MASK;

		if (type == CTA_COUNTERS_PACKETS)
			f->pk[dir] = be64(a);
		else if (type == CTA_COUNTERS_BYTES)
			f->by[dir] = be64(a);
	}
}

static int parse(const char *buf, size_t len, struct flow *f)
{
	const struct nlmsghdr *nh = (const void *)buf;
	size_t off = NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg));

	if (len < sizeof(*nh) || nh->nlmsg_len > len || nh->nlmsg_len < off)
		return -1;
	memset(f, 0, sizeof(*f));
	FOR_ATTRS(a, buf + off, nh->nlmsg_len - off) {
		switch (a->nla_type & NLA_TYPE_MASK) {
		case CTA_TUPLE_ORIG:
			tuple(a, f);
			break;
		case CTA_COUNTERS_ORIG:
			counters(a, f, 0);
			break;
		case CTA_COUNTERS_REPLY:
			counters(a, f, 1);
			break;
		case CTA_TIMESTAMP:
			FOR_ATTRS(b, data(a), dlen(a)) {
				if ((b->nla_type & NLA_TYPE_MASK) == CTA_TIMESTAMP_START)
					f->start = be64(b);
				else if ((b->nla_type & NLA_TYPE_MASK) == CTA_TIMESTAMP_STOP)
					f->stop = be64(b);
			}
			break;
		}
	}
	return 0;
}

struct out {
	int fd;
	uint8_t buf[DGRAM];
	size_t len;
	unsigned long long records;
	uint32_t seq;
};

static void put32(uint8_t *p, uint64_t v)
{
	uint32_t w = htonl(v > UINT32_MAX ? UINT32_MAX : (uint32_t)v);

	memcpy(p, &w, 4);
}

static void out_flush(struct out *o)
{
	if (o->len <= 20)
		return;
	uint16_t l = htons((uint16_t)o->len), sl = htons((uint16_t)(o->len - 16));
	uint32_t s = htonl(o->seq);

	memcpy(o->buf + 2, &l, 2);
	memcpy(o->buf + 8, &s, 4);
	memcpy(o->buf + 18, &sl, 2);
	if (send(o->fd, o->buf, o->len, MSG_DONTWAIT) < 0) {
		/* a full queue drops the datagram; counted by the sink */
	}
	o->len = 20;
}

/* One record: addresses, ports, protocol, both directions' counters, times. */
static void out_record(struct out *o, const struct flow *f)
{
	if (o->len + REC > DGRAM)
		out_flush(o);
	uint8_t *p = o->buf + o->len;

	memcpy(p, f->src, 4);
	memcpy(p + 4, f->dst, 4);
	memcpy(p + 8, &f->sport, 2);
	memcpy(p + 10, &f->dport, 2);
	p[12] = f->proto;
	for (int d = 0; d < 2; d++) {
		put32(p + 13 + 8 * d, f->pk[d]);
		put32(p + 17 + 8 * d, f->by[d]);
	}
	put32(p + 29, f->start / 1000000000);
	put32(p + 33, f->stop / 1000000000);
	o->len += REC;
	o->records++;
	o->seq++;
}

/* A flow's four keys (source and destination host, protocol and port, the
 * pair) and their slots, worked out before any row is touched so that a
 * batch's rows are fetched at once. */
struct keys {
	uint8_t svc[3], pair[32];
	size_t slot[4];
};

static void keys_of(const struct table *t, const struct flow *f, struct keys *k)
{
	k->svc[0] = f->proto;
	memcpy(k->svc + 1, &f->dport, 2);
	memcpy(k->pair, f->src, 16);
	memcpy(k->pair + 16, f->dst, 16);
	k->slot[0] = hash(f->src, 16) & t[0].mask;
	k->slot[1] = hash(f->dst, 16) & t[0].mask;
	k->slot[2] = hash(k->svc, 3) & t[1].mask;
	k->slot[3] = hash(k->pair, 32) & t[2].mask;
	__builtin_prefetch(&t[0].rows[k->slot[0]], 1);
	__builtin_prefetch(&t[0].rows[k->slot[1]], 1);
	__builtin_prefetch(&t[1].rows[k->slot[2]], 1);
	__builtin_prefetch(&t[2].rows[k->slot[3]], 1);
}

static void account(struct table *t, const struct flow *f, const struct keys *k)
{
	add_at(&t[0], k->slot[0], f->src, 16, f);
	add_at(&t[0], k->slot[1], f->dst, 16, f);
	add_at(&t[1], k->slot[2], k->svc, 3, f);
	add_at(&t[2], k->slot[3], k->pair, 32, f);
}

/* The records' template, once (a UDP collector learns it for the session):
 * the IANA IEs of the record's fields, the reply direction's counters as
 * RFC 5103 reverse IEs. */
static int send_template(struct out *o)
{
	static const uint16_t ies[][2] = {
		{ 8, 4 }, { 12, 4 }, { 7, 2 }, { 11, 2 }, { 4, 1 }, { 2, 4 }, { 1, 4 },
		{ 0x8002, 4 }, { 0x8001, 4 }, { 150, 4 }, { 151, 4 },
	};
	size_t nf = sizeof(ies) / sizeof(ies[0]), len = 16 + 4 + 4;
	uint8_t *p = o->buf;

	memset(p, 0, 24);
	p[1] = 10;
	p[17] = 2;		/* template set */
	p[20] = 1;		/* template id 256 */
	p[23] = (uint8_t)nf;
	for (size_t i = 0; i < nf; i++) {
		uint16_t v[2] = { htons(ies[i][0]), htons(ies[i][1]) };

		memcpy(p + len, v, 4);
		len += 4;
		if (ies[i][0] & 0x8000) {
			uint32_t pen = htonl(29305);

			memcpy(p + len, &pen, 4);
			len += 4;
		}
	}
	uint16_t l = htons((uint16_t)len), sl = htons((uint16_t)(len - 16));

	memcpy(p + 2, &l, 2);
	memcpy(p + 18, &sl, 2);
	return send(o->fd, p, len, 0) == (ssize_t)len ? 0 : -1;
}

static int out_open(struct out *o, const char *addr, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return -1;
	o->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (o->fd < 0 || connect(o->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	if (send_template(o) < 0)
		return -1;
	memset(o->buf, 0, 20);
	o->buf[1] = 10;		/* IPFIX version */
	o->buf[16] = 1;		/* set id 256 */
	o->len = 20;
	return 0;
}

int main(int argc, char **argv)
{
	static char bufs[BATCH][BUFSZ];
	static struct out o = { .fd = -1 };
	static struct flow f[BATCH];
	static struct keys k[BATCH];
	int ok[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct table t[3] = { { NULL, 65535 }, { NULL, 16383 }, { NULL, 262143 } };
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	int size = argc > 1 ? atoi(argv[1]) : 64 << 20;
	int least = argc > 2 && strcmp(argv[2], "least") == 0;
	unsigned long long events = 0;
	uint32_t mi[SK_MEMINFO_VARS] = { 0 };
	socklen_t ml = sizeof(mi);

	if (!nl || mnl_socket_bind(nl, NF_NETLINK_CONNTRACK_DESTROY, MNL_SOCKET_AUTOPID) < 0)
		return perror("netlink"), 1;
	if (least && argc > 4 && out_open(&o, argv[3], argv[4]) < 0)
		return perror("collector"), 1;
	for (int i = 0; least && i < 3; i++) {
		t[i].rows = calloc(t[i].mask + 1, sizeof(struct row));
		if (!t[i].rows)
			return perror("calloc"), 1;
	}
	int fd = mnl_socket_get_fd(nl);

	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = BUFSZ;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 200) <= 0)
			continue;
		for (;;) {
			int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);

			if (n <= 0)
				break;
			for (int i = 0; least && i < n; i++) {
				ok[i] = parse(bufs[i], msgs[i].msg_len, &f[i]) == 0;
				if (ok[i])
					keys_of(t, &f[i], &k[i]);
			}
			for (int i = 0; least && i < n; i++) {
				if (!ok[i])
					continue;
				account(t, &f[i], &k[i]);
				if (o.fd >= 0)
					out_record(&o, &f[i]);
			}
			events += (unsigned)n;
			if (n < BATCH)
				break;
		}
		if (o.fd >= 0)
			out_flush(&o);
		usleep(5000);
	}
	getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &ml);
	printf("events %llu drops %u records %llu\n", events, mi[SK_MEMINFO_DROPS], o.records);
	mnl_socket_close(nl);
	return 0;
}
