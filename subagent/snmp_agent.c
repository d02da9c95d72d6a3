/*
 * snmp_agent: start-up in the order net-snmp needs (role before
 * init_agent, ping interval after it, registrations before init_snmp, which
 * connects), and the loop integration FRR and net-snmp's own
 * agent_check_and_process() use: poll net-snmp's fds and timeout with ours,
 * then snmp_read() or snmp_timeout(), run_alarms() (pings, reconnects) and
 * netsnmp_check_outstanding_agent_requests().
 *
 * net-snmp reads no configuration files of its own here: ctflowd.conf is
 * the one place ctflowd is configured, and nothing persistent is written.
 */
#include "snmp_agent.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/agent/agent_callbacks.h>

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/select.h>

#include "alarm_health.h"
#include "base_log.h"
#include "ctflowd.h"
#include "kern_ctsock.h"
#include "mib_ctflow.h"
#include "mib_ipfix.h"

#define HELD_MAX 256

/* A notification to send: a threshold alarm, or a health event. */
struct note {
	struct alarm_event alarm;
	struct health_event health; /* kind 0: it is the alarm */
};

struct snmp_agent {
	struct ctflowd *d;
	struct mib_scalars collector;
	struct mib_table profile, agg, top, threshold, alarm;
	struct mib_thresh_set threshold_set;
	struct mib_ipfix ipfix;
	int ipfix_registered;       /* IPFIX-MIB is served (once there is an exporter) */
	int timeout_armed;
	uint64_t timeout_due_ms;
	int connected;              /* to the master agent, as its callbacks say */
	struct note held[HELD_MAX]; /* raised, not yet sent */
	size_t held_head, held_count;
};

static void ext_prepare(void *arg, struct pollfd *pfd, int *n, int max, int *timeout_ms)
{
	struct snmp_agent *sa = arg;
	struct timeval tv = { 1L << 30, 0 };
	int numfds = 0, block = 0;
	fd_set fds;

	FD_ZERO(&fds);
	snmp_select_info(&numfds, &fds, &tv, &block);
	for (int fd = 0; fd < numfds && *n < max; fd++)
		if (FD_ISSET(fd, &fds))
			pfd[(*n)++] = (struct pollfd){ fd, POLLIN, 0 };
	sa->timeout_armed = !block;
	if (block)
		return;
	long ms = tv.tv_sec * 1000L + (tv.tv_usec + 999) / 1000;

	if (ms > 3600000)
		ms = 3600000;
	sa->timeout_due_ms = loop_now(sa->d->loop) + (uint64_t)ms;
	if (*timeout_ms < 0 || ms < *timeout_ms)
		*timeout_ms = (int)ms;
}

static void ext_dispatch(void *arg, const struct pollfd *pfd, int n)
{
	struct snmp_agent *sa = arg;
	fd_set fds;
	int any = 0;

	FD_ZERO(&fds);
	for (int i = 0; i < n; i++) {
		if (pfd[i].revents) {
			FD_SET(pfd[i].fd, &fds);
			any = 1;
		}
	}
	if (any)
		snmp_read(&fds);
	else if (sa->timeout_armed && loop_now(sa->d->loop) >= sa->timeout_due_ms)
		snmp_timeout();
	run_alarms();
	netsnmp_check_outstanding_agent_requests();
}

/*
 * net-snmp's messages go through ctflowd's log, so that they reach the same
 * place at a matching level.  One message is dropped: for every notification
 * net-snmp also prepares an SNMPv1 copy for v1 trap sinks, and says that
 * Counter64 varbinds cannot go into it.  A subagent has no trap sinks of its
 * own (the notification goes to the master over AgentX, whole), so the
 * remark is never something an operator can act on.
 */
