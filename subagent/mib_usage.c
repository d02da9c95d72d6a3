/*
 * mib_usage: ctflowUsageTable, each row's periods (kind, age) after its
 * ctflowAggTable index.
 *
 * GET decodes the key exactly and looks it up: O(1).  GETNEXT finds the
 * first row whose key index is not before the request's (the encodings are
 * prefix-free, so that is one ordered seek), then the first (kind, age)
 * after the request's tail in that row, else the next row: O(log n).
 */
#include "mib_ctflow.h"

#include "snmp_index.h"

static struct agg_set *profiles(const struct mib_table *t)
{
	const struct out_view *v = t->ctx;

	return v->profiles(v->arg);
}

static void fill_row(const struct agg_profile *p, uint32_t profile_no, uint32_t r, unsigned kind,
		     unsigned age, struct mib_row *row)
{
	struct agg_key key;
	size_t n;

	agg_table_key(p->tab, r, &key);
	row->a = profile_no;
	row->b = r;
	n = mib_agg_index(p, profile_no, &key, row->idx);
	row->idx[n++] = kind;
	row->idx[n++] = age;
	row->idxlen = n;
}

static int find_exact(struct agg_set *set, const oid *idx, size_t len, struct mib_row *row)
{
	struct agg_key key;
	uint32_t r;

	if (len < 4 || idx[0] < 1 || idx[0] > agg_set_count(set))
		return 0;
	const struct agg_profile *p = agg_set_profile(set, idx[0] - 1);
	oid kind = idx[len - 2], age = idx[len - 1];

	if (kind < 1 || kind > p->usage.n || age > p->usage.keep ||
	    aggidx_decode(&p->spec, idx + 1, len - 3, &key) < 0)
		return 0;
	r = agg_table_lookup(p->tab, &key);
	if (!r)
		return 0;
	fill_row(p, (uint32_t)idx[0], r, (unsigned)kind, (unsigned)age, row);
	return 1;
}

struct seek {
	const struct agg_profile *p;
	const oid *idx; /* the request's index after the profile number */
	size_t len;
	int strict;     /* rows strictly after idx (else: not before its prefix) */
};

static int probe(void *ctx, const struct agg_key *key)
{
	const struct seek *s = ctx;
	subid_t enc[AGGIDX_MAX];
	size_t n = aggidx_encode(&s->p->spec, key, enc);
	int c = subid_cmp(enc, n, s->idx, s->strict || s->len < n ? s->len : n);

	return c > 0 || (!s->strict && c == 0) ? 1 : -1;
}

/* The first (kind, age) of row r whose index tail is after tail[tlen]. */
static int first_after(const struct agg_profile *p, const oid *tail, size_t tlen, unsigned *kind,
		       unsigned *age)
{
	for (unsigned k = 1; k <= p->usage.n; k++) {
		for (unsigned a = 0; a <= p->usage.keep; a++) {
			const subid_t ka[2] = { k, a };

			if (subid_cmp(ka, 2, tail, tlen) > 0) {
				*kind = k;
				*age = a;
				return 1;
			}
		}
	}
	return 0;
}

/* Inside profile pn: the first entry after the request's rest. */
static int next_in_profile(const struct agg_profile *p, uint32_t pn, const oid *rest, size_t len,
			   struct mib_row *row)
{
	struct seek s = { p, rest, len, 0 };
	uint32_t r = agg_table_seek(p->tab, probe, &s);
	subid_t enc[AGGIDX_MAX];
	struct agg_key key;
	unsigned kind, age;
	size_t n;

	if (!r)
		return 0;
	agg_table_key(p->tab, r, &key);
	n = aggidx_encode(&p->spec, &key, enc);
	if (len <= n || subid_cmp(enc, n, rest, n) != 0) {
		fill_row(p, pn, r, 1, 0, row); /* the whole row is after the request */
		return 1;
	}
	if (first_after(p, rest + n, len - n, &kind, &age)) {
		fill_row(p, pn, r, kind, age, row);
		return 1;
	}
	s = (struct seek){ p, enc, n, 1 };
	r = agg_table_seek(p->tab, probe, &s);
	if (!r)
		return 0;
	fill_row(p, pn, r, 1, 0, row);
	return 1;
}

static int find_next(struct agg_set *set, const oid *idx, size_t len, struct mib_row *row)
{
	size_t nprof = agg_set_count(set);
	size_t pn = len && idx[0] ? idx[0] : 1;

	if (pn > nprof)
		return 0;
	if (len > 1 && idx[0]) {
		const struct agg_profile *p = agg_set_profile(set, pn - 1);

		if (p->usage.n && next_in_profile(p, (uint32_t)pn, idx + 1, len - 1, row))
			return 1;
		pn++;
	}
	for (; pn <= nprof; pn++) {
		const struct agg_profile *p = agg_set_profile(set, pn - 1);
		uint32_t r = p->usage.n ? agg_table_first_ordered(p->tab) : 0;

		if (r) {
			fill_row(p, (uint32_t)pn, r, 1, 0, row);
			return 1;
		}
	}
	return 0;
}

static int usage_find(const struct mib_table *t, const oid *idx, size_t len, int next,
		      struct mib_row *row)
{
	struct agg_set *set = profiles(t);

	return next ? find_next(set, idx, len, row) : find_exact(set, idx, len, row);
}

static int usage_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
		       netsnmp_variable_list *vb)
{
	const struct agg_profile *p = agg_set_profile(profiles(t), row->a - 1);
	unsigned kind = (unsigned)row->idx[row->idxlen - 2], age = (unsigned)row->idx[row->idxlen - 1];
	struct usage_bucket b = { 0 };
	struct agg_key key;
	int64_t start = 0, end = 0;
	uint32_t ord = usage_ordinal(&p->usage, kind - 1, (int64_t)time(NULL)) - age;

	/* a calendar period's bounds take two mktime() calls: only for the columns that show them */
	if (col == USE_START || col == USE_END)
		usage_bounds(&p->usage, kind - 1, ord, &start, &end);
	else
		usage_get_ord(&p->usage, agg_table_extra(p->tab, row->b), kind - 1, ord, &b);
	switch (col) {
	case USE_NAME: mib_set_string(vb, p->usage.k[kind - 1].name); break;
	case USE_START: mib_set_datetime(vb, (time_t)start); break;
	case USE_END: mib_set_datetime(vb, (time_t)end); break;
	case USE_FWD_PACKETS: mib_set_counter64(vb, b.pkts[0]); break;
	case USE_FWD_OCTETS: mib_set_counter64(vb, b.bytes[0]); break;
	case USE_REV_PACKETS: mib_set_counter64(vb, b.pkts[1]); break;
	case USE_REV_OCTETS: mib_set_counter64(vb, b.bytes[1]); break;
	case USE_FLOWS: mib_set_counter64(vb, b.flows); break;
	case USE_OCTETS: mib_set_counter64(vb, b.bytes[0] + b.bytes[1]); break;
	case USE_KEY_TEXT:
		agg_table_key(p->tab, row->b, &key);
		mib_set_key_text(vb, &p->spec, &key);
		break;
	default: return -1;
	}
	return 0;
}

void mib_usage_init(struct mib_table *t, const struct out_view *v, const oid *root, size_t len)
{
	static const oid sub[] = { 1, CTFLOW_USAGE_TABLE };

	t->name = "ctflowUsageTable";
	t->oidlen = mib_oid_join(t->oid, root, len, sub, 2);
	t->min_col = USE_NAME;
	t->max_col = USE_KEY_TEXT;
	t->ctx = v;
	t->find = usage_find;
	t->value = usage_value;
}
