/*
 * mib_ctflow: CTFLOW-MIB's objects.  One init function per group fills a
 * mib_table (or mib_scalars) that snmp_agent registers; the column numbers
 * are named here, once, for the tables and for the notifications that carry
 * their objects.  OIDs are relative to the configured root
 * (enterprises.32473 by default):
 *   root.1.1  ctflowCollector      scalars       mib_collector.c
 *   root.1.2  ctflowProfileTable                 mib_profile.c
 *   root.1.3  ctflowAggTable                     mib_agg.c
 *   root.1.4  ctflowTopTable                     mib_top.c
 *   root.1.5  ctflowThresholdTable (writable)    mib_threshold.c
 *   root.1.6  ctflowAlarmTable                   mib_alarm.c
 *   root.0    notifications                      mib_notify.c
 * Every group reads the daemon through an out_view.
 */
#ifndef CTFLOWD_MIB_CTFLOW_H
#define CTFLOWD_MIB_CTFLOW_H

#include "mib_table.h"
#include "out_view.h"

/* The groups under root.1 */
enum ctflow_group {
	CTFLOW_COLLECTOR = 1, CTFLOW_PROFILE_TABLE, CTFLOW_AGG_TABLE, CTFLOW_TOP_TABLE,
	CTFLOW_THRESHOLD_TABLE, CTFLOW_ALARM_TABLE, CTFLOW_USAGE_TABLE,
};

/* ctflowCollector scalars */
enum ctflow_collector_obj {
	COL_VERSION = 1, COL_START, COL_LAST_EVENT, COL_EVENTS, COL_EVENTS_LOST, COL_OVERRUNS,
	COL_RESYNCS, COL_REJECTED, COL_ENDED_UNOBSERVED, COL_COUNTER_RESETS, COL_DUMPS,
	COL_DUMP_FAILURES, COL_TRACKED, COL_TRACKED_LIMIT, COL_TRACK_REFUSED, COL_TRACKED_MEMORY,
	COL_ACCOUNTING, COL_TIMESTAMPS, COL_EVENTS_MODE, COL_RCVBUF, COL_RCVBUF_MAX,
	COL_DUMP_INTERVAL, COL_NO_COUNTERS, COL_LOOP_SLOWEST, COL_TOP_INTERVAL, COL_NOTIFY_SENT,
	COL_NOTIFY_HELD, COL_NOTIFY_DROPPED, COL_INCARNATIONS, COL_DUPLICATE_DESTROYS,
	COL_STALE_ROWS, COL_DYING_ROWS, COL_LATE_DESTROYS, COL_ENDED_WHILE_DOWN,
	COL_STATE_CREATED, COL_STARTS, COL_THRESHOLD_ROWS, COL_THRESHOLD_ROWS_USED,
	COL_LAST = COL_THRESHOLD_ROWS_USED
};

/* ctflowProfileEntry */
enum ctflow_profile_col {
	PROF_NAME = 2, PROF_KEY, PROF_ADDRESSES, PROF_ROWS, PROF_ROW_LIMIT, PROF_INSERTS,
	PROF_EVICTIONS, PROF_MEMORY, PROF_TOP_SIZE, PROF_PERIODS, PROF_KEEP, PROF_USAGE_LATE,
};

/* ctflowAggEntry: 1..11 are the index (not accessible) */
enum ctflow_agg_col {
	AROW_FLOWS_STARTED = 12, AROW_FLOWS_ENDED, AROW_FWD_PACKETS, AROW_FWD_OCTETS, AROW_REV_PACKETS,
	AROW_REV_OCTETS, AROW_FIRST_SEEN, AROW_LAST_UPDATE, AROW_CREATED, AROW_OCTETS, AROW_KEY_TEXT,
};
/* The first readable column: the RowPointer target of the top and alarm tables. */
#define CTFLOW_AGG_FIRST_COLUMN AROW_FLOWS_STARTED

/* ctflowTopEntry */
enum ctflow_top_col {
	TOP_ADDR1_TYPE = 2, TOP_ADDR1, TOP_ADDR1_PREFIX, TOP_ADDR2_TYPE, TOP_ADDR2, TOP_ADDR2_PREFIX,
	TOP_PROTO, TOP_PORT, TOP_ZONE, TOP_MARK, TOP_OCTETS, TOP_WINDOW, TOP_ROW,
};

