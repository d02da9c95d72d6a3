/*
 * ctflowd_run: the event loop's callbacks.  Each does a bounded amount of
 * work and returns, so that a flood of events and a long dump never starve
 * each other; each change of the state happens in a store transaction, so a
 * kill at any point leaves the last committed state.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctflowd.h"
#include "base_clock.h"
#include "base_log.h"
#include "ipfix_export.h"
#include "kern_sys.h"
#include "out_json.h"
#include "snmp_agent.h"

#define SWEEP_STEP 256     /* entries swept per transaction */
#define JOURNAL_BYTES (4u << 20)
#define INDEX_BUDGET 4096 /* new rows per profile moved into the ordered index per step */
#define INDEX_PERIOD_MS 100
#define EXPORT_DRAIN_MS 2000 /* at exit, the longest wait for collectors to take the queue */
#define ALARMS_PER_SLICE 16 /* alarms held in a slice's transaction (the rest: next time) */

static int sysctl_int(const char *name)
{
	return (int)kern_sysctl(KERN_NETFILTER_SYSCTLS, name);
}

void run_refresh_kernel(struct ctflowd *d)
{
	d->health.acct_on = sysctl_int("nf_conntrack_acct");
	d->health.tstamp_on = sysctl_int("nf_conntrack_timestamp");
	d->health.events_mode = sysctl_int("nf_conntrack_events");
	d->health.idle_timeout = sysctl_int("nf_conntrack_generic_timeout");
}

static uint64_t deadline_ns(const struct ctflowd *d)
{
	return clock_mono_ns() + (uint64_t)d->conf.loop_budget_ms * 1000000u;
}

/* ---- the store: what survives a restart ---- */

struct ctf_counters *counters_w(struct ctflowd *d)
{
	uint32_t epoch = store_epoch(d->store);

	if (d->counters->epoch != epoch) {
		store_save(d->store, d->counters, sizeof(*d->counters));
		d->counters->epoch = epoch;
	}
	return d->counters;
}

/* Journal bytes the next event, dump row or swept entry may need. */
void run_size_items(struct ctflowd *d)
{
	d->item_save_max = track_save_max() + agg_set_save_max(d->agg) +
			   ipfix_exporter_save_max(d->ipfix) + notify_save_max(ALARMS_PER_SLICE) +
			   sizeof(*d->counters) + 1024;
}

/* Inside a transaction: commit and go on in a new one when the next item
 * might not fit the journal. */
static void txn_room(struct ctflowd *d)
{
	if (!store_room(d->store, d->item_save_max)) {
		store_commit(d->store);
		store_begin(d->store);
	}
}

int run_open_store(struct ctflowd *d)
{
	char err[512];
	enum store_origin o;

	d->store = store_open(d->conf.state_dir, JOURNAL_BYTES, ctsock_rx_bytes(), err, sizeof(err));
	if (!d->store)
		return log_warnx("%s", err), -1;
	d->counters = store_region(d->store, "daemon", sizeof(*d->counters), sizeof(*d->counters), &o);
	if (!d->counters)
		return log_warn("state: daemon counters"), -1;
	if (o == STORE_FRESH)
		d->counters->created = (uint64_t)time(NULL);
	d->counters->starts++;
	d->counters->epoch = 0;
	return 0;
}

/* What the store refused, once everything has asked for its regions. */
void run_report_store(struct ctflowd *d)
{
	char notes[64][STORE_NOTE_MAX];
	size_t n = store_notes(d->store, notes, 64);

	for (size_t i = 0; i < n; i++)
		log_warnx("%s", notes[i]);
	store_sweep_unused(d->store);
}

/* ---- slices: accounting -> aggregation and IPFIX ---- */

static void on_slice(void *arg, const struct slice *s)
{
	struct ctflowd *d = arg;

	agg_set_apply(d->agg, s, (uint32_t)time(NULL));
	/* an alarm this slice raised is held with it, in its transaction */
	if (d->notifier && thresh_events_pending(d->thresh))
		notify_take_alarms(d->notifier, d->thresh, d->agg, ALARMS_PER_SLICE);
	if (d->ipfix)
		ipfix_exporter_slice(d->ipfix, s);
}

