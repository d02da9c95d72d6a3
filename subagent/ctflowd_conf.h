/*
 * ctflowd_conf: the daemon's whole configuration: the global settings (this
 * module owns their keys) and the sections their owners describe:
 * [profile] (agg_conf), [collector] (ipfix_conf), [threshold] (alarm_def).
 * Also the state file of thresholds created over SNMP, in the same syntax.
 * See conf/ctflowd.conf for the reference of every key.
 */
#ifndef CTFLOWD_CTFLOWD_CONF_H
#define CTFLOWD_CTFLOWD_CONF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "agg_profile.h"
#include "alarm_def.h"
#include "base_log.h"
#include "ipfix_export.h"

#define CONF_MAX_PROFILES 32
#define CONF_MAX_COLLECTORS 16
#define CONF_MAX_THRESHOLDS THRESH_MAX

struct conf {
	char path[PATH_MAX];
	uint32_t dump_interval_ms;  /* 0 = no periodic dumps */
	uint64_t rcvbuf;            /* initial event socket receive buffer */
	uint64_t rcvbuf_max;        /* growth cap after overruns */
	int reliable_events;        /* NETLINK_BROADCAST_ERROR */
	uint64_t max_tracked_flows;
	uint32_t coalesce_ms;       /* wait this long after draining events */
	uint32_t loop_budget_ms;    /* netlink work per loop iteration */
	char dump_file[PATH_MAX];   /* JSON tables on SIGUSR1 */
	char pid_file[PATH_MAX];
	uint64_t log_level;         /* enum log_level */
	uint64_t snmp;              /* enum snmp_mode: off, agentx, listen, both */
	char snmp_listen[512];      /* the listener's addresses, "a, b" */
	char snmp_credentials[PATH_MAX];  /* communities, users, sinks */
	char snmp_contact[256];     /* sysContact, sysLocation (listening) */
	char snmp_location[256];
	char timezone[64];         /* TZ for calendar periods; empty: the system's */
	char agentx_socket[256];    /* AgentX master: a unix path or tcp:HOST:PORT */
	uint32_t agentx_ping_ms;
	uint32_t snmp_root[32];     /* CTFLOW-MIB's root OID */
	size_t snmp_root_len;
	uint32_t top_interval_ms;
	uint64_t ipfix_domain;
	int ipfix_enterprise_ies;
	uint32_t ipfix_stats_interval_ms;
	char state_file[PATH_MAX];  /* thresholds created over SNMP, nonVolatile */
	char state_dir[PATH_MAX];   /* what survives a restart; "" = nothing does */
	uint64_t threshold_rows;    /* rows all thresholds together may watch */
	size_t ncollectors;
	struct ipfix_collector_cfg collectors[CONF_MAX_COLLECTORS];
	size_t nprofiles;
	struct agg_profile_def profiles[CONF_MAX_PROFILES];
	size_t nthresholds;
	struct thresh_def thresholds[CONF_MAX_THRESHOLDS];
};

void conf_defaults(struct conf *c);

/* Load `path` over the defaults.  -1 with "file:line: reason" in err. */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen);
/* The same from memory (tests, fuzzing). */
int conf_parse_buffer(struct conf *c, const char *name, const char *text, size_t len, char *err,
		      size_t errlen);

/*
 * Add the thresholds of the state file (written by ctflowd for rows created
 * over SNMP) to c, as nonVolatile.  A missing file is no error; a threshold
 * in it that the configuration would refuse (a broken line, a profile that
 * is gone, a name or index taken) is skipped, with one log line each; -1
 * only when the file cannot be read at all.
 */
int conf_load_state(struct conf *c, const char *path, char *err, size_t errlen);

/* What the thresholds are checked against in c. */
void conf_thresh_env(const struct conf *c, struct thresh_env *env);

#endif
