/*
 * ipfixsink: a counting IPFIX collector for the benchmark, fast enough for
 * 100,000+ records/s where the real collectors' own limits would blur what is
 * measured.  It learns templates, counts messages, octets, data records and
 * sequence gaps, and works out what the same records would take in the
 * minimal encoding of the same IEs: every integer field reduced (RFC 7011
 * 6.2) to the fewest octets that hold the largest value seen in it, and no
 * message, set or template overhead.
 *
 *   ipfixsink udp|tcp PORT [FILE]
 *       listens on 127.0.0.1 (with a receive buffer big enough that a test's
 *       bursts are not lost before it reads them); on SIGTERM prints one JSON
 *       line with the counts.  FILE: every message is also written there, the
 *       stream as ipfixDump reads it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_TEMPLATES 64
#define MAX_FIELDS 64
#define BATCH 64
#define MSG_MAX 65536

struct field {
	uint16_t ie, len;
	uint32_t pen;
	int reducible;
	uint64_t seen; /* OR of every value: its length is the longest value's */
};

struct tmpl {
	uint16_t id, n;
	int options;
	uint32_t reclen;
	uint64_t records;
	struct field f[MAX_FIELDS];
};

struct sink {
	struct tmpl t[MAX_TEMPLATES];
	size_t nt;
	uint64_t messages, octets, records, opt_records, templates, bad;
	uint64_t gaps, missing;
	uint32_t next_seq;
	int have_seq;
	FILE *copy;
};

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Unsigned 16/32/64-bit IEs ctflowd exports: the ones reduced-size encoding
 * may shorten (not addresses, timestamps or 8-bit types). */
static int reducible(uint32_t pen, uint16_t ie)
{
	static const uint16_t iana[] = { 1, 2, 7, 11, 32, 139, 148, 227, 228, 40, 41, 42, 144, 149,
					 166, 167, 168 };

	if (pen == 29305)
		return ie == 1 || ie == 2;
	if (pen == 32473)
		return ie == 1 || ie == 2 || (ie >= 4 && ie <= 7);
	if (pen != 0)
		return 0;
	for (size_t i = 0; i < sizeof(iana) / sizeof(iana[0]); i++)
		if (iana[i] == ie)
			return 1;
	return 0;
}

static struct tmpl *find(struct sink *s, uint16_t id)
{
	for (size_t i = 0; i < s->nt; i++)
		if (s->t[i].id == id)
			return &s->t[i];
	return NULL;
}

/* A template record at p; its length, or 0 if malformed. */
static size_t learn(struct sink *s, const uint8_t *p, const uint8_t *end, int options)
{
	size_t hdr = options ? 6 : 4, off = hdr;

	if ((size_t)(end - p) < hdr)
		return 0;
	uint16_t id = get16(p), n = get16(p + 2);
	struct tmpl *t = find(s, id);

	if (n == 0 || n > MAX_FIELDS)
		return 0;
	if (!t) {
		if (s->nt == MAX_TEMPLATES)
			return 0;
		t = &s->t[s->nt++];
		memset(t, 0, sizeof(*t));
	}
	uint64_t kept = t->records;
	struct field old[MAX_FIELDS];

	memcpy(old, t->f, sizeof(old));
	t->id = id;
	t->options = options;
	t->reclen = 0;
	for (uint16_t i = 0; i < n; i++) {
		if ((size_t)(end - p) < off + 4)
			return 0;
		struct field *f = &t->f[i];
		uint16_t ie = get16(p + off);

		f->ie = ie & 0x7fff;
		f->len = get16(p + off + 2);
		f->pen = 0;
		off += 4;
		if (ie & 0x8000) {
			if ((size_t)(end - p) < off + 4)
				return 0;
			f->pen = get32(p + off);
			off += 4;
		}
		if (f->len == 0 || f->len == 65535)
			return 0;
		f->reducible = reducible(f->pen, f->ie) && f->len <= 8;
		/* a refresh of the same template keeps what was seen */
		f->seen = (old[i].ie == f->ie && old[i].pen == f->pen) ? old[i].seen : 0;
		t->reclen += f->len;
	}
	t->n = n;
	t->records = kept;
	s->templates++;
	return off;
}

static void data(struct sink *s, struct tmpl *t, const uint8_t *p, const uint8_t *end,
		 uint32_t *nrec)
{
	while ((size_t)(end - p) >= t->reclen) {
		for (uint16_t i = 0; i < t->n; i++) {
			struct field *f = &t->f[i];

			if (f->reducible) {
				uint64_t v = 0;

				for (uint16_t k = 0; k < f->len; k++)
					v = v << 8 | p[k];
				f->seen |= v;
			}
			p += f->len;
		}
		t->records++;
		(*nrec)++;
		if (t->options)
			s->opt_records++;
		else
			s->records++;
	}
}