/* What the kernel side lost, for the exporter's options records. */
static void loss_counters(void *arg, struct ipfix_loss *out)
{
	struct ctflowd *d = arg;
	struct ctsock_stats cs;
	struct track_stats ts;

	ctsock_get_stats(d->cs, &cs);
	track_get_stats(d->track, &ts);
	out->events_lost = cs.kernel_drops;
	out->overruns = cs.overruns;
	out->rejected = cs.rejected;
	out->ended_unobserved = ts.ended_unobserved;
	out->incarnations = ts.incarnations;
	out->duplicate_destroys = ts.duplicate_destroys;
	out->stale_rows = ts.stale_rows;
	out->dying_rows = ts.dying_rows;
	out->late_destroys = ts.late_destroys;
	out->ended_while_down = ts.ended_while_down;
	out->counter_resets = ts.counter_resets;
	out->tracking_refused = ts.full_refusals;
}

int run_setup_ipfix(struct ctflowd *d)
{
	const struct ipfix_cfg cfg = { d->conf.ipfix_domain, d->conf.ipfix_enterprise_ies,
				       d->conf.ipfix_stats_interval_ms, d->conf.ncollectors,
				       d->conf.collectors };
	const struct ipfix_source src = { loss_counters, d };

	if (!d->conf.ncollectors)
		return 0;
	d->ipfix = ipfix_exporter_new(&cfg, d->loop, &src, d->store);
	if (!d->ipfix)
		return log_warn("cannot set up IPFIX export"), -1;
	return 0;
}

/* ---- kernel sink ---- */

/*
 * Between wakeups the tables go cold, so each event would pay several cache
 * misses in a row (tracker bucket, then entry; per profile a bucket, then a
 * row).  Prefetching the whole batch's buckets, then its rows, overlaps them.
 * The profiles' keys are built and hashed once, in that first pass.
 * The batch arrives in a transaction (kern_ctsock's); when the journal could
 * not take one more event, the part applied so far is committed.
 */
static void on_events(void *arg, const struct ct_flow *flows, size_t n, uint32_t first)
{
	struct ctflowd *d = arg;
	uint64_t now = clock_real_ns();

	for (int stage = 0; stage < 2; stage++) {
		for (size_t i = 0; i < n; i++)
			track_prefetch(d->track, &flows[i], stage);
		agg_set_prefetch(d->agg, flows, n, stage);
	}
	for (size_t i = 0; i < n; i++) {
		if (!store_room(d->store, d->item_save_max)) {
			store_commit_rx(d->store, first + (uint32_t)i);
			store_begin(d->store);
		}
		track_destroy(d->track, &flows[i], now);
	}
	agg_set_batch_done(d->agg);
	d->health.last_event = now / 1000000000u;
}

static void on_dump_row(void *arg, const struct ct_flow *f)
{
	struct ctflowd *d = arg;

	uint64_t now = clock_real_ns();

	txn_room(d);
	/* a period's closing read: what it finds counts in the period that ended */
	if (d->dump_close_ns && now > d->dump_close_ns)
		now = d->dump_close_ns;
	track_dump_row(d->track, f, now);
}

static void on_dump_done(void *arg, int ok, int err)
{
	struct ctflowd *d = arg;

	if (!ok)
		log_warnx("conntrack dump failed: %s", strerror(err));
	track_dump_end(d->track, ok);
	d->dump_close_ns = 0;
	d->drained_since_done = 0;
	loop_timer_arm(d->loop, d->t_work, 0);
	if (d->close_wanted_ns)
		loop_timer_arm(d->loop, d->t_period, 0);
	else if (d->resync_wanted)
		loop_timer_arm(d->loop, d->t_dump, 0);
}

