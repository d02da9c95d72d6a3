/*
 * snmp_agent: ctflowd as a net-snmp AgentX subagent.
 *
 * Connects to the master agent (snmpd) over the configured AgentX socket,
 * registers CTFLOW-MIB's tables and serves them from the live aggregation
 * tables, inside ctflowd's own poll loop: every net-snmp call happens in
 * that one thread.  net-snmp reconnects by itself (agentx_ping) after the
 * master restarts and re-registers everything.  This header, unlike the
 * snmp_/mib_ sources, includes nothing from net-snmp.
 */
#ifndef CTFLOWD_SNMP_AGENT_H
#define CTFLOWD_SNMP_AGENT_H

struct ctflowd;
struct snmp_agent;

/* NULL on failure (logged).  No master agent yet is not a failure. */
struct snmp_agent *snmp_agent_start(struct ctflowd *d);
void snmp_agent_stop(struct snmp_agent *sa);
/* Once a second: send the notifications raised (threshold alarms, health),
 * or hold them while the master agent is away. */
void snmp_agent_notify(struct snmp_agent *sa);
/* After a configuration reload: serve what the new configuration adds. */
void snmp_agent_reload(struct snmp_agent *sa);

#endif
