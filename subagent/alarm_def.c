/*
 * alarm_def: a threshold's definition, defaults, rules, words and text form.
 */
#include "alarm_def.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_NOTIFY 10
#define DEFAULT_ROWS 1000

static const struct conf_word metric_words[] = {
	{ "bytes", THRESH_BYTES }, { "packets", THRESH_PACKETS }, { "flows", THRESH_FLOWS },
	{ NULL, 0 },
};
static const struct conf_word dir_words[] = {
	{ "sent", THRESH_SENT }, { "received", THRESH_RECEIVED }, { "both", THRESH_BOTH },
	{ NULL, 0 },
};
static const struct conf_word status_words[] = {
	{ "active", 0 }, { "notInService", 1 }, { NULL, 0 },
};
static const struct conf_word proto_words[] = {
	{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmpv6", 58 }, { "sctp", 132 }, { NULL, 0 },
};

static const char *word_of(const struct conf_word *w, uint64_t n)
{
	for (; w->word; w++)
		if (w->n == n)
			return w->word;
	return "?";
}

int thresh_name_valid(const char *s, size_t len)
{
	if (len < 1 || len > THRESH_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* A live flow's bytes arrive once per dump: a window shorter than two dump
 * intervals would see the rate drop to 0 between dumps and flap. */
static uint32_t min_window(const struct thresh_env *env)
{
	return 2 * (env->dump_interval_ms / 1000);
}

static uint32_t default_window(const struct thresh_env *env)
{
	uint32_t w = min_window(env) > 60 ? min_window(env) : 60;

	return w > THRESH_WINDOW_MAX ? THRESH_WINDOW_MAX : w;
}

void thresh_def_init(struct thresh_def *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%.32s", name);
	t->proto = t->port = -1;
	t->metric = THRESH_BYTES;
	t->dir = THRESH_BOTH;
	t->notify_per_min = DEFAULT_NOTIFY;
	t->max_rows = DEFAULT_ROWS;
	t->storage = THRESH_READONLY;
}

void thresh_def_init_snmp(struct thresh_def *t, uint32_t index, const struct thresh_env *env)
{
	char name[16];

	snprintf(name, sizeof(name), "snmp%u", index);
	thresh_def_init(t, name);
	t->profile = THRESH_PROFILE_UNSET;
	t->window_s = default_window(env);
	t->storage = THRESH_VOLATILE;
	t->index = index;
}

int thresh_def_complete(const struct thresh_def *t)
{
	return t->profile != THRESH_PROFILE_UNSET && t->rising >= 1;
}

__attribute__((format(printf, 5, 6)))
static int reject(const char **key, const char *which, char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	*key = which;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* What the threshold matches on must be in its profile's key. */
static int fits_profile(const struct thresh_def *t, const struct agg_profile_def *p,
			const char **key, char *why, size_t len)
{
	int has[AGG_NFIELDS] = { 0 };

	for (size_t f = 0; f < p->spec.nfields; f++)
		has[p->spec.f[f].field] = 1;
	if (t->family && !p->spec.has_addr)
		return reject(key, "match", why, len, "match needs addresses, profile '%s' has none",
			      p->name);
	if (t->family2 && !has[AGG_DST])
		return reject(key, "match2", why, len, "match2 needs a profile keyed by dst");
	if (t->proto >= 0 && !has[AGG_PROTO])
		return reject(key, "proto", why, len, "proto needs a profile keyed by proto");
	if (t->port >= 0 && !has[AGG_PORT])
		return reject(key, "port", why, len, "port needs a profile keyed by port");
	return 0;
}

uint32_t thresh_rows_limit(const struct thresh_env *env)
{
	return env->rows_budget < THRESH_ROWS_MAX ? (uint32_t)env->rows_budget : THRESH_ROWS_MAX;
}

int thresh_def_check(struct thresh_def *t, const struct thresh_env *env, const char **key,
		     char *why, size_t len)
{
	*key = NULL;
	if (!thresh_name_valid(t->name, strlen(t->name)))
		return reject(key, NULL, why, len, "name '%s' must be 1-%d letters, digits, '_' or '-'",
			      t->name, THRESH_NAME_MAX);
	if (!t->window_s)
		t->window_s = default_window(env);
	if (t->window_s > THRESH_WINDOW_MAX)
		return reject(key, "window", why, len, "window (%u s) is longer than %u s", t->window_s,
			      THRESH_WINDOW_MAX);
	if (t->max_rows < 1 || t->max_rows > thresh_rows_limit(env))
		return reject(key, "rows", why, len, "rows (%u) is out of range 1..%u (at most "
			      "threshold_rows, the budget of all thresholds)", t->max_rows,
			      thresh_rows_limit(env));
	if (t->profile == THRESH_PROFILE_UNSET)
		return 0; /* being created over SNMP: checked again when complete */
	if (t->profile >= env->nprofiles)
		return reject(key, "profile", why, len, "no profile %zu", t->profile + 1);
	if (t->period) {
		const struct usage_def *u = &env->profiles[t->profile].usage;

		if (t->period > u->n)
			return reject(key, "period", why, len, "profile '%s' keeps %u periods, not %u",
				      env->profiles[t->profile].name, u->n, t->period);
		return fits_profile(t, &env->profiles[t->profile], key, why, len);
	}
	if (t->falling > t->rising && t->rising)
		return reject(key, "falling", why, len, "falling (%llu) is above rising (%llu)",
			      (unsigned long long)t->falling, (unsigned long long)t->rising);
	if (t->window_s < min_window(env))
		return reject(key, "window", why, len, "window (%u s) must be at least twice "
			      "dump_interval (%u s): long flows grow once per dump", t->window_s,
			      env->dump_interval_ms / 1000);
	return fits_profile(t, &env->profiles[t->profile], key, why, len);
}

/* ---- which rows, and how much ---- */

static int in_prefix(const union ct_addr *a, const union ct_addr *p, unsigned plen, unsigned max)
{
	const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)p;
	unsigned full = (plen > max ? max : plen) / 8, rest = (plen > max ? max : plen) % 8;

	if (memcmp(x, y, full) != 0)
		return 0;
	return !rest || ((x[full] ^ y[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

int thresh_def_matches(const struct thresh_def *d, struct thresh_key *v)
{
	const struct agg_key_fields *kf = &v->kf;

	if (!d->family && !d->family2 && d->proto < 0 && d->port < 0)
		return 1;
	if (!v->state)
		v->state = agg_key_decode(v->spec, v->key, &v->kf) < 0 ? -1 : 1;
	if (v->state < 0)
		return 0;
	if (d->family && (kf->family != d->family || !kf->has_addr[0] ||
			  !in_prefix(&kf->addr[0], &d->addr, d->plen, d->family == 1 ? 32 : 128)))
		return 0;
	if (d->family2 && (kf->family != d->family2 || !kf->has_addr[1] ||
			   !in_prefix(&kf->addr[1], &d->addr2, d->plen2, d->family2 == 1 ? 32 : 128)))
		return 0;
	if (d->proto >= 0 && kf->proto != d->proto)
		return 0;
	return d->port < 0 || kf->port == d->port;
}

uint64_t thresh_def_amount(const struct thresh_def *d, const uint64_t pkts[2],
			   const uint64_t bytes[2], uint64_t flows)
{
	const uint64_t *v = d->metric == THRESH_BYTES ? bytes : pkts;

	if (d->metric == THRESH_FLOWS)
		return flows;
	return (d->dir & THRESH_SENT ? v[0] : 0) + (d->dir & THRESH_RECEIVED ? v[1] : 0);
}

/* ---- the configuration syntax ---- */

static int parse_match(void *obj, const char *v, int second, char *why, size_t len)
{
	struct thresh_def *t = &((struct thresh_parse *)obj)->def;
	uint8_t *family = second ? &t->family2 : &t->family;
	int rc = agg_prefix_parse(v, family, second ? &t->addr2 : &t->addr,
				  second ? &t->plen2 : &t->plen);

	if (rc == AGG_PREFIX_EADDR)
		snprintf(why, len, "'%s' is not 'any' or ADDRESS[/LENGTH]", v);
	else if (rc == AGG_PREFIX_ELEN)
		snprintf(why, len, "prefix length in '%s' must be 0-%u", v, *family == 1 ? 32u : 128u);
	return rc ? -1 : 0;
}

static int parse_match1(void *obj, const char *v, char *why, size_t len)
{
	return parse_match(obj, v, 0, why, len);
}

static int parse_match2(void *obj, const char *v, char *why, size_t len)
{
	return parse_match(obj, v, 1, why, len);
}

#define TOFF(f) CONF_FIELD(struct thresh_parse, f)

static const struct conf_key threshold_keys[] = {
	{ "profile", CONF_STRING, 0, 0, TOFF(profile), NULL, NULL },
	{ "match", CONF_CUSTOM, 0, 0, 0, 0, NULL, parse_match1 },
	{ "match2", CONF_CUSTOM, 0, 0, 0, 0, NULL, parse_match2 },
	{ "proto", CONF_WORD, 0, 255, TOFF(proto), proto_words, NULL },
	{ "port", CONF_COUNT, 0, 65535, TOFF(port), NULL, NULL },
	{ "metric", CONF_WORD, 0, 0, TOFF(metric), metric_words, NULL },
	{ "direction", CONF_WORD, 0, 0, TOFF(dir), dir_words, NULL },
	{ "window", CONF_DURATION_MS, 1000, THRESH_WINDOW_MAX * 1000ULL, TOFF(window_ms), NULL, NULL },
	{ "rising", CONF_COUNT, 1, 1ULL << 62, TOFF(rising), NULL, NULL },
	{ "falling", CONF_COUNT, 0, 1ULL << 62, TOFF(falling), NULL, NULL },
	{ "notify_limit", CONF_COUNT, 0, 100000, TOFF(notify), NULL, NULL },
	{ "rows", CONF_COUNT, 1, THRESH_ROWS_MAX, TOFF(rows), NULL, NULL },
	{ "index", CONF_COUNT, 1, THRESH_INDEX_MAX, TOFF(index), NULL, NULL },
	{ "status", CONF_WORD, 0, 0, TOFF(inactive), status_words, NULL },
	{ "period", CONF_STRING, 0, 0, TOFF(period), NULL, NULL },
};

static void parse_init(void *obj, const char *name)
{
	struct thresh_parse *p = obj;

	snprintf(p->name, sizeof(p->name), "%s", name);
	thresh_def_init(&p->def, name);
	p->proto = p->port = p->falling = UINT64_MAX;
	p->metric = THRESH_BYTES;
	p->dir = THRESH_BOTH;
	p->notify = DEFAULT_NOTIFY;
	p->rows = DEFAULT_ROWS;
}

/* A period threshold: the period by its name among the profile's. */
static int period_by_name(struct thresh_parse *p, const struct thresh_env *env, const char **key,
			  char *why, size_t len)
{
	const struct agg_profile_def *pd = &env->profiles[p->def.profile];
	char list[USAGE_KINDS_MAX * (USAGE_NAME_MAX + 1) + 1];

	for (unsigned i = 0; i < pd->usage.n; i++) {
		if (strcmp(pd->usage.k[i].name, p->period) == 0) {
			p->def.period = (uint8_t)(i + 1);
			return 0;
		}
	}
	usage_format(&pd->usage, list, sizeof(list));
	return reject(key, "period", why, len, "profile '%s' keeps no period '%s' (periods = %s)",
		      pd->name, p->period, list[0] ? list : "none");
}

/* The parsed keys into the definition; the profile by name. */
static int parse_to_def(struct thresh_parse *p, const struct thresh_env *env, const char **key,
			char *why, size_t len)
{
	struct thresh_def *t = &p->def;

	if (!p->profile[0])
		return reject(key, NULL, why, len, " has no 'profile'");
	if (!p->rising)
		return reject(key, NULL, why, len, " has no 'rising'");
	t->profile = THRESH_PROFILE_UNSET;
	for (size_t j = 0; j < env->nprofiles; j++)
		if (strcmp(env->profiles[j].name, p->profile) == 0)
			t->profile = j;
	if (t->profile == THRESH_PROFILE_UNSET)
		return reject(key, "profile", why, len, "no profile '%s'", p->profile);
	if (p->period[0] && period_by_name(p, env, key, why, len) < 0)
		return -1;
	t->falling = p->falling == UINT64_MAX ? p->rising / 10 * 9 + p->rising % 10 * 9 / 10
					      : p->falling;
	t->rising = p->rising;
	t->proto = p->proto == UINT64_MAX ? -1 : (int)p->proto;
	t->port = p->port == UINT64_MAX ? -1 : (int)p->port;
	t->metric = (uint8_t)p->metric;
	t->dir = (uint8_t)p->dir;
	t->window_s = p->window_ms / 1000;
	t->notify_per_min = (uint32_t)p->notify;
	t->max_rows = (uint32_t)p->rows;
	t->index = (uint32_t)p->index;
	t->inactive = (uint8_t)p->inactive;
	return 0;
}

static int parse_finish(void *obj, size_t i, void *ctx, const char **key, char *why, size_t len)
{
	const struct thresh_conf *k = ctx;
	struct thresh_parse *p = obj;

	if (parse_to_def(p, k->env, key, why, len) < 0 ||
	    thresh_def_check(&p->def, k->env, key, why, len) < 0)
		return -1;
	if (!p->def.index)
		p->def.index = (uint32_t)i + 1;
	for (size_t j = 0; j < i; j++)
		if (k->objs[j].def.index == p->def.index)
			return reject(key, "index", why, len, "index %u is [threshold %s]'s",
				      p->def.index, k->objs[j].name);
	return 0;
}

void thresh_conf_kind(struct conf_kind *k, struct thresh_conf *tc, struct thresh_parse *objs,
		      size_t max, size_t *n, const struct thresh_env *env)
{
	tc->env = env;
	tc->objs = objs;
	*k = (struct conf_kind){ "threshold", threshold_keys,
				 sizeof(threshold_keys) / sizeof(threshold_keys[0]), objs,
				 sizeof(*objs), max, n, parse_init, parse_finish, NULL, tc };
}

void thresh_def_write(FILE *f, const struct thresh_def *t, uint32_t index, int active,
		      const char *profile_name, const struct usage_def *usage)
{
	char a[AGG_PREFIX_TEXT_MAX];

	fprintf(f, "\n[threshold %s]\nindex = %u\nstatus = %s\nprofile = %s\n", t->name, index,
		active ? "active" : "notInService", profile_name);
	if (t->period && t->period <= usage->n)
		fprintf(f, "period = %s\n", usage->k[t->period - 1].name);
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
		word_of(metric_words, t->metric), word_of(dir_words, t->dir), t->window_s,
		(unsigned long long)t->rising, (unsigned long long)t->falling, t->notify_per_min,
		t->max_rows);
}

/* ---- quotas ---- */

/* "80, 95, 100": ascending percentages of the cap, 1..255. */
static int parse_levels(void *obj, const char *v, char *why, size_t len)
{
	struct quota_parse *q = obj;
	const char *p = v;

	q->nlevels = 0;
	while (*p) {
		char *end;
		unsigned long x;

		while (*p == ' ' || *p == ',' || *p == '%')
			p++;
		if (!*p)
			break;
		x = strtoul(p, &end, 10);
		if (end == p || x < 1 || x > 255 || q->nlevels == QUOTA_LEVELS_MAX ||
		    (q->nlevels && x <= q->level[q->nlevels - 1])) {
			snprintf(why, len, "'%s' is not up to %d ascending percentages of the cap "
				 "(1-255), like 80, 95, 100", v, QUOTA_LEVELS_MAX);
			return -1;
		}
		q->level[q->nlevels++] = (uint8_t)x;
		p = end;
	}
	if (!q->nlevels) {
		snprintf(why, len, "no level given");
		return -1;
	}
	return 0;
}

static int quota_match1(void *obj, const char *v, char *why, size_t len)
{
	return parse_match(&((struct quota_parse *)obj)->t, v, 0, why, len);
}

static int quota_match2(void *obj, const char *v, char *why, size_t len)
{
	return parse_match(&((struct quota_parse *)obj)->t, v, 1, why, len);
}

#define QOFF(f) CONF_FIELD(struct quota_parse, f)

static const struct conf_key quota_keys[] = {
	{ "profile", CONF_STRING, 0, 0, QOFF(t.profile), NULL, NULL },
	{ "period", CONF_STRING, 0, 0, QOFF(t.period), NULL, NULL },
	{ "cap", CONF_SIZE, 1, 1ULL << 62, QOFF(cap), NULL, NULL },
	{ "warn", CONF_CUSTOM, 0, 0, 0, 0, NULL, parse_levels },
	{ "match", CONF_CUSTOM, 0, 0, 0, 0, NULL, quota_match1 },
	{ "match2", CONF_CUSTOM, 0, 0, 0, 0, NULL, quota_match2 },
	{ "proto", CONF_WORD, 0, 255, QOFF(t.proto), proto_words, NULL },
	{ "port", CONF_COUNT, 0, 65535, QOFF(t.port), NULL, NULL },
	{ "metric", CONF_WORD, 0, 0, QOFF(t.metric), metric_words, NULL },
	{ "direction", CONF_WORD, 0, 0, QOFF(t.dir), dir_words, NULL },
	{ "notify_limit", CONF_COUNT, 0, 100000, QOFF(t.notify), NULL, NULL },
	{ "rows", CONF_COUNT, 1, THRESH_ROWS_MAX, QOFF(t.rows), NULL, NULL },
	{ "index", CONF_COUNT, 1, THRESH_INDEX_MAX, QOFF(t.index), NULL, NULL },
};

static void quota_init(void *obj, const char *name)
{
	struct quota_parse *q = obj;

	snprintf(q->name, sizeof(q->name), "%s", name);
	parse_init(&q->t, name);
	q->nlevels = 3;
	q->level[0] = 80;
	q->level[1] = 95;
	q->level[2] = 100;
}

static int quota_finish(void *obj, size_t i, void *ctx, const char **key, char *why, size_t len)
{
	const struct thresh_conf *k = ctx;
	struct quota_parse *q = obj;
	char lname[THRESH_NAME_MAX + 8];

	(void)i;
	if (!q->cap)
		return reject(key, NULL, why, len, " has no 'cap'");
	if (!q->t.period[0])
		return reject(key, NULL, why, len, " has no 'period' (one of its profile's periods)");
	/* the longest level's name must be a valid threshold name */
	snprintf(lname, sizeof(lname), "%s-%u", q->name, q->level[q->nlevels - 1]);
	if (!thresh_name_valid(lname, strlen(lname)))
		return reject(key, NULL, why, len, ": '%s' (the name of a level) is longer than %d "
			      "characters", lname, THRESH_NAME_MAX);
	q->t.rising = q->cap;
	if (parse_to_def(&q->t, k->env, key, why, len) < 0)
		return -1;
	return thresh_def_check(&q->t.def, k->env, key, why, len);
}

void quota_conf_kind(struct conf_kind *k, struct thresh_conf *tc, struct quota_parse *objs,
		     size_t max, size_t *n, const struct thresh_env *env)
{
	tc->env = env;
	tc->objs = NULL;
	*k = (struct conf_kind){ "quota", quota_keys, sizeof(quota_keys) / sizeof(quota_keys[0]),
				 objs, sizeof(*objs), max, n, quota_init, quota_finish, NULL, tc };
}

size_t quota_thresholds(const struct quota_parse *q, uint32_t index, struct thresh_def *out,
			size_t max)
{
	size_t n = 0;

	for (unsigned i = 0; i < q->nlevels && n < max; i++) {
		struct thresh_def *t = &out[n++];

		*t = q->t.def;
		snprintf(t->name, sizeof(t->name), "%.24s-%u", q->name, q->level[i]);
		/* rounded up: 80% of 1000 bytes is reached at 800, of 1001 at 801 */
		t->rising = (q->cap / 100) * q->level[i] + ((q->cap % 100) * q->level[i] + 99) / 100;
		t->falling = t->rising;
		t->index = index + i;
	}
	return n;
}
