/*
 * mib_ipfix: IPFIX-MIB tables over the exporter's state.  Every table is an
 * index tree (mib_tree): sessions are the configured collectors, the domain
 * level has the one observation domain, templates are those a session has
 * announced and still holds (ipfix_exporter_template), fields are a
 * template's field specifiers in wire order.  Values are read at each request.
 *
 * SMI types on the wire (RFC 6615 and the ipfix-mib digest): enumerations
 * and InetAddressType as INTEGER, InetAddress as 4 or 16 binary octets,
 * BITS as one octet (bit 0 is 0x80), TimeStamp as TimeTicks of the master
 * agent's sysUpTime (net-snmp's subagent keeps its uptime in step with the
 * master at every AgentX response), DateAndTime as 11 octets in UTC.
 */
#include "mib_ipfix.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base_clock.h"
#include "ipfix_export.h"

#define CACHE_ID 1          /* the conntrack table */
#define OBS_GROUP 1
#define OBS_POINT 1
#define SELECTION_PROCESS 1
#define SELECTOR 1
#define EXPORT_INDEX 1      /* every session exports the same records */

enum { PROTO_TCP = 6, PROTO_UDP = 17 };
enum { ADDR_IPV4 = 1, ADDR_IPV6 = 2 };
enum { MODE_EXPORTING = 1 };
enum { STATUS_INACTIVE = 1, STATUS_ACTIVE = 2 };
enum { MEMBER_PRIMARY = 1, MEMBER_PARALLEL = 3 };
enum { DIRECTION_BOTH = 3 };
enum { TRUTH_TRUE = 1 };
enum { BIT_SCOPE = 0x80, BIT_FLOW_KEY = 0x40 };

/* The columns (RFC 6615), by table */
enum {
	SESS_PROTOCOL = 2, SESS_SRC_ADDR_TYPE, SESS_SRC_ADDR, SESS_DST_ADDR_TYPE, SESS_DST_ADDR,
	SESS_SRC_PORT, SESS_DST_PORT, SESS_SCTP_ASSOC, SESS_DEVICE_MODE, SESS_TEMPLATE_REFRESH,
	SESS_OPTIONS_REFRESH, SESS_TEMPLATE_REFRESH_PKT, SESS_OPTIONS_REFRESH_PKT, SESS_VERSION,
	SESS_STATUS,
};
enum {
	SSTAT_RATE = 1, SSTAT_PACKETS, SSTAT_BYTES, SSTAT_MESSAGES, SSTAT_DISCARDED, SSTAT_RECORDS,
	SSTAT_TEMPLATES, SSTAT_OPTIONS_TEMPLATES, SSTAT_DISCONTINUITY,
};
enum { TMPL_SET_ID = 3, TMPL_ACCESS_TIME };
enum { TSTAT_DATA_RECORDS = 1, TSTAT_DISCONTINUITY };
enum { TDEF_IE_ID = 2, TDEF_IE_LENGTH, TDEF_ENTERPRISE, TDEF_FLAGS };
enum { EXP_MEMBER_TYPE = 2 };
enum { METER_OBS_GROUP = 2, METER_ACTIVE_TIMEOUT, METER_IDLE_TIMEOUT };
enum { MSTAT_ACTIVE_FLOWS = 1, MSTAT_UNUSED_ENTRIES, MSTAT_DATA_RECORDS, MSTAT_DISCONTINUITY };
enum { OBS_DOMAIN = 3, OBS_PHYS_ENTITY, OBS_PHYS_INTERFACE, OBS_DIRECTION };
enum { SEL_FUNCTION = 3 };
enum { SELSTAT_OBSERVED = 1, SELSTAT_NOT_SELECTED, SELSTAT_DISCONTINUITY };

static const oid ipfix_main[] = { 1, 3, 6, 1, 2, 1, 193, 1, 1 };
static const oid ipfix_stats[] = { 1, 3, 6, 1, 2, 1, 193, 1, 2 };
static const oid select_all[] = { 1, 3, 6, 1, 2, 1, 194, 1, 1, 1 };

static const struct out_view *view(const struct mib_table *t)
{
	const struct mib_ipfix *m = t->ctx;

	return m->v;
}

/* NULL once a reload removed every collector: the tables stay registered,
 * and the exporter's getters answer for none (no sessions, zero counts). */
static struct ipfix_exporter *exporter(const struct mib_table *t)
{
	return view(t)->exporter(view(t)->arg);
}

static size_t sessions(const struct mib_table *t)
{
	return ipfix_exporter_sessions(exporter(t));
}

