/*
 * out_view: what the outputs (CTFLOW-MIB, IPFIX-MIB, notifications, the JSON
 * file) may read of the daemon, and the two things they may ask of it.
 *
 * An output never sees the daemon itself: the collector-wide numbers come
 * as one snapshot (collector_view), the tables through the modules' own
 * read functions (profiles, thresholds, the exporter), which are replaced on
 * a reload, so they are asked for at each use.  The SNMP thread calls all of
 * these only while it holds the state lock (base_lock).
 */
#ifndef CTFLOWD_OUT_VIEW_H
#define CTFLOWD_OUT_VIEW_H

#include <stdint.h>

#include "acct_track.h"
#include "agg_profile.h"
#include "alarm_def.h"
#include "alarm_notify.h"
#include "alarm_thresh.h"
#include "base_loop.h"
#include "kern_ctsock.h"

struct ipfix_exporter;

/* sysctl values as read: 1, 0, or -1 (unknown) */
struct collector_view {
	struct ctsock_stats events;   /* the kernel socket */
	struct track_stats track;     /* the accounting of flows */
	struct loop_stats loop;       /* the event loop's slowest callback */
	struct notify_stats notify;
	uint64_t resyncs;             /* dumps started because events were lost */
	uint64_t starts;              /* times ctflowd started on this state */
	uint64_t state_created;       /* realtime seconds */
	uint64_t started;             /* realtime seconds, this run */
	uint64_t last_event;          /* realtime seconds of the last DESTROY, 0 = none */
	int acct_on, tstamp_on;
	int events_mode;              /* nf_conntrack_events */
	int idle_timeout;             /* nf_conntrack_generic_timeout (s) */
	int state_kept;               /* the tables are the last run's */
	uint64_t rcvbuf_max;
	uint32_t dump_interval_ms, top_interval_ms;
	uint32_t threshold_rows;      /* the budget of watched rows, all thresholds */
	uint64_t threshold_rows_used;
};

struct out_view {
	void *arg;
	void (*collector)(void *arg, struct collector_view *out);
	struct agg_set *(*profiles)(void *arg);
	struct thresh_set *(*thresholds)(void *arg);
	struct ipfix_exporter *(*exporter)(void *arg); /* NULL: no export */
	/* What a threshold is checked against (profiles, intervals, budget). */
	void (*thresh_env)(void *arg, struct thresh_env *out);
	/* A SET changed a nonVolatile threshold: the state file is written. */
	void (*thresholds_saved)(void *arg);
};

#endif
