/*
 * kern_ctsock: socket plumbing around kern_ctparse.
 *
 * Each DESTROY event is its own datagram of ~250 bytes, so the event socket
 * reads 64 of them per recvmmsg() call: the syscall, not parsing, is the cost
 * per event (2 us per recv() against under 1 us per event batched, measured
 * on this kind of machine).
 */
#include "kern_ctsock.h"

#include "base_clock.h"
#include "kern_sys.h"

#include "kern_dumper.h"

#include <errno.h>
#include <stdatomic.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/sock_diag.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

#define EV_BATCH 64
#define EV_BUFSZ 4096
#define DUMP_RING 8192  /* rows in flight between the dump thread and us */
#define DUMP_POP 256

/* The receive area (the store's): the kernel writes each datagram and its
 * length here, so what a kill interrupted is still here at the next start. */
struct rx_area {
	struct mmsghdr msgs[EV_BATCH];
	unsigned char buf[EV_BATCH][EV_BUFSZ];
};

/* The persistent counters. */
struct sock_hdr {
	uint32_t epoch, pad;
	struct ctsock_stats st;
};

struct ctsock {
	struct mnl_socket *ev;
	struct dumper *dumper;
	struct ctsock_cfg cfg;
	struct ctsock_sink sink;
	struct store *store;
	struct sock_hdr *h;
	struct rx_area *rx;
	uint32_t last_drops;  /* SK_MEMINFO_DROPS is a 32-bit kernel counter */
	struct ct_flow *batch;   /* EV_BATCH parsed events, handed over together */
	size_t nbatch;
	uint32_t rx_flows;    /* flows of the receive area handed over so far */
	uint32_t rx_skip;     /* redo: flows already applied by the last run */
	int dumping;
	uint64_t rcvbuf;
	struct dump_item *items; /* DUMP_POP */
	struct iovec iov[EV_BATCH];
};

size_t ctsock_rx_bytes(void)
{
	return sizeof(struct rx_area);
}

/* The counters, saved once per transaction before they change; outside one
 * (a read of the kernel's drop count from an SNMP request) in one of their own. */
static struct ctsock_stats *stats_w(struct ctsock *cs)
{
	uint32_t epoch = store_epoch(cs->store);

	if (cs->h->epoch != epoch) {
		store_save(cs->store, cs->h, sizeof(*cs->h));
		cs->h->epoch = epoch;
	}
	return &cs->h->st;
}

static int begin_if_none(struct ctsock *cs)
{
	if (store_epoch(cs->store))
		return 0;
	store_begin(cs->store);
	return 1;
}

static struct mnl_socket *open_nl(unsigned groups)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(nl);
		errno = e;
		return NULL;
	}
	return nl;
}

