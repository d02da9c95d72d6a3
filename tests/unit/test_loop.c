/*
 * test_loop: the poll loop: timers fire once and in order, fds dispatch,
 * paused fds are skipped until their time, external providers are polled.
 */
#include <string.h>
#include <unistd.h>

#include "base_loop.h"
#include "tap.h"

#define TAP_NAME "test_loop"

static int order[8], norder;
static int io_calls, ext_prepared, ext_dispatched;

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

static void prepare(void *arg, struct pollfd *pfd, int *n, int max, int *timeout)
{
	(void)arg;
	(void)pfd;
	(void)max;
	(void)n;
	ext_prepared++;
	if (*timeout < 0 || *timeout > 5)
		*timeout = 5;
}

static void dispatch(void *arg, const struct pollfd *pfd, int n)
{
	(void)arg;
	(void)pfd;
	(void)n;
	ext_dispatched++;
}

static void external_provider_is_polled(void)
{
	struct loop *lp = loop_new();
	const struct loop_ext ext = { prepare, dispatch, NULL };

	loop_set_ext(lp, &ext);
	ext_prepared = ext_dispatched = 0;
	loop_run_once(lp, -1); /* returns after the provider's 5 ms timeout */
	CHECK_EQ_U(ext_prepared, 1);
	CHECK_EQ_U(ext_dispatched, 1);
	loop_free(lp);
}

int main(void)
{
	RUN(timers_fire_once_in_order);
	RUN(readable_fd_dispatches_and_pause_defers_it);
	RUN(external_provider_is_polled);
	TAP_DONE();
}
