/*
 * mib_threshold: ctflowThresholdTable (root.1.5), read and written.
 *
 * A SET goes through net-snmp's phases: RESERVE1 checks each value's type
 * and range, RESERVE2 works out what the PDU does to each row and checks the
 * result by the rules the configuration applies (alarm_def), ACTION applies
 * it (UNDO reverts), COMMIT writes the state file when a nonVolatile row
 * changed.  So a row the next start would refuse is never written.
 */
#include "mib_ctflow.h"

#include <stdlib.h>
#include <string.h>

static struct thresh_set *thresholds(const struct out_view *v)
{
	return v->thresholds(v->arg);
}

long mib_threshold_pos(const struct thresh_set *ts, oid index)
{
	size_t pos;

	if (index < 1 || index > THRESH_INDEX_MAX)
		return -1;
	pos = thresh_pos(ts, (uint32_t)index);
	return thresh_index_at(ts, pos) == index ? (long)pos : -1;
}

static int ge_threshold(const struct mib_table *t, const oid *prefix, unsigned lvl, oid start,
			oid *out)
{
	const struct thresh_set *ts = thresholds(t->ctx);
	size_t pos;

	(void)prefix;
	(void)lvl;
	if (start > THRESH_INDEX_MAX)
		return 0;
	pos = thresh_pos(ts, (uint32_t)start);
	if (pos >= thresh_count(ts))
		return 0;
	*out = thresh_index_at(ts, pos);
	return 1;
}

static const struct mib_tree tree_threshold = { 1, ge_threshold };

int mib_threshold_value(const struct out_view *v, size_t i, unsigned col,
			netsnmp_variable_list *vb)
{
	const struct thresh_set *ts = thresholds(v);
	const struct thresh_def *def = thresh_get(ts, i);
	struct thresh_stats st;
	char text[96];

	if (!def)
		return -1;
	thresh_get_stats(ts, i, &st);
	switch (col) {
	case THR_NAME: mib_set_string(vb, def->name); break;
	case THR_PROFILE:
		if (def->profile == THRESH_PROFILE_UNSET)
			return -1; /* notReady: not set yet */
		mib_set_unsigned(vb, def->profile + 1);
		break;
	case THR_MATCH:
		agg_prefix_format(def->family, &def->addr, def->plen, text, sizeof(text));
		mib_set_string(vb, text);
		break;
	case THR_MATCH2:
		agg_prefix_format(def->family2, &def->addr2, def->plen2, text, sizeof(text));
		mib_set_string(vb, text);
		break;
	case THR_METRIC: mib_set_integer(vb, def->metric + 1); break;
	case THR_DIRECTION: mib_set_integer(vb, def->dir); break;
	case THR_WINDOW: mib_set_unsigned(vb, def->window_s); break;
	case THR_RISING: mib_set_unsigned(vb, def->rising); break;
	case THR_FALLING: mib_set_unsigned(vb, def->falling); break;
	case THR_NOTIFY_LIMIT: mib_set_unsigned(vb, def->notify_per_min); break;
	case THR_ROW_LIMIT: mib_set_unsigned(vb, def->max_rows); break;
	case THR_WATCHED: mib_set_gauge(vb, st.watched); break;
	case THR_OVER: mib_set_gauge(vb, st.over); break;
	case THR_RISING_EVENTS: mib_set_counter64(vb, st.rising); break;
	case THR_FALLING_EVENTS: mib_set_counter64(vb, st.falling); break;
	case THR_SUPPRESSED: mib_set_counter64(vb, st.suppressed); break;
	case THR_REFUSED: mib_set_counter64(vb, st.refused); break;
	case THR_PROTO: mib_set_integer(vb, def->proto); break;
	case THR_PORT: mib_set_integer(vb, def->port); break;
	case THR_STORAGE: mib_set_integer(vb, def->storage); break;
	case THR_PERIOD: mib_set_unsigned(vb, def->period); break;
	case THR_STATUS:
		mib_set_integer(vb, thresh_active_at(ts, i) ? RS_ACTIVE
				    : thresh_def_complete(def)		    ? RS_NOTINSERVICE
									    : RS_NOTREADY);
		break;
	default: return -1;
	}
	return 0;
}

static int threshold_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
			   netsnmp_variable_list *vb)
{
	long i = mib_threshold_pos(thresholds(t->ctx), row->idx[0]);

	return i < 0 ? -1 : mib_threshold_value(t->ctx, (size_t)i, col, vb);
}

/* ---- SET: creating, changing and removing thresholds ---- */

