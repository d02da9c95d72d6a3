/*
 * kern_ctparse: a ctnetlink conntrack message is a netlink header, an
 * nfgenmsg (family) and nested attributes.  Each nest level has a policy
 * table giving the libmnl type and exact length of the attributes we use;
 * unknown attribute types are skipped (newer kernels add some), known ones are
 * validated, and bytes left over after the last well-formed attribute make
 * the whole message invalid: libmnl's own iterator would stop there silently.
 */
#include "kern_ctparse.h"

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <string.h>
#include <sys/socket.h>

struct attr_policy {
	uint8_t type;  /* enum mnl_attr_data_type; MNL_TYPE_UNSPEC = not used, skip */
	uint8_t len;   /* exact payload length, 0 = any */
};

#define POL(t, l) { (uint8_t)(t), (uint8_t)(l) }

static const struct attr_policy top_policy[CTA_MAX + 1] = {
	[CTA_TUPLE_ORIG] = POL(MNL_TYPE_NESTED, 0),
	[CTA_TUPLE_REPLY] = POL(MNL_TYPE_NESTED, 0),
	[CTA_STATUS] = POL(MNL_TYPE_U32, 4),
	[CTA_MARK] = POL(MNL_TYPE_U32, 4),
	[CTA_COUNTERS_ORIG] = POL(MNL_TYPE_NESTED, 0),
	[CTA_COUNTERS_REPLY] = POL(MNL_TYPE_NESTED, 0),
	[CTA_ID] = POL(MNL_TYPE_U32, 4),
	[CTA_ZONE] = POL(MNL_TYPE_U16, 2),
	[CTA_TIMESTAMP] = POL(MNL_TYPE_NESTED, 0),
	[CTA_LABELS] = POL(MNL_TYPE_BINARY, 0),
	[CTA_PROTOINFO] = POL(MNL_TYPE_NESTED, 0),
};

static const struct attr_policy protoinfo_policy[CTA_PROTOINFO_MAX + 1] = {
	[CTA_PROTOINFO_TCP] = POL(MNL_TYPE_NESTED, 0),
};

static const struct attr_policy tcpinfo_policy[CTA_PROTOINFO_TCP_MAX + 1] = {
	[CTA_PROTOINFO_TCP_STATE] = POL(MNL_TYPE_U8, 1),
};

static const struct attr_policy tuple_policy[CTA_TUPLE_MAX + 1] = {
	[CTA_TUPLE_IP] = POL(MNL_TYPE_NESTED, 0),
	[CTA_TUPLE_PROTO] = POL(MNL_TYPE_NESTED, 0),
	[CTA_TUPLE_ZONE] = POL(MNL_TYPE_U16, 2),
};

static const struct attr_policy ip_policy[CTA_IP_MAX + 1] = {
	[CTA_IP_V4_SRC] = POL(MNL_TYPE_BINARY, 4),
	[CTA_IP_V4_DST] = POL(MNL_TYPE_BINARY, 4),
	[CTA_IP_V6_SRC] = POL(MNL_TYPE_BINARY, 16),
	[CTA_IP_V6_DST] = POL(MNL_TYPE_BINARY, 16),
};

static const struct attr_policy proto_policy[CTA_PROTO_MAX + 1] = {
	[CTA_PROTO_NUM] = POL(MNL_TYPE_U8, 1),
	[CTA_PROTO_SRC_PORT] = POL(MNL_TYPE_U16, 2),
	[CTA_PROTO_DST_PORT] = POL(MNL_TYPE_U16, 2),
	[CTA_PROTO_ICMP_ID] = POL(MNL_TYPE_U16, 2),
	[CTA_PROTO_ICMP_TYPE] = POL(MNL_TYPE_U8, 1),
	[CTA_PROTO_ICMP_CODE] = POL(MNL_TYPE_U8, 1),
	[CTA_PROTO_ICMPV6_ID] = POL(MNL_TYPE_U16, 2),
	[CTA_PROTO_ICMPV6_TYPE] = POL(MNL_TYPE_U8, 1),
	[CTA_PROTO_ICMPV6_CODE] = POL(MNL_TYPE_U8, 1),
};

