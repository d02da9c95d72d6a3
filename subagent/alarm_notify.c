/*
 * alarm_notify: a ring of held notifications, the health state, and the log
 * line of each notification.
 */
#include "alarm_notify.h"

#include <stdlib.h>
#include <string.h>

#include "base_log.h"

/* What survives a restart: the counts, and the health baselines (so a loss
 * counted in an earlier run is not notified again). */
struct notify_hdr {
	uint32_t epoch, pad;
	uint64_t sent, dropped;
	struct health_state health;
};

struct notifier {
	struct store *st;
	struct notify_hdr *h;
	int sink;
	int sampled;                 /* a first sample has set the baselines */
	struct notification held[NOTIFY_HELD_MAX];
	size_t head, count;
};

static struct notify_hdr *hdr_w(struct notifier *n)
{
	uint32_t epoch = store_epoch(n->st);

	if (n->h->epoch != epoch) {
		store_save(n->st, n->h, sizeof(*n->h));
		n->h->epoch = epoch;
	}
	return n->h;
}

struct notifier *notify_new(struct store *st, int sink, int counters_kept)
{
	struct notifier *n = calloc(1, sizeof(*n));
	enum store_origin o;

	if (!n)
		return NULL;
	n->st = st;
	n->sink = sink;
	n->h = store_region(st, "notify", sizeof(struct notify_hdr), sizeof(*n->h), &o);
	if (!n->h) {
		free(n);
		return NULL;
	}
	n->h->epoch = 0;
	n->sampled = o == STORE_KEPT || !counters_kept;
	return n;
}

void notify_free(struct notifier *n)
{
	if (!n)
		return;
	store_region_release(n->st, n->h);
	free(n);
}

static void hold(struct notifier *n, const struct notification *x)
{
	if (!n->sink)
		return;
	if (n->count == NOTIFY_HELD_MAX) { /* the oldest goes: the newest says more */
		n->head = (n->head + 1) % NOTIFY_HELD_MAX;
		n->count--;
		hdr_w(n)->dropped++;
	}
	n->held[(n->head + n->count++) % NOTIFY_HELD_MAX] = *x;
}

static void log_alarm(struct thresh_set *ts, struct agg_set *agg, const struct alarm_event *e)
{
	size_t pos = thresh_pos(ts, e->thresh);
	const struct thresh_def *t = thresh_get(ts, pos);
	char key[AGG_KEY_TEXT_MAX];

	if (!t || thresh_index_at(ts, pos) != e->thresh || t->profile >= agg_set_count(agg))
		return; /* removed since */
	agg_key_format(&agg_set_profile(agg, t->profile)->spec, &e->key, key, sizeof(key));
	if (t->period) {
		log_info("threshold %s: %s used %llu this period (level %llu)", t->name, key,
			 (unsigned long long)e->rate, (unsigned long long)e->value);
		return;
	}
	log_info("threshold %s: %s: %s at %llu/s over %u s (%s %llu/s)", t->name,
		 e->kind == ALARM_RISING ? "rising" : "falling", key, (unsigned long long)e->rate,
		 e->window_s, e->kind == ALARM_RISING ? "rising value" : "falling value",
		 (unsigned long long)e->value);
}

static void log_health(struct agg_set *agg, const struct health_sample *hs,
		       const struct health_event *e)
{
	switch (e->kind) {
	case HEALTH_LOSS:
		log_warnx("events lost: %llu dropped by the kernel, %llu overruns, %llu flows closed "
			  "unobserved (totals)", (unsigned long long)hs->lost,
			  (unsigned long long)hs->overruns, (unsigned long long)hs->unobserved);
		break;
	case HEALTH_ACCT_OFF:
		log_warnx("nf_conntrack_acct is 0: every flow counter is zero (see --check-kernel)");
		break;
	default:
		if (e->profile < agg_set_count(agg))
			log_warnx("profile %s is full and evicting rows (%llu evictions); raise its rows",
				  agg_set_profile(agg, e->profile)->name,
				  (unsigned long long)hs->evictions[e->profile]);
	}
}

static void take_alarms(struct notifier *n, struct thresh_set *ts, struct agg_set *agg)
{
	struct alarm_event ev[64];
	size_t k;

	while ((k = thresh_take_events(ts, ev, 64)) > 0) {
		for (size_t i = 0; i < k; i++) {
			struct notification x;

			memset(&x, 0, sizeof(x));
			x.kind = ev[i].kind == ALARM_RISING ? NOTIFY_RISING : NOTIFY_FALLING;
			x.alarm = ev[i];
			log_alarm(ts, agg, &ev[i]);
			hold(n, &x);
		}
	}
}

static void take_health(struct notifier *n, struct agg_set *agg, const struct health_sample *hs)
{
	static const uint8_t kinds[] = { [HEALTH_LOSS] = NOTIFY_LOSS,
					 [HEALTH_ACCT_OFF] = NOTIFY_ACCT_OFF,
					 [HEALTH_EVICTING] = NOTIFY_EVICTING };
	struct health_event ev[HEALTH_PROFILES_MAX + 2];
	struct notify_hdr *h = hdr_w(n);
	size_t k;

	if (!n->sampled) { /* the counters of the state: the baselines */
		h->health.loss_notified = hs->lost + hs->overruns + hs->unobserved;
		for (size_t i = 0; i < hs->nprofiles && i < HEALTH_PROFILES_MAX; i++)
			h->health.evict_notified[i] = hs->evictions[i];
		n->sampled = 1;
	}
	k = health_check(&h->health, hs, ev, sizeof(ev) / sizeof(ev[0]));
	for (size_t i = 0; i < k; i++) {
		struct notification x;

		memset(&x, 0, sizeof(x));
		x.kind = kinds[ev[i].kind];
		x.profile = ev[i].profile;
		log_health(agg, hs, &ev[i]);
		hold(n, &x);
	}
}

void notify_tick(struct notifier *n, struct thresh_set *ts, struct agg_set *agg,
		 const struct health_sample *hs)
{
	take_alarms(n, ts, agg);
	take_health(n, agg, hs);
}

size_t notify_take(struct notifier *n, struct notification *out, size_t max)
{
	size_t k = n->count < max ? n->count : max;

	for (size_t i = 0; i < k; i++)
		out[i] = n->held[(n->head + i) % NOTIFY_HELD_MAX];
	n->head = (n->head + k) % NOTIFY_HELD_MAX;
	n->count -= k;
	return k;
}

void notify_sent(struct notifier *n, size_t sent, size_t untold)
{
	store_begin(n->st);
	hdr_w(n)->sent += sent;
	hdr_w(n)->dropped += untold;
	store_commit(n->st);
}

void notify_get_stats(const struct notifier *n, const struct thresh_set *ts,
		      struct notify_stats *out)
{
	out->sent = n->h->sent;
	out->held = n->count;
	out->dropped = n->h->dropped + thresh_events_dropped(ts);
}
