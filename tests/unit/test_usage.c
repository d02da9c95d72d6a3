/*
 * test_usage: usage per period.  The roll-over arithmetic (month lengths, a
 * month starting on another day, weeks, time zones, both DST changes, a
 * midnight that does not exist), the buckets (a period rolls over without a
 * pass, a late slice lands in its own period or is counted as late), a
 * profile keeping periods across a restart of its store, and quota levels
 * (period thresholds): once per level, row and period, a closing read, and
 * no second notification after a restart.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agg_profile.h"
#include "alarm_thresh.h"
#include "flow4.h"
#include "tap.h"

#define TAP_NAME "test_usage"

static void zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static struct usage_def def_of(const char *periods, unsigned keep, unsigned month_day)
{
	struct usage_def d;
	char err[200];

	memset(&d, 0, sizeof(d));
	if (usage_parse(periods, &d, err, sizeof(err)) < 0)
		printf("  # %s: %s\n", periods, err);
	d.keep = (uint8_t)keep;
	d.month_day = (uint8_t)month_day;
	return d;
}

/* The period of kind 0 holding t: its bounds. */
static void bounds_at(const struct usage_def *d, int64_t t, int64_t *start, int64_t *end)
{
	usage_bounds(d, 0, usage_ordinal(d, 0, t), start, end);
}

static void periods_parse_and_refuse(void)
{
	struct usage_def d;
	char err[200], text[80];

	d = def_of("day, month,4s ,6h", 3, 1);
	CHECK_EQ_U(d.n, 4);
	CHECK_EQ_U(d.k[2].unit, USAGE_SECONDS);
	CHECK_EQ_U(d.k[2].seconds, 4);
	CHECK_EQ_U(d.k[3].seconds, 6 * 3600);
	usage_format(&d, text, sizeof(text));
	CHECK(strcmp(text, "day,month,4s,6h") == 0);
	CHECK(usage_parse("fortnight", &d, err, sizeof(err)) < 0 && strstr(err, "fortnight"));
	CHECK(usage_parse("0s", &d, err, sizeof(err)) < 0);
	CHECK(usage_parse("400d", &d, err, sizeof(err)) < 0);
	CHECK(usage_parse("367h0", &d, err, sizeof(err)) < 0);
	CHECK(usage_parse("day,day", &d, err, sizeof(err)) < 0 && strstr(err, "twice"));
	CHECK(usage_parse("day,week,month,1h,2h", &d, err, sizeof(err)) < 0);
	CHECK(usage_parse("", &d, err, sizeof(err)) == 0 && d.n == 0);
	CHECK_EQ_U(usage_row_bytes(&(struct usage_def){ .n = 2, .keep = 3 }),
		   2 * 4 * sizeof(struct usage_bucket));
}

static void months_have_their_lengths(void)
{
	struct usage_def d = def_of("month", 3, 1), mid = def_of("month", 3, 15);
	int64_t s, e;

	zone("UTC");
	bounds_at(&d, 1707998400, &s, &e); /* 2024-02-15: a leap year */
	CHECK_EQ_U(s, 1706745600);
	CHECK_EQ_U(e, 1709251200);
	CHECK_EQ_U((e - s) / 86400, 29);
	bounds_at(&d, 1675209600 + 86400 * 10, &s, &e); /* February 2023 */
	CHECK_EQ_U((e - s) / 86400, 28);
	/* a month from the 15th: 2026-01-10 is in the one from 2025-12-15 */
	bounds_at(&mid, 1768046400, &s, &e);
	CHECK_EQ_U(s, 1765756800);
	CHECK_EQ_U(e, 1768435200);
	CHECK_EQ_U(usage_ordinal(&mid, 0, 1768435200 - 1) + 1, usage_ordinal(&mid, 0, 1768435200));
	/* December rolls into January of the next year */
	CHECK_EQ_U(usage_ordinal(&d, 0, 1767225600 - 1) + 1, usage_ordinal(&d, 0, 1767225600));
}

static void weeks_begin_on_monday(void)
{
	struct usage_def d = def_of("week", 1, 1);
	int64_t s, e;

	zone("UTC");
	bounds_at(&d, 1796817600, &s, &e); /* Wednesday 2026-12-09 */
	CHECK_EQ_U(s, 1796601600);         /* Monday 2026-12-07 */
	CHECK_EQ_U(e, 1797206400);
}

