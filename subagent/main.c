/*
 * main: command line, start-up and the wiring of the layers:
 *
 *   kernel (kern_ctsock) -> accounting (acct_track) -> aggregation (agg_*)
 *   -> outputs (out_json; later SNMP and IPFIX)
 *
 * all driven by one poll loop.  Every callback here does a bounded amount of
 * work and returns, so that a flood of events and a long dump never starve
 * each other (or, later, SNMP requests).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctflowd.h"
#include "base_log.h"
#include "ipfix_export.h"
#include "kern_check.h"
#include "out_json.h"
#include "out_state.h"
#include "snmp_agent.h"

#define DEFAULT_CONF "/etc/ctflowd/ctflowd.conf"
#define SWEEP_STEP 256     /* entries swept per transaction */
#define JOURNAL_BYTES (4u << 20)
#define INDEX_BUDGET 4096 /* new rows per profile moved into the ordered index per step */
#define INDEX_PERIOD_MS 100
#define EXPORT_DRAIN_MS 2000 /* at exit, the longest wait for collectors to take the queue */

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int read_sysctl(const char *name)
{
	char path[256];
	FILE *f;
	int v = -1;

	snprintf(path, sizeof(path), "/proc/sys/net/netfilter/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static void refresh_kernel_state(struct ctflowd *d)
{
	int acct = read_sysctl("nf_conntrack_acct");

	if (acct == 0 && d->health.acct_on != 0)
		log_warnx("nf_conntrack_acct is 0: all flow counters are zero (see --check-kernel)");
	d->health.acct_on = acct;
	d->health.tstamp_on = read_sysctl("nf_conntrack_timestamp");
	d->health.events_mode = read_sysctl("nf_conntrack_events");
	d->health.idle_timeout = read_sysctl("nf_conntrack_generic_timeout");
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
static void size_items(struct ctflowd *d)
{
	d->item_save_max = track_save_max() + agg_set_save_max(d->agg) +
			   ipfix_exporter_save_max(d->ipfix) + sizeof(*d->counters) + 1024;
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

static int open_store(struct ctflowd *d)
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
static void report_store(struct ctflowd *d)
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

static int setup_ipfix(struct ctflowd *d)
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
 * The batch arrives in a transaction (kern_ctsock's); when the journal could
 * not take one more event, the part applied so far is committed.
 */
static void on_events(void *arg, const struct ct_flow *flows, size_t n, uint32_t first)
{
	struct ctflowd *d = arg;
	uint64_t now = real_ns();

	for (int stage = 0; stage < 2; stage++) {
		for (size_t i = 0; i < n; i++) {
			track_prefetch(d->track, &flows[i], stage);
			agg_set_prefetch(d->agg, &flows[i], stage);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!store_room(d->store, d->item_save_max)) {
			store_commit_rx(d->store, first + (uint32_t)i);
			store_begin(d->store);
		}
		track_destroy(d->track, &flows[i], now);
	}
	d->health.last_event = now / 1000000000u;
}

static void on_dump_row(void *arg, const struct ct_flow *f)
{
	struct ctflowd *d = arg;

	txn_room(d);
	track_dump_row(d->track, f, real_ns());
}

static void on_dump_done(void *arg, int ok, int err)
{
	struct ctflowd *d = arg;

	if (!ok)
		log_warnx("conntrack dump failed: %s", strerror(err));
	track_dump_end(d->track, ok);
	d->drained_since_done = 0;
	loop_timer_arm(d->loop, d->t_work, 0);
	if (d->resync_wanted)
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
	uint64_t deadline = mono_ns() + (uint64_t)d->conf.loop_budget_ms * 1000000u;
	enum ctsock_rc rc = ctsock_read_events(d->cs, deadline);

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
	uint64_t deadline = mono_ns() + (uint64_t)d->conf.loop_budget_ms * 1000000u;
	enum ctsock_rc rc;

	(void)revents;
	store_begin(d->store);
	rc = ctsock_read_dump(d->cs, deadline);
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
	uint64_t deadline = mono_ns() + (uint64_t)d->conf.loop_budget_ms * 1000000u, now = real_ns();
	int more;

	do {
		store_begin(d->store);
		more = track_sweep(d->track, SWEEP_STEP, now);
		store_commit(d->store);
	} while (more && mono_ns() < deadline);
	if (more)
		loop_timer_arm(d->loop, d->t_work, 0);
}

static void on_dump_timer(void *arg)
{
	struct ctflowd *d = arg;

	if (!ctsock_dumping(d->cs)) {
		refresh_kernel_state(d);
		store_begin(d->store);
		track_dump_begin(d->track);
		if (ctsock_dump_start(d->cs) < 0) {
			log_warn("starting conntrack dump");
			track_dump_end(d->track, 0);
		} else if (d->resync_wanted) {
			d->resync_wanted = 0;
			counters_w(d)->resyncs++;
		}
		store_commit(d->store);
	}
	if (d->conf.dump_interval_ms)
		loop_timer_arm(d->loop, d->t_dump, d->conf.dump_interval_ms);
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
		   const struct agg_key *key, const struct agg_growth *g, uint32_t now)
{
	struct ctflowd *d = arg;

	thresh_update(d->thresh, profile, spec, key, g->pkts, g->bytes, g->flows_started, now);
}

/* Once a second: windows move on, falling alarms; what was raised goes out
 * as notifications (and to the log, for sites without SNMP). */
static void on_alarm_timer(void *arg)
{
	struct ctflowd *d = arg;
	struct alarm_event ev[64];
	size_t n;

	thresh_tick(d->thresh, (uint32_t)time(NULL));
	if (d->snmp) {
		store_begin(d->store); /* notification counters */
		snmp_agent_notify(d->snmp);
		store_commit(d->store);
	} else {
		while ((n = thresh_take_events(d->thresh, ev, 64)) > 0)
			for (size_t i = 0; i < n; i++)
				log_alarm(d, &ev[i]);
	}
	loop_timer_arm(d->loop, d->t_alarm, 1000);
}

/* Re-rank every profile's top talkers over the window just ended. */
static void on_top_timer(void *arg)
{
	struct ctflowd *d = arg;

	agg_set_rank(d->agg, (uint32_t)time(NULL));
	loop_timer_arm(d->loop, d->t_top, d->conf.top_interval_ms);
}

void log_alarm(const struct ctflowd *d, const struct alarm_event *e)
{
	const struct thresh_def *t = thresh_get(d->thresh, thresh_pos(d->thresh, e->thresh));
	char key[AGG_KEY_TEXT_MAX];

	if (!t || thresh_index_at(d->thresh, thresh_pos(d->thresh, e->thresh)) != e->thresh)
		return; /* removed since */
	const struct agg_profile *p = agg_set_profile(d->agg, t->profile);

	agg_key_format(&p->spec, &e->key, key, sizeof(key));
	log_info("threshold %s: %s: %s at %llu/s over %u s (%s %llu/s)", t->name,
		 e->kind == ALARM_RISING ? "rising" : "falling", key, (unsigned long long)e->rate,
		 e->window_s, e->kind == ALARM_RISING ? "rising value" : "falling value",
		 (unsigned long long)e->value);
}

static void write_tables(struct ctflowd *d)
{
	if (!d->conf.dump_file[0])
		return;
	if (json_write_file(d->conf.dump_file, d) < 0)
		log_warn("writing %s", d->conf.dump_file);
}

/* ---- reload (SIGHUP) ---- */

/* The position in `set` of the profile called name, or (size_t)-1. */
static size_t profile_named(struct agg_set *set, const char *name)
{
	for (size_t i = 0; i < agg_set_count(set); i++)
		if (strcmp(agg_set_profile(set, i)->name, name) == 0)
			return i;
	return (size_t)-1;
}

/* The configuration's threshold with t's name or index, or NULL. */
static const struct thresh_def *clash(const struct conf *nc, const struct thresh_def *t,
				      uint32_t index)
{
	for (size_t i = 0; i < nc->nthresholds; i++)
		if (nc->thresholds[i].index == index || strcmp(nc->thresholds[i].name, t->name) == 0)
			return &nc->thresholds[i];
	return NULL;
}

/*
 * A threshold created over SNMP, kept across the reload if it still makes
 * sense: it follows its profile by name, must pass the rules against the
 * new configuration, and gives way to a configured threshold of its name or
 * index (as at start, where the configuration's wins).  1 when it stays.
 */
static int keep_snmp_threshold(struct ctflowd *d, const struct conf *nc, struct agg_set *set,
			       struct thresh_def *t, uint32_t index)
{
	struct thresh_env env;
	const struct thresh_def *other;
	const char *key;
	char why[256];

	conf_thresh_env(nc, &env);
	if (t->profile != THRESH_PROFILE_UNSET) {
		const char *name = t->profile < agg_set_count(d->agg) ?
			agg_set_profile(d->agg, t->profile)->name : "";

		t->profile = profile_named(set, name);
		if (t->profile == (size_t)-1) {
			log_warnx("reload: threshold %s goes with its profile %s", t->name, name);
			return 0;
		}
	}
	if (thresh_def_check(t, &env, &key, why, sizeof(why)) < 0) {
		log_warnx("reload: threshold %s no longer fits the configuration (%s): removed",
			  t->name, why);
		return 0;
	}
	if ((other = clash(nc, t, index)) != NULL) {
		log_warnx("reload: threshold %s gives way to the configuration's [threshold %s] "
			  "(same %s): removed", t->name, other->name,
			  other->index == index ? "index" : "name");
		return 0;
	}
	return 1;
}

/*
 * Thresholds: the configuration's are replaced by the new file's (an
 * unchanged one keeps its rows and alarms); those created over SNMP stay if
 * they still make sense, and the state file is written again when one of
 * its rows went.
 */
static int reload_thresholds(struct ctflowd *d, const struct conf *nc, struct agg_set *set)
{
	int rewrite = 0;

	for (size_t i = thresh_count(d->thresh); i-- > 0;) {
		struct thresh_def t = *thresh_get(d->thresh, i);
		uint32_t index = thresh_index_at(d->thresh, i);
		int active = thresh_active_at(d->thresh, i);

		if (t.storage == THRESH_READONLY || !keep_snmp_threshold(d, nc, set, &t, index)) {
			rewrite |= t.storage == THRESH_NONVOLATILE;
			thresh_remove(d->thresh, index);
		} else if (thresh_put(d->thresh, index, &t, active) < 0) {
			return -1;
		}
	}
	for (size_t i = 0; i < nc->nthresholds; i++) {
		const struct thresh_def *t = &nc->thresholds[i];

		if (thresh_put(d->thresh, t->index, t, !t->inactive) < 0)
			return -1;
	}
	if (rewrite && nc->state_file[0] && state_write(nc->state_file, d->thresh, set) < 0)
		log_warn("reload: writing %s", nc->state_file);
	return 0;
}

static int ipfix_changed(const struct conf *a, const struct conf *b)
{
	return a->ncollectors != b->ncollectors || a->ipfix_domain != b->ipfix_domain ||
	       a->ipfix_enterprise_ies != b->ipfix_enterprise_ies ||
	       a->ipfix_stats_interval_ms != b->ipfix_stats_interval_ms ||
	       memcmp(a->collectors, b->collectors, a->ncollectors * sizeof(a->collectors[0])) != 0;
}

/* What only a restart changes keeps its running value, and is named. */
static void keep_restart_only(const struct conf *old, struct conf *nc)
{
	char changed[256] = "";
#define KEEP(f)                                                                        \
	do {                                                                           \
		if (memcmp(&old->f, &nc->f, sizeof(old->f)) != 0) {                        \
			snprintf(changed + strlen(changed), sizeof(changed) - strlen(changed), \
				 " " #f);                                                  \
			memcpy(&nc->f, &old->f, sizeof(old->f));                           \
		}                                                                      \
	} while (0)
	KEEP(rcvbuf);
	KEEP(rcvbuf_max);
	KEEP(reliable_events);
	KEEP(max_tracked_flows);
	KEEP(snmp);
	KEEP(agentx_socket);
	KEEP(agentx_ping_ms);
	KEEP(snmp_root);
	KEEP(snmp_root_len);
	KEEP(pid_file);
	KEEP(state_file);
	KEEP(state_dir);
#undef KEEP
	if (changed[0])
		log_warnx("reload: restart to apply:%s", changed);
}

static void reload(struct ctflowd *d)
{
	struct conf *nc = malloc(sizeof(*nc));
	char err[1024];
	size_t kept = 0;
	struct agg_set *set;

	if (!nc || !d->conf.path[0]) {
		log_warnx("reload: %s", nc ? "started without a configuration file" : "no memory");
		free(nc);
		return;
	}
	conf_defaults(nc);
	/* (not the state file: the thresholds it holds are live already) */
	if (conf_load(nc, d->conf.path, err, sizeof(err)) < 0) {
		log_warnx("reload rejected, the running configuration stays: %s", err);
		free(nc);
		return;
	}
	keep_restart_only(&d->conf, nc);
	/* unchanged profiles keep their rows and counters; the others start empty */
	set = agg_set_new(nc->profiles, nc->nprofiles, d->store, d->agg, &kept);
	if (!set || reload_thresholds(d, nc, set) < 0) {
		log_warnx("reload: out of memory; the running configuration stays");
		agg_set_free(set);
		free(nc);
		return;
	}
	agg_set_observe(set, on_row, d);
	agg_set_retire(d->agg);
	d->agg = set;
	int export = ipfix_changed(&d->conf, nc);

	if (export) {
		ipfix_exporter_free(d->ipfix);
		d->ipfix = NULL;
	}
	d->conf = *nc;
	free(nc);
	if (export && setup_ipfix(d) < 0)
		log_warnx("reload: IPFIX export is off");
	size_items(d);
	snmp_agent_reload(d->snmp);
	log_set_level(d->conf.log_level);
	if (d->conf.dump_interval_ms)
		loop_timer_arm(d->loop, d->t_dump, d->conf.dump_interval_ms);
	else
		loop_timer_disarm(d->loop, d->t_dump);
	loop_timer_arm(d->loop, d->t_top, d->conf.top_interval_ms);
	log_info("reloaded %s: %zu profiles (%zu kept their rows), %zu thresholds, %zu collectors%s",
		 d->conf.path, agg_set_count(d->agg), kept, thresh_count(d->thresh),
		 d->conf.ncollectors, export ? " (export restarted)" : "");
}

static void on_signal(void *arg, short revents)
{
	struct ctflowd *d = arg;
	struct signalfd_siginfo si;

	(void)revents;
	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGUSR1:
			write_tables(d);
			break;
		case SIGHUP:
			reload(d);
			break;
		default:
			log_info("signal %u: shutting down", si.ssi_signo);
			loop_stop(d->loop);
		}
	}
}

/* ---- start-up ---- */

static int setup_signals(struct ctflowd *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return d->sigfd < 0 ? -1 : 0;
}

static int setup_core(struct ctflowd *d)
{
	const struct slice_sink ss = { on_slice, d };
	const struct ctsock_sink ks = { on_events, on_dump_row, on_dump_done, on_overrun, d };
	const struct ctsock_cfg cc = { d->conf.rcvbuf, d->conf.rcvbuf_max, d->conf.reliable_events };
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
	agg_set_observe(d->agg, on_row, d);
	return 0;
}

static int setup_loop(struct ctflowd *d)
{
	d->loop = loop_new();
	if (!d->loop)
		return -1;
	d->h_events = loop_io_add(d->loop, ctsock_event_fd(d->cs), POLLIN, on_events_io, d);
	d->h_dump = loop_io_add(d->loop, ctsock_dump_fd(d->cs), POLLIN, on_dump_io, d);
	d->h_sig = loop_io_add(d->loop, d->sigfd, POLLIN, on_signal, d);
	d->t_dump = loop_timer_add(d->loop, on_dump_timer, d);
	d->t_work = loop_timer_add(d->loop, on_work, d);
	d->t_top = loop_timer_add(d->loop, on_top_timer, d);
	d->t_index = loop_timer_add(d->loop, on_index_timer, d);
	d->t_alarm = loop_timer_add(d->loop, on_alarm_timer, d);
	if (d->h_events < 0 || d->h_dump < 0 || d->h_sig < 0 || d->t_dump < 0 || d->t_work < 0 ||
	    d->t_top < 0 || d->t_index < 0 || d->t_alarm < 0)
		return -1;
	loop_timer_arm(d->loop, d->t_alarm, 1000);
	loop_timer_arm(d->loop, d->t_index, INDEX_PERIOD_MS);
	agg_set_rank(d->agg, (uint32_t)time(NULL)); /* opens the first window */
	loop_timer_arm(d->loop, d->t_top, d->conf.top_interval_ms);
	/* first dump at once: flows that began before we started get tracked */
	loop_timer_arm(d->loop, d->t_dump, 0);
	return 0;
}

/* Before exit, give collectors that are up what is queued for them, for a
 * bounded time (the loop keeps accounting meanwhile); then count the rest as
 * not sent, before the final tables are written. */
static void drain_export(struct ctflowd *d)
{
	struct timespec t0, t;

	if (!d->ipfix)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ipfix_exporter_pending(d->ipfix)) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >=
		    EXPORT_DRAIN_MS)
			break;
		if (loop_run_once(d->loop, 20) < 0)
			break;
	}
	ipfix_exporter_abandon(d->ipfix);
}

/* clean: the state is complete (an orderly exit), not left by a failed start */
static void teardown(struct ctflowd *d, int clean)
{
	if (clean)
		store_seal(d->store);
	ipfix_exporter_free(d->ipfix);
	snmp_agent_stop(d->snmp);
	ctsock_close(d->cs);
	track_free(d->track);
	thresh_set_free(d->thresh);
	agg_set_free(d->agg);
	loop_free(d->loop);
	store_close(d->store);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->conf.pid_file[0])
		unlink(d->conf.pid_file);
}

