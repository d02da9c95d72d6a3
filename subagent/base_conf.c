/*
 * base_conf: a line parser with a table of typed keys per section.
 *
 * Each key names its type (size, count, duration, bool, path, ...), its
 * bounds and where in the struct its value goes, so adding a key is one table
 * line and the same validation applies everywhere (not ulogd2's config by
 * array position).
 */
#include "base_conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define LINE_MAX_LEN 1024

enum val_type {
	V_SIZE, V_COUNT, V_DURATION_MS, V_BOOL, V_PATH, V_LOGLEVEL, V_KEYSPEC, V_VIEW, V_STRING, V_OID,
	V_ADDRESS, V_TRANSPORT, V_WORD, V_PREFIX, V_PREFIX2, V_PROTO, V_METRIC, V_DIRECTION, V_STATUS,
};

struct key_def {
	const char *name;
	enum val_type type;
	uint64_t min, max;
	size_t offset; /* into struct conf, profile_parse or collector_parse */
	size_t size;   /* of the destination field */
};

/* A profile while its section is being read. */
struct profile_parse {
	struct agg_profile_def def;
	uint64_t rows;
	uint64_t top;
	uint64_t view;
	int has_key;
	int line;
};

/* A collector while its section is being read. */
struct collector_parse {
	struct ipfix_collector_cfg cfg;
	uint64_t port, mtu, buffer;
	uint64_t tcp;
	uint32_t refresh_ms, reconnect_ms, reconnect_max_ms;
	int has_address;
	int line;
};

/* A threshold while its section is being read; the profile is resolved by
 * name once the whole file is read. */
struct thresh_parse {
	struct thresh_def def;
	char profile[AGG_NAME_MAX + 1];
	uint64_t proto, port;        /* UINT64_MAX: any */
	uint64_t metric, dir;
	uint32_t window_ms;
	uint64_t rising, falling;    /* falling UINT64_MAX: 9/10 of rising */
	uint64_t notify, rows;
	uint64_t index;              /* 0: its position */
	uint64_t inactive;
	int line;
};

struct parser {
	struct conf *c;
	const char *name;
	int line;
	char *err;
	size_t errlen;
	struct profile_parse *prof;   /* current section, both NULL = global */
	struct collector_parse *coll;
	struct thresh_parse *thr;
	struct thresh_parse thrs[CONF_MAX_THRESHOLDS];
	size_t nthrs;
	struct profile_parse profs[CONF_MAX_PROFILES];
	size_t nprofs;
	struct collector_parse colls[CONF_MAX_COLLECTORS];
	size_t ncolls;
	uint32_t seen_global;       /* bitmask over global_keys */
	uint32_t seen_section;
};

#define FIELD(type, f) offsetof(type, f), sizeof(((type *)0)->f)
#define GOFF(f) FIELD(struct conf, f)
#define POFF(f) FIELD(struct profile_parse, f)
#define COFF(f) FIELD(struct collector_parse, f)
#define TOFF(f) FIELD(struct thresh_parse, f)
#define KIB 1024ULL
#define GIB (1024ULL * 1024 * 1024)

static const struct key_def global_keys[] = {
	{ "dump_interval", V_DURATION_MS, 0, 86400000, GOFF(dump_interval_ms) },
	{ "rcvbuf", V_SIZE, 64 * KIB, 4 * GIB, GOFF(rcvbuf) },
	{ "rcvbuf_max", V_SIZE, 64 * KIB, 4 * GIB, GOFF(rcvbuf_max) },
	{ "reliable_events", V_BOOL, 0, 1, GOFF(reliable_events) },
	{ "max_tracked_flows", V_COUNT, 1024, 1ULL << 30, GOFF(max_tracked_flows) },
	{ "coalesce", V_DURATION_MS, 0, 1000, GOFF(coalesce_ms) },
	{ "loop_budget", V_DURATION_MS, 1, 1000, GOFF(loop_budget_ms) },
	{ "dump_file", V_PATH, 0, 0, GOFF(dump_file) },
	{ "pid_file", V_PATH, 0, 0, GOFF(pid_file) },
	{ "log_level", V_LOGLEVEL, 0, 0, GOFF(log_level) },
	{ "snmp", V_BOOL, 0, 1, GOFF(snmp) },
	{ "agentx_socket", V_STRING, 0, 0, GOFF(agentx_socket) },
	{ "agentx_ping", V_DURATION_MS, 1000, 3600000, GOFF(agentx_ping_ms) },
	{ "snmp_root", V_OID, 0, 0, GOFF(snmp_root) },
	{ "top_interval", V_DURATION_MS, 1000, 86400000, GOFF(top_interval_ms) },
	{ "ipfix_domain", V_COUNT, 0, UINT32_MAX, GOFF(ipfix_domain) },
	{ "ipfix_enterprise_ies", V_BOOL, 0, 1, GOFF(ipfix_enterprise_ies) },
	{ "ipfix_stats_interval", V_DURATION_MS, 1000, 86400000, GOFF(ipfix_stats_interval_ms) },
	{ "state_file", V_PATH, 0, 0, GOFF(state_file) },
	{ "state_dir", V_PATH, 0, 0, GOFF(state_dir) },
};

