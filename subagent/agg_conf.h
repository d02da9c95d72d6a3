/*
 * agg_conf: [profile NAME] sections of the configuration: their keys,
 * defaults and checks, for the configuration engine.  Without any [profile]
 * section the three default profiles (host, service, pair) are used.
 */
#ifndef CTFLOWD_AGG_CONF_H
#define CTFLOWD_AGG_CONF_H

#include "agg_profile.h"
#include "base_conf.h"

/* A [profile NAME] section while it is read (the name first). */
struct profile_parse {
	char name[AGG_NAME_MAX + 1];
	struct agg_profile_def def;
	uint64_t rows, top, view, keep, month_day;
	int has_key;
};

/* The engine's description of [profile] sections, read into objs[max]; pc is
 * the caller's, alive for the parse. */
struct profile_conf {
	struct profile_parse *objs;
	size_t max, *n;
};
void profile_conf_kind(struct conf_kind *k, struct profile_conf *pc, struct profile_parse *objs,
		       size_t max, size_t *n);
/* The kind's after(): no [profile] section at all gives the defaults.  (For
 * an owner that wraps after() to do more once the profiles are read.) */
void profile_conf_defaults(struct profile_conf *pc);

#endif
