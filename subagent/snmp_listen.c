/*
 * snmp_listen: net-snmp's agent sessions on our own transports.  An SNMP
 * message goes: transport -> net-snmp's message processing and USM (which
 * count unknown users, wrong digests, parse errors) -> handle_snmp_packet,
 * which asks the access callbacks below (ours, from snmp_creds) once per
 * request and once per object -> the same mib_* handlers AgentX requests
 * reach.  AgentX requests are marked always-in-view by net-snmp and never
 * come here.
 */
#include "snmp_listen.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/agent/agent_callbacks.h>
#include <net-snmp/agent/agent_trap.h>
#include <net-snmp/library/vacm.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "base_log.h"

#define ADDR_MAX 128

/* libnetsnmpagent's VACM check (its header is not installed) */
int vacm_in_view_callback(int major, int minor, void *server, void *client);

static struct snmp_listen_cfg listen_cfg;

/* ---- access ---- */

/* Where the request came from: the first member of net-snmp's UDP
 * transport data is the remote address (IPv4 and IPv6 alike). */
static void request_source(const netsnmp_pdu *pdu, struct creds_request *rq)
{
	const struct sockaddr *sa = pdu->transport_data;

	rq->family = 0;
	rq->addr = NULL;
	if (!sa || pdu->transport_data_length < (int)sizeof(struct sockaddr_in))
		return;
	if (sa->sa_family == AF_INET) {
		rq->family = 4;
		rq->addr = (const uint8_t *)&((const struct sockaddr_in *)pdu->transport_data)->sin_addr;
	} else if (sa->sa_family == AF_INET6 &&
		   pdu->transport_data_length >= (int)sizeof(struct sockaddr_in6)) {
		rq->family = 6;
		rq->addr =
			(const uint8_t *)&((const struct sockaddr_in6 *)pdu->transport_data)->sin6_addr;
	}
}

static int request_of(const netsnmp_pdu *pdu, struct creds_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	if (pdu->version == SNMP_VERSION_3) {
		if (pdu->securityModel != SNMP_SEC_MODEL_USM || !pdu->securityName)
			return -1;
		rq->v3 = 1;
		rq->name = pdu->securityName;
		rq->namelen = pdu->securityNameLen;
		rq->level = pdu->securityLevel;
	} else if (pdu->version == SNMP_VERSION_2c) {
		if (!pdu->community)
			return -1;
		rq->name = (const char *)pdu->community;
		rq->namelen = pdu->community_len;
	} else {
		return -1;
	}
	request_source(pdu, rq);
	rq->write = pdu->command == SNMP_MSG_SET;
	return 0;
}

/* The OID as snmp_creds reads it; -1 when a sub-id is beyond 32 bits
 * (no view names one, so it is in none). */
static int oid_of(const oid *name, size_t len, uint32_t *out, size_t *outlen)
{
	if (len > MAX_OID_LEN)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (name[i] > UINT32_MAX)
			return -1;
		out[i] = (uint32_t)name[i];
	}
	*outlen = len;
	return 0;
}

static int view_code(enum creds_verdict v)
{
	return v == CREDS_OK ? VACM_SUCCESS : v == CREDS_PARTLY ? VACM_SUBTREE_UNKNOWN
	     : VACM_NOTINVIEW;
}

/* The request as a whole: who, from where, at what level. */
static int initial_check(const netsnmp_pdu *pdu)
{
	struct creds_request rq;
	enum creds_verdict v;
	const struct creds_access *a;

	if (request_of(pdu, &rq) < 0) {
		/* SNMPv1 (no Counter64) or another security model */
		snmp_increment_statistic(pdu->version == SNMP_VERSION_1 ? STAT_SNMPINBADVERSIONS
					 : STAT_SNMPINBADCOMMUNITYNAMES);
		return VACM_NOSECNAME;
	}
	if (rq.v3 && pdu->contextNameLen)
		return VACM_NOSUCHCONTEXT;
	a = creds_match(listen_cfg.creds, &rq, &v);
	if (!a) {
		if (v == CREDS_BAD_NAME)
			snmp_increment_statistic(STAT_SNMPINBADCOMMUNITYNAMES);
		return v == CREDS_BAD_NAME ? VACM_NOSECNAME : VACM_NOACCESS;
	}
	if (rq.write && !a->write && !rq.v3)
		snmp_increment_statistic(STAT_SNMPINBADCOMMUNITYUSES);
	return VACM_SUCCESS;
}

