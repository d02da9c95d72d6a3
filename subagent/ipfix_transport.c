/*
 * ipfix_transport: sockets, readiness and back-off for a session.
 */
#include "ipfix_transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "base_clock.h"

static int resolve(const struct ipfix_collector_cfg *c, struct sockaddr_storage *sa,
		   socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, c->address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(c->port);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, c->address, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(c->port);
		*len = sizeof(*v6);
		return 0;
	}
	errno = EINVAL;
	return -1;
}

size_t ipfix_transport_msg_max(const struct ipfix_collector_cfg *c)
{
	struct in6_addr a6;

	if (c->tcp)
		return IPFIX_MSG_MAX;
	/* UDP: the whole message must fit the path MTU after the IP and UDP headers */
	return c->mtu - (inet_pton(AF_INET6, c->address, &a6) == 1 ? 40u : 20u) - 8u;
}

static int tcp_info(const struct ipfix_transport *t, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return t->s->cfg.tcp && t->fd >= 0 &&
	       getsockopt(t->fd, IPPROTO_TCP, TCP_INFO, ti, &len) == 0;
}

/* The bytes of this connection the collector acknowledged.  Read from the
 * kernel's own count, which a reset leaves in place. */
static uint64_t acked(const struct ipfix_transport *t)
{
	struct tcp_info ti;

	return tcp_info(t, &ti) ? ti.tcpi_bytes_acked : 0;
}

static uint64_t segs_now(const struct ipfix_transport *t)
{
	struct tcp_info ti;

	return ipfix_session_is_up(t->s) && tcp_info(t, &ti) ? ti.tcpi_data_segs_out : 0;
}

uint64_t ipfix_transport_packets(const struct ipfix_transport *t)
{
	struct ipfix_session_stats st;

	if (t->s->cfg.tcp)
		return t->tcp_segs + segs_now(t);
	ipfix_session_get_stats(t->s, &st);
	return st.messages;
}

static void on_io(void *arg, short revents);

static void close_fd(struct ipfix_transport *t)
{
	t->tcp_segs += segs_now(t);
	ipfix_session_down(t->s, acked(t));
	if (t->io >= 0)
		loop_io_del(t->lp, t->io);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = t->io = -1;
	t->blocked = 0;
}

/* The connection ended: a collector that refuses or times out is retried
 * less and less often. */
static void ended(struct ipfix_transport *t)
{
	const struct ipfix_collector_cfg *c = &t->s->cfg;

	close_fd(t);
	if (t->was_up)
		t->backoff_ms = c->reconnect_ms;
	else if (t->backoff_ms < c->reconnect_max_ms / 2)
		t->backoff_ms *= 2;
	else
		t->backoff_ms = c->reconnect_max_ms;
	t->was_up = 0;
	t->reconnect_at_ms = clock_mono_ms() + t->backoff_ms;
}

void ipfix_transport_close(struct ipfix_transport *t)
{
	if (t->fd >= 0)
		close_fd(t);
}

static void became_up(struct ipfix_transport *t)
{
	socklen_t len = sizeof(t->local);

	t->was_up = 1;
	if (getsockname(t->fd, (struct sockaddr *)&t->local, &len) < 0)
		memset(&t->local, 0, sizeof(t->local));
	if (t->local.ss_family == AF_INET)
		ipfix_session_set_port(t->s, ntohs(((struct sockaddr_in *)&t->local)->sin_port));
	else if (t->local.ss_family == AF_INET6)
		ipfix_session_set_port(t->s, ntohs(((struct sockaddr_in6 *)&t->local)->sin6_port));
	ipfix_session_up(t->s);
	loop_io_events(t->lp, t->io, POLLIN);
}

/* UDP after a restart: the port the collector knows this session by. */
static void bind_same_port(struct ipfix_transport *t)
{
	struct sockaddr_storage b;
	uint16_t port = ipfix_session_port(t->s);

	if (t->s->cfg.tcp || !port)
		return;
	memset(&b, 0, sizeof(b));
	b.ss_family = t->sa.ss_family;
	if (b.ss_family == AF_INET)
		((struct sockaddr_in *)&b)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&b)->sin6_port = htons(port);
	/* taken meanwhile: any port will do, the collector sees a new session */
	(void)!bind(t->fd, (struct sockaddr *)&b,
		    b.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
}

