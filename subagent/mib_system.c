/*
 * mib_system: five scalar groups with net-snmp as the source of every
 * number; nothing here reads ctflowd's state.
 */
#include "mib_system.h"

#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base_version.h"

#define SERVICES 72  /* applications (64) + end-to-end (8), as snmpd says */
#define MAX_MSG 65507

static int system_value(const void *ctx, unsigned n, netsnmp_variable_list *vb)
{
	const struct mib_system *m = ctx;

	switch (n) {
	case 1: mib_set_string(vb, m->descr); break;
	case 2: mib_set_oid(vb, m->object_id, m->object_id_len); break;
	case 3: mib_set_timeticks(vb, netsnmp_get_agent_uptime()); break;
	case 4: mib_set_string(vb, m->contact); break;
	case 5: mib_set_string(vb, m->name); break;
	case 6: mib_set_string(vb, m->location); break;
	case 7: mib_set_integer(vb, SERVICES); break;
	case 8: mib_set_timeticks(vb, 0); break; /* sysORLastChange: no sysORTable */
	default: return -1;
	}
	return 0;
}

/* snmp group: snmpInPkts(1) .. snmpProxyDrops(32) are net-snmp's statistics
 * STAT_SNMPINPKTS + n - 1, with the two numbers the MIB left unused (7, 23)
 * and snmpEnableAuthenTraps (30), a setting, in between. */
static int snmp_value(const void *ctx, unsigned n, netsnmp_variable_list *vb)
{
	(void)ctx;
	if (n == 30) {
		mib_set_integer(vb, 2); /* disabled: no authenticationFailure traps */
		return 0;
	}
	if (n < 1 || n > 32 || n == 7 || n == 23)
		return -1;
	snmp_set_var_typed_integer(vb, ASN_COUNTER,
				   (long)(snmp_get_statistic((int)(STAT_SNMPINPKTS + n - 1)) &
					  0xffffffffu));
	return 0;
}

static int engine_value(const void *ctx, unsigned n, netsnmp_variable_list *vb)
{
	u_char id[SNMP_MAXBUF_SMALL];
	size_t len;

	(void)ctx;
	switch (n) {
	case 1:
		len = snmpv3_get_engineID(id, sizeof(id));
		mib_set_octets(vb, id, len);
		break;
	case 2: mib_set_integer(vb, (long)snmpv3_local_snmpEngineBoots()); break;
	case 3: mib_set_integer(vb, (long)snmpv3_local_snmpEngineTime()); break;
	case 4: mib_set_integer(vb, MAX_MSG); break;
	default: return -1;
	}
	return 0;
}

static int counter_from(unsigned n, unsigned max, int first, netsnmp_variable_list *vb)
{
	if (n < 1 || n > max)
		return -1;
	snmp_set_var_typed_integer(vb, ASN_COUNTER,
				   (long)(snmp_get_statistic(first + (int)n - 1) & 0xffffffffu));
	return 0;
}

static int mpd_value(const void *ctx, unsigned n, netsnmp_variable_list *vb)
{
	(void)ctx;
	return counter_from(n, 3, STAT_MPD_STATS_START, vb);
}

static int usm_value(const void *ctx, unsigned n, netsnmp_variable_list *vb)
{
	(void)ctx;
	return counter_from(n, 6, STAT_USM_STATS_START, vb);
}

static void group(struct mib_scalars *s, const char *name, const oid *o, size_t len, unsigned max,
		  const void *ctx, int (*value)(const void *, unsigned, netsnmp_variable_list *),
		  int priority)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	memcpy(s->oid, o, len * sizeof(oid));
	s->oidlen = len;
	s->max = max;
	s->ctx = ctx;
	s->value = value;
	s->priority = priority;
}

void mib_system_init(struct mib_system *m, const oid *root, size_t rootlen, const char *contact,
		     const char *location, int priority)
{
	static const oid sys[] = { 1, 3, 6, 1, 2, 1, 1 }, snmp[] = { 1, 3, 6, 1, 2, 1, 11 },
			 engine[] = { 1, 3, 6, 1, 6, 3, 10, 2, 1 },
			 mpd[] = { 1, 3, 6, 1, 6, 3, 11, 2, 1 },
			 usm[] = { 1, 3, 6, 1, 6, 3, 15, 1, 1 };
	static const oid agent = 3; /* ctflowAgent */
	struct utsname u;

	memset(m, 0, sizeof(*m));
	m->object_id_len = mib_oid_join(m->object_id, root, rootlen, &agent, 1);
	if (uname(&u) == 0)
		snprintf(m->descr, sizeof(m->descr), "ctflowd %s: connection-tracking flow "
			 "accounting (Linux %s %s)", CTFLOWD_VERSION, u.release, u.machine);
	else
		snprintf(m->descr, sizeof(m->descr), "ctflowd %s", CTFLOWD_VERSION);
	if (gethostname(m->name, sizeof(m->name) - 1) < 0)
		m->name[0] = '\0';
	snprintf(m->contact, sizeof(m->contact), "%s", contact);
	snprintf(m->location, sizeof(m->location), "%s", location);
	group(&m->system, "ctflowd-system", sys, 7, 8, m, system_value, priority);
	group(&m->snmp, "ctflowd-snmp", snmp, 7, 32, m, snmp_value, priority);
	group(&m->engine, "ctflowd-snmpEngine", engine, 9, 4, m, engine_value, priority);
	group(&m->mpd, "ctflowd-snmpMPDStats", mpd, 9, 3, m, mpd_value, priority);
	group(&m->usm, "ctflowd-usmStats", usm, 9, 6, m, usm_value, priority);
}

int mib_system_register(struct mib_system *m)
{
	return mib_scalars_register(&m->system) < 0 || mib_scalars_register(&m->snmp) < 0 ||
	       mib_scalars_register(&m->engine) < 0 || mib_scalars_register(&m->mpd) < 0 ||
	       mib_scalars_register(&m->usm) < 0 ? -1 : 0;
}
