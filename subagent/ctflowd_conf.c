/*
 * ctflowd_conf: the global keys, and the whole file put together from its
 * sections' owners.
 */
#include "ctflowd_conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agg_conf.h"
#include "ipfix_conf.h"
#include "snmp_agent.h"

#define KIB 1024ULL
#define GIB (1024ULL * 1024 * 1024)

static const struct conf_word level_words[] = {
	{ "error", LOG_LVL_ERR }, { "warning", LOG_LVL_WARN }, { "info", LOG_LVL_INFO },
	{ "debug", LOG_LVL_DEBUG }, { NULL, 0 },
};

/* snmp: how ctflowd serves SNMP (enum snmp_mode); yes and no as before */
static const struct conf_word snmp_words[] = {
	{ "off", SNMP_OFF }, { "no", SNMP_OFF }, { "agentx", SNMP_AGENTX }, { "yes", SNMP_AGENTX },
	{ "listen", SNMP_LISTEN }, { "both", SNMP_BOTH },
	{ NULL, 0 },
};

/* "1.3.6.1.4.1.32473" (a leading dot is fine) into snmp_root. */
static int parse_oid(void *obj, const char *v, char *why, size_t len)
{
	struct conf *c = obj;
	const char *p = *v == '.' ? v + 1 : v;
	size_t n = 0;

	while (*p) {
		uint64_t x = 0;

		if (!isdigit((unsigned char)*p) || n == sizeof(c->snmp_root) / sizeof(c->snmp_root[0]))
			goto bad;
		while (isdigit((unsigned char)*p) && x <= UINT32_MAX)
			x = x * 10 + (uint64_t)(*p++ - '0');
		if (x > UINT32_MAX || (*p && *p != '.') || (*p == '.' && !p[1]))
			goto bad;
		c->snmp_root[n++] = (uint32_t)x;
		if (*p == '.')
			p++;
	}
	if (n < 2) {
		snprintf(why, len, "'%s' is too short for an OID", v);
		return -1;
	}
	c->snmp_root_len = n;
	return 0;
bad:
	snprintf(why, len, "'%s' is not an OID of at most 32 numbers like 1.3.6.1.4.1.32473", v);
	return -1;
}

/*
 * A time zone for calendar periods: a name of the tz database (it must be
 * installed: glibc takes an unknown name for UTC without a word) or a POSIX
 * TZ string such as CET-1CEST,M3.5.0,M10.5.0/3.
 */
static int parse_timezone(void *obj, const char *v, char *why, size_t len)
{
	struct conf *c = obj;
	char path[128];
	size_t n = strlen(v);

	if (n == 0 || n >= sizeof(c->timezone) || strstr(v, "..") || v[0] == '/' ||
	    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/,.:<>") != n) {
		snprintf(why, len, "'%.64s' is not a time zone", v);
		return -1;
	}
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", v);
	if (!strpbrk(v, "0123456789") && access(path, R_OK) != 0) {
		snprintf(why, len, "time zone '%s' is not installed (%s)", v, path);
		return -1;
	}
	memcpy(c->timezone, v, n + 1);
	return 0;
}

#define GOFF(f) CONF_FIELD(struct conf, f)