static void start_connect(struct ipfix_transport *t)
{
	int type = t->s->cfg.tcp ? SOCK_STREAM : SOCK_DGRAM;

	t->fd = socket(t->sa.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		t->reconnect_at_ms = clock_mono_ms() + t->backoff_ms;
		return;
	}
	t->io = loop_io_add(t->lp, t->fd, POLLOUT, on_io, t);
	if (t->io < 0) {
		ended(t);
		return;
	}
	bind_same_port(t);
	/* UDP: connect() only fixes the peer (and lets ICMP errors surface) */
	if (connect(t->fd, (struct sockaddr *)&t->sa, t->salen) == 0)
		became_up(t);
	else if (errno == EINPROGRESS)
		ipfix_session_connecting(t->s);
	else
		ended(t);
}

/*
 * The session's writes.  UDP: one datagram; an ICMP error left by an
 * earlier datagram is reported on this send (the datagram itself was not
 * sent), so it is tried once more; anything but a full buffer loses it.
 */
static long link_write(void *arg, const uint8_t *p, size_t len)
{
	struct ipfix_transport *t = arg;
	ssize_t w;

	for (int attempt = 0; attempt < 2; attempt++) {
		w = send(t->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w >= 0)
			return (long)w;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return IPFIX_LINK_WAIT;
		if (errno == EINTR || (!t->s->cfg.tcp && errno == ECONNREFUSED))
			continue;
		break;
	}
	return t->s->cfg.tcp ? IPFIX_LINK_BROKEN : IPFIX_LINK_LOST;
}

static int run_session(struct ipfix_transport *t, int budget)
{
	const struct ipfix_link l = { link_write, t };
	enum ipfix_pump rc;

	if (t->s->cfg.tcp)
		ipfix_session_acked(t->s, acked(t));
	rc = ipfix_session_pump(t->s, &l, budget);
	t->blocked = rc == IPFIX_PUMP_BLOCKED;
	if (rc == IPFIX_PUMP_BROKEN) {
		ended(t);
		return 0;
	}
	loop_io_events(t->lp, t->io, t->blocked ? POLLIN | POLLOUT : POLLIN);
	return rc == IPFIX_PUMP_MORE;
}

void ipfix_transport_withdraw(struct ipfix_transport *t)
{
	const struct ipfix_link l = { link_write, t };

	if (t->s->cfg.tcp && t->fd >= 0 && !t->blocked)
		ipfix_session_withdraw(t->s, &l);
}

int ipfix_transport_pump(struct ipfix_transport *t, int budget)
{
	struct ipfix_session_stats st;

	ipfix_session_get_stats(t->s, &st);
	if (st.state == IPFIX_DOWN && t->fd < 0 && clock_mono_ms() >= t->reconnect_at_ms)
		start_connect(t);
	if (!ipfix_session_is_up(t->s) || t->blocked)
		return 0;
	return run_session(t, budget);
}

static void on_io(void *arg, short revents)
{
	struct ipfix_transport *t = arg;
	struct ipfix_session_stats st;
	int err = 0;
	socklen_t len = sizeof(err);
	char sink[512];

	ipfix_session_get_stats(t->s, &st);
	if (st.state == IPFIX_CONNECTING) {
		if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
			ended(t);
		else
			became_up(t);
		return;
	}
	if (revents & POLLIN) {
		/* collectors send nothing: readable means closed, or an ICMP error (UDP) */
		ssize_t r = recv(t->fd, sink, sizeof(sink), MSG_DONTWAIT);

		if (t->s->cfg.tcp && (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))) {
			ended(t);
			return;
		}
	}
	if (revents & (POLLERR | POLLHUP)) {
		if (t->s->cfg.tcp) {
			ended(t);
			return;
		}
		getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len); /* UDP: clear an ICMP error */
	}
	if (revents & POLLOUT) {
		t->blocked = 0;
		run_session(t, 1);
	}
}

int ipfix_transport_init(struct ipfix_transport *t, struct ipfix_session *s, struct loop *lp)
{
	memset(t, 0, sizeof(*t));
	t->s = s;
	t->lp = lp;
	t->fd = t->io = -1;
	t->backoff_ms = s->cfg.reconnect_ms / 2; /* the first failure doubles it to reconnect */
	if (t->backoff_ms == 0)
		t->backoff_ms = 1;
	return resolve(&s->cfg, &t->sa, &t->salen);
}
