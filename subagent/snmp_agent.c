/*
 * snmp_agent: start-up in the order net-snmp needs (role before
 * init_agent, ping interval after it, registrations before init_snmp, which
 * connects), then the loop net-snmp's own agent_check_and_process() runs:
 * select() on net-snmp's fds and an eventfd the event thread wakes us with,
 * then snmp_read() or snmp_timeout(), run_alarms() (pings, reconnects) and
 * netsnmp_check_outstanding_agent_requests().  The request handlers
 * (mib_table) take the state lock themselves.
 *
 * net-snmp reads no configuration files of its own here: ctflowd.conf (and
 * the credentials file it names) is the one place ctflowd is configured, and
 * nothing persistent is written: the SNMPv3 engine's boots are ctflowd's
 * starts on its state.
 *
 * net-snmp's role is one per process: a subagent (agentx, both) or a master
 * without AgentX (listen).  Listening as a subagent works because an agent
 * session may be added to any agent; what the subagent registers also goes
 * to the master, so the groups only the listener needs are registered with
 * a priority that leaves the master's own in place.
 */
#include "snmp_agent.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/agent/agent_callbacks.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "base_log.h"
#include "mib_ctflow.h"
#include "mib_ipfix.h"
#include "mib_notify.h"
#include "mib_system.h"
#include "snmp_listen.h"

#define SEND_BATCH 32     /* notifications built per hold of the lock */
#define WAIT_MAX_S 1      /* the longest select(): the stop flag is seen by then */
#define STOP_WAIT_S 5     /* at exit, the longest wait for the thread */
#define PRIORITY_BESIDE 255  /* the listener's own groups beside a master's */
#define MAX_SERVED 8

struct snmp_agent {
	struct snmp_agent_cfg cfg;
	char socket[256];
	oid root[MAX_OID_LEN];
	size_t root_len;
	const struct out_view *v;
	struct notifier *nt;
	struct state_lock *lock;
	pthread_t thread;
	int wake_fd;
	atomic_int stop;
	/* start-up: the thread says whether the registrations worked */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started;                /* 1 ok, -1 failed, 0 not yet */

	struct mib_scalars collector;
	struct mib_table profile, agg, top, threshold, alarm, usage;
	struct mib_thresh_set threshold_set;
	struct mib_ipfix ipfix;
	struct mib_system system;
	struct snmp_listen_cfg listen;
	struct creds_oid served[MAX_SERVED];
	int exporting_at_start;     /* (read by the starting thread, which holds the lock) */
	int ipfix_registered;
	int connected;              /* to the master agent, as its callbacks say */
};

/*
 * net-snmp's messages go through ctflowd's log, so that they reach the same
 * place at a matching level.  One message is dropped: for every notification
 * net-snmp also prepares an SNMPv1 copy for v1 trap sinks, and says that
 * Counter64 varbinds cannot go into it.  A subagent has no trap sinks of its
 * own (the notification goes to the master over AgentX, whole), so the
 * remark is never something an operator can act on.  Nor is the warning
 * that no VACM is configured when ctflowd listens: access is decided by
 * ctflowd's own callbacks (snmp_listen), which net-snmp does not count.
 */
static int on_netsnmp_log(int major, int minor, void *server, void *client)
{
	const struct snmp_log_message *m = server;
	enum log_level lvl;
	size_t len;

	(void)major, (void)minor, (void)client;
	if (!m || !m->msg || strstr(m->msg, "v1 traps can't carry Counter64") ||
	    strstr(m->msg, "failed to convert v2->v1") ||
	    strstr(m->msg, "no access control information configured"))
		return 0;
	len = strlen(m->msg);
	while (len && m->msg[len - 1] == '\n')
		len--;
	lvl = m->priority <= LOG_ERR ? LOG_LVL_ERR
	    : m->priority <= LOG_WARNING ? LOG_LVL_WARN
	    : m->priority <= LOG_INFO ? LOG_LVL_INFO : LOG_LVL_DEBUG;
	/* net-snmp's one global callback lock, found busy for 100 ms when snmpd
	 * goes away in the same moment as ctflowd stops (seen with agentx as
	 * with both): it then goes on, and nothing is left to act on */
	if (strstr(m->msg, "_callback_lock") || strstr(m->msg, "lock_holded < 100"))
		lvl = LOG_LVL_DEBUG;
	log_msg(lvl, "snmp: %.*s", (int)len, m->msg);
	return 0;
}