static void log_started(struct ctflowd *d)
{
	struct track_stats ts;
	char state[PATH_MAX + 80];

	track_get_stats(d->track, &ts);
	if (!store_persistent(d->store))
		snprintf(state, sizeof(state), "no state_dir: nothing survives a restart");
	else if (d->health.state_kept)
		snprintf(state, sizeof(state), "state kept from the last run (%llu flows tracked)",
			 (unsigned long long)ts.recovered);
	else
		snprintf(state, sizeof(state), "new state in %s", d->conf.state_dir);
	log_info("ctflowd %s started: %zu profiles, dump every %u ms, %s", CTFLOWD_VERSION,
		 d->conf.nprofiles, d->conf.dump_interval_ms, state);
}

static int daemonize(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return -1;
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return -1;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	return 0;
}

static void write_pid_file(const char *path)
{
	FILE *f;

	if (!path[0])
		return;
	f = fopen(path, "w");
	if (!f) {
		log_warn("writing pid file %s", path);
		return;
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ctflowd [-d] [-f FILE] [--check-kernel] [--version] [--help]\n"
		"  -f, --config FILE   configuration file (default " DEFAULT_CONF ")\n"
		"  -d, --foreground    stay in the foreground and log to stderr\n"
		"      --check-kernel  report whether conntrack accounting can work here, then exit\n"
		"      --version       print the version and exit\n"
		"  SIGUSR1 writes the tables as JSON to dump_file.\n");
}

