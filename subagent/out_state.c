/*
 * out_state: one [threshold] section per nonVolatile threshold, every key
 * written out so that a change of a default does not change a saved row.
 */
#include "out_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const metric_words[] = { "bytes", "packets", "flows" };
static const char *const dir_words[] = { "", "sent", "received", "both" };

static void put_threshold(FILE *f, const struct thresh_def *t, uint32_t index, int active,
			  const char *profile)
{
	char a[AGG_PREFIX_TEXT_MAX];

	fprintf(f, "\n[threshold %s]\nindex = %u\nstatus = %s\nprofile = %s\n", t->name, index,
		active ? "active" : "notInService", profile);
	agg_prefix_format(t->family, &t->addr, t->plen, a, sizeof(a));
	fprintf(f, "match = %s\n", a);
	if (t->family2) {
		agg_prefix_format(t->family2, &t->addr2, t->plen2, a, sizeof(a));
		fprintf(f, "match2 = %s\n", a);
	}
	if (t->proto >= 0)
		fprintf(f, "proto = %d\n", t->proto);
	if (t->port >= 0)
		fprintf(f, "port = %d\n", t->port);
	fprintf(f, "metric = %s\ndirection = %s\nwindow = %us\nrising = %llu\nfalling = %llu\n"
		   "notify_limit = %u\nrows = %u\n",
		metric_words[t->metric % 3], dir_words[t->dir & 3], t->window_s,
		(unsigned long long)t->rising, (unsigned long long)t->falling, t->notify_per_min,
		t->max_rows);
}

int state_write(const char *path, const struct thresh_set *ts, struct agg_set *agg)
{
	char tmp[4200];
	FILE *f;
	int ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "# ctflowd's state: thresholds created over SNMP with StorageType\n"
		   "# nonVolatile (CTFLOW-MIB ctflowThresholdTable).  Written by ctflowd,\n"
		   "# read when it starts; change them over SNMP, not here.\n");
	for (size_t i = 0; i < thresh_count(ts); i++) {
		const struct thresh_def *t = thresh_get(ts, i);

		if (t->storage == THRESH_NONVOLATILE)
			put_threshold(f, t, thresh_index_at(ts, i), thresh_active_at(ts, i),
				      agg_set_profile(agg, t->profile)->name);
	}
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}