static const struct key_def collector_keys[] = {
	{ "address", V_ADDRESS, 0, 0, COFF(cfg.address) },
	{ "port", V_COUNT, 1, 65535, COFF(port) },
	{ "transport", V_TRANSPORT, 0, 0, COFF(tcp) },
	{ "mtu", V_COUNT, 576, 65535, COFF(mtu) },
	{ "template_refresh", V_DURATION_MS, 1000, 86400000, COFF(refresh_ms) },
	{ "buffer", V_COUNT, 1, 10000000, COFF(buffer) },
	{ "reconnect", V_DURATION_MS, 1000, 86400000, COFF(reconnect_ms) },
	{ "reconnect_max", V_DURATION_MS, 1000, 86400000, COFF(reconnect_max_ms) },
	{ "statistics", V_BOOL, 0, 1, COFF(cfg.statistics) },
};

static const struct key_def threshold_keys[] = {
	{ "profile", V_WORD, 0, 0, TOFF(profile) },
	{ "match", V_PREFIX, 0, 0, TOFF(def) },
	{ "match2", V_PREFIX2, 0, 0, TOFF(def) },
	{ "proto", V_PROTO, 0, 0, TOFF(proto) },
	{ "port", V_COUNT, 0, 65535, TOFF(port) },
	{ "metric", V_METRIC, 0, 0, TOFF(metric) },
	{ "direction", V_DIRECTION, 0, 0, TOFF(dir) },
	{ "window", V_DURATION_MS, 1000, THRESH_WINDOW_MAX * 1000ULL, TOFF(window_ms) },
	{ "rising", V_COUNT, 1, 1ULL << 62, TOFF(rising) },
	{ "falling", V_COUNT, 0, 1ULL << 62, TOFF(falling) },
	{ "notify_limit", V_COUNT, 0, 100000, TOFF(notify) },
	{ "rows", V_COUNT, 1, 1000000, TOFF(rows) },
	{ "index", V_COUNT, 1, THRESH_INDEX_MAX, TOFF(index) },
	{ "status", V_STATUS, 0, 0, TOFF(inactive) },
};

static const struct key_def profile_keys[] = {
	{ "key", V_KEYSPEC, 0, 0, POFF(def.spec) },
	{ "rows", V_COUNT, 1, 1ULL << 30, POFF(rows) },
	{ "addresses", V_VIEW, 0, 0, POFF(view) },
	{ "top", V_COUNT, 0, AGG_TOP_MAX, POFF(top) },
};

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->dump_interval_ms = 60000;
	c->rcvbuf = 64ULL << 20;
	c->rcvbuf_max = 1ULL << 30;
	c->max_tracked_flows = 1ULL << 20;
	c->coalesce_ms = 5;
	c->loop_budget_ms = 5;
	snprintf(c->dump_file, sizeof(c->dump_file), "/run/ctflowd/tables.json");
	snprintf(c->state_file, sizeof(c->state_file), "/var/lib/ctflowd/thresholds.conf");
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/ctflowd");
	c->log_level = LOG_LVL_INFO;
	c->snmp = 1;
	/* Explicit, unix only: left unset, net-snmp falls back to tcp:localhost:705
	 * and every (re)connection attempt becomes a flow in the namespace ctflowd
	 * accounts. */
	snprintf(c->agentx_socket, sizeof(c->agentx_socket), "/var/agentx/master");
	c->agentx_ping_ms = 5000;
	c->top_interval_ms = 60000;
	c->ipfix_domain = 1;
	c->ipfix_stats_interval_ms = 60000;
	static const uint32_t root[] = { 1, 3, 6, 1, 4, 1, 32473 };

	memcpy(c->snmp_root, root, sizeof(root));
	c->snmp_root_len = sizeof(root) / sizeof(root[0]);
	c->nprofiles = agg_default_profiles(c->profiles, CONF_MAX_PROFILES);
}

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *ps, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (ps->line > 0)
		snprintf(ps->err, ps->errlen, "%s:%d: %s", ps->name, ps->line, reason);
	else
		snprintf(ps->err, ps->errlen, "%s: %s", ps->name, reason);
	return -1;
}

