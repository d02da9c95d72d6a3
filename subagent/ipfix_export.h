/*
 * ipfix_export: the Exporting Process.  One Transport Session per
 * configured collector, UDP or TCP, IPv4 or IPv6, each with its own
 * templates, sequence numbers (data records sent before each message, per
 * session and observation domain) and statistics.
 *
 * Every flow slice becomes one record queued to every session.  A session
 * keeps at most `buffer` records waiting; beyond that records are dropped
 * and counted (notSent*), and the counts go to the collector in the RFC 7011
 * 4.3 options records.  UDP: templates at start and every template_refresh,
 * messages sized to the MTU, one socket so the source port never changes.
 * TCP: templates first on every connection, reconnect every `reconnect`
 * while the collector is away, records buffered meanwhile; a message counts
 * as sent once the collector acknowledged it (ipfix_session.h).
 *
 *   ipfix_export     the exporter: sessions, timers, reload, what the MIB reads
 *   ipfix_session    one session's logic: ring, messages, accounting (no sockets)
 *   ipfix_transport  one session's socket: connect, back-off, writes, acks
 *   ipfix_rec        conntrack flows as IPFIX records and templates
 *   ipfix_enc        the message encoder
 */
#ifndef CTFLOWD_IPFIX_EXPORT_H
#define CTFLOWD_IPFIX_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "acct_track.h"
#include "base_loop.h"
#include "base_store.h"
#include "ipfix_enc.h"

#define IPFIX_NAME_MAX 32

struct ipfix_collector_cfg {
	char name[IPFIX_NAME_MAX + 1];
	char address[64];           /* IPv4 or IPv6 literal */
	uint16_t port;
	int tcp;
	uint32_t mtu;               /* UDP: path MTU the messages must fit */
	uint32_t template_refresh_ms;
	uint32_t buffer;            /* records held while the collector is away or slow */
	uint32_t reconnect_ms;      /* first retry after a failure (TCP) */
	uint32_t reconnect_max_ms;  /* retries back off, doubling, up to this */
	int statistics;             /* send the options records (and their templates) */
	int uniflow;                /* a record per direction, standard IEs (ipfix_rec.h) */
	int reduced;                /* counters as narrow as each slice allows (ipfix_rec.h) */
};

struct ipfix_cfg {
	uint32_t domain;            /* observation domain id */
	int enterprise_ies;         /* zone, mark and labels in the flow templates */
	uint32_t stats_interval_ms; /* options records */
	size_t ncollectors;
	const struct ipfix_collector_cfg *collectors;
};

/* ctflowd's own loss counters and suspicious events, reported in an
 * options record. */
struct ipfix_loss {
	uint64_t events_lost, overruns, ended_unobserved, rejected;
	uint64_t incarnations, duplicate_destroys, stale_rows, dying_rows, late_destroys;
	uint64_t ended_while_down, counter_resets, tracking_refused;
};

struct ipfix_source {
	void (*loss)(void *arg, struct ipfix_loss *out);
	void *arg;
};

enum ipfix_state { IPFIX_DOWN, IPFIX_CONNECTING, IPFIX_UP };

struct ipfix_session_stats {
	int state;                  /* enum ipfix_state */
	uint64_t messages, octets, records;   /* sent (TCP: acknowledged); records: flow records */
	uint64_t templates, opt_templates;    /* template records sent */
	uint64_t discarded_messages;          /* not sent: send error, cut off, or records
					       * dropped from a full buffer (as packed) */
	uint64_t notsent_flows, notsent_packets, notsent_octets;
	uint64_t first_drop_ms, last_drop_ms;
	uint64_t buffered;                    /* records waiting now (the ring) */
	uint64_t held;                        /* records neither sent nor counted as not
					       * sent: the ring, messages being written,
					       * messages in flight (TCP, unacknowledged) */
	uint64_t buffered_max;                /* the most that ever waited */
	uint64_t connects;                    /* sessions started (TCP connections) */
	uint64_t session_start_ms;            /* realtime of the current session's start */
	uint32_t seq;                         /* next sequence number */
	uint64_t data_records;                /* all data records sent: flow and options */
	uint64_t packets;                     /* UDP: datagrams; TCP: data segments */
	uint64_t rate;                        /* octets sent in the last whole second */
};

/* Where a session runs: the exporter's end (last known; zero before the
 * first connection) and the collector's. */
struct ipfix_session_info {
	int family;                           /* AF_INET or AF_INET6 */
	uint8_t local[16], remote[16];
	uint16_t local_port, remote_port;
};

/* A template as announced on a session. */
struct ipfix_template_row {
	const struct ipfix_template *t;
	uint64_t records;   /* data records sent with it since it (re)appeared */
	uint64_t sent_ms;   /* realtime of its last announcement */
	uint64_t since_ms;  /* monotonic time when it (re)appeared */
};

/* The Metering Process as the exporter saw it. */
struct ipfix_metering {
	uint64_t records;   /* flow records generated (slices) */
	uint64_t packets;   /* packets those records account for, both directions */
	uint64_t start_ms;  /* monotonic time the counters started from */
};

struct ipfix_exporter;

/* NULL with errno on failure (bad address, no memory). */
struct ipfix_exporter *ipfix_exporter_new(const struct ipfix_cfg *cfg, struct loop *lp,
					  const struct ipfix_source *src, struct store *st);
/* The most bytes of journal one slice may save. */
size_t ipfix_exporter_save_max(const struct ipfix_exporter *x);
/* Closes everything (what waits stays in the store for the next start). */
void ipfix_exporter_free(struct ipfix_exporter *x);
/*
 * A reload's settings and collectors.  Unchanged collectors keep their
 * sessions (connection, records waiting, sequence numbers, counters);
 * removed or changed ones' waiting records are counted as not sent (and
 * logged).  A new domain or template set reconnects every session, records
 * kept.  *kept: how many sessions were kept.  -1 if a new session could not
 * be set up (logged; the others run).
 */
int ipfix_exporter_reconfigure(struct ipfix_exporter *x, const struct ipfix_cfg *cfg,
			       size_t *kept);

void ipfix_exporter_slice(struct ipfix_exporter *x, const struct slice *s);

/* Records still to send to collectors that are up (what a shutdown waits for). */
uint64_t ipfix_exporter_pending(const struct ipfix_exporter *x);
/* At exit: what is still queued waits in the state directory for the next
 * start; without one it will not be sent: counted as not sent and logged. */
void ipfix_exporter_abandon(struct ipfix_exporter *x);

size_t ipfix_exporter_sessions(const struct ipfix_exporter *x);
uint32_t ipfix_exporter_domain(const struct ipfix_exporter *x);
const struct ipfix_collector_cfg *ipfix_exporter_collector(const struct ipfix_exporter *x,
							   size_t i);
void ipfix_exporter_stats(const struct ipfix_exporter *x, size_t i,
			  struct ipfix_session_stats *out);
void ipfix_exporter_session_info(const struct ipfix_exporter *x, size_t i,
				 struct ipfix_session_info *out);
/* The template with the smallest id >= tid that session i has announced and
 * still holds valid (a TCP session's templates end with its connection):
 * 1 and *out, or 0. */
int ipfix_exporter_template(const struct ipfix_exporter *x, size_t i, uint32_t tid,
			    struct ipfix_template_row *out);
void ipfix_exporter_metering(const struct ipfix_exporter *x, struct ipfix_metering *out);

#endif
