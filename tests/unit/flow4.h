/*
 * flow4.h: an IPv4 flow for the unit tests, its tuple both ways, with
 * counters of 10 packets / 1000 bytes sent and 5 / 500 received.
 */
#ifndef CTFLOWD_TEST_FLOW4_H
#define CTFLOWD_TEST_FLOW4_H

#include <arpa/inet.h>
#include <string.h>

#include "kern_ctparse.h"

static struct ct_flow flow4(const char *src, const char *dst, uint8_t proto, uint16_t sport,
			    uint16_t dport)
{
	struct ct_flow f;

	memset(&f, 0, sizeof(f));
	f.family = AF_INET;
	f.has = CT_HAS_COUNTERS;
	for (int d = 0; d < 2; d++) {
		inet_pton(AF_INET, d ? dst : src, f.tuple[d].src.b);
		inet_pton(AF_INET, d ? src : dst, f.tuple[d].dst.b);
		f.tuple[d].proto = proto;
		f.tuple[d].sport = d ? dport : sport;
		f.tuple[d].dport = d ? sport : dport;
	}
	f.pkts[0] = 10, f.bytes[0] = 1000, f.pkts[1] = 5, f.bytes[1] = 500;
	return f;
}

#endif
