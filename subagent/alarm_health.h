/*
 * alarm_health: when ctflowd's own health deserves a notification.  Fed a
 * sample of the counters once a second; says what to notify: events lost
 * (kernel drops, overruns, flows closed unobserved; at most once a minute,
 * with the totals), kernel accounting found off (once each time), a profile
 * evicting rows (at most once a minute per profile).  Pure.
 */
#ifndef CTFLOWD_ALARM_HEALTH_H
#define CTFLOWD_ALARM_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#define HEALTH_PROFILES_MAX 64
#define HEALTH_INTERVAL_S 60

enum health_kind { HEALTH_LOSS = 1, HEALTH_ACCT_OFF, HEALTH_EVICTING };

struct health_sample {
	uint32_t now;                 /* realtime seconds */
	uint64_t lost, overruns, unobserved;
	int acct;                     /* 1 on, 0 off, -1 unknown */
	size_t nprofiles;
	uint64_t evictions[HEALTH_PROFILES_MAX];
};

struct health_event {
	uint8_t kind;                 /* enum health_kind */
	uint32_t profile;             /* HEALTH_EVICTING: its position */
};

struct health_state {
	uint64_t loss_notified;       /* lost + overruns + unobserved when last notified */
	uint32_t loss_time;
	int acct_notified;
	uint64_t evict_notified[HEALTH_PROFILES_MAX];
	uint32_t evict_time[HEALTH_PROFILES_MAX];
};

/* Events to notify now (at most max); updates the state. */
size_t health_check(struct health_state *st, const struct health_sample *s,
		    struct health_event *out, size_t max);

#endif