static int listening(const struct snmp_agent *sa)
{
	return sa->cfg.mode == SNMP_LISTEN || sa->cfg.mode == SNMP_BOTH;
}

static int subagent(const struct snmp_agent *sa)
{
	return sa->cfg.mode == SNMP_AGENTX || sa->cfg.mode == SNMP_BOTH;
}

static void configure(const struct snmp_agent *sa)
{
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, subagent(sa));
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET, sa->socket);
	/* a listener's every request is not a line of the log */
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID,
			       NETSNMP_DS_AGENT_DONT_LOG_TCPWRAPPERS_CONNECTS, 1);
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
static void register_ipfix(struct snmp_agent *sa, int exporting)
{
	if (sa->ipfix_registered || !exporting)
		return;
	mib_ipfix_init(&sa->ipfix, sa->v);
	if (mib_ipfix_register(&sa->ipfix) < 0)
		log_warnx("snmp: registering IPFIX-MIB failed");
	sa->ipfix_registered = 1;
}

static int register_ctflow(struct snmp_agent *sa)
{
	const oid *root = sa->root;
	size_t len = sa->root_len;

	mib_serve_under(sa->lock);
	mib_collector_init(&sa->collector, sa->v, root, len);
	mib_profile_init(&sa->profile, sa->v, root, len);
	mib_agg_init(&sa->agg, sa->v, root, len);
	mib_top_init(&sa->top, sa->v, root, len);
	mib_threshold_init(&sa->threshold, &sa->threshold_set, sa->v, root, len);
	mib_alarm_init(&sa->alarm, sa->v, root, len);
	mib_usage_init(&sa->usage, sa->v, root, len);
	if (listening(sa)) {
		mib_system_init(&sa->system, root, len, sa->cfg.contact, sa->cfg.location,
				subagent(sa) ? PRIORITY_BESIDE : 0);
		if (mib_system_register(&sa->system) < 0)
			return -1;
	}
	return mib_scalars_register(&sa->collector) < 0 ||
	       mib_table_register(&sa->profile) < 0 || mib_table_register(&sa->agg) < 0 ||
	       mib_table_register(&sa->top) < 0 || mib_table_register(&sa->threshold) < 0 ||
	       mib_table_register(&sa->alarm) < 0 || mib_table_register(&sa->usage) < 0 ? -1 : 0;
}

/* ---- the master agent's session ---- */

/* net-snmp's subagent calls these on every connection and disconnection. */
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

/* net-snmp frees a callback's argument when it clears its callbacks at
 * shutdown; ours is the agent struct, freed by us, so they go first. */
static void unregister_callbacks(struct snmp_agent *sa)
{
	snmp_unregister_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START, on_connect,
				 sa, 1);
	snmp_unregister_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_STOP,
				 on_disconnect, sa, 1);
}

/* ---- notifications ---- */

/*
 * What the notifier holds, while the master is there: built under the lock
 * (the varbinds read the tables), sent without it (a send may block on a
 * wedged master).  While the master is away they stay held: the library
 * would drop them.
 */
static void send_held(struct snmp_agent *sa)
{
	struct notification n[SEND_BATCH];
	netsnmp_variable_list *vars[SEND_BATCH];
	size_t k;

	do {
		size_t sent = 0, untold = 0;

		if (!sa->connected)
			return;
		lock_enter(sa->lock);
		k = notify_take(sa->nt, n, SEND_BATCH);
		for (size_t i = 0; i < k; i++) {
			vars[i] = NULL;
			if (mib_notify_varbinds(sa->v, sa->root, sa->root_len, &n[i], &vars[i]) < 0)
				untold++;
		}
		lock_leave(sa->lock);
		for (size_t i = 0; i < k; i++) {
			if (!vars[i])
				continue;
			send_v2trap(vars[i]);
			snmp_free_varbind(vars[i]);
			sent++;
		}
		if (k) {
			lock_enter(sa->lock);
			notify_sent(sa->nt, sent, untold);
			lock_leave(sa->lock);
		}
	} while (k == SEND_BATCH);
}

