/*
 * kern_dumper: conntrack table dumps on a thread of their own.
 *
 * The kernel runs a dump step inside the recv() (and the first one inside
 * the request's sendto()) of whoever asked.  On a table full of expired,
 * not yet reaped entries, which heavy churn produces, one step was measured
 * at 0.83 s: a thread that also drains DESTROY events would overrun its
 * buffer meanwhile.  So a dedicated thread sends the request, receives and
 * parses the rows, and hands them over through a bounded ring; the owner
 * applies them in its own thread, in order.  When the ring is full the
 * thread stops reading, which merely pauses the kernel's dump: no row is
 * lost.  The thread touches nothing but its socket and the ring.
 */
#ifndef CTFLOWD_KERN_DUMPER_H
#define CTFLOWD_KERN_DUMPER_H

#include <stddef.h>

#include "kern_ctparse.h"

enum dump_item_kind {
	DUMP_ROW,  /* flow is set */
	DUMP_BAD,  /* a message that failed validation; err = enum ct_parse_err */
	DUMP_DONE, /* the dump completed */
	DUMP_FAIL, /* the dump failed; err = errno */
};

struct dump_item {
	int kind;
	int err;
	struct ct_flow flow;
};

struct dumper;

/* Opens the dump socket and starts the thread; NULL with errno on failure. */
struct dumper *dumper_new(size_t ring_items);
/* Stops and joins the thread, closes everything.  NULL is fine. */
void dumper_free(struct dumper *dp);

/* Readable (eventfd) while items are waiting in the ring. */
int dumper_notify_fd(const struct dumper *dp);

/* Ask for one dump; its items end with DUMP_DONE or DUMP_FAIL. */
int dumper_start(struct dumper *dp);

/* Take up to max items, oldest first; never blocks. */
size_t dumper_pop(struct dumper *dp, struct dump_item *out, size_t max);

#endif
