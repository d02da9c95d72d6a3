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

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarm_thresh.h"
#include "base_log.h"
#include "out_state.h"
#include "snmp_index.h"

enum {
	T_NAME = 2, T_PROFILE, T_MATCH, T_METRIC, T_DIRECTION, T_WINDOW, T_RISING, T_FALLING,
	T_NOTIFY_LIMIT, T_ROW_LIMIT, T_WATCHED, T_OVER, T_RISING_EVENTS, T_FALLING_EVENTS,
	T_SUPPRESSED, T_REFUSED, T_PROTO, T_PORT, T_STORAGE, T_STATUS, T_MATCH2,
};
/* RowStatus values (RFC 2579): net-snmp's RS_ACTIVE ... RS_DESTROY */
enum { AL_KEY = 1, AL_SINCE, AL_RATE, AL_PEAK, AL_ROW };

/* ---- ctflowThresholdTable ---- */

/* The position of threshold `index`, or -1. */
static long pos_of(const struct ctflowd *d, oid index)
{
	size_t pos;

	if (index < 1 || index > THRESH_INDEX_MAX)
		return -1;
	pos = thresh_pos(d->thresh, (uint32_t)index);
	return thresh_index_at(d->thresh, pos) == index ? (long)pos : -1;
}

static int ge_threshold(const struct mib_table *t, const oid *prefix, unsigned lvl, oid start,
			oid *out)
{
	const struct ctflowd *d = t->ctx;
	size_t pos;

	(void)prefix;
	(void)lvl;
	if (start > THRESH_INDEX_MAX)
		return 0;
	pos = thresh_pos(d->thresh, (uint32_t)start);
	if (pos >= thresh_count(d->thresh))
		return 0;
	*out = thresh_index_at(d->thresh, pos);
	return 1;
}

static const struct mib_tree tree_threshold = { 1, ge_threshold };


static int threshold_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
			   netsnmp_variable_list *vb)
{
	const struct ctflowd *d = t->ctx;
	long i = pos_of(d, row->idx[0]);
	const struct thresh_def *def = i < 0 ? NULL : thresh_get(d->thresh, (size_t)i);
	struct thresh_stats st;
	char text[96];

	if (!def)
		return -1;
	thresh_get_stats(d->thresh, (size_t)i, &st);
	switch (col) {
	case T_NAME: mib_set_string(vb, def->name); break;
	case T_PROFILE:
		if (def->profile == THRESH_PROFILE_UNSET)
			return -1; /* notReady: not set yet */
		mib_set_unsigned(vb, def->profile + 1);
		break;
	case T_MATCH:
		agg_prefix_format(def->family, &def->addr, def->plen, text, sizeof(text));
		mib_set_string(vb, text);
		break;
	case T_MATCH2:
		agg_prefix_format(def->family2, &def->addr2, def->plen2, text, sizeof(text));
		mib_set_string(vb, text);
		break;
	case T_METRIC: mib_set_integer(vb, def->metric + 1); break;
	case T_DIRECTION: mib_set_integer(vb, def->dir); break;
	case T_WINDOW: mib_set_unsigned(vb, def->window_s); break;
	case T_RISING: mib_set_unsigned(vb, def->rising); break;
	case T_FALLING: mib_set_unsigned(vb, def->falling); break;
	case T_NOTIFY_LIMIT: mib_set_unsigned(vb, def->notify_per_min); break;
	case T_ROW_LIMIT: mib_set_unsigned(vb, def->max_rows); break;
	case T_WATCHED: mib_set_gauge(vb, st.watched); break;
	case T_OVER: mib_set_gauge(vb, st.over); break;
	case T_RISING_EVENTS: mib_set_counter64(vb, st.rising); break;
	case T_FALLING_EVENTS: mib_set_counter64(vb, st.falling); break;
	case T_SUPPRESSED: mib_set_counter64(vb, st.suppressed); break;
	case T_REFUSED: mib_set_counter64(vb, st.refused); break;
	case T_PROTO: mib_set_integer(vb, def->proto); break;
	case T_PORT: mib_set_integer(vb, def->port); break;
	case T_STORAGE: mib_set_integer(vb, def->storage); break;
	case T_STATUS:
		mib_set_integer(vb, thresh_active_at(d->thresh, (size_t)i) ? RS_ACTIVE
				    : thresh_def_complete(def)		    ? RS_NOTINSERVICE
									    : RS_NOTREADY);
		break;
	default: return -1;
	}
	return 0;
}

/* ---- SET: creating, changing and removing thresholds ---- */

