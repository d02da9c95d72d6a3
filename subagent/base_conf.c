/*
 * base_conf: a line parser over the owners' typed key tables.
 *
 * Adding a key is one line in its owner's table; the same parsing, bounds
 * and error messages apply to every key of every section (not ulogd2's
 * config by array position).  The engine remembers the line of every
 * section and key, so that checks made after the whole file was read still
 * point at a line.
 */
#include "base_conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KIB 1024ULL
#define GIB (1024ULL * 1024 * 1024)
#define FILE_MAX (16u << 20)

/* Where a section and each of its keys were. */
struct where {
	int line;
	int key_line[CONF_KEYS_MAX];
	int skipped;                     /* a tolerant parse dropped it */
};

struct parser {
	const struct conf_kind *kinds;
	size_t nkinds;
	const struct conf_source *src;
	char *err;
	size_t errlen;
	int line;
	int tolerant;
	const struct conf_kind *cur;     /* the section being read; NULL: globals or skipping */
	void *obj;
	struct where *w;
	int skipping;                    /* tolerant: the rest of a bad section */
	struct where *wheres[16];        /* per kind, max entries */
	struct where global;
};

__attribute__((format(printf, 3, 4)))
static int fail_at(struct parser *ps, int line, const char *fmt, ...)
{
	char reason[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(ps->err, ps->errlen, "%s:%d: %s", ps->src->name, line, reason);
	else
		snprintf(ps->err, ps->errlen, "%s: %s", ps->src->name, reason);
	return -1;
}

#define fail(ps, ...) fail_at(ps, (ps)->line, __VA_ARGS__)

/* ---- values ---- */

struct unit {
	const char *suffix;
	uint64_t mult;
};

static const struct unit size_units[] = {
	{ "", 1 }, { "k", KIB }, { "K", KIB }, { "M", KIB * KIB }, { "G", GIB }, { "T", GIB * KIB }, { NULL, 0 },
};
static const struct unit count_units[] = { { "", 1 }, { "k", 1000 }, { "M", 1000000 }, { NULL, 0 } };
static const struct unit ms_units[] = {
	{ "", 1000 }, { "s", 1000 }, { "ms", 1 }, { "m", 60000 }, { "h", 3600000 }, { NULL, 0 },
};

static int parse_units(const char *s, const struct unit *units, uint64_t *out)
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

int conf_parse_number(const char *s, enum conf_type type, uint64_t *out)
{
	switch (type) {
	case CONF_SIZE: return parse_units(s, size_units, out);
	case CONF_DURATION_MS: return parse_units(s, ms_units, out);
	case CONF_BOOL: return parse_bool(s, out);
	default: return parse_units(s, count_units, out);
	}
}

static const char *type_hint(enum conf_type t)
{
	switch (t) {
	case CONF_SIZE: return "a size such as 65536, 64M or 1G";
	case CONF_COUNT: return "a whole number (k and M suffixes allowed)";
	case CONF_DURATION_MS: return "a duration such as 60, 60s, 5m or 500ms";
	case CONF_BOOL: return "yes or no";
	default: return "a valid value";
	}
}

static int store_number(struct parser *ps, const struct conf_key *k, char *dst, const char *v)
{
	uint64_t n = 0;

	if (conf_parse_number(v, k->type, &n) < 0)
		return fail(ps, "%s: '%s' is not %s", k->name, v, type_hint(k->type));
	if (n < k->min || n > k->max)
		return fail(ps, "%s: %s is out of range %llu..%llu%s", k->name, v,
			    (unsigned long long)k->min, (unsigned long long)k->max,
			    k->type == CONF_DURATION_MS ? " ms" : "");
	if (k->type == CONF_BOOL) {
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

/* "a, b or c" of a word list, for the error. */
static void word_list(const struct conf_word *w, char *out, size_t len)
{
	size_t n = 0, off = 0;

	while (w[n].word)
		n++;
	out[0] = 0;
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s", i == 0 ? "" :
					i + 1 == n ? " or " : ", ", w[i].word);
}

static int store_word(struct parser *ps, const struct conf_key *k, char *dst, const char *v)
{
	char list[300], *end = NULL;
	uint64_t n;

	for (const struct conf_word *w = k->words; w->word; w++) {
		if (strcmp(w->word, v) == 0) {
			memcpy(dst, &w->n, sizeof(w->n));
			return 0;
		}
	}
	word_list(k->words, list, sizeof(list));
	if (k->max > 0) { /* a number is fine too */
		n = strtoull(v, &end, 10);
		if (isdigit((unsigned char)*v) && !*end && n >= k->min && n <= k->max) {
			memcpy(dst, &n, sizeof(n));
			return 0;
		}
		return fail(ps, "%s: '%s' is not %s or %llu-%llu", k->name, v, list,
			    (unsigned long long)k->min, (unsigned long long)k->max);
	}
	return fail(ps, "%s: '%s' is not %s", k->name, v, list);
}

static int store_value(struct parser *ps, const struct conf_key *k, void *obj, const char *v)
{
	char *dst = (char *)obj + k->offset;
	char why[400];

	switch (k->type) {
	case CONF_PATH:
		if (strcmp(v, "none") == 0) {
			dst[0] = '\0';
			return 0;
		}
		if (v[0] != '/')
			return fail(ps, "%s: '%s' is not an absolute path (or none)", k->name, v);
		if (strlen(v) >= k->size)
			return fail(ps, "%s: path too long", k->name);
		memcpy(dst, v, strlen(v) + 1);
		return 0;
	case CONF_STRING:
		if (strlen(v) >= k->size)
			return fail(ps, "%s: longer than %zu characters", k->name, k->size - 1);
		memcpy(dst, v, strlen(v) + 1);
		return 0;
	case CONF_WORD:
		return store_word(ps, k, dst, v);
	case CONF_CUSTOM:
		why[0] = 0;
		if (k->parse(obj, v, why, sizeof(why)) < 0)
			return fail(ps, "%s: %s", k->name, why);
		return 0;
	default:
		return store_number(ps, k, dst, v);
	}
}

/* ---- lines and sections ---- */

static const struct conf_kind *global_kind(const struct parser *ps)
{
	return ps->nkinds && !ps->kinds[0].kind ? &ps->kinds[0] : NULL;
}

static void key_names(const struct conf_kind *k, char *out, size_t len)
{
	size_t off = 0;

	out[0] = 0;
	for (size_t i = 0; i < k->nkeys && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s", i ? ", " : "", k->keys[i].name);
}

static int set_key(struct parser *ps, const char *key, const char *val)
{
	const struct conf_kind *k = ps->cur ? ps->cur : global_kind(ps);
	struct where *w = ps->cur ? ps->w : &ps->global;
	void *obj = ps->cur ? ps->obj : k ? k->objs : NULL;
	char names[600];

	for (size_t i = 0; k && i < k->nkeys; i++) {
		if (strcmp(k->keys[i].name, key) != 0)
			continue;
		if (w->key_line[i])
			return fail(ps, "'%s' is set twice", key);
		w->key_line[i] = ps->line;
		return store_value(ps, &k->keys[i], obj, val);
	}
	if (!ps->cur)
		return fail(ps, "unknown key '%s'", key);
	key_names(k, names, sizeof(names));
	return fail(ps, "unknown key '%s' in [%s %s] (expected %s)", key, k->kind,
		    (const char *)ps->obj, names);
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONF_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* "[profile NAME]', '[collector NAME]' or '[threshold NAME]" */
static void kind_list(const struct parser *ps, char *out, size_t len)
{
	size_t off = 0, n = 0, m = 0;

	out[0] = 0;
	for (size_t i = 0; i < ps->nkinds; i++)
		n += ps->kinds[i].kind != NULL;
	for (size_t i = 0; i < ps->nkinds && off < len; i++) {
		if (!ps->kinds[i].kind)
			continue;
		off += (size_t)snprintf(out + off, len - off, "%s'[%s NAME]'",
					m == 0 ? "" : m + 1 == n ? " or " : ", ", ps->kinds[i].kind);
		m++;
	}
}

static int begin_section(struct parser *ps, char *s)
{
	char *end = strchr(s, ']'), kind[32], name[128], list[300];
	const struct conf_kind *k = NULL;
	size_t ki = 0;

	kind_list(ps, list, sizeof(list));
	if (!end || end[1] != '\0')
		return fail(ps, "section header must be %s", list);
	*end = '\0';
	if (sscanf(s + 1, "%31s %127s", kind, name) == 2)
		for (ki = 0; ki < ps->nkinds && !k; ki++)
			if (ps->kinds[ki].kind && strcmp(ps->kinds[ki].kind, kind) == 0)
				k = &ps->kinds[ki];
	if (!k)
		return fail(ps, "unknown section '[%s]' (expected %s)", s + 1, list);
	if (!valid_name(name))
		return fail(ps, "%s name '%s' must be 1-%d letters, digits, '_' or '-'", kind, name,
			    CONF_NAME_MAX);
	for (size_t i = 0; i < *k->n; i++)
		if (strcmp((const char *)k->objs + i * k->obj_size, name) == 0)
			return fail(ps, "%s '%s' is defined twice", kind, name);
	if (*k->n >= k->max)
		return fail(ps, "too many %ss (at most %zu)", kind, k->max);
	ps->cur = k;
	ps->obj = (char *)k->objs + *k->n * k->obj_size;
	ps->w = &ps->wheres[ki - 1][*k->n];
	memset(ps->w, 0, sizeof(*ps->w));
	ps->w->line = ps->line;
	memset(ps->obj, 0, k->obj_size);
	k->init(ps->obj, name); /* the name is the object's first member */
	(*k->n)++;
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
	if (*s == '[') {
		ps->skipping = 0;
		ps->cur = NULL;
		return begin_section(ps, s);
	}
	if (ps->skipping)
		return 0;
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

/* Tolerant: report it, drop the section it is in, and go on. */
static int skip(struct parser *ps)
{
	if (!ps->tolerant)
		return -1;
	if (ps->src->skipped)
		ps->src->skipped(ps->src->arg, ps->err);
	if (ps->cur) {
		ps->w->skipped = 1;
		ps->skipping = 1;
	}
	ps->cur = NULL;
	return 0;
}

/* ---- after the whole file ---- */

static int line_of(const struct conf_kind *k, const struct where *w, const char *key)
{
	for (size_t i = 0; key && i < k->nkeys; i++)
		if (strcmp(k->keys[i].name, key) == 0 && w->key_line[i])
			return w->key_line[i];
	if (w->line)
		return w->line;
	for (size_t i = 0; i < k->nkeys; i++) /* the globals: their first line */
		if (w->key_line[i] && (!w->line || w->key_line[i] < w->line))
			return w->key_line[i];
	return 1;
}

/* Drop what a tolerant parse skipped, keeping the order. */
static void compact(const struct conf_kind *k, struct where *ws)
{
	size_t out = 0;

	for (size_t i = 0; i < *k->n; i++) {
		if (ws[i].skipped)
			continue;
		if (out != i) {
			memmove((char *)k->objs + out * k->obj_size, (char *)k->objs + i * k->obj_size,
				k->obj_size);
			ws[out] = ws[i];
		}
		out++;
	}
	*k->n = out;
}

static int finish_kind(struct parser *ps, const struct conf_kind *k, struct where *ws, size_t n)
{
	char why[600];

	for (size_t i = 0; k->finish && i < n; i++) {
		const char *key = NULL;

		if (ws[i].skipped)
			continue;
		why[0] = 0;
		if (k->finish((char *)k->objs + i * k->obj_size, i, k->ctx, &key, why, sizeof(why)) == 0)
			continue;
		if (k->kind)
			fail_at(ps, line_of(k, &ws[i], key), "[%s %s]%s%s", k->kind,
				(const char *)k->objs + i * k->obj_size, why[0] == ' ' ? "" : ": ",
				why);
		else
			fail_at(ps, line_of(k, &ws[i], key), "%s", why);
		ps->cur = NULL;
		if (skip(ps) < 0)
			return -1;
		ws[i].skipped = 1;
	}
	if (k->kind)
		compact(k, ws);
	if (k->after)
		k->after(k->ctx);
	return 0;
}

static int finish_all(struct parser *ps)
{
	for (size_t i = 0; i < ps->nkinds; i++) {
		const struct conf_kind *k = &ps->kinds[i];

		if (finish_kind(ps, k, k->kind ? ps->wheres[i] : &ps->global, k->kind ? *k->n : 1) < 0)
			return -1;
	}
	return 0;
}

static int parse_text(struct parser *ps)
{
	const struct conf_source *src = ps->src;
	char line[CONF_LINE_MAX + 2];
	size_t pos = 0;

	while (pos < src->len) {
		const char *nl = memchr(src->text + pos, '\n', src->len - pos);
		size_t n = nl ? (size_t)(nl - (src->text + pos)) : src->len - pos;
		int rc;

		ps->line++;
		if (n > CONF_LINE_MAX) {
			rc = fail(ps, "line longer than %d characters", CONF_LINE_MAX);
		} else if (memchr(src->text + pos, '\0', n)) {
			rc = fail(ps, "NUL byte in line");
		} else {
			memcpy(line, src->text + pos, n);
			line[n] = '\0';
			rc = parse_line(ps, line);
		}
		if (rc < 0 && skip(ps) < 0)
			return -1;
		pos += n + 1;
	}
	ps->cur = NULL;
	return finish_all(ps);
}

int conf_parse(const struct conf_kind *kinds, size_t nkinds, const struct conf_source *src,
	       char *err, size_t errlen)
{
	struct parser ps = { .kinds = kinds, .nkinds = nkinds, .src = src, .err = err,
			     .errlen = errlen, .tolerant = src->skipped != NULL };
	int rc;

	if (nkinds > sizeof(ps.wheres) / sizeof(ps.wheres[0])) {
		snprintf(err, errlen, "%s: too many kinds of section", src->name);
		return -1;
	}
	for (size_t i = 0; i < nkinds; i++) {
		if (kinds[i].kind) {
			*kinds[i].n = 0;
			ps.wheres[i] = calloc(kinds[i].max ? kinds[i].max : 1, sizeof(struct where));
			if (!ps.wheres[i]) {
				snprintf(err, errlen, "%s: out of memory", src->name);
				rc = -1;
				goto out;
			}
		}
	}
	rc = parse_text(&ps);
out:
	for (size_t i = 0; i < nkinds; i++)
		free(ps.wheres[i]);
	return rc;
}

int conf_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (n == cap) {
			char *nb = cap < FILE_MAX ? realloc(buf, cap ? cap * 2 : 4096) : NULL;

			if (!nb) {
				snprintf(err, errlen, "%s: file too large or out of memory", path);
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
			cap = cap ? cap * 2 : 4096;
		}
		size_t r = fread(buf + n, 1, cap - n, f);

		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	*text = buf;
	*len = n;
	return 0;
}
