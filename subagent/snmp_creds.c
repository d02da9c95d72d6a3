/*
 * snmp_creds: the credentials file's lines, one table entry per keyword,
 * and the view arithmetic of RFC 3415 (the longest matching subtree of a
 * view decides) without masks.
 */
#include "snmp_creds.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base_conf.h"

#define MAX_WORDS 32

struct words {
	size_t n;
	char w[MAX_WORDS][CREDS_LINE_MAX];
};

struct parse {
	struct snmp_creds *c;
	const char *name;
	unsigned line;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parse *p, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%u: %s", p->name, p->line, why);
	return -1;
}

/* Words split at blanks; "double quotes" keep blanks, as snmpd reads them. */
static int split(struct parse *p, const char *s, size_t len, struct words *w)
{
	size_t i = 0;

	w->n = 0;
	while (i < len) {
		size_t k = 0;
		int quoted = 0;

		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i == len || s[i] == '#')
			break;
		if (w->n == MAX_WORDS)
			return fail(p, "more than %d words on one line", MAX_WORDS);
		if (s[i] == '"') {
			quoted = 1;
			i++;
		}
		while (i < len && (quoted ? s[i] != '"' : (s[i] != ' ' && s[i] != '\t' && s[i] != '\r'))) {
			if (k + 1 == CREDS_LINE_MAX)
				return fail(p, "a word longer than %d characters", CREDS_LINE_MAX - 1);
			if (s[i] == '\0')
				return fail(p, "a NUL character");
			w->w[w->n][k++] = s[i++];
		}
		if (quoted && i == len)
			return fail(p, "a quote that does not end");
		i += quoted;
		w->w[w->n++][k] = '\0';
	}
	return 0;
}

static int parse_oid(struct parse *p, const char *s, struct creds_oid *o)
{
	const char *q = s + (*s == '.');

	o->len = 0;
	while (*q) {
		unsigned long long x = 0;
		int digits = 0;

		while (*q >= '0' && *q <= '9' && digits < 11) {
			x = x * 10 + (unsigned)(*q++ - '0');
			digits++;
		}
		if (!digits || x > UINT32_MAX || (*q && *q != '.') || o->len == CREDS_OID_MAX)
			return fail(p, "'%s' is not a numeric OID like .1.3.6.1.4.1.32473 "
				    "(at most %d numbers)", s, CREDS_OID_MAX);
		o->sub[o->len++] = (uint32_t)x;
		if (*q == '.' && *++q == '\0')
			return fail(p, "'%s' ends with a dot", s);
	}
	if (o->len < 2)
		return fail(p, "'%s' is too short for an OID", s);
	return 0;
}

static int copy_name(struct parse *p, char *dst, const char *s, const char *what)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CREDS_NAME_MAX)
		return fail(p, "%s '%s' must have 1 to %d characters", what, s, CREDS_NAME_MAX - 1);
	memcpy(dst, s, n + 1);
	return 0;
}

/* SOURCE: default, an address, or address/prefix (IPv4 or IPv6). */
static int parse_source(struct parse *p, const char *s, struct creds_access *a)
{
	char host[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	unsigned long prefix;
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	char *end;

	if (strcmp(s, "default") == 0)
		return 0;
	if (n >= sizeof(host))
		return fail(p, "'%s' is not an address", s);
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, a->addr) == 1)
		a->family = 4;
	else if (inet_pton(AF_INET6, host, a->addr) == 1)
		a->family = 6;
	else
		return fail(p, "source '%s' is not default, an address or address/prefix "
			    "(names are not looked up)", s);
	a->prefix = a->family == 4 ? 32 : 128;
	if (slash) {
		errno = 0;
		prefix = strtoul(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || prefix > a->prefix)
			return fail(p, "'%s' has no valid prefix length (0 to %u)", s, a->prefix);
		a->prefix = (unsigned)prefix;
	}
	return 0;
}

