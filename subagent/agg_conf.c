/*
 * agg_conf: the [profile] keys.
 */
#include "agg_conf.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_ROWS 65536
#define DEFAULT_TOP 10
#define DEFAULT_KEEP 3 /* previous periods kept */

static const struct conf_word view_words[] = {
	{ "original", AGG_VIEW_ORIGINAL }, { "translated", AGG_VIEW_TRANSLATED }, { NULL, 0 },
};

static int parse_key(void *obj, const char *v, char *why, size_t len)
{
	struct profile_parse *p = obj;

	if (agg_keyspec_parse(v, &p->def.spec, why, len) < 0)
		return -1;
	p->has_key = 1;
	return 0;
}

static int parse_periods(void *obj, const char *v, char *why, size_t len)
{
	struct profile_parse *p = obj;

	return usage_parse(v, &p->def.usage, why, len);
}

#define POFF(f) CONF_FIELD(struct profile_parse, f)

static const struct conf_key profile_keys[] = {
	{ "key", CONF_CUSTOM, 0, 0, 0, 0, NULL, parse_key },
	{ "rows", CONF_COUNT, 1, 1ULL << 30, POFF(rows), NULL, NULL },
	{ "addresses", CONF_WORD, 0, 0, POFF(view), view_words, NULL },
	{ "top", CONF_COUNT, 0, AGG_TOP_MAX, POFF(top), NULL, NULL },
	{ "periods", CONF_CUSTOM, 0, 0, 0, 0, NULL, parse_periods },
	{ "keep", CONF_COUNT, 0, USAGE_KEEP_MAX, POFF(keep), NULL, NULL },
	{ "month_start", CONF_COUNT, 1, 28, POFF(month_day), NULL, NULL },
};

static void parse_init(void *obj, const char *name)
{
	struct profile_parse *p = obj;

	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->def.name, sizeof(p->def.name), "%s", name);
	p->rows = DEFAULT_ROWS;
	p->top = DEFAULT_TOP;
	p->keep = DEFAULT_KEEP;
	p->month_day = 1;
}

static int parse_finish(void *obj, size_t i, void *ctx, const char **key, char *why, size_t len)
{
	struct profile_parse *p = obj;

	(void)i, (void)ctx;
	*key = NULL;
	if (!p->has_key) {
		snprintf(why, len, " has no 'key'");
		return -1;
	}
	p->def.spec.view = (uint8_t)p->view;
	p->def.rows = p->rows;
	p->def.top = p->top;
	if (p->def.usage.n) {
		p->def.usage.keep = (uint8_t)p->keep;
		p->def.usage.month_day = (uint8_t)p->month_day;
	}
	return 0;
}

void profile_conf_defaults(struct profile_conf *pc)
{
	struct agg_profile_def defs[8];
	size_t n;

	if (*pc->n)
		return;
	n = agg_default_profiles(defs, pc->max < 8 ? pc->max : 8);
	for (size_t i = 0; i < n; i++) {
		memset(&pc->objs[i], 0, sizeof(pc->objs[i]));
		snprintf(pc->objs[i].name, sizeof(pc->objs[i].name), "%.32s", defs[i].name);
		pc->objs[i].def = defs[i];
		pc->objs[i].has_key = 1;
	}
	*pc->n = n;
}

static void parse_after(void *ctx)
{
	profile_conf_defaults(ctx);
}

void profile_conf_kind(struct conf_kind *k, struct profile_conf *pc, struct profile_parse *objs,
		       size_t max, size_t *n)
{
	pc->objs = objs;
	pc->max = max;
	pc->n = n;
	*k = (struct conf_kind){ "profile", profile_keys, sizeof(profile_keys) / sizeof(profile_keys[0]),
				 objs, sizeof(*objs), max, n, parse_init, parse_finish, parse_after,
				 pc };
}