struct options {
	const char *conf_path;
	int explicit_conf;
	int foreground;
	int check_kernel;
};

/* Returns -1 to exit with status 2, 1 to exit 0 (help/version), 0 to run. */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "foreground", no_argument, NULL, 'd' },
		{ "check-kernel", no_argument, NULL, 'K' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ DEFAULT_CONF, 0, 0, 0 };
	while ((c = getopt_long(argc, argv, "f:dh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o->conf_path = optarg; o->explicit_conf = 1; break;
		case 'd': o->foreground = 1; break;
		case 'K': o->check_kernel = 1; break;
		case 'V': printf("ctflowd %s\n", CTFLOWD_VERSION); return 1;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ctflowd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

static int load_conf(struct conf *c, const struct options *o)
{
	char err[1024];

	conf_defaults(c);
	if ((o->explicit_conf || access(o->conf_path, F_OK) == 0) &&
	    conf_load(c, o->conf_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "ctflowd: %s\n", err);
		return -1;
	}
	/* thresholds managers created (nonVolatile): refusing to start beats
	 * overwriting a state file we could not read */
	if (c->state_file[0] && conf_load_state(c, c->state_file, err, sizeof(err)) < 0) {
		fprintf(stderr, "ctflowd: %s\n", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct ctflowd *d = calloc(1, sizeof(*d));
	int rc, clean = 0;

	if (!d)
		return 1;
	d->sigfd = -1;
	rc = parse_args(argc, argv, &o);
	if (rc != 0 || load_conf(&d->conf, &o) < 0) {
		free(d);
		return rc > 0 ? 0 : 2;
	}
	if (o.check_kernel) {
		const struct kcheck_cfg kc = { d->conf.rcvbuf, d->conf.max_tracked_flows, NULL };

		rc = kcheck_run(&kc, stdout);
		free(d);
		return rc;
	}
	d->foreground = o.foreground;
	log_init(o.foreground, d->conf.log_level);
	if (!o.foreground && daemonize() < 0) {
		log_warn("daemonize");
		free(d);
		return 1;
	}
	d->health.started = (uint64_t)time(NULL);
	d->health.acct_on = -1;
	refresh_kernel_state(d);
	rc = 1;
	if (setup_signals(d) == 0 && open_store(d) == 0 && setup_core(d) == 0 &&
	    setup_loop(d) == 0 && setup_ipfix(d) == 0) {
		size_items(d);
		ctsock_redo(d->cs); /* what the last run received and did not apply */
		report_store(d);
		if (d->conf.snmp && !(d->snmp = snmp_agent_start(d)))
			log_warnx("continuing without the SNMP subagent");
		write_pid_file(d->conf.pid_file);
		log_started(d);
		rc = loop_run(d->loop) < 0 ? 1 : 0;
		if (rc)
			log_warn("event loop");
		drain_export(d);
		write_tables(d);
		clean = rc == 0;
	}
	teardown(d, clean);
	free(d);
	return rc;
}
