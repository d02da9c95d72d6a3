/*
 * mib_alarm: ctflowThresholdTable (root.1.5) and ctflowAlarmTable
 * (root.1.6), and the varbinds of the threshold notifications.
 *
 * An alarm row's index is the threshold, then the row's ctflowAggTable
 * index.  The rows over a threshold are kept in key order, and keys sort
 * like their indexes, so GET and GETNEXT are a binary search over them with
 * each probed row's index encoded on the spot.
 */
#include "mib_ctflow.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "alarm_thresh.h"
#include "snmp_index.h"

enum {
	T_NAME = 2, T_PROFILE, T_MATCH, T_METRIC, T_DIRECTION, T_WINDOW, T_RISING, T_FALLING,
	T_NOTIFY_LIMIT, T_ROW_LIMIT, T_WATCHED, T_OVER, T_RISING_EVENTS, T_FALLING_EVENTS,
	T_SUPPRESSED, T_REFUSED,
};
enum { AL_KEY = 1, AL_SINCE, AL_RATE, AL_PEAK, AL_ROW };

/* ---- ctflowThresholdTable ---- */

static int ge_threshold(const struct mib_table *t, const oid *prefix, unsigned lvl, oid start,
			oid *out)
{
	const struct ctflowd *d = t->ctx;
	size_t n = thresh_count(d->thresh);

	(void)prefix;
	(void)lvl;
	if (n == 0 || start > n)
		return 0;
	*out = start ? start : 1;
	return 1;
}

static const struct mib_tree tree_threshold = { 1, ge_threshold };

static void match_text(const struct thresh_def *t, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "";
	size_t at = 0;

	if (t->family && inet_ntop(t->family == 2 ? AF_INET6 : AF_INET, &t->addr, a, sizeof(a)))
		at += (size_t)snprintf(buf, len, "%s/%u", a, t->plen);
	if (t->proto >= 0)
		at += (size_t)snprintf(buf + at, at < len ? len - at : 0, "%sproto %d",
				       at ? " " : "", t->proto);
	if (t->port >= 0)
		at += (size_t)snprintf(buf + at, at < len ? len - at : 0, "%sport %d",
				       at ? " " : "", t->port);
	if (!at)
		snprintf(buf, len, "any");
}

static int threshold_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
			   netsnmp_variable_list *vb)
{
	const struct ctflowd *d = t->ctx;
	size_t i = row->idx[0] - 1;
	const struct thresh_def *def = thresh_get(d->thresh, i);
	struct thresh_stats st;
	char text[96];

	if (!def)
		return -1;
	thresh_get_stats(d->thresh, i, &st);
	switch (col) {
	case T_NAME: mib_set_string(vb, def->name); break;
	case T_PROFILE: mib_set_unsigned(vb, def->profile + 1); break;
	case T_MATCH:
		match_text(def, text, sizeof(text));
		mib_set_string(vb, text);
		break;
	case T_METRIC: mib_set_integer(vb, def->metric + 1); break;
	case T_DIRECTION: mib_set_integer(vb, def->dir); break;
	case T_WINDOW: mib_set_unsigned(vb, def->window_s); break;
	case T_RISING: mib_set_counter64(vb, def->rising); break;
	case T_FALLING: mib_set_counter64(vb, def->falling); break;
	case T_NOTIFY_LIMIT: mib_set_unsigned(vb, def->notify_per_min); break;
	case T_ROW_LIMIT: mib_set_unsigned(vb, def->max_rows); break;
	case T_WATCHED: mib_set_gauge(vb, st.watched); break;
	case T_OVER: mib_set_gauge(vb, st.over); break;
	case T_RISING_EVENTS: mib_set_counter64(vb, st.rising); break;
	case T_FALLING_EVENTS: mib_set_counter64(vb, st.falling); break;
	case T_SUPPRESSED: mib_set_counter64(vb, st.suppressed); break;
	case T_REFUSED: mib_set_counter64(vb, st.refused); break;
	default: return -1;
	}
	return 0;
}

