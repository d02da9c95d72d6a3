/*
 * alarm_health: a counter that moved since it was last notified is notified
 * again once its quiet minute is over, so a storm of losses is one
 * notification a minute and none is forgotten.
 */
#include "alarm_health.h"

static int due(uint32_t last, uint32_t now)
{
	return last == 0 || now >= last + HEALTH_INTERVAL_S;
}

size_t health_check(struct health_state *st, const struct health_sample *s,
		    struct health_event *out, size_t max)
{
	size_t n = 0;
	uint64_t loss = s->lost + s->overruns + s->unobserved;

	if (loss > st->loss_notified && due(st->loss_time, s->now) && n < max) {
		out[n++] = (struct health_event){ HEALTH_LOSS, 0 };
		st->loss_notified = loss;
		st->loss_time = s->now;
	}
	if (s->acct == 0 && !st->acct_notified && n < max) {
		out[n++] = (struct health_event){ HEALTH_ACCT_OFF, 0 };
		st->acct_notified = 1;
	} else if (s->acct == 1) {
		st->acct_notified = 0;
	}
	for (size_t i = 0; i < s->nprofiles && i < HEALTH_PROFILES_MAX && n < max; i++) {
		if (s->evictions[i] > st->evict_notified[i] && due(st->evict_time[i], s->now)) {
			out[n++] = (struct health_event){ HEALTH_EVICTING, (uint32_t)i };
			st->evict_notified[i] = s->evictions[i];
			st->evict_time[i] = s->now;
		}
	}
	return n;
}
