/*
 * ctflowd_reload: SIGHUP.  The configuration file is read again; what only
 * a restart can change keeps its running value (and is named in the log);
 * unchanged profiles keep their rows and counters, changed ones start
 * empty; thresholds are merged (alarm_def's rules decide what stays); a
 * changed export starts afresh.  A file that does not load changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "ctflowd.h"
#include "base_log.h"
#include "ipfix_export.h"
#include "out_state.h"
#include "snmp_agent.h"

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

/* The exporter takes the new collectors (unchanged ones keep their
 * sessions); the first collectors start it, the last gone leave it without
 * sessions (IPFIX-MIB stays registered). */
static void reload_export(struct ctflowd *d, size_t *kept)
{
	const struct ipfix_cfg cfg = { d->conf.ipfix_domain, d->conf.ipfix_enterprise_ies,
				       d->conf.ipfix_stats_interval_ms, d->conf.ncollectors,
				       d->conf.collectors };

	*kept = 0;
	if (!d->ipfix) {
		if (run_setup_ipfix(d) < 0)
			log_warnx("reload: IPFIX export is off");
		return;
	}
	if (ipfix_exporter_reconfigure(d->ipfix, &cfg, kept) < 0)
		log_warnx("reload: not every collector could be set up");
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
	KEEP(snmp_listen);
	KEEP(snmp_credentials);
	KEEP(snmp_contact);
	KEEP(snmp_location);
	KEEP(agentx_socket);
	KEEP(agentx_ping_ms);
	KEEP(snmp_root);
	KEEP(snmp_root_len);
	KEEP(pid_file);
	KEEP(state_file);
	KEEP(state_dir);
	KEEP(timezone); /* the process's TZ: set once, before any thread */
#undef KEEP
	if (changed[0])
		log_warnx("reload: restart to apply:%s", changed);
}

void ctflowd_reload(struct ctflowd *d)
{
	struct conf *nc = malloc(sizeof(*nc));
	char err[1024];
	size_t kept = 0, sessions_kept = 0;
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
	run_observe(d, set);
	agg_set_retire(d->agg);
	d->agg = set;
	d->conf = *nc;
	free(nc);
	reload_export(d, &sessions_kept);
	run_size_items(d);
	thresh_set_budget(d->thresh, d->conf.threshold_rows);
	snmp_agent_wake(d->snmp); /* IPFIX-MIB, if export started */
	log_set_level(d->conf.log_level);
	if (d->conf.dump_interval_ms)
		loop_timer_arm(d->loop, d->t_dump, d->conf.dump_interval_ms);
	else
		loop_timer_disarm(d->loop, d->t_dump);
	loop_timer_arm(d->loop, d->t_top, d->conf.top_interval_ms);
	if (!d->close_wanted_ns)
		run_arm_periods(d);
	log_info("reloaded %s: %zu profiles (%zu kept their rows), %zu thresholds, "
		 "%zu collectors (%zu kept their sessions)", d->conf.path, agg_set_count(d->agg), kept,
		 thresh_count(d->thresh), d->conf.ncollectors, sessions_kept);
}

