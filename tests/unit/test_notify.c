/*
 * test_notify: the owner of notifications.  What the thresholds raise and
 * what health says is logged and held for the SNMP sink, oldest first; a
 * full queue drops the oldest and counts it; without a sink nothing is
 * held; the counts survive a restart, and so do health's baselines (a loss
 * told in an earlier run is not told again), while on a fresh state a loss
 * from the first second is told.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alarm_notify.h"
#include "base_log.h"
#include "tap.h"

#define TAP_NAME "test_notify"

static struct store *open_dir(const char *dir)
{
	char err[256];
	struct store *st = store_open(dir, 1 << 20, 4096, err, sizeof(err));

	if (!st)
		printf("  # %s\n", err);
	return st;
}

static struct thresh_set *one_threshold(uint64_t rising)
{
	struct thresh_def d;

	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "big");
	d.proto = d.port = -1;
	d.metric = THRESH_BYTES;
	d.dir = THRESH_SENT;
	d.window_s = 1;
	d.rising = rising;
	d.falling = rising / 2;
	d.max_rows = 100000;
	return thresh_set_new(&d, 1);
}

static struct agg_set *host_profile(struct store *st)
{
	struct agg_profile_def def;
	char err[128];

	memset(&def, 0, sizeof(def));
	snprintf(def.name, sizeof(def.name), "host");
	CHECK(agg_keyspec_parse("host", &def.spec, err, sizeof(err)) == 0);
	def.rows = 1000;
	return agg_set_new(&def, 1, st, NULL, NULL);
}

/* n rows over the threshold: n rising alarms */
static void raise_alarms(struct thresh_set *ts, struct agg_set *agg, unsigned n, uint32_t now)
{
	const struct agg_keyspec *ks = &agg_set_profile(agg, 0)->spec;

	for (unsigned i = 0; i < n; i++) {
		struct ct_flow f;
		struct agg_key k;
		const uint64_t pkts[2] = { 1, 0 }, bytes[2] = { 5000, 0 };

		memset(&f, 0, sizeof(f));
		memset(&k, 0, sizeof(k));
		f.family = AF_INET;
		f.tuple[0].src.w[0] = htonl(0x0a000000u + i + 1);
		f.tuple[0].proto = 6;
		f.tuple[1] = f.tuple[0];
		agg_key_build(ks, &f, AGG_SIDE_SRC, &k);
		thresh_update(ts, 0, ks, &k, pkts, bytes, 0, now);
	}
}

static void tick(struct store *st, struct notifier *n, struct thresh_set *ts,
		 struct agg_set *agg, const struct health_sample *hs)
{
	store_begin(st);
	notify_tick(n, ts, agg, hs);
	store_commit(st);
}

static void alarms_are_held_oldest_first_and_the_oldest_dropped(void)
{
	struct store *st = open_dir("");
	struct agg_set *agg = host_profile(st);
	struct thresh_set *ts = one_threshold(1000);
	struct notifier *n = notify_new(st, 1, 0);
	struct health_sample hs = { .now = 100, .acct = 1 };
	struct notification out[NOTIFY_HELD_MAX];
	struct notify_stats ns;

	raise_alarms(ts, agg, NOTIFY_HELD_MAX + 10, 100);
	tick(st, n, ts, agg, &hs);
	notify_get_stats(n, ts, &ns);
	CHECK_EQ_U(ns.held, NOTIFY_HELD_MAX);
	CHECK_EQ_U(ns.dropped, 10);
	CHECK_EQ_U(notify_take(n, out, 4), 4);
	CHECK_EQ_U(out[0].kind, NOTIFY_RISING);
	/* the 11th raised (10.0.0.11) is the oldest kept */
	struct agg_key_fields kf;

	CHECK(agg_key_decode(&agg_set_profile(agg, 0)->spec, &out[0].alarm.key, &kf) == 0);
	CHECK_EQ_U(kf.addr[0].b[3], 11);
	notify_sent(n, 3, 1);
	notify_get_stats(n, ts, &ns);
	CHECK_EQ_U(ns.sent, 3);
	CHECK_EQ_U(ns.dropped, 11);
	CHECK_EQ_U(ns.held, NOTIFY_HELD_MAX - 4);
	notify_free(n);
	thresh_set_free(ts);
	agg_set_free(agg);
	store_close(st);
}

static void without_a_sink_nothing_is_held(void)
{
	struct store *st = open_dir("");
	struct agg_set *agg = host_profile(st);
	struct thresh_set *ts = one_threshold(1000);
	struct notifier *n = notify_new(st, 0, 0);
	struct health_sample hs = { .now = 100, .acct = 0, .lost = 5 };
	struct notify_stats ns;

	raise_alarms(ts, agg, 3, 100);
	tick(st, n, ts, agg, &hs);
	notify_get_stats(n, ts, &ns);
	CHECK_EQ_U(ns.held, 0);
	CHECK_EQ_U(ns.dropped, 0);
	notify_free(n);
	thresh_set_free(ts);
	agg_set_free(agg);
	store_close(st);
}