static void on_overrun(void *arg)
{
	struct ctflowd *d = arg;

	d->resync_wanted = 1;
	log_warnx("conntrack event overrun: events lost; resyncing with a table dump");
	if (!ctsock_dumping(d->cs))
		loop_timer_arm(d->loop, d->t_dump, 0);
}

/* ---- loop callbacks ---- */

static void read_events(struct ctflowd *d)
{
	enum ctsock_rc rc = ctsock_read_events(d->cs, deadline_ns(d));

	if (rc == CTSOCK_ERROR) {
		log_warn("reading conntrack events");
		return;
	}
	if (rc != CTSOCK_DRAINED)
		return;
	d->drained_since_done = 1;
	if (d->conf.coalesce_ms)
		loop_io_pause(d->loop, d->h_events, loop_now_fresh(d->loop) + d->conf.coalesce_ms);
}

static void on_events_io(void *arg, short revents)
{
	struct ctflowd *d = arg;

	(void)revents;
	read_events(d);
	if (track_sweep_pending(d->track) && d->drained_since_done)
		loop_timer_arm(d->loop, d->t_work, 0);
}

static void on_dump_io(void *arg, short revents)
{
	struct ctflowd *d = arg;
	enum ctsock_rc rc;

	(void)revents;
	store_begin(d->store);
	rc = ctsock_read_dump(d->cs, deadline_ns(d));
	store_commit(d->store);
	if (rc == CTSOCK_ERROR)
		log_warn("reading conntrack dump");
}

/*
 * Deferred work: the sweep after a dump.  It may only run once every event
 * queued before the dump ended has been read, so a flow whose DESTROY is
 * still in the queue is not mistaken for one that vanished.
 */
static void on_work(void *arg)
{
	struct ctflowd *d = arg;

	if (!track_sweep_pending(d->track))
		return;
	if (!d->drained_since_done) {
		read_events(d);
		if (!d->drained_since_done) {
			loop_timer_arm(d->loop, d->t_work, 1);
			return;
		}
	}
	uint64_t deadline = deadline_ns(d), now = clock_real_ns();
	int more;

	do {
		store_begin(d->store);
		more = track_sweep(d->track, SWEEP_STEP, now);
		store_commit(d->store);
		lock_yield(&d->lock);
	} while (more && clock_mono_ns() < deadline);
	if (more)
		loop_timer_arm(d->loop, d->t_work, 0);
}

static void start_dump(struct ctflowd *d)
{
	run_refresh_kernel(d);
	store_begin(d->store);
	track_dump_begin(d->track);
	if (ctsock_dump_start(d->cs) < 0) {
		log_warn("starting conntrack dump");
		track_dump_end(d->track, 0);
		d->dump_close_ns = 0;
	} else if (d->resync_wanted) {
		d->resync_wanted = 0;
		counters_w(d)->resyncs++;
	}
	store_commit(d->store);
}

static void on_dump_timer(void *arg)
{
	struct ctflowd *d = arg;

	if (!ctsock_dumping(d->cs))
		start_dump(d);
	if (d->conf.dump_interval_ms)
		loop_timer_arm(d->loop, d->t_dump, d->conf.dump_interval_ms);
}

/*
 * A period boundary: the live flows are read at once and what that read
 * finds counts in the period that just ended, so a long flow is split at
 * the boundary (to within the time the read takes).  A dump already running
 * finishes first; the closing read follows it.
 */
void run_arm_periods(struct ctflowd *d)
{
	int64_t now_ms = (int64_t)(clock_real_ns() / 1000000u);
	int64_t b = agg_set_next_boundary(d->agg, now_ms / 1000);

	if (b == INT64_MAX) {
		d->next_boundary = 0;
		loop_timer_disarm(d->loop, d->t_period);
		return;
	}
	d->next_boundary = b;
	/* a few ms past it, so that the closing read is surely in the new period */
	loop_timer_arm(d->loop, d->t_period, (uint64_t)(b * 1000 - now_ms) + 5);
}

