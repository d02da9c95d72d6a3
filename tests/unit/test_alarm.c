/*
 * test_alarm: threshold alarms on aggregation rows.  RMON hysteresis (one
 * rising event, none while sustained, one falling event, again only after
 * falling), the sliding window, per-row independence, which rows a
 * threshold watches (prefix, port), the notification rate limit, the bound
 * on watched rows, the alarm table's key order.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "alarm_health.h"
#include "alarm_thresh.h"
#include "tap.h"

#define TAP_NAME "test_alarm"

static struct agg_keyspec spec_of(const char *text)
{
	struct agg_keyspec ks;
	char err[128];

	memset(&ks, 0, sizeof(ks));
	CHECK(agg_keyspec_parse(text, &ks, err, sizeof(err)) == 0);
	return ks;
}

static struct agg_key key_of(const struct agg_keyspec *ks, const char *src, uint16_t dport)
{
	struct ct_flow f;
	struct agg_key k;

	memset(&f, 0, sizeof(f));
	memset(&k, 0, sizeof(k));
	f.family = AF_INET;
	inet_pton(AF_INET, src, &f.tuple[0].src);
	inet_pton(AF_INET, "192.0.2.1", &f.tuple[0].dst);
	f.tuple[0].proto = 6;
	f.tuple[0].sport = 40000;
	f.tuple[0].dport = dport;
	f.tuple[1] = f.tuple[0];
	agg_key_build(ks, &f, AGG_SIDE_SRC, &k);
	return k;
}

static struct thresh_def def_bytes(uint64_t rising, uint64_t falling, uint32_t window)
{
	struct thresh_def d;

	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "t");
	d.proto = d.port = -1;
	d.metric = THRESH_BYTES;
	d.dir = THRESH_SENT;
	d.window_s = window;
	d.rising = rising;
	d.falling = falling;
	d.max_rows = 100;
	return d;
}

static void send_bytes(struct thresh_set *ts, const struct agg_keyspec *ks,
		       const struct agg_key *k, uint64_t n, uint32_t now)
{
	const uint64_t pkts[2] = { 1, 0 }, bytes[2] = { n, 0 };

	thresh_update(ts, 0, ks, k, pkts, bytes, 0, now);
}

static size_t events(struct thresh_set *ts, struct alarm_event *ev, size_t max)
{
	return thresh_take_events(ts, ev, max);
}

static void one_rising_then_one_falling(void)
{
	struct agg_keyspec ks = spec_of("host");
	struct agg_key a = key_of(&ks, "10.0.0.1", 80);
	struct thresh_def d = def_bytes(1000, 500, 10);
	struct thresh_set *ts = thresh_set_new(&d, 1);
	struct alarm_event ev[8];
	uint32_t t = 1000000;

	/* 5000 bytes a second: 500/s after the first second, 1000/s after two */
	send_bytes(ts, &ks, &a, 5000, t);
	thresh_tick(ts, t);
	CHECK_EQ_U(events(ts, ev, 8), 0);
	send_bytes(ts, &ks, &a, 5000, t + 1);
	CHECK_EQ_U(events(ts, ev, 8), 1);
	CHECK_EQ_U(ev[0].kind, ALARM_RISING);
	CHECK_EQ_U(ev[0].thresh, 1);
	CHECK_EQ_U(ev[0].rate, 1000);
	CHECK_EQ_U(ev[0].value, 1000);
	CHECK_EQ_U(ev[0].window_s, 10);
	CHECK(agg_key_cmp(&ev[0].key, &a) == 0);
	/* sustained for 30 s: nothing more */
	for (uint32_t s = 2; s < 32; s++) {
		send_bytes(ts, &ks, &a, 5000, t + s);
		thresh_tick(ts, t + s);
	}
	CHECK_EQ_U(events(ts, ev, 8), 0);
	struct thresh_stats st;

	thresh_get_stats(ts, 0, &st);
	CHECK_EQ_U(st.over, 1);
	/* it stops: 5000/s falls by 500/s each second as the window empties,
	 * to 500/s (the falling value) when only the last second is left */
	for (uint32_t s = 32; s < 40; s++)
		thresh_tick(ts, t + s);
	CHECK_EQ_U(events(ts, ev, 8), 0);
	thresh_tick(ts, t + 40);
	CHECK_EQ_U(events(ts, ev, 8), 1);
	CHECK_EQ_U(ev[0].kind, ALARM_FALLING);
	CHECK_EQ_U(ev[0].rate, 500);
	CHECK_EQ_U(ev[0].value, 500);
	/* quiet: the row is forgotten once its window is empty */
	for (uint32_t s = 41; s < 50; s++)
		thresh_tick(ts, t + s);
	thresh_get_stats(ts, 0, &st);
	CHECK_EQ_U(st.watched, 0);
	CHECK_EQ_U(st.over, 0);
	CHECK_EQ_U(st.rising, 1);
	CHECK_EQ_U(st.falling, 1);
	CHECK_EQ_U(events(ts, ev, 8), 0);
	thresh_set_free(ts);
}

