/*
 * base_loop: the daemon's single poll() loop over our fds and timers.
 *
 * Every source does a bounded amount of work per callback and returns; poll()
 * is level-triggered, so a source with more work pending is called again on
 * the next iteration, after the others had their turn.  With a state lock
 * (loop_set_lock) the loop holds it while callbacks run and lets it go while
 * it waits in poll(), so another thread (SNMP) may read the state then.
 */
#ifndef CTFLOWD_BASE_LOOP_H
#define CTFLOWD_BASE_LOOP_H

#include <poll.h>
#include <stdint.h>

#include "base_lock.h"

struct loop;

typedef void (*loop_io_fn)(void *arg, short revents);
typedef void (*loop_timer_fn)(void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *lp);

/* Returns a handle >= 0, or -1 (errno ENOSPC) when the table is full. */
int loop_io_add(struct loop *lp, int fd, short events, loop_io_fn fn, void *arg);
void loop_io_del(struct loop *lp, int h);
void loop_io_events(struct loop *lp, int h, short events);
/* Leave the fd out of poll() until the monotonic time `until_ms`: wakeup coalescing. */
void loop_io_pause(struct loop *lp, int h, uint64_t until_ms);

int loop_timer_add(struct loop *lp, loop_timer_fn fn, void *arg);
void loop_timer_arm(struct loop *lp, int h, uint64_t delay_ms);
void loop_timer_disarm(struct loop *lp, int h);
int loop_timer_armed(const struct loop *lp, int h);

/* Hold l while callbacks run (loop_run takes it; poll() gives it up). */
void loop_set_lock(struct loop *lp, struct state_lock *l);

/* The longest the loop was kept from reading its fds: a callback, or the
 * wait for the state lock before the callbacks (another thread serving a
 * request).  A stall there delays everything else. */
struct loop_stats {
	uint64_t iterations;
	uint32_t slowest_us;   /* longest callback or lock wait, microseconds */
	int slowest_io;        /* its io handle, or -1 */
	int slowest_timer;     /* its timer handle, or -1 (both -1: the lock wait) */
};

void loop_get_stats(const struct loop *lp, struct loop_stats *st);

/* Monotonic milliseconds, refreshed once per iteration and on demand. */
uint64_t loop_now(struct loop *lp);
uint64_t loop_now_fresh(struct loop *lp);

/* One poll() and dispatch; max_wait_ms < 0 means wait for the next timer. */
int loop_run_once(struct loop *lp, int max_wait_ms);
int loop_run(struct loop *lp);
void loop_stop(struct loop *lp);

#endif