static void on_period_timer(void *arg)
{
	struct ctflowd *d = arg;

	if (d->next_boundary && (int64_t)time(NULL) >= d->next_boundary) {
		d->close_wanted_ns = (uint64_t)d->next_boundary * 1000000000u - 1;
		d->next_boundary = 0;
	}
	if (d->close_wanted_ns && !ctsock_dumping(d->cs)) {
		d->dump_close_ns = d->close_wanted_ns;
		d->close_wanted_ns = 0;
		start_dump(d);
	}
	if (!d->next_boundary)
		run_arm_periods(d);
	else
		loop_timer_arm(d->loop, d->t_period, 1000);
}

/*
 * New rows join the profiles' ordered indexes (for SNMP walks) here, in
 * bounded steps off the event path; an SNMP walk catches up the rest itself.
 */
static void on_index_timer(void *arg)
{
	struct ctflowd *d = arg;
	size_t left = agg_set_order_sync(d->agg, INDEX_BUDGET);

	loop_timer_arm(d->loop, d->t_index, left ? 0 : INDEX_PERIOD_MS);
}

/* Thresholds watch the rows the slices update. */
static void on_row(void *arg, size_t profile, const struct agg_keyspec *spec,
		   const struct usage_def *u, const struct agg_key *key, const struct agg_growth *g,
		   uint32_t now)
{
	struct ctflowd *d = arg;

	thresh_update(d->thresh, profile, spec, key, g->pkts, g->bytes, g->flows_started, now);
	if (u->n)
		thresh_usage(d->thresh, profile, spec, u, key, g, now);
}

void run_observe(struct ctflowd *d, struct agg_set *set)
{
	agg_set_observe(set, on_row, d);
}

static void health_sample(struct ctflowd *d, struct health_sample *hs)
{
	struct ctsock_stats cs;
	struct track_stats ts;

	memset(hs, 0, sizeof(*hs));
	ctsock_get_stats(d->cs, &cs);
	track_get_stats(d->track, &ts);
	hs->now = (uint32_t)time(NULL);
	hs->lost = cs.kernel_drops;
	hs->overruns = cs.overruns;
	hs->unobserved = ts.ended_unobserved;
	hs->acct = d->health.acct_on;
	hs->nprofiles = agg_set_count(d->agg);
	for (size_t i = 0; i < hs->nprofiles && i < HEALTH_PROFILES_MAX; i++) {
		struct agg_table_stats st;

		agg_table_get_stats(agg_set_profile(d->agg, i)->tab, &st);
		hs->evictions[i] = st.evictions;
	}
}

/* Once a second: windows move on, falling alarms; what the thresholds
 * raised and what health says go to the notifier (the log, and SNMP). */
static void on_alarm_timer(void *arg)
{
	struct ctflowd *d = arg;
	struct health_sample hs;
	struct notify_stats ns;

	thresh_tick(d->thresh, (uint32_t)time(NULL));
	health_sample(d, &hs);
	store_begin(d->store);
	notify_tick(d->notifier, d->thresh, d->agg, &hs);
	store_commit(d->store);
	notify_get_stats(d->notifier, d->thresh, &ns);
	if (ns.held)
		snmp_agent_wake(d->snmp);
	loop_timer_arm(d->loop, d->t_alarm, 1000);
}

/* Re-rank every profile's top talkers over the window just ended. */
static void on_top_timer(void *arg)
{
	struct ctflowd *d = arg;

	agg_set_rank(d->agg, (uint32_t)time(NULL));
	loop_timer_arm(d->loop, d->t_top, d->conf.top_interval_ms);
}

void run_write_tables(struct ctflowd *d)
{
	if (!d->conf.dump_file[0])
		return;
	if (json_write_file(d->conf.dump_file, &d->view, ++d->json_generation) < 0)
		log_warn("writing %s", d->conf.dump_file);
}

/* ---- set-up ---- */

