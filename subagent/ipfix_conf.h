/*
 * ipfix_conf: [collector NAME] sections of the configuration: their keys,
 * defaults and checks, for the configuration engine.
 */
#ifndef CTFLOWD_IPFIX_CONF_H
#define CTFLOWD_IPFIX_CONF_H

#include "base_conf.h"
#include "ipfix_export.h"

/* A [collector NAME] section while it is read (the name first). */
struct collector_parse {
	char name[IPFIX_NAME_MAX + 1];
	struct ipfix_collector_cfg cfg;
	uint64_t port, mtu, buffer, tcp, uniflow, full;
	uint32_t refresh_ms, reconnect_ms, reconnect_max_ms;
};

void collector_conf_kind(struct conf_kind *k, struct collector_parse *objs, size_t max, size_t *n);

#endif