static uint32_t domain(const struct mib_table *t)
{
	return ipfix_exporter_domain(exporter(t));
}

/*
 * TimeStamp: the master's sysUpTime at loop time at_ms; 0 if that was
 * before the master started.  The master's start, in loop time, is kept
 * while it holds to within a second: worked out afresh at each request, it
 * would wobble by a tick with the resyncs of the subagent's uptime, and a
 * TimeStamp must not change between two polls.  A master restart moves it.
 */
static u_long timestamp(const struct mib_table *t, uint64_t at_ms)
{
	struct mib_ipfix *m = t->aux;
	int64_t zero = (int64_t)clock_mono_ms() - (int64_t)netsnmp_get_agent_uptime() * 10;

	if (!m->have_uptime_zero || llabs(zero - m->uptime_zero_ms) > 1000) {
		m->uptime_zero_ms = zero;
		m->have_uptime_zero = 1;
	}
	int64_t ts = ((int64_t)at_ms - m->uptime_zero_ms) / 10;

	return ts > 0 ? (u_long)ts : 0;
}

static void set_timeticks(netsnmp_variable_list *vb, u_long v)
{
	snmp_set_var_typed_value(vb, ASN_TIMETICKS, &v, sizeof(v));
}

/* ---- index levels ---- */

/* The one value v, if start allows it. */
static int ge_one(oid start, oid v, oid *out)
{
	if (start > v)
		return 0;
	*out = v;
	return 1;
}

/* 1..n */
static int ge_range(oid start, size_t n, oid *out)
{
	if (n == 0 || start > n)
		return 0;
	*out = start ? start : 1;
	return 1;
}

static int template_at_or_after(const struct mib_table *t, oid session, oid tid,
				struct ipfix_template_row *row)
{
	if (session < 1 || session > sessions(t) || tid > 0xffff)
		return 0;
	return ipfix_exporter_template(exporter(t), session - 1, (uint32_t)tid, row);
}

/* The template row prefix[0], prefix[1], prefix[2] names exactly. */
static int template_exact(const struct mib_table *t, const oid *idx,
			  struct ipfix_template_row *row)
{
	return idx[1] == domain(t) && template_at_or_after(t, idx[0], idx[2], row) &&
	       row->t->id == idx[2];
}

/* session, domain, template id[, field] */
static int ge_template(const struct mib_table *t, const oid *prefix, unsigned lvl, oid start,
		       oid *out)
{
	struct ipfix_template_row row;

	switch (lvl) {
	case 0: return ge_range(start, sessions(t), out);
	case 1: return ge_one(start, domain(t), out);
	case 2:
		if (!template_at_or_after(t, prefix[0], start, &row))
			return 0;
		*out = row.t->id;
		return 1;
	default:
		if (!template_exact(t, prefix, &row))
			return 0;
		return ge_range(start, row.t->nfields, out);
	}
}

static int ge_session(const struct mib_table *t, const oid *prefix, unsigned lvl, oid start,
		      oid *out)
{
	(void)prefix;
	(void)lvl;
	return ge_range(start, sessions(t), out);
}

/* export index, cache id, session */
static int ge_export(const struct mib_table *t, const oid *prefix, unsigned lvl, oid start,
		     oid *out)
{
	(void)prefix;
	switch (lvl) {
	case 0: return ge_one(start, EXPORT_INDEX, out);
	case 1: return ge_one(start, CACHE_ID, out);
	default: return ge_range(start, sessions(t), out);
	}
}

static int ge_cache(const struct mib_table *t, const oid *prefix, unsigned lvl, oid start,
		    oid *out)
{
	(void)t;
	(void)prefix;
	(void)lvl;
	return ge_one(start, CACHE_ID, out);
}

static int ge_obs_point(const struct mib_table *t, const oid *prefix, unsigned lvl, oid start,
			oid *out)
{
	(void)t;
	(void)prefix;
	return ge_one(start, lvl == 0 ? OBS_GROUP : OBS_POINT, out);
}

/* cache id, selection process, selector */
static int ge_selection(const struct mib_table *t, const oid *prefix, unsigned lvl, oid start,
			oid *out)
{
	(void)t;
	(void)prefix;
	return ge_one(start, lvl == 0 ? CACHE_ID : lvl == 1 ? SELECTION_PROCESS : SELECTOR, out);
}

static const struct mib_tree tree_session = { 1, ge_session };
static const struct mib_tree tree_template = { 3, ge_template };
static const struct mib_tree tree_template_def = { 4, ge_template };
static const struct mib_tree tree_export = { 3, ge_export };
static const struct mib_tree tree_cache = { 1, ge_cache };
static const struct mib_tree tree_obs_point = { 2, ge_obs_point };
static const struct mib_tree tree_selection = { 3, ge_selection };