/* What follows the source or the level: nothing, an OID, or -V VIEW. */
static int parse_scope(struct parse *p, const struct words *w, size_t i, struct creds_access *a)
{
	if (i == w->n)
		return 0;
	if (strcmp(w->w[i], "-V") == 0) {
		if (i + 2 != w->n)
			return fail(p, "-V takes one view name, and nothing follows it "
				    "(contexts are not supported)");
		return copy_name(p, a->view, w->w[i + 1], "view");
	}
	if (i + 1 != w->n)
		return fail(p, "'%s' after the OID: contexts are not supported", w->w[i + 1]);
	return parse_oid(p, w->w[i], &a->subtree);
}

static struct creds_access *new_access(struct parse *p)
{
	struct snmp_creds *c = p->c;

	if (c->naccess == CREDS_MAX_ACCESS) {
		fail(p, "more than %d community and user lines", CREDS_MAX_ACCESS);
		return NULL;
	}
	memset(&c->access[c->naccess], 0, sizeof(c->access[0]));
	return &c->access[c->naccess++];
}

static int on_community(struct parse *p, const struct words *w)
{
	struct creds_access *a;

	if (w->n < 2)
		return fail(p, "%s needs a community name", w->w[0]);
	if (!(a = new_access(p)) || copy_name(p, a->name, w->w[1], "community") < 0)
		return -1;
	a->write = w->w[0][1] == 'w';
	if (w->n > 2 && parse_source(p, w->w[2], a) < 0)
		return -1;
	return parse_scope(p, w, 3, a);
}

static int on_user(struct parse *p, const struct words *w)
{
	static const char *const levels[] = { "noauth", "auth", "priv" };
	struct creds_access *a;

	if (w->n < 2)
		return fail(p, "%s needs a user name", w->w[0]);
	if (!(a = new_access(p)) || copy_name(p, a->name, w->w[1], "user") < 0)
		return -1;
	a->user = 1;
	a->write = w->w[0][1] == 'w';
	a->level = CREDS_AUTH; /* snmpd's default for rouser */
	if (w->n > 2) {
		size_t k;

		for (k = 0; k < 3 && strcmp(w->w[2], levels[k]) != 0; k++)
			;
		if (k == 3)
			return fail(p, "'%s' is not noauth, auth or priv", w->w[2]);
		a->level = (int)k + 1;
	}
	return parse_scope(p, w, 3, a);
}

static int on_view(struct parse *p, const struct words *w)
{
	struct creds_view *v;

	if (w->n != 4)
		return fail(p, "view takes NAME included|excluded OID (masks are not supported)");
	if (p->c->nviews == CREDS_MAX_VIEWS)
		return fail(p, "more than %d view lines", CREDS_MAX_VIEWS);
	v = &p->c->views[p->c->nviews];
	memset(v, 0, sizeof(*v));
	if (copy_name(p, v->name, w->w[1], "view") < 0)
		return -1;
	if (strcmp(w->w[2], "included") != 0 && strcmp(w->w[2], "excluded") != 0)
		return fail(p, "'%s' is not included or excluded", w->w[2]);
	v->included = w->w[2][0] == 'i';
	if (parse_oid(p, w->w[3], &v->subtree) < 0)
		return -1;
	p->c->nviews++;
	return 0;
}

/*
 * Rebuilds the line's words after the keyword, for net-snmp to read:
 * quoted where its reader takes quotes (createUser, trapsess), as they are
 * where it splits at blanks (the sinks).
 */
static int keep_line(struct parse *p, const struct words *w, int quote)
{
	struct creds_line *l;
	size_t used = 0;

	if (p->c->nlines == CREDS_MAX_LINES)
		return fail(p, "more than %d createUser and sink lines", CREDS_MAX_LINES);
	l = &p->c->lines[p->c->nlines];
	/* (a keyword from the table: always shorter than token) */
	memcpy(l->token, w->w[0], strnlen(w->w[0], sizeof(l->token) - 1));
	l->token[strnlen(w->w[0], sizeof(l->token) - 1)] = '\0';
	l->rest[0] = '\0';
	for (size_t i = 1; i < w->n; i++) {
		int n;

		if (strchr(w->w[i], '"') || (!quote && strpbrk(w->w[i], " \t")))
			return fail(p, "%s: a quote or a blank inside a word", w->w[0]);
		n = snprintf(l->rest + used, sizeof(l->rest) - used, quote ? "%s\"%s\"" : "%s%s",
			     i > 1 ? " " : "", w->w[i]);
		if (n < 0 || (size_t)n >= sizeof(l->rest) - used)
			return fail(p, "%s: the line is too long", w->w[0]);
		used += (size_t)n;
	}
	l->line = p->line;
	p->c->nlines++;
	return 0;
}