/* One object (or a subtree of them). */
static int object_check(const netsnmp_pdu *pdu, const oid *name, size_t len, int subtree)
{
	uint32_t o[MAX_OID_LEN];
	size_t olen;
	struct creds_request rq;
	enum creds_verdict v;
	const struct creds_access *a;

	if (request_of(pdu, &rq) < 0 || !(a = creds_match(listen_cfg.creds, &rq, &v)))
		return VACM_NOSECNAME;
	if (rq.write && !a->write)
		return VACM_NOTINVIEW;
	if (!name || oid_of(name, len, o, &olen) < 0)
		return VACM_NOTINVIEW;
	return view_code(creds_in_view(listen_cfg.creds, a, o, olen, subtree, listen_cfg.served,
				       listen_cfg.nserved));
}

static int on_access(int major, int minor, void *server, void *client)
{
	struct view_parameters *vp = server;

	(void)major, (void)client;
	if (!vp || !vp->pdu)
		return 0;
	if (minor == SNMPD_CALLBACK_ACM_CHECK_INITIAL)
		vp->errorcode = initial_check(vp->pdu);
	else
		vp->errorcode = object_check(vp->pdu, vp->name, vp->namelen,
					     minor == SNMPD_CALLBACK_ACM_CHECK_SUBTREE);
	return 0;
}

static const int access_points[] = { SNMPD_CALLBACK_ACM_CHECK, SNMPD_CALLBACK_ACM_CHECK_INITIAL,
				     SNMPD_CALLBACK_ACM_CHECK_SUBTREE };

/* ---- the engine, users and sinks ---- */

size_t snmp_engine_id(uint8_t *out, const uint32_t *root, size_t rootlen, uint64_t state_created,
		      const char *host)
{
	uint32_t pen = 8072; /* net-snmp's, unless the root is under an enterprise */
	uint32_t h = 2166136261u;
	size_t n = 0;

	if (rootlen >= 7 && root[0] == 1 && root[1] == 3 && root[2] == 6 && root[3] == 1 &&
	    root[4] == 4 && root[5] == 1)
		pen = root[6];
	for (const char *p = host; p && *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	out[n++] = (uint8_t)(0x80 | ((pen >> 24) & 0x7f));
	out[n++] = (uint8_t)(pen >> 16);
	out[n++] = (uint8_t)(pen >> 8);
	out[n++] = (uint8_t)pen;
	out[n++] = 5; /* octets, administratively assigned */
	for (int i = 7; i >= 0; i--)
		out[n++] = (uint8_t)(state_created >> (8 * i));
	for (int i = 3; i >= 0; i--)
		out[n++] = (uint8_t)(h >> (8 * i));
	return n;
}

static int set_engine(const struct snmp_listen_cfg *cfg)
{
	char boots[16];

	if (set_exact_engineID(cfg->engine_id, cfg->engine_id_len) != SNMPERR_SUCCESS) {
		log_warnx("snmp: setting the SNMPv3 engine id failed");
		return -1;
	}
	/* net-snmp's own way in: the persistent file's "engineBoots N" line,
	 * which counts the start that reads it (N + 1) */
	snprintf(boots, sizeof(boots), "%lu", (unsigned long)((cfg->engine_boots & 0x7fffffff) - 1));
	engineBoots_conf("engineBoots", boots);
	/* USM accepts messages only for engines its time cache knows; net-snmp
	 * put the id it started with there, not this one */
	if (set_enginetime(cfg->engine_id, (u_int)cfg->engine_id_len,
			   (u_int)snmpv3_local_snmpEngineBoots(), (u_int)snmpv3_local_snmpEngineTime(),
			   TRUE) != SNMPERR_SUCCESS) {
		log_warnx("snmp: setting the SNMPv3 engine time failed");
		return -1;
	}
	return 0;
}

static void apply_words(const struct creds_line *l, char *buf);

/* net-snmp's errors while it reads a line (it says them, and goes on) */
static int on_apply_log(int major, int minor, void *server, void *client)
{
	const struct snmp_log_message *m = server;

	(void)major, (void)minor;
	if (m && m->priority <= LOG_ERR)
		(*(int *)client)++;
	return 0;
}

/* createUser and the sinks, as snmpd would read them: -1 if net-snmp
 * refused the line (its reasons are in the log just before). */
static int apply_line(const struct creds_line *l)
{
	char buf[CREDS_LINE_MAX];
	int errors = 0;

	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, on_apply_log, &errors);
	apply_words(l, buf);
	snmp_unregister_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, on_apply_log,
				 &errors, 1);
	return errors ? -1 : 0;
}