/* ---- ipfixTransportSessionTable and its statistics ---- */

static void set_inet(netsnmp_variable_list *vb, int family, const uint8_t *addr, int type)
{
	if (type)
		mib_set_integer(vb, family == AF_INET6 ? ADDR_IPV6 : ADDR_IPV4);
	else
		mib_set_octets(vb, addr, family == AF_INET6 ? 16 : 4);
}

static int session_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
			 netsnmp_variable_list *vb)
{
	const struct ipfix_exporter *x = exporter(t);
	size_t i = row->idx[0] - 1;
	const struct ipfix_collector_cfg *c = ipfix_exporter_collector(x, i);
	struct ipfix_session_info in;
	struct ipfix_session_stats st;
	/* template refresh is a UDP matter; the MIB wants 0 for TCP */
	uint32_t refresh_s = c->tcp ? 0 : c->template_refresh_ms / 1000;

	ipfix_exporter_session_info(x, i, &in);
	ipfix_exporter_stats(x, i, &st);
	switch (col) {
	case SESS_PROTOCOL: mib_set_unsigned(vb, c->tcp ? PROTO_TCP : PROTO_UDP); break;
	case SESS_SRC_ADDR_TYPE: set_inet(vb, in.family, in.local, 1); break;
	case SESS_SRC_ADDR: set_inet(vb, in.family, in.local, 0); break;
	case SESS_DST_ADDR_TYPE: set_inet(vb, in.family, in.remote, 1); break;
	case SESS_DST_ADDR: set_inet(vb, in.family, in.remote, 0); break;
	case SESS_SRC_PORT: mib_set_unsigned(vb, in.local_port); break;
	case SESS_DST_PORT: mib_set_unsigned(vb, in.remote_port); break;
	case SESS_SCTP_ASSOC: mib_set_unsigned(vb, 0); break; /* no SCTP */
	case SESS_DEVICE_MODE: mib_set_integer(vb, MODE_EXPORTING); break;
	case SESS_TEMPLATE_REFRESH: /* options templates are refreshed with the others */
	case SESS_OPTIONS_REFRESH: mib_set_unsigned(vb, refresh_s); break;
	case SESS_TEMPLATE_REFRESH_PKT: /* never by message count */
	case SESS_OPTIONS_REFRESH_PKT: mib_set_unsigned(vb, 0); break;
	case SESS_VERSION: mib_set_unsigned(vb, IPFIX_VERSION); break;
	case SESS_STATUS: mib_set_integer(vb, st.state == IPFIX_UP ? STATUS_ACTIVE : STATUS_INACTIVE); break;
	default: return -1;
	}
	return 0;
}

static int session_stats_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
			       netsnmp_variable_list *vb)
{
	struct ipfix_session_stats st;
	struct ipfix_metering m;

	ipfix_exporter_stats(exporter(t), row->idx[0] - 1, &st);
	switch (col) {
	case SSTAT_RATE: mib_set_gauge(vb, st.rate); break;
	case SSTAT_PACKETS: mib_set_counter64(vb, st.packets); break;
	case SSTAT_BYTES: mib_set_counter64(vb, st.octets); break;
	case SSTAT_MESSAGES: mib_set_counter64(vb, st.messages); break;
	case SSTAT_DISCARDED: mib_set_counter64(vb, st.discarded_messages); break;
	case SSTAT_RECORDS: mib_set_counter64(vb, st.data_records); break;
	case SSTAT_TEMPLATES: mib_set_counter64(vb, st.templates); break;
	case SSTAT_OPTIONS_TEMPLATES: mib_set_counter64(vb, st.opt_templates); break;
	case SSTAT_DISCONTINUITY: /* the counters run from the exporter's start, across reconnections */
		ipfix_exporter_metering(exporter(t), &m);
		set_timeticks(vb, timestamp(t, m.start_ms));
		break;
	default: return -1;
	}
	return 0;
}

/* ---- templates ---- */

static int template_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
			  netsnmp_variable_list *vb)
{
	struct ipfix_template_row tr;

	if (!template_exact(t, row->idx, &tr))
		return -1;
	switch (col) {
	case TMPL_SET_ID:
		mib_set_unsigned(vb, tr.t->scope ? IPFIX_SET_OPTIONS_TEMPLATE : IPFIX_SET_TEMPLATE);
		break;
	case TMPL_ACCESS_TIME: mib_set_datetime(vb, (time_t)(tr.sent_ms / 1000)); break;
	default: return -1;
	}
	return 0;
}

