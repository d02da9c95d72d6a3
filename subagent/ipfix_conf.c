/*
 * ipfix_conf: the [collector] keys.
 */
#include "ipfix_conf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const struct conf_word transport_words[] = { { "udp", 0 }, { "tcp", 1 }, { NULL, 0 } };
static const struct conf_word export_words[] = { { "biflow", 0 }, { "uniflow", 1 }, { NULL, 0 } };
/* encoding: always 64-bit counters (the default), or reduced-size ones
 * (RFC 7011 6.2) for collectors that read any length */
static const struct conf_word encoding_words[] = { { "reduced", 0 }, { "full", 1 }, { NULL, 0 } };

static int parse_address(void *obj, const char *v, char *why, size_t len)
{
	struct collector_parse *c = obj;
	unsigned char a[16];

	if (strlen(v) >= sizeof(c->cfg.address) ||
	    (inet_pton(AF_INET, v, a) != 1 && inet_pton(AF_INET6, v, a) != 1)) {
		snprintf(why, len, "'%s' is not an IPv4 or IPv6 address", v);
		return -1;
	}
	snprintf(c->cfg.address, sizeof(c->cfg.address), "%s", v);
	return 0;
}

#define COFF(f) CONF_FIELD(struct collector_parse, f)

static const struct conf_key collector_keys[] = {
	{ "address", CONF_CUSTOM, 0, 0, 0, 0, NULL, parse_address },
	{ "port", CONF_COUNT, 1, 65535, COFF(port), NULL, NULL },
	{ "transport", CONF_WORD, 0, 0, COFF(tcp), transport_words, NULL },
	{ "mtu", CONF_COUNT, 576, 65535, COFF(mtu), NULL, NULL },
	{ "template_refresh", CONF_DURATION_MS, 1000, 86400000, COFF(refresh_ms), NULL, NULL },
	{ "buffer", CONF_COUNT, 1, 10000000, COFF(buffer), NULL, NULL },
	{ "reconnect", CONF_DURATION_MS, 1000, 86400000, COFF(reconnect_ms), NULL, NULL },
	{ "reconnect_max", CONF_DURATION_MS, 1000, 86400000, COFF(reconnect_max_ms), NULL, NULL },
	{ "statistics", CONF_BOOL, 0, 1, COFF(cfg.statistics), NULL, NULL },
	{ "export", CONF_WORD, 0, 0, COFF(uniflow), export_words, NULL },
	{ "encoding", CONF_WORD, 0, 0, COFF(full), encoding_words, NULL },
};

static void parse_init(void *obj, const char *name)
{
	struct collector_parse *c = obj;

	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->cfg.name, sizeof(c->cfg.name), "%s", name);
	c->port = 4739;
	c->mtu = 1500;
	c->buffer = 100000;
	c->refresh_ms = 60000;
	c->reconnect_ms = 60000; /* RFC 7011 10.4.2: not more often than once a minute */
	c->reconnect_max_ms = 300000;
	c->cfg.statistics = 1;
	c->full = 1; /* what every collector reads: pmacct 1.7.7 not the narrow counters */
}

static int parse_finish(void *obj, size_t i, void *ctx, const char **key, char *why, size_t len)
{
	struct collector_parse *c = obj;

	(void)i, (void)ctx;
	*key = NULL;
	if (!c->cfg.address[0]) {
		snprintf(why, len, " has no 'address'");
		return -1;
	}
	if (c->reconnect_max_ms < c->reconnect_ms) {
		*key = "reconnect_max";
		snprintf(why, len, "reconnect_max is less than reconnect");
		return -1;
	}
	c->cfg.port = (uint16_t)c->port;
	c->cfg.tcp = c->tcp != 0;
	c->cfg.uniflow = c->uniflow != 0;
	c->cfg.reduced = c->full == 0;
	c->cfg.mtu = (uint32_t)c->mtu;
	c->cfg.buffer = (uint32_t)c->buffer;
	c->cfg.template_refresh_ms = c->refresh_ms;
	c->cfg.reconnect_ms = c->reconnect_ms;
	c->cfg.reconnect_max_ms = c->reconnect_max_ms;
	return 0;
}

void collector_conf_kind(struct conf_kind *k, struct collector_parse *objs, size_t max, size_t *n)
{
	*k = (struct conf_kind){ "collector", collector_keys,
				 sizeof(collector_keys) / sizeof(collector_keys[0]), objs,
				 sizeof(*objs), max, n, parse_init, parse_finish, NULL, NULL };
}