static int on_netsnmp_log(int major, int minor, void *server, void *client)
{
	const struct snmp_log_message *m = server;
	size_t len;

	(void)major, (void)minor, (void)client;
	if (!m || !m->msg || strstr(m->msg, "v1 traps can't carry Counter64") ||
	    strstr(m->msg, "failed to convert v2->v1"))
		return 0;
	len = strlen(m->msg);
	while (len && m->msg[len - 1] == '\n')
		len--;
	if (m->priority <= LOG_ERR)
		log_msg(LOG_LVL_ERR, "snmp: %.*s", (int)len, m->msg);
	else if (m->priority <= LOG_WARNING)
		log_msg(LOG_LVL_WARN, "snmp: %.*s", (int)len, m->msg);
	else if (m->priority <= LOG_INFO)
		log_msg(LOG_LVL_INFO, "snmp: %.*s", (int)len, m->msg);
	else
		log_msg(LOG_LVL_DEBUG, "snmp: %.*s", (int)len, m->msg);
	return 0;
}

static void configure(const struct conf *c)
{
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET,
			      c->agentx_socket);
	/*
	 * A subagent resolves no names: it needs no MIB module loaded.  Without
	 * this, init_snmp() loads net-snmp's default list (it reads no snmp.conf
	 * here, so not even Debian's "mibs :" applies) and logs hundreds of
	 * "Cannot find module" lines on every start.  The MIBS environment
	 * variable is net-snmp's documented switch; an empty list loads none.
	 */
	setenv("MIBS", "", 1);
	snmp_disable_log();
	netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG);
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, on_netsnmp_log, NULL);
}

/* IPFIX-MIB, once ctflowd exports (at start, or after a reload added
 * collectors); it stays, with no sessions, if a reload removes them all. */
static int register_ipfix(struct snmp_agent *sa)
{
	if (!sa->d->ipfix || sa->ipfix_registered)
		return 0;
	mib_ipfix_init(&sa->ipfix, sa->d);
	if (mib_ipfix_register(&sa->ipfix) < 0)
		return -1;
	sa->ipfix_registered = 1;
	return 0;
}

static int register_all(struct snmp_agent *sa)
{
	oid root[MAX_OID_LEN];
	size_t len = sa->d->conf.snmp_root_len;

	for (size_t i = 0; i < len; i++)
		root[i] = sa->d->conf.snmp_root[i];
	mib_collector_init(&sa->collector, sa->d, root, len);
	mib_profile_init(&sa->profile, sa->d, root, len);
	mib_agg_init(&sa->agg, sa->d, root, len);
	mib_top_init(&sa->top, sa->d, root, len);
	mib_threshold_init(&sa->threshold, &sa->threshold_set, sa->d, root, len);
	mib_alarm_init(&sa->alarm, sa->d, root, len);
	if (mib_scalars_register(&sa->collector) < 0 || mib_table_register(&sa->profile) < 0 ||
	    mib_table_register(&sa->agg) < 0 || mib_table_register(&sa->top) < 0 ||
	    mib_table_register(&sa->threshold) < 0 || mib_table_register(&sa->alarm) < 0)
		return -1;
	return register_ipfix(sa);
}

void snmp_agent_reload(struct snmp_agent *sa)
{
	if (sa && register_ipfix(sa) < 0)
		log_warnx("snmp: registering IPFIX-MIB failed");
}

/* ---- notifications ---- */

/* The master agent's session came up or went away (net-snmp's subagent
 * calls these on every connection and disconnection). */
static int on_connect(int major, int minor, void *server, void *client)
{
	struct snmp_agent *sa = client;

	(void)major, (void)minor, (void)server;
	sa->connected = 1;
	return 0;
}

static int on_disconnect(int major, int minor, void *server, void *client)
{
	struct snmp_agent *sa = client;

	(void)major, (void)minor, (void)server;
	sa->connected = 0;
	return 0;
}