/* One varbind's column and row: 0, or the SNMP error. */
static int set_target(const struct mib_table *t, const netsnmp_variable_list *vb, unsigned *col,
		      uint32_t *index)
{
	size_t n = t->oidlen;

	if (vb->name_length != n + 3 || snmp_oid_compare(vb->name, n, t->oid, n) != 0 ||
	    vb->name[n] != 1 || vb->name[n + 1] < T_NAME || vb->name[n + 1] > T_MATCH2)
		return SNMP_ERR_NOCREATION;
	*col = (unsigned)vb->name[n + 1];
	if (*col >= T_WATCHED && *col <= T_REFUSED)
		return SNMP_ERR_NOTWRITABLE;
	if (vb->name[n + 2] < 1 || vb->name[n + 2] > THRESH_INDEX_MAX)
		return SNMP_ERR_NOCREATION;
	*index = (uint32_t)vb->name[n + 2];
	return 0;
}

/* "any" or ADDRESS[/LENGTH] from an SNMP string; 0 or -1. */
static int parse_match(const u_char *p, size_t len, uint8_t *family, union ct_addr *addr,
		       uint8_t *plen)
{
	char text[96];

	if (len >= sizeof(text))
		return -1;
	memcpy(text, p, len);
	text[len] = '\0';
	return agg_prefix_parse(text, family, addr, plen) == 0 ? 0 : -1;
}

static int int_in(const netsnmp_variable_list *vb, long lo, long hi)
{
	return *vb->val.integer >= lo && *vb->val.integer <= hi;
}

static int uint_in(const netsnmp_variable_list *vb, unsigned long lo, unsigned long hi)
{
	unsigned long v = *vb->val.integer;

	return v >= lo && v <= hi;
}

/* RESERVE1: the type, length and range of one value. */
static int check_value(unsigned col, const netsnmp_variable_list *vb)
{
	static const u_char type_of[T_MATCH2 + 1] = {
		[T_NAME] = ASN_OCTET_STR, [T_PROFILE] = ASN_UNSIGNED, [T_MATCH] = ASN_OCTET_STR,
		[T_METRIC] = ASN_INTEGER, [T_DIRECTION] = ASN_INTEGER, [T_WINDOW] = ASN_UNSIGNED,
		[T_RISING] = ASN_UNSIGNED, [T_FALLING] = ASN_UNSIGNED, [T_NOTIFY_LIMIT] = ASN_UNSIGNED,
		[T_ROW_LIMIT] = ASN_UNSIGNED, [T_PROTO] = ASN_INTEGER, [T_PORT] = ASN_INTEGER,
		[T_STORAGE] = ASN_INTEGER, [T_STATUS] = ASN_INTEGER, [T_MATCH2] = ASN_OCTET_STR,
	};
	struct thresh_def scratch;

	if (vb->type != type_of[col])
		return SNMP_ERR_WRONGTYPE;
	switch (col) {
	case T_NAME:
		return thresh_name_valid((const char *)vb->val.string, vb->val_len) ? 0
										 : SNMP_ERR_WRONGVALUE;
	case T_MATCH:
	case T_MATCH2:
		return parse_match(vb->val.string, vb->val_len, &scratch.family, &scratch.addr,
				   &scratch.plen) == 0 ? 0 : SNMP_ERR_WRONGVALUE;
	case T_PROFILE: return uint_in(vb, 1, 4096) ? 0 : SNMP_ERR_WRONGVALUE;
	case T_METRIC:
	case T_DIRECTION: return int_in(vb, 1, 3) ? 0 : SNMP_ERR_WRONGVALUE;
	case T_WINDOW: return uint_in(vb, 1, THRESH_WINDOW_MAX) ? 0 : SNMP_ERR_WRONGVALUE;
	case T_RISING: return uint_in(vb, 1, 0xffffffffUL) ? 0 : SNMP_ERR_WRONGVALUE;
	case T_FALLING: return 0;
	case T_NOTIFY_LIMIT: return uint_in(vb, 0, 100000) ? 0 : SNMP_ERR_WRONGVALUE;
	case T_ROW_LIMIT: return uint_in(vb, 1, THRESH_ROWS_MAX) ? 0 : SNMP_ERR_WRONGVALUE;
	case T_PROTO: return int_in(vb, -1, 255) ? 0 : SNMP_ERR_WRONGVALUE;
	case T_PORT: return int_in(vb, -1, 65535) ? 0 : SNMP_ERR_WRONGVALUE;
	case T_STORAGE:
		return *vb->val.integer == THRESH_VOLATILE || *vb->val.integer == THRESH_NONVOLATILE
			       ? 0 : SNMP_ERR_WRONGVALUE;
	default: /* T_STATUS: notReady is never set */
		return int_in(vb, RS_ACTIVE, RS_DESTROY) && *vb->val.integer != RS_NOTREADY
			       ? 0 : SNMP_ERR_WRONGVALUE;
	}
}

