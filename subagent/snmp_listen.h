/*
 * snmp_listen: ctflowd's own SNMP listener (snmp = listen or both), the
 * part of the SNMP thread that is not AgentX: net-snmp's agent sessions on
 * the configured transports, its USM users and trap sinks from the
 * credentials file, the SNMPv3 engine, and access control by snmp_creds'
 * decisions (net-snmp's VACM is not loaded; its access callbacks are ours).
 * Called only on the SNMP thread, between init_snmp() and shutdown.  This
 * header includes nothing from net-snmp.
 */
#ifndef CTFLOWD_SNMP_LISTEN_H
#define CTFLOWD_SNMP_LISTEN_H

#include <stddef.h>
#include <stdint.h>

#include "snmp_creds.h"

#define SNMP_ENGINE_ID_MAX 32

struct snmp_listen_cfg {
	const char *addresses;      /* "udp:127.0.0.1:1161, udp6:[::1]:1161" */
	const struct snmp_creds *creds;
	const char *creds_path;     /* (for errors) */
	const struct creds_oid *served;  /* what the listener answers for */
	size_t nserved;
	uint8_t engine_id[SNMP_ENGINE_ID_MAX];
	size_t engine_id_len;
	uint32_t engine_boots;
};

/* Before init_snmp(): access control in place (else net-snmp warns that
 * there is none), for every request from then on. */
void snmp_listen_guard(const struct snmp_listen_cfg *cfg);
/* After init_snmp(): 0, or -1 after logging what failed (an address that does not bind, a
 * credentials line net-snmp refused). */
int snmp_listen_open(const struct snmp_listen_cfg *cfg);
void snmp_listen_close(void);

/* The engine id ctflowd uses (RFC 3411 format 5, octets): the enterprise
 * of the MIB root, then the state's creation time and the host name's
 * hash, so it stays the same while the state does. */
size_t snmp_engine_id(uint8_t *out, const uint32_t *root, size_t rootlen, uint64_t state_created,
		      const char *host);

#endif