/* ctflowThresholdEntry */
enum ctflow_threshold_col {
	THR_NAME = 2, THR_PROFILE, THR_MATCH, THR_METRIC, THR_DIRECTION, THR_WINDOW, THR_RISING,
	THR_FALLING, THR_NOTIFY_LIMIT, THR_ROW_LIMIT, THR_WATCHED, THR_OVER, THR_RISING_EVENTS,
	THR_FALLING_EVENTS, THR_SUPPRESSED, THR_REFUSED, THR_PROTO, THR_PORT, THR_STORAGE,
	THR_STATUS, THR_MATCH2, THR_PERIOD,
};

/* ctflowUsageEntry: 1..2 (and the agg index) are the index */
enum ctflow_usage_col {
	USE_NAME = 3, USE_START, USE_END, USE_FWD_PACKETS, USE_FWD_OCTETS, USE_REV_PACKETS,
	USE_REV_OCTETS, USE_FLOWS, USE_OCTETS, USE_KEY_TEXT,
};

/* ctflowAlarmEntry */
enum ctflow_alarm_col { ALRM_KEY = 1, ALRM_SINCE, ALRM_RATE, ALRM_PEAK, ALRM_ROW };

void mib_collector_init(struct mib_scalars *s, const struct out_view *v, const oid *root,
			size_t len);
void mib_profile_init(struct mib_table *t, const struct out_view *v, const oid *root,
		      size_t len);
void mib_agg_init(struct mib_table *t, const struct out_view *v, const oid *root, size_t len);
void mib_top_init(struct mib_table *t, const struct out_view *v, const oid *root, size_t len);
void mib_usage_init(struct mib_table *t, const struct out_view *v, const oid *root, size_t len);

/* A SET to ctflowThresholdTable in progress: each row it touches. */
#define MIB_THRESH_EDITS 16
struct thresh_edit {
	uint32_t index;
	int existed, exists;          /* before and after the SET */
	int before_active, after_active;
	int status;                   /* the RowStatus it sets, 0 = none */
	int applied;                  /* ACTION done (UNDO reverts it) */
	struct thresh_def before, after;
};
struct mib_thresh_set {
	const struct out_view *v;
	struct thresh_edit e[MIB_THRESH_EDITS];
	size_t n;
};

void mib_threshold_init(struct mib_table *t, struct mib_thresh_set *x, const struct out_view *v,
			const oid *root, size_t len);
void mib_alarm_init(struct mib_table *t, const struct out_view *v, const oid *root, size_t len);

/* The position of threshold `index` in ts, or -1. */
long mib_threshold_pos(const struct thresh_set *ts, oid index);
/* The alarm row's index after the threshold's: its ctflowAggTable index. */
size_t mib_alarm_index(const struct out_view *v, size_t ti, const struct agg_key *key, oid *out);

/* The index of a row of ctflowAggTable (profile number, then the key); 0 on error. */
size_t mib_agg_index(const struct agg_profile *p, uint32_t profile_no, const struct agg_key *key,
		     oid *out);

/* A RowPointer to a row's first readable cell in ctflowAggTable, for the
 * tables beside it (top talkers, alarms): `table` is the caller's own table
 * OID, root.1.N, whose parent is ctflowAggTable's too. */
void mib_agg_set_pointer(netsnmp_variable_list *vb, const oid *table, size_t table_len,
			 const struct agg_profile *p, uint32_t profile_no, const struct agg_key *key);

/* The key as text (agg_key_format): ctflowAggKey and ctflowAlarmKey. */
void mib_set_key_text(netsnmp_variable_list *vb, const struct agg_keyspec *ks,
		      const struct agg_key *key);

/*
 * The values the notifications carry, as their tables serve them: a
 * collector scalar, a profile's column, a threshold's column (the threshold
 * at position ti).  0, or -1 when there is no such value now.
 */
int mib_collector_value(const struct out_view *v, unsigned obj, netsnmp_variable_list *vb);
int mib_profile_value(const struct out_view *v, size_t profile, unsigned col,
		      netsnmp_variable_list *vb);
int mib_threshold_value(const struct out_view *v, size_t ti, unsigned col,
			netsnmp_variable_list *vb);

#endif