/* ---- the thread ---- */

static void wait_and_dispatch(struct snmp_agent *sa)
{
	struct timeval tv = { WAIT_MAX_S, 0 };
	int numfds = 0, block = 0, rc;
	fd_set fds;

	FD_ZERO(&fds);
	snmp_select_info(&numfds, &fds, &tv, &block);
	if (block || tv.tv_sec >= WAIT_MAX_S)
		tv = (struct timeval){ WAIT_MAX_S, 0 };
	FD_SET(sa->wake_fd, &fds);
	if (sa->wake_fd >= numfds)
		numfds = sa->wake_fd + 1;
	rc = select(numfds, &fds, NULL, NULL, &tv);
	if (rc > 0 && FD_ISSET(sa->wake_fd, &fds)) {
		uint64_t v;

		if (read(sa->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			log_warn("snmp: reading the wake-up");
		FD_CLR(sa->wake_fd, &fds);
		rc--;
		if (!sa->ipfix_registered) {
			int exporting;

			lock_enter(sa->lock);
			exporting = sa->v->exporter(sa->v->arg) != NULL;
			lock_leave(sa->lock);
			register_ipfix(sa, exporting);
		}
	}
	if (rc > 0)
		snmp_read(&fds);
	else if (rc == 0)
		snmp_timeout();
	run_alarms();
	netsnmp_check_outstanding_agent_requests();
	send_held(sa);
}

static void say_started(struct snmp_agent *sa, int how)
{
	pthread_mutex_lock(&sa->mu);
	sa->started = how;
	pthread_cond_signal(&sa->cv);
	pthread_mutex_unlock(&sa->mu);
}

static void *agent_main(void *arg)
{
	struct snmp_agent *sa = arg;

	configure(sa);
	if (init_agent("ctflowd") != 0) {
		log_warnx("snmp: init_agent failed");
		say_started(sa, -1);
		return NULL;
	}
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
			   (int)(sa->cfg.ping_ms / 1000 ? sa->cfg.ping_ms / 1000 : 1));
	snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START, on_connect, sa);
	snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_STOP, on_disconnect,
			       sa);
	if (register_ctflow(sa) < 0) {
		log_warnx("snmp: registering CTFLOW-MIB failed");
		unregister_callbacks(sa);
		snmp_shutdown("ctflowd");
		say_started(sa, -1);
		return NULL;
	}
	register_ipfix(sa, sa->exporting_at_start);
	if (listening(sa)) {
		/* a listener that cannot open fails the start, where it is seen */
		snmp_listen_guard(&sa->listen);
		init_snmp("ctflowd");
		if (snmp_listen_open(&sa->listen) < 0) {
			snmp_listen_close();
			unregister_callbacks(sa);
			snmp_shutdown("ctflowd");
			say_started(sa, -1);
			return NULL;
		}
		if (!subagent(sa))
			sa->connected = 1; /* notifications go to the sinks at once */
		say_started(sa, 1);
	} else {
		say_started(sa, 1);
		init_snmp("ctflowd"); /* connects to the master, or retries every agentx_ping */
	}
	while (!atomic_load(&sa->stop))
		wait_and_dispatch(sa);
	if (listening(sa))
		snmp_listen_close();
	unregister_callbacks(sa);
	snmp_shutdown("ctflowd");
	return NULL;
}

static void agent_free(struct snmp_agent *sa)
{
	if (sa->wake_fd >= 0)
		close(sa->wake_fd);
	pthread_cond_destroy(&sa->cv);
	pthread_mutex_destroy(&sa->mu);
	free(sa);
}

static void serve(struct snmp_agent *sa, const uint32_t *o, size_t len)
{
	struct creds_oid *e = &sa->served[sa->listen.nserved++];

	e->len = len < CREDS_OID_MAX ? len : CREDS_OID_MAX;
	memcpy(e->sub, o, e->len * sizeof(o[0]));
}

