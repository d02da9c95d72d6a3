/*
 * mib_profile: ctflowProfileTable, one row per configured profile, indexed
 * by its position from 1.
 */
#include "mib_ctflow.h"

static struct agg_set *profiles(const struct mib_table *t)
{
	const struct out_view *v = t->ctx;

	return v->profiles(v->arg);
}

static int profile_find(const struct mib_table *t, const oid *idx, size_t len, int next,
			struct mib_row *row)
{
	size_t n = agg_set_count(profiles(t));
	oid p;

	if (!next) {
		if (len != 1 || idx[0] < 1 || idx[0] > n)
			return 0;
		p = idx[0];
	} else if (!len || idx[0] == 0) {
		p = 1;
	} else if (idx[0] >= n) {
		return 0; /* (no +1 on a sub-id: AgentX may hand us any 64-bit value) */
	} else {
		p = idx[0] + 1; /* (p) and anything longer sort before (p + 1) */
	}
	row->a = (uint32_t)p;
	row->idx[0] = p;
	row->idxlen = 1;
	return 1;
}

int mib_profile_value(const struct out_view *v, size_t profile, unsigned col,
		      netsnmp_variable_list *vb)
{
	struct agg_set *set = v->profiles(v->arg);
	const struct agg_profile *p;
	struct agg_table_stats st;
	char key[128];

	if (profile >= agg_set_count(set))
		return -1;
	p = agg_set_profile(set, profile);
	agg_table_get_stats(p->tab, &st);
	switch (col) {
	case PROF_NAME: mib_set_string(vb, p->name); break;
	case PROF_KEY:
		agg_keyspec_format(&p->spec, key, sizeof(key));
		mib_set_string(vb, key);
		break;
	case PROF_ADDRESSES: mib_set_integer(vb, p->spec.view == AGG_VIEW_TRANSLATED ? 2 : 1); break;
	case PROF_ROWS: mib_set_gauge(vb, st.rows); break;
	case PROF_ROW_LIMIT: mib_set_unsigned(vb, st.limit); break;
	case PROF_INSERTS: mib_set_counter64(vb, st.inserts); break;
	case PROF_EVICTIONS: mib_set_counter64(vb, st.evictions); break;
	case PROF_MEMORY: mib_set_gauge(vb, st.bytes_used / 1024); break;
	case PROF_TOP_SIZE: mib_set_unsigned(vb, p->top_size); break;
	case PROF_PERIODS:
		usage_format(&p->usage, key, sizeof(key));
		mib_set_string(vb, key);
		break;
	case PROF_KEEP: mib_set_unsigned(vb, p->usage.n ? p->usage.keep : 0); break;
	case PROF_USAGE_LATE: mib_set_counter64(vb, p->usage_late); break;
	default: return -1;
	}
	return 0;
}

static int profile_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
			 netsnmp_variable_list *vb)
{
	return mib_profile_value(t->ctx, row->a - 1, col, vb);
}

void mib_profile_init(struct mib_table *t, const struct out_view *v, const oid *root, size_t len)
{
	static const oid sub[] = { 1, CTFLOW_PROFILE_TABLE };

	t->name = "ctflowProfileTable";
	t->oidlen = mib_oid_join(t->oid, root, len, sub, 2);
	t->min_col = PROF_NAME;
	t->max_col = PROF_USAGE_LATE;
	t->ctx = v;
	t->find = profile_find;
	t->value = profile_value;
}
