/*
 * kern_check: reads the per-namespace conntrack sysctls and probes ctnetlink.
 *
 * The commonest mistake is nf_conntrack_acct=0: everything works and every
 * counter is zero.  The second is nf_conntrack_events=2 (the default), which
 * attaches events only to flows created while a listener exists, so flows
 * that began while ctflowd was down never send DESTROY.
 */
#include "kern_check.h"

#include "kern_sys.h"

#include <errno.h>
#include <stdarg.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>


enum verdict { OK, WARN, FAIL };

static const char *const verdict_name[] = { "ok  ", "WARN", "FAIL" };

struct report {
	FILE *out;
	int failed;
};

__attribute__((format(printf, 3, 4)))
static void line(struct report *r, enum verdict v, const char *fmt, ...)
{
	va_list ap;

	if (v == FAIL)
		r->failed = 1;
	fprintf(r->out, "%s  ", verdict_name[v]);
	va_start(ap, fmt);
	vfprintf(r->out, fmt, ap);
	va_end(ap);
	fputc('\n', r->out);
}

static void check_acct(struct report *r, const char *dir)
{
	long v = kern_sysctl(dir, "nf_conntrack_acct");

	if (v == 1)
		line(r, OK, "nf_conntrack_acct = 1: per-flow packet and byte counters are on");
	else if (v == 0)
		line(r, FAIL, "nf_conntrack_acct = 0: every counter will be zero; "
			      "set net.netfilter.nf_conntrack_acct=1 (kmod/ctflowd-sysctl.conf)");
	else
		line(r, FAIL, "nf_conntrack_acct unreadable: is nf_conntrack loaded in this namespace?");
}

static void check_timestamp(struct report *r, const char *dir)
{
	long v = kern_sysctl(dir, "nf_conntrack_timestamp");

	if (v == 1)
		line(r, OK, "nf_conntrack_timestamp = 1: flow start and stop times are exact");
	else
		line(r, WARN, "nf_conntrack_timestamp = %ld: no flow start/stop times; "
			      "set net.netfilter.nf_conntrack_timestamp=1", v);
}

static void check_events(struct report *r, const char *dir)
{
	long v = kern_sysctl(dir, "nf_conntrack_events");

	if (v == 1)
		line(r, OK, "nf_conntrack_events = 1: every flow sends DESTROY");
	else if (v == 2)
		line(r, WARN, "nf_conntrack_events = 2: flows created while no listener ran never "
			      "send DESTROY (caught only by dumps, late); set it to 1");
	else
		line(r, FAIL, "nf_conntrack_events = %ld: no DESTROY events at all; set it to 1", v);
}

static int dump_count(struct mnl_socket *nl, long *count)
{
	char buf[65536] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	uint64_t deadline = (uint64_t)time(NULL) + 10;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	*count = 0;
	while ((uint64_t)time(NULL) < deadline) {
		struct pollfd pfd = { mnl_socket_get_fd(nl), POLLIN, 0 };

		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		ssize_t got = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		int n = (int)got;

		if (got <= 0)
			return -1;
		for (nlh = (struct nlmsghdr *)(void *)buf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				errno = EPROTO;
				return -1;
			}
			(*count)++;
		}
	}
	errno = ETIMEDOUT;
	return -1;
}

static void check_netlink(struct report *r, const struct kcheck_cfg *cfg, const char *dir)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	long entries = 0;

	if (!nl) {
		line(r, FAIL, "ctnetlink: cannot open a netfilter netlink socket: %s", strerror(errno));
		return;
	}
	if (mnl_socket_bind(nl, NF_NETLINK_CONNTRACK_DESTROY, MNL_SOCKET_AUTOPID) < 0) {
		line(r, FAIL, "ctnetlink: cannot subscribe to DESTROY events: %s%s", strerror(errno),
		     errno == EPERM ? " (needs CAP_NET_ADMIN)" : " (nf_conntrack_netlink missing?)");
		mnl_socket_close(nl);
		return;
	}
	line(r, OK, "ctnetlink: subscribed to DESTROY events");
	if (kern_rcvbuf_set(mnl_socket_get_fd(nl), cfg->rcvbuf) == 1)
		line(r, OK, "receive buffer: %llu bytes can be forced (SO_RCVBUFFORCE)",
		     (unsigned long long)cfg->rcvbuf);
	else
		line(r, WARN, "receive buffer: SO_RCVBUFFORCE refused (%s); the buffer is capped by "
			      "net.core.rmem_max", strerror(errno));
	if (dump_count(nl, &entries) < 0)
		line(r, FAIL, "ctnetlink: table dump failed: %s", strerror(errno));
	else if (entries == 0)
		line(r, WARN, "conntrack table is empty: nothing is tracked yet, or no ruleset uses "
			      "ct in this namespace (see kmod/ctflowd.nft)");
	else
		line(r, OK, "conntrack table: %ld entries now, nf_conntrack_max = %ld", entries,
		     kern_sysctl(dir, "nf_conntrack_max"));
	mnl_socket_close(nl);
}

static void check_limits(struct report *r, const struct kcheck_cfg *cfg, const char *dir)
{
	long max = kern_sysctl(dir, "nf_conntrack_max");

	if (max > 0 && (uint64_t)max > cfg->max_tracked_flows)
		line(r, WARN, "max_tracked_flows = %llu is below nf_conntrack_max = %ld: beyond it, "
			      "long flows are accounted only when they end",
		     (unsigned long long)cfg->max_tracked_flows, max);
}

int kcheck_run(const struct kcheck_cfg *cfg, FILE *out)
{
	const char *dir = cfg->proc_root ? cfg->proc_root : "/proc/sys/net/netfilter";
	struct report r = { out, 0 };

	check_acct(&r, dir);
	check_timestamp(&r, dir);
	check_events(&r, dir);
	check_netlink(&r, cfg, dir);
	check_limits(&r, cfg, dir);
	fprintf(out, "%s\n", r.failed ? "accounting cannot work: fix the FAIL lines above"
				      : "accounting can work");
	return r.failed;
}
