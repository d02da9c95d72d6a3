/*
 * base_lock: the lock over ctflowd's state, between the event loop and the
 * SNMP thread.
 *
 * The event loop holds it while it runs its callbacks and lets it go while
 * it waits in poll(); the SNMP thread takes it for the moment it serves a
 * request (a handler reads the tables, a SET changes a threshold) and lets
 * it go before it talks to snmpd again.  So a wedged snmpd can only hold up
 * the SNMP thread, never the reading of events.  A long callback of the
 * loop offers the lock at points where its state is consistent (between
 * transactions): lock_yield hands it over only when the SNMP thread waits,
 * so a walk is served between two batches of events, not after a whole
 * loop pass.
 */
#ifndef CTFLOWD_BASE_LOCK_H
#define CTFLOWD_BASE_LOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct state_lock {
	pthread_mutex_t mu;
	atomic_int waiting;      /* the other thread wants it */
	atomic_ullong handovers; /* times lock_yield let it in */
};

void lock_init(struct state_lock *l);
void lock_destroy(struct state_lock *l);

/* The event loop's side. */
void lock_take(struct state_lock *l);
void lock_give(struct state_lock *l);
/* Holding it: let the other thread in if it waits, then take it back. */
void lock_yield(struct state_lock *l);

/* The SNMP thread's side: announces itself, so lock_yield lets it in. */
void lock_enter(struct state_lock *l);
void lock_leave(struct state_lock *l);

#endif