static void apply_value(unsigned col, const netsnmp_variable_list *vb, struct thresh_def *t)
{
	switch (col) {
	case T_NAME:
		memcpy(t->name, vb->val.string, vb->val_len);
		t->name[vb->val_len] = '\0';
		break;
	case T_MATCH: parse_match(vb->val.string, vb->val_len, &t->family, &t->addr, &t->plen); break;
	case T_MATCH2:
		parse_match(vb->val.string, vb->val_len, &t->family2, &t->addr2, &t->plen2);
		break;
	case T_PROFILE: t->profile = *vb->val.integer - 1; break;
	case T_METRIC: t->metric = (uint8_t)(*vb->val.integer - 1); break;
	case T_DIRECTION: t->dir = (uint8_t)*vb->val.integer; break;
	case T_WINDOW: t->window_s = (uint32_t)*vb->val.integer; break;
	case T_RISING: t->rising = (uint32_t)*vb->val.integer; break;
	case T_FALLING: t->falling = (uint32_t)*vb->val.integer; break;
	case T_NOTIFY_LIMIT: t->notify_per_min = (uint32_t)*vb->val.integer; break;
	case T_ROW_LIMIT: t->max_rows = (uint32_t)*vb->val.integer; break;
	case T_PROTO: t->proto = (int)*vb->val.integer; break;
	case T_PORT: t->port = (int)*vb->val.integer; break;
	case T_STORAGE: t->storage = (uint8_t)*vb->val.integer; break;
	default: break;
	}
}

/* Is the row right by the rules the configuration applies (alarm_def)? */
static int fits(const struct ctflowd *d, struct thresh_def *t)
{
	struct thresh_env env;
	const char *key;
	char why[256];

	conf_thresh_env(&d->conf, &env);
	return thresh_def_check(t, &env, &key, why, sizeof(why)) == 0;
}

/* Another row, before or after this SET, has the name: the state file would
 * hold the same [threshold NAME] twice. */
static int name_taken(const struct mib_thresh_set *x, const struct thresh_edit *e)
{
	const struct thresh_set *ts = x->d->thresh;

	for (size_t i = 0; i < thresh_count(ts); i++) {
		uint32_t index = thresh_index_at(ts, i);
		int edited = 0;

		for (size_t j = 0; j < x->n; j++)
			edited |= x->e[j].index == index;
		if (!edited && index != e->index && strcmp(thresh_get(ts, i)->name, e->after.name) == 0)
			return 1;
	}
	for (size_t j = 0; j < x->n; j++)
		if (&x->e[j] != e && x->e[j].exists && strcmp(x->e[j].after.name, e->after.name) == 0)
			return 1;
	return 0;
}

static struct thresh_edit *edit_for(struct mib_thresh_set *x, uint32_t index)
{
	const struct thresh_set *ts = x->d->thresh;
	size_t pos = thresh_pos(ts, index);
	struct thresh_edit *e;

	for (size_t i = 0; i < x->n; i++)
		if (x->e[i].index == index)
			return &x->e[i];
	if (x->n == MIB_THRESH_EDITS)
		return NULL;
	e = &x->e[x->n++];
	memset(e, 0, sizeof(*e));
	e->index = index;
	e->existed = thresh_index_at(ts, pos) == index;
	if (e->existed) {
		e->before = *thresh_get(ts, pos);
		e->before_active = thresh_active_at(ts, pos);
	} else {
		struct thresh_env env;

		conf_thresh_env(&x->d->conf, &env);
		thresh_def_init_snmp(&e->before, index, &env);
	}
	e->after = e->before;
	e->exists = e->existed;
	e->after_active = e->before_active;
	return e;
}

/* RESERVE2: what the PDU does to each row, and whether it may: by the same
 * rules as the configuration, so the state file never holds a row the next
 * start would refuse. */
