/*
 * ipfix_session: one Transport Session's logic, without sockets.
 *
 * Records wait in a ring as structs, not bytes: a message's sequence
 * number and the templates it relies on belong to one transport session,
 * so records that wait out a TCP reconnection must be encoded for the new
 * session.  The pump turns waiting records into messages (templates first,
 * a message cut short again, options records when due, then data) and hands
 * each to the transport (struct ipfix_link); it holds at most one message
 * the transport has not taken yet.
 *
 * What counts as sent: over UDP, a datagram the kernel took; over TCP, a
 * message the collector has acknowledged (the kernel's count of bytes the
 * peer acknowledged, ipfix_session_acked).  Messages written but not yet
 * acknowledged are "in flight"; when the connection ends (a reset, say),
 * those are counted as not sent (notSent*, discarded messages): a collector
 * that resets cannot have read them.  So at any time
 *     records generated = sent + not sent + waiting (ring, message, flight).
 *
 * The session's state is a store region (the caller maps it): the ring, the
 * header with sequence number, counters and what is in flight, the message
 * being written and one to send again.  A message's records leave the ring
 * in a transaction that commits before the message is written; it joins the
 * flight (TCP) or is counted as sent (UDP) in one that commits after the
 * kernel took all of it.  After a kill, what was in flight is taken as sent
 * (the kernel delivers a dead process's queued data on its own), a message
 * the kernel had not taken whole goes again, whole.
 */
#ifndef CTFLOWD_IPFIX_SESSION_H
#define CTFLOWD_IPFIX_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "base_store.h"
#include "ipfix_enc.h"
#include "ipfix_export.h"
#include "ipfix_rec.h"

#define IPFIX_MSG_MAX 16384     /* a TCP message; UDP ones are sized to the MTU */
#define IPFIX_TEMPLATES_MAX 16  /* data templates, and as many options templates */
#define IPFIX_FLIGHT_MAX 1024   /* TCP messages written, not yet acknowledged */

/* What the sessions of one exporter share. */
struct ipfix_common {
	struct store *st;
	uint32_t domain;
	int enterprise_ies;
	uint32_t epid;              /* exportingProcessId */
	struct ipfix_source src;    /* ctflowd's loss counters, for the options records */
	const struct ipfix_template *data_t[IPFIX_MODES][IPFIX_TEMPLATES_MAX]; /* [mode] */
	const struct ipfix_template *opt_t[IPFIX_TEMPLATES_MAX];
	size_t ndata[IPFIX_MODES], nopt;
	uint8_t msg[65536];         /* where a message is built */
};

/* The transport a session writes through.  write() takes up to len bytes
 * of a message (a datagram transport all or nothing) and returns how many,
 * or one of: */
enum { IPFIX_LINK_WAIT = -1,    /* nothing taken now: call again when writable */
       IPFIX_LINK_LOST = -2,    /* the datagram is lost (an error not worth a retry) */
       IPFIX_LINK_BROKEN = -3 };/* the connection is gone: the caller ends it */
struct ipfix_link {
	long (*write)(void *arg, const uint8_t *p, size_t len);
	void *arg;
};

/* A template's life on one session: announced, and how much it carried. */
struct ipfix_tstate {
	int live;
	uint64_t records, sent_ms, since_ms;
};

struct ipfix_sess_hdr;
struct ipfix_flight;

/* A collector's format (ipfix_rec.h): uniflow or biflow, reduced or not. */
static inline unsigned ipfix_cfg_mode(const struct ipfix_collector_cfg *c)
{
	return (c->uniflow ? IPFIX_MODE_UNIFLOW : 0u) | (c->reduced ? IPFIX_MODE_REDUCED : 0u);
}

struct ipfix_session {
	struct ipfix_common *c;      /* shared: c->msg is where messages are built */
	struct ipfix_collector_cfg cfg;
	size_t msg_max;
	struct ipfix_sess_hdr *h;    /* the region: the header ... */
	uint8_t *out;                /* ... the message being written ... */
	uint8_t *again;              /* ... one to send again ... */
	struct ipfix_flight *flight; /* ... what is in flight ... */
	struct ipfix_flowrec *ring;  /* ... and the ring of waiting records */
	struct ipfix_tstate tmpl[2 * IPFIX_TEMPLATES_MAX]; /* by position (data, then options) */
	size_t nopt;                 /* options templates this session uses */
	int need_templates, need_stats;
	size_t next_template;        /* announcing: the first template not yet sent */
	uint64_t templates_due_ms;
	uint64_t rate_base, rate;    /* octets at the last rate tick; of the last second */
};