static const struct attr_policy counters_policy[CTA_COUNTERS_MAX + 1] = {
	[CTA_COUNTERS_PACKETS] = POL(MNL_TYPE_U64, 8),
	[CTA_COUNTERS_BYTES] = POL(MNL_TYPE_U64, 8),
	[CTA_COUNTERS32_PACKETS] = POL(MNL_TYPE_U32, 4),
	[CTA_COUNTERS32_BYTES] = POL(MNL_TYPE_U32, 4),
};

static const struct attr_policy timestamp_policy[CTA_TIMESTAMP_MAX + 1] = {
	[CTA_TIMESTAMP_START] = POL(MNL_TYPE_U64, 8),
	[CTA_TIMESTAMP_STOP] = POL(MNL_TYPE_U64, 8),
};

static const char *const err_names[CT_PARSE_NERR] = {
	[CT_PARSE_OK] = "ok",
	[CT_PARSE_ETRUNC] = "truncated message",
	[CT_PARSE_EATTR] = "malformed attribute",
	[CT_PARSE_EFAMILY] = "unsupported or inconsistent address family",
	[CT_PARSE_ETYPE] = "not a conntrack message",
	[CT_PARSE_EMISSING] = "mandatory attribute missing",
};

const char *ct_parse_strerror(int err)
{
	if (err < 0 || err >= CT_PARSE_NERR)
		return "unknown error";
	return err_names[err];
}

/*
 * Does attribute `a` fit in the `rem` bytes left?  The test mnl_attr_ok()
 * makes, inlined: the parser runs it ~30 times per event, and a call into
 * the shared library each time was measurable (about 9% of ctflowd's CPU).
 */
static inline int attr_fits(const struct nlattr *a, int rem)
{
	return rem >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) && (int)a->nla_len <= rem;
}

/*
 * An attribute's payload and values, inlined for the same reason (libmnl's
 * getters are calls through the PLT, about twenty per event).  Values are
 * copied, since a payload need not be aligned for its type.
 */
static inline const void *attr_data(const struct nlattr *a)
{
	return (const char *)a + MNL_ATTR_HDRLEN;
}

static inline uint16_t attr_len(const struct nlattr *a)
{
	return (uint16_t)(a->nla_len - MNL_ATTR_HDRLEN);
}

static inline uint8_t attr_u8(const struct nlattr *a)
{
	return *(const uint8_t *)attr_data(a);
}

static inline uint16_t attr_u16(const struct nlattr *a)
{
	uint16_t v;

	memcpy(&v, attr_data(a), sizeof(v));
	return v;
}

static inline uint32_t attr_u32(const struct nlattr *a)
{
	uint32_t v;

	memcpy(&v, attr_data(a), sizeof(v));
	return v;
}

static inline uint64_t attr_u64(const struct nlattr *a)
{
	uint64_t v;

	memcpy(&v, attr_data(a), sizeof(v));
	return v;
}

/*
 * What mnl_attr_validate2() checks for our policy types: fixed-size values
 * must have exactly their size, a non-empty nest must hold at least one
 * attribute header, binary blobs of policy length 0 may have any size.
 */
static inline int attr_valid(const struct nlattr *a, const struct attr_policy *p)
{
	uint16_t n = (uint16_t)(a->nla_len - MNL_ATTR_HDRLEN);

	if (p->type == MNL_TYPE_NESTED)
		return n == 0 || n >= MNL_ATTR_HDRLEN;
	return p->len == 0 || n == p->len;
}

/*
 * Validate every attribute in [start, start+len) against `pol` and store the
 * known ones in tb (indexed by type, tb sized max+1).  The attributes must
 * fill the area exactly, up to alignment padding.  tb must start zeroed: the
 * callers' tables are initialized with constant sizes, which the compiler
 * clears with a few stores (a memset of a variable size here became a
 * `rep stos`, the most expensive instruction of the event path).
 */
static int attr_table(const void *start, size_t len, const struct attr_policy *pol,
		      unsigned max, const struct nlattr **tb)
{
	const struct nlattr *a = start;
	int rem = (int)len;

	while (attr_fits(a, rem)) {
		uint16_t type = a->nla_type & NLA_TYPE_MASK;

		if (type <= max && pol[type].type != MNL_TYPE_UNSPEC) {
			if (!attr_valid(a, &pol[type]))
				return CT_PARSE_EATTR;
			if (tb[type])
				return CT_PARSE_EATTR; /* duplicated attribute */
			tb[type] = a;
		}
		int step = (int)MNL_ALIGN(a->nla_len);

		rem -= step;
		a = (const struct nlattr *)((const char *)a + step);
	}
	/* rem can be negative only by alignment padding of the last attribute. */
	return rem > 0 ? CT_PARSE_EATTR : CT_PARSE_OK;
}

