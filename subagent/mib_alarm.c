/*
 * mib_alarm: ctflowAlarmTable (root.1.6), the rows over each threshold.
 *
 * An alarm row's index is the threshold, then the row's ctflowAggTable
 * index.  The rows over a threshold are kept in key order, and keys sort
 * like their indexes, so GET and GETNEXT are a binary search over them with
 * each probed row's index encoded on the spot.
 */
#include "mib_ctflow.h"

#include "snmp_index.h"

static struct thresh_set *thresholds(const struct out_view *v)
{
	return v->thresholds(v->arg);
}

size_t mib_alarm_index(const struct out_view *v, size_t ti, const struct agg_key *key, oid *out)
{
	const struct thresh_def *def = thresh_get(thresholds(v), ti);
	struct agg_set *set = v->profiles(v->arg);

	if (!def || def->profile >= agg_set_count(set))
		return 0;
	return mib_agg_index(agg_set_profile(set, def->profile), (uint32_t)def->profile + 1, key,
			     out);
}

/*
 * The first row over threshold ti whose index (after the threshold) is
 * >= idx (> idx if strict); its position, or the count if none.
 */
static size_t alarm_bound(const struct out_view *v, size_t ti, const oid *idx, size_t len,
			  int strict)
{
	struct thresh_stats st;
	size_t lo = 0, hi;

	thresh_get_stats(thresholds(v), ti, &st);
	hi = st.over;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct alarm_row r;
		oid enc[MIB_IDX_MAX] = { 0 };
		size_t n = 0;

		if (thresh_alarm_at(thresholds(v), ti, mid, &r))
			n = mib_alarm_index(v, ti, &r.key, enc);
		int c = subid_cmp(enc, n, idx, len);

		if (c < 0 || (strict && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int alarm_fill(const struct out_view *v, size_t ti, size_t pos, struct mib_row *row)
{
	struct alarm_row r;

	if (!thresh_alarm_at(thresholds(v), ti, pos, &r))
		return 0;
	row->a = (uint32_t)ti;
	row->b = (uint32_t)pos;
	row->idx[0] = thresh_index_at(thresholds(v), ti);
	row->idxlen = mib_alarm_index(v, ti, &r.key, row->idx + 1) + 1;
	return row->idxlen > 1;
}

static int alarm_find(const struct mib_table *t, const oid *idx, size_t len, int next,
		      struct mib_row *row)
{
	const struct out_view *v = t->ctx;
	size_t n = thresh_count(thresholds(v));

	if (!next) {
		long ti = len < 2 ? -1 : mib_threshold_pos(thresholds(v), idx[0]);

		if (ti < 0)
			return 0;
		size_t pos = alarm_bound(v, (size_t)ti, idx + 1, len - 1, 0);

		return alarm_fill(v, (size_t)ti, pos, row) && row->idxlen == len &&
		       subid_cmp(row->idx, row->idxlen, idx, len) == 0;
	}
	if (len && idx[0] > THRESH_INDEX_MAX)
		return 0;
	for (size_t ti = len ? thresh_pos(thresholds(v), (uint32_t)idx[0]) : 0; ti < n; ti++) {
		/* within the requested threshold: strictly after the rest of the index */
		int same = len > 1 && thresh_index_at(thresholds(v), ti) == idx[0];
		size_t pos = same ? alarm_bound(v, ti, idx + 1, len - 1, 1) : 0;

		if (alarm_fill(v, ti, pos, row))
			return 1;
	}
	return 0;
}

/* The row over the threshold at position row->a (alarm_find just found it). */
static int alarm_row_of(const struct out_view *v, const struct mib_row *row, struct alarm_row *r)
{
	return thresh_alarm_at(thresholds(v), row->a, row->b, r);
}

static int alarm_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
		       netsnmp_variable_list *vb)
{
	const struct out_view *v = t->ctx;
	const struct thresh_def *def = thresh_get(thresholds(v), row->a);
	struct alarm_row r;

	if (!def || !alarm_row_of(v, row, &r))
		return -1;
	const struct agg_profile *p = agg_set_profile(v->profiles(v->arg), def->profile);

	switch (col) {
	case ALRM_KEY: mib_set_key_text(vb, &p->spec, &r.key); break;
	case ALRM_SINCE: mib_set_datetime(vb, (time_t)r.since); break;
	case ALRM_RATE: mib_set_counter64(vb, r.rate); break;
	case ALRM_PEAK: mib_set_counter64(vb, r.peak); break;
	case ALRM_ROW:
		mib_agg_set_pointer(vb, t->oid, t->oidlen, p, (uint32_t)def->profile + 1, &r.key);
		break;
	default: return -1;
	}
	return 0;
}

void mib_alarm_init(struct mib_table *t, const struct out_view *v, const oid *root, size_t len)
{
	static const oid sub[] = { 1, CTFLOW_ALARM_TABLE };

	t->name = "ctflowAlarmTable";
	t->oidlen = mib_oid_join(t->oid, root, len, sub, 2);
	t->min_col = ALRM_KEY;
	t->max_col = ALRM_ROW;
	t->ctx = v;
	t->find = alarm_find;
	t->value = alarm_value;
}

