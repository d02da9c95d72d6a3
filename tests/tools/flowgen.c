/*
 * flowgen: real TCP and UDP flows with known payload sizes, for the
 * integration tests.  Every run is bounded in bytes and time.
 *
 *   flowgen tcp-server PORT              serve forever (killed by the test)
 *   flowgen tcp-client ADDR PORT SEND RECV [RATE_BPS]
 *       send SEND payload bytes (paced at RATE_BPS if given), then read RECV
 *       bytes the server sends back, then close.
 *   flowgen udp-server PORT              echo every datagram
 *   flowgen tcp-reuse ADDR PORT SPORT COUNT SEND RATE
 *       COUNT connections, one after the other, all from source port SPORT
 *       (the same 5-tuple each time), at most RATE a second: each sends the
 *       header and SEND bytes and is closed with a reset, so the next SYN
 *       finds the last conntrack entry closing and the kernel gives the new
 *       one the same id.  Prints "connections N failed F"; fails if more than
 *       a tenth failed.
 *   flowgen udp-client ADDR PORT COUNT SIZE [SPORT]
 *       COUNT datagrams of SIZE bytes, each waiting up to 1 s for its echo;
 *       from source port SPORT (default: any), so that back-to-back flows are
 *       sure to be distinct conntrack entries.
 *
 * TCP protocol: an 8-byte big-endian header carrying RECV, then the payload;
 * the server answers with RECV bytes once the client has shut down writing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 16384
#define IO_TIMEOUT_MS 10000

static char chunk[CHUNK];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int resolve(const char *host, const char *port, int type, int passive,
		   struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = type;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* A dual-stack listener on PORT. */
static int listen_any(const char *port, int type)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, zero = 0;

	if (resolve("::", port, type, 1, &ss, &len) < 0)
		return -1;
	fd = socket(AF_INET6, type, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return -1;
	if (type == SOCK_STREAM && listen(fd, 128) < 0)
		return -1;
	return fd;
}

static int wait_fd(int fd, short ev)
{
	struct pollfd p = { fd, ev, 0 };

	return poll(&p, 1, IO_TIMEOUT_MS) == 1 ? 0 : -1;
}

static int write_all(int fd, uint64_t n)
{
	while (n > 0) {
		size_t k = n < CHUNK ? (size_t)n : CHUNK;
		ssize_t w;

		if (wait_fd(fd, POLLOUT) < 0)
			return -1;
		w = write(fd, chunk, k);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		n -= (uint64_t)w;
	}
	return 0;
}

/* Read until EOF (limit = 0) or until `limit` bytes; returns bytes read. */
static int64_t read_upto(int fd, uint64_t limit)
{
	uint64_t got = 0;
	char buf[CHUNK];

	while (!limit || got < limit) {
		if (wait_fd(fd, POLLIN) < 0)
			return -1;
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (uint64_t)r;
	}
	return (int64_t)got;
}

static void serve_tcp_conn(int c)
{
	unsigned char hdr[8];
	uint64_t reply = 0;
	size_t have = 0;

	while (have < sizeof(hdr)) {
		if (wait_fd(c, POLLIN) < 0)
			return;
		ssize_t r = read(c, hdr + have, sizeof(hdr) - have);

		if (r <= 0)
			return;
		have += (size_t)r;
	}
	for (int i = 0; i < 8; i++)
		reply = reply << 8 | hdr[i];
	if (read_upto(c, 0) < 0)
		return;
	write_all(c, reply);
}

static int tcp_server(const char *port)
{
	int fd = listen_any(port, SOCK_STREAM);

	if (fd < 0) {
		perror("listen");
		return 1;
	}
	signal(SIGCHLD, SIG_IGN);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			continue;
		if (fork() == 0) {
			close(fd);
			serve_tcp_conn(c);
			close(c);
			_exit(0);
		}
		close(c);
	}
}

static int paced_send(int fd, uint64_t n, double rate)
{
	double start = now_s();
	uint64_t sent = 0;

	while (sent < n) {
		uint64_t k = n - sent < 4096 ? n - sent : 4096;
		double due = start + (double)(sent + k) / rate;
		double wait = due - now_s();

		if (wait > 0)
			usleep((useconds_t)(wait * 1e6));
		if (write_all(fd, k) < 0)
			return -1;
		sent += k;
	}
	return 0;
}

static int tcp_client(const char *host, const char *port, uint64_t send, uint64_t recv,
		      double rate)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned char hdr[8];
	int fd;

	if (resolve(host, port, SOCK_STREAM, 0, &ss, &len) < 0)
		return fprintf(stderr, "bad address\n"), 1;
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0)
		return perror("connect"), 1;
	for (int i = 0; i < 8; i++)
		hdr[i] = (unsigned char)(recv >> (56 - 8 * i));
	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr))
		return perror("write"), 1;
	if ((rate > 0 ? paced_send(fd, send, rate) : write_all(fd, send)) < 0)
		return perror("send"), 1;
	shutdown(fd, SHUT_WR);
	int64_t got = read_upto(fd, 0);

	close(fd);
	if (got != (int64_t)recv)
		return fprintf(stderr, "received %lld of %llu bytes\n", (long long)got,
			       (unsigned long long)recv), 1;
	return 0;
}

