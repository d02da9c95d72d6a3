/*
 * mib_table: hand-written GET/GETNEXT over an ordered view, the one piece of
 * SNMP logic every CTFLOW-MIB table shares.
 *
 * A table supplies find() (the row with exactly this index, or the first row
 * whose index is strictly greater) and value() (one column of one row); the
 * handler works out everything else from the request OID: before the table,
 * in it, past it, column bounds, malformed indexes.  Each step is one
 * O(log n) find, never a scan.  Scalar groups (x.N.0) get the same treatment.
 */
#ifndef CTFLOWD_MIB_TABLE_H
#define CTFLOWD_MIB_TABLE_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <stdint.h>
#include <time.h>

#include "base_lock.h"

#define MIB_IDX_MAX 48

struct mib_row {
	uint32_t a, b;  /* the table's own handles (profile number, row, rank...) */
	size_t idxlen;
	oid idx[MIB_IDX_MAX];
};

struct mib_tree;

struct mib_table {
	const char *name;
	oid oid[MAX_OID_LEN];  /* the table: rows are at oid.1.column.index */
	size_t oidlen;
	unsigned min_col, max_col;
	const void *ctx;
	/* next = 0: the row whose index is exactly idx; next = 1: the first row
	 * whose index is strictly greater.  Returns 1 and fills row, or 0. */
	int (*find)(const struct mib_table *t, const oid *idx, size_t len, int next,
		    struct mib_row *row);
	/* Set vb's value for this column; -1 if the row has none. */
	int (*value)(const struct mib_table *t, const struct mib_row *row, unsigned col,
		     netsnmp_variable_list *vb);
	/* Instead of find: an index tree (below) that mib_tree_find() walks. */
	const struct mib_tree *tree;
	/* Writable tables: one call per SET phase (MODE_SET_RESERVE1 ... UNDO)
	 * with all of the PDU's varbinds for this table; errors are set on the
	 * requests.  aux is the table's own state across the phases. */
	void (*set)(const struct mib_table *t, int mode, netsnmp_agent_request_info *ri,
		    netsnmp_request_info *reqs);
	void *aux;
};

struct mib_scalars {
	const char *name;
	oid oid[MAX_OID_LEN];  /* the group: scalars are at oid.N.0 */
	size_t oidlen;
	unsigned max;
	const void *ctx;
	int (*value)(const void *ctx, unsigned n, netsnmp_variable_list *vb);
	int priority;  /* 0: net-snmp's default (127); larger gives way to others */
};

/*
 * A table whose index is a fixed number of Unsigned32 sub-identifiers, each
 * one level of a tree (session, domain, template, field...).  The table says,
 * per level, which value comes first at or after `start` under a prefix;
 * mib_tree_find() answers find() from that, one lookup per level and an
 * empty branch skipped, never a walk over the rows.
 */
struct mib_tree {
	unsigned depth;  /* sub-ids in the index, <= MIB_IDX_MAX */
	/* 1 and *out: the smallest value >= start at level lvl under prefix[0..lvl); or 0 */
	int (*ge)(const struct mib_table *t, const oid *prefix, unsigned lvl, oid start, oid *out);
};

int mib_tree_find(const struct mib_table *t, const struct mib_tree *tr, const oid *idx,
		  size_t len, int next, struct mib_row *row);

/* Every request is served holding l (lock_enter), and only while it is
 * served: answers go to the master after it is let go. */
void mib_serve_under(struct state_lock *l);

/* The structs must outlive the registration. */
int mib_table_register(struct mib_table *t);
int mib_scalars_register(struct mib_scalars *s);

/* OID helpers: root + suffix. */
size_t mib_oid_join(oid *out, const oid *root, size_t rootlen, const oid *suffix, size_t n);

/* Typed values. */
void mib_set_counter64(netsnmp_variable_list *vb, uint64_t v);
void mib_set_unsigned(netsnmp_variable_list *vb, uint64_t v);  /* Unsigned32, saturating */
void mib_set_gauge(netsnmp_variable_list *vb, uint64_t v);     /* Gauge32, saturating */
void mib_set_integer(netsnmp_variable_list *vb, long v);
void mib_set_octets(netsnmp_variable_list *vb, const void *p, size_t len);
void mib_set_string(netsnmp_variable_list *vb, const char *s);
void mib_set_timeticks(netsnmp_variable_list *vb, uint64_t hundredths);
void mib_set_oid(netsnmp_variable_list *vb, const oid *o, size_t len);
/* DateAndTime in UTC; 0 gives '0000010100000000'H ("never"). */
void mib_set_datetime(netsnmp_variable_list *vb, time_t t);

#endif
