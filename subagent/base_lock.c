/*
 * base_lock: a mutex and a flag.  pthread mutexes are not fair: the loop,
 * giving the lock up and taking it again at once, would win every time.
 * The flag says someone waits; lock_yield then lets go and waits (briefly,
 * boundedly) until the waiter has the mutex before it queues for it again.
 */
#include "base_lock.h"

#include <sched.h>

#define HANDOVER_SPINS 100000

void lock_init(struct state_lock *l)
{
	pthread_mutex_init(&l->mu, NULL);
	atomic_init(&l->waiting, 0);
	atomic_init(&l->handovers, 0);
}

void lock_destroy(struct state_lock *l)
{
	pthread_mutex_destroy(&l->mu);
}

void lock_take(struct state_lock *l)
{
	pthread_mutex_lock(&l->mu);
}

void lock_give(struct state_lock *l)
{
	pthread_mutex_unlock(&l->mu);
}

void lock_yield(struct state_lock *l)
{
	if (!atomic_load_explicit(&l->waiting, memory_order_relaxed))
		return;
	pthread_mutex_unlock(&l->mu);
	/* until the waiter holds it (it clears the flag once it does) */
	for (int i = 0; i < HANDOVER_SPINS && atomic_load(&l->waiting); i++)
		sched_yield();
	atomic_fetch_add_explicit(&l->handovers, 1, memory_order_relaxed);
	pthread_mutex_lock(&l->mu);
}

void lock_enter(struct state_lock *l)
{
	atomic_fetch_add(&l->waiting, 1);
	pthread_mutex_lock(&l->mu);
	atomic_fetch_sub(&l->waiting, 1);
}

void lock_leave(struct state_lock *l)
{
	pthread_mutex_unlock(&l->mu);
}