/*
 * What the listener answers for (a view without -V sees all of it), and the
 * engine: the caller holds the lock, so the state's numbers can be read.
 */
static void listen_setup(struct snmp_agent *sa)
{
	static const uint32_t ipfix[] = { 1, 3, 6, 1, 2, 1, 193 }, selector[] = { 1, 3, 6, 1, 2, 1, 194 },
			      sys[] = { 1, 3, 6, 1, 2, 1, 1 }, snmp[] = { 1, 3, 6, 1, 2, 1, 11 },
			      v3[] = { 1, 3, 6, 1, 6, 3 };
	struct collector_view cv;
	char host[256] = "";

	sa->listen.addresses = sa->cfg.listen;
	sa->listen.creds = sa->cfg.creds;
	sa->listen.creds_path = sa->cfg.creds_path;
	sa->listen.served = sa->served;
	serve(sa, sa->cfg.root, sa->cfg.root_len);
	serve(sa, ipfix, 7);
	serve(sa, selector, 7);
	serve(sa, sys, 7);
	serve(sa, snmp, 7);
	serve(sa, v3, 6); /* snmpEngine, the MPD and USM statistics */
	sa->v->collector(sa->v->arg, &cv);
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	sa->listen.engine_id_len = snmp_engine_id(sa->listen.engine_id, sa->cfg.root,
						  sa->cfg.root_len, cv.state_created, host);
	sa->listen.engine_boots = (uint32_t)(cv.starts ? cv.starts : 1);
}

struct snmp_agent *snmp_agent_start(const struct snmp_agent_cfg *cfg, const struct out_view *v,
				    struct notifier *nt, struct state_lock *lock)
{
	struct snmp_agent *sa = calloc(1, sizeof(*sa));
	int how;

	if (!sa)
		return NULL;
	sa->cfg = *cfg;
	snprintf(sa->socket, sizeof(sa->socket), "%s", cfg->socket);
	sa->root_len = cfg->root_len < MAX_OID_LEN ? cfg->root_len : MAX_OID_LEN;
	for (size_t i = 0; i < sa->root_len; i++)
		sa->root[i] = cfg->root[i];
	sa->v = v;
	sa->nt = nt;
	sa->lock = lock;
	if (listening(sa))
		listen_setup(sa);
	sa->exporting_at_start = v->exporter(v->arg) != NULL;
	pthread_mutex_init(&sa->mu, NULL);
	pthread_cond_init(&sa->cv, NULL);
	sa->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sa->wake_fd < 0 || (errno = pthread_create(&sa->thread, NULL, agent_main, sa)) != 0) {
		log_warn("snmp: starting the SNMP thread");
		agent_free(sa);
		return NULL;
	}
	/* the registrations read nothing of the state: no need to let the lock go */
	pthread_mutex_lock(&sa->mu);
	while (!sa->started)
		pthread_cond_wait(&sa->cv, &sa->mu);
	how = sa->started;
	pthread_mutex_unlock(&sa->mu);
	if (how < 0) {
		pthread_join(sa->thread, NULL);
		agent_free(sa);
		return NULL;
	}
	return sa;
}

void snmp_agent_wake(struct snmp_agent *sa)
{
	uint64_t one = 1;

	if (sa && write(sa->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("snmp: waking the SNMP thread");
}

int snmp_agent_stop(struct snmp_agent *sa)
{
	struct timespec until;
	int rc;

	if (!sa)
		return 0;
	atomic_store(&sa->stop, 1);
	snmp_agent_wake(sa);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STOP_WAIT_S;
	lock_give(sa->lock);
	rc = pthread_timedjoin_np(sa->thread, NULL, &until);
	lock_take(sa->lock);
	if (rc != 0) {
		/* blocked in a write to an snmpd that does not read (stopped,
		 * hung): it goes with the process, and what it uses stays */
		log_warnx("snmp: snmpd does not answer; stopping without the SNMP thread");
		return -1;
	}
	agent_free(sa);
	return 0;
}