static int nest_table(const struct nlattr *nest, const struct attr_policy *pol, unsigned max,
		      const struct nlattr **tb)
{
	return attr_table(attr_data(nest), attr_len(nest), pol, max, tb);
}

static int parse_ip(const struct nlattr *nest, uint8_t family, struct ct_tuple *t)
{
	const struct nlattr *tb[CTA_IP_MAX + 1] = { 0 };
	int err = nest_table(nest, ip_policy, CTA_IP_MAX, tb);
	int src, dst, other_src, other_dst;
	size_t alen;

	if (err)
		return err;
	if (family == AF_INET) {
		src = CTA_IP_V4_SRC, dst = CTA_IP_V4_DST;
		other_src = CTA_IP_V6_SRC, other_dst = CTA_IP_V6_DST;
		alen = 4;
	} else {
		src = CTA_IP_V6_SRC, dst = CTA_IP_V6_DST;
		other_src = CTA_IP_V4_SRC, other_dst = CTA_IP_V4_DST;
		alen = 16;
	}
	if (tb[other_src] || tb[other_dst])
		return CT_PARSE_EFAMILY;
	if (!tb[src] || !tb[dst])
		return CT_PARSE_EMISSING;
	memcpy(t->src.b, attr_data(tb[src]), alen);
	memcpy(t->dst.b, attr_data(tb[dst]), alen);
	return CT_PARSE_OK;
}

static void copy_icmp(const struct nlattr *const *tb, int id, int type, int code,
		      struct ct_tuple *t)
{
	if (tb[id])
		t->icmp_id = ntohs(attr_u16(tb[id]));
	if (tb[type])
		t->icmp_type = attr_u8(tb[type]);
	if (tb[code])
		t->icmp_code = attr_u8(tb[code]);
}

static int parse_proto(const struct nlattr *nest, struct ct_tuple *t)
{
	const struct nlattr *tb[CTA_PROTO_MAX + 1] = { 0 };
	int err = nest_table(nest, proto_policy, CTA_PROTO_MAX, tb);

	if (err)
		return err;
	if (!tb[CTA_PROTO_NUM])
		return CT_PARSE_EMISSING;
	t->proto = attr_u8(tb[CTA_PROTO_NUM]);
	if (tb[CTA_PROTO_SRC_PORT])
		t->sport = ntohs(attr_u16(tb[CTA_PROTO_SRC_PORT]));
	if (tb[CTA_PROTO_DST_PORT])
		t->dport = ntohs(attr_u16(tb[CTA_PROTO_DST_PORT]));
	copy_icmp(tb, CTA_PROTO_ICMP_ID, CTA_PROTO_ICMP_TYPE, CTA_PROTO_ICMP_CODE, t);
	copy_icmp(tb, CTA_PROTO_ICMPV6_ID, CTA_PROTO_ICMPV6_TYPE, CTA_PROTO_ICMPV6_CODE, t);
	return CT_PARSE_OK;
}

static int parse_tuple(const struct nlattr *nest, uint8_t family, struct ct_tuple *t)
{
	const struct nlattr *tb[CTA_TUPLE_MAX + 1] = { 0 };
	int err = nest_table(nest, tuple_policy, CTA_TUPLE_MAX, tb);

	if (err)
		return err;
	if (!tb[CTA_TUPLE_IP] || !tb[CTA_TUPLE_PROTO])
		return CT_PARSE_EMISSING;
	err = parse_ip(tb[CTA_TUPLE_IP], family, t);
	if (!err)
		err = parse_proto(tb[CTA_TUPLE_PROTO], t);
	if (!err && tb[CTA_TUPLE_ZONE]) {
		t->has_zone = 1;
		t->zone = ntohs(attr_u16(tb[CTA_TUPLE_ZONE]));
	}
	return err;
}

