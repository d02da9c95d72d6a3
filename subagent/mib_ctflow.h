/*
 * mib_ctflow: CTFLOW-MIB's objects, one init function per group; each
 * fills a mib_table (or mib_scalars) that snmp_agent registers.  OIDs are
 * relative to the configured root (enterprises.32473 by default):
 *   root.1.1  ctflowCollector      scalars       mib_collector.c
 *   root.1.2  ctflowProfileTable                 mib_profile.c
 *   root.1.3  ctflowAggTable                     mib_agg.c
 *   root.1.4  ctflowTopTable                     mib_top.c
 *   root.1.5  ctflowThresholdTable               mib_alarm.c
 *   root.1.6  ctflowAlarmTable                   mib_alarm.c
 *   root.0    notifications (varbinds: mib_alarm.c, sent by snmp_agent.c)
 */
#ifndef CTFLOWD_MIB_CTFLOW_H
#define CTFLOWD_MIB_CTFLOW_H

#include "alarm_thresh.h"
#include "ctflowd.h"
#include "mib_table.h"

/* First readable column of ctflowAggTable: the RowPointer target of the top table. */
#define CTFLOW_AGG_FIRST_COLUMN 12

void mib_collector_init(struct mib_scalars *s, struct ctflowd *d, const oid *root, size_t len);
void mib_profile_init(struct mib_table *t, struct ctflowd *d, const oid *root, size_t len);
void mib_agg_init(struct mib_table *t, struct ctflowd *d, const oid *root, size_t len);
void mib_top_init(struct mib_table *t, struct ctflowd *d, const oid *root, size_t len);
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
	struct ctflowd *d;
	struct thresh_edit e[MIB_THRESH_EDITS];
	size_t n;
};

void mib_threshold_init(struct mib_table *t, struct mib_thresh_set *x, struct ctflowd *d,
			const oid *root, size_t len);
void mib_alarm_init(struct mib_table *t, struct ctflowd *d, const oid *root, size_t len);

/* The varbinds of a threshold notification, after snmpTrapOID.0; -1 if the
 * threshold is unknown. */
int mib_alarm_varbinds(const struct ctflowd *d, const struct alarm_event *e, const oid *root,
		       size_t rootlen, netsnmp_variable_list **vars);

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

#endif
