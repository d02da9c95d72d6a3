/*
 * ipfix_rec: what ctflowd exports, as data.  A flow slice becomes one
 * biflow record (RFC 5103): the original direction's counters as
 * octet/packetDeltaCount, the reply direction's as their reverse IEs
 * (enterprise 29305), so a collector's sums of the deltas equal the kernel's
 * counters.  Templates: IPv4 and IPv6, each plain and with post-NAT fields
 * (used when the reply tuple shows translation), optionally with zone, mark
 * and labels as enterprise IEs; and the options templates that carry the
 * exporter's statistics and ctflowd's own loss counters.  Pure.
 *
 * Uniflow (a collector's `export = uniflow`, for collectors that drop
 * enterprise IEs and so RFC 5103's reverse counters): a slice becomes one
 * record per direction that carried traffic, with standard IEs only.  The
 * reply direction's record has the original tuple turned around (source:
 * the original destination), and both share the flowId, which joins them.
 * Their own template ids: a collector never sees an id change content.
 *
 * Reduced-size encoding (RFC 7011 6.2, a collector's `encoding = reduced`): a record's counters take 2 octets (octets) and 1 (packets)
 * when every counter of the slice fits, else 4 and 4, else 8 and 8; each
 * width has its own templates (ids 336-351, 320-335, and 256-271, the ids
 * the 64-bit counters always had).
 */
#ifndef CTFLOWD_IPFIX_REC_H
#define CTFLOWD_IPFIX_REC_H

#include <stdint.h>

#include "acct_track.h"
#include "ipfix_enc.h"

/* ctflowd's enterprise IEs live under this number (IANA's documentation PEN,
 * RFC 5612, like CTFLOW-MIB's root) until the project has its own. */
#define IPFIX_PEN_CTFLOWD 32473

enum ipfix_ct_ie {
	CT_IE_MARK = 1,            /* unsigned32 */
	CT_IE_ZONE = 2,            /* unsigned16 */
	CT_IE_LABELS = 3,          /* octetArray(16), the 128-bit label bitmap */
	CT_IE_EVENTS_LOST = 4,     /* unsigned64: DESTROY events the kernel dropped */
	CT_IE_OVERRUNS = 5,        /* unsigned64: netlink receive overruns */
	CT_IE_ENDED_UNOBSERVED = 6,/* unsigned64: flows closed without their DESTROY */
	CT_IE_REJECTED = 7,        /* unsigned64: netlink messages that failed validation */
	CT_IE_INCARNATIONS = 8,    /* unsigned64: conntrack ids reused by a new connection */
	CT_IE_DUPLICATE_DESTROYS = 9, /* unsigned64: DESTROY events seen twice */
	CT_IE_STALE_ROWS = 10,     /* unsigned64: dump rows older than their DESTROY */
	CT_IE_DYING_ROWS = 11,     /* unsigned64: dump rows of connections being destroyed */
	CT_IE_LATE_DESTROYS = 12,  /* unsigned64: DESTROY after an unobserved close */
	CT_IE_ENDED_WHILE_DOWN = 13, /* unsigned64: connections that ended while ctflowd was down */
	CT_IE_COUNTER_RESETS = 14, /* unsigned64: conntrack counters zeroed by someone else */
	CT_IE_TRACKING_REFUSED = 15, /* unsigned64: flows not tracked (table full) */
};

/* flowEndReason (IE 136) */
enum { END_IDLE = 1, END_ACTIVE = 2, END_OF_FLOW = 3, END_FORCED = 4, END_LACK_OF_RESOURCES = 5 };

struct ipfix_flowrec {
	union ct_addr src, dst;     /* original direction */
	union ct_addr nsrc, ndst;   /* after NAT: reply destination and source */
	uint64_t octets[2], packets[2]; /* deltas: [0] original, [1] reply */
	uint64_t start_ms, end_ms;
	uint32_t id, mark;
	uint16_t sport, dport, nsport, ndport;
	uint16_t icmp;              /* type << 8 | code for ICMP/ICMPv6, else 0 */
	uint16_t zone;
	uint8_t proto, family, reason, nat;
	uint8_t labels[16];
};

void ipfix_rec_from_slice(const struct slice *s, struct ipfix_flowrec *r);

/* A collector's format: bits of mode. */
#define IPFIX_MODE_UNIFLOW 1u  /* a record per direction, standard IEs */
#define IPFIX_MODE_REDUCED 2u  /* counters as narrow as the slice allows */
#define IPFIX_MODES 4u

/* The template a record is exported with (enterprise: add zone, mark, labels;
 * uniflow: one record per direction, the same template for both). */
const struct ipfix_template *ipfix_rec_template(const struct ipfix_flowrec *r, int enterprise,
						unsigned mode);
/* All data templates of a mode, for announcing them. */
size_t ipfix_rec_templates(int enterprise, unsigned mode, const struct ipfix_template **out,
			   size_t max);
/* The directions a uniflow export sends a record for: bit 0 original, bit 1
 * reply; those that carried packets, and the original one when neither did
 * (so the flow's end is still exported). */
unsigned ipfix_rec_uni_dirs(const struct ipfix_flowrec *r);
/* Octets a slice takes on the wire as data records (one, or one per direction). */
size_t ipfix_rec_wire_len(const struct ipfix_flowrec *r, int enterprise, unsigned mode);
/* The values of the record of direction dir: 0 the biflow record, or the
 * original direction's uniflow record; 1 the reply direction's. */
void ipfix_rec_values(const struct ipfix_flowrec *r, int dir, struct ipfix_values *v);

/* ---- options records (RFC 7011 section 4, plus ctflowd's loss counters) ---- */

struct ipfix_stats_in {
	uint32_t odid, exporting_process_id;
	/* this collector's session */
	uint64_t messages, records, octets;
	uint64_t notsent_flows, notsent_packets, notsent_octets;
	uint64_t first_drop_ms, last_drop_ms;
	/* ctflowd's collector */
	uint64_t events_lost, overruns, ended_unobserved, rejected;
	uint64_t incarnations, duplicate_destroys, stale_rows, dying_rows, late_destroys;
	uint64_t ended_while_down, counter_resets, tracking_refused;
	uint64_t now_ms;
};

/* The options templates: metering statistics (4.1, template 300), ctflowd's
 * metering reliability with its loss counters and every suspicious event its
 * accounting saw (303; 301 was its earlier form, without the latter: a new id,
 * since a collector keeps an id's definition for the session), exporting
 * reliability (4.3, 302). */
size_t ipfix_opt_templates(const struct ipfix_template **out, size_t max);
void ipfix_opt_values(const struct ipfix_stats_in *in, struct ipfix_values *v);

#endif