static int setup_event_socket(struct ctsock *cs)
{
	int fd = mnl_socket_get_fd(cs->ev);
	int one = 1;

	if (kern_rcvbuf_set(fd, cs->cfg.rcvbuf) < 0)
		return -1;
	if (cs->cfg.reliable) {
		if (setsockopt(fd, SOL_NETLINK, NETLINK_BROADCAST_ERROR, &one, sizeof(one)) < 0 ||
		    setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one)) < 0)
			return -1;
	}
	cs->rcvbuf = kern_rcvbuf_get(fd);
	for (int i = 0; i < EV_BATCH; i++) {
		struct mmsghdr *m = &cs->rx->msgs[i];

		int flags = m->msg_hdr.msg_flags; /* the last run's, for ctsock_redo */

		cs->iov[i].iov_base = cs->rx->buf[i];
		cs->iov[i].iov_len = EV_BUFSZ;
		memset(&m->msg_hdr, 0, sizeof(m->msg_hdr));
		m->msg_hdr.msg_flags = flags;
		m->msg_hdr.msg_iov = &cs->iov[i];
		m->msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

static int map_counters(struct ctsock *cs)
{
	enum store_origin o;

	cs->h = store_region(cs->store, "ctsock", sizeof(struct sock_hdr), sizeof(*cs->h), &o);
	if (!cs->h)
		return -1;
	cs->h->epoch = 0;
	cs->h->st.dumping = 0;
	return 0;
}

struct ctsock *ctsock_open(const struct ctsock_cfg *cfg, const struct ctsock_sink *sink,
			   struct store *st)
{
	struct ctsock *cs = calloc(1, sizeof(*cs));
	int e;

	if (!cs)
		return NULL;
	cs->cfg = *cfg;
	cs->sink = *sink;
	cs->store = st;
	cs->rx = store_rx(st);
	cs->items = calloc(DUMP_POP, sizeof(*cs->items));
	cs->batch = calloc(EV_BATCH, sizeof(*cs->batch));
	if (!cs->items || !cs->batch || map_counters(cs) < 0)
		goto fail;
	cs->ev = open_nl(NF_NETLINK_CONNTRACK_DESTROY);
	if (!cs->ev || setup_event_socket(cs) < 0)
		goto fail;
	cs->dumper = dumper_new(DUMP_RING);
	if (!cs->dumper)
		goto fail;
	return cs;
fail:
	e = errno;
	ctsock_close(cs);
	errno = e;
	return NULL;
}

void ctsock_close(struct ctsock *cs)
{
	if (!cs)
		return;
	dumper_free(cs->dumper);
	if (cs->ev)
		mnl_socket_close(cs->ev);
	if (cs->h)
		store_region_release(cs->store, cs->h);
	free(cs->items);
	free(cs->batch);
	free(cs);
}

int ctsock_event_fd(const struct ctsock *cs)
{
	return mnl_socket_get_fd(cs->ev);
}

int ctsock_dump_fd(const struct ctsock *cs)
{
	return dumper_notify_fd(cs->dumper);
}

static void refresh_drops(struct ctsock *cs)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mi);

	memset(mi, 0, sizeof(mi));
	if (getsockopt(mnl_socket_get_fd(cs->ev), SOL_SOCKET, SO_MEMINFO, mi, &len) < 0 ||
	    len < sizeof(uint32_t) * (SK_MEMINFO_DROPS + 1))
		return;
	uint32_t delta = (uint32_t)(mi[SK_MEMINFO_DROPS] - cs->last_drops);

	cs->last_drops = mi[SK_MEMINFO_DROPS];
	if (delta) {
		int began = begin_if_none(cs);

		stats_w(cs)->kernel_drops += delta;
		if (began)
			store_commit(cs->store);
	}
}

/* Double the receive buffer up to the cap: the next burst of this size fits. */
static void grow_rcvbuf(struct ctsock *cs)
{
	int fd = mnl_socket_get_fd(cs->ev);
	uint64_t want = cs->cfg.rcvbuf * 2;

	if (want > cs->cfg.rcvbuf_max)
		want = cs->cfg.rcvbuf_max;
	if (want <= cs->cfg.rcvbuf || kern_rcvbuf_set(fd, want) < 0)
		return;
	cs->cfg.rcvbuf = want;
	cs->rcvbuf = kern_rcvbuf_get(fd);
	stats_w(cs)->rcvbuf_grows++;
}

static void count_reject(struct ctsock *cs, int err)
{
	struct ctsock_stats *st = stats_w(cs);

	st->rejected++;
	if (err > 0 && err < CT_PARSE_NERR)
		st->reject_reason[err]++;
}

static void flush_batch(struct ctsock *cs)
{
	if (cs->nbatch)
		cs->sink.events(cs->sink.arg, cs->batch, cs->nbatch, cs->rx_flows);
	cs->rx_flows += (uint32_t)cs->nbatch;
	cs->nbatch = 0;
}

static int event_item(void *arg, enum ct_item item, const struct ct_flow *f, int err)
{
	struct ctsock *cs = arg;

	if (item == CT_ITEM_FLOW && f->kind == CT_MSG_FLOW_DESTROY) {
		if (cs->rx_skip) { /* redo: applied by the last run already */
			cs->rx_skip--;
			cs->rx_flows++;
			return 0;
		}
		stats_w(cs)->events++;
		if (cs->nbatch == EV_BATCH)
			flush_batch(cs);
		cs->batch[cs->nbatch++] = *f;
	} else if (item == CT_ITEM_BAD) {
		count_reject(cs, err);
	} else if (item == CT_ITEM_FLOW) {
		count_reject(cs, CT_PARSE_ETYPE); /* we subscribed to DESTROY only */
	}
	return 0;
}

static void handle_overrun(struct ctsock *cs)
{
	int began = begin_if_none(cs);

	stats_w(cs)->overruns++;
	refresh_drops(cs);
	grow_rcvbuf(cs);
	if (began)
		store_commit(cs->store);
	cs->sink.overrun(cs->sink.arg);
}

/* Nothing in the receive area is pending any more: lengths first, so that a
 * kill in between never leaves applied datagrams looking unapplied. */