/* The region a session of `buffer` records needs; whether a kept one is sound
 * (NULL) or why not. */
size_t ipfix_session_region_size(uint32_t buffer);
uint64_t ipfix_session_layout(void);
/* The most bytes of journal a record pushed may save. */
size_t ipfix_session_save_max(void);
const char *ipfix_session_check(const void *region, uint32_t buffer);

/*
 * Attach the session to its region (kept: the last run's, checked) and
 * settle what the last run left: the message being written goes again if
 * the kernel had not taken it whole, what was in flight is taken as sent.
 * msg_max: the largest message (UDP: what fits the path MTU).
 */
void ipfix_session_attach(struct ipfix_session *s, struct ipfix_common *c,
			  const struct ipfix_collector_cfg *cfg, size_t msg_max, void *region,
			  int kept);

/* A record for the collector; a full ring drops it (counted). */
void ipfix_session_push(struct ipfix_session *s, const struct ipfix_flowrec *r);

/* The transport's state changes: connecting, up (a new transport session:
 * templates first; TCP sequence numbers from 0, UDP ones go on), down (the
 * message cut short goes again over TCP, is lost over UDP; what is in
 * flight beyond `acked` bytes is not sent; the templates are forgotten). */
void ipfix_session_connecting(struct ipfix_session *s);
void ipfix_session_up(struct ipfix_session *s);
void ipfix_session_down(struct ipfix_session *s, uint64_t acked);
int ipfix_session_is_up(const struct ipfix_session *s);

/* TCP: the collector has acknowledged `acked` bytes of this connection. */
void ipfix_session_acked(struct ipfix_session *s, uint64_t acked);

enum ipfix_pump { IPFIX_PUMP_IDLE, IPFIX_PUMP_MORE, IPFIX_PUMP_BLOCKED, IPFIX_PUMP_BROKEN };
/* Build and write up to `budget` messages.  MORE: there is more to send now;
 * BLOCKED: the transport took not all, call again when it is writable;
 * BROKEN: it reported the connection gone (the caller ends it). */
enum ipfix_pump ipfix_session_pump(struct ipfix_session *s, const struct ipfix_link *l,
				   int budget);
/* The options records are due (every stats_interval). */
void ipfix_session_stats_due(struct ipfix_session *s);
/* ipfixTransportSessionRate: once a second. */
void ipfix_session_rate_tick(struct ipfix_session *s);

/* Records still to deliver (ring, message, in flight): what a shutdown waits for. */
uint64_t ipfix_session_pending(const struct ipfix_session *s);
/* Everything waiting is counted as not sent (at exit without a state
 * directory, or when the collector is removed); returns the records. */
uint64_t ipfix_session_drop_all(struct ipfix_session *s);
/* The message to send again is dropped (counted as not sent): the templates
 * it was encoded with are gone. */
void ipfix_session_drop_again(struct ipfix_session *s);
/* In flight: what a connection being closed in order has not had
 * acknowledged; counted as not sent, returns the records. */
uint64_t ipfix_session_drop_flight(struct ipfix_session *s);
/* TCP, at an orderly end: withdraw each template the session announced,
 * in one message written at once, unless a message is half written (the
 * collector would read garbage).  0 when written, -1 when not. */
int ipfix_session_withdraw(struct ipfix_session *s, const struct ipfix_link *l);

void ipfix_session_get_stats(const struct ipfix_session *s, struct ipfix_session_stats *out);
uint64_t ipfix_session_waiting(const struct ipfix_session *s);
/* Flow records neither sent nor counted as not sent yet: in the ring, in
 * the message being written or to send again, in flight. */
uint64_t ipfix_session_records_held(const struct ipfix_session *s);
/* UDP: the local port the collector knows the session by (0: none yet). */
uint16_t ipfix_session_port(const struct ipfix_session *s);
void ipfix_session_set_port(struct ipfix_session *s, uint16_t port);
/* The template at position p (NULL past the last) and its state. */
const struct ipfix_template *ipfix_session_template(const struct ipfix_session *s, size_t p);

#endif