static void between_the_values_nothing_happens(void)
{
	struct agg_keyspec ks = spec_of("host");
	struct agg_key a = key_of(&ks, "10.0.0.1", 80);
	struct thresh_def d = def_bytes(1000, 500, 1);
	struct thresh_set *ts = thresh_set_new(&d, 1);
	struct alarm_event ev[8];
	uint32_t t = 2000000;

	send_bytes(ts, &ks, &a, 2000, t); /* rising */
	thresh_tick(ts, t);
	for (uint32_t s = 1; s < 10; s++) { /* 700/s: below rising, above falling */
		send_bytes(ts, &ks, &a, 700, t + s);
		thresh_tick(ts, t + s);
	}
	CHECK_EQ_U(events(ts, ev, 8), 1);
	CHECK_EQ_U(ev[0].kind, ALARM_RISING);
	/* 400/s: falling; then 700/s again: not rising (below 1000); 1500: rising */
	send_bytes(ts, &ks, &a, 400, t + 10);
	thresh_tick(ts, t + 10);
	send_bytes(ts, &ks, &a, 700, t + 11);
	thresh_tick(ts, t + 11);
	send_bytes(ts, &ks, &a, 1500, t + 12);
	CHECK_EQ_U(events(ts, ev, 8), 2);
	CHECK_EQ_U(ev[0].kind, ALARM_FALLING);
	CHECK_EQ_U(ev[1].kind, ALARM_RISING);
	thresh_set_free(ts);
}

static void rows_are_independent_and_filtered(void)
{
	struct agg_keyspec ks = spec_of("host");
	struct agg_key a = key_of(&ks, "10.0.0.1", 80), b = key_of(&ks, "10.0.0.9", 80);
	struct agg_key outside = key_of(&ks, "10.0.1.1", 80);
	struct thresh_def d = def_bytes(100, 50, 1);
	struct alarm_event ev[8];
	uint32_t t = 3000000;

	d.family = 1;
	d.plen = 24;
	inet_pton(AF_INET, "10.0.0.0", &d.addr);
	struct thresh_set *ts = thresh_set_new(&d, 1);

	send_bytes(ts, &ks, &a, 1000, t);
	send_bytes(ts, &ks, &outside, 1000, t);
	send_bytes(ts, &ks, &b, 1000, t);
	CHECK_EQ_U(events(ts, ev, 8), 2);
	CHECK(agg_key_cmp(&ev[0].key, &a) == 0);
	CHECK(agg_key_cmp(&ev[1].key, &b) == 0);
	/* the alarm table, in key order */
	struct alarm_row r;

	CHECK(thresh_alarm_find(ts, 0, NULL, 1, &r) && agg_key_cmp(&r.key, &a) == 0);
	CHECK(thresh_alarm_find(ts, 0, &a, 1, &r) && agg_key_cmp(&r.key, &b) == 0);
	CHECK(!thresh_alarm_find(ts, 0, &b, 1, &r));
	CHECK(thresh_alarm_find(ts, 0, &b, 0, &r) && r.since == t && r.rate == 1000);
	CHECK(!thresh_alarm_find(ts, 0, &outside, 0, &r));
	thresh_set_free(ts);

	/* a port filter on a service profile */
	struct agg_keyspec svc = spec_of("proto,port");
	struct agg_key https = key_of(&svc, "10.0.0.1", 443), http = key_of(&svc, "10.0.0.1", 80);

	d = def_bytes(100, 50, 1);
	d.port = 443;
	ts = thresh_set_new(&d, 1);
	send_bytes(ts, &svc, &http, 1000, t);
	send_bytes(ts, &svc, &https, 1000, t);
	CHECK_EQ_U(events(ts, ev, 8), 1);
	CHECK(agg_key_cmp(&ev[0].key, &https) == 0);
	thresh_set_free(ts);
}