static void days_follow_the_time_zone(void)
{
	struct usage_def d = def_of("day", 1, 1);
	int64_t s, e;

	zone("Asia/Kolkata"); /* +05:30 */
	bounds_at(&d, 1796589000, &s, &e);
	CHECK_EQ_U(s, 1796581800);
	CHECK_EQ_U(e, 1796668200);
	zone("Europe/Berlin");
	bounds_at(&d, 1774778400, &s, &e); /* 2026-03-29: summer time begins */
	CHECK_EQ_U(s, 1774738800);
	CHECK_EQ_U(e - s, 23 * 3600);
	bounds_at(&d, 1792926000, &s, &e); /* 2026-10-25: it ends */
	CHECK_EQ_U(s, 1792879200);
	CHECK_EQ_U(e - s, 25 * 3600);
	d = def_of("month", 1, 1);
	bounds_at(&d, 1774778400, &s, &e); /* March 2026 lost an hour */
	CHECK_EQ_U(s, 1772319600);
	CHECK_EQ_U(e, 1774994400);
	CHECK_EQ_U(e - s, 31 * 86400 - 3600);
	/* Chile's summer time begins at midnight: 2026-09-06 starts at 01:00 */
	zone("America/Santiago");
	d = def_of("day", 1, 1);
	bounds_at(&d, 1788706800, &s, &e);
	CHECK_EQ_U(s, 1788667200);
	bounds_at(&d, 1788624000, &s, &e); /* the day before ends there */
	CHECK_EQ_U(e, 1788667200);
	zone("UTC");
}

static void seconds_align_to_the_epoch(void)
{
	struct usage_def d = def_of("6h", 1, 1);
	int64_t s, e;

	zone("Asia/Kolkata"); /* not used: N-second periods are UTC */
	bounds_at(&d, 1796589000, &s, &e);
	CHECK_EQ_U(s % (6 * 3600), 0);
	CHECK_EQ_U(e - s, 6 * 3600);
	CHECK(s <= 1796589000 && 1796589000 < e);
	CHECK_EQ_U(usage_next_boundary(&d, 1796589000), e);
	zone("UTC");
}

static const uint64_t P1[2] = { 1, 2 }, B1[2] = { 100, 200 };

/* Roll-over is implicit: a bucket found holding an older period starts
 * anew; a slice from a kept earlier period lands there; an older one is
 * late.  The clock's cache never moves back for a late slice. */
static void buckets_roll_over_and_keep_the_past(void)
{
	struct usage_def d = def_of("10s", 2, 1);
	struct usage_clock c;
	struct usage_bucket area[3], b;
	const struct usage_bucket *cur[USAGE_KINDS_MAX];
	int64_t s, e;

	memset(&c, 0, sizeof(c));
	memset(area, 0, sizeof(area));
	CHECK_EQ_U(usage_add(&c, &d, area, 1005, 1005, P1, B1, 1, cur), 0);
	CHECK(cur[0] != NULL);
	usage_add(&c, &d, area, 1009, 1009, P1, B1, 0, cur);
	usage_add(&c, &d, area, 1012, 1012, P1, B1, 1, cur); /* the next period */
	usage_get(&d, area, 0, 0, 1013, &b, &s, &e);
	CHECK_EQ_U(s, 1010);
	CHECK_EQ_U(e, 1020);
	CHECK_EQ_U(b.bytes[1], 200);
	CHECK_EQ_U(b.flows, 1);
	usage_get(&d, area, 0, 1, 1013, &b, &s, &e);
	CHECK_EQ_U(s, 1000);
	CHECK_EQ_U(b.bytes[0], 200);
	CHECK_EQ_U(b.pkts[1], 4);
	CHECK_EQ_U(b.flows, 1);
	/* a flow that ended at 1008 but is read at 1014 straddled the boundary
	 * in reading only: it counts in its own period */
	usage_add(&c, &d, area, 1008, 1014, P1, B1, 0, cur);
	CHECK(cur[0] != NULL && cur[0]->tag == 101);
	usage_get(&d, area, 0, 1, 1014, &b, &s, &e);
	CHECK_EQ_U(b.bytes[0], 300);
	/* three periods later: 1000-1010 has left the kept ones */
	CHECK_EQ_U(usage_add(&c, &d, area, 1008, 1031, P1, B1, 0, cur), 1);
	CHECK(cur[0] == NULL);
	usage_add(&c, &d, area, 1031, 1031, P1, B1, 0, cur);
	usage_get(&d, area, 0, 0, 1031, &b, &s, &e);
	CHECK_EQ_U(b.bytes[0], 100);
	usage_get(&d, area, 0, 1, 1031, &b, &s, &e); /* 1020-1030: nothing */
	CHECK_EQ_U(b.bytes[0], 0);
	usage_get(&d, area, 0, 2, 1031, &b, &s, &e); /* 1010-1020 */
	CHECK_EQ_U(b.bytes[0], 100);
	/* a period never written reads as zero, not as an older one's totals */
	usage_get(&d, area, 0, 0, 1041, &b, &s, &e);
	CHECK_EQ_U(b.bytes[0], 0);
}

