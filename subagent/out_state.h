/*
 * out_state: the state file, where thresholds created over SNMP with
 * StorageType nonVolatile are kept across restarts, in ctflowd.conf's own
 * syntax (read back by conf_load_state).  Written whole, to a temporary file
 * renamed over the old one, so a crash leaves one or the other.
 */
#ifndef CTFLOWD_OUT_STATE_H
#define CTFLOWD_OUT_STATE_H

#include "agg_profile.h"
#include "alarm_thresh.h"

/* 0, or -1 with errno. */
int state_write(const char *path, const struct thresh_set *ts, struct agg_set *agg);

#endif