/* Counters are 64-bit since 2.6.31; the 32-bit forms are accepted for old kernels. */
static int parse_counters(const struct nlattr *nest, uint64_t *pkts, uint64_t *bytes)
{
	const struct nlattr *tb[CTA_COUNTERS_MAX + 1] = { 0 };
	int err = nest_table(nest, counters_policy, CTA_COUNTERS_MAX, tb);

	if (err)
		return err;
	if (tb[CTA_COUNTERS_PACKETS] && tb[CTA_COUNTERS_BYTES]) {
		*pkts = be64toh(attr_u64(tb[CTA_COUNTERS_PACKETS]));
		*bytes = be64toh(attr_u64(tb[CTA_COUNTERS_BYTES]));
	} else if (tb[CTA_COUNTERS32_PACKETS] && tb[CTA_COUNTERS32_BYTES]) {
		*pkts = ntohl(attr_u32(tb[CTA_COUNTERS32_PACKETS]));
		*bytes = ntohl(attr_u32(tb[CTA_COUNTERS32_BYTES]));
	} else {
		return CT_PARSE_EMISSING;
	}
	return CT_PARSE_OK;
}

static int parse_timestamp(const struct nlattr *nest, struct ct_flow *f)
{
	const struct nlattr *tb[CTA_TIMESTAMP_MAX + 1] = { 0 };
	int err = nest_table(nest, timestamp_policy, CTA_TIMESTAMP_MAX, tb);

	if (err)
		return err;
	if (tb[CTA_TIMESTAMP_START]) {
		f->start_ns = be64toh(attr_u64(tb[CTA_TIMESTAMP_START]));
		f->has |= CT_HAS_START;
	}
	if (tb[CTA_TIMESTAMP_STOP]) {
		f->stop_ns = be64toh(attr_u64(tb[CTA_TIMESTAMP_STOP]));
		f->has |= CT_HAS_STOP;
	}
	return CT_PARSE_OK;
}

/* The TCP state tells an ended connection (FIN, RST) from an idle one. */
static int parse_protoinfo(const struct nlattr *nest, struct ct_flow *f)
{
	const struct nlattr *tb[CTA_PROTOINFO_MAX + 1] = { 0 };
	const struct nlattr *tcp[CTA_PROTOINFO_TCP_MAX + 1] = { 0 };
	int err = nest_table(nest, protoinfo_policy, CTA_PROTOINFO_MAX, tb);

	if (err || !tb[CTA_PROTOINFO_TCP])
		return err;
	err = nest_table(tb[CTA_PROTOINFO_TCP], tcpinfo_policy, CTA_PROTOINFO_TCP_MAX, tcp);
	if (err || !tcp[CTA_PROTOINFO_TCP_STATE])
		return err;
	f->tcp_state = attr_u8(tcp[CTA_PROTOINFO_TCP_STATE]);
	f->has |= CT_HAS_TCP_STATE;
	return CT_PARSE_OK;
}

static int parse_scalars(const struct nlattr *const *tb, struct ct_flow *f)
{
	if (!tb[CTA_ID])
		return CT_PARSE_EMISSING;
	f->id = ntohl(attr_u32(tb[CTA_ID]));
	if (tb[CTA_STATUS]) {
		f->status = ntohl(attr_u32(tb[CTA_STATUS]));
		f->has |= CT_HAS_STATUS;
	}
	if (tb[CTA_MARK]) {
		f->mark = ntohl(attr_u32(tb[CTA_MARK]));
		f->has |= CT_HAS_MARK;
	}
	if (tb[CTA_ZONE]) {
		f->zone = ntohs(attr_u16(tb[CTA_ZONE]));
		f->has |= CT_HAS_ZONE;
	}
	if (tb[CTA_LABELS]) {
		uint16_t n = attr_len(tb[CTA_LABELS]);

		if (n == 0 || n > sizeof(f->labels))
			return CT_PARSE_EATTR;
		memcpy(f->labels, attr_data(tb[CTA_LABELS]), n);
		f->labels_len = (uint8_t)n;
		f->has |= CT_HAS_LABELS;
	}
	return CT_PARSE_OK;
}

