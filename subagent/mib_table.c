/*
 * mib_table: raw net-snmp handlers.  The order of the GETNEXT tests follows
 * what net-snmp's own table helper does (and what our AgentX measurements
 * showed to be easy to get wrong): an OID before the table, at the table,
 * at the entry with no column, or at a column below the first readable one
 * starts at the first cell; the entry number above 1 or a column above the
 * last one ends the table (the agent then moves to the next registration).
 */
#include "mib_table.h"

#include <string.h>

size_t mib_oid_join(oid *out, const oid *root, size_t rootlen, const oid *suffix, size_t n)
{
	memcpy(out, root, rootlen * sizeof(oid));
	memcpy(out + rootlen, suffix, n * sizeof(oid));
	return rootlen + n;
}

/* <0: name sorts before every OID under root, 0: name is under (or is) root, >0: after. */
static int under(const oid *name, size_t len, const oid *root, size_t rootlen)
{
	size_t n = len < rootlen ? len : rootlen;

	for (size_t i = 0; i < n; i++)
		if (name[i] != root[i])
			return name[i] < root[i] ? -1 : 1;
	return len < rootlen ? -1 : 0;
}

static void answer_cell(const struct mib_table *t, netsnmp_variable_list *vb, unsigned col,
			const struct mib_row *row)
{
	oid name[MAX_OID_LEN];
	size_t n = t->oidlen;

	memcpy(name, t->oid, n * sizeof(oid));
	name[n++] = 1;
	name[n++] = col;
	memcpy(name + n, row->idx, row->idxlen * sizeof(oid));
	snmp_set_var_objid(vb, name, n + row->idxlen);
}

/* SNMP_ERR_NOERROR, or the exception to answer with. */
static int table_get(const struct mib_table *t, netsnmp_variable_list *vb)
{
	const oid *n = vb->name;
	size_t len = vb->name_length, tl = t->oidlen;
	struct mib_row row;

	if (under(n, len, t->oid, tl) != 0 || len < tl + 2 || n[tl] != 1 ||
	    n[tl + 1] < t->min_col || n[tl + 1] > t->max_col)
		return SNMP_NOSUCHOBJECT;
	if (len - tl - 2 > MIB_IDX_MAX ||
	    !t->find(t, n + tl + 2, len - tl - 2, 0, &row) ||
	    t->value(t, &row, (unsigned)n[tl + 1], vb) < 0)
		return SNMP_NOSUCHINSTANCE;
	return SNMP_ERR_NOERROR;
}

/* Find the next cell after vb's OID; 1 and vb rewritten, or 0 past the end. */
static int table_next(const struct mib_table *t, netsnmp_variable_list *vb)
{
	const oid *n = vb->name;
	size_t len = vb->name_length, tl = t->oidlen, idxlen = 0;
	const oid *idx = NULL;
	unsigned long col = t->min_col;
	struct mib_row row;
	int pos = under(n, len, t->oid, tl);

	if (pos > 0)
		return 0;
	if (pos == 0 && len > tl) {
		if (n[tl] > 1)
			return 0;
		if (n[tl] == 1 && len > tl + 1 && n[tl + 1] >= t->min_col) {
			if (n[tl + 1] > t->max_col)
				return 0;
			col = n[tl + 1];
			idx = n + tl + 2;
			idxlen = len - tl - 2;
		}
	}
	for (; col <= t->max_col; col++, idx = NULL, idxlen = 0) {
		int found = t->find(t, idx, idxlen, 1, &row);

		while (found) {
			if (t->value(t, &row, (unsigned)col, vb) == 0) {
				answer_cell(t, vb, (unsigned)col, &row);
				return 1;
			}
			struct mib_row prev = row;

			found = t->find(t, prev.idx, prev.idxlen, 1, &row);
		}
	}
	return 0;
}

/* ---- tables indexed by a tree of Unsigned32 levels ---- */

#define TREE_VALUE_MAX 0xffffffffUL

