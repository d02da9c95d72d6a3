/*
 * ipfix_transport: the socket under one IPFIX session.  UDP: one socket
 * for the session's life, connect()ed to fix the peer, bound again to the
 * same local port after a restart (the collector knows the session by it).
 * TCP: a non-blocking connect, retried with a back-off that doubles up to
 * reconnect_max while the collector refuses or is away; the bytes the peer
 * acknowledged (tcp_info) tell the session what the collector has.  All of
 * it from the event loop: nothing here ever blocks.
 */
#ifndef CTFLOWD_IPFIX_TRANSPORT_H
#define CTFLOWD_IPFIX_TRANSPORT_H

#include <stdint.h>
#include <sys/socket.h>

#include "base_loop.h"
#include "ipfix_session.h"

struct ipfix_transport {
	struct ipfix_session *s;
	struct loop *lp;
	struct sockaddr_storage sa, local;
	socklen_t salen;
	int fd, io;
	uint64_t tcp_segs;           /* data segments of the TCP connections that ended */
	uint64_t reconnect_at_ms;    /* monotonic */
	uint32_t backoff_ms;         /* wait before the next connection attempt */
	int was_up;                  /* the attempt that is ending had connected */
	int blocked;                 /* waiting for POLLOUT */
};

/* -1 (errno EINVAL) when the collector's address is not a literal. */
int ipfix_transport_init(struct ipfix_transport *t, struct ipfix_session *s, struct loop *lp);
/* Connect when due, write what the session has (up to budget messages),
 * settle what the collector acknowledged.  1 when there is more right now. */
int ipfix_transport_pump(struct ipfix_transport *t, int budget);
/* TCP, connected: withdraw the session's templates (ipfix_session_withdraw). */
void ipfix_transport_withdraw(struct ipfix_transport *t);
/* Close (an orderly end: what is in flight then is not acknowledged). */
void ipfix_transport_close(struct ipfix_transport *t);
/* The largest message the path takes (UDP: what fits the MTU). */
size_t ipfix_transport_msg_max(const struct ipfix_collector_cfg *c);
/* UDP datagrams or TCP data segments sent so far. */
uint64_t ipfix_transport_packets(const struct ipfix_transport *t);

#endif
