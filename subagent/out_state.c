/*
 * out_state: one [threshold] section per nonVolatile threshold, every key
 * written out so that a change of a default does not change a saved row.
 */
#include "out_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

		/* a row still notReady is not kept: the configuration would refuse it */
		if (t->storage == THRESH_NONVOLATILE && thresh_def_complete(t))
			thresh_def_write(f, t, thresh_index_at(ts, i), thresh_active_at(ts, i),
					 agg_set_profile(agg, t->profile)->name,
					 &agg_set_profile(agg, t->profile)->usage);
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