static int parse_attrs(const struct nlattr *const *tb, struct ct_flow *f)
{
	int err;

	if (!tb[CTA_TUPLE_ORIG] || !tb[CTA_TUPLE_REPLY])
		return CT_PARSE_EMISSING;
	err = parse_tuple(tb[CTA_TUPLE_ORIG], f->family, &f->tuple[CT_ORIG]);
	if (!err)
		err = parse_tuple(tb[CTA_TUPLE_REPLY], f->family, &f->tuple[CT_REPLY]);
	if (!err)
		err = parse_scalars(tb, f);
	if (err)
		return err;
	if (tb[CTA_COUNTERS_ORIG] && tb[CTA_COUNTERS_REPLY]) {
		err = parse_counters(tb[CTA_COUNTERS_ORIG], &f->pkts[CT_ORIG], &f->bytes[CT_ORIG]);
		if (!err)
			err = parse_counters(tb[CTA_COUNTERS_REPLY], &f->pkts[CT_REPLY],
					     &f->bytes[CT_REPLY]);
		if (err)
			return err;
		f->has |= CT_HAS_COUNTERS;
	} else if (tb[CTA_COUNTERS_ORIG] || tb[CTA_COUNTERS_REPLY]) {
		return CT_PARSE_EMISSING;
	}
	if (tb[CTA_PROTOINFO] && (err = parse_protoinfo(tb[CTA_PROTOINFO], f)) != 0)
		return err;
	if (tb[CTA_TIMESTAMP])
		return parse_timestamp(tb[CTA_TIMESTAMP], f);
	return CT_PARSE_OK;
}

int ct_parse_msg(const void *msg, size_t len, struct ct_flow *out)
{
	const struct nlmsghdr *nlh = msg;
	const size_t hdrs = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg));
	const struct nlattr *tb[CTA_MAX + 1] = { 0 };

	if (len < sizeof(*nlh) || nlh->nlmsg_len > len || nlh->nlmsg_len < hdrs)
		return CT_PARSE_ETRUNC;
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK)
		return CT_PARSE_ETYPE;
	uint8_t msgtype = NFNL_MSG_TYPE(nlh->nlmsg_type);

	if (msgtype != IPCTNL_MSG_CT_NEW && msgtype != IPCTNL_MSG_CT_DELETE)
		return CT_PARSE_ETYPE;
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);

	if (nfg->nfgen_family != AF_INET && nfg->nfgen_family != AF_INET6)
		return CT_PARSE_EFAMILY;
	memset(out, 0, sizeof(*out));
	out->family = nfg->nfgen_family;
	out->kind = msgtype == IPCTNL_MSG_CT_DELETE ? CT_MSG_FLOW_DESTROY : CT_MSG_FLOW_NEW;
	int err = attr_table((const char *)nlh + hdrs, nlh->nlmsg_len - hdrs, top_policy, CTA_MAX,
			     tb);

	return err ? err : parse_attrs(tb, out);
}

static int walk_error(const struct nlmsghdr *nlh, const struct ct_walk_cb *cb)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*e))
		return cb->item(cb->arg, CT_ITEM_BAD, NULL, CT_PARSE_ETRUNC);
	if (e->error == 0) /* an ACK */
		return cb->item(cb->arg, CT_ITEM_OTHER, NULL, 0);
	return cb->item(cb->arg, CT_ITEM_ERROR, NULL, e->error < 0 ? -e->error : e->error);
}

static int walk_one(const struct nlmsghdr *nlh, const struct ct_walk_cb *cb)
{
	struct ct_flow flow;
	int err;

	switch (nlh->nlmsg_type) {
	case NLMSG_DONE:
		return cb->item(cb->arg, CT_ITEM_DONE, NULL, 0);
	case NLMSG_ERROR:
		return walk_error(nlh, cb);
	case NLMSG_NOOP:
	case NLMSG_OVERRUN:
		return cb->item(cb->arg, CT_ITEM_OTHER, NULL, 0);
	default:
		err = ct_parse_msg(nlh, nlh->nlmsg_len, &flow);
		if (err)
			return cb->item(cb->arg, CT_ITEM_BAD, NULL, err);
		return cb->item(cb->arg, CT_ITEM_FLOW, &flow, 0);
	}
}

size_t ct_parse_walk(const void *buf, size_t len, const struct ct_walk_cb *cb)
{
	const char *p = buf;
	size_t seen = 0;

	while (len >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)p;

		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len)
			break;
		seen++;
		if (walk_one(nlh, cb))
			return seen;
		size_t step = MNL_ALIGN(nlh->nlmsg_len);

		if (step > len)
			step = len;
		p += step;
		len -= step;
	}
	if (len > 0) {
		seen++;
		cb->item(cb->arg, CT_ITEM_BAD, NULL, CT_PARSE_ETRUNC);
	}
	return seen;
}
