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

#include <poll.h>
#include <stdlib.h>
#include <sys/select.h>

#include "base_log.h"
#include "ctflowd.h"
#include "mib_ctflow.h"
#include "mib_ipfix.h"

struct snmp_agent {
	struct ctflowd *d;
	struct mib_scalars collector;
	struct mib_table profile, agg, top;
	struct mib_ipfix ipfix;
	int timeout_armed;
	uint64_t timeout_due_ms;
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

static void configure(const struct conf *c, int foreground)
{
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET,
			      c->agentx_socket);
	if (foreground)
		snmp_enable_stderrlog();
	else
		snmp_enable_syslog_ident("ctflowd", LOG_DAEMON);
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
	if (mib_scalars_register(&sa->collector) < 0 || mib_table_register(&sa->profile) < 0 ||
	    mib_table_register(&sa->agg) < 0 || mib_table_register(&sa->top) < 0)
		return -1;
	if (!sa->d->ipfix)
		return 0; /* not an exporter: no IPFIX-MIB */
	mib_ipfix_init(&sa->ipfix, sa->d);
	return mib_ipfix_register(&sa->ipfix);
}

struct snmp_agent *snmp_agent_start(struct ctflowd *d)
{
	struct snmp_agent *sa = calloc(1, sizeof(*sa));

	if (!sa)
		return NULL;
	sa->d = d;
	configure(&d->conf, d->foreground);
	if (init_agent("ctflowd") != 0) {
		log_warnx("snmp: init_agent failed");
		free(sa);
		return NULL;
	}
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
			   (int)(d->conf.agentx_ping_ms / 1000));
	if (register_all(sa) < 0) {
		log_warnx("snmp: registering CTFLOW-MIB or IPFIX-MIB failed");
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
	snmp_shutdown("ctflowd");
	free(sa);
}