/* Unsigned decimal with an optional suffix looked up in `units`. */
struct unit {
	const char *suffix;
	uint64_t mult;
};

static const struct unit size_units[] = {
	{ "", 1 }, { "k", KIB }, { "K", KIB }, { "M", KIB * KIB }, { "G", GIB },
	{ NULL, 0 },
};
static const struct unit count_units[] = { { "", 1 }, { "k", 1000 }, { "M", 1000000 }, { NULL, 0 } };
static const struct unit ms_units[] = {
	{ "", 1000 }, { "s", 1000 }, { "ms", 1 }, { "m", 60000 }, { "h", 3600000 }, { NULL, 0 },
};

static int parse_number(const char *s, const struct unit *units, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	for (const struct unit *u = units; u->suffix; u++) {
		if (strcmp(p, u->suffix) != 0)
			continue;
		if (v && u->mult > UINT64_MAX / v)
			return -1;
		*out = v * u->mult;
		return 0;
	}
	return -1;
}

static int parse_bool(const char *s, uint64_t *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

static const char *type_hint(enum val_type t)
{
	switch (t) {
	case V_SIZE: return "a size such as 65536, 64M or 1G";
	case V_COUNT: return "a whole number (k and M suffixes allowed)";
	case V_DURATION_MS: return "a duration such as 60, 60s, 5m or 500ms";
	case V_BOOL: return "yes or no";
	default: return "a valid value";
	}
}

static int store_number(struct parser *ps, const struct key_def *k, void *base, const char *v)
{
	uint64_t n = 0;
	int rc;

	switch (k->type) {
	case V_SIZE: rc = parse_number(v, size_units, &n); break;
	case V_COUNT: rc = parse_number(v, count_units, &n); break;
	case V_DURATION_MS: rc = parse_number(v, ms_units, &n); break;
	default: rc = parse_bool(v, &n); break;
	}
	if (rc < 0)
		return fail(ps, "%s: '%s' is not %s", k->name, v, type_hint(k->type));
	if (n < k->min || n > k->max)
		return fail(ps, "%s: %s is out of range %llu..%llu%s", k->name, v,
			    (unsigned long long)k->min, (unsigned long long)k->max,
			    k->type == V_DURATION_MS ? " ms" : "");
	char *dst = (char *)base + k->offset;

	if (k->type == V_BOOL) {
		int vi = (int)n;

		memcpy(dst, &vi, sizeof(vi));
	} else if (k->size == sizeof(uint32_t)) {
		uint32_t v32 = (uint32_t)n; /* range-checked above against k->max */

		memcpy(dst, &v32, sizeof(v32));
	} else {
		memcpy(dst, &n, sizeof(n));
	}
	return 0;
}

/* "1.3.6.1.4.1.32473" (a leading dot is fine) into conf->snmp_root. */
static int store_oid(struct parser *ps, const struct key_def *k, const char *v)
{
	struct conf *c = ps->c;
	const char *p = *v == '.' ? v + 1 : v;
	size_t n = 0;

	while (*p) {
		uint64_t x = 0;

		if (!isdigit((unsigned char)*p) || n == sizeof(c->snmp_root) / sizeof(c->snmp_root[0]))
			return fail(ps, "%s: '%s' is not an OID of at most 32 numbers like 1.3.6.1.4.1.32473",
				    k->name, v);
		while (isdigit((unsigned char)*p) && x <= UINT32_MAX)
			x = x * 10 + (uint64_t)(*p++ - '0');
		if (x > UINT32_MAX || (*p && *p != '.') || (*p == '.' && !p[1]))
			return fail(ps, "%s: '%s' is not an OID of at most 32 numbers like 1.3.6.1.4.1.32473",
				    k->name, v);
		c->snmp_root[n++] = (uint32_t)x;
		if (*p == '.')
			p++;
	}
	if (n < 2)
		return fail(ps, "%s: '%s' is too short for an OID", k->name, v);
	c->snmp_root_len = n;
	return 0;
}

/* "any", or an address with an optional prefix length: which rows a
 * threshold watches (by their first address). */
static int store_prefix(struct parser *ps, const struct key_def *k, struct thresh_def *t,
			const char *v)
{
	/* match: the first address; match2: the second */
	int second = k->type == V_PREFIX2;
	uint8_t *family = second ? &t->family2 : &t->family;
	int rc = agg_prefix_parse(v, family, second ? &t->addr2 : &t->addr,
				  second ? &t->plen2 : &t->plen);

	if (rc == AGG_PREFIX_EADDR)
		return fail(ps, "%s: '%s' is not 'any' or ADDRESS[/LENGTH]", k->name, v);
	if (rc == AGG_PREFIX_ELEN)
		return fail(ps, "%s: prefix length in '%s' must be 0-%u", k->name, v,
			    *family == 1 ? 32u : 128u);
	return 0;
}

/* A word from a small list, stored as its number. */
static int store_word_number(struct parser *ps, const struct key_def *k, char *dst, const char *v)
{
	static const struct { uint8_t type; const char *word; uint64_t n; } words[] = {
		{ V_PROTO, "tcp", 6 }, { V_PROTO, "udp", 17 }, { V_PROTO, "icmp", 1 },
		{ V_PROTO, "icmpv6", 58 }, { V_PROTO, "sctp", 132 },
		{ V_METRIC, "bytes", THRESH_BYTES }, { V_METRIC, "packets", THRESH_PACKETS },
		{ V_METRIC, "flows", THRESH_FLOWS },
		{ V_DIRECTION, "sent", THRESH_SENT }, { V_DIRECTION, "received", THRESH_RECEIVED },
		{ V_DIRECTION, "both", THRESH_BOTH },
		{ V_STATUS, "active", 0 }, { V_STATUS, "notInService", 1 },
	};
	uint64_t n;
	char *end = NULL;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (words[i].type == k->type && strcmp(words[i].word, v) == 0) {
			memcpy(dst, &words[i].n, sizeof(n));
			return 0;
		}
	}
	if (k->type == V_PROTO) {
		n = strtoull(v, &end, 10);
		if (*v && !*end && n <= 255) {
			memcpy(dst, &n, sizeof(n));
			return 0;
		}
		return fail(ps, "%s: '%s' is not tcp, udp, icmp, icmpv6, sctp or 0-255", k->name, v);
	}
	if (k->type == V_METRIC)
		return fail(ps, "%s: '%s' is not bytes, packets or flows", k->name, v);
	if (k->type == V_STATUS)
		return fail(ps, "%s: '%s' is not active or notInService", k->name, v);
	return fail(ps, "%s: '%s' is not sent, received or both", k->name, v);
}