static int setup_core(struct ctflowd *d)
{
	const struct slice_sink ss = { on_slice, d };
	const struct ctsock_sink ks = { on_events, on_dump_row, on_dump_done, on_overrun, d };
	const struct ctsock_cfg cc = { d->conf.rcvbuf, d->conf.rcvbuf_max, d->conf.reliable_events,
				       &d->lock };
	enum store_origin track_origin;

	d->agg = agg_set_new(d->conf.profiles, d->conf.nprofiles, d->store, NULL, NULL);
	if (!d->agg)
		return log_warnx("cannot allocate aggregation tables"), -1;
	d->track = track_new(d->conf.max_tracked_flows, &ss, d->store, &track_origin);
	if (!d->track)
		return log_warnx("cannot allocate the flow tracking table"), -1;
	d->health.state_kept = track_origin == STORE_KEPT;
	d->cs = ctsock_open(&cc, &ks, d->store);
	if (!d->cs)
		return log_warn("cannot open ctnetlink sockets (needs CAP_NET_ADMIN)"), -1;
	/* Even with none configured: thresholds can be created over SNMP. */
	d->thresh = thresh_set_new(d->conf.thresholds, d->conf.nthresholds);
	if (!d->thresh)
		return log_warnx("cannot allocate the threshold tables"), -1;
	thresh_set_budget(d->thresh, d->conf.threshold_rows);
	run_observe(d, d->agg);
	d->notifier = notify_new(d->store, d->conf.snmp != SNMP_OFF, d->health.state_kept);
	if (!d->notifier)
		return log_warn("state: notification counters"), -1;
	return 0;
}

static int setup_loop(struct ctflowd *d)
{
	d->loop = loop_new();
	if (!d->loop)
		return -1;
	loop_set_lock(d->loop, &d->lock);
	d->h_events = loop_io_add(d->loop, ctsock_event_fd(d->cs), POLLIN, on_events_io, d);
	d->h_dump = loop_io_add(d->loop, ctsock_dump_fd(d->cs), POLLIN, on_dump_io, d);
	d->t_dump = loop_timer_add(d->loop, on_dump_timer, d);
	d->t_work = loop_timer_add(d->loop, on_work, d);
	d->t_top = loop_timer_add(d->loop, on_top_timer, d);
	d->t_index = loop_timer_add(d->loop, on_index_timer, d);
	d->t_alarm = loop_timer_add(d->loop, on_alarm_timer, d);
	d->t_period = loop_timer_add(d->loop, on_period_timer, d);
	if (d->h_events < 0 || d->h_dump < 0 || d->t_dump < 0 || d->t_work < 0 ||
	    d->t_top < 0 || d->t_index < 0 || d->t_alarm < 0 || d->t_period < 0)
		return -1;
	run_arm_periods(d);
	loop_timer_arm(d->loop, d->t_alarm, 1000);
	loop_timer_arm(d->loop, d->t_index, INDEX_PERIOD_MS);
	agg_set_rank(d->agg, (uint32_t)time(NULL)); /* opens the first window */
	loop_timer_arm(d->loop, d->t_top, d->conf.top_interval_ms);
	/* first dump at once: flows that began before we started get tracked */
	loop_timer_arm(d->loop, d->t_dump, 0);
	return 0;
}

int run_setup(struct ctflowd *d)
{
	if (run_open_store(d) < 0 || setup_core(d) < 0 || setup_loop(d) < 0 ||
	    run_setup_ipfix(d) < 0)
		return -1;
	run_size_items(d);
	ctsock_redo(d->cs); /* what the last run received and did not apply */
	run_report_store(d);
	return 0;
}

/* Before exit, give collectors that are up what is queued for them, for a
 * bounded time (the loop keeps accounting meanwhile); then count the rest as
 * not sent, before the final tables are written. */
void run_drain_export(struct ctflowd *d)
{
	uint64_t t0 = clock_mono_ms();

	if (!d->ipfix)
		return;
	while (ipfix_exporter_pending(d->ipfix) && clock_mono_ms() - t0 < EXPORT_DRAIN_MS)
		if (loop_run_once(d->loop, 20) < 0)
			break;
	ipfix_exporter_abandon(d->ipfix);
}
