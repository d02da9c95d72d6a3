/*
 * mib_collector: ctflowCollector, the collector's health scalars.  Values
 * are read live from the modules' statistics at each request.
 */
#include "mib_ctflow.h"

#include "acct_track.h"
#include "kern_ctsock.h"

enum {
	C_VERSION = 1, C_START, C_LAST_EVENT, C_EVENTS, C_LOST, C_OVERRUNS, C_RESYNCS,
	C_REJECTED, C_UNOBSERVED, C_RESETS, C_DUMPS, C_DUMP_FAILURES, C_TRACKED,
	C_TRACKED_LIMIT, C_REFUSED, C_TRACKED_MEM, C_ACCT, C_TSTAMP, C_EVENTS_MODE, C_RCVBUF,
	C_RCVBUF_MAX, C_DUMP_INTERVAL, C_NO_COUNTERS, C_LOOP_SLOWEST, C_TOP_INTERVAL,
	C_NOTIFY_SENT, C_NOTIFY_HELD, C_NOTIFY_DROPPED, C_INCARNATIONS, C_DUPLICATES, C_STALE,
	C_DYING, C_LATE, C_WHILE_DOWN, C_STATE_CREATED, C_STARTS, C_LAST = C_STARTS
};

/* on(1) off(2) unknown(3) from a sysctl read as 1, 0 or -1. */
static long onoff(int v)
{
	return v == 1 ? 1 : v == 0 ? 2 : 3;
}

static long events_mode(int v)
{
	return v >= 0 && v <= 2 ? v + 1 : 4;
}

static int kernel_value(struct ctflowd *d, unsigned n, netsnmp_variable_list *vb)
{
	struct ctsock_stats cs;

	ctsock_get_stats(d->cs, &cs);
	switch (n) {
	case C_EVENTS: mib_set_counter64(vb, cs.events); break;
	case C_LOST: mib_set_counter64(vb, cs.kernel_drops); break;
	case C_OVERRUNS: mib_set_counter64(vb, cs.overruns); break;
	case C_REJECTED: mib_set_counter64(vb, cs.rejected); break;
	case C_DUMPS: mib_set_counter64(vb, cs.dump_runs); break;
	case C_DUMP_FAILURES: mib_set_counter64(vb, cs.dump_failures); break;
	case C_RCVBUF: mib_set_unsigned(vb, cs.rcvbuf); break;
	default: return -1;
	}
	return 0;
}

static int track_value(struct ctflowd *d, unsigned n, netsnmp_variable_list *vb)
{
	struct track_stats ts;

	track_get_stats(d->track, &ts);
	switch (n) {
	case C_UNOBSERVED: mib_set_counter64(vb, ts.ended_unobserved); break;
	case C_RESETS: mib_set_counter64(vb, ts.counter_resets); break;
	case C_TRACKED: mib_set_gauge(vb, ts.tracked); break;
	case C_TRACKED_LIMIT: mib_set_unsigned(vb, ts.limit); break;
	case C_REFUSED: mib_set_counter64(vb, ts.full_refusals); break;
	case C_TRACKED_MEM: mib_set_gauge(vb, ts.bytes_used / 1024); break;
	case C_NO_COUNTERS: mib_set_counter64(vb, ts.no_counters); break;
	case C_INCARNATIONS: mib_set_counter64(vb, ts.incarnations); break;
	case C_DUPLICATES: mib_set_counter64(vb, ts.duplicate_destroys); break;
	case C_STALE: mib_set_counter64(vb, ts.stale_rows); break;
	case C_DYING: mib_set_counter64(vb, ts.dying_rows); break;
	case C_LATE: mib_set_counter64(vb, ts.late_destroys); break;
	case C_WHILE_DOWN: mib_set_counter64(vb, ts.ended_while_down); break;
	default: return -1;
	}
	return 0;
}

static int collector_value(void *ctx, unsigned n, netsnmp_variable_list *vb)
{
	struct ctflowd *d = ctx;
	struct loop_stats ls;

	switch (n) {
	case C_VERSION: mib_set_string(vb, CTFLOWD_VERSION); return 0;
	case C_START: mib_set_datetime(vb, (time_t)d->health.started); return 0;
	case C_LAST_EVENT: mib_set_datetime(vb, (time_t)d->health.last_event); return 0;
	case C_RESYNCS: mib_set_counter64(vb, d->counters->resyncs); return 0;
	case C_ACCT: mib_set_integer(vb, onoff(d->health.acct_on)); return 0;
	case C_TSTAMP: mib_set_integer(vb, onoff(d->health.tstamp_on)); return 0;
	case C_EVENTS_MODE: mib_set_integer(vb, events_mode(d->health.events_mode)); return 0;
	case C_RCVBUF_MAX: mib_set_unsigned(vb, d->conf.rcvbuf_max); return 0;
	case C_DUMP_INTERVAL: mib_set_unsigned(vb, d->conf.dump_interval_ms / 1000); return 0;
	case C_TOP_INTERVAL: mib_set_unsigned(vb, d->conf.top_interval_ms / 1000); return 0;
	case C_NOTIFY_SENT: mib_set_counter64(vb, d->counters->notify_sent); return 0;
	case C_STATE_CREATED: mib_set_datetime(vb, (time_t)d->counters->created); return 0;
	case C_STARTS: mib_set_counter64(vb, d->counters->starts); return 0;
	case C_NOTIFY_HELD: mib_set_gauge(vb, d->health.notify_held); return 0;
	case C_NOTIFY_DROPPED:
		mib_set_counter64(vb, d->counters->notify_dropped + thresh_events_dropped(d->thresh));
		return 0;
	case C_LOOP_SLOWEST:
		loop_get_stats(d->loop, &ls);
		mib_set_unsigned(vb, ls.slowest_us);
		return 0;
	default:
		return kernel_value(d, n, vb) == 0 ? 0 : track_value(d, n, vb);
	}
}

void mib_collector_init(struct mib_scalars *s, struct ctflowd *d, const oid *root, size_t len)
{
	static const oid sub[] = { 1, 1 };

	s->name = "ctflowCollector";
	s->oidlen = mib_oid_join(s->oid, root, len, sub, 2);
	s->max = C_LAST;
	s->ctx = d;
	s->value = collector_value;
}