/* The first row whose level-lvl value is >= start, under out[0..lvl). */
static int tree_first(const struct mib_table *t, const struct mib_tree *tr, oid *out,
		      unsigned lvl, oid start)
{
	oid v;

	while (start <= TREE_VALUE_MAX && tr->ge(t, out, lvl, start, &v)) {
		out[lvl] = v;
		if (lvl + 1 == tr->depth || tree_first(t, tr, out, lvl + 1, 0))
			return 1;
		if (v >= TREE_VALUE_MAX)
			break;
		start = v + 1; /* an empty branch: try the next value */
	}
	return 0;
}

/* The first row after idx, given out[0..lvl) == idx[0..lvl). */
static int tree_after(const struct mib_table *t, const struct mib_tree *tr, const oid *idx,
		      size_t len, oid *out, unsigned lvl)
{
	oid v;

	if (len <= lvl) /* idx is a prefix: its first row follows it */
		return tree_first(t, tr, out, lvl, 0);
	/* at the last level the equal value is idx itself (or sorts before it) */
	if (lvl + 1 < tr->depth && idx[lvl] <= TREE_VALUE_MAX &&
	    tr->ge(t, out, lvl, idx[lvl], &v) && v == idx[lvl]) {
		out[lvl] = v;
		if (tree_after(t, tr, idx, len, out, lvl + 1))
			return 1;
	}
	return idx[lvl] < TREE_VALUE_MAX && tree_first(t, tr, out, lvl, idx[lvl] + 1);
}

int mib_tree_find(const struct mib_table *t, const struct mib_tree *tr, const oid *idx,
		  size_t len, int next, struct mib_row *row)
{
	oid v;

	row->a = row->b = 0;
	row->idxlen = tr->depth;
	if (next)
		return tree_after(t, tr, idx, len, row->idx, 0);
	if (len != tr->depth)
		return 0;
	for (unsigned lvl = 0; lvl < tr->depth; lvl++) {
		if (idx[lvl] > TREE_VALUE_MAX || !tr->ge(t, row->idx, lvl, idx[lvl], &v) ||
		    v != idx[lvl])
			return 0;
		row->idx[lvl] = v;
	}
	return 1;
}

/* The lock every request is served under (NULL: none, as in unit tests). */
static struct state_lock *served_lock;

void mib_serve_under(struct state_lock *l)
{
	served_lock = l;
}

static void serve_begin(void)
{
	if (served_lock)
		lock_enter(served_lock);
}

static void serve_end(void)
{
	if (served_lock)
		lock_leave(served_lock);
}

/*
 * past_end(): a GETNEXT past a table's or group's last object leaves the
 * varbind unanswered, and net-snmp's agent goes on to the next registered
 * subtree (of this process, or of the master through AgentX).  An explicit
 * endOfMibView would be taken as an answer by the GETBULK-to-GETNEXT
 * helper of a listening agent, which ends a bulk walk at the first table's
 * end; a subagent's agent turned it back into "unanswered" anyway.
 */

/*
 * GETBULK (a listening agent's; a master turns it into GETNEXTs before they
 * reach a subagent): the repetitions of one request are consecutive
 * varbinds (net-snmp interleaves them only for the response), so one call
 * answers as many of them as the table holds, with the lock taken once,
 * where net-snmp's GETBULK-to-GETNEXT helper would go through the whole
 * agent once per repetition.  What it leaves is what that helper leaves:
 * the request points at its last varbind, answered (no repetitions left) or
 * unanswered (past the table: see past_end()), with the repetitions still
 * to do, which the agent then asks of the next subtree.
 */
static void table_bulk(const struct mib_table *t, netsnmp_request_info *r)
{
	netsnmp_variable_list *vb = r->requestvb;

	while (table_next(t, vb) && r->repeat > 0 && vb->next_variable) {
		r->repeat--;
		snmp_set_var_objid(vb->next_variable, vb->name, vb->name_length);
		vb = vb->next_variable;
		vb->type = ASN_PRIV_RETRY;
		r->requestvb = vb;
	}
}

