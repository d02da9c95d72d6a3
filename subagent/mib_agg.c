/*
 * mib_agg: ctflowAggTable, the aggregate rows of every profile.
 *
 * GET decodes the request's index exactly (snmp_index) and looks the key up
 * in the profile's hash: O(1).  GETNEXT descends the profile's ordered index
 * comparing the request's index with each visited row's index, encoded on
 * the spot: O(log n) steps of at most 43 sub-ids.  Since keys sort like
 * their indexes, no per-row OID copy is kept.
 */
#include "mib_ctflow.h"

#include "snmp_index.h"

static struct agg_set *profiles(const struct mib_table *t)
{
	const struct out_view *v = t->ctx;

	return v->profiles(v->arg);
}

size_t mib_agg_index(const struct agg_profile *p, uint32_t profile_no, const struct agg_key *key,
		     oid *out)
{
	size_t n = aggidx_encode(&p->spec, key, out + 1);

	out[0] = profile_no;
	return n ? n + 1 : 0;
}

static void fill_row(const struct agg_profile *p, uint32_t profile_no, uint32_t idx,
		     struct mib_row *row)
{
	struct agg_key key;

	agg_table_key(p->tab, idx, &key);
	row->a = profile_no;
	row->b = idx;
	row->idxlen = mib_agg_index(p, profile_no, &key, row->idx);
}

struct after {
	const struct agg_profile *p;
	const oid *idx; /* the request's index after the profile number */
	size_t len;
};

/* >0 when the row's index sorts after the request's. */
static int row_after(void *ctx, const struct agg_key *key)
{
	const struct after *a = ctx;
	subid_t enc[AGGIDX_MAX];
	size_t n;

	n = aggidx_encode(&a->p->spec, key, enc);
	return subid_cmp(enc, n, a->idx, a->len) > 0 ? 1 : -1;
}

static int find_exact(struct agg_set *set, const oid *idx, size_t len, struct mib_row *row)
{
	size_t nprof = agg_set_count(set);
	struct agg_key key;
	uint32_t r;

	if (len < 1 || idx[0] < 1 || idx[0] > nprof)
		return 0;
	const struct agg_profile *p = agg_set_profile(set, idx[0] - 1);

	if (aggidx_decode(&p->spec, idx + 1, len - 1, &key) < 0)
		return 0;
	r = agg_table_lookup(p->tab, &key);
	if (!r)
		return 0;
	fill_row(p, (uint32_t)idx[0], r, row);
	return 1;
}

static int find_next(struct agg_set *set, const oid *idx, size_t len, struct mib_row *row)
{
	size_t nprof = agg_set_count(set);
	size_t pn = len && idx[0] ? idx[0] : 1;
	uint32_t r = 0;

	if (pn > nprof)
		return 0;
	if (len > 1 && idx[0]) {
		/* inside profile pn: the successor of the rest of the index */
		const struct agg_profile *p = agg_set_profile(set, pn - 1);
		struct after a = { p, idx + 1, len - 1 };

		r = agg_table_seek(p->tab, row_after, &a);
		if (r) {
			fill_row(p, (uint32_t)pn, r, row);
			return 1;
		}
		pn++;
	}
	for (; pn <= nprof; pn++) {
		const struct agg_profile *p = agg_set_profile(set, pn - 1);

		r = agg_table_first_ordered(p->tab);
		if (r) {
			fill_row(p, (uint32_t)pn, r, row);
			return 1;
		}
	}
	return 0;
}

static int agg_find(const struct mib_table *t, const oid *idx, size_t len, int next,
		    struct mib_row *row)
{
	struct agg_set *set = profiles(t);

	return next ? find_next(set, idx, len, row) : find_exact(set, idx, len, row);
}

void mib_agg_set_pointer(netsnmp_variable_list *vb, const oid *table, size_t table_len,
			 const struct agg_profile *p, uint32_t profile_no, const struct agg_key *key)
{
	oid o[MAX_OID_LEN];
	size_t n = table_len;

	memcpy(o, table, n * sizeof(oid));
	o[n - 1] = CTFLOW_AGG_TABLE;
	o[n++] = 1;
	o[n++] = CTFLOW_AGG_FIRST_COLUMN;
	n += mib_agg_index(p, profile_no, key, o + n);
	mib_set_oid(vb, o, n);
}

void mib_set_key_text(netsnmp_variable_list *vb, const struct agg_keyspec *ks,
		      const struct agg_key *key)
{
	char text[AGG_KEY_TEXT_MAX];

	if (agg_key_format(ks, key, text, sizeof(text)) < 0)
		text[0] = '\0';
	mib_set_string(vb, text);
}

/* The key as text: managers that label rows by a column (Cacti, Zabbix
 * discovery) cannot decode an InetAddress index themselves. */
static void set_key_text(const struct agg_profile *p, uint32_t idx, netsnmp_variable_list *vb)
{
	struct agg_key key;

	agg_table_key(p->tab, idx, &key);
	mib_set_key_text(vb, &p->spec, &key);
}

static int agg_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
		     netsnmp_variable_list *vb)
{
	const struct agg_profile *p = agg_set_profile(profiles(t), row->a - 1);
	const struct agg_counters *r = agg_table_counters(p->tab, row->b);

	switch (col) {
	case AROW_FLOWS_STARTED: mib_set_counter64(vb, r->flows_started); break;
	case AROW_FLOWS_ENDED: mib_set_counter64(vb, r->flows_ended); break;
	case AROW_FWD_PACKETS: mib_set_counter64(vb, r->pkts[0]); break;
	case AROW_FWD_OCTETS: mib_set_counter64(vb, r->bytes[0]); break;
	case AROW_REV_PACKETS: mib_set_counter64(vb, r->pkts[1]); break;
	case AROW_REV_OCTETS: mib_set_counter64(vb, r->bytes[1]); break;
	case AROW_FIRST_SEEN: mib_set_datetime(vb, (time_t)r->first); break;
	case AROW_LAST_UPDATE: mib_set_datetime(vb, (time_t)r->last); break;
	case AROW_CREATED: mib_set_datetime(vb, (time_t)r->created); break;
	case AROW_OCTETS: mib_set_counter64(vb, r->bytes[0] + r->bytes[1]); break;
	case AROW_KEY_TEXT: set_key_text(p, row->b, vb); break;
	default: return -1;
	}
	return 0;
}

void mib_agg_init(struct mib_table *t, const struct out_view *v, const oid *root, size_t len)
{
	static const oid sub[] = { 1, CTFLOW_AGG_TABLE };

	t->name = "ctflowAggTable";
	t->oidlen = mib_oid_join(t->oid, root, len, sub, 2);
	t->min_col = AROW_FLOWS_STARTED;
	t->max_col = AROW_KEY_TEXT;
	t->ctx = v;
	t->find = agg_find;
	t->value = agg_value;
}