static struct slice slice_at(const struct ct_flow *f, uint64_t t, uint64_t fwd, uint64_t rev)
{
	struct slice s;

	memset(&s, 0, sizeof(s));
	s.flow = f;
	s.flags = SLICE_START | SLICE_END;
	s.reason = SLICE_DESTROY;
	s.time_ns = t * 1000000000ull;
	s.pkts[0] = s.pkts[1] = 1;
	s.bytes[0] = fwd;
	s.bytes[1] = rev;
	return s;
}

static struct agg_profile_def host_def(void)
{
	struct agg_profile_def def;
	char err[200];

	memset(&def, 0, sizeof(def));
	snprintf(def.name, sizeof(def.name), "host");
	agg_keyspec_parse("host", &def.spec, err, sizeof(err));
	def.rows = 16;
	def.usage = def_of("10s", 3, 1);
	return def;
}

static uint64_t rev_bytes(struct agg_set *set, const char *addr, unsigned age, int64_t now)
{
	const struct agg_profile *p = agg_set_profile(set, 0);
	struct ct_flow f = flow4(addr, addr, 17, 1000, 53);
	struct agg_key k = { 0 };
	struct usage_bucket b;
	int64_t s, e;
	uint32_t r;

	agg_key_build(&p->spec, &f, AGG_SIDE_SRC, &k);
	r = agg_table_lookup(p->tab, &k);
	if (!r)
		return UINT64_MAX;
	usage_get(&p->usage, agg_table_extra(p->tab, r), 0, age, now, &b, &s, &e);
	return b.bytes[1];
}

/* A host profile keeps each endpoint's periods from its own side, and they
 * come back after the store is reopened (a restart); a changed period list
 * is a changed profile. */