static int store_value(struct parser *ps, const struct key_def *k, void *base, const char *v)
{
	char *dst = (char *)base + k->offset;
	char why[256];

	switch (k->type) {
	case V_PATH:
		if (strcmp(v, "none") == 0) {
			dst[0] = '\0';
			return 0;
		}
		if (v[0] != '/')
			return fail(ps, "%s: '%s' is not an absolute path (or none)", k->name, v);
		if (strlen(v) >= PATH_MAX)
			return fail(ps, "%s: path too long", k->name);
		memcpy(dst, v, strlen(v) + 1);
		return 0;
	case V_STRING:
		if (strlen(v) >= 256)
			return fail(ps, "%s: longer than 255 characters", k->name);
		memcpy(dst, v, strlen(v) + 1);
		return 0;
	case V_OID:
		return store_oid(ps, k, v);
	case V_ADDRESS: {
		unsigned char a[16];

		if (strlen(v) >= sizeof(ps->coll->cfg.address) ||
		    (inet_pton(AF_INET, v, a) != 1 && inet_pton(AF_INET6, v, a) != 1))
			return fail(ps, "%s: '%s' is not an IPv4 or IPv6 address", k->name, v);
		memcpy(dst, v, strlen(v) + 1);
		ps->coll->has_address = 1;
		return 0;
	}
	case V_TRANSPORT: {
		uint64_t tcp;

		if (strcmp(v, "udp") == 0)
			tcp = 0;
		else if (strcmp(v, "tcp") == 0)
			tcp = 1;
		else
			return fail(ps, "%s: '%s' is not udp or tcp", k->name, v);
		memcpy(dst, &tcp, sizeof(tcp));
		return 0;
	}
	case V_WORD:
		if (strlen(v) >= k->size)
			return fail(ps, "%s: '%s' is longer than %zu characters", k->name, v, k->size - 1);
		memcpy(dst, v, strlen(v) + 1);
		return 0;
	case V_PREFIX:
	case V_PREFIX2:
		return store_prefix(ps, k, (struct thresh_def *)(void *)dst, v);
	case V_PROTO:
	case V_METRIC:
	case V_DIRECTION:
	case V_STATUS:
		return store_word_number(ps, k, dst, v);
	case V_LOGLEVEL: {
		enum log_level lvl;

		if (log_level_parse(v, &lvl) < 0)
			return fail(ps, "%s: '%s' is not one of error, warning, info, debug", k->name, v);
		memcpy(dst, &lvl, sizeof(lvl));
		return 0;
	}
	case V_KEYSPEC:
		if (agg_keyspec_parse(v, (struct agg_keyspec *)(void *)dst, why, sizeof(why)) < 0)
			return fail(ps, "%s: %s", k->name, why);
		ps->prof->has_key = 1;
		return 0;
	case V_VIEW: {
		uint64_t view;

		if (strcmp(v, "original") == 0)
			view = AGG_VIEW_ORIGINAL;
		else if (strcmp(v, "translated") == 0)
			view = AGG_VIEW_TRANSLATED;
		else
			return fail(ps, "%s: '%s' is not 'original' or 'translated'", k->name, v);
		memcpy(dst, &view, sizeof(view));
		return 0;
	}
	default:
		return store_number(ps, k, base, v);
	}
}