static void one_pair_by_both_addresses(void)
{
	struct agg_keyspec ks = spec_of("src, dst");
	struct agg_key a = key_of(&ks, "10.0.0.1", 80), b = key_of(&ks, "10.0.0.2", 80);
	struct thresh_def d = def_bytes(100, 50, 1);
	struct alarm_event ev[8];

	/* key_of's flows all go to 192.0.2.1: that destination, from 10.0.0.1 only */
	d.family = d.family2 = 1;
	d.plen = d.plen2 = 32;
	inet_pton(AF_INET, "10.0.0.1", &d.addr);
	inet_pton(AF_INET, "192.0.2.1", &d.addr2);
	struct thresh_set *ts = thresh_set_new(&d, 1);

	send_bytes(ts, &ks, &b, 1000, 100);
	send_bytes(ts, &ks, &a, 1000, 100);
	CHECK_EQ_U(events(ts, ev, 8), 1);
	CHECK(agg_key_cmp(&ev[0].key, &a) == 0);
	thresh_set_free(ts);
	/* another destination: nothing */
	inet_pton(AF_INET, "192.0.2.9", &d.addr2);
	ts = thresh_set_new(&d, 1);
	send_bytes(ts, &ks, &a, 1000, 100);
	CHECK_EQ_U(events(ts, ev, 8), 0);
	thresh_set_free(ts);
}

static void notifications_are_rate_limited(void)
{
	struct agg_keyspec ks = spec_of("host");
	struct agg_key a = key_of(&ks, "10.0.0.1", 80);
	struct thresh_def d = def_bytes(100, 50, 1);
	struct alarm_event ev[64];
	struct thresh_stats st;
	uint32_t t = 4000000;

	d.notify_per_min = 4;
	struct thresh_set *ts = thresh_set_new(&d, 1);

	/* flapping every second for 10 s: 10 transitions, 4 notifications (the
	 * refill, 4 a minute, does not make up a fifth in that time) */
	for (uint32_t s = 0; s < 10; s++) {
		if (s % 2 == 0)
			send_bytes(ts, &ks, &a, 1000, t + s);
		thresh_tick(ts, t + s);
	}
	thresh_get_stats(ts, 0, &st);
	CHECK_EQ_U(events(ts, ev, 64), 4);
	CHECK_EQ_U(st.rising + st.falling, 10);
	CHECK_EQ_U(st.suppressed, 6);
	/* a minute later the budget is back */
	send_bytes(ts, &ks, &a, 1000, t + 80);
	CHECK_EQ_U(events(ts, ev, 64), 1);
	thresh_set_free(ts);
}

static void watched_rows_are_bounded(void)
{
	struct agg_keyspec ks = spec_of("host");
	struct thresh_def d = def_bytes(1000000, 1, 10);
	struct thresh_stats st;
	char addr[32];

	d.max_rows = 3;
	struct thresh_set *ts = thresh_set_new(&d, 1);

	for (int i = 1; i <= 5; i++) {
		snprintf(addr, sizeof(addr), "10.0.0.%d", i);
		struct agg_key k = key_of(&ks, addr, 80);

		send_bytes(ts, &ks, &k, 10, 5000000);
	}
	thresh_get_stats(ts, 0, &st);
	CHECK_EQ_U(st.watched, 3);
	CHECK_EQ_U(st.refused, 2);
	/* once their windows empty, the slots are free again */
	thresh_tick(ts, 5000000 + 20);
	thresh_get_stats(ts, 0, &st);
	CHECK_EQ_U(st.watched, 0);
	thresh_set_free(ts);
}

/* Memory follows the rows watched: a threshold allowed a million rows
 * holds none until traffic comes, grows by doubling, and all thresholds
 * together never hold more than the budget; what the budget refuses is
 * counted, and removing a threshold gives its rows back. */
