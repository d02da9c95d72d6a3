/*
 * ctlisten: the bare DESTROY listener the benchmark compares ctflowd with.
 * It does what any consumer must and nothing else: a big receive buffer,
 * recvmmsg(64) batches with the same 5 ms wakeup coalescing as ctflowd, and
 * a count.  No parsing, no accounting, no aggregation.
 *
 *   ctlisten RCVBUF_BYTES      runs until SIGTERM, then prints
 *                              "events N drops D"
 */
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/sock_diag.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

#define BATCH 64
#define BUFSZ 4096

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static char bufs[BATCH][BUFSZ];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	int size = argc > 1 ? atoi(argv[1]) : 64 << 20;
	unsigned long long events = 0;
	uint32_t mi[SK_MEMINFO_VARS] = { 0 };
	socklen_t ml = sizeof(mi);

	if (!nl || mnl_socket_bind(nl, NF_NETLINK_CONNTRACK_DESTROY, MNL_SOCKET_AUTOPID) < 0)
		return perror("netlink"), 1;
	int fd = mnl_socket_get_fd(nl);

	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = BUFSZ;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 200) <= 0)
			continue;
		for (;;) {
			int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);

			if (n <= 0)
				break;
			events += (unsigned)n;
			if (n < BATCH)
				break;
		}
		usleep(5000);
	}
	getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &ml);
	printf("events %llu drops %u\n", events, mi[SK_MEMINFO_DROPS]);
	mnl_socket_close(nl);
	return 0;
}
