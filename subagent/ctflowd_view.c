/*
 * ctflowd_view: the out_view the outputs read the daemon through.  Each
 * function answers from the modules as they are now (a reload replaces the
 * profile set, the exporter); the SNMP thread calls them holding the lock.
 */
#include <string.h>

#include "ctflowd.h"
#include "base_log.h"
#include "out_state.h"

static void collector(void *arg, struct collector_view *out)
{
	struct ctflowd *d = arg;

	memset(out, 0, sizeof(*out));
	ctsock_get_stats(d->cs, &out->events);
	track_get_stats(d->track, &out->track);
	loop_get_stats(d->loop, &out->loop);
	notify_get_stats(d->notifier, d->thresh, &out->notify);
	out->resyncs = d->counters->resyncs;
	out->starts = d->counters->starts;
	out->state_created = d->counters->created;
	out->started = d->health.started;
	out->last_event = d->health.last_event;
	out->acct_on = d->health.acct_on;
	out->tstamp_on = d->health.tstamp_on;
	out->events_mode = d->health.events_mode;
	out->idle_timeout = d->health.idle_timeout;
	out->state_kept = d->health.state_kept;
	out->rcvbuf_max = d->conf.rcvbuf_max;
	out->dump_interval_ms = d->conf.dump_interval_ms;
	out->top_interval_ms = d->conf.top_interval_ms;
	out->threshold_rows = (uint32_t)d->conf.threshold_rows;
	out->threshold_rows_used = thresh_rows_held(d->thresh);
}

static struct agg_set *profiles(void *arg)
{
	return ((struct ctflowd *)arg)->agg;
}

static struct thresh_set *thresholds(void *arg)
{
	return ((struct ctflowd *)arg)->thresh;
}

static struct ipfix_exporter *exporter(void *arg)
{
	return ((struct ctflowd *)arg)->ipfix;
}

static void thresh_env(void *arg, struct thresh_env *out)
{
	conf_thresh_env(&((struct ctflowd *)arg)->conf, out);
}

void view_save_thresholds(struct ctflowd *d)
{
	if (d->conf.state_file[0] && state_write(d->conf.state_file, d->thresh, d->agg) < 0)
		log_warn("thresholds: writing %s", d->conf.state_file);
}

static void thresholds_saved(void *arg)
{
	view_save_thresholds(arg);
}

void view_init(struct ctflowd *d)
{
	d->view = (struct out_view){ d, collector, profiles, thresholds, exporter, thresh_env,
				     thresholds_saved };
}
