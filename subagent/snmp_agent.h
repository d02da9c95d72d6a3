/*
 * snmp_agent: ctflowd as a net-snmp AgentX subagent, on a thread of its own.
 *
 * Every net-snmp call happens on that thread: it connects to the master
 * agent (snmpd), registers CTFLOW-MIB (and IPFIX-MIB once ctflowd exports),
 * serves requests and sends notifications.  It reads ctflowd's state only
 * through an out_view and only while it holds the state lock, which it
 * takes per request and lets go before it talks to snmpd again: a slow or
 * wedged snmpd (a synchronous AgentX ping, a full socket) holds up this
 * thread alone, never the reading of events.  net-snmp reconnects by
 * itself after the master restarts and registers everything again.
 *
 * With snmp = listen (or both) the same thread also answers SNMP itself on
 * the configured addresses (snmp_listen): the same handlers, plus the
 * system, snmp and engine groups a manager expects of a device.  This
 * header, unlike the snmp_/mib_ sources, includes nothing from net-snmp.
 */
#ifndef CTFLOWD_SNMP_AGENT_H
#define CTFLOWD_SNMP_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "alarm_notify.h"
#include "base_lock.h"
#include "out_view.h"
#include "snmp_creds.h"

enum snmp_mode { SNMP_OFF, SNMP_AGENTX, SNMP_LISTEN, SNMP_BOTH };

struct snmp_agent_cfg {
	int mode;                   /* enum snmp_mode, not SNMP_OFF */
	const char *socket;         /* AgentX master: a unix path or tcp:HOST:PORT */
	uint32_t ping_ms;           /* how often the master's session is checked */
	const uint32_t *root;       /* CTFLOW-MIB's root OID */
	size_t root_len;
	/* listening (the strings and creds must outlive the agent: ctflowd's
	 * configuration does) */
	const char *listen;         /* the addresses */
	const struct snmp_creds *creds;  /* (must outlive the agent) */
	const char *creds_path;
	const char *contact, *location;  /* sysContact, sysLocation */
};

struct snmp_agent;

/*
 * Registers the MIBs and starts the thread (which then connects); NULL on
 * failure (logged).  No master agent yet is not a failure.  The caller
 * holds `lock`, as the event loop does outside poll().
 */
struct snmp_agent *snmp_agent_start(const struct snmp_agent_cfg *cfg, const struct out_view *v,
				    struct notifier *nt, struct state_lock *lock);
/* From the event thread, holding the lock: notifications are held for it,
 * or a reload may have started IPFIX export (IPFIX-MIB is then served). */
void snmp_agent_wake(struct snmp_agent *sa);
/* Stops and joins the thread; the caller holds the lock (it is let go
 * while the thread finishes its last request).  -1 if the thread did not
 * end within seconds (blocked writing to an snmpd that does not read): it
 * may still use the state, so the caller must not free it. */
int snmp_agent_stop(struct snmp_agent *sa);

#endif