/* Health: a loss in the first second of a fresh state is told; after a
 * restart on kept state it is not told again, a new loss is. */
static void health_baselines_survive_a_restart(void)
{
	char dir[] = "/tmp/test_notify.XXXXXX", cmd[64];
	struct health_sample hs = { .now = 1000, .acct = 1, .lost = 7 };
	struct notification out[8];
	struct notify_stats ns;

	CHECK(mkdtemp(dir) != NULL);
	struct store *st = open_dir(dir);
	struct agg_set *agg = host_profile(st);
	struct thresh_set *ts = one_threshold(1000);
	struct notifier *n = notify_new(st, 1, 0);

	tick(st, n, ts, agg, &hs);
	CHECK_EQ_U(notify_take(n, out, 8), 1);
	CHECK_EQ_U(out[0].kind, NOTIFY_LOSS);
	notify_sent(n, 1, 0);
	notify_free(n);
	agg_set_free(agg);
	store_seal(st);
	store_close(st);

	st = open_dir(dir);
	agg = host_profile(st);
	n = notify_new(st, 1, 1);
	hs.now = 2000;
	tick(st, n, ts, agg, &hs);
	CHECK_EQ_U(notify_take(n, out, 8), 0); /* told in the last run */
	notify_get_stats(n, ts, &ns);
	CHECK_EQ_U(ns.sent, 1);
	hs.lost = 9;
	hs.now = 3000;
	tick(st, n, ts, agg, &hs);
	CHECK_EQ_U(notify_take(n, out, 8), 1);
	notify_free(n);
	agg_set_free(agg);
	thresh_set_free(ts);
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

/* A process's worth of state: the store in dir, the host profile, the
 * notifier; gone as a kill leaves it (nothing sealed). */
struct proc {
	struct store *st;
	struct agg_set *agg;
	struct notifier *n;
};

static void proc_start(struct proc *p, const char *dir, int kept)
{
	p->st = open_dir(dir);
	p->agg = host_profile(p->st);
	p->n = notify_new(p->st, 1, kept);
}

static void proc_kill(struct proc *p)
{
	notify_free(p->n);
	agg_set_free(p->agg);
	store_close(p->st);
}

/* An alarm is held in the transaction that raised it: committed, it is
 * there after a kill (and sent again if the kill came before its send was
 * recorded); not committed, it is gone with the update that raised it. */
static void held_alarms_survive_a_kill(void)
{
	char dir[] = "/tmp/test_notify.XXXXXX", cmd[64];
	struct health_sample hs = { .now = 1000, .acct = 1 };
	struct notification out[8];
	struct notify_stats ns;
	struct thresh_set *ts = one_threshold(1000);
	struct proc p;

	CHECK(mkdtemp(dir) != NULL);
	proc_start(&p, dir, 0);
	tick(p.st, p.n, ts, p.agg, &hs); /* the health baselines */
	store_begin(p.st);
	raise_alarms(ts, p.agg, 1, 1000);
	CHECK_EQ_U(notify_take_alarms(p.n, ts, p.agg, 16), 1);
	store_commit(p.st);
	CHECK_EQ_U(notify_take(p.n, out, 8), 1);
	proc_kill(&p); /* while sending it: nothing recorded */

	proc_start(&p, dir, 1);
	CHECK_EQ_U(notify_take(p.n, out, 8), 1);
	CHECK_EQ_U(out[0].kind, NOTIFY_RISING);
	CHECK_EQ_U(out[0].alarm.key.len > 0, 1);
	notify_sent(p.n, 1, 0);
	store_begin(p.st); /* raised, and killed before the transaction ends */
	raise_alarms(ts, p.agg, 2, 1001);
	CHECK_EQ_U(notify_take_alarms(p.n, ts, p.agg, 16), 1); /* (10.0.0.1 is over already) */
	proc_kill(&p);

	proc_start(&p, dir, 1);
	CHECK_EQ_U(notify_take(p.n, out, 8), 0);
	notify_get_stats(p.n, ts, &ns);
	CHECK_EQ_U(ns.sent, 1);
	CHECK_EQ_U(ns.held, 0);
	proc_kill(&p);
	thresh_set_free(ts);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	log_init(1, LOG_LVL_ERR); /* what they log is the daemon's business */
	RUN(alarms_are_held_oldest_first_and_the_oldest_dropped);
	RUN(without_a_sink_nothing_is_held);
	RUN(health_baselines_survive_a_restart);
	RUN(held_alarms_survive_a_kill);
	TAP_DONE();
}
