/*
 * mib_system: what a manager needs to find on a device that it polls
 * directly, served only when ctflowd listens itself (snmp_listen):
 * SNMPv2-MIB's system and snmp groups, SNMP-FRAMEWORK-MIB's snmpEngine,
 * SNMP-MPD-MIB's and SNMP-USER-BASED-SM-MIB's statistics.  The counters are
 * net-snmp's own, for the packets ctflowd's listener received.
 */
#ifndef CTFLOWD_MIB_SYSTEM_H
#define CTFLOWD_MIB_SYSTEM_H

#include "mib_table.h"

struct mib_system {
	struct mib_scalars system, snmp, engine, mpd, usm;
	oid object_id[MAX_OID_LEN];  /* sysObjectID */
	size_t object_id_len;
	char descr[256];
	char name[256];
	char contact[256];
	char location[256];
};

/*
 * root: CTFLOW-MIB's root (sysObjectID is its ctflowAgent, root.3).
 * priority: 0 normally; beside an AgentX master (snmp = both) the groups
 * are registered there too, and a larger number leaves the master's own.
 */
void mib_system_init(struct mib_system *m, const oid *root, size_t rootlen, const char *contact,
		     const char *location, int priority);
int mib_system_register(struct mib_system *m);

#endif