static void memory_is_taken_as_rows_are_watched_within_the_budget(void)
{
	struct agg_keyspec ks = spec_of("host");
	struct thresh_def d[2] = { def_bytes(1000000, 1, 10), def_bytes(1000000, 1, 10) };
	struct thresh_stats st;
	char addr[32];

	d[0].max_rows = d[1].max_rows = THRESH_ROWS_MAX;
	snprintf(d[1].name, sizeof(d[1].name), "u");
	struct thresh_set *ts = thresh_set_new(d, 2);

	CHECK(ts != NULL);
	if (!ts)
		return;
	thresh_set_budget(ts, 100);
	CHECK_EQ_U(thresh_rows_held(ts), 0);
	for (int i = 1; i <= 20; i++) {
		snprintf(addr, sizeof(addr), "10.0.1.%d", i);
		struct agg_key k = key_of(&ks, addr, 80);

		send_bytes(ts, &ks, &k, 10, 5000000);
	}
	thresh_get_stats(ts, 0, &st);
	CHECK_EQ_U(st.watched, 20);
	CHECK_EQ_U(st.refused, 0);
	/* both thresholds watch the same 20 rows: 32 held each (16, then 32) */
	CHECK_EQ_U(thresh_rows_held(ts), 64);
	for (int i = 21; i <= 120; i++) {
		snprintf(addr, sizeof(addr), "10.0.2.%d", i);
		struct agg_key k = key_of(&ks, addr, 80);

		send_bytes(ts, &ks, &k, 10, 5000000);
	}
	CHECK_EQ_U(thresh_rows_held(ts), 100);
	struct thresh_stats st1;

	thresh_get_stats(ts, 0, &st);
	thresh_get_stats(ts, 1, &st1);
	CHECK_EQ_U(st.watched + st1.watched, 100);
	CHECK_EQ_U(st.refused + st1.refused, 240 - 100);
	/* every row still found after the arena moved and the chains were rebuilt */
	for (int i = 1; i <= 20; i++) {
		snprintf(addr, sizeof(addr), "10.0.1.%d", i);
		struct agg_key k = key_of(&ks, addr, 80);
		struct alarm_row r;

		send_bytes(ts, &ks, &k, 2000000 * 10, 5000000);
		CHECK(thresh_alarm_find(ts, 0, &k, 0, &r) == 1);
	}
	thresh_get_stats(ts, 0, &st);
	CHECK_EQ_U(st.over, 20);
	/* the first grew to 64 rows, the second got the 36 left of the budget */
	CHECK_EQ_U(st.watched, 64);
	thresh_remove(ts, thresh_index_at(ts, 1));
	CHECK_EQ_U(thresh_rows_held(ts), 64);
	thresh_set_free(ts);
}

static void health_notifies_loss_acct_and_eviction_sparingly(void)
{
	struct health_state st;
	struct health_sample s;
	struct health_event ev[8];

	memset(&st, 0, sizeof(st));
	memset(&s, 0, sizeof(s));
	s.now = 1000;
	s.acct = 1;
	s.nprofiles = 2;
	CHECK_EQ_U(health_check(&st, &s, ev, 8), 0);
	/* a loss: notified at once */
	s.overruns = 1;
	CHECK_EQ_U(health_check(&st, &s, ev, 8), 1);
	CHECK_EQ_U(ev[0].kind, HEALTH_LOSS);
	/* more loss within the minute: held back, then notified once */
	s.now = 1010;
	s.lost = 500;
	CHECK_EQ_U(health_check(&st, &s, ev, 8), 0);
	s.now = 1030;
	s.unobserved = 7;
	CHECK_EQ_U(health_check(&st, &s, ev, 8), 0);
	s.now = 1060;
	CHECK_EQ_U(health_check(&st, &s, ev, 8), 1);
	s.now = 1200; /* nothing new: nothing */
	CHECK_EQ_U(health_check(&st, &s, ev, 8), 0);
	/* accounting off: once, and again after it came back on */
	s.acct = 0;
	CHECK_EQ_U(health_check(&st, &s, ev, 8), 1);
	CHECK_EQ_U(ev[0].kind, HEALTH_ACCT_OFF);
	s.now++;
	CHECK_EQ_U(health_check(&st, &s, ev, 8), 0);
	s.acct = 1;
	s.now++;
	CHECK_EQ_U(health_check(&st, &s, ev, 8), 0);
	s.acct = 0;
	s.now++;
	CHECK_EQ_U(health_check(&st, &s, ev, 8), 1);
	/* profile 2 evicts: once a minute at most, with its position */
	s.evictions[1] = 10;
	s.now = 2000;
	CHECK_EQ_U(health_check(&st, &s, ev, 8), 1);
	CHECK_EQ_U(ev[0].kind, HEALTH_EVICTING);
	CHECK_EQ_U(ev[0].profile, 1);
	s.evictions[1] = 20;
	s.now = 2030;
	CHECK_EQ_U(health_check(&st, &s, ev, 8), 0);
	s.now = 2060;
	CHECK_EQ_U(health_check(&st, &s, ev, 8), 1);
}

int main(void)
{
	RUN(one_rising_then_one_falling);
	RUN(between_the_values_nothing_happens);
	RUN(rows_are_independent_and_filtered);
	RUN(one_pair_by_both_addresses);
	RUN(notifications_are_rate_limited);
	RUN(watched_rows_are_bounded);
	RUN(memory_is_taken_as_rows_are_watched_within_the_budget);
	RUN(health_notifies_loss_acct_and_eviction_sparingly);
	TAP_DONE();
}
