/*
 * kern_ctparse: ctnetlink message bytes -> struct ct_flow.  Pure: no I/O, no
 * logging, no allocation, so it is the unit-test and fuzz target for
 * everything the kernel (or anyone able to write to our socket) sends us.
 */
#ifndef CTFLOWD_KERN_CTPARSE_H
#define CTFLOWD_KERN_CTPARSE_H

#include <stddef.h>
#include <stdint.h>

enum ct_dir { CT_ORIG = 0, CT_REPLY = 1 };

/* Addresses in network byte order; IPv4 uses the first 4 bytes, rest zero. */
union ct_addr {
	uint8_t b[16];
	uint32_t w[4];
};

struct ct_tuple {
	union ct_addr src, dst;
	uint16_t sport, dport; /* host order; 0 for protocols without ports */
	uint16_t icmp_id;      /* ICMP/ICMPv6 echo identifier */
	uint8_t icmp_type, icmp_code;
	uint8_t proto;
	uint8_t has_zone;
	uint16_t zone;         /* CTA_TUPLE_ZONE, per-direction zone */
};

/* Which optional parts were present (ct_flow.has). */
enum {
	CT_HAS_COUNTERS = 1u << 0, /* nf_conntrack_acct was on */
	CT_HAS_START = 1u << 1,    /* nf_conntrack_timestamp was on */
	CT_HAS_STOP = 1u << 2,
	CT_HAS_MARK = 1u << 3,
	CT_HAS_ZONE = 1u << 4,
	CT_HAS_LABELS = 1u << 5,
	CT_HAS_STATUS = 1u << 6,
	CT_HAS_TCP_STATE = 1u << 7,
};

enum ct_msg_kind { CT_MSG_FLOW_NEW = 0, CT_MSG_FLOW_DESTROY = 1 };

struct ct_flow {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t kind;   /* enum ct_msg_kind */
	uint16_t zone;
	uint32_t has;
	uint32_t id, mark, status;
	struct ct_tuple tuple[2]; /* [CT_ORIG], [CT_REPLY] */
	uint64_t pkts[2], bytes[2];
	uint64_t start_ns, stop_ns; /* CLOCK_REALTIME nanoseconds */
	uint8_t labels_len;
	uint8_t labels[16];
	uint8_t tcp_state; /* TCP_CONNTRACK_* (linux/netfilter/nf_conntrack_tcp.h) */
};

enum ct_parse_err {
	CT_PARSE_OK = 0,
	CT_PARSE_ETRUNC,    /* message shorter than its headers */
	CT_PARSE_EATTR,     /* an attribute with a bad length or layout */
	CT_PARSE_EFAMILY,   /* not AF_INET/AF_INET6, or addresses of the other family */
	CT_PARSE_ETYPE,     /* not a ctnetlink conntrack message */
	CT_PARSE_EMISSING,  /* a mandatory attribute is absent */
	CT_PARSE_NERR
};

const char *ct_parse_strerror(int err);

/*
 * Parse one netlink message (header included) of `len` bytes.  Returns
 * CT_PARSE_OK and fills *out, or a positive enum ct_parse_err; *out is then
 * unspecified.
 */
int ct_parse_msg(const void *msg, size_t len, struct ct_flow *out);

/* What a buffer walk found, message by message. */
enum ct_item { CT_ITEM_FLOW, CT_ITEM_BAD, CT_ITEM_DONE, CT_ITEM_ERROR, CT_ITEM_OTHER };

struct ct_walk_cb {
	/* flow is set for CT_ITEM_FLOW; err is the parse error for CT_ITEM_BAD and
	 * the (positive) errno for CT_ITEM_ERROR.  Return non-zero to stop. */
	int (*item)(void *arg, enum ct_item item, const struct ct_flow *flow, int err);
	void *arg;
};

/*
 * Walk every netlink message in a datagram.  A trailing fragment too short to
 * be a message is reported once as CT_ITEM_BAD/CT_PARSE_ETRUNC.  Returns the
 * number of messages seen.
 */
size_t ct_parse_walk(const void *buf, size_t len, const struct ct_walk_cb *cb);

/* ICMP or ICMPv6: identified by id, type and code instead of ports. */
static inline int ct_is_icmp(uint8_t proto)
{
	return proto == 1 || proto == 58;
}

/* ICMP type/code folded into a port-like number, the NetFlow convention. */
static inline uint16_t ct_icmp_port(const struct ct_tuple *t)
{
	return (uint16_t)(t->icmp_type << 8 | t->icmp_code);
}

#endif