/* One connection of tcp-reuse; -1 if it could not be made. */
static int reuse_once(const struct sockaddr_storage *ss, socklen_t len, long sport, uint64_t send)
{
	struct sockaddr_storage local;
	struct linger lg = { 1, 0 }; /* close with a reset */
	unsigned char hdr[8] = { 0 };
	int one = 1, fd = socket(ss->ss_family, SOCK_STREAM, 0), rc = -1;

	if (fd < 0)
		return -1;
	memset(&local, 0, sizeof(local));
	local.ss_family = ss->ss_family;
	((struct sockaddr_in *)&local)->sin_port = htons((uint16_t)sport);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (bind(fd, (struct sockaddr *)&local, len) == 0 &&
	    connect(fd, (const struct sockaddr *)ss, len) == 0 &&
	    write(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr) && write_all(fd, send) == 0)
		rc = 0;
	close(fd);
	return rc;
}

static int tcp_reuse(const char *host, const char *port, long sport, long count, uint64_t send,
		     double rate)
{
	struct sockaddr_storage ss;
	socklen_t len;
	double start = now_s();
	long failed = 0;

	if (sport <= 0 || sport > 65535 || count <= 0 || rate <= 0 ||
	    resolve(host, port, SOCK_STREAM, 0, &ss, &len) < 0)
		return fprintf(stderr, "bad arguments\n"), 1;
	for (long i = 0; i < count && now_s() - start < 600; i++) {
		double wait = start + (double)i / rate - now_s();

		if (wait > 0)
			usleep((useconds_t)(wait * 1e6));
		failed += reuse_once(&ss, len, sport, send) < 0;
	}
	printf("connections %ld failed %ld\n", count, failed);
	return failed * 10 > count ? 1 : 0;
}

static int udp_server(const char *port)
{
	int fd = listen_any(port, SOCK_DGRAM);
	char buf[65536];

	if (fd < 0) {
		perror("bind");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n >= 0)
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}

static int udp_client(const char *host, const char *port, long count, long size, long sport)
{
	struct sockaddr_storage ss, local;
	socklen_t len;
	char buf[65536];
	int fd, lost = 0;

	if (size < 0 || size > 65000 || sport < 0 || sport > 65535 ||
	    resolve(host, port, SOCK_DGRAM, 0, &ss, &len) < 0)
		return fprintf(stderr, "bad arguments\n"), 1;
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return perror("socket"), 1;
	if (sport) {
		memset(&local, 0, sizeof(local));
		local.ss_family = ss.ss_family;
		/* the port sits at the same offset in sockaddr_in and sockaddr_in6 */
		((struct sockaddr_in *)&local)->sin_port = htons((uint16_t)sport);
		if (bind(fd, (struct sockaddr *)&local, len) < 0)
			return perror("bind"), 1;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		return perror("connect"), 1;
	for (long i = 0; i < count; i++) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (send(fd, chunk, (size_t)size, 0) < 0)
			return perror("send"), 1;
		if (poll(&p, 1, 1000) == 1)
			(void)!recv(fd, buf, sizeof(buf), 0);
		else
			lost++;
	}
	close(fd);
	if (lost)
		fprintf(stderr, "%d echoes lost\n", lost);
	return lost ? 1 : 0;
}

int main(int argc, char **argv)
{
	memset(chunk, 'x', sizeof(chunk));
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "tcp-server") == 0)
		return tcp_server(argv[2]);
	if ((argc == 6 || argc == 7) && strcmp(argv[1], "tcp-client") == 0)
		return tcp_client(argv[2], argv[3], strtoull(argv[4], NULL, 10),
				  strtoull(argv[5], NULL, 10), argc == 7 ? atof(argv[6]) : 0);
	if (argc == 8 && strcmp(argv[1], "tcp-reuse") == 0)
		return tcp_reuse(argv[2], argv[3], atol(argv[4]), atol(argv[5]),
				 strtoull(argv[6], NULL, 10), atof(argv[7]));
	if (argc == 3 && strcmp(argv[1], "udp-server") == 0)
		return udp_server(argv[2]);
	if ((argc == 6 || argc == 7) && strcmp(argv[1], "udp-client") == 0)
		return udp_client(argv[2], argv[3], atol(argv[4]), atol(argv[5]),
				  argc == 7 ? atol(argv[6]) : 0);
	fprintf(stderr, "usage: see the comment at the top of flowgen.c\n");
	return 2;
}