static void profile_periods_survive_a_restart(void)
{
	char dir[] = "/tmp/ctflowd-test-usage.XXXXXX", err[200], cmd[100];
	struct agg_profile_def def = host_def();
	struct ct_flow f = flow4("10.0.0.1", "10.0.0.2", 17, 1000, 53);
	struct slice s1 = slice_at(&f, 1005, 100, 900), s2 = slice_at(&f, 1012, 10, 90);
	struct store *st;
	struct agg_set *set;

	CHECK(mkdtemp(dir) != NULL);
	st = store_open(dir, 1 << 20, 4096, err, sizeof(err));
	set = agg_set_new(&def, 1, st, NULL, NULL);
	if (!set) {
		CHECK(set != NULL);
		return;
	}
	store_begin(st);
	agg_set_apply(set, &s1, 1005);
	agg_set_apply(set, &s2, 1012);
	store_commit(st);
	CHECK_EQ_U(rev_bytes(set, "10.0.0.2", 0, 1013), 10); /* the server received 10 */
	CHECK_EQ_U(rev_bytes(set, "10.0.0.1", 1, 1013), 900);
	agg_set_free(set);
	store_close(st);
	st = store_open(dir, 1 << 20, 4096, err, sizeof(err));
	set = agg_set_new(&def, 1, st, NULL, NULL);
	CHECK(agg_set_profile(set, 0)->origin == STORE_KEPT);
	CHECK_EQ_U(rev_bytes(set, "10.0.0.1", 0, 1013), 90);
	CHECK_EQ_U(rev_bytes(set, "10.0.0.1", 1, 1013), 900);
	CHECK_EQ_U(agg_set_next_boundary(set, 1013), 1020);
	agg_set_free(set);
	def.usage.keep = 4;
	set = agg_set_new(&def, 1, st, NULL, NULL);
	CHECK(agg_set_profile(set, 0)->origin == STORE_FRESH);
	agg_set_free(set);
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

/* Quota levels: a period threshold fires when an update carries the total
 * across it, once per period; the row is listed until the period ends. */
struct quota_rig {
	struct agg_set *set;
	struct thresh_set *ts;
};

static void to_thresholds(void *arg, size_t profile, const struct agg_keyspec *spec,
			  const struct usage_def *u, const struct agg_key *key,
			  const struct agg_growth *g, uint32_t now)
{
	struct quota_rig *q = arg;

	thresh_usage(q->ts, profile, spec, u, key, g, now);
}

static size_t risings(struct thresh_set *ts, uint64_t *total)
{
	struct alarm_event ev[8];
	size_t n = thresh_take_events(ts, ev, 8);

	for (size_t i = 0; i < n; i++)
		if (total)
			*total = ev[i].rate;
	return n;
}

static void quota_levels_fire_once_per_period(void)
{
	struct agg_profile_def def = host_def();
	struct thresh_def t;
	struct quota_rig q;
	struct ct_flow f = flow4("10.0.0.1", "10.0.0.2", 17, 1000, 53);
	struct slice s;
	struct thresh_stats stats;
	struct alarm_row row;
	uint64_t total = 0;
	char err[200];

	struct store *st = store_open("", 1 << 20, 4096, err, sizeof(err));

	q.set = agg_set_new(&def, 1, st, NULL, NULL);
	thresh_def_init(&t, "cap-80");
	t.profile = 0;
	t.period = 1;
	t.dir = THRESH_RECEIVED;
	t.rising = 800;
	t.storage = THRESH_READONLY;
	q.ts = thresh_set_new(&t, 1);
	agg_set_observe(q.set, to_thresholds, &q);
	store_begin(st);
	s = slice_at(&f, 1001, 500, 0);
	agg_set_apply(q.set, &s, 1001);     /* 10.0.0.2 received 500 */
	CHECK_EQ_U(risings(q.ts, NULL), 0);
	s = slice_at(&f, 1002, 400, 0);
	agg_set_apply(q.set, &s, 1002);     /* 900: reached */
	CHECK_EQ_U(risings(q.ts, &total), 1);
	CHECK_EQ_U(total, 900);
	s = slice_at(&f, 1003, 400, 0);
	agg_set_apply(q.set, &s, 1003);     /* 1300: still over, no second one */
	CHECK_EQ_U(risings(q.ts, NULL), 0);
	thresh_get_stats(q.ts, 0, &stats);
	CHECK_EQ_U(stats.over, 1);
	CHECK(thresh_alarm_at(q.ts, 0, 0, &row) && row.rate == 1300);
	thresh_tick(q.ts, 1010);            /* the period ended: so did the alarm */
	thresh_get_stats(q.ts, 0, &stats);
	CHECK_EQ_U(stats.over, 0);
	s = slice_at(&f, 1011, 900, 0);
	agg_set_apply(q.set, &s, 1011);     /* a new period: again */
	CHECK_EQ_U(risings(q.ts, NULL), 1);
	/* a period's closing read: the next period's reading of 1019's total,
	 * made at 1020, stamped 1019; the row listed for 1010-1020 still */
	s = slice_at(&f, 1019, 100, 0);
	agg_set_apply(q.set, &s, 1020);
	CHECK_EQ_U(risings(q.ts, NULL), 0);
	s = slice_at(&f, 1021, 700, 0);
	agg_set_apply(q.set, &s, 1021);
	CHECK_EQ_U(risings(q.ts, NULL), 0); /* 700: below */
	s = slice_at(&f, 1019, 200, 0);     /* late: the previous period crosses nothing new */
	agg_set_apply(q.set, &s, 1021);
	CHECK_EQ_U(risings(q.ts, NULL), 0);
	s = slice_at(&f, 1021, 100, 0);
	agg_set_apply(q.set, &s, 1021);     /* 800 */
	CHECK_EQ_U(risings(q.ts, NULL), 1);
	/* a restart: the thresholds start empty, the totals are kept; a row
	 * already over is listed at its next update, not notified again */
	thresh_set_free(q.ts);
	q.ts = thresh_set_new(&t, 1);
	s = slice_at(&f, 1022, 1, 0);
	agg_set_apply(q.set, &s, 1022);
	CHECK_EQ_U(risings(q.ts, NULL), 0);
	thresh_get_stats(q.ts, 0, &stats);
	CHECK_EQ_U(stats.over, 1);
	/* a closing read that reaches the level: notified, for its period */
	s = slice_at(&f, 1031, 700, 0);
	agg_set_apply(q.set, &s, 1031);
	s = slice_at(&f, 1039, 200, 0);
	agg_set_apply(q.set, &s, 1040);
	CHECK_EQ_U(risings(q.ts, &total), 1);
	CHECK_EQ_U(total, 900);
	store_commit(st);
	thresh_set_free(q.ts);
	agg_set_free(q.set);
	store_close(st);
}

int main(void)
{
	RUN(periods_parse_and_refuse);
	RUN(months_have_their_lengths);
	RUN(weeks_begin_on_monday);
	RUN(days_follow_the_time_zone);
	RUN(seconds_align_to_the_epoch);
	RUN(buckets_roll_over_and_keep_the_past);
	RUN(profile_periods_survive_a_restart);
	RUN(quota_levels_fire_once_per_period);
	TAP_DONE();
}
