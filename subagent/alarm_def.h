/*
 * alarm_def: what a threshold is, and the one place its rules live.
 *
 * A threshold comes from the configuration file ([threshold NAME]), from a
 * manager over SNMP (ctflowThresholdTable), from the state file that keeps
 * the latter across restarts, or survives a reload.  All four use this
 * module: the definition and its defaults, the checks (the profile exists
 * and has the fields the threshold matches on, the window is long enough
 * for the dump interval, falling is not above rising, the row is complete),
 * the words of the configuration syntax and the text form the state file is
 * written in.  No rule is written twice.
 */
#ifndef CTFLOWD_ALARM_DEF_H
#define CTFLOWD_ALARM_DEF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agg_profile.h"
#include "base_conf.h"

#define THRESH_NAME_MAX 32
#define THRESH_WINDOW_MAX 3600
#define THRESH_MAX 128         /* thresholds at once: configured and created over SNMP */
#define THRESH_INDEX_MAX 4096
#define THRESH_ROWS_MAX 1000000 /* rows one threshold may watch at most */
/* threshold_rows: the rows all thresholds together may watch (about 340
 * bytes each, taken as rows are watched) */
#define THRESH_BUDGET_DEFAULT 100000
#define THRESH_BUDGET_MAX 10000000
#define THRESH_PROFILE_UNSET ((size_t)-1) /* a row created over SNMP, not set yet */

enum thresh_metric { THRESH_BYTES, THRESH_PACKETS, THRESH_FLOWS };
enum thresh_dir { THRESH_SENT = 1, THRESH_RECEIVED = 2, THRESH_BOTH = 3 };
/* StorageType (RFC 2579) values a threshold can have. */
enum thresh_storage { THRESH_VOLATILE = 2, THRESH_NONVOLATILE = 3, THRESH_READONLY = 5 };

struct thresh_def {
	char name[THRESH_NAME_MAX + 1];
	size_t profile;            /* the profile's position */
	/* which rows: those whose first address lies in addr/plen (family 0: any),
	 * and whose protocol and port are these (-1: any) */
	uint8_t family, plen;
	union ct_addr addr;
	uint8_t family2, plen2;    /* and whose second address (dst) lies in addr2/plen2 */
	union ct_addr addr2;
	int proto, port;
	uint8_t metric;            /* enum thresh_metric */
	uint8_t dir;               /* enum thresh_dir: the row's forward = sent */
	uint32_t window_s;         /* 1..THRESH_WINDOW_MAX */
	uint64_t rising, falling;  /* per second over the window; falling <= rising */
	uint32_t notify_per_min;   /* notifications a minute at most; 0 = no limit */
	uint32_t max_rows;         /* rows watched at most */
	uint32_t index;            /* ctflowThresholdIndex; 0 = its position */
	uint8_t storage;           /* enum thresh_storage */
	uint8_t inactive;          /* kept, not evaluated (notInService) */
	/* 0: a rate over window_s; k: the total of the profile's k-th period
	 * (a quota level): rising is reached once per period, the alarm ends
	 * with the period, falling and window do not apply */
	uint8_t period;
};

/* What a threshold is checked against: the profiles it may name, in the
 * order of their positions, the dump interval, the budget of rows. */
struct thresh_env {
	const struct agg_profile_def *profiles;
	size_t nprofiles;
	uint32_t dump_interval_ms;
	uint64_t rows_budget;
};

/* The most rows one threshold may watch under env's budget. */
uint32_t thresh_rows_limit(const struct thresh_env *env);

/* A row's key as a threshold looks at it: its fields are decoded at most
 * once per update however many thresholds look at them. */
struct thresh_key {
	const struct agg_keyspec *spec;
	const struct agg_key *key;
	int state;                 /* 0 not decoded yet, 1 decoded, -1 does not decode */
	struct agg_key_fields kf;
};

/* Whether the threshold watches this row (match, match2, proto, port). */
int thresh_def_matches(const struct thresh_def *d, struct thresh_key *k);
/* What a row's growth adds to the threshold's metric and direction. */
uint64_t thresh_def_amount(const struct thresh_def *d, const uint64_t pkts[2],
			   const uint64_t bytes[2], uint64_t flows);

/* A threshold the configuration names; window 0: thresh_def_check picks
 * the default (twice dump_interval, at least a minute). */
void thresh_def_init(struct thresh_def *t, const char *name);
/* A row a manager creates over SNMP starts as this: no profile, no rising. */
void thresh_def_init_snmp(struct thresh_def *t, uint32_t index, const struct thresh_env *env);

/* Has what it needs to be evaluated (a profile and a rising value). */
int thresh_def_complete(const struct thresh_def *t);

/*
 * Every rule: 0, or -1 with the reason in why and, in *key, the setting it
 * is about (for the configuration's file:line).  Incomplete rows pass (a row
 * being created over SNMP is checked again when it goes active).  Fills the
 * default window.
 */
int thresh_def_check(struct thresh_def *t, const struct thresh_env *env, const char **key,
		     char *why, size_t len);

/* A name: 1-32 letters, digits, '_', '-'. */
int thresh_name_valid(const char *s, size_t len);

/* ---- the configuration syntax ---- */

/* A [threshold NAME] section while it is read (the name first, as the
 * configuration engine wants). */
struct thresh_parse {
	char name[THRESH_NAME_MAX + 1];
	struct thresh_def def;
	char profile[AGG_NAME_MAX + 1];
	uint64_t proto, port;      /* UINT64_MAX: any */
	uint64_t metric, dir, inactive;
	uint32_t window_ms;
	uint64_t rising, falling;  /* falling UINT64_MAX: 9/10 of rising */
	uint64_t notify, rows, index;
	char period[USAGE_NAME_MAX + 1];
};

/* The configuration engine's description of [threshold] sections, parsed
 * into objs[max] and checked against *env (read once the whole file has
 * been, so that it can name the profiles read).  tc is the caller's, alive
 * for the parse. */
struct thresh_conf {
	const struct thresh_env *env;
	struct thresh_parse *objs;
};
void thresh_conf_kind(struct conf_kind *k, struct thresh_conf *tc, struct thresh_parse *objs,
		      size_t max, size_t *n, const struct thresh_env *env);

/* The state file's form of one threshold: a [threshold] section with every
 * key (so that a changed default does not change a saved row). */
void thresh_def_write(FILE *f, const struct thresh_def *t, uint32_t index, int active,
		      const char *profile_name, const struct usage_def *usage);

/* ---- quotas: [quota NAME], a period threshold per warning level ---- */

#define QUOTA_LEVELS_MAX 4

struct quota_parse {
	char name[THRESH_NAME_MAX + 1];
	struct thresh_parse t;     /* its keys as a threshold's (rising = cap) */
	uint64_t cap;
	uint8_t nlevels;
	uint8_t level[QUOTA_LEVELS_MAX]; /* percent of cap, ascending */
};

/* The configuration engine's description of [quota] sections (checked like
 * thresholds against *env). */
void quota_conf_kind(struct conf_kind *k, struct thresh_conf *tc, struct quota_parse *objs,
		     size_t max, size_t *n, const struct thresh_env *env);
/* The thresholds of a quota: NAME-LEVEL, rising = cap * level / 100, at
 * indexes from `index` on.  Returns how many were written to out[max]. */
size_t quota_thresholds(const struct quota_parse *q, uint32_t index, struct thresh_def *out,
			size_t max);

#endif
