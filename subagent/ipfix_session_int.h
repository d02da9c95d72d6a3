/*
 * ipfix_session_int.h: a session's state as its two files see it
 * (ipfix_session.c: the books; ipfix_pump.c: building and writing messages).
 * Nothing else includes this.
 */
#ifndef CTFLOWD_IPFIX_SESSION_INT_H
#define CTFLOWD_IPFIX_SESSION_INT_H

#include <time.h>

#include "base_clock.h"
#include "ipfix_session.h"

/* A message handed to the transport: written while len > off. */
struct ipfix_out {
	uint32_t len, off;
	uint32_t blocked;            /* the transport did not take all of it at once */
	uint32_t data;               /* data records in it, flow and options */
	uint64_t records, packets, octets; /* flow records and what they carry */
	uint32_t trecs[2 * IPFIX_TEMPLATES_MAX]; /* data records per template position */
};

/* A TCP message written, waiting for the collector's acknowledgement. */
struct ipfix_flight {
	uint64_t end;                /* the connection's byte count after it */
	struct ipfix_out m;
};

/* What a session keeps across restarts (saved once per transaction). */
struct ipfix_sess_hdr {
	uint32_t epoch;
	uint32_t head, count;        /* the ring of waiting records */
	uint32_t capacity;
	uint64_t drop_fill;          /* overflow: octets of the message being dropped */
	uint16_t local_port;         /* UDP: bound again after a restart */
	uint16_t pad[3];
	uint32_t fl_head, fl_count;  /* the flight */
	uint64_t written;            /* bytes this TCP connection took */
	struct ipfix_out out;        /* the message being written */
	struct ipfix_out again;      /* one to send again, after the templates */
	struct ipfix_session_stats st;
};

#define HDR_BYTES ((sizeof(struct ipfix_sess_hdr) + 63) & ~(size_t)63)
#define FLIGHT_BYTES (IPFIX_FLIGHT_MAX * sizeof(struct ipfix_flight))
#define LAYOUT 2u

/* ---- transactions ---- */

/* Begin one unless the caller holds one (the event path does): 1 if begun. */
static inline int t_begin(const struct ipfix_session *s)
{
	if (store_epoch(s->c->st))
		return 0;
	store_begin(s->c->st);
	return 1;
}

static inline void t_end(const struct ipfix_session *s, int began)
{
	if (began)
		store_commit(s->c->st);
}

/* The header, saved once per transaction before it changes. */
static inline struct ipfix_sess_hdr *hw(struct ipfix_session *s)
{
	uint32_t epoch = store_epoch(s->c->st);

	if (s->h->epoch != epoch) {
		store_save(s->c->st, s->h, sizeof(*s->h));
		s->h->epoch = epoch;
	}
	return s->h;
}

static inline uint64_t real_ms(void)
{
	return clock_real_ns() / 1000000u;
}

static inline uint32_t export_time(void)
{
	return (uint32_t)time(NULL);
}

/* ipfix_session.c: the books */
const struct ipfix_flowrec *sess_ring_peek(const struct ipfix_session *s);
void sess_ring_pop(struct ipfix_session *s);
void sess_out_done(struct ipfix_session *s);     /* the transport took all of `out` */
void sess_out_lost(struct ipfix_session *s);     /* `out` will not be sent */

#endif