static void rx_prepare(struct ctsock *cs)
{
	for (int i = 0; i < EV_BATCH; i++) {
		cs->rx->msgs[i].msg_len = 0;
		cs->rx->msgs[i].msg_hdr.msg_flags = 0;
	}
	atomic_signal_fence(memory_order_seq_cst);
	store_rx_reset(cs->store);
	cs->rx_flows = 0;
}

/* Parse and hand over the datagrams of the receive area, in one transaction
 * (the sink may commit part of it early). */
static void rx_apply(struct ctsock *cs)
{
	const struct ct_walk_cb cb = { event_item, cs };

	store_begin(cs->store);
	for (int i = 0; i < EV_BATCH; i++) {
		const struct mmsghdr *m = &cs->rx->msgs[i];

		if (m->msg_len == 0)
			continue;
		stats_w(cs)->datagrams++;
		if (m->msg_hdr.msg_flags & MSG_TRUNC) {
			stats_w(cs)->truncated++;
			count_reject(cs, CT_PARSE_ETRUNC);
			continue;
		}
		ct_parse_walk(cs->rx->buf[i], m->msg_len < EV_BUFSZ ? m->msg_len : EV_BUFSZ, &cb);
	}
	flush_batch(cs);
	store_commit_rx(cs->store, cs->rx_flows);
}

void ctsock_redo(struct ctsock *cs)
{
	cs->rx_flows = 0;
	cs->rx_skip = store_rx_done(cs->store);
	rx_apply(cs);
	cs->rx_skip = 0;
}

enum ctsock_rc ctsock_read_events(struct ctsock *cs, uint64_t deadline_ns)
{
	int fd = mnl_socket_get_fd(cs->ev);

	do {
		int n;

		rx_prepare(cs);
		n = recvmmsg(fd, cs->rx->msgs, EV_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return CTSOCK_DRAINED;
			if (errno == ENOBUFS) {
				handle_overrun(cs);
				continue;
			}
			if (errno == EINTR)
				continue;
			return CTSOCK_ERROR;
		}
		rx_apply(cs);
		if (cs->cfg.lock)
			lock_yield(cs->cfg.lock);
		if (n < EV_BATCH)
			return CTSOCK_DRAINED;
	} while (clock_mono_ns() < deadline_ns);
	return CTSOCK_MORE;
}

int ctsock_dump_start(struct ctsock *cs)
{
	if (cs->dumping) {
		errno = EBUSY;
		return -1;
	}
	if (dumper_start(cs->dumper) < 0)
		return -1;
	cs->dumping = 1;
	stats_w(cs)->dump_runs++;
	return 0;
}

static void dump_finish(struct ctsock *cs, int ok, int err)
{
	cs->dumping = 0;
	if (!ok)
		stats_w(cs)->dump_failures++;
	cs->sink.dump_done(cs->sink.arg, ok, err);
}

static void dump_dispatch(struct ctsock *cs, const struct dump_item *it)
{
	switch (it->kind) {
	case DUMP_ROW:
		stats_w(cs)->dump_rows++;
		cs->sink.dump_row(cs->sink.arg, &it->flow);
		break;
	case DUMP_BAD:
		count_reject(cs, it->err);
		break;
	case DUMP_DONE:
		dump_finish(cs, 1, 0);
		break;
	default:
		dump_finish(cs, 0, it->err);
		break;
	}
}

/*
 * Apply rows the dump thread has parsed, in order, until the ring is empty
 * or the deadline passes.  (A new dump starts only after this one's end has
 * been dispatched, so one pop never mixes two dumps.)
 */
enum ctsock_rc ctsock_read_dump(struct ctsock *cs, uint64_t deadline_ns)
{
	do {
		size_t n = dumper_pop(cs->dumper, cs->items, DUMP_POP);

		if (n == 0)
			return CTSOCK_DRAINED;
		for (size_t i = 0; i < n; i++)
			dump_dispatch(cs, &cs->items[i]);
	} while (clock_mono_ns() < deadline_ns);
	return CTSOCK_MORE;
}

void ctsock_get_stats(struct ctsock *cs, struct ctsock_stats *st)
{
	refresh_drops(cs);
	*st = cs->h->st;
	st->rcvbuf = cs->rcvbuf;
	st->dumping = cs->dumping;
}

int ctsock_dumping(const struct ctsock *cs)
{
	return cs->dumping;
}