static int plan_row(const struct mib_thresh_set *x, struct thresh_edit *e)
{
	const struct ctflowd *d = x->d;

	if (e->existed && e->before.storage == THRESH_READONLY)
		return SNMP_ERR_NOTWRITABLE; /* ctflowd.conf's */
	switch (e->status) {
	case 0:
		if (!e->existed)
			return SNMP_ERR_INCONSISTENTNAME; /* no such row, and not created */
		break;
	case RS_CREATEANDGO:
	case RS_CREATEANDWAIT:
		if (e->existed)
			return SNMP_ERR_INCONSISTENTVALUE;
		e->exists = 1;
		e->after_active = e->status == RS_CREATEANDGO;
		if (e->after_active && !thresh_def_complete(&e->after))
			return SNMP_ERR_INCONSISTENTVALUE;
		break;
	case RS_DESTROY:
		e->exists = 0;
		return 0;
	default: /* active, notInService */
		if (!e->existed)
			return SNMP_ERR_INCONSISTENTVALUE;
		if (!thresh_def_complete(&e->after))
			return SNMP_ERR_INCONSISTENTVALUE;
		e->after_active = e->status == RS_ACTIVE;
	}
	if (name_taken(x, e))
		return SNMP_ERR_INCONSISTENTVALUE;
	return fits(d, &e->after) ? 0 : SNMP_ERR_INCONSISTENTVALUE;
}

static void set_reserve(const struct mib_table *t, struct mib_thresh_set *x,
			netsnmp_agent_request_info *ri, netsnmp_request_info *reqs, int mode)
{
	for (netsnmp_request_info *r = reqs; r; r = r->next) {
		unsigned col = 0;
		uint32_t index = 0;
		int err = set_target(t, r->requestvb, &col, &index);

		if (!err && mode == MODE_SET_RESERVE1)
			err = check_value(col, r->requestvb);
		if (!err && mode == MODE_SET_RESERVE2) {
			struct thresh_edit *e = edit_for(x, index);

			if (!e) {
				err = SNMP_ERR_RESOURCEUNAVAILABLE;
			} else if (col == T_STATUS) {
				e->status = (int)*r->requestvb->val.integer;
			} else {
				apply_value(col, r->requestvb, &e->after);
			}
		}
		if (err) {
			netsnmp_set_request_error(ri, r, err);
			return;
		}
	}
	if (mode != MODE_SET_RESERVE2)
		return;
	size_t rows = thresh_count(x->d->thresh);

	for (size_t i = 0; i < x->n; i++) {
		int err = plan_row(x, &x->e[i]);

		rows += x->e[i].exists - x->e[i].existed;
		if (!err && rows > THRESH_MAX)
			err = SNMP_ERR_RESOURCEUNAVAILABLE;
		if (err) { /* on the row's first varbind */
			for (netsnmp_request_info *r = reqs; r; r = r->next)
				if (r->requestvb->name[r->requestvb->name_length - 1] == x->e[i].index) {
					netsnmp_set_request_error(ri, r, err);
					break;
				}
			return;
		}
	}
}

static int edit_apply(struct thresh_set *ts, uint32_t index, int exists,
		      const struct thresh_def *def, int active)
{
	if (!exists) {
		thresh_remove(ts, index);
		return 0;
	}
	return thresh_put(ts, index, def, active);
}

static void save_state(struct mib_thresh_set *x)
{
	int touched = 0;

	for (size_t i = 0; i < x->n; i++)
		touched |= x->e[i].before.storage == THRESH_NONVOLATILE ||
			   (x->e[i].exists && x->e[i].after.storage == THRESH_NONVOLATILE);
	if (!touched || !x->d->conf.state_file[0])
		return;
	if (state_write(x->d->conf.state_file, x->d->thresh, x->d->agg) < 0)
		log_warn("thresholds: writing %s", x->d->conf.state_file);
}

static void threshold_set(const struct mib_table *t, int mode, netsnmp_agent_request_info *ri,
			  netsnmp_request_info *reqs)
{
	struct mib_thresh_set *x = t->aux;
	struct thresh_set *ts = x->d->thresh;

	switch (mode) {
	case MODE_SET_RESERVE1:
		x->n = 0;
		/* FALLTHROUGH */
	case MODE_SET_RESERVE2:
		set_reserve(t, x, ri, reqs, mode);
		return;
	case MODE_SET_ACTION:
		for (size_t i = 0; i < x->n; i++) {
			struct thresh_edit *e = &x->e[i];

			if (edit_apply(ts, e->index, e->exists, &e->after, e->after_active) < 0) {
				netsnmp_set_request_error(ri, reqs, SNMP_ERR_RESOURCEUNAVAILABLE);
				return;
			}
			e->applied = 1;
		}
		return;
	case MODE_SET_UNDO:
		for (size_t i = x->n; i-- > 0;) {
			struct thresh_edit *e = &x->e[i];

			if (e->applied &&
			    edit_apply(ts, e->index, e->existed, &e->before, e->before_active) < 0)
				netsnmp_set_request_error(ri, reqs, SNMP_ERR_UNDOFAILED);
		}
		x->n = 0;
		return;
	case MODE_SET_COMMIT:
		save_state(x);
		x->n = 0;
		return;
	default: /* MODE_SET_FREE */
		x->n = 0;
	}
}

