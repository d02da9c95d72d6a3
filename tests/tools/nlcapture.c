/*
 * nlcapture: record raw ctnetlink messages as hex, one message per line, for
 * the parser's unit-test fixtures.  It shares no code with ctflowd so the
 * fixtures are an independent record of what the kernel sends.
 *
 *   nlcapture events SECONDS    DESTROY events for SECONDS
 *   nlcapture dump              one table dump (NEW messages)
 */
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static void hexline(const struct nlmsghdr *nlh)
{
	const unsigned char *p = (const unsigned char *)nlh;

	for (unsigned i = 0; i < nlh->nlmsg_len; i++)
		printf("%02x", p[i]);
	putchar('\n');
}

static int print_all(char *buf, int n)
{
	for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, n);
	     nlh = mnl_nlmsg_next(nlh, &n)) {
		if (nlh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nlh->nlmsg_type != NLMSG_ERROR)
			hexline(nlh);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[1 << 16];
	int events = argc == 3 && strcmp(argv[1], "events") == 0;
	struct mnl_socket *nl;
	time_t end;

	if (!events && !(argc == 2 && strcmp(argv[1], "dump") == 0)) {
		fprintf(stderr, "usage: nlcapture events SECONDS | nlcapture dump\n");
		return 2;
	}
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, events ? NF_NETLINK_CONNTRACK_DESTROY : 0,
				   MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		return 1;
	}
	if (!events) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct nfgenmsg *nfg;

		nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
		nfg->nfgen_family = AF_UNSPEC;
		if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
			perror("sendto");
			return 1;
		}
	}
	end = time(NULL) + (events ? atoi(argv[2]) : 10);
	while (time(NULL) < end) {
		struct pollfd pfd = { mnl_socket_get_fd(nl), POLLIN, 0 };

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		int n = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n <= 0)
			break;
		if (print_all(buf, n))
			break;
		fflush(stdout);
	}
	mnl_socket_close(nl);
	return 0;
}