static void message(struct sink *s, const uint8_t *m, size_t len)
{
	uint32_t nrec = 0;

	if (s->copy && fwrite(m, 1, len, s->copy) != len)
		s->bad++;
	if (len < 16 || get16(m) != 10 || get16(m + 2) != len) {
		s->bad++;
		return;
	}
	s->messages++;
	s->octets += len;
	uint32_t seq = get32(m + 8);

	if (s->have_seq && seq != s->next_seq) {
		s->gaps++;
		s->missing += (uint32_t)(seq - s->next_seq);
	}
	for (size_t off = 16; off + 4 <= len;) {
		uint16_t set = get16(m + off), slen = get16(m + off + 2);

		if (slen < 4 || slen > len - off) {
			s->bad++;
			break;
		}
		const uint8_t *p = m + off + 4, *end = m + off + slen;

		if (set == 2 || set == 3) {
			while (end - p >= 4) {
				size_t n = learn(s, p, end, set == 3);

				if (!n) {
					s->bad++;
					break;
				}
				p += n;
			}
		} else if (set >= 256) {
			struct tmpl *t = find(s, set);

			if (t && t->reclen)
				data(s, t, p, end, &nrec);
			else
				s->bad++;
		}
		off += slen;
	}
	s->next_seq = seq + nrec;
	s->have_seq = 1;
}

static size_t min_len(const struct field *f)
{
	size_t n = 0;

	if (!f->reducible)
		return f->len;
	for (uint64_t v = f->seen; v; v >>= 8)
		n++;
	return n ? n : 1;
}

static void report(const struct sink *s)
{
	uint64_t wire = 0, minimal = 0, recs = 0;

	for (size_t i = 0; i < s->nt; i++) {
		const struct tmpl *t = &s->t[i];
		size_t ml = 0;

		if (t->options)
			continue;
		for (uint16_t k = 0; k < t->n; k++)
			ml += min_len(&t->f[k]);
		wire += t->records * t->reclen;
		minimal += t->records * ml;
		recs += t->records;
	}
	printf("{\"messages\":%llu,\"octets\":%llu,\"records\":%llu,\"options_records\":%llu,"
	       "\"template_records\":%llu,\"sequence_gaps\":%llu,\"records_missing\":%llu,"
	       "\"malformed\":%llu,\"record_octets\":%llu,\"minimal_record_octets\":%llu}\n",
	       (unsigned long long)s->messages, (unsigned long long)s->octets,
	       (unsigned long long)recs, (unsigned long long)s->opt_records,
	       (unsigned long long)s->templates, (unsigned long long)s->gaps,
	       (unsigned long long)s->missing, (unsigned long long)s->bad,
	       (unsigned long long)wire, (unsigned long long)minimal);
	fflush(stdout);
}

static int listen_on(int tcp, uint16_t port)
{
	struct sockaddr_in sa;
	int one = 1, big = 64 << 20;
	int fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || (tcp && listen(fd, 4) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void run_udp(struct sink *s, int fd)
{
	static uint8_t bufs[BATCH][MSG_MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];

	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = MSG_MAX;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (!stop) {
		struct pollfd pfd = { fd, POLLIN, 0 };

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);

		for (int i = 0; i < n; i++)
			message(s, bufs[i], msgs[i].msg_len);
	}
}

/* A TCP session is a stream of messages, each with its length in its header. */
static void run_tcp(struct sink *s, int lfd)
{
	static uint8_t buf[4 * MSG_MAX];
	size_t have = 0;
	int fd = -1;

	while (!stop) {
		struct pollfd pfd = { fd >= 0 ? fd : lfd, POLLIN, 0 };

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if (fd < 0) {
			fd = accept(lfd, NULL, NULL);
			have = 0;
			s->have_seq = 0; /* a new session starts its own sequence */
			continue;
		}
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			close(fd);
			fd = -1;
			continue;
		}
		have += (size_t)r;
		size_t off = 0;

		while (have - off >= 4) {
			size_t len = get16(buf + off + 2);

			if (len < 16) {
				s->bad++;
				close(fd);
				fd = -1;
				break;
			}
			if (have - off < len)
				break;
			message(s, buf + off, len);
			off += len;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	static struct sink s;
	struct sigaction sa;

	if ((argc != 3 && argc != 4) || (strcmp(argv[1], "udp") != 0 && strcmp(argv[1], "tcp") != 0)) {
		fprintf(stderr, "usage: ipfixsink udp|tcp PORT [FILE]\n");
		return 2;
	}
	if (argc == 4 && !(s.copy = fopen(argv[3], "wb"))) {
		perror("ipfixsink: FILE");
		return 1;
	}
	int tcp = argv[1][0] == 't';
	int fd = listen_on(tcp, (uint16_t)atoi(argv[2]));

	if (fd < 0) {
		perror("ipfixsink: listen");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fprintf(stderr, "ipfixsink: listening\n");
	if (tcp)
		run_tcp(&s, fd);
	else
		run_udp(&s, fd);
	report(&s);
	close(fd);
	if (s.copy && fclose(s.copy) != 0)
		return 1;
	return 0;
}
