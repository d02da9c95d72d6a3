/*
 * ctrecord: the tests' ground truth, the kernel's DESTROY events as the
 * netfilter project's own library decodes them.
 *
 * conntrack -E (conntrack-tools 1.4.7) sets its -b buffer on the wrong socket
 * and loses events on bursts, so the tests record with this instead: a
 * 256 MiB forced receive buffer, batched reception, and every message
 * decoded by libnetfilter_conntrack (nfct_nlmsg_parse, nfct_snprintf): no
 * code shared with ctflowd.  Lines look like conntrack -E -o extended,id
 * output, plus the start time (start_ns=), which tells incarnations of one
 * id apart, and the stop time (stop_ns=), which places it in a usage
 * period.  It proves it lost nothing: on ENOBUFS, or when the kernel
 * counts a drop on its socket (SO_MEMINFO), it writes a WARNING line, as
 * conntrack -E does on ENOBUFS.
 *
 *   ctrecord OUTFILE      until SIGTERM; then "events N drops D enobufs E"
 *                         on stdout
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
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
#ifndef SO_RCVBUFFORCE
#define SO_RCVBUFFORCE 33
#endif

#define BATCH 64
#define BUFSZ 8192

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static unsigned long long events, enobufs;
static unsigned last_drops;

static void print_event(FILE *out, const struct nlmsghdr *nlh)
{
	char line[2048];
	/* a fresh object each time: parsing does not clear attributes the
	 * previous message had and this one lacks (its mark, say) */
	struct nf_conntrack *ct = nfct_new();

	if (!ct || nfct_nlmsg_parse(nlh, ct) < 0) {
		fprintf(out, "WARNING: a message libnetfilter_conntrack cannot parse\n");
		if (ct)
			nfct_destroy(ct);
		return;
	}
	nfct_snprintf(line, sizeof(line), ct, NFCT_T_DESTROY, NFCT_O_DEFAULT,
		      NFCT_OF_SHOW_LAYER3 | NFCT_OF_ID);
	fprintf(out, "%s", line);
	if (nfct_attr_is_set(ct, ATTR_TIMESTAMP_START))
		fprintf(out, " start_ns=%llu",
			(unsigned long long)nfct_get_attr_u64(ct, ATTR_TIMESTAMP_START));
	if (nfct_attr_is_set(ct, ATTR_TIMESTAMP_STOP))
		fprintf(out, " stop_ns=%llu",
			(unsigned long long)nfct_get_attr_u64(ct, ATTR_TIMESTAMP_STOP));
	fputc('\n', out);
	events++;
	nfct_destroy(ct);
}

static void check_drops(FILE *out, int fd)
{
	unsigned mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mi);

	memset(mi, 0, sizeof(mi));
	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len) == 0 && mi[SK_MEMINFO_DROPS] != last_drops) {
		fprintf(out, "WARNING: the kernel dropped %u events\n", mi[SK_MEMINFO_DROPS] - last_drops);
		last_drops = mi[SK_MEMINFO_DROPS];
	}
}

int main(int argc, char **argv)
{
	static char bufs[BATCH][BUFSZ];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct mnl_socket *nl;
	int size = 256 << 20, fd;
	FILE *out;

	if (argc != 2) {
		fprintf(stderr, "usage: ctrecord OUTFILE\n");
		return 2;
	}
	out = fopen(argv[1], "w");
	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!out || !nl || mnl_socket_bind(nl, NF_NETLINK_CONNTRACK_DESTROY, MNL_SOCKET_AUTOPID) < 0) {
		perror("ctrecord");
		return 1;
	}
	fd = mnl_socket_get_fd(nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		perror("ctrecord: SO_RCVBUFFORCE");
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], BUFSZ };
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	/* bounded: the tests stop it; an hour at most if they do not */
	for (int idle = 0; !stop && idle < 36000;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int n;

		if (poll(&p, 1, 100) <= 0) {
			idle++;
			check_drops(out, fd);
			fflush(out);
			continue;
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == ENOBUFS) {
				enobufs++;
				fprintf(out, "WARNING: ENOBUFS, events were lost\n");
			}
			continue;
		}
		for (int i = 0; i < n; i++) {
			int len = (int)msgs[i].msg_len;

			for (const struct nlmsghdr *h = (const void *)bufs[i]; mnl_nlmsg_ok(h, len);
			     h = mnl_nlmsg_next(h, &len))
				if ((h->nlmsg_type & 0xff) == IPCTNL_MSG_CT_DELETE)
					print_event(out, h);
		}
		if (n < BATCH)
			fflush(out); /* the tests read it while it runs */
	}
	/* what is still queued, then the verdict */
	for (int more = 1; more;) {
		int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);

		more = n > 0;
		for (int i = 0; i < n; i++) {
			int len = (int)msgs[i].msg_len;

			for (const struct nlmsghdr *h = (const void *)bufs[i]; mnl_nlmsg_ok(h, len);
			     h = mnl_nlmsg_next(h, &len))
				if ((h->nlmsg_type & 0xff) == IPCTNL_MSG_CT_DELETE)
					print_event(out, h);
		}
	}
	check_drops(out, fd);
	fclose(out);
	printf("events %llu drops %u enobufs %llu\n", events, last_drops, enobufs);
	mnl_socket_close(nl);
	return 0;
}
