/*
 * kern_check: `ctflowd --check-kernel`, one line per thing that must be on
 * for exact accounting, in the network namespace ctflowd runs in.
 */
#ifndef CTFLOWD_KERN_CHECK_H
#define CTFLOWD_KERN_CHECK_H

#include <stdint.h>
#include <stdio.h>

struct kcheck_cfg {
	uint64_t rcvbuf;
	uint64_t max_tracked_flows;
	const char *proc_root; /* "/proc/sys/net/netfilter" unless testing */
};

/* Prints the report; returns 0 if accounting can work, 1 if it cannot. */
int kcheck_run(const struct kcheck_cfg *cfg, FILE *out);

#endif
