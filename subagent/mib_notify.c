/*
 * mib_notify: each notification carries the objects CTFLOW-MIB lists for
 * it.  Health notifications carry the values the tables serve now; a
 * threshold alarm carries what the event saw (rate, the value crossed, the
 * window), since its row may have left the alarm table by the time the
 * notification goes out.
 */
#include "mib_notify.h"

#include <string.h>

static const oid trap_oid[] = { 1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0 }; /* snmpTrapOID.0 */

/* An empty varbind named root.1.group[.1.col].idx, its value set by the caller. */
static netsnmp_variable_list *add(netsnmp_variable_list **vars, const oid *root, size_t rootlen,
				  unsigned group, int table, unsigned col, const oid *idx,
				  size_t idxlen)
{
	oid name[MAX_OID_LEN];
	size_t len = rootlen;

	if (rootlen + 4 + idxlen > MAX_OID_LEN)
		return NULL;
	memcpy(name, root, rootlen * sizeof(oid));
	name[len++] = 1;
	name[len++] = group;
	if (table)
		name[len++] = 1;
	name[len++] = col;
	memcpy(name + len, idx, idxlen * sizeof(oid));
	return snmp_varlist_add_variable(vars, name, len + idxlen, ASN_NULL, NULL, 0);
}

static int add_scalar(const struct out_view *v, netsnmp_variable_list **vars, const oid *root,
		      size_t rootlen, unsigned obj)
{
	static const oid zero[] = { 0 };
	netsnmp_variable_list *vb = add(vars, root, rootlen, CTFLOW_COLLECTOR, 0, obj, zero, 1);

	return vb ? mib_collector_value(v, obj, vb) : -1;
}

static int add_profile(const struct out_view *v, netsnmp_variable_list **vars, const oid *root,
		       size_t rootlen, uint32_t profile, unsigned col)
{
	const oid idx[] = { profile + 1 };
	netsnmp_variable_list *vb = add(vars, root, rootlen, CTFLOW_PROFILE_TABLE, 1, col, idx, 1);

	return vb ? mib_profile_value(v, profile, col, vb) : -1;
}

static int add_alarm(const struct out_view *v, netsnmp_variable_list **vars, const oid *root,
		     size_t rootlen, const struct alarm_event *e)
{
	struct thresh_set *ts = v->thresholds(v->arg);
	struct agg_set *set = v->profiles(v->arg);
	long ti = mib_threshold_pos(ts, e->thresh);
	const struct thresh_def *def = ti < 0 ? NULL : thresh_get(ts, (size_t)ti);
	oid idx[MIB_IDX_MAX + 1];
	netsnmp_variable_list *vb[5];
	size_t n;

	if (!def || def->profile >= agg_set_count(set))
		return -1;
	idx[0] = e->thresh;
	n = mib_alarm_index(v, (size_t)ti, &e->key, idx + 1) + 1;
	vb[0] = add(vars, root, rootlen, CTFLOW_THRESHOLD_TABLE, 1, THR_NAME, idx, 1);
	vb[1] = add(vars, root, rootlen, CTFLOW_ALARM_TABLE, 1, ALRM_KEY, idx, n);
	vb[2] = add(vars, root, rootlen, CTFLOW_ALARM_TABLE, 1, ALRM_RATE, idx, n);
	vb[3] = add(vars, root, rootlen, CTFLOW_THRESHOLD_TABLE, 1,
		    e->kind == ALARM_RISING ? THR_RISING : THR_FALLING, idx, 1);
	vb[4] = add(vars, root, rootlen, CTFLOW_THRESHOLD_TABLE, 1, THR_WINDOW, idx, 1);
	for (size_t i = 0; i < 5; i++)
		if (!vb[i])
			return -1;
	mib_set_string(vb[0], def->name);
	mib_set_key_text(vb[1], &agg_set_profile(set, def->profile)->spec, &e->key);
	mib_set_counter64(vb[2], e->rate);
	mib_set_unsigned(vb[3], e->value);
	mib_set_unsigned(vb[4], e->window_s);
	return 0;
}

static int add_objects(const struct out_view *v, const oid *root, size_t rootlen,
		       const struct notification *n, netsnmp_variable_list **vars)
{
	switch (n->kind) {
	case NOTIFY_LOSS:
		if (add_scalar(v, vars, root, rootlen, COL_EVENTS_LOST) < 0 ||
		    add_scalar(v, vars, root, rootlen, COL_OVERRUNS) < 0)
			return -1;
		return add_scalar(v, vars, root, rootlen, COL_ENDED_UNOBSERVED);
	case NOTIFY_ACCT_OFF:
		return add_scalar(v, vars, root, rootlen, COL_ACCOUNTING);
	case NOTIFY_EVICTING:
		if (add_profile(v, vars, root, rootlen, n->profile, PROF_NAME) < 0 ||
		    add_profile(v, vars, root, rootlen, n->profile, PROF_EVICTIONS) < 0)
			return -1;
		return add_profile(v, vars, root, rootlen, n->profile, PROF_ROW_LIMIT);
	default:
		return add_alarm(v, vars, root, rootlen, &n->alarm);
	}
}

int mib_notify_varbinds(const struct out_view *v, const oid *root, size_t rootlen,
			const struct notification *n, netsnmp_variable_list **vars)
{
	oid which[MAX_OID_LEN];
	netsnmp_variable_list *own = NULL;

	if (rootlen + 2 > MAX_OID_LEN)
		return -1;
	memcpy(which, root, rootlen * sizeof(oid));
	which[rootlen] = 0; /* ctflowNotifications */
	which[rootlen + 1] = n->kind;
	if (!snmp_varlist_add_variable(&own, trap_oid, sizeof(trap_oid) / sizeof(trap_oid[0]),
				       ASN_OBJECT_ID, which, (rootlen + 2) * sizeof(oid)) ||
	    add_objects(v, root, rootlen, n, &own) < 0) {
		snmp_free_varbind(own);
		return -1;
	}
	if (!*vars) {
		*vars = own;
	} else {
		netsnmp_variable_list *last = *vars;

		while (last->next_variable)
			last = last->next_variable;
		last->next_variable = own;
	}
	return 0;
}
