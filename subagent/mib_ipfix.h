/*
 * mib_ipfix: the standard IPFIX-MIB (mib-2 193, RFC 6615) as an exporter
 * implements it (ipfixExporterCompliance with both statistics groups), and
 * IPFIX-SELECTOR-MIB's ipfixFuncSelectAllAvail (mib-2 194), served from the
 * exporter's live state.  Registered only when ctflowd exports IPFIX.
 *
 * What ctflowd is in the MIB's terms: one Metering Process cache (the
 * conntrack table, cache id 1) observed at one Observation Point (group 1,
 * point 1: the network namespace, no single interface), selecting every
 * packet (ipfixFuncSelectAll), exported in parallel to every configured
 * collector: one Transport Session per collector, indexed by its position in
 * the configuration so the index stays stable across restarts.
 */
#ifndef CTFLOWD_MIB_IPFIX_H
#define CTFLOWD_MIB_IPFIX_H

#include "mib_table.h"
#include "out_view.h"

enum {
	IPFIX_T_SESSION, IPFIX_T_TEMPLATE, IPFIX_T_TEMPLATE_DEF, IPFIX_T_EXPORT, IPFIX_T_METERING,
	IPFIX_T_OBS_POINT, IPFIX_T_SELECTION, IPFIX_T_SESSION_STATS, IPFIX_T_TEMPLATE_STATS,
	IPFIX_T_METERING_STATS, IPFIX_T_SELECTION_STATS, IPFIX_T_COUNT
};

struct mib_ipfix {
	struct mib_table t[IPFIX_T_COUNT];
	struct mib_scalars select_all;
	const struct out_view *v;
	/* monotonic time (ms) at which the master agent's sysUpTime was 0 */
	int64_t uptime_zero_ms;
	int have_uptime_zero;
};

void mib_ipfix_init(struct mib_ipfix *m, const struct out_view *v);
int mib_ipfix_register(struct mib_ipfix *m);

#endif