static void hold(struct snmp_agent *sa, const struct note *n)
{
	if (sa->held_count == HELD_MAX) { /* the oldest goes: the newest says more */
		sa->held_head = (sa->held_head + 1) % HELD_MAX;
		sa->held_count--;
		counters_w(sa->d)->notify_dropped++;
	}
	sa->held[(sa->held_head + sa->held_count++) % HELD_MAX] = *n;
}

static void add_scalar(struct snmp_agent *sa, netsnmp_variable_list **vars, unsigned n)
{
	oid name[MAX_OID_LEN];
	size_t len = sa->collector.oidlen;
	netsnmp_variable_list *vb;

	memcpy(name, sa->collector.oid, len * sizeof(oid));
	name[len++] = n;
	name[len++] = 0;
	vb = snmp_varlist_add_variable(vars, name, len, ASN_NULL, NULL, 0);
	if (vb)
		sa->collector.value(sa->collector.ctx, n, vb);
}

static void add_profile_col(struct snmp_agent *sa, netsnmp_variable_list **vars, uint32_t p,
			    unsigned col)
{
	oid name[MAX_OID_LEN];
	size_t len = sa->profile.oidlen;
	struct mib_row row = { p, 0, 1, { p } };
	netsnmp_variable_list *vb;

	memcpy(name, sa->profile.oid, len * sizeof(oid));
	name[len++] = 1;
	name[len++] = col;
	name[len++] = p;
	vb = snmp_varlist_add_variable(vars, name, len, ASN_NULL, NULL, 0);
	if (vb)
		sa->profile.value(&sa->profile, &row, col, vb);
}

/* Notification numbers under root.0 and the objects they carry (CTFLOW-MIB). */
enum { N_RISING = 1, N_FALLING, N_LOSS, N_ACCT_OFF, N_EVICTING };
enum { C_EVENTS_LOST = 5, C_OVERRUNS = 6, C_UNOBSERVED = 9, C_ACCOUNTING = 17 };
enum { P_NAME = 2, P_ROW_LIMIT = 6, P_EVICTIONS = 8 };

static int send_note(struct snmp_agent *sa, const struct note *n)
{
	static const oid trap_oid[] = { 1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0 };
	const struct conf *c = &sa->d->conf;
	oid root[MAX_OID_LEN] = { 0 }, which[MAX_OID_LEN];
	netsnmp_variable_list *vars = NULL;
	unsigned kind;

	for (size_t i = 0; i < c->snmp_root_len; i++)
		root[i] = c->snmp_root[i];
	kind = n->health.kind == HEALTH_LOSS ? N_LOSS
	     : n->health.kind == HEALTH_ACCT_OFF ? N_ACCT_OFF
	     : n->health.kind == HEALTH_EVICTING ? N_EVICTING
	     : n->alarm.kind == ALARM_RISING ? N_RISING : N_FALLING;
	memcpy(which, root, c->snmp_root_len * sizeof(oid));
	which[c->snmp_root_len] = 0;
	which[c->snmp_root_len + 1] = kind;
	snmp_varlist_add_variable(&vars, trap_oid, sizeof(trap_oid) / sizeof(trap_oid[0]),
				  ASN_OBJECT_ID, which, (c->snmp_root_len + 2) * sizeof(oid));
	switch (kind) {
	case N_LOSS:
		add_scalar(sa, &vars, C_EVENTS_LOST);
		add_scalar(sa, &vars, C_OVERRUNS);
		add_scalar(sa, &vars, C_UNOBSERVED);
		break;
	case N_ACCT_OFF:
		add_scalar(sa, &vars, C_ACCOUNTING);
		break;
	case N_EVICTING:
		add_profile_col(sa, &vars, n->health.profile + 1, P_NAME);
		add_profile_col(sa, &vars, n->health.profile + 1, P_EVICTIONS);
		add_profile_col(sa, &vars, n->health.profile + 1, P_ROW_LIMIT);
		break;
	default:
		if (mib_alarm_varbinds(sa->d, &n->alarm, root, c->snmp_root_len, &vars) < 0) {
			snmp_free_varbind(vars);
			return -1;
		}
	}
	send_v2trap(vars);
	snmp_free_varbind(vars);
	return 0;
}