static void apply_words(const struct creds_line *l, char *buf)
{
	snprintf(buf, CREDS_LINE_MAX, "%s", l->rest);
	if (strcmp(l->token, "createUser") == 0)
		usm_parse_create_usmUser(l->token, buf);
	else if (strcmp(l->token, "trapsink") == 0)
		snmpd_parse_config_trapsink(l->token, buf);
	else if (strcmp(l->token, "trap2sink") == 0)
		snmpd_parse_config_trap2sink(l->token, buf);
	else if (strcmp(l->token, "informsink") == 0)
		snmpd_parse_config_informsink(l->token, buf);
	else if (strcmp(l->token, "trapsess") == 0)
		snmpd_parse_config_trapsess(l->token, buf);
}

static int user_exists(const struct creds_line *l)
{
	u_char id[SNMP_ENGINE_ID_MAX];
	size_t idlen = snmpv3_get_engineID(id, sizeof(id));
	char name[CREDS_NAME_MAX];
	const char *p = l->rest + 1;    /* the first word, quoted by snmp_creds */
	size_t n = strcspn(p, "\"");

	if (n >= sizeof(name))
		return 0;
	memcpy(name, p, n);
	name[n] = '\0';
	return usm_get_user(id, idlen, name) != NULL;
}

/* ---- transports ---- */

static int open_one(const char *addr)
{
	netsnmp_transport *t = netsnmp_transport_open_server("ctflowd", addr);

	if (!t) {
		log_warnx("snmp: cannot listen on %s (in use, not an address of this host, "
			  "or a port below 1024 without CAP_NET_BIND_SERVICE)", addr);
		return -1;
	}
	if (netsnmp_register_agent_nsap(t) < 0) {
		log_warnx("snmp: cannot serve on %s", addr);
		netsnmp_transport_free(t);
		return -1;
	}
	return 0;
}

static int open_all(const char *list)
{
	const char *p = list;

	while (*p) {
		char addr[ADDR_MAX];
		size_t n;

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (!n)
			break;
		if (n >= sizeof(addr)) {
			log_warnx("snmp: an snmp_listen address is too long");
			return -1;
		}
		memcpy(addr, p, n);
		addr[n] = '\0';
		if (open_one(addr) < 0)
			return -1;
		p += n;
	}
	return 0;
}

void snmp_listen_guard(const struct snmp_listen_cfg *cfg)
{
	listen_cfg = *cfg;
	/* net-snmp's own VACM (init_agent put it there) would answer too: with
	 * no configuration it refuses everything and counts every request as a
	 * bad community.  Ours decides alone. */
	for (size_t i = 0; i < sizeof(access_points) / sizeof(access_points[0]); i++)
		snmp_unregister_callback(SNMP_CALLBACK_APPLICATION, access_points[i],
					 vacm_in_view_callback, NULL, 0);
	for (size_t i = 0; i < sizeof(access_points) / sizeof(access_points[0]); i++)
		snmp_register_callback(SNMP_CALLBACK_APPLICATION, access_points[i], on_access, NULL);
}

int snmp_listen_open(const struct snmp_listen_cfg *cfg)
{
	if (set_engine(cfg) < 0)
		return -1;
	for (size_t i = 0; i < cfg->creds->nlines; i++) {
		const struct creds_line *l = &cfg->creds->lines[i];

		if (apply_line(l) < 0 ||
		    (strcmp(l->token, "createUser") == 0 && !user_exists(l))) {
			log_warnx("snmp: %s:%u: net-snmp refused the %s line", cfg->creds_path,
				  l->line, l->token);
			return -1;
		}
	}
	return open_all(cfg->addresses);
}

void snmp_listen_close(void)
{
	for (size_t i = 0; i < sizeof(access_points) / sizeof(access_points[0]); i++)
		snmp_unregister_callback(SNMP_CALLBACK_APPLICATION, access_points[i], on_access, NULL,
					 1);
}
