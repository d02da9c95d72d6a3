/*
 * ctflowd.h: the one context struct, created in main() and passed down.
 * Modules keep their own state behind opaque types; this struct only wires
 * them together and holds the daemon-level health numbers.
 */
#ifndef CTFLOWD_CTFLOWD_H
#define CTFLOWD_CTFLOWD_H

#include <stdint.h>

#include "acct_track.h"
#include "agg_profile.h"
#include "alarm_health.h"
#include "alarm_thresh.h"
#include "ctflowd_conf.h"
#include "base_loop.h"
#include "base_store.h"
#include "kern_ctsock.h"

#define CTFLOWD_VERSION "0.1.0"

/* Daemon-level counters, kept across restarts (the store region "daemon"). */
struct ctf_counters {
	uint32_t epoch, pad;
	uint64_t resyncs;         /* dumps started because events were lost */
	uint64_t notify_sent;     /* notifications handed to the master agent */
	uint64_t notify_dropped;  /* lost (queue full) */
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
	uint64_t notify_held;     /* waiting for the master agent */
	int state_kept;           /* the tables are the last run's */
};

struct snmp_agent;
struct ipfix_exporter;

struct ctflowd {
	struct conf conf;
	int foreground;
	struct store *store;
	struct ctf_counters *counters; /* in the store: change inside a transaction (counters_w) */
	size_t item_save_max;     /* journal bytes one event or dump row may need */
	struct loop *loop;
	struct ctsock *cs;
	struct track *track;
	struct agg_set *agg;
	struct snmp_agent *snmp;
	struct ipfix_exporter *ipfix;
	struct thresh_set *thresh;    /* NULL: no thresholds configured */
	struct health_state health_notes;
	struct ctf_health health;
	int sigfd;
	int h_events, h_dump, h_sig;
	int t_dump, t_work, t_top, t_index, t_alarm;
	int resync_wanted;
	int drained_since_done;   /* event queue seen empty after the last dump ended */
	uint64_t json_generation;
};

/* One threshold alarm in the log. */
void log_alarm(const struct ctflowd *d, const struct alarm_event *e);
/* The daemon counters, saved before a change (inside a transaction). */
struct ctf_counters *counters_w(struct ctflowd *d);

#endif
