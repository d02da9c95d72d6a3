/*
 * kern_ctsock: what ctflowd receives from ctnetlink, events and dumps.
 *
 * The event socket is subscribed to DESTROY only and read with recvmmsg in
 * batches.  An overrun (ENOBUFS) is an event: it is counted, the receive
 * buffer grows (up to a cap) and the owner is told so it can resync with a
 * dump.  The exact number of lost events comes from SO_MEMINFO drops, since
 * ENOBUFS only marks episodes.
 *
 * Dumps are plain IPCTNL_MSG_CT_GET (never the get-and-zero variant, which
 * would corrupt every other consumer's counters), run by kern_dumper's thread
 * and applied here, a bounded number of rows per call, so that a
 * million-entry table never blocks the loop.
 *
 * The events are received into the store's receive area, and each recvmmsg
 * batch is applied in a store transaction: a batch a kill interrupted is
 * still there at the next start (ctsock_redo), so no event the kernel handed
 * over is ever lost.  The counters are a store region too, so they continue
 * across restarts.
 */
#ifndef CTFLOWD_KERN_CTSOCK_H
#define CTFLOWD_KERN_CTSOCK_H

#include <stddef.h>
#include <stdint.h>

#include "base_lock.h"
#include "base_store.h"
#include "kern_ctparse.h"

struct ctsock_cfg {
	uint64_t rcvbuf;     /* requested SO_RCVBUFFORCE size */
	uint64_t rcvbuf_max; /* growth cap */
	int reliable;        /* NETLINK_BROADCAST_ERROR + NETLINK_NO_ENOBUFS */
	/* offered (lock_yield) between two batches of events, when no
	 * transaction is open: another thread waiting to read the state gets
	 * in there, not only after the whole read.  NULL: none. */
	struct state_lock *lock;
};

struct ctsock_sink {
	/* DESTROY events, in arrival order, a batch (up to one recvmmsg) at a time,
	 * so the owner can prefetch what the whole batch will touch.  Called in a
	 * store transaction; flows[0] is item `first` of the receive area (for
	 * store_commit_rx, should the owner commit part of the batch early). */
	void (*events)(void *arg, const struct ct_flow *flows, size_t n, uint32_t first);
	void (*dump_row)(void *arg, const struct ct_flow *f);
	/* ok = 1 when NLMSG_DONE arrived; 0 on error (err = errno). */
	void (*dump_done)(void *arg, int ok, int err);
	void (*overrun)(void *arg);
	void *arg;
};

/* Counters since the state was created (kept across restarts); rcvbuf and
 * dumping are the present state. */
struct ctsock_stats {
	uint64_t datagrams;       /* event datagrams received */
	uint64_t events;          /* DESTROY messages parsed */
	uint64_t rejected;        /* messages that failed validation, both sockets */
	uint64_t reject_reason[CT_PARSE_NERR];
	uint64_t truncated;       /* datagrams larger than our buffer */
	uint64_t overruns;        /* ENOBUFS episodes */
	uint64_t kernel_drops;    /* events the kernel could not queue (SO_MEMINFO) */
	uint64_t rcvbuf;          /* receive buffer now (as the kernel reports it) */
	uint64_t rcvbuf_grows;
	uint64_t dump_runs, dump_rows, dump_failures;
	int dumping;
};

enum ctsock_rc { CTSOCK_DRAINED = 0, CTSOCK_MORE = 1, CTSOCK_ERROR = -1 };

struct ctsock;

/* The size of the receive area ctsock needs from the store. */
size_t ctsock_rx_bytes(void);

/* Opens both sockets; NULL with errno on failure (EPERM without CAP_NET_ADMIN). */
struct ctsock *ctsock_open(const struct ctsock_cfg *cfg, const struct ctsock_sink *sink,
			   struct store *st);
void ctsock_close(struct ctsock *cs);
/* At start, once the owner is ready for events: apply what the last run
 * received but did not commit. */
void ctsock_redo(struct ctsock *cs);

int ctsock_event_fd(const struct ctsock *cs);
int ctsock_dump_fd(const struct ctsock *cs);

/* Read events until the socket is empty or the monotonic deadline (ns) passes. */
enum ctsock_rc ctsock_read_events(struct ctsock *cs, uint64_t deadline_ns);

/* Start a dump; -1 with errno EBUSY if one is running. */
int ctsock_dump_start(struct ctsock *cs);
enum ctsock_rc ctsock_read_dump(struct ctsock *cs, uint64_t deadline_ns);

/* Refreshes kernel_drops from the socket, then copies. */
void ctsock_get_stats(struct ctsock *cs, struct ctsock_stats *st);

/* Whether a dump is running (cheap: no system call). */
int ctsock_dumping(const struct ctsock *cs);

#endif