/* One varbind's column and row: 0, or the SNMP error. */
static int set_target(const struct mib_table *t, const netsnmp_variable_list *vb, unsigned *col,
		      uint32_t *index)
{
	size_t n = t->oidlen;

	if (vb->name_length != n + 3 || snmp_oid_compare(vb->name, n, t->oid, n) != 0 ||
	    vb->name[n] != 1 || vb->name[n + 1] < THR_NAME || vb->name[n + 1] > THR_PERIOD)
		return SNMP_ERR_NOCREATION;
	*col = (unsigned)vb->name[n + 1];
	if (*col >= THR_WATCHED && *col <= THR_REFUSED)
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
static int check_value(const struct out_view *v, unsigned col, const netsnmp_variable_list *vb)
{
	static const u_char type_of[THR_PERIOD + 1] = {
		[THR_NAME] = ASN_OCTET_STR, [THR_PROFILE] = ASN_UNSIGNED, [THR_MATCH] = ASN_OCTET_STR,
		[THR_METRIC] = ASN_INTEGER, [THR_DIRECTION] = ASN_INTEGER, [THR_WINDOW] = ASN_UNSIGNED,
		[THR_RISING] = ASN_UNSIGNED, [THR_FALLING] = ASN_UNSIGNED, [THR_NOTIFY_LIMIT] = ASN_UNSIGNED,
		[THR_ROW_LIMIT] = ASN_UNSIGNED, [THR_PROTO] = ASN_INTEGER, [THR_PORT] = ASN_INTEGER,
		[THR_STORAGE] = ASN_INTEGER, [THR_STATUS] = ASN_INTEGER, [THR_MATCH2] = ASN_OCTET_STR,
		[THR_PERIOD] = ASN_UNSIGNED,
	};
	struct thresh_def scratch;
	struct thresh_env env;

	if (vb->type != type_of[col])
		return SNMP_ERR_WRONGTYPE;
	switch (col) {
	case THR_NAME:
		return thresh_name_valid((const char *)vb->val.string, vb->val_len) ? 0
										 : SNMP_ERR_WRONGVALUE;
	case THR_MATCH:
	case THR_MATCH2:
		return parse_match(vb->val.string, vb->val_len, &scratch.family, &scratch.addr,
				   &scratch.plen) == 0 ? 0 : SNMP_ERR_WRONGVALUE;
	case THR_PROFILE: return uint_in(vb, 1, 4096) ? 0 : SNMP_ERR_WRONGVALUE;
	case THR_METRIC:
	case THR_DIRECTION: return int_in(vb, 1, 3) ? 0 : SNMP_ERR_WRONGVALUE;
	case THR_WINDOW: return uint_in(vb, 1, THRESH_WINDOW_MAX) ? 0 : SNMP_ERR_WRONGVALUE;
	case THR_RISING: return uint_in(vb, 1, 0xffffffffUL) ? 0 : SNMP_ERR_WRONGVALUE;
	case THR_FALLING: return 0;
	case THR_NOTIFY_LIMIT: return uint_in(vb, 0, 100000) ? 0 : SNMP_ERR_WRONGVALUE;
	case THR_ROW_LIMIT: /* never more than the budget of all thresholds */
		v->thresh_env(v->arg, &env);
		return uint_in(vb, 1, thresh_rows_limit(&env)) ? 0 : SNMP_ERR_WRONGVALUE;
	case THR_PROTO: return int_in(vb, -1, 255) ? 0 : SNMP_ERR_WRONGVALUE;
	case THR_PORT: return int_in(vb, -1, 65535) ? 0 : SNMP_ERR_WRONGVALUE;
	case THR_PERIOD: return uint_in(vb, 0, USAGE_KINDS_MAX) ? 0 : SNMP_ERR_WRONGVALUE;
	case THR_STORAGE:
		return *vb->val.integer == THRESH_VOLATILE || *vb->val.integer == THRESH_NONVOLATILE
			       ? 0 : SNMP_ERR_WRONGVALUE;
	default: /* THR_STATUS: notReady is never set */
		return int_in(vb, RS_ACTIVE, RS_DESTROY) && *vb->val.integer != RS_NOTREADY
			       ? 0 : SNMP_ERR_WRONGVALUE;
	}
}

static void apply_value(unsigned col, const netsnmp_variable_list *vb, struct thresh_def *t)
{
	switch (col) {
	case THR_NAME:
		memcpy(t->name, vb->val.string, vb->val_len);
		t->name[vb->val_len] = '\0';
		break;
	case THR_MATCH: parse_match(vb->val.string, vb->val_len, &t->family, &t->addr, &t->plen); break;
	case THR_MATCH2:
		parse_match(vb->val.string, vb->val_len, &t->family2, &t->addr2, &t->plen2);
		break;
	case THR_PROFILE: t->profile = *vb->val.integer - 1; break;
	case THR_METRIC: t->metric = (uint8_t)(*vb->val.integer - 1); break;
	case THR_DIRECTION: t->dir = (uint8_t)*vb->val.integer; break;
	case THR_WINDOW: t->window_s = (uint32_t)*vb->val.integer; break;
	case THR_RISING: t->rising = (uint32_t)*vb->val.integer; break;
	case THR_FALLING: t->falling = (uint32_t)*vb->val.integer; break;
	case THR_NOTIFY_LIMIT: t->notify_per_min = (uint32_t)*vb->val.integer; break;
	case THR_ROW_LIMIT: t->max_rows = (uint32_t)*vb->val.integer; break;
	case THR_PROTO: t->proto = (int)*vb->val.integer; break;
	case THR_PORT: t->port = (int)*vb->val.integer; break;
	case THR_STORAGE: t->storage = (uint8_t)*vb->val.integer; break;
	case THR_PERIOD: t->period = (uint8_t)*vb->val.integer; break;
	default: break;
	}
}

/* Is the row right by the rules the configuration applies (alarm_def)? */
static int fits(const struct out_view *v, struct thresh_def *t)
{
	struct thresh_env env;
	const char *key;
	char why[256];

	v->thresh_env(v->arg, &env);
	return thresh_def_check(t, &env, &key, why, sizeof(why)) == 0;
}

/* Another row, before or after this SET, has the name: the state file would
 * hold the same [threshold NAME] twice. */
static int name_taken(const struct mib_thresh_set *x, const struct thresh_edit *e)
{
	const struct thresh_set *ts = thresholds(x->v);

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
	const struct thresh_set *ts = thresholds(x->v);
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

		x->v->thresh_env(x->v->arg, &env);
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
	return fits(x->v, &e->after) ? 0 : SNMP_ERR_INCONSISTENTVALUE;
}

static void set_reserve(const struct mib_table *t, struct mib_thresh_set *x,
			netsnmp_agent_request_info *ri, netsnmp_request_info *reqs, int mode)
{
	for (netsnmp_request_info *r = reqs; r; r = r->next) {
		unsigned col = 0;
		uint32_t index = 0;
		int err = set_target(t, r->requestvb, &col, &index);

		if (!err && mode == MODE_SET_RESERVE1)
			err = check_value(x->v, col, r->requestvb);
		if (!err && mode == MODE_SET_RESERVE2) {
			struct thresh_edit *e = edit_for(x, index);

			if (!e) {
				err = SNMP_ERR_RESOURCEUNAVAILABLE;
			} else if (col == THR_STATUS) {
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
	size_t rows = thresh_count(thresholds(x->v));

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
	if (touched)
		x->v->thresholds_saved(x->v->arg);
}

/*
 * ACTION comes in a PDU of its own (AgentX), and the loop may have run in
 * between: a reload may have removed the profile or added a threshold of
 * the same name.  So each row is checked again before it is applied.
 */
static int still_fits(struct mib_thresh_set *x, struct thresh_edit *e)
{
	return !e->exists || (!name_taken(x, e) && fits(x->v, &e->after));
}

static void threshold_set(const struct mib_table *t, int mode, netsnmp_agent_request_info *ri,
			  netsnmp_request_info *reqs)
{
	struct mib_thresh_set *x = t->aux;
	struct thresh_set *ts = thresholds(x->v);

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

			if (!still_fits(x, e)) {
				netsnmp_set_request_error(ri, reqs, SNMP_ERR_COMMITFAILED);
				return;
			}
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

void mib_threshold_init(struct mib_table *t, struct mib_thresh_set *x, const struct out_view *v,
			const oid *root, size_t len)
{
	static const oid sub[] = { 1, CTFLOW_THRESHOLD_TABLE };

	t->name = "ctflowThresholdTable";
	t->oidlen = mib_oid_join(t->oid, root, len, sub, 2);
	t->min_col = THR_NAME;
	t->max_col = THR_PERIOD;
	t->ctx = v;
	t->tree = &tree_threshold;
	t->value = threshold_value;
	memset(x, 0, sizeof(*x));
	x->v = v;
	t->aux = x;
	t->set = threshold_set;
}