static int template_stats_value(const struct mib_table *t, const struct mib_row *row,
				unsigned col, netsnmp_variable_list *vb)
{
	struct ipfix_template_row tr;

	if (!template_exact(t, row->idx, &tr))
		return -1;
	switch (col) {
	case TSTAT_DATA_RECORDS: mib_set_counter64(vb, tr.records); break;
	case TSTAT_DISCONTINUITY: set_timeticks(vb, timestamp(t, tr.since_ms)); break; /* the row began at 0 */
	default: return -1;
	}
	return 0;
}

static int template_def_value(const struct mib_table *t, const struct mib_row *row,
			      unsigned col, netsnmp_variable_list *vb)
{
	struct ipfix_template_row tr;
	unsigned char flags;

	if (!template_exact(t, row->idx, &tr) || row->idx[3] < 1 || row->idx[3] > tr.t->nfields)
		return -1;
	size_t k = row->idx[3] - 1;
	const struct ipfix_field *f = &tr.t->f[k];

	switch (col) {
	case TDEF_IE_ID: mib_set_unsigned(vb, f->ie); break;
	case TDEF_IE_LENGTH: mib_set_unsigned(vb, f->len); break;
	case TDEF_ENTERPRISE: mib_set_unsigned(vb, f->pen); break;
	case TDEF_FLAGS:
		flags = k < tr.t->scope ? BIT_SCOPE : f->key ? BIT_FLOW_KEY : 0;
		mib_set_octets(vb, &flags, 1);
		break;
	default: return -1;
	}
	return 0;
}

/* ---- the export, the cache, where it looks, what it selects ---- */

static int export_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
			netsnmp_variable_list *vb)
{
	(void)row;
	if (col != EXP_MEMBER_TYPE)
		return -1;
	/* one collector: primary; several: each gets every record, in parallel */
	mib_set_integer(vb, sessions(t) > 1 ? MEMBER_PARALLEL : MEMBER_PRIMARY);
	return 0;
}

static int metering_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
			  netsnmp_variable_list *vb)
{
	struct collector_view c;

	(void)row;
	view(t)->collector(view(t)->arg, &c);
	switch (col) {
	case METER_OBS_GROUP: mib_set_unsigned(vb, OBS_GROUP); break;
	/* a long-lived flow is reported at every dump: the active timeout */
	case METER_ACTIVE_TIMEOUT: mib_set_unsigned(vb, c.dump_interval_ms / 1000); break;
	/* the kernel expires entries; its timeout for protocols without their own */
	case METER_IDLE_TIMEOUT: mib_set_unsigned(vb, c.idle_timeout > 0 ? c.idle_timeout : 0); break;
	default: return -1;
	}
	return 0;
}

static int metering_stats_value(const struct mib_table *t, const struct mib_row *row,
				unsigned col, netsnmp_variable_list *vb)
{
	struct collector_view c;
	const struct track_stats *ts = &c.track;
	struct ipfix_metering m;

	(void)row;
	view(t)->collector(view(t)->arg, &c);
	ipfix_exporter_metering(exporter(t), &m);
	switch (col) {
	case MSTAT_ACTIVE_FLOWS: mib_set_gauge(vb, ts->tracked); break;
	case MSTAT_UNUSED_ENTRIES:
		mib_set_gauge(vb, ts->limit > ts->tracked ? ts->limit - ts->tracked : 0);
		break;
	case MSTAT_DATA_RECORDS: mib_set_counter64(vb, m.records); break;
	case MSTAT_DISCONTINUITY: set_timeticks(vb, timestamp(t, m.start_ms)); break;
	default: return -1;
	}
	return 0;
}

static int obs_point_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
			   netsnmp_variable_list *vb)
{
	(void)row;
	switch (col) {
	case OBS_DOMAIN: mib_set_unsigned(vb, domain(t)); break;
	case OBS_PHYS_ENTITY: /* conntrack knows no interface or physical entity */
	case OBS_PHYS_INTERFACE: mib_set_integer(vb, 0); break;
	case OBS_DIRECTION: mib_set_integer(vb, DIRECTION_BOTH); break;
	default: return -1;
	}
	return 0;
}

static int selection_value(const struct mib_table *t, const struct mib_row *row, unsigned col,
			   netsnmp_variable_list *vb)
{
	(void)t;
	(void)row;
	if (col != SEL_FUNCTION)
		return -1;
	mib_set_oid(vb, select_all, sizeof(select_all) / sizeof(select_all[0]));
	return 0;
}