static int set_key(struct parser *ps, const char *key, const char *val)
{
	const struct key_def *keys = global_keys;
	size_t n = NKEYS(global_keys);
	uint32_t *seen = ps->prof || ps->coll || ps->thr ? &ps->seen_section : &ps->seen_global;
	void *base = ps->c;

	if (ps->prof) {
		keys = profile_keys, n = NKEYS(profile_keys), base = ps->prof;
	} else if (ps->coll) {
		keys = collector_keys, n = NKEYS(collector_keys), base = ps->coll;
	} else if (ps->thr) {
		keys = threshold_keys, n = NKEYS(threshold_keys), base = ps->thr;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(keys[i].name, key) != 0)
			continue;
		if (*seen & (1u << i))
			return fail(ps, "'%s' is set twice", key);
		*seen |= 1u << i;
		return store_value(ps, &keys[i], base, val);
	}
	if (ps->prof)
		return fail(ps, "unknown key '%s' in [profile %s] (expected key, rows, addresses, top)", key,
			    ps->prof->def.name);
	if (ps->coll)
		return fail(ps, "unknown key '%s' in [collector %s] (expected address, port, transport, "
			    "mtu, template_refresh, buffer, reconnect, reconnect_max, statistics)", key, ps->coll->cfg.name);
	if (ps->thr)
		return fail(ps, "unknown key '%s' in [threshold %s] (expected profile, match, proto, "
			    "port, metric, direction, window, rising, falling, notify_limit, rows)", key,
			    ps->thr->def.name);
	return fail(ps, "unknown key '%s'", key);
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > AGG_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

static int finish_collector(struct parser *ps)
{
	struct collector_parse *c = ps->coll;

	if (!c)
		return 0;
	ps->coll = NULL;
	if (!c->has_address) {
		ps->line = c->line;
		return fail(ps, "[collector %s] has no 'address'", c->cfg.name);
	}
	c->cfg.port = (uint16_t)c->port;
	c->cfg.tcp = c->tcp != 0;
	c->cfg.mtu = (uint32_t)c->mtu;
	c->cfg.buffer = (uint32_t)c->buffer;
	c->cfg.template_refresh_ms = c->refresh_ms;
	c->cfg.reconnect_ms = c->reconnect_ms;
	c->cfg.reconnect_max_ms = c->reconnect_max_ms;
	if (c->reconnect_max_ms < c->reconnect_ms) {
		ps->line = c->line;
		return fail(ps, "[collector %s]: reconnect_max is less than reconnect", c->cfg.name);
	}
	return 0;
}