void mib_threshold_init(struct mib_table *t, struct mib_thresh_set *x, struct ctflowd *d,
			const oid *root, size_t len)
{
	static const oid sub[] = { 1, 5 };

	t->name = "ctflowThresholdTable";
	t->oidlen = mib_oid_join(t->oid, root, len, sub, 2);
	t->min_col = T_NAME;
	t->max_col = T_MATCH2;
	t->ctx = d;
	t->tree = &tree_threshold;
	t->value = threshold_value;
	memset(x, 0, sizeof(*x));
	x->d = d;
	t->aux = x;
	t->set = threshold_set;
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
	row->a = (uint32_t)ti;
	row->b = (uint32_t)pos;
	row->idx[0] = thresh_index_at(d->thresh, ti);
	row->idxlen = alarm_index(d, ti, &r.key, row->idx + 1) + 1;
	return row->idxlen > 1;
}

static int alarm_find(const struct mib_table *t, const oid *idx, size_t len, int next,
		      struct mib_row *row)
{
	const struct ctflowd *d = t->ctx;
	size_t n = thresh_count(d->thresh);

	if (!next) {
		long ti = len < 2 ? -1 : pos_of(d, idx[0]);

		if (ti < 0)
			return 0;
		size_t pos = alarm_bound(d, (size_t)ti, idx + 1, len - 1, 0);

		return alarm_fill(d, (size_t)ti, pos, row) && row->idxlen == len &&
		       subid_cmp(row->idx, row->idxlen, idx, len) == 0;
	}
	if (len && idx[0] > THRESH_INDEX_MAX)
		return 0;
	for (size_t ti = len ? thresh_pos(d->thresh, (uint32_t)idx[0]) : 0; ti < n; ti++) {
		/* within the requested threshold: strictly after the rest of the index */
		int same = len > 1 && thresh_index_at(d->thresh, ti) == idx[0];
		size_t pos = same ? alarm_bound(d, ti, idx + 1, len - 1, 1) : 0;

		if (alarm_fill(d, ti, pos, row))
			return 1;
	}
	return 0;
}

/* The row over the threshold at position row->a (alarm_find just found it). */
static int alarm_row_of(const struct ctflowd *d, const struct mib_row *row, struct alarm_row *r)
{
	return thresh_alarm_at(d->thresh, row->a, row->b, r);
}

static int alarm_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
		       netsnmp_variable_list *vb)
{
	const struct ctflowd *d = t->ctx;
	const struct thresh_def *def = thresh_get(d->thresh, row->a);
	struct alarm_row r;

	if (!def || !alarm_row_of(d, row, &r))
		return -1;
	const struct agg_profile *p = agg_set_profile(d->agg, def->profile);

	switch (col) {
	case AL_KEY: mib_set_key_text(vb, &p->spec, &r.key); break;
	case AL_SINCE: mib_set_datetime(vb, (time_t)r.since); break;
	case AL_RATE: mib_set_counter64(vb, r.rate); break;
	case AL_PEAK: mib_set_counter64(vb, r.peak); break;
	case AL_ROW:
		mib_agg_set_pointer(vb, t->oid, t->oidlen, p, (uint32_t)def->profile + 1, &r.key);
		break;
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
	long pos = pos_of(d, e->thresh);
	const struct thresh_def *def = pos < 0 ? NULL : thresh_get(d->thresh, (size_t)pos);
	oid idx[MIB_IDX_MAX + 1];
	char text[AGG_KEY_TEXT_MAX];
	uint64_t window = e->window_s;

	if (!def)
		return -1; /* removed since */
	idx[0] = e->thresh;
	size_t n = alarm_index(d, (size_t)pos, &e->key, idx + 1) + 1;

	agg_key_format(&agg_set_profile(d->agg, def->profile)->spec, &e->key, text, sizeof(text));
	add_var(vars, root, rootlen, name_col, 4, idx, 1, set_text, def->name);
	add_var(vars, root, rootlen, key_col, 4, idx, n, set_text, text);
	add_var(vars, root, rootlen, rate_col, 4, idx, n, set_c64, &e->rate);
	add_var(vars, root, rootlen, e->kind == ALARM_RISING ? rising_col : falling_col, 4, idx, 1,
		set_u32, &e->value);
	add_var(vars, root, rootlen, window_col, 4, idx, 1, set_u32, &window);
	return 0;
}
