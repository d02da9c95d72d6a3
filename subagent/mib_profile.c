/*
 * mib_profile: ctflowProfileTable, one row per configured profile, indexed
 * by its position from 1.
 */
#include "mib_ctflow.h"

enum {
	P_NAME = 2, P_KEY, P_ADDRESSES, P_ROWS, P_ROW_LIMIT, P_INSERTS, P_EVICTIONS, P_MEMORY,
	P_TOP_SIZE,
};

static int profile_find(const struct mib_table *t, const oid *idx, size_t len, int next,
			struct mib_row *row)
{
	struct ctflowd *d = t->ctx;
	size_t n = agg_set_count(d->agg);
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

static int profile_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
			 netsnmp_variable_list *vb)
{
	struct ctflowd *d = t->ctx;
	const struct agg_profile *p = agg_set_profile(d->agg, row->a - 1);
	struct agg_table_stats st;
	char key[128];

	agg_table_get_stats(p->tab, &st);
	switch (col) {
	case P_NAME: mib_set_string(vb, p->name); break;
	case P_KEY:
		agg_keyspec_format(&p->spec, key, sizeof(key));
		mib_set_string(vb, key);
		break;
	case P_ADDRESSES: mib_set_integer(vb, p->spec.view == AGG_VIEW_TRANSLATED ? 2 : 1); break;
	case P_ROWS: mib_set_gauge(vb, st.rows); break;
	case P_ROW_LIMIT: mib_set_unsigned(vb, st.limit); break;
	case P_INSERTS: mib_set_counter64(vb, st.inserts); break;
	case P_EVICTIONS: mib_set_counter64(vb, st.evictions); break;
	case P_MEMORY: mib_set_gauge(vb, st.bytes_used / 1024); break;
	case P_TOP_SIZE: mib_set_unsigned(vb, p->top_size); break;
	default: return -1;
	}
	return 0;
}

void mib_profile_init(struct mib_table *t, struct ctflowd *d, const oid *root, size_t len)
{
	static const oid sub[] = { 1, 2 };

	t->name = "ctflowProfileTable";
	t->oidlen = mib_oid_join(t->oid, root, len, sub, 2);
	t->min_col = P_NAME;
	t->max_col = P_TOP_SIZE;
	t->ctx = d;
	t->find = profile_find;
	t->value = profile_value;
}