static const struct conf_key global_keys[] = {
	{ "dump_interval", CONF_DURATION_MS, 0, 86400000, GOFF(dump_interval_ms), NULL, NULL },
	{ "rcvbuf", CONF_SIZE, 64 * KIB, 4 * GIB, GOFF(rcvbuf), NULL, NULL },
	{ "rcvbuf_max", CONF_SIZE, 64 * KIB, 4 * GIB, GOFF(rcvbuf_max), NULL, NULL },
	{ "reliable_events", CONF_BOOL, 0, 1, GOFF(reliable_events), NULL, NULL },
	{ "max_tracked_flows", CONF_COUNT, 1024, 1ULL << 30, GOFF(max_tracked_flows), NULL, NULL },
	{ "coalesce", CONF_DURATION_MS, 0, 1000, GOFF(coalesce_ms), NULL, NULL },
	{ "loop_budget", CONF_DURATION_MS, 1, 1000, GOFF(loop_budget_ms), NULL, NULL },
	{ "dump_file", CONF_PATH, 0, 0, GOFF(dump_file), NULL, NULL },
	{ "pid_file", CONF_PATH, 0, 0, GOFF(pid_file), NULL, NULL },
	{ "log_level", CONF_WORD, 0, 0, GOFF(log_level), level_words, NULL },
	{ "snmp", CONF_WORD, 0, 0, GOFF(snmp), snmp_words, NULL },
	{ "snmp_listen", CONF_STRING, 0, 0, GOFF(snmp_listen), NULL, NULL },
	{ "snmp_credentials", CONF_PATH, 0, 0, GOFF(snmp_credentials), NULL, NULL },
	{ "snmp_contact", CONF_STRING, 0, 0, GOFF(snmp_contact), NULL, NULL },
	{ "snmp_location", CONF_STRING, 0, 0, GOFF(snmp_location), NULL, NULL },
	{ "agentx_socket", CONF_STRING, 0, 0, GOFF(agentx_socket), NULL, NULL },
	{ "agentx_ping", CONF_DURATION_MS, 1000, 3600000, GOFF(agentx_ping_ms), NULL, NULL },
	{ "snmp_root", CONF_CUSTOM, 0, 0, 0, 0, NULL, parse_oid },
	{ "timezone", CONF_CUSTOM, 0, 0, 0, 0, NULL, parse_timezone },
	{ "top_interval", CONF_DURATION_MS, 1000, 86400000, GOFF(top_interval_ms), NULL, NULL },
	{ "ipfix_domain", CONF_COUNT, 0, UINT32_MAX, GOFF(ipfix_domain), NULL, NULL },
	{ "ipfix_enterprise_ies", CONF_BOOL, 0, 1, GOFF(ipfix_enterprise_ies), NULL, NULL },
	{ "ipfix_stats_interval", CONF_DURATION_MS, 1000, 86400000, GOFF(ipfix_stats_interval_ms),
	  NULL, NULL },
	{ "state_file", CONF_PATH, 0, 0, GOFF(state_file), NULL, NULL },
	{ "state_dir", CONF_PATH, 0, 0, GOFF(state_dir), NULL, NULL },
	{ "threshold_rows", CONF_COUNT, 1000, THRESH_BUDGET_MAX, GOFF(threshold_rows), NULL, NULL },
};

void conf_defaults(struct conf *c)
{
	static const uint32_t root[] = { 1, 3, 6, 1, 4, 1, 32473 };

	memset(c, 0, sizeof(*c));
	c->dump_interval_ms = 60000;
	c->rcvbuf = 64ULL << 20;
	c->rcvbuf_max = 1ULL << 30;
	c->max_tracked_flows = 1ULL << 20;
	c->coalesce_ms = 5;
	c->loop_budget_ms = 5;
	snprintf(c->dump_file, sizeof(c->dump_file), "/run/ctflowd/tables.json");
	snprintf(c->state_file, sizeof(c->state_file), "/var/lib/ctflowd/thresholds.conf");
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/ctflowd");
	c->log_level = LOG_LVL_INFO;
	c->snmp = SNMP_AGENTX;
	/* Explicit, unix only: left unset, net-snmp falls back to tcp:localhost:705
	 * and every (re)connection attempt becomes a flow in the namespace ctflowd
	 * accounts. */
	snprintf(c->agentx_socket, sizeof(c->agentx_socket), "/var/agentx/master");
	c->agentx_ping_ms = 5000;
	c->top_interval_ms = 60000;
	c->ipfix_domain = 1;
	c->ipfix_stats_interval_ms = 60000;
	c->threshold_rows = THRESH_BUDGET_DEFAULT;
	memcpy(c->snmp_root, root, sizeof(root));
	c->snmp_root_len = sizeof(root) / sizeof(root[0]);
	c->nprofiles = agg_default_profiles(c->profiles, CONF_MAX_PROFILES);
}

void conf_thresh_env(const struct conf *c, struct thresh_env *env)
{
	env->profiles = c->profiles;
	env->nprofiles = c->nprofiles;
	env->dump_interval_ms = c->dump_interval_ms;
	env->rows_budget = c->threshold_rows;
}