static int selection_stats_value(const struct mib_table *t, const struct mib_row *row,
				 unsigned col, netsnmp_variable_list *vb)
{
	struct ipfix_metering m;

	(void)row;
	ipfix_exporter_metering(exporter(t), &m);
	switch (col) {
	case SELSTAT_OBSERVED: mib_set_counter64(vb, m.packets); break;
	case SELSTAT_NOT_SELECTED: mib_set_counter64(vb, 0); break; /* select-all drops nothing */
	case SELSTAT_DISCONTINUITY: set_timeticks(vb, timestamp(t, m.start_ms)); break;
	default: return -1;
	}
	return 0;
}

static int select_all_value(const void *arg, unsigned n, netsnmp_variable_list *vb)
{
	(void)arg;
	if (n != 1)
		return -1;
	mib_set_integer(vb, TRUTH_TRUE);
	return 0;
}

/* ---- set-up ---- */

struct table_def {
	const char *name;
	const oid *base;   /* ipfixMainObjects or ipfixStatistics */
	oid sub;
	unsigned min_col, max_col;
	const struct mib_tree *tree;
	int (*value)(const struct mib_table *, const struct mib_row *, unsigned,
		     netsnmp_variable_list *);
};

static const struct table_def tables[IPFIX_T_COUNT] = {
	[IPFIX_T_SESSION] = { "ipfixTransportSessionTable", ipfix_main, 1, 2, 16, &tree_session,
			      session_value },
	[IPFIX_T_TEMPLATE] = { "ipfixTemplateTable", ipfix_main, 2, 3, 4, &tree_template,
			       template_value },
	[IPFIX_T_TEMPLATE_DEF] = { "ipfixTemplateDefinitionTable", ipfix_main, 3, 2, 5,
				   &tree_template_def, template_def_value },
	[IPFIX_T_EXPORT] = { "ipfixExportTable", ipfix_main, 4, 2, 2, &tree_export,
			     export_value },
	[IPFIX_T_METERING] = { "ipfixMeteringProcessTable", ipfix_main, 5, 2, 4, &tree_cache,
			       metering_value },
	[IPFIX_T_OBS_POINT] = { "ipfixObservationPointTable", ipfix_main, 6, 3, 6,
				&tree_obs_point, obs_point_value },
	[IPFIX_T_SELECTION] = { "ipfixSelectionProcessTable", ipfix_main, 7, 3, 3,
				&tree_selection, selection_value },
	[IPFIX_T_SESSION_STATS] = { "ipfixTransportSessionStatsTable", ipfix_stats, 1, 1, 9,
				    &tree_session, session_stats_value },
	[IPFIX_T_TEMPLATE_STATS] = { "ipfixTemplateStatsTable", ipfix_stats, 2, 1, 2,
				     &tree_template, template_stats_value },
	[IPFIX_T_METERING_STATS] = { "ipfixMeteringProcessStatsTable", ipfix_stats, 3, 1, 4,
				     &tree_cache, metering_stats_value },
	[IPFIX_T_SELECTION_STATS] = { "ipfixSelectionProcessStatsTable", ipfix_stats, 4, 1, 3,
				      &tree_selection, selection_stats_value },
};

void mib_ipfix_init(struct mib_ipfix *m, const struct out_view *v)
{
	const size_t base_len = sizeof(ipfix_main) / sizeof(ipfix_main[0]);

	m->v = v;
	m->have_uptime_zero = 0;

	for (size_t i = 0; i < IPFIX_T_COUNT; i++) {
		const struct table_def *def = &tables[i];
		struct mib_table *t = &m->t[i];

		memset(t, 0, sizeof(*t));
		t->name = def->name;
		t->oidlen = mib_oid_join(t->oid, def->base, base_len, &def->sub, 1);
		t->min_col = def->min_col;
		t->max_col = def->max_col;
		t->ctx = m;
		t->aux = m;
		t->tree = def->tree;
		t->value = def->value;
	}
	memset(&m->select_all, 0, sizeof(m->select_all));
	m->select_all.name = "ipfixFuncSelectAll";
	const size_t n = sizeof(select_all) / sizeof(select_all[0]);

	m->select_all.oidlen = mib_oid_join(m->select_all.oid, select_all, n - 1, &select_all[n - 1], 1);
	m->select_all.max = 1;
	m->select_all.value = select_all_value;
}

int mib_ipfix_register(struct mib_ipfix *m)
{
	for (size_t i = 0; i < IPFIX_T_COUNT; i++)
		if (mib_table_register(&m->t[i]) < 0)
			return -1;
	return mib_scalars_register(&m->select_all);
}