static int finish_threshold(struct parser *ps)
{
	struct thresh_parse *t = ps->thr;

	int line = ps->line;

	if (!t)
		return 0;
	ps->thr = NULL;
	ps->line = t->line; /* errors point at the section */
	if (!t->profile[0])
		return fail(ps, "[threshold %s] has no 'profile'", t->def.name);
	if (!t->rising)
		return fail(ps, "[threshold %s] has no 'rising'", t->def.name);
	if (t->falling == UINT64_MAX)
		t->falling = t->rising / 10 * 9 + t->rising % 10 * 9 / 10;
	if (t->falling > t->rising)
		return fail(ps, "[threshold %s]: falling (%llu) is above rising (%llu)", t->def.name,
			    (unsigned long long)t->falling, (unsigned long long)t->rising);
	t->def.proto = t->proto == UINT64_MAX ? -1 : (int)t->proto;
	t->def.port = t->port == UINT64_MAX ? -1 : (int)t->port;
	t->def.metric = (uint8_t)t->metric;
	t->def.dir = (uint8_t)t->dir;
	t->def.window_s = t->window_ms / 1000;
	t->def.rising = t->rising;
	t->def.falling = t->falling;
	t->def.notify_per_min = (uint32_t)t->notify;
	t->def.max_rows = (uint32_t)t->rows;
	t->def.index = (uint32_t)t->index;
	t->def.inactive = (uint8_t)t->inactive;
	t->def.storage = THRESH_READONLY;
	ps->line = line;
	return 0;
}

static int finish_profile(struct parser *ps)
{
	struct profile_parse *p = ps->prof;

	if (finish_collector(ps) < 0 || finish_threshold(ps) < 0)
		return -1;
	if (!p)
		return 0;
	ps->prof = NULL;
	if (!p->has_key) {
		ps->line = p->line;
		return fail(ps, "[profile %s] has no 'key'", p->def.name);
	}
	p->def.spec.view = (uint8_t)p->view;
	p->def.rows = p->rows;
	p->def.top = p->top;
	return 0;
}

static int begin_collector(struct parser *ps, const char *name)
{
	for (size_t i = 0; i < ps->ncolls; i++)
		if (strcmp(ps->colls[i].cfg.name, name) == 0)
			return fail(ps, "collector '%s' is defined twice", name);
	if (ps->ncolls >= CONF_MAX_COLLECTORS)
		return fail(ps, "too many collectors (at most %d)", CONF_MAX_COLLECTORS);
	struct collector_parse *c = &ps->colls[ps->ncolls++];

	memset(c, 0, sizeof(*c));
	snprintf(c->cfg.name, sizeof(c->cfg.name), "%.32s", name); /* valid_name: <= 32 */
	c->port = 4739;
	c->mtu = 1500;
	c->buffer = 100000;
	c->refresh_ms = 60000;
	c->reconnect_ms = 60000; /* RFC 7011 10.4.2: not more often than once a minute */
	c->reconnect_max_ms = 300000;
	c->cfg.statistics = 1;
	c->line = ps->line;
	ps->coll = c;
	ps->seen_section = 0;
	return 0;
}

static int begin_threshold(struct parser *ps, const char *name)
{
	for (size_t i = 0; i < ps->nthrs; i++)
		if (strcmp(ps->thrs[i].def.name, name) == 0)
			return fail(ps, "threshold '%s' is defined twice", name);
	if (ps->nthrs >= CONF_MAX_THRESHOLDS)
		return fail(ps, "too many thresholds (at most %d)", CONF_MAX_THRESHOLDS);
	struct thresh_parse *t = &ps->thrs[ps->nthrs++];

	memset(t, 0, sizeof(*t));
	snprintf(t->def.name, sizeof(t->def.name), "%.32s", name); /* valid_name: <= 32 */
	t->proto = t->port = t->falling = UINT64_MAX;
	t->metric = THRESH_BYTES;
	t->dir = THRESH_BOTH;
	t->window_ms = 0; /* set: twice dump_interval, at least 60 s */
	t->notify = 10;
	t->rows = 1000;
	t->line = ps->line;
	ps->thr = t;
	ps->seen_section = 0;
	return 0;
}