static void table_requests(const struct mib_table *t, netsnmp_agent_request_info *reqinfo,
			   netsnmp_request_info *requests)
{
	if (reqinfo->mode == MODE_GETBULK) {
		for (netsnmp_request_info *r = requests; r; r = r->next)
			if (!r->processed)
				table_bulk(t, r);
		return;
	}
	if (reqinfo->mode != MODE_GET && reqinfo->mode != MODE_GETNEXT) {
		if (t->set)
			t->set(t, reqinfo->mode, reqinfo, requests);
		else if (reqinfo->mode == MODE_SET_RESERVE1)
			for (netsnmp_request_info *r = requests; r; r = r->next)
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOTWRITABLE);
		return;
	}
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		if (r->processed)
			continue;
		if (reqinfo->mode == MODE_GET) {
			int err = table_get(t, r->requestvb);

			if (err != SNMP_ERR_NOERROR)
				netsnmp_set_request_error(reqinfo, r, err);
		} else if (reqinfo->mode == MODE_GETNEXT) {
			table_next(t, r->requestvb); /* past the end: see past_end() */
		}
	}
}

static int table_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reg,
			 netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	(void)reg;
	serve_begin();
	table_requests(handler->myvoid, reqinfo, requests);
	serve_end();
	return SNMP_ERR_NOERROR;
}

static int register_handler(const char *name, Netsnmp_Node_Handler *fn, void *arg,
			    const oid *o, size_t len, int writable, int priority, int bulk)
{
	netsnmp_handler_registration *reg = netsnmp_create_handler_registration(
		name, fn, o, len, (writable ? HANDLER_CAN_RWRITE : HANDLER_CAN_RONLY) | bulk);

	if (!reg)
		return -1;
	reg->handler->myvoid = arg;
	if (priority)
		reg->priority = priority;
	return netsnmp_register_handler(reg) == MIB_REGISTERED_OK ? 0 : -1;
}

static int tree_find(const struct mib_table *t, const oid *idx, size_t len, int next,
		     struct mib_row *row)
{
	return mib_tree_find(t, t->tree, idx, len, next, row);
}

int mib_table_register(struct mib_table *t)
{
	if (t->tree)
		t->find = tree_find;
	return register_handler(t->name, table_handler, t, t->oid, t->oidlen, t->set != NULL, 0,
				HANDLER_CAN_GETBULK);
}

/* ---- scalar groups: objects at group.N.0 ---- */

static int scalar_get(const struct mib_scalars *s, netsnmp_variable_list *vb)
{
	const oid *n = vb->name;
	size_t len = vb->name_length, gl = s->oidlen;

	if (under(n, len, s->oid, gl) != 0 || len < gl + 1 || n[gl] < 1 || n[gl] > s->max)
		return SNMP_NOSUCHOBJECT;
	if (len != gl + 2 || n[gl + 1] != 0)
		return SNMP_NOSUCHINSTANCE;
	return s->value(s->ctx, (unsigned)n[gl], vb) == 0 ? SNMP_ERR_NOERROR : SNMP_NOSUCHOBJECT;
}

static int scalar_next(const struct mib_scalars *s, netsnmp_variable_list *vb)
{
	const oid *n = vb->name;
	size_t len = vb->name_length, gl = s->oidlen;
	unsigned long k = 1;
	int pos = under(n, len, s->oid, gl);

	if (pos > 0)
		return 0;
	/* group.K sorts before group.K.0, anything longer after it.  Sub-ids can
	 * be any 64-bit value (AgentX sign-extends), so never add to one unchecked. */
	if (pos == 0 && len > gl) {
		if (n[gl] > s->max || (len > gl + 1 && n[gl] == s->max))
			return 0;
		k = len == gl + 1 ? (n[gl] ? n[gl] : 1) : n[gl] + 1;
	}
	for (; k <= s->max; k++) {
		if (s->value(s->ctx, (unsigned)k, vb) == 0) {
			oid name[MAX_OID_LEN];

			memcpy(name, s->oid, gl * sizeof(oid));
			name[gl] = k;
			name[gl + 1] = 0;
			snmp_set_var_objid(vb, name, gl + 2);
			return 1;
		}
	}
	return 0;
}

