/*
 * agg_usage: period arithmetic and a row's period buckets.
 */
#include "agg_usage.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the calendar: days since 1970-01-01 and back (proleptic Gregorian) ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* The local calendar date of t. */
static void local_date(int64_t t, int64_t *y, unsigned *m, unsigned *d)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	*y = tm.tm_year + 1900;
	*m = (unsigned)tm.tm_mon + 1;
	*d = (unsigned)tm.tm_mday;
}

/* The first instant of a local date: its midnight, or (where a DST change
 * skips midnight) the first time that exists that day. */
static int64_t local_midnight(int64_t y, unsigned m, unsigned d)
{
	struct tm tm = { 0 };

	tm.tm_year = (int)(y - 1900);
	tm.tm_mon = (int)m - 1;
	tm.tm_mday = (int)d;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

static int64_t day_start(int64_t days)
{
	int64_t y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	return local_midnight(y, m, d);
}

/* ---- ordinals ---- */

uint32_t usage_ordinal(const struct usage_def *d, unsigned i, int64_t t)
{
	const struct usage_kind *k = &d->k[i];
	int64_t y, days;
	unsigned m, dd;

	if (t < 0)
		t = 0;
	if (k->unit == USAGE_SECONDS)
		return (uint32_t)(t / k->seconds);
	local_date(t, &y, &m, &dd);
	days = days_from_civil(y, m, dd);
	switch (k->unit) {
	case USAGE_DAY: return (uint32_t)days;
	case USAGE_WEEK: return (uint32_t)((days + 3) / 7); /* 1969-12-29 was a Monday */
	case USAGE_MONTH: {
		int64_t months = y * 12 + (m - 1);

		if (dd < d->month_day)
			months--;
		return (uint32_t)(months - 1970 * 12);
	}
	default: return 0;
	}
}

static int64_t ordinal_start(const struct usage_def *d, unsigned i, uint32_t ord)
{
	const struct usage_kind *k = &d->k[i];

	switch (k->unit) {
	case USAGE_SECONDS: return (int64_t)ord * k->seconds;
	case USAGE_DAY: return day_start(ord);
	case USAGE_WEEK: return day_start((int64_t)ord * 7 - 3);
	case USAGE_MONTH: {
		int64_t months = (int64_t)ord + 1970 * 12;

		return local_midnight(months / 12, (unsigned)(months % 12) + 1, d->month_day);
	}
	default: return 0;
	}
}

void usage_bounds(const struct usage_def *d, unsigned i, uint32_t ord, int64_t *start,
		  int64_t *end)
{
	*start = ordinal_start(d, i, ord);
	*end = ordinal_start(d, i, ord + 1);
}

int64_t usage_next_boundary(const struct usage_def *d, int64_t t)
{
	int64_t best = INT64_MAX;

	for (unsigned i = 0; i < d->n; i++) {
		int64_t s, e;

		usage_bounds(d, i, usage_ordinal(d, i, t), &s, &e);
		if (e < best)
			best = e;
	}
	return best;
}

uint32_t usage_clock_ord(struct usage_clock *c, const struct usage_def *d, unsigned i, int64_t t)
{
	if (t >= c->start[i] && t < c->end[i])
		return c->ord[i];
	uint32_t ord = usage_ordinal(d, i, t);

	/* only moving forward is cached: a late slice must not evict "now" */
	if (t >= c->end[i] || c->end[i] == 0) {
		c->ord[i] = ord;
		usage_bounds(d, i, ord, &c->start[i], &c->end[i]);
	}
	return ord;
}

/* ---- buckets ---- */

size_t usage_row_bytes(const struct usage_def *d)
{
	return (size_t)d->n * (d->keep + 1u) * sizeof(struct usage_bucket);
}

static struct usage_bucket *bucket_at(const struct usage_def *d, const void *area, unsigned i,
				      uint32_t ord)
{
	struct usage_bucket *b = (struct usage_bucket *)(uintptr_t)area;

	return &b[i * (d->keep + 1u) + ord % (d->keep + 1u)];
}

unsigned usage_add(struct usage_clock *c, const struct usage_def *d, void *area, int64_t t,
		   int64_t now, const uint64_t pkts[2], const uint64_t bytes[2], uint64_t flows,
		   const struct usage_bucket *cur[USAGE_KINDS_MAX])
{
	unsigned late = 0;

	for (unsigned i = 0; i < d->n; i++) {
		uint32_t ord = usage_clock_ord(c, d, i, t);
		uint32_t at_now = usage_clock_ord(c, d, i, now);
		struct usage_bucket *b;

		cur[i] = NULL;
		if (ord + d->keep < at_now) {
			late++;
			continue;
		}
		b = bucket_at(d, area, i, ord);
		if (b->tag != ord + 1) {
			memset(b, 0, sizeof(*b));
			b->tag = ord + 1;
		}
		b->pkts[0] += pkts[0];
		b->pkts[1] += pkts[1];
		b->bytes[0] += bytes[0];
		b->bytes[1] += bytes[1];
		b->flows += flows;
		cur[i] = b;
	}
	return late;
}

void usage_get_ord(const struct usage_def *d, const void *area, unsigned i, uint32_t ord,
		   struct usage_bucket *out)
{
	const struct usage_bucket *b = bucket_at(d, area, i, ord);

	if (b->tag == ord + 1)
		*out = *b;
	else
		memset(out, 0, sizeof(*out));
	out->tag = ord + 1;
}

void usage_get(const struct usage_def *d, const void *area, unsigned i, unsigned age, int64_t now,
	       struct usage_bucket *out, int64_t *start, int64_t *end)
{
	uint32_t ord = usage_ordinal(d, i, now) - age;

	usage_get_ord(d, area, i, ord, out);
	usage_bounds(d, i, ord, start, end);
}

/* ---- the configuration's words ---- */

/* One kind: day, week, month, or N followed by s, m or h. */
static int parse_kind(const char *w, size_t n, struct usage_kind *k, char *why, size_t len)
{
	static const struct {
		const char *name;
		uint8_t unit;
	} words[] = { { "day", USAGE_DAY }, { "week", USAGE_WEEK }, { "month", USAGE_MONTH } };
	uint64_t v = 0, mul;
	size_t j = 0;

	memset(k, 0, sizeof(*k));
	if (n == 0 || n > USAGE_NAME_MAX)
		goto bad;
	memcpy(k->name, w, n);
	for (size_t x = 0; x < sizeof(words) / sizeof(words[0]); x++) {
		if (strcmp(k->name, words[x].name) == 0) {
			k->unit = words[x].unit;
			return 0;
		}
	}
	while (j < n && isdigit((unsigned char)w[j]) && v <= USAGE_SECONDS_MAX)
		v = v * 10 + (uint64_t)(w[j++] - '0');
	if (j == 0 || j + 1 != n)
		goto bad;
	mul = w[j] == 's' ? 1 : w[j] == 'm' ? 60 : w[j] == 'h' ? 3600 : 0;
	if (!mul || v == 0 || v * mul > USAGE_SECONDS_MAX)
		goto bad;
	k->unit = USAGE_SECONDS;
	k->seconds = (uint32_t)(v * mul);
	return 0;
bad:
	snprintf(why, len, "'%.*s' is not a period: day, week, month, or a length like 4s, 15m, 6h "
		 "(at most 366 days)", (int)(n > 32 ? 32 : n), w);
	return -1;
}

int usage_parse(const char *v, struct usage_def *d, char *why, size_t len)
{
	const char *p = v;

	d->n = 0;
	while (*p) {
		size_t n;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (!*p)
			break;
		n = strcspn(p, " ,\t");
		if (d->n == USAGE_KINDS_MAX) {
			snprintf(why, len, "at most %d periods", USAGE_KINDS_MAX);
			return -1;
		}
		if (parse_kind(p, n, &d->k[d->n], why, len) < 0)
			return -1;
		for (unsigned i = 0; i < d->n; i++) {
			if (d->k[i].unit == d->k[d->n].unit && d->k[i].seconds == d->k[d->n].seconds) {
				snprintf(why, len, "period '%s' given twice", d->k[i].name);
				return -1;
			}
		}
		d->n++;
		p += n;
	}
	return 0;
}

void usage_format(const struct usage_def *d, char *out, size_t len)
{
	size_t at = 0;

	if (len)
		out[0] = '\0';
	for (unsigned i = 0; i < d->n && at < len; i++) {
		int w = snprintf(out + at, len - at, "%s%s", i ? "," : "", d->k[i].name);

		if (w < 0)
			break;
		at += (size_t)w;
	}
}