static int one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

/* createUser NAME AUTH AUTHPASS [PRIV [PRIVPASS]]: checked the way the
 * user would want to hear it here, not from net-snmp at first use. */
static int on_create_user(struct parse *p, const struct words *w)
{
	static const char *const auths[] = { "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384",
					     "SHA-512", NULL };
	static const char *const privs[] = { "DES", "AES", "AES-128", "AES-192", "AES-256",
					     NULL };

	if (w->n < 4 || w->n > 6)
		return fail(p, "createUser takes NAME AUTH-PROTOCOL AUTHPASS [PRIV-PROTOCOL "
			    "[PRIVPASS]] (engine ids and keys are not supported)");
	if (strlen(w->w[1]) >= CREDS_NAME_MAX)
		return fail(p, "user '%s' must have 1 to %d characters", w->w[1], CREDS_NAME_MAX - 1);
	if (!one_of(w->w[2], auths))
		return fail(p, "'%s' is not MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512", w->w[2]);
	if (strlen(w->w[3]) < 8)
		return fail(p, "the authentication pass phrase must have at least 8 characters");
	if (w->n > 4 && !one_of(w->w[4], privs))
		return fail(p, "'%s' is not DES, AES, AES-192 or AES-256", w->w[4]);
	if (w->n == 6 && strlen(w->w[5]) < 8)
		return fail(p, "the privacy pass phrase must have at least 8 characters");
	return keep_line(p, w, 1);
}

static int on_sink(struct parse *p, const struct words *w)
{
	if (w->n < 2 || w->n > 4)
		return fail(p, "%s takes HOST[:PORT] [COMMUNITY [PORT]]", w->w[0]);
	return keep_line(p, w, 0);
}

static int on_trapsess(struct parse *p, const struct words *w)
{
	if (w->n < 3)
		return fail(p, "trapsess takes snmptrap's options and HOST[:PORT]");
	return keep_line(p, w, 1);
}

static const struct {
	const char *word;
	int (*fn)(struct parse *p, const struct words *w);
} keywords[] = {
	{ "rocommunity", on_community }, { "rwcommunity", on_community },
	{ "rocommunity6", on_community }, { "rwcommunity6", on_community },
	{ "rouser", on_user }, { "rwuser", on_user },
	{ "view", on_view }, { "createUser", on_create_user },
	{ "trapsink", on_sink }, { "trap2sink", on_sink }, { "informsink", on_sink },
	{ "trapsess", on_trapsess },
};

static int one_line(struct parse *p, const char *s, size_t len)
{
	static struct words w; /* large; the parser is not reentrant anyway (fuzzed alone) */

	if (split(p, s, len, &w) < 0)
		return -1;
	if (w.n == 0)
		return 0;
	for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++)
		if (strcmp(w.w[0], keywords[k].word) == 0)
			return keywords[k].fn(p, &w);
	return fail(p, "unknown keyword '%s'", w.w[0]);
}

/* Every -V names a view that exists. */
static int views_named(struct parse *p)
{
	for (size_t i = 0; i < p->c->naccess; i++) {
		const struct creds_access *a = &p->c->access[i];
		size_t k;

		if (!a->view[0])
			continue;
		for (k = 0; k < p->c->nviews && strcmp(p->c->views[k].name, a->view) != 0; k++)
			;
		if (k == p->c->nviews) {
			snprintf(p->err, p->errlen, "%s: %s '%s' uses view '%s', which no view line "
				 "defines", p->name, a->user ? "user" : "community", a->name, a->view);
			return -1;
		}
	}
	return 0;
}

int snmp_creds_parse(struct snmp_creds *c, const char *name, const char *text, size_t len,
		     char *err, size_t errlen)
{
	struct parse p = { c, name, 0, err, errlen };
	size_t i = 0;

	memset(c, 0, sizeof(*c));
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;

		p.line++;
		if (one_line(&p, text + i, n) < 0)
			return -1;
		i += n + 1;
	}
	return views_named(&p);
}