/* A listener needs addresses and credentials; addresses need a listener. */
static int snmp_check(const struct conf *c, const char **key, char *why, size_t len)
{
	int listens = c->snmp == SNMP_LISTEN || c->snmp == SNMP_BOTH;

	if (listens && !c->snmp_listen[0]) {
		*key = "snmp";
		snprintf(why, len, "snmp = %s needs snmp_listen (for example udp:127.0.0.1:1161)",
			 c->snmp == SNMP_LISTEN ? "listen" : "both");
		return -1;
	}
	if (listens && !c->snmp_credentials[0]) {
		*key = "snmp";
		snprintf(why, len, "snmp = %s needs snmp_credentials (a file of communities and "
			 "users: there is no default community)",
			 c->snmp == SNMP_LISTEN ? "listen" : "both");
		return -1;
	}
	if (!listens && c->snmp_listen[0]) {
		*key = "snmp_listen";
		snprintf(why, len, "snmp_listen is set but snmp is not listen or both");
		return -1;
	}
	return 0;
}

static int global_finish(void *obj, size_t i, void *ctx, const char **key, char *why, size_t len)
{
	const struct conf *c = obj;

	(void)i, (void)ctx;
	if (snmp_check(c, key, why, len) < 0)
		return -1;
	if (c->rcvbuf_max < c->rcvbuf) {
		*key = "rcvbuf_max";
		snprintf(why, len, "rcvbuf_max (%llu) is smaller than rcvbuf (%llu)",
			 (unsigned long long)c->rcvbuf_max, (unsigned long long)c->rcvbuf);
		return -1;
	}
	return 0;
}

/* Everything a parse needs beside the result. */
struct parse_space {
	struct profile_parse profs[CONF_MAX_PROFILES];
	struct collector_parse colls[CONF_MAX_COLLECTORS];
	struct thresh_parse thrs[CONF_MAX_THRESHOLDS];
	struct quota_parse quotas[CONF_MAX_THRESHOLDS];
	size_t nprofs, ncolls, nthrs, nquotas;
	struct profile_conf pc;
	struct thresh_conf tc, qc;
	struct thresh_env env;
	struct conf *c;
};

/* Once the profiles are read (or defaulted): the thresholds are checked
 * against them. */
static void profiles_read(void *ctx)
{
	struct parse_space *sp = ctx;

	profile_conf_defaults(&sp->pc);
	for (size_t i = 0; i < sp->nprofs; i++)
		sp->c->profiles[i] = sp->profs[i].def;
	sp->c->nprofiles = sp->nprofs;
	conf_thresh_env(sp->c, &sp->env);
}

static int index_used(const struct conf *c, uint32_t index, uint32_t n)
{
	for (size_t j = 0; j < c->nthresholds; j++)
		if (c->thresholds[j].index >= index && c->thresholds[j].index < index + n)
			return 1;
	return 0;
}

/* A quota's levels join the thresholds: at its index, or after the highest
 * index the file has given so far. */
static int add_quota(struct conf *c, const struct quota_parse *q, const char *name, char *err,
		     size_t errlen)
{
	uint32_t index = q->t.def.index, top = 0;

	for (size_t j = 0; j < c->nthresholds; j++)
		if (c->thresholds[j].index > top)
			top = c->thresholds[j].index;
	if (!index)
		index = top + 1;
	if (c->nthresholds + q->nlevels > CONF_MAX_THRESHOLDS ||
	    index + q->nlevels - 1 > THRESH_INDEX_MAX || index_used(c, index, q->nlevels)) {
		snprintf(err, errlen, "%s: [quota %s]: its %u levels need indexes %u-%u, free and at "
			 "most %d, and at most %d thresholds in all", name, q->name, q->nlevels, index,
			 index + q->nlevels - 1, THRESH_INDEX_MAX, CONF_MAX_THRESHOLDS);
		return -1;
	}
	c->nthresholds += quota_thresholds(q, index, &c->thresholds[c->nthresholds], q->nlevels);
	return 0;
}

