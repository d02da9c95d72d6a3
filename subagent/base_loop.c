/*
 * base_loop: fixed tables of fd watchers and one-shot timers.
 *
 * ctflowd has a handful of fds (netlink events, netlink dumps, signalfd, the
 * IPFIX sockets) and a handful of timers, so linear scans beat any clever
 * structure here.
 */
#include "base_loop.h"

#include "base_clock.h"

#include <errno.h>
#include <stdlib.h>

#define LOOP_MAX_IO 32
#define LOOP_MAX_TIMERS 32
#define LOOP_MAX_POLL LOOP_MAX_IO

struct loop_io {
	int fd;
	short events;
	int used;
	uint64_t paused_until;
	loop_io_fn fn;
	void *arg;
};

struct loop_timer {
	int used, armed;
	uint64_t due;
	loop_timer_fn fn;
	void *arg;
};

struct loop {
	struct loop_io io[LOOP_MAX_IO];
	struct loop_timer timers[LOOP_MAX_TIMERS];
	struct state_lock *lock;
	int stop;
	uint64_t now;
	struct loop_stats st;
};

static void note_duration(struct loop *lp, uint64_t start_us, int io, int timer)
{
	uint64_t d = clock_mono_us() - start_us;

	if (d > lp->st.slowest_us) {
		lp->st.slowest_us = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
		lp->st.slowest_io = io;
		lp->st.slowest_timer = timer;
	}
}

struct loop *loop_new(void)
{
	struct loop *lp = calloc(1, sizeof(*lp));

	if (lp) {
		lp->now = clock_mono_ms();
		lp->st.slowest_io = lp->st.slowest_timer = -1;
	}
	return lp;
}

void loop_free(struct loop *lp)
{
	free(lp);
}

int loop_io_add(struct loop *lp, int fd, short events, loop_io_fn fn, void *arg)
{
	for (int i = 0; i < LOOP_MAX_IO; i++) {
		if (lp->io[i].used)
			continue;
		lp->io[i] = (struct loop_io){ fd, events, 1, 0, fn, arg };
		return i;
	}
	errno = ENOSPC;
	return -1;
}

void loop_io_del(struct loop *lp, int h)
{
	if (h >= 0 && h < LOOP_MAX_IO)
		lp->io[h].used = 0;
}

void loop_io_events(struct loop *lp, int h, short events)
{
	if (h >= 0 && h < LOOP_MAX_IO)
		lp->io[h].events = events;
}

void loop_io_pause(struct loop *lp, int h, uint64_t until_ms)
{
	if (h >= 0 && h < LOOP_MAX_IO)
		lp->io[h].paused_until = until_ms;
}

int loop_timer_add(struct loop *lp, loop_timer_fn fn, void *arg)
{
	for (int i = 0; i < LOOP_MAX_TIMERS; i++) {
		if (lp->timers[i].used)
			continue;
		lp->timers[i] = (struct loop_timer){ 1, 0, 0, fn, arg };
		return i;
	}
	errno = ENOSPC;
	return -1;
}

void loop_timer_arm(struct loop *lp, int h, uint64_t delay_ms)
{
	if (h < 0 || h >= LOOP_MAX_TIMERS)
		return;
	lp->timers[h].armed = 1;
	lp->timers[h].due = loop_now_fresh(lp) + delay_ms;
}

void loop_timer_disarm(struct loop *lp, int h)
{
	if (h >= 0 && h < LOOP_MAX_TIMERS)
		lp->timers[h].armed = 0;
}

int loop_timer_armed(const struct loop *lp, int h)
{
	return h >= 0 && h < LOOP_MAX_TIMERS && lp->timers[h].armed;
}

void loop_set_lock(struct loop *lp, struct state_lock *l)
{
	lp->lock = l;
}

uint64_t loop_now(struct loop *lp)
{
	return lp->now;
}

uint64_t loop_now_fresh(struct loop *lp)
{
	lp->now = clock_mono_ms();
	return lp->now;
}

/* Milliseconds until the earliest deadline (timer or paused fd), capped. */
static int next_deadline(const struct loop *lp, int max_wait_ms)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < LOOP_MAX_TIMERS; i++)
		if (lp->timers[i].used && lp->timers[i].armed && lp->timers[i].due < best)
			best = lp->timers[i].due;
	for (int i = 0; i < LOOP_MAX_IO; i++)
		if (lp->io[i].used && lp->io[i].paused_until > lp->now &&
		    lp->io[i].paused_until < best)
			best = lp->io[i].paused_until;
	int wait = -1;

	if (best != UINT64_MAX)
		wait = best <= lp->now ? 0 : (int)(best - lp->now > 3600000 ? 3600000 : best - lp->now);
	if (max_wait_ms >= 0 && (wait < 0 || wait > max_wait_ms))
		wait = max_wait_ms;
	return wait;
}

static void run_timers(struct loop *lp)
{
	for (int i = 0; i < LOOP_MAX_TIMERS; i++) {
		struct loop_timer *t = &lp->timers[i];

		if (!t->used || !t->armed || t->due > lp->now)
			continue;
		t->armed = 0; /* one-shot: the callback re-arms if periodic */
		uint64_t start = clock_mono_us();

		t->fn(t->arg);
		note_duration(lp, start, -1, i);
	}
}

int loop_run_once(struct loop *lp, int max_wait_ms)
{
	struct pollfd pfd[LOOP_MAX_POLL];
	int owner[LOOP_MAX_IO];
	int n = 0;

	loop_now_fresh(lp);
	for (int i = 0; i < LOOP_MAX_IO; i++) {
		if (!lp->io[i].used || lp->io[i].paused_until > lp->now)
			continue;
		pfd[n] = (struct pollfd){ lp->io[i].fd, lp->io[i].events, 0 };
		owner[n++] = i;
	}
	int timeout = next_deadline(lp, max_wait_ms);

	if (lp->lock)
		lock_give(lp->lock);
	int rc = poll(pfd, (nfds_t)n, timeout);

	if (lp->lock) {
		uint64_t start = clock_mono_us();

		lock_take(lp->lock);
		note_duration(lp, start, -1, -1);
	}
	if (rc < 0 && errno != EINTR)
		return -1;
	loop_now_fresh(lp);
	for (int i = 0; rc > 0 && i < n; i++) {
		struct loop_io *io = &lp->io[owner[i]];

		if (pfd[i].revents && io->used && io->fd == pfd[i].fd) {
			uint64_t start = clock_mono_us();

			io->fn(io->arg, pfd[i].revents);
			note_duration(lp, start, owner[i], -1);
		}
	}
	loop_now_fresh(lp);
	run_timers(lp);
	lp->st.iterations++;
	return 0;
}

void loop_get_stats(const struct loop *lp, struct loop_stats *st)
{
	*st = lp->st;
}

int loop_run(struct loop *lp)
{
	while (!lp->stop)
		if (loop_run_once(lp, -1) < 0)
			return -1;
	return 0;
}

void loop_stop(struct loop *lp)
{
	lp->stop = 1;
}
