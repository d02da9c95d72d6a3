/*
 * mib_collector: ctflowCollector, the collector's health scalars, from one
 * snapshot of the daemon's numbers (collector_view) per value.
 */
#include "mib_ctflow.h"

#include "base_version.h"

/* on(1) off(2) unknown(3) from a sysctl read as 1, 0 or -1. */
static long onoff(int v)
{
	return v == 1 ? 1 : v == 0 ? 2 : 3;
}

static long events_mode(int v)
{
	return v >= 0 && v <= 2 ? v + 1 : 4;
}

static int kernel_value(const struct collector_view *c, unsigned n, netsnmp_variable_list *vb)
{
	const struct ctsock_stats *cs = &c->events;

	switch (n) {
	case COL_EVENTS: mib_set_counter64(vb, cs->events); break;
	case COL_EVENTS_LOST: mib_set_counter64(vb, cs->kernel_drops); break;
	case COL_OVERRUNS: mib_set_counter64(vb, cs->overruns); break;
	case COL_REJECTED: mib_set_counter64(vb, cs->rejected); break;
	case COL_DUMPS: mib_set_counter64(vb, cs->dump_runs); break;
	case COL_DUMP_FAILURES: mib_set_counter64(vb, cs->dump_failures); break;
	case COL_RCVBUF: mib_set_unsigned(vb, cs->rcvbuf); break;
	case COL_RCVBUF_MAX: mib_set_unsigned(vb, c->rcvbuf_max); break;
	case COL_ACCOUNTING: mib_set_integer(vb, onoff(c->acct_on)); break;
	case COL_TIMESTAMPS: mib_set_integer(vb, onoff(c->tstamp_on)); break;
	case COL_EVENTS_MODE: mib_set_integer(vb, events_mode(c->events_mode)); break;
	default: return -1;
	}
	return 0;
}

static int track_value(const struct collector_view *c, unsigned n, netsnmp_variable_list *vb)
{
	const struct track_stats *ts = &c->track;

	switch (n) {
	case COL_ENDED_UNOBSERVED: mib_set_counter64(vb, ts->ended_unobserved); break;
	case COL_COUNTER_RESETS: mib_set_counter64(vb, ts->counter_resets); break;
	case COL_TRACKED: mib_set_gauge(vb, ts->tracked); break;
	case COL_TRACKED_LIMIT: mib_set_unsigned(vb, ts->limit); break;
	case COL_TRACK_REFUSED: mib_set_counter64(vb, ts->full_refusals); break;
	case COL_TRACKED_MEMORY: mib_set_gauge(vb, ts->bytes_used / 1024); break;
	case COL_NO_COUNTERS: mib_set_counter64(vb, ts->no_counters); break;
	case COL_INCARNATIONS: mib_set_counter64(vb, ts->incarnations); break;
	case COL_DUPLICATE_DESTROYS: mib_set_counter64(vb, ts->duplicate_destroys); break;
	case COL_STALE_ROWS: mib_set_counter64(vb, ts->stale_rows); break;
	case COL_DYING_ROWS: mib_set_counter64(vb, ts->dying_rows); break;
	case COL_LATE_DESTROYS: mib_set_counter64(vb, ts->late_destroys); break;
	case COL_ENDED_WHILE_DOWN: mib_set_counter64(vb, ts->ended_while_down); break;
	default: return -1;
	}
	return 0;
}

static int daemon_value(const struct collector_view *c, unsigned n, netsnmp_variable_list *vb)
{
	switch (n) {
	case COL_VERSION: mib_set_string(vb, CTFLOWD_VERSION); break;
	case COL_START: mib_set_datetime(vb, (time_t)c->started); break;
	case COL_LAST_EVENT: mib_set_datetime(vb, (time_t)c->last_event); break;
	case COL_RESYNCS: mib_set_counter64(vb, c->resyncs); break;
	case COL_DUMP_INTERVAL: mib_set_unsigned(vb, c->dump_interval_ms / 1000); break;
	case COL_TOP_INTERVAL: mib_set_unsigned(vb, c->top_interval_ms / 1000); break;
	case COL_LOOP_SLOWEST: mib_set_unsigned(vb, c->loop.slowest_us); break;
	case COL_NOTIFY_SENT: mib_set_counter64(vb, c->notify.sent); break;
	case COL_NOTIFY_HELD: mib_set_gauge(vb, c->notify.held); break;
	case COL_NOTIFY_DROPPED: mib_set_counter64(vb, c->notify.dropped); break;
	case COL_STATE_CREATED: mib_set_datetime(vb, (time_t)c->state_created); break;
	case COL_STARTS: mib_set_counter64(vb, c->starts); break;
	case COL_THRESHOLD_ROWS: mib_set_unsigned(vb, c->threshold_rows); break;
	case COL_THRESHOLD_ROWS_USED: mib_set_gauge(vb, c->threshold_rows_used); break;
	default: return -1;
	}
	return 0;
}

int mib_collector_value(const struct out_view *v, unsigned obj, netsnmp_variable_list *vb)
{
	struct collector_view c;

	v->collector(v->arg, &c);
	if (daemon_value(&c, obj, vb) == 0 || kernel_value(&c, obj, vb) == 0)
		return 0;
	return track_value(&c, obj, vb);
}

static int collector_value(const void *ctx, unsigned n, netsnmp_variable_list *vb)
{
	return mib_collector_value(ctx, n, vb);
}

void mib_collector_init(struct mib_scalars *s, const struct out_view *v, const oid *root,
			size_t len)
{
	static const oid sub[] = { 1, CTFLOW_COLLECTOR };

	s->name = "ctflowCollector";
	s->oidlen = mib_oid_join(s->oid, root, len, sub, 2);
	s->max = COL_LAST;
	s->ctx = v;
	s->value = collector_value;
}
