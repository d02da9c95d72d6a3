/*
 * alarm_notify: the one owner of notifications.
 *
 * Once a second (notify_tick) it collects what is to be notified: the
 * threshold alarms raised since (alarm_thresh) and ctflowd's own health
 * events, judged from a sample of its counters (alarm_health).  Each goes to
 * the log, the sink that is always there, and is held for the SNMP sink
 * (when there is one) until it has sent it: up to NOTIFY_HELD_MAX, the
 * oldest dropped first and counted, since the newest says more.  The held
 * notifications and the counts of those sent and dropped are kept in the
 * store, across restarts and kill -9: a threshold alarm is held in the
 * transaction of the update that raised it (notify_take_alarms), and leaves
 * once sent (at least once: a kill between the send and its record sends it
 * again).
 */
#ifndef CTFLOWD_ALARM_NOTIFY_H
#define CTFLOWD_ALARM_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "agg_profile.h"
#include "alarm_health.h"
#include "alarm_thresh.h"
#include "base_store.h"

#define NOTIFY_HELD_MAX 256

/* The kinds, numbered as CTFLOW-MIB's notifications (ctflowNotifications.N). */
enum notify_kind {
	NOTIFY_RISING = 1, NOTIFY_FALLING, NOTIFY_LOSS, NOTIFY_ACCT_OFF, NOTIFY_EVICTING,
};

struct notification {
	uint8_t kind;               /* enum notify_kind */
	struct alarm_event alarm;   /* RISING, FALLING */
	uint32_t profile;           /* EVICTING: the profile's position */
};

struct notify_stats {
	uint64_t sent;              /* taken by the SNMP sink and sent */
	uint64_t held;              /* waiting for it now */
	uint64_t dropped;           /* lost: the held queue was full, more alarms at once
				     * than the threshold engine's queue holds, or what
				     * they were about went before they were sent */
};

struct notifier;

/*
 * With sink = 0 nothing is held (only logged).  counters_kept: the counters
 * health is judged from are the last run's; if the notifier's own state is
 * new (a first start with this version), their values so far are taken as
 * told, not notified again.  NULL on failure.
 */
struct notifier *notify_new(struct store *st, int sink, int counters_kept);
void notify_free(struct notifier *n);

/*
 * Once a second: what the thresholds raised and what the health sample
 * says, logged (names and keys from ts and agg) and held.  In a store
 * transaction (the counters).
 */
void notify_tick(struct notifier *n, struct thresh_set *ts, struct agg_set *agg,
		 const struct health_sample *hs);

/*
 * On the event path, inside the transaction of the update: up to max alarms
 * the thresholds raised, logged and held, so the crossing and its
 * notification are committed together.
 */
size_t notify_take_alarms(struct notifier *n, struct thresh_set *ts, struct agg_set *agg,
			  size_t max);
/* The journal one notify_take_alarms(max) may need. */
size_t notify_save_max(size_t alarms);

/* The SNMP sink: up to max held notifications, oldest first (they stay held
 * until notify_sent says they went). */
size_t notify_take(struct notifier *n, struct notification *out, size_t max);
/* ... of which `sent` were sent, and `untold` could no longer be told (their
 * threshold or profile went meanwhile: counted as dropped); they leave the
 * queue.  A store transaction of its own: called between the loop's. */
void notify_sent(struct notifier *n, size_t sent, size_t untold);

void notify_get_stats(const struct notifier *n, const struct thresh_set *ts,
		      struct notify_stats *out);

#endif