static int out_of_parse(struct conf *c, const struct parse_space *sp, const char *name, char *err,
			size_t errlen)
{
	c->ncollectors = sp->ncolls;
	for (size_t i = 0; i < sp->ncolls; i++)
		c->collectors[i] = sp->colls[i].cfg;
	c->nthresholds = sp->nthrs;
	for (size_t i = 0; i < sp->nthrs; i++)
		c->thresholds[i] = sp->thrs[i].def;
	for (size_t i = 0; i < sp->nquotas; i++)
		if (add_quota(c, &sp->quotas[i], name, err, errlen) < 0)
			return -1;
	return 0;
}

int conf_parse_buffer(struct conf *c, const char *name, const char *text, size_t len, char *err,
		      size_t errlen)
{
	struct parse_space *sp = calloc(1, sizeof(*sp));
	struct conf_kind kinds[5];
	const struct conf_source src = { name, text, len, NULL, NULL };
	int rc;

	if (!sp) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	sp->c = c;
	kinds[0] = (struct conf_kind){ NULL, global_keys, sizeof(global_keys) / sizeof(global_keys[0]),
				       c, sizeof(*c), 1, NULL, NULL, global_finish, NULL, NULL };
	profile_conf_kind(&kinds[1], &sp->pc, sp->profs, CONF_MAX_PROFILES, &sp->nprofs);
	kinds[1].after = profiles_read;
	kinds[1].ctx = sp;
	collector_conf_kind(&kinds[2], sp->colls, CONF_MAX_COLLECTORS, &sp->ncolls);
	thresh_conf_kind(&kinds[3], &sp->tc, sp->thrs, CONF_MAX_THRESHOLDS, &sp->nthrs, &sp->env);
	quota_conf_kind(&kinds[4], &sp->qc, sp->quotas, CONF_MAX_THRESHOLDS, &sp->nquotas, &sp->env);
	rc = conf_parse(kinds, 5, &src, err, errlen);
	if (rc == 0)
		rc = out_of_parse(c, sp, name, err, errlen);
	free(sp);
	return rc;
}

int conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	if (conf_read_file(path, &text, &len, err, errlen) < 0)
		return -1;
	rc = conf_parse_buffer(c, path, text, len, err, errlen);
	if (rc == 0)
		snprintf(c->path, sizeof(c->path), "%s", path);
	free(text);
	return rc;
}

static void state_skipped(void *arg, const char *err)
{
	(void)arg;
	log_warnx("%s; that threshold is skipped", err);
}

/* A state threshold whose name or index the configuration (or an earlier
 * state threshold) has: skipped, said so. */
static int taken(const struct conf *c, const struct thresh_def *t, const char *path)
{
	for (size_t j = 0; j < c->nthresholds; j++) {
		const struct thresh_def *o = &c->thresholds[j];

		if (o->index == t->index || strcmp(o->name, t->name) == 0) {
			log_warnx("%s: [threshold %s]: its %s is [threshold %s]'s; that threshold is "
				  "skipped", path, t->name, o->index == t->index ? "index" : "name",
				  o->name);
			return 1;
		}
	}
	return 0;
}

int conf_load_state(struct conf *c, const char *path, char *err, size_t errlen)
{
	struct parse_space *sp;
	struct conf_kind kind;
	struct conf_source src = { path, NULL, 0, state_skipped, NULL };
	char *text;
	int rc;

	if (access(path, F_OK) != 0)
		return 0;
	if (conf_read_file(path, &text, &src.len, err, errlen) < 0)
		return -1;
	sp = calloc(1, sizeof(*sp));
	if (!sp) {
		free(text);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	src.text = text;
	conf_thresh_env(c, &sp->env);
	thresh_conf_kind(&kind, &sp->tc, sp->thrs, CONF_MAX_THRESHOLDS, &sp->nthrs, &sp->env);
	rc = conf_parse(&kind, 1, &src, err, errlen);
	for (size_t i = 0; rc == 0 && i < sp->nthrs; i++) {
		struct thresh_def *t = &sp->thrs[i].def;

		if (taken(c, t, path))
			continue;
		if (c->nthresholds == CONF_MAX_THRESHOLDS) {
			log_warnx("%s: [threshold %s]: more than %d thresholds; skipped", path, t->name,
				  CONF_MAX_THRESHOLDS);
			continue;
		}
		t->storage = THRESH_NONVOLATILE;
		c->thresholds[c->nthresholds++] = *t;
	}
	free(sp);
	free(text);
	return rc;
}
