/*
 * mib_top: ctflowTopTable, each profile's last ranking (agg_set_rank) by
 * octets gained in the window, indexed by (profile, rank).  The ranking is
 * a copy made at refresh time, so a poll between refreshes reads one
 * consistent picture even while rows are evicted.
 */
#include "mib_ctflow.h"

#include <string.h>

static struct agg_set *profiles(const struct mib_table *t)
{
	const struct out_view *v = t->ctx;

	return v->profiles(v->arg);
}

static int top_find(const struct mib_table *t, const oid *idx, size_t len, int next,
		    struct mib_row *row)
{
	struct agg_set *set = profiles(t);
	size_t nprof = agg_set_count(set);
	oid p, r;

	if (!next) {
		if (len != 2 || idx[0] < 1 || idx[0] > nprof)
			return 0;
		p = idx[0];
		r = idx[1];
		if (r < 1 || r > agg_set_profile(set, p - 1)->ntop)
			return 0;
	} else {
		/* (p) sorts before (p, 1); (p, r) and anything longer before (p, r + 1) */
		p = len && idx[0] ? idx[0] : 1;
		r = 1;
		if (len >= 2 && idx[0]) /* no wrap-around: sub-ids may be any 64-bit value */
			r = idx[1] >= AGG_TOP_MAX ? AGG_TOP_MAX + 1 : idx[1] + 1;
		while (p <= nprof && r > agg_set_profile(set, p - 1)->ntop) {
			p++;
			r = 1;
		}
		if (p > nprof)
			return 0;
	}
	row->a = (uint32_t)p;
	row->b = (uint32_t)r;
	row->idx[0] = p;
	row->idx[1] = r;
	row->idxlen = 2;
	return 1;
}

static void set_addr(netsnmp_variable_list *vb, const struct agg_key_fields *kf, int slot,
		     int what)
{
	int present = kf->has_addr[slot];
	size_t alen = kf->family == 2 ? 16 : 4;

	if (what == 0)
		mib_set_integer(vb, present ? kf->family : 0);
	else if (what == 1)
		mib_set_octets(vb, kf->addr[slot].b, present ? alen : 0);
	else
		mib_set_unsigned(vb, present ? kf->plen[slot] : 0);
}

static int top_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
		     netsnmp_variable_list *vb)
{
	const struct agg_profile *p = agg_set_profile(profiles(t), row->a - 1);
	const struct agg_rank *e = &p->top[row->b - 1];
	struct agg_key_fields kf;

	if (agg_key_decode(&p->spec, &e->key, &kf) < 0)
		return -1;
	switch (col) {
	case TOP_ADDR1_TYPE: case TOP_ADDR1: case TOP_ADDR1_PREFIX:
		set_addr(vb, &kf, 0, (int)(col - TOP_ADDR1_TYPE));
		break;
	case TOP_ADDR2_TYPE: case TOP_ADDR2: case TOP_ADDR2_PREFIX:
		set_addr(vb, &kf, 1, (int)(col - TOP_ADDR2_TYPE));
		break;
	case TOP_PROTO: mib_set_unsigned(vb, kf.proto); break;
	case TOP_PORT: mib_set_unsigned(vb, kf.port); break;
	case TOP_ZONE: mib_set_unsigned(vb, kf.zone); break;
	case TOP_MARK: mib_set_unsigned(vb, kf.mark); break;
	case TOP_OCTETS: mib_set_counter64(vb, e->octets); break;
	case TOP_WINDOW: mib_set_unsigned(vb, p->top_window); break;
	case TOP_ROW: mib_agg_set_pointer(vb, t->oid, t->oidlen, p, row->a, &e->key); break;
	default: return -1;
	}
	return 0;
}

void mib_top_init(struct mib_table *t, const struct out_view *v, const oid *root, size_t len)
{
	static const oid sub[] = { 1, CTFLOW_TOP_TABLE };

	t->name = "ctflowTopTable";
	t->oidlen = mib_oid_join(t->oid, root, len, sub, 2);
	t->min_col = TOP_ADDR1_TYPE;
	t->max_col = TOP_ROW;
	t->find = top_find;
	t->value = top_value;
	t->ctx = v;
}
