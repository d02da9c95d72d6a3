/*
 * udpburst: many distinct UDP flows, fast, for burst and churn tests.
 *
 *   udpburst send DST PORT COUNT SRCBASE NADDR [RATE [SECONDS [NPORTS]]]
 *       COUNT distinct flows (one 32-byte datagram each) to DST:PORT from
 *       NADDR source addresses starting at SRCBASE (picked per packet with
 *       IP_PKTINFO; the sender namespace needs "ip route add local
 *       SRCBASE/N dev lo") times as many sockets as needed.  With RATE,
 *       paced at RATE flows/s; with SECONDS, the tuple space is cycled for
 *       that long (sustained churn: an expired entry met again is destroyed
 *       by the lookup and a new one created).  With NPORTS, each socket's flows
 *       go to destination port PORT + (socket index % NPORTS), so the flows
 *       have NADDR * min(sockets, NPORTS) distinct (source, port) pairs.
 *   udpburst sink PORT SECONDS
 *       a socket that never reads, so the receiver sends no ICMP errors.
 *
 * Prints "flows N seconds S rate R".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_SOCKS 4096

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct burst {
	struct sockaddr_in dst;
	uint32_t srcbase;
	long naddr, count, nsocks, nports;
	int socks[MAX_SOCKS];
	double rate, seconds;
};

static int open_socks(struct burst *b)
{
	b->nsocks = (b->count + b->naddr - 1) / b->naddr;
	if (b->nsocks > MAX_SOCKS) {
		fprintf(stderr, "COUNT/NADDR needs more than %d sockets\n", MAX_SOCKS);
		return -1;
	}
	for (long i = 0; i < b->nsocks; i++) {
		b->socks[i] = socket(AF_INET, SOCK_DGRAM, 0);
		if (b->socks[i] < 0)
			return perror("socket"), -1;
	}
	return 0;
}

/* Send flows [first, first+n) of the tuple space; all share one socket. */
static int send_batch(struct burst *b, long first, int n)
{
	static char payload[32];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	char cbuf[BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
	long sock = first / b->naddr;
	struct sockaddr_in dst = b->dst;

	dst.sin_port = htons((uint16_t)(ntohs(b->dst.sin_port) + sock % b->nports));
	memset(msgs, 0, sizeof(msgs));
	memset(cbuf, 0, sizeof(cbuf));
	for (int i = 0; i < n; i++) {
		long flow = first + i;
		struct msghdr *mh = &msgs[i].msg_hdr;
		struct cmsghdr *cm;
		struct in_pktinfo pi;

		iov[i].iov_base = payload;
		iov[i].iov_len = sizeof(payload);
		mh->msg_name = &dst;
		mh->msg_namelen = sizeof(dst);
		mh->msg_iov = &iov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = cbuf[i];
		mh->msg_controllen = sizeof(cbuf[i]);
		cm = CMSG_FIRSTHDR(mh);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memset(&pi, 0, sizeof(pi));
		pi.ipi_spec_dst.s_addr = htonl(b->srcbase + (uint32_t)(flow % b->naddr));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	}
	int sent = 0;

	while (sent < n) {
		int r = sendmmsg(b->socks[sock], msgs + sent, (unsigned)(n - sent), 0);

		if (r < 0)
			return perror("sendmmsg"), -1;
		sent += r;
	}
	return 0;
}

static int run(struct burst *b)
{
	double start = now_s();
	long total = 0, pos = 0;

	for (;;) {
		if (!b->seconds && total >= b->count)
			break;
		if (b->seconds && now_s() - start >= b->seconds)
			break;
		long left_in_sock = b->naddr - pos % b->naddr;
		long left = b->count - pos;
		int n = (int)(left < BATCH ? left : BATCH);

		if (n > left_in_sock)
			n = (int)left_in_sock;
		if (!b->seconds && n > b->count - total)
			n = (int)(b->count - total);
		if (b->rate > 0) {
			double wait = start + (double)(total + n) / b->rate - now_s();

			if (wait > 0)
				usleep((useconds_t)(wait * 1e6));
		}
		if (send_batch(b, pos, n) < 0)
			return 1;
		total += n;
		pos = (pos + n) % b->count;
	}
	double el = now_s() - start;

	printf("flows %ld seconds %.3f rate %.0f\n", total, el, el > 0 ? (double)total / el : 0);
	return 0;
}

static int sink(const char *port, double seconds)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), small = 1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)atoi(port));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return perror("bind"), 1;
	printf("ready\n");
	fflush(stdout);
	usleep((useconds_t)(seconds * 1e6));
	return 0;
}

int main(int argc, char **argv)
{
	static struct burst b;
	struct in_addr base;

	if (argc == 4 && strcmp(argv[1], "sink") == 0)
		return sink(argv[2], atof(argv[3]));
	if (argc < 7 || argc > 10 || strcmp(argv[1], "send") != 0 ||
	    inet_pton(AF_INET, argv[2], &b.dst.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[5], &base) != 1) {
		fprintf(stderr, "usage: udpburst send DST PORT COUNT SRCBASE NADDR [RATE [SECONDS [NPORTS]]]\n"
				"       udpburst sink PORT SECONDS\n");
		return 2;
	}
	b.dst.sin_family = AF_INET;
	b.dst.sin_port = htons((uint16_t)atoi(argv[3]));
	b.count = atol(argv[4]);
	b.srcbase = ntohl(base.s_addr);
	b.naddr = atol(argv[6]);
	b.rate = argc >= 8 ? atof(argv[7]) : 0;
	b.seconds = argc >= 9 ? atof(argv[8]) : 0;
	b.nports = argc == 10 ? atol(argv[9]) : 1;
	if (b.count <= 0 || b.naddr <= 0 || b.nports <= 0 || open_socks(&b) < 0)
		return 2;
	return run(&b);
}