/* What ctflowd's own health asks to notify. */
static void health_notes(struct snmp_agent *sa)
{
	struct ctflowd *d = sa->d;
	struct health_sample hs;
	struct health_event ev[8];
	struct ctsock_stats cs;
	struct track_stats ts;
	size_t n;

	memset(&hs, 0, sizeof(hs));
	ctsock_get_stats(d->cs, &cs);
	track_get_stats(d->track, &ts);
	hs.now = (uint32_t)time(NULL);
	hs.lost = cs.kernel_drops;
	hs.overruns = cs.overruns;
	hs.unobserved = ts.ended_unobserved;
	hs.acct = d->health.acct_on;
	hs.nprofiles = agg_set_count(d->agg);
	for (size_t i = 0; i < hs.nprofiles && i < HEALTH_PROFILES_MAX; i++) {
		struct agg_table_stats st;

		agg_table_get_stats(agg_set_profile(d->agg, i)->tab, &st);
		hs.evictions[i] = st.evictions;
	}
	n = health_check(&d->health_notes, &hs, ev, 8);
	for (size_t i = 0; i < n; i++) {
		struct note note;

		memset(&note, 0, sizeof(note));
		note.health = ev[i];
		hold(sa, &note);
	}
}

void snmp_agent_notify(struct snmp_agent *sa)
{
	struct alarm_event ev[64];
	size_t n;

	while ((n = thresh_take_events(sa->d->thresh, ev, 64)) > 0) {
		for (size_t i = 0; i < n; i++) {
			struct note note;

			memset(&note, 0, sizeof(note));
			note.alarm = ev[i];
			log_alarm(sa->d, &ev[i]);
			hold(sa, &note);
		}
	}
	health_notes(sa);
	/* while the master is away they wait (the library would drop them) */
	while (sa->connected && sa->held_count) {
		if (send_note(sa, &sa->held[sa->held_head]) == 0)
			counters_w(sa->d)->notify_sent++;
		sa->held_head = (sa->held_head + 1) % HELD_MAX;
		sa->held_count--;
	}
	sa->d->health.notify_held = sa->held_count;
}

/* net-snmp frees a callback's argument when it clears its callbacks at
 * shutdown; ours is the agent struct, freed by us, so they go first. */
static void unregister_callbacks(struct snmp_agent *sa)
{
	snmp_unregister_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START, on_connect,
				 sa, 1);
	snmp_unregister_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_STOP,
				 on_disconnect, sa, 1);
}

struct snmp_agent *snmp_agent_start(struct ctflowd *d)
{
	struct snmp_agent *sa = calloc(1, sizeof(*sa));

	if (!sa)
		return NULL;
	sa->d = d;
	configure(&d->conf);
	if (init_agent("ctflowd") != 0) {
		log_warnx("snmp: init_agent failed");
		free(sa);
		return NULL;
	}
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
			   (int)(d->conf.agentx_ping_ms / 1000));
	snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START, on_connect, sa);
	snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_STOP, on_disconnect,
			       sa);
	if (register_all(sa) < 0) {
		log_warnx("snmp: registering CTFLOW-MIB or IPFIX-MIB failed");
		unregister_callbacks(sa);
		snmp_shutdown("ctflowd");
		free(sa);
		return NULL;
	}
	init_snmp("ctflowd"); /* connects to the master, or retries every agentx_ping */
	const struct loop_ext ext = { ext_prepare, ext_dispatch, sa };

	loop_set_ext(d->loop, &ext);
	return sa;
}

void snmp_agent_stop(struct snmp_agent *sa)
{
	if (!sa)
		return;
	loop_set_ext(sa->d->loop, NULL);
	unregister_callbacks(sa);
	snmp_shutdown("ctflowd");
	free(sa);
}