static int scalar_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reg,
			  netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	const struct mib_scalars *s = handler->myvoid;

	(void)reg;
	serve_begin();
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		if (r->processed)
			continue;
		if (reqinfo->mode == MODE_GET) {
			int err = scalar_get(s, r->requestvb);

			if (err != SNMP_ERR_NOERROR)
				netsnmp_set_request_error(reqinfo, r, err);
		} else if (reqinfo->mode == MODE_GETNEXT) {
			scalar_next(s, r->requestvb); /* past the end: see past_end() */
		}
	}
	serve_end();
	return SNMP_ERR_NOERROR;
}

int mib_scalars_register(struct mib_scalars *s)
{
	return register_handler(s->name, scalar_handler, s, s->oid, s->oidlen, 0, s->priority, 0);
}

/* ---- values ---- */

void mib_set_counter64(netsnmp_variable_list *vb, uint64_t v)
{
	/* each half carries 32 bits, even where u_long is 64 bits wide */
	struct counter64 c = { (u_long)(v >> 32), (u_long)(v & 0xffffffffu) };

	snmp_set_var_typed_value(vb, ASN_COUNTER64, &c, sizeof(c));
}

void mib_set_unsigned(netsnmp_variable_list *vb, uint64_t v)
{
	u_long x = v > 0xffffffffu ? 0xffffffffu : (u_long)v;

	snmp_set_var_typed_value(vb, ASN_UNSIGNED, &x, sizeof(x));
}

void mib_set_gauge(netsnmp_variable_list *vb, uint64_t v)
{
	u_long x = v > 0xffffffffu ? 0xffffffffu : (u_long)v;

	snmp_set_var_typed_value(vb, ASN_GAUGE, &x, sizeof(x));
}

void mib_set_timeticks(netsnmp_variable_list *vb, uint64_t hundredths)
{
	u_long x = (u_long)(hundredths & 0xffffffffu); /* TimeTicks wrap */

	snmp_set_var_typed_value(vb, ASN_TIMETICKS, &x, sizeof(x));
}

void mib_set_integer(netsnmp_variable_list *vb, long v)
{
	snmp_set_var_typed_value(vb, ASN_INTEGER, &v, sizeof(v));
}

void mib_set_octets(netsnmp_variable_list *vb, const void *p, size_t len)
{
	snmp_set_var_typed_value(vb, ASN_OCTET_STR, p, len);
}

void mib_set_string(netsnmp_variable_list *vb, const char *s)
{
	mib_set_octets(vb, s, strlen(s));
}

void mib_set_oid(netsnmp_variable_list *vb, const oid *o, size_t len)
{
	snmp_set_var_typed_value(vb, ASN_OBJECT_ID, o, len * sizeof(oid));
}

void mib_set_datetime(netsnmp_variable_list *vb, time_t t)
{
	unsigned char d[11] = { 0, 0, 1, 1, 0, 0, 0, 0, '+', 0, 0 };
	struct tm tm;

	if (t == 0 || !gmtime_r(&t, &tm)) {
		mib_set_octets(vb, d, 8);
		return;
	}
	d[0] = (unsigned char)((tm.tm_year + 1900) >> 8);
	d[1] = (unsigned char)(tm.tm_year + 1900);
	d[2] = (unsigned char)(tm.tm_mon + 1);
	d[3] = (unsigned char)tm.tm_mday;
	d[4] = (unsigned char)tm.tm_hour;
	d[5] = (unsigned char)tm.tm_min;
	d[6] = (unsigned char)(tm.tm_sec > 59 ? 59 : tm.tm_sec);
	mib_set_octets(vb, d, sizeof(d));
}