/* After the whole file: each threshold's profile, and what it may ask of it. */
static int resolve_thresholds(struct parser *ps)
{
	const struct agg_profile_def *defs = ps->nprofs ? NULL : ps->c->profiles;
	size_t n = ps->nprofs ? ps->nprofs : ps->c->nprofiles;

	for (size_t i = 0; i < ps->nthrs; i++) {
		struct thresh_parse *t = &ps->thrs[i];
		const struct agg_profile_def *p = NULL;
		int has[AGG_NFIELDS] = { 0 };

		for (size_t j = 0; j < n && !p; j++) {
			const struct agg_profile_def *c = defs ? &defs[j] : &ps->profs[j].def;

			if (strcmp(c->name, t->profile) == 0) {
				p = c;
				t->def.profile = j;
			}
		}
		ps->line = t->line;
		if (!p)
			return fail(ps, "[threshold %s]: no profile '%s'", t->def.name, t->profile);
		for (size_t f = 0; f < p->spec.nfields; f++)
			has[p->spec.f[f].field] = 1;
		if (t->def.family && !p->spec.has_addr)
			return fail(ps, "[threshold %s]: match needs addresses, profile '%s' has none",
				    t->def.name, t->profile);
		if (t->def.family2 && !has[AGG_DST])
			return fail(ps, "[threshold %s]: match2 needs a profile keyed by dst",
				    t->def.name);
		if (t->def.proto >= 0 && !has[AGG_PROTO])
			return fail(ps, "[threshold %s]: proto needs a profile keyed by proto",
				    t->def.name);
		if (t->def.port >= 0 && !has[AGG_PORT])
			return fail(ps, "[threshold %s]: port needs a profile keyed by port",
				    t->def.name);
		/* A live flow's bytes arrive once per dump: a shorter window would
		 * see the rate drop to 0 between dumps and flap. */
		uint32_t dump_s = ps->c->dump_interval_ms / 1000;

		if (!t->def.window_s)
			t->def.window_s = dump_s * 2 > 60 ? dump_s * 2 : 60;
		if (t->def.window_s > THRESH_WINDOW_MAX)
			t->def.window_s = THRESH_WINDOW_MAX;
		if (t->def.window_s < 2 * dump_s)
			return fail(ps, "[threshold %s]: window (%u s) must be at least twice "
				    "dump_interval (%u s): long flows grow once per dump",
				    t->def.name, t->def.window_s, dump_s);
		if (!t->def.index)
			t->def.index = (uint32_t)i + 1;
		for (size_t j = 0; j < i; j++)
			if (ps->thrs[j].def.index == t->def.index)
				return fail(ps, "[threshold %s]: index %u is [threshold %s]'s",
					    t->def.name, t->def.index, ps->thrs[j].def.name);
	}
	return 0;
}

