/*
 * ctflowd.h: the daemon, the one place that wires the layers together:
 *
 *   kernel (kern_ctsock) -> accounting (acct_track) -> aggregation (agg_*)
 *   -> alarms (alarm_*) -> outputs (out_json, ipfix_*, snmp_agent + mib_*)
 *
 *   main.c            command line, start-up (failing before it detaches),
 *                     shut-down
 *   ctflowd_run.c     the event loop's callbacks: events, dumps, sweeps,
 *                     timers, signals; the store's transactions around them
 *   ctflowd_reload.c  SIGHUP: a new configuration over the running state
 *   ctflowd_view.c    the out_view the outputs read the daemon through
 *
 * Modules keep their own state behind opaque types; this struct only holds
 * them and the daemon-level numbers.  Everything in it belongs to the event
 * thread, which holds `lock` except while it waits in poll(); the SNMP
 * thread reads it (through the view) only while it holds the lock.
 */
#ifndef CTFLOWD_CTFLOWD_H
#define CTFLOWD_CTFLOWD_H

#include <stdint.h>

#include "acct_track.h"
#include "agg_profile.h"
#include "alarm_notify.h"
#include "alarm_thresh.h"
#include "base_lock.h"
#include "base_loop.h"
#include "base_store.h"
#include "ctflowd_conf.h"
#include "kern_ctsock.h"
#include "out_view.h"

/* Daemon-level counters, kept across restarts (the store region "daemon"). */
struct ctf_counters {
	uint32_t epoch, pad;
	uint64_t resyncs;         /* dumps started because events were lost */
	uint64_t starts;          /* times ctflowd started on this state */
	uint64_t created;         /* realtime seconds the state was created */
};

/* Daemon-level health, beside the modules' own statistics. */
struct ctf_health {
	uint64_t started;         /* realtime seconds */
	uint64_t last_event;      /* realtime seconds of the last DESTROY, 0 = none */
	int acct_on, tstamp_on;   /* sysctls as last read, -1 = unknown */
	int events_mode;          /* nf_conntrack_events, -1 = unknown */
	int idle_timeout;         /* nf_conntrack_generic_timeout (s), -1 = unknown */
	int state_kept;           /* the tables are the last run's */
};

struct snmp_agent;
struct snmp_creds;
struct ipfix_exporter;

struct ctflowd {
	struct conf conf;
	struct state_lock lock;
	struct store *store;
	struct ctf_counters *counters; /* in the store: change inside a transaction (counters_w) */
	size_t item_save_max;     /* journal bytes one event or dump row may need */
	struct loop *loop;
	struct ctsock *cs;
	struct track *track;
	struct agg_set *agg;
	struct thresh_set *thresh;
	struct notifier *notifier;
	struct ipfix_exporter *ipfix;
	struct snmp_agent *snmp;
	struct snmp_creds *creds;  /* the listener's, while it runs */
	struct out_view view;
	struct ctf_health health;
	int sigfd;
	int h_events, h_dump, h_sig;
	int t_dump, t_work, t_top, t_index, t_alarm, t_period;
	int resync_wanted;
	int64_t next_boundary;    /* realtime seconds of the next period boundary, 0 = none */
	uint64_t close_wanted_ns; /* a period's closing read waits for the running dump */
	uint64_t dump_close_ns;   /* the running dump closes the period ending here */
	int drained_since_done;   /* event queue seen empty after the last dump ended */
	uint64_t json_generation;
};

/* ctflowd_run.c */
int run_open_store(struct ctflowd *d);
void run_report_store(struct ctflowd *d);
int run_setup(struct ctflowd *d);      /* tables, sockets, loop, export, notifier */
int run_setup_ipfix(struct ctflowd *d);
void run_size_items(struct ctflowd *d);
void run_refresh_kernel(struct ctflowd *d);
void run_observe(struct ctflowd *d, struct agg_set *set); /* thresholds watch set's rows */
void run_write_tables(struct ctflowd *d);
void run_arm_periods(struct ctflowd *d); /* the next period boundary of any profile */
void run_drain_export(struct ctflowd *d);
/* The daemon counters, saved before a change (inside a transaction). */
struct ctf_counters *counters_w(struct ctflowd *d);

/* ctflowd_reload.c */
void ctflowd_reload(struct ctflowd *d);

/* ctflowd_view.c */
void view_init(struct ctflowd *d);
/* The state file: what managers created over SNMP (nonVolatile), again. */
void view_save_thresholds(struct ctflowd *d);

#endif
