/*
 * test_loop: the poll loop: timers fire once and in order, fds dispatch,
 * paused fds are skipped until their time, the state lock is free while the
 * loop waits and handed over at a yield.
 */
#include <string.h>
#include <unistd.h>

#include <pthread.h>
#include <stdatomic.h>

#include "base_loop.h"
#include "tap.h"

#define TAP_NAME "test_loop"

static int order[8], norder;
static int io_calls;

static void tick(void *arg)
{
	order[norder++] = (int)(long)arg;
}

static void on_io(void *arg, short rev)
{
	char b[16];

	(void)rev;
	io_calls++;
	(void)!read(*(int *)arg, b, sizeof(b));
}

static void timers_fire_once_in_order(void)
{
	struct loop *lp = loop_new();
	int a = loop_timer_add(lp, tick, (void *)1L), b = loop_timer_add(lp, tick, (void *)2L);

	norder = 0;
	loop_timer_arm(lp, b, 30);
	loop_timer_arm(lp, a, 10);
	for (int i = 0; i < 20 && norder < 2; i++)
		loop_run_once(lp, 100);
	CHECK_EQ_U(norder, 2);
	CHECK_EQ_U(order[0], 1);
	CHECK_EQ_U(order[1], 2);
	CHECK(!loop_timer_armed(lp, a));
	loop_run_once(lp, 20);
	CHECK_EQ_U(norder, 2);
	loop_free(lp);
}

static void readable_fd_dispatches_and_pause_defers_it(void)
{
	struct loop *lp = loop_new();
	int p[2];

	CHECK(pipe(p) == 0);
	int h = loop_io_add(lp, p[0], POLLIN, on_io, &p[0]);

	io_calls = 0;
	CHECK(write(p[1], "x", 1) == 1);
	loop_run_once(lp, 100);
	CHECK_EQ_U(io_calls, 1);
	CHECK(write(p[1], "y", 1) == 1);
	loop_io_pause(lp, h, loop_now_fresh(lp) + 50);
	loop_run_once(lp, 0);
	CHECK_EQ_U(io_calls, 1); /* paused */
	for (int i = 0; i < 10 && io_calls < 2; i++)
		loop_run_once(lp, 100);
	CHECK_EQ_U(io_calls, 2);
	close(p[0]);
	close(p[1]);
	loop_free(lp);
}

/* The other thread (SNMP): it takes the lock while the loop waits in poll,
 * and lock_yield lets it in at once in the middle of a long callback. */
struct other {
	struct state_lock *l;
	atomic_int entered;
	int ok;
};

static void *other_thread(void *arg)
{
	struct other *o = arg;

	lock_enter(o->l);
	atomic_store(&o->entered, 1);
	lock_leave(o->l);
	return NULL;
}

static void lock_is_free_in_poll_and_handed_over_on_yield(void)
{
	struct loop *lp = loop_new();
	struct state_lock l;
	struct other o = { &l, 0, 0 };
	pthread_t th;

	lock_init(&l);
	loop_set_lock(lp, &l);
	lock_take(&l); /* the loop's callbacks run holding it */
	CHECK(pthread_create(&th, NULL, other_thread, &o) == 0);
	for (int i = 0; i < 100 && !atomic_load(&o.entered); i++)
		loop_run_once(lp, 10); /* poll gives it up */
	CHECK(atomic_load(&o.entered));
	pthread_join(th, NULL);
	/* in a long callback: the waiter gets in at the yield, not after */
	atomic_store(&o.entered, 0);
	CHECK(pthread_create(&th, NULL, other_thread, &o) == 0);
	for (int i = 0; i < 1000 && !atomic_load(&l.waiting); i++)
		usleep(1000);
	lock_yield(&l);
	CHECK(atomic_load(&o.entered));
	pthread_join(th, NULL);
	CHECK_EQ_U(atomic_load(&l.handovers), 1);
	lock_give(&l);
	lock_destroy(&l);
	loop_free(lp);
}

int main(void)
{
	RUN(timers_fire_once_in_order);
	RUN(readable_fd_dispatches_and_pause_defers_it);
	RUN(lock_is_free_in_poll_and_handed_over_on_yield);
	TAP_DONE();
}