void mib_threshold_init(struct mib_table *t, struct ctflowd *d, const oid *root, size_t len)
{
	static const oid sub[] = { 1, 5 };

	t->name = "ctflowThresholdTable";
	t->oidlen = mib_oid_join(t->oid, root, len, sub, 2);
	t->min_col = T_NAME;
	t->max_col = T_REFUSED;
	t->ctx = d;
	t->tree = &tree_threshold;
	t->value = threshold_value;
}

/* ---- ctflowAlarmTable ---- */

/* The alarm row's index after the threshold: its ctflowAggTable index. */
static size_t alarm_index(const struct ctflowd *d, size_t ti, const struct agg_key *key, oid *out)
{
	const struct thresh_def *def = thresh_get(d->thresh, ti);

	return mib_agg_index(agg_set_profile(d->agg, def->profile), (uint32_t)def->profile + 1, key,
			     out);
}

/*
 * The first row over threshold ti whose index (after the threshold) is
 * >= idx (> idx if strict); its position, or the count if none.
 */
static size_t alarm_bound(const struct ctflowd *d, size_t ti, const oid *idx, size_t len,
			  int strict)
{
	struct thresh_stats st;
	size_t lo = 0, hi;

	thresh_get_stats(d->thresh, ti, &st);
	hi = st.over;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct alarm_row r;
		oid enc[MIB_IDX_MAX] = { 0 };
		size_t n = 0;

		if (thresh_alarm_at(d->thresh, ti, mid, &r))
			n = alarm_index(d, ti, &r.key, enc);
		int c = subid_cmp(enc, n, idx, len);

		if (c < 0 || (strict && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int alarm_fill(const struct ctflowd *d, size_t ti, size_t pos, struct mib_row *row)
{
	struct alarm_row r;

	if (!thresh_alarm_at(d->thresh, ti, pos, &r))
		return 0;
	row->a = (uint32_t)ti + 1;
	row->b = (uint32_t)pos;
	row->idx[0] = ti + 1;
	row->idxlen = alarm_index(d, ti, &r.key, row->idx + 1) + 1;
	return row->idxlen > 1;
}

static int alarm_find(const struct mib_table *t, const oid *idx, size_t len, int next,
		      struct mib_row *row)
{
	const struct ctflowd *d = t->ctx;
	size_t n = thresh_count(d->thresh);

	if (!next) {
		if (len < 2 || idx[0] < 1 || idx[0] > n)
			return 0;
		size_t pos = alarm_bound(d, idx[0] - 1, idx + 1, len - 1, 0);

		return alarm_fill(d, idx[0] - 1, pos, row) && row->idxlen == len &&
		       subid_cmp(row->idx, row->idxlen, idx, len) == 0;
	}
	size_t ti = len && idx[0] > 1 ? idx[0] - 1 : 0;

	for (; ti < n; ti++) {
		/* within the requested threshold: strictly after the rest of the index */
		size_t pos = len > 1 && idx[0] == ti + 1 ? alarm_bound(d, ti, idx + 1, len - 1, 1) : 0;

		if (alarm_fill(d, ti, pos, row))
			return 1;
	}
	return 0;
}

/* The row over threshold row->a with this index (alarm_find just found it). */
static int alarm_row_of(const struct ctflowd *d, const struct mib_row *row, struct alarm_row *r)
{
	return thresh_alarm_at(d->thresh, row->a - 1, row->b, r);
}

static int alarm_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
		       netsnmp_variable_list *vb)
{
	const struct ctflowd *d = t->ctx;
	const struct thresh_def *def = thresh_get(d->thresh, row->a - 1);
	struct alarm_row r;
	char text[160];
	oid target[MAX_OID_LEN];

	if (!def || !alarm_row_of(d, row, &r))
		return -1;
	switch (col) {
	case AL_KEY:
		agg_key_format(&agg_set_profile(d->agg, def->profile)->spec, &r.key, text,
			       sizeof(text));
		mib_set_string(vb, text);
		break;
	case AL_SINCE: mib_set_datetime(vb, (time_t)r.since); break;
	case AL_RATE: mib_set_counter64(vb, r.rate); break;
	case AL_PEAK: mib_set_counter64(vb, r.peak); break;
	case AL_ROW: {
		/* ctflowAggFlowsStarted.<the agg index> */
		size_t n = (size_t)(t->oidlen - 1);

		memcpy(target, t->oid, n * sizeof(oid));
		target[n++] = 3;
		target[n++] = 1;
		target[n++] = CTFLOW_AGG_FIRST_COLUMN;
		memcpy(target + n, row->idx + 1, (row->idxlen - 1) * sizeof(oid));
		mib_set_oid(vb, target, n + row->idxlen - 1);
		break;
	}
	default: return -1;
	}
	return 0;
}

void mib_alarm_init(struct mib_table *t, struct ctflowd *d, const oid *root, size_t len)
{
	static const oid sub[] = { 1, 6 };

	t->name = "ctflowAlarmTable";
	t->oidlen = mib_oid_join(t->oid, root, len, sub, 2);
	t->min_col = AL_KEY;
	t->max_col = AL_ROW;
	t->ctx = d;
	t->find = alarm_find;
	t->value = alarm_value;
}

/* ---- notification varbinds ---- */

static void add_var(netsnmp_variable_list **vars, const oid *root, size_t rootlen,
		    const oid *sub, size_t n, const oid *idx, size_t idxlen,
		    void (*set)(netsnmp_variable_list *vb, const void *arg), const void *arg)
{
	oid name[MAX_OID_LEN];
	size_t len = mib_oid_join(name, root, rootlen, sub, n);
	netsnmp_variable_list *vb;

	memcpy(name + len, idx, idxlen * sizeof(oid));
	vb = snmp_varlist_add_variable(vars, name, len + idxlen, ASN_NULL, NULL, 0);
	if (vb)
		set(vb, arg);
}

static void set_text(netsnmp_variable_list *vb, const void *arg)
{
	mib_set_string(vb, arg);
}

static void set_c64(netsnmp_variable_list *vb, const void *arg)
{
	mib_set_counter64(vb, *(const uint64_t *)arg);
}

static void set_u32(netsnmp_variable_list *vb, const void *arg)
{
	mib_set_unsigned(vb, *(const uint64_t *)arg);
}

int mib_alarm_varbinds(const struct ctflowd *d, const struct alarm_event *e, const oid *root,
		       size_t rootlen, netsnmp_variable_list **vars)
{
	static const oid name_col[] = { 1, 5, 1, T_NAME }, key_col[] = { 1, 6, 1, AL_KEY },
			 rate_col[] = { 1, 6, 1, AL_RATE }, rising_col[] = { 1, 5, 1, T_RISING },
			 falling_col[] = { 1, 5, 1, T_FALLING }, window_col[] = { 1, 5, 1, T_WINDOW };
	const struct thresh_def *def = thresh_get(d->thresh, e->thresh - 1);
	oid idx[MIB_IDX_MAX + 1];
	char text[160];
	uint64_t window = e->window_s;

	if (!def)
		return -1;
	idx[0] = e->thresh;
	size_t n = alarm_index(d, e->thresh - 1, &e->key, idx + 1) + 1;

	agg_key_format(&agg_set_profile(d->agg, def->profile)->spec, &e->key, text, sizeof(text));
	add_var(vars, root, rootlen, name_col, 4, idx, 1, set_text, def->name);
	add_var(vars, root, rootlen, key_col, 4, idx, n, set_text, text);
	add_var(vars, root, rootlen, rate_col, 4, idx, n, set_c64, &e->rate);
	add_var(vars, root, rootlen, e->kind == ALARM_RISING ? rising_col : falling_col, 4, idx, 1,
		set_c64, &e->value);
	add_var(vars, root, rootlen, window_col, 4, idx, 1, set_u32, &window);
	return 0;
}