int snmp_creds_load(struct snmp_creds *c, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *text;
	size_t len;
	int rc;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		snprintf(err, errlen, "%s: %s (mode %04o): it holds pass phrases; "
			 "chmod 600 it", path, S_ISREG(st.st_mode) ? "group or others may read it"
			 : "not a regular file", (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (conf_read_file(path, &text, &len, err, errlen) < 0)
		return -1;
	rc = snmp_creds_parse(c, path, text, len, err, errlen);
	free(text);
	return rc;
}

/* ---- the decision ---- */

static int source_matches(const struct creds_access *a, const struct creds_request *rq)
{
	unsigned bits = a->prefix, i;

	if (!a->family)
		return 1;
	if (rq->family != a->family || !rq->addr)
		return 0;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (rq->addr[i] != a->addr[i])
			return 0;
	return bits == 0 || ((rq->addr[i] ^ a->addr[i]) & (0xff00u >> bits) & 0xff) == 0;
}

const struct creds_access *creds_match(const struct snmp_creds *c, const struct creds_request *rq,
				       enum creds_verdict *v)
{
	for (size_t i = 0; i < c->naccess; i++) {
		const struct creds_access *a = &c->access[i];

		if (a->user != rq->v3 || strlen(a->name) != rq->namelen ||
		    memcmp(a->name, rq->name, rq->namelen) != 0)
			continue;
		if (rq->v3 && rq->level < a->level)
			continue;
		if (!rq->v3 && !source_matches(a, rq))
			continue;
		*v = CREDS_OK;
		return a;
	}
	/* an unknown community is a bad name; a known USM user (authenticated
	 * already) without an access line, or at too low a level, is refused */
	*v = rq->v3 ? CREDS_NO_ACCESS : CREDS_BAD_NAME;
	return NULL;
}

static int is_prefix(const struct creds_oid *p, const uint32_t *o, size_t len)
{
	if (p->len > len)
		return 0;
	for (size_t i = 0; i < p->len; i++)
		if (p->sub[i] != o[i])
			return 0;
	return 1;
}

/* Is `inner` strictly below the subtree o/len? */
static int below(const struct creds_oid *inner, const uint32_t *o, size_t len)
{
	if (inner->len <= len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (inner->sub[i] != o[i])
			return 0;
	return 1;
}

/* A view as a list: n entries of (subtree, included). */
struct view_ref {
	const struct snmp_creds *c;
	const char *name;            /* NULL: the list below */
	const struct creds_oid *list;
	size_t n;
};

static size_t view_count(const struct view_ref *r)
{
	return r->name ? r->c->nviews : r->n;
}

/* Entry k, or NULL when it is not part of the view. */
static const struct creds_oid *view_entry(const struct view_ref *r, size_t k, int *included)
{
	if (!r->name) {
		*included = 1;
		return &r->list[k];
	}
	if (strcmp(r->c->views[k].name, r->name) != 0)
		return NULL;
	*included = r->c->views[k].included;
	return &r->c->views[k].subtree;
}

enum creds_verdict creds_in_view(const struct snmp_creds *c, const struct creds_access *a,
				 const uint32_t *o, size_t len, int subtree,
				 const struct creds_oid *served, size_t nserved)
{
	struct view_ref r = { c, a->view[0] ? a->view : NULL, served, nserved };
	size_t best = 0;
	int in = 0, mixed = 0;

	if (!r.name && a->subtree.len) {
		r.list = &a->subtree;
		r.n = 1;
	}
	for (size_t k = 0; k < view_count(&r); k++) {
		int inc;
		const struct creds_oid *e = view_entry(&r, k, &inc);

		if (!e)
			continue;
		if (is_prefix(e, o, len) && e->len >= best) {
			best = e->len;
			in = inc;
		}
	}
	if (subtree) {
		/* anything deeper inside the subtree that decides otherwise */
		for (size_t k = 0; k < view_count(&r); k++) {
			int inc;
			const struct creds_oid *e = view_entry(&r, k, &inc);

			if (e && below(e, o, len) && inc != in)
				mixed = 1;
		}
		if (mixed)
			return CREDS_PARTLY;
	}
	return in ? CREDS_OK : CREDS_NOT_IN_VIEW;
}