static int begin_section(struct parser *ps, char *s)
{
	char *end = strchr(s, ']');
	char kind[32], name[128];

	if (!end || end[1] != '\0')
		return fail(ps, "section header must be '[profile NAME]', '[collector NAME]' or "
			    "'[threshold NAME]'");
	*end = '\0';
	if (sscanf(s + 1, "%31s %127s", kind, name) != 2 ||
	    (strcmp(kind, "profile") != 0 && strcmp(kind, "collector") != 0 &&
	     strcmp(kind, "threshold") != 0))
		return fail(ps, "unknown section '[%s]' (expected '[profile NAME]', '[collector NAME]' "
			    "or '[threshold NAME]')", s + 1);
	if (!valid_name(name))
		return fail(ps, "%s name '%s' must be 1-%d letters, digits, '_' or '-'", kind, name,
			    AGG_NAME_MAX);
	if (finish_profile(ps) < 0)
		return -1;
	if (strcmp(kind, "collector") == 0)
		return begin_collector(ps, name);
	if (strcmp(kind, "threshold") == 0)
		return begin_threshold(ps, name);
	for (size_t i = 0; i < ps->nprofs; i++)
		if (strcmp(ps->profs[i].def.name, name) == 0)
			return fail(ps, "profile '%s' is defined twice", name);
	if (ps->nprofs >= CONF_MAX_PROFILES)
		return fail(ps, "too many profiles (at most %d)", CONF_MAX_PROFILES);
	struct profile_parse *p = &ps->profs[ps->nprofs++];

	memset(p, 0, sizeof(*p));
	snprintf(p->def.name, sizeof(p->def.name), "%.32s", name); /* valid_name: <= 32 */
	p->rows = 65536;
	p->top = 10;
	p->line = ps->line;
	ps->prof = p;
	ps->seen_section = 0;
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_line(struct parser *ps, char *line)
{
	char *hash = strchr(line, '#');
	char *s, *eq;

	if (hash)
		*hash = '\0';
	s = trim(line);
	if (!*s)
		return 0;
	if (*s == '[')
		return begin_section(ps, s);
	eq = strchr(s, '=');
	if (!eq)
		return fail(ps, "expected 'key = value' or a section header");
	*eq = '\0';
	char *key = trim(s), *val = trim(eq + 1);

	if (!*key)
		return fail(ps, "missing key before '='");
	if (!*val)
		return fail(ps, "'%s' has no value", key);
	return set_key(ps, key, val);
}

static int check_global(struct parser *ps)
{
	ps->line = 0;
	if (ps->c->rcvbuf_max < ps->c->rcvbuf)
		return fail(ps, "rcvbuf_max (%llu) is smaller than rcvbuf (%llu)",
			    (unsigned long long)ps->c->rcvbuf_max, (unsigned long long)ps->c->rcvbuf);
	return 0;
}

int conf_parse_buffer(struct conf *c, const char *name, const char *text, size_t len, char *err,
		      size_t errlen)
{
	struct parser *ps = calloc(1, sizeof(*ps));
	char line[LINE_MAX_LEN + 2];
	size_t pos = 0;
	int rc = 0;

	if (!ps) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	*ps = (struct parser){ .c = c, .name = name, .err = err, .errlen = errlen };
	while (pos < len && rc == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		ps->line++;
		if (n > LINE_MAX_LEN)
			rc = fail(ps, "line longer than %d characters", LINE_MAX_LEN);
		else if (memchr(text + pos, '\0', n))
			rc = fail(ps, "NUL byte in line");
		else {
			memcpy(line, text + pos, n);
			line[n] = '\0';
			rc = parse_line(ps, line);
		}
		pos += n + 1;
	}
	if (rc == 0)
		rc = finish_profile(ps);
	if (rc == 0)
		rc = check_global(ps);
	if (rc == 0)
		rc = resolve_thresholds(ps);
	if (rc == 0 && ps->nprofs > 0) {
		c->nprofiles = ps->nprofs;
		for (size_t i = 0; i < ps->nprofs; i++)
			c->profiles[i] = ps->profs[i].def;
	}
	if (rc == 0) {
		c->ncollectors = ps->ncolls;
		for (size_t i = 0; i < ps->ncolls; i++)
			c->collectors[i] = ps->colls[i].cfg;
		c->nthresholds = ps->nthrs;
		for (size_t i = 0; i < ps->nthrs; i++)
			c->thresholds[i] = ps->thrs[i].def;
	}
	free(ps);
	return rc;
}

int conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, len = 0;
	int rc;

	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			char *nb = cap < (1u << 24) ? realloc(buf, cap ? cap * 2 : 4096) : NULL;

			if (!nb) {
				snprintf(err, errlen, "%s: file too large or out of memory", path);
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
			cap = cap ? cap * 2 : 4096;
		}
		size_t n = fread(buf + len, 1, cap - len, f);

		len += n;
		if (n == 0)
			break;
	}
	rc = ferror(f) ? -1 : 0;
	fclose(f);
	if (rc < 0)
		snprintf(err, errlen, "%s: read error", path);
	else
		rc = conf_parse_buffer(c, path, buf, len, err, errlen);
	if (rc == 0)
		snprintf(c->path, sizeof(c->path), "%s", path);
	free(buf);
	return rc;
}

int conf_load_state(struct conf *c, const char *path, char *err, size_t errlen)
{
	struct conf *st = malloc(sizeof(*st));
	int rc = 0;

	if (!st) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	/* the state file names the configuration's profiles */
	*st = *c;
	st->nthresholds = 0;
	if (access(path, F_OK) != 0) {
		free(st);
		return 0;
	}
	rc = conf_load(st, path, err, errlen);
	for (size_t i = 0; rc == 0 && i < st->nthresholds; i++) {
		struct thresh_def *t = &st->thresholds[i];

		for (size_t j = 0; j < c->nthresholds && rc == 0; j++)
			if (c->thresholds[j].index == t->index) {
				snprintf(err, errlen, "%s: threshold %s: index %u is taken by [threshold %s]",
					 path, t->name, t->index, c->thresholds[j].name);
				rc = -1;
			}
		if (rc == 0 && c->nthresholds == CONF_MAX_THRESHOLDS) {
			snprintf(err, errlen, "%s: too many thresholds", path);
			rc = -1;
		}
		if (rc == 0) {
			t->storage = THRESH_NONVOLATILE;
			c->thresholds[c->nthresholds++] = *t;
		}
	}
	free(st);
	return rc;
}
