/*
 * agg_usage: usage per period (day, week, month, or N seconds) of one row:
 * the totals of the current period and of the `keep` periods before it.
 *
 * Periods are numbered (an ordinal: days, weeks or months since 1970 in the
 * configured local time, or multiples of N seconds since the epoch), and a
 * row keeps keep+1 buckets per period kind, bucket = ordinal mod (keep+1),
 * each tagged with its ordinal.  A bucket found holding an older ordinal is
 * emptied before it is used, so a period rolls over without any pass over
 * the rows, and one that was never touched reads as zero.  A slice counts
 * in the period of its time stamp (slice time_ns: the kernel's stop time for
 * a DESTROY, the read for a dump row); one older than the kept periods is
 * left out of them (still counted in the row since its creation) and
 * counted as late.
 *
 * Calendar periods use the process's time zone (TZ, set once at start), so
 * a day is 23 or 25 hours across a DST change; N-second periods are aligned
 * to the epoch (6h: 00:00, 06:00 ... UTC).  Weeks begin on Monday; months
 * on month_day (1..28).
 */
#ifndef CTFLOWD_AGG_USAGE_H
#define CTFLOWD_AGG_USAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define USAGE_KINDS_MAX 4
#define USAGE_KEEP_MAX 36
#define USAGE_NAME_MAX 15
#define USAGE_SECONDS_MAX (366u * 86400u)

enum usage_unit { USAGE_NONE, USAGE_SECONDS, USAGE_DAY, USAGE_WEEK, USAGE_MONTH };

struct usage_kind {
	uint8_t unit;              /* enum usage_unit */
	uint32_t seconds;          /* USAGE_SECONDS: its length */
	char name[USAGE_NAME_MAX + 1]; /* as configured: "day", "month", "4s", "6h" */
};

/* What a profile keeps (n = 0: no periods).  Part of its definition. */
struct usage_def {
	uint8_t n;
	uint8_t keep;              /* previous periods kept besides the current one */
	uint8_t month_day;         /* first day of a month period, 1..28 */
	struct usage_kind k[USAGE_KINDS_MAX];
};

/* One period's totals: [0] forward, [1] reverse, as the row's counters.
 * Packed like agg_counters so rows stay small. */
struct __attribute__((packed, aligned(4))) usage_bucket {
	uint32_t tag;              /* ordinal + 1; 0 = never used */
	uint64_t pkts[2], bytes[2];
	uint64_t flows;            /* flows started */
};

/* The current period of each kind, cached between boundaries: computing a
 * calendar ordinal takes localtime_r, too slow for every slice. */
struct usage_clock {
	int64_t start[USAGE_KINDS_MAX], end[USAGE_KINDS_MAX];
	uint32_t ord[USAGE_KINDS_MAX];
};

/* "day, month" or "4s" ... (at most USAGE_KINDS_MAX, no kind twice). */
int usage_parse(const char *v, struct usage_def *d, char *why, size_t len);
/* The list back as text: "day,month". */
void usage_format(const struct usage_def *d, char *out, size_t len);

/* Bytes a row needs for its buckets. */
size_t usage_row_bytes(const struct usage_def *d);

/* The ordinal of the period of kind i holding time t, and its bounds. */
uint32_t usage_ordinal(const struct usage_def *d, unsigned i, int64_t t);
void usage_bounds(const struct usage_def *d, unsigned i, uint32_t ord, int64_t *start,
		  int64_t *end);
/* The earliest end of a current period after t (the next boundary). */
int64_t usage_next_boundary(const struct usage_def *d, int64_t t);

/* The ordinal of kind i at t through the cache (refreshed when t leaves it). */
uint32_t usage_clock_ord(struct usage_clock *c, const struct usage_def *d, unsigned i, int64_t t);

/*
 * Add a slice with time stamp t to a row's buckets `area`; `now` decides
 * which periods are still kept.  cur[i] is set to the bucket of kind i the
 * slice landed in (NULL: too old to keep), for quotas: usually the current
 * period's, the previous one's for a period's closing read.  Returns the
 * number of kinds for which the slice was too old to keep.
 */
unsigned usage_add(struct usage_clock *c, const struct usage_def *d, void *area, int64_t t,
		   int64_t now, const uint64_t pkts[2], const uint64_t bytes[2], uint64_t flows,
		   const struct usage_bucket *cur[USAGE_KINDS_MAX]);

/* The totals of kind i, `age` periods before the current one at now (0 =
 * current), into *out (zero when nothing was counted); *start, *end its
 * bounds. */
void usage_get(const struct usage_def *d, const void *area, unsigned i, unsigned age, int64_t now,
	       struct usage_bucket *out, int64_t *start, int64_t *end);
/* The same for the period `ord` (no clock: for a pass over many rows). */
void usage_get_ord(const struct usage_def *d, const void *area, unsigned i, uint32_t ord,
		   struct usage_bucket *out);

#endif
