/*
 * alarm_notify: a ring of held notifications, the health state, and the log
 * line of each notification.
 */
#include "alarm_notify.h"

#include <stddef.h>
#include <stdint.h>
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

/* The held notifications, in the store too: a threshold crossing is held
 * in the transaction that made it, so a kill -9 loses neither.  Entries
 * [head, next) by sequence number, entry seq in slot seq % NOTIFY_HELD_MAX. */
#define HELD_LAYOUT 1u
struct held_slot {
	uint64_t seq;
	struct notification x;
};
struct held_ring {
	uint32_t epoch, pad;
	uint64_t head, next;
	struct held_slot slot[NOTIFY_HELD_MAX];
};

struct notifier {
	struct store *st;
	struct notify_hdr *h;
	struct held_ring *r;
	uint64_t taken;              /* the sink took [head, taken) and is sending them */
	int sink;
	int sampled;                 /* a first sample has set the baselines */
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

/* Save the ring's bounds (once per transaction) before they change. */
static struct held_ring *ring_w(struct notifier *n)
{
	uint32_t epoch = store_epoch(n->st);

	if (n->r->epoch != epoch) {
		store_save(n->st, n->r, offsetof(struct held_ring, slot));
		n->r->epoch = epoch;
	}
	return n->r;
}

/* What the last run held, if it can be right; NULL, or what is wrong. */
static const char *held_check(const struct held_ring *r)
{
	if (r->next < r->head || r->next - r->head > NOTIFY_HELD_MAX)
		return "its queue's bounds are impossible";
	for (uint64_t q = r->head; q < r->next; q++) {
		const struct held_slot *s = &r->slot[q % NOTIFY_HELD_MAX];

		if (s->seq != q || s->x.kind < NOTIFY_RISING || s->x.kind > NOTIFY_EVICTING ||
		    s->x.alarm.key.len > AGG_KEY_MAX)
			return "a held notification that cannot be right";
	}
	return NULL;
}

static int open_held(struct notifier *n)
{
	enum store_origin o;
	const char *why;

	n->r = store_region(n->st, "notify-held", HELD_LAYOUT, sizeof(*n->r), &o);
	if (n->r && o == STORE_KEPT && (why = held_check(n->r)) != NULL)
		n->r = store_region_reset(n->st, n->r, why);
	if (!n->r)
		return -1;
	n->r->epoch = 0;
	n->taken = n->r->head;
	return 0;
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
	if (!n->h || open_held(n) < 0) {
		if (n->h)
			store_region_release(st, n->h);
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
	store_region_release(n->st, n->r);
	free(n);
}

size_t notify_save_max(size_t alarms)
{
	return offsetof(struct held_ring, slot) + sizeof(struct notify_hdr) +
	       alarms * (sizeof(struct held_slot) + 32) + 128;
}

static void hold(struct notifier *n, const struct notification *x)
{
	struct held_ring *r;
	struct held_slot *s;

	if (!n->sink)
		return;
	r = ring_w(n);
	if (r->next - r->head == NOTIFY_HELD_MAX) { /* the oldest goes: the newest says more */
		if (r->head >= n->taken) /* (one being sent is counted as sent) */
			hdr_w(n)->dropped++;
		r->head++;
	}
	s = &r->slot[r->next % NOTIFY_HELD_MAX];
	store_save(n->st, s, sizeof(*s));
	s->seq = r->next++;
	s->x = *x;
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

size_t notify_take_alarms(struct notifier *n, struct thresh_set *ts, struct agg_set *agg,
			  size_t max)
{
	struct alarm_event ev[64];
	size_t k, all = 0;

	while (all < max && (k = thresh_take_events(ts, ev, max - all < 64 ? max - all : 64)) > 0) {
		all += k;
		for (size_t i = 0; i < k; i++) {
			struct notification x;

			memset(&x, 0, sizeof(x));
			x.kind = ev[i].kind == ALARM_RISING ? NOTIFY_RISING : NOTIFY_FALLING;
			x.alarm = ev[i];
			log_alarm(ts, agg, &ev[i]);
			hold(n, &x);
		}
	}
	return all;
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
	notify_take_alarms(n, ts, agg, SIZE_MAX);
	take_health(n, agg, hs);
}

size_t notify_take(struct notifier *n, struct notification *out, size_t max)
{
	const struct held_ring *r = n->r;
	size_t k = r->next - r->head < max ? (size_t)(r->next - r->head) : max;

	for (size_t i = 0; i < k; i++)
		out[i] = r->slot[(r->head + i) % NOTIFY_HELD_MAX].x;
	n->taken = r->head + k;
	return k;
}

void notify_sent(struct notifier *n, size_t sent, size_t untold)
{
	store_begin(n->st);
	if (n->r->head < n->taken)
		ring_w(n)->head = n->taken;
	hdr_w(n)->sent += sent;
	hdr_w(n)->dropped += untold;
	store_commit(n->st);
}

void notify_get_stats(const struct notifier *n, const struct thresh_set *ts,
		      struct notify_stats *out)
{
	out->sent = n->h->sent;
	out->held = n->r->next - n->r->head;
	out->dropped = n->h->dropped + thresh_events_dropped(ts);
}
