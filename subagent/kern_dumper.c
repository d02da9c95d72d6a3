/*
 * kern_dumper: one producer thread, one consumer, a mutex-protected ring.
 *
 * Items cross in batches (the consumer pops many under one lock), so the
 * lock costs a few nanoseconds per row.  The consumer is woken through an
 * eventfd written when the ring goes from empty to non-empty; a consumer
 * that leaves items behind re-arms it itself, so the fd is readable exactly
 * while items wait.
 */
#include "kern_dumper.h"

#include "kern_sys.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>


#define DUMP_BUFSZ (256 * 1024)

struct dumper {
	struct mnl_socket *nl;
	int ctl_fd;    /* eventfd: owner -> thread (start, stop) */
	int notify_fd; /* eventfd: thread -> owner (items waiting) */
	pthread_t thread;
	int thread_started;
	atomic_int stop, start_req;
	uint32_t seq;
	unsigned char *buf;

	pthread_mutex_t mu;
	pthread_cond_t space;
	struct dump_item *ring;
	size_t cap, head, count;
};

static void poke(int fd)
{
	uint64_t one = 1;

	(void)!write(fd, &one, sizeof(one));
}

static void drain(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
}

/* Thread side: append one item, waiting for room.  -1 when stopping. */
static int push(struct dumper *dp, int kind, int err, const struct ct_flow *f)
{
	int was_empty;

	pthread_mutex_lock(&dp->mu);
	while (dp->count == dp->cap && !atomic_load(&dp->stop))
		pthread_cond_wait(&dp->space, &dp->mu);
	if (atomic_load(&dp->stop)) {
		pthread_mutex_unlock(&dp->mu);
		return -1;
	}
	struct dump_item *it = &dp->ring[(dp->head + dp->count) % dp->cap];

	it->kind = kind;
	it->err = err;
	if (f)
		it->flow = *f;
	was_empty = dp->count++ == 0;
	pthread_mutex_unlock(&dp->mu);
	if (was_empty)
		poke(dp->notify_fd);
	return 0;
}

struct walk_state {
	struct dumper *dp;
	int finished;
};

static int walk_item(void *arg, enum ct_item item, const struct ct_flow *f, int err)
{
	struct walk_state *ws = arg;
	int rc = 0;

	switch (item) {
	case CT_ITEM_FLOW: rc = push(ws->dp, DUMP_ROW, 0, f); break;
	case CT_ITEM_BAD: rc = push(ws->dp, DUMP_BAD, err, NULL); break;
	case CT_ITEM_DONE: ws->finished = 1; rc = push(ws->dp, DUMP_DONE, 0, NULL); break;
	case CT_ITEM_ERROR: ws->finished = 1; rc = push(ws->dp, DUMP_FAIL, err, NULL); break;
	default: break;
	}
	return rc < 0 || ws->finished;
}

static int send_request(struct dumper *dp)
{
	char buf[256] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP; /* plain GET: never get-and-zero */
	nlh->nlmsg_seq = ++dp->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC; /* every family */
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return mnl_socket_sendto(dp->nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

/* Read what the socket holds; returns 1 when the dump finished. */
static int read_rows(struct dumper *dp)
{
	int fd = mnl_socket_get_fd(dp->nl);
	struct walk_state ws = { dp, 0 };
	const struct ct_walk_cb cb = { walk_item, &ws };

	for (;;) {
		ssize_t n = recv(fd, dp->buf, DUMP_BUFSZ, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			push(dp, DUMP_FAIL, errno, NULL);
			return 1;
		}
		ct_parse_walk(dp->buf, (size_t)n, &cb);
		if (ws.finished || atomic_load(&dp->stop))
			return 1;
	}
}

static void *dumper_main(void *arg)
{
	struct dumper *dp = arg;
	int active = 0;

	while (!atomic_load(&dp->stop)) {
		struct pollfd p[2] = {
			{ dp->ctl_fd, POLLIN, 0 },
			{ mnl_socket_get_fd(dp->nl), POLLIN, 0 },
		};

		if (poll(p, active ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			drain(dp->ctl_fd);
			if (!active && atomic_exchange(&dp->start_req, 0)) {
				if (send_request(dp) < 0)
					push(dp, DUMP_FAIL, errno, NULL);
				else
					active = 1;
			}
		}
		if (active && p[1].revents && read_rows(dp)) {
			active = 0;
			if (atomic_load(&dp->start_req))
				poke(dp->ctl_fd); /* asked again meanwhile */
		}
	}
	return NULL;
}

struct dumper *dumper_new(size_t ring_items)
{
	struct dumper *dp = calloc(1, sizeof(*dp));
	int rcvbuf = 4 << 20, e;

	if (!dp)
		return NULL;
	dp->ctl_fd = dp->notify_fd = -1;
	pthread_mutex_init(&dp->mu, NULL);
	pthread_cond_init(&dp->space, NULL);
	dp->cap = ring_items ? ring_items : 1;
	dp->ring = calloc(dp->cap, sizeof(*dp->ring));
	dp->buf = malloc(DUMP_BUFSZ);
	dp->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	dp->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	dp->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!dp->ring || !dp->buf || dp->ctl_fd < 0 || dp->notify_fd < 0 || !dp->nl ||
	    mnl_socket_bind(dp->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	/* dumps arrive in ~32 KiB skbs; a few MiB keeps the kernel busy between reads */
	kern_rcvbuf_set(mnl_socket_get_fd(dp->nl), rcvbuf); /* (a smaller one works too) */
	errno = pthread_create(&dp->thread, NULL, dumper_main, dp);
	if (errno)
		goto fail;
	dp->thread_started = 1;
	return dp;
fail:
	e = errno;
	dumper_free(dp);
	errno = e;
	return NULL;
}

void dumper_free(struct dumper *dp)
{
	if (!dp)
		return;
	if (dp->thread_started) {
		pthread_mutex_lock(&dp->mu);
		atomic_store(&dp->stop, 1);
		pthread_cond_broadcast(&dp->space);
		pthread_mutex_unlock(&dp->mu);
		poke(dp->ctl_fd);
		pthread_join(dp->thread, NULL);
	}
	if (dp->nl)
		mnl_socket_close(dp->nl);
	if (dp->ctl_fd >= 0)
		close(dp->ctl_fd);
	if (dp->notify_fd >= 0)
		close(dp->notify_fd);
	pthread_cond_destroy(&dp->space);
	pthread_mutex_destroy(&dp->mu);
	free(dp->ring);
	free(dp->buf);
	free(dp);
}

int dumper_notify_fd(const struct dumper *dp)
{
	return dp->notify_fd;
}

int dumper_start(struct dumper *dp)
{
	atomic_store(&dp->start_req, 1);
	poke(dp->ctl_fd);
	return 0;
}

size_t dumper_pop(struct dumper *dp, struct dump_item *out, size_t max)
{
	size_t n, left;

	drain(dp->notify_fd);
	pthread_mutex_lock(&dp->mu);
	n = dp->count < max ? dp->count : max;
	for (size_t i = 0; i < n; i++)
		out[i] = dp->ring[(dp->head + i) % dp->cap];
	dp->head = (dp->head + n) % dp->cap;
	dp->count -= n;
	left = dp->count;
	if (n)
		pthread_cond_signal(&dp->space);
	pthread_mutex_unlock(&dp->mu);
	if (left)
		poke(dp->notify_fd);
	return n;
}
